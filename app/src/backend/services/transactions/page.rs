//! One page of the list: its rows with their terminal's and merchant number's numbers, in one
//! statement, and the total of the selection.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Query, SelectStatement, UnionType};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Select,
};

use super::export::{DIRECT_LIMIT, EXPORT_CAP};
use super::filters::{newest_first, oldest_first, selection, selection_from, Keyset};
use super::query::{Place, ResolvedQuery, TxnQuery};
use super::tallies::tallied;
use crate::backend::entities::{merchant_numbers, terminal_groups, terminals, transactions};
use crate::backend::local_time::{self};
use crate::backend::services::decode;
use crate::backend::services::filters::cursor_text;
use crate::backend::Session;
use crate::contract::transactions::{TxnFilterOptions, TxnPage, TxnRow};
use crate::domain::access::Function;
use crate::domain::{Bank, CardOrg, CardType, DataScope, TxnStatus, TxnType};
use crate::error::AppError;

/// Terminal and merchant numbers of a set of rows.
pub(super) struct Names {
    pub(super) terminals: HashMap<i64, (String, Option<String>)>,
    pub(super) numbers: HashMap<i64, (String, String)>,
}

/// A terminal's (number, alias) or a merchant number's (number, store name), as [`Names::load`]
/// reads both in one statement.
#[derive(Debug, FromQueryResult)]
pub(super) struct NameRow {
    pub(super) id: i64,
    pub(super) code: String,
    pub(super) name: Option<String>,
    pub(super) kind: String,
}

impl Names {
    /// The name of terminal `terminal_id` and those of the merchant's numbers
    /// ([`crate::backend::services::settlements::numbers_query`]), in one statement.
    pub(super) async fn load(
        db: &impl ConnectionTrait,
        merchant_id: i64,
        terminal_id: i64,
    ) -> Result<Self, AppError> {
        use terminals::Column as T;
        let mut select = Query::select();
        select
            .expr_as(Expr::col(T::Id), "id")
            .expr_as(Expr::col(T::TerminalNo), "code")
            .expr_as(Expr::col(T::Alias), "name")
            .expr_as(Expr::val("terminal"), "kind")
            .from(terminals::Entity)
            .and_where(Expr::col(T::MerchantId).eq(merchant_id))
            .and_where(Expr::col(T::Id).eq(terminal_id));
        select.union(
            UnionType::All,
            crate::backend::services::settlements::numbers_query(merchant_id)
                .expr_as(Expr::val("number"), "kind")
                .to_owned(),
        );
        let mut names = Self {
            terminals: HashMap::new(),
            numbers: HashMap::new(),
        };
        for row in NameRow::find_by_statement(db.get_database_backend().build(&select))
            .all(db)
            .await?
        {
            if row.kind == "number" {
                names
                    .numbers
                    .insert(row.id, (row.code, row.name.unwrap_or_default()));
            } else {
                names.terminals.insert(row.id, (row.code, row.name));
            }
        }
        Ok(names)
    }

    pub(super) fn terminal(&self, id: i64) -> String {
        self.terminals
            .get(&id)
            .map(|(no, _)| no.clone())
            .unwrap_or_default()
    }

    pub(super) fn number(&self, id: i64) -> (String, String) {
        self.numbers.get(&id).cloned().unwrap_or_default()
    }
}

/// What a row of the list shows: the transaction's columns it needs, and the numbers of its terminal
/// and merchant number. A page reads exactly these, in one statement.
#[derive(Debug, FromQueryResult)]
pub(super) struct Listed {
    pub(super) id: i64,
    pub(super) txn_time: DateTime<Utc>,
    pub(super) txn_type: String,
    pub(super) status: String,
    pub(super) card_masked: String,
    pub(super) card_org: String,
    pub(super) card_type: String,
    pub(super) issuer_bank: String,
    pub(super) amount_fen: i64,
    pub(super) fee_fen: Option<i64>,
    pub(super) reference_no: String,
    pub(super) voucher_no: String,
    pub(super) batch_no: String,
    pub(super) auth_code: Option<String>,
    pub(super) settlement_id: Option<i64>,
    pub(super) settlement_date: Option<NaiveDate>,
    pub(super) refunded_fen: i64,
    pub(super) terminal_no: String,
    pub(super) merchant_no: String,
}

