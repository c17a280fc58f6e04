//! Background exports: a job writes the file with its progress, the operator alone fetches it, the
//! cap is told, a job whose instance died is written again (and given up after too many starts),
//! and an expired file is deleted.

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
    a_job_whose_instance_died_is_written_again_and_given_up_after_three_starts,
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
        assert!(matches!(
            job.status,
            ExportStatus::Queued | ExportStatus::Running
        ));
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

async fn a_job_whose_instance_died_is_written_again_and_given_up_after_three_starts(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let db = &app.db;
    let mut shop = Shop::open(db, "M60000002").await;
    for minute in 0..5 {
        let amount = 1_000 + minute;
        shop.add(
            db,
            ("purchase", "success"),
            UP_CREDIT,
            amount,
            at(10, minute),
            None,
        )
        .await;
    }
    let mut finance = app
        .ready_browser("M60000002", "m6b.finance", &[Role::Finance])
        .await;
    let id: i64 = finance
        .call_json("exports/transactions", json!({"filter": {}}))
        .await
        .json();
    let written = finished(&app, id).await;
    assert_eq!((written.status.as_str(), written.attempts), ("done", 1));

    // As if the instance writing it had died half-way: running, its lease run out, a partial file.
    let partial = app
        .pki
        .dir
        .path()
        .join("exports")
        .join(format!("{id}-dead.xlsx"));
    std::fs::write(&partial, b"half a zip").expect("partial file");
    let died = |attempts: i32| export_jobs::ActiveModel {
        id: Set(id),
        status: Set("running".into()),
        owner: Set(Some("an instance that died".into())),
        lease_until: Set(Some(chrono::Utc::now() - Duration::seconds(1))),
        attempts: Set(attempts),
        rows_done: Set(3),
        file_name: Set(None),
        file_size: Set(None),
        file_path: Set(Some(partial.to_string_lossy().into_owned())),
        finished_at: Set(None),
        expires_at: Set(None),
        ..Default::default()
    };
    died(1).update(&app.db.conn).await.expect("update");
    let again = finished(&app, id).await;
    assert_eq!((again.status.as_str(), again.attempts), ("done", 2));
    assert_eq!(again.rows_done, 5);
    assert!(!partial.exists(), "the half-written file is deleted");
    let (status, _, bytes) = finance.download(&file_path(id)).await;
    assert_eq!(status, 200);
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("xlsx");
    let sheet = book.worksheet_range_at(0).expect("sheet").expect("range");
    assert_eq!(sheet.height(), 6, "the header and every row, once");

    // A job that has died with its instance three times is not started a fourth time.
    std::fs::write(&partial, b"half a zip").expect("partial file");
    died(exports::MAX_ATTEMPTS)
        .update(&app.db.conn)
        .await
        .expect("update");
    let given_up = finished(&app, id).await;
    assert_eq!(
        (given_up.status.as_str(), given_up.error.as_deref()),
        ("failed", Some(exports::FAILED_INTERRUPTED))
    );
    assert!(!partial.exists(), "the half-written file is deleted");
    let list: ExportList = finance.call("exports/list", &[]).await.json();
    assert!(list.jobs[0].interrupted);
    assert_eq!(finance.download(&file_path(id)).await.0, 404);
}

/// The job once no instance writes it any more (the runner looks at the queue every 2 s).
async fn finished(app: &crate::support::app::TestApp, id: i64) -> export_jobs::Model {
    for _ in 0..400 {
        let job = export_jobs::Entity::find_by_id(id)
            .one(&app.db.conn)
            .await
            .expect("query")
            .expect("job");
        if matches!(job.status.as_str(), "done" | "failed") {
            return job;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("export job {id} did not finish");
}

/// A job as if a request had started it and another instance were writing it.
async fn running_job(app: &crate::support::app::TestApp, login: &str) -> export_jobs::Model {
    let operator = app.operator_row(login).await;
    let now = app.clock.now();
    export_jobs::ActiveModel {
        merchant_id: Set(operator.merchant_id),
        operator_id: Set(operator.id),
        kind: Set(exports::KIND_TRANSACTIONS.into()),
        filters: Set("{}".into()),
        status: Set("running".into()),
        total_rows: Set(Some(500_000)),
        rows_done: Set(0),
        created_at: Set(now),
        started_at: Set(Some(now)),
        // Written by another instance, alive.
        owner: Set(Some("another instance".into())),
        lease_until: Set(Some(chrono::Utc::now() + Duration::hours(1))),
        attempts: Set(1),
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
        running_job(&app, login).await;
        running_job(&app, login).await;
    }
    // Two colleagues have two jobs each running: the merchant has as many as it may, and this
    // operator, with none of their own, is told to try later.
    let refused = finance
        .call_json("exports/transactions", json!({"filter": {}}))
        .await;
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert_eq!(refused.error(), AppError::Busy);
}
