//! Sales written in groups. A sale alone costs a write transaction of its own: a dozen statements,
//! each a round trip, and a commit; under a stream of sales that was most of the host's work. The
//! sales that arrive while a group is being written wait in a queue and go into the next group as
//! one write transaction: one look at the open batches, one at the clearing state of the merchant
//! numbers' days, one insert of the keys and one of the transactions (and on PostgreSQL one run of
//! each tally's statement trigger) for the whole group. A lone sale is written at once; while sales
//! stream in, a group waits a few milliseconds to grow ([`LINGER`]).
//!
//! Each sale gets the answer it would have got alone. Of two senders of one message in a group, the
//! first writes and the second gets its answer as a repeat. A group that fails as a whole (a
//! deadlock with another instance, a database error) is rolled back and its sales are written one
//! by one, so that one sale's failure is its own.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait,
};
use tokio::sync::{mpsc, oneshot};

use super::{
    approved, key_conflict, key_row, next_transaction_ids, pay, refusal_in, refused, standings,
    stored_answer, Handled, Payment, Terminal, Written,
};
use crate::backend::db::begin_write_in_turn;
use crate::backend::entities::{gateway_messages, terminal_batches, transactions};
use crate::backend::feed::Feed;
use crate::backend::local_time;
use crate::backend::services::clearing;
use crate::domain::gateway::{Card, Key, Kind, ResponseCode};
use crate::domain::TxnType;
use crate::error::AppError;

/// The most sales in one group: within both backends' limits on a statement's parameters
/// (26 per transaction row).
const MAX_GROUP: usize = 256;

/// Sales waiting for a writer, beyond which a sender waits for room.
const QUEUE: usize = 4 * MAX_GROUP;

/// A sale past the gateway's checks of the message: its terminal exists, and whether it may pay is
/// checked with its group.
pub(super) struct Sale {
    pub terminal: Terminal,
    pub key: Key,
    pub amount_fen: i64,
    pub card: Card,
    /// The hash of the canonical message: a repeat with other content is refused.
    pub hash: String,
    pub now: DateTime<Utc>,
}

struct Queued {
    sale: Sale,
    /// The sale back, with what became of it.
    answer: oneshot::Sender<(Sale, Outcome)>,
}

/// The queue of sales and the writer that empties it.
#[derive(Clone)]
pub(super) struct Queue {
    sender: mpsc::Sender<Queued>,
}

impl Queue {
    /// Starts the writer. One is enough: on SQLite one transaction writes at a time anyway, and on
    /// PostgreSQL a second one made each group half as large and every sale dearer (each group
    /// costs its statements and a run of each tally's trigger, whatever its size).
    pub fn start(db: &DatabaseConnection, feed: &Feed) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE);
        tokio::spawn(write_groups(db.clone(), feed.clone(), receiver));
        Self { sender }
    }

    /// Writes `sale` with the next group and gives its answer. What the group leaves to the sale
    /// (a stored answer to read, a write of its own after the group failed) is done here, in the
    /// sender's task: the writer goes on to the next group meanwhile.
    pub async fn write(
        &self,
        db: &DatabaseConnection,
        feed: &Feed,
        sale: Sale,
    ) -> Result<Handled, AppError> {
        let (answer, answered) = oneshot::channel();
        let (sale, outcome) = match self.sender.send(Queued { sale, answer }).await {
            Ok(()) => answered
                .await
                .map_err(|e| AppError::internal("waiting for a sale's writer", &e))?,
            // No writer left (the server is stopping).
            Err(mpsc::error::SendError(queued)) => (queued.sale, Outcome::Alone),
        };
        match outcome {
            Outcome::Answered(handled) => Ok(*handled),
            Outcome::Stored(otherwise) => {
                let stored =
                    stored_answer(db, sale.terminal.id, &sale.key, &sale.hash, sale.now).await?;
                match (stored, otherwise) {
                    (Some(stored), _) => Ok(stored),
                    (None, Some(code)) => Ok(refused(code, sale.now)),
                    (None, None) => Err(AppError::Conflict),
                }
            }
            Outcome::Alone => {
                let standing = standings(db, [sale.terminal.id]).await?;
                if let Some(code) = refusal_in(&standing, sale.terminal.id) {
                    return Ok(refused(code, sale.now));
                }
                let payment = Payment::Sale { card: sale.card };
                let (terminal, key) = (&sale.terminal, &sale.key);
                pay(
                    db,
                    feed,
                    terminal,
                    key,
                    sale.amount_fen,
                    payment,
                    &sale.hash,
                    sale.now,
                )
                .await
            }
        }
    }
}

