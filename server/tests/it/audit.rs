//! The audit log's hash chain: appends from many writers form one chain; the database refuses edits;
//! an edit, a deletion or a truncation made by the database's owner is detected, also when the chain
//! was recomputed without the key; a chain from before the key is re-sealed once, never again.

use chrono::Utc;
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, QueryOrder, Statement, TransactionTrait};
use serde_json::json;

use app::backend::audit::{self, Actor, AuditEntry, AuditKey, BreakReason, PrepareError, Prepared};
use app::backend::entities::audit_events;
use app::domain::{AuditAction, AuditOutcome};

use crate::on_both_backends;
use crate::support::db::audit_key;
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

/// Runs `statements` in one transaction as the database's owner can, round the append-only
/// triggers: SQLite's dropped and made again from their own text, PostgreSQL's disabled.
async fn as_owner(db: &TestDb, statements: &[String]) {
    let txn = db.conn.begin().await.expect("begin");
    let backend = txn.get_database_backend();
    let (before, after) = match backend {
        DbBackend::Postgres => {
            let tables = ["audit_events", "audit_chain_head"];
            (
                tables
                    .map(|t| format!("ALTER TABLE {t} DISABLE TRIGGER USER"))
                    .to_vec(),
                tables
                    .map(|t| format!("ALTER TABLE {t} ENABLE TRIGGER USER"))
                    .to_vec(),
            )
        }
        _ => {
            let rows = txn
                .query_all_raw(Statement::from_string(
                    backend,
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' \
                     AND tbl_name IN ('audit_events', 'audit_chain_head')",
                ))
                .await
                .expect("triggers");
            let triggers: Vec<(String, String)> = rows
                .iter()
                .map(|r| {
                    (
                        r.try_get("", "name").expect("name"),
                        r.try_get("", "sql").expect("sql"),
                    )
                })
                .collect();
            assert_eq!(triggers.len(), 4, "the append-only triggers are installed");
            (
                triggers
                    .iter()
                    .map(|(name, _)| format!("DROP TRIGGER {name}"))
                    .collect(),
                triggers.into_iter().map(|(_, sql)| sql).collect(),
            )
        }
    };
    for sql in before.iter().chain(statements).chain(&after) {
        txn.execute_unprepared(sql).await.expect(sql);
    }
    txn.commit().await.expect("commit");
}

/// What somebody without the key can do after an edit: recompute every hash with plain SHA-256,
/// the chain's algorithm before it was keyed, and point the head at the result.
async fn recompute_without_the_key(db: &TestDb) {
    let mut prev = audit::GENESIS_HASH.to_owned();
    let mut statements = Vec::new();
    for mut event in audit_events::Entity::find()
        .order_by_asc(audit_events::Column::Id)
        .all(&db.conn)
        .await
        .expect("events")
    {
        event.prev_hash = prev.clone();
        let hash = audit::unkeyed_event_hash(&event);
        statements.push(format!(
            "UPDATE audit_events SET prev_hash = '{prev}', hash = '{hash}' WHERE id = {}",
            event.id
        ));
        prev = hash;
    }
    statements.push(format!(
        "UPDATE audit_chain_head SET hash = '{prev}' WHERE id = 1"
    ));
    as_owner(db, &statements).await;
}

async fn verify(db: &TestDb) -> audit::ChainReport {
    audit::verify_chain(&db.conn, &audit_key())
        .await
        .expect("verify")
}

on_both_backends!(
    concurrent_writers_extend_one_unbroken_chain,
    the_database_refuses_to_change_or_delete_events,
    an_edited_event_is_detected,
    an_edit_with_the_chain_recomputed_without_the_key_is_detected,
    a_deleted_event_is_detected,
    deleting_the_newest_events_is_detected,
    a_chain_from_before_the_key_is_resealed_once_and_only_when_the_key_is_new,
    a_broken_chain_from_before_the_key_is_not_resealed,
);

async fn concurrent_writers_extend_one_unbroken_chain(backend: Backend) {
    let db = TestDb::migrated(backend).await;
    let empty = verify(&db).await;
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
    let report = verify(&db).await;
    assert_eq!((report.events, report.broken), (24, None));
}

async fn an_edited_event_is_detected(backend: Backend) {
    let db = with_five_events(backend).await;

    as_owner(
        &db,
        &["UPDATE audit_events SET outcome = 'success' WHERE id = 3".into()],
    )
    .await;

    let broken = verify(&db).await.broken.expect("detected");
    assert_eq!((broken.event_id, broken.reason), (3, BreakReason::Edited));
}

