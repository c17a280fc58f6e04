//! The fast-refund query and the exception list: filters, pages of rows with their transactions'
//! numbers and the selection's total, and one item with its history.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select,
};

use crate::backend::entities::{fast_refund_events, fast_refunds, merchants, transactions};
use crate::backend::local_time::{self, day_start};
use crate::backend::services::filters::{cursor_text, FieldCheck};
use crate::backend::services::refunds::operator_names;
use crate::backend::services::transactions::row_of;
use crate::backend::services::{decode, scope};
use crate::backend::Session;
use crate::contract::fast_refunds::{
    CardholderInput, FastRefundFilter, FastRefundPage, FastRefundRow, FastRefundStep,
    FastRefundView, DEFAULT_PAGE_SIZE, PAGE_SIZES,
};
use crate::domain::access::Function;
use crate::domain::cardholder::{mask_id, IdType};
use crate::domain::fast_refund::{is_overdue, FastRefundStatus};
use crate::domain::regions::{branches, city_name, province};
use crate::domain::Bank;
use crate::error::{AppError, FieldProblem};
use crate::i18n::{Label, Lang};

/// The query's filters, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FastRefundQuery {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub status: Option<FastRefundStatus>,
    pub reference: Option<String>,
    pub txn: Option<i64>,
    pub batch: Option<i64>,
    pub overdue: bool,
    pub size: u64,
    pub after: Option<(DateTime<Utc>, i64)>,
}

impl FastRefundQuery {
    /// The filters in words, for the second sheet of a download.
    pub(super) fn described(&self, lang: Lang) -> Vec<(String, String)> {
        let t = lang.texts();
        let any = || t.audit_any.to_owned();
        let mut lines = vec![
            (
                t.refund_from.to_owned(),
                self.from.map_or_else(any, |d| d.to_string()),
            ),
            (
                t.refund_to.to_owned(),
                self.to.map_or_else(any, |d| d.to_string()),
            ),
            (
                t.refund_col_status.to_owned(),
                self.status.map_or_else(any, |s| s.label(lang).to_owned()),
            ),
        ];
        if let Some(reference) = &self.reference {
            lines.push((t.refund_reference.to_owned(), reference.clone()));
        }
        if let Some(batch) = self.batch {
            lines.push((t.fr_batch.to_owned(), batch.to_string()));
        }
        if self.overdue {
            lines.push((t.fr_only_overdue.to_owned(), String::new()));
        }
        lines
    }

    pub fn parse(filter: &FastRefundFilter) -> Result<Self, AppError> {
        let mut check = FieldCheck::new();
        let (from, to) = check.date_range(("from", &filter.from), ("to", &filter.to));
        let status = check.code("status", &filter.status, FastRefundStatus::from_code);
        let reference = match filter.reference.trim() {
            "" => None,
            text if text.len() <= 12 && text.bytes().all(|b| b.is_ascii_digit()) => {
                Some(format!("{text:0>12}"))
            }
            _ => {
                check.bad("ref", FieldProblem::Format);
                None
            }
        };
        let txn = check.id("txn", &filter.txn);
        let batch = check.id("batch", &filter.batch);
        let overdue = match filter.overdue.trim() {
            "" | "0" => false,
            "1" => true,
            _ => {
                check.bad("overdue", FieldProblem::Format);
                false
            }
        };
        let size = check.page_size("size", &filter.size, &PAGE_SIZES, DEFAULT_PAGE_SIZE);
        let after = check.time_cursor("after", &filter.after);
        check.finish()?;
        Ok(Self {
            from,
            to,
            status,
            reference,
            txn,
            batch,
            overdue,
            size,
            after,
        })
    }
}

/// The items the query selects, in the session's scope (no paging).
fn selection(
    session: &Session,
    q: &FastRefundQuery,
    now: DateTime<Utc>,
) -> Select<fast_refunds::Entity> {
    use fast_refunds::Column as F;
    let tz = session.tz;
    let mut select = fast_refunds::Entity::find().filter(scope::fast_refunds(session));
    if let Some(from) = q.from.map(|d| day_start(d, tz)) {
        select = select.filter(F::RequestedAt.gte(from));
    }
    if let Some(end) = q.to.and_then(|d| d.succ_opt()).map(|d| day_start(d, tz)) {
        select = select.filter(F::RequestedAt.lt(end));
    }
    if let Some(status) = q.status {
        select = select.filter(F::Status.eq(status.code()));
    }
    if let Some(txn) = q.txn {
        select = select.filter(F::OriginalTxnId.eq(txn));
    }
    if let Some(batch) = q.batch {
        select = select.filter(F::BatchId.eq(batch));
    }
    if q.overdue {
        select = select
            .filter(F::Status.is_in([
                FastRefundStatus::Processing.code(),
                FastRefundStatus::Exception.code(),
            ]))
            .filter(F::DueDate.lt(local_time::today(now, tz)));
    }
    if let Some(reference) = &q.reference {
        select = select.filter(
            F::OriginalTxnId.in_subquery(
                Query::select()
                    .column(transactions::Column::Id)
                    .from(transactions::Entity)
                    .and_where(transactions::Column::MerchantId.eq(session.merchant_id))
                    .and_where(transactions::Column::ReferenceNo.eq(reference.as_str()))
                    .to_owned(),
            ),
        );
    }
    select
}

