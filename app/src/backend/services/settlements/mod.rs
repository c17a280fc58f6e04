//! Settlements as finance staff read them (manual §3.2): the filtered list with its sums, one
//! settlement, the Excel download of a list, and the T+1 reconciliation file of one settlement.

mod makeup;

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, TransactionTrait,
};
use serde_json::json;

use super::{decode, scope};
use crate::backend::audit::{self, AuditEntry};
use crate::backend::entities::{
    merchant_numbers, refund_requests, settlements, terminals, transactions,
};
use crate::backend::export::{Cell, Column, XlsxExport};
use crate::backend::local_time;
use crate::backend::services::filters::{FieldCheck, QuickDay};
use crate::backend::Session;
use crate::contract::home::{NextPayout, SettlementDay};
use crate::contract::settlements::{
    SettlementFilter, SettlementMakeup, SettlementPage, SettlementRow, SettlementSums,
};
use crate::domain::access::Function;
use crate::domain::reconciliation::{self, Detail, Header, Kind, Trailer};
use crate::domain::{AuditAction, AuditOutcome, Money, SettlementStatus};
use crate::error::{AppError, FieldProblem, Policy};
use crate::i18n::{Label, Lang};

pub use makeup::makeup;

pub const PAGE_SIZE: u64 = 50;
/// Settlements in one download: years of a large chain fit.
pub const EXPORT_LIMIT: u64 = 100_000;
/// Rows read at a time while writing a file.
const BATCH: u64 = 5_000;

/// The type of a reconciliation line for a refund made in the console (docs/RECONCILIATION.md).
pub const REQUEST_LINE_TYPE: &str = "console_refund";

/// The filters, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettlementQuery {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub number: Option<String>,
    pub status: Option<SettlementStatus>,
    pub day: Option<QuickDay>,
    pub after: Option<(NaiveDate, i64)>,
}

impl SettlementQuery {
    pub fn parse(filter: &SettlementFilter) -> Result<Self, AppError> {
        let mut check = FieldCheck::new();
        let (from, to) = check.date_range(("from", &filter.from), ("to", &filter.to));
        let number = check.text(&filter.number, 15);
        if number
            .as_deref()
            .is_some_and(|n| n.len() != 15 || !n.bytes().all(|b| b.is_ascii_digit()))
        {
            check.bad("number", FieldProblem::Format);
        }
        let status = check.code("status", &filter.status, SettlementStatus::from_code);
        let day = check.code("day", &filter.day, QuickDay::from_code);
        let after = match filter.after.trim() {
            "" => None,
            text => {
                let parsed = text.split_once('.').and_then(|(d, id)| {
                    Some((
                        NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()?,
                        id.parse::<i64>().ok().filter(|id| *id > 0)?,
                    ))
                });
                if parsed.is_none() {
                    check.bad("after", FieldProblem::Format);
                }
                parsed
            }
        };
        check.finish()?;
        Ok(Self {
            from,
            to,
            number,
            status,
            day,
            after,
        })
    }

    /// Resolves a quick menu's day into the date range, in the merchant's time zone.
    pub fn resolve_day(&mut self, now: DateTime<Utc>, tz: Tz) {
        QuickDay::resolve(&mut self.day, (&mut self.from, &mut self.to), now, tz);
    }

    fn described(&self, lang: Lang) -> Vec<(String, String)> {
        let t = lang.texts();
        let any = || t.audit_any.to_owned();
        vec![
            (
                t.settle_from.into(),
                self.from.map_or_else(any, |d| d.to_string()),
            ),
            (
                t.settle_to.into(),
                self.to.map_or_else(any, |d| d.to_string()),
            ),
            (
                t.settle_number.into(),
                self.number.clone().unwrap_or_else(any),
            ),
            (
                t.settle_status.into(),
                self.status.map_or_else(any, |s| s.label(lang).to_owned()),
            ),
        ]
    }
}

