//! A fast refund as typed, checked field by field as the paying bank would check it; the
//! transactions a fast refund may take; and the form of one of them.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::query::rows_of;
use crate::backend::entities::{fast_refunds, transactions};
use crate::backend::local_time;
use crate::backend::services::filters::FieldCheck;
use crate::backend::services::refunds::{
    merchant_policy, original_of, quota_used, today, MerchantPolicy,
};
use crate::backend::services::transactions::{pick, row_of, visible, TxnQuery};
use crate::backend::services::{decode, scope};
use crate::backend::Session;
use crate::contract::fast_refunds::{
    CandidatePage, CardholderInput, FastRefundFormView, FastRefundInput,
};
use crate::contract::transactions::TxnFilter;
use crate::domain::breakdown::SALE_TYPES;
use crate::domain::cardholder::{CardholderProblem, HolderName, IdNumber, IdType};
use crate::domain::fast_refund::{check_fast_refund, due_date};
use crate::domain::refund::{check_request, Original, RefundRefusal};
use crate::domain::regions::{check_place, Branch, PlaceProblem};
use crate::domain::{Bank, Currency, IdempotencyKey, Money, TxnStatus};
use crate::error::{AppError, FieldProblem};

/// The longest reason kept, in characters.
const REASON_MAX: usize = 200;

/// The cardholder of a fast refund, every field checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cardholder {
    pub name: HolderName,
    pub id: IdNumber,
    pub bank: Bank,
    pub province: String,
    pub branch: Branch,
}

impl Cardholder {
    /// Reads the cardholder's fields, reporting each bad one to `check` under its name.
    pub fn parse(check: &mut FieldCheck, input: &CardholderInput) -> Option<Self> {
        let name = HolderName::parse(&input.name)
            .map_err(|p| check.bad("name", FieldProblem::Cardholder(p)))
            .ok();
        let id_type = match input.id_type.trim() {
            "" => {
                check.bad("id_type", FieldProblem::Required);
                None
            }
            code => check.code("id_type", code, IdType::from_code),
        };
        let id = id_type.and_then(|t| {
            IdNumber::parse(t, &input.id_number)
                .map_err(|p| check.bad("id_number", FieldProblem::Cardholder(p)))
                .ok()
        });
        let bank = match input.bank.trim() {
            "" => {
                check.bad("bank", FieldProblem::Required);
                None
            }
            code => check.code("bank", code, Bank::from_code),
        };
        let required = |check: &mut FieldCheck, field: &str, text: &str| {
            let text = text.trim();
            if text.is_empty() {
                check.bad(field, FieldProblem::Required);
            }
            (!text.is_empty()).then_some(text.to_owned())
        };
        let province = required(check, "province", &input.province);
        let city = required(check, "city", &input.city);
        let branch = required(check, "branch", &input.branch);
        let place = match (bank, &province, &city, &branch) {
            (Some(bank), Some(p), Some(c), Some(b)) => check_place(bank, p, c, b)
                .map_err(|problem| {
                    let field = match problem {
                        PlaceProblem::UnknownProvince => "province",
                        PlaceProblem::CityNotInProvince => "city",
                        PlaceProblem::UnknownBranch | PlaceProblem::BranchElsewhere => "branch",
                    };
                    check.bad(field, FieldProblem::Place(problem));
                })
                .ok(),
            _ => None,
        };
        Some(Self {
            name: name?,
            id: id?,
            bank: bank?,
            province: province?,
            branch: place?,
        })
    }

    /// What the bank is sent, for comparing two submissions (the request hash).
    fn canonical(&self) -> serde_json::Value {
        json!({
            "name": self.name.as_str(),
            "id_type": self.id.id_type().code(),
            "id_number": self.id.full(),
            "bank": self.bank.code(),
            "province": self.province,
            "city": self.branch.city,
            "branch": self.branch.code})
    }
}

/// A fast refund, checked field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFastRefund {
    pub txn_id: i64,
    pub amount: Money,
    pub reason: String,
    pub cardholder: Cardholder,
    pub key: IdempotencyKey,
    pub code: String,
}

impl NewFastRefund {
    /// Reads the form; its amount is in the merchant's `currency`.
    pub fn parse(input: &FastRefundInput, currency: Currency) -> Result<Self, AppError> {
        let mut check = FieldCheck::new();
        if input.txn_id <= 0 {
            check.bad("txn_id", FieldProblem::Format);
        }
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
        let reason = check.text(&input.reason, REASON_MAX);
        if reason.is_none() {
            check.bad("reason", FieldProblem::Required);
        }
        let cardholder = Cardholder::parse(&mut check, &input.cardholder);
        let key = IdempotencyKey::parse(&input.key).ok();
        if key.is_none() {
            check.bad("key", FieldProblem::Format);
        }
        check.finish()?;
        match (amount, reason, cardholder, key) {
            (Some(amount), Some(reason), Some(cardholder), Some(key)) => Ok(Self {
                txn_id: input.txn_id,
                amount,
                reason,
                cardholder,
                key,
                code: input.code.clone(),
            }),
            _ => Err(AppError::invalid("amount", FieldProblem::Format)),
        }
    }

