//! Signing in: the captcha, the certificate noted before the form, and the attempt judged under the
//! lockout and throttle rules, every refusal answered alike.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
    TransactionSession, TransactionTrait,
};
use secrecy::SecretString;
use serde_json::json;

use super::passwords::{dummy_hash, matches, random_token, token_hash};
use crate::backend::audit::{self, Actor, AuditEntry};
use crate::backend::db::begin_write;
use crate::backend::entities::{captchas, merchants, operator_certificates, operators, sessions};
use crate::backend::services::decode;
use crate::backend::{captcha, AuthConfig, ClientIdentity};
use crate::domain::{
    AuditAction, AuditOutcome, LoginName, MerchantStatus, OperatorEvent, OperatorStatus,
};
use crate::error::{AppError, FieldProblem};

/// A new captcha: its id (for the form) and the image (PNG). The answer stays in the database.
pub struct NewCaptcha {
    pub id: String,
    pub png: Vec<u8>,
}

#[tracing::instrument(skip_all)]
pub async fn new_captcha(
    db: &impl ConnectionTrait,
    cfg: &AuthConfig,
    now: DateTime<Utc>,
) -> Result<NewCaptcha, AppError> {
    // Expired captchas are of no use to anyone: sweep them as new ones are made.
    captchas::Entity::delete_many()
        .filter(captchas::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?;
    let id = random_token();
    let image = captcha::new_image()
        .ok_or_else(|| AppError::internal("drawing a captcha", &CaptchaNotDrawn))?;
    captchas::ActiveModel {
        id: Set(id.clone()),
        answer: Set(image.answer),
        created_at: Set(now),
        expires_at: Set(now + cfg.captcha_ttl),
        used_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(NewCaptcha { id, png: image.png })
}

#[derive(Debug, thiserror::Error)]
#[error("the captcha image could not be encoded")]
pub(super) struct CaptchaNotDrawn;

/// Whether the presented certificate is bound to some operator. A certificate the console has not
/// seen before is recorded, unbound, so that an administrator can bind it by its fingerprint.
pub async fn note_certificate(
    db: &impl ConnectionTrait,
    identity: &ClientIdentity,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let known = operator_certificates::Entity::find()
        .filter(operator_certificates::Column::FingerprintSha256.eq(&identity.fingerprint))
        .one(db)
        .await?;
    match known {
        Some(cert) => Ok(cert.operator_id.is_some() && cert.revoked_at.is_none()),
        None => {
            let insert =
                operator_certificates::Entity::insert(operator_certificates::ActiveModel {
                    operator_id: Set(None),
                    fingerprint_sha256: Set(identity.fingerprint.clone()),
                    serial_hex: Set(identity.serial_hex.clone()),
                    subject_cn: Set(identity.subject_cn.chars().take(200).collect()),
                    not_before: Set(identity.not_before),
                    not_after: Set(identity.not_after),
                    bound_at: Set(None),
                    revoked_at: Set(None),
                    created_at: Set(now),
                    ..Default::default()
                })
                .on_conflict(
                    sea_orm::sea_query::OnConflict::column(
                        operator_certificates::Column::FingerprintSha256,
                    )
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(db)
                .await;
            insert.map(|_| false)
        }
    }
}

/// What the sign-in form sends.
pub struct SignInForm {
    pub login_name: String,
    pub password: SecretString,
    pub captcha_id: String,
    pub captcha_answer: String,
}

/// A successful sign-in: the token for the session cookie.
pub struct SignedIn {
    pub token: SecretString,
    pub operator_id: i64,
    pub must_change_password: bool,
}

/// Signs an operator in. Refusals are [`AppError::SignInRefused`] whatever the reason (the reason is in
/// the audit log) and come no sooner than `cfg.refusal_floor` after the call; a wrong or expired
/// captcha is a field error on `captcha`. A certificate or address over its attempts of the minute
/// gets [`AppError::TooManyAttempts`] before anything is read, and a sign-in that finds every password
/// check taken and its queue full gets [`AppError::Busy`].
#[tracing::instrument(skip_all, fields(cert.fingerprint = %identity.fingerprint))]
pub async fn sign_in<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    cfg: &AuthConfig,
    form: SignInForm,
    identity: &ClientIdentity,
    now: DateTime<Utc>,
) -> Result<SignedIn, AppError> {
    let started = tokio::time::Instant::now();
    cfg.throttle.sign_in_attempt(
        &identity.fingerprint,
        &identity.remote_addr.ip().to_string(),
        now,
    )?;
    let result = attempt_sign_in(db, cfg, form, identity, now).await;
    if matches!(result, Err(AppError::SignInRefused)) {
        tokio::time::sleep_until(started + cfg.refusal_floor).await;
    }
    result
}

/// Why a sign-in was refused, for the audit log only.
#[derive(Debug, Clone, Copy)]
pub(super) enum Refusal {
    UnknownLogin,
    Disabled,
    Locked,
    WrongPassword,
    CertificateNotBound,
    MerchantSuspended,
}

impl Refusal {
    pub(super) fn code(self) -> &'static str {
        match self {
            Refusal::UnknownLogin => "unknown_login",
            Refusal::Disabled => "disabled",
            Refusal::Locked => "locked",
            Refusal::WrongPassword => "wrong_password",
            Refusal::CertificateNotBound => "certificate_not_bound",
            Refusal::MerchantSuspended => "merchant_suspended",
        }
    }
}

pub(super) async fn attempt_sign_in<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    cfg: &AuthConfig,
    form: SignInForm,
    identity: &ClientIdentity,
    now: DateTime<Utc>,
) -> Result<SignedIn, AppError> {
    let typed_login: String = form.login_name.trim().chars().take(64).collect();
    let mut actor = Actor {
        login_name: Some(typed_login.clone()),
        ..Actor::from_identity(identity)
    };

    // 1. The captcha, used up whatever the answer.
    let consumed = captchas::Entity::update_many()
        .col_expr(captchas::Column::UsedAt, Expr::value(Some(now)))
        .filter(captchas::Column::Id.eq(form.captcha_id.as_str()))
        .filter(captchas::Column::UsedAt.is_null())
        .filter(captchas::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?
        .rows_affected
        == 1;
    let captcha_ok = consumed
        && captchas::Entity::find_by_id(form.captcha_id.as_str())
            .one(db)
            .await?
            .is_some_and(|c| captcha::matches(&c.answer, &form.captcha_answer));
    if !captcha_ok {
        let entry = AuditEntry::new(actor, AuditAction::SignIn, AuditOutcome::Failure)
            .detail(json!({ "reason": "captcha" }));
        audit::record(db, entry, now).await?;
        return Err(AppError::invalid("captcha", FieldProblem::Captcha));
    }

    // 2. Who is meant, and whether this attempt may count against them. Only an attempt made with a
    // certificate bound to that operator is judged and counted: anyone else's certificate could
    // otherwise lock any operator whose login name it guessed.
    let operator = match LoginName::parse(&typed_login) {
        Ok(login) => {
            operators::Entity::find()
                .filter(operators::Column::LoginName.eq(login.as_str()))
                .one(db)
                .await?
        }
        Err(_) => None,
    };
    let bound = match &operator {
        Some(o) => certificate_bound_to(db, &identity.fingerprint, o.id).await?,
        None => false,
    };

    // 3. The password, checked exactly once on every path.
    let Judged {
        judged,
        matched: password_ok,
    } = judge_attempt(db, cfg, operator.as_ref(), bound, form.password, now).await?;

    // 4. Decide and record in one write transaction, on the operator as it is now.
    let txn = begin_write(db).await?;
    let operator = match operator {
        Some(o) => operators::Entity::find_by_id(o.id).one(&txn).await?,
        None => None,
    };
    let Some(operator) = operator else {
        return refused(txn, actor, Refusal::UnknownLogin, now).await;
    };
    actor.operator_id = Some(operator.id);
    actor.merchant_id = Some(operator.merchant_id);
    let status = decode(
        "operators.status",
        &operator.status,
        OperatorStatus::from_code,
    )?;
    let refusal = if status == OperatorStatus::Disabled {
        Some(Refusal::Disabled)
    } else if !merchant_active(&txn, operator.merchant_id).await? {
        Some(Refusal::MerchantSuspended)
    } else if !bound {
        Some(Refusal::CertificateNotBound)
    } else if !judged {
        Some(Refusal::Locked)
    } else if !password_ok {
        Some(Refusal::WrongPassword)
    } else {
        None
    };
    if let Some(reason) = refusal {
        refuse(&txn, actor.clone(), reason, now).await?;
        if matches!(reason, Refusal::WrongPassword) {
            lock_at_limit(&txn, cfg, &operator, actor, now).await?;
        }
        txn.commit().await?;
        return Err(AppError::SignInRefused);
    }

    // A success clears the count, unless a parallel attempt has locked the account meanwhile: a
    // right password does not undo a lock.
    let opened = operators::Entity::update_many()
        .col_expr(operators::Column::FailedLoginCount, Expr::value(0))
        .col_expr(operators::Column::LastLoginAt, Expr::value(Some(now)))
        .col_expr(
            operators::Column::LastLoginAddr,
            Expr::value(actor.remote_addr.clone()),
        )
        .filter(operators::Column::Id.eq(operator.id))
        .filter(operators::Column::Status.eq(OperatorStatus::Active.code()))
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    if !opened {
        return refused(txn, actor, Refusal::Locked, now).await;
    }
    let token = random_token();
    sessions::ActiveModel {
        token_hash: Set(token_hash(&token)),
        operator_id: Set(operator.id),
        merchant_id: Set(operator.merchant_id),
        cert_fingerprint: Set(identity.fingerprint.clone()),
        remote_addr: Set(identity.remote_addr.ip().to_string()),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(now + cfg.absolute_timeout),
        ended_at: Set(None),
        end_reason: Set(None),
    }
    .insert(&txn)
    .await?;
    let entry = AuditEntry::new(actor, AuditAction::SignIn, AuditOutcome::Success)
        .object("operator", operator.id);
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    tracing::info!(operator.id = operator.id, "signed in");
    Ok(SignedIn {
        token: SecretString::from(token),
        operator_id: operator.id,
        must_change_password: operator.must_change_password,
    })
}

/// Whether the certificate is bound to the operator and not revoked.
pub(super) async fn certificate_bound_to(
    db: &impl ConnectionTrait,
    fingerprint: &str,
    operator_id: i64,
) -> Result<bool, DbErr> {
    Ok(operator_certificates::Entity::find()
        .filter(operator_certificates::Column::FingerprintSha256.eq(fingerprint))
        .filter(operator_certificates::Column::OperatorId.eq(operator_id))
        .filter(operator_certificates::Column::RevokedAt.is_null())
        .one(db)
        .await?
        .is_some())
}

/// Whether the merchant may use the console (a suspended merchant's staff may not).
pub async fn merchant_active(db: &impl ConnectionTrait, merchant_id: i64) -> Result<bool, DbErr> {
    Ok(merchants::Entity::find_by_id(merchant_id)
        .one(db)
        .await?
        .is_some_and(|m| m.status == MerchantStatus::Active.code()))
}

/// An attempt at an operator's password, checked.
pub(super) struct Judged {
    /// The attempt counted against the operator and the account had failures left.
    pub(super) judged: bool,
    /// Judged, and the password is the operator's.
    pub(super) matched: bool,
}

/// Checks `password` as an attempt at `operator`'s. A `counted` attempt first takes its place among
/// the operator's failures ([`take_attempt`]), so that parallel attempts get no more guesses than the
/// limit, and is judged only within it. Every other attempt (no such operator, not counted, past the
/// limit, account not active) is checked against a dummy hash, so that the time taken does not tell
/// the cases apart. The place is taken only once a password check may run: the check may be refused
/// as busy, and a busy refusal must not count as a failure.
pub(super) async fn judge_attempt<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    cfg: &AuthConfig,
    operator: Option<&operators::Model>,
    counted: bool,
    password: SecretString,
    now: DateTime<Utc>,
) -> Result<Judged, AppError> {
    let check = cfg.throttle.password_checks.acquire().await?;
    let attempt = match operator {
        Some(o) if counted => take_attempt(db, o.id, now).await?,
        _ => None,
    };
    let judged = attempt.is_some_and(|n| n <= cfg.max_failed_sign_ins);
    let hash = match operator {
        Some(o) if judged => o.password_hash.clone(),
        _ => dummy_hash().to_owned(),
    };
    let matched = check.run(move || matches(&password, &hash)).await?;
    Ok(Judged {
        judged,
        matched: judged && matched,
    })
}

