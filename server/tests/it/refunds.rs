//! Refunds over HTTP: the form and the request with its refusals and its idempotency key,
//! approval mode with token codes, a second approver above an approver's limit, cancellation, the
//! request query and detail; and the invariants under concurrency: refunded + in flight never above the
//! original, the daily quota never passed, one code approving once, illegal transitions changing
//! nothing.

use chrono::{DateTime, Duration, Utc};
use futures::future::join_all;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::{json, Value};

use app::api::refunds::{RefundCreated, RefundFormView, RefundPage, RefundView};
use app::api::settlements::SettlementView;
use app::api::transactions::TxnView;
use app::backend::entities::{
    merchants, operators, refund_quota_days, refund_requests, settlements, transactions,
};
use app::backend::services::clearing;
use app::domain::access::Role;
use app::domain::reconciliation;
use app::domain::refund::{RefundRefusal, RefundStatus};
use app::domain::RefundMode;
use app::error::{AppError, FieldProblem, Policy};

use crate::clearing::{Shop, UP_CREDIT};
use crate::on_both_backends;
use crate::support::app::TestApp;
use crate::support::browser::{Answer, Browser};
use crate::support::{spawn_app, Backend};
use crate::token::{code, enrol};

on_both_backends!(
    a_direct_refund_is_submitted_once_and_refusals_say_why,
    approval_mode_needs_another_operator_with_a_fresh_code,
    above_an_approvers_limit_a_second_approver_decides,
    the_query_finds_requests_by_filter_and_shows_their_history,
    concurrent_partial_refunds_never_pass_the_original,
    concurrent_refunds_never_pass_the_daily_quota,
    one_code_approves_once_among_concurrent_approvals,
    illegal_transitions_are_refused_and_change_nothing,
    refunds_wait_for_the_balance_and_clear_in_submission_order,
);

/// Sets the merchant's refund settings.
async fn policy(app: &TestApp, shop: &Shop, mode: RefundMode, token: bool, quota_fen: i64) {
    merchants::ActiveModel {
        id: Set(shop.merchant_id),
        refund_mode: Set(mode.code().into()),
        refund_requires_token: Set(token),
        daily_refund_quota_fen: Set(quota_fen),
        ..Default::default()
    }
    .update(&app.db.conn)
    .await
    .expect("merchant");
}

/// A successful purchase of `amount_fen` an hour ago.
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

async fn request_row(app: &TestApp, id: i64) -> refund_requests::Model {
    refund_requests::Entity::find_by_id(id)
        .one(&app.db.conn)
        .await
        .expect("query")
        .expect("request")
}

/// Submits a refund request of `amount` (yuan as typed) with idempotency key `key`.
async fn ask(
    browser: &mut Browser<'_>,
    txn_id: i64,
    amount: &str,
    key: &str,
    code: &str,
) -> Answer {
    browser
        .call_json(
            "refunds/request",
            json!({ "input": {
                "txn_id": txn_id,
                "amount": amount,
                "reason": "returned_goods",
                "reason_text": "",
                "key": key,
                "code": code,
            }}),
        )
        .await
}

async fn decide(
    browser: &mut Browser<'_>,
    id: i64,
    decision: &str,
    comment: &str,
    code: &str,
) -> Answer {
    browser
        .call_json(
            "refunds/decide",
            json!({ "id": id, "decision": decision, "comment": comment, "code": code }),
        )
        .await
}

fn key(n: impl std::fmt::Display) -> String {
    format!("test-key-{n:0>8}")
}

async fn form(browser: &mut Browser<'_>, txn_id: i64) -> RefundFormView {
    browser
        .call("refunds/form", &[("txn_id", &txn_id.to_string())])
        .await
        .json()
}

async fn detail(browser: &mut Browser<'_>, txn_id: i64) -> TxnView {
    browser
        .call("transactions/detail", &[("id", &txn_id.to_string())])
        .await
        .json()
}

