//! The terminal gateway over real mutual TLS: sign-in, payments, sign-out, every refusal code, the
//! idempotent repeat, concurrent senders, certificate kinds, late transactions.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::{json, Value};

use app::backend::entities::{merchant_numbers, terminal_batches, terminals, transactions};
use app::backend::services::{clearing, platform};
use app::domain::MerchantNo;

use crate::on_both_backends;
use crate::support::app::{seed_merchant, Gateway, GatewayAnswer, TestApp};
use crate::support::{spawn_app, Backend, TestDb};

pub(crate) const CARD: &str = "6225880000000019";
const OTHER_CARD: &str = "4111111111111111";

/// Noon of 2026-11-20 in Shanghai.
pub(crate) fn noon() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 4, 0, 0)
        .single()
        .expect("time")
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 20).expect("date")
}

/// A merchant's POS: its terminal, the batch it signs in with, and its voucher counter.
pub(crate) struct Pos {
    pub(crate) terminal_id: i64,
    terminal: String,
    batch: String,
    voucher: u32,
}

impl Pos {
    pub(crate) async fn new(db: &TestDb, code: &str, terminal: &str) -> Pos {
        seed_merchant(db, code).await;
        Pos::on(db, code, terminal).await
    }

    /// Another terminal of merchant `code`'s merchant number, installed as the platform does.
    pub(crate) async fn on(db: &TestDb, code: &str, terminal: &str) -> Pos {
        let number = MerchantNo::parse(&format!("8980000{}", &code[1..])).expect("number");
        let terminal_id =
            platform::add_terminal(&db.conn, &number, terminal, "PAX A920", None, Utc::now())
                .await
                .expect("terminal");
        Pos {
            terminal_id,
            terminal: terminal.into(),
            batch: "000001".into(),
            voucher: 0,
        }
    }

    fn next_voucher(&mut self) -> String {
        self.voucher += 1;
        format!("{:06}", self.voucher)
    }

    pub(crate) fn sign_in(&self) -> Value {
        json!({"terminal": self.terminal, "batch": self.batch})
    }

    pub(crate) fn sale(&mut self, amount_fen: i64, card: &str) -> Value {
        json!({"terminal": self.terminal, "batch": self.batch, "voucher": self.next_voucher(),
            "amount_fen": amount_fen,
            "card": {"number": card, "type": "credit", "bank": "CMB"}})
    }

    fn void(&mut self, amount_fen: i64, original: &GatewayAnswer) -> Value {
        json!({"terminal": self.terminal, "batch": self.batch, "voucher": self.next_voucher(),
            "amount_fen": amount_fen, "original": original_of(original)})
    }

    fn refund(&mut self, amount_fen: i64, card: &str, original: &GatewayAnswer) -> Value {
        json!({"terminal": self.terminal, "batch": self.batch, "voucher": self.next_voucher(),
            "amount_fen": amount_fen, "card": {"number": card},
            "original": original_of(original)})
    }

    fn sign_out(&self, sale: (i64, i64), void: (i64, i64), refund: (i64, i64)) -> Value {
        let t = |(count, amount_fen): (i64, i64)| json!({"count": count, "amount_fen": amount_fen});
        json!({"terminal": self.terminal, "batch": self.batch,
            "totals": {"sale": t(sale), "void": t(void), "refund": t(refund)}})
    }
}

fn original_of(answer: &GatewayAnswer) -> Value {
    json!({"reference": answer.json["reference"], "date": answer.json["booked_on"]})
}

/// An app with its gateway, both on `clock`, and a gateway client.
pub(crate) async fn gateway_app(backend: Backend) -> (TestApp, Gateway, reqwest::Client) {
    let app = spawn_app(backend).await;
    app.clock.advance(noon() - app.clock.now());
    let gateway = app.gateway(app.clock.clone()).await;
    let client = gateway.client(&app.pki.gateway("front-end"));
    (app, gateway, client)
}

pub(crate) fn approved(answer: &GatewayAnswer) {
    assert_eq!(
        (answer.status, answer.code()),
        (200, "00"),
        "{}",
        answer.json
    );
}

