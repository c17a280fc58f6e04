//! Clearing (T+1): settles each merchant number's successful transactions of a business day
//! into one settlement and moves the money on the merchant's ledger.
//!
//! What a settlement of merchant number N and day D (the merchant's local calendar day) holds:
//! - **sales**: successful purchases and pre-authorisation completions of D, except those voided on
//!   their day by a successful void (the terminal cancelled them before the batch closed). Each is
//!   priced by [`crate::domain::clearing::FeeRate`] for its card organisation and card type; a sale
//!   without a rate stops the settlement of that number and day (operations must add the rate).
//! - **refunds**: successful POS refunds of D, and voids of D whose sale was already settled on an
//!   earlier day. They carry no fee and do not return the sale's fee.
//! - net = gross − refunds − fees ([`crate::domain::clearing::SettlementTotals`]; the database checks
//!   it again).
//!
//! Ledger: the sales credit `gross − fees` (`settlement_credit`), then the refunds are debited one by
//! one in time order, refunds held by earlier runs first, as far as the balance covers them; their sum
//! is one `refund_debit`, each entry with the balance after it, which never goes negative. A refund
//! the balance cannot cover is held (`clearing_holds`, with its shortfall) and tried again by every
//! later run of that merchant number; the settlement of the day that covers it lists it. The console's
//! refund requests join the same queue at the time they were submitted: one the balance
//! covers becomes `cleared` in this settlement, one it cannot becomes `pending_clearing` with its
//! shortfall and is tried again by every later run. Sales always settle. Pre-authorisations, failed and reversed transactions are never settled.
//!
//! Each merchant number and day is cleared in one write transaction that first takes a lock on that
//! number (a PostgreSQL advisory transaction lock; on SQLite the write transaction is exclusive), then
//! looks for an existing settlement: running a day twice, or on two instances at once, settles it
//! once. The unique index on (merchant number, settlement date) is the last guard.

mod debiting;
mod marking;
mod payout;
mod posting;
mod pricing;

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::{DatabaseConnection, DbBackend, DbErr};

use self::debiting::Waiting;
use self::marking::Day;
use crate::backend::db::begin_write;
use crate::backend::entities::{merchant_numbers, merchants, settlements};
use crate::backend::local_time;
use crate::domain::clearing::{plan_debits, SettlementTotals, MAX_CLEARABLE_FEN};
use crate::domain::{Currency, MoneyError};

pub use self::payout::{mark_paid, mark_paid_after};
pub use self::posting::{deposit, Deposited};
pub use self::pricing::fee_in_sql;

/// The merchant-local day on which a transaction of merchant number `number_id` made at `at` is
/// booked, within a write transaction that then writes it: the day of `at`, or when clearing has
/// settled that day already (another instance's clock ran ahead, or the message was held up), the
/// first later day not settled yet, at its start. A settled day never takes another transaction, so
/// a late one is settled by the next run instead of left out. Holds the number's lock shared until
/// the transaction ends, so that no clearing of the number runs between this look and the write.
pub async fn booking_time(
    db: &impl sea_orm::ConnectionTrait,
    number_id: i64,
    at: DateTime<Utc>,
    tz: Tz,
) -> Result<(DateTime<Utc>, NaiveDate), DbErr> {
    let day = local_time::today(at, tz);
    let booked = booking_days(db, &[(number_id, day)].into())
        .await?
        .get(&(number_id, day))
        .copied()
        .unwrap_or(day);
    Ok((booked_at(at, day, booked, tz), booked))
}

/// The time of a transaction made at `at`, on merchant-local `day`, booked on `booked`: its own, or
/// when it moved to a later day, that day's start.
pub fn booked_at(at: DateTime<Utc>, day: NaiveDate, booked: NaiveDate, tz: Tz) -> DateTime<Utc> {
    if booked == day {
        at
    } else {
        local_time::day_start(booked, tz)
    }
}

