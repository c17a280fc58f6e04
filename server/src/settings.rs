//! Settings: defaults, then a TOML file, then environment variables (`VPOS_…`, nested keys with `__`,
//! e.g. `VPOS_TLS__CA_CERT`; `DATABASE_URL` too). Validated at start-up with messages that say which key
//! is wrong and how to fix it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use app::backend::db::Backend;

/// The file read when `--config` is not given, if it exists.
pub const DEFAULT_CONFIG_FILE: &str = "vpos.toml";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address the HTTPS listener binds to.
    pub listen: SocketAddr,
    /// The console's public address, e.g. `https://pay.example.com`: what browsers send as
    /// Origin. Empty: `https://localhost:<the port of listen>`, so that changing only `listen`
    /// keeps the two in step.
    pub public_url: String,
    pub database_url: String,
    pub database_max_connections: u32,
    /// PostgreSQL cancels a statement of the console's requests after this many milliseconds (0: no
    /// limit), so that slow searches cannot hold every connection. Clearing is not limited.
    pub database_statement_timeout_ms: u64,
    /// Where the built site (pkg/ with wasm, js, css) lives.
    pub site_root: PathBuf,
    /// The key (32 random bytes, base64) that seals the operators' token secrets at rest. Created on
    /// the first start when missing; keep it with the database's backups, apart from them.
    pub token_key_file: PathBuf,
    /// The key (32 random bytes, base64) that seals the audit log's hash chain. Created on the first
    /// start when missing; every instance and command-line run on one database needs the same file.
    /// Without it the log can no longer be verified: back it up apart from the database.
    pub audit_key_file: PathBuf,
    /// How long (milliseconds) a session read from the database serves further requests of its
    /// browser; a change made by another instance or the command line reaches this one within it.
    /// 0 reads the session at every request.
    pub session_cache_ms: u64,
    pub exports: ExportSettings,
    pub tls: TlsSettings,
    pub clearing: ClearingSettings,
    pub gateway: GatewaySettings,
    pub bank: BankSettings,
    pub fast_refund: FastRefundSettings,
    pub ops: OpsSettings,
    pub log: LogSettings,
}

/// The bank that pays fast refunds, and the worker of `vpos serve` that talks to it
/// (docs/FAST_REFUNDS.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankSettings {
    pub mode: BankMode,
    /// Whether `vpos serve` runs the worker. Several instances may: each item is sent once.
    pub worker: bool,
    /// Milliseconds between two looks at the items in processing.
    pub poll_ms: u64,
    /// The simulator answers this many seconds after it took an item.
    pub delay_secs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BankMode {
    /// The built-in bank: pays, rejects or fails items by marks in their data.
    Simulator,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FastRefundSettings {
    /// Days the banks do not work besides weekends (`["2027-01-01", …]`): a fast refund's due
    /// day, three business days on, skips them.
    pub holidays: Vec<chrono::NaiveDate>,
    /// The largest batch file taken, in bytes …
    pub upload_max_bytes: u64,
    /// … and the most rows under its header.
    pub upload_max_rows: u64,
}

/// The terminal gateway: a second HTTPS listener of `vpos serve`, for the acquirer's front end
/// (gateway certificates only; docs/GATEWAY.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewaySettings {
    /// Whether `vpos serve` opens the gateway's listener.
    pub enabled: bool,
    pub listen: SocketAddr,
    /// The largest amount of one payment, in fen.
    pub max_amount_fen: i64,
}

