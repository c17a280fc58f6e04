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

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr,
    EntityTrait, QueryFilter, QueryOrder, Set, Statement, Value,
};

use super::home::time_zone_of;
use crate::backend::db::begin_write;
use crate::backend::entities::{
    ledger_entries, merchant_numbers, merchants, refund_events, settlements,
};
use crate::domain::clearing::{fee_sql, MAX_CLEARABLE_FEN};
use crate::domain::refund::{RefundEvent, RefundStatus};
use crate::domain::{Currency, Money, MoneyError, SettlementStatus};

/// The namespace of clearing's PostgreSQL advisory locks ("VP" in the high bytes), or-ed with the
/// merchant number's id.
const LOCK_NAMESPACE: i64 = 0x5650 << 48;

/// Sales are these types; everything settled that is not a sale is a refund.
const SALE_TYPES: &str = "('purchase', 'preauth_completion')";

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

/// The merchant-local day `date` as the UTC interval [start, end).
pub fn day_bounds(date: NaiveDate, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    let at_midnight = |d: NaiveDate| {
        let midnight = d.and_hms_opt(0, 0, 0).unwrap_or_default();
        tz.from_local_datetime(&midnight)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            // A zone that skips midnight (none of ours): its local midnight read as UTC.
            .unwrap_or_else(|| Utc.from_utc_datetime(&midnight))
    };
    (at_midnight(date), at_midnight(date + Duration::days(1)))
}

/// Clears one business day for every merchant number.
#[tracing::instrument(skip(db))]
pub async fn clear_day(
    db: &DatabaseConnection,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> Result<RunReport, DbErr> {
    let numbers = numbers(db).await?;
    Ok(RunReport {
        results: clear_numbers(db, &numbers, date, now).await,
        paid: 0,
    })
}

/// How many merchant numbers PostgreSQL clears at once, each in its own transaction on its own
/// connection. Marking a number's day is one `UPDATE` that one server process runs; two at once kept
/// both cores of the test machine busy (docs/PERFORMANCE.md). Numbers of one merchant still post to
/// its ledger one after the other (the merchant's row lock in [`merchant_balance`]). SQLite writes
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
    let numbers = numbers(db).await?;
    let today = now.date_naive();
    // Day after day, each followed by the payouts due on the day after it, as the daily runs would
    // have gone: a day's refunds are debited from what the ledger held then, not from the sales of
    // every day caught up with. Noon UTC of the next day is that next day in every zone from UTC−11
    // to UTC+11.
    for back in (1..=i64::from(catch_up_days.max(1)) + 1).rev() {
        let date = today - Duration::days(back - 1);
        report.results.extend(
            clear_numbers(db, &numbers, date, now)
                .await
                .into_iter()
                .filter(|r| !matches!(r.outcome, Outcome::NotEnded | Outcome::AlreadySettled)),
        );
        let next_noon = Utc.from_utc_datetime(
            &(date + Duration::days(1))
                .and_hms_opt(12, 0, 0)
                .unwrap_or_default(),
        );
        report.paid += mark_paid(db, next_noon.min(now)).await?;
    }
    report.paid += mark_paid(db, now).await?;
    Ok(report)
}

