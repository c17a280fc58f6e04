//! Refund requests (manual §3.4): the form of a transaction, the request, its cancellation, the
//! approvers' decisions and the request query.
//!
//! The amounts are guarded where they are written (invariants 1 and 2), each by one
//! conditional statement in the request's transaction: the original transaction's `refund_pending_fen`
//! grows only while refunded + in flight stays within its amount (the table's CHECK says so too), and
//! the merchant's day in `refund_quota_days` grows only while it stays within the quota. Concurrent
//! requests are thus decided by the database; [`check_request`] before them gives the reason in words.
//! A request that stops counting (rejected, cancelled) gives both amounts back in the transaction
//! that changes its status. Every status change goes through [`RefundStatus::apply`], is a
//! conditional update on the status read (a concurrent change makes it touch no row: refused), and
//! writes a `refund_events` row and an audit record.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionSession, TransactionTrait,
};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::filters::{cursor_text, local_midnight, FieldCheck};
use super::transactions::{local_time, row_of, visible};
use super::{decode, scope, token};
use crate::backend::audit::{self, AuditEntry};
use crate::backend::db::begin_write;
use crate::backend::entities::{
    idempotency_keys, merchants, operators, refund_events, refund_quota_days, refund_requests,
    transactions,
};
use crate::backend::token::TokenKey;
use crate::backend::{AuthConfig, Session};
use crate::contract::refunds::{
    Decision, HeldSums, RefundCreated, RefundFilter, RefundFormView, RefundPage,
    RefundRequestInput, RefundRow, RefundStep, RefundView, DEFAULT_PAGE_SIZE, PAGE_SIZES,
};
use crate::domain::access::Function;
use crate::domain::refund::{
    check_request, needs_second_approval, Original, RefundEvent, RefundPolicy, RefundReason,
    RefundRefusal, RefundStatus,
};
use crate::domain::{
    AuditAction, AuditOutcome, Currency, MerchantStatus, Money, RefundMode, TxnStatus, TxnType,
};
use crate::error::{AppError, FieldProblem, Policy};

/// The longest reason or comment kept, in characters.
const TEXT_MAX: usize = 200;

/// A refund request, checked field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefund {
    pub txn_id: i64,
    pub amount: Money,
    pub reason: RefundReason,
    pub reason_text: Option<String>,
    pub key: String,
    pub code: String,
}

impl NewRefund {
    pub fn parse(input: &RefundRequestInput) -> Result<Self, AppError> {
        let mut check = FieldCheck::new();
        if input.txn_id <= 0 {
            check.bad("txn_id", FieldProblem::Format);
        }
        // Sub-fen digits, letters, a sign: a format error; zero is the policy's refusal below.
        let amount = match input.amount.trim() {
            "" => {
                check.bad("amount", FieldProblem::Required);
                None
            }
            text => {
                let parsed = Money::parse(text, Currency::Cny).ok();
                if parsed.is_none() {
                    check.bad("amount", FieldProblem::Format);
                }
                parsed
            }
        };
        let reason = match input.reason.trim() {
            "" => {
                check.bad("reason", FieldProblem::Required);
                None
            }
            code => check.code("reason", code, RefundReason::from_code),
        };
        let reason_text = check.text(&input.reason_text, TEXT_MAX);
        if reason == Some(RefundReason::Other) && reason_text.is_none() {
            check.bad("reason_text", FieldProblem::Required);
        }
        let key = input.key.trim();
        let key_ok = (8..=128).contains(&key.len())
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !key_ok {
            check.bad("key", FieldProblem::Format);
        }
        check.finish()?;
        match (amount, reason) {
            (Some(amount), Some(reason)) => Ok(Self {
                txn_id: input.txn_id,
                amount,
                reason,
                reason_text,
                key: key.to_owned(),
                code: input.code.clone(),
            }),
            _ => Err(AppError::invalid("amount", FieldProblem::Format)),
        }
    }

    /// SHA-256 of what the request asks for (not the token code, which a retry may not repeat).
    fn hash(&self) -> String {
        let canonical = json!({
            "txn_id": self.txn_id,
            "amount_fen": self.amount.fen(),
            "currency": self.amount.currency().code(),
            "reason": self.reason.code(),
            "reason_text": self.reason_text,
        });
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }
}

