//! Fast refunds over HTTP: the form and the request with each refusal and its idempotency key; the
//! bank simulator's worker paying, failing and rejecting items; an exception corrected and sent
//! again until paid; the query and its totals; and under concurrency: normal and fast refunds on one
//! transaction never passing it, sharing one daily quota, and two workers sending each item once.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use chrono::Duration;
use futures::future::join_all;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{json, Value};

use app::api::fast_refunds::{
    CandidatePage, FastRefundCreated, FastRefundFormView, FastRefundPage, FastRefundView,
};
use app::backend::entities::{fast_refunds, merchants, refund_quota_days, transactions};
use app::backend::services::fast_refunds::bank::{BankConfig, BankWorker, Simulator, Tick};
use app::domain::access::Role;
use app::domain::cardholder::CardholderProblem;
use app::domain::fast_refund::FastRefundStatus;
use app::domain::refund::RefundRefusal;
use app::domain::regions::PlaceProblem;
use app::domain::{Bank, RefundMode};
use app::error::{AppError, FieldProblem, Policy};

use crate::clearing::{Shop, UP_CREDIT};
use crate::on_both_backends;
use crate::support::app::TestApp;
use crate::support::browser::{Answer, Browser};
use crate::support::{spawn_app, Backend};

on_both_backends!(
    a_fast_refund_is_sent_once_and_refusals_say_why,
    the_bank_pays_fails_and_rejects_and_corrections_are_resent,
    normal_and_fast_refunds_racing_never_pass_the_original_or_the_quota,
    two_workers_send_each_item_once,
    a_merchant_requiring_the_token_needs_a_fresh_code_for_each,
);

/// A valid mainland resident ID (the standard's own example).
const ID: &str = "11010519491231002X";

/// The merchant's refund settings and its fast-refund agreement.
async fn policy(app: &TestApp, shop: &Shop, agreement: bool, quota_fen: i64) {
    merchants::ActiveModel {
        id: Set(shop.merchant_id),
        refund_mode: Set(RefundMode::Direct.code().into()),
        refund_requires_token: Set(false),
        daily_refund_quota_fen: Set(quota_fen),
        fast_refund_agreement: Set(agreement),
        ..Default::default()
    }
    .update(&app.db.conn)
    .await
    .expect("merchant");
}

/// A successful purchase of `amount_fen` an hour ago, on a China Merchants Bank card.
async fn sale(app: &TestApp, shop: &mut Shop, amount_fen: i64) -> i64 {
    let at = app.clock.now() - Duration::hours(1);
    shop.add(
        &app.db,
        ("purchase", "success"),
        UP_CREDIT,
        amount_fen,
        at,
        None,
    )
    .await
}

async fn txn(app: &TestApp, id: i64) -> transactions::Model {
    transactions::Entity::find_by_id(id)
        .one(&app.db.conn)
        .await
        .expect("query")
        .expect("transaction")
}

async fn item(app: &TestApp, id: i64) -> fast_refunds::Model {
    fast_refunds::Entity::find_by_id(id)
        .one(&app.db.conn)
        .await
        .expect("query")
        .expect("item")
}

/// The merchant's day now (the test merchants keep Beijing time).
fn local_day(app: &TestApp) -> chrono::NaiveDate {
    (app.clock.now() + Duration::hours(8)).date_naive()
}

fn key(n: impl std::fmt::Display) -> String {
    format!("fast-key-{n:0>8}")
}

/// The cardholder of a CMB card in Beijing, with `name` and `branch` (its number in the city).
fn holder(name: &str, branch: &str) -> Value {
    json!({
        "name": name,
        "id_type": "resident_id",
        "id_number": ID,
        "bank": "CMB",
        "province": "11",
        "city": "1101",
        "branch": format!("CMB-1101-{branch}"),
    })
}

async fn ask(
    browser: &mut Browser<'_>,
    txn_id: i64,
    amount: &str,
    cardholder: Value,
    key: &str,
) -> Answer {
    ask_with_code(browser, txn_id, amount, cardholder, key, "").await
}

