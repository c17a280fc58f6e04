//! Transaction tallies: the database keeps them equal to the transactions through loading, clearing,
//! status changes, other updates and deletes; the search total and the summaries read from them
//! agree with counting the transactions.

use chrono::{TimeZone, Utc};
use sea_orm::{ConnectionTrait, Statement};
use secrecy::SecretString;

use app::api::transactions::{SummaryBy, TxnFilter};
use app::backend::services::transactions::{self as service, TxnQuery};
use server::demo::{self, DemoOptions};

use crate::on_both_backends;
use crate::support::{Backend, TestDb};

/// Every tally as text, ordered: (key, count, amount).
const TALLIES: &str = "SELECT merchant_id, CAST(txn_date AS TEXT) AS d, merchant_number_id, txn_type, status, \
     card_org, card_type, settlement_id, CAST(settlement_date AS TEXT) AS sd, txn_count AS n, amount_fen AS fen \
     FROM transaction_tallies ORDER BY 1, 2, 3, 4, 5, 6, 7, 8";

/// The same, counted from the transactions.
const COUNTED: &str = "SELECT merchant_id, CAST(txn_date AS TEXT) AS d, merchant_number_id, txn_type, status, \
     card_org, card_type, COALESCE(settlement_id, 0) AS settlement_id, CAST(MAX(settlement_date) AS TEXT) AS sd, \
     CAST(COUNT(*) AS BIGINT) AS n, CAST(SUM(amount_fen) AS BIGINT) AS fen \
     FROM transactions GROUP BY merchant_id, txn_date, merchant_number_id, txn_type, status, card_org, \
     card_type, COALESCE(settlement_id, 0) ORDER BY 1, 2, 3, 4, 5, 6, 7, 8";

/// The day tallies, and the same counted from the transactions: (key, count, amount).
const DAY_TALLIES: &str = "SELECT merchant_id, CAST(txn_date AS TEXT) AS d, txn_type, status, \
     txn_count AS n, amount_fen AS fen FROM transaction_day_tallies ORDER BY 1, 2, 3, 4";
const DAYS_COUNTED: &str = "SELECT merchant_id, CAST(txn_date AS TEXT) AS d, txn_type, status, \
     CAST(COUNT(*) AS BIGINT) AS n, CAST(SUM(amount_fen) AS BIGINT) AS fen \
     FROM transactions GROUP BY merchant_id, txn_date, txn_type, status ORDER BY 1, 2, 3, 4";