/// The merchant's refund settings.
struct MerchantPolicy {
    mode: RefundMode,
    requires_token: bool,
    policy: RefundPolicy,
    window_days: i32,
}

async fn merchant_policy(
    db: &impl ConnectionTrait,
    session: &Session,
) -> Result<MerchantPolicy, AppError> {
    let m = merchants::Entity::find_by_id(session.merchant_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    if m.status != MerchantStatus::Active.code() {
        return Err(AppError::Policy(Policy::MerchantSuspended));
    }
    let currency = decode("merchants.currency", &m.currency, |c| {
        Currency::parse(c).ok()
    })?;
    Ok(MerchantPolicy {
        mode: decode(
            "merchants.refund_mode",
            &m.refund_mode,
            RefundMode::from_code,
        )?,
        requires_token: m.refund_requires_token,
        policy: RefundPolicy {
            window_days: u32::try_from(m.refund_window_days).unwrap_or(0),
            daily_quota: Money::from_fen(m.daily_refund_quota_fen, currency),
        },
        window_days: m.refund_window_days,
    })
}

/// The transaction as a refund sees it.
fn original_of(t: &transactions::Model, session: &Session) -> Result<Original, AppError> {
    let currency = decode("transactions.currency", &t.currency, |c| {
        Currency::parse(c).ok()
    })?;
    Ok(Original {
        txn_type: decode("transactions.txn_type", &t.txn_type, TxnType::from_code)?,
        status: decode("transactions.status", &t.status, TxnStatus::from_code)?,
        amount: Money::from_fen(t.amount_fen, currency),
        refunded: Money::from_fen(t.refunded_fen, currency),
        in_flight: Money::from_fen(t.refund_pending_fen, currency),
        day: t.txn_time.with_timezone(&session.tz).date_naive(),
    })
}

/// The merchant's day of `now`: the day whose quota a request uses.
fn today(session: &Session, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&session.tz).date_naive()
}

/// What the merchant's refunds of `day` use of the quota.
async fn quota_used(
    db: &impl ConnectionTrait,
    merchant_id: i64,
    day: NaiveDate,
) -> Result<i64, AppError> {
    Ok(refund_quota_days::Entity::find_by_id((merchant_id, day))
        .one(db)
        .await?
        .map_or(0, |q| q.used_fen))
}

pub async fn form(
    db: &impl ConnectionTrait,
    session: &Session,
    txn_id: i64,
    now: DateTime<Utc>,
) -> Result<RefundFormView, AppError> {
    let t = visible(db, session, txn_id).await?;
    let merchant = merchant_policy(db, session).await?;
    let original = original_of(&t, session)?;
    let used = quota_used(db, session.merchant_id, today(session, now)).await?;
    let quota_left = std::cmp::max(merchant.policy.daily_quota.fen() - used, 0);
    // The smallest refund tells whether any is possible now.
    let smallest = Money::from_fen(1, original.amount.currency());
    let refusal = check_request(
        &original,
        smallest,
        &merchant.policy,
        Money::from_fen(used, original.amount.currency()),
        today(session, now),
    )
    .err();
    let history = rows(
        db,
        session,
        refund_requests::Entity::find()
            .filter(scope::refund_requests(session))
            .filter(refund_requests::Column::OriginalTxnId.eq(t.id)),
    )
    .await?;
    Ok(RefundFormView {
        refunded_fen: t.refunded_fen,
        in_flight_fen: t.refund_pending_fen,
        refundable_fen: original.refundable().fen(),
        refusal,
        mode: merchant.mode,
        requires_token: merchant.requires_token,
        window_days: merchant.window_days,
        quota_left_fen: quota_left,
        history,
        key: uuid::Uuid::new_v4().simple().to_string(),
        txn: row_of(db, session, t).await?,
    })
}

