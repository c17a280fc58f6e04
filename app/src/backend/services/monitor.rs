//! The transaction monitor (manual §3.5): the latest transactions of an operator's scope, and the
//! transactions committed since, as they come.
//!
//! One task per instance hears the ids the gateway announces ([`crate::backend::feed`]), reads
//! those transactions once, and hands them to every open monitor of the instance as
//! [`Published`] rows: each monitor keeps what its [`Watch`] sees (the operator's merchant, and the
//! terminals of their groups and filters). Nothing outside a watch is sent, so another merchant's
//! or another group's transaction never leaves the server.
//!
//! A monitor that falls behind, or an instance that lost the database's announcements for a
//! moment, is told to read its latest rows afresh ([`Update::Resync`]); the page merges them with
//! what it shows by id, so that nothing is missed and nothing shown twice.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::{Expr, ExprTrait, IntoColumnRef, Order, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect,
};
use tokio::sync::broadcast;

use crate::backend::entities::{merchants, terminals, transactions};
use crate::backend::feed::{Announcement, Feed};
use crate::backend::services::{decode, scope};
use crate::backend::{local_time, Session};
use crate::contract::monitor::{
    GroupOption, Latest, MonitorFilter, MonitorRow, MonitorView, TerminalOption, LATEST,
};
use crate::domain::{DataScope, TxnStatus, TxnType};
use crate::error::{AppError, FieldProblem};

/// Updates kept for a monitor that is late; one later than that reads its latest rows afresh.
const CAPACITY: usize = 256;

/// Ids read in one statement at most.
const READ_AT_ONCE: usize = 500;

/// A transaction as every monitor of the instance gets it: whose it is, and its row.
#[derive(Debug)]
pub struct Published {
    pub merchant_id: i64,
    pub terminal_id: i64,
    pub row: MonitorRow,
}

/// What the monitors of an instance hear.
#[derive(Debug, Clone)]
pub enum Update {
    /// Transactions committed since the last update.
    Rows(Arc<[Published]>),
    /// Some may have been missed: read the latest rows afresh.
    Resync,
}

/// The monitors' side of an instance: the announcements it hears and the task that reads them.
#[derive(Clone)]
pub struct Monitor {
    feed: Feed,
    updates: broadcast::Sender<Update>,
    /// Set when the server stops: open streams end, so that their connections can close.
    stopping: std::sync::Arc<tokio::sync::watch::Sender<bool>>,
}

impl Monitor {
    /// Starts the task that reads what `feed` announces (a task of the running tokio runtime,
    /// ending when the feed's last sender is gone).
    pub fn start(db: DatabaseConnection, feed: Feed) -> Self {
        let updates = broadcast::channel(CAPACITY).0;
        tokio::spawn(publish(db, feed.subscribe(), updates.clone()));
        Self {
            feed,
            updates,
            stopping: std::sync::Arc::new(tokio::sync::watch::channel(false).0),
        }
    }

    /// Ends every open stream (the server is stopping); browsers reconnect to what serves next.
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// Resolves once [`Monitor::stop`] was called.
    pub async fn stopped(&self) {
        let mut stopping = self.stopping.subscribe();
        let _ = stopping.wait_for(|stop| *stop).await;
    }

    /// The announcements this instance's writers make and its monitors hear.
    pub fn feed(&self) -> &Feed {
        &self.feed
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Update> {
        self.updates.subscribe()
    }
}

/// Reads each announced transaction once and passes it on, while any monitor is open.
async fn publish(
    db: DatabaseConnection,
    mut heard: broadcast::Receiver<Announcement>,
    updates: broadcast::Sender<Update>,
) {
    // The merchants' time zones, read once each: a zone is set when the merchant is onboarded.
    let mut zones = HashMap::new();
    loop {
        let first = match heard.recv().await {
            Ok(announcement) => announcement,
            Err(broadcast::error::RecvError::Lagged(_)) => Announcement::Gap,
            Err(broadcast::error::RecvError::Closed) => return,
        };
        // What else has been announced meanwhile is read with it.
        let mut ids = Vec::new();
        let mut gap = false;
        let mut next = Some(first);
        while let Some(announcement) = next.take() {
            match announcement {
                Announcement::Committed(more) => ids.extend_from_slice(&more),
                Announcement::Gap => gap = true,
            }
            if ids.len() < 4 * READ_AT_ONCE {
                next = match heard.try_recv() {
                    Ok(announcement) => Some(announcement),
                    Err(broadcast::error::TryRecvError::Lagged(_)) => Some(Announcement::Gap),
                    Err(_) => None,
                };
            }
        }
        if updates.receiver_count() == 0 {
            continue;
        }
        if !ids.is_empty() {
            match read_announced(&db, &ids, &mut zones).await {
                Ok(rows) if !rows.is_empty() => {
                    let _ = updates.send(Update::Rows(rows.into()));
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, "reading new transactions for the monitor failed");
                    gap = true;
                }
            }
        }
        if gap {
            let _ = updates.send(Update::Resync);
        }
    }
}

