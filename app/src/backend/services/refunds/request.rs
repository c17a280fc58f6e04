//! Making a refund request: idempotent under the operator's key, checked against the policy, and the
//! amounts guarded by one conditional statement each; the request's history and what a request that
//! stops counting gives back.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
    TransactionSession, TransactionTrait,
};
use serde_json::json;

use super::form::{merchant_policy, original_of, quota_used, today, NewRefund};
use crate::backend::audit::{self, AuditEntry};
use crate::backend::db::begin_write;
use crate::backend::entities::{refund_events, refund_quota_days, refund_requests, transactions};
use crate::backend::services::transactions::visible;
use crate::backend::services::{idempotency, token};
use crate::backend::token::TokenKey;
use crate::backend::{AuthConfig, Session};
use crate::contract::refunds::RefundCreated;
use crate::domain::refund::{check_request, RefundRefusal, RefundStatus};
use crate::domain::{AuditAction, AuditOutcome, Money, TxnStatus};
use crate::error::AppError;

/// Requests a refund of `new.amount` of transaction `new.txn_id`.
pub async fn request<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    key: &TokenKey,
    cfg: &AuthConfig,
    session: &Session,
    new: NewRefund,
    now: DateTime<Utc>,
) -> Result<RefundCreated, AppError> {
    let hash = new.hash();
    if let Some(answer) = idempotency::stored(db, session, &new.key, &hash).await? {
        return Ok(answer);
    }
    // Each refusal is recorded before it is told.
    let asked = (new.txn_id, new.amount);
    let refused = |refusal| refuse(db, session, AuditAction::RefundRequest, asked, refusal, now);
    let merchant = merchant_policy(db, session).await?;
    let t = visible(db, session, new.txn_id).await?;
    let day = today(session, now);
    let used = quota_used(db, session.merchant_id, day).await?;
    let original = original_of(&t, session)?;
    let used_today = Money::from_fen(used, merchant.policy.daily_quota.currency());
    if let Err(refusal) = check_request(&original, new.amount, &merchant.policy, used_today, day) {
        return Err(refused(refusal).await);
    }
    if merchant.requires_token {
        token::require_fresh_code(db, key, cfg, session, &new.code, "refund.request", now).await?;
    }

    let txn = begin_write(db).await?;
    let key_taken = !idempotency::claim(&txn, session, &new.key, &hash, now).await?;
    if key_taken {
        // A concurrent submission with the key committed first: its answer stands.
        txn.rollback().await?;
        return idempotency::stored(db, session, &new.key, &hash)
            .await?
            .ok_or(AppError::Conflict);
    }

    let amount = new.amount.fen();
    if let Err(refusal) = take_refundable(&txn, t.id, amount, Counted::Pending).await? {
        txn.rollback().await?;
        return Err(refused(refusal).await);
    }

    let quota = merchant.policy.daily_quota.fen();
    if let Err(refusal) = take_quota(&txn, session.merchant_id, day, amount, quota).await? {
        txn.rollback().await?;
        return Err(refused(refusal).await);
    }

    let status = RefundStatus::initial(merchant.mode);
    let request = refund_requests::ActiveModel {
        merchant_id: Set(session.merchant_id),
        original_txn_id: Set(t.id),
        amount_fen: Set(amount),
        currency: Set(new.amount.currency().code().to_owned()),
        reason_code: Set(new.reason.code().to_owned()),
        reason_text: Set(new.reason_text.clone()),
        status: Set(status.code().to_owned()),
        requested_by: Set(session.operator_id),
        requested_at: Set(now),
        submitted_at: Set((status == RefundStatus::Submitted).then_some(now)),
        updated_at: Set(now),
        quota_day: Set(Some(day)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    record_step(
        &txn,
        request.id,
        None,
        status,
        Some(session.operator_id),
        None,
        now,
    )
    .await?;
    let answer = RefundCreated {
        id: request.id,
        status,
    };
    idempotency::answer(&txn, session, &new.key, &answer).await?;
    let entry = AuditEntry::new(
        session.actor(),
        AuditAction::RefundRequest,
        AuditOutcome::Success,
    )
    .object("refund_request", request.id)
    .detail(json!({
        "txn_id": t.id,
        "amount_fen": amount,
        "reason": new.reason.code(),
        "status": status.code()}));
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok(answer)
}

/// Where a refund's amount is counted on its original.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Counted {
    /// On its way: a console refund until clearing pays it.
    Pending,
    /// Given back already: a refund or void made at the terminal.
    Refunded,
}

/// Counts `amount` of a refund on its original `txn_id`, in one conditional statement, if what is
/// refunded and on its way stays within the original's amount (the database's check constraint says
/// the same): the one guard of every refund, however made, against concurrent ones. Otherwise what
/// is left now, as the refusal.
pub(crate) async fn take_refundable(
    db: &impl ConnectionTrait,
    txn_id: i64,
    amount: i64,
    counted: Counted,
) -> Result<Result<(), RefundRefusal>, DbErr> {
    let column = match counted {
        Counted::Pending => transactions::Column::RefundPendingFen,
        Counted::Refunded => transactions::Column::RefundedFen,
    };
    let taken = transactions::Entity::update_many()
        .col_expr(column, Expr::col(column).add(amount))
        .filter(transactions::Column::Id.eq(txn_id))
        .filter(transactions::Column::Status.eq(TxnStatus::Success.code()))
        .filter(
            Expr::col(transactions::Column::RefundedFen)
                .add(Expr::col(transactions::Column::RefundPendingFen))
                .add(amount)
                .lte(Expr::col(transactions::Column::AmountFen)),
        )
        .exec(db)
        .await?
        .rows_affected
        == 1;
    if taken {
        return Ok(Ok(()));
    }
    let now_left = transactions::Entity::find_by_id(txn_id)
        .one(db)
        .await?
        .map_or(0, |t| {
            std::cmp::max(t.amount_fen - t.refunded_fen - t.refund_pending_fen, 0)
        });
    Ok(Err(RefundRefusal::MoreThanRefundable {
        refundable_fen: now_left,
    }))
}

/// Counts `amount` on merchant `merchant_id`'s refunds of `day`, in one conditional statement, if
/// the day's refunds stay within `quota`: the one guard of the daily quota for every refund made in
/// the console, against concurrent ones. Otherwise what is left of the day's quota, as the refusal.
pub(crate) async fn take_quota(
    db: &impl ConnectionTrait,
    merchant_id: i64,
    day: chrono::NaiveDate,
    amount: i64,
    quota: i64,
) -> Result<Result<(), RefundRefusal>, AppError> {
    let used = Expr::col((
        refund_quota_days::Entity,
        refund_quota_days::Column::UsedFen,
    ));
    let taken = amount <= quota
        && refund_quota_days::Entity::insert(refund_quota_days::ActiveModel {
            merchant_id: Set(merchant_id),
            day: Set(day),
            used_fen: Set(amount),
        })
        .on_conflict(
            OnConflict::columns([
                refund_quota_days::Column::MerchantId,
                refund_quota_days::Column::Day,
            ])
            .value(refund_quota_days::Column::UsedFen, used.clone().add(amount))
            .action_and_where(used.add(amount).lte(quota))
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?
            == 1;
    if taken {
        return Ok(Ok(()));
    }
    let used = quota_used(db, merchant_id, day).await?;
    Ok(Err(RefundRefusal::OverDailyQuota {
        left_fen: std::cmp::max(quota - used, 0),
    }))
}

/// Records a refused refund or fast refund (the audit `action`, the transaction and amount asked)
/// and gives the refusal to return.
pub(crate) async fn refuse<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    session: &Session,
    action: AuditAction,
    (txn_id, amount): (i64, crate::domain::Money),
    refusal: RefundRefusal,
    now: DateTime<Utc>,
) -> AppError {
    let entry = AuditEntry::new(session.actor(), action, AuditOutcome::Failure)
        .object("transaction", txn_id)
        .detail(json!({ "amount_fen": amount.fen(), "refused": refusal.to_string() }));
    if let Err(error) = audit::record(db, entry, now).await {
        tracing::error!(
            error = %crate::error::source_chain(&error),
            action = action.code(),
            "recording a refused refund failed"
        );
    }
    AppError::Refund(refusal)
}

/// Appends a step to a request's history.
pub(super) async fn record_step(
    txn: &impl ConnectionTrait,
    request_id: i64,
    from: Option<RefundStatus>,
    to: RefundStatus,
    operator_id: Option<i64>,
    comment: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    refund_events::ActiveModel {
        refund_request_id: Set(request_id),
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

/// Gives a request's amount back to its transaction and to its day's quota: it no longer counts.
pub(super) async fn release(
    txn: &impl ConnectionTrait,
    r: &refund_requests::Model,
) -> Result<(), AppError> {
    give_back(
        txn,
        r.merchant_id,
        r.original_txn_id,
        r.amount_fen,
        r.quota_day,
    )
    .await
}

/// Gives `amount` of a refund on its way back to its original `txn_id` and to the merchant's
/// `quota_day`: the refund (normal or fast) no longer counts.
pub(crate) async fn give_back(
    txn: &impl ConnectionTrait,
    merchant_id: i64,
    txn_id: i64,
    amount: i64,
    quota_day: Option<chrono::NaiveDate>,
) -> Result<(), AppError> {
    transactions::Entity::update_many()
        .col_expr(
            transactions::Column::RefundPendingFen,
            Expr::col(transactions::Column::RefundPendingFen).sub(amount),
        )
        .filter(transactions::Column::Id.eq(txn_id))
        .exec(txn)
        .await?;
    if let Some(day) = quota_day {
        refund_quota_days::Entity::update_many()
            .col_expr(
                refund_quota_days::Column::UsedFen,
                Expr::col(refund_quota_days::Column::UsedFen).sub(amount),
            )
            .filter(refund_quota_days::Column::MerchantId.eq(merchant_id))
            .filter(refund_quota_days::Column::Day.eq(day))
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// Moves `amount` of a refund on its way to what is refunded of its original `txn_id`: the
/// cardholder has it back. It keeps counting on the day's quota.
pub(crate) async fn count_refunded(
    txn: &impl ConnectionTrait,
    txn_id: i64,
    amount: i64,
) -> Result<(), AppError> {
    let moved = transactions::Entity::update_many()
        .col_expr(
            transactions::Column::RefundPendingFen,
            Expr::col(transactions::Column::RefundPendingFen).sub(amount),
        )
        .col_expr(
            transactions::Column::RefundedFen,
            Expr::col(transactions::Column::RefundedFen).add(amount),
        )
        .filter(transactions::Column::Id.eq(txn_id))
        .filter(transactions::Column::RefundPendingFen.gte(amount))
        .exec(txn)
        .await?
        .rows_affected;
    if moved != 1 {
        return Err(AppError::internal(
            "counting a paid refund",
            &NotInFlight { txn_id, amount },
        ));
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
#[error("transaction {txn_id} has no {amount} fen of refunds on their way")]
struct NotInFlight {
    txn_id: i64,
    amount: i64,
}