async fn ask_with_code(
    browser: &mut Browser<'_>,
    txn_id: i64,
    amount: &str,
    cardholder: Value,
    key: &str,
    code: &str,
) -> Answer {
    browser
        .call_json(
            "fast_refunds/request",
            json!({ "input": {
                "txn_id": txn_id,
                "amount": amount,
                "reason": "goods returned",
                "cardholder": cardholder,
                "key": key,
                "code": code,
            }}),
        )
        .await
}

async fn form(browser: &mut Browser<'_>, txn_id: i64) -> FastRefundFormView {
    browser
        .call("fast_refunds/form", &[("txn_id", &txn_id.to_string())])
        .await
        .json()
}

/// The worker with the simulated bank answering `delay` after it took an item.
fn worker(
    app: &TestApp,
    delay_secs: u64,
) -> (BankWorker<sea_orm::DatabaseConnection>, Arc<Simulator>) {
    let bank = Arc::new(Simulator::new(std::time::Duration::from_secs(delay_secs)));
    let worker = BankWorker {
        db: app.db.conn.clone(),
        bank: bank.clone(),
        config: BankConfig::default(),
    };
    (worker, bank)
}

async fn a_fast_refund_is_sent_once_and_refusals_say_why(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut shop = Shop::open(&app.db, "M70000001").await;
    let mut unsigned = Shop::open(&app.db, "M70000002").await;
    policy(&app, &shop, true, 1_000_000).await;
    policy(&app, &unsigned, false, 1_000_000).await;
    let sale_id = sale(&app, &mut shop, 5_000).await;
    let boc = sale(&app, &mut shop, 5_000).await;
    transactions::Entity::update_many()
        .col_expr(
            transactions::Column::IssuerBank,
            sea_orm::sea_query::Expr::value("BOC"),
        )
        .filter(transactions::Column::Id.eq(boc))
        .exec(&app.db.conn)
        .await
        .expect("a Bank of China card");
    let their_sale = sale(&app, &mut unsigned, 5_000).await;
    let mut operator = app
        .ready_browser("M70000001", "m70.fast", &[Role::FastRefundOperator])
        .await;

    // The search lists what may be refunded fast: the CMB card's sale, not the BOC card's.
    let found: CandidatePage = operator
        .call_json("fast_refunds/candidates", json!({ "filter": {} }))
        .await
        .json();
    let ids: Vec<i64> = found.rows.iter().map(|r| r.id).collect();
    assert_eq!(ids, vec![sale_id]);
    assert_eq!(found.refundable_fen, vec![5_000]);

    let before = form(&mut operator, sale_id).await;
    assert_eq!(before.refundable_fen, 5_000);
    assert_eq!(before.refusal, None);
    assert_eq!(before.bank, Some(Bank::Cmb));
    assert!(before.due_date > local_day(&app).to_string());

    let created: FastRefundCreated = ask(
        &mut operator,
        sale_id,
        "12.34",
        holder("张三", "01"),
        &before.key,
    )
    .await
    .json();
    assert_eq!(created.status, FastRefundStatus::Processing);
    assert_eq!(created.due_date, before.due_date);
    assert_eq!(txn(&app, sale_id).await.refund_pending_fen, 1_234);
    // A retry with the same key is the same fast refund; the key with another amount is refused.
    let again: FastRefundCreated = ask(
        &mut operator,
        sale_id,
        "12.34",
        holder("张三", "01"),
        &before.key,
    )
    .await
    .json();
    assert_eq!(again, created);
    assert_eq!(txn(&app, sale_id).await.refund_pending_fen, 1_234);
    let reused = ask(
        &mut operator,
        sale_id,
        "1.00",
        holder("张三", "01"),
        &before.key,
    )
    .await;
    assert_eq!(
        reused.error(),
        AppError::Policy(Policy::IdempotencyKeyReused)
    );
    let stored = item(&app, created.id).await;
    assert_eq!(stored.id_number, ID, "the bank needs the whole number");
    assert_eq!(stored.quota_day, Some(local_day(&app)));

    // Refusals, each with its reason.
    let refused = |answer: Answer| answer.error();
    assert_eq!(
        refused(ask(&mut operator, boc, "1.00", holder("张三", "01"), &key(1)).await),
        AppError::Refund(RefundRefusal::BankNotForFastRefund(Bank::Boc))
    );
    assert_eq!(
        refused(
            ask(
                &mut operator,
                sale_id,
                "37.67",
                holder("张三", "01"),
                &key(2)
            )
            .await
        ),
        AppError::Refund(RefundRefusal::MoreThanRefundable {
            refundable_fen: 3_766
        })
    );
    let mut bad_id = holder("张三", "01");
    bad_id["id_number"] = json!("110105194912310021");
    assert_eq!(
        refused(ask(&mut operator, sale_id, "1.00", bad_id, &key(3)).await)
            .field_problem("id_number"),
        Some(FieldProblem::Cardholder(
            CardholderProblem::ResidentIdCheckDigit
        ))
    );
    let mut icbc_branch = holder("张三", "01");
    icbc_branch["branch"] = json!("ICBC-1101-01");
    assert_eq!(
        refused(ask(&mut operator, sale_id, "1.00", icbc_branch, &key(4)).await)
            .field_problem("branch"),
        Some(FieldProblem::Place(PlaceProblem::BranchElsewhere))
    );
    let mut shanghai = holder("张三", "01");
    shanghai["city"] = json!("3101");
    assert_eq!(
        refused(ask(&mut operator, sale_id, "1.00", shanghai, &key(5)).await).field_problem("city"),
        Some(FieldProblem::Place(PlaceProblem::CityNotInProvince))
    );
    let icbc = json!({
        "name": "张三", "id_type": "resident_id", "id_number": ID, "bank": "ICBC",
        "province": "11", "city": "1101", "branch": "ICBC-1101-01",
    });
    assert_eq!(
        refused(ask(&mut operator, sale_id, "1.00", icbc, &key(6)).await).field_problem("bank"),
        Some(FieldProblem::Cardholder(CardholderProblem::NotTheCardsBank))
    );
    // Nothing refused took anything.
    assert_eq!(txn(&app, sale_id).await.refund_pending_fen, 1_234);

    // Another merchant's transaction is not found; a merchant without the agreement is told so.
    assert_eq!(
        refused(
            ask(
                &mut operator,
                their_sale,
                "1.00",
                holder("张三", "01"),
                &key(7)
            )
            .await
        ),
        AppError::NotFound
    );
    let mut theirs = app
        .ready_browser("M70000002", "m70.unsigned", &[Role::FastRefundOperator])
        .await;
    assert_eq!(
        refused(
            ask(
                &mut theirs,
                their_sale,
                "1.00",
                holder("张三", "01"),
                &key(8)
            )
            .await
        ),
        AppError::Refund(RefundRefusal::NoFastRefundAgreement)
    );
    assert_eq!(
        form(&mut theirs, their_sale).await.refusal,
        Some(RefundRefusal::NoFastRefundAgreement)
    );
    // An operator without the role is refused outright.
    let mut refunds_only = app
        .ready_browser("M70000001", "m70.refunds", &[Role::RefundOperator])
        .await;
    assert_eq!(
        refused(
            ask(
                &mut refunds_only,
                sale_id,
                "1.00",
                holder("张三", "01"),
                &key(9)
            )
            .await
        ),
        AppError::Forbidden
    );

    // The bank takes it at once and pays it after its delay.
    let (worker, bank) = worker(&app, 30);
    let now = app.clock.now();
    assert_eq!(
        worker.tick(now).await.expect("tick"),
        Tick {
            sent: 1,
            ..Tick::default()
        }
    );
    assert_eq!(
        worker
            .tick(now + Duration::seconds(29))
            .await
            .expect("tick"),
        Tick::default()
    );
    assert_eq!(
        worker
            .tick(now + Duration::seconds(30))
            .await
            .expect("tick"),
        Tick {
            paid: 1,
            ..Tick::default()
        }
    );
    assert_eq!(bank.sent.load(Ordering::Relaxed), 1);
    let paid = txn(&app, sale_id).await;
    assert_eq!((paid.refund_pending_fen, paid.refunded_fen), (0, 1_234));
    let view: FastRefundView = operator
        .call("fast_refunds/detail", &[("id", &created.id.to_string())])
        .await
        .json();
    assert_eq!(view.row.status, FastRefundStatus::Success);
    assert_eq!(view.row.id_masked, format!("110{}002X", "*".repeat(11)));
    assert_eq!(
        view.correction, None,
        "the full number only to correct an exception"
    );
    assert_eq!(view.history.len(), 2);
    assert_eq!(view.history[1].by, None, "the bank's step");
}

