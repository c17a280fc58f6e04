//! Totals and summaries, read from the coarsest tallies that hold the filters, or counted from the
//! transactions when no tally does.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{Condition, ConnectionTrait, QuerySelect, QueryTrait};

use super::filters::{selection, shared_filters, terminal_filters};
use super::query::{ResolvedQuery, TxnQuery};
use crate::backend::entities::{
    transaction_bank_fine_tallies, transaction_bank_tallies, transaction_day_tallies,
    transaction_tallies, transaction_terminal_fine_tallies, transaction_terminal_tallies,
};
use crate::backend::services::{decode, scope, settlements};
use crate::backend::Session;
use crate::contract::transactions::{
    Breakdown, SettlementTieOut, SummaryBy, SummaryLine, Tally, TxnSummary,
};
use crate::domain::access::Function;
use crate::domain::{CardOrg, DataScope, MoneyError, TxnStatus, TxnType};
use crate::error::{AppError, Policy};

/// The tallies a total or summary can be read from, coarsest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tallies {
    /// Per merchant, day, type and status.
    Day,
    /// Per merchant number, day, type, status, card organisation, card type and settlement.
    Transaction,
    /// Per terminal, day, merchant number, type and status.
    Terminal,
    /// Per issuing bank, day, merchant number, type and status.
    Bank,
    /// Per terminal, what the transaction tallies know and the issuing bank (several rows for each
    /// terminal tally): every selection confined to terminals.
    TerminalFine,
    /// Per issuing bank and what the transaction tallies know.
    BankFine,
}

/// What a selection asks of the tallies beyond the merchant, the days, the type and the status.
#[derive(Debug, Clone, Copy)]
pub(super) struct Needs {
    /// Confined to terminals: a terminal or group filter, or an operator scoped to groups.
    pub(super) terminal: bool,
    pub(super) bank: bool,
    /// The merchant number (a filter, or the summary by number).
    pub(super) number: bool,
    /// Card organisation, card type, settlement (filters, or the summaries by settlement date and by
    /// organisation): the transaction tallies and the fine ones know them.
    pub(super) fine: bool,
}

impl Tallies {
    pub(super) const COARSEST_FIRST: [Tallies; 6] = [
        Tallies::Day,
        Tallies::Transaction,
        Tallies::Terminal,
        Tallies::Bank,
        Tallies::BankFine,
        Tallies::TerminalFine,
    ];

    pub(super) fn holds(self, needs: Needs) -> bool {
        let Needs {
            terminal,
            bank,
            number,
            fine,
        } = needs;
        match self {
            Tallies::Day => !(terminal || bank || number || fine),
            Tallies::Transaction => !(terminal || bank),
            Tallies::Terminal => !(bank || fine),
            Tallies::Bank => !(terminal || fine),
            Tallies::TerminalFine => true,
            Tallies::BankFine => !terminal,
        }
    }

    /// Whether these tallies are kept per terminal.
    fn per_terminal(self) -> bool {
        matches!(self, Tallies::Terminal | Tallies::TerminalFine)
    }

    /// The rows of these tallies that meet `cond`, nothing selected yet.
    pub(super) fn rows(self, cond: Condition) -> SelectStatement {
        let mut rows = Query::select();
        match self {
            Tallies::Day => rows.from(transaction_day_tallies::Entity),
            Tallies::Transaction => rows.from(transaction_tallies::Entity),
            Tallies::Terminal => rows.from(transaction_terminal_tallies::Entity),
            Tallies::Bank => rows.from(transaction_bank_tallies::Entity),
            Tallies::TerminalFine => rows.from(transaction_terminal_fine_tallies::Entity),
            Tallies::BankFine => rows.from(transaction_bank_fine_tallies::Entity),
        };
        rows.cond_where(cond);
        rows
    }
}

/// The same selection as [`selection`] as a condition on the coarsest tallies that hold it and,
/// for a summary, its key; `None` when the transactions must be counted: a filter on a column no tally
/// knows. A
/// transaction's `txn_date` is the merchant-local day of its `txn_time`, so the day range selects the
/// same transactions.
pub(super) fn tallied(
    session: &Session,
    q: &ResolvedQuery,
    by: Option<SummaryBy>,
) -> Option<(Tallies, Condition)> {
    // Every field named, so that a new filter has to be placed on one side or the other.
    let TxnQuery {
        from,
        to,
        day: _,
        txn_type: _,
        status: _,
        card,
        amount,
        reference,
        terminal,
        group,
        number,
        org,
        card_type,
        bank,
        auth,
        batch,
        sdate,
        settlement,
        min,
        max,
        size: _,
        place: _,
    } = &q.query;
    let untallied = card.is_some()
        || amount.is_some()
        || reference.is_some()
        || auth.is_some()
        || batch.is_some()
        || min.is_some()
        || max.is_some();
    if untallied {
        return None;
    }
    let needs = Needs {
        terminal: terminal.is_some() || group.is_some() || session.scope == DataScope::Groups,
        bank: bank.is_some(),
        number: number.is_some() || by == Some(SummaryBy::MerchantNumber),
        fine: org.is_some()
            || card_type.is_some()
            || sdate.is_some()
            || settlement.is_some()
            || matches!(by, Some(SummaryBy::SettlementDate | SummaryBy::CardOrg)),
    };
    let tallies = Tallies::COARSEST_FIRST
        .into_iter()
        .find(|t| t.holds(needs))?;
    let mut cond = scope::tallies(session, tallies.per_terminal())?
        .add(shared_filters(session, q))
        .add(terminal_filters(q));
    if let Some(from) = from {
        cond = cond.add(Expr::col("txn_date").gte(*from));
    }
    if let Some(to) = to {
        cond = cond.add(Expr::col("txn_date").lte(*to));
    }
    Some((tallies, cond))
}