async fn a_direct_refund_is_submitted_once_and_refusals_say_why(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut shop = Shop::open(&app.db, "M60000001").await;
    let mut theirs = Shop::open(&app.db, "M60000002").await;
    policy(&app, &shop, RefundMode::Direct, false, 1_000_000).await;
    let sale_id = sale(&app, &mut shop, 5_000).await;
    let failed = shop
        .add(
            &app.db,
            ("purchase", "failed"),
            UP_CREDIT,
            5_000,
            app.clock.now() - Duration::hours(1),
            None,
        )
        .await;
    let old = shop
        .add(
            &app.db,
            ("purchase", "success"),
            UP_CREDIT,
            5_000,
            app.clock.now() - Duration::days(181),
            None,
        )
        .await;
    let their_sale = sale(&app, &mut theirs, 5_000).await;
    let mut operator = app
        .ready_browser("M60000001", "m6.refunds", &[Role::RefundOperator])
        .await;

    assert!(detail(&mut operator, sale_id).await.may_refund);
    let before = form(&mut operator, sale_id).await;
    assert_eq!(before.refundable_fen, 5_000);
    assert_eq!(before.refusal, None);
    assert_eq!(before.mode, RefundMode::Direct);
    assert!(before.key.len() >= 8);

    // A partial refund goes straight to clearing.
    let created: RefundCreated = ask(&mut operator, sale_id, "12.34", &before.key, "")
        .await
        .json();
    assert_eq!(created.status, RefundStatus::Submitted);
    assert_eq!(txn(&app, sale_id).await.refund_pending_fen, 1_234);
    // A retry (a double click, a lost answer) with the same key is the same refund.
    let again: RefundCreated = ask(&mut operator, sale_id, "12.34", &before.key, "")
        .await
        .json();
    assert_eq!(again, created);
    assert_eq!(txn(&app, sale_id).await.refund_pending_fen, 1_234);
    // The same key with another amount is refused.
    let answer = ask(&mut operator, sale_id, "1.00", &before.key, "").await;
    assert_eq!(
        answer.error(),
        AppError::Policy(Policy::IdempotencyKeyReused)
    );

    let after = form(&mut operator, sale_id).await;
    assert_eq!((after.in_flight_fen, after.refundable_fen), (1_234, 3_766));
    assert_eq!(after.history.len(), 1);
    assert_eq!(after.history[0].amount_fen, 1_234);
    assert_ne!(after.key, before.key);
    // Part of it on its way: the rest may still be refunded.
    assert!(detail(&mut operator, sale_id).await.may_refund);

    // Refusals, each with its reason; none changes the transaction.
    let refusals = [
        (
            sale_id,
            "37.67",
            AppError::Refund(RefundRefusal::MoreThanRefundable {
                refundable_fen: 3_766,
            }),
        ),
        (
            sale_id,
            "0",
            AppError::Refund(RefundRefusal::AmountNotPositive),
        ),
        (
            sale_id,
            "1.234",
            AppError::invalid("amount", FieldProblem::Format),
        ),
        (
            sale_id,
            "12abc",
            AppError::invalid("amount", FieldProblem::Format),
        ),
        (
            failed,
            "1.00",
            AppError::Refund(RefundRefusal::NotSuccessful(app::domain::TxnStatus::Failed)),
        ),
        (
            old,
            "1.00",
            AppError::Refund(RefundRefusal::OutsideWindow { window_days: 180 }),
        ),
        (their_sale, "1.00", AppError::NotFound),
    ];
    for (n, (id, amount, expected)) in refusals.into_iter().enumerate() {
        let answer = ask(&mut operator, id, amount, &key(n), "").await;
        assert_eq!(answer.error(), expected, "{id} {amount}");
    }
    assert_eq!(txn(&app, sale_id).await.refund_pending_fen, 1_234);
    assert_eq!(txn(&app, their_sale).await.refund_pending_fen, 0);
    // The form of a transaction that cannot be refunded says so up front.
    assert_eq!(
        form(&mut operator, failed).await.refusal,
        Some(RefundRefusal::NotSuccessful(app::domain::TxnStatus::Failed))
    );
    // "Other" needs words; an unknown reason or a bad key is a field error.
    let answer = operator
        .call_json(
            "refunds/request",
            json!({ "input": { "txn_id": sale_id, "amount": "1", "reason": "other", "key": key(90) }}),
        )
        .await;
    assert_eq!(
        answer.error(),
        AppError::invalid("reason_text", FieldProblem::Required)
    );
    let answer = operator
        .call_json(
            "refunds/request",
            json!({ "input": { "txn_id": sale_id, "amount": "1", "reason": "bored", "key": "short" }}),
        )
        .await;
    let AppError::Invalid(fields) = answer.error() else {
        panic!("{}", answer.body)
    };
    let named: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(named, ["reason", "key"]);

    // The rest of the amount in a second partial refund, then nothing is left.
    let rest: RefundCreated = ask(&mut operator, sale_id, "37.66", &key(100), "")
        .await
        .json();
    assert_eq!(rest.status, RefundStatus::Submitted);
    assert_eq!(
        form(&mut operator, sale_id).await.refusal,
        Some(RefundRefusal::MoreThanRefundable { refundable_fen: 0 })
    );
    // The transaction's page offers no refund any more.
    assert!(!detail(&mut operator, sale_id).await.may_refund);
    // Another role may not request.
    let mut finance = app
        .ready_browser("M60000001", "m6.finance", &[Role::Finance])
        .await;
    let answer = ask(&mut finance, sale_id, "1.00", &key(101), "").await;
    assert_eq!(answer.error(), AppError::Forbidden);
    // Two requests and the four refusals of the policy (not the malformed input) are on record.
    assert_eq!(app.audit_details("refund_request").await.len(), 2 + 4);
}