async fn the_bank_pays_fails_and_rejects_and_corrections_are_resent(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut shop = Shop::open(&app.db, "M71000001").await;
    policy(&app, &shop, true, 100_000).await;
    let sale_id = sale(&app, &mut shop, 10_000).await;
    let mut operator = app
        .ready_browser("M71000001", "m71.fast", &[Role::FastRefundOperator])
        .await;
    let paid: FastRefundCreated = ask(
        &mut operator,
        sale_id,
        "10.00",
        holder("张三", "01"),
        &key(1),
    )
    .await
    .json();
    let wrong_name: FastRefundCreated = ask(
        &mut operator,
        sale_id,
        "20.00",
        holder("张错", "01"),
        &key(2),
    )
    .await
    .json();
    let failing: FastRefundCreated = ask(
        &mut operator,
        sale_id,
        "12.44",
        holder("李四", "02"),
        &key(3),
    )
    .await
    .json();
    let (worker, _) = worker(&app, 0);
    let now = app.clock.now();
    let tick = worker.tick(now).await.expect("tick");
    assert_eq!(
        tick,
        Tick {
            sent: 3,
            paid: 1,
            failed: 1,
            rejected: 1
        }
    );

    // Paid: refunded. Failed: both amounts given back. Rejected: still holding both.
    let t = txn(&app, sale_id).await;
    assert_eq!((t.refunded_fen, t.refund_pending_fen), (1_000, 2_000));
    let quota = refund_quota_days::Entity::find_by_id((shop.merchant_id, local_day(&app)))
        .one(&app.db.conn)
        .await
        .expect("query")
        .expect("the day's quota");
    assert_eq!(quota.used_fen, 3_000);
    assert_eq!(item(&app, paid.id).await.status, "success");
    let failed = item(&app, failing.id).await;
    assert_eq!(failed.status, "failed");
    assert_eq!(failed.bank_reason_code.as_deref(), Some("F01"));

    // The exception list holds the rejected one, with the bank's reason.
    let list: FastRefundPage = operator
        .call_json("fast_refunds/exceptions", json!({ "filter": {} }))
        .await
        .json();
    assert_eq!(list.rows.len(), 1);
    assert_eq!(list.rows[0].id, wrong_name.id);
    assert_eq!(list.rows[0].bank_reason_code.as_deref(), Some("R01"));
    assert_eq!((list.total, list.total_fen), (1, 2_000));
    let view: FastRefundView = operator
        .call("fast_refunds/detail", &[("id", &wrong_name.id.to_string())])
        .await
        .json();
    let correction = view.correction.expect("correctable");
    assert_eq!(
        correction.id_number, ID,
        "the correcting operator sees the whole number"
    );

    // Corrected to a branch the bank rejects too, then to a right one: paid on the third attempt.
    let resend = |name: &str, branch: &str| json!({ "input": { "id": wrong_name.id, "cardholder": holder(name, branch), "code": "" } });
    let answer = operator
        .call_json("fast_refunds/resubmit", resend("张三", "03"))
        .await;
    assert_eq!(
        answer.json::<FastRefundStatus>(),
        FastRefundStatus::Processing
    );
    // Sent again while processing: the status changed under it.
    let twice = operator
        .call_json("fast_refunds/resubmit", resend("张三", "01"))
        .await;
    assert_eq!(twice.error(), AppError::Policy(Policy::RefundStatusChanged));
    assert_eq!(worker.tick(now).await.expect("tick").rejected, 1);
    assert_eq!(
        item(&app, wrong_name.id).await.bank_reason_code.as_deref(),
        Some("R02")
    );
    let answer = operator
        .call_json("fast_refunds/resubmit", resend("张三", "01"))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(worker.tick(now).await.expect("tick").paid, 1);
    let done = item(&app, wrong_name.id).await;
    assert_eq!(
        (done.status.as_str(), done.resubmission_count),
        ("success", 2)
    );
    let t = txn(&app, sale_id).await;
    assert_eq!((t.refunded_fen, t.refund_pending_fen), (3_000, 0));

    // Its history: sent, rejected, corrected, rejected, corrected, paid; what changed is recorded
    // without the whole document number.
    let view: FastRefundView = operator
        .call("fast_refunds/detail", &[("id", &wrong_name.id.to_string())])
        .await
        .json();
    let steps: Vec<FastRefundStatus> = view.history.iter().map(|s| s.to).collect();
    use FastRefundStatus::{Exception, Processing, Success};
    assert_eq!(
        steps,
        vec![Processing, Exception, Processing, Exception, Processing, Success]
    );
    let corrected = view.history[2].comment.clone().unwrap_or_default();
    assert!(
        corrected.contains("张错") && corrected.contains("张三"),
        "{corrected}"
    );
    assert!(!view
        .history
        .iter()
        .any(|s| s.comment.as_deref().unwrap_or("").contains(ID)));

    // The query by status, with totals that are the rows' sum.
    let all: FastRefundPage = operator
        .call_json("fast_refunds/search", json!({ "filter": {} }))
        .await
        .json();
    assert_eq!(all.total, 3);
    assert_eq!(
        all.total_fen,
        all.rows.iter().map(|r| r.amount_fen).sum::<i64>()
    );
    let successes: FastRefundPage = operator
        .call_json(
            "fast_refunds/search",
            json!({ "filter": { "status": "success" } }),
        )
        .await
        .json();
    assert_eq!((successes.total, successes.total_fen), (2, 3_000));
    let bad = operator
        .call_json(
            "fast_refunds/search",
            json!({ "filter": { "status": "paid" } }),
        )
        .await;
    assert_eq!(
        bad.error().field_problem("status"),
        Some(FieldProblem::Format)
    );
}

