//! The `vpos` command line: the platform side of the console.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use sea_orm_migration::MigratorTrait;
use secrecy::{ExposeSecret, SecretString};

use app::backend::entities::merchants;
use app::backend::services::clearing;
use app::backend::services::platform::{self, CertificateRecord, NewMerchant, NewOperator};
use app::backend::{audit, db};
use app::domain::access::Role;
use app::domain::{
    Currency, DataScope, LoginName, LoginPrefix, MaskedAccount, MerchantCode, MerchantNo, Money,
    RefundMode,
};
use migrations::Migrator;

use crate::demo::{self, DemoOptions};
use crate::pki::{self, Pki, Reason};
use crate::settings::Settings;

#[derive(Debug, Parser)]
#[command(
    name = "vpos",
    version,
    about = "VPOS merchant console: server and platform tools"
)]
pub struct Cli {
    /// Settings file (TOML). Default: ./vpos.toml if it exists. Environment: VPOS_CONFIG.
    #[arg(long, global = true, env = "VPOS_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the console over HTTPS with mutual TLS.
    Serve,
    /// Apply or roll back database migrations.
    Migrate {
        #[command(subcommand)]
        action: Option<MigrateAction>,
    },
    /// The platform PKI: CA, server and operator certificates, revocation.
    Pki {
        /// The PKI directory.
        #[arg(long, global = true, default_value = "var/pki")]
        dir: PathBuf,
        #[command(subcommand)]
        action: PkiAction,
    },
    /// Onboard merchants.
    Merchant {
        #[command(subcommand)]
        action: MerchantAction,
    },
    /// A merchant's terminals: add, list, disable, enable.
    Terminal {
        #[command(subcommand)]
        action: crate::platform_cli::TerminalAction,
    },
    /// A merchant's fee rates: set, list.
    FeeRate {
        #[command(subcommand)]
        action: crate::platform_cli::FeeRateAction,
    },
    /// Create operators and bind their certificates.
    Operator {
        #[command(subcommand)]
        action: OperatorAction,
    },
    /// Load the demo data set into an empty database.
    Demo(DemoArgs),
    /// Play POS terminals against a terminal gateway (docs/GATEWAY.md).
    Simulate(crate::simulate::SimulateArgs),
    /// Read a batch file from standard input (what `serve` runs for every upload).
    #[command(hide = true)]
    ReadUpload(crate::upload::ReadUploadArgs),
    /// Clearing: settle ended business days per merchant number and post them to the ledgers.
    Clear(ClearArgs),
    /// The audit log.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Walk the hash chain of the audit log; fails if an event was edited or deleted.
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum MigrateAction {
    /// Apply every pending migration (the default).
    Up,
    /// Roll back the last N migrations.
    Down {
        #[arg(long, default_value_t = 1)]
        steps: u32,
    },
    /// List migrations and whether they are applied.
    Status,
    /// Whether the database holds any merchant: prints "empty" or "not-empty".
    IsEmpty,
}

#[derive(Debug, Subcommand)]
pub enum PkiAction {
    /// Create the CA and an empty CRL.
    Init {
        #[arg(long, default_value = "VPOS Platform CA")]
        name: String,
        #[arg(long, default_value_t = 3650)]
        days: u32,
        /// Replace an existing CA (every certificate it issued stops working).
        #[arg(long)]
        force: bool,
    },
    /// Issue the HTTPS server certificate.
    Server {
        #[arg(long = "dns", default_values_t = ["localhost".to_string()])]
        dns: Vec<String>,
        #[arg(long = "ip", default_values_t = [IpAddr::from([127, 0, 0, 1])])]
        ip: Vec<IpAddr>,
        #[arg(long, default_value_t = 397)]
        days: u32,
        #[arg(long)]
        force: bool,
    },
    /// Issue an operator's client certificate (PEM and PKCS#12 for browsers).
    Operator {
        /// Common name, usually the operator's login name.
        #[arg(long)]
        name: String,
        /// Organisation, usually the merchant's name.
        #[arg(long)]
        org: Option<String>,
        #[arg(long, default_value_t = 365)]
        days: u32,
        /// Read the PKCS#12 import password from this environment variable instead of generating one.
        #[arg(long, value_name = "VAR")]
        password_env: Option<String>,
        #[arg(long)]
        force: bool,
    },
    /// Issue a gateway certificate (PEM): the terminal gateway's client, the acquirer's front end.
    /// The gateway takes only these, the console never.
    Gateway {
        /// Common name, e.g. the front end's host name.
        #[arg(long)]
        name: String,
        #[arg(long, default_value_t = 365)]
        days: u32,
        #[arg(long)]
        force: bool,
    },
    /// Revoke a certificate: the server refuses it within seconds.
    Revoke {
        /// The certificate file (PEM).
        #[arg(long, conflicts_with = "serial", required_unless_present = "serial")]
        cert: Option<PathBuf>,
        /// The serial number in hex.
        #[arg(long)]
        serial: Option<String>,
        #[arg(long, value_enum, default_value_t = Reason::Unspecified)]
        reason: Reason,
    },
    /// Re-sign the CRL (it is valid for 30 days).
    Crl,
}

#[derive(Debug, Subcommand)]
pub enum MerchantAction {
    /// Create a merchant with its merchant numbers and the standard fee rates.
    Create(CreateMerchantArgs),
    /// Credit money the merchant paid into its account, e.g. to cover refunds pending clearing;
    /// the next clearing run debits the held refunds from it.
    Deposit {
        /// The merchant code.
        #[arg(long)]
        code: String,
        /// In yuan, e.g. 1200 or 1,200.50.
        #[arg(long)]
        amount: String,
        /// What the money is for, kept on the ledger entry.
        #[arg(long, default_value = "deposit")]
        memo: String,
        /// The payment's outside reference (e.g. the bank transfer's): a deposit with a reference
        /// that was credited before is not credited again.
        #[arg(long)]
        reference: Option<String>,
    },
    /// Change a merchant's refund policy; the console follows it from the next request.
    Policy(crate::platform_cli::PolicyArgs),
}

#[derive(Debug, Args)]
pub struct CreateMerchantArgs {
    /// Merchant code, M followed by 8 digits.
    #[arg(long)]
    code: String,
    /// The merchant's part of the login namespace: operators its administrators create are named
    /// PREFIX.name (2 to 16 lower-case letters, digits or dashes; default: the code in lower case).
    #[arg(long)]
    login_prefix: Option<String>,
    #[arg(long)]
    name: String,
    /// A 15-digit merchant number and its store name, as NUMBER=STORE (repeatable).
    #[arg(long = "number", required = true, value_name = "NUMBER=STORE")]
    numbers: Vec<String>,
    #[arg(long)]
    settlement_bank: String,
    /// The settlement account number; only its first and last 4 digits are stored.
    #[arg(long)]
    settlement_account: String,
    #[arg(long, value_parser = ["direct", "approval"], default_value = "direct")]
    refund_mode: String,
    /// Refunds need a one-time code from the token.
    #[arg(long)]
    refund_token: bool,
    /// Daily refund quota in yuan, e.g. 50000 or 50000.00.
    #[arg(long, default_value = "50000")]
    daily_refund_quota: String,
    #[arg(long, default_value_t = 180)]
    refund_window_days: i32,
    #[arg(long)]
    fast_refund_agreement: bool,
}

#[derive(Debug, Subcommand)]
pub enum OperatorAction {
    /// Create an operator with a one-time password (printed once).
    Create {
        /// The merchant code.
        #[arg(long)]
        merchant: String,
        #[arg(long)]
        login: String,
        #[arg(long)]
        name: String,
        /// A built-in role (repeatable): administrator, finance, monitor, refund_operator,
        /// refund_approver, fast_refund_operator.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
    },
    /// Bind a client certificate (PEM) to an operator.
    BindCert {
        #[arg(long)]
        login: String,
        #[arg(long)]
        cert: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct ClearArgs {
    /// Settle this business day (YYYY-MM-DD, the merchants' local day), after paying out what fell
    /// due. Without it: every ended, unsettled day of the last --catch-up-days, and payouts that
    /// fell due.
    #[arg(long)]
    pub date: Option<chrono::NaiveDate>,
    #[arg(long, default_value_t = 7)]
    pub catch_up_days: u32,
    /// The moment the run takes as now (RFC 3339, e.g. 2026-12-06T02:00:00Z) instead of the clock:
    /// a day is cleared only once it has ended by then, and payouts fall due by then. For rehearsals
    /// on a copy of the database and for the browser tests; a production schedule never sets it.
    #[arg(long)]
    pub as_of: Option<DateTime<Utc>>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How many transactions to generate.
    #[arg(long, default_value_t = demo::DEFAULT_TRANSACTIONS)]
    pub transactions: u64,
    /// Over how many days up to today (or up to --until).
    #[arg(long, default_value_t = 90)]
    pub days: u32,
    /// The last day of the data set (YYYY-MM-DD, before today), taken whole; without it the data
    /// ends now. Its days are then all ended, so `vpos clear --date` can settle any of them (the
    /// clearing benchmark loads one day this way).
    #[arg(long)]
    pub until: Option<chrono::NaiveDate>,
    #[arg(long, default_value_t = 20261122)]
    pub seed: u64,
    /// Do nothing (and succeed) when the database already holds data.
    #[arg(long)]
    pub if_empty: bool,
    /// Read the operators' first password from this environment variable instead of generating one.
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
}

/// A failure reported to the user as one line; the exit code is 1.
#[derive(Debug)]
pub struct CliError(pub String);

impl<E: std::fmt::Display> From<E> for CliError {
    fn from(err: E) -> Self {
        CliError(err.to_string())
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // A child of the server, before any thread or runtime: it limits itself and reads one file.
    if let Command::ReadUpload(args) = &cli.command {
        return crate::upload::run(args);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

pub async fn run(cli: Cli) -> Result<(), CliError> {
    // The simulator is a client of a gateway: no settings, no database.
    if let Command::Simulate(args) = cli.command {
        return crate::simulate::run(args).await;
    }
    if let Command::Pki { dir, action } = cli.command {
        // The PKI needs no settings and no database, but a revocation is recorded in the database
        // too, where every instance reads it.
        let Some(revoked) = run_pki(Pki::new(dir), action)? else {
            return Ok(());
        };
        let settings = Settings::load(cli.config.as_deref())?;
        return record_revocation(&settings, revoked).await;
    }
    let settings = Settings::load(cli.config.as_deref())?;
    if matches!(cli.command, Command::Serve) {
        crate::telemetry::init(&settings.log);
    } else {
        // One-shot commands print their own results; the services' progress logs would drown them.
        crate::telemetry::init(&crate::settings::LogSettings {
            filter: "warn".into(),
            ..settings.log.clone()
        });
    }
    match cli.command {
        Command::Serve => crate::serve::run(settings).await.map_err(CliError::from),
        Command::Migrate { action } => {
            run_migrate(&settings, action.unwrap_or(MigrateAction::Up)).await
        }
        Command::Merchant { action } => run_merchant(&settings, action).await,
        Command::Operator { action } => run_operator(&settings, action).await,
        Command::Terminal { action } => crate::platform_cli::run_terminal(&settings, action).await,
        Command::FeeRate { action } => crate::platform_cli::run_fee_rate(&settings, action).await,
        Command::Demo(args) => run_demo(&connect(&settings).await?, args).await,
        Command::Clear(args) => run_clear(&connect(&settings).await?, args).await,
        Command::Audit {
            action: AuditAction::Verify,
        } => run_audit_verify(&settings).await,
        Command::Pki { .. } | Command::Simulate(_) | Command::ReadUpload(_) => Ok(()),
    }
}

/// The database, migrated, with the audit key loaded for the events the command writes.
pub(crate) async fn connect(settings: &Settings) -> Result<DatabaseConnection, CliError> {
    let conn = connect_migrated(settings).await?;
    if let audit::Prepared::Resealed(n) = audit::open(&conn, &settings.audit_key_file).await? {
        eprintln!(
            "audit log: created the audit key {} and re-sealed the {n} event(s) written before it",
            settings.audit_key_file.display()
        );
    }
    Ok(conn)
}

async fn connect_migrated(settings: &Settings) -> Result<DatabaseConnection, CliError> {
    let conn = db::connect(&settings.database_url, settings.database_max_connections).await?;
    let pending = Migrator::get_pending_migrations(&conn).await?;
    if !pending.is_empty() {
        return Err(CliError(format!(
            "the database has {} pending migration(s): run `vpos migrate` first",
            pending.len()
        )));
    }
    Ok(conn)
}

async fn run_clear(db: &DatabaseConnection, args: ClearArgs) -> Result<(), CliError> {
    let started = std::time::Instant::now();
    let now = args.as_of.unwrap_or_else(Utc::now);
    let report = match args.date {
        Some(date) => {
            // What fell due is paid out first, as the scheduled run would have by now: the day's
            // refunds are debited from what stays on the ledger.
            let paid = clearing::mark_paid(db, now).await?;
            let mut report = clearing::clear_day(db, date, now).await?;
            report.paid += paid;
            report
        }
        None => clearing::clear_due(db, now, args.catch_up_days).await?,
    };
    print_clearing(&report);
    println!(
        "clearing done in {:.2} s: {} settlement(s), {} marked paid",
        started.elapsed().as_secs_f64(),
        report.settled().count(),
        report.paid
    );
    let failures: Vec<_> = report.failures().collect();
    for (line, why) in &failures {
        eprintln!("not settled: {} {}: {why}", line.merchant_no, line.date);
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(CliError(format!(
            "{} merchant number day(s) not settled; they are retried by the next run",
            failures.len()
        )))
    }
}

fn print_clearing(report: &clearing::RunReport) {
    let yuan = |fen: i64| app::domain::money::format_fen(fen);
    for (line, day) in report.settled() {
        println!(
            "  {} {}  {:>7} sales {:>16}  fees {:>12}  {:>5} refunds {:>14}  net {:>16}",
            line.date,
            line.merchant_no,
            day.txn_count,
            yuan(day.gross_fen),
            yuan(day.fee_fen),
            day.refund_count,
            yuan(day.refund_fen),
            yuan(day.net_fen)
        );
    }
}

/// Reads the key, never makes one: a missing key file is the answer, not a reason to start afresh.
async fn run_audit_verify(settings: &Settings) -> Result<(), CliError> {
    let key = audit::AuditKey::load(&settings.audit_key_file)?;
    let db = connect_migrated(settings).await?;
    let report = audit::verify_chain(&db, &key).await?;
    match report.broken {
        None => {
            println!(
                "audit log intact: {} event(s), hash chain verified; newest hash {} (kept \
                 elsewhere, it shows whether newest events are later taken off with the head)",
                report.events, report.newest_hash
            );
            Ok(())
        }
        Some(b) => Err(CliError(format!(
            "audit log tampered with: event {}: {}",
            b.event_id, b.reason
        ))),
    }
}

async fn run_migrate(settings: &Settings, action: MigrateAction) -> Result<(), CliError> {
    let conn = db::connect(&settings.database_url, 1).await?;
    match action {
        MigrateAction::Up => {
            let pending = Migrator::get_pending_migrations(&conn).await?.len();
            Migrator::up(&conn, None).await?;
            println!("applied {pending} migration(s); the database is up to date");
        }
        MigrateAction::Down { steps } => {
            Migrator::down(&conn, Some(steps)).await?;
            println!("rolled back {steps} migration(s)");
        }
        MigrateAction::Status => {
            for migration in Migrator::get_migration_with_status(&conn).await? {
                println!(
                    "{:<10} {}",
                    format!("{:?}", migration.status()).to_lowercase(),
                    migration.name()
                );
            }
        }
        MigrateAction::IsEmpty => {
            let empty = Migrator::get_pending_migrations(&conn).await?.len()
                == Migrator::migrations().len()
                || !platform::has_merchants(&conn).await?;
            println!("{}", if empty { "empty" } else { "not-empty" });
        }
    }
    Ok(())
}

/// Marks the certificate revoked in the console's database. A database that does not exist yet
/// (a PKI made before the console) has nothing to mark: the CRL holds it, and binding it later is
/// refused.
async fn record_revocation(
    settings: &Settings,
    revoked: platform::Revoked,
) -> Result<(), CliError> {
    let sqlite = settings.database_url.strip_prefix("sqlite:");
    if let Some(path) = sqlite.map(|p| p.trim_start_matches("//")) {
        let file = path.split('?').next().unwrap_or(path);
        if !std::path::Path::new(file).exists() {
            println!("no database at {file}: the revocation is on the CRL only");
            return Ok(());
        }
    }
    let conn = connect(settings).await.map_err(|e| {
        CliError(format!(
            "revoked on the CRL, but not recorded in the database ({}): run the command again",
            e.0
        ))
    })?;
    let marked = platform::revoke_certificate(&conn, &revoked, Utc::now()).await?;
    println!("recorded in the database: {marked} certificate(s) newly marked revoked; every instance refuses them within seconds");
    Ok(())
}

fn run_pki(pki: Pki, action: PkiAction) -> Result<Option<platform::Revoked>, CliError> {
    match action {
        PkiAction::Init { name, days, force } => {
            pki.init(&name, days, force)?;
            println!("CA created: {}", pki.ca_cert_path().display());
            println!("CRL:        {}", pki.crl_path().display());
        }
        PkiAction::Server {
            dns,
            ip,
            days,
            force,
        } => {
            pki.issue_server(&dns, &ip, days, force)?;
            println!("server certificate: {}", pki.server_cert_path().display());
            println!("server key:         {}", pki.server_key_path().display());
        }
        PkiAction::Operator {
            name,
            org,
            days,
            password_env,
            force,
        } => {
            let password = password_from_env(password_env.as_deref())?;
            let issued = pki.issue_client(&name, org.as_deref(), days, password, force)?;
            println!("certificate:  {}", issued.cert_path.display());
            println!("private key:  {}", issued.key_path.display());
            println!("PKCS#12:      {}", issued.p12_path.display());
            println!("import password: {}", issued.p12_password.expose_secret());
            println!("serial:       {}", issued.serial_hex);
            println!("fingerprint:  {}", issued.fingerprint);
            println!(
                "valid until:  {}",
                issued.not_after.format("%Y-%m-%d %H:%M UTC")
            );
        }
        PkiAction::Gateway { name, days, force } => {
            let issued = pki.issue_gateway(&name, days, force)?;
            println!("gateway certificate: {}", issued.cert_path.display());
            println!("private key:         {}", issued.key_path.display());
            println!("serial:              {}", issued.serial_hex);
            println!("fingerprint:         {}", issued.fingerprint);
            println!(
                "valid until:         {}",
                issued.not_after.format("%Y-%m-%d %H:%M UTC")
            );
        }
        PkiAction::Revoke {
            cert,
            serial,
            reason,
        } => {
            let revoked = match (cert, serial) {
                (Some(path), _) => {
                    platform::Revoked::Certificate(pki::read_cert_facts(&path)?.into())
                }
                (None, Some(serial)) => platform::Revoked::Serial(pki::normalise_serial(&serial)?),
                (None, None) => return Err(CliError("give --cert or --serial".into())),
            };
            let serial = match &revoked {
                platform::Revoked::Certificate(cert) => cert.serial_hex.clone(),
                platform::Revoked::Serial(serial) => serial.clone(),
            };
            if pki.revoke(&serial, reason)? {
                println!(
                    "revoked {serial}; CRL rewritten: {}",
                    pki.crl_path().display()
                );
            } else {
                println!("{serial} was already revoked");
            }
            return Ok(Some(revoked));
        }
        PkiAction::Crl => {
            pki.write_crl()?;
            println!("CRL re-signed: {}", pki.crl_path().display());
        }
    }
    Ok(None)
}

fn password_from_env(var: Option<&str>) -> Result<Option<SecretString>, CliError> {
    var.map(|name| {
        std::env::var(name)
            .map(SecretString::from)
            .map_err(|_| CliError(format!("the environment variable {name} is not set")))
    })
    .transpose()
}

/// Arguments are checked before the database is opened, so a typo is reported as such.
async fn run_merchant(settings: &Settings, action: MerchantAction) -> Result<(), CliError> {
    match action {
        MerchantAction::Create(args) => run_create_merchant(settings, args).await,
        MerchantAction::Deposit {
            code,
            amount,
            memo,
            reference,
        } => run_deposit(settings, &code, &amount, &memo, reference.as_deref()).await,
        MerchantAction::Policy(args) => crate::platform_cli::run_policy(settings, args).await,
    }
}

async fn run_create_merchant(
    settings: &Settings,
    args: CreateMerchantArgs,
) -> Result<(), CliError> {
    let CreateMerchantArgs {
        code,
        login_prefix,
        name,
        numbers,
        settlement_bank,
        settlement_account,
        refund_mode,
        refund_token,
        daily_refund_quota,
        refund_window_days,
        fast_refund_agreement,
    } = args;
    let numbers = numbers
        .iter()
        .map(|pair| {
            let (no, store) = pair
                .split_once('=')
                .ok_or_else(|| CliError(format!("--number {pair:?}: write it as NUMBER=STORE")))?;
            let no =
                MerchantNo::parse(no).map_err(|e| CliError(format!("--number {no:?}: {e}")))?;
            Ok((no, store.trim().to_owned()))
        })
        .collect::<Result<Vec<_>, CliError>>()?;
    let login_prefix = login_prefix
        .map(|p| LoginPrefix::parse(&p).map_err(|e| CliError(format!("--login-prefix {p:?}: {e}"))))
        .transpose()?;
    let new = NewMerchant {
        code: MerchantCode::parse(&code).map_err(|e| CliError(format!("--code {code:?}: {e}")))?,
        login_prefix,
        name,
        settlement_bank,
        settlement_account: MaskedAccount::from_account(&settlement_account)
            .map_err(|e| CliError(format!("--settlement-account: {e}")))?,
        refund_mode: RefundMode::from_code(&refund_mode).unwrap_or(RefundMode::Direct),
        refund_requires_token: refund_token,
        daily_refund_quota: Money::parse(&daily_refund_quota, Currency::Cny)
            .map_err(|e| CliError(format!("--daily-refund-quota {daily_refund_quota:?}: {e}")))?,
        refund_window_days,
        fast_refund_agreement,
        numbers,
        fee_rates: platform::standard_fee_rates(),
    };
    let conn = connect(settings).await?;
    let id = platform::create_merchant(&conn, new, Utc::now()).await?;
    println!("merchant {code} created (id {id})");
    Ok(())
}

async fn run_deposit(
    settings: &Settings,
    code: &str,
    amount: &str,
    memo: &str,
    reference: Option<&str>,
) -> Result<(), CliError> {
    if reference.is_some_and(|r| r.trim().is_empty() || r.chars().count() > 64) {
        return Err(CliError("--reference: 1 to 64 characters".into()));
    }
    let code = MerchantCode::parse(code).map_err(|e| CliError(format!("--code {code:?}: {e}")))?;
    let amount = Money::parse(amount, Currency::Cny)
        .ok()
        .filter(|a| a.is_positive())
        .ok_or_else(|| CliError(format!("--amount {amount:?}: a positive amount in yuan")))?;
    let conn = connect(settings).await?;
    let merchant = merchants::Entity::find()
        .filter(merchants::Column::Code.eq(code.as_str()))
        .one(&conn)
        .await?
        .ok_or_else(|| CliError(format!("no merchant {code}")))?;
    match clearing::deposit(&conn, merchant.id, amount, memo, reference, Utc::now()).await? {
        clearing::Deposited::Credited(after) => {
            println!("deposited {amount} for {code}: the balance is now {after}");
        }
        clearing::Deposited::AlreadyCredited => {
            println!(
                "{code}: the deposit {} was credited before; nothing changed",
                reference.unwrap_or_default()
            );
        }
    }
    Ok(())
}

async fn run_operator(settings: &Settings, action: OperatorAction) -> Result<(), CliError> {
    match action {
        OperatorAction::Create {
            merchant,
            login,
            name,
            roles,
        } => {
            let roles = roles
                .iter()
                .map(|r| {
                    Role::from_code(r)
                        .ok_or_else(|| CliError(format!("--role {r:?} is not a built-in role")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let new = NewOperator {
                merchant_code: MerchantCode::parse(&merchant)
                    .map_err(|e| CliError(format!("--merchant {merchant:?}: {e}")))?,
                login_name: LoginName::parse(&login)
                    .map_err(|e| CliError(format!("--login {login:?}: {e}")))?,
                display_name: name,
                roles,
                scope: DataScope::Merchant,
            };
            let created =
                platform::create_operator(&connect(settings).await?, new, None, Utc::now()).await?;
            println!("operator {login} created (id {})", created.id);
            println!(
                "one-time password: {}",
                created.one_time_password.expose_secret()
            );
            println!("(it must be changed at the first sign-in)");
        }
        OperatorAction::BindCert { login, cert } => {
            let record: CertificateRecord = pki::read_cert_facts(&cert)?.into();
            let login = LoginName::parse(&login)
                .map_err(|e| CliError(format!("--login {login:?}: {e}")))?;
            platform::bind_certificate(&connect(settings).await?, &login, &record, Utc::now())
                .await?;
            println!("certificate {} bound to {login}", record.fingerprint);
        }
    }
    Ok(())
}

async fn run_demo(conn: &DatabaseConnection, args: DemoArgs) -> Result<(), CliError> {
    if args.if_empty && platform::has_merchants(conn).await? {
        println!("the database already holds data: demo data not loaded");
        return Ok(());
    }
    let password = password_from_env(args.password_env.as_deref())?
        .unwrap_or_else(app::backend::password::generate_one_time_password);
    let now = match args.until {
        None => Utc::now(),
        Some(until) => {
            let today = Utc::now().with_timezone(&demo::TZ).date_naive();
            if until >= today {
                return Err(CliError(format!(
                    "--until must be a day before today ({today})"
                )));
            }
            // The last moment of that day in the merchants' time zone: the whole day is generated.
            until
                .succ_opt()
                .map(|d| app::backend::local_time::day_start(d, demo::TZ))
                .map(|midnight| midnight - chrono::Duration::milliseconds(1))
                .ok_or_else(|| CliError("--until is out of range".into()))?
        }
    };
    let options = DemoOptions {
        transactions: args.transactions,
        days: args.days,
        seed: args.seed,
        now,
        password: password.clone(),
    };
    let backend = if settings_is_postgres(conn) {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    eprintln!(
        "loading the demo data set ({} transactions over {} days) into {backend}…",
        args.transactions, args.days
    );
    let report = demo::load(conn, &options).await?;
    println!(
        "demo data loaded: {} merchants, {} terminals, {} operators, {} transactions",
        report.merchants,
        report.terminals,
        report.operators.len(),
        report.transactions
    );
    println!(
        "timing ({backend}): setup {:.2} s; transactions {:.2} s = {:.0} rows/s; {} refund requests, {} fast refunds and clearing {:.2} s ({} settlements)",
        report.setup_secs,
        report.transactions_secs,
        report.rows_per_second(),
        report.refund_requests,
        report.fast_refunds,
        report.clearing_secs,
        report.settlements
    );
    println!(
        "operators (first password for all: {}; each must change it at first sign-in):",
        password.expose_secret()
    );
    for op in &report.operators {
        let roles: Vec<_> = op.roles.iter().map(|r| r.code()).collect();
        println!(
            "  {:<22} {}  {}{}",
            op.login,
            op.merchant_code,
            roles.join(","),
            match op.scope {
                DataScope::Groups => " (terminal groups only)",
                DataScope::Merchant => "",
            }
        );
    }
    Ok(())
}

fn settings_is_postgres(conn: &DatabaseConnection) -> bool {
    conn.get_database_backend() == sea_orm::DbBackend::Postgres
}