async fn approval_mode_needs_another_operator_with_a_fresh_code(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut shop = Shop::open(&app.db, "M61000001").await;
    policy(&app, &shop, RefundMode::Approval, true, 1_000_000).await;
    let sale_id = sale(&app, &mut shop, 10_000).await;
    // The requester also holds the approver role: still never approves their own request.
    let mut requester = app
        .ready_browser(
            "M61000001",
            "m61.requester",
            &[Role::RefundOperator, Role::RefundApprover],
        )
        .await;
    let requester_secret = enrol(&app, &mut requester).await;
    let mut approver = app
        .ready_browser("M61000001", "m61.approver", &[Role::RefundApprover])
        .await;
    let approver_secret = enrol(&app, &mut approver).await;

    // The merchant requires the token: no code, no request; then one with a right code waits.
    let answer = ask(&mut requester, sale_id, "20.00", &key(1), "").await;
    assert_eq!(
        answer.error(),
        AppError::invalid("code", FieldProblem::Format)
    );
    let created: RefundCreated = ask(
        &mut requester,
        sale_id,
        "20.00",
        &key(1),
        &code(&app, &requester_secret, 0),
    )
    .await
    .json();
    assert_eq!(created.status, RefundStatus::PendingApproval);
    assert_eq!(txn(&app, sale_id).await.refund_pending_fen, 2_000);

    app.clock.advance(Duration::seconds(30));
    let answer = decide(
        &mut requester,
        created.id,
        "Approve",
        "",
        &code(&app, &requester_secret, 0),
    )
    .await;
    assert_eq!(answer.error(), AppError::Policy(Policy::OwnRefund));
    // A wrong code decides nothing.
    let answer = decide(&mut approver, created.id, "Approve", "", "000000").await;
    assert!(
        matches!(answer.error(), AppError::Invalid(_)),
        "{}",
        answer.body
    );
    let view: RefundView = approver
        .call("refunds/detail", &[("id", &created.id.to_string())])
        .await
        .json();
    assert!(view.may_decide);
    assert!(!view.may_cancel);
    let answer = decide(
        &mut approver,
        created.id,
        "Approve",
        "ok",
        &code(&app, &approver_secret, 0),
    )
    .await;
    assert_eq!(answer.json::<RefundStatus>(), RefundStatus::Submitted);
    let row = request_row(&app, created.id).await;
    assert_eq!(row.approver_id, Some(app.operator_id("m61.approver").await));
    assert_eq!(row.decision_comment.as_deref(), Some("ok"));
    assert!(row.submitted_at.is_some());

    // A second request, rejected with a comment: its amount counts no more.
    app.clock.advance(Duration::seconds(30));
    let second: RefundCreated = ask(
        &mut requester,
        sale_id,
        "30.00",
        &key(2),
        &code(&app, &requester_secret, 0),
    )
    .await
    .json();
    assert_eq!(txn(&app, sale_id).await.refund_pending_fen, 5_000);
    let answer = decide(
        &mut approver,
        second.id,
        "Reject",
        "",
        &code(&app, &approver_secret, 0),
    )
    .await;
    assert_eq!(
        answer.error(),
        AppError::invalid("comment", FieldProblem::Required)
    );
    let answer = decide(
        &mut approver,
        second.id,
        "Reject",
        "customer kept the goods",
        &code(&app, &approver_secret, 0),
    )
    .await;
    assert_eq!(answer.json::<RefundStatus>(), RefundStatus::Rejected);
    assert_eq!(txn(&app, sale_id).await.refund_pending_fen, 2_000);

    // A third, cancelled by its requester (only by them) while it waits.
    app.clock.advance(Duration::seconds(30));
    let third: RefundCreated = ask(
        &mut requester,
        sale_id,
        "10.00",
        &key(3),
        &code(&app, &requester_secret, 0),
    )
    .await
    .json();
    let mut other = app
        .ready_browser("M61000001", "m61.other", &[Role::RefundOperator])
        .await;
    let answer = other
        .call("refunds/cancel", &[("id", &third.id.to_string())])
        .await;
    assert_eq!(answer.error(), AppError::Policy(Policy::NotTheRequester));
    let answer = requester
        .call("refunds/cancel", &[("id", &third.id.to_string())])
        .await;
    assert_eq!(answer.json::<RefundStatus>(), RefundStatus::Cancelled);
    assert_eq!(txn(&app, sale_id).await.refund_pending_fen, 2_000);
    let quota = refund_quota_days::Entity::find()
        .one(&app.db.conn)
        .await
        .expect("query")
        .expect("quota day");
    assert_eq!(quota.used_fen, 2_000);

    // The history of the approved one: requested, approved (with the comment), submitted.
    let view: RefundView = requester
        .call("refunds/detail", &[("id", &created.id.to_string())])
        .await
        .json();
    let steps: Vec<(Option<RefundStatus>, RefundStatus)> =
        view.history.iter().map(|s| (s.from, s.to)).collect();
    assert_eq!(
        steps,
        [
            (None, RefundStatus::PendingApproval),
            (Some(RefundStatus::PendingApproval), RefundStatus::Approved),
            (Some(RefundStatus::Approved), RefundStatus::Submitted),
        ]
    );
    assert_eq!(view.history[1].comment.as_deref(), Some("ok"));
    assert!(view.history[1]
        .by
        .as_deref()
        .unwrap_or_default()
        .contains("m61.approver"));
    assert_eq!(view.others.len(), 2);
    for action in [
        "refund_request",
        "refund_approve",
        "refund_reject",
        "refund_cancel",
    ] {
        assert!(!app.audit_details(action).await.is_empty(), "{action}");
    }
}

