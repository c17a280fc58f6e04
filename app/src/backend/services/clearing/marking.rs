//! Marking: a merchant number's day is taken under its lock, its settlement row opened, its refunds
//! found, and at the end its settled transactions carry the settlement (the sales are marked while
//! they are priced, in [`super::pricing`]).

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter,
    QueryOrder, Set, Statement, Value,
};

use super::ClearingError;
use crate::backend::entities::{merchant_numbers, merchants, settlements};
use crate::domain::clearing::SettlementTotals;
use crate::domain::{Currency, SettlementStatus};

/// The namespace of clearing's PostgreSQL advisory locks ("VP" in the high bytes), or-ed with the
/// merchant number's id.
const LOCK_NAMESPACE: i64 = 0x5650 << 48;

/// Sales are these types; everything settled that is not a sale is a refund.
pub(super) use crate::backend::services::SALE_TYPES_SQL as SALE_TYPES;

/// One merchant number's business day: the merchant-local day `date` as the UTC interval
/// [start, end).
pub(super) struct Day {
    pub merchant_id: i64,
    pub number_id: i64,
    pub date: NaiveDate,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Day {
    /// The day's unsettled successful rows of this number, by the index on (number, time, id); its
    /// values are [`Day::values`].
    pub const UNSETTLED: &'static str = "merchant_number_id = $1 AND txn_time >= $2 \
         AND txn_time < $3 AND status = 'success' AND settlement_id IS NULL";

    pub fn values(&self) -> Vec<Value> {
        vec![self.number_id.into(), self.start.into(), self.end.into()]
    }

    /// The day's sales that clearing settles: not voided on their day.
    pub fn sales() -> String {
        format!(
            "{} AND txn_type IN {SALE_TYPES} AND NOT EXISTS (SELECT 1 FROM transactions v \
             WHERE v.original_txn_id = transactions.id AND v.txn_type = 'void' \
             AND v.status = 'success')",
            Self::UNSETTLED
        )
    }
}

/// Takes the number's lock for the rest of the transaction (PostgreSQL; SQLite's write transaction is
/// exclusive already) and sets how the transaction runs.
pub(super) async fn lock_number(db: &impl ConnectionTrait, number_id: i64) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    if backend != DbBackend::Postgres {
        return Ok(());
    }
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        "SELECT pg_advisory_xact_lock($1)",
        [Value::from(LOCK_NAMESPACE | number_id)],
    ))
    .await?;
    // This transaction moves the day's tallies itself, in a few statements at the end, instead of a
    // trigger call for each transaction it marks (SQLite's row triggers are cheap enough).
    db.execute_unprepared(&format!(
        "SET LOCAL {} = 'by_caller'",
        crate::backend::tallies::CALLER_SETTING
    ))
    .await?;
    // Each statement here runs once per number and day: compiling it to machine code (JIT, about 0.1
    // s for each of these on a large day) never pays back.
    db.execute_unprepared("SET LOCAL jit = off").await?;
    Ok(())
}

/// Takes the numbers' locks shared for the rest of the transaction (PostgreSQL), in one statement
/// and in the order of the numbers: writers of new transactions run beside each other, never beside
/// a clearing of a number, so that what they write is either seen by the clearing or written after
/// it. SQLite's writers are serial anyway.
pub(super) async fn share_number_locks(
    db: &impl ConnectionTrait,
    numbers: &std::collections::BTreeSet<i64>,
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    if backend != DbBackend::Postgres || numbers.is_empty() {
        return Ok(());
    }
    // The keys are numbers computed here, so they are written into the statement (one text for any
    // count would need an array parameter). A volatile function is called after the sort.
    let keys = numbers
        .iter()
        .map(|n| format!("({})", LOCK_NAMESPACE | n))
        .collect::<Vec<_>>()
        .join(", ");
    db.execute_unprepared(&format!(
        "SELECT pg_advisory_xact_lock_shared(k) FROM (VALUES {keys}) AS v(k) ORDER BY k"
    ))
    .await
    .map(drop)
}