async fn normal_and_fast_refunds_racing_never_pass_the_original_or_the_quota(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut shop = Shop::open(&app.db, "M72000001").await;
    policy(&app, &shop, true, 3_000).await;
    let operator = app
        .ready_browser(
            "M72000001",
            "m72.both",
            &[Role::FastRefundOperator, Role::RefundOperator],
        )
        .await;
    let race = |sale_ids: Vec<i64>, round: usize| {
        let operator = &operator;
        join_all((0..60).map(move |n| {
            let mut browser = operator.twin();
            let sale_id = sale_ids[n % sale_ids.len()];
            async move {
                if n % 2 == 0 {
                    ask(
                        &mut browser,
                        sale_id,
                        "1.00",
                        holder("张三", "01"),
                        &key(format!("f{round}-{n}")),
                    )
                    .await
                } else {
                    browser
                        .call_json(
                            "refunds/request",
                            json!({ "input": {
                                "txn_id": sale_id, "amount": "1.00", "reason": "returned_goods",
                                "reason_text": "", "key": key(format!("n{round}-{n}")), "code": "",
                            }}),
                        )
                        .await
                }
            }
        }))
    };
    // One sale of ¥20.00: sixty refunds of ¥1.00, half fast, half normal, twenty pass.
    let one = sale(&app, &mut shop, 2_000).await;
    let answers = race(vec![one], 0).await;
    assert_eq!(answers.iter().filter(|a| a.status == 200).count(), 20);
    for refused in answers.iter().filter(|a| a.status != 200) {
        assert_eq!(
            refused.error(),
            AppError::Refund(RefundRefusal::MoreThanRefundable { refundable_fen: 0 }),
            "{}",
            refused.body
        );
    }
    let t = txn(&app, one).await;
    assert_eq!(t.refund_pending_fen + t.refunded_fen, 2_000);
    // Ten sales, a quota of ¥30.00 with ¥20.00 used: ten more pass, whichever kind.
    let mut sales = Vec::new();
    for _ in 0..10 {
        sales.push(sale(&app, &mut shop, 5_000).await);
    }
    let answers = race(sales, 1).await;
    assert_eq!(answers.iter().filter(|a| a.status == 200).count(), 10);
    assert!(answers.iter().filter(|a| a.status != 200).all(|a| matches!(
        a.error(),
        AppError::Refund(RefundRefusal::OverDailyQuota { left_fen: 0 })
    )));
    let used = refund_quota_days::Entity::find()
        .filter(refund_quota_days::Column::MerchantId.eq(shop.merchant_id))
        .one(&app.db.conn)
        .await
        .expect("query")
        .expect("the day");
    assert_eq!(used.used_fen, 3_000);
}

