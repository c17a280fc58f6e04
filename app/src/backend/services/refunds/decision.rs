//! What happens to a request after it is made: the requester's cancellation and the approvers'
//! decisions, by the approval rules of [`crate::domain::refund::decide`].

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionSession, TransactionTrait,
};
use serde_json::json;

use super::form::TEXT_MAX;
use super::request::{record_step, release};
use crate::backend::audit::{self, AuditEntry};
use crate::backend::db::begin_write;
use crate::backend::entities::{operators, refund_requests};
use crate::backend::services::filters::FieldCheck;
use crate::backend::services::{decode, scope, token};
use crate::backend::token::TokenKey;
use crate::backend::{AuthConfig, Session};
use crate::contract::refunds::Decision;
use crate::domain::refund::{self, AwaitingDecision, DecisionRefusal, RefundEvent, RefundStatus};
use crate::domain::{AuditAction, AuditOutcome, Currency, Money};
use crate::error::{AppError, FieldProblem, Policy};

/// A request the session may see.
pub(super) async fn visible_request(
    db: &impl ConnectionTrait,
    session: &Session,
    id: i64,
) -> Result<refund_requests::Model, AppError> {
    refund_requests::Entity::find_by_id(id)
        .filter(scope::refund_requests(session))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

pub(super) fn status_of(r: &refund_requests::Model) -> Result<RefundStatus, AppError> {
    decode("refund_requests.status", &r.status, RefundStatus::from_code)
}

/// The requester withdraws a request that still waits for approval.
pub async fn cancel<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    session: &Session,
    id: i64,
    now: DateTime<Utc>,
) -> Result<RefundStatus, AppError> {
    let r = visible_request(db, session, id).await?;
    if r.requested_by != session.operator_id {
        return Err(AppError::Policy(Policy::NotTheRequester));
    }
    let from = status_of(&r)?;
    let to = from
        .apply(RefundEvent::Cancel)
        .map_err(|_| AppError::Policy(Policy::RefundStatusChanged))?;
    let txn = begin_write(db).await?;
    let changed = refund_requests::Entity::update_many()
        .col_expr(refund_requests::Column::Status, Expr::value(to.code()))
        .col_expr(refund_requests::Column::UpdatedAt, Expr::value(now))
        .filter(refund_requests::Column::Id.eq(r.id))
        .filter(refund_requests::Column::Status.eq(from.code()))
        .filter(refund_requests::Column::RequestedBy.eq(session.operator_id))
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    if !changed {
        txn.rollback().await?;
        return Err(AppError::Policy(Policy::RefundStatusChanged));
    }
    release(&txn, &r).await?;
    record_step(
        &txn,
        r.id,
        Some(from),
        to,
        Some(session.operator_id),
        None,
        now,
    )
    .await?;
    let entry = AuditEntry::new(
        session.actor(),
        AuditAction::RefundCancel,
        AuditOutcome::Success,
    )
    .object("refund_request", r.id)
    .detail(json!({ "amount_fen": r.amount_fen }));
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok(to)
}

/// What an approver sends.
pub struct DecisionInput {
    pub id: i64,
    pub decision: Decision,
    pub comment: String,
    pub code: String,
}