async fn count_of(db: &TestDb, terminal_id: i64) -> u64 {
    transactions::Entity::find()
        .filter(transactions::Column::TerminalId.eq(terminal_id))
        .count(&db.conn)
        .await
        .expect("count")
}

async fn a_batch_from_sign_in_to_sign_out(backend: Backend) {
    let (app, gw, client) = gateway_app(backend).await;
    let db = &app.db;
    let mut pos = Pos::new(db, "M60000071", "10000071").await;

    let signed_in = gw.send(&client, "sign-in", &pos.sign_in()).await;
    approved(&signed_in);
    assert_eq!(signed_in.json["batch"], "000001");

    let sale = gw.send(&client, "sale", &pos.sale(12_800, CARD)).await;
    approved(&sale);
    let reference = sale.json["reference"].as_str().expect("reference");
    assert_eq!(reference.len(), 12);
    assert_eq!(sale.json["auth_code"].as_str().map(str::len), Some(6));
    assert_eq!(sale.json["booked_on"], "2026-11-20");
    let second = gw.send(&client, "sale", &pos.sale(5_000, OTHER_CARD)).await;
    approved(&second);
    let third = gw.send(&client, "sale", &pos.sale(7_000, CARD)).await;
    approved(&third);

    // The card is kept as first 6 and last 4, the organisation read from its digits.
    let row = transactions::Entity::find()
        .filter(transactions::Column::ReferenceNo.eq(reference))
        .one(&db.conn)
        .await
        .expect("query")
        .expect("the sale");
    assert_eq!(
        (
            row.card_masked.as_str(),
            row.card_org.as_str(),
            row.txn_date
        ),
        ("622588******0019", "unionpay", day())
    );
    assert_eq!(
        (row.txn_type.as_str(), row.status.as_str()),
        ("purchase", "success")
    );

    approved(&gw.send(&client, "void", &pos.void(5_000, &second)).await);
    let refund = gw
        .send(&client, "refund", &pos.refund(2_800, CARD, &sale))
        .await;
    approved(&refund);
    let sale_row = transactions::Entity::find_by_id(row.id)
        .one(&db.conn)
        .await
        .expect("query")
        .expect("the sale");
    assert_eq!(sale_row.refunded_fen, 2_800);

    let out = gw
        .send(
            &client,
            "sign-out",
            &pos.sign_out((3, 24_800), (1, 5_000), (1, 2_800)),
        )
        .await;
    approved(&out);
    assert_eq!(out.json["balanced"], true);
    let terminal = terminals::Entity::find_by_id(pos.terminal_id)
        .one(&db.conn)
        .await
        .expect("query")
        .expect("terminal");
    assert!(!terminal.signed_in);
    // The same sign-out again: the same answer, nothing changes.
    let again = gw
        .send(
            &client,
            "sign-out",
            &pos.sign_out((3, 24_800), (1, 5_000), (1, 2_800)),
        )
        .await;
    approved(&again);
    assert!(again.replayed);
    // Signed out, the terminal takes no payment until it signs in again with a new batch.
    let late = gw.send(&client, "sale", &pos.sale(100, CARD)).await;
    assert_eq!(late.code(), "77");
    assert_eq!(
        gw.send(&client, "sign-in", &pos.sign_in()).await.code(),
        "A9"
    );
    pos.batch = "000002".into();
    approved(&gw.send(&client, "sign-in", &pos.sign_in()).await);

    // Totals that differ from the host's: the batch is out of balance.
    approved(&gw.send(&client, "sale", &pos.sale(1_000, CARD)).await);
    let off = gw
        .send(&client, "sign-out", &pos.sign_out((1, 900), (0, 0), (0, 0)))
        .await;
    approved(&off);
    assert_eq!(off.json["balanced"], false);
    assert_eq!(off.json["host_totals"]["sale"]["amount_fen"], 1_000);
    let batch = terminal_batches::Entity::find()
        .filter(terminal_batches::Column::TerminalId.eq(pos.terminal_id))
        .order_by_desc(terminal_batches::Column::Id)
        .one(&db.conn)
        .await
        .expect("query")
        .expect("batch");
    assert_eq!(batch.status, "out_of_balance");
}