/// The answer stored under the operator's key, if the key was used: the same request gets it again,
/// another request with the key is refused.
async fn stored_answer(
    db: &impl ConnectionTrait,
    session: &Session,
    key: &str,
    hash: &str,
) -> Result<Option<RefundCreated>, AppError> {
    let Some(row) = idempotency_keys::Entity::find()
        .filter(idempotency_keys::Column::OperatorId.eq(session.operator_id))
        .filter(idempotency_keys::Column::IdemKey.eq(key))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if row.request_hash != hash {
        return Err(AppError::Policy(Policy::IdempotencyKeyReused));
    }
    let answer = row
        .response_json
        .as_deref()
        .and_then(|json| serde_json::from_str::<RefundCreated>(json).ok());
    match answer {
        Some(answer) => Ok(Some(answer)),
        None => Err(AppError::internal(
            "reading a stored refund answer",
            &UnreadableAnswer(row.id),
        )),
    }
}

#[derive(Debug, thiserror::Error)]
#[error("idempotency key {0} holds no readable answer")]
struct UnreadableAnswer(i64);

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
    if let Some(answer) = stored_answer(db, session, &new.key, &hash).await? {
        return Ok(answer);
    }
    let merchant = merchant_policy(db, session).await?;
    let t = visible(db, session, new.txn_id).await?;
    let day = today(session, now);
    let used = quota_used(db, session.merchant_id, day).await?;
    let original = original_of(&t, session)?;
    let used_today = Money::from_fen(used, merchant.policy.daily_quota.currency());
    if let Err(refusal) = check_request(&original, new.amount, &merchant.policy, used_today, day) {
        return Err(refuse(db, session, &new, refusal, now).await);
    }
    if merchant.requires_token {
        token::require_fresh_code(db, key, cfg, session, &new.code, "refund.request", now).await?;
    }

    let txn = begin_write(db).await?;
    let key_taken = idempotency_keys::Entity::insert(idempotency_keys::ActiveModel {
        merchant_id: Set(session.merchant_id),
        operator_id: Set(session.operator_id),
        idem_key: Set(new.key.clone()),
        request_hash: Set(hash.clone()),
        response_json: Set(None),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            idempotency_keys::Column::OperatorId,
            idempotency_keys::Column::IdemKey,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?
        == 0;
    if key_taken {
        // A concurrent submission with the key committed first: its answer stands.
        txn.rollback().await?;
        return stored_answer(db, session, &new.key, &hash)
            .await?
            .ok_or(AppError::Conflict);
    }

    let amount = new.amount.fen();
    let reserved = transactions::Entity::update_many()
        .col_expr(
            transactions::Column::RefundPendingFen,
            Expr::col(transactions::Column::RefundPendingFen).add(amount),
        )
        .filter(transactions::Column::Id.eq(t.id))
        .filter(transactions::Column::Status.eq(TxnStatus::Success.code()))
        .filter(
            Expr::col(transactions::Column::RefundedFen)
                .add(Expr::col(transactions::Column::RefundPendingFen))
                .add(amount)
                .lte(Expr::col(transactions::Column::AmountFen)),
        )
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    if !reserved {
        let now_left = transactions::Entity::find_by_id(t.id)
            .one(&txn)
            .await?
            .map_or(0, |t| {
                std::cmp::max(t.amount_fen - t.refunded_fen - t.refund_pending_fen, 0)
            });
        txn.rollback().await?;
        let refusal = RefundRefusal::MoreThanRefundable {
            refundable_fen: now_left,
        };
        return Err(refuse(db, session, &new, refusal, now).await);
    }

    let quota = merchant.policy.daily_quota.fen();
    let within_quota = refund_quota_days::Entity::insert(refund_quota_days::ActiveModel {
        merchant_id: Set(session.merchant_id),
        day: Set(day),
        used_fen: Set(amount),
    })
    .on_conflict(
        OnConflict::columns([
            refund_quota_days::Column::MerchantId,
            refund_quota_days::Column::Day,
        ])
        .value(
            refund_quota_days::Column::UsedFen,
            Expr::col((
                refund_quota_days::Entity,
                refund_quota_days::Column::UsedFen,
            ))
            .add(amount),
        )
        .action_and_where(
            Expr::col((
                refund_quota_days::Entity,
                refund_quota_days::Column::UsedFen,
            ))
            .add(amount)
            .lte(quota),
        )
        .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?
        == 1
        && amount <= quota;
    if !within_quota {
        let used = quota_used(&txn, session.merchant_id, day).await?;
        txn.rollback().await?;
        let refusal = RefundRefusal::OverDailyQuota {
            left_fen: std::cmp::max(quota - used, 0),
        };
        return Err(refuse(db, session, &new, refusal, now).await);
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
    idempotency_keys::Entity::update_many()
        .col_expr(
            idempotency_keys::Column::ResponseJson,
            Expr::value(Some(json!(answer).to_string())),
        )
        .filter(idempotency_keys::Column::OperatorId.eq(session.operator_id))
        .filter(idempotency_keys::Column::IdemKey.eq(new.key.as_str()))
        .exec(&txn)
        .await?;
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
        "status": status.code(),
    }));
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok(answer)
}