async fn above_an_approvers_limit_a_second_approver_decides(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut shop = Shop::open(&app.db, "M62000001").await;
    policy(&app, &shop, RefundMode::Approval, false, 1_000_000).await;
    let sale_id = sale(&app, &mut shop, 50_000).await;
    let mut requester = app
        .ready_browser("M62000001", "m62.requester", &[Role::RefundOperator])
        .await;
    let mut first = app
        .ready_browser("M62000001", "m62.first", &[Role::RefundApprover])
        .await;
    let first_secret = enrol(&app, &mut first).await;
    let mut second = app
        .ready_browser("M62000001", "m62.second", &[Role::RefundApprover])
        .await;
    let second_secret = enrol(&app, &mut second).await;
    // The administrator sets the first approver's limit in the operator form.
    let mut admin = app
        .ready_browser("M62000001", "m62.admin", &[Role::Administrator])
        .await;
    let first_id = app.operator_id("m62.first").await;
    let limit = |amount: &str| {
        json!({ "id": first_id, "form": {
            "display_name": "First approver", "roles": ["refund_approver"], "scope": "merchant",
            "group_ids": [], "approval_limit": amount,
        }})
    };
    for bad in ["abc", "0", "1.001", "-5"] {
        let answer = admin.call_json("admin/operator_update", limit(bad)).await;
        assert_eq!(
            answer.error(),
            AppError::invalid("approval_limit", FieldProblem::Format),
            "{bad}"
        );
    }
    let answer = admin
        .call_json("admin/operator_update", limit("100.00"))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let row: operators::Model = app.operator_row("m62.first").await;
    assert_eq!(row.refund_approval_limit_fen, Some(10_000));
    let detail: app::api::operators::OperatorDetail = admin
        .call("admin/operator", &[("id", &first_id.to_string())])
        .await
        .json();
    assert_eq!(detail.approval_limit_fen, Some(10_000));

    let small: RefundCreated = ask(&mut requester, sale_id, "100.00", &key(1), "")
        .await
        .json();
    let large: RefundCreated = ask(&mut requester, sale_id, "100.01", &key(2), "")
        .await
        .json();
    // Within the limit one approval submits it.
    let answer = decide(
        &mut first,
        small.id,
        "Approve",
        "",
        &code(&app, &first_secret, 0),
    )
    .await;
    assert_eq!(answer.json::<RefundStatus>(), RefundStatus::Submitted);
    // Above it, the first approval is recorded and the request still waits …
    app.clock.advance(Duration::seconds(30));
    let answer = decide(
        &mut first,
        large.id,
        "Approve",
        "",
        &code(&app, &first_secret, 0),
    )
    .await;
    assert_eq!(answer.json::<RefundStatus>(), RefundStatus::PendingApproval);
    let view: RefundView = second
        .call("refunds/detail", &[("id", &large.id.to_string())])
        .await
        .json();
    assert!(view
        .first_approver
        .unwrap_or_default()
        .contains("m62.first"));
    assert!(view.may_decide);
    // … for another approver: the first one cannot approve it twice.
    app.clock.advance(Duration::seconds(30));
    let answer = decide(
        &mut first,
        large.id,
        "Approve",
        "",
        &code(&app, &first_secret, 0),
    )
    .await;
    assert_eq!(
        answer.error(),
        AppError::Policy(Policy::SecondApproverNeeded)
    );
    let answer = decide(
        &mut second,
        large.id,
        "Approve",
        "",
        &code(&app, &second_secret, 0),
    )
    .await;
    assert_eq!(answer.json::<RefundStatus>(), RefundStatus::Submitted);
    let row = request_row(&app, large.id).await;
    assert_eq!(
        (row.approver_id, row.second_approver_id),
        (
            Some(app.operator_id("m62.first").await),
            Some(app.operator_id("m62.second").await)
        )
    );
}

