//! Several instances: two `vpos serve` processes on one PostgreSQL database, with the same keys and
//! exports folder, as behind a load balancer. A session made on one is used on the other and ended
//! there; clearing started on both settles each day once; an export started on one is fetched
//! through the other; a revocation made with the command line is refused by both.

use std::time::Duration;

use chrono::Utc;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use app::backend::entities::{ledger_entries, merchants, settlements};
use app::contract::exports::{file_path, ExportList};
use app::domain::access::Role;
use app::domain::ExportStatus;

use crate::clearing::{Shop, UP_CREDIT};
use crate::support::app::operator_with_password;
use crate::support::process::{ServeDir, Serving};
use crate::support::{db::postgres_available, Backend, TestDb, FIRST_PASSWORD};

/// The session cache's limit the instances run with (`session_cache_ms`, the default).
const SESSION_CACHE: Duration = Duration::from_millis(1_000);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_sessions_clearing_exports_and_revocations() {
    if !postgres_available() {
        return;
    }
    let db = TestDb::migrated(Backend::Postgres).await;
    let place = ServeDir::new(&db);
    // Sales of each of the two days before today, for clearing to settle.
    let mut shop = Shop::open(&db, "M77000001").await;
    let mut sold = 0;
    for days_ago in [1, 2] {
        for i in 0..10 {
            let time = Utc::now() - chrono::Duration::days(days_ago) - chrono::Duration::minutes(i);
            let amount = 10_000 + i;
            shop.add(&db, ("purchase", "success"), UP_CREDIT, amount, time, None)
                .await;
            sold += amount;
        }
    }
    let login = "m77.finance";
    operator_with_password(
        &db,
        "M77000001",
        login,
        &[Role::Finance],
        Some(FIRST_PASSWORD),
    )
    .await;
    place.certify(login);

    let env = [
        ("VPOS_CLEARING__SCHEDULE", "true"),
        ("VPOS_TLS__CRL_RELOAD_SECS", "1"),
    ];
    let first = place.serve(&env).await;
    let second = place.serve(&env).await;

    // Signed in on the first, the session is the second's too.
    let client = place.client(login);
    let cookie = place.sign_in(&client, &first, login).await;
    assert_eq!(me(&client, &second, &cookie).await.as_deref(), Some(login));

    // An export started on the first is written by either and fetched through the second.
    let id = first.start_export(&client, &cookie).await;
    let mut done = false;
    for _ in 0..300 {
        let list: ExportList = second
            .get(&client, &cookie, "/api/exports/list")
            .await
            .json()
            .await
            .expect("list json");
        let job = list.jobs.iter().find(|j| j.id == id).expect("listed");
        assert_ne!(job.status, ExportStatus::Failed);
        if job.status == ExportStatus::Done {
            assert_eq!(job.rows_done, 20);
            done = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(done, "the export was written");
    let file = second.get(&client, &cookie, &file_path(id)).await;
    assert_eq!(file.status(), 200);
    assert!(file.bytes().await.expect("file").starts_with(b"PK"));

    // Both ran clearing at start: each day is settled once, and the ledger holds each credit once.
    let settled = settled_days(&db, shop.number_id, 2).await;
    assert_eq!(settled.len(), 2, "{settled:?}");
    let gross: i64 = settled.iter().map(|s| s.gross_fen).sum();
    assert_eq!(gross, sold);
    let credits = ledger_entries::Entity::find()
        .filter(ledger_entries::Column::MerchantId.eq(shop.merchant_id))
        .filter(ledger_entries::Column::EntryType.eq("settlement_credit"))
        .all(&db.conn)
        .await
        .expect("ledger");
    assert_eq!(credits.len(), 2);
    let net: i64 = settled.iter().map(|s| s.net_fen).sum();
    assert_eq!(credits.iter().map(|c| c.amount_fen).sum::<i64>(), net);
    let merchant = merchants::Entity::find_by_id(shop.merchant_id)
        .one(&db.conn)
        .await
        .expect("query")
        .expect("merchant");
    let all: i64 = ledger_entries::Entity::find()
        .filter(ledger_entries::Column::MerchantId.eq(shop.merchant_id))
        .all(&db.conn)
        .await
        .expect("ledger")
        .iter()
        .map(crate::crashes::signed_fen)
        .sum();
    assert_eq!(merchant.balance_fen, all);

    // Signed out on the second while the first remembers the session: the first refuses it once
    // its cache's limit has passed.
    assert_eq!(me(&client, &first, &cookie).await.as_deref(), Some(login));
    let out = client
        .post(format!("{}/api/sign_out", second.origin()))
        .header("origin", second.origin())
        .header("cookie", &cookie)
        .header("accept", "application/json")
        .send()
        .await
        .expect("sign out");
    assert_eq!(out.status(), 200);
    assert_eq!(me(&client, &second, &cookie).await, None);
    tokio::time::sleep(SESSION_CACHE + Duration::from_millis(200)).await;
    assert_eq!(me(&client, &first, &cookie).await, None);

    // Revoked with the command line: both refuse the certificate at the next handshake.
    let fresh = place.client(login);
    let cookie = place.sign_in_again(&fresh, &second, login).await;
    assert_eq!(me(&fresh, &first, &cookie).await.as_deref(), Some(login));
    place.vpos(&[
        "pki",
        "revoke",
        "--cert",
        &format!("var/pki/issued/{login}.pem"),
    ]);
    for serving in [&first, &second] {
        let mut refused = false;
        for _ in 0..50 {
            // A new client: a new connection, a new handshake.
            let answer = place
                .client(login)
                .get(format!("{}/api/me", serving.origin()))
                .header("cookie", &cookie)
                .header("accept", "application/json")
                .send()
                .await;
            if answer.is_err() {
                refused = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            refused,
            "instance on {} still serves a revoked certificate",
            serving.port
        );
    }
}

/// Who `serving` says the session `cookie` is of: the login name, or None when it has none.
async fn me(client: &reqwest::Client, serving: &Serving, cookie: &str) -> Option<String> {
    let me: serde_json::Value = serving
        .get(client, cookie, "/api/me")
        .await
        .json()
        .await
        .expect("me json");
    me["login_name"].as_str().map(str::to_owned)
}

/// The settlements of merchant number `number_id` once `days` of them exist (clearing runs in the
/// background of the instances).
pub async fn settled_days(db: &TestDb, number_id: i64, days: usize) -> Vec<settlements::Model> {
    for _ in 0..300 {
        let found = settlements::Entity::find()
            .filter(settlements::Column::MerchantNumberId.eq(number_id))
            .all(&db.conn)
            .await
            .expect("settlements");
        if found.len() >= days {
            // A moment more: a second settlement of a day would show now.
            tokio::time::sleep(Duration::from_millis(500)).await;
            return settlements::Entity::find()
                .filter(settlements::Column::MerchantNumberId.eq(number_id))
                .all(&db.conn)
                .await
                .expect("settlements");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("clearing did not settle {days} days");
}
