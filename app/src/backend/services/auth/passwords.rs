//! Passwords: changing one (and the first change a one-time password forces), confirming one's own
//! before a sensitive step, the history a new one may not repeat, and the bounded hashing.

use chrono::{DateTime, Utc};
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionSession, TransactionTrait,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::sessions::end_operator_sessions;
use super::sign_in::{judge_attempt, lock_at_limit, Judged};
use crate::backend::audit::{self, AuditEntry};
use crate::backend::db::begin_write;
use crate::backend::entities::{operators, password_history};
use crate::backend::password::{hash_password, verify_password};
use crate::backend::{AuthConfig, Session};
use crate::domain::password::{check_password, PasswordRule, HISTORY_DEPTH, MAX_LENGTH};
use crate::domain::{AuditAction, AuditOutcome, SessionEnd};
use crate::error::{AppError, FieldError, FieldProblem};

/// What the change-password form sends.
pub struct PasswordChange {
    pub current: SecretString,
    pub new: SecretString,
    pub confirm: SecretString,
}

/// Changes the signed-in operator's own password; ends their other sessions.
#[tracing::instrument(skip_all, fields(operator.id = session.operator_id))]
pub async fn change_password<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    cfg: &AuthConfig,
    session: &Session,
    change: PasswordChange,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let new = change.new.expose_secret();
    let mut errors: Vec<FieldError> = check_password(new)
        .into_iter()
        .map(|rule| FieldError::new("new_password", FieldProblem::Password(rule)))
        .collect();
    if change.current.expose_secret().is_empty() {
        errors.push(FieldError::new("current_password", FieldProblem::Required));
    }
    if new != change.confirm.expose_secret() {
        errors.push(FieldError::new(
            "confirm_password",
            FieldProblem::Password(PasswordRule::Mismatch),
        ));
    }
    if change.current.expose_secret().len() > 4 * MAX_LENGTH {
        errors.push(FieldError::new("current_password", FieldProblem::Format));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let operator = confirm_own_password(
        db,
        cfg,
        session,
        change.current,
        "current_password",
        AuditAction::PasswordChange,
        now,
    )
    .await?;
    let recent = recent_hashes(db, &operator).await?;
    let new_secret = SecretString::from(new.to_owned());
    if verify_bounded(cfg, new_secret, recent)
        .await?
        .into_iter()
        .any(|m| m)
    {
        return Err(AppError::invalid(
            "new_password",
            FieldProblem::Password(PasswordRule::RecentlyUsed),
        ));
    }
    let hash = hash_bounded(cfg, change.new).await?;

    let txn = begin_write(db).await?;
    operators::Entity::update_many()
        .col_expr(operators::Column::PasswordHash, Expr::value(hash.clone()))
        .col_expr(operators::Column::MustChangePassword, Expr::value(false))
        .col_expr(operators::Column::PasswordChangedAt, Expr::value(Some(now)))
        .col_expr(operators::Column::UpdatedAt, Expr::value(now))
        .filter(operators::Column::Id.eq(operator.id))
        .exec(&txn)
        .await?;
    remember_password(&txn, operator.id, hash, now).await?;
    let ended = end_operator_sessions(
        &txn,
        operator.id,
        Some(&session.token_hash),
        SessionEnd::PasswordChanged,
        now,
    )
    .await?;
    let entry = AuditEntry::new(
        session.actor(),
        AuditAction::PasswordChange,
        AuditOutcome::Success,
    )
    .object("operator", operator.id)
    .detail(json!({ "other_sessions_ended": ended }));
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    tracing::info!("password changed");
    Ok(())
}