async fn the_query_finds_requests_by_filter_and_shows_their_history(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut shop = Shop::open(&app.db, "M63000001").await;
    let mut theirs = Shop::open(&app.db, "M63000002").await;
    policy(&app, &shop, RefundMode::Direct, false, 1_000_000).await;
    policy(&app, &theirs, RefundMode::Direct, false, 1_000_000).await;
    let a = sale(&app, &mut shop, 10_000).await;
    let b = sale(&app, &mut shop, 20_000).await;
    let their_sale = sale(&app, &mut theirs, 10_000).await;
    let mut one = app
        .ready_browser("M63000001", "m63.one", &[Role::RefundOperator])
        .await;
    let two = app
        .ready_browser("M63000001", "m63.two", &[Role::RefundOperator])
        .await;
    let mut stranger = app
        .ready_browser("M63000002", "m63.stranger", &[Role::RefundOperator])
        .await;
    let mut ids = Vec::new();
    for (n, (mut browser, txn_id, amount)) in [
        (one.twin(), a, "1.00"),
        (one.twin(), a, "2.00"),
        (two.twin(), b, "3.00"),
        (two.twin(), b, "1.00"),
    ]
    .into_iter()
    .enumerate()
    {
        app.clock.advance(Duration::seconds(1));
        let created: RefundCreated = ask(&mut browser, txn_id, amount, &key(n), "").await.json();
        ids.push(created.id);
    }
    let theirs_id = ask(&mut stranger, their_sale, "1.00", &key(9), "")
        .await
        .json::<RefundCreated>()
        .id;

    let search = |filter: Value| {
        let mut browser = one.twin();
        async move {
            browser
                .call_json("refunds/search", json!({ "filter": filter }))
                .await
        }
    };
    let ids_of = |page: &RefundPage| page.rows.iter().map(|r| r.id).collect::<Vec<_>>();
    let all: RefundPage = search(json!({})).await.json();
    assert_eq!(all.total, 4);
    assert_eq!(ids_of(&all), [ids[3], ids[2], ids[1], ids[0]]);
    assert_eq!(all.requesters.len(), 2);
    let two_id = app.operator_id("m63.two").await;
    let by_two: RefundPage = search(json!({ "requester": two_id.to_string() }))
        .await
        .json();
    assert_eq!(ids_of(&by_two), [ids[3], ids[2]]);
    let one_yuan: RefundPage = search(json!({ "amount": "1" })).await.json();
    assert_eq!(ids_of(&one_yuan), [ids[3], ids[0]]);
    let of_a: RefundPage = search(json!({ "txn": a.to_string() })).await.json();
    assert_eq!(ids_of(&of_a), [ids[1], ids[0]]);
    let reference = txn(&app, b).await.reference_no;
    let by_ref: RefundPage = search(json!({ "ref": reference.trim_start_matches('0') }))
        .await
        .json();
    assert_eq!(ids_of(&by_ref), [ids[3], ids[2]]);
    let submitted: RefundPage = search(json!({ "status": "submitted" })).await.json();
    assert_eq!(submitted.total, 4);
    let waiting: RefundPage = search(json!({ "status": "pending_approval" })).await.json();
    assert_eq!(waiting.total, 0);
    let today = app.clock.now().format("%Y-%m-%d").to_string();
    let paged: RefundPage = search(json!({ "from": today, "size": "20" })).await.json();
    assert_eq!(paged.total, 4);

    // Bad filters are named, never a server error.
    let answer = search(
        json!({ "from": "2026-12-02", "to": "2026-12-01", "amount": "1.2.3",
        "size": "100000", "status": "paid", "after": "x" }),
    )
    .await;
    let AppError::Invalid(fields) = answer.error() else {
        panic!("{}", answer.body)
    };
    let mut named: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
    named.sort_unstable();
    assert_eq!(named, ["after", "amount", "size", "status", "to"]);

    // Another merchant's request is not found, and theirs never lists ours.
    let answer = one
        .call("refunds/detail", &[("id", &theirs_id.to_string())])
        .await;
    assert_eq!(answer.error(), AppError::NotFound);
    let theirs_page: RefundPage = stranger
        .call_json("refunds/search", json!({ "filter": {} }))
        .await
        .json();
    assert_eq!(ids_of(&theirs_page), [theirs_id]);
}