impl Listed {
    /// The transaction's columns of a [`Listed`] (the two numbers come from their own tables).
    pub(super) const COLUMNS: [transactions::Column; 17] = {
        use transactions::Column as C;
        [
            C::Id,
            C::TxnTime,
            C::TxnType,
            C::Status,
            C::CardMasked,
            C::CardOrg,
            C::CardType,
            C::IssuerBank,
            C::AmountFen,
            C::FeeFen,
            C::ReferenceNo,
            C::VoucherNo,
            C::BatchNo,
            C::AuthCode,
            C::SettlementId,
            C::SettlementDate,
            C::RefundedFen,
        ]
    };

    /// The same from a whole transaction read otherwise (a detail).
    pub(super) fn of(t: transactions::Model, terminal_no: String, merchant_no: String) -> Self {
        Self {
            id: t.id,
            txn_time: t.txn_time,
            txn_type: t.txn_type,
            status: t.status,
            card_masked: t.card_masked,
            card_org: t.card_org,
            card_type: t.card_type,
            issuer_bank: t.issuer_bank,
            amount_fen: t.amount_fen,
            fee_fen: t.fee_fen,
            reference_no: t.reference_no,
            voucher_no: t.voucher_no,
            batch_no: t.batch_no,
            auth_code: t.auth_code,
            settlement_id: t.settlement_id,
            settlement_date: t.settlement_date,
            refunded_fen: t.refunded_fen,
            terminal_no,
            merchant_no,
        }
    }
}

pub(super) fn row_view(t: Listed, tz: Tz) -> Result<TxnRow, AppError> {
    Ok(TxnRow {
        id: t.id,
        time: local_time::seconds(t.txn_time, tz),
        merchant_no: t.merchant_no,
        terminal_no: t.terminal_no,
        txn_type: decode("transactions.txn_type", &t.txn_type, TxnType::from_code)?,
        status: decode("transactions.status", &t.status, TxnStatus::from_code)?,
        card_masked: t.card_masked,
        card_org: decode("transactions.card_org", &t.card_org, CardOrg::from_code)?,
        card_type: decode("transactions.card_type", &t.card_type, CardType::from_code)?,
        bank: Bank::from_code(&t.issuer_bank),
        amount_fen: t.amount_fen,
        fee_fen: t.fee_fen,
        reference_no: t.reference_no,
        voucher_no: t.voucher_no,
        batch_no: t.batch_no,
        auth_code: t.auth_code,
        settlement_id: t.settlement_id,
        settlement_date: t.settlement_date.map(|d| d.to_string()),
        refunded_fen: t.refunded_fen,
    })
}

/// How many transactions the selection holds: the sum of their tallies when it can be read from
/// them, else counted.
pub(super) async fn count(
    db: &impl ConnectionTrait,
    session: &Session,
    query: &ResolvedQuery,
    tz: Tz,
) -> Result<u64, AppError> {
    let n: Option<i64> = match db.query_one(&count_query(session, query, tz)).await? {
        Some(row) => row.try_get_by_index(0)?,
        None => None,
    };
    Ok(u64::try_from(n.unwrap_or(0)).unwrap_or(0))
}

/// The statement [`count`] runs, whose one column is the number.
pub(super) fn count_query(session: &Session, query: &ResolvedQuery, tz: Tz) -> SelectStatement {
    match tallied(session, query, None) {
        Some((tallies, cond)) => tallies
            .rows(cond)
            .expr_as(
                Expr::cust("CAST(COALESCE(SUM(txn_count), 0) AS BIGINT)"),
                "n",
            )
            .to_owned(),
        None => selection(session, query, tz)
            .select_only()
            .column_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "n")
            .into_query(),
    }
}

/// The terminal groups an operator may filter by: theirs, or all of the merchant's.
pub(crate) async fn groups_for(
    db: &impl ConnectionTrait,
    session: &Session,
) -> Result<Vec<(i64, String)>, AppError> {
    let mut select = terminal_groups::Entity::find()
        .filter(terminal_groups::Column::MerchantId.eq(session.merchant_id))
        .order_by_asc(terminal_groups::Column::Name);
    if session.scope == DataScope::Groups {
        select = select.filter(terminal_groups::Column::Id.is_in(session.group_ids.clone()));
    }
    Ok(select
        .all(db)
        .await?
        .into_iter()
        .map(|g| (g.id, g.name))
        .collect())
}

