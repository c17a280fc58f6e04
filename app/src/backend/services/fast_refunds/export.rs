//! The fast-refund query as an Excel file: every item of the filters (up to [`EXPORT_LIMIT`]),
//! newest first, with the document numbers masked as on the page, and a total row that is the sum
//! of the rows above it.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde_json::json;

use super::query::{all, FastRefundQuery};
use crate::backend::audit::{self, AuditEntry};
use crate::backend::export::{Cell, Column, ExportError, XlsxExport};
use crate::backend::local_time;
use crate::backend::Session;
use crate::domain::{AuditAction, AuditOutcome, Money};
use crate::error::{AppError, Policy};
use crate::i18n::{Label, Lang};

/// The most items one download holds: a merchant's fast refunds of a year fit many times.
pub const EXPORT_LIMIT: u64 = 100_000;

pub async fn export(
    db: &(impl ConnectionTrait + TransactionTrait),
    session: &Session,
    query: &FastRefundQuery,
    lang: Lang,
    now: DateTime<Utc>,
) -> Result<(String, Vec<u8>), AppError> {
    let rows = all(db, session, query, EXPORT_LIMIT + 1, now).await?;
    if rows.len() as u64 > EXPORT_LIMIT {
        return Err(AppError::Policy(Policy::ExportTooLarge));
    }
    let t = lang.texts();
    let col = |header: &'static str, width: f64| Column { header, width };
    let mut file = XlsxExport::new(
        t.fr_sheet,
        &[
            col(t.refund_col_requested, 20.0),
            col(t.txn_col_reference, 14.0),
            col(t.txn_col_card, 18.0),
            col(t.refund_col_amount, 12.0),
            col(t.fr_name, 14.0),
            col(t.fr_id_type, 12.0),
            col(t.fr_id_number, 20.0),
            col(t.fr_bank, 14.0),
            col(t.fr_branch, 20.0),
            col(t.refund_col_status, 10.0),
            col(t.fr_due, 12.0),
            col(t.fr_overdue, 8.0),
            col(t.fr_resubmissions, 10.0),
            col(t.fr_bank_reason, 28.0),
            col(t.fr_batch, 10.0),
        ],
    )
    .map_err(internal)?;
    let mut total = 0;
    for r in &rows {
        total += r.amount_fen;
        let reason = r
            .bank_reason_code
            .as_deref()
            .map(|code| (t.fr_bank_reason_text)(code, r.bank_reason_text.as_deref().unwrap_or("")));
        file.push(&[
            r.requested_at.as_str().into(),
            r.reference_no.as_str().into(),
            r.card_masked.as_str().into(),
            Cell::Money(Money::cny(r.amount_fen)),
            r.cardholder_name.as_str().into(),
            r.id_type.label(lang).into(),
            r.id_masked.as_str().into(),
            r.bank.label(lang).into(),
            r.branch_name.as_str().into(),
            r.status.label(lang).into(),
            r.due_date.as_str().into(),
            if r.overdue {
                t.fr_overdue.into()
            } else {
                Cell::Empty
            },
            Cell::Integer(i64::from(r.resubmissions)),
            reason.into(),
            r.batch_id.map_or(Cell::Empty, Cell::Integer),
        ])
        .map_err(internal)?;
    }
    let mut total_row = vec![Cell::Empty; 15];
    total_row[0] = (t.fr_total)(&rows.len().to_string()).into();
    total_row[3] = Cell::Money(Money::cny(total));
    file.push(&total_row).map_err(internal)?;
    let bytes = file
        .finish(t.audit_filters_sheet, &query.described(lang))
        .map_err(internal)?;
    let entry = AuditEntry::new(
        session.actor(),
        AuditAction::FastRefundExport,
        AuditOutcome::Success,
    )
    .detail(json!({
        "rows": rows.len(),
        "from": query.from,
        "to": query.to,
        "status": query.status.map(|s| s.code()),
    }));
    audit::record(db, entry, now).await?;
    Ok((
        local_time::file_name("fast-refunds", now, session.tz, "xlsx"),
        bytes,
    ))
}

fn internal(err: ExportError) -> AppError {
    AppError::internal("writing the fast-refunds download", &err)
}