async fn concurrent_partial_refunds_never_pass_the_original(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut shop = Shop::open(&app.db, "M64000001").await;
    policy(&app, &shop, RefundMode::Direct, false, 100_000_000).await;
    let operator = app
        .ready_browser("M64000001", "m64.refunds", &[Role::RefundOperator])
        .await;
    for round in 0..3 {
        let sale_id = sale(&app, &mut shop, 5_000).await;
        let answers = join_all((0..100).map(|n| {
            let mut browser = operator.twin();
            async move {
                ask(
                    &mut browser,
                    sale_id,
                    "1.00",
                    &key(format!("{round}-{n}")),
                    "",
                )
                .await
            }
        }))
        .await;
        let ok = answers.iter().filter(|a| a.status == 200).count();
        assert_eq!(ok, 50, "round {round}");
        for refused in answers.iter().filter(|a| a.status != 200) {
            assert!(
                matches!(
                    refused.error(),
                    AppError::Refund(RefundRefusal::MoreThanRefundable { refundable_fen: 0 })
                ),
                "{}",
                refused.body
            );
        }
        let t = txn(&app, sale_id).await;
        assert_eq!(t.refund_pending_fen + t.refunded_fen, 5_000);
    }
}

async fn concurrent_refunds_never_pass_the_daily_quota(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut shop = Shop::open(&app.db, "M65000001").await;
    policy(&app, &shop, RefundMode::Direct, false, 3_000).await;
    let mut sales = Vec::new();
    for _ in 0..10 {
        sales.push(sale(&app, &mut shop, 5_000).await);
    }
    for round in 0..3 {
        // Each round is a new day of the merchant, with its whole quota (and a new session: the
        // last one has run out overnight).
        app.clock.advance(Duration::days(1));
        let operator = app
            .ready_browser(
                "M65000001",
                &format!("m65.refunds{round}"),
                &[Role::RefundOperator],
            )
            .await;
        let answers = join_all((0..100).map(|n| {
            let mut browser = operator.twin();
            let sale_id = sales[n % sales.len()];
            async move {
                ask(
                    &mut browser,
                    sale_id,
                    "1.00",
                    &key(format!("{round}-{n}")),
                    "",
                )
                .await
            }
        }))
        .await;
        let ok = answers.iter().filter(|a| a.status == 200).count();
        assert_eq!(ok, 30, "round {round}");
        assert!(answers.iter().filter(|a| a.status != 200).all(|a| matches!(
            a.error(),
            AppError::Refund(RefundRefusal::OverDailyQuota { left_fen: 0 })
        )));
    }
    let days = refund_quota_days::Entity::find()
        .all(&app.db.conn)
        .await
        .expect("query");
    assert_eq!(days.len(), 3);
    assert!(days.iter().all(|d| d.used_fen == 3_000));
    let mut pending = 0;
    for id in sales {
        pending += txn(&app, id).await.refund_pending_fen;
    }
    assert_eq!(pending, 9_000);
}

/// A merchant `code` in approval mode (no token for requests) with a sale of 1,000.00, a requester
/// and an approver with an enrolled token: (sale id, requester, approver, approver's secret).
async fn approval_shop<'a>(
    app: &'a TestApp,
    code: &str,
    prefix: &str,
) -> (i64, Browser<'a>, Browser<'a>, Vec<u8>) {
    let mut shop = Shop::open(&app.db, code).await;
    policy(app, &shop, RefundMode::Approval, false, 100_000_000).await;
    let sale_id = sale(app, &mut shop, 100_000).await;
    let requester = app
        .ready_browser(
            code,
            &format!("{prefix}.requester"),
            &[Role::RefundOperator],
        )
        .await;
    let mut approver = app
        .ready_browser(code, &format!("{prefix}.approver"), &[Role::RefundApprover])
        .await;
    let secret = enrol(app, &mut approver).await;
    (sale_id, requester, approver, secret)
}

async fn one_code_approves_once_among_concurrent_approvals(backend: Backend) {
    let app = spawn_app(backend).await;
    let (sale_id, mut requester, approver, secret) = approval_shop(&app, "M66000001", "m66").await;
    let mut requests = Vec::new();
    for n in 0..20 {
        let created: RefundCreated = ask(&mut requester, sale_id, "1.00", &key(n), "")
            .await
            .json();
        requests.push(created.id);
    }
    let one_code = code(&app, &secret, 0);
    let answers = join_all(requests.iter().map(|id| {
        let mut browser = approver.twin();
        let one_code = one_code.clone();
        async move { decide(&mut browser, *id, "Approve", "", &one_code).await }
    }))
    .await;
    assert_eq!(answers.iter().filter(|a| a.status == 200).count(), 1);
    let mut submitted = 0;
    for id in requests {
        let row = request_row(&app, id).await;
        if row.status == "submitted" {
            submitted += 1;
        } else {
            assert_eq!(row.status, "pending_approval");
            assert_eq!(row.approver_id, None);
        }
    }
    assert_eq!(submitted, 1);
}