async fn every_refusal_has_its_code(backend: Backend) {
    let (app, gw, client) = gateway_app(backend).await;
    let db = &app.db;
    let mut pos = Pos::new(db, "M60000072", "10000072").await;
    let merchant_id = terminals::Entity::find_by_id(pos.terminal_id)
        .one(&db.conn)
        .await
        .expect("query")
        .expect("terminal")
        .merchant_id;
    let mut other = Pos::on(db, "M60000072", "10000073").await;
    let code = |a: GatewayAnswer| (a.status, a.code().to_owned(), a.json["field"].clone());
    let is = |status: u16, c: &str| (status, c.to_owned(), Value::Null);
    let field = |status: u16, c: &str, f: &str| (status, c.to_owned(), json!(f));

    // Before sign-in.
    assert_eq!(
        code(gw.send(&client, "sale", &pos.sale(100, CARD)).await),
        is(200, "77")
    );
    approved(&gw.send(&client, "sign-in", &pos.sign_in()).await);
    approved(&gw.send(&client, "sign-in", &other.sign_in()).await);
    // Sign-in again with the open batch resumes it; with another while it is open is refused.
    approved(&gw.send(&client, "sign-in", &pos.sign_in()).await);
    let another = json!({"terminal": pos.terminal, "batch": "000009"});
    let refused = gw.send(&client, "sign-in", &another).await;
    assert_eq!(
        (refused.code(), &refused.json["batch"]),
        ("A8", &json!("000001"))
    );

    // Malformed, too large, unknown.
    assert_eq!(
        code(gw.send_raw(&client, "sale", "{not json").await),
        is(400, "30")
    );
    let mut bad = pos.sale(100, CARD);
    bad["amount_fen"] = json!("100");
    assert_eq!(
        code(gw.send(&client, "sale", &bad).await),
        field(400, "30", "amount_fen")
    );
    let huge = format!(
        "{{\"terminal\":\"{}\",\"pad\":\"{}\"}}",
        pos.terminal,
        "x".repeat(10_000)
    );
    assert_eq!(code(gw.send_raw(&client, "sale", huge).await).1, "31");
    assert_eq!(
        gw.send_raw(&client, "sale", "x".repeat(10_000))
            .await
            .status,
        413
    );
    assert_eq!(code(gw.send_raw(&client, "pay", "{}").await).0, 404);
    let mut unknown = pos.sale(100, CARD);
    unknown["terminal"] = json!("99999999");
    assert_eq!(
        code(gw.send(&client, "sale", &unknown).await),
        is(200, "97")
    );
    // Amounts and cards.
    assert_eq!(
        code(gw.send(&client, "sale", &pos.sale(0, CARD)).await),
        field(200, "13", "amount_fen")
    );
    assert_eq!(
        code(gw.send(&client, "sale", &pos.sale(-100, CARD)).await),
        field(200, "13", "amount_fen")
    );
    assert_eq!(
        code(gw.send(&client, "sale", &pos.sale(10_000_001, CARD)).await),
        field(200, "61", "amount_fen")
    );
    assert_eq!(
        code(
            gw.send(&client, "sale", &pos.sale(100, "6225880000000018"))
                .await
        ),
        field(200, "14", "card.number")
    );
    // A batch that is not the open one.
    let mut wrong_batch = pos.sale(100, CARD);
    wrong_batch["batch"] = json!("000002");
    assert_eq!(
        code(gw.send(&client, "sale", &wrong_batch).await),
        is(200, "95")
    );

    // Voids.
    let sale = gw.send(&client, "sale", &pos.sale(10_000, CARD)).await;
    approved(&sale);
    let other_sale = gw.send(&client, "sale", &other.sale(3_000, CARD)).await;
    approved(&other_sale);
    assert_eq!(
        code(
            gw.send(&client, "void", &pos.void(3_000, &other_sale))
                .await
        ),
        is(200, "A1")
    );
    assert_eq!(
        code(gw.send(&client, "void", &pos.void(9_999, &sale)).await),
        is(200, "64")
    );
    let mut missing = pos.void(10_000, &sale);
    missing["original"]["reference"] = json!("999999999999");
    assert_eq!(
        code(gw.send(&client, "void", &missing).await),
        is(200, "25")
    );
    let void = gw.send(&client, "void", &pos.void(10_000, &sale)).await;
    approved(&void);
    assert_eq!(
        code(gw.send(&client, "void", &pos.void(10_000, &sale)).await),
        is(200, "A2")
    );
    assert_eq!(
        code(gw.send(&client, "void", &pos.void(10_000, &void)).await),
        is(200, "12")
    );
    // A voided sale has nothing left to refund.
    let voided_refund = gw
        .send(&client, "refund", &pos.refund(100, CARD, &sale))
        .await;
    assert_eq!(
        (voided_refund.code(), &voided_refund.json["left_fen"]),
        ("A5", &json!(0))
    );

    // Refunds.
    let paid = gw.send(&client, "sale", &pos.sale(8_000, CARD)).await;
    approved(&paid);
    assert_eq!(
        code(
            gw.send(&client, "refund", &pos.refund(100, OTHER_CARD, &paid))
                .await
        ),
        is(200, "A6")
    );
    approved(
        &gw.send(&client, "refund", &pos.refund(5_000, CARD, &paid))
            .await,
    );
    let over = gw
        .send(&client, "refund", &pos.refund(3_001, CARD, &paid))
        .await;
    assert_eq!((over.code(), &over.json["left_fen"]), ("A5", &json!(3_000)));
    // A partly refunded sale cannot be voided.
    assert_eq!(
        code(gw.send(&client, "void", &pos.void(8_000, &paid)).await),
        is(200, "A5")
    );

    // A sale of an earlier batch cannot be voided, a settled one neither.
    let early = gw.send(&client, "sale", &pos.sale(4_000, CARD)).await;
    approved(&early);
    let totals = clearing_free_totals(db, pos.terminal_id, &pos.batch).await;
    approved(
        &gw.send(
            &client,
            "sign-out",
            &pos.sign_out(totals.0, totals.1, totals.2),
        )
        .await,
    );
    pos.batch = "000002".into();
    approved(&gw.send(&client, "sign-in", &pos.sign_in()).await);
    assert_eq!(
        code(gw.send(&client, "void", &pos.void(4_000, &early)).await),
        is(200, "A4")
    );
    let settled = gw.send(&client, "sale", &pos.sale(6_000, CARD)).await;
    approved(&settled);
    let reference = settled.json["reference"].as_str().expect("reference");
    transactions::Entity::update_many()
        .col_expr(
            transactions::Column::SettlementId,
            sea_orm::sea_query::Expr::value(Some(mark_settled(db, merchant_id).await)),
        )
        .filter(transactions::Column::ReferenceNo.eq(reference))
        .exec(&db.conn)
        .await
        .expect("mark settled");
    assert_eq!(
        code(gw.send(&client, "void", &pos.void(6_000, &settled)).await),
        is(200, "A3")
    );

    // The same key with other content.
    let first = pos.sale(500, CARD);
    approved(&gw.send(&client, "sale", &first).await);
    let mut conflicting = first.clone();
    conflicting["amount_fen"] = json!(600);
    assert_eq!(
        code(gw.send(&client, "sale", &conflicting).await),
        is(200, "94")
    );
    // A voucher number held by a transaction the gateway did not write (loaded data): the same.
    let first_answer = gw.send(&client, "sale", &first).await;
    transactions::Entity::update_many()
        .col_expr(
            transactions::Column::VoucherNo,
            sea_orm::sea_query::Expr::value(format!("{:06}", pos.voucher + 1)),
        )
        .filter(transactions::Column::ReferenceNo.eq(first_answer.json["reference"].as_str()))
        .exec(&db.conn)
        .await
        .expect("take the next voucher number");
    assert_eq!(
        code(gw.send(&client, "sale", &pos.sale(700, CARD)).await),
        is(200, "94")
    );

    // A disabled terminal, a closed merchant number.
    terminals::Entity::update_many()
        .col_expr(
            terminals::Column::Status,
            sea_orm::sea_query::Expr::value("disabled"),
        )
        .filter(terminals::Column::Id.eq(other.terminal_id))
        .exec(&db.conn)
        .await
        .expect("disable");
    assert_eq!(
        code(gw.send(&client, "sale", &other.sale(100, CARD)).await),
        is(200, "58")
    );
    merchant_numbers::Entity::update_many()
        .col_expr(
            merchant_numbers::Column::Status,
            sea_orm::sea_query::Expr::value("closed"),
        )
        .filter(merchant_numbers::Column::MerchantId.eq(merchant_id))
        .exec(&db.conn)
        .await
        .expect("close");
    assert_eq!(
        code(gw.send(&client, "sale", &pos.sale(100, CARD)).await),
        is(200, "03")
    );
    // Refusals create nothing: seven approved payments on one terminal, one on the other.
    assert_eq!(count_of(db, pos.terminal_id).await, 7);
    assert_eq!(count_of(db, other.terminal_id).await, 1);
}