/// A group at least this large means sales are streaming in: the next group waits [`LINGER`] to
/// grow before it is written.
const STREAMING: usize = 8;

/// How long a group waits for more sales while they stream in: a few milliseconds more for each
/// sale, and a group twice as large, so that each sale's share of a group's fixed cost halves.
const LINGER: std::time::Duration = std::time::Duration::from_millis(5);

async fn write_groups(db: DatabaseConnection, feed: Feed, mut receiver: mpsc::Receiver<Queued>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    let mut streaming = false;
    loop {
        if receiver.recv_many(&mut group, MAX_GROUP).await == 0 {
            return;
        }
        if streaming && group.len() < MAX_GROUP {
            tokio::time::sleep(LINGER).await;
            while group.len() < MAX_GROUP {
                match receiver.try_recv() {
                    Ok(queued) => group.push(queued),
                    Err(_) => break,
                }
            }
        }
        streaming = group.len() >= STREAMING;
        write_group(&db, &feed, std::mem::take(&mut group)).await;
    }
}

async fn write_group(db: &DatabaseConnection, feed: &Feed, group: Vec<Queued>) {
    let sales: Vec<&Sale> = group.iter().map(|q| &q.sale).collect();
    let started = std::time::Instant::now();
    let outcomes = match write_together(db, feed, &sales).await {
        Ok(outcomes) => {
            tracing::debug!(
                sales = sales.len(),
                took_us = started.elapsed().as_micros(),
                "a group of sales written"
            );
            outcomes
        }
        Err(error) => {
            tracing::warn!(%error, sales = sales.len(), "a group of sales failed: written one by one");
            sales.iter().map(|_| Outcome::Alone).collect()
        }
    };
    for (queued, outcome) in group.into_iter().zip(outcomes) {
        // The sender may have gone (its connection closed): what was written stands all the same.
        let _ = queued.answer.send((queued.sale, outcome));
    }
}

/// What became of a sale of a group.
enum Outcome {
    Answered(Box<Handled>),
    /// Its key was used (by an earlier sale of the group or another writer): the stored answer, or
    /// when none is stored, this refusal (the sale was refused, and so was not stored).
    Stored(Option<ResponseCode>),
    /// Not written: to be written alone (its group failed as a whole).
    Alone,
}