/// Pays out pending settlements once their payout day (settlement date + the merchant's cycle) has
/// come in the merchant's time zone: each is marked paid and its net leaves the ledger to the
/// merchant's bank account (`payout_debit`; a settlement whose refunds took more than its sales
/// pays nothing, and no payout takes the balance below zero). What stays on the ledger is what
/// refunds can be debited from until the next payout.
pub async fn mark_paid(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64, DbErr> {
    let mut paid = 0;
    for merchant in merchants::Entity::find().all(db).await? {
        let tz = time_zone_of(&merchant.time_zone);
        let today = now.with_timezone(&tz).date_naive();
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
            "payout_debit",
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

async fn numbers(
    db: &DatabaseConnection,
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

async fn try_clear_number(
    db: &DatabaseConnection,
    number: &merchant_numbers::Model,
    merchant: &merchants::Model,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Outcome, ClearingError> {
    let tz = time_zone_of(&merchant.time_zone);
    let (start, end) = day_bounds(date, tz);
    if end > now {
        return Ok(Outcome::NotEnded);
    }
    let currency = Currency::parse(&merchant.currency)?;
    let txn = begin_write(db).await?;
    let backend = txn.get_database_backend();
    if backend == DbBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            "SELECT pg_advisory_xact_lock($1)",
            [Value::from(LOCK_NAMESPACE | number.id)],
        ))
        .await?;
        // This transaction moves the day's tallies itself, in a few statements at the end, instead
        // of a trigger call for each transaction it marks (SQLite's row triggers are cheap enough).
        txn.execute_unprepared(&format!(
            "SET LOCAL {} = 'by_caller'",
            migrations::tallies::CALLER_SETTING
        ))
        .await?;
        // Each statement here runs once per number and day: compiling it to machine code (JIT, about
        // 0.1 s for each of these on a large day) never pays back.
        txn.execute_unprepared("SET LOCAL jit = off").await?;
    }
    let existing = settlements::Entity::find()
        .filter(settlements::Column::MerchantNumberId.eq(number.id))
        .filter(settlements::Column::SettlementDate.eq(date))
        .one(&txn)
        .await?;
    if existing.is_some() {
        txn.rollback().await?;
        return Ok(Outcome::AlreadySettled);
    }

    // The day's unsettled rows of this number, by the index on (number, time, id).
    let day = "merchant_number_id = $1 AND txn_time >= $2 AND txn_time < $3 \
               AND status = 'success' AND settlement_id IS NULL";
    let day_values = || -> Vec<Value> { vec![number.id.into(), start.into(), end.into()] };
    let not_voided =
        "NOT EXISTS (SELECT 1 FROM transactions v WHERE v.original_txn_id = transactions.id \
                      AND v.txn_type = 'void' AND v.status = 'success')";
    let sales = format!("{day} AND txn_type IN {SALE_TYPES} AND {not_voided}");

    // A sale without a rate stops the day. The day's tallies tell, without reading its sales, whether
    // any kind of card sold that day lacks a rate; only then are the sales read, to name the cards
    // (a voided sale needs no rate). Tallies are per merchant-local day, as `day_bounds` are.
    let no_rate = |t: &str| {
        format!(
            "NOT EXISTS (SELECT 1 FROM fee_rates r WHERE r.merchant_id = {t}.merchant_id \
             AND r.card_org = {t}.card_org AND r.card_type = {t}.card_type)"
        )
    };
    let unrated_kinds = txn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT COUNT(*) AS n FROM {tallies} t WHERE t.merchant_id = $1 AND t.txn_date = $2 \
                 AND t.merchant_number_id = $3 AND t.settlement_id = 0 AND t.status = 'success' \
                 AND t.txn_type IN {SALE_TYPES} AND {}",
                no_rate("t"),
                tallies = migrations::tallies::TRANSACTION_TALLIES.table,
            ),
            [merchant.id.into(), date.into(), number.id.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("the day's tallies returned no row".into()))?
        .try_get::<i64>("", "n")?;
    if unrated_kinds > 0 {
        let unpriced = txn
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                format!(
                    "SELECT DISTINCT card_org, card_type FROM transactions WHERE {sales} AND {}",
                    no_rate("transactions")
                ),
                day_values(),
            ))
            .await?;
        if !unpriced.is_empty() {
            let names: Vec<String> = unpriced
                .iter()
                .map(|row| {
                    let org: String = row.try_get("", "card_org").unwrap_or_default();
                    let kind: String = row.try_get("", "card_type").unwrap_or_default();
                    format!("{org} {kind}")
                })
                .collect();
            return Err(ClearingError::MissingFeeRate(names.join(", ")));
        }
    }

    let settlement = settlements::ActiveModel {
        merchant_id: Set(merchant.id),
        merchant_number_id: Set(number.id),
        settlement_date: Set(date),
        period_start: Set(start),
        period_end: Set(end),
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
    .insert(&txn)
    .await?;
    let mark = |set: String, from_where: String| {
        let mut values = day_values();
        values.push(settlement.id.into());
        values.push(date.into());
        Statement::from_sql_and_values(
            backend,
            format!("UPDATE transactions SET settlement_id = $4, settlement_date = $5, fee_fen = {set} {from_where}"),
            values,
        )
    };
    // The day's refunds, read before this day's sales are marked: a void is a refund only when its
    // sale was settled on an earlier day. By the index of the number's voids and refunds (its
    // condition repeated), not through all of the day's transactions. A void's sale is looked up by
    // its id (as a correlated EXISTS, PostgreSQL may instead hash every settled transaction).
    let reversals = migrations::REVERSALS;
    let mut refunds = refund_candidates(
        &txn,
        format!(
            "SELECT id, amount_fen, txn_time FROM transactions WHERE {day} AND {reversals} AND (txn_type = 'refund' \
             OR (txn_type = 'void' AND (SELECT o.settlement_id FROM transactions o \
             WHERE o.id = transactions.original_txn_id) IS NOT NULL))"
        ),
        day_values(),
    )
    .await?;
    // Priced by joining the rates (every sale has one, checked above): a join, not a subquery per row.
    // A sale too large to price is marked without a fee, found among the sums below, and the whole
    // day rolled back: its fee would overflow, and the largest amount is checked in the same pass as
    // the sums instead of one of its own.
    let fee = format!(
        "CASE WHEN transactions.amount_fen > {MAX_CLEARABLE_FEN} THEN 0 ELSE {} END",
        fee_sql("transactions.amount_fen", "r.rate_ppm", "r.cap_fen")
    );
    txn.execute_raw(mark(
        fee,
        format!(
            "FROM fee_rates r WHERE r.merchant_id = transactions.merchant_id \
             AND r.card_org = transactions.card_org AND r.card_type = transactions.card_type AND {sales}"
        ),
    ))
    .await?;
    let sale_sums = txn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            "SELECT CAST(COUNT(*) AS BIGINT) AS sales, CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) AS gross, \
             CAST(COALESCE(SUM(fee_fen), 0) AS BIGINT) AS fees, MAX(amount_fen) AS largest \
             FROM transactions WHERE settlement_id = $1",
            [Value::from(settlement.id)],
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("the day's sales returned no row".into()))?;
    let largest: Option<i64> = sale_sums.try_get("", "largest")?;
    if let Some(largest) = largest.filter(|m| *m > MAX_CLEARABLE_FEN) {
        return Err(ClearingError::AmountTooLarge(largest));
    }
    let txn_count: i64 = sale_sums.try_get("", "sales")?;
    let gross = Money::from_fen(sale_sums.try_get::<i64>("", "gross")?, currency);
    let fees = Money::from_fen(sale_sums.try_get::<i64>("", "fees")?, currency);
    let credit = gross.checked_sub(fees)?;
    let opening = merchant_balance(&txn, merchant.id).await?;
    let mut available = opening.checked_add(credit)?;

    // Refunds held by earlier runs, the day's, and the console's refund requests submitted up to the
    // day's end (held or not), in the order they were made; a refund the balance cannot cover waits
    // (the ones after it may still fit).
    let held = refund_candidates(
        &txn,
        "SELECT t.id, t.amount_fen, t.txn_time FROM clearing_holds h \
         JOIN transactions t ON t.id = h.transaction_id \
         WHERE h.merchant_number_id = $1 AND t.txn_time < $2 AND t.settlement_id IS NULL"
            .into(),
        vec![number.id.into(), end.into()],
    )
    .await?;
    refunds.retain(|r| !held.iter().any(|h| h.0 == r.0));
    refunds.splice(0..0, held);
    let requests = request_candidates(&txn, merchant.id, number.id, end).await?;
    let mut queue: Vec<Debit> = refunds
        .into_iter()
        .map(|(id, amount, time)| Debit {
            time,
            item: Item::Transaction(id),
            amount,
        })
        .chain(requests.iter().map(|r| Debit {
            time: r.submitted_at,
            item: Item::Request(r.id),
            amount: r.amount_fen,
        }))
        .collect();
    queue.sort_by_key(|d| (d.time, d.item));
    let mut covered = Vec::new();
    let mut covered_requests = Vec::new();
    let mut refunded = Money::zero(currency);
    for debit in &queue {
        let amount = Money::from_fen(debit.amount, currency);
        if amount.fen() <= available.fen() {
            available = available.checked_sub(amount)?;
            refunded = refunded.checked_add(amount)?;
            match debit.item {
                Item::Transaction(id) => covered.push(id),
                Item::Request(id) => covered_requests.push(id),
            }
        } else {
            let shortfall = amount.checked_sub(available)?;
            match debit.item {
                Item::Transaction(id) => hold(&txn, id, number.id, date, shortfall.fen()).await?,
                Item::Request(id) => {
                    let request = requests.iter().find(|r| r.id == id).ok_or_else(|| {
                        DbErr::Custom(format!("refund request {id} left the queue"))
                    })?;
                    hold_request(&txn, request, shortfall.fen(), now).await?;
                }
            }
        }
    }
    for chunk in covered.chunks(500) {
        let mut values: Vec<Value> = vec![settlement.id.into(), date.into()];
        let placeholders: Vec<String> = chunk
            .iter()
            .map(|id| {
                values.push((*id).into());
                format!("${}", values.len())
            })
            .collect();
        let marked = txn
            .execute_raw(Statement::from_sql_and_values(
                backend,
                format!(
                    "UPDATE transactions SET settlement_id = $1, settlement_date = $2, fee_fen = 0 \
                     WHERE settlement_id IS NULL AND id IN ({})",
                    placeholders.join(", ")
                ),
                values.clone(),
            ))
            .await?;
        // The number's lock keeps its refunds unsettled since they were read: a difference is a bug,
        // and the settlement's refund total would be wrong.
        if marked.rows_affected() != chunk.len() as u64 {
            return Err(DbErr::Custom(format!(
                "marked {} of {} refunds",
                marked.rows_affected(),
                chunk.len()
            ))
            .into());
        }
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "DELETE FROM clearing_holds WHERE transaction_id IN ({})",
                (1..=chunk.len())
                    .map(|i| format!("${i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            values[2..].to_vec(),
        ))
        .await?;
    }

    for id in &covered_requests {
        let request = requests
            .iter()
            .find(|r| r.id == *id)
            .ok_or_else(|| DbErr::Custom(format!("refund request {id} left the queue")))?;
        clear_request(&txn, request, settlement.id, now).await?;
    }

    if backend == DbBackend::Postgres {
        for statement in migrations::tallies::settle_statements() {
            txn.execute_raw(Statement::from_sql_and_values(
                backend,
                statement,
                [Value::from(settlement.id)],
            ))
            .await?;
        }
    }
    let refund_count = (covered.len() + covered_requests.len()) as i64;
    if txn_count == 0 && refund_count == 0 {
        // No settlement, but refunds held on the way are kept for the next run.
        settlements::Entity::delete_by_id(settlement.id)
            .exec(&txn)
            .await?;
        txn.commit().await?;
        return Ok(Outcome::Nothing);
    }
    let net = gross.checked_sub(refunded)?.checked_sub(fees)?;

    let mut active: settlements::ActiveModel = settlement.into();
    active.txn_count = Set(txn_count);
    active.refund_count = Set(refund_count);
    active.gross_fen = Set(gross.fen());
    active.fee_fen = Set(fees.fen());
    active.refund_fen = Set(refunded.fen());
    active.net_fen = Set(net.fen());
    let settlement = active.update(&txn).await?;

    let mut balance = opening;
    if credit.is_positive() {
        balance = balance.checked_add(credit)?;
        post(
            &txn,
            merchant.id,
            "settlement_credit",
            credit,
            balance,
            settlement.id,
            now,
        )
        .await?;
    }
    if refunded.is_positive() {
        balance = balance.checked_sub(refunded)?;
        post(
            &txn,
            merchant.id,
            "refund_debit",
            refunded,
            balance,
            settlement.id,
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(Outcome::Settled(SettledDay {
        settlement_id: settlement.id,
        txn_count,
        gross_fen: gross.fen(),
        fee_fen: fees.fen(),
        refund_count,
        refund_fen: refunded.fen(),
        net_fen: net.fen(),
    }))
}

/// Something clearing debits from the ledger: a POS refund (or a void of a settled sale), or a refund
/// request of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Item {
    Transaction(i64),
    Request(i64),
}