/// An approver approves or rejects a request waiting for approval, confirming with a fresh code of
/// their token. An approval within the approver's limit (or the second one of a request above the
/// first approver's limit) submits the refund; one above it waits for a second approver.
pub async fn decide<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    key: &TokenKey,
    cfg: &AuthConfig,
    session: &Session,
    input: DecisionInput,
    now: DateTime<Utc>,
) -> Result<RefundStatus, AppError> {
    let mut check = FieldCheck::new();
    let comment = check.text(&input.comment, TEXT_MAX);
    if input.decision == Decision::Reject && comment.is_none() {
        check.bad("comment", FieldProblem::Required);
    }
    check.finish()?;
    if !crate::backend::services::auth::merchant_active(db, session.merchant_id).await? {
        return Err(AppError::Policy(Policy::MerchantSuspended));
    }
    let r = visible_request(db, session, input.id).await?;
    let from = status_of(&r)?;
    let limit = operators::Entity::find_by_id(session.operator_id)
        .one(db)
        .await?
        .and_then(|o| o.refund_approval_limit_fen);
    let currency = decode("refund_requests.currency", &r.currency, |c| {
        Currency::parse(c).ok()
    })?;
    let request = AwaitingDecision {
        status: from,
        amount: Money::from_fen(r.amount_fen, currency),
        requested_by: r.requested_by,
        first_approver: r.approver_id,
    };
    let limit = limit.map(|l| Money::from_fen(l, session.currency));
    let plan = match refund::decide(request, session.operator_id, limit, input.decision) {
        Ok(plan) => plan,
        Err(DecisionRefusal::OwnRequest) => {
            let entry = AuditEntry::new(
                session.actor(),
                AuditAction::RefundApprove,
                AuditOutcome::Denied,
            )
            .object("refund_request", r.id)
            .detail(json!({ "reason": "own_request" }));
            if let Err(error) = audit::record(db, entry, now).await {
                tracing::error!(error = %crate::error::source_chain(&error), "recording a refused decision failed");
            }
            return Err(AppError::Policy(Policy::OwnRefund));
        }
        Err(DecisionRefusal::NotPending) => {
            return Err(AppError::Policy(Policy::RefundStatusChanged))
        }
        Err(DecisionRefusal::SecondApproverNeeded) => {
            return Err(AppError::Policy(Policy::SecondApproverNeeded))
        }
    };
    let action = match input.decision {
        Decision::Approve => "refund.approve",
        Decision::Reject => "refund.reject",
    };
    token::require_fresh_code(db, key, cfg, session, &input.code, action, now).await?;
    let (steps, first_of_two, to) = (&plan.steps, plan.first_of_two, plan.to());

    let txn = begin_write(db).await?;
    use refund_requests::Column as R;
    let mut update = refund_requests::Entity::update_many()
        .col_expr(R::Status, Expr::value(to.code()))
        .col_expr(R::UpdatedAt, Expr::value(now))
        .filter(R::Id.eq(r.id))
        .filter(R::Status.eq(from.code()))
        .filter(R::RequestedBy.ne(session.operator_id));
    update = match r.approver_id {
        // Nobody approved yet: this operator is the (first) approver.
        None => update
            .col_expr(R::ApproverId, Expr::value(Some(session.operator_id)))
            .filter(R::ApproverId.is_null()),
        // The second decision, by another approver.
        Some(first) => update
            .col_expr(R::SecondApproverId, Expr::value(Some(session.operator_id)))
            .filter(R::ApproverId.eq(first))
            .filter(R::SecondApproverId.is_null()),
    };
    if !first_of_two {
        update = update
            .col_expr(R::DecidedAt, Expr::value(Some(now)))
            .col_expr(R::DecisionComment, Expr::value(comment.clone()));
    }
    if to == RefundStatus::Submitted {
        update = update.col_expr(R::SubmittedAt, Expr::value(Some(now)));
    }
    let changed = update.exec(&txn).await?.rows_affected == 1;
    if !changed {
        txn.rollback().await?;
        return Err(AppError::Policy(Policy::RefundStatusChanged));
    }
    if to == RefundStatus::Rejected {
        release(&txn, &r).await?;
    }
    let mut previous = from;
    for (i, step) in steps.iter().enumerate() {
        // The decision carries the comment; the hand-over to clearing follows it.
        let said = if i == 0 { comment.clone() } else { None };
        let by = Some(session.operator_id);
        record_step(&txn, r.id, Some(previous), *step, by, said, now).await?;
        previous = *step;
    }
    let audit_action = match input.decision {
        Decision::Approve => AuditAction::RefundApprove,
        Decision::Reject => AuditAction::RefundReject,
    };
    let entry = AuditEntry::new(session.actor(), audit_action, AuditOutcome::Success)
        .object("refund_request", r.id)
        .detail(json!({
            "amount_fen": r.amount_fen,
            "status": to.code(),
            "second_approver_needed": first_of_two}));
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok(to)
}
