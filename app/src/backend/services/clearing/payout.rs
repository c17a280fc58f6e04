//! Payout: settlements whose payout day has come are paid to the merchant's bank account, and the
//! console's refunds cleared in them are complete.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder};

use super::debiting::{queued_requests, step_request};
use super::posting::{merchant_balance, post};
use crate::backend::db::begin_write;
use crate::backend::entities::{merchants, settlements};
use crate::backend::local_time;
use crate::domain::refund::RefundEvent;
use crate::domain::{LedgerEntryType, Money, SettlementStatus};

/// Pays out pending settlements once their payout day (settlement date + the merchant's cycle) has
/// come in the merchant's time zone: each is marked paid and its net leaves the ledger to the
/// merchant's bank account (`payout_debit`; a settlement whose refunds took more than its sales
/// pays nothing, and no payout takes the balance below zero). What stays on the ledger is what
/// refunds can be debited from until the next payout.
pub async fn mark_paid(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64, DbErr> {
    pay_due(db, |_| now).await
}

/// What the daily run on the day after `date` would have paid: as [`mark_paid`] at noon of
/// `date + 1` in each merchant's own time zone (or at `now`, if that is earlier). A catch-up run
/// interleaves it with the days it clears.
pub async fn mark_paid_after(
    db: &DatabaseConnection,
    date: chrono::NaiveDate,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let next = date + Duration::days(1);
    pay_due(db, |tz| {
        std::cmp::min(local_time::day_start(next, tz) + Duration::hours(12), now)
    })
    .await
}

/// Pays each merchant's due settlements at the moment `at` gives for its time zone.
async fn pay_due(
    db: &DatabaseConnection,
    at: impl Fn(chrono_tz::Tz) -> DateTime<Utc>,
) -> Result<u64, DbErr> {
    let mut paid = 0;
    for merchant in merchants::Entity::find().all(db).await? {
        let tz = super::zone_of(&merchant)?;
        let now = at(tz);
        let today = local_time::today(now, tz);
        let last_due = today - Duration::days(i64::from(merchant.settlement_cycle_days));
        let due = settlements::Entity::find()
            .filter(settlements::Column::MerchantId.eq(merchant.id))
            .filter(settlements::Column::Status.eq(SettlementStatus::Pending.code()))
            .filter(settlements::Column::SettlementDate.lte(last_due))
            .order_by_asc(settlements::Column::SettlementDate)
            .order_by_asc(settlements::Column::Id)
            .all(db)
            .await?;
        for settlement in &due {
            if pay_out(db, settlement, now).await? {
                paid += 1;
            }
        }
        complete_refunds(db, merchant.id, now).await?;
    }
    Ok(paid)
}

/// Marks one settlement paid and posts its payout, unless another run did first.
async fn pay_out(
    db: &DatabaseConnection,
    settlement: &settlements::Model,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let txn = begin_write(db).await?;
    let marked = settlements::Entity::update_many()
        .col_expr(
            settlements::Column::Status,
            SettlementStatus::Paid.code().into(),
        )
        .col_expr(settlements::Column::PaidAt, now.into())
        .filter(settlements::Column::Id.eq(settlement.id))
        .filter(settlements::Column::Status.eq(SettlementStatus::Pending.code()))
        .exec(&txn)
        .await?;
    if marked.rows_affected == 0 {
        txn.rollback().await?;
        return Ok(false);
    }
    let balance = merchant_balance(&txn, settlement.merchant_id).await?;
    let amount = Money::from_fen(
        settlement.net_fen.clamp(0, balance.fen()),
        balance.currency(),
    );
    if amount.is_positive() {
        post(
            &txn,
            settlement.merchant_id,
            LedgerEntryType::PayoutDebit,
            amount,
            balance
                .checked_sub(amount)
                .map_err(|e| DbErr::Custom(e.to_string()))?,
            settlement.id,
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(true)
}

/// Refund requests cleared in a settlement that is now paid: the acquirer pays the cardholder with
/// that payout, so they become `refunded`.
async fn complete_refunds(
    db: &DatabaseConnection,
    merchant_id: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let txn = begin_write(db).await?;
    let cleared = queued_requests(
        &txn,
        "SELECT r.id, r.original_txn_id, r.amount_fen, r.submitted_at, r.status \
         FROM refund_requests r JOIN settlements s ON s.id = r.settlement_id \
         WHERE r.merchant_id = $1 AND r.status = 'cleared' AND s.status = 'paid'",
        vec![merchant_id.into()],
    )
    .await?;
    for request in &cleared {
        step_request(
            &txn,
            request,
            RefundEvent::Complete,
            "failure_reason = NULL",
            vec![],
            now,
        )
        .await?;
    }
    txn.commit().await
}