async fn illegal_transitions_are_refused_and_change_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let (sale_id, mut requester, mut approver, secret) =
        approval_shop(&app, "M67000001", "m67").await;
    let mut by_status = Vec::new();
    for (n, end) in ["submitted", "rejected", "cancelled"]
        .into_iter()
        .enumerate()
    {
        let created: RefundCreated = ask(&mut requester, sale_id, "1.00", &key(n), "")
            .await
            .json();
        app.clock.advance(Duration::seconds(30));
        let status = match end {
            "submitted" => decide(
                &mut approver,
                created.id,
                "Approve",
                "",
                &code(&app, &secret, 0),
            )
            .await
            .json::<RefundStatus>(),
            "rejected" => decide(
                &mut approver,
                created.id,
                "Reject",
                "no",
                &code(&app, &secret, 0),
            )
            .await
            .json::<RefundStatus>(),
            _ => requester
                .call("refunds/cancel", &[("id", &created.id.to_string())])
                .await
                .json::<RefundStatus>(),
        };
        assert_eq!(status.code(), end);
        by_status.push(created.id);
    }
    let pending_before = txn(&app, sale_id).await.refund_pending_fen;
    assert_eq!(pending_before, 100);
    for id in by_status {
        let before = request_row(&app, id).await;
        app.clock.advance(Duration::seconds(30));
        let attempts = [
            decide(&mut approver, id, "Approve", "", &code(&app, &secret, 0)).await,
            decide(&mut approver, id, "Reject", "late", &code(&app, &secret, 1)).await,
            requester
                .call("refunds/cancel", &[("id", &id.to_string())])
                .await,
        ];
        for answer in attempts {
            assert_eq!(
                answer.error(),
                AppError::Policy(Policy::RefundStatusChanged),
                "{} {}",
                before.status,
                answer.body
            );
        }
        assert_eq!(request_row(&app, id).await, before);
    }
    assert_eq!(txn(&app, sale_id).await.refund_pending_fen, pending_before);
}

/// Clears every day from the one of `first` to the one of `last` (merchant-local), in order, as if
/// the run came two days after `last`.
async fn clear_days(app: &TestApp, first: DateTime<Utc>, last: DateTime<Utc>) {
    let local = |t: DateTime<Utc>| (t + Duration::hours(8)).date_naive();
    let mut date = local(first);
    while date <= local(last) {
        let report = clearing::clear_day(&app.db.conn, date, last + Duration::days(2))
            .await
            .expect("clearing");
        assert_eq!(report.failures().count(), 0, "{report:?}");
        date += Duration::days(1);
    }
}

async fn settlements_of(app: &TestApp, shop: &Shop) -> Vec<settlements::Model> {
    settlements::Entity::find()
        .filter(settlements::Column::MerchantNumberId.eq(shop.number_id))
        .order_by_asc(settlements::Column::SettlementDate)
        .all(&app.db.conn)
        .await
        .expect("settlements")
}

