//! Crashes and stops of `vpos serve` at the worst moments: killed (SIGKILL) while clearing settles
//! days, killed while a background export is being written, stopped (SIGTERM) in the middle of one.
//! After a restart no day is settled twice, no ledger is half-written, and the export is written
//! again from the start, the half-written file deleted.

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use app::backend::entities::{export_jobs, ledger_entries, merchants, settlements, transactions};
use app::contract::exports::file_path;
use app::domain::access::Role;

use crate::clearing::{Shop, UP_CREDIT};
use crate::on_both_backends;
use crate::support::app::operator_with_password;
use crate::support::process::{ServeDir, Serving};
use crate::support::{Backend, TestDb, FIRST_PASSWORD};

on_both_backends!(
    killed_while_clearing_no_day_is_settled_twice_nor_a_ledger_half_written,
    an_export_killed_half_way_is_written_again_after_the_restart,
    a_stopped_instance_hands_its_export_back_to_the_queue
);

async fn killed_while_clearing_no_day_is_settled_twice_nor_a_ledger_half_written(backend: Backend) {
    let db = TestDb::migrated(backend).await;
    let place = ServeDir::new(&db);
    // Many merchants, each with sales on each of the three days before today: a run of clearing
    // settles one number and day after another, long enough to be killed in the middle.
    let (merchants_n, days, sales_per_day) = (40, 3, 50);
    let mut shops = Vec::new();
    for m in 0..merchants_n {
        let shop = Shop::open(&db, &format!("M78{m:06}")).await;
        for day in 1..=days {
            let at = Utc::now() - chrono::Duration::days(day) - chrono::Duration::minutes(30);
            let prefix = format!("{m:02}{day}");
            shop.add_sales(&db, &prefix, sales_per_day, (100 + m, UP_CREDIT), at)
                .await;
        }
        shops.push(shop);
    }
    let expected = (merchants_n * days) as usize;

    let env = [("VPOS_CLEARING__SCHEDULE", "true")];
    let mut serving = place.serve(&env).await;
    let mut at_kill = 0;
    for _ in 0..6_000 {
        at_kill = settlement_count(&db).await;
        if at_kill > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    serving.kill();
    let after_kill = settlement_count(&db).await;
    assert!(
        after_kill < expected,
        "clearing finished ({after_kill} settlements) before it was killed: more data is needed"
    );
    assert!(at_kill > 0, "clearing did not start");

    // Started again, clearing settles what is left, and only that.
    let _serving = place.serve(&env).await;
    for _ in 0..600 {
        if settlement_count(&db).await >= expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let all = settlements::Entity::find()
        .all(&db.conn)
        .await
        .expect("settlements");
    assert_eq!(all.len(), expected, "each number's day settled once");
    let mut per_day: HashMap<(i64, chrono::NaiveDate), usize> = HashMap::new();
    for settlement in &all {
        *per_day
            .entry((settlement.merchant_number_id, settlement.settlement_date))
            .or_default() += 1;
        // Every sale of the day carries this settlement, and the settlement holds each once.
        let settled = transactions::Entity::find()
            .filter(transactions::Column::SettlementId.eq(settlement.id))
            .all(&db.conn)
            .await
            .expect("transactions");
        assert_eq!(settled.len(), sales_per_day);
        assert_eq!(
            settled.iter().map(|t| t.amount_fen).sum::<i64>(),
            settlement.gross_fen
        );
    }
    assert!(per_day.values().all(|n| *n == 1));
    let unsettled = transactions::Entity::find()
        .filter(transactions::Column::SettlementId.is_null())
        .all(&db.conn)
        .await
        .expect("transactions");
    assert!(unsettled.is_empty(), "{} sales left out", unsettled.len());
    // Each merchant's ledger: one credit per settlement, and its balance the sum of its entries,
    // each entry's balance the running sum.
    for shop in &shops {
        let entries = ledger_entries::Entity::find()
            .filter(ledger_entries::Column::MerchantId.eq(shop.merchant_id))
            .all(&db.conn)
            .await
            .expect("ledger");
        let credits: Vec<_> = entries
            .iter()
            .filter(|e| e.entry_type == "settlement_credit")
            .collect();
        let theirs: Vec<_> = all
            .iter()
            .filter(|s| s.merchant_id == shop.merchant_id)
            .collect();
        assert_eq!(credits.len(), theirs.len());
        for settlement in &theirs {
            let credit = credits
                .iter()
                .find(|c| c.settlement_id == Some(settlement.id))
                .expect("the settlement's credit");
            assert_eq!(credit.amount_fen, settlement.net_fen);
        }
        let mut running = 0;
        let mut sorted = entries.clone();
        sorted.sort_by_key(|e| e.id);
        for entry in &sorted {
            running += signed_fen(entry);
            assert_eq!(entry.balance_after_fen, running, "entry {}", entry.id);
        }
        let merchant = merchants::Entity::find_by_id(shop.merchant_id)
            .one(&db.conn)
            .await
            .expect("query")
            .expect("merchant");
        assert_eq!(merchant.balance_fen, running);
    }
}

/// A ledger entry's amount as it moves the balance: debits are stored as positive amounts.
pub fn signed_fen(entry: &ledger_entries::Model) -> i64 {
    if entry.entry_type.ends_with("_debit") {
        -entry.amount_fen
    } else {
        entry.amount_fen
    }
}

async fn settlement_count(db: &TestDb) -> usize {
    use sea_orm::PaginatorTrait;
    settlements::Entity::find()
        .count(&db.conn)
        .await
        .expect("count") as usize
}

/// A finance operator of `code` with a session on `serving`: the client and its cookie.
async fn finance(
    place: &ServeDir<'_>,
    serving: &Serving,
    code: &str,
    login: &str,
) -> (reqwest::Client, String) {
    operator_with_password(
        place.db,
        code,
        login,
        &[Role::Finance],
        Some(FIRST_PASSWORD),
    )
    .await;
    place.certify(login);
    let client = place.client(login);
    let cookie = place.sign_in(&client, serving, login).await;
    (client, cookie)
}

async fn job(db: &TestDb, id: i64) -> export_jobs::Model {
    export_jobs::Entity::find_by_id(id)
        .one(&db.conn)
        .await
        .expect("query")
        .expect("job")
}

/// Waits until the job has written some rows.
async fn half_way(db: &TestDb, id: i64) -> export_jobs::Model {
    for _ in 0..3_000 {
        let job = job(db, id).await;
        assert_ne!(
            job.status, "done",
            "the export finished before the kill: more rows are needed"
        );
        if job.rows_done > 0 {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the export did not start");
}

async fn done(db: &TestDb, id: i64) -> export_jobs::Model {
    for _ in 0..1_200 {
        let job = job(db, id).await;
        assert_ne!(job.status, "failed", "{job:?}");
        if job.status == "done" {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the export was not written again");
}

/// The files in the processes' exports folder.
fn export_files(place: &ServeDir<'_>) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(place.path().join("var/exports"))
        .map(|dir| dir.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default()
}

/// Rows enough that writing them takes a few seconds.
const EXPORT_ROWS: usize = 100_000;
/// A short lease, so that a dead instance's job is taken over within seconds.
const LEASE: (&str, &str) = ("VPOS_EXPORTS__LEASE_SECS", "3");

async fn an_export_killed_half_way_is_written_again_after_the_restart(backend: Backend) {
    let db = TestDb::migrated(backend).await;
    let place = ServeDir::new(&db);
    let shop = Shop::open(&db, "M79000001").await;
    let an_hour_ago = Utc::now() - chrono::Duration::hours(1);
    shop.add_sales(&db, "79", EXPORT_ROWS, (1_234, UP_CREDIT), an_hour_ago)
        .await;
    let mut serving = place.serve(&[LEASE]).await;
    let (client, cookie) = finance(&place, &serving, "M79000001", "m79.finance").await;
    let id = serving.start_export(&client, &cookie).await;
    let first = half_way(&db, id).await;
    serving.kill();
    assert_eq!((first.status.as_str(), first.attempts), ("running", 1));

    let serving = place.serve(&[LEASE]).await;
    let again = done(&db, id).await;
    assert_eq!(again.attempts, 2);
    assert_eq!(again.rows_done, EXPORT_ROWS as i64);
    let path = std::path::PathBuf::from(again.file_path.expect("path"));
    assert_eq!(
        export_files(&place)
            .iter()
            .map(|f| f.file_name())
            .collect::<Vec<_>>(),
        vec![path.file_name()],
        "only the finished file is left"
    );
    let file = serving.get(&client, &cookie, &file_path(id)).await;
    assert_eq!(file.status(), 200);
    let bytes = file.bytes().await.expect("file");
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).expect("xlsx");
    let sheet = {
        use calamine::Reader;
        book.worksheet_range_at(0).expect("sheet").expect("range")
    };
    assert_eq!(
        sheet.height(),
        EXPORT_ROWS + 1,
        "the header and each row once"
    );
}

async fn a_stopped_instance_hands_its_export_back_to_the_queue(backend: Backend) {
    let db = TestDb::migrated(backend).await;
    let place = ServeDir::new(&db);
    let shop = Shop::open(&db, "M79000002").await;
    let an_hour_ago = Utc::now() - chrono::Duration::hours(1);
    shop.add_sales(&db, "80", EXPORT_ROWS, (1_234, UP_CREDIT), an_hour_ago)
        .await;
    let mut serving = place.serve(&[LEASE]).await;
    let (client, cookie) = finance(&place, &serving, "M79000002", "m79b.finance").await;
    let id = serving.start_export(&client, &cookie).await;
    // And a download written while its user waits (the same 100,000 rows), in flight at the stop.
    // (Read whole by a task of its own: the stop below waits on this thread.)
    let download = {
        let request = client
            .get(format!(
                "{}{}",
                serving.origin(),
                app::ui::paths::transactions::EXPORT_PATH
            ))
            .header("cookie", &cookie);
        tokio::spawn(async move {
            let answer = request.send().await?;
            let status = answer.status();
            answer.bytes().await.map(|bytes| (status, bytes))
        })
    };
    half_way(&db, id).await;
    // Stopped as a deployment stops it: the job is back in the queue before the process ends,
    // uncounted, its half-written file deleted; the download is finished.
    serving.stop();
    let (status, bytes) = download
        .await
        .expect("task")
        .expect("the whole download is answered");
    assert_eq!(status, 200);
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).expect("xlsx");
    let sheet = {
        use calamine::Reader;
        book.worksheet_range_at(0).expect("sheet").expect("range")
    };
    assert_eq!(sheet.height(), EXPORT_ROWS + 1);
    let handed_back = job(&db, id).await;
    assert_eq!(
        (
            handed_back.status.as_str(),
            handed_back.attempts,
            handed_back.owner
        ),
        ("queued", 0, None)
    );
    assert!(export_files(&place).is_empty());

    let _serving = place.serve(&[LEASE]).await;
    let written = done(&db, id).await;
    assert_eq!(
        (written.attempts, written.rows_done),
        (1, EXPORT_ROWS as i64)
    );
}