/// [`booking_time`]'s day for each (merchant number, merchant-local day) of `days`: the day, or
/// the first later one clearing has not settled. One statement takes every number's lock, one
/// reads their settled days.
pub async fn booking_days(
    db: &impl sea_orm::ConnectionTrait,
    days: &BTreeSet<(i64, NaiveDate)>,
) -> Result<HashMap<(i64, NaiveDate), NaiveDate>, DbErr> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
    let numbers: BTreeSet<i64> = days.iter().map(|(number, _)| *number).collect();
    let Some(first) = days.iter().map(|(_, day)| *day).min() else {
        return Ok(HashMap::new());
    };
    marking::share_number_locks(db, &numbers).await?;
    let settled: HashSet<(i64, NaiveDate)> = settlements::Entity::find()
        .select_only()
        .column(settlements::Column::MerchantNumberId)
        .column(settlements::Column::SettlementDate)
        .filter(settlements::Column::MerchantNumberId.is_in(numbers))
        .filter(settlements::Column::SettlementDate.gte(first))
        .into_tuple()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(days
        .iter()
        .map(|&(number, day)| {
            let mut booked = day;
            while settled.contains(&(number, booked)) {
                match booked.succ_opt() {
                    Some(next) => booked = next,
                    None => break,
                }
            }
            ((number, day), booked)
        })
        .collect())
}

#[derive(Debug, thiserror::Error)]
pub enum ClearingError {
    #[error("no fee rate for {0}: add the rate to the merchant before clearing")]
    MissingFeeRate(String),
    #[error("a sale of {0} fen is beyond what clearing can price (at most {MAX_CLEARABLE_FEN})")]
    AmountTooLarge(i64),
    #[error("settlement sums: {0}")]
    Money(#[from] MoneyError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// What happened to one merchant number's day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Settled(SettledDay),
    /// A settlement of this number and day exists already: nothing changed.
    AlreadySettled,
    /// Nothing of this number and day is to be settled.
    Nothing,
    /// The day has not ended yet in the merchant's time zone.
    NotEnded,
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettledDay {
    pub settlement_id: i64,
    pub txn_count: i64,
    pub gross_fen: i64,
    pub fee_fen: i64,
    pub refund_count: i64,
    pub refund_fen: i64,
    pub net_fen: i64,
}

/// One line of a run's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberResult {
    pub merchant_no: String,
    pub date: NaiveDate,
    pub outcome: Outcome,
}

/// The report of a clearing run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunReport {
    pub results: Vec<NumberResult>,
    /// Settlements whose payout day came and that were marked paid.
    pub paid: u64,
}

impl RunReport {
    pub fn settled(&self) -> impl Iterator<Item = (&NumberResult, &SettledDay)> {
        self.results.iter().filter_map(|r| match &r.outcome {
            Outcome::Settled(day) => Some((r, day)),
            _ => None,
        })
    }

    pub fn failures(&self) -> impl Iterator<Item = (&NumberResult, &str)> {
        self.results.iter().filter_map(|r| match &r.outcome {
            Outcome::Failed(why) => Some((r, why.as_str())),
            _ => None,
        })
    }
}

