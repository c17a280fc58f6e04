//! A refund request as typed, checked field by field, and the form that shows what a transaction
//! still allows: the merchant's policy, the original's refundable amount, the day's quota.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::query::rows;
use crate::backend::entities::{merchants, refund_quota_days, refund_requests, transactions};
use crate::backend::local_time::{self};
use crate::backend::services::filters::FieldCheck;
use crate::backend::services::transactions::{row_of, visible};
use crate::backend::services::{decode, scope};
use crate::backend::Session;
use crate::contract::refunds::{RefundFormView, RefundRequestInput};
use crate::domain::refund::{check_request, Original, RefundPolicy, RefundReason};
use crate::domain::{
    Currency, IdempotencyKey, MerchantStatus, Money, RefundMode, TxnStatus, TxnType,
};
use crate::error::{AppError, FieldProblem, Policy};

/// The longest reason or comment kept, in characters.
pub(super) const TEXT_MAX: usize = 200;

/// A refund request, checked field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefund {
    pub txn_id: i64,
    pub amount: Money,
    pub reason: RefundReason,
    pub reason_text: Option<String>,
    pub key: IdempotencyKey,
    pub code: String,
}

impl NewRefund {
    /// Reads the form; its amount is in the merchant's `currency`.
    pub fn parse(input: &RefundRequestInput, currency: Currency) -> Result<Self, AppError> {
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
                let parsed = Money::parse(text, currency).ok();
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
        let key = IdempotencyKey::parse(&input.key).ok();
        if key.is_none() {
            check.bad("key", FieldProblem::Format);
        }
        check.finish()?;
        match (amount, reason, key) {
            (Some(amount), Some(reason), Some(key)) => Ok(Self {
                txn_id: input.txn_id,
                amount,
                reason,
                reason_text,
                key,
                code: input.code.clone(),
            }),
            _ => Err(AppError::invalid("amount", FieldProblem::Format)),
        }
    }

    /// SHA-256 of what the request asks for (not the token code, which a retry may not repeat).
    pub(super) fn hash(&self) -> String {
        let canonical = json!({
            "txn_id": self.txn_id,
            "amount_fen": self.amount.fen(),
            "currency": self.amount.currency().code(),
            "reason": self.reason.code(),
            "reason_text": self.reason_text});
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }
}

/// The merchant's refund settings.
pub(crate) struct MerchantPolicy {
    pub(crate) mode: RefundMode,
    pub(crate) requires_token: bool,
    pub(crate) policy: RefundPolicy,
    pub(crate) window_days: i32,
    /// Whether the merchant signed the fast-refund agreement.
    pub(crate) fast_refund_agreement: bool,
}

pub(crate) async fn merchant_policy(
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
        fast_refund_agreement: m.fast_refund_agreement,
    })
}

/// The transaction as a refund sees it.
pub(crate) fn original_of(
    t: &transactions::Model,
    session: &Session,
) -> Result<Original, AppError> {
    let currency = decode("transactions.currency", &t.currency, |c| {
        Currency::parse(c).ok()
    })?;
    Ok(Original {
        txn_type: decode("transactions.txn_type", &t.txn_type, TxnType::from_code)?,
        status: decode("transactions.status", &t.status, TxnStatus::from_code)?,
        amount: Money::from_fen(t.amount_fen, currency),
        refunded: Money::from_fen(t.refunded_fen, currency),
        in_flight: Money::from_fen(t.refund_pending_fen, currency),
        day: local_time::today(t.txn_time, session.tz),
    })
}

/// The merchant's day of `now`: the day whose quota a request uses.
pub(crate) fn today(session: &Session, now: DateTime<Utc>) -> NaiveDate {
    local_time::today(now, session.tz)
}

/// What the merchant's refunds of `day` use of the quota.
pub(crate) async fn quota_used(
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
    let clearing_headroom_fen =
        clearing_headroom(db, session.merchant_id, original.amount.currency()).await?;
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
        clearing_headroom_fen,
        history,
        key: uuid::Uuid::new_v4().simple().to_string(),
        txn: row_of(db, session, t).await?,
    })
}

/// What a refund requested now can be without being held at clearing, were clearing to run now: the
/// balance less the requests already waiting for it that the debit order would cover first (a new
/// request comes after them, and one the balance cannot cover does not take from it). Clearing
/// credits the day's sales before it debits, so this is the cautious side of what will happen.
async fn clearing_headroom(
    db: &impl ConnectionTrait,
    merchant_id: i64,
    currency: Currency,
) -> Result<i64, AppError> {
    use crate::domain::clearing::{plan_debits, Debit, DebitItem};
    use crate::domain::refund::RefundStatus;
    let balance = merchants::Entity::find_by_id(merchant_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?
        .balance_fen;
    let waiting = refund_requests::Entity::find()
        .filter(refund_requests::Column::MerchantId.eq(merchant_id))
        .filter(refund_requests::Column::Status.is_in([
            RefundStatus::Submitted.code(),
            RefundStatus::PendingClearing.code(),
        ]))
        .all(db)
        .await?
        .into_iter()
        .map(|r| Debit {
            time: r.submitted_at.unwrap_or(r.requested_at),
            item: DebitItem::Request(r.id),
            amount: Money::from_fen(r.amount_fen, currency),
        })
        .collect();
    let available = Money::from_fen(balance.max(0), currency);
    let plan = plan_debits(available, waiting)
        .map_err(|e| AppError::internal("planning the waiting refunds", &e))?;
    Ok(available.fen() - plan.refunded.fen())
}