/// Records a refused request and gives the refusal to return.
async fn refuse<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    session: &Session,
    new: &NewRefund,
    refusal: RefundRefusal,
    now: DateTime<Utc>,
) -> AppError {
    let entry = AuditEntry::new(
        session.actor(),
        AuditAction::RefundRequest,
        AuditOutcome::Failure,
    )
    .object("transaction", new.txn_id)
    .detail(json!({ "amount_fen": new.amount.fen(), "refused": refusal.to_string() }));
    if let Err(error) = audit::record(db, entry, now).await {
        tracing::error!(error = %crate::error::source_chain(&error), "recording a refused refund failed");
    }
    AppError::Refund(refusal)
}

/// Appends a step to a request's history.
async fn record_step(
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
async fn release(txn: &impl ConnectionTrait, r: &refund_requests::Model) -> Result<(), AppError> {
    transactions::Entity::update_many()
        .col_expr(
            transactions::Column::RefundPendingFen,
            Expr::col(transactions::Column::RefundPendingFen).sub(r.amount_fen),
        )
        .filter(transactions::Column::Id.eq(r.original_txn_id))
        .exec(txn)
        .await?;
    if let Some(day) = r.quota_day {
        refund_quota_days::Entity::update_many()
            .col_expr(
                refund_quota_days::Column::UsedFen,
                Expr::col(refund_quota_days::Column::UsedFen).sub(r.amount_fen),
            )
            .filter(refund_quota_days::Column::MerchantId.eq(r.merchant_id))
            .filter(refund_quota_days::Column::Day.eq(day))
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// A request the session may see.
async fn visible_request(
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

fn status_of(r: &refund_requests::Model) -> Result<RefundStatus, AppError> {
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
    if !super::auth::merchant_active(db, session.merchant_id).await? {
        return Err(AppError::Policy(Policy::MerchantSuspended));
    }
    let r = visible_request(db, session, input.id).await?;
    if r.requested_by == session.operator_id {
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
    let from = status_of(&r)?;
    let event = match input.decision {
        Decision::Approve => RefundEvent::Approve,
        Decision::Reject => RefundEvent::Reject,
    };
    let decided = from
        .apply(event)
        .map_err(|_| AppError::Policy(Policy::RefundStatusChanged))?;
    if input.decision == Decision::Approve && r.approver_id == Some(session.operator_id) {
        return Err(AppError::Policy(Policy::SecondApproverNeeded));
    }
    let action = match input.decision {
        Decision::Approve => "refund.approve",
        Decision::Reject => "refund.reject",
    };
    token::require_fresh_code(db, key, cfg, session, &input.code, action, now).await?;

    let limit = operators::Entity::find_by_id(session.operator_id)
        .one(db)
        .await?
        .and_then(|o| o.refund_approval_limit_fen);
    let amount = Money::from_fen(r.amount_fen, Currency::Cny);
    // The first approval of an amount above the approver's limit only records who approved.
    let first_of_two = input.decision == Decision::Approve
        && r.approver_id.is_none()
        && needs_second_approval(amount, limit.map(|l| Money::from_fen(l, Currency::Cny)));
    let steps: Vec<RefundStatus> = if first_of_two {
        vec![from]
    } else if input.decision == Decision::Approve {
        vec![
            decided,
            decided.apply(RefundEvent::Submit).map_err(internal)?,
        ]
    } else {
        vec![decided]
    };
    let to = *steps.last().unwrap_or(&from);

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
            "second_approver_needed": first_of_two,
        }));
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok(to)
}

fn internal(err: crate::domain::refund::TransitionError) -> AppError {
    AppError::internal("a refund status step", &err)
}

/// The request query's filters, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundQuery {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub status: Option<RefundStatus>,
    pub requester: Option<i64>,
    pub amount: Option<i64>,
    pub reference: Option<String>,
    pub txn: Option<i64>,
    pub settlement: Option<i64>,
    pub size: u64,
    pub after: Option<(DateTime<Utc>, i64)>,
}

impl RefundQuery {
    pub fn parse(filter: &RefundFilter) -> Result<Self, AppError> {
        let mut check = FieldCheck::new();
        let (from, to) = check.date_range(("from", &filter.from), ("to", &filter.to));
        let status = check.code("status", &filter.status, RefundStatus::from_code);
        let requester = check.id("requester", &filter.requester);
        let amount = match filter.amount.trim() {
            "" => None,
            text => {
                let fen = Money::parse(text, Currency::Cny).ok().map(Money::fen);
                if fen.is_none() {
                    check.bad("amount", FieldProblem::Format);
                }
                fen
            }
        };
        let reference = match filter.reference.trim() {
            "" => None,
            text if text.len() <= 12 && text.bytes().all(|b| b.is_ascii_digit()) => {
                Some(text.to_owned())
            }
            _ => {
                check.bad("ref", FieldProblem::Format);
                None
            }
        };
        let txn = check.id("txn", &filter.txn);
        let settlement = check.id("settlement", &filter.settlement);
        let size = check.page_size("size", &filter.size, &PAGE_SIZES, DEFAULT_PAGE_SIZE);
        let after = check.time_cursor("after", &filter.after);
        check.finish()?;
        Ok(Self {
            from,
            to,
            status,
            requester,
            amount,
            reference,
            txn,
            settlement,
            size,
            after,
        })
    }
}

pub async fn search(
    db: &impl ConnectionTrait,
    session: &Session,
    q: RefundQuery,
) -> Result<RefundPage, AppError> {
    use refund_requests::Column as R;
    let tz = session.tz;
    let mut select = refund_requests::Entity::find().filter(scope::refund_requests(session));
    if let Some(from) = q.from.and_then(|d| local_midnight(d, tz)) {
        select = select.filter(R::RequestedAt.gte(from));
    }
    if let Some(end) =
        q.to.and_then(|d| d.succ_opt())
            .and_then(|d| local_midnight(d, tz))
    {
        select = select.filter(R::RequestedAt.lt(end));
    }
    if let Some(status) = q.status {
        select = select.filter(R::Status.eq(status.code()));
    }
    if let Some(requester) = q.requester {
        select = select.filter(R::RequestedBy.eq(requester));
    }
    if let Some(amount) = q.amount {
        select = select.filter(R::AmountFen.eq(amount));
    }
    if let Some(txn) = q.txn {
        select = select.filter(R::OriginalTxnId.eq(txn));
    }
    if let Some(settlement) = q.settlement {
        select = select.filter(R::SettlementId.eq(settlement));
    }
    if let Some(reference) = &q.reference {
        select = select.filter(
            R::OriginalTxnId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(transactions::Column::Id)
                    .from(transactions::Entity)
                    .and_where(transactions::Column::MerchantId.eq(session.merchant_id))
                    .and_where(transactions::Column::ReferenceNo.eq(format!("{reference:0>12}")))
                    .to_owned(),
            ),
        );
    }
    let total = select.clone().count(db).await?;
    if let Some((time, id)) = q.after {
        select = select.filter(
            Expr::tuple([Expr::col(R::RequestedAt), Expr::col(R::Id)])
                .lt(Expr::tuple([Expr::val(time), Expr::val(id)])),
        );
    }
    let mut found = select
        .order_by_desc(R::RequestedAt)
        .order_by_desc(R::Id)
        .limit(q.size + 1)
        .all(db)
        .await?;
    let more = found.len() as u64 > q.size;
    found.truncate(q.size as usize);
    let next_after = if more {
        found.last().map(|r| cursor_text(r.requested_at, r.id))
    } else {
        None
    };
    let rows = views(db, session, found).await?;
    Ok(RefundPage {
        rows,
        total,
        next_after,
        size: q.size,
        requesters: requesters(db, session).await?,
        held: None,
    })
}