/// The one selection the page, the sums and the download use: the session's scope, then the filters.
fn selection(
    session: &Session,
    query: &SettlementQuery,
) -> Result<Select<settlements::Entity>, AppError> {
    let mut select = settlements::Entity::find().filter(scope::settlements(session)?);
    if let Some(from) = query.from {
        select = select.filter(settlements::Column::SettlementDate.gte(from));
    }
    if let Some(to) = query.to {
        select = select.filter(settlements::Column::SettlementDate.lte(to));
    }
    if let Some(number) = &query.number {
        select = select.filter(
            settlements::Column::MerchantNumberId
                .in_subquery(scope::merchant_number(session, number)),
        );
    }
    if let Some(status) = query.status {
        select = select.filter(settlements::Column::Status.eq(status.code()));
    }
    Ok(select)
}

/// Newest settlement date first, then the newest row: a total order for the keyset.
fn newest_first(select: Select<settlements::Entity>) -> Select<settlements::Entity> {
    select
        .order_by_desc(settlements::Column::SettlementDate)
        .order_by_desc(settlements::Column::Id)
}

fn before_cursor(after: (NaiveDate, i64)) -> Condition {
    let (date, id) = after;
    Condition::any()
        .add(settlements::Column::SettlementDate.lt(date))
        .add(
            Condition::all()
                .add(settlements::Column::SettlementDate.eq(date))
                .add(settlements::Column::Id.lt(id)),
        )
}

/// The merchant's numbers as rows of `id`, `code` (the number) and `name` (the store):
/// [`numbers_of`] reads it alone, a page of transactions together with its terminals' names.
pub(crate) fn numbers_query(merchant_id: i64) -> SelectStatement {
    use merchant_numbers::Column as N;
    Query::select()
        .expr_as(Expr::col(N::Id), "id")
        .expr_as(Expr::col(N::MerchantNo), "code")
        .expr_as(Expr::col(N::Name), "name")
        .from(merchant_numbers::Entity)
        .and_where(Expr::col(N::MerchantId).eq(merchant_id))
        .to_owned()
}

/// The merchant's numbers: id → (number, store name).
pub(crate) async fn numbers_of(
    db: &impl ConnectionTrait,
    merchant_id: i64,
) -> Result<HashMap<i64, (String, String)>, AppError> {
    let numbers: Vec<(i64, String, String)> = db
        .query_all(&numbers_query(merchant_id))
        .await?
        .iter()
        .map(|row| row.try_get_many_by_index())
        .collect::<Result<_, _>>()?;
    Ok(numbers
        .into_iter()
        .map(|(id, number, store)| (id, (number, store)))
        .collect())
}

fn row_view(
    s: settlements::Model,
    numbers: &HashMap<i64, (String, String)>,
    tz: Tz,
) -> Result<SettlementRow, AppError> {
    let (merchant_no, store) = numbers
        .get(&s.merchant_number_id)
        .cloned()
        .unwrap_or_default();
    let local = |t: DateTime<Utc>| local_time::minutes(t, tz);
    Ok(SettlementRow {
        id: s.id,
        settlement_date: s.settlement_date.to_string(),
        merchant_no,
        store,
        period: format!("{} – {}", local(s.period_start), local(s.period_end)),
        txn_count: s.txn_count,
        gross_fen: s.gross_fen,
        refund_count: s.refund_count,
        refund_fen: s.refund_fen,
        fee_fen: s.fee_fen,
        net_fen: s.net_fen,
        status: decode("settlements.status", &s.status, SettlementStatus::from_code)?,
        account_masked: s.account_masked,
        paid_at: s.paid_at.map(local),
    })
}