/// One page of the selection, newest first, at the [`Place`] the query asks for: its rows, the
/// total of the selection, how many rows come before the page, and the cursors of the pages beside it.
pub async fn page(
    db: &impl ConnectionTrait,
    session: &Session,
    query: TxnQuery,
    now: DateTime<Utc>,
) -> Result<TxnPage, AppError> {
    let tz = session.tz;
    let query = query.resolve(db, session, now).await?;
    let size = query.size;
    // Each place reads at most one row more than the page, which tells whether more lie beyond.
    let (found, total, offset, older, newer) = match query.place {
        Place::First => {
            let (found, total, older) = newest(db, session, &query, Keyset::All).await?;
            (found, total, 0, older, false)
        }
        Place::After(row, pos) => {
            let (found, total, older) = newest(db, session, &query, Keyset::Older(row)).await?;
            let offset = Ord::min(pos, total.saturating_sub(found.len() as u64));
            (found, total, offset, older, true)
        }
        Place::At(day) => {
            // The newest row of the day or before: older than the next day's first instant (every
            // id is positive, so no row of that instant counts).
            let next = day.succ_opt().unwrap_or(day);
            let row = (local_time::day_start(next, tz), 0);
            let (found, total, older) = newest(db, session, &query, Keyset::Older(row)).await?;
            // The rows before it are the selection's from the next day on, counted from the tallies
            // when they hold the filters.
            let mut later = query.clone();
            later.query.from = Some(query.from.map_or(next, |from| Ord::max(from, next)));
            let offset = count(db, session, &later, tz).await?;
            (found, total, offset, older, offset > 0)
        }
        Place::Before(row, pos) => {
            let mut found = counted(
                oldest_first(selection_from(session, &query, tz, Keyset::Newer(row)))
                    .limit(size + 1),
                session,
                &query,
            )
            .all(db)
            .await?;
            let newer = found.len() as u64 > size;
            found.truncate(size as usize);
            found.reverse();
            let total = total_of(db, session, &query, &found).await?;
            let offset = if newer {
                pos.saturating_sub(found.len() as u64)
            } else {
                0
            };
            (found, total, offset, true, newer)
        }
        Place::Last => {
            let total = count(db, session, &query, tz).await?;
            let on_last = match total % size {
                0 => size,
                rest => rest,
            };
            let mut found = counted(
                oldest_first(selection_from(session, &query, tz, Keyset::All)).limit(on_last),
                session,
                &query,
            )
            .all(db)
            .await?;
            found.reverse();
            let offset = total.saturating_sub(found.len() as u64);
            (found, total, offset, false, offset > 0)
        }
    };
    let cursor = |c: Option<&Counted>| c.map(|c| cursor_text(c.row.txn_time, c.row.id));
    let next_after = if older { cursor(found.last()) } else { None };
    let prev_before = if newer { cursor(found.first()) } else { None };
    let rows = found
        .into_iter()
        .map(|c| row_view(c.row, tz))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(TxnPage {
        rows,
        total,
        offset,
        next_after,
        prev_before,
        size,
        from: query.from.map(|d| d.to_string()),
        to: query.to.map(|d| d.to_string()),
        may_export: session.may(Function::TransactionExport),
        direct_limit: DIRECT_LIMIT,
        export_cap: EXPORT_CAP,
    })
}

/// The first `query.size` rows of the selection that `narrower` narrows further (what a fast refund
/// may take, say), newest first, each with what it has on its way in refunds; and whether more rows
/// match: for the pages that pick one transaction to act on.
pub async fn pick(
    db: &impl ConnectionTrait,
    session: &Session,
    query: TxnQuery,
    narrower: sea_orm::Condition,
    now: DateTime<Utc>,
) -> Result<(Vec<(TxnRow, i64)>, bool), AppError> {
    #[derive(Debug, FromQueryResult)]
    struct Picked {
        #[sea_orm(nested)]
        row: Listed,
        refund_pending_fen: i64,
    }
    let query = query.resolve(db, session, now).await?;
    let mut found = listed(
        newest_first(selection_from(session, &query, session.tz, Keyset::All).filter(narrower))
            .limit(query.size + 1),
    )
    .column(transactions::Column::RefundPendingFen)
    .into_model::<Picked>()
    .all(db)
    .await?;
    let more = found.len() as u64 > query.size;
    found.truncate(query.size as usize);
    let rows = found
        .into_iter()
        .map(|p| Ok((row_view(p.row, session.tz)?, p.refund_pending_fen)))
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok((rows, more))
}