/// A page of the query, newest first, with the count and amount of the whole selection.
pub async fn search(
    db: &impl ConnectionTrait,
    session: &Session,
    q: FastRefundQuery,
    now: DateTime<Utc>,
) -> Result<FastRefundPage, AppError> {
    use fast_refunds::Column as F;
    let select = selection(session, &q, now);
    let (total, total_fen) = totals(db, select.clone()).await?;
    let mut page = select;
    if let Some((time, id)) = q.after {
        page = page.filter(
            Expr::tuple([Expr::col(F::RequestedAt), Expr::col(F::Id)])
                .lt(Expr::tuple([Expr::val(time), Expr::val(id)])),
        );
    }
    let mut found = page
        .order_by_desc(F::RequestedAt)
        .order_by_desc(F::Id)
        .limit(q.size + 1)
        .all(db)
        .await?;
    let more = found.len() as u64 > q.size;
    found.truncate(q.size as usize);
    let next_after = if more {
        found.last().map(|r| cursor_text(r.requested_at, r.id))
    } else {
        None
    };
    Ok(FastRefundPage {
        rows: views(db, session, found, now).await?,
        total,
        total_fen,
        next_after,
        size: q.size,
    })
}

/// Every item of the query, newest first, for a download (at most `cap` of them).
pub async fn all(
    db: &impl ConnectionTrait,
    session: &Session,
    q: &FastRefundQuery,
    cap: u64,
    now: DateTime<Utc>,
) -> Result<Vec<FastRefundRow>, AppError> {
    let found = selection(session, q, now)
        .order_by_desc(fast_refunds::Column::RequestedAt)
        .order_by_desc(fast_refunds::Column::Id)
        .limit(cap)
        .all(db)
        .await?;
    views(db, session, found, now).await
}

/// How many items the selection holds and their amount.
async fn totals(
    db: &impl ConnectionTrait,
    select: Select<fast_refunds::Entity>,
) -> Result<(u64, i64), AppError> {
    let count = select.clone().count(db).await?;
    let sum = select
        .select_only()
        // SUM of a BIGINT is NUMERIC on PostgreSQL: cast it back.
        .column_as(
            Expr::cust("CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT)"),
            "sum",
        )
        .into_tuple::<i64>()
        .one(db)
        .await?
        .unwrap_or(0);
    Ok((count, sum))
}

/// Reads the items of `select`, newest first, as rows.
pub(super) async fn rows_of(
    db: &impl ConnectionTrait,
    session: &Session,
    select: Select<fast_refunds::Entity>,
    now: DateTime<Utc>,
) -> Result<Vec<FastRefundRow>, AppError> {
    let found = select
        .order_by_desc(fast_refunds::Column::RequestedAt)
        .order_by_desc(fast_refunds::Column::Id)
        .all(db)
        .await?;
    views(db, session, found, now).await
}

#[derive(Debug, FromQueryResult)]
struct TxnBrief {
    id: i64,
    reference_no: String,
    card_masked: String,
    amount_fen: i64,
}

/// The name of a branch code, as its bank and city list it.
fn branch_name(bank: Bank, city: &str, code: &str) -> String {
    branches(bank, city)
        .into_iter()
        .find(|b| b.code == code)
        .map_or_else(|| code.to_owned(), |b| b.name)
}

