//! The transaction monitor's live stream over real mutual TLS: sales sent through the gateway reach
//! the monitors that may see them, in order, and no other; a reconnection catches up; the stream
//! ends with its session and its certificate; two instances on one PostgreSQL database share their
//! sales.

use std::time::Duration;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use app::backend::entities::{
    operator_terminal_groups, operators, terminal_group_members, terminal_groups,
};
use app::contract::monitor::{event, Latest, MonitorRow, MonitorView, StreamEnd, STREAM_PATH};
use app::domain::access::Role;
use app::domain::{DataScope, SessionEnd, TxnStatus, TxnType};
use server::pki::Reason;

use crate::gateway::{approved, gateway_app, Pos, CARD};
use crate::on_both_backends;
use crate::support::app::TestApp;
use crate::support::app::{FIRST_PASSWORD, PASSWORD};
use crate::support::browser::{Browser, EventStream};
use crate::support::{spawn_app, Backend};

/// Long enough for a committed sale to reach an open monitor on a busy test machine.
const ARRIVES: Duration = Duration::from_secs(10);
/// How long a test waits to be sure that nothing more comes.
const QUIET: Duration = Duration::from_millis(700);

async fn open(browser: &Browser<'_>, query: &str) -> EventStream {
    let path = if query.is_empty() {
        STREAM_PATH.to_owned()
    } else {
        format!("{STREAM_PATH}?{query}")
    };
    browser
        .events(&path)
        .await
        .unwrap_or_else(|(status, body)| panic!("the stream refused: {status} {body}"))
}

/// The first event of a stream: the latest rows.
async fn latest(stream: &mut EventStream) -> Vec<MonitorRow> {
    let first = stream.next(ARRIVES).await.expect("the latest rows");
    assert_eq!(first.name, event::LATEST, "{first:?}");
    first.json::<Latest>().rows
}

/// Rows from `rows` events until `n` have come. A `latest` event meanwhile (the server re-sends the
/// latest rows when its listening connection was opened again, which on a slow machine may be just
/// after the stream opened) adds nothing the page would show anew, and is passed over.
async fn rows(stream: &mut EventStream, n: usize) -> Vec<MonitorRow> {
    let mut got = Vec::new();
    while got.len() < n {
        let next = stream
            .next(ARRIVES)
            .await
            .unwrap_or_else(|| panic!("{} of {n} rows came", got.len()));
        if next.name == event::LATEST {
            continue;
        }
        assert_eq!(next.name, event::ROWS, "{next:?}");
        got.extend(next.json::<Vec<MonitorRow>>());
    }
    got
}

/// The ids of `n` rows as they come, in the order they were written: each event lists its rows
/// newest first, and rows written close together may come in one event.
async fn ids(stream: &mut EventStream, n: usize) -> Vec<i64> {
    let mut ids: Vec<i64> = rows(stream, n).await.iter().map(|r| r.id).collect();
    ids.sort_unstable();
    ids
}

/// No more rows come for a moment.
async fn quiet(stream: &mut EventStream) {
    while let Some(e) = stream.next(QUIET).await {
        assert_eq!(e.name, event::LATEST, "unexpected {e:?}");
    }
}

fn transaction_id(answer: &crate::support::app::GatewayAnswer) -> i64 {
    // The reference number is made of the transaction's id.
    answer.json["reference"]
        .as_str()
        .and_then(|r| r.parse().ok())
        .expect("reference")
}