#[derive(Debug, Clone, Copy)]
struct Debit {
    time: DateTime<Utc>,
    item: Item,
    amount: i64,
}

/// A refund request that waits for clearing.
#[derive(Debug, Clone)]
struct QueuedRequest {
    id: i64,
    original_txn_id: i64,
    amount_fen: i64,
    submitted_at: DateTime<Utc>,
    status: RefundStatus,
}

/// The merchant's refund requests on transactions of this number that were submitted before `end`
/// and are not cleared yet: newly submitted, or held by an earlier run.
async fn request_candidates(
    db: &impl ConnectionTrait,
    merchant_id: i64,
    number_id: i64,
    end: DateTime<Utc>,
) -> Result<Vec<QueuedRequest>, DbErr> {
    queued_requests(
        db,
        "SELECT r.id, r.original_txn_id, r.amount_fen, r.submitted_at, r.status \
         FROM refund_requests r JOIN transactions o ON o.id = r.original_txn_id \
         WHERE r.merchant_id = $1 AND r.status IN ('submitted', 'pending_clearing') \
         AND o.merchant_number_id = $2 AND r.submitted_at < $3",
        vec![merchant_id.into(), number_id.into(), end.into()],
    )
    .await
}

/// The refund requests a query selects (id, original_txn_id, amount_fen, submitted_at, status).
async fn queued_requests(
    db: &impl ConnectionTrait,
    sql: &str,
    values: Vec<Value>,
) -> Result<Vec<QueuedRequest>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            sql,
            values,
        ))
        .await?;
    rows.iter()
        .map(|row| {
            let status: String = row.try_get("", "status")?;
            Ok(QueuedRequest {
                id: row.try_get("", "id")?,
                original_txn_id: row.try_get("", "original_txn_id")?,
                amount_fen: row.try_get("", "amount_fen")?,
                submitted_at: row.try_get("", "submitted_at")?,
                status: RefundStatus::from_code(&status).ok_or_else(|| {
                    DbErr::Custom(format!("refund_requests.status {status:?} is not a status"))
                })?,
            })
        })
        .collect()
}

