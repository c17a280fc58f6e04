//! The host side of the terminal gateway: sign-in opens a batch, sales, voids and refunds become
//! transactions of the open batch, sign-out closes it against the host's own totals.
//!
//! A payment message's key is (terminal, batch, voucher). Its answer is stored under the key in the
//! same database transaction that writes what it did, and the key's row is written first: of any
//! number of senders of one message, one writes, the others wait for it and get its answer; a message
//! with a used key and other content is refused (`94`). Refusals create nothing and are not stored.
//!
//! Voids and refunds count their amount on the original sale with the one guard every refund goes
//! through ([`refunds::take_refundable`]): a void takes the whole amount, so a sale is voided once
//! and never both voided and refunded. A transaction is booked on a day that clearing has not settled
//! yet ([`clearing::booking_time`]), so none is left out of a settlement.
//!
//! Sales, nearly all of the traffic, are written in groups ([`sales`]); the rest one by one.

mod sales;

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use rand::Rng;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr,
    EntityTrait, QueryFilter, QueryResult, QuerySelect, Set, SqlErr, Statement,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::backend::db::begin_write_in_turn;
use crate::backend::entities::{gateway_messages, merchants, terminal_batches, transactions};
use crate::backend::feed::Feed;
use crate::backend::local_time;
use crate::backend::services::refunds::{take_refundable, Counted};
use crate::backend::services::{clearing, decode};
use crate::domain::breakdown::Tally;
use crate::domain::card::MaskedPan;
use crate::domain::gateway::{
    in_balance, BatchTotals, Card, Key, Kind, Message, OriginalRef, Refusal, ResponseCode,
};
use crate::domain::refund::{check_refundable, Original, RefundRefusal};
use crate::domain::{
    Currency, MerchantNumberStatus, MerchantStatus, Money, TerminalStatus, TxnStatus, TxnType,
};
use crate::error::AppError;

/// The gateway's limits.
#[derive(Debug, Clone, Copy)]
pub struct GatewayConfig {
    /// The largest amount of one payment, in fen.
    pub max_amount_fen: i64,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            max_amount_fen: 10_000_000,
        }
    }
}

/// The host's answer to a message, as sent to the terminal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// The response code (`00` approved).
    pub code: String,
    pub reason: ResponseCode,
    pub message: String,
    /// The field at fault, for a malformed message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub host_time: DateTime<Utc>,
    /// Sign-in: the batch opened (or, refused, the batch that is open).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
    /// Payments: the host's reference number, printed on the receipt; a refund or void names its
    /// original by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_fen: Option<i64>,
    /// Payments: the business day the transaction is booked on (settled the day after).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booked_on: Option<NaiveDate>,
    /// A refund above what is left: what is left of the original.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_fen: Option<i64>,
    /// Sign-out: whether the terminal's totals agree with the host's, and the host's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balanced: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_totals: Option<BatchTotals>,
}

impl Answer {
    fn new(code: ResponseCode, now: DateTime<Utc>) -> Self {
        Self {
            code: code.code().to_owned(),
            reason: code,
            message: code.message().to_owned(),
            field: None,
            host_time: now,
            batch: None,
            reference: None,
            auth_code: None,
            amount_fen: None,
            booked_on: None,
            left_fen: None,
            balanced: None,
            host_totals: None,
        }
    }

    pub fn refused(refusal: Refusal, now: DateTime<Utc>) -> Self {
        Self {
            field: refusal.field,
            ..Self::new(refusal.code, now)
        }
    }
}

/// What the gateway did with a message.
#[derive(Debug, Clone)]
pub struct Handled {
    pub answer: Answer,
    /// The answer given to the first sender of this message, given again.
    pub repeated: bool,
}

impl Handled {
    fn fresh(answer: Answer) -> Self {
        Self {
            answer,
            repeated: false,
        }
    }
}

/// The gateway's host side: its limits and the writers its sales go through.
#[derive(Clone)]
pub struct Gateway {
    db: DatabaseConnection,
    config: GatewayConfig,
    sales: sales::Queue,
    terminals: KnownTerminals,
    /// Where the transactions it writes are announced (to the transaction monitor).
    feed: Feed,
}