/// The operations listener of `vpos serve`: liveness, readiness and metrics over plain HTTP
/// (`server/src/ops.rs`), for the platform's probes and scraper.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpsSettings {
    pub enabled: bool,
    /// Localhost by default: what it tells is for the platform, not for the network.
    pub listen: SocketAddr,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClearingSettings {
    /// Whether `vpos serve` runs clearing itself. Several instances may: a database lock per merchant
    /// number makes each day settle once. Switch it off when clearing runs from cron (`vpos clear`).
    pub schedule: bool,
    /// Seconds between scheduled runs; each settles every ended, unsettled day it finds.
    pub interval_secs: u64,
    /// How many days back a scheduled run looks for unsettled days.
    pub catch_up_days: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportSettings {
    /// Where background exports write their files (each kept for a day, then deleted).
    pub dir: PathBuf,
    /// Transaction downloads up to this many rows are written while the user waits; larger ones
    /// (up to 1,000,000) become background jobs.
    pub direct_limit: u64,
    /// How long an instance's claim on a background job holds unless it renews it: after an
    /// instance dies, its jobs are written again by another this much later.
    pub lease_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// The platform CA that issues operator certificates (PEM).
    pub ca_cert: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    /// The CA's certificate revocation list (PEM); re-read when it changes. Required: a missing
    /// file, one without a CRL or one past its next update stops the server from starting.
    pub crl: Option<PathBuf>,
    /// Serve although the CRL file does not exist, relying on the revocations recorded in the
    /// database alone (a deployment whose CA publishes no CRL). Off by default.
    pub allow_no_crl: bool,
    pub handshake_timeout_secs: u64,
    pub crl_reload_secs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    /// An `EnvFilter` directive; `RUST_LOG` overrides it.
    pub filter: String,
}

impl Default for Settings {
    fn default() -> Self {
        let pki = PathBuf::from("var/pki");
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            public_url: String::new(),
            database_url: "sqlite://var/vpos.db".into(),
            database_max_connections: 8,
            database_statement_timeout_ms: 30_000,
            site_root: PathBuf::from("target/site"),
            token_key_file: PathBuf::from("var/token.key"),
            audit_key_file: PathBuf::from("var/audit.key"),
            session_cache_ms: 1000,
            exports: ExportSettings {
                dir: PathBuf::from("var/exports"),
                direct_limit: app::backend::services::transactions::DIRECT_LIMIT,
                lease_secs: app::backend::services::exports::LEASE.as_secs(),
            },
            tls: TlsSettings {
                ca_cert: pki.join("ca.pem"),
                server_cert: pki.join("server.pem"),
                server_key: pki.join("server.key.pem"),
                crl: Some(pki.join("crl.pem")),
                allow_no_crl: false,
                handshake_timeout_secs: 10,
                crl_reload_secs: 5,
            },
            clearing: ClearingSettings {
                schedule: true,
                interval_secs: 3600,
                catch_up_days: 7,
            },
            gateway: GatewaySettings {
                enabled: true,
                listen: SocketAddr::from(([127, 0, 0, 1], 8444)),
                max_amount_fen: app::backend::services::gateway::GatewayConfig::default()
                    .max_amount_fen,
            },
            bank: BankSettings {
                mode: BankMode::Simulator,
                worker: true,
                poll_ms: 2000,
                delay_secs: 30,
            },
            fast_refund: FastRefundSettings {
                holidays: Vec::new(),
                upload_max_bytes: 5 * 1024 * 1024,
                upload_max_rows: 10_000,
            },
            ops: OpsSettings {
                enabled: true,
                listen: SocketAddr::from(([127, 0, 0, 1], 9464)),
            },
            log: LogSettings {
                format: LogFormat::Pretty,
                filter: "info,sqlx=warn,sea_orm=warn".into(),
            },
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("configuration: {0}")]
    Invalid(String),
}

impl Settings {
    /// Loads the settings. An explicit `--config` file must exist; the default one is optional.
    pub fn load(config_file: Option<&Path>) -> Result<Settings, SettingsError> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        match config_file {
            Some(path) if !path.exists() => {
                return Err(SettingsError::MissingFile(path.to_owned()))
            }
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None if Path::new(DEFAULT_CONFIG_FILE).is_file() => {
                figment = figment.merge(Toml::file_exact(DEFAULT_CONFIG_FILE));
            }
            None => {}
        }
        let settings: Settings = figment
            .merge(Env::prefixed("VPOS_").split("__").ignore(&["config"]))
            .merge(
                Env::raw()
                    .only(&["DATABASE_URL"])
                    .map(|_| "database_url".into()),
            )
            .extract()
            .map_err(|e| SettingsError::Invalid(e.to_string()))?;
        settings.validate()?;
        Ok(settings)
    }

    /// The console's public address: `public_url`, or when it is empty
    /// `https://localhost:<the port of listen>`.
    pub fn public_url(&self) -> String {
        if self.public_url.is_empty() {
            format!("https://localhost:{}", self.listen.port())
        } else {
            self.public_url.clone()
        }
    }

    /// `https://host[:port]` of [`Self::public_url`]: the origin the console's pages run in.
    pub fn public_origin(&self) -> String {
        let url = self.public_url();
        let rest = url.trim_start_matches("https://");
        let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
        format!("https://{authority}")
    }

    /// Checks what every command needs.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let invalid = |m: String| Err(SettingsError::Invalid(m));
        if Backend::of_url(&self.database_url).is_none() {
            return invalid("database_url must start with sqlite:// or postgres://".into());
        }
        if !self.public_url.is_empty() && !self.public_url.starts_with("https://") {
            return invalid(format!(
                "public_url must be an https:// URL, not {:?}",
                self.public_url
            ));
        }
        if !(1..=256).contains(&self.database_max_connections) {
            return invalid("database_max_connections must be between 1 and 256".into());
        }
        if !(100..=60_000).contains(&self.bank.poll_ms) {
            return invalid("bank.poll_ms must be between 100 and 60000".into());
        }
        if self.bank.delay_secs > 86_400 {
            return invalid("bank.delay_secs must be at most 86400 (a day)".into());
        }
        if !(1024..=100 * 1024 * 1024).contains(&self.fast_refund.upload_max_bytes) {
            return invalid(
                "fast_refund.upload_max_bytes must be between 1024 and 104857600".into(),
            );
        }
        if !(1..=1_000_000).contains(&self.fast_refund.upload_max_rows) {
            return invalid("fast_refund.upload_max_rows must be between 1 and 1000000".into());
        }
        if self.session_cache_ms > 5000 {
            return invalid("session_cache_ms must be between 0 and 5000".into());
        }
        if !(1..=300).contains(&self.tls.handshake_timeout_secs) {
            return invalid("tls.handshake_timeout_secs must be between 1 and 300".into());
        }
        if !(1..=3600).contains(&self.tls.crl_reload_secs) {
            return invalid("tls.crl_reload_secs must be between 1 and 3600".into());
        }
        if !(10..=86_400).contains(&self.clearing.interval_secs) {
            return invalid("clearing.interval_secs must be between 10 and 86400".into());
        }
        if !(1..=366).contains(&self.clearing.catch_up_days) {
            return invalid("clearing.catch_up_days must be between 1 and 366".into());
        }
        if !(1..=app::domain::clearing::MAX_CLEARABLE_FEN).contains(&self.gateway.max_amount_fen) {
            return invalid(format!(
                "gateway.max_amount_fen must be between 1 and {}",
                app::domain::clearing::MAX_CLEARABLE_FEN
            ));
        }
        if self.gateway.enabled && self.gateway.listen == self.listen {
            return invalid("gateway.listen must differ from listen".into());
        }
        if self.ops.enabled
            && (self.ops.listen == self.listen
                || (self.gateway.enabled && self.ops.listen == self.gateway.listen))
        {
            return invalid("ops.listen must differ from listen and gateway.listen".into());
        }
        if !(1..=app::backend::services::transactions::EXPORT_CAP)
            .contains(&self.exports.direct_limit)
        {
            return invalid("exports.direct_limit must be between 1 and 1000000".into());
        }
        if !(3..=600).contains(&self.exports.lease_secs) {
            return invalid("exports.lease_secs must be between 3 and 600".into());
        }
        tracing_subscriber::EnvFilter::try_new(&self.log.filter)
            .map(|_| ())
            .or_else(|e| {
                invalid(format!(
                    "log.filter {:?} is not a valid filter: {e}",
                    self.log.filter
                ))
            })
    }

    /// Checks what serving needs on top: the TLS files exist.
    pub fn validate_for_serve(&self) -> Result<(), SettingsError> {
        let files = [
            ("tls.ca_cert", Some(&self.tls.ca_cert)),
            ("tls.server_cert", Some(&self.tls.server_cert)),
            ("tls.server_key", Some(&self.tls.server_key)),
            (
                "tls.crl",
                self.tls.crl.as_ref().filter(|_| !self.tls.allow_no_crl),
            ),
        ];
        for (key, path) in files {
            if let Some(path) = path.filter(|p| !p.is_file()) {
                return Err(SettingsError::Invalid(format!(
                    "{key}: {} does not exist (create the development PKI with `vpos pki init` and `vpos pki server`)",
                    path.display()
                )));
            }
        }
        let pkg = self.site_root.join("pkg");
        if !pkg.is_dir() {
            return Err(SettingsError::Invalid(format!(
                "site_root: {} has no pkg/ directory (build the site with `cargo leptos build`)",
                self.site_root.display()
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_toml(toml: &str) -> Result<Settings, SettingsError> {
        let settings: Settings = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::string(toml))
            .extract()
            .map_err(|e| SettingsError::Invalid(e.to_string()))?;
        settings.validate()?;
        Ok(settings)
    }

    #[test]
    fn the_public_origin_drops_any_path() {
        let mut settings = Settings::default();
        assert_eq!(settings.public_origin(), "https://localhost:8443");
        // Only the listener moved: the address follows it.
        settings.listen = SocketAddr::from(([0, 0, 0, 0], 9443));
        assert_eq!(settings.public_url(), "https://localhost:9443");
        assert_eq!(settings.public_origin(), "https://localhost:9443");
        settings.public_url = "https://pay.example.com/console/".into();
        assert_eq!(settings.public_origin(), "https://pay.example.com");
    }

    #[test]
    fn the_example_file_documents_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/vpos.example.toml");
        let example = std::fs::read_to_string(path).expect("docs/vpos.example.toml");
        let parsed = from_toml(&example).expect("the example parses");
        assert_eq!(
            serde_json::to_value(&parsed).expect("json"),
            serde_json::to_value(Settings::default()).expect("json")
        );
    }

    #[test]
    fn invalid_values_are_named_in_the_error() {
        for (toml, expected) in [
            (
                "public_url = \"http://x\"",
                "public_url must be an https:// URL",
            ),
            (
                "database_url = \"mysql://x\"",
                "database_url must start with",
            ),
            ("database_max_connections = 0", "database_max_connections"),
            (
                "[tls]\nhandshake_timeout_secs = 0",
                "tls.handshake_timeout_secs",
            ),
            ("[log]\nfilter = \"info,[\"", "log.filter"),
            ("[clearing]\ninterval_secs = 0", "clearing.interval_secs"),
            ("[exports]\ndirect_limit = 0", "exports.direct_limit"),
            ("[exports]\ndirect_limit = 2000000", "exports.direct_limit"),
            ("[exports]\nlease_secs = 1", "exports.lease_secs"),
            ("[log]\nformat = \"xml\"", "xml"),
            ("listen = \"localhost\"", "listen"),
            ("colour = true", "colour"),
        ] {
            let err = from_toml(toml).expect_err(toml).to_string();
            assert!(err.contains(expected), "{toml}: {err}");
        }
    }
}