pub async fn page(
    db: &impl ConnectionTrait,
    session: &Session,
    query: &SettlementQuery,
    now: DateTime<Utc>,
) -> Result<SettlementPage, AppError> {
    let tz = session.tz;
    let mut query = query.clone();
    query.resolve_day(now, tz);
    let query = &query;
    let sums = sums(db, selection(session, query)?).await?;
    let mut select = newest_first(selection(session, query)?);
    if let Some(after) = query.after {
        select = select.filter(before_cursor(after));
    }
    let mut found = select.limit(PAGE_SIZE + 1).all(db).await?;
    let more = found.len() as u64 > PAGE_SIZE;
    found.truncate(PAGE_SIZE as usize);
    let next_after = more
        .then(|| {
            found
                .last()
                .map(|s| format!("{}.{}", s.settlement_date, s.id))
        })
        .flatten();
    let numbers = numbers_of(db, session.merchant_id).await?;
    let rows = found
        .into_iter()
        .map(|s| row_view(s, &numbers, tz))
        .collect::<Result<Vec<_>, _>>()?;
    let mut list: Vec<(String, String)> = numbers.into_values().collect();
    list.sort();
    Ok(SettlementPage {
        rows,
        sums,
        from: query.from.map(|d| d.to_string()),
        to: query.to.map(|d| d.to_string()),
        next_after,
        numbers: list,
        export_limit: EXPORT_LIMIT,
        may_export: session.may(Function::SettlementExport),
        may_download_files: session.may(Function::SettlementReconciliationFile),
    })
}

async fn sums(
    db: &impl ConnectionTrait,
    select: Select<settlements::Entity>,
) -> Result<SettlementSums, AppError> {
    let sum = |col: &str| Expr::cust(format!("CAST(COALESCE(SUM({col}), 0) AS BIGINT)"));
    let row: Option<(i64, i64, i64, i64, i64, i64, i64)> = select
        .select_only()
        .column_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "n")
        .column_as(sum("txn_count"), "txn_count")
        .column_as(sum("gross_fen"), "gross_fen")
        .column_as(sum("refund_count"), "refund_count")
        .column_as(sum("refund_fen"), "refund_fen")
        .column_as(sum("fee_fen"), "fee_fen")
        .column_as(sum("net_fen"), "net_fen")
        .into_tuple()
        .one(db)
        .await?;
    let (count, txn_count, gross_fen, refund_count, refund_fen, fee_fen, net_fen) =
        row.unwrap_or_default();
    Ok(SettlementSums {
        count,
        txn_count,
        gross_fen,
        refund_count,
        refund_fen,
        fee_fen,
        net_fen,
    })
}

/// The settlement date that `pick` (a MIN or MAX of it) finds among `select`; none when it is empty.
async fn settlement_date(
    db: &impl ConnectionTrait,
    select: Select<settlements::Entity>,
    pick: sea_orm::sea_query::SimpleExpr,
) -> Result<Option<NaiveDate>, AppError> {
    Ok(select
        .select_only()
        .column_as(pick, "d")
        .into_tuple::<Option<NaiveDate>>()
        .one(db)
        .await?
        .flatten())
}

/// The newest settlement day the session sees: its settlements (one per merchant number) added up as
/// the settlement query adds them, and whether all are paid out.
pub async fn latest_day(
    db: &impl ConnectionTrait,
    session: &Session,
) -> Result<Option<SettlementDay>, AppError> {
    let in_scope = scope::settlements(session)?;
    let newest = settlement_date(
        db,
        settlements::Entity::find().filter(in_scope.clone()),
        settlements::Column::SettlementDate.max(),
    );
    let Some(date) = newest.await? else {
        return Ok(None);
    };
    let of_day = || {
        settlements::Entity::find()
            .filter(in_scope.clone())
            .filter(settlements::Column::SettlementDate.eq(date))
    };
    let sums = sums(db, of_day()).await?;
    let pending = of_day()
        .filter(settlements::Column::Status.eq(SettlementStatus::Pending.code()))
        .count(db)
        .await?;
    Ok(Some(SettlementDay {
        date,
        sums,
        paid: pending == 0,
    }))
}

