//! Background exports: a download too large to be written while the user waits becomes a job. The
//! file is written to the exports folder by a task of its own, its progress kept in `export_jobs`;
//! the operator finds it in their downloads list, where it waits for a day. A job that a restart
//! interrupted is marked failed (never left "running"), and an expired file is deleted.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;

use super::decode;
use super::lock_merchant;
use super::transactions::{self, TxnQuery, DIRECT_LIMIT, EXPORT_CAP};
use crate::backend::audit::{self, AuditEntry};
use crate::backend::db::begin_write;
use crate::backend::entities::export_jobs;
use crate::backend::local_time;
use crate::backend::{ExportConfig, Session};
use crate::contract::exports::{ExportJobView, ExportList};
use crate::contract::transactions::TxnFilter;
use crate::domain::access::Function;
use crate::domain::{AuditAction, AuditOutcome, ExportStatus};
use crate::error::{AppError, Policy};
use crate::i18n::Lang;

/// A finished file waits this long.
pub const KEEP_FOR_HOURS: i64 = 24;
/// Jobs one operator may have running at once.
pub const MAX_RUNNING: u64 = 2;
/// Jobs one merchant's operators may have running at once, on all instances together.
pub const MAX_RUNNING_MERCHANT: u64 = 4;
/// The kind of the one export that runs as a job so far.
pub const KIND_TRANSACTIONS: &str = "transactions";
/// Why a job failed, as stored (each language words it).
pub const FAILED_INTERRUPTED: &str = "interrupted";
pub const FAILED_INTERNAL: &str = "internal";