/// The host's totals of a batch as (count, amount) per type, as a POS would have counted them.
async fn clearing_free_totals(
    db: &TestDb,
    terminal_id: i64,
    batch: &str,
) -> ((i64, i64), (i64, i64), (i64, i64)) {
    let t = app::backend::services::gateway::batch_totals(&db.conn, terminal_id, batch)
        .await
        .expect("totals");
    let pair = |t: app::domain::breakdown::Tally| (t.count, t.amount_fen);
    (pair(t.sale), pair(t.void), pair(t.refund))
}

/// A settlement row of the merchant's number, for marking a sale settled.
async fn mark_settled(db: &TestDb, merchant_id: i64) -> i64 {
    use app::backend::entities::settlements;
    let number = merchant_numbers::Entity::find()
        .filter(merchant_numbers::Column::MerchantId.eq(merchant_id))
        .one(&db.conn)
        .await
        .expect("query")
        .expect("number");
    settlements::ActiveModel {
        merchant_id: Set(merchant_id),
        merchant_number_id: Set(number.id),
        settlement_date: Set(day() - Duration::days(30)),
        period_start: Set(noon() - Duration::days(31)),
        period_end: Set(noon() - Duration::days(30)),
        txn_count: Set(0),
        refund_count: Set(0),
        gross_fen: Set(0),
        refund_fen: Set(0),
        fee_fen: Set(0),
        net_fen: Set(0),
        currency: Set("CNY".into()),
        status: Set("pending".into()),
        account_masked: Set("6222****2233".into()),
        created_at: Set(noon()),
        ..Default::default()
    }
    .insert(&db.conn)
    .await
    .expect("settlement")
    .id
}