async fn two_workers_send_each_item_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut shop = Shop::open(&app.db, "M73000001").await;
    policy(&app, &shop, true, 100_000_000).await;
    let mut operator = app
        .ready_browser("M73000001", "m73.fast", &[Role::FastRefundOperator])
        .await;
    let mut sales = Vec::new();
    for n in 0..40 {
        let sale_id = sale(&app, &mut shop, 1_000).await;
        let answer = ask(
            &mut operator,
            sale_id,
            "10.00",
            holder("张三", "01"),
            &key(n),
        )
        .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        sales.push(sale_id);
    }
    let (first, first_bank) = worker(&app, 0);
    let (second, second_bank) = worker(&app, 0);
    let now = app.clock.now();
    let (a, b) = tokio::join!(first.tick(now), second.tick(now));
    let (a, b) = (a.expect("first"), b.expect("second"));
    assert_eq!(a.sent + b.sent, 40);
    assert_eq!(
        first_bank.sent.load(Ordering::Relaxed) + second_bank.sent.load(Ordering::Relaxed),
        40,
        "each item went to the bank once"
    );
    // Both may have asked about the same items: each answer is applied once.
    let (c, d) = tokio::join!(first.tick(now), second.tick(now));
    assert_eq!(
        a.paid + b.paid + c.expect("first").paid + d.expect("second").paid,
        40
    );
    for sale_id in sales {
        let t = txn(&app, sale_id).await;
        assert_eq!((t.refunded_fen, t.refund_pending_fen), (1_000, 0));
    }
}