impl Gateway {
    /// Starts the writers of sales (tasks of the running tokio runtime); they end when the last
    /// clone of the gateway is dropped. Every transaction written is announced on `feed`.
    pub fn start(db: DatabaseConnection, config: GatewayConfig, feed: Feed) -> Self {
        let sales = sales::Queue::start(&db, &feed);
        Self {
            db,
            config,
            sales,
            terminals: KnownTerminals::default(),
            feed,
        }
    }

    /// Handles one message of `kind` with its JSON `body`.
    pub async fn handle(
        &self,
        kind: Kind,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Handled, AppError> {
        let db = &self.db;
        let message = match Message::parse(kind, body, self.config.max_amount_fen) {
            Ok(message) => message,
            Err(refusal) => return Ok(Handled::fresh(Answer::refused(refusal, now))),
        };
        // A sale's terminal is looked up in memory; whether it may pay is read with its group's
        // other sales. Every other message reads its terminal's standing as it arrives.
        let known = match &message {
            Message::Sale { .. } => self.terminals.get(message.terminal()),
            _ => None,
        };
        let (terminal, standing) = match known {
            Some(terminal) => (terminal, None),
            None => {
                let Some((terminal, standing)) = terminal(db, message.terminal()).await? else {
                    return Ok(refused(ResponseCode::UnknownTerminal, now));
                };
                self.terminals.keep(message.terminal(), &terminal);
                (terminal, Some(standing))
            }
        };
        if let Some(code) = standing.as_ref().and_then(Standing::refusal) {
            return Ok(refused(code, now));
        }
        let hash = hex::encode(Sha256::digest(message.canonical().as_bytes()));
        match message {
            Message::SignIn { batch, .. } => sign_in(db, &terminal, &batch, now).await,
            Message::SignOut { batch, totals, .. } => {
                sign_out(db, &terminal, &batch, &totals, now).await
            }
            Message::Sale {
                key,
                amount_fen,
                card,
            } => {
                let sale = sales::Sale {
                    terminal,
                    key,
                    amount_fen,
                    card,
                    hash,
                    now,
                };
                self.sales.write(db, &self.feed, sale).await
            }
            Message::Void {
                key,
                amount_fen,
                original,
            } => {
                let payment = Payment::Void { original };
                let feed = &self.feed;
                pay(db, feed, &terminal, &key, amount_fen, payment, &hash, now).await
            }
            Message::Refund {
                key,
                amount_fen,
                card,
                original,
            } => {
                let payment = Payment::Refund { card, original };
                let feed = &self.feed;
                pay(db, feed, &terminal, &key, amount_fen, payment, &hash, now).await
            }
        }
    }
}

fn refused(code: ResponseCode, now: DateTime<Utc>) -> Handled {
    Handled::fresh(Answer::new(code, now))
}

/// What the gateway needs of a terminal and its merchant to write its payments. None of it
/// changes once the terminal is added: a terminal is never moved or deleted, and a merchant's time
/// zone and currency are set when it is onboarded.
#[derive(Debug, Clone)]
struct Terminal {
    id: i64,
    merchant_id: i64,
    number_id: i64,
    tz: Tz,
    currency: Currency,
}

/// Whether a terminal may pay: read from the database for each message (for a sale, once for its
/// group), as an administrator may disable a terminal or a merchant at any time.
#[derive(Debug, Clone, Copy)]
struct Standing {
    status: TerminalStatus,
    /// The merchant is active and the terminal's merchant number open.
    takes_payments: bool,
}

impl Standing {
    /// Why a message from the terminal is refused, if it is.
    fn refusal(&self) -> Option<ResponseCode> {
        if self.status != TerminalStatus::Enabled {
            Some(ResponseCode::TerminalDisabled)
        } else if !self.takes_payments {
            Some(ResponseCode::MerchantInactive)
        } else {
            None
        }
    }
}

/// The terminals the gateway has seen, by number: a sale needs no look-up of its own. Only
/// terminals found in the database are kept, so hostile numbers cannot grow it.
#[derive(Clone, Default)]
struct KnownTerminals(Arc<RwLock<HashMap<String, Terminal>>>);

impl KnownTerminals {
    fn get(&self, number: &str) -> Option<Terminal> {
        let known = self.0.read().unwrap_or_else(PoisonError::into_inner);
        known.get(number).cloned()
    }