async fn a_repeat_gets_the_first_answer(backend: Backend) {
    let (app, gw, client) = gateway_app(backend).await;
    let mut pos = Pos::new(&app.db, "M60000074", "10000074").await;
    approved(&gw.send(&client, "sign-in", &pos.sign_in()).await);
    let sale = pos.sale(4_200, CARD);
    let first = gw.send(&client, "sale", &sale).await;
    approved(&first);
    assert!(!first.replayed);
    app.clock.advance(Duration::seconds(30));
    let again = gw.send(&client, "sale", &sale).await;
    assert!(again.replayed);
    assert_eq!(again.json, first.json, "the first answer, word for word");
    assert_eq!(count_of(&app.db, pos.terminal_id).await, 1);
}

async fn fifty_senders_of_one_message_create_one_transaction(backend: Backend) {
    let (app, gw, client) = gateway_app(backend).await;
    let mut pos = Pos::new(&app.db, "M60000075", "10000075").await;
    approved(&gw.send(&client, "sign-in", &pos.sign_in()).await);
    let sale = pos.sale(9_900, CARD);
    let sends = (0..50).map(|_| gw.send(&client, "sale", &sale));
    let answers = futures::future::join_all(sends).await;
    let first = answers
        .iter()
        .find(|a| !a.replayed)
        .expect("one first answer");
    assert_eq!(answers.iter().filter(|a| !a.replayed).count(), 1);
    for answer in &answers {
        approved(answer);
        assert_eq!(answer.json, first.json);
    }
    assert_eq!(count_of(&app.db, pos.terminal_id).await, 1);
    // And a void of it raced fifty times (each its own voucher): voided once.
    let voids: Vec<Value> = (0..50).map(|_| pos.void(9_900, first)).collect();
    let answers =
        futures::future::join_all(voids.iter().map(|v| gw.send(&client, "void", v))).await;
    let approved_voids = answers.iter().filter(|a| a.code() == "00").count();
    assert_eq!(
        approved_voids,
        1,
        "{:?}",
        answers.iter().map(GatewayAnswer::code).collect::<Vec<_>>()
    );
    assert!(answers
        .iter()
        .all(|a| ["00", "A2", "A5"].contains(&a.code())));
    assert_eq!(count_of(&app.db, pos.terminal_id).await, 2);
}