async fn refunds_wait_for_the_balance_and_clear_in_submission_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut shop = Shop::open(&app.db, "M68000001").await;
    policy(&app, &shop, RefundMode::Direct, false, 100_000_000).await;
    let a = sale(&app, &mut shop, 10_000).await;
    let b = sale(&app, &mut shop, 10_000).await;
    let mut operator = app
        .ready_browser(
            "M68000001",
            "m68.refunds",
            &[Role::RefundOperator, Role::Finance],
        )
        .await;
    // Nothing on the ledger yet: any refund would wait at clearing, and the form says so.
    assert_eq!(form(&mut operator, a).await.clearing_headroom_fen, 0);
    // Both sales in full: more than their day credits once the fees are taken.
    let first: RefundCreated = ask(&mut operator, a, "100.00", &key("a"), "").await.json();
    let second: RefundCreated = ask(&mut operator, b, "100.00", &key("b"), "").await.json();
    let sale_time = txn(&app, a).await.txn_time;
    clear_days(&app, sale_time, app.clock.now()).await;

    let mut fees = 0;
    for id in [a, b] {
        fees += txn(&app, id).await.fee_fen.expect("settled");
    }
    assert!(fees > 0);
    // The first submitted clears, the second waits for what the balance lacks: the fees.
    let cleared = request_row(&app, first.id).await;
    assert_eq!(cleared.status, RefundStatus::Cleared.code());
    assert!(cleared.settlement_id.is_some() && cleared.shortfall_fen.is_none());
    let held = request_row(&app, second.id).await;
    assert_eq!(held.status, RefundStatus::PendingClearing.code());
    assert_eq!(held.shortfall_fen, Some(fees));
    assert_eq!(held.settlement_id, None);
    let (ta, tb) = (txn(&app, a).await, txn(&app, b).await);
    assert_eq!((ta.refunded_fen, ta.refund_pending_fen), (10_000, 0));
    assert_eq!((tb.refunded_fen, tb.refund_pending_fen), (0, 10_000));
    let merchant = merchants::Entity::find_by_id(shop.merchant_id)
        .one(&app.db.conn)
        .await
        .expect("query")
        .expect("merchant");
    assert_eq!(merchant.balance_fen, 20_000 - fees - 10_000);
    // The held refund takes nothing the balance cannot cover: a new one could have all of it.
    assert_eq!(
        form(&mut operator, b).await.clearing_headroom_fen,
        merchant.balance_fen
    );
    let settled = settlements_of(&app, &shop).await;
    assert_eq!(
        settled.iter().map(|s| s.refund_fen).sum::<i64>(),
        10_000,
        "{settled:?}"
    );

    // The pending-clearing list shows it with its shortfall; the detail says why.
    let pending: RefundPage = operator
        .call_json("refunds/pending", json!({ "filter": {} }))
        .await
        .json();
    assert_eq!(
        pending
            .rows
            .iter()
            .map(|r| (r.id, r.shortfall_fen))
            .collect::<Vec<_>>(),
        [(second.id, Some(fees))]
    );
    let view: RefundView = operator
        .call("refunds/detail", &[("id", &second.id.to_string())])
        .await
        .json();
    assert_eq!(view.shortfall_fen, Some(fees));

    // Clearing again changes nothing.
    clear_days(&app, sale_time, app.clock.now()).await;
    assert_eq!(request_row(&app, second.id).await, held);
    assert_eq!(settlements_of(&app, &shop).await, settled);

    // A sale the next day lets the held refund clear by itself, in that day's settlement and file.
    let next_day = app.clock.now() + Duration::days(1);
    shop.add(
        &app.db,
        ("purchase", "success"),
        UP_CREDIT,
        5_000,
        next_day,
        None,
    )
    .await;
    clear_days(&app, next_day, next_day).await;
    let done = request_row(&app, second.id).await;
    assert_eq!(done.status, RefundStatus::Cleared.code());
    assert_eq!(done.shortfall_fen, None);
    let tb = txn(&app, b).await;
    assert_eq!((tb.refunded_fen, tb.refund_pending_fen), (10_000, 0));
    let last = settlements_of(&app, &shop)
        .await
        .into_iter()
        .find(|s| Some(s.id) == done.settlement_id)
        .expect("the settlement that cleared it");
    assert_eq!((last.refund_count, last.refund_fen), (1, 10_000));
    assert!(
        merchants::Entity::find_by_id(shop.merchant_id)
            .one(&app.db.conn)
            .await
            .expect("query")
            .expect("merchant")
            .balance_fen
            >= 0
    );
    let (status, _, bytes) = operator
        .download(&format!("/settlements/{}/reconciliation", last.id))
        .await;
    assert_eq!(status, 200);
    let file = reconciliation::parse(&String::from_utf8(bytes).expect("utf-8")).expect("parses");
    let refund_lines: Vec<_> = file
        .details
        .iter()
        .filter(|d| d.kind == reconciliation::Kind::Refund)
        .collect();
    assert_eq!(refund_lines.len(), 1);
    assert_eq!(refund_lines[0].txn_type, "console_refund");
    assert_eq!(refund_lines[0].amount_fen, 10_000);
    assert_eq!(refund_lines[0].reference_no, tb.reference_no);
    assert_eq!(file.trailer.net_fen, last.net_fen);
    assert_eq!(file.trailer.refund_fen, last.refund_fen);
    // The settlement's page counts it and leads to it; the query finds it by that settlement.
    let detail: SettlementView = operator
        .call("settlements/detail", &[("id", &last.id.to_string())])
        .await
        .json();
    assert_eq!(
        (
            detail.makeup.console_refunds.count,
            detail.makeup.console_refunds.amount_fen
        ),
        (1, 10_000)
    );
    assert!(detail.makeup.ties_out(&detail.settlement), "{detail:?}");
    let in_settlement: RefundPage = operator
        .call_json(
            "refunds/search",
            json!({ "filter": { "settlement": last.id.to_string() } }),
        )
        .await
        .json();
    assert_eq!(
        in_settlement.rows.iter().map(|r| r.id).collect::<Vec<_>>(),
        [second.id]
    );
    let bad = operator
        .call_json(
            "refunds/search",
            json!({ "filter": { "settlement": "x1" } }),
        )
        .await;
    assert_eq!(
        bad.error(),
        AppError::invalid("settlement", FieldProblem::Format)
    );
    let view: RefundView = operator
        .call("refunds/detail", &[("id", &second.id.to_string())])
        .await
        .json();
    let steps: Vec<RefundStatus> = view.history.iter().map(|s| s.to).collect();
    assert_eq!(
        steps,
        [
            RefundStatus::Submitted,
            RefundStatus::PendingClearing,
            RefundStatus::Cleared
        ]
    );

    // Once the settlements are paid out, the cardholders have their money back.
    clearing::mark_paid(&app.db.conn, next_day + Duration::days(5))
        .await
        .expect("payout");
    for id in [first.id, second.id] {
        assert_eq!(
            request_row(&app, id).await.status,
            RefundStatus::Refunded.code()
        );
    }
}
