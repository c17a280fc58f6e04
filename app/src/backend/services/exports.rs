//! Background exports: a download too large to be written while the user waits becomes a job. The
//! file is written to the exports folder by a task of its own, its progress kept in `export_jobs`;
//! the operator finds it in their downloads list, where it waits for a day. Jobs wait in a queue that
//! every instance's [`ExportRunner`] works through: a job whose instance stopped or died is written
//! again by another, and an expired file is deleted.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::auth;
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

/// What a job keeps of its request, as JSON in `export_jobs.filters`: enough for any instance to
/// write it, with the rights its operator has when it does.
#[derive(Debug, Serialize, Deserialize)]
struct Request {
    lang: String,
    filter: TxnFilter,
    /// The hash of the asking session's token (never the token itself).
    session: String,
    /// The address the request came from, for the audit entry of the export.
    from: String,
}

/// Queues the transactions of `filter` to be written in the background; returns the job's id. Any
/// instance's [`ExportRunner`] with room writes it, this one's at once if it has.
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
    // The caps on waiting and running jobs are counted and the job written in one transaction that
    // holds the merchant's row: two requests at the same moment are counted one after the other.
    // The job and its audit entry are written together: no job without its record.
    let txn = begin_write(db).await?;
    lock_merchant(&txn, session.merchant_id).await?;
    let running = |column: export_jobs::Column, id: i64| {
        export_jobs::Entity::find()
            .filter(column.eq(id))
            .filter(unfinished())
            .count(&txn)
    };
    if running(export_jobs::Column::OperatorId, session.operator_id).await? >= MAX_RUNNING {
        return Err(AppError::Policy(Policy::ExportsBusy));
    }
    if running(export_jobs::Column::MerchantId, session.merchant_id).await? >= MAX_RUNNING_MERCHANT
    {
        return Err(AppError::Busy);
    }
    let request = Request {
        lang: lang.tag().into(),
        filter: filter.clone(),
        session: session.token_hash.clone(),
        from: session.remote_addr.clone(),
    };
    let job = export_jobs::ActiveModel {
        merchant_id: Set(session.merchant_id),
        operator_id: Set(session.operator_id),
        kind: Set(KIND_TRANSACTIONS.into()),
        filters: Set(serde_json::to_string(&request)
            .map_err(|e| AppError::internal("writing an export's request", &e))?),
        status: Set(ExportStatus::Queued.code().into()),
        total_rows: Set(Some(i64::try_from(total).unwrap_or(i64::MAX))),
        rows_done: Set(0),
        created_at: Set(now),
        attempts: Set(0),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let entry = AuditEntry::new(
        session.actor(),
        AuditAction::ExportStart,
        AuditOutcome::Success,
    )
    .object("export", job.id)
    .detail(json!({ "kind": KIND_TRANSACTIONS, "rows": total }));
    audit::record(&txn, entry, now).await?;
    txn.commit().await?;
    exports.wake.notify_one();
    Ok(job.id)
}

/// How long an instance's claim on a job holds unless renewed; it is renewed every third of it.
pub const LEASE: std::time::Duration = std::time::Duration::from_secs(30);
/// Starts of one job (a crash or a stop in the middle of each) before it is given up.
pub const MAX_ATTEMPTS: i32 = 3;

/// Writes the queued background exports of every instance, as many at once as
/// [`ExportConfig::jobs`] allows. A job is claimed with a lease that the writing renews: when its
/// instance dies the lease runs out and another instance (or this one restarted) writes the job
/// again from the start, deleting the half-written file. Stopped, the runner hands its jobs back to
/// the queue at once.
pub struct ExportRunner {
    pub db: DatabaseConnection,
    pub config: ExportConfig,
    /// This instance's name in `export_jobs.owner`: unique per process.
    pub instance: String,
    pub lease: std::time::Duration,
    /// How often the queue is looked at for jobs another instance queued or left.
    pub poll: std::time::Duration,
}

impl ExportRunner {
    pub fn new(db: DatabaseConnection, config: ExportConfig) -> Self {
        Self {
            db,
            config,
            instance: uuid::Uuid::new_v4().simple().to_string(),
            lease: LEASE,
            poll: std::time::Duration::from_secs(2),
        }
    }

