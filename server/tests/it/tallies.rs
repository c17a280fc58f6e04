//! Transaction tallies: the database keeps them equal to the transactions through loading, clearing,
//! status changes, other updates and deletes; the search total and the summaries read from them
//! agree with counting the transactions.

use std::collections::{BTreeMap, HashMap};

use chrono::{TimeZone, Utc};
use sea_orm::{ConnectionTrait, Statement};
use secrecy::SecretString;

use app::api::transactions::{Breakdown, SummaryBy, Tally, TxnFilter};
use app::backend::services::transactions::{self as service, TxnQuery};
use server::demo::{self, DemoOptions};

use crate::on_both_backends;
use crate::support::{Backend, TestDb};

/// A column of a tally's key, as the transactions name it, and how to read it.
#[derive(Clone, Copy)]
enum Col {
    Number(&'static str),
    Text(&'static str),
    /// A date, read as text.
    Date(&'static str),
}

use Col::{Date, Number, Text};

impl Col {
    fn name(self) -> &'static str {
        match self {
            Number(c) | Text(c) | Date(c) => c,
        }
    }
}

/// A tally as this test reads it: the table, its key and the date kept beside the key. Its rows and
/// the same counted from the transactions come out as the same lines.
struct Tallied {
    table: &'static str,
    key: Vec<Col>,
    kept: Option<&'static str>,
}

/// Every tally the running code knows (`app::backend::tallies::ALL`, which the migrations test holds
/// to the released tables), each key column read by its kind: a day, an id, or text.
fn tallied() -> Vec<Tallied> {
    app::backend::tallies::ALL
        .iter()
        .map(|t| Tallied {
            table: t.table,
            key: t
                .key
                .iter()
                .map(|&c| match c {
                    "txn_date" => Date(c),
                    _ if c.ends_with("_id") => Number(c),
                    _ => Text(c),
                })
                .collect(),
            kept: t.kept,
        })
        .collect()
}

impl Tallied {
    /// The tally's rows that meet `condition`, ordered by the key: (key, kept date, count, amount).
    fn rows(&self, condition: &str) -> String {
        let key: Vec<String> = self.key.iter().map(|c| Self::read(*c, c.name())).collect();
        let kept = self.kept.map(|k| format!("CAST({k} AS TEXT) AS {k}, "));
        format!(
            "SELECT {}, {}txn_count AS n, amount_fen AS fen FROM {} WHERE {condition} ORDER BY {}",
            key.join(", "),
            kept.unwrap_or_default(),
            self.table,
            self.order(),
        )
    }

    /// The same rows counted from the transactions (an unsettled transaction under settlement 0).
    fn counted(&self) -> String {
        let values: Vec<String> = self
            .key
            .iter()
            .map(|c| match c.name() {
                "settlement_id" => "COALESCE(settlement_id, 0)".to_owned(),
                name => name.to_owned(),
            })
            .collect();
        let key: Vec<String> = self
            .key
            .iter()
            .zip(&values)
            .map(|(c, value)| Self::read(*c, value))
            .collect();
        let kept = self
            .kept
            .map(|k| format!("CAST(MAX({k}) AS TEXT) AS {k}, "));
        format!(
            "SELECT {}, {}CAST(COUNT(*) AS BIGINT) AS n, CAST(SUM(amount_fen) AS BIGINT) AS fen \
             FROM transactions GROUP BY {} ORDER BY {}",
            key.join(", "),
            kept.unwrap_or_default(),
            values.join(", "),
            self.order(),
        )
    }

    /// `value` selected as the key column `col`.
    fn read(col: Col, value: &str) -> String {
        match col {
            Date(name) => format!("CAST({value} AS TEXT) AS {name}"),
            _ if value == col.name() => value.to_owned(),
            _ => format!("{value} AS {}", col.name()),
        }
    }

    fn order(&self) -> String {
        (1..=self.key.len())
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Each row of `sql` (of [`Tallied::rows`] or [`Tallied::counted`]) as one line.
    async fn lines(&self, db: &TestDb, sql: &str) -> Vec<String> {
        db.conn
            .query_all_raw(Statement::from_string(db.conn.get_database_backend(), sql))
            .await
            .expect(sql)
            .into_iter()
            .map(|r| {
                let mut line: Vec<String> = self
                    .key
                    .iter()
                    .map(|col| match *col {
                        Number(c) => r.try_get::<i64>("", c).expect(c).to_string(),
                        Text(c) | Date(c) => r.try_get::<String>("", c).expect(c),
                    })
                    .collect();
                if let Some(k) = self.kept {
                    line.push(format!(
                        "{:?}",
                        r.try_get::<Option<String>>("", k).expect(k)
                    ));
                }
                line.push(r.try_get::<i64>("", "n").expect("n").to_string());
                line.push(r.try_get::<i64>("", "fen").expect("fen").to_string());
                line.join(" ")
            })
            .collect()
    }
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

pub(crate) async fn assert_tallies_exact(db: &TestDb, after: &str) {
    for tally in &tallied() {
        let rows = tally.lines(db, &tally.rows("1 = 1")).await;
        let counted = tally.lines(db, &tally.counted()).await;
        assert!(!counted.is_empty(), "{}", tally.table);
        assert_eq!(rows, counted, "{} after {after}", tally.table);
    }
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

    // A status change moves single transactions; an update of another column moves none; a
    // transaction put on another terminal (a hand-written fix) moves to that terminal's tallies.
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
    let moved = execute(
        &db,
        "UPDATE transactions SET terminal_id = (SELECT MIN(o.id) FROM terminals o \
         WHERE o.merchant_number_id = transactions.merchant_number_id), \
         batch_no = 'moved' || CAST(id AS TEXT) WHERE id % 83 = 0",
    )
    .await;
    assert!(moved > 0);
    let rebanked = execute(
        &db,
        "UPDATE transactions SET issuer_bank = 'CCB' WHERE issuer_bank <> 'CCB' AND id % 79 = 0",
    )
    .await;
    assert!(rebanked > 0);
    assert_tallies_exact(&db, "status, terminal, bank and other updates").await;

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
    for tally in &tallied() {
        let empty = tally.lines(&db, &tally.rows("txn_count = 0")).await;
        assert_eq!(empty, Vec::<String>::new(), "{}", tally.table);
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

    // A terminal group of the merchant, one of its terminals and that terminal's merchant number.
    let first = format!(
        "SELECT g.id AS group_id, t.terminal_no, n.merchant_no FROM terminal_groups g \
         JOIN terminal_group_members m ON m.group_id = g.id JOIN terminals t ON t.id = m.terminal_id \
         JOIN merchant_numbers n ON n.id = t.merchant_number_id \
         WHERE g.merchant_id = {merchant_id} ORDER BY g.id, t.id"
    );
    let row = db
        .conn
        .query_one_raw(Statement::from_string(backend_of(&db), &first))
        .await
        .expect(&first)
        .expect("a group with a terminal");
    let group_id: i64 = row.try_get("", "group_id").expect("group_id");
    let terminal_no: String = row.try_get("", "terminal_no").expect("terminal_no");
    let number: String = row.try_get("", "merchant_no").expect("merchant_no");

    let days = TxnFilter {
        from: "2026-11-10".into(),
        to: "2026-11-20".into(),
        status: "success".into(),
        ..Default::default()
    };
    let filters = [
        // Read from the day tallies (total, summary by day) and the transaction tallies …
        days.clone(),
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
            min: "10.00".into(),
            ..days.clone()
        },
        TxnFilter {
            min: "0.01".into(),
            ..days.clone()
        },
        // Confined to terminals: from the terminal tallies (total, summaries by day and by number),
        // and the fine terminal tallies (summaries by settlement date and organisation, filters on
        // what only they know).
        TxnFilter {
            terminal: terminal_no.clone(),
            ..days.clone()
        },
        TxnFilter {
            group: group_id.to_string(),
            ..days.clone()
        },
        TxnFilter {
            group: group_id.to_string(),
            number: number.clone(),
            txn_type: "purchase".into(),
            ..days.clone()
        },
        TxnFilter {
            group: group_id.to_string(),
            org: "unionpay".into(),
            ..days.clone()
        },
        TxnFilter {
            terminal: terminal_no.clone(),
            card_type: "debit".into(),
            sdate: "2026-11-18".into(),
            ..Default::default()
        },
        // By issuing bank: from the bank tallies and the fine bank tallies as above; within
        // terminals, from the fine terminal tallies.
        TxnFilter {
            bank: "ICBC".into(),
            ..days.clone()
        },
        TxnFilter {
            bank: "ICBC".into(),
            number: number.clone(),
            txn_type: "purchase".into(),
            ..days.clone()
        },
        TxnFilter {
            bank: "ICBC".into(),
            group: group_id.to_string(),
            ..days.clone()
        },
        TxnFilter {
            bank: "ICBC".into(),
            org: "unionpay".into(),
            sdate: "2026-11-18".into(),
            ..Default::default()
        },
    ];
    let mut totals = Vec::new();
    for filter in &filters {
        totals.push(total_agrees_with_paging(&db, &session, filter, now).await);
    }
    // "at least 0.01" is every transaction: counting and the tallies agree on the same rows.
    assert_eq!(totals[0], totals[3]);
    assert!(totals[2] < totals[3]);
    // A terminal is part of its group, the group part of the merchant; a bank's part of the
    // merchant's, and of that within the group.
    assert!(totals[4] <= totals[5] && totals[5] < totals[0]);
    assert!(totals[9] < totals[0] && totals[10] <= totals[9] && totals[11] <= totals[9]);

    // An operator of that group: every search is confined to its terminals, read from the terminal
    // tallies where they hold it, and finds what the group filter found for the whole merchant.
    let mut operator = session.clone();
    operator.scope = app::domain::DataScope::Groups;
    operator.group_ids = vec![group_id];
    let confined = total_agrees_with_paging(&db, &operator, &days, now).await;
    assert_eq!(confined, totals[5]);
    for filter in &filters[4..] {
        total_agrees_with_paging(&db, &operator, filter, now).await;
    }
    // Another group of the merchant is not theirs: nothing, in the total and in every summary.
    let other = format!(
        "SELECT MIN(id) AS id FROM terminal_groups WHERE merchant_id = {merchant_id} AND id <> {group_id}"
    );
    let other: i64 = db
        .conn
        .query_one_raw(Statement::from_string(backend_of(&db), &other))
        .await
        .expect(&other)
        .expect("a row")
        .try_get("", "id")
        .expect("another group");
    let elsewhere = TxnQuery::parse(&TxnFilter {
        group: other.to_string(),
        ..days.clone()
    })
    .expect("filters");
    let page = service::page(&db.conn, &operator, elsewhere.clone(), now)
        .await
        .expect("page");
    assert_eq!((page.total, page.rows.len()), (0, 0));
    for by in SummaryBy::ALL {
        let summary = service::summary(&db.conn, &operator, elsewhere.clone(), by, now)
            .await
            .expect("summary");
        assert_eq!(summary.total.count(), 0, "{by:?}");
        assert!(summary.lines.is_empty(), "{by:?}");
    }
}

/// Pages through every row `filter` selects for `session` and checks that the page's total and
/// each summary's total (count and amount) are what paging found; the total.
async fn total_agrees_with_paging(
    db: &TestDb,
    session: &app::backend::Session,
    filter: &TxnFilter,
    now: chrono::DateTime<Utc>,
) -> u64 {
    let query = TxnQuery::parse(filter).expect("filters");
    let page = service::page(&db.conn, session, query.clone(), now)
        .await
        .expect("page");
    // Count the same rows by paging through all of them, and add them up by kind.
    let mut seen = page.rows.len() as u64;
    let mut kinds = Breakdown::default();
    // The same by each summary's key, as its lines name it.
    let mut lines: HashMap<SummaryBy, BTreeMap<String, Breakdown>> = HashMap::new();
    let mut add = |kinds: &mut Breakdown, rows: &[app::api::transactions::TxnRow]| {
        for r in rows {
            let one = Tally {
                count: 1,
                amount_fen: r.amount_fen,
            };
            kinds.add(r.txn_type, r.status, one).expect("adds");
            for by in SummaryBy::ALL {
                let key = match by {
                    SummaryBy::TxnDate => r.time[..10].to_owned(),
                    SummaryBy::SettlementDate => r.settlement_date.clone().unwrap_or_default(),
                    SummaryBy::MerchantNumber => r.merchant_no.clone(),
                    SummaryBy::CardOrg => r.card_org.code().to_owned(),
                };
                lines
                    .entry(by)
                    .or_default()
                    .entry(key)
                    .or_default()
                    .add(r.txn_type, r.status, one)
                    .expect("adds");
            }
        }
    };
    add(&mut kinds, &page.rows);
    let mut after = page.next_after.clone();
    while let Some(cursor) = after {
        let mut next = filter.clone();
        next.after = cursor;
        next.size = "200".into();
        let more = service::page(&db.conn, session, TxnQuery::parse(&next).expect("q"), now)
            .await
            .expect("page");
        seen += more.rows.len() as u64;
        add(&mut kinds, &more.rows);
        after = more.next_after;
    }
    assert_eq!(page.total, seen, "total of {filter:?}");
    assert!(page.total > 0, "{filter:?} selects something");
    for by in SummaryBy::ALL {
        let summary = service::summary(&db.conn, session, query.clone(), by, now)
            .await
            .expect("summary");
        assert_eq!(summary.total.count(), seen as i64, "{by:?} of {filter:?}");
        assert_eq!(summary.total, kinds, "{by:?} of {filter:?}");
        assert!(summary.lines.iter().all(|l| l.figures.count() > 0));
        // Line by line, to the fen.
        let summed: BTreeMap<String, Breakdown> = summary
            .lines
            .into_iter()
            .map(|l| (l.key, l.figures))
            .collect();
        assert_eq!(Some(&summed), lines.get(&by), "{by:?} lines of {filter:?}");
    }
    page.total
}