/// What the transactions of each value of the key moved, by kind, for the same filters as the search;
/// and, for one settlement's transactions, that settlement's own figures beside them.
pub async fn summary(
    db: &impl ConnectionTrait,
    session: &Session,
    query: TxnQuery,
    by: SummaryBy,
    now: DateTime<Utc>,
) -> Result<TxnSummary, AppError> {
    let tz = session.tz;
    let query = query.resolve(db, session, now).await?;
    let key = match by {
        SummaryBy::TxnDate => "txn_date",
        SummaryBy::SettlementDate => "settlement_date",
        SummaryBy::MerchantNumber => "merchant_number_id",
        SummaryBy::CardOrg => "card_org",
    };
    let (rows, count) = match tallied(session, &query, Some(by)) {
        Some((tallies, cond)) => (tallies.rows(cond), "SUM(txn_count)"),
        None => (
            selection(session, &query, tz).select_only().into_query(),
            "COUNT(*)",
        ),
    };
    let rows = sums(db, rows, key, count).await?;

    let numbers = if by == SummaryBy::MerchantNumber {
        settlements::numbers_of(db, session.merchant_id).await?
    } else {
        HashMap::new()
    };
    // Lines in the key's natural order: days and numbers ascending, organisations in their list's
    // order, "not settled yet" last.
    let mut lines: BTreeMap<(u8, String), SummaryLine> = BTreeMap::new();
    for Sum {
        key,
        txn_type,
        status,
        tally,
    } in rows
    {
        let txn_type = decode("transactions.txn_type", &txn_type, TxnType::from_code)?;
        let status = decode("transactions.status", &status, TxnStatus::from_code)?;
        let (order, key, note) = match (by, key) {
            (_, None) => (u8::MAX, String::new(), String::new()),
            (SummaryBy::MerchantNumber, Some(id)) => {
                let (no, store) = id
                    .parse::<i64>()
                    .ok()
                    .and_then(|id| numbers.get(&id).cloned())
                    .unwrap_or_default();
                (0, no, store)
            }
            (SummaryBy::CardOrg, Some(code)) => {
                let order = CardOrg::ALL
                    .iter()
                    .position(|o| o.code() == code)
                    .unwrap_or(usize::from(u8::MAX - 1));
                (
                    u8::try_from(order).unwrap_or(u8::MAX - 1),
                    code,
                    String::new(),
                )
            }
            // A day: PostgreSQL and SQLite both write it YYYY-MM-DD.
            (_, Some(day)) => (0, day.chars().take(10).collect(), String::new()),
        };
        lines
            .entry((order, key.clone()))
            .or_insert_with(|| SummaryLine {
                key,
                note,
                figures: Breakdown::default(),
            })
            .figures
            .add(txn_type, status, tally)
            .map_err(overflow)?;
    }
    let lines: Vec<SummaryLine> = lines.into_values().collect();
    let mut total = Breakdown::default();
    for line in &lines {
        total.merge(&line.figures).map_err(overflow)?;
        line.figures.net_fen().map_err(overflow)?;
    }
    total.net_fen().map_err(overflow)?;
    let settlement = match query.query.settlement {
        Some(id) => tie_out(db, session, id).await?,
        None => None,
    };
    Ok(TxnSummary {
        by,
        lines,
        total,
        settlement,
    })
}

fn overflow(e: MoneyError) -> AppError {
    AppError::internal("adding up a summary", &e)
}

/// Settlement `id` and its makeup, when the session may read settlements and sees this one (the
/// settlements' own scope decides: another merchant's is not found, an operator confined to terminal
/// groups sees none); otherwise the summary goes without.
async fn tie_out(
    db: &impl ConnectionTrait,
    session: &Session,
    id: i64,
) -> Result<Option<SettlementTieOut>, AppError> {
    if !session.may(Function::SettlementQuery) {
        return Ok(None);
    }
    match settlements::detail_with_makeup(db, session, id).await {
        Ok((settlement, makeup)) => Ok(Some(SettlementTieOut {
            settlement,
            makeup,
            may_query_refunds: session.may(Function::RefundQuery),
        })),
        Err(AppError::NotFound | AppError::Policy(Policy::MerchantScopeRequired)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The count and amount of one key, type and status.
pub(super) struct Sum {
    /// The key as text; none for rows without one (not settled yet).
    pub key: Option<String>,
    pub txn_type: String,
    pub status: String,
    pub tally: Tally,
}

/// The sums of each key, type and status of a selection of transactions or of their tallies (both
/// have the key, type and status columns under the same names).
pub(super) async fn sums(
    db: &impl ConnectionTrait,
    mut rows: SelectStatement,
    key: &'static str,
    count: &str,
) -> Result<Vec<Sum>, AppError> {
    rows.expr_as(Expr::cust(format!("CAST({key} AS TEXT)")), "k")
        .expr_as(Expr::col("txn_type"), "txn_type")
        .expr_as(Expr::col("status"), "status")
        .expr_as(Expr::cust(format!("CAST({count} AS BIGINT)")), "n")
        .expr_as(
            Expr::cust("CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT)"),
            "fen",
        )
        .add_group_by([Expr::col(key), Expr::col("txn_type"), Expr::col("status")]);
    db.query_all(&rows)
        .await?
        .iter()
        .map(|row| {
            Ok(Sum {
                key: row.try_get_by_index(0)?,
                txn_type: row.try_get_by_index(1)?,
                status: row.try_get_by_index(2)?,
                tally: Tally {
                    count: row.try_get_by_index(3)?,
                    amount_fen: row.try_get_by_index(4)?,
                },
            })
        })
        .collect()
}