/// Starts writing the transactions of `filter` in the background; returns the job's id.
pub async fn start_transactions(
    db: &DatabaseConnection,
    exports: &ExportConfig,
    session: &Session,
    filter: &TxnFilter,
    lang: Lang,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    let query = TxnQuery::parse(filter)?.resolve(db, session, now).await?;
    let total = transactions::export_size(db, session, &query).await?;
    if total > EXPORT_CAP {
        return Err(AppError::Policy(Policy::ExportTooLarge));
    }
    let dir = &exports.dir;
    std::fs::create_dir_all(dir)
        .map_err(|e| AppError::internal("creating the exports folder", &e))?;
    // This process writes a few jobs at once, whoever asks; the place is held until the file is
    // written.
    let place = exports
        .jobs
        .clone()
        .try_acquire_owned()
        .map_err(|_| AppError::Busy)?;
    // The caps on running jobs are counted and the job written in one transaction that holds the
    // merchant's row: two requests at the same moment are counted one after the other. The job and
    // its audit entry are written together: no job without its record, and no "running" job that
    // no task writes.
    let txn = begin_write(db).await?;
    lock_merchant(&txn, session.merchant_id).await?;
    let running = |column: export_jobs::Column, id: i64| {
        export_jobs::Entity::find()
            .filter(column.eq(id))
            .filter(
                export_jobs::Column::Status
                    .is_in([ExportStatus::Queued.code(), ExportStatus::Running.code()]),
            )
            .count(&txn)
    };
    if running(export_jobs::Column::OperatorId, session.operator_id).await? >= MAX_RUNNING {
        return Err(AppError::Policy(Policy::ExportsBusy));
    }
    if running(export_jobs::Column::MerchantId, session.merchant_id).await? >= MAX_RUNNING_MERCHANT
    {
        return Err(AppError::Busy);
    }
    let job = export_jobs::ActiveModel {
        merchant_id: Set(session.merchant_id),
        operator_id: Set(session.operator_id),
        kind: Set(KIND_TRANSACTIONS.into()),
        filters: Set(json!({ "lang": lang.tag(), "filter": filter }).to_string()),
        status: Set(ExportStatus::Running.code().into()),
        total_rows: Set(Some(i64::try_from(total).unwrap_or(i64::MAX))),
        rows_done: Set(0),
        created_at: Set(now),
        started_at: Set(Some(now)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let path = dir.join(format!("{}-{}.xlsx", job.id, uuid::Uuid::new_v4().simple()));
    let entry = AuditEntry::new(
        session.actor(),
        AuditAction::ExportStart,
        AuditOutcome::Success,
    )
    .object("export", job.id)
    .detail(json!({ "kind": KIND_TRANSACTIONS, "rows": total }));
    audit::record(&txn, entry, now).await?;
    txn.commit().await?;

    let (db, session, id) = (db.clone(), session.clone(), job.id);
    tokio::spawn(async move {
        let _place = place;
        // The writing runs as a task of its own, so that even a panic in it ends the job as failed.
        let writer = {
            let (db, path) = (db.clone(), path.clone());
            tokio::spawn(async move {
                transactions::export_to_file(&db, &session, &query, lang, now, &path, id).await
            })
        };
        let written = writer
            .await
            .unwrap_or_else(|panicked| Err(AppError::internal("writing an export", &panicked)));
        let finished = Utc::now();
        let update = match written {
            Ok((name, rows)) => {
                let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                export_jobs::ActiveModel {
                    id: Set(id),
                    status: Set(ExportStatus::Done.code().into()),
                    rows_done: Set(i64::from(rows)),
                    file_name: Set(Some(name)),
                    file_path: Set(Some(path.to_string_lossy().into_owned())),
                    file_size: Set(Some(i64::try_from(size).unwrap_or(i64::MAX))),
                    finished_at: Set(Some(finished)),
                    expires_at: Set(Some(finished + Duration::hours(KEEP_FOR_HOURS))),
                    ..Default::default()
                }
            }
            Err(error) => {
                tracing::error!(job = id, error = %error, "an export job failed");
                let _ = std::fs::remove_file(&path);
                export_jobs::ActiveModel {
                    id: Set(id),
                    status: Set(ExportStatus::Failed.code().into()),
                    error: Set(Some(FAILED_INTERNAL.into())),
                    finished_at: Set(Some(finished)),
                    ..Default::default()
                }
            }
        };
        if let Err(error) = update.update(&db).await {
            tracing::error!(job = id, error = %error, "recording the end of an export job failed");
        }
    });
    Ok(job.id)
}

/// Records how many rows a running job has written.
pub async fn progress(db: &impl ConnectionTrait, job: i64, rows: u32) -> Result<(), AppError> {
    export_jobs::Entity::update_many()
        .col_expr(export_jobs::Column::RowsDone, Expr::value(i64::from(rows)))
        .filter(export_jobs::Column::Id.eq(job))
        .exec(db)
        .await?;
    Ok(())
}

/// How many of the operator's downloads are still being written.
pub async fn running(db: &impl ConnectionTrait, session: &Session) -> Result<u64, AppError> {
    Ok(export_jobs::Entity::find()
        .filter(export_jobs::Column::OperatorId.eq(session.operator_id))
        .filter(export_jobs::Column::MerchantId.eq(session.merchant_id))
        .filter(
            export_jobs::Column::Status
                .is_in([ExportStatus::Queued.code(), ExportStatus::Running.code()]),
        )
        .count(db)
        .await?)
}

/// The operator's jobs, newest first (expired files deleted first).
pub async fn list(
    db: &impl ConnectionTrait,
    session: &Session,
    now: DateTime<Utc>,
) -> Result<ExportList, AppError> {
    purge_expired(db, now).await?;
    let tz = session.tz;
    let jobs = export_jobs::Entity::find()
        .filter(export_jobs::Column::OperatorId.eq(session.operator_id))
        .filter(export_jobs::Column::MerchantId.eq(session.merchant_id))
        .order_by_desc(export_jobs::Column::Id)
        .limit(50)
        .all(db)
        .await?
        .into_iter()
        .map(|job| view(job, tz))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ExportList {
        jobs,
        direct_limit: DIRECT_LIMIT,
    })
}

fn view(job: export_jobs::Model, tz: Tz) -> Result<ExportJobView, AppError> {
    Ok(ExportJobView {
        id: job.id,
        kind: job.kind,
        status: decode("export_jobs.status", &job.status, ExportStatus::from_code)?,
        total_rows: job.total_rows.unwrap_or(0),
        rows_done: job.rows_done,
        file_name: job.file_name,
        file_size: job.file_size,
        requested_at: local_time::minutes(job.created_at, tz),
        expires_at: job.expires_at.map(|t| local_time::minutes(t, tz)),
        interrupted: job.error.as_deref() == Some(FAILED_INTERRUPTED),
    })
}

/// The file of a finished job of the session's operator: its name and where it lies.
pub async fn file(
    db: &(impl ConnectionTrait + sea_orm::TransactionTrait),
    session: &Session,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(String, PathBuf), AppError> {
    let job = export_jobs::Entity::find_by_id(id)
        .filter(export_jobs::Column::OperatorId.eq(session.operator_id))
        .filter(export_jobs::Column::MerchantId.eq(session.merchant_id))
        .filter(export_jobs::Column::Status.eq(ExportStatus::Done.code()))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    if job.kind == KIND_TRANSACTIONS && !session.may(Function::TransactionExport) {
        return Err(AppError::Forbidden);
    }
    if job.expires_at.is_some_and(|t| t <= now) {
        return Err(AppError::NotFound);
    }
    let (Some(name), Some(path)) = (job.file_name, job.file_path) else {
        return Err(AppError::NotFound);
    };
    let entry = AuditEntry::new(
        session.actor(),
        AuditAction::ExportDownload,
        AuditOutcome::Success,
    )
    .object("export", job.id);
    audit::record(db, entry, now).await?;
    Ok((name, PathBuf::from(path)))
}

/// Jobs a stopped server left queued or running are failed: their task is gone.
pub async fn recover_interrupted(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<u64, AppError> {
    let result = export_jobs::Entity::update_many()
        .col_expr(
            export_jobs::Column::Status,
            Expr::value(ExportStatus::Failed.code()),
        )
        .col_expr(export_jobs::Column::Error, Expr::value(FAILED_INTERRUPTED))
        .col_expr(export_jobs::Column::FinishedAt, Expr::value(now))
        .filter(
            export_jobs::Column::Status
                .is_in([ExportStatus::Queued.code(), ExportStatus::Running.code()]),
        )
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Deletes the files of jobs past their time and marks those jobs expired.
pub async fn purge_expired(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, AppError> {
    let expired = export_jobs::Entity::find()
        .filter(export_jobs::Column::Status.eq(ExportStatus::Done.code()))
        .filter(export_jobs::Column::ExpiresAt.lte(now))
        .all(db)
        .await?;
    for job in &expired {
        if let Some(path) = &job.file_path {
            remove_quietly(Path::new(path));
        }
        export_jobs::ActiveModel {
            id: Set(job.id),
            status: Set(ExportStatus::Expired.code().into()),
            file_path: Set(None),
            ..Default::default()
        }
        .update(db)
        .await?;
    }
    Ok(expired.len() as u64)
}

fn remove_quietly(path: &Path) {
    if let Err(error) = std::fs::remove_file(path) {
        if error.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(path = %path.display(), error = %error, "deleting an expired export failed");
        }
    }
}