pub(super) async fn already_settled(db: &impl ConnectionTrait, day: &Day) -> Result<bool, DbErr> {
    Ok(settlements::Entity::find()
        .filter(settlements::Column::MerchantNumberId.eq(day.number_id))
        .filter(settlements::Column::SettlementDate.eq(day.date))
        .one(db)
        .await?
        .is_some())
}

/// The day's settlement row, empty: marking needs its id.
pub(super) async fn open_settlement(
    db: &impl ConnectionTrait,
    day: &Day,
    merchant: &merchants::Model,
    currency: Currency,
    now: DateTime<Utc>,
) -> Result<settlements::Model, DbErr> {
    settlements::ActiveModel {
        merchant_id: Set(day.merchant_id),
        merchant_number_id: Set(day.number_id),
        settlement_date: Set(day.date),
        period_start: Set(day.start),
        period_end: Set(day.end),
        txn_count: Set(0),
        refund_count: Set(0),
        gross_fen: Set(0),
        refund_fen: Set(0),
        fee_fen: Set(0),
        net_fen: Set(0),
        currency: Set(currency.code().to_owned()),
        status: Set(SettlementStatus::Pending.code().to_owned()),
        account_masked: Set(merchant.settlement_account_masked.clone()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// The day's refunds as (id, amount, time), read before this day's sales are marked: a void is a
/// refund only when its sale was settled on an earlier day. By the index of the number's voids and
/// refunds (its condition repeated), not through all of the day's transactions. A void's sale is
/// looked up by its id (as a correlated EXISTS, PostgreSQL may instead hash every settled
/// transaction).
pub(super) async fn day_refunds(
    db: &impl ConnectionTrait,
    day: &Day,
) -> Result<Vec<(i64, i64, DateTime<Utc>)>, DbErr> {
    super::debiting::refunds_of(
        db,
        format!(
            "SELECT id, amount_fen, txn_time FROM transactions WHERE {} AND {} \
             AND (txn_type = 'refund' OR (txn_type = 'void' AND (SELECT o.settlement_id \
             FROM transactions o WHERE o.id = transactions.original_txn_id) IS NOT NULL))",
            Day::UNSETTLED,
            crate::backend::tallies::REVERSALS
        ),
        day.values(),
    )
    .await
}

/// Closes the day: moves the tallies of what was marked (PostgreSQL, see [`lock_number`]), then
/// writes the totals into the settlement, or removes the settlement when nothing settled (refunds
/// held on the way stay held). `None` when nothing settled.
pub(super) async fn close(
    db: &impl ConnectionTrait,
    settlement: settlements::Model,
    totals: &SettlementTotals,
) -> Result<Option<settlements::Model>, ClearingError> {
    let backend = db.get_database_backend();
    if backend == DbBackend::Postgres {
        for statement in crate::backend::tallies::settle_statements() {
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                statement,
                [Value::from(settlement.id)],
            ))
            .await?;
        }
    }
    if totals.txn_count == 0 && totals.refund_count == 0 {
        settlements::Entity::delete_by_id(settlement.id)
            .exec(db)
            .await?;
        return Ok(None);
    }
    let mut active: settlements::ActiveModel = settlement.into();
    active.txn_count = Set(totals.txn_count);
    active.refund_count = Set(totals.refund_count);
    active.gross_fen = Set(totals.gross.fen());
    active.fee_fen = Set(totals.fees.fen());
    active.refund_fen = Set(totals.refunds.fen());
    active.net_fen = Set(totals.net()?.fen());
    Ok(Some(active.update(db).await?))
}

/// Every merchant number with its merchant, in id order.
pub(super) async fn numbers(
    db: &impl ConnectionTrait,
) -> Result<Vec<(merchant_numbers::Model, merchants::Model)>, DbErr> {
    Ok(merchant_numbers::Entity::find()
        .find_also_related(merchants::Entity)
        .order_by_asc(merchant_numbers::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(n, m)| m.map(|m| (n, m)))
        .collect())
}
