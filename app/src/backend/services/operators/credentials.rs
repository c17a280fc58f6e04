//! An operator's credentials: unlocking, a new one-time password, binding and unbinding certificates,
//! resetting the token.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait};
use secrecy::SecretString;
use serde_json::json;

use super::edit::commit_with_audit;
use super::view::own_operator;
use crate::backend::db::begin_write;
use crate::backend::entities::{operator_certificates, operators, totp_tokens};
use crate::backend::password::{generate_one_time_password, hash_password};
use crate::backend::services::auth::{end_operator_sessions, remember_password};
use crate::backend::Session;
use crate::domain::{AuditAction, CertFingerprint, SessionEnd};
use crate::error::{AppError, FieldProblem, Policy};

/// Lifts a lockout.
pub async fn unlock<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    session: &Session,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let txn = begin_write(db).await?;
    let op = own_operator(&txn, session, id).await?;
    let unlocked = crate::backend::services::auth::unlocking()
        .col_expr(operators::Column::UpdatedAt, Expr::value(now))
        .filter(operators::Column::Id.eq(op.id))
        .exec(&txn)
        .await?
        .rows_affected;
    if unlocked == 0 {
        return Err(AppError::Conflict);
    }
    commit_with_audit(
        txn,
        session,
        AuditAction::OperatorUnlock,
        op.id,
        json!({ "failed_login_count": op.failed_login_count }),
        now,
    )
    .await?;
    Ok(())
}

/// Gives an operator a new one-time password (changed at their next sign-in) and ends their sessions.
pub async fn reset_password<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    session: &Session,
    id: i64,
    now: DateTime<Utc>,
) -> Result<SecretString, AppError> {
    let password = generate_one_time_password();
    let hash =
        hash_password(&password).map_err(|e| AppError::internal("hashing a password", &e))?;
    let txn = begin_write(db).await?;
    let op = own_operator(&txn, session, id).await?;
    operators::Entity::update_many()
        .col_expr(operators::Column::PasswordHash, Expr::value(hash.clone()))
        .col_expr(operators::Column::MustChangePassword, Expr::value(true))
        .col_expr(operators::Column::UpdatedAt, Expr::value(now))
        .filter(operators::Column::Id.eq(op.id))
        .exec(&txn)
        .await?;
    remember_password(&txn, op.id, hash, now).await?;
    let keep = (op.id == session.operator_id).then_some(session.token_hash.as_str());
    let ended = end_operator_sessions(&txn, op.id, keep, SessionEnd::OperatorChanged, now).await?;
    commit_with_audit(
        txn,
        session,
        AuditAction::PasswordReset,
        op.id,
        json!({ "sessions_ended": ended }),
        now,
    )
    .await?;
    Ok(password)
}

/// Binds a certificate the console has seen (by its fingerprint) to an operator.
pub async fn bind_certificate<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    session: &Session,
    id: i64,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let fingerprint = CertFingerprint::parse(fingerprint)
        .map_err(|_| AppError::invalid("fingerprint", FieldProblem::Format))?;
    let txn = begin_write(db).await?;
    let op = own_operator(&txn, session, id).await?;
    let cert = operator_certificates::Entity::find()
        .filter(operator_certificates::Column::FingerprintSha256.eq(fingerprint.as_str()))
        .one(&txn)
        .await?
        .ok_or(AppError::Policy(Policy::CertificateUnknown))?;
    match cert.operator_id {
        Some(owner) if owner == op.id => return Ok(()),
        Some(_) => return Err(AppError::Policy(Policy::CertificateBoundElsewhere)),
        None => {}
    }
    if cert.revoked_at.is_some() || now < cert.not_before || now >= cert.not_after {
        return Err(AppError::Policy(Policy::CertificateNotValid));
    }
    // The platform issues an operator's certificate with their login name as its subject: one issued
    // for another merchant's operator (or for no one) is not this merchant's to bind. The answer is
    // the same whether the subject names another merchant's operator or nobody, so that it tells
    // nothing about other merchants' login names.
    let own_subject = operators::Entity::find()
        .filter(operators::Column::MerchantId.eq(session.merchant_id))
        .filter(operators::Column::LoginName.eq(cert.subject_cn.as_str()))
        .one(&txn)
        .await?
        .is_some();
    if !own_subject {
        return Err(AppError::Policy(Policy::CertificateNotForMerchant));
    }
    let bound = operator_certificates::Entity::update_many()
        .col_expr(
            operator_certificates::Column::OperatorId,
            Expr::value(Some(op.id)),
        )
        .col_expr(
            operator_certificates::Column::BoundAt,
            Expr::value(Some(now)),
        )
        .filter(operator_certificates::Column::Id.eq(cert.id))
        .filter(operator_certificates::Column::OperatorId.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    if bound == 0 {
        return Err(AppError::Conflict);
    }
    commit_with_audit(
        txn,
        session,
        AuditAction::CertificateBind,
        op.id,
        json!({ "fingerprint": fingerprint, "subject": cert.subject_cn }),
        now,
    )
    .await?;
    Ok(())
}

/// Unbinds a certificate from an operator; sessions opened with it end.
pub async fn unbind_certificate<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    session: &Session,
    id: i64,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let fingerprint = CertFingerprint::parse(fingerprint)
        .map_err(|_| AppError::invalid("fingerprint", FieldProblem::Format))?;
    let txn = begin_write(db).await?;
    let op = own_operator(&txn, session, id).await?;
    let unbound = operator_certificates::Entity::update_many()
        .col_expr(
            operator_certificates::Column::OperatorId,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(
            operator_certificates::Column::BoundAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(operator_certificates::Column::FingerprintSha256.eq(fingerprint.as_str()))
        .filter(operator_certificates::Column::OperatorId.eq(op.id))
        .exec(&txn)
        .await?
        .rows_affected;
    if unbound == 0 {
        return Err(AppError::NotFound);
    }
    let ended = crate::backend::entities::sessions::Entity::update_many()
        .col_expr(
            crate::backend::entities::sessions::Column::EndedAt,
            Expr::value(Some(now)),
        )
        .col_expr(
            crate::backend::entities::sessions::Column::EndReason,
            Expr::value(Some(SessionEnd::Certificate.code())),
        )
        .filter(
            crate::backend::entities::sessions::Column::CertFingerprint.eq(fingerprint.as_str()),
        )
        .filter(crate::backend::entities::sessions::Column::EndedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    commit_with_audit(
        txn,
        session,
        AuditAction::CertificateUnbind,
        op.id,
        json!({ "fingerprint": fingerprint, "sessions_ended": ended }),
        now,
    )
    .await?;
    Ok(())
}

/// Removes an operator's TOTP token: they enrol a new one.
pub async fn reset_token<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    session: &Session,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let txn = begin_write(db).await?;
    let op = own_operator(&txn, session, id).await?;
    let removed = totp_tokens::Entity::delete_many()
        .filter(totp_tokens::Column::OperatorId.eq(op.id))
        .exec(&txn)
        .await?
        .rows_affected;
    commit_with_audit(
        txn,
        session,
        AuditAction::TokenReset,
        op.id,
        json!({ "had_token": removed > 0 }),
        now,
    )
    .await?;
    Ok(())
}