/// Up to a page of the rows on one side of `keyset`, newest first, the total of the selection, and
/// whether more rows follow the page.
async fn newest(
    db: &impl ConnectionTrait,
    session: &Session,
    query: &ResolvedQuery,
    keyset: Keyset,
) -> Result<(Vec<Counted>, u64, bool), AppError> {
    let mut found = counted(
        newest_first(selection_from(session, query, session.tz, keyset)).limit(query.size + 1),
        session,
        query,
    )
    .all(db)
    .await?;
    let total = total_of(db, session, query, &found).await?;
    let more = found.len() as u64 > query.size;
    found.truncate(query.size as usize);
    Ok((found, total, more))
}

/// A page's rows with the total of the selection riding on them as a scalar subquery (computed
/// once).
fn counted(
    rows: Select<transactions::Entity>,
    session: &Session,
    query: &ResolvedQuery,
) -> sea_orm::Selector<sea_orm::SelectModel<Counted>> {
    listed(rows)
        .expr_as(count_query(session, query, session.tz), "total")
        .into_model::<Counted>()
}

/// The total the rows carry; a page past the last row has no row to carry it and counts on its own.
async fn total_of(
    db: &impl ConnectionTrait,
    session: &Session,
    query: &ResolvedQuery,
    found: &[Counted],
) -> Result<u64, AppError> {
    match found.first() {
        Some(first) => Ok(u64::try_from(first.total).unwrap_or(0)),
        None => count(db, session, query, session.tz).await,
    }
}

/// A page row and the total of its selection.
#[derive(Debug, FromQueryResult)]
pub(super) struct Counted {
    #[sea_orm(nested)]
    pub(super) row: Listed,
    pub(super) total: i64,
}

/// A selection reading the columns of a [`Listed`], in one statement: the transaction's columns a row
/// shows and its terminal's and merchant number's numbers.
pub(super) fn listed(select: Select<transactions::Entity>) -> Select<transactions::Entity> {
    use merchant_numbers::Column as N;
    use terminals::Column as T;
    let (terminal, number) = (Alias::new("listed_terminal"), Alias::new("listed_number"));
    let mut select = select
        .select_only()
        .columns(Listed::COLUMNS)
        .expr_as(Expr::col((terminal.clone(), T::TerminalNo)), "terminal_no")
        .expr_as(Expr::col((number.clone(), N::MerchantNo)), "merchant_no");
    join_name(
        QueryTrait::query(&mut select),
        T::TerminalNo,
        T::Id,
        transactions::Column::TerminalId,
        terminal,
    );
    join_name(
        QueryTrait::query(&mut select),
        N::MerchantNo,
        N::Id,
        transactions::Column::MerchantNumberId,
        number,
    );
    select
}

/// `LEFT JOIN (SELECT <id> AS ref_id, <name> FROM <its table>) AS <alias> ON <alias>.ref_id =
/// transactions.<reference>`: the number of the row a transaction refers to. Both databases flatten
/// the subquery and look each number up by primary key for the rows the page returns, walking the
/// transactions first (a left join keeps them the outer side; PostgreSQL also remembers the few
/// terminals of a page). The subquery shows only these two columns, so that the filters' unqualified
/// names (shared with the tally tables: `status`, `merchant_number_id`) still name the transaction's.
/// A scalar subquery per column and row would cost PostgreSQL more than the rest of the page.
pub(super) fn join_name<C: ColumnTrait>(
    query: &mut SelectStatement,
    name: C,
    id: C,
    reference: transactions::Column,
    alias: Alias,
) {
    query.join_subquery(
        JoinType::LeftJoin,
        Query::select()
            .expr_as(Expr::col(id), Alias::new("ref_id"))
            .column(name)
            .from(name.entity_name())
            .to_owned(),
        alias.clone(),
        Expr::col((alias, Alias::new("ref_id"))).equals((transactions::Entity, reference)),
    );
}

/// What the advanced panel offers: the merchant's numbers (number, store) and the terminal groups the
/// operator may filter by (id, name). Read once per visit of the page, not with every search.
pub async fn filter_options(
    db: &impl ConnectionTrait,
    session: &Session,
) -> Result<TxnFilterOptions, AppError> {
    let mut numbers: Vec<(String, String)> =
        crate::backend::services::settlements::numbers_of(db, session.merchant_id)
            .await?
            .into_values()
            .collect();
    numbers.sort();
    Ok(TxnFilterOptions {
        numbers,
        groups: groups_for(db, session).await?,
    })
}