    fn keep(&self, number: &str, terminal: &Terminal) {
        let mut known = self.0.write().unwrap_or_else(PoisonError::into_inner);
        if !known.contains_key(number) {
            known.insert(number.to_owned(), terminal.clone());
        }
    }
}

/// A terminal as [`terminal`] and [`standings`] read it: its id, then its standing (read by
/// [`standing_of`]), then what [`Terminal`] keeps.
const STANDING_SQL: &str = "SELECT t.id, t.status, n.status, m.status, \
     t.merchant_id, t.merchant_number_id, m.time_zone, m.currency \
     FROM terminals t JOIN merchant_numbers n ON n.id = t.merchant_number_id \
     JOIN merchants m ON m.id = t.merchant_id";

fn standing_of(row: &QueryResult) -> Result<Standing, AppError> {
    let status: String = row.try_get_by_index(1)?;
    let number_status: String = row.try_get_by_index(2)?;
    let merchant_status: String = row.try_get_by_index(3)?;
    Ok(Standing {
        status: decode("terminals.status", &status, TerminalStatus::from_code)?,
        takes_payments: decode(
            "merchant_numbers.status",
            &number_status,
            MerchantNumberStatus::from_code,
        )? == MerchantNumberStatus::Active
            && decode(
                "merchants.status",
                &merchant_status,
                MerchantStatus::from_code,
            )? == MerchantStatus::Active,
    })
}

/// The terminal numbered `number`, with its standing now.
async fn terminal(
    db: &impl ConnectionTrait,
    number: &str,
) -> Result<Option<(Terminal, Standing)>, AppError> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            format!("{STANDING_SQL} WHERE t.terminal_no = $1"),
            [number.into()],
        ))
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let zone: String = row.try_get_by_index(6)?;
    let currency: String = row.try_get_by_index(7)?;
    let terminal = Terminal {
        id: row.try_get_by_index(0)?,
        merchant_id: row.try_get_by_index(4)?,
        number_id: row.try_get_by_index(5)?,
        tz: local_time::zone(&zone).map_err(|e| AppError::internal("merchant time zone", &e))?,
        currency: decode("merchants.currency", &currency, |c| Currency::parse(c).ok())?,
    };
    Ok(Some((terminal, standing_of(&row)?)))
}

/// Why a message of terminal `id` is refused, by the standings read: one not found is unknown.
fn refusal_in(standings: &HashMap<i64, Standing>, id: i64) -> Option<ResponseCode> {
    match standings.get(&id) {
        Some(standing) => standing.refusal(),
        None => Some(ResponseCode::UnknownTerminal),
    }
}

/// The standing of each of the terminals `ids` now.
async fn standings(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, Standing>, AppError> {
    let ids: Vec<sea_orm::Value> = ids.into_iter().map(Into::into).collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    // One text per number of terminals, not per set of them: the statement stays prepared.
    let places: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!("{STANDING_SQL} WHERE t.id IN ({})", places.join(", "));
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            sql,
            ids,
        ))
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get_by_index(0)?, standing_of(row)?)))
        .collect()
}

/// The terminal's open batch, if any; on PostgreSQL its row is locked, shared or alone, until the
/// transaction ends (payments share it, a sign-out takes it alone), so that a sign-out counts every
/// payment accepted into the batch.
async fn open_batch(
    db: &impl ConnectionTrait,
    terminal_id: i64,
    alone: bool,
) -> Result<Option<terminal_batches::Model>, DbErr> {
    let mut select = terminal_batches::Entity::find()
        .filter(terminal_batches::Column::TerminalId.eq(terminal_id))
        .filter(terminal_batches::Column::Status.eq("open"));
    if db.get_database_backend() == DbBackend::Postgres {
        select = if alone {
            select.lock_exclusive()
        } else {
            select.lock_shared()
        };
    }
    select.one(db).await
}

