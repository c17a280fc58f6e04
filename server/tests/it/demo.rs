//! The demo data set: realistic, internally consistent, loaded all or nothing.

use chrono::{TimeZone, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Statement};
use secrecy::SecretString;

use app::domain::MaskedPan;
use server::demo::{self, DemoError, DemoOptions};

use crate::on_both_backends;
use crate::support::{Backend, TestDb};

/// The demo of `transactions` transactions over 30 days up to 2026-11-22, for tests that need one.
pub fn options(transactions: u64) -> DemoOptions {
    DemoOptions {
        transactions,
        days: 30,
        seed: 42,
        now: Utc
            .with_ymd_and_hms(2026, 11, 22, 6, 30, 0)
            .single()
            .expect("time"),
        password: SecretString::from("Demo-password-1".to_owned()),
    }
}

async fn rows(db: &TestDb, sql: &str) -> Vec<sea_orm::QueryResult> {
    db.conn
        .query_all_raw(Statement::from_string(db.conn.get_database_backend(), sql))
        .await
        .expect(sql)
}

async fn count(db: &TestDb, sql: &str) -> i64 {
    rows(db, sql).await[0].try_get::<i64>("", "n").expect("n")
}

on_both_backends!(the_demo_data_set_is_consistent);

async fn the_demo_data_set_is_consistent(backend: Backend) {
    let db = TestDb::migrated(backend).await;

    let report = demo::load(&db.conn, &options(4_000)).await.expect("load");

    assert_eq!(report.transactions, 4_000);
    assert_eq!(
        count(&db, "SELECT COUNT(*) AS n FROM transactions").await,
        4_000
    );
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM merchants").await, 5);
    // Every built-in role has an operator.
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(DISTINCT role_code) AS n FROM operator_roles"
        )
        .await,
        6
    );
    // Skewed like real traffic: the largest merchant holds most rows.
    let largest = count(
        &db,
        "SELECT MAX(c) AS n FROM (SELECT COUNT(*) AS c FROM transactions GROUP BY merchant_id) x",
    )
    .await;
    assert!(largest > 2_000, "largest merchant holds {largest} of 4000");
    // Variety of types, statuses and card organisations.
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(DISTINCT txn_type) AS n FROM transactions"
        )
        .await,
        5
    );
    assert_eq!(
        count(&db, "SELECT COUNT(DISTINCT status) AS n FROM transactions").await,
        3
    );
    assert!(
        count(
            &db,
            "SELECT COUNT(DISTINCT card_org) AS n FROM transactions"
        )
        .await
            >= 5
    );
    assert!(
        count(
            &db,
            "SELECT COUNT(DISTINCT issuer_bank) AS n FROM transactions"
        )
        .await
            >= 10
    );

    // Cards are masked: first 6 and last 4 at most.
    for row in rows(&db, "SELECT card_masked, card_last4 FROM transactions").await {
        let masked: String = row.try_get("", "card_masked").expect("card");
        let last4: String = row.try_get("", "card_last4").expect("last4");
        let pan = MaskedPan::parse(&masked).unwrap_or_else(|e| panic!("{masked}: {e}"));
        assert_eq!(pan.last4(), last4);
    }
    // Voids and refunds point at an earlier sale of the same terminal and never refund more than it.
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) AS n FROM transactions r JOIN transactions o ON o.id = r.original_txn_id \
             WHERE o.terminal_id <> r.terminal_id OR o.id >= r.id OR r.amount_fen > o.amount_fen"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) AS n FROM transactions o WHERE o.refunded_fen <> CASE WHEN EXISTS \
             (SELECT 1 FROM transactions v WHERE v.original_txn_id = o.id \
              AND v.txn_type = 'void' AND v.status = 'success') THEN o.amount_fen ELSE \
             (SELECT COALESCE(SUM(r.amount_fen), 0) FROM transactions r \
              WHERE r.original_txn_id = o.id AND r.txn_type = 'refund' AND r.status = 'success') \
             + (SELECT COALESCE(SUM(q.amount_fen), 0) FROM refund_requests q \
              WHERE q.original_txn_id = o.id AND q.status IN ('cleared', 'refunded')) \
             + (SELECT COALESCE(SUM(f.amount_fen), 0) FROM fast_refunds f \
              WHERE f.original_txn_id = o.id AND f.status = 'success') END \
             OR o.refund_pending_fen <> (SELECT COALESCE(SUM(q.amount_fen), 0) FROM refund_requests q \
              WHERE q.original_txn_id = o.id AND q.status IN ('submitted', 'pending_clearing')) \
             + (SELECT COALESCE(SUM(f.amount_fen), 0) FROM fast_refunds f \
              WHERE f.original_txn_id = o.id AND f.status IN ('processing', 'exception')) \
             OR o.refunded_fen + o.refund_pending_fen > o.amount_fen"
        )
        .await,
        0,
        "refunded_fen equals the successful refunds of each sale, at the terminal, in the console or \
         paid by the bank as fast refunds, and the whole sale when it was voided"
    );
    // Fast refunds sent and answered by the simulated bank: paid ones, and some in the exception
    // list for the operator to correct.
    assert!(report.fast_refunds >= 12, "{report:?}");
    assert_eq!(
        count(&db, "SELECT COUNT(*) AS n FROM fast_refunds").await,
        report.fast_refunds as i64
    );
    for status in ["success", "exception"] {
        assert!(
            count(
                &db,
                &format!("SELECT COUNT(*) AS n FROM fast_refunds WHERE status = '{status}'")
            )
            .await
                > 0,
            "no demo fast refund is {status}"
        );
    }
    // Refunds requested in the console: those of ended days cleared and paid back with their
    // settlement, today's waiting for tonight's run.
    assert!(report.refund_requests >= 20, "{report:?}");
    assert_eq!(
        count(&db, "SELECT COUNT(*) AS n FROM refund_requests").await,
        report.refund_requests as i64
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) AS n FROM refund_requests q LEFT JOIN settlements s ON s.id = q.settlement_id \
             WHERE NOT ((q.quota_day < '2026-11-22' AND COALESCE(s.status, 'none') = 'paid' AND q.status = 'refunded') \
              OR (q.quota_day < '2026-11-22' AND COALESCE(s.status, 'none') NOT IN ('paid', 'none') AND q.status = 'cleared') \
              OR (q.quota_day = '2026-11-22' AND s.id IS NULL AND q.status = 'submitted'))"
        )
        .await,
        0
    );
    assert!(
        count(
            &db,
            "SELECT COUNT(*) AS n FROM refund_requests q JOIN operators o ON o.id = q.requested_by \
             WHERE o.login_name = 'hualian.pudong'"
        )
        .await
            > 0
    );
    assert!(count(&db, "SELECT COUNT(*) AS n FROM transactions WHERE txn_type IN ('void', 'refund') AND original_txn_id IS NULL").await == 0);
    // Nothing in the future; local business dates agree with the times (Asia/Shanghai).
    let latest = rows(&db, "SELECT MAX(txn_time) AS t FROM transactions").await[0]
        .try_get::<chrono::DateTime<Utc>>("", "t")
        .expect("max time");
    assert!(latest <= options(0).now);
    for row in rows(&db, "SELECT txn_time, txn_date FROM transactions").await {
        let t: chrono::DateTime<Utc> = row.try_get("", "txn_time").expect("time");
        let d: chrono::NaiveDate = row.try_get("", "txn_date").expect("date");
        assert_eq!(t.with_timezone(&chrono_tz::Asia::Shanghai).date_naive(), d);
    }
    // Ids follow time, so that id breaks ties in keyset order the way time would.
    assert_eq!(
        count(&db, "SELECT COUNT(*) AS n FROM transactions a JOIN transactions b ON b.id = a.id + 1 WHERE b.txn_time < a.txn_time").await,
        0
    );
}