async fn the_database_refuses_to_change_or_delete_events(backend: Backend) {
    let db = with_five_events(backend).await;
    for sql in [
        "UPDATE audit_events SET outcome = 'success' WHERE id = 3",
        "UPDATE audit_events SET hash = prev_hash WHERE id = 5",
        "DELETE FROM audit_events WHERE id = 5",
        "UPDATE audit_chain_head SET seq = 4 WHERE id = 1",
        "DELETE FROM audit_chain_head",
    ] {
        let refused = db.conn.execute_unprepared(sql).await.expect_err(sql);
        assert!(
            refused.to_string().contains("append-only")
                || refused.to_string().contains("only moves forward"),
            "{sql}: {refused}"
        );
    }
    if backend == Backend::Postgres {
        let refused = db
            .conn
            .execute_unprepared("TRUNCATE audit_events")
            .await
            .expect_err("truncate");
        assert!(refused.to_string().contains("append-only"), "{refused}");
    }
    assert_eq!(ids(&db).await, (1..=5).collect::<Vec<_>>());
    assert_eq!(verify(&db).await.broken, None);
}

async fn an_edit_with_the_chain_recomputed_without_the_key_is_detected(backend: Backend) {
    let db = with_five_events(backend).await;
    as_owner(
        &db,
        &["UPDATE audit_events SET outcome = 'success' WHERE id = 3".into()],
    )
    .await;
    recompute_without_the_key(&db).await;

    let broken = verify(&db).await.broken.expect("detected");
    assert_eq!((broken.event_id, broken.reason), (1, BreakReason::Edited));
    // Nor does the next start take the rewritten chain for one from before the key.
    assert!(matches!(
        audit::prepare(&db.conn, &audit_key(), false).await,
        Err(PrepareError::OtherKey)
    ));
}

async fn a_chain_from_before_the_key_is_resealed_once_and_only_when_the_key_is_new(
    backend: Backend,
) {
    let db = with_five_events(backend).await;
    assert_eq!(
        audit::prepare(&db.conn, &audit_key(), false)
            .await
            .expect("prepare"),
        Prepared::Sealed
    );
    // A database from before keyed chains: the same events under plain SHA-256.
    recompute_without_the_key(&db).await;
    let fresh = AuditKey::generate();
    assert!(matches!(
        audit::prepare(&db.conn, &fresh, false).await,
        Err(PrepareError::OtherKey)
    ));

    assert_eq!(
        audit::prepare(&db.conn, &fresh, true)
            .await
            .expect("reseal"),
        Prepared::Resealed(5)
    );
    let report = audit::verify_chain(&db.conn, &fresh).await.expect("verify");
    assert_eq!((report.events, report.broken), (5, None));
    assert_eq!(
        audit::prepare(&db.conn, &fresh, true).await.expect("again"),
        Prepared::Sealed,
        "a second start finds the chain sealed and changes nothing"
    );
    // The re-sealing let nothing else through: the triggers hold again.
    db.conn
        .execute_unprepared("UPDATE audit_events SET outcome = 'success' WHERE id = 3")
        .await
        .expect_err("append-only again");
}

async fn a_broken_chain_from_before_the_key_is_not_resealed(backend: Backend) {
    let db = with_five_events(backend).await;
    recompute_without_the_key(&db).await;
    as_owner(
        &db,
        &["UPDATE audit_events SET outcome = 'success' WHERE id = 2".into()],
    )
    .await;
    let fresh = AuditKey::generate();
    match audit::prepare(&db.conn, &fresh, true).await {
        Err(PrepareError::BrokenBeforeKey(2, BreakReason::Edited)) => {}
        other => panic!("{other:?}"),
    }
    let report = audit::verify_chain(&db.conn, &fresh).await.expect("verify");
    assert_eq!(
        report.broken.map(|b| b.event_id),
        Some(1),
        "nothing re-sealed"
    );
}

async fn a_deleted_event_is_detected(backend: Backend) {
    let db = with_five_events(backend).await;

    as_owner(&db, &["DELETE FROM audit_events WHERE id = 2".into()]).await;

    let broken = verify(&db).await.broken.expect("detected");
    assert_eq!((broken.event_id, broken.reason), (2, BreakReason::Missing));
}

async fn deleting_the_newest_events_is_detected(backend: Backend) {
    let db = with_five_events(backend).await;

    as_owner(&db, &["DELETE FROM audit_events WHERE id >= 4".into()]).await;

    let report = verify(&db).await;
    assert_eq!(report.events, 3);
    let broken = report.broken.expect("detected");
    assert_eq!(
        (broken.event_id, broken.reason),
        (4, BreakReason::Truncated)
    );
}
