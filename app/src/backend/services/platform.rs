//! Platform operations (the acquirer side): onboarding a merchant, creating its operators and
//! binding client certificates to them. Reached through the CLI, not the merchant console.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
    TransactionSession, TransactionTrait,
};
use secrecy::SecretString;

use serde_json::json;

use crate::backend::audit::{self, Actor, AuditEntry};
use crate::backend::db::begin_write;
use crate::backend::entities::{
    fee_rates, merchant_numbers, merchants, operator_certificates, operator_roles, operators,
    sessions,
};
use crate::backend::password::{generate_one_time_password, hash_password};
use crate::domain::access::Role;
use crate::domain::{
    AuditAction, AuditOutcome, CardOrg, CardType, DataScope, LoginName, LoginPrefix, MaskedAccount,
    MerchantCode, MerchantNo, MerchantNumberStatus, MerchantStatus, Money, OperatorStatus,
    RefundMode, SessionEnd,
};

#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error("merchant {0} already exists")]
    MerchantExists(String),
    #[error("login prefix {0} is already another merchant's")]
    LoginPrefixTaken(String),
    #[error("merchant number {0} is already taken")]
    MerchantNoTaken(String),
    #[error("no merchant with code {0}")]
    NoSuchMerchant(String),
    #[error("login name {0} is already taken")]
    LoginTaken(String),
    #[error("no operator with login name {0}")]
    NoSuchOperator(String),
    #[error("this certificate is already bound to another operator")]
    CertificateBoundElsewhere,
    #[error("this certificate is revoked")]
    CertificateRevoked,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

/// What onboarding a merchant needs.
#[derive(Debug, Clone)]
pub struct NewMerchant {
    pub code: MerchantCode,
    /// The merchant's part of the login namespace; none: its code in lower case.
    pub login_prefix: Option<LoginPrefix>,
    pub name: String,
    pub settlement_bank: String,
    pub settlement_account: MaskedAccount,
    pub refund_mode: RefundMode,
    pub refund_requires_token: bool,
    pub daily_refund_quota: Money,
    pub refund_window_days: i32,
    pub fast_refund_agreement: bool,
    /// Merchant numbers with their store names.
    pub numbers: Vec<(MerchantNo, String)>,
    pub fee_rates: Vec<FeeRate>,
}

#[derive(Debug, Clone, Copy)]
pub struct FeeRate {
    pub card_org: CardOrg,
    pub card_type: CardType,
    /// Parts per million: 0.38 % is 3 800.
    pub rate_ppm: i32,
    pub cap_fen: Option<i64>,
}

impl FeeRate {
    /// The rate as merchant `merchant_id`'s row.
    fn row(&self, merchant_id: i64) -> fee_rates::ActiveModel {
        fee_rates::ActiveModel {
            merchant_id: Set(merchant_id),
            card_org: Set(self.card_org.code().to_owned()),
            card_type: Set(self.card_type.code().to_owned()),
            rate_ppm: Set(self.rate_ppm),
            cap_fen: Set(self.cap_fen),
            ..Default::default()
        }
    }
}

/// Typical acquiring rates: domestic debit 0.5 % capped at ¥20, domestic credit 0.6 %, foreign cards
/// 2.5 % (American Express 3 %).
pub fn standard_fee_rates() -> Vec<FeeRate> {
    CardOrg::ALL
        .iter()
        .flat_map(|&card_org| {
            CardType::ALL.iter().map(move |&card_type| {
                let (rate_ppm, cap_fen) = match (card_org, card_type) {
                    (CardOrg::UnionPay, CardType::Debit) => (5_000, Some(2_000)),
                    (CardOrg::UnionPay, CardType::Credit) => (6_000, None),
                    (CardOrg::Amex, _) => (30_000, None),
                    _ => (25_000, None),
                };
                FeeRate {
                    card_org,
                    card_type,
                    rate_ppm,
                    cap_fen,
                }
            })
        })
        .collect()
}