/// The pending-clearing list: [`search`] for held refunds, with the balance they wait for.
pub async fn pending(
    db: &impl ConnectionTrait,
    session: &Session,
    q: RefundQuery,
) -> Result<RefundPage, AppError> {
    use refund_requests::Column as R;
    let page = search(
        db,
        session,
        RefundQuery {
            status: Some(RefundStatus::PendingClearing),
            ..q
        },
    )
    .await?;
    let balance_fen = merchants::Entity::find_by_id(session.merchant_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?
        .balance_fen;
    let all_held = refund_requests::Entity::find()
        .filter(scope::refund_requests(session))
        .filter(R::Status.eq(RefundStatus::PendingClearing.code()));
    let held_fen = all_held
        .clone()
        .select_only()
        // SUM of a BIGINT is NUMERIC on PostgreSQL: cast it back.
        .column_as(
            Expr::cust("CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT)"),
            "sum",
        )
        .into_tuple::<i64>()
        .one(db)
        .await?
        .unwrap_or(0);
    Ok(RefundPage {
        held: Some(HeldSums {
            balance_fen,
            held_fen,
            held_count: all_held.count(db).await?,
        }),
        ..page
    })
}

/// How many of the refund requests the session may see settlement `settlement_id` cleared.
pub async fn cleared_in(
    db: &impl ConnectionTrait,
    session: &Session,
    settlement_id: i64,
) -> Result<u64, AppError> {
    Ok(refund_requests::Entity::find()
        .filter(scope::refund_requests(session))
        .filter(refund_requests::Column::SettlementId.eq(settlement_id))
        .count(db)
        .await?)
}

/// The merchant's operators who requested a refund, for the requester filter.
async fn requesters(
    db: &impl ConnectionTrait,
    session: &Session,
) -> Result<Vec<(i64, String)>, AppError> {
    let ids = refund_requests::Entity::find()
        .select_only()
        .column(refund_requests::Column::RequestedBy)
        .distinct()
        .filter(refund_requests::Column::MerchantId.eq(session.merchant_id))
        .into_tuple::<i64>()
        .all(db)
        .await?;
    let mut named: Vec<(i64, String)> = operators::Entity::find()
        .filter(operators::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, name_of(&o)))
        .collect();
    named.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(named)
}