/// The next payout: clearing pays a pending settlement out once `cycle_days` have passed since its
/// settlement date (in the merchant's time zone), so the next payout day is the earliest pending
/// settlement's, or today when that day has come and the run has not paid it yet; due on it are the
/// pending settlements up to [`NextPayout::last_settlement_date`].
pub async fn next_payout(
    db: &impl ConnectionTrait,
    session: &Session,
    cycle_days: i32,
    now: DateTime<Utc>,
) -> Result<Option<NextPayout>, AppError> {
    let in_scope = scope::settlements(session)?;
    let pending = || {
        settlements::Entity::find()
            .filter(in_scope.clone())
            .filter(settlements::Column::Status.eq(SettlementStatus::Pending.code()))
    };
    let earliest = settlement_date(db, pending(), settlements::Column::SettlementDate.min());
    let Some(earliest) = earliest.await? else {
        return Ok(None);
    };
    let cycle = chrono::Duration::days(i64::from(cycle_days));
    let date = Ord::max(earliest + cycle, local_time::today(now, session.tz));
    let last_settlement_date = date - cycle;
    let due = sums(
        db,
        pending().filter(settlements::Column::SettlementDate.lte(last_settlement_date)),
    )
    .await?;
    Ok(Some(NextPayout {
        date,
        last_settlement_date,
        settlements: u64::try_from(due.count).unwrap_or(0),
        net_fen: due.net_fen,
    }))
}