async fn sign_in(
    db: &DatabaseConnection,
    terminal: &Terminal,
    batch: &str,
    now: DateTime<Utc>,
) -> Result<Handled, AppError> {
    let (_turn, txn) = begin_write_in_turn(db).await?;
    if let Some(open) = open_batch(&txn, terminal.id, true).await? {
        if open.batch_no != batch {
            txn.rollback().await?;
            let mut answer = Answer::new(ResponseCode::AnotherBatchOpen, now);
            answer.batch = Some(open.batch_no);
            return Ok(Handled::fresh(answer));
        }
    } else {
        let used = terminal_batches::Entity::find()
            .filter(terminal_batches::Column::TerminalId.eq(terminal.id))
            .filter(terminal_batches::Column::BatchNo.eq(batch))
            .one(&txn)
            .await?
            .is_some();
        if used {
            txn.rollback().await?;
            return Ok(refused(ResponseCode::BatchClosed, now));
        }
        terminal_batches::ActiveModel {
            terminal_id: Set(terminal.id),
            batch_no: Set(batch.to_owned()),
            status: Set("open".to_owned()),
            opened_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    mark_terminal(&txn, terminal.id, true, now).await?;
    txn.commit().await?;
    let mut answer = Answer::new(ResponseCode::Approved, now);
    answer.batch = Some(batch.to_owned());
    Ok(Handled::fresh(answer))
}

async fn mark_terminal(
    db: &impl ConnectionTrait,
    terminal_id: i64,
    signed_in: bool,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    use crate::backend::entities::terminals::{Column, Entity};
    Entity::update_many()
        .col_expr(Column::SignedIn, Expr::value(signed_in))
        .col_expr(Column::SignStateAt, Expr::value(now))
        .col_expr(Column::LastSeenAt, Expr::value(now))
        .filter(Column::Id.eq(terminal_id))
        .exec(db)
        .await
        .map(drop)
}

async fn sign_out(
    db: &DatabaseConnection,
    terminal: &Terminal,
    batch: &str,
    declared: &BatchTotals,
    now: DateTime<Utc>,
) -> Result<Handled, AppError> {
    let (_turn, txn) = begin_write_in_turn(db).await?;
    let Some(open) = open_batch(&txn, terminal.id, true)
        .await?
        .filter(|open| open.batch_no == batch)
    else {
        // A repeat of the sign-out that closed this batch gets its answer again.
        let closed = terminal_batches::Entity::find()
            .filter(terminal_batches::Column::TerminalId.eq(terminal.id))
            .filter(terminal_batches::Column::BatchNo.eq(batch))
            .one(&txn)
            .await?;
        txn.rollback().await?;
        let Some(closed) = closed.filter(|b| b.status != "open") else {
            return Ok(refused(ResponseCode::BatchNotOpen, now));
        };
        let stored = |json: &Option<String>| {
            json.as_deref()
                .and_then(|j| serde_json::from_str::<BatchTotals>(j).ok())
        };
        let (Some(was_declared), Some(host)) =
            (stored(&closed.declared_totals), stored(&closed.host_totals))
        else {
            return Ok(refused(ResponseCode::BatchNotOpen, now));
        };
        if was_declared != *declared {
            return Ok(refused(ResponseCode::DuplicateConflict, now));
        }
        let mut answer = Answer::new(ResponseCode::Approved, now);
        answer.batch = Some(batch.to_owned());
        answer.balanced = Some(in_balance(&was_declared, &host));
        answer.host_totals = Some(host);
        return Ok(Handled {
            answer,
            repeated: true,
        });
    };
    let host = batch_totals(&txn, terminal.id, batch).await?;
    let balanced = in_balance(declared, &host);
    let json = |t: &BatchTotals| serde_json::to_string(t).unwrap_or_default();
    let mut closing: terminal_batches::ActiveModel = open.into();
    closing.status = Set(if balanced { "closed" } else { "out_of_balance" }.to_owned());
    closing.closed_at = Set(Some(now));
    closing.declared_totals = Set(Some(json(declared)));
    closing.host_totals = Set(Some(json(&host)));
    closing.update(&txn).await?;
    mark_terminal(&txn, terminal.id, false, now).await?;
    txn.commit().await?;
    let mut answer = Answer::new(ResponseCode::Approved, now);
    answer.batch = Some(batch.to_owned());
    answer.balanced = Some(balanced);
    answer.host_totals = Some(host);
    Ok(Handled::fresh(answer))
}

/// What the host recorded in a terminal's batch: its successful sales, voids and refunds.
pub async fn batch_totals(
    db: &impl ConnectionTrait,
    terminal_id: i64,
    batch: &str,
) -> Result<BatchTotals, DbErr> {
    let rows: Vec<(String, i64, i64)> = transactions::Entity::find()
        .select_only()
        .column(transactions::Column::TxnType)
        .expr(Expr::cust("CAST(COUNT(*) AS BIGINT)"))
        .expr(Expr::cust("CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT)"))
        .filter(transactions::Column::TerminalId.eq(terminal_id))
        .filter(transactions::Column::BatchNo.eq(batch))
        .filter(transactions::Column::Status.eq(TxnStatus::Success.code()))
        .group_by(transactions::Column::TxnType)
        .into_tuple()
        .all(db)
        .await?;
    let mut totals = BatchTotals::default();
    for (txn_type, count, amount_fen) in rows {
        let slot = match TxnType::from_code(&txn_type) {
            Some(TxnType::Purchase | TxnType::PreAuthCompletion) => &mut totals.sale,
            Some(TxnType::Void) => &mut totals.void,
            Some(TxnType::Refund) => &mut totals.refund,
            Some(TxnType::PreAuth) | None => continue,
        };
        *slot = Tally {
            count: slot.count + count,
            amount_fen: slot.amount_fen + amount_fen,
        };
    }
    Ok(totals)
}

/// A payment message past its common checks.
enum Payment {
    Sale {
        card: Card,
    },
    Void {
        original: OriginalRef,
    },
    Refund {
        card: MaskedPan,
        original: OriginalRef,
    },
}

impl Payment {
    fn kind(&self) -> Kind {
        match self {
            Payment::Sale { .. } => Kind::Sale,
            Payment::Void { .. } => Kind::Void,
            Payment::Refund { .. } => Kind::Refund,
        }
    }
}

/// The answer stored under `key`, if the key was used: the same message gets it again, another is
/// refused.
async fn stored_answer(
    db: &impl ConnectionTrait,
    terminal_id: i64,
    key: &Key,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<Handled>, AppError> {
    let Some(row) = gateway_messages::Entity::find()
        .filter(gateway_messages::Column::TerminalId.eq(terminal_id))
        .filter(gateway_messages::Column::BatchNo.eq(key.batch.as_str()))
        .filter(gateway_messages::Column::VoucherNo.eq(key.voucher.as_str()))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if row.request_hash != hash {
        return Ok(Some(refused(ResponseCode::DuplicateConflict, now)));
    }
    let answer = serde_json::from_str::<Answer>(&row.response_json)
        .map_err(|e| AppError::internal("reading a stored gateway answer", &e))?;
    Ok(Some(Handled {
        answer,
        repeated: true,
    }))
}

#[allow(clippy::too_many_arguments)]
async fn pay(
    db: &DatabaseConnection,
    feed: &Feed,
    terminal: &Terminal,
    key: &Key,
    amount_fen: i64,
    payment: Payment,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<Handled, AppError> {
    let (turn, txn) = begin_write_in_turn(db).await?;
    let (txn_time, booked_on) =
        clearing::booking_time(&txn, terminal.number_id, now, terminal.tz).await?;
    let id = next_transaction_ids(&txn, 1)
        .await?
        .pop()
        .ok_or_else(|| DbErr::RecordNotFound("the next transaction id".into()))?;
    let answer = approved(id, amount_fen, booked_on, now);

    // The key first: a concurrent sender of the same message waits here for this one to finish.
    let stored = key_row(terminal.id, key, payment.kind(), hash, &answer, id)?;
    let taken = gateway_messages::Entity::insert(stored)
        .on_conflict(key_conflict())
        .exec_without_returning(&txn)
        .await?
        == 0;
    if taken {
        // A repeat (or a concurrent sender of the same message, which waited for it here): the
        // answer given the first time, whatever has happened since.
        txn.rollback().await?;
        drop(turn);
        return stored_answer(db, terminal.id, key, hash, now)
            .await?
            .ok_or(AppError::Conflict);
    }
    let Some(open) = open_batch(&txn, terminal.id, false).await? else {
        txn.rollback().await?;
        return Ok(refused(ResponseCode::NotSignedIn, now));
    };
    if open.batch_no != key.batch {
        txn.rollback().await?;
        return Ok(refused(ResponseCode::BatchNotOpen, now));
    }

    let (txn_type, card, original_id) = match payment {
        Payment::Sale { card } => (TxnType::Purchase, card, None),
        Payment::Void { original } => {
            let original = match void_original(&txn, terminal, &open, &original, amount_fen).await?
            {
                Ok(original) => original,
                Err(refusal) => {
                    txn.rollback().await?;
                    return Ok(Handled::fresh(Answer::refused(refusal, now)));
                }
            };
            (TxnType::Void, card_of(&original)?, Some(original.id))
        }
        Payment::Refund { card, original } => {
            let original =
                match refund_original(&txn, terminal, &original, &card, amount_fen, now).await? {
                    Ok(original) => original,
                    Err(refusal) => {
                        txn.rollback().await?;
                        let mut answer = Answer::refused(refusal.0, now);
                        answer.left_fen = refusal.1;
                        return Ok(Handled::fresh(answer));
                    }
                };
            (TxnType::Refund, card_of(&original)?, Some(original.id))
        }
    };
    let written = Written {
        id,
        terminal,
        key,
        txn_type,
        card: &card,
        amount_fen,
        txn_time,
        booked_on,
        original_id,
    };
    let inserted = transactions::Entity::insert(written.row(&answer))
        .exec_without_returning(&txn)
        .await;
    match inserted {
        Ok(_) => {}
        // The key was free but a transaction of the batch has its voucher number: one the
        // gateway did not write (loaded data). Another message's, as a repeat with other content.
        Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            txn.rollback().await?;
            return Ok(refused(ResponseCode::DuplicateConflict, now));
        }
        Err(error) => return Err(error.into()),
    }
    feed.commit(txn, &[id]).await?;
    Ok(Handled::fresh(answer))
}

/// The ids the next `n` transactions get, within the write transaction that inserts them: the
/// reference number is made of the id. PostgreSQL's sequence hands out each once; SQLite's writers
/// are serial.
async fn next_transaction_ids(db: &impl ConnectionTrait, n: usize) -> Result<Vec<i64>, DbErr> {
    let backend = db.get_database_backend();
    let count = i64::try_from(n).unwrap_or(i64::MAX);
    if backend == DbBackend::Postgres {
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                "SELECT nextval(pg_get_serial_sequence('transactions', 'id')) \
                 FROM generate_series(1, $1)",
                [count.into()],
            ))
            .await?;
        return rows.iter().map(|row| row.try_get_by_index(0)).collect();
    }
    let row = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT COALESCE(MAX(id), 0) + 1 FROM transactions",
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("the next transaction id".into()))?;
    let first: i64 = row.try_get_by_index(0)?;
    Ok((first..first.saturating_add(count)).collect())
}