on_both_backends!(the_demo_is_refused_on_a_database_with_data_and_changes_nothing);

async fn the_demo_is_refused_on_a_database_with_data_and_changes_nothing(backend: Backend) {
    let db = TestDb::migrated(backend).await;
    demo::load(&db.conn, &options(500))
        .await
        .expect("first load");

    let second = demo::load(&db.conn, &options(500)).await;

    assert!(matches!(second, Err(DemoError::NotEmpty)), "{second:?}");
    assert_eq!(
        count(&db, "SELECT COUNT(*) AS n FROM transactions").await,
        500
    );
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM merchants").await, 5);
}

on_both_backends!(the_same_seed_gives_the_same_data);

async fn the_same_seed_gives_the_same_data(backend: Backend) {
    let a = TestDb::migrated(backend).await;
    let b = TestDb::migrated(backend).await;
    demo::load(&a.conn, &options(800)).await.expect("load a");
    demo::load(&b.conn, &options(800)).await.expect("load b");

    assert_eq!(digest(&a).await, digest(&b).await);
}

/// The rows that identify a data set, one string each.
async fn digest(db: &TestDb) -> Vec<String> {
    rows(db, "SELECT id, terminal_id, txn_type, status, card_masked, amount_fen, reference_no FROM transactions ORDER BY id")
        .await
        .iter()
        .map(|r| {
            format!(
                "{}|{}|{}|{}|{}|{}|{}",
                r.try_get::<i64>("", "id").unwrap_or_default(),
                r.try_get::<i64>("", "terminal_id").unwrap_or_default(),
                r.try_get::<String>("", "txn_type").unwrap_or_default(),
                r.try_get::<String>("", "status").unwrap_or_default(),
                r.try_get::<String>("", "card_masked").unwrap_or_default(),
                r.try_get::<i64>("", "amount_fen").unwrap_or_default(),
                r.try_get::<String>("", "reference_no").unwrap_or_default(),
            )
        })
        .collect()
}