async fn views(
    db: &impl ConnectionTrait,
    session: &Session,
    found: Vec<fast_refunds::Model>,
    now: DateTime<Utc>,
) -> Result<Vec<FastRefundRow>, AppError> {
    let txn_ids: Vec<i64> = found.iter().map(|r| r.original_txn_id).collect();
    let txns: HashMap<i64, TxnBrief> = transactions::Entity::find()
        .select_only()
        .columns([
            transactions::Column::Id,
            transactions::Column::ReferenceNo,
            transactions::Column::CardMasked,
            transactions::Column::AmountFen,
        ])
        .filter(transactions::Column::Id.is_in(txn_ids))
        .filter(transactions::Column::MerchantId.eq(session.merchant_id))
        .into_model::<TxnBrief>()
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let today = local_time::today(now, session.tz);
    found
        .into_iter()
        .map(|r| {
            let t = txns.get(&r.original_txn_id);
            let status = status_of(&r)?;
            let bank = decode("fast_refunds.bank_code", &r.bank_code, Bank::from_code)?;
            Ok(FastRefundRow {
                id: r.id,
                requested_at: local_time::seconds(r.requested_at, session.tz),
                txn_id: r.original_txn_id,
                reference_no: t.map(|t| t.reference_no.clone()).unwrap_or_default(),
                card_masked: t.map(|t| t.card_masked.clone()).unwrap_or_default(),
                txn_amount_fen: t.map_or(0, |t| t.amount_fen),
                amount_fen: r.amount_fen,
                cardholder_name: r.cardholder_name.clone(),
                id_type: decode("fast_refunds.id_type", &r.id_type, IdType::from_code)?,
                id_masked: mask_id(&r.id_number),
                bank,
                branch_name: branch_name(bank, &r.city, &r.branch),
                status,
                due_date: r.due_date.to_string(),
                overdue: is_overdue(status, r.due_date, today),
                resubmissions: r.resubmission_count,
                bank_reason_code: r.bank_reason_code,
                bank_reason_text: r.bank_reason_text,
                batch_id: r.batch_id,
            })
        })
        .collect()
}

pub(super) fn status_of(r: &fast_refunds::Model) -> Result<FastRefundStatus, AppError> {
    decode(
        "fast_refunds.status",
        &r.status,
        FastRefundStatus::from_code,
    )
}

/// An item the session may see.
pub(super) async fn visible_item(
    db: &impl ConnectionTrait,
    session: &Session,
    id: i64,
) -> Result<fast_refunds::Model, AppError> {
    fast_refunds::Entity::find_by_id(id)
        .filter(scope::fast_refunds(session))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// One item with its history; the full document number only to an operator who may correct it
/// while it waits in the exception list.
pub async fn detail(
    db: &impl ConnectionTrait,
    session: &Session,
    id: i64,
    now: DateTime<Utc>,
) -> Result<FastRefundView, AppError> {
    let r = visible_item(db, session, id).await?;
    let tz = session.tz;
    let t = transactions::Entity::find_by_id(r.original_txn_id)
        .filter(scope::transactions(session))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let events = fast_refund_events::Entity::find()
        .filter(fast_refund_events::Column::FastRefundId.eq(r.id))
        .order_by_asc(fast_refund_events::Column::Id)
        .all(db)
        .await?;
    let names = operator_names(db, events.iter().filter_map(|e| e.operator_id).collect()).await?;
    let history = events
        .into_iter()
        .map(|e| {
            let status =
                |s: &str| decode("fast_refund_events.status", s, FastRefundStatus::from_code);
            Ok(FastRefundStep {
                at: local_time::seconds(e.occurred_at, tz),
                from: e.from_status.as_deref().map(status).transpose()?,
                to: status(&e.to_status)?,
                by: e.operator_id.and_then(|id| names.get(&id).cloned()),
                comment: e.comment,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    let correctable = status_of(&r)? == FastRefundStatus::Exception
        && session.may(Function::FastRefundExceptions);
    let correction = correctable.then(|| CardholderInput {
        name: r.cardholder_name.clone(),
        id_type: r.id_type.clone(),
        id_number: r.id_number.clone(),
        bank: r.bank_code.clone(),
        province: r.province.clone(),
        city: r.city.clone(),
        branch: r.branch.clone(),
    });
    let requires_token = merchants::Entity::find_by_id(session.merchant_id)
        .one(db)
        .await?
        .is_some_and(|m| m.refund_requires_token);
    Ok(FastRefundView {
        reason: r.reason.clone(),
        province_name: province(&r.province)
            .map_or_else(|| r.province.clone(), |p| p.name.to_owned()),
        city_name: city_name(&r.city).map_or_else(|| r.city.clone(), str::to_owned),
        completed_at: r.completed_at.map(|at| local_time::seconds(at, tz)),
        sent_at: r.sent_at.map(|at| local_time::seconds(at, tz)),
        history,
        correction,
        requires_token,
        txn: row_of(db, session, t).await?,
        row: views(db, session, vec![r], now)
            .await?
            .pop()
            .ok_or(AppError::NotFound)?,
    })
}