/// Sales that arrive together are written in one group: each gets the answer it would have got
/// alone, and the tallies and batch totals count each accepted sale once.
async fn sales_sent_together_are_each_answered_as_alone(backend: Backend) {
    let (app, gw, client) = gateway_app(backend).await;
    let db = &app.db;
    let mut a = Pos::new(db, "M60000078", "10000078").await;
    let mut b = Pos::on(db, "M60000078", "10000079").await;
    let mut signed_out = Pos::on(db, "M60000078", "10000080").await;
    approved(&gw.send(&client, "sign-in", &a.sign_in()).await);
    approved(&gw.send(&client, "sign-in", &b.sign_in()).await);

    let mut messages: Vec<(Value, &str)> = Vec::new();
    for i in 0..30 {
        let pos = if i % 2 == 0 { &mut a } else { &mut b };
        messages.push((pos.sale(1_000 + i, CARD), "00"));
    }
    for _ in 0..4 {
        messages.push((signed_out.sale(500, CARD), "77"));
    }
    let mut wrong_batch = a.sale(700, CARD);
    wrong_batch["batch"] = json!("000009");
    messages.push((wrong_batch, "95"));
    // One message three times over, and its key with other content.
    let twice = b.sale(3_300, OTHER_CARD);
    let mut other = twice.clone();
    other["amount_fen"] = json!(3_301);
    let sends = messages
        .iter()
        .map(|(m, _)| m)
        .chain([&twice, &twice, &twice, &other])
        .map(|m| gw.send(&client, "sale", m));
    let answers = futures::future::join_all(sends).await;

    let mut references = std::collections::HashSet::new();
    for ((message, expected), answer) in messages.iter().zip(&answers) {
        assert_eq!(answer.code(), *expected, "{message} → {}", answer.json);
        if *expected == "00" {
            assert!(!answer.replayed);
            assert_eq!(answer.json["amount_fen"], message["amount_fen"]);
            references.insert(answer.json["reference"].to_string());
        }
    }
    assert_eq!(references.len(), 30, "a reference each");
    // Of the one key sent four times, one content won: its senders got one answer, the other 94.
    let key_answers = &answers[messages.len()..];
    let winners: Vec<_> = key_answers.iter().filter(|a| a.code() == "00").collect();
    assert!(winners.iter().all(|w| w.json == winners[0].json));
    assert_eq!(winners.iter().filter(|w| !w.replayed).count(), 1);
    let won_with = winners[0].json["amount_fen"].as_i64().expect("amount");
    let lost = key_answers.iter().filter(|a| a.code() == "94").count();
    assert_eq!(
        (winners.len(), lost),
        if won_with == 3_300 { (3, 1) } else { (1, 3) }
    );

    // The rows, the batch totals and the day's tallies agree.
    let rows = count_of(db, a.terminal_id).await + count_of(db, b.terminal_id).await;
    assert_eq!(rows, 31);
    assert_eq!(count_of(db, signed_out.terminal_id).await, 0);
    let sum_a: i64 = (0..30).filter(|i| i % 2 == 0).map(|i| 1_000 + i).sum();
    let sum_b: i64 = (0..30)
        .filter(|i| i % 2 == 1)
        .map(|i| 1_000 + i)
        .sum::<i64>()
        + won_with;
    let closed = gw
        .send(
            &client,
            "sign-out",
            &a.sign_out((15, sum_a), (0, 0), (0, 0)),
        )
        .await;
    approved(&closed);
    assert_eq!(closed.json["balanced"], true, "{}", closed.json);
    let closed = gw
        .send(
            &client,
            "sign-out",
            &b.sign_out((16, sum_b), (0, 0), (0, 0)),
        )
        .await;
    assert_eq!(closed.json["balanced"], true, "{}", closed.json);
    crate::tallies::assert_tallies_exact(db, "a group of sales").await;
}