#[tokio::test]
async fn bad_sizes_are_refused_before_anything_is_written() {
    let db = TestDb::migrated(Backend::Sqlite).await;
    let mut too_many = options(demo::MAX_TRANSACTIONS + 1);
    assert!(matches!(
        demo::load(&db.conn, &too_many).await,
        Err(DemoError::Invalid(_))
    ));
    too_many.transactions = 10;
    too_many.days = 0;
    assert!(matches!(
        demo::load(&db.conn, &too_many).await,
        Err(DemoError::Invalid(_))
    ));
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM merchants").await, 0);
}

on_both_backends!(demo_settlements_add_up_and_reconcile_to_the_fen);

/// A merchant-wide session of one of the merchant's operators, for calling services directly.
pub async fn session_of(db: &TestDb, merchant_id: i64) -> app::backend::Session {
    use app::domain::access::Role;
    let operator = app::backend::entities::operators::Entity::find()
        .filter(app::backend::entities::operators::Column::MerchantId.eq(merchant_id))
        .one(&db.conn)
        .await
        .expect("query")
        .expect("an operator");
    crate::support::app::service_session(db, operator.id, Role::ALL).await
}

async fn demo_settlements_add_up_and_reconcile_to_the_fen(backend: Backend) {
    use app::api::transactions::{SummaryBy, Tally, TxnFilter};
    use app::backend::services::settlements;
    use app::backend::services::transactions::{self, TxnQuery};
    use app::domain::reconciliation;

    let db = TestDb::migrated(backend).await;
    let report = demo::load(&db.conn, &options(6_000)).await.expect("load");
    assert!(
        report.settlements > 30,
        "{} settlements",
        report.settlements
    );

    // Every ended day with a settleable sale has its settlement; today's sales wait.
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) AS n FROM transactions t WHERE t.status = 'success' \
             AND t.txn_type IN ('purchase', 'preauth_completion') AND t.settlement_id IS NULL \
             AND t.txn_date < '2026-11-22' AND NOT EXISTS (SELECT 1 FROM transactions v \
             WHERE v.original_txn_id = t.id AND v.txn_type = 'void' AND v.status = 'success')"
        )
        .await,
        0
    );
    assert!(count(&db, "SELECT COUNT(*) AS n FROM transactions WHERE settlement_id IS NOT NULL AND txn_date = '2026-11-22'").await == 0);
    // A settlement's figures are the sums of its transactions, and net = gross − refunds − fees.
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) AS n FROM settlements s WHERE s.net_fen <> s.gross_fen - s.refund_fen - s.fee_fen \
             OR s.gross_fen <> (SELECT COALESCE(SUM(amount_fen), 0) FROM transactions t WHERE t.settlement_id = s.id \
                AND t.txn_type IN ('purchase', 'preauth_completion')) \
             OR s.fee_fen <> (SELECT COALESCE(SUM(fee_fen), 0) FROM transactions t WHERE t.settlement_id = s.id) \
             OR s.refund_fen <> (SELECT COALESCE(SUM(amount_fen), 0) FROM transactions t WHERE t.settlement_id = s.id \
                AND t.txn_type NOT IN ('purchase', 'preauth_completion')) \
                + (SELECT COALESCE(SUM(amount_fen), 0) FROM refund_requests q WHERE q.settlement_id = s.id) \
             OR s.txn_count + s.refund_count <> (SELECT COUNT(*) FROM transactions t WHERE t.settlement_id = s.id) \
                + (SELECT COUNT(*) FROM refund_requests q WHERE q.settlement_id = s.id)"
        )
        .await,
        0
    );
    // The ledger: each merchant's balance is its credits less its debits, and its last entry's balance.
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) AS n FROM merchants m WHERE m.balance_fen <> \
             (SELECT COALESCE(SUM(CASE WHEN entry_type = 'settlement_credit' THEN amount_fen ELSE -amount_fen END), 0) \
              FROM ledger_entries l WHERE l.merchant_id = m.id) \
             OR m.balance_fen <> COALESCE((SELECT balance_after_fen FROM ledger_entries l WHERE l.merchant_id = m.id \
              ORDER BY l.id DESC LIMIT 1), 0)"
        )
        .await,
        0
    );

    // The reconciliation file of every settlement: well-formed, and its sums are the settlement's.
    let all = app::backend::entities::settlements::Entity::find()
        .all(&db.conn)
        .await
        .expect("settlements");
    assert_eq!(all.len(), report.settlements);
    let mut sessions = std::collections::HashMap::new();
    let now = options(0).now;
    let mut with_console_refunds = 0;
    for s in &all {
        if let std::collections::hash_map::Entry::Vacant(e) = sessions.entry(s.merchant_id) {
            e.insert(session_of(&db, s.merchant_id).await);
        }
        let session = &sessions[&s.merchant_id];
        let (name, bytes) =
            settlements::reconciliation_file(&db.conn, session, s.id, options(0).now)
                .await
                .expect("file");
        assert!(name.ends_with(&format!("_{}.txt", s.settlement_date.format("%Y%m%d"))));
        let file =
            reconciliation::parse(&String::from_utf8(bytes).expect("utf-8")).expect("parses");
        let t = file.trailer;
        assert_eq!(
            (
                t.sales,
                t.gross_fen,
                t.refunds,
                t.refund_fen,
                t.fee_fen,
                t.net_fen
            ),
            (
                s.txn_count,
                s.gross_fen,
                s.refund_count,
                s.refund_fen,
                s.fee_fen,
                s.net_fen
            ),
            "settlement {}",
            s.id
        );
        assert_eq!(file.header.settlement_id, s.id);

        // Its drill-down: the summary of its transactions, with the settlement beside them, ties out
        // to the fen, and the settlement beside them is the one its page shows.
        let filter = TxnFilter {
            settlement: s.id.to_string(),
            ..TxnFilter::default()
        };
        let query = TxnQuery::parse(&filter).expect("filter");
        let summary = transactions::summary(&db.conn, session, query, SummaryBy::TxnDate, now)
            .await
            .expect("summary");
        let tie = summary.settlement.expect("the settlement beside its rows");
        let detail = settlements::detail(&db.conn, session, s.id)
            .await
            .expect("detail");
        assert_eq!(tie.settlement, detail);
        assert_eq!(
            tie.makeup,
            settlements::makeup(&db.conn, session, s.id)
                .await
                .expect("makeup")
        );
        assert!(tie.makeup.ties_out(&detail), "settlement {}: {tie:?}", s.id);
        let rows = summary.total;
        let terminal = rows.voids.checked_add(rows.refunds).expect("adds");
        assert_eq!(
            (
                rows.sales,
                terminal,
                rows.preauths,
                rows.failed,
                rows.reversed
            ),
            (
                tie.makeup.sales,
                tie.makeup.terminal_refunds,
                Tally::default(),
                Tally::default(),
                Tally::default()
            ),
            "settlement {}",
            s.id
        );
        with_console_refunds += usize::from(tie.makeup.console_refunds.count > 0);
    }
    assert!(
        with_console_refunds > 0,
        "some settlement debits a refund requested in the console"
    );
}