    /// Runs until `stop` completes, then hands the jobs it writes back and returns.
    pub async fn run(self, stop: impl std::future::Future<Output = ()>) {
        let this = std::sync::Arc::new(self);
        let (halt, halted) = tokio::sync::watch::channel(false);
        let mut jobs = tokio::task::JoinSet::new();
        let mut ticks = tokio::time::interval(this.poll);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(stop);
        loop {
            tokio::select! {
                () = &mut stop => break,
                _ = ticks.tick() => {}
                () = this.config.wake.notified() => {}
                Some(_) = jobs.join_next(), if !jobs.is_empty() => {}
            }
            while let Ok(place) = this.config.jobs.clone().try_acquire_owned() {
                match this.claim(Utc::now()).await {
                    Ok(Some(claimed)) => {
                        let (this, halted) = (this.clone(), halted.clone());
                        jobs.spawn(async move {
                            let _place = place;
                            this.write(claimed, halted).await;
                        });
                    }
                    Ok(None) => break,
                    Err(error) => {
                        tracing::error!(error = %error, "looking for export jobs failed");
                        break;
                    }
                }
            }
        }
        let _ = halt.send(true);
        while jobs.join_next().await.is_some() {}
    }

    /// Takes the oldest job that waits or whose writer's lease ran out, if any; gives up those that
    /// were started too often.
    async fn claim(&self, now: DateTime<Utc>) -> Result<Option<Claimed>, AppError> {
        let candidates = export_jobs::Entity::find()
            .filter(
                Condition::any()
                    .add(export_jobs::Column::Status.eq(ExportStatus::Queued.code()))
                    .add(
                        Condition::all()
                            .add(export_jobs::Column::Status.eq(ExportStatus::Running.code()))
                            .add(
                                Condition::any()
                                    .add(export_jobs::Column::LeaseUntil.is_null())
                                    .add(export_jobs::Column::LeaseUntil.lt(now)),
                            ),
                    ),
            )
            .order_by_asc(export_jobs::Column::Id)
            .limit(8)
            .all(&self.db)
            .await?;
        for job in candidates {
            if job.attempts >= MAX_ATTEMPTS {
                self.end(&job, Ended::Failed(FAILED_INTERRUPTED), now)
                    .await?;
                continue;
            }
            let path =
                self.config
                    .dir
                    .join(format!("{}-{}.xlsx", job.id, uuid::Uuid::new_v4().simple()));
            // Taken only if no other instance took it since it was read: every claim counts an
            // attempt, so the count tells.
            let taken = export_jobs::Entity::update_many()
                .col_expr(
                    export_jobs::Column::Status,
                    Expr::value(ExportStatus::Running.code()),
                )
                .col_expr(export_jobs::Column::Owner, Expr::value(&self.instance))
                .col_expr(
                    export_jobs::Column::LeaseUntil,
                    Expr::value(now + self.lease),
                )
                .col_expr(export_jobs::Column::Attempts, Expr::value(job.attempts + 1))
                .col_expr(export_jobs::Column::StartedAt, Expr::value(now))
                .col_expr(export_jobs::Column::RowsDone, Expr::value(0i64))
                .col_expr(
                    export_jobs::Column::FilePath,
                    Expr::value(path.to_string_lossy().into_owned()),
                )
                .filter(export_jobs::Column::Id.eq(job.id))
                .filter(export_jobs::Column::Status.eq(job.status.as_str()))
                .filter(export_jobs::Column::Attempts.eq(job.attempts))
                .exec(&self.db)
                .await?
                .rows_affected
                == 1;
            if taken {
                // What an earlier attempt wrote before its instance died.
                if let Some(earlier) = &job.file_path {
                    remove_quietly(Path::new(earlier));
                }
                return Ok(Some(Claimed { job, path }));
            }
        }
        Ok(None)
    }

