//! The one selection the page, the total, the summaries and the downloads share: the session's
//! scope, then the filters, newest first by keyset.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, Select};

use super::query::{zero_padded, CardMatch, ResolvedQuery, TerminalId, TxnQuery};
use crate::backend::entities::transactions;
use crate::backend::local_time::day_start;
use crate::backend::services::scope;
use crate::backend::Session;

/// The filters on the columns that transactions and their tallies share, by unqualified column name
/// so that one condition serves both tables.
pub(super) fn shared_filters(session: &Session, q: &TxnQuery) -> Condition {
    let mut cond = Condition::all();
    if let Some(t) = q.txn_type {
        cond = cond.add(Expr::col("txn_type").eq(t.code()));
    }
    if let Some(s) = q.status {
        cond = cond.add(Expr::col("status").eq(s.code()));
    }
    if let Some(number) = &q.number {
        cond = cond.add(
            Expr::col("merchant_number_id").in_subquery(scope::merchant_number(session, number)),
        );
    }
    if let Some(org) = q.org {
        cond = cond.add(Expr::col("card_org").eq(org.code()));
    }
    if let Some(card_type) = q.card_type {
        cond = cond.add(Expr::col("card_type").eq(card_type.code()));
    }
    if let Some(sdate) = q.sdate {
        cond = cond.add(Expr::col("settlement_date").eq(sdate));
    }
    if let Some(settlement) = q.settlement {
        cond = cond.add(Expr::col("settlement_id").eq(settlement));
    }
    if let Some(bank) = q.bank {
        cond = cond.add(Expr::col("issuer_bank").eq(bank.code()));
    }
    cond
}

/// The terminal and terminal-group filters, by the unqualified `terminal_id` of the transactions and
/// of the terminal tallies.
pub(super) fn terminal_filters(q: &ResolvedQuery) -> Condition {
    let mut cond = Condition::all();
    match q.terminal_id {
        Some(TerminalId::Found(id)) => cond = cond.add(Expr::col("terminal_id").eq(id)),
        Some(TerminalId::Missing) => cond = cond.add(Expr::val(1).eq(0)),
        None => {}
    }
    if let Some(group) = q.group {
        cond = cond.add(Expr::col("terminal_id").in_subquery(scope::group_terminals([group])));
    }
    cond
}

/// The one selection the page, the total, the summaries and the download use: the session's scope,
/// then the filters. Dates are turned into a range of `txn_time` so that the (merchant, time) and
/// (terminal, time) indexes serve both the filter and the order.
pub(super) fn selection(
    session: &Session,
    q: &ResolvedQuery,
    tz: Tz,
) -> Select<transactions::Entity> {
    selection_from(session, q, tz, Keyset::All)
}

/// Where a page's rows lie against a keyset row `(time, id)` in [`newest_first`] order.
#[derive(Debug, Clone, Copy)]
pub(super) enum Keyset {
    All,
    Older((DateTime<Utc>, i64)),
    Newer((DateTime<Utc>, i64)),
}

/// [`selection`], keeping only the rows on one side of a keyset row.
pub(super) fn selection_from(
    session: &Session,
    q: &ResolvedQuery,
    tz: Tz,
    keyset: Keyset,
) -> Select<transactions::Entity> {
    use transactions::Column as C;
    let mut cond = scope::transactions(session).add(shared_filters(session, q));
    let start = q.from.map(|d| day_start(d, tz));
    let end = q.to.and_then(|d| d.succ_opt()).map(|d| day_start(d, tz));
    // The keyset row is the one bound on its side of the time range when it lies within it, so that
    // a deep page starts its index range there (SQLite bounds a range by one condition per side, and
    // would start at the end of the day range and skip every row before the cursor).
    let (lower, upper) = match keyset {
        Keyset::Older((time, id)) if end.is_none_or(|end| time < end) => {
            cond = cond.add(older_than((time, id)));
            (start.map(|s| C::TxnTime.gte(s)), Some(C::TxnTime.lte(time)))
        }
        Keyset::Newer((time, id)) if start.is_none_or(|start| time >= start) => {
            cond = cond.add(newer_than((time, id)));
            (Some(C::TxnTime.gte(time)), end.map(|e| C::TxnTime.lt(e)))
        }
        _ => (
            start.map(|s| C::TxnTime.gte(s)),
            end.map(|e| C::TxnTime.lt(e)),
        ),
    };
    for bound in [lower, upper].into_iter().flatten() {
        cond = cond.add(bound);
    }
    match &q.card {
        Some(CardMatch::Last4(last4)) => cond = cond.add(C::CardLast4.eq(last4.as_str())),
        Some(CardMatch::Masked { bin, last4 }) => {
            cond = cond.add(C::CardLast4.eq(last4.as_str())).add(
                C::CardMasked.like(crate::backend::services::filters::starts_with_pattern(bin)),
            );
        }
        None => {}
    }
    if let Some(amount) = q.amount {
        cond = cond.add(C::AmountFen.eq(amount));
    }
    if let Some(min) = q.min {
        cond = cond.add(C::AmountFen.gte(min));
    }
    if let Some(max) = q.max {
        cond = cond.add(C::AmountFen.lte(max));
    }
    if let Some(reference) = &q.reference {
        let mut either = Condition::any().add(C::ReferenceNo.eq(reference.as_str()));
        if reference.len() <= 6 {
            either = either.add(C::VoucherNo.eq(zero_padded(reference, 6)));
        }
        cond = cond.add(either);
    }
    cond = cond.add(terminal_filters(q));
    if let Some(auth) = &q.auth {
        cond = cond.add(C::AuthCode.eq(auth.as_str()));
    }
    if let Some(batch) = &q.batch {
        cond = cond.add(C::BatchNo.eq(batch.as_str()));
    }
    transactions::Entity::find().filter(cond)
}

/// Newest first, then the highest id: a total order for the keyset.
pub(super) fn newest_first(select: Select<transactions::Entity>) -> Select<transactions::Entity> {
    select
        .order_by_desc(transactions::Column::TxnTime)
        .order_by_desc(transactions::Column::Id)
}

/// Oldest first: the rows of a page before a keyset row, read from it outwards.
pub(super) fn oldest_first(select: Select<transactions::Entity>) -> Select<transactions::Entity> {
    select
        .order_by_asc(transactions::Column::TxnTime)
        .order_by_asc(transactions::Column::Id)
}

/// Rows before `(time, id)` in [`newest_first`] order (newer).
pub(super) fn newer_than((time, id): (DateTime<Utc>, i64)) -> SimpleExpr {
    Expr::tuple([
        Expr::col(transactions::Column::TxnTime),
        Expr::col(transactions::Column::Id),
    ])
    .gt(Expr::tuple([Expr::val(time), Expr::val(id)]))
}

/// Rows after `(time, id)` in [`newest_first`] order, as one row comparison so that the index
/// bounds the scan on both databases.
pub(super) fn older_than((time, id): (DateTime<Utc>, i64)) -> SimpleExpr {
    Expr::tuple([
        Expr::col(transactions::Column::TxnTime),
        Expr::col(transactions::Column::Id),
    ])
    .lt(Expr::tuple([Expr::val(time), Expr::val(id)]))
}