#[tracing::instrument(skip_all, fields(merchant.code = %new.code))]
pub async fn create_merchant<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    new: NewMerchant,
    now: DateTime<Utc>,
) -> Result<i64, PlatformError> {
    if new.name.trim().is_empty() {
        return Err(PlatformError::Invalid("the merchant name is empty".into()));
    }
    if new.numbers.is_empty() {
        return Err(PlatformError::Invalid(
            "a merchant needs at least one merchant number".into(),
        ));
    }
    if !(1..=3650).contains(&new.refund_window_days) {
        return Err(PlatformError::Invalid(
            "the refund window is 1 to 3650 days".into(),
        ));
    }
    let txn = begin_write(db).await?;
    if merchants::Entity::find()
        .filter(merchants::Column::Code.eq(new.code.as_str()))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(PlatformError::MerchantExists(new.code.to_string()));
    }
    let login_prefix = new
        .login_prefix
        .clone()
        .unwrap_or_else(|| LoginPrefix::of_code(&new.code));
    if merchants::Entity::find()
        .filter(merchants::Column::LoginPrefix.eq(login_prefix.as_str()))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(PlatformError::LoginPrefixTaken(login_prefix.to_string()));
    }
    for (no, _) in &new.numbers {
        let taken = merchant_numbers::Entity::find()
            .filter(merchant_numbers::Column::MerchantNo.eq(no.as_str()))
            .one(&txn)
            .await?;
        if taken.is_some() {
            return Err(PlatformError::MerchantNoTaken(no.to_string()));
        }
    }
    let merchant = merchants::ActiveModel {
        code: Set(new.code.to_string()),
        login_prefix: Set(login_prefix.to_string()),
        name: Set(new.name.trim().to_owned()),
        currency: Set(new.daily_refund_quota.currency().code().to_owned()),
        time_zone: Set("Asia/Shanghai".into()),
        settlement_bank: Set(new.settlement_bank),
        settlement_account_masked: Set(new.settlement_account.to_string()),
        settlement_cycle_days: Set(1),
        refund_mode: Set(new.refund_mode.code().to_owned()),
        refund_requires_token: Set(new.refund_requires_token),
        daily_refund_quota_fen: Set(new.daily_refund_quota.fen()),
        refund_window_days: Set(new.refund_window_days),
        fast_refund_agreement: Set(new.fast_refund_agreement),
        balance_fen: Set(0),
        status: Set(MerchantStatus::Active.code().into()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    for (no, store) in new.numbers {
        merchant_numbers::ActiveModel {
            merchant_id: Set(merchant.id),
            merchant_no: Set(no.to_string()),
            name: Set(store),
            status: Set(MerchantNumberStatus::Active.code().into()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    for rate in new.fee_rates {
        rate.row(merchant.id).insert(&txn).await?;
    }
    txn.commit().await?;
    tracing::info!(merchant.id = merchant.id, "merchant created");
    Ok(merchant.id)
}

#[derive(Debug, Clone)]
pub struct NewOperator {
    pub merchant_code: MerchantCode,
    pub login_name: LoginName,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub scope: DataScope,
}

/// A created operator and the one-time password to hand over (changed at first sign-in).
#[derive(Debug)]
pub struct CreatedOperator {
    pub id: i64,
    pub merchant_id: i64,
    pub one_time_password: SecretString,
}

/// Creates an operator with a random one-time password, or with `password` when given (the demo data
/// set gives all its operators one).
#[tracing::instrument(skip_all, fields(merchant.code = %new.merchant_code, operator.login = %new.login_name))]
pub async fn create_operator<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    new: NewOperator,
    password: Option<SecretString>,
    now: DateTime<Utc>,
) -> Result<CreatedOperator, PlatformError> {
    if new.display_name.trim().is_empty() {
        return Err(PlatformError::Invalid("the display name is empty".into()));
    }
    let password = password.unwrap_or_else(generate_one_time_password);
    let hash = hash_password(&password).map_err(|e| PlatformError::Invalid(e.to_string()))?;
    let txn = begin_write(db).await?;
    let merchant = merchant_by_code(&txn, &new.merchant_code).await?;
    let taken = operators::Entity::find()
        .filter(operators::Column::LoginName.eq(new.login_name.as_str()))
        .one(&txn)
        .await?;
    if taken.is_some() {
        return Err(PlatformError::LoginTaken(new.login_name.to_string()));
    }
    let operator = operators::ActiveModel {
        merchant_id: Set(merchant.id),
        login_name: Set(new.login_name.to_string()),
        display_name: Set(new.display_name.trim().to_owned()),
        password_hash: Set(hash.clone()),
        status: Set(OperatorStatus::Active.code().into()),
        must_change_password: Set(true),
        failed_login_count: Set(0),
        data_scope: Set(new.scope.code().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    super::auth::remember_password(&txn, operator.id, hash, now).await?;
    let mut roles = new.roles;
    roles.sort();
    roles.dedup();
    for role in roles {
        operator_roles::ActiveModel {
            operator_id: Set(operator.id),
            role_code: Set(role.code().to_owned()),
        }
        .insert(&txn)
        .await?;
    }
    let entry = AuditEntry::new(
        platform_actor(merchant.id),
        AuditAction::OperatorCreate,
        AuditOutcome::Success,
    )
    .object("operator", operator.id)
    .detail(json!({ "login_name": operator.login_name, "by": "platform" }));
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    tracing::info!(operator.id = operator.id, "operator created");
    Ok(CreatedOperator {
        id: operator.id,
        merchant_id: merchant.id,
        one_time_password: password,
    })
}

/// The facts of a certificate that binding records.
#[derive(Debug, Clone)]
pub struct CertificateRecord {
    pub fingerprint: String,
    pub serial_hex: String,
    pub subject_cn: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
}

/// Binds a client certificate to an operator. Binding the same certificate to the same operator again
/// changes nothing; a certificate bound to someone else is refused.
#[tracing::instrument(skip_all, fields(operator.login = %login, cert.fingerprint = %cert.fingerprint))]
pub async fn bind_certificate<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    login: &LoginName,
    cert: &CertificateRecord,
    now: DateTime<Utc>,
) -> Result<i64, PlatformError> {
    let txn = begin_write(db).await?;
    let operator = operators::Entity::find()
        .filter(operators::Column::LoginName.eq(login.as_str()))
        .one(&txn)
        .await?
        .ok_or_else(|| PlatformError::NoSuchOperator(login.to_string()))?;
    let existing = operator_certificates::Entity::find()
        .filter(operator_certificates::Column::FingerprintSha256.eq(&cert.fingerprint))
        .one(&txn)
        .await?;
    let id = match existing {
        Some(row) if row.revoked_at.is_some() => return Err(PlatformError::CertificateRevoked),
        Some(row) if row.operator_id == Some(operator.id) => row.id,
        Some(row) if row.operator_id.is_some() => {
            return Err(PlatformError::CertificateBoundElsewhere)
        }
        Some(row) => {
            let mut active: operator_certificates::ActiveModel = row.into();
            active.operator_id = Set(Some(operator.id));
            active.bound_at = Set(Some(now));
            active.update(&txn).await?.id
        }
        None => {
            operator_certificates::ActiveModel {
                operator_id: Set(Some(operator.id)),
                bound_at: Set(Some(now)),
                ..new_certificate_row(cert, now)
            }
            .insert(&txn)
            .await?
            .id
        }
    };
    let entry = AuditEntry::new(
        platform_actor(operator.merchant_id),
        AuditAction::CertificateBind,
        AuditOutcome::Success,
    )
    .object("operator", operator.id)
    .detail(
        json!({ "fingerprint": cert.fingerprint, "subject": cert.subject_cn, "by": "platform" }),
    );
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    tracing::info!(operator.id = operator.id, "certificate bound");
    Ok(id)
}

/// A row for a certificate the database has not seen yet: its facts, nothing bound or revoked.
fn new_certificate_row(
    cert: &CertificateRecord,
    now: DateTime<Utc>,
) -> operator_certificates::ActiveModel {
    operator_certificates::ActiveModel {
        fingerprint_sha256: Set(cert.fingerprint.clone()),
        serial_hex: Set(cert.serial_hex.clone()),
        subject_cn: Set(cert.subject_cn.clone()),
        not_before: Set(cert.not_before),
        not_after: Set(cert.not_after),
        created_at: Set(now),
        ..Default::default()
    }
}

/// The certificate to revoke, as the platform knows it: from its file (all its facts) or only by its
/// serial number.
#[derive(Debug, Clone)]
pub enum Revoked {
    Certificate(CertificateRecord),
    Serial(String),
}

/// Records a revocation in the database, where every instance reads it ([`revoked_fingerprints`])
/// besides its CRL file. A certificate the database never saw is recorded when its facts are known,
/// so that no instance accepts it later. Returns the certificates newly marked; revoking again
/// changes nothing.
pub async fn revoke_certificate<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    revoked: &Revoked,
    now: DateTime<Utc>,
) -> Result<u64, PlatformError> {
    use sea_orm::sea_query::Expr;
    let txn = begin_write(db).await?;
    let serial = match revoked {
        Revoked::Certificate(cert) => &cert.serial_hex,
        Revoked::Serial(serial) => serial,
    };
    let rows = operator_certificates::Entity::find()
        .filter(operator_certificates::Column::SerialHex.eq(serial.as_str()))
        .filter(operator_certificates::Column::RevokedAt.is_null())
        .all(&txn)
        .await?;
    operator_certificates::Entity::update_many()
        .col_expr(operator_certificates::Column::RevokedAt, Expr::value(now))
        .filter(operator_certificates::Column::SerialHex.eq(serial.as_str()))
        .filter(operator_certificates::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    let mut marked: Vec<(Option<i64>, String)> = rows
        .into_iter()
        .map(|r| (r.operator_id, r.fingerprint_sha256))
        .collect();
    if let Revoked::Certificate(cert) = revoked {
        let known = operator_certificates::Entity::find()
            .filter(operator_certificates::Column::FingerprintSha256.eq(&cert.fingerprint))
            .one(&txn)
            .await?
            .is_some();
        if !known {
            operator_certificates::ActiveModel {
                operator_id: Set(None),
                revoked_at: Set(Some(now)),
                ..new_certificate_row(cert, now)
            }
            .insert(&txn)
            .await?;
            marked.push((None, cert.fingerprint.clone()));
        }
    }
    let fingerprints: Vec<&str> = marked.iter().map(|(_, f)| f.as_str()).collect();
    sessions::Entity::update_many()
        .col_expr(sessions::Column::EndedAt, Expr::value(now))
        .col_expr(
            sessions::Column::EndReason,
            Expr::value(SessionEnd::Certificate.code()),
        )
        .filter(sessions::Column::CertFingerprint.is_in(fingerprints))
        .filter(sessions::Column::EndedAt.is_null())
        .exec(&txn)
        .await?;
    for (operator_id, fingerprint) in &marked {
        let merchant_id = match operator_id {
            Some(id) => operators::Entity::find_by_id(*id)
                .one(&txn)
                .await?
                .map(|o| o.merchant_id),
            None => None,
        };
        let mut entry = AuditEntry::new(
            Actor {
                merchant_id,
                login_name: Some("platform".into()),
                ..Actor::default()
            },
            AuditAction::CertificateRevoke,
            AuditOutcome::Success,
        )
        .detail(json!({ "fingerprint": fingerprint, "serial": serial, "by": "platform" }));
        if let Some(id) = operator_id {
            entry = entry.object("operator", id);
        }
        audit::append(&txn, entry, now).await?;
    }
    txn.commit().await?;
    Ok(marked.len() as u64)
}

/// The fingerprints of every certificate revoked in the database: what each instance refuses on
/// top of its CRL file, read again every few seconds.
pub async fn revoked_fingerprints(
    db: &impl ConnectionTrait,
) -> Result<std::collections::HashSet<String>, sea_orm::DbErr> {
    use sea_orm::QuerySelect;
    operator_certificates::Entity::find()
        .select_only()
        .column(operator_certificates::Column::FingerprintSha256)
        .filter(operator_certificates::Column::RevokedAt.is_not_null())
        .into_tuple::<String>()
        .all(db)
        .await
        .map(|all| all.into_iter().collect())
}

/// The platform (the CLI) acting on a merchant's behalf: no operator, no certificate.
fn platform_actor(merchant_id: i64) -> Actor {
    Actor {
        merchant_id: Some(merchant_id),
        login_name: Some("platform".into()),
        ..Actor::default()
    }
}

/// Whether any merchant exists (the demo data set is only loaded into an empty database).
pub async fn has_merchants(db: &impl ConnectionTrait) -> Result<bool, sea_orm::DbErr> {
    use sea_orm::PaginatorTrait;
    Ok(merchants::Entity::find().count(db).await? > 0)
}

async fn merchant_by_code(
    db: &impl ConnectionTrait,
    code: &MerchantCode,
) -> Result<merchants::Model, PlatformError> {
    merchants::Entity::find()
        .filter(merchants::Column::Code.eq(code.as_str()))
        .one(db)
        .await?
        .ok_or_else(|| PlatformError::NoSuchMerchant(code.to_string()))
}

/// A terminal as the platform lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalListing {
    pub terminal_no: String,
    pub merchant_no: String,
    pub model: String,
    pub alias: Option<String>,
    pub status: String,
    pub signed_in: bool,
}

/// A terminal number: 8 digits, the form the gateway's messages carry.
pub fn terminal_no(typed: &str) -> Result<String, PlatformError> {
    if typed.len() == 8 && typed.bytes().all(|b| b.is_ascii_digit()) {
        Ok(typed.to_owned())
    } else {
        Err(PlatformError::Invalid(format!(
            "a terminal number is 8 digits, not {typed:?}"
        )))
    }
}

/// Installs a terminal on merchant number `number`: enabled, signed out until it signs in.
pub async fn add_terminal<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    number: &MerchantNo,
    terminal: &str,
    model: &str,
    alias: Option<&str>,
    now: DateTime<Utc>,
) -> Result<i64, PlatformError> {
    use crate::backend::entities::terminals;
    let terminal = terminal_no(terminal)?;
    let model = model.trim();
    if model.is_empty() || model.chars().count() > 64 {
        return Err(PlatformError::Invalid(
            "the model is 1 to 64 characters".into(),
        ));
    }
    let txn = begin_write(db).await?;
    let number_row = merchant_numbers::Entity::find()
        .filter(merchant_numbers::Column::MerchantNo.eq(number.as_str()))
        .one(&txn)
        .await?
        .ok_or_else(|| PlatformError::Invalid(format!("no merchant number {number}")))?;
    let taken = terminals::Entity::find()
        .filter(terminals::Column::TerminalNo.eq(terminal.as_str()))
        .one(&txn)
        .await?;
    if taken.is_some() {
        return Err(PlatformError::Invalid(format!(
            "terminal {terminal} exists already"
        )));
    }
    let row = terminals::ActiveModel {
        merchant_id: Set(number_row.merchant_id),
        merchant_number_id: Set(number_row.id),
        terminal_no: Set(terminal.clone()),
        model: Set(model.to_owned()),
        alias: Set(alias
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_owned)),
        status: Set(crate::domain::TerminalStatus::Enabled.code().to_owned()),
        signed_in: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let entry = AuditEntry::new(
        platform_actor(number_row.merchant_id),
        AuditAction::TerminalAdd,
        AuditOutcome::Success,
    )
    .object("terminal", row.id)
    .detail(json!({"terminal": terminal, "merchant_no": number.as_str(), "by": "platform"}));
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok(row.id)
}

/// The terminals of merchant `code`, by number.
pub async fn terminals_of(
    db: &impl ConnectionTrait,
    code: &MerchantCode,
) -> Result<Vec<TerminalListing>, PlatformError> {
    use crate::backend::entities::terminals;
    use sea_orm::QueryOrder;
    let merchant = merchant_by_code(db, code).await?;
    let numbers = merchant_numbers::Entity::find()
        .filter(merchant_numbers::Column::MerchantId.eq(merchant.id))
        .all(db)
        .await?;
    Ok(terminals::Entity::find()
        .filter(terminals::Column::MerchantId.eq(merchant.id))
        .order_by_asc(terminals::Column::TerminalNo)
        .all(db)
        .await?
        .into_iter()
        .map(|t| TerminalListing {
            merchant_no: numbers
                .iter()
                .find(|n| n.id == t.merchant_number_id)
                .map(|n| n.merchant_no.clone())
                .unwrap_or_default(),
            terminal_no: t.terminal_no,
            model: t.model,
            alias: t.alias,
            status: t.status,
            signed_in: t.signed_in,
        })
        .collect())
}

/// Enables or disables terminal `terminal`; a disabled terminal's next message to the gateway is
/// refused. Returns whether it changed.
pub async fn set_terminal_enabled<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    terminal: &str,
    enabled: bool,
    now: DateTime<Utc>,
) -> Result<bool, PlatformError> {
    use crate::backend::entities::terminals;
    use crate::domain::TerminalStatus;
    let terminal = terminal_no(terminal)?;
    let txn = begin_write(db).await?;
    let row = terminals::Entity::find()
        .filter(terminals::Column::TerminalNo.eq(terminal.as_str()))
        .one(&txn)
        .await?
        .ok_or_else(|| PlatformError::Invalid(format!("no terminal {terminal}")))?;
    let status = if enabled {
        TerminalStatus::Enabled
    } else {
        TerminalStatus::Disabled
    };
    if row.status == status.code() {
        return Ok(false);
    }
    let (id, merchant_id) = (row.id, row.merchant_id);
    let mut change: terminals::ActiveModel = row.into();
    change.status = Set(status.code().to_owned());
    change.updated_at = Set(now);
    change.update(&txn).await?;
    let action = if enabled {
        AuditAction::TerminalEnable
    } else {
        AuditAction::TerminalDisable
    };
    let entry = AuditEntry::new(platform_actor(merchant_id), action, AuditOutcome::Success)
        .object("terminal", id)
        .detail(json!({"terminal": terminal, "by": "platform"}));
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok(true)
}

/// Sets merchant `code`'s fee rate for one card organisation and type (added or replaced); the next
/// clearing run prices with it.
pub async fn set_fee_rate<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    code: &MerchantCode,
    rate: FeeRate,
    now: DateTime<Utc>,
) -> Result<(), PlatformError> {
    if !(0..=100_000).contains(&rate.rate_ppm) {
        return Err(PlatformError::Invalid(
            "a fee rate is between 0 % and 10 %".into(),
        ));
    }
    if rate.cap_fen.is_some_and(|cap| cap <= 0) {
        return Err(PlatformError::Invalid("a cap is more than zero".into()));
    }
    let txn = begin_write(db).await?;
    let merchant = merchant_by_code(&txn, code).await?;
    let existing = fee_rates::Entity::find()
        .filter(fee_rates::Column::MerchantId.eq(merchant.id))
        .filter(fee_rates::Column::CardOrg.eq(rate.card_org.code()))
        .filter(fee_rates::Column::CardType.eq(rate.card_type.code()))
        .one(&txn)
        .await?;
    let before = existing
        .as_ref()
        .map(|r| json!({"rate_ppm": r.rate_ppm, "cap_fen": r.cap_fen}));
    match existing {
        Some(row) => {
            let mut change: fee_rates::ActiveModel = row.into();
            change.rate_ppm = Set(rate.rate_ppm);
            change.cap_fen = Set(rate.cap_fen);
            change.update(&txn).await?;
        }
        None => {
            rate.row(merchant.id).insert(&txn).await?;
        }
    }
    let entry = AuditEntry::new(
        platform_actor(merchant.id),
        AuditAction::FeeRateSet,
        AuditOutcome::Success,
    )
    .detail(json!({
        "card_org": rate.card_org.code(),
        "card_type": rate.card_type.code(),
        "rate_ppm": {"before": before.as_ref().map(|b| b["rate_ppm"].clone()), "after": rate.rate_ppm},
        "cap_fen": {"before": before.as_ref().map(|b| b["cap_fen"].clone()), "after": rate.cap_fen},
        "by": "platform"}));
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok(())
}