/// A transaction as the monitor reads it.
#[derive(Debug, FromQueryResult)]
struct Watched {
    id: i64,
    merchant_id: i64,
    terminal_id: i64,
    txn_time: DateTime<Utc>,
    created_at: DateTime<Utc>,
    txn_type: String,
    status: String,
    card_masked: String,
    amount_fen: i64,
    terminal_no: String,
    alias: Option<String>,
}

impl Watched {
    fn row(self, tz: Tz) -> Result<MonitorRow, AppError> {
        let status = decode("transactions.status", &self.status, TxnStatus::from_code)?;
        Ok(MonitorRow {
            id: self.id,
            time: local_time::seconds(self.txn_time, tz),
            accepted_ms: self.created_at.timestamp_millis(),
            terminal_no: self.terminal_no,
            terminal_alias: self.alias,
            txn_type: decode("transactions.txn_type", &self.txn_type, TxnType::from_code)?,
            response_code: status.response_code().map(str::to_owned),
            status,
            card_masked: self.card_masked,
            amount_fen: self.amount_fen,
        })
    }
}

/// `SELECT <a Watched's columns> FROM transactions JOIN terminals`, to be confined and ordered.
fn watched() -> SelectStatement {
    use terminals::Column as T;
    use transactions::Column as C;
    let txn = |c: C| (transactions::Entity, c).into_column_ref();
    Query::select()
        .columns([
            txn(C::Id),
            txn(C::MerchantId),
            txn(C::TerminalId),
            txn(C::TxnTime),
            txn(C::CreatedAt),
            txn(C::TxnType),
            txn(C::Status),
            txn(C::CardMasked),
            txn(C::AmountFen),
        ])
        .expr_as(Expr::col((terminals::Entity, T::TerminalNo)), "terminal_no")
        .expr_as(Expr::col((terminals::Entity, T::Alias)), "alias")
        .from(transactions::Entity)
        .inner_join(
            terminals::Entity,
            Expr::col((terminals::Entity, T::Id)).equals((transactions::Entity, C::TerminalId)),
        )
        .to_owned()
}

/// The announced transactions, each with its merchant's time zone.
async fn read_announced(
    db: &impl ConnectionTrait,
    ids: &[i64],
    zones: &mut HashMap<i64, Tz>,
) -> Result<Vec<Published>, AppError> {
    let backend = db.get_database_backend();
    let mut published = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(READ_AT_ONCE) {
        let select = watched()
            .and_where(
                Expr::col((transactions::Entity, transactions::Column::Id))
                    .is_in(chunk.iter().copied()),
            )
            .to_owned();
        let found = Watched::find_by_statement(backend.build(&select))
            .all(db)
            .await?;
        for w in found {
            let tz = match zones.get(&w.merchant_id) {
                Some(tz) => *tz,
                None => {
                    let tz = merchant_zone(db, w.merchant_id).await?;
                    zones.insert(w.merchant_id, tz);
                    tz
                }
            };
            let (merchant_id, terminal_id) = (w.merchant_id, w.terminal_id);
            published.push(Published {
                merchant_id,
                terminal_id,
                row: w.row(tz)?,
            });
        }
    }
    published.sort_by(|a, b| MonitorRow::newest_first(&a.row, &b.row));
    Ok(published)
}

async fn merchant_zone(db: &impl ConnectionTrait, merchant_id: i64) -> Result<Tz, AppError> {
    let zone: Option<String> = merchants::Entity::find_by_id(merchant_id)
        .select_only()
        .column(merchants::Column::TimeZone)
        .into_tuple()
        .one(db)
        .await?;
    let zone = zone.ok_or(AppError::NotFound)?;
    local_time::zone(&zone).map_err(|e| AppError::internal("a merchant's time zone", &e))
}

/// What one monitor watches: the operator's merchant, and when confined (by the operator's terminal
/// groups or by the page's filters), only these terminals.
#[derive(Debug, Clone)]
pub struct Watch {
    merchant_id: i64,
    tz: Tz,
    terminals: Option<HashSet<i64>>,
}