/// Confines `login` to a new group of merchant `merchant_id` holding `terminal_id`.
async fn confine(app: &TestApp, login: &str, merchant_id: i64, terminal_id: i64) -> i64 {
    let db = &app.db.conn;
    let now = Utc::now();
    let group = terminal_groups::ActiveModel {
        merchant_id: Set(merchant_id),
        name: Set("Front desk".into()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("group");
    terminal_group_members::ActiveModel {
        group_id: Set(group.id),
        terminal_id: Set(terminal_id),
    }
    .insert(db)
    .await
    .expect("member");
    let operator = app.operator_row(login).await;
    operator_terminal_groups::ActiveModel {
        operator_id: Set(operator.id),
        group_id: Set(group.id),
    }
    .insert(db)
    .await
    .expect("confined");
    operators::Entity::update_many()
        .col_expr(
            operators::Column::DataScope,
            sea_orm::sea_query::Expr::value(DataScope::Groups.code()),
        )
        .filter(operators::Column::Id.eq(operator.id))
        .exec(db)
        .await
        .expect("scope");
    group.id
}

async fn sales_reach_the_monitors_that_may_see_them(backend: Backend) {
    let (app, gw, client) = gateway_app(backend).await;
    let db = &app.db;
    let mut front = Pos::new(db, "M61000001", "61000001").await;
    let mut back = Pos::on(db, "M61000001", "61000002").await;
    let mut other = Pos::new(db, "M61000003", "61000003").await;
    for pos in [&front, &back, &other] {
        approved(&gw.send(&client, "sign-in", &pos.sign_in()).await);
    }
    let before = gw.send(&client, "sale", &front.sale(1_000, CARD)).await;
    approved(&before);

    let watcher = app
        .ready_browser("M61000001", "sixone.watch", &[Role::Monitor])
        .await;
    let clerk = app
        .ready_browser("M61000001", "sixone.clerk", &[Role::Monitor])
        .await;
    let merchant_id = app.operator_row("sixone.clerk").await.merchant_id;
    confine(&app, "sixone.clerk", merchant_id, front.terminal_id).await;
    let stranger = app
        .ready_browser("M61000003", "sixthree.watch", &[Role::Monitor])
        .await;

    let mut all = open(&watcher, "").await;
    let mut grouped = open(&clerk, "").await;
    let mut others = open(&stranger, "").await;
    let mut one_terminal = open(&watcher, "terminal=61000002").await;
    let first = latest(&mut all).await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].id, transaction_id(&before));
    assert_eq!(first[0].terminal_no, "61000001");
    assert_eq!(first[0].card_masked, "622588******0019");
    assert_eq!(
        (first[0].txn_type, first[0].status, first[0].amount_fen),
        (TxnType::Purchase, TxnStatus::Success, 1_000)
    );
    assert_eq!(first[0].response_code.as_deref(), Some("00"));
    assert_eq!(latest(&mut grouped).await.len(), 1);
    assert!(latest(&mut others).await.is_empty());
    assert!(latest(&mut one_terminal).await.is_empty());

    // Three sales of the merchant, one of another, one after the other.
    let a = gw.send(&client, "sale", &back.sale(2_000, CARD)).await;
    let b = gw.send(&client, "sale", &other.sale(3_000, CARD)).await;
    let c = gw.send(&client, "sale", &front.sale(4_000, CARD)).await;
    let d = gw.send(&client, "sale", &back.sale(5_000, CARD)).await;
    for answer in [&a, &b, &c, &d] {
        approved(answer);
    }
    let (a, b, c, d) = (
        transaction_id(&a),
        transaction_id(&b),
        transaction_id(&c),
        transaction_id(&d),
    );

    // The merchant's monitor: its three.
    assert_eq!(ids(&mut all, 3).await, [a, c, d]);
    quiet(&mut all).await;
    // The operator confined to the front desk: the front terminal's only.
    let seen: Vec<i64> = rows(&mut grouped, 1).await.iter().map(|r| r.id).collect();
    assert_eq!(seen, [c]);
    quiet(&mut grouped).await;
    // The other merchant's: theirs only.
    let seen: Vec<i64> = rows(&mut others, 1).await.iter().map(|r| r.id).collect();
    assert_eq!(seen, [b]);
    quiet(&mut others).await;
    // Filtered by terminal.
    assert_eq!(ids(&mut one_terminal, 2).await, [a, d]);

    // The page's server-rendered view agrees, newest first.
    let mut watcher = watcher;
    let view: MonitorView = watcher
        .call_json("monitor/latest", serde_json::json!({"filter": {}}))
        .await
        .json();
    let ids: Vec<i64> = view.latest.rows.iter().map(|r| r.id).collect();
    assert_eq!(ids, [d, c, a, transaction_id(&before)]);
    let terminals: Vec<&str> = view
        .terminals
        .iter()
        .map(|t| t.terminal_no.as_str())
        .collect();
    assert_eq!(terminals, ["61000001", "61000002"]);
    // Another merchant's terminal filters to nothing rather than to theirs.
    let mut foreign = open(&watcher, "terminal=61000003").await;
    assert!(latest(&mut foreign).await.is_empty());
    let bad = watcher
        .events(&format!("{STREAM_PATH}?terminal=%27or%201"))
        .await;
    assert_eq!(bad.map(|_| ()).expect_err("a bad filter is refused").0, 422);
}

