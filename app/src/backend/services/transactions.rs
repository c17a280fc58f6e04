//! Transactions as merchants' staff read them (manual §3.3): the filtered search newest first by
//! keyset, its total, the summary tabs, one transaction, its reprinted sales slip and the Excel download.
//! Every read starts from [`scope::transactions`].

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, JoinType, Query, SelectStatement, SimpleExpr, UnionType,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select, TransactionTrait,
};
use serde_json::json;

use super::filters::{cursor_text, local_midnight, FieldCheck, QuickDay};
use super::{decode, scope};
use crate::backend::audit::{self, AuditEntry};
use crate::backend::entities::{
    merchant_numbers, merchants, terminal_groups, terminals, transaction_bank_tallies,
    transaction_day_tallies, transaction_tallies, transaction_terminal_tallies, transactions,
};
use crate::backend::export::{Cell, Column, XlsxExport};
use crate::backend::Session;
use crate::contract::transactions::{
    LinkedTxn, Slip, SummaryBy, SummaryLine, Tally, TxnFilter, TxnFilterOptions, TxnPage, TxnRow,
    TxnSummary, TxnView, DEFAULT_PAGE_SIZE, PAGE_SIZES,
};
use crate::domain::access::Function;
use crate::domain::{
    AuditAction, AuditOutcome, Bank, CardOrg, CardType, Currency, DataScope, Money, TxnStatus,
    TxnType,
};
use crate::error::{AppError, FieldProblem, Policy};
use crate::i18n::{Label, Lang};

/// Rows in one direct download; more are written by a background job …
pub const DIRECT_LIMIT: u64 = 100_000;
/// … up to this many (Excel holds 1,048,575 under its header).
pub const EXPORT_CAP: u64 = 1_000_000;
/// Rows read at a time while writing a file: one statement's rows fit in a SQLite connection's row
/// buffer, so its thread reads a batch without waiting for the writer; fewer rows in flight keep an
/// export's memory small.
const BATCH: u64 = 1_000;
const _: () = assert!(BATCH < crate::backend::db::ROW_BUFFER as u64);
/// How often a background export records its progress.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// How a card is looked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardMatch {
    /// The last 4 digits.
    Last4(String),
    /// The masked number as printed on a slip: first 6 and last 4 digits.
    Masked { bin: String, last4: String },
}

impl CardMatch {
    /// `1234`, or `622848******1234` (any number of `*`, spaces ignored). A full card number is
    /// refused: the console never takes one.
    pub fn parse(text: &str) -> Option<Self> {
        let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if text.len() == 4 && digits(&text) {
            return Some(Self::Last4(text));
        }
        let (bin, rest) = text.split_at_checked(6)?;
        let last4 = rest.trim_start_matches('*');
        let stars = rest.len() - last4.len();
        (digits(bin) && stars > 0 && last4.len() == 4 && digits(last4)).then(|| Self::Masked {
            bin: bin.to_owned(),
            last4: last4.to_owned(),
        })
    }
}

/// The filters, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TxnQuery {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub day: Option<QuickDay>,
    pub txn_type: Option<TxnType>,
    pub status: Option<TxnStatus>,
    pub card: Option<CardMatch>,
    pub amount: Option<i64>,
    pub reference: Option<String>,
    pub terminal: Option<String>,
    pub group: Option<i64>,
    pub number: Option<String>,
    pub org: Option<CardOrg>,
    pub card_type: Option<CardType>,
    pub bank: Option<Bank>,
    pub auth: Option<String>,
    pub batch: Option<String>,
    pub sdate: Option<NaiveDate>,
    pub settlement: Option<i64>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub size: u64,
    pub after: Option<(DateTime<Utc>, i64)>,
}

/// Filters ready to search: [`TxnQuery::resolve`] has turned what they name into what the search
/// compares. The page, the total, the summaries and the downloads take only these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedQuery {
    query: TxnQuery,
    /// The terminal filter's terminal among the merchant's; `None` without a terminal filter.
    terminal_id: Option<TerminalId>,
}

impl std::ops::Deref for ResolvedQuery {
    type Target = TxnQuery;

    fn deref(&self) -> &TxnQuery {
        &self.query
    }
}

/// The terminal filter's number as the id of one of the merchant's terminals. Looked up before the
/// search, so that the search compares `terminal_id` with a value: planned once (the search pool on
/// PostgreSQL), a search by a subquery on the terminal number walked the merchant's whole range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TerminalId {
    Found(i64),
    /// No terminal of the merchant has the number: nothing matches.
    Missing,
}

/// Digits only, at most `max` of them.
fn digits_up_to(text: &str, max: usize) -> bool {
    !text.is_empty() && text.len() <= max && text.bytes().all(|b| b.is_ascii_digit())
}

/// A number printed with leading zeros (batch, voucher), as typed without them.
fn zero_padded(text: &str, width: usize) -> String {
    format!("{text:0>width$}")
}