/// The answer to an approved payment that becomes transaction `id`.
fn approved(id: i64, amount_fen: i64, booked_on: NaiveDate, now: DateTime<Utc>) -> Answer {
    let mut answer = Answer::new(ResponseCode::Approved, now);
    answer.reference = Some(reference_of(id));
    answer.auth_code = Some(auth_code());
    answer.amount_fen = Some(amount_fen);
    answer.booked_on = Some(booked_on);
    answer
}

/// The host's reference number of transaction `id`.
fn reference_of(id: i64) -> String {
    format!("{id:012}")
}

/// The stored key of a payment message, with the answer given to it.
fn key_row(
    terminal_id: i64,
    key: &Key,
    kind: Kind,
    hash: &str,
    answer: &Answer,
    transaction_id: i64,
) -> Result<gateway_messages::ActiveModel, AppError> {
    let response_json = serde_json::to_string(answer)
        .map_err(|e| AppError::internal("writing a gateway answer", &e))?;
    Ok(gateway_messages::ActiveModel {
        terminal_id: Set(terminal_id),
        batch_no: Set(key.batch.clone()),
        voucher_no: Set(key.voucher.clone()),
        kind: Set(kind.name().to_owned()),
        request_hash: Set(hash.to_owned()),
        response_json: Set(response_json),
        transaction_id: Set(transaction_id),
        created_at: Set(answer.host_time),
        ..Default::default()
    })
}