async fn a_reconnection_catches_up_without_repeats(backend: Backend) {
    let (app, gw, client) = gateway_app(backend).await;
    let mut pos = Pos::new(&app.db, "M61000011", "61000011").await;
    approved(&gw.send(&client, "sign-in", &pos.sign_in()).await);
    let watcher = app
        .ready_browser("M61000011", "sixeleven.watch", &[Role::Monitor])
        .await;
    let first = transaction_id(&gw.send(&client, "sale", &pos.sale(100, CARD)).await);
    let mut stream = open(&watcher, "").await;
    assert_eq!(latest(&mut stream).await.len(), 1);
    // The connection drops; two sales meanwhile.
    drop(stream);
    let missed: Vec<i64> = [
        gw.send(&client, "sale", &pos.sale(200, CARD)).await,
        gw.send(&client, "sale", &pos.sale(300, CARD)).await,
    ]
    .iter()
    .map(transaction_id)
    .collect();
    // Back: the latest rows hold what was missed, and what follows comes once.
    let mut stream = open(&watcher, "").await;
    let ids: Vec<i64> = latest(&mut stream).await.iter().map(|r| r.id).collect();
    assert_eq!(ids, [missed[1], missed[0], first]);
    let next = transaction_id(&gw.send(&client, "sale", &pos.sale(400, CARD)).await);
    let seen: Vec<i64> = rows(&mut stream, 1).await.iter().map(|r| r.id).collect();
    assert_eq!(seen, [next]);
    quiet(&mut stream).await;
}

/// The stream's last event: the end of its session, then the stream closes.
async fn ends_with(stream: &mut EventStream, reason: SessionEnd) {
    let mut last = stream.next(ARRIVES).await.expect("the end of the stream");
    while last.name == event::LATEST {
        last = stream.next(ARRIVES).await.expect("the end of the stream");
    }
    assert_eq!(last.name, event::END, "{last:?}");
    assert_eq!(last.json::<StreamEnd>().reason, reason);
    assert!(stream.closes_within(ARRIVES).await, "the stream closes");
}

async fn the_stream_ends_with_its_session(backend: Backend) {
    let app = spawn_app(backend).await;
    // Only an operator who may watch, signed in.
    let mut finance = app
        .ready_browser("M61000021", "sixtwoone.finance", &[Role::Finance])
        .await;
    let refused = finance
        .events(STREAM_PATH)
        .await
        .map(|_| ())
        .expect_err("refused");
    assert_eq!(refused.0, 403);
    let cert = app.pki.client("nobody");
    let anonymous = app.browser(&cert).events(STREAM_PATH).await;
    assert_eq!(anonymous.map(|_| ()).expect_err("refused").0, 401);
    let _ = finance.call("sign_out", &[]).await;

    // Signed out in another tab.
    let mut watcher = app
        .ready_browser("M61000021", "sixtwoone.watch", &[Role::Monitor])
        .await;
    let mut stream = open(&watcher, "").await;
    latest(&mut stream).await;
    let signed_out = watcher.call("sign_out", &[]).await;
    assert_eq!(signed_out.status, 200, "{}", signed_out.body);
    ends_with(&mut stream, SessionEnd::Logout).await;

    // Idle: a stream open is not activity.
    let watcher = app
        .ready_browser("M61000021", "sixtwoone.idle", &[Role::Monitor])
        .await;
    let mut stream = open(&watcher, "").await;
    latest(&mut stream).await;
    app.clock
        .advance(app.auth.idle_timeout + chrono::Duration::seconds(1));
    ends_with(&mut stream, SessionEnd::Idle).await;

    // The operator disabled (by the platform, the database's status alone).
    let watcher = app
        .ready_browser("M61000021", "sixtwoone.disabled", &[Role::Monitor])
        .await;
    let mut stream = open(&watcher, "").await;
    latest(&mut stream).await;
    operators::Entity::update_many()
        .col_expr(
            operators::Column::Status,
            sea_orm::sea_query::Expr::value(app::domain::OperatorStatus::Disabled.code()),
        )
        .filter(operators::Column::LoginName.eq("sixtwoone.disabled"))
        .exec(&app.db.conn)
        .await
        .expect("disable");
    ends_with(&mut stream, SessionEnd::OperatorChanged).await;

    // The certificate revoked while the stream is open.
    let login = "sixtwoone.revoked";
    let cert = app.operator("M61000021", login, &[Role::Monitor]).await;
    let mut watcher = app.browser(&cert);
    watcher.signed_in(login, FIRST_PASSWORD).await;
    let changed = watcher
        .change_password(FIRST_PASSWORD, PASSWORD, PASSWORD)
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let mut stream = open(&watcher, "").await;
    latest(&mut stream).await;
    app.pki
        .pki
        .revoke(&cert.serial_hex, Reason::KeyCompromise)
        .expect("revoke");
    app.tls.reload().expect("reload");
    ends_with(&mut stream, SessionEnd::Certificate).await;
}