impl Watch {
    /// The watch of `session` with the page's `filter`. A group the operator may not watch, or a
    /// terminal number that is not theirs, watches nothing, as the transaction search finds nothing.
    pub async fn of(
        db: &impl ConnectionTrait,
        session: &Session,
        filter: &MonitorFilter,
    ) -> Result<Self, AppError> {
        let mut check = super::filters::FieldCheck::new();
        let group = check.id("group", &filter.group);
        let terminal = filter.terminal.trim();
        if terminal.len() > 16 || !terminal.bytes().all(|b| b.is_ascii_alphanumeric()) {
            check.bad("terminal", FieldProblem::Format);
        }
        check.finish()?;
        let mut terminals: Option<HashSet<i64>> = match session.scope {
            DataScope::Merchant => None,
            DataScope::Groups => Some(group_terminals(db, &session.group_ids).await?),
        };
        let mut confine = |only: HashSet<i64>| {
            terminals = Some(match terminals.take() {
                None => only,
                Some(within) => within.intersection(&only).copied().collect(),
            });
        };
        // Another merchant's group or terminal confines to terminals this merchant has not: none.
        if let Some(group) = group {
            confine(group_terminals(db, &[group]).await?);
        }
        if !terminal.is_empty() {
            let found: Option<i64> = terminals::Entity::find()
                .filter(terminals::Column::MerchantId.eq(session.merchant_id))
                .filter(terminals::Column::TerminalNo.eq(terminal.to_ascii_uppercase()))
                .select_only()
                .column(terminals::Column::Id)
                .into_tuple()
                .one(db)
                .await?;
            confine(found.into_iter().collect());
        }
        Ok(Self {
            merchant_id: session.merchant_id,
            tz: session.tz,
            terminals,
        })
    }

    /// Whether this watch sees `published`.
    pub fn sees(&self, published: &Published) -> bool {
        published.merchant_id == self.merchant_id
            && self
                .terminals
                .as_ref()
                .is_none_or(|t| t.contains(&published.terminal_id))
    }

    /// The latest transactions this watch sees, newest first.
    pub async fn latest(&self, db: &impl ConnectionTrait) -> Result<Latest, AppError> {
        use transactions::Column as C;
        let mut select = watched();
        select.and_where(Expr::col((transactions::Entity, C::MerchantId)).eq(self.merchant_id));
        if let Some(terminals) = &self.terminals {
            if terminals.is_empty() {
                return Ok(Latest { rows: Vec::new() });
            }
            select.and_where(
                Expr::col((transactions::Entity, C::TerminalId)).is_in(terminals.iter().copied()),
            );
        }
        select
            .order_by((transactions::Entity, C::TxnTime), Order::Desc)
            .order_by((transactions::Entity, C::Id), Order::Desc)
            .limit(LATEST as u64);
        let backend = db.get_database_backend();
        let rows = Watched::find_by_statement(backend.build(&select))
            .all(db)
            .await?
            .into_iter()
            .map(|w| w.row(self.tz))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Latest { rows })
    }
}

/// The terminals of `groups`.
async fn group_terminals(
    db: &impl ConnectionTrait,
    groups: &[i64],
) -> Result<HashSet<i64>, AppError> {
    if groups.is_empty() {
        return Ok(HashSet::new());
    }
    let select = scope::group_terminals(groups.iter().copied());
    Ok(db
        .query_all(&select)
        .await?
        .iter()
        .map(|row| row.try_get_by_index::<i64>(0))
        .collect::<Result<_, _>>()?)
}

/// The monitor page: the latest transactions of the session's scope with `filter`, and the groups
/// and terminals it may be filtered by.
pub async fn view(
    db: &impl ConnectionTrait,
    session: &Session,
    filter: &MonitorFilter,
) -> Result<MonitorView, AppError> {
    let watch = Watch::of(db, session, filter).await?;
    let latest = watch.latest(db).await?;
    let groups = super::transactions::groups_for(db, session)
        .await?
        .into_iter()
        .map(|(id, name)| GroupOption { id, name })
        .collect();
    let mut select = terminals::Entity::find()
        .filter(terminals::Column::MerchantId.eq(session.merchant_id))
        .order_by_asc(terminals::Column::TerminalNo);
    if session.scope == DataScope::Groups {
        select = select.filter(
            terminals::Column::Id.in_subquery(scope::group_terminals(session.group_ids.clone())),
        );
    }
    let terminals = select
        .all(db)
        .await?
        .into_iter()
        .map(|t| TerminalOption {
            id: t.id,
            terminal_no: t.terminal_no,
            alias: t.alias,
        })
        .collect();
    Ok(MonitorView {
        latest,
        groups,
        terminals,
    })
}