fn name_of(o: &operators::Model) -> String {
    format!("{} ({})", o.display_name, o.login_name)
}

/// Reads the requests of `select`, newest first, as rows.
async fn rows(
    db: &impl ConnectionTrait,
    session: &Session,
    select: sea_orm::Select<refund_requests::Entity>,
) -> Result<Vec<RefundRow>, AppError> {
    let found = select
        .order_by_desc(refund_requests::Column::RequestedAt)
        .order_by_desc(refund_requests::Column::Id)
        .all(db)
        .await?;
    views(db, session, found).await
}

/// The original transaction's numbers a row shows.
#[derive(Debug, FromQueryResult)]
struct TxnBrief {
    id: i64,
    reference_no: String,
    card_masked: String,
    amount_fen: i64,
}

async fn views(
    db: &impl ConnectionTrait,
    session: &Session,
    found: Vec<refund_requests::Model>,
) -> Result<Vec<RefundRow>, AppError> {
    use std::collections::HashMap;
    let txn_ids: Vec<i64> = found.iter().map(|r| r.original_txn_id).collect();
    let txns: HashMap<i64, TxnBrief> = transactions::Entity::find()
        .select_only()
        .columns([
            transactions::Column::Id,
            transactions::Column::ReferenceNo,
            transactions::Column::CardMasked,
            transactions::Column::AmountFen,
        ])
        .filter(transactions::Column::Id.is_in(txn_ids))
        .filter(transactions::Column::MerchantId.eq(session.merchant_id))
        .into_model::<TxnBrief>()
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let operator_ids: Vec<i64> = found
        .iter()
        .flat_map(|r| [Some(r.requested_by), r.approver_id, r.second_approver_id])
        .flatten()
        .collect();
    let names = operator_names(db, operator_ids).await?;
    found
        .into_iter()
        .map(|r| {
            let t = txns.get(&r.original_txn_id);
            Ok(RefundRow {
                id: r.id,
                requested_at: local_time(r.requested_at, session.tz),
                txn_id: r.original_txn_id,
                reference_no: t.map(|t| t.reference_no.clone()).unwrap_or_default(),
                card_masked: t.map(|t| t.card_masked.clone()).unwrap_or_default(),
                txn_amount_fen: t.map_or(0, |t| t.amount_fen),
                amount_fen: r.amount_fen,
                reason: decode(
                    "refund_requests.reason_code",
                    &r.reason_code,
                    RefundReason::from_code,
                )?,
                status: status_of(&r)?,
                requester: names.get(&r.requested_by).cloned().unwrap_or_default(),
                shortfall_fen: r.shortfall_fen,
                approver: r
                    .second_approver_id
                    .or(r.approver_id)
                    .and_then(|id| names.get(&id).cloned()),
            })
        })
        .collect()
}

