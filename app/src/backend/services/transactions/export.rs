//! The Excel download of the filters' transactions: direct up to a limit, else written by a
//! background job in keyset batches while the next batch is read.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::{ConnectionTrait, DatabaseConnection, QuerySelect, TransactionTrait};
use serde_json::json;

use super::filters::{newest_first, selection_from, Keyset};
use super::page::{count, listed, Listed};
use super::query::{ResolvedQuery, TxnQuery};
use crate::backend::audit::{self, AuditEntry};
use crate::backend::export::{Cell, Column, XlsxExport};
use crate::backend::local_time::{self};
use crate::backend::services::decode;
use crate::backend::Session;
use crate::domain::{
    AuditAction, AuditOutcome, Bank, CardOrg, CardType, Money, TxnStatus, TxnType,
};
use crate::error::{AppError, Policy};
use crate::i18n::{Label, Lang};

/// Rows in one direct download; more are written by a background job …
pub const DIRECT_LIMIT: u64 = 100_000;
/// … up to this many (Excel holds 1,048,575 under its header).
pub const EXPORT_CAP: u64 = 1_000_000;
/// Rows read at a time while writing a file: one statement's rows fit in a SQLite connection's row
/// buffer, so its thread reads a batch without waiting for the writer; fewer rows in flight keep an
/// export's memory small.
pub(super) const BATCH: u64 = 1_000;
const _: () = assert!(BATCH < crate::backend::db::ROW_BUFFER as u64);
/// How often a background export records its progress.
pub(super) const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

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

pub(super) fn export_name(now: DateTime<Utc>, tz: Tz) -> String {
    local_time::file_name("transactions", now, tz, "xlsx")
}

pub(super) async fn audit_export(
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
pub(super) fn cpu_bound<T>(work: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
        _ => work(),
    }
}

pub(super) fn new_export(lang: Lang) -> Result<XlsxExport, AppError> {
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
pub(super) async fn write_rows(
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
                    newest_first(selection_from(
                        &session,
                        &query,
                        tz,
                        cursor.map_or(Keyset::All, Keyset::Older),
                    ))
                    .limit(BATCH),
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
                crate::backend::services::exports::progress(db, job, file.rows()).await?;
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

pub(super) fn push_row(
    file: &mut XlsxExport,
    t: Listed,
    tz: Tz,
    lang: Lang,
) -> Result<(), AppError> {
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

pub(super) fn internal(err: crate::backend::export::ExportError) -> AppError {
    AppError::internal("writing the transactions download", &err)
}
