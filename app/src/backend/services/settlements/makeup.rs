//! What a settlement is made of, read back from what it settled, so that its detail and its
//! drill-down can be set side by side and checked to the fen.

use sea_orm::{ConnectionTrait, DbErr, Statement, Value};

use super::visible;
use crate::backend::services::SALE_TYPES_SQL;
use crate::backend::Session;
use crate::contract::settlements::SettlementMakeup;
use crate::domain::breakdown::Tally;
use crate::error::AppError;

/// The makeup of settlement `id`, if the session may see it. All of its refunds count, whoever asked
/// for them: the settlement's own figures do.
pub async fn makeup(
    db: &impl ConnectionTrait,
    session: &Session,
    id: i64,
) -> Result<SettlementMakeup, AppError> {
    let settlement = visible(db, session, id).await?;
    of(db, settlement.id).await
}

/// The makeup of a settlement the caller has found visible.
pub(super) async fn of(
    db: &impl ConnectionTrait,
    settlement_id: i64,
) -> Result<SettlementMakeup, AppError> {
    let backend = db.get_database_backend();
    let one =
        |sql: &str| Statement::from_sql_and_values(backend, sql, [Value::from(settlement_id)]);
    // A settlement marks the sales it priced and the terminal's refunds and voids it debited; the
    // settlement index finds them.
    let sale = format!("txn_type IN {SALE_TYPES_SQL}");
    let txns = db
        .query_one_raw(one(&format!(
            "SELECT \
               CAST(COALESCE(SUM(CASE WHEN {sale} THEN 1 ELSE 0 END), 0) AS BIGINT) AS sales, \
               CAST(COALESCE(SUM(CASE WHEN {sale} THEN amount_fen ELSE 0 END), 0) AS BIGINT) AS gross, \
               CAST(COALESCE(SUM(CASE WHEN {sale} THEN 0 ELSE 1 END), 0) AS BIGINT) AS refunds, \
               CAST(COALESCE(SUM(CASE WHEN {sale} THEN 0 ELSE amount_fen END), 0) AS BIGINT) AS refunded, \
               CAST(COALESCE(SUM(fee_fen), 0) AS BIGINT) AS fees \
             FROM transactions WHERE settlement_id = $1",
        )))
        .await?
        .ok_or_else(|| DbErr::Custom("a settlement's sums returned no row".into()))?;
    let requests = db
        .query_one_raw(one(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n, CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) AS fen \
             FROM refund_requests WHERE settlement_id = $1",
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("a settlement's refund requests returned no row".into()))?;
    Ok(SettlementMakeup {
        sales: Tally {
            count: txns.try_get("", "sales")?,
            amount_fen: txns.try_get("", "gross")?,
        },
        fee_fen: txns.try_get("", "fees")?,
        terminal_refunds: Tally {
            count: txns.try_get("", "refunds")?,
            amount_fen: txns.try_get("", "refunded")?,
        },
        console_refunds: Tally {
            count: requests.try_get("", "n")?,
            amount_fen: requests.try_get("", "fen")?,
        },
    })
}
