//! Operators' TOTP tokens: enrolment, and the one check that later features call to demand a fresh
//! code for an action ([`require_fresh_code`]).
//!
//! Every check runs in one write transaction that first locks the operator's token row, so concurrent
//! requests with the same code are decided one after the other: the first moves `last_used_step` to
//! the code's step and every later one finds the code used. Wrong codes are counted; at the limit the
//! token locks for a while. Each decision is written to the audit log in the same transaction.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
    TransactionSession, TransactionTrait,
};
use serde_json::json;

use secrecy::{ExposeSecret, SecretString};

use super::auth;
use crate::backend::audit::{self, AuditEntry};
use crate::backend::db::begin_write;
use crate::backend::entities::totp_tokens;
use crate::backend::local_time;
use crate::backend::token::{self as totp, TokenKey};
use crate::backend::{AuthConfig, Session};
use crate::contract::token::{Enrolment, TokenState, TokenView};
use crate::domain::{AuditAction, AuditOutcome, TokenCode, TokenStatus};
use crate::error::{AppError, FieldProblem, Policy};

/// The name authenticator apps show above the code.
pub const ISSUER: &str = "VPOS";

const PENDING: &str = TokenStatus::Pending.code();
const ACTIVE: &str = TokenStatus::Active.code();

/// The operator's token as their "My token" page shows it.
pub async fn my_token(
    db: &impl ConnectionTrait,
    session: &Session,
    now: DateTime<Utc>,
) -> Result<TokenView, AppError> {
    let row = totp_tokens::Entity::find_by_id(session.operator_id)
        .one(db)
        .await?;
    let Some(row) = row else {
        return Ok(TokenView {
            state: TokenState::None,
            enrolled_at: None,
            locked_until: None,
        });
    };
    let locked_until = row.locked_until.filter(|until| *until > now);
    let state = match (row.status.as_str(), locked_until) {
        (ACTIVE, Some(_)) => TokenState::Locked,
        (ACTIVE, None) => TokenState::Active,
        _ => TokenState::None,
    };
    Ok(TokenView {
        state,
        enrolled_at: row
            .enrolled_at
            .filter(|_| row.status == ACTIVE)
            .map(|at| local_time::minutes(at, session.tz)),
        locked_until: locked_until.map(|at| local_time::minutes(at, session.tz)),
    })
}

/// Starts (or starts again) an enrolment: a new secret, sealed and stored as pending, returned this
/// once as a QR code and as text. Refused while an enrolled token exists: an administrator resets it.
/// The operator's password is asked again first: whoever enrols the token holds the second factor of
/// the account, so an unattended open session must not be enough.
pub async fn begin_enrolment<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    key: &TokenKey,
    cfg: &AuthConfig,
    session: &Session,
    password: SecretString,
    now: DateTime<Utc>,
) -> Result<Enrolment, AppError> {
    if password.expose_secret().is_empty() {
        return Err(AppError::invalid("password", FieldProblem::Required));
    }
    auth::confirm_own_password(
        db,
        cfg,
        session,
        password,
        "password",
        AuditAction::TokenEnrol,
        now,
    )
    .await?;
    let txn = begin_write(db).await?;
    let existing = totp_tokens::Entity::find_by_id(session.operator_id)
        .one(&txn)
        .await?;
    if existing.as_ref().is_some_and(|t| t.status == ACTIVE) {
        return Err(AppError::Policy(Policy::TokenAlreadyEnrolled));
    }
    let secret = totp::new_secret();
    let sealed = key
        .seal(session.operator_id, &secret)
        .map_err(|e| AppError::internal("sealing a token secret", &e))?;
    if existing.is_some() {
        totp_tokens::Entity::delete_by_id(session.operator_id)
            .exec(&txn)
            .await?;
    }
    totp_tokens::ActiveModel {
        operator_id: Set(session.operator_id),
        secret_ciphertext: Set(sealed),
        status: Set(PENDING.to_owned()),
        created_at: Set(now),
        enrolled_at: Set(None),
        last_used_step: Set(None),
        failed_count: Set(0),
        locked_until: Set(None),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    let uri = totp::otpauth_uri(ISSUER, &session.login_name, &secret);
    Ok(Enrolment {
        qr_svg: totp::qr_svg(&uri),
        secret: totp::secret_for_typing(&secret),
        account: session.login_name.clone(),
        issuer: ISSUER.to_owned(),
    })
}

/// Finishes an enrolment with the first code the operator's app shows.
pub async fn confirm_enrolment<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    key: &TokenKey,
    cfg: &AuthConfig,
    session: &Session,
    code: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    check_code(db, key, cfg, session, code, Purpose::Enrolment, now).await
}

/// Demands a fresh code of the operator's enrolled token for `action` (e.g. `"refund.approve"`): the
/// code must be right and never used before. The one place later features call.
pub async fn require_fresh_code<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    key: &TokenKey,
    cfg: &AuthConfig,
    session: &Session,
    code: &str,
    action: &'static str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    check_code(db, key, cfg, session, code, Purpose::Action(action), now).await
}

#[derive(Debug, Clone, Copy)]
enum Purpose {
    Enrolment,
    Action(&'static str),
}

impl Purpose {
    fn status(self) -> &'static str {
        match self {
            Purpose::Enrolment => PENDING,
            Purpose::Action(_) => ACTIVE,
        }
    }