impl TxnQuery {
    pub fn parse(filter: &TxnFilter) -> Result<Self, AppError> {
        let mut check = FieldCheck::new();
        let (from, to) = check.date_range(("from", &filter.from), ("to", &filter.to));
        let day = check.code("day", &filter.day, QuickDay::from_code);
        let txn_type = check.code("type", &filter.txn_type, TxnType::from_code);
        let status = check.code("status", &filter.status, TxnStatus::from_code);
        let card = check.code("card", &filter.card, CardMatch::parse);
        let mut money = |field: &str, text: &str| {
            let text = text.trim();
            if text.is_empty() {
                return None;
            }
            let fen = Money::parse(text, Currency::Cny).ok().map(Money::fen);
            if fen.is_none() {
                check.bad(field, FieldProblem::Format);
            }
            fen
        };
        let amount = money("amount", &filter.amount);
        let min = money("min", &filter.min);
        let max = money("max", &filter.max);
        if let (Some(min), Some(max)) = (min, max) {
            if max < min {
                check.bad("max", FieldProblem::RangeReversed);
            }
        }
        let mut exact = |field: &str, text: &str, ok: fn(&str) -> bool| {
            let text = text.trim();
            if text.is_empty() {
                return None;
            }
            if !ok(text) {
                check.bad(field, FieldProblem::Format);
                return None;
            }
            Some(text.to_owned())
        };
        let reference = exact("ref", &filter.reference, |t| digits_up_to(t, 12));
        let terminal = exact("terminal", &filter.terminal, |t| {
            t.len() <= 16 && t.bytes().all(|b| b.is_ascii_alphanumeric())
        })
        .map(|t| t.to_ascii_uppercase());
        let number = exact("number", &filter.number, |t| {
            t.len() == 15 && digits_up_to(t, 15)
        });
        let auth = exact("auth", &filter.auth, |t| {
            t.len() <= 6 && t.bytes().all(|b| b.is_ascii_alphanumeric())
        })
        .map(|t| t.to_ascii_uppercase());
        let batch =
            exact("batch", &filter.batch, |t| digits_up_to(t, 6)).map(|b| zero_padded(&b, 6));
        let group = check.id("group", &filter.group);
        let settlement = check.id("settlement", &filter.settlement);
        let org = check.code("org", &filter.org, CardOrg::from_code);
        let card_type = check.code("card_type", &filter.card_type, CardType::from_code);
        let bank = check.code("bank", &filter.bank, Bank::from_code);
        let sdate = check.date("sdate", &filter.sdate);
        let size = check.page_size("size", &filter.size, &PAGE_SIZES, DEFAULT_PAGE_SIZE);
        let after = check.time_cursor("after", &filter.after);
        check.finish()?;
        Ok(Self {
            from,
            to,
            day,
            txn_type,
            status,
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
            size,
            after,
        })
    }

    /// Turns what the filters name into what the search compares: a quick menu's day into the date
    /// range in the merchant's time zone, and the terminal number into its id.
    pub async fn resolve(
        mut self,
        db: &impl ConnectionTrait,
        session: &Session,
        now: DateTime<Utc>,
    ) -> Result<ResolvedQuery, AppError> {
        QuickDay::resolve(
            &mut self.day,
            (&mut self.from, &mut self.to),
            now,
            session.tz,
        );
        let terminal_id = match &self.terminal {
            None => None,
            Some(number) => Some(
                terminals::Entity::find()
                    .select_only()
                    .column(terminals::Column::Id)
                    .filter(terminals::Column::MerchantId.eq(session.merchant_id))
                    .filter(terminals::Column::TerminalNo.eq(number.as_str()))
                    .into_tuple::<i64>()
                    .one(db)
                    .await?
                    .map_or(TerminalId::Missing, TerminalId::Found),
            ),
        };
        Ok(ResolvedQuery {
            query: self,
            terminal_id,
        })
    }

    /// The filters in words, for the second sheet of a download.
    fn described(&self, lang: Lang) -> Vec<(String, String)> {
        let t = lang.texts();
        let mut lines: Vec<(String, String)> = Vec::new();
        let mut add = |name: &str, value: Option<String>| {
            if let Some(value) = value {
                lines.push((name.to_owned(), value));
            }
        };
        let yuan = |fen: i64| Money::cny(fen).format_plain();
        add(t.txn_from, self.from.map(|d| d.to_string()));
        add(t.txn_to, self.to.map(|d| d.to_string()));
        add(t.txn_type, self.txn_type.map(|v| v.label(lang).to_owned()));
        add(t.txn_status, self.status.map(|v| v.label(lang).to_owned()));
        add(
            t.txn_card,
            self.card.as_ref().map(|c| match c {
                CardMatch::Last4(l) => format!("****{l}"),
                CardMatch::Masked { bin, last4 } => format!("{bin}******{last4}"),
            }),
        );
        add(t.txn_amount, self.amount.map(yuan));
        add(t.txn_reference, self.reference.clone());
        add(t.txn_terminal, self.terminal.clone());
        add(t.txn_group, self.group.map(|g| g.to_string()));
        add(t.txn_number, self.number.clone());
        add(t.txn_org, self.org.map(|v| v.label(lang).to_owned()));
        add(
            t.txn_card_type,
            self.card_type.map(|v| v.label(lang).to_owned()),
        );
        add(t.txn_bank, self.bank.map(|v| v.label(lang).to_owned()));
        add(t.txn_auth, self.auth.clone());
        add(t.txn_batch, self.batch.clone());
        add(t.txn_sdate, self.sdate.map(|d| d.to_string()));
        add(t.txn_settlement, self.settlement.map(|s| s.to_string()));
        add(t.txn_min, self.min.map(yuan));
        add(t.txn_max, self.max.map(yuan));
        if lines.is_empty() {
            lines.push((t.txn_filters_none.to_owned(), String::new()));
        }
        lines
    }
}