    /// SHA-256 of what the request asks for (not the token code, which a retry may not repeat).
    pub(super) fn hash(&self) -> String {
        let canonical = json!({
            "kind": "fast_refund",
            "txn_id": self.txn_id,
            "amount_fen": self.amount.fen(),
            "currency": self.amount.currency().code(),
            "reason": self.reason,
            "cardholder": self.cardholder.canonical()});
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }
}

/// The card's issuing bank must be the cardholder's bank: the bank pays into the card's account.
pub(super) fn check_bank(cardholder: &Cardholder, t: &transactions::Model) -> Result<(), AppError> {
    if Bank::from_code(&t.issuer_bank) == Some(cardholder.bank) {
        Ok(())
    } else {
        Err(AppError::invalid(
            "bank",
            FieldProblem::Cardholder(CardholderProblem::NotTheCardsBank),
        ))
    }
}

/// Everything a fast refund of `amount` must meet before anything is written: the agreement and the
/// card's bank, then every refund's rules and the day's quota as read now (the guards in the
/// request's transaction decide concurrent ones).
pub(super) async fn refusal_of(
    db: &impl ConnectionTrait,
    session: &Session,
    merchant: &MerchantPolicy,
    t: &transactions::Model,
    amount: Money,
    now: DateTime<Utc>,
) -> Result<Option<RefundRefusal>, AppError> {
    let original: Original = original_of(t, session)?;
    let issuer = decode("transactions.issuer_bank", &t.issuer_bank, Bank::from_code)?;
    if let Err(refusal) = check_fast_refund(merchant.fast_refund_agreement, issuer) {
        return Ok(Some(refusal));
    }
    let day = today(session, now);
    let used = quota_used(db, session.merchant_id, day).await?;
    let used_today = Money::from_fen(used, merchant.policy.daily_quota.currency());
    Ok(check_request(&original, amount, &merchant.policy, used_today, day).err())
}

/// The day a fast refund sent at `now` is due, in the merchant's calendar.
pub(super) fn due_of(session: &Session, now: DateTime<Utc>, holidays: &[NaiveDate]) -> NaiveDate {
    due_date(local_time::today(now, session.tz), holidays)
}

/// The merchant's transactions a fast refund may take now: successful sales of a bank that pays
/// fast refunds, within the refund window, with something left to refund; narrowed by the
/// transaction search's own filters.
pub async fn candidates(
    db: &impl ConnectionTrait,
    session: &Session,
    filter: &TxnFilter,
    now: DateTime<Utc>,
) -> Result<CandidatePage, AppError> {
    use transactions::Column as C;
    let merchant = merchant_policy(db, session).await?;
    if !merchant.fast_refund_agreement {
        return Err(AppError::Refund(RefundRefusal::NoFastRefundAgreement));
    }
    let query = TxnQuery::parse(filter)?;
    let first_day =
        today(session, now) - chrono::Duration::days(i64::from(merchant.policy.window_days));
    let banks: Vec<&str> = Bank::ALL
        .iter()
        .filter(|b| b.supports_fast_refund())
        .map(|b| b.code())
        .collect();
    let narrower = Condition::all()
        .add(C::Status.eq(TxnStatus::Success.code()))
        .add(C::TxnType.is_in(SALE_TYPES.iter().map(|t| t.code())))
        .add(C::IssuerBank.is_in(banks))
        .add(C::TxnTime.gte(local_time::day_start(first_day, session.tz)))
        .add(
            Expr::col(C::RefundedFen)
                .add(Expr::col(C::RefundPendingFen))
                .lt(Expr::col(C::AmountFen)),
        );
    let (found, more) = pick(db, session, query, narrower, now).await?;
    let refundable_fen = found
        .iter()
        .map(|(row, pending)| row.amount_fen - row.refunded_fen - pending)
        .collect();
    Ok(CandidatePage {
        rows: found.into_iter().map(|(row, _)| row).collect(),
        refundable_fen,
        more,
    })
}

/// The form of transaction `txn_id`: what is left to refund, the day's quota, why nothing can be
/// refunded (if so), the bank that will pay, the due day and the fast refunds made of it.
pub async fn form(
    db: &impl ConnectionTrait,
    session: &Session,
    txn_id: i64,
    holidays: &[NaiveDate],
    now: DateTime<Utc>,
) -> Result<FastRefundFormView, AppError> {
    let t = visible(db, session, txn_id).await?;
    let merchant = merchant_policy(db, session).await?;
    let original = original_of(&t, session)?;
    let used = quota_used(db, session.merchant_id, today(session, now)).await?;
    let smallest = Money::from_fen(1, original.amount.currency());
    let refusal = refusal_of(db, session, &merchant, &t, smallest, now).await?;
    let history = rows_of(
        db,
        session,
        fast_refunds::Entity::find()
            .filter(scope::fast_refunds(session))
            .filter(fast_refunds::Column::OriginalTxnId.eq(t.id)),
        now,
    )
    .await?;
    Ok(FastRefundFormView {
        refundable_fen: original.refundable().fen(),
        quota_left_fen: std::cmp::max(merchant.policy.daily_quota.fen() - used, 0),
        refusal,
        requires_token: merchant.requires_token,
        bank: Bank::from_code(&t.issuer_bank),
        due_date: due_of(session, now, holidays).to_string(),
        history,
        key: uuid::Uuid::new_v4().simple().to_string(),
        txn: row_of(db, session, t).await?,
    })
}
