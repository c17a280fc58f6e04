//! The transaction search's own pool (`db::connect_search`): it finds the same pages as the main pool,
//! and on PostgreSQL its connections plan each page statement once instead of at every execution.

use sea_orm::{ConnectionTrait, FromQueryResult, Statement};

use app::api::transactions::TxnFilter;
use app::backend::db;
use app::backend::services::transactions::{self as service, TxnQuery};
use server::demo;

use crate::on_both_backends;
use crate::support::{Backend, TestDb};

/// Values of one settled sale on a grouped terminal of the largest merchant, for the filters.
#[derive(Debug, FromQueryResult)]
struct Sample {
    merchant_id: i64,
    terminal_no: String,
    group_id: i64,
    card_last4: String,
}

on_both_backends!(the_search_pool_finds_the_same_pages_and_plans_them_once);

async fn the_search_pool_finds_the_same_pages_and_plans_them_once(backend: Backend) {
    let db = TestDb::migrated(backend).await;
    let options = crate::demo::options(3_000);
    let now = options.now;
    demo::load(&db.conn, &options).await.expect("load");
    let sql = "SELECT t.merchant_id, tm.terminal_no, g.group_id, t.card_last4 FROM transactions t \
         JOIN terminals tm ON tm.id = t.terminal_id \
         JOIN terminal_group_members g ON g.terminal_id = t.terminal_id \
         WHERE t.merchant_id = (SELECT merchant_id FROM transactions GROUP BY merchant_id ORDER BY COUNT(*) DESC LIMIT 1) \
         AND t.settlement_id IS NOT NULL ORDER BY t.txn_time DESC, t.id DESC LIMIT 1";
    let sample =
        Sample::find_by_statement(Statement::from_string(db.conn.get_database_backend(), sql))
            .one(&db.conn)
            .await
            .expect(sql)
            .expect("a settled sale on a grouped terminal");
    let session = crate::demo::session_of(&db, sample.merchant_id).await;
    // One connection: the plans it made are the ones `pg_prepared_statements` shows.
    let search = db::connect_search(&db.url, 1, &db.conn, std::time::Duration::ZERO)
        .await
        .expect("search pool");

    let base = TxnFilter {
        from: "2026-11-03".into(),
        to: "2026-11-22".into(),
        status: "success".into(),
        size: "20".into(),
        ..Default::default()
    };
    let with = |change: &dyn Fn(&mut TxnFilter)| {
        let mut f = base.clone();
        change(&mut f);
        f
    };
    let filters = [
        base.clone(),
        with(&|f| f.txn_type = "refund".into()),
        with(&|f| f.terminal = sample.terminal_no.clone()),
        with(&|f| f.group = sample.group_id.to_string()),
        with(&|f| f.card = sample.card_last4.clone()),
        with(&|f| {
            f.min = "10.00".into();
            f.max = "500.00".into();
        }),
        TxnFilter::default(),
    ];
    let mut executions = 0;
    for filter in &filters {
        let mut query = filter.clone();
        // Page 1, then page 2 by its cursor: the keyset statement is another statement.
        for _ in 0..2 {
            let parsed = TxnQuery::parse(&query).expect("filters");
            let main = service::page(&db.conn, &session, parsed.clone(), now)
                .await
                .expect("page");
            let planned_once = service::page(&search, &session, parsed, now)
                .await
                .expect("page on the search pool");
            executions += 1;
            let ids = |p: &app::api::transactions::TxnPage| {
                p.rows.iter().map(|r| r.id).collect::<Vec<_>>()
            };
            assert_eq!(ids(&main), ids(&planned_once), "{query:?}");
            assert_eq!(main.total, planned_once.total, "{query:?}");
            assert_eq!(main.next_after, planned_once.next_after, "{query:?}");
            match main.next_after {
                Some(after) => query.after = after,
                None => break,
            }
        }
    }
    assert!(executions > filters.len(), "some filter has a second page");

    if backend == Backend::Postgres {
        let plans = "SELECT CAST(COALESCE(SUM(generic_plans), 0) AS BIGINT) AS generic, \
             CAST(COALESCE(SUM(custom_plans), 0) AS BIGINT) AS custom \
             FROM pg_prepared_statements WHERE statement LIKE '%FROM \"transactions\"%'";
        let row = search
            .query_one_raw(Statement::from_string(
                db.conn.get_database_backend(),
                plans,
            ))
            .await
            .expect(plans)
            .expect("a row");
        let generic: i64 = row.try_get("", "generic").expect("generic");
        let custom: i64 = row.try_get("", "custom").expect("custom");
        assert_eq!(custom, 0, "no page was planned for its values");
        assert!(generic >= executions as i64, "{generic} generic plans");
        assert_eq!(
            show(&db.conn, "plan_cache_mode").await,
            "auto",
            "the main pool plans as PostgreSQL chooses"
        );
        // A plan for any values is costed for a whole range: no JIT compiling it at each execution.
        assert_eq!(show(&search, "jit").await, "off");
    }
}

/// A PostgreSQL setting as a connection of `pool` has it.
async fn show(pool: &sea_orm::DatabaseConnection, setting: &str) -> String {
    let sql = format!("SHOW {setting}");
    pool.query_one_raw(Statement::from_string(pool.get_database_backend(), &sql))
        .await
        .expect(&sql)
        .expect("a row")
        .try_get_by_index(0)
        .expect(setting)
}

on_both_backends!(the_consoles_pools_cancel_a_statement_that_runs_too_long);

/// PostgreSQL only: SQLite runs statements in this process, which end with their request.
async fn the_consoles_pools_cancel_a_statement_that_runs_too_long(backend: Backend) {
    if backend != Backend::Postgres {
        return;
    }
    let db = TestDb::migrated(backend).await;
    let limit = std::time::Duration::from_millis(300);
    let console = db::connect_console(&db.url, 1, limit)
        .await
        .expect("console pool");
    let search = db::connect_search(&db.url, 1, &console, limit)
        .await
        .expect("search pool");
    for pool in [&console, &search] {
        assert_eq!(show(pool, "statement_timeout").await, "300ms");
        let slow = "SELECT pg_sleep(3)";
        let started = std::time::Instant::now();
        let refused = pool
            .execute_unprepared(slow)
            .await
            .expect_err("cancelled by the server");
        assert!(
            refused.to_string().contains("statement timeout"),
            "{refused}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        // The connection serves the next statement.
        assert!(!show(pool, "jit").await.is_empty());
    }
    // Clearing's pool has no limit.
    let background = db::connect(&db.url, 1).await.expect("background pool");
    assert_eq!(show(&background, "statement_timeout").await, "0");
}