/// Counts an attempt against the operator before its password is checked, in a write transaction of
/// its own: its place among the attempts since the last success, or `None` when the account is not
/// active (locked or disabled). An attempt that finds the account's lock run out opens it afresh.
/// The increment and the read are one transaction on the locked row, so that two parallel attempts
/// never get the same place.
pub(super) async fn take_attempt<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    operator_id: i64,
    now: DateTime<Utc>,
) -> Result<Option<i32>, DbErr> {
    let txn = begin_write(db).await?;
    unlocking()
        .filter(operators::Column::Id.eq(operator_id))
        .filter(operators::Column::LockedUntil.lte(now))
        .exec(&txn)
        .await?;
    let counted = count_failure(&txn, operator_id).await?;
    txn.commit().await?;
    Ok(counted)
}

/// The update that ends a lock (the account active again, with no failures counted), for the
/// locked operators its caller filters to: at the lock's end or by an administrator.
pub fn unlocking() -> sea_orm::UpdateMany<operators::Entity> {
    crate::backend::services::moving_operators(OperatorEvent::Unlock)
        .col_expr(operators::Column::FailedLoginCount, Expr::value(0))
        .col_expr(
            operators::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
}

/// Adds one to an active operator's failure count and reads it back (in the caller's transaction,
/// which then holds the row); `None` when the operator is not active.
pub(super) async fn count_failure(
    txn: &impl ConnectionTrait,
    operator_id: i64,
) -> Result<Option<i32>, DbErr> {
    let counted = operators::Entity::update_many()
        .col_expr(
            operators::Column::FailedLoginCount,
            Expr::col(operators::Column::FailedLoginCount).add(1),
        )
        .filter(operators::Column::Id.eq(operator_id))
        .filter(operators::Column::Status.eq(OperatorStatus::Active.code()))
        .exec(txn)
        .await?
        .rows_affected
        == 1;
    if !counted {
        return Ok(None);
    }
    Ok(operators::Entity::find_by_id(operator_id)
        .one(txn)
        .await?
        .map(|o| o.failed_login_count))
}

/// Records the refusal, commits and answers with the one refusal there is.
pub(super) async fn refused<T: ConnectionTrait + TransactionSession>(
    txn: T,
    actor: Actor,
    reason: Refusal,
    now: DateTime<Utc>,
) -> Result<SignedIn, AppError> {
    refuse(&txn, actor, reason, now).await?;
    txn.commit().await?;
    Err(AppError::SignInRefused)
}

pub(super) async fn refuse(
    txn: &impl ConnectionTrait,
    actor: Actor,
    reason: Refusal,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    tracing::info!(reason = reason.code(), "sign-in refused");
    let entry = AuditEntry::new(actor, AuditAction::SignIn, AuditOutcome::Failure)
        .detail(json!({ "reason": reason.code() }));
    audit::append(txn, entry, now).await.map(drop)
}

/// Locks the account once its failures in a row reach the limit. The count is read in the same
/// statement that locks, so a success that cleared it meanwhile leaves the account open, and of
/// several parallel attempts at the limit exactly one locks.
pub(super) async fn lock_at_limit(
    txn: &impl ConnectionTrait,
    cfg: &AuthConfig,
    operator: &operators::Model,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let locked = crate::backend::services::moving_operators(OperatorEvent::Lock)
        .col_expr(
            operators::Column::LockedUntil,
            Expr::value(Some(now + cfg.lockout)),
        )
        .col_expr(operators::Column::UpdatedAt, Expr::value(now))
        .filter(operators::Column::Id.eq(operator.id))
        .filter(operators::Column::FailedLoginCount.gte(cfg.max_failed_sign_ins))
        .exec(txn)
        .await?
        .rows_affected
        == 1;
    if locked {
        tracing::warn!(operator.id = operator.id, "account locked");
        let entry = AuditEntry::new(actor, AuditAction::Lockout, AuditOutcome::Success)
            .object("operator", operator.id)
            .detail(json!({ "failures": cfg.max_failed_sign_ins, "until": now + cfg.lockout }));
        audit::append(txn, entry, now).await?;
    }
    Ok(locked)
}