/// Moves a request from `from` by `event`, only while it is still in `from` (the number's lock keeps
/// other clearings away; nothing else moves a submitted request), and records the step.
async fn step_request(
    db: &impl ConnectionTrait,
    request: &QueuedRequest,
    event: RefundEvent,
    set: &str,
    mut values: Vec<Value>,
    now: DateTime<Utc>,
) -> Result<RefundStatus, DbErr> {
    let to = request
        .status
        .apply(event)
        .map_err(|e| DbErr::Custom(e.to_string()))?;
    let backend = db.get_database_backend();
    let first = values.len() + 1;
    values.extend([
        Value::from(to.code()),
        now.into(),
        request.id.into(),
        request.status.code().into(),
    ]);
    let changed = db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "UPDATE refund_requests SET {set}, status = ${first}, updated_at = ${} \
                 WHERE id = ${} AND status = ${}",
                first + 1,
                first + 2,
                first + 3
            ),
            values,
        ))
        .await?;
    if changed.rows_affected() != 1 {
        return Err(DbErr::Custom(format!(
            "refund request {} left status {} while it was cleared",
            request.id,
            request.status.code()
        )));
    }
    if to != request.status {
        refund_events::ActiveModel {
            refund_request_id: Set(request.id),
            from_status: Set(Some(request.status.code().to_owned())),
            to_status: Set(to.code().to_owned()),
            operator_id: Set(None),
            comment: Set(None),
            occurred_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(to)
}

/// A request the balance covers: cleared in this settlement, its amount moves from in flight to
/// refunded on the original transaction (their sum, which invariant 1 bounds, stays the same).
async fn clear_request(
    db: &impl ConnectionTrait,
    request: &QueuedRequest,
    settlement_id: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    step_request(
        db,
        request,
        RefundEvent::Clear,
        "settlement_id = $1, cleared_at = $2, shortfall_fen = NULL",
        vec![settlement_id.into(), now.into()],
        now,
    )
    .await?;
    let moved = db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "UPDATE transactions SET refund_pending_fen = refund_pending_fen - $1, \
             refunded_fen = refunded_fen + $1 WHERE id = $2 AND refund_pending_fen >= $1",
            [request.amount_fen.into(), request.original_txn_id.into()],
        ))
        .await?;
    if moved.rows_affected() != 1 {
        return Err(DbErr::Custom(format!(
            "refund request {}: its transaction has less than its amount in flight",
            request.id
        )));
    }
    Ok(())
}