/// A used key is left as it is: the message that used it first keeps it.
fn key_conflict() -> OnConflict {
    OnConflict::columns([
        gateway_messages::Column::TerminalId,
        gateway_messages::Column::BatchNo,
        gateway_messages::Column::VoucherNo,
    ])
    .do_nothing()
    .to_owned()
}

/// An approved payment as its transaction row is written.
struct Written<'a> {
    id: i64,
    terminal: &'a Terminal,
    key: &'a Key,
    txn_type: TxnType,
    card: &'a Card,
    amount_fen: i64,
    txn_time: DateTime<Utc>,
    /// The business day it is booked on, as its answer says.
    booked_on: NaiveDate,
    original_id: Option<i64>,
}

impl Written<'_> {
    /// The transaction row of the payment approved with `answer`.
    fn row(&self, answer: &Answer) -> transactions::ActiveModel {
        let (terminal, card) = (self.terminal, self.card);
        transactions::ActiveModel {
            id: Set(self.id),
            merchant_id: Set(terminal.merchant_id),
            merchant_number_id: Set(terminal.number_id),
            terminal_id: Set(terminal.id),
            txn_type: Set(self.txn_type.code().to_owned()),
            status: Set(TxnStatus::Success.code().to_owned()),
            card_masked: Set(card.masked.to_string()),
            card_last4: Set(card.masked.last4().to_owned()),
            card_org: Set(card.org.code().to_owned()),
            card_type: Set(card.card_type.code().to_owned()),
            issuer_bank: Set(card.bank.code().to_owned()),
            amount_fen: Set(self.amount_fen),
            fee_fen: Set(None),
            currency: Set(terminal.currency.code().to_owned()),
            txn_time: Set(self.txn_time),
            txn_date: Set(self.booked_on),
            auth_code: Set(answer.auth_code.clone()),
            reference_no: Set(reference_of(self.id)),
            voucher_no: Set(self.key.voucher.clone()),
            batch_no: Set(self.key.batch.clone()),
            original_txn_id: Set(self.original_id),
            settlement_id: Set(None),
            settlement_date: Set(None),
            refunded_fen: Set(0),
            refund_pending_fen: Set(0),
            created_at: Set(answer.host_time),
        }
    }
}