async fn each_listener_takes_its_own_kind_of_certificate(backend: Backend) {
    let (app, gw, client) = gateway_app(backend).await;
    let mut pos = Pos::new(&app.db, "M60000076", "10000076").await;
    // An operator's browser certificate on the gateway.
    let operator = app.pki.client("m76.admin");
    let browser = gw.client(&operator);
    let refused = gw.send(&browser, "sign-in", &pos.sign_in()).await;
    assert_eq!((refused.status, refused.code()), (403, "A0"));
    // A gateway certificate on the console.
    let gateway_cert = app.pki.gateway("front-end-2");
    let response = app.get(&gateway_cert, "/login").await;
    assert_eq!(response.status(), 403);
    // A revoked gateway certificate is refused at once.
    approved(&gw.send(&client, "sign-in", &pos.sign_in()).await);
    let revoked_client = gw.client(&gateway_cert);
    approved(&gw.send(&revoked_client, "sale", &pos.sale(100, CARD)).await);
    app.pki
        .pki
        .revoke(&gateway_cert.serial_hex, server::pki::Reason::KeyCompromise)
        .expect("revoke");
    app.tls.reload().expect("reload");
    let after = gw.send_raw(&revoked_client, "sale", pos.sale(100, CARD).to_string());
    let after = tokio::time::timeout(std::time::Duration::from_secs(10), after).await;
    assert!(
        matches!(after, Ok(a) if a.status == 401),
        "revoked certificate still served"
    );
}

async fn a_late_transaction_is_settled_by_the_next_run(backend: Backend) {
    let (app, gw, client) = gateway_app(backend).await;
    let db = &app.db;
    let mut pos = Pos::new(db, "M60000077", "10000077").await;
    approved(&gw.send(&client, "sign-in", &pos.sign_in()).await);
    approved(&gw.send(&client, "sale", &pos.sale(10_000, CARD)).await);
    // Another instance clears 2026-11-20 just after midnight…
    let after_midnight = noon() + Duration::hours(12) + Duration::seconds(30);
    let report = clearing::clear_day(&db.conn, day(), after_midnight)
        .await
        .expect("clearing");
    assert_eq!(report.settled().count(), 1);
    // … while this instance's clock still says 23:59:59 of that day.
    app.clock
        .advance(noon() + Duration::hours(12) - Duration::seconds(1) - app.clock.now());
    let late = gw.send(&client, "sale", &pos.sale(2_500, CARD)).await;
    approved(&late);
    assert_eq!(
        late.json["booked_on"], "2026-11-21",
        "booked on the next open day"
    );
    // The next run settles it with the next day.
    let next = clearing::clear_due(&db.conn, after_midnight + Duration::days(1), 3)
        .await
        .expect("clearing");
    assert!(next.failures().next().is_none());
    let row = transactions::Entity::find()
        .filter(transactions::Column::ReferenceNo.eq(late.json["reference"].as_str().expect("ref")))
        .one(&db.conn)
        .await
        .expect("query")
        .expect("the late sale");
    assert_eq!(
        row.settlement_date,
        Some(day() + Duration::days(1)),
        "settled by the next run"
    );
}

on_both_backends!(
    a_batch_from_sign_in_to_sign_out,
    every_refusal_has_its_code,
    a_repeat_gets_the_first_answer,
    fifty_senders_of_one_message_create_one_transaction,
    sales_sent_together_are_each_answered_as_alone,
    each_listener_takes_its_own_kind_of_certificate,
    a_late_transaction_is_settled_by_the_next_run,
);