/// A request the balance cannot cover: `pending_clearing` with what the balance lacked; the next run
/// tries it again.
async fn hold_request(
    db: &impl ConnectionTrait,
    request: &QueuedRequest,
    shortfall_fen: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    step_request(
        db,
        request,
        RefundEvent::HoldForBalance,
        "shortfall_fen = $1",
        vec![shortfall_fen.into()],
        now,
    )
    .await?;
    Ok(())
}

/// (id, amount, time) of the refunds a query selects.
async fn refund_candidates(
    db: &impl ConnectionTrait,
    sql: String,
    values: Vec<Value>,
) -> Result<Vec<(i64, i64, DateTime<Utc>)>, DbErr> {
    db.query_all_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        sql,
        values,
    ))
    .await?
    .iter()
    .map(|row| {
        Ok((
            row.try_get("", "id")?,
            row.try_get("", "amount_fen")?,
            row.try_get("", "txn_time")?,
        ))
    })
    .collect()
}

/// Records (or updates) a refund that waits for the balance.
async fn hold(
    db: &impl ConnectionTrait,
    transaction_id: i64,
    merchant_number_id: i64,
    date: NaiveDate,
    shortfall_fen: i64,
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        "INSERT INTO clearing_holds (transaction_id, merchant_number_id, held_since, shortfall_fen) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (transaction_id) DO UPDATE SET shortfall_fen = excluded.shortfall_fen",
        [transaction_id.into(), merchant_number_id.into(), date.into(), shortfall_fen.into()],
    ))
    .await?;
    Ok(())
}