/// Merchant `code`'s fee rates, by card organisation and type.
pub async fn fee_rates_of(
    db: &impl ConnectionTrait,
    code: &MerchantCode,
) -> Result<Vec<FeeRate>, PlatformError> {
    let merchant = merchant_by_code(db, code).await?;
    let mut rates: Vec<FeeRate> = fee_rates::Entity::find()
        .filter(fee_rates::Column::MerchantId.eq(merchant.id))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|r| {
            Some(FeeRate {
                card_org: CardOrg::from_code(&r.card_org)?,
                card_type: CardType::from_code(&r.card_type)?,
                rate_ppm: r.rate_ppm,
                cap_fen: r.cap_fen,
            })
        })
        .collect();
    let position = |r: &FeeRate| {
        (
            CardOrg::ALL.iter().position(|o| *o == r.card_org),
            CardType::ALL.iter().position(|t| *t == r.card_type),
        )
    };
    rates.sort_by_key(position);
    Ok(rates)
}

/// What `vpos merchant policy` changes; what is `None` stays.
#[derive(Debug, Clone, Default)]
pub struct PolicyChange {
    pub refund_mode: Option<RefundMode>,
    pub token_required: Option<bool>,
    pub daily_quota: Option<Money>,
    pub window_days: Option<i32>,
    pub fast_refund_agreement: Option<bool>,
}