/// A column of those queries and how to read it.
#[derive(Clone, Copy)]
enum Col {
    Text(&'static str),
    Number(&'static str),
    MaybeText(&'static str),
}

use Col::{MaybeText, Number, Text};

const TALLY_COLUMNS: &[Col] = &[
    Number("merchant_id"),
    Text("d"),
    Number("merchant_number_id"),
    Text("txn_type"),
    Text("status"),
    Text("card_org"),
    Text("card_type"),
    Number("settlement_id"),
    MaybeText("sd"),
    Number("n"),
    Number("fen"),
];

const DAY_COLUMNS: &[Col] = &[
    Number("merchant_id"),
    Text("d"),
    Text("txn_type"),
    Text("status"),
    Number("n"),
    Number("fen"),
];

/// Each row of `sql` as one line of its `columns`.
async fn lines(db: &TestDb, sql: &str, columns: &[Col]) -> Vec<String> {
    db.conn
        .query_all_raw(Statement::from_string(db.conn.get_database_backend(), sql))
        .await
        .expect(sql)
        .into_iter()
        .map(|r| {
            columns
                .iter()
                .map(|col| match *col {
                    Text(c) => r.try_get::<String>("", c).expect(c),
                    Number(c) => r.try_get::<i64>("", c).expect(c).to_string(),
                    MaybeText(c) => format!("{:?}", r.try_get::<Option<String>>("", c).expect(c)),
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

fn backend_of(db: &TestDb) -> sea_orm::DbBackend {
    db.conn.get_database_backend()
}

async fn execute(db: &TestDb, sql: &str) -> u64 {
    db.conn
        .execute_raw(Statement::from_string(db.conn.get_database_backend(), sql))
        .await
        .expect(sql)
        .rows_affected()
}

async fn assert_tallies_exact(db: &TestDb, after: &str) {
    let tallies = lines(db, TALLIES, TALLY_COLUMNS).await;
    let counted = lines(db, COUNTED, TALLY_COLUMNS).await;
    assert!(!counted.is_empty());
    assert_eq!(tallies, counted, "tallies after {after}");
    let days = lines(db, DAY_TALLIES, DAY_COLUMNS).await;
    let counted = lines(db, DAYS_COUNTED, DAY_COLUMNS).await;
    assert!(!counted.is_empty());
    assert_eq!(days, counted, "day tallies after {after}");
}

on_both_backends!(tallies_follow_every_change_of_the_transactions);

async fn tallies_follow_every_change_of_the_transactions(backend: Backend) {
    let db = TestDb::migrated(backend).await;
    let options = DemoOptions {
        transactions: 3_000,
        days: 20,
        seed: 7,
        now: Utc
            .with_ymd_and_hms(2026, 11, 22, 6, 30, 0)
            .single()
            .expect("time"),
        password: SecretString::from("Demo-password-1".to_owned()),
    };
    // The loader inserts in batches, then clearing marks each day's transactions with a settlement.
    demo::load(&db.conn, &options).await.expect("load");
    assert_tallies_exact(&db, "loading and clearing").await;

    // A status change moves single transactions; an update of another column moves none.
    let reversed = execute(
        &db,
        "UPDATE transactions SET status = 'reversed' WHERE status = 'success' AND id % 97 = 0",
    )
    .await;
    assert!(reversed > 0);
    execute(
        &db,
        "UPDATE transactions SET refund_pending_fen = 1 WHERE id % 89 = 0 AND refunded_fen < amount_fen",
    )
    .await;
    assert_tallies_exact(&db, "status and other updates").await;

    // A settlement undone (as a hand-written fix would) puts its transactions back under settlement 0.
    execute(
        &db,
        "UPDATE transactions SET settlement_id = NULL, settlement_date = NULL, fee_fen = NULL \
         WHERE settlement_id = (SELECT MIN(id) FROM settlements)",
    )
    .await;
    assert_tallies_exact(&db, "a settlement undone").await;

    // Deleting transactions (nothing refers to these) takes them out; emptied tallies go.
    let deleted = execute(
        &db,
        "DELETE FROM transactions WHERE id IN (SELECT t.id FROM transactions t WHERE NOT EXISTS \
         (SELECT 1 FROM transactions c WHERE c.original_txn_id = t.id) \
         AND t.txn_type IN ('preauth', 'void') ORDER BY t.id LIMIT 40)",
    )
    .await;
    assert!(deleted > 0);
    assert_tallies_exact(&db, "deletes").await;
    for (sql, table, columns) in [
        (TALLIES, "transaction_tallies", TALLY_COLUMNS),
        (DAY_TALLIES, "transaction_day_tallies", DAY_COLUMNS),
    ] {
        let only_empty = sql.replace(
            &format!("FROM {table}"),
            &format!("FROM {table} WHERE txn_count = 0"),
        );
        let empty = lines(&db, &only_empty, columns).await;
        assert_eq!(empty, Vec::<String>::new(), "{table}");
    }
}

on_both_backends!(totals_and_summaries_read_from_tallies_equal_counting);

async fn totals_and_summaries_read_from_tallies_equal_counting(backend: Backend) {
    let db = TestDb::migrated(backend).await;
    let now = Utc
        .with_ymd_and_hms(2026, 11, 22, 6, 30, 0)
        .single()
        .expect("time");
    let options = DemoOptions {
        transactions: 3_000,
        days: 20,
        seed: 11,
        now,
        password: SecretString::from("Demo-password-1".to_owned()),
    };
    demo::load(&db.conn, &options).await.expect("load");
    let largest =
        "SELECT merchant_id FROM transactions GROUP BY merchant_id ORDER BY COUNT(*) DESC";
    let merchant_id: i64 = db
        .conn
        .query_one_raw(Statement::from_string(backend_of(&db), largest))
        .await
        .expect(largest)
        .expect("a merchant")
        .try_get("", "merchant_id")
        .expect("merchant_id");
    let session = crate::demo::session_of(&db, merchant_id).await;

    let filters = [
        // Read from the day tallies (total, summary by day) and the transaction tallies …
        TxnFilter {
            from: "2026-11-10".into(),
            to: "2026-11-20".into(),
            status: "success".into(),
            ..Default::default()
        },
        // … from the transaction tallies only …
        TxnFilter {
            txn_type: "purchase".into(),
            org: "visa".into(),
            card_type: "credit".into(),
            sdate: "2026-11-18".into(),
            ..Default::default()
        },
        // … and counted (a filter on an untallied column).
        TxnFilter {
            from: "2026-11-10".into(),
            to: "2026-11-20".into(),
            status: "success".into(),
            min: "10.00".into(),
            ..Default::default()
        },
        TxnFilter {
            from: "2026-11-10".into(),
            to: "2026-11-20".into(),
            status: "success".into(),
            min: "0.01".into(),
            ..Default::default()
        },
    ];
    let mut totals = Vec::new();
    for filter in &filters {
        let query = TxnQuery::parse(filter).expect("filters");
        let page = service::page(&db.conn, &session, query.clone(), now)
            .await
            .expect("page");
        // Count the same rows by paging through all of them.
        let mut seen = page.rows.len() as u64;
        let mut fen: i64 = page.rows.iter().map(|r| r.amount_fen).sum();
        let mut after = page.next_after.clone();
        while let Some(cursor) = after {
            let mut next = filter.clone();
            next.after = cursor;
            next.size = "200".into();
            let more = service::page(&db.conn, &session, TxnQuery::parse(&next).expect("q"), now)
                .await
                .expect("page");
            seen += more.rows.len() as u64;
            fen += more.rows.iter().map(|r| r.amount_fen).sum::<i64>();
            after = more.next_after;
        }
        assert_eq!(page.total, seen, "total of {filter:?}");
        assert!(page.total > 0, "{filter:?} selects something");
        for by in [
            SummaryBy::TxnDate,
            SummaryBy::SettlementDate,
            SummaryBy::MerchantNumber,
            SummaryBy::CardOrg,
        ] {
            let summary = service::summary(&db.conn, &session, query.clone(), by, now)
                .await
                .expect("summary");
            assert_eq!(
                summary.total.total.count, seen as i64,
                "{by:?} of {filter:?}"
            );
            assert_eq!(summary.total.total.amount_fen, fen, "{by:?} of {filter:?}");
            assert!(summary.lines.iter().all(|l| l.total.count > 0));
        }
        totals.push(page.total);
    }
    // "at least 0.01" is every transaction: counting and the tallies agree on the same rows.
    assert_eq!(totals[0], totals[3]);
    assert!(totals[2] < totals[3]);
}