/// Writes the sales that pass in one write transaction, and says what became of each.
async fn write_together(
    db: &DatabaseConnection,
    feed: &Feed,
    sales: &[&Sale],
) -> Result<Vec<Outcome>, AppError> {
    let (_turn, txn) = begin_write_in_turn(db).await?;

    // Payments share their batch's lock, as one by one: a sign-out waits for the group.
    let terminals: BTreeSet<i64> = sales.iter().map(|s| s.terminal.id).collect();
    let mut open = terminal_batches::Entity::find()
        .select_only()
        .column(terminal_batches::Column::TerminalId)
        .column(terminal_batches::Column::BatchNo)
        .filter(terminal_batches::Column::TerminalId.is_in(terminals.iter().copied()))
        .filter(terminal_batches::Column::Status.eq("open"))
        .order_by_asc(terminal_batches::Column::TerminalId);
    if db.get_database_backend() == DbBackend::Postgres {
        open = open.lock_shared();
    }
    let open: HashMap<i64, String> = open.into_tuple().all(&txn).await?.into_iter().collect();
    // Whether each terminal may pay, read in the group's transaction: a terminal disabled before
    // it began is refused.
    let standing = standings(&txn, terminals.iter().copied()).await?;

    let mut outcomes = Vec::with_capacity(sales.len());
    let mut first_of_key = HashSet::new();
    let mut writing = Vec::new();
    for (i, sale) in sales.iter().enumerate() {
        let (terminal, key) = (&sale.terminal, &sale.key);
        if let Some(code) = refusal_in(&standing, terminal.id) {
            outcomes.push(Outcome::Answered(Box::new(refused(code, sale.now))));
            continue;
        }
        if !first_of_key.insert((terminal.id, key.batch.as_str(), key.voucher.as_str())) {
            // The same key again in this group: the first's answer, once it is written.
            outcomes.push(Outcome::Stored(None));
            continue;
        }
        let refusal = match open.get(&terminal.id) {
            None => Some(ResponseCode::NotSignedIn),
            Some(batch) if *batch != key.batch => Some(ResponseCode::BatchNotOpen),
            Some(_) => None,
        };
        match refusal {
            // A repeat of a sale accepted before its batch closed still gets its answer.
            Some(code) => outcomes.push(Outcome::Stored(Some(code))),
            None => {
                outcomes.push(Outcome::Stored(None));
                writing.push(i);
            }
        }
    }
    if writing.is_empty() {
        txn.rollback().await?;
        return Ok(outcomes);
    }

    // The booking day of each merchant number's day, looked at once for the group.
    let days: Vec<NaiveDate> = writing
        .iter()
        .map(|&i| local_time::today(sales[i].now, sales[i].terminal.tz))
        .collect();
    let wanted: BTreeSet<(i64, NaiveDate)> = writing
        .iter()
        .zip(&days)
        .map(|(&i, day)| (sales[i].terminal.number_id, *day))
        .collect();
    let booked = clearing::booking_days(&txn, &wanted).await?;
    let ids = next_transaction_ids(&txn, writing.len()).await?;
    let mut answers = Vec::with_capacity(writing.len());
    let mut keys = Vec::with_capacity(writing.len());
    for ((&i, id), day) in writing.iter().zip(ids).zip(days) {
        let sale = sales[i];
        let terminal = &sale.terminal;
        let booked_on = booked
            .get(&(terminal.number_id, day))
            .copied()
            .unwrap_or(day);
        let txn_time = clearing::booked_at(sale.now, day, booked_on, terminal.tz);
        let answer = approved(id, sale.amount_fen, booked_on, sale.now);
        keys.push(key_row(
            terminal.id,
            &sale.key,
            Kind::Sale,
            &sale.hash,
            &answer,
            id,
        )?);
        answers.push((i, id, txn_time, booked_on, answer));
    }

    // The keys first, as one by one; those another writer holds are left to it.
    let mut insert = gateway_messages::Entity::insert_many(keys)
        .on_conflict(key_conflict())
        .into_query();
    insert.returning(Query::returning().columns([
        gateway_messages::Column::TerminalId,
        gateway_messages::Column::BatchNo,
        gateway_messages::Column::VoucherNo,
    ]));
    let backend = db.get_database_backend();
    let taken: HashSet<(i64, String, String)> = txn
        .query_all_raw(backend.build(&insert))
        .await?
        .iter()
        .map(|row| {
            Ok((
                row.try_get_by_index(0)?,
                row.try_get_by_index(1)?,
                row.try_get_by_index(2)?,
            ))
        })
        .collect::<Result<_, sea_orm::DbErr>>()?;

    let mut rows = Vec::with_capacity(answers.len());
    let mut accepted = Vec::with_capacity(answers.len());
    let mut ids = Vec::with_capacity(answers.len());
    for (i, id, txn_time, booked_on, answer) in answers {
        let sale = sales[i];
        let key = (
            sale.terminal.id,
            sale.key.batch.clone(),
            sale.key.voucher.clone(),
        );
        if !taken.contains(&key) {
            continue;
        }
        let written = Written {
            id,
            terminal: &sale.terminal,
            key: &sale.key,
            txn_type: TxnType::Purchase,
            card: &sale.card,
            amount_fen: sale.amount_fen,
            txn_time,
            booked_on,
            original_id: None,
        };
        rows.push(written.row(&answer));
        ids.push(id);
        accepted.push((i, answer));
    }
    if !rows.is_empty() {
        transactions::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
    }
    feed.commit(txn, &ids).await?;
    for (i, answer) in accepted {
        outcomes[i] = Outcome::Answered(Box::new(Handled::fresh(answer)));
    }
    Ok(outcomes)
}