/// Six characters as an issuer's authorisation code.
fn auth_code() -> String {
    const CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let mut rng = rand::rng();
    (0..6)
        .map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())]))
        .collect()
}

/// The transaction a void or refund names, among the terminal's merchant's.
async fn original_of(
    db: &impl ConnectionTrait,
    terminal: &Terminal,
    original: &OriginalRef,
) -> Result<Option<transactions::Model>, DbErr> {
    transactions::Entity::find()
        .filter(transactions::Column::MerchantId.eq(terminal.merchant_id))
        .filter(transactions::Column::ReferenceNo.eq(original.reference.as_str()))
        .filter(transactions::Column::TxnDate.eq(original.date))
        .one(db)
        .await
}

fn is_sale(t: &transactions::Model) -> bool {
    t.status == TxnStatus::Success.code()
        && matches!(
            TxnType::from_code(&t.txn_type),
            Some(TxnType::Purchase | TxnType::PreAuthCompletion)
        )
}

/// The sale a void cancels, once its whole amount is counted as given back: a successful sale of
/// this terminal's open batch `open`, not settled, voided or refunded, of the void's amount.
async fn void_original(
    db: &impl ConnectionTrait,
    terminal: &Terminal,
    open: &terminal_batches::Model,
    original: &OriginalRef,
    amount_fen: i64,
) -> Result<Result<transactions::Model, Refusal>, DbErr> {
    let Some(sale) = original_of(db, terminal, original).await? else {
        return Ok(Err(ResponseCode::OriginalNotFound.into()));
    };
    if sale.terminal_id != terminal.id {
        return Ok(Err(ResponseCode::VoidOtherTerminal.into()));
    }
    if !is_sale(&sale) {
        return Ok(Err(ResponseCode::NotASale.into()));
    }
    if sale.settlement_id.is_some() {
        return Ok(Err(ResponseCode::AlreadySettled.into()));
    }
    let voided = transactions::Entity::find()
        .filter(transactions::Column::OriginalTxnId.eq(sale.id))
        .filter(transactions::Column::TxnType.eq(TxnType::Void.code()))
        .filter(transactions::Column::Status.eq(TxnStatus::Success.code()))
        .one(db)
        .await?
        .is_some();
    if voided {
        return Ok(Err(ResponseCode::AlreadyVoided.into()));
    }
    if open.batch_no != sale.batch_no {
        return Ok(Err(ResponseCode::NotInOpenBatch.into()));
    }
    if amount_fen != sale.amount_fen {
        return Ok(Err(ResponseCode::AmountMismatch.into()));
    }
    match take_refundable(db, sale.id, amount_fen, Counted::Refunded).await? {
        Ok(()) => Ok(Ok(sale)),
        // Part of it is refunded or on its way: it cannot be voided any more.
        Err(_) => Ok(Err(ResponseCode::RefundExceedsLeft.into())),
    }
}