/// One settlement, if the session may see it (another merchant's is "not found").
async fn visible(
    db: &impl ConnectionTrait,
    session: &Session,
    id: i64,
) -> Result<settlements::Model, AppError> {
    settlements::Entity::find_by_id(id)
        .filter(scope::settlements(session)?)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// One settlement and what it is made of ([`makeup`]), read after one visibility check.
pub async fn detail_with_makeup(
    db: &impl ConnectionTrait,
    session: &Session,
    id: i64,
) -> Result<(SettlementRow, SettlementMakeup), AppError> {
    let settlement = visible(db, session, id).await?;
    let made_of = makeup::of(db, settlement.id).await?;
    let numbers = numbers_of(db, session.merchant_id).await?;
    Ok((row_view(settlement, &numbers, session.tz)?, made_of))
}

pub async fn detail(
    db: &impl ConnectionTrait,
    session: &Session,
    id: i64,
) -> Result<SettlementRow, AppError> {
    let settlement = visible(db, session, id).await?;
    let tz = session.tz;
    let numbers = numbers_of(db, session.merchant_id).await?;
    row_view(settlement, &numbers, tz)
}

/// The settlements of the filters as an Excel file, and its name.
pub async fn export(
    db: &(impl ConnectionTrait + TransactionTrait),
    session: &Session,
    query: &SettlementQuery,
    lang: Lang,
    now: DateTime<Utc>,
) -> Result<(String, Vec<u8>), AppError> {
    let tz = session.tz;
    let mut query = query.clone();
    query.resolve_day(now, tz);
    let query = &query;
    let total = sums(db, selection(session, query)?).await?.count;
    if total as u64 > EXPORT_LIMIT {
        return Err(AppError::Policy(Policy::ExportTooLarge));
    }
    let numbers = numbers_of(db, session.merchant_id).await?;
    let t = lang.texts();
    let col = |header: &'static str, width: f64| Column { header, width };
    let mut file = XlsxExport::new(
        t.settle_sheet,
        &[
            col(t.settle_col_date, 12.0),
            col(t.settle_col_number, 18.0),
            col(t.settle_col_store, 20.0),
            col(t.settle_col_sales, 10.0),
            col(t.settle_col_gross, 16.0),
            col(t.settle_col_refunds, 10.0),
            col(t.settle_col_refund_amount, 14.0),
            col(t.settle_col_fees, 12.0),
            col(t.settle_col_net, 16.0),
            col(t.settle_col_status, 10.0),
            col(t.settle_col_account, 22.0),
            col(t.settle_col_paid_at, 20.0),
        ],
    )
    .map_err(internal)?;
    let mut cursor = None;
    loop {
        let mut select = newest_first(selection(session, query)?);
        if let Some(after) = cursor {
            select = select.filter(before_cursor(after));
        }
        let batch = select.limit(BATCH).all(db).await?;
        let Some(last) = batch.last().map(|s| (s.settlement_date, s.id)) else {
            break;
        };
        for s in batch {
            let (number, store) = numbers
                .get(&s.merchant_number_id)
                .cloned()
                .unwrap_or_default();
            let status = decode("settlements.status", &s.status, SettlementStatus::from_code)?;
            let money = |fen| Cell::Money(Money::cny(fen));
            file.push(&[
                Cell::Date(s.settlement_date),
                number.into(),
                store.into(),
                Cell::Integer(s.txn_count),
                money(s.gross_fen),
                Cell::Integer(s.refund_count),
                money(s.refund_fen),
                money(s.fee_fen),
                money(s.net_fen),
                status.label(lang).into(),
                s.account_masked.into(),
                s.paid_at
                    .map_or(Cell::Empty, |at| Cell::DateTime(local_time::naive(at, tz))),
            ])
            .map_err(internal)?;
        }
        cursor = Some(last);
    }
    let rows = file.rows();
    let bytes = file
        .finish(t.audit_filters_sheet, &query.described(lang))
        .map_err(internal)?;
    let entry = AuditEntry::new(
        session.actor(),
        AuditAction::SettlementExport,
        AuditOutcome::Success,
    )
    .detail(json!({
        "rows": rows,
        "from": query.from,
        "to": query.to,
        "number": query.number,
        "status": query.status.map(SettlementStatus::code),
    }));
    audit::record(db, entry, now).await?;
    let name = local_time::file_name("settlements", now, tz, "xlsx");
    Ok((name, bytes))
}

fn internal(err: crate::backend::export::ExportError) -> AppError {
    AppError::internal("writing the settlements download", &err)
}

/// The reconciliation file of one settlement and its name. Built from the settled rows each time (the
/// same rows give the same file); its sums are checked against the settlement before it is handed out.
pub async fn reconciliation_file(
    db: &(impl ConnectionTrait + TransactionTrait),
    session: &Session,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(String, Vec<u8>), AppError> {
    let settlement = visible(db, session, id).await?;
    let tz = session.tz;
    let numbers = numbers_of(db, session.merchant_id).await?;
    let (merchant_no, _) = numbers
        .get(&settlement.merchant_number_id)
        .cloned()
        .ok_or(AppError::NotFound)?;
    let terminals: HashMap<i64, String> = terminals::Entity::find()
        .filter(terminals::Column::MerchantNumberId.eq(settlement.merchant_number_id))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.terminal_no))
        .collect();
    let stamp = |t: DateTime<Utc>| t.with_timezone(&tz).format("%Y%m%d%H%M%S").to_string();
    let mut file = reconciliation::Writer::new(&Header {
        merchant_no: merchant_no.clone(),
        settlement_date: settlement.settlement_date.format("%Y%m%d").to_string(),
        period_start: stamp(settlement.period_start),
        period_end: stamp(settlement.period_end),
        currency: settlement.currency.clone(),
        settlement_id: settlement.id,
    })
    .map_err(recon_internal)?;

    let detail =
        |t: transactions::Model, time: DateTime<Utc>, kind: Kind, txn_type: String| Detail {
            kind,
            txn_type,
            local_time: stamp(time),
            terminal_no: terminals.get(&t.terminal_id).cloned().unwrap_or_default(),
            batch_no: t.batch_no,
            voucher_no: t.voucher_no,
            reference_no: t.reference_no,
            auth_code: t.auth_code.unwrap_or_default(),
            card_masked: t.card_masked,
            card_org: t.card_org,
            card_type: t.card_type,
            amount_fen: t.amount_fen,
            fee_fen: if kind == Kind::Sale {
                t.fee_fen.unwrap_or(0)
            } else {
                0
            },
        };

    // The console's refund requests debited in this settlement (a settlement's refunds: few), each as
    // a line of its original transaction at the time it was submitted, merged in time order.
    let requests = refund_requests::Entity::find()
        .filter(scope::refund_requests(session))
        .filter(refund_requests::Column::SettlementId.eq(settlement.id))
        .order_by_asc(refund_requests::Column::SubmittedAt)
        .order_by_asc(refund_requests::Column::Id)
        .all(db)
        .await?;
    let originals: HashMap<i64, transactions::Model> = transactions::Entity::find()
        .filter(scope::transactions(session))
        .filter(transactions::Column::Id.is_in(requests.iter().map(|r| r.original_txn_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let mut requests = requests.into_iter().peekable();
    let mut push_requests_before =
        |file: &mut reconciliation::Writer, until: Option<DateTime<Utc>>| -> Result<(), AppError> {
            while let Some(r) = requests
                .next_if(|r| until.is_none_or(|until| r.submitted_at.is_some_and(|at| at < until)))
            {
                let original = originals.get(&r.original_txn_id).cloned().ok_or_else(|| {
                    AppError::from(sea_orm::DbErr::Custom(format!(
                        "refund request {} of settlement {}: its transaction is out of sight",
                        r.id, settlement.id
                    )))
                })?;
                let time = r.submitted_at.unwrap_or(r.requested_at);
                file.push(&Detail {
                    amount_fen: r.amount_fen,
                    ..detail(original, time, Kind::Refund, REQUEST_LINE_TYPE.to_owned())
                })
                .map_err(recon_internal)?;
            }
            Ok(())
        };

    let mut cursor: Option<(DateTime<Utc>, i64)> = None;
    loop {
        let mut select = transactions::Entity::find()
            .filter(scope::transactions(session))
            .filter(transactions::Column::SettlementId.eq(settlement.id))
            .order_by_asc(transactions::Column::TxnTime)
            .order_by_asc(transactions::Column::Id);
        if let Some((time, id)) = cursor {
            select = select.filter(
                Condition::any()
                    .add(transactions::Column::TxnTime.gt(time))
                    .add(
                        Condition::all()
                            .add(transactions::Column::TxnTime.eq(time))
                            .add(transactions::Column::Id.gt(id)),
                    ),
            );
        }
        let batch = select.limit(BATCH).all(db).await?;
        let Some(last) = batch.last().map(|t| (t.txn_time, t.id)) else {
            break;
        };
        for t in batch {
            push_requests_before(&mut file, Some(t.txn_time))?;
            let kind = if matches!(t.txn_type.as_str(), "purchase" | "preauth_completion") {
                Kind::Sale
            } else {
                Kind::Refund
            };
            let (time, txn_type) = (t.txn_time, t.txn_type.clone());
            file.push(&detail(t, time, kind, txn_type))
                .map_err(recon_internal)?;
        }
        cursor = Some(last);
    }
    push_requests_before(&mut file, None)?;
    let text = file
        .finish(Trailer {
            sales: settlement.txn_count,
            gross_fen: settlement.gross_fen,
            refunds: settlement.refund_count,
            refund_fen: settlement.refund_fen,
            fee_fen: settlement.fee_fen,
            net_fen: settlement.net_fen,
            lines: 0,
        })
        .map_err(recon_internal)?;
    let entry = AuditEntry::new(
        session.actor(),
        AuditAction::ReconciliationDownload,
        AuditOutcome::Success,
    )
    .detail(json!({ "settlement": settlement.id, "merchant_no": merchant_no }));
    audit::record(db, entry, now).await?;
    let name = format!(
        "VPOS_{merchant_no}_{}.txt",
        settlement.settlement_date.format("%Y%m%d")
    );
    Ok((name, text.into_bytes()))
}

fn recon_internal(err: reconciliation::ReconError) -> AppError {
    AppError::internal("writing a reconciliation file", &err)
}
