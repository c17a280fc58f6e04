//! Correcting an item the bank rejected and sending it again (manual §3.6.4): the cardholder's
//! fields are checked as for a new fast refund, the item goes back to processing as a new attempt
//! (its amounts stay taken: an exception still counts), and the history records what changed with
//! the document number masked.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionSession, TransactionTrait,
};
use serde_json::json;

use super::form::{check_bank, due_of, Cardholder};
use super::query::{status_of, visible_item};
use super::request::record_step;
use crate::backend::audit::{self, AuditEntry};
use crate::backend::db::begin_write;
use crate::backend::entities::{fast_refunds, merchants, transactions};
use crate::backend::services::filters::FieldCheck;
use crate::backend::services::token;
use crate::backend::token::TokenKey;
use crate::backend::{AuthConfig, FastRefundConfig, Session};
use crate::contract::fast_refunds::CorrectionInput;
use crate::domain::cardholder::mask_id;
use crate::domain::fast_refund::{FastRefundEvent, FastRefundStatus};
use crate::domain::regions::{city_name, province};
use crate::domain::{AuditAction, AuditOutcome, MerchantStatus};
use crate::error::{AppError, FieldProblem, Policy};

/// Sends item `input.id` again with the corrected cardholder data.
pub async fn resubmit<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    key: &TokenKey,
    cfg: &AuthConfig,
    config: &FastRefundConfig,
    session: &Session,
    input: &CorrectionInput,
    now: DateTime<Utc>,
) -> Result<FastRefundStatus, AppError> {
    let mut check = FieldCheck::new();
    let cardholder = Cardholder::parse(&mut check, &input.cardholder);
    check.finish()?;
    let cardholder = cardholder.ok_or(AppError::invalid("name", FieldProblem::Format))?;
    let item = visible_item(db, session, input.id).await?;
    let from = status_of(&item)?;
    let to = from
        .apply(FastRefundEvent::Resubmit)
        .map_err(|_| AppError::Policy(Policy::RefundStatusChanged))?;
    let t = transactions::Entity::find_by_id(item.original_txn_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    check_bank(&cardholder, &t)?;
    let merchant = merchants::Entity::find_by_id(session.merchant_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    if merchant.status != MerchantStatus::Active.code() {
        return Err(AppError::Policy(Policy::MerchantSuspended));
    }
    if merchant.refund_requires_token {
        token::require_fresh_code(
            db,
            key,
            cfg,
            session,
            &input.code,
            "fast_refund.resubmit",
            now,
        )
        .await?;
    }
    let changes = changes(&item, &cardholder);
    let due = due_of(session, now, &config.holidays);

    use fast_refunds::Column as F;
    let txn = begin_write(db).await?;
    let changed = fast_refunds::Entity::update_many()
        .col_expr(F::Status, Expr::value(to.code()))
        .col_expr(F::CardholderName, Expr::value(cardholder.name.as_str()))
        .col_expr(F::IdType, Expr::value(cardholder.id.id_type().code()))
        .col_expr(F::IdNumber, Expr::value(cardholder.id.full()))
        .col_expr(F::Province, Expr::value(cardholder.province.as_str()))
        .col_expr(F::City, Expr::value(cardholder.branch.city))
        .col_expr(F::Branch, Expr::value(cardholder.branch.code.as_str()))
        .col_expr(F::ResubmissionCount, Expr::col(F::ResubmissionCount).add(1))
        .col_expr(F::DueDate, Expr::value(due))
        .col_expr(F::SentAt, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(F::ClaimedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(F::BankReference, Expr::value(Option::<String>::None))
        .col_expr(F::BankReasonCode, Expr::value(Option::<String>::None))
        .col_expr(F::BankReasonText, Expr::value(Option::<String>::None))
        .col_expr(F::UpdatedAt, Expr::value(now))
        .filter(F::Id.eq(item.id))
        .filter(F::Status.eq(from.code()))
        .filter(F::ResubmissionCount.eq(item.resubmission_count))
        .exec(&txn)
        .await?
        .rows_affected;
    if changed != 1 {
        txn.rollback().await?;
        return Err(AppError::Policy(Policy::RefundStatusChanged));
    }
    let comment = json!({
        "rejected": item.bank_reason_code,
        "changed": changes})
    .to_string();
    record_step(
        &txn,
        item.id,
        Some(from),
        to,
        Some(session.operator_id),
        Some(comment),
        now,
    )
    .await?;
    let entry = AuditEntry::new(
        session.actor(),
        AuditAction::FastRefundResubmit,
        AuditOutcome::Success,
    )
    .object("fast_refund", item.id)
    .detail(json!({
        "attempt": item.resubmission_count + 1,
        "changed": changes}));
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok(to)
}

/// What the correction changes, field by field, as `[before, after]`, the document number masked.
fn changes(item: &fast_refunds::Model, c: &Cardholder) -> serde_json::Value {
    let place = |p: &str, city: &str| {
        format!(
            "{} {}",
            province(p).map_or(p, |p| p.name),
            city_name(city).unwrap_or(city)
        )
    };
    let pairs = [
        (
            "name",
            item.cardholder_name.clone(),
            c.name.as_str().to_owned(),
        ),
        (
            "id_type",
            item.id_type.clone(),
            c.id.id_type().code().to_owned(),
        ),
        (
            "place",
            place(&item.province, &item.city),
            place(&c.province, c.branch.city),
        ),
        ("branch", item.branch.clone(), c.branch.code.clone()),
    ];
    let mut changed = serde_json::Map::new();
    for (field, before, after) in pairs {
        if before != after {
            changed.insert(field.to_owned(), json!([before, after]));
        }
    }
    if item.id_number != c.id.full() {
        // Two numbers may mask alike: compared whole, recorded masked.
        changed.insert(
            "id_number".to_owned(),
            json!([mask_id(&item.id_number), c.id.masked()]),
        );
    }
    serde_json::Value::Object(changed)
}