/// The sale a refund gives money back from, once the refund is counted on it: the refund checks of
/// every refund (type, status, the merchant's refund window as it is now, what is left), and the
/// card must be the sale's.
async fn refund_original(
    db: &impl ConnectionTrait,
    terminal: &Terminal,
    original: &OriginalRef,
    card: &MaskedPan,
    amount_fen: i64,
    now: DateTime<Utc>,
) -> Result<Result<transactions::Model, (Refusal, Option<i64>)>, AppError> {
    let refuse = |code: ResponseCode| Ok(Err((Refusal::new(code), None)));
    let Some(sale) = original_of(db, terminal, original).await? else {
        return refuse(ResponseCode::OriginalNotFound);
    };
    if sale.card_masked != card.to_string() {
        return refuse(ResponseCode::CardMismatch);
    }
    let currency = terminal.currency;
    let checked = Original {
        txn_type: decode("transactions.txn_type", &sale.txn_type, TxnType::from_code)?,
        status: decode("transactions.status", &sale.status, TxnStatus::from_code)?,
        amount: Money::from_fen(sale.amount_fen, currency),
        refunded: Money::from_fen(sale.refunded_fen, currency),
        in_flight: Money::from_fen(sale.refund_pending_fen, currency),
        day: sale.txn_date,
    };
    let today = local_time::today(now, terminal.tz);
    let amount = Money::from_fen(amount_fen, currency);
    let window_days: i32 = merchants::Entity::find_by_id(terminal.merchant_id)
        .select_only()
        .column(merchants::Column::RefundWindowDays)
        .into_tuple()
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("the terminal's merchant".into()))?;
    let window_days = u32::try_from(window_days).unwrap_or(0);
    let refusal = match check_refundable(&checked, amount, window_days, today) {
        Ok(()) => match take_refundable(db, sale.id, amount_fen, Counted::Refunded).await? {
            Ok(()) => return Ok(Ok(sale)),
            Err(refusal) => refusal,
        },
        Err(refusal) => refusal,
    };
    let (code, left) = match refusal {
        RefundRefusal::NotRefundableType(_) | RefundRefusal::NotSuccessful(_) => {
            (ResponseCode::NotASale, None)
        }
        RefundRefusal::OutsideWindow { .. } => (ResponseCode::OutsideRefundWindow, None),
        RefundRefusal::MoreThanRefundable { refundable_fen } => {
            (ResponseCode::RefundExceedsLeft, Some(refundable_fen))
        }
        // The amount was checked positive when read; the currency is the merchant's; no quota and
        // no fast-refund rule here.
        RefundRefusal::AmountNotPositive
        | RefundRefusal::OtherCurrency
        | RefundRefusal::OverDailyQuota { .. }
        | RefundRefusal::NoFastRefundAgreement
        | RefundRefusal::BankNotForFastRefund(_) => (ResponseCode::AmountNotPositive, None),
    };
    Ok(Err((Refusal::new(code), left)))
}

/// The card of an original transaction, for the void or refund of it.
fn card_of(t: &transactions::Model) -> Result<Card, AppError> {
    use crate::domain::{Bank, CardOrg, CardType};
    Ok(Card {
        masked: decode("transactions.card_masked", &t.card_masked, |m| {
            MaskedPan::parse(m).ok()
        })?,
        org: decode("transactions.card_org", &t.card_org, CardOrg::from_code)?,
        card_type: decode("transactions.card_type", &t.card_type, CardType::from_code)?,
        bank: decode("transactions.issuer_bank", &t.issuer_bank, Bank::from_code)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_leaves_out_what_it_does_not_have() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let json =
            serde_json::to_value(Answer::new(ResponseCode::NotSignedIn, now)).unwrap_or_default();
        assert_eq!(json["code"], "77");
        assert_eq!(json["reason"], "not_signed_in");
        assert!(json.get("reference").is_none());
        let back: Answer = serde_json::from_value(json).expect("reads back");
        assert_eq!(back.reason, ResponseCode::NotSignedIn);
    }
}
