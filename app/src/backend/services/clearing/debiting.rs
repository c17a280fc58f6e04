//! Debiting: the refunds waiting for a merchant number's balance (held by earlier runs, the day's
//! own, the console's requests) are read, put in the debit order of
//! [`crate::domain::clearing::plan_debits`], and each one is either marked in the settlement or held
//! with its shortfall for the next run.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, Set, Statement, Value};

use super::marking::Day;
use crate::backend::entities::refund_events;
use crate::domain::clearing::{Debit, DebitItem, DebitPlan};
use crate::domain::refund::{RefundEvent, RefundStatus};
use crate::domain::{Currency, Money};

/// A refund request that waits for clearing.
#[derive(Debug, Clone)]
pub(super) struct QueuedRequest {
    id: i64,
    original_txn_id: i64,
    amount_fen: i64,
    submitted_at: DateTime<Utc>,
    status: RefundStatus,
}

/// What waits for the balance of a number and day: the terminal refunds held by earlier runs and the
/// day's own (read by the caller, before the day's sales are marked), and the console's requests
/// submitted up to the day's end, held or not.
pub(super) struct Waiting {
    pub debits: Vec<Debit>,
    requests: Vec<QueuedRequest>,
}

impl Waiting {
    pub async fn read(
        db: &impl ConnectionTrait,
        day: &Day,
        mut day_refunds: Vec<(i64, i64, DateTime<Utc>)>,
        currency: Currency,
    ) -> Result<Self, DbErr> {
        let held = refunds_of(
            db,
            "SELECT t.id, t.amount_fen, t.txn_time FROM clearing_holds h \
             JOIN transactions t ON t.id = h.transaction_id \
             WHERE h.merchant_number_id = $1 AND t.txn_time < $2 AND t.settlement_id IS NULL"
                .into(),
            vec![day.number_id.into(), day.end.into()],
        )
        .await?;
        day_refunds.retain(|r| !held.iter().any(|h| h.0 == r.0));
        let requests = queued_requests(
            db,
            "SELECT r.id, r.original_txn_id, r.amount_fen, r.submitted_at, r.status \
             FROM refund_requests r JOIN transactions o ON o.id = r.original_txn_id \
             WHERE r.merchant_id = $1 AND r.status IN ('submitted', 'pending_clearing') \
             AND o.merchant_number_id = $2 AND r.submitted_at < $3",
            vec![day.merchant_id.into(), day.number_id.into(), day.end.into()],
        )
        .await?;
        let debits = held
            .into_iter()
            .chain(day_refunds)
            .map(|(id, amount, time)| Debit {
                time,
                item: DebitItem::Transaction(id),
                amount: Money::from_fen(amount, currency),
            })
            .chain(requests.iter().map(|r| Debit {
                time: r.submitted_at,
                item: DebitItem::Request(r.id),
                amount: Money::from_fen(r.amount_fen, currency),
            }))
            .collect();
        Ok(Self { debits, requests })
    }

    fn request(&self, id: i64) -> Result<&QueuedRequest, DbErr> {
        self.requests
            .iter()
            .find(|r| r.id == id)
            .ok_or_else(|| DbErr::Custom(format!("refund request {id} left the queue")))
    }

    /// Carries out `plan` in settlement `settlement_id`: covered refunds are marked settled (and
    /// leave the holds), covered requests cleared; the others held with their shortfall.
    pub async fn debit(
        &self,
        db: &impl ConnectionTrait,
        day: &Day,
        settlement_id: i64,
        plan: &DebitPlan,
        now: DateTime<Utc>,
    ) -> Result<(), DbErr> {
        for (item, shortfall) in &plan.held {
            match *item {
                DebitItem::Transaction(id) => {
                    hold(db, id, day.number_id, day.date, shortfall.fen()).await?
                }
                DebitItem::Request(id) => {
                    step_request(
                        db,
                        self.request(id)?,
                        RefundEvent::HoldForBalance,
                        "shortfall_fen = $1",
                        vec![shortfall.fen().into()],
                        now,
                    )
                    .await?;
                }
            }
        }
        let refunds: Vec<i64> = plan
            .covered
            .iter()
            .filter_map(|item| match item {
                DebitItem::Transaction(id) => Some(*id),
                DebitItem::Request(_) => None,
            })
            .collect();
        for chunk in refunds.chunks(500) {
            mark_refunds(db, day, settlement_id, chunk).await?;
        }
        for item in &plan.covered {
            if let DebitItem::Request(id) = item {
                clear_request(db, self.request(*id)?, settlement_id, now).await?;
            }
        }
        Ok(())
    }
}

/// Marks terminal refunds settled in `settlement_id` and removes their holds.
async fn mark_refunds(
    db: &impl ConnectionTrait,
    day: &Day,
    settlement_id: i64,
    ids: &[i64],
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let mut values: Vec<Value> = vec![settlement_id.into(), day.date.into()];
    let placeholders: Vec<String> = ids
        .iter()
        .map(|id| {
            values.push((*id).into());
            format!("${}", values.len())
        })
        .collect();
    let marked = db
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
    if marked.rows_affected() != ids.len() as u64 {
        return Err(DbErr::Custom(format!(
            "marked {} of {} refunds",
            marked.rows_affected(),
            ids.len()
        )));
    }
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        format!(
            "DELETE FROM clearing_holds WHERE transaction_id IN ({})",
            (1..=ids.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        values[2..].to_vec(),
    ))
    .await?;
    Ok(())
}

/// The refund requests a query selects (id, original_txn_id, amount_fen, submitted_at, status).
pub(super) async fn queued_requests(
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
pub(super) async fn step_request(
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

/// (id, amount, time) of the refunds a query selects.
pub(super) async fn refunds_of(
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