/// Clears one business day for every merchant number.
#[tracing::instrument(skip(db))]
pub async fn clear_day(
    db: &DatabaseConnection,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> Result<RunReport, DbErr> {
    let numbers = marking::numbers(db).await?;
    Ok(RunReport {
        results: clear_numbers(db, &numbers, date, now).await,
        paid: 0,
    })
}

/// How many merchant numbers PostgreSQL clears at once, each in its own transaction on its own
/// connection. Marking a number's day is one `UPDATE` that one server process runs; two at once kept
/// both cores of the test machine busy (docs/PERFORMANCE.md). Numbers of one merchant still post to
/// its ledger one after the other (the merchant's row lock in [`posting::merchant_balance`]). SQLite writes
/// one transaction at a time anyway.
fn numbers_at_once(db: &DatabaseConnection) -> usize {
    match db.get_database_backend() {
        DbBackend::Postgres => 2,
        _ => 1,
    }
}

/// Clears `date` for each of `numbers`; the results in the order of `numbers`.
async fn clear_numbers(
    db: &DatabaseConnection,
    numbers: &[(merchant_numbers::Model, merchants::Model)],
    date: NaiveDate,
    now: DateTime<Utc>,
) -> Vec<NumberResult> {
    use futures::StreamExt;
    // Each number's clearing owns what it uses, so that the run stays `Send` for a spawned schedule.
    let runs: Vec<_> = numbers
        .iter()
        .map(|(number, merchant)| {
            let (db, number, merchant) = (db.clone(), number.clone(), merchant.clone());
            async move {
                NumberResult {
                    outcome: clear_number(&db, &number, &merchant, date, now).await,
                    merchant_no: number.merchant_no,
                    date,
                }
            }
        })
        .collect();
    futures::stream::iter(runs)
        .buffered(numbers_at_once(db))
        .collect()
        .await
}

/// The scheduled run: every day of the last `catch_up_days` that has ended (in each merchant's time
/// zone) and is not settled yet, oldest first; then settlements whose payout day has come are marked
/// paid.
#[tracing::instrument(skip(db))]
pub async fn clear_due(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    catch_up_days: u32,
) -> Result<RunReport, DbErr> {
    let mut report = RunReport::default();
    let numbers = marking::numbers(db).await?;
    let today = now.date_naive();
    // Day after day, each followed by the payouts due on the day after it, as the daily runs would
    // have gone: a day's refunds are debited from what the ledger held then, not from the sales of
    // every day caught up with. The payouts are those of noon of the next day in each merchant's
    // own zone.
    for back in (1..=i64::from(catch_up_days.max(1)) + 1).rev() {
        let date = today - Duration::days(back - 1);
        report.results.extend(
            clear_numbers(db, &numbers, date, now)
                .await
                .into_iter()
                .filter(|r| !matches!(r.outcome, Outcome::NotEnded | Outcome::AlreadySettled)),
        );
        report.paid += mark_paid_after(db, date, now).await?;
    }
    report.paid += mark_paid(db, now).await?;
    Ok(report)
}

/// The merchant's time zone, as clearing's errors carry it.
fn zone_of(merchant: &merchants::Model) -> Result<Tz, DbErr> {
    local_time::zone(&merchant.time_zone)
        .map_err(|e| DbErr::Custom(format!("merchant {}: {e}", merchant.code)))
}

async fn clear_number(
    db: &DatabaseConnection,
    number: &merchant_numbers::Model,
    merchant: &merchants::Model,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> Outcome {
    match try_clear_number(db, number, merchant, date, now).await {
        Ok(outcome) => {
            if let Outcome::Settled(day) = &outcome {
                tracing::info!(
                    merchant_no = %number.merchant_no, %date,
                    settlement.id = day.settlement_id, txn_count = day.txn_count,
                    net_fen = day.net_fen, "settled"
                );
            }
            outcome
        }
        Err(err) => {
            tracing::warn!(merchant_no = %number.merchant_no, %date, error = %err, "not settled");
            Outcome::Failed(err.to_string())
        }
    }
}

/// One number's day in one write transaction, step by step: lock and look for an existing
/// settlement; check the rates; find the day's refunds; price and mark the sales; plan and carry out
/// the debits; close the settlement and post it to the ledger.
async fn try_clear_number(
    db: &DatabaseConnection,
    number: &merchant_numbers::Model,
    merchant: &merchants::Model,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Outcome, ClearingError> {
    let tz = zone_of(merchant)?;
    let (start, end) = local_time::day_bounds(date, tz);
    if end > now {
        return Ok(Outcome::NotEnded);
    }
    let day = Day {
        merchant_id: merchant.id,
        number_id: number.id,
        date,
        start,
        end,
    };
    let currency = Currency::parse(&merchant.currency)?;
    let txn = begin_write(db).await?;
    marking::lock_number(&txn, number.id).await?;
    if marking::already_settled(&txn, &day).await? {
        txn.rollback().await?;
        return Ok(Outcome::AlreadySettled);
    }
    pricing::check_rates(&txn, &day).await?;
    let settlement = marking::open_settlement(&txn, &day, merchant, currency, now).await?;
    let day_refunds = marking::day_refunds(&txn, &day).await?;
    let sales = pricing::price_sales(&txn, &day, settlement.id, currency).await?;
    let credit = sales.gross.checked_sub(sales.fees)?;
    let opening = posting::merchant_balance(&txn, merchant.id).await?;

    let waiting = Waiting::read(&txn, &day, day_refunds, currency).await?;
    let plan = plan_debits(opening.checked_add(credit)?, waiting.debits.clone())?;
    waiting.debit(&txn, &day, settlement.id, &plan, now).await?;

    let totals = SettlementTotals {
        currency,
        txn_count: sales.count,
        gross: sales.gross,
        fees: sales.fees,
        refund_count: plan.covered.len() as i64,
        refunds: plan.refunded,
    };
    let Some(settlement) = marking::close(&txn, settlement, &totals).await? else {
        // No settlement, but refunds held on the way are kept for the next run.
        txn.commit().await?;
        return Ok(Outcome::Nothing);
    };
    posting::post_settlement(
        &txn,
        merchant.id,
        settlement.id,
        opening,
        (credit, plan.refunded),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(Outcome::Settled(SettledDay {
        settlement_id: settlement.id,
        txn_count: totals.txn_count,
        gross_fen: totals.gross.fen(),
        fee_fen: totals.fees.fen(),
        refund_count: totals.refund_count,
        refund_fen: totals.refunds.fen(),
        net_fen: totals.net()?.fen(),
    }))
}