    /// Writes a claimed job, renewing its lease meanwhile, and records how it ended.
    async fn write(&self, claimed: Claimed, mut halted: tokio::sync::watch::Receiver<bool>) {
        let Claimed { job, path } = claimed;
        let id = job.id;
        let work = match self.prepare(&job).await {
            Ok(Some(work)) => work,
            Ok(None) => {
                self.finish(&job, Ended::Failed(FAILED_INTERRUPTED), &path)
                    .await;
                return;
            }
            Err(error) => {
                tracing::error!(job = id, error = %error, "an export job could not start");
                self.finish(&job, Ended::Failed(FAILED_INTERNAL), &path)
                    .await;
                return;
            }
        };
        if let Err(error) = std::fs::create_dir_all(&self.config.dir) {
            tracing::error!(job = id, error = %error, "creating the exports folder failed");
            self.finish(&job, Ended::Failed(FAILED_INTERNAL), &path)
                .await;
            return;
        }
        // The writing runs as a task of its own, so that even a panic in it ends the job as failed.
        let mut writer = {
            let (db, path) = (self.db.clone(), path.clone());
            let Work {
                session,
                query,
                lang,
            } = work;
            let at = job.created_at;
            tokio::spawn(async move {
                transactions::export_to_file(&db, &session, &query, lang, at, &path, id).await
            })
        };
        let mut renewals = tokio::time::interval(self.lease / 3);
        renewals.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        renewals.tick().await;
        let ended = loop {
            tokio::select! {
                written = &mut writer => {
                    break match written {
                        Ok(Ok((name, rows))) => Ended::Done {
                            name,
                            rows,
                            size: std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0),
                        },
                        Ok(Err(error)) => {
                            tracing::error!(job = id, error = %error, "an export job failed");
                            Ended::Failed(FAILED_INTERNAL)
                        }
                        Err(panicked) => {
                            tracing::error!(job = id, error = %panicked, "an export job failed");
                            Ended::Failed(FAILED_INTERNAL)
                        }
                    };
                }
                _ = renewals.tick() => {
                    match self.renew(id, job.attempts + 1, Utc::now()).await {
                        Ok(true) => {}
                        Ok(false) => break Ended::Lost,
                        // The lease holds a while yet: the next renewal may get through.
                        Err(error) => tracing::warn!(job = id, error = %error, "renewing an export job's lease failed"),
                    }
                }
                // (The guard `wait_for` answers with is dropped at once: it may not be held here.)
                () = async { let _ = halted.wait_for(|halt| *halt).await; } => break Ended::HandedBack,
            }
        };
        if !matches!(ended, Ended::Done { .. }) {
            // Stopped before the file is written or deleted below.
            writer.abort();
            let _ = (&mut writer).await;
        }
        self.finish(&job, ended, &path).await;
    }

    /// The session and query of a claimed job; None when it can no longer be written for its
    /// operator (their session's row gone, the operator disabled or no longer allowed to export).
    async fn prepare(&self, job: &export_jobs::Model) -> Result<Option<Work>, AppError> {
        // Jobs queued by an earlier version kept no request.
        let Ok(request) = serde_json::from_str::<Request>(&job.filters) else {
            return Ok(None);
        };
        let Some(session) = auth::as_now(&self.db, &request.session, request.from).await? else {
            return Ok(None);
        };
        if session.operator_id != job.operator_id || !session.may(Function::TransactionExport) {
            return Ok(None);
        }
        let lang = Lang::from_tag(&request.lang).unwrap_or_default();
        let query = TxnQuery::parse(&request.filter)?
            .resolve(&self.db, &session, job.created_at)
            .await?;
        Ok(Some(Work {
            session,
            query,
            lang,
        }))
    }

    /// Moves the lease of this instance's attempt `attempt` at job `id` on; false when the job is no
    /// longer its own (also when this instance itself took it again after a lapse).
    async fn renew(&self, id: i64, attempt: i32, now: DateTime<Utc>) -> Result<bool, AppError> {
        Ok(export_jobs::Entity::update_many()
            .col_expr(
                export_jobs::Column::LeaseUntil,
                Expr::value(now + self.lease),
            )
            .filter(export_jobs::Column::Id.eq(id))
            .filter(export_jobs::Column::Owner.eq(&self.instance))
            .filter(export_jobs::Column::Attempts.eq(attempt))
            .filter(export_jobs::Column::Status.eq(ExportStatus::Running.code()))
            .exec(&self.db)
            .await?
            .rows_affected
            == 1)
    }

    /// Records the end of this instance's attempt at a job; the file stays only when written.
    async fn finish(&self, job: &export_jobs::Model, ended: Ended, path: &Path) {
        if !matches!(ended, Ended::Done { .. }) {
            remove_quietly(path);
        }
        if matches!(ended, Ended::Lost) {
            tracing::warn!(
                job = job.id,
                "another instance took over an export job this one was writing"
            );
            return;
        }
        let mine = export_jobs::Model {
            owner: Some(self.instance.clone()),
            status: ExportStatus::Running.code().into(),
            attempts: job.attempts + 1,
            ..job.clone()
        };
        let written = matches!(ended, Ended::Done { .. });
        match self.end(&mine, ended, Utc::now()).await {
            Ok(true) => {}
            // Taken over just before the end: the file is nobody's.
            Ok(false) => {
                if written {
                    remove_quietly(path);
                }
            }
            Err(error) => {
                tracing::error!(job = job.id, error = %error, "recording the end of an export job failed");
            }
        }
    }

    /// Writes how an attempt at `job` (as read) ended, if nobody took the job since: whether it
    /// did.
    async fn end(
        &self,
        job: &export_jobs::Model,
        ended: Ended,
        now: DateTime<Utc>,
    ) -> Result<bool, AppError> {
        let mut update = export_jobs::Entity::update_many()
            .col_expr(
                export_jobs::Column::LeaseUntil,
                Expr::value(None::<DateTime<Utc>>),
            )
            .col_expr(export_jobs::Column::Owner, Expr::value(None::<String>));
        update = match ended {
            Ended::Done { name, rows, size } => update
                .col_expr(
                    export_jobs::Column::Status,
                    Expr::value(ExportStatus::Done.code()),
                )
                .col_expr(export_jobs::Column::RowsDone, Expr::value(i64::from(rows)))
                .col_expr(export_jobs::Column::FileName, Expr::value(name))
                .col_expr(
                    export_jobs::Column::FileSize,
                    Expr::value(i64::try_from(size).unwrap_or(i64::MAX)),
                )
                .col_expr(export_jobs::Column::FinishedAt, Expr::value(now))
                .col_expr(
                    export_jobs::Column::ExpiresAt,
                    Expr::value(now + Duration::hours(KEEP_FOR_HOURS)),
                ),
            Ended::Failed(reason) => {
                if let Some(earlier) = &job.file_path {
                    remove_quietly(Path::new(earlier));
                }
                update
                    .col_expr(
                        export_jobs::Column::Status,
                        Expr::value(ExportStatus::Failed.code()),
                    )
                    .col_expr(export_jobs::Column::Error, Expr::value(reason))
                    .col_expr(export_jobs::Column::FinishedAt, Expr::value(now))
                    .col_expr(export_jobs::Column::FilePath, Expr::value(None::<String>))
            }
            // Back in the queue as if this attempt had not been made.
            Ended::HandedBack => update
                .col_expr(
                    export_jobs::Column::Status,
                    Expr::value(ExportStatus::Queued.code()),
                )
                .col_expr(export_jobs::Column::Attempts, Expr::value(job.attempts - 1))
                .col_expr(export_jobs::Column::RowsDone, Expr::value(0i64))
                .col_expr(export_jobs::Column::FilePath, Expr::value(None::<String>)),
            Ended::Lost => return Ok(false),
        };
        let mut update = update
            .filter(export_jobs::Column::Id.eq(job.id))
            .filter(export_jobs::Column::Status.eq(job.status.as_str()))
            .filter(export_jobs::Column::Attempts.eq(job.attempts));
        if let Some(owner) = &job.owner {
            update = update.filter(export_jobs::Column::Owner.eq(owner.as_str()));
        }
        Ok(update.exec(&self.db).await?.rows_affected == 1)
    }
}

/// A job this instance has claimed and the file it writes it to.
struct Claimed {
    job: export_jobs::Model,
    path: PathBuf,
}

/// What writing a job needs.
struct Work {
    session: Session,
    query: transactions::ResolvedQuery,
    lang: Lang,
}

/// How an attempt at a job ended.
enum Ended {
    /// Written: the file's name for the user, its rows and bytes.
    Done {
        name: String,
        rows: u32,
        size: u64,
    },
    Failed(&'static str),
    /// The instance is stopping: the job waits for another.
    HandedBack,
    /// Another instance took the job (this one's lease had run out).
    Lost,
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
        .filter(unfinished())
        .count(db)
        .await?)
}

/// Jobs waiting in the queue or being written: what the caps count.
fn unfinished() -> Expr {
    export_jobs::Column::Status.is_in([ExportStatus::Queued.code(), ExportStatus::Running.code()])
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