    fn audit_action(self) -> AuditAction {
        match self {
            Purpose::Enrolment => AuditAction::TokenEnrol,
            Purpose::Action(_) => AuditAction::TokenCheck,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Purpose::Enrolment => "enrolment",
            Purpose::Action(action) => action,
        }
    }
}

async fn check_code<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    key: &TokenKey,
    cfg: &AuthConfig,
    session: &Session,
    code: &str,
    purpose: Purpose,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let Ok(code) = TokenCode::parse(code) else {
        return Err(AppError::invalid("code", FieldProblem::Format));
    };
    let operator_id = session.operator_id;
    let txn = begin_write(db).await?;
    // Lock the row: concurrent checks of one operator's token are decided one at a time.
    let locked_row = totp_tokens::Entity::update_many()
        .col_expr(
            totp_tokens::Column::FailedCount,
            Expr::col(totp_tokens::Column::FailedCount),
        )
        .filter(totp_tokens::Column::OperatorId.eq(operator_id))
        .filter(totp_tokens::Column::Status.eq(purpose.status()))
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    let row = if locked_row {
        totp_tokens::Entity::find_by_id(operator_id)
            .one(&txn)
            .await?
    } else {
        None
    };
    let Some(row) = row else {
        return Err(AppError::Policy(Policy::TokenNotEnrolled));
    };

    let verdict = if row.locked_until.is_some_and(|until| until > now) {
        Verdict::Locked
    } else {
        let secret = key.open(operator_id, &row.secret_ciphertext).map_err(|e| {
            AppError::internal("opening a token secret (was the token key replaced?)", &e)
        })?;
        match totp::matching_step(&secret, code.as_str(), now.timestamp()) {
            None => {
                let failures = row.failed_count + 1;
                Verdict::Wrong {
                    failures,
                    lock_until: (failures >= cfg.token_max_failures)
                        .then_some(now + cfg.token_lockout),
                }
            }
            Some(step) if row.last_used_step.is_some_and(|last| last >= step) => Verdict::Replay,
            Some(step) => Verdict::Accepted(step),
        }
    };

    let update =
        totp_tokens::Entity::update_many().filter(totp_tokens::Column::OperatorId.eq(operator_id));
    match verdict {
        Verdict::Wrong {
            failures,
            lock_until,
        } => {
            // At the limit the count starts again, for when the lock has run out.
            let count = if lock_until.is_some() { 0 } else { failures };
            update
                .col_expr(totp_tokens::Column::FailedCount, Expr::value(count))
                .col_expr(totp_tokens::Column::LockedUntil, Expr::value(lock_until))
                .exec(&txn)
                .await?;
            if lock_until.is_some() {
                tracing::warn!(operator.id = operator_id, failures, "token locked");
            }
        }
        Verdict::Accepted(step) => {
            let mut update = update
                .col_expr(totp_tokens::Column::LastUsedStep, Expr::value(Some(step)))
                .col_expr(totp_tokens::Column::FailedCount, Expr::value(0))
                .col_expr(
                    totp_tokens::Column::LockedUntil,
                    Expr::value(Option::<DateTime<Utc>>::None),
                );
            if let Purpose::Enrolment = purpose {
                update = update
                    .col_expr(totp_tokens::Column::Status, Expr::value(ACTIVE))
                    .col_expr(totp_tokens::Column::EnrolledAt, Expr::value(Some(now)));
            }
            update.exec(&txn).await?;
        }
        Verdict::Locked | Verdict::Replay => {}
    }

    let (outcome, detail, answer) = match verdict {
        Verdict::Accepted(_) => (AuditOutcome::Success, json!({}), Ok(())),
        Verdict::Locked => (
            AuditOutcome::Failure,
            json!({ "reason": "locked" }),
            Err(AppError::Policy(Policy::TokenLocked)),
        ),
        Verdict::Replay => (
            AuditOutcome::Failure,
            json!({ "reason": "replay" }),
            Err(AppError::invalid("code", FieldProblem::CodeUsed)),
        ),
        Verdict::Wrong {
            failures,
            lock_until: Some(until),
        } => (
            AuditOutcome::Failure,
            json!({ "reason": "wrong", "failures": failures, "locked_until": until }),
            Err(AppError::Policy(Policy::TokenLocked)),
        ),
        Verdict::Wrong {
            failures,
            lock_until: None,
        } => (
            AuditOutcome::Failure,
            json!({ "reason": "wrong", "failures": failures }),
            Err(AppError::invalid("code", FieldProblem::CodeWrong)),
        ),
    };
    let mut detail = detail;
    detail["purpose"] = json!(purpose.label());
    let entry = AuditEntry::new(session.actor(), purpose.audit_action(), outcome)
        .object("operator", operator_id)
        .detail(detail);
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    answer
}

/// What a check decided, before it is written.
#[derive(Debug, Clone, Copy)]
enum Verdict {
    /// Locked after wrong codes; nothing is checked.
    Locked,
    /// Not a code of the accepted steps; `lock_until` when this one reaches the limit.
    Wrong {
        failures: i32,
        lock_until: Option<DateTime<Utc>>,
    },
    /// A code of a step already used (or older).
    Replay,
    Accepted(i64),
}