async fn a_merchant_requiring_the_token_needs_a_fresh_code_for_each(backend: Backend) {
    use crate::token::{code, enrol};

    let app = spawn_app(backend).await;
    let mut shop = Shop::open(&app.db, "M77000001").await;
    policy(&app, &shop, true, 1_000_000).await;
    merchants::ActiveModel {
        id: Set(shop.merchant_id),
        refund_requires_token: Set(true),
        ..Default::default()
    }
    .update(&app.db.conn)
    .await
    .expect("merchant");
    let sale_id = sale(&app, &mut shop, 5_000).await;
    let mut operator = app
        .ready_browser("M77000001", "m77.fast", &[Role::FastRefundOperator])
        .await;
    assert!(form(&mut operator, sale_id).await.requires_token);
    let secret = enrol(&app, &mut operator).await;

    // Without a code, or with a wrong one, nothing is sent.
    let none = ask_with_code(
        &mut operator,
        sale_id,
        "1.00",
        holder("张错", "01"),
        &key(1),
        "",
    )
    .await;
    assert!(
        none.error().field_problem("code").is_some(),
        "{}",
        none.body
    );
    assert_eq!(txn(&app, sale_id).await.refund_pending_fen, 0);
    let sent = ask_with_code(
        &mut operator,
        sale_id,
        "1.00",
        holder("张错", "01"),
        &key(2),
        &code(&app, &secret, 1),
    )
    .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    let created: FastRefundCreated = sent.json();

    // Rejected by the bank, it is corrected with a fresh code only.
    let (worker, _) = worker(&app, 0);
    assert_eq!(
        worker.tick(app.clock.now()).await.expect("tick").rejected,
        1
    );
    let resend = |code: String| json!({ "input": { "id": created.id, "cardholder": holder("张三", "01"), "code": code } });
    let refused = operator
        .call_json("fast_refunds/resubmit", resend(String::new()))
        .await;
    assert!(
        refused.error().field_problem("code").is_some(),
        "{}",
        refused.body
    );
    app.clock.advance(Duration::seconds(60));
    let resent = operator
        .call_json("fast_refunds/resubmit", resend(code(&app, &secret, 0)))
        .await;
    assert_eq!(resent.status, 200, "{}", resent.body);
    assert_eq!(item(&app, created.id).await.resubmission_count, 1);
}
