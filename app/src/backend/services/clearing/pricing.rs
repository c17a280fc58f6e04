//! Pricing: every sale of the day needs its card's fee rate; the sales are priced by the fee rule of
//! [`crate::domain::clearing`] in SQL, marked in the settlement in the same statement, and summed.

use sea_orm::{ConnectionTrait, DbErr, Statement, Value};

use super::marking::{Day, SALE_TYPES};
use super::ClearingError;
use crate::domain::clearing::{fee_sql, MAX_CLEARABLE_FEN};
use crate::domain::{Currency, Money};

/// Whether a tally or transaction row `t` has no fee rate for its kind of card.
fn no_rate(t: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM fee_rates r WHERE r.merchant_id = {t}.merchant_id \
         AND r.card_org = {t}.card_org AND r.card_type = {t}.card_type)"
    )
}

/// A sale without a rate stops the day. The day's tallies tell, without reading its sales, whether any
/// kind of card sold that day lacks a rate; only then are the sales read, to name the cards (a
/// voided sale needs no rate). Tallies are per merchant-local day, as [`Day`]s are.
pub(super) async fn check_rates(db: &impl ConnectionTrait, day: &Day) -> Result<(), ClearingError> {
    let backend = db.get_database_backend();
    let unrated_kinds = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT COUNT(*) AS n FROM {tallies} t WHERE t.merchant_id = $1 AND t.txn_date = $2 \
                 AND t.merchant_number_id = $3 AND t.settlement_id = 0 AND t.status = 'success' \
                 AND t.txn_type IN {SALE_TYPES} AND {}",
                no_rate("t"),
                tallies = crate::backend::tallies::TRANSACTION.table,
            ),
            [day.merchant_id.into(), day.date.into(), day.number_id.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("the day's tallies returned no row".into()))?
        .try_get::<i64>("", "n")?;
    if unrated_kinds == 0 {
        return Ok(());
    }
    let unpriced = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT DISTINCT card_org, card_type FROM transactions WHERE {} AND {}",
                Day::sales(),
                no_rate("transactions")
            ),
            day.values(),
        ))
        .await?;
    if unpriced.is_empty() {
        return Ok(());
    }
    let names = unpriced
        .iter()
        .map(|row| {
            let org: String = row.try_get("", "card_org")?;
            let kind: String = row.try_get("", "card_type")?;
            Ok(format!("{org} {kind}"))
        })
        .collect::<Result<Vec<_>, DbErr>>()?;
    Err(ClearingError::MissingFeeRate(names.join(", ")))
}

/// The priced sales of a settlement.
pub(super) struct Sales {
    pub count: i64,
    pub gross: Money,
    pub fees: Money,
}

/// Prices the day's sales by joining the rates (every sale has one, [`check_rates`]), marks them in
/// `settlement_id` in the same statement (a join, not a subquery per row), and sums them. A sale too
/// large to price is marked without a fee, found among the sums, and the whole day rolled back by
/// the caller: its fee would overflow, and the largest amount is checked in the same pass as the sums
/// instead of one of its own.
pub(super) async fn price_sales(
    db: &impl ConnectionTrait,
    day: &Day,
    settlement_id: i64,
    currency: Currency,
) -> Result<Sales, ClearingError> {
    let backend = db.get_database_backend();
    let fee = format!(
        "CASE WHEN transactions.amount_fen > {MAX_CLEARABLE_FEN} THEN 0 ELSE {} END",
        fee_sql("transactions.amount_fen", "r.rate_ppm", "r.cap_fen")
    );
    let mut values = day.values();
    values.extend([settlement_id.into(), day.date.into()]);
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        format!(
            "UPDATE transactions SET settlement_id = $4, settlement_date = $5, fee_fen = {fee} \
             FROM fee_rates r WHERE r.merchant_id = transactions.merchant_id \
             AND r.card_org = transactions.card_org AND r.card_type = transactions.card_type AND {}",
            Day::sales()
        ),
        values,
    ))
    .await?;
    let sums = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            "SELECT CAST(COUNT(*) AS BIGINT) AS sales, CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) AS gross, \
             CAST(COALESCE(SUM(fee_fen), 0) AS BIGINT) AS fees, MAX(amount_fen) AS largest \
             FROM transactions WHERE settlement_id = $1",
            [Value::from(settlement_id)],
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("the day's sales returned no row".into()))?;
    let largest: Option<i64> = sums.try_get("", "largest")?;
    if let Some(largest) = largest.filter(|m| *m > MAX_CLEARABLE_FEN) {
        return Err(ClearingError::AmountTooLarge(largest));
    }
    Ok(Sales {
        count: sums.try_get("", "sales")?,
        gross: Money::from_fen(sums.try_get::<i64>("", "gross")?, currency),
        fees: Money::from_fen(sums.try_get::<i64>("", "fees")?, currency),
    })
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