/// Changes merchant `code`'s refund policy. The console reads the policy at every request, so the
/// merchant's next refund follows it. Returns the merchant as it is now.
pub async fn change_policy<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    code: &MerchantCode,
    change: PolicyChange,
    now: DateTime<Utc>,
) -> Result<merchants::Model, PlatformError> {
    if let Some(days) = change.window_days {
        if !(0..=365).contains(&days) {
            return Err(PlatformError::Invalid(
                "the refund window is 0 to 365 days".into(),
            ));
        }
    }
    if change.daily_quota.is_some_and(|q| q.fen() < 0) {
        return Err(PlatformError::Invalid(
            "the daily quota is not negative".into(),
        ));
    }
    let txn = begin_write(db).await?;
    let merchant = merchant_by_code(&txn, code).await?;
    let mut details = serde_json::Map::new();
    let mut row: merchants::ActiveModel = merchant.clone().into();
    if let Some(mode) = change.refund_mode {
        details.insert(
            "refund_mode".into(),
            json!({"before": merchant.refund_mode, "after": mode.code()}),
        );
        row.refund_mode = Set(mode.code().to_owned());
    }
    if let Some(token) = change.token_required {
        details.insert(
            "refund_requires_token".into(),
            json!({"before": merchant.refund_requires_token, "after": token}),
        );
        row.refund_requires_token = Set(token);
    }
    if let Some(quota) = change.daily_quota {
        details.insert(
            "daily_refund_quota_fen".into(),
            json!({"before": merchant.daily_refund_quota_fen, "after": quota.fen()}),
        );
        row.daily_refund_quota_fen = Set(quota.fen());
    }
    if let Some(days) = change.window_days {
        details.insert(
            "refund_window_days".into(),
            json!({"before": merchant.refund_window_days, "after": days}),
        );
        row.refund_window_days = Set(days);
    }
    if let Some(fast) = change.fast_refund_agreement {
        details.insert(
            "fast_refund_agreement".into(),
            json!({"before": merchant.fast_refund_agreement, "after": fast}),
        );
        row.fast_refund_agreement = Set(fast);
    }
    if details.is_empty() {
        return Ok(merchant);
    }
    row.updated_at = Set(now);
    let updated = row.update(&txn).await?;
    details.insert("by".into(), json!("platform"));
    let entry = AuditEntry::new(
        platform_actor(merchant.id),
        AuditAction::MerchantPolicy,
        AuditOutcome::Success,
    )
    .detail(serde_json::Value::Object(details));
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok(updated)
}