/// Checks a signed-in operator's own password, asked again before a sensitive change (a new
/// password, a token). A wrong one counts toward the lockout exactly as at sign-in: otherwise a
/// session left open would let anyone guess the password without limit. The lock ends every session
/// of the operator, this one included. A refusal is recorded as a failed `action`; a wrong password
/// is a field error on `field`, the form's password field. Returns the operator as read for the
/// check.
pub async fn confirm_own_password<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    cfg: &AuthConfig,
    session: &Session,
    password: SecretString,
    field: &str,
    action: AuditAction,
    now: DateTime<Utc>,
) -> Result<operators::Model, AppError> {
    let operator = operators::Entity::find_by_id(session.operator_id)
        .one(db)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let Judged { judged, matched } =
        judge_attempt(db, cfg, Some(&operator), true, password, now).await?;
    if matched {
        operators::Entity::update_many()
            .col_expr(operators::Column::FailedLoginCount, Expr::value(0))
            .filter(operators::Column::Id.eq(operator.id))
            .exec(db)
            .await?;
        return Ok(operator);
    }
    let txn = begin_write(db).await?;
    let reason = if judged {
        "wrong_current_password"
    } else {
        "locked"
    };
    let entry = AuditEntry::new(session.actor(), action, AuditOutcome::Failure)
        .object("operator", operator.id)
        .detail(json!({ "reason": reason }));
    audit::append(&txn, entry, now).await?;
    let locked = judged && lock_at_limit(&txn, cfg, &operator, session.actor(), now).await?;
    if locked || !judged {
        end_operator_sessions(&txn, operator.id, None, SessionEnd::OperatorChanged, now).await?;
        txn.commit().await?;
        return Err(AppError::Unauthenticated);
    }
    txn.commit().await?;
    Err(AppError::invalid(field, FieldProblem::WrongPassword))
}

/// Adds a password hash to the operator's history.
pub async fn remember_password(
    txn: &impl ConnectionTrait,
    operator_id: i64,
    hash: String,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    password_history::ActiveModel {
        operator_id: Set(operator_id),
        password_hash: Set(hash),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await
    .map(drop)
}

/// The hashes of the last [`HISTORY_DEPTH`] passwords, the current one included.
pub(super) async fn recent_hashes(
    db: &impl ConnectionTrait,
    operator: &operators::Model,
) -> Result<Vec<String>, DbErr> {
    let mut hashes: Vec<String> = password_history::Entity::find()
        .filter(password_history::Column::OperatorId.eq(operator.id))
        .order_by_desc(password_history::Column::Id)
        .limit(HISTORY_DEPTH as u64)
        .all(db)
        .await?
        .into_iter()
        .map(|h| h.password_hash)
        .collect();
    if !hashes.contains(&operator.password_hash) {
        hashes.truncate(HISTORY_DEPTH - 1);
        hashes.insert(0, operator.password_hash.clone());
    }
    Ok(hashes)
}

/// A random 256-bit token as 64 hex digits.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A hash no password matches in practice, verified for unknown login names so that they cost the
/// same time as known ones.
pub(super) fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_password(&SecretString::from(random_token())).unwrap_or_else(|_| {
            // Same parameters as a real hash; the salt and digest are arbitrary.
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$\
             0lF2cCFl6ZlGYoGBqnPOCjmp6oUjkDbDYvFNf4Yx0Hk"
                .to_owned()
        })
    })
}

/// Whether the password matches the hash. Argon2 takes tens of milliseconds of CPU and 19 MiB:
/// callers run it through the throttle's password checks. An overlong password matches nothing and
/// costs nothing.
pub(super) fn matches(password: &SecretString, hash: &str) -> bool {
    password.expose_secret().len() <= 4 * MAX_LENGTH && verify_password(password, hash)
}

/// For each hash, whether the password matches it: one of the throttle's bounded checks.
pub(super) async fn verify_bounded(
    cfg: &AuthConfig,
    password: SecretString,
    hashes: Vec<String>,
) -> Result<Vec<bool>, AppError> {
    cfg.throttle
        .password_checks
        .run(move || hashes.iter().map(|h| matches(&password, h)).collect())
        .await
}

pub(super) async fn hash_bounded(
    cfg: &AuthConfig,
    password: SecretString,
) -> Result<String, AppError> {
    cfg.throttle
        .password_checks
        .run(move || hash_password(&password))
        .await?
        .map_err(|e| AppError::internal("hashing a password", &e))
}
