//! Background exports: a job writes the file with its progress, the operator alone fetches it, the
//! cap is told, an interrupted job is marked failed and an expired file is deleted.

use calamine::{Data, Reader};
use chrono::Duration;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::json;

use app::api::exports::{file_path, ExportList};
use app::backend::entities::export_jobs;
use app::backend::services::exports;
use app::domain::access::Role;
use app::domain::ExportStatus;
use app::error::AppError;

use crate::clearing::{at, Shop, UP_CREDIT};
use crate::on_both_backends;
use crate::support::{spawn_app, Backend};

on_both_backends!(
    a_background_export_is_written_fetched_by_its_owner_only_and_expires,
    a_job_a_restart_interrupted_is_marked_failed,
    a_merchants_running_jobs_are_capped_across_its_operators
);

async fn a_background_export_is_written_fetched_by_its_owner_only_and_expires(backend: Backend) {
    let app = spawn_app(backend).await;
    let db = &app.db;
    let mut shop = Shop::open(db, "M60000001").await;
    for minute in 0..30 {
        shop.add(
            db,
            ("purchase", "success"),
            UP_CREDIT,
            1_000 + minute,
            at(10, minute),
            None,
        )
        .await;
    }
    let mut finance = app
        .ready_browser("M60000001", "m6.finance", &[Role::Finance])
        .await;
    let id: i64 = finance
        .call_json("exports/transactions", json!({"filter": {"min": "10.10"}}))
        .await
        .json();

    // The list shows it; it finishes by itself.
    let mut done = None;
    for _ in 0..200 {
        let list: ExportList = finance.call("exports/list", &[]).await.json();
        let job = list
            .jobs
            .iter()
            .find(|j| j.id == id)
            .expect("the job is listed")
            .clone();
        assert_eq!(job.total_rows, 20, "10.10 .. 10.29");
        if job.status == ExportStatus::Done {
            done = Some(job);
            break;
        }
        assert_eq!(job.status, ExportStatus::Running);
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let job = done.expect("the job finished");
    assert_eq!(job.rows_done, 20);
    assert!(job
        .file_name
        .as_deref()
        .is_some_and(|n| n.ends_with(".xlsx")));
    assert!(job.expires_at.is_some());

    let (status, content_type, bytes) = finance.download(&file_path(id)).await;
    assert_eq!(status, 200);
    assert!(content_type.contains("spreadsheetml"));
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("xlsx");
    let sheet = book.worksheet_range_at(0).expect("sheet").expect("range");
    assert_eq!(sheet.height(), 21);
    assert_eq!(sheet.get((1, 9)), Some(&Data::Float(10.29)), "newest first");
    assert_eq!(app.audit_details("export_download").await.len(), 1);

    // Another operator, even of the same merchant, does not get it; nor does an unknown id.
    let mut colleague = app
        .ready_browser("M60000001", "m6.finance2", &[Role::Finance])
        .await;
    assert_eq!(colleague.download(&file_path(id)).await.0, 404);
    assert_eq!(finance.download(&file_path(id + 1000)).await.0, 404);
    let theirs: ExportList = colleague.call("exports/list", &[]).await.json();
    assert!(theirs.jobs.is_empty());
    // A monitor has no exports at all.
    let mut monitor = app
        .ready_browser("M60000001", "m6.monitor", &[Role::Monitor])
        .await;
    assert_eq!(
        monitor
            .call_json("exports/transactions", json!({"filter": {}}))
            .await
            .error(),
        AppError::Forbidden
    );
    // Bad filters are named, as in the search.
    let bad = finance
        .call_json("exports/transactions", json!({"filter": {"max": "x"}}))
        .await;
    assert_eq!(bad.status, 422);

    // A day later the file is gone and the job says so.
    let row = export_jobs::Entity::find_by_id(id)
        .one(&app.db.conn)
        .await
        .expect("query")
        .expect("job");
    let path = std::path::PathBuf::from(row.file_path.clone().expect("path"));
    assert!(path.exists());
    // (Moving the clock a day on would end the session too: the job's time runs out instead.)
    export_jobs::ActiveModel {
        id: Set(id),
        expires_at: Set(Some(app.clock.now() - Duration::minutes(1))),
        ..Default::default()
    }
    .update(&app.db.conn)
    .await
    .expect("update");
    assert_eq!(finance.download(&file_path(id)).await.0, 404);
    let list: ExportList = finance.call("exports/list", &[]).await.json();
    assert_eq!(list.jobs[0].status, ExportStatus::Expired);
    assert!(!path.exists(), "the expired file is deleted");
}

async fn a_job_a_restart_interrupted_is_marked_failed(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut finance = app
        .ready_browser("M60000002", "m6b.finance", &[Role::Finance])
        .await;
    let job = running_job(&app, "m6b.finance", 120_000).await;
    let now = app.clock.now();
    assert_eq!(
        exports::recover_interrupted(&app.db.conn, now)
            .await
            .expect("recover"),
        1
    );
    let list: ExportList = finance.call("exports/list", &[]).await.json();
    let shown = &list.jobs[0];
    assert_eq!((shown.id, shown.status), (job.id, ExportStatus::Failed));
    assert!(shown.interrupted);
    assert_eq!(finance.download(&file_path(job.id)).await.0, 404);
}

/// A job as if a request had started it and it were still being written, `rows_done` rows in.
async fn running_job(
    app: &crate::support::app::TestApp,
    login: &str,
    rows_done: i64,
) -> export_jobs::Model {
    let operator = app.operator_row(login).await;
    let now = app.clock.now();
    export_jobs::ActiveModel {
        merchant_id: Set(operator.merchant_id),
        operator_id: Set(operator.id),
        kind: Set(exports::KIND_TRANSACTIONS.into()),
        filters: Set("{}".into()),
        status: Set("running".into()),
        total_rows: Set(Some(500_000)),
        rows_done: Set(rows_done),
        created_at: Set(now),
        started_at: Set(Some(now)),
        ..Default::default()
    }
    .insert(&app.db.conn)
    .await
    .expect("job")
}

async fn a_merchants_running_jobs_are_capped_across_its_operators(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut finance = app
        .ready_browser("M60000003", "m6c.finance", &[Role::Finance])
        .await;
    for login in ["m6c.first", "m6c.second"] {
        app.operator("M60000003", login, &[Role::Finance]).await;
        running_job(&app, login, 0).await;
        running_job(&app, login, 0).await;
    }
    // Two colleagues have two jobs each running: the merchant has as many as it may, and this
    // operator, with none of their own, is told to try later.
    let refused = finance
        .call_json("exports/transactions", json!({"filter": {}}))
        .await;
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert_eq!(refused.error(), AppError::Busy);
}