on_both_backends!(
    sales_reach_the_monitors_that_may_see_them,
    a_reconnection_catches_up_without_repeats,
    the_stream_ends_with_its_session,
);

/// Two instances of the console on one PostgreSQL database, each with its gateway: a sale sent to
/// the first instance's gateway reaches a monitor connected to the second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sale_on_one_instance_reaches_a_monitor_on_another() {
    if !crate::support::db::postgres_available() {
        return;
    }
    let (first, gw, client) = gateway_app(Backend::Postgres).await;
    let second = first.second_instance().await;
    let mut pos = Pos::new(&first.db, "M61000031", "61000031").await;
    approved(&gw.send(&client, "sign-in", &pos.sign_in()).await);
    let watcher = first
        .ready_browser("M61000031", "sixthreeone.watch", &[Role::Monitor])
        .await
        .at(&second);
    let mut stream = open(&watcher, "").await;
    assert!(latest(&mut stream).await.is_empty());
    let sale = transaction_id(&gw.send(&client, "sale", &pos.sale(700, CARD)).await);
    let seen: Vec<i64> = rows(&mut stream, 1).await.iter().map(|r| r.id).collect();
    assert_eq!(seen, [sale]);
}

/// The same with two `vpos serve` processes on one PostgreSQL database, each with its gateway, as
/// they are deployed: a sale sent to the first process's gateway reaches a monitor connected to the
/// second process's console.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_serve_processes_share_their_sales() {
    if !crate::support::db::postgres_available() {
        return;
    }
    let db = crate::support::TestDb::migrated(Backend::Postgres).await;
    let place = crate::support::process::ServeDir::new(&db);
    let login = "sixfour.watch";
    let mut pos = Pos::new(&db, "M61000041", "61000041").await;
    crate::support::app::operator_with_password(
        &db,
        "M61000041",
        login,
        &[Role::Monitor],
        Some(FIRST_PASSWORD),
    )
    .await;
    place.certify(login);
    // One after the other: the first creates the token key both use.
    let first = place.serve(&[]).await;
    let second = place.serve(&[]).await;
    let a_gateway = first.gateway_port;

    // The operator signs in on the second process and opens the monitor there.
    let client = |name: &str| place.client(name);
    let console = client(login);
    let origin = second.origin();
    let cookie = place.sign_in(&console, &second, login).await;
    let mut stream = console
        .get(format!("{origin}{STREAM_PATH}"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("the stream");
    assert_eq!(stream.status(), 200);
    let mut received = String::new();
    read_until(&mut stream, &mut received, "event: latest").await;

    // A sale through the first process's gateway.
    let front = client("front-end");
    let send = |kind: &'static str, body: serde_json::Value| {
        let front = front.clone();
        async move {
            front
                .post(format!("https://127.0.0.1:{a_gateway}/v1/{kind}"))
                .json(&body)
                .send()
                .await
                .expect("gateway")
                .json::<serde_json::Value>()
                .await
                .expect("answer")
        }
    };
    assert_eq!(send("sign-in", pos.sign_in()).await["code"], "00");
    let sale = send("sale", pos.sale(4_100, CARD)).await;
    assert_eq!(sale["code"], "00", "{sale}");
    let id: i64 = sale["reference"]
        .as_str()
        .and_then(|r| r.parse().ok())
        .expect("reference");
    read_until(&mut stream, &mut received, "event: rows").await;
    assert!(
        received.contains(&format!("\"id\":{id},")),
        "the sale {id} in {received}"
    );
}

/// Reads `response`'s body into `received` until it holds `needle`.
async fn read_until(response: &mut reqwest::Response, received: &mut String, needle: &str) {
    let deadline = tokio::time::Instant::now() + ARRIVES;
    while !received.contains(needle) {
        match tokio::time::timeout_at(deadline, response.chunk()).await {
            Ok(Ok(Some(bytes))) => received.push_str(&String::from_utf8_lossy(&bytes)),
            other => panic!("{needle:?} did not come: {other:?}; got {received}"),
        }
    }
}