/// The merchant's balance, read under the row lock its update will need (PostgreSQL), so that two
/// numbers of one merchant cleared at once post one after the other. `FOR NO KEY UPDATE`, not `FOR
/// UPDATE`: each clearing already holds a key-share lock on the merchant's row (its new settlement
/// refers to it), which `FOR UPDATE` waits for, so two clearings of one merchant deadlocked.
async fn merchant_balance(db: &impl ConnectionTrait, merchant_id: i64) -> Result<Money, DbErr> {
    let backend = db.get_database_backend();
    let lock = if backend == DbBackend::Postgres {
        " FOR NO KEY UPDATE"
    } else {
        ""
    };
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            format!("SELECT balance_fen, currency FROM merchants WHERE id = $1{lock}"),
            [Value::from(merchant_id)],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("merchant {merchant_id}")))?;
    let currency = Currency::parse(&row.try_get::<String>("", "currency")?)
        .map_err(|e| DbErr::Custom(format!("merchant {merchant_id}: {e}")))?;
    Ok(Money::from_fen(row.try_get("", "balance_fen")?, currency))
}

/// Appends a ledger entry of a settlement and keeps the merchant's balance equal to its balance_after.
async fn post(
    db: &impl ConnectionTrait,
    merchant_id: i64,
    entry_type: &str,
    amount: Money,
    balance_after: Money,
    settlement_id: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    append(
        db,
        ledger_entries::ActiveModel {
            merchant_id: Set(merchant_id),
            entry_type: Set(entry_type.to_owned()),
            amount_fen: Set(amount.fen()),
            balance_after_fen: Set(balance_after.fen()),
            settlement_id: Set(Some(settlement_id)),
            created_at: Set(now),
            ..Default::default()
        },
        now,
    )
    .await
}

async fn append(
    db: &impl ConnectionTrait,
    entry: ledger_entries::ActiveModel,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let entry = entry.insert(db).await?;
    merchants::Entity::update_many()
        .col_expr(
            merchants::Column::BalanceFen,
            entry.balance_after_fen.into(),
        )
        .col_expr(merchants::Column::UpdatedAt, now.into())
        .filter(merchants::Column::Id.eq(entry.merchant_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Money the merchant pays into its account (platform side), for example to cover refunds that
/// wait for the balance: an `adjustment_credit` with a memo. The next clearing run debits the
/// held refunds from it. Returns the balance after it.
pub async fn deposit(
    db: &DatabaseConnection,
    merchant_id: i64,
    amount: Money,
    memo: &str,
    now: DateTime<Utc>,
) -> Result<Money, DbErr> {
    if !amount.is_positive() {
        return Err(DbErr::Custom("a deposit is a positive amount".into()));
    }
    let txn = begin_write(db).await?;
    let balance = merchant_balance(&txn, merchant_id).await?;
    let after = balance
        .checked_add(amount)
        .map_err(|e| DbErr::Custom(e.to_string()))?;
    append(
        &txn,
        ledger_entries::ActiveModel {
            merchant_id: Set(merchant_id),
            entry_type: Set("adjustment_credit".to_owned()),
            amount_fen: Set(amount.fen()),
            balance_after_fen: Set(after.fen()),
            memo: Set(Some(memo.to_owned())),
            created_at: Set(now),
            ..Default::default()
        },
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Whether the fee rule in SQL gives what the domain gives; used by the tests on both backends.
pub async fn fee_in_sql(
    db: &impl ConnectionTrait,
    amount_fen: i64,
    rate_ppm: i64,
    cap_fen: Option<i64>,
) -> Result<i64, DbErr> {
    let backend = db.get_database_backend();
    let cast = |p: &str| format!("CAST({p} AS BIGINT)");
    let sql = format!(
        "SELECT CAST({} AS BIGINT) AS fee",
        fee_sql(&cast("$1"), &cast("$2"), &cast("$3"))
    );
    db.query_one_raw(Statement::from_sql_and_values(
        backend,
        sql,
        [Value::from(amount_fen), rate_ppm.into(), cap_fen.into()],
    ))
    .await?
    .ok_or_else(|| DbErr::Custom("no row".into()))?
    .try_get("", "fee")
}