async fn operator_names(
    db: &impl ConnectionTrait,
    ids: Vec<i64>,
) -> Result<std::collections::HashMap<i64, String>, AppError> {
    Ok(operators::Entity::find()
        .filter(operators::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, name_of(&o)))
        .collect())
}

pub async fn detail(
    db: &impl ConnectionTrait,
    session: &Session,
    id: i64,
) -> Result<RefundView, AppError> {
    let r = visible_request(db, session, id).await?;
    let tz = session.tz;
    let t = transactions::Entity::find_by_id(r.original_txn_id)
        .filter(scope::transactions(session))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let events = refund_events::Entity::find()
        .filter(refund_events::Column::RefundRequestId.eq(r.id))
        .order_by_asc(refund_events::Column::Id)
        .all(db)
        .await?;
    let names = operator_names(
        db,
        events
            .iter()
            .filter_map(|e| e.operator_id)
            .chain(r.approver_id)
            .collect(),
    )
    .await?;
    let history = events
        .into_iter()
        .map(|e| {
            Ok(RefundStep {
                at: local_time(e.occurred_at, tz),
                from: e
                    .from_status
                    .as_deref()
                    .map(|s| decode("refund_events.from_status", s, RefundStatus::from_code))
                    .transpose()?,
                to: decode(
                    "refund_events.to_status",
                    &e.to_status,
                    RefundStatus::from_code,
                )?,
                by: e.operator_id.and_then(|id| names.get(&id).cloned()),
                comment: e.comment,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    let others = rows(
        db,
        session,
        refund_requests::Entity::find()
            .filter(scope::refund_requests(session))
            .filter(refund_requests::Column::OriginalTxnId.eq(r.original_txn_id))
            .filter(refund_requests::Column::Id.ne(r.id)),
    )
    .await?;
    let status = status_of(&r)?;
    let pending = status == RefundStatus::PendingApproval;
    let first_approver = if pending {
        r.approver_id.and_then(|id| names.get(&id).cloned())
    } else {
        None
    };
    let mine = r.requested_by == session.operator_id;
    let view = RefundView {
        reason_text: r.reason_text.clone(),
        decision_comment: r.decision_comment.clone(),
        decided_at: r.decided_at.map(|at| local_time(at, tz)),
        submitted_at: r.submitted_at.map(|at| local_time(at, tz)),
        cleared_at: r.cleared_at.map(|at| local_time(at, tz)),
        shortfall_fen: r.shortfall_fen,
        settlement_id: r.settlement_id,
        failure_reason: r.failure_reason.clone(),
        history,
        others,
        first_approver,
        may_cancel: pending && mine && session.may(Function::RefundRequest),
        may_open_settlement: session.may(Function::SettlementQuery),
        may_decide: pending
            && !mine
            && session.may(Function::RefundApprove)
            && r.approver_id != Some(session.operator_id),
        txn: row_of(db, session, t).await?,
        row: views(db, session, vec![r])
            .await?
            .pop()
            .ok_or(AppError::NotFound)?,
    };
    Ok(view)
}
