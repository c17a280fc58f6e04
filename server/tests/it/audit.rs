//! The audit log's hash chain: appends from many writers form one chain, and an edit, a deletion or a
//! truncation is detected (issue 3).

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;

use app::backend::audit::{self, Actor, AuditEntry, BreakReason};
use app::backend::entities::audit_events;
use app::domain::{AuditAction, AuditOutcome};

use crate::on_both_backends;
use crate::support::{Backend, TestDb};

fn entry(n: usize) -> AuditEntry {
    AuditEntry::new(
        Actor {
            login_name: Some(format!("tester{n}")),
            remote_addr: Some("10.0.0.1".into()),
            ..Actor::default()
        },
        AuditAction::SignIn,
        AuditOutcome::Failure,
    )
    .detail(json!({ "reason": "wrong_password", "n": n }))
}

async fn ids(db: &TestDb) -> Vec<i64> {
    audit_events::Entity::find()
        .order_by_asc(audit_events::Column::Id)
        .all(&db.conn)
        .await
        .expect("events")
        .into_iter()
        .map(|e| e.id)
        .collect()
}

#[test]
fn the_migration_and_the_code_start_the_chain_from_the_same_hash() {
    assert_eq!(migrations::GENESIS_HASH, audit::GENESIS_HASH);
}

async fn with_five_events(backend: Backend) -> TestDb {
    let db = TestDb::migrated(backend).await;
    for n in 0..5 {
        audit::record(&db.conn, entry(n), Utc::now())
            .await
            .expect("append");
    }
    db
}

on_both_backends!(
    concurrent_writers_extend_one_unbroken_chain,
    an_edited_event_is_detected,
    a_deleted_event_is_detected,
    deleting_the_newest_events_is_detected,
);

async fn concurrent_writers_extend_one_unbroken_chain(backend: Backend) {
    let db = TestDb::migrated(backend).await;
    let empty = audit::verify_chain(&db.conn).await.expect("verify");
    assert_eq!((empty.events, empty.broken), (0, None));

    let writers: Vec<_> = (0..24)
        .map(|n| {
            let conn = db.conn.clone();
            tokio::spawn(async move { audit::record(&conn, entry(n), Utc::now()).await })
        })
        .collect();
    for w in writers {
        w.await.expect("join").expect("append");
    }

    assert_eq!(ids(&db).await, (1..=24).collect::<Vec<_>>());
    let report = audit::verify_chain(&db.conn).await.expect("verify");
    assert_eq!((report.events, report.broken), (24, None));
}

async fn an_edited_event_is_detected(backend: Backend) {
    let db = with_five_events(backend).await;

    audit_events::Entity::update_many()
        .col_expr(audit_events::Column::Outcome, Expr::value("success"))
        .filter(audit_events::Column::Id.eq(3))
        .exec(&db.conn)
        .await
        .expect("tamper");

    let broken = audit::verify_chain(&db.conn)
        .await
        .expect("verify")
        .broken
        .expect("detected");
    assert_eq!((broken.event_id, broken.reason), (3, BreakReason::Edited));
}

async fn a_deleted_event_is_detected(backend: Backend) {
    let db = with_five_events(backend).await;

    audit_events::Entity::delete_many()
        .filter(audit_events::Column::Id.eq(2))
        .exec(&db.conn)
        .await
        .expect("tamper");

    let broken = audit::verify_chain(&db.conn)
        .await
        .expect("verify")
        .broken
        .expect("detected");
    assert_eq!((broken.event_id, broken.reason), (2, BreakReason::Missing));
}

async fn deleting_the_newest_events_is_detected(backend: Backend) {
    let db = with_five_events(backend).await;

    db.conn
        .execute_unprepared("DELETE FROM audit_events WHERE id >= 4")
        .await
        .expect("tamper");

    let report = audit::verify_chain(&db.conn).await.expect("verify");
    assert_eq!(report.events, 3);
    let broken = report.broken.expect("detected");
    assert_eq!(
        (broken.event_id, broken.reason),
        (4, BreakReason::Truncated)
    );
}
