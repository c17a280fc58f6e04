//! Sending a fast refund: idempotent under the operator's key, checked against the agreement, the
//! card's bank and the refund policy, and the amounts taken by the guards every refund goes through
//! (the original's refundable amount and the merchant's daily quota, shared with normal refunds).

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set, TransactionSession, TransactionTrait};
use serde_json::json;

use super::form::{check_bank, due_of, refusal_of, NewFastRefund};
use crate::backend::audit::{self, AuditEntry};
use crate::backend::db::begin_write;
use crate::backend::entities::{fast_refund_events, fast_refunds};
use crate::backend::services::refunds::{
    merchant_policy, refuse, take_quota, take_refundable, today, Counted,
};
use crate::backend::services::transactions::visible;
use crate::backend::services::{idempotency, token};
use crate::backend::token::TokenKey;
use crate::backend::{AuthConfig, FastRefundConfig, Session};
use crate::contract::fast_refunds::FastRefundCreated;
use crate::domain::fast_refund::FastRefundStatus;
use crate::domain::{AuditAction, AuditOutcome};
use crate::error::AppError;

/// Sends a fast refund of `new.amount` of transaction `new.txn_id` to the cardholder's bank.
pub async fn request<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    key: &TokenKey,
    cfg: &AuthConfig,
    config: &FastRefundConfig,
    session: &Session,
    new: NewFastRefund,
    now: DateTime<Utc>,
) -> Result<FastRefundCreated, AppError> {
    let hash = new.hash();
    if let Some(answer) = idempotency::stored(db, session, &new.key, &hash).await? {
        return Ok(answer);
    }
    // Each refusal is recorded before it is told.
    let asked = (new.txn_id, new.amount);
    let refused = |refusal| {
        refuse(
            db,
            session,
            AuditAction::FastRefundRequest,
            asked,
            refusal,
            now,
        )
    };
    let merchant = merchant_policy(db, session).await?;
    let t = visible(db, session, new.txn_id).await?;
    if let Some(refusal) = refusal_of(db, session, &merchant, &t, new.amount, now).await? {
        return Err(refused(refusal).await);
    }
    check_bank(&new.cardholder, &t)?;
    if merchant.requires_token {
        token::require_fresh_code(db, key, cfg, session, &new.code, "fast_refund.request", now)
            .await?;
    }

    let txn = begin_write(db).await?;
    if !idempotency::claim(&txn, session, &new.key, &hash, now).await? {
        // A concurrent submission with the key committed first: its answer stands.
        txn.rollback().await?;
        return idempotency::stored(db, session, &new.key, &hash)
            .await?
            .ok_or(AppError::Conflict);
    }
    let amount = new.amount.fen();
    let day = today(session, now);
    if let Err(refusal) = take_refundable(&txn, t.id, amount, Counted::Pending).await? {
        txn.rollback().await?;
        return Err(refused(refusal).await);
    }
    let quota = merchant.policy.daily_quota.fen();
    if let Err(refusal) = take_quota(&txn, session.merchant_id, day, amount, quota).await? {
        txn.rollback().await?;
        return Err(refused(refusal).await);
    }
    let due = due_of(session, now, &config.holidays);
    let item = insert(&txn, session, &new, t.id, None, due, day, now).await?;
    let answer = FastRefundCreated {
        id: item.id,
        status: FastRefundStatus::Processing,
        due_date: due.to_string(),
    };
    idempotency::answer(&txn, session, &new.key, &answer).await?;
    let entry = AuditEntry::new(
        session.actor(),
        AuditAction::FastRefundRequest,
        AuditOutcome::Success,
    )
    .object("fast_refund", item.id)
    .detail(json!({
        "txn_id": t.id,
        "amount_fen": amount,
        "bank": new.cardholder.bank.code(),
        "branch": new.cardholder.branch.code,
        "id": new.cardholder.id.masked()}));
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok(answer)
}

/// Writes a new item in processing, with the first step of its history. The amounts are taken
/// already, in the same transaction `txn`.
#[allow(clippy::too_many_arguments)]
pub(super) async fn insert(
    txn: &impl ConnectionTrait,
    session: &Session,
    new: &NewFastRefund,
    original_txn_id: i64,
    batch_id: Option<i64>,
    due: chrono::NaiveDate,
    quota_day: chrono::NaiveDate,
    now: DateTime<Utc>,
) -> Result<fast_refunds::Model, AppError> {
    let c = &new.cardholder;
    let item = fast_refunds::ActiveModel {
        merchant_id: Set(session.merchant_id),
        original_txn_id: Set(original_txn_id),
        batch_id: Set(batch_id),
        amount_fen: Set(new.amount.fen()),
        currency: Set(new.amount.currency().code().to_owned()),
        cardholder_name: Set(c.name.as_str().to_owned()),
        id_type: Set(c.id.id_type().code().to_owned()),
        id_number: Set(c.id.full().to_owned()),
        bank_code: Set(c.bank.code().to_owned()),
        province: Set(c.province.clone()),
        city: Set(c.branch.city.to_owned()),
        branch: Set(c.branch.code.clone()),
        reason: Set(new.reason.clone()),
        status: Set(FastRefundStatus::Processing.code().to_owned()),
        due_date: Set(due),
        resubmission_count: Set(0),
        requested_by: Set(session.operator_id),
        requested_at: Set(now),
        updated_at: Set(now),
        quota_day: Set(Some(quota_day)),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    record_step(
        txn,
        item.id,
        None,
        FastRefundStatus::Processing,
        Some(session.operator_id),
        None,
        now,
    )
    .await?;
    Ok(item)
}

/// Appends a step to an item's history.
pub(super) async fn record_step(
    txn: &impl ConnectionTrait,
    item_id: i64,
    from: Option<FastRefundStatus>,
    to: FastRefundStatus,
    operator_id: Option<i64>,
    comment: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    fast_refund_events::ActiveModel {
        fast_refund_id: Set(item_id),
        from_status: Set(from.map(|s| s.code().to_owned())),
        to_status: Set(to.code().to_owned()),
        operator_id: Set(operator_id),
        comment: Set(comment),
        occurred_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}