/// The filters on the columns that transactions and their tallies share, by unqualified column name
/// so that one condition serves both tables.
fn shared_filters(session: &Session, q: &TxnQuery) -> Condition {
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
fn terminal_filters(q: &ResolvedQuery) -> Condition {
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
fn selection(session: &Session, q: &ResolvedQuery, tz: Tz) -> Select<transactions::Entity> {
    selection_after(session, q, tz, None)
}

/// [`selection`], keeping only the rows after a keyset cursor `(time, id)` in [`newest_first`] order.
fn selection_after(
    session: &Session,
    q: &ResolvedQuery,
    tz: Tz,
    after: Option<(DateTime<Utc>, i64)>,
) -> Select<transactions::Entity> {
    use transactions::Column as C;
    let mut cond = scope::transactions(session).add(shared_filters(session, q));
    if let Some(start) = q.from.and_then(|d| local_midnight(d, tz)) {
        cond = cond.add(C::TxnTime.gte(start));
    }
    let end =
        q.to.and_then(|d| d.succ_opt())
            .and_then(|d| local_midnight(d, tz));
    match after {
        // The cursor is the one upper bound on the time, so that a deep page starts its index range
        // there (SQLite bounds a range by one condition per side, and would start at the end of the
        // day range and skip every row before the cursor).
        Some((time, id)) if end.is_none_or(|end| time < end) => {
            cond = cond.add(C::TxnTime.lte(time)).add(older_than((time, id)));
        }
        _ => {
            if let Some(end) = end {
                cond = cond.add(C::TxnTime.lt(end));
            }
        }
    }
    match &q.card {
        Some(CardMatch::Last4(last4)) => cond = cond.add(C::CardLast4.eq(last4.as_str())),
        Some(CardMatch::Masked { bin, last4 }) => {
            cond = cond
                .add(C::CardLast4.eq(last4.as_str()))
                .add(C::CardMasked.like(super::filters::starts_with_pattern(bin)));
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

/// The tallies a total or summary can be read from, coarsest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tallies {
    /// Per merchant, day, type and status.
    Day,
    /// Per merchant number, day, type, status, card organisation, card type and settlement.
    Transaction,
    /// Per terminal, day, merchant number, type and status.
    Terminal,
    /// Per issuing bank, day, merchant number, type and status.
    Bank,
}

/// What a selection asks of the tallies beyond the merchant, the days, the type and the status.
#[derive(Debug, Clone, Copy)]
struct Needs {
    /// Confined to terminals: a terminal or group filter, or an operator scoped to groups.
    terminal: bool,
    bank: bool,
    /// The merchant number (a filter, or the summary by number).
    number: bool,
    /// What only the transaction tallies know: card organisation, card type, settlement (filters,
    /// or the summaries by settlement date and by organisation).
    fine: bool,
}

impl Tallies {
    const COARSEST_FIRST: [Tallies; 4] = [
        Tallies::Day,
        Tallies::Transaction,
        Tallies::Terminal,
        Tallies::Bank,
    ];

    fn holds(self, needs: Needs) -> bool {
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
        }
    }

    /// The rows of these tallies that meet `cond`, nothing selected yet.
    fn rows(self, cond: Condition) -> SelectStatement {
        let mut rows = Query::select();
        match self {
            Tallies::Day => rows.from(transaction_day_tallies::Entity),
            Tallies::Transaction => rows.from(transaction_tallies::Entity),
            Tallies::Terminal => rows.from(transaction_terminal_tallies::Entity),
            Tallies::Bank => rows.from(transaction_bank_tallies::Entity),
        };
        rows.cond_where(cond);
        rows
    }
}

/// The same selection as [`selection`] as a condition on the coarsest tallies that hold it and,
/// for a summary, its key; `None` when the transactions must be counted: a filter on a column no tally
/// knows, or a selection that needs two tallies at once (confined to terminals, or by bank, and
/// needing what only the transaction tallies know; a bank within terminals). A
/// transaction's `txn_date` is the merchant-local day of its `txn_time`, so the day range selects the
/// same transactions.
fn tallied(
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
        after: _,
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
    let mut cond = scope::tallies(session, tallies == Tallies::Terminal)?
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

/// Newest first, then the highest id: a total order for the keyset.
fn newest_first(select: Select<transactions::Entity>) -> Select<transactions::Entity> {
    select
        .order_by_desc(transactions::Column::TxnTime)
        .order_by_desc(transactions::Column::Id)
}

/// Rows after `(time, id)` in [`newest_first`] order, as one row comparison so that the index
/// bounds the scan on both databases.
fn older_than((time, id): (DateTime<Utc>, i64)) -> SimpleExpr {
    Expr::tuple([
        Expr::col(transactions::Column::TxnTime),
        Expr::col(transactions::Column::Id),
    ])
    .lt(Expr::tuple([Expr::val(time), Expr::val(id)]))
}

/// Terminal and merchant numbers of a set of rows.
struct Names {
    terminals: HashMap<i64, (String, Option<String>)>,
    numbers: HashMap<i64, (String, String)>,
}

/// A terminal's (number, alias) or a merchant number's (number, store name), as [`Names::load`]
/// reads both in one statement.
#[derive(Debug, FromQueryResult)]
struct NameRow {
    id: i64,
    code: String,
    name: Option<String>,
    kind: String,
}

impl Names {
    /// The name of terminal `terminal_id` and those of the merchant's numbers
    /// ([`super::settlements::numbers_query`]), in one statement.
    async fn load(
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
            super::settlements::numbers_query(merchant_id)
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

    fn terminal(&self, id: i64) -> String {
        self.terminals
            .get(&id)
            .map(|(no, _)| no.clone())
            .unwrap_or_default()
    }

    fn number(&self, id: i64) -> (String, String) {
        self.numbers.get(&id).cloned().unwrap_or_default()
    }
}

/// `yyyy-mm-dd hh:mm:ss` in the merchant's zone. Written out field by field: chrono's `format` reads
/// its pattern anew for every call, and a page formats one time per row.
pub(crate) fn local_time(at: DateTime<Utc>, tz: Tz) -> String {
    use chrono::{Datelike, Timelike};
    let t = at.with_timezone(&tz);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// What a row of the list shows: the transaction's columns it needs, and the numbers of its terminal
/// and merchant number. A page reads exactly these, in one statement.
#[derive(Debug, FromQueryResult)]
struct Listed {
    id: i64,
    txn_time: DateTime<Utc>,
    txn_type: String,
    status: String,
    card_masked: String,
    card_org: String,
    card_type: String,
    issuer_bank: String,
    amount_fen: i64,
    fee_fen: Option<i64>,
    reference_no: String,
    voucher_no: String,
    batch_no: String,
    auth_code: Option<String>,
    settlement_id: Option<i64>,
    settlement_date: Option<NaiveDate>,
    refunded_fen: i64,
    terminal_no: String,
    merchant_no: String,
}

impl Listed {
    /// The transaction's columns of a [`Listed`] (the two numbers come from their own tables).
    const COLUMNS: [transactions::Column; 17] = {
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
    fn of(t: transactions::Model, terminal_no: String, merchant_no: String) -> Self {
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

fn row_view(t: Listed, tz: Tz) -> Result<TxnRow, AppError> {
    Ok(TxnRow {
        id: t.id,
        time: local_time(t.txn_time, tz),
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
async fn count(
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
fn count_query(session: &Session, query: &ResolvedQuery, tz: Tz) -> SelectStatement {
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
async fn groups_for(
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

pub async fn page(
    db: &impl ConnectionTrait,
    session: &Session,
    query: TxnQuery,
    now: DateTime<Utc>,
) -> Result<TxnPage, AppError> {
    let tz = session.tz;
    let query = query.resolve(db, session, now).await?;
    // The total rides on the page's statement as a scalar subquery (computed once); a page past the
    // last row has no row to carry it and counts on its own.
    let mut found = listed(
        newest_first(selection_after(session, &query, tz, query.after)).limit(query.size + 1),
    )
    .expr_as(count_query(session, &query, tz), "total")
    .into_model::<Counted>()
    .all(db)
    .await?;
    let total = match found.first() {
        Some(first) => u64::try_from(first.total).unwrap_or(0),
        None => count(db, session, &query, tz).await?,
    };
    let more = found.len() as u64 > query.size;
    found.truncate(query.size as usize);
    let next_after = if more {
        found.last().map(|c| cursor_text(c.row.txn_time, c.row.id))
    } else {
        None
    };
    let rows = found
        .into_iter()
        .map(|c| row_view(c.row, tz))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(TxnPage {
        rows,
        total,
        next_after,
        size: query.size,
        from: query.from.map(|d| d.to_string()),
        to: query.to.map(|d| d.to_string()),
        may_export: session.may(Function::TransactionExport),
        direct_limit: DIRECT_LIMIT,
        export_cap: EXPORT_CAP,
    })
}

/// A page row and the total of its selection.
#[derive(Debug, FromQueryResult)]
struct Counted {
    #[sea_orm(nested)]
    row: Listed,
    total: i64,
}

/// A selection reading the columns of a [`Listed`], in one statement: the transaction's columns a row
/// shows and its terminal's and merchant number's numbers.
fn listed(select: Select<transactions::Entity>) -> Select<transactions::Entity> {
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
fn join_name<C: ColumnTrait>(
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
        super::settlements::numbers_of(db, session.merchant_id)
            .await?
            .into_values()
            .collect();
    numbers.sort();
    Ok(TxnFilterOptions {
        numbers,
        groups: groups_for(db, session).await?,
    })
}

/// Count and amount per status for each value of the key, for the same filters as the search.
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
        super::settlements::numbers_of(db, session.merchant_id).await?
    } else {
        HashMap::new()
    };
    // Lines in the key's natural order: days and numbers ascending, organisations in their list's
    // order, "not settled yet" last.
    let mut lines: BTreeMap<(u8, String), SummaryLine> = BTreeMap::new();
    for (key, status, n, fen) in rows {
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
        let line = lines
            .entry((order, key.clone()))
            .or_insert_with(|| empty_line(key, note));
        add_tally(line, status, n, fen)?;
    }
    let lines: Vec<SummaryLine> = lines.into_values().collect();
    let mut total = empty_line(String::new(), String::new());
    for line in &lines {
        for (status, tally) in TxnStatus::ALL.iter().zip(&line.by_status) {
            add_tally(&mut total, *status, tally.count, tally.amount_fen)?;
        }
    }
    Ok(TxnSummary { by, lines, total })
}

/// (key as text, status, count, amount) for each key and status of a selection of transactions or
/// of their tallies (both have the key and status columns under the same names).
async fn sums(
    db: &impl ConnectionTrait,
    mut rows: SelectStatement,
    key: &'static str,
    count: &str,
) -> Result<Vec<(Option<String>, String, i64, i64)>, AppError> {
    rows.expr_as(Expr::cust(format!("CAST({key} AS TEXT)")), "k")
        .expr_as(Expr::col("status"), "status")
        .expr_as(Expr::cust(format!("CAST({count} AS BIGINT)")), "n")
        .expr_as(
            Expr::cust("CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT)"),
            "fen",
        )
        .add_group_by([Expr::col(key), Expr::col("status")]);
    db.query_all(&rows)
        .await?
        .iter()
        .map(|row| {
            Ok((
                row.try_get_by_index(0)?,
                row.try_get_by_index(1)?,
                row.try_get_by_index(2)?,
                row.try_get_by_index(3)?,
            ))
        })
        .collect()
}

fn empty_line(key: String, note: String) -> SummaryLine {
    SummaryLine {
        key,
        note,
        by_status: vec![Tally::default(); TxnStatus::ALL.len()],
        total: Tally::default(),
    }
}

fn add_tally(line: &mut SummaryLine, status: TxnStatus, n: i64, fen: i64) -> Result<(), AppError> {
    let overflow =
        || AppError::internal("adding up a summary", &crate::domain::MoneyError::Overflow);
    let i = TxnStatus::ALL
        .iter()
        .position(|s| *s == status)
        .unwrap_or_default();
    for tally in [&mut line.by_status[i], &mut line.total] {
        tally.count = tally.count.checked_add(n).ok_or_else(overflow)?;
        tally.amount_fen = tally.amount_fen.checked_add(fen).ok_or_else(overflow)?;
    }
    Ok(())
}

/// One transaction the session may see (another merchant's, or another group's, is "not found").
pub(crate) async fn visible(
    db: &impl ConnectionTrait,
    session: &Session,
    id: i64,
) -> Result<transactions::Model, AppError> {
    transactions::Entity::find_by_id(id)
        .filter(scope::transactions(session))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

fn linked(t: transactions::Model, tz: Tz) -> Result<LinkedTxn, AppError> {
    Ok(LinkedTxn {
        id: t.id,
        time: local_time(t.txn_time, tz),
        txn_type: decode("transactions.txn_type", &t.txn_type, TxnType::from_code)?,
        status: decode("transactions.status", &t.status, TxnStatus::from_code)?,
        amount_fen: t.amount_fen,
        reference_no: t.reference_no,
    })
}

/// The list row of a transaction read whole (another page showing it).
pub(crate) async fn row_of(
    db: &impl ConnectionTrait,
    session: &Session,
    t: transactions::Model,
) -> Result<TxnRow, AppError> {
    let names = Names::load(db, session.merchant_id, t.terminal_id).await?;
    let (merchant_no, _) = names.number(t.merchant_number_id);
    let terminal_no = names.terminal(t.terminal_id);
    row_view(Listed::of(t, terminal_no, merchant_no), session.tz)
}

/// Whether a transaction is from the merchant's today: its slip is reprinted on the terminal.
fn is_today(t: &transactions::Model, now: DateTime<Utc>, tz: Tz) -> bool {
    t.txn_time.with_timezone(&tz).date_naive() == now.with_timezone(&tz).date_naive()
}

pub async fn detail(
    db: &impl ConnectionTrait,
    session: &Session,
    id: i64,
    now: DateTime<Utc>,
) -> Result<TxnView, AppError> {
    let t = visible(db, session, id).await?;
    let tz = session.tz;
    let names = Names::load(db, session.merchant_id, t.terminal_id).await?;
    let original = match t.original_txn_id {
        Some(original) => transactions::Entity::find_by_id(original)
            .filter(scope::transactions(session))
            .one(db)
            .await?
            .map(|o| linked(o, tz))
            .transpose()?,
        None => None,
    };
    let linked_rows = transactions::Entity::find()
        .filter(scope::transactions(session))
        .filter(transactions::Column::OriginalTxnId.eq(t.id))
        .order_by_asc(transactions::Column::TxnTime)
        .order_by_asc(transactions::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|l| linked(l, tz))
        .collect::<Result<Vec<_>, _>>()?;
    let reprint = session.may(Function::TransactionReprintSlip);
    let today = is_today(&t, now, tz);
    // Nothing left once refunds (done or on their way) take the whole amount: no refund to offer.
    let may_refund = session.may(Function::RefundRequest)
        && t.status == TxnStatus::Success.code()
        && TxnType::from_code(&t.txn_type).is_some_and(crate::domain::refund::is_refundable_type)
        && t.refunded_fen + t.refund_pending_fen < t.amount_fen;
    let (merchant_no, store) = names.number(t.merchant_number_id);
    let terminal_no = names.terminal(t.terminal_id);
    let terminal_alias = names
        .terminals
        .get(&t.terminal_id)
        .and_then(|(_, alias)| alias.clone());
    Ok(TxnView {
        txn: row_view(Listed::of(t, terminal_no, merchant_no), tz)?,
        store,
        terminal_alias,
        original,
        linked: linked_rows,
        may_reprint: reprint && !today,
        reprint_on_terminal: reprint && today,
        may_query_settlements: session.may(Function::SettlementQuery)
            && session.scope == DataScope::Merchant,
        may_refund,
        may_query_refunds: session.may(Function::RefundQuery),
    })
}

/// The sales slip of a transaction not from today, reprinted; the reprint is audited.
pub async fn slip(
    db: &(impl ConnectionTrait + TransactionTrait),
    session: &Session,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Slip, AppError> {
    let t = visible(db, session, id).await?;
    let tz = session.tz;
    if is_today(&t, now, tz) {
        return Err(AppError::Policy(Policy::SlipFromToday));
    }
    let names = Names::load(db, session.merchant_id, t.terminal_id).await?;
    let merchant_name = merchants::Entity::find_by_id(session.merchant_id)
        .one(db)
        .await?
        .map(|m| m.name)
        .unwrap_or_default();
    let original_reference = match t.original_txn_id {
        Some(original) => transactions::Entity::find_by_id(original)
            .filter(scope::transactions(session))
            .one(db)
            .await?
            .map(|o| o.reference_no),
        None => None,
    };
    let (merchant_no, store) = names.number(t.merchant_number_id);
    let entry = AuditEntry::new(
        session.actor(),
        AuditAction::SlipReprint,
        AuditOutcome::Success,
    )
    .object("transaction", t.id)
    .detail(json!({ "reference": t.reference_no, "terminal": names.terminal(t.terminal_id) }));
    audit::record(db, entry, now).await?;
    Ok(Slip {
        merchant_name,
        merchant_no,
        store,
        terminal_no: names.terminal(t.terminal_id),
        card_org: decode("transactions.card_org", &t.card_org, CardOrg::from_code)?,
        card_type: decode("transactions.card_type", &t.card_type, CardType::from_code)?,
        bank: Bank::from_code(&t.issuer_bank),
        txn_type: decode("transactions.txn_type", &t.txn_type, TxnType::from_code)?,
        card_masked: t.card_masked,
        batch_no: t.batch_no,
        voucher_no: t.voucher_no,
        reference_no: t.reference_no,
        auth_code: t.auth_code,
        original_reference,
        amount_fen: t.amount_fen,
        time: local_time(t.txn_time, tz),
        reprinted_at: local_time(now, tz),
    })
}

/// The transactions of the filters as an Excel file, and its name: a direct download, up to
/// `direct_limit` rows (more go through a background job, see `services::exports`).
pub async fn export(
    db: &DatabaseConnection,
    session: &Session,
    query: TxnQuery,
    lang: Lang,
    now: DateTime<Utc>,
    direct_limit: u64,
) -> Result<(String, Vec<u8>), AppError> {
    let tz = session.tz;
    let query = query.resolve(db, session, now).await?;
    let total = count(db, session, &query, tz).await?;
    if total > direct_limit {
        return Err(AppError::Policy(Policy::ExportTooLarge));
    }
    let mut file = new_export(lang)?;
    let rows = write_rows(db, session, &query, tz, lang, &mut file, None).await?;
    let bytes = file
        .finish(lang.texts().audit_filters_sheet, &query.described(lang))
        .map_err(internal)?;
    audit_export(db, session, &query, rows, now).await?;
    Ok((export_name(now, tz), bytes))
}

/// How many rows the filters select (for the choice between a direct download and a job).
pub async fn export_size(
    db: &impl ConnectionTrait,
    session: &Session,
    query: &ResolvedQuery,
) -> Result<u64, AppError> {
    count(db, session, query, session.tz).await
}

/// Writes the transactions of the filters to `path`, reporting progress on the export job
/// `job`; returns the file's name for the user and the rows written.
pub async fn export_to_file(
    db: &DatabaseConnection,
    session: &Session,
    query: &ResolvedQuery,
    lang: Lang,
    now: DateTime<Utc>,
    path: &std::path::Path,
    job: i64,
) -> Result<(String, u32), AppError> {
    let tz = session.tz;
    let mut file = new_export(lang)?;
    let rows = write_rows(db, session, query, tz, lang, &mut file, Some(job)).await?;
    let described = query.described(lang);
    let filters_sheet = lang.texts().audit_filters_sheet;
    cpu_bound(|| file.finish_to_file(filters_sheet, &described, path)).map_err(internal)?;
    audit_export(db, session, query, rows, now).await?;
    Ok((export_name(now, tz), rows))
}

fn export_name(now: DateTime<Utc>, tz: Tz) -> String {
    format!(
        "transactions-{}.xlsx",
        now.with_timezone(&tz).format("%Y%m%d-%H%M%S")
    )
}

async fn audit_export(
    db: &(impl ConnectionTrait + TransactionTrait),
    session: &Session,
    query: &TxnQuery,
    rows: u32,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let entry = AuditEntry::new(
        session.actor(),
        AuditAction::TransactionExport,
        AuditOutcome::Success,
    )
    .detail(json!({ "rows": rows, "from": query.from, "to": query.to }));
    audit::record(db, entry, now).await?;
    Ok(())
}

/// Work that keeps a core busy for a while (writing a batch of cells, zipping the file): on the
/// multi-threaded runtime the other requests move to another worker meanwhile.
fn cpu_bound<T>(work: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
        _ => work(),
    }
}

fn new_export(lang: Lang) -> Result<XlsxExport, AppError> {
    let t = lang.texts();
    let col = |header: &'static str, width: f64| Column { header, width };
    XlsxExport::new(
        t.txn_sheet,
        &[
            col(t.txn_col_time, 20.0),
            col(t.txn_number, 18.0),
            col(t.txn_terminal, 11.0),
            col(t.txn_type, 10.0),
            col(t.txn_status, 8.0),
            col(t.txn_col_card, 21.0),
            col(t.txn_org, 10.0),
            col(t.txn_card_type, 8.0),
            col(t.txn_bank, 14.0),
            col(t.txn_col_amount, 14.0),
            col(t.txn_col_fee, 10.0),
            col(t.txn_col_reference, 15.0),
            col(t.txn_col_voucher, 9.0),
            col(t.txn_batch, 9.0),
            col(t.txn_auth, 9.0),
            col(t.txn_sdate, 12.0),
        ],
    )
    .map_err(internal)
}

/// Streams the selected rows into `file` in keyset batches (never the whole result in memory), and
/// records the progress on export job `job` after each batch. A reader task fetches the next batch
/// while this one is written, so the database and the writer work at the same time.
async fn write_rows(
    db: &DatabaseConnection,
    session: &Session,
    query: &ResolvedQuery,
    tz: Tz,
    lang: Lang,
    file: &mut XlsxExport,
    job: Option<i64>,
) -> Result<u32, AppError> {
    // Two batches in flight at most: one being written, one read ahead.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Vec<Listed>, AppError>>(1);
    let reader = {
        let (db, session, query) = (db.clone(), session.clone(), query.clone());
        tokio::spawn(async move {
            // One snapshot on one connection: the file is the transactions as of one moment, and
            // the reading fills one connection's page cache, not every pooled one's.
            let snapshot = match crate::backend::db::begin_snapshot(&db).await {
                Ok(snapshot) => snapshot,
                Err(e) => {
                    let _ = tx.send(Err(e.into())).await;
                    return;
                }
            };
            let mut cursor = None;
            loop {
                let batch = listed(
                    newest_first(selection_after(&session, &query, tz, cursor)).limit(BATCH),
                )
                .into_model::<Listed>()
                .all(&snapshot)
                .await
                .map_err(AppError::from);
                let last = match &batch {
                    Ok(rows) => rows.last().map(|t| (t.txn_time, t.id)),
                    Err(_) => None,
                };
                let failed = batch.is_err();
                // The writer has gone (it failed): stop reading.
                if tx.send(batch).await.is_err() || failed {
                    break;
                }
                match last {
                    Some(last) => cursor = Some(last),
                    None => break,
                }
            }
            // Read only: nothing to keep.
            let _ = snapshot.rollback().await;
        })
    };
    let written = async {
        let mut reported = std::time::Instant::now();
        while let Some(batch) = rx.recv().await {
            let batch = batch?;
            if batch.is_empty() {
                break;
            }
            cpu_bound(|| -> Result<(), AppError> {
                for t in batch {
                    push_row(file, t, tz, lang)?;
                }
                Ok(())
            })?;
            // The progress bar moves about twice a second: one write per batch would be thousands.
            if let Some(job) = job.filter(|_| reported.elapsed() >= PROGRESS_EVERY) {
                super::exports::progress(db, job, file.rows()).await?;
                reported = std::time::Instant::now();
            }
        }
        Ok::<_, AppError>(file.rows())
    }
    .await;
    drop(rx);
    // A reader that panicked is an internal error, not a short file.
    reader
        .await
        .map_err(|e| AppError::internal("reading rows for an export", &e))?;
    written
}

fn push_row(file: &mut XlsxExport, t: Listed, tz: Tz, lang: Lang) -> Result<(), AppError> {
    let txn_type = decode("transactions.txn_type", &t.txn_type, TxnType::from_code)?;
    let status = decode("transactions.status", &t.status, TxnStatus::from_code)?;
    let org = decode("transactions.card_org", &t.card_org, CardOrg::from_code)?;
    let card_type = decode("transactions.card_type", &t.card_type, CardType::from_code)?;
    let bank = Bank::from_code(&t.issuer_bank);
    file.push(&[
        Cell::DateTime(t.txn_time.with_timezone(&tz).naive_local()),
        t.merchant_no.into(),
        t.terminal_no.into(),
        txn_type.label(lang).into(),
        status.label(lang).into(),
        t.card_masked.into(),
        org.label(lang).into(),
        card_type.label(lang).into(),
        bank.map_or(t.issuer_bank.clone(), |b| b.label(lang).to_owned())
            .into(),
        Cell::Money(Money::cny(t.amount_fen)),
        t.fee_fen
            .map_or(Cell::Empty, |f| Cell::Money(Money::cny(f))),
        t.reference_no.into(),
        t.voucher_no.into(),
        t.batch_no.into(),
        t.auth_code.into(),
        t.settlement_date.map_or(Cell::Empty, Cell::Date),
    ])
    .map_err(internal)
}

fn internal(err: crate::backend::export::ExportError) -> AppError {
    AppError::internal("writing the transactions download", &err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_in_the_merchants_zone_to_the_second() {
        use chrono::TimeZone;
        let at = Utc
            .with_ymd_and_hms(2026, 11, 30, 16, 5, 9)
            .single()
            .expect("a valid time");
        assert_eq!(
            local_time(at, chrono_tz::Asia::Shanghai),
            "2026-12-01 00:05:09"
        );
        assert_eq!(local_time(at, chrono_tz::UTC), "2026-11-30 16:05:09");
    }

    #[test]
    fn cards_are_looked_for_by_last_digits_or_the_masked_number_only() {
        assert_eq!(
            CardMatch::parse("1234"),
            Some(CardMatch::Last4("1234".into()))
        );
        assert_eq!(
            CardMatch::parse(" 622848 ****** 1234 "),
            Some(CardMatch::Masked {
                bin: "622848".into(),
                last4: "1234".into()
            })
        );
        for bad in [
            "123",
            "12345",
            "6228480000001234",
            "622848*12a4",
            "62284*1234",
            "abcd",
            "622848******",
        ] {
            assert_eq!(CardMatch::parse(bad), None, "{bad}");
        }
    }

    fn session(scope: DataScope) -> Session {
        Session {
            token_hash: String::new(),
            operator_id: 1,
            merchant_id: 1,
            login_name: "finance".into(),
            display_name: String::new(),
            roles: Vec::new(),
            functions: Vec::new(),
            scope,
            group_ids: vec![3],
            must_change_password: false,
            cert_fingerprint: String::new(),
            remote_addr: String::new(),
            tz: chrono_tz::Asia::Shanghai,
        }
    }

    #[test]
    fn totals_are_read_from_the_coarsest_tallies_that_hold_the_filters() {
        use Tallies::{Bank, Day, Terminal, Transaction};
        let days = TxnFilter {
            from: "2026-11-01".into(),
            to: "2026-11-30".into(),
            status: "success".into(),
            ..TxnFilter::default()
        };
        let with = |change: fn(&mut TxnFilter)| {
            let mut filter = days.clone();
            change(&mut filter);
            looked_up(TxnQuery::parse(&filter).expect("valid filters"))
        };
        let plain = with(|_| {});
        let terminal = with(|f| f.terminal = "T0000001".into());
        let group = with(|f| f.group = "3".into());
        let group_number = with(|f| {
            f.group = "3".into();
            f.number = "898310054110001".into();
        });
        let group_org = with(|f| {
            f.group = "3".into();
            f.org = "visa".into();
        });
        let number = with(|f| f.number = "898310054110001".into());
        let amount = with(|f| f.amount = "12.34".into());
        let bank = with(|f| f.bank = "ICBC".into());
        let bank_number = with(|f| {
            f.bank = "ICBC".into();
            f.number = "898310054110001".into();
        });
        let bank_terminal = with(|f| {
            f.bank = "ICBC".into();
            f.terminal = "T0000001".into();
        });
        let (merchant, groups) = (session(DataScope::Merchant), session(DataScope::Groups));
        let cases = [
            (&merchant, &plain, None, Some(Day)),
            (&merchant, &plain, Some(SummaryBy::TxnDate), Some(Day)),
            (
                &merchant,
                &plain,
                Some(SummaryBy::MerchantNumber),
                Some(Transaction),
            ),
            (
                &merchant,
                &plain,
                Some(SummaryBy::CardOrg),
                Some(Transaction),
            ),
            (&merchant, &number, None, Some(Transaction)),
            (&merchant, &terminal, None, Some(Terminal)),
            (&merchant, &group, Some(SummaryBy::TxnDate), Some(Terminal)),
            (
                &merchant,
                &group,
                Some(SummaryBy::MerchantNumber),
                Some(Terminal),
            ),
            (&merchant, &group, Some(SummaryBy::SettlementDate), None),
            (&merchant, &group_number, None, Some(Terminal)),
            (&merchant, &group_org, None, None),
            (&merchant, &amount, None, None),
            (&groups, &plain, None, Some(Terminal)),
            (
                &groups,
                &plain,
                Some(SummaryBy::MerchantNumber),
                Some(Terminal),
            ),
            (&groups, &plain, Some(SummaryBy::CardOrg), None),
            (&groups, &terminal, Some(SummaryBy::TxnDate), Some(Terminal)),
            (&merchant, &bank, None, Some(Bank)),
            (&merchant, &bank, Some(SummaryBy::TxnDate), Some(Bank)),
            (
                &merchant,
                &bank_number,
                Some(SummaryBy::MerchantNumber),
                Some(Bank),
            ),
            (&merchant, &bank, Some(SummaryBy::CardOrg), None),
            (&merchant, &bank_terminal, None, None),
            (&groups, &bank, None, None),
        ];
        for (i, (session, query, by, expected)) in cases.into_iter().enumerate() {
            let chosen = tallied(session, query, by).map(|(tallies, _)| tallies);
            assert_eq!(chosen, expected, "case {i}: {by:?}");
        }
    }

    #[test]
    fn an_operator_of_groups_reads_only_their_terminals_tallies() {
        let query = looked_up(TxnQuery::parse(&TxnFilter::default()).expect("no filters"));
        let (_, cond) = tallied(&session(DataScope::Groups), &query, None).expect("tallied");
        let sql = transaction_terminal_tallies::Entity::find()
            .filter(cond)
            .build(sea_orm::DbBackend::Postgres)
            .to_string();
        assert!(
            sql.contains(r#""merchant_id" = 1 AND "terminal_id" IN (SELECT "terminal_id" FROM "terminal_group_members" WHERE "group_id" IN (3))"#),
            "{sql}"
        );
    }

    /// Filters as [`TxnQuery::resolve`] makes them, the terminal filter's terminal being id 1.
    fn looked_up(query: TxnQuery) -> ResolvedQuery {
        ResolvedQuery {
            terminal_id: query.terminal.as_ref().map(|_| TerminalId::Found(1)),
            query,
        }
    }

    #[test]
    fn a_looked_up_terminal_is_compared_by_id() {
        let query = TxnQuery::parse(&TxnFilter {
            terminal: "t5000009".into(),
            ..Default::default()
        })
        .expect("a terminal");
        let sql = |terminal_id| {
            let resolved = ResolvedQuery {
                query: query.clone(),
                terminal_id: Some(terminal_id),
            };
            transactions::Entity::find()
                .filter(terminal_filters(&resolved))
                .build(sea_orm::DbBackend::Postgres)
                .to_string()
        };
        let found = sql(TerminalId::Found(7));
        assert!(found.ends_with(r#"WHERE "terminal_id" = 7"#), "{found}");
        let missing = sql(TerminalId::Missing);
        assert!(missing.ends_with("WHERE 1 = 0"), "{missing}");
    }

    #[test]
    fn bad_filters_are_named_field_by_field() {
        let filter = TxnFilter {
            from: "2026-11-30".into(),
            to: "2026-11-01".into(),
            amount: "12.3a".into(),
            min: "5".into(),
            max: "1.999".into(),
            size: "100000".into(),
            card: "6228480000001234".into(),
            reference: "12345678901234".into(),
            after: "yesterday".into(),
            txn_type: "purchase' OR 1=1".into(),
            ..TxnFilter::default()
        };
        let Err(AppError::Invalid(errors)) = TxnQuery::parse(&filter) else {
            panic!("bad filters accepted");
        };
        let mut fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            ["after", "amount", "card", "max", "ref", "size", "to", "type"]
        );
    }

    #[test]
    fn amounts_are_yuan_to_the_fen_and_numbers_may_drop_leading_zeros() {
        let q = TxnQuery::parse(&TxnFilter {
            min: "1,000".into(),
            max: "1000.5".into(),
            batch: "12".into(),
            terminal: "t0000001".into(),
            size: "200".into(),
            ..TxnFilter::default()
        })
        .expect("parses");
        assert_eq!((q.min, q.max), (Some(100_000), Some(100_050)));
        assert_eq!(q.batch.as_deref(), Some("000012"));
        assert_eq!(q.terminal.as_deref(), Some("T0000001"));
        assert_eq!(q.size, 200);
    }
}
