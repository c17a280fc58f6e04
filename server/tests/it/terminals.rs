//! Terminals and terminal groups in the console: an administrator's changes, what an operator
//! confined to a group sees at once, the audit log, and a disabled terminal refused by the gateway.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::json;

use app::api::operators::OperatorForm;
use app::api::terminals::{GroupDetail, GroupRow, TerminalDetail, TerminalList};
use app::api::transactions::TxnPage;
use app::backend::entities::terminals;
use app::backend::services::platform;
use app::domain::access::Role;
use app::domain::{DataScope, MerchantNo, TerminalStatus};
use app::error::{AppError, FieldProblem, Policy};

use crate::on_both_backends;
use crate::support::{spawn_app, Backend};

/// A terminal of merchant `code`'s merchant number (the one [`crate::support::app::new_merchant`]
/// gives it), installed as the platform does.
async fn terminal(db: &crate::support::TestDb, code: &str, no: &str) -> i64 {
    let number = MerchantNo::parse(&format!("8980000{}", &code[1..])).expect("number");
    platform::add_terminal(&db.conn, &number, no, "PAX A920", None, Utc::now())
        .await
        .expect("terminal")
}

async fn groups_and_their_terminals_confine_operators_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut admin = app
        .ready_browser("M70000001", "seven.admin", &[Role::Administrator])
        .await;
    let ids = [
        terminal(&app.db, "M70000001", "70000001").await,
        terminal(&app.db, "M70000001", "70000002").await,
        terminal(&app.db, "M70000001", "70000003").await,
    ];
    // Another merchant's terminal is out of reach.
    app.operator("M70000002", "eight.admin", &[Role::Administrator])
        .await;
    let foreign = terminal(&app.db, "M70000002", "70000009").await;

    let created = admin
        .call("admin/group_create", &[("name", " Front desk ")])
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let group: i64 = created.json();
    let taken = admin
        .call("admin/group_create", &[("name", "Front desk")])
        .await;
    assert!(matches!(taken.error(), AppError::Invalid(e) if e[0].problem == FieldProblem::Taken));
    let empty = admin.call("admin/group_create", &[("name", "  ")]).await;
    assert!(
        matches!(empty.error(), AppError::Invalid(e) if e[0].problem == FieldProblem::Required)
    );

    let added = admin
        .call_json(
            "admin/group_terminals",
            json!({"id": group, "add": [ids[0], ids[1]], "remove": []}),
        )
        .await;
    assert_eq!(added.status, 200, "{}", added.body);
    let other_merchants = admin
        .call_json(
            "admin/group_terminals",
            json!({"id": group, "add": [foreign], "remove": []}),
        )
        .await;
    assert_eq!(other_merchants.error(), AppError::NotFound);
    let detail: GroupDetail = admin
        .call("admin/group", &[("id", &group.to_string())])
        .await
        .json();
    assert_eq!(detail.name, "Front desk");
    let members: Vec<&str> = detail
        .members
        .iter()
        .map(|t| t.terminal_no.as_str())
        .collect();
    assert_eq!(members, ["70000001", "70000002"]);
    assert_eq!(detail.others.len(), 1);

    // An operator confined to the group.
    let mut clerk = app
        .ready_browser("M70000001", "seven.clerk", &[Role::Finance])
        .await;
    let clerk_id = app.operator_id("seven.clerk").await;
    let scoped = admin
        .call_json(
            "admin/operator_update",
            json!({"id": clerk_id, "form": OperatorForm {
                display_name: "Clerk".into(),
                roles: vec![Role::Finance],
                scope: DataScope::Groups,
                group_ids: vec![group],
                approval_limit: String::new(),
            }}),
        )
        .await;
    assert_eq!(scoped.status, 200, "{}", scoped.body);
    let rows: GroupRow = admin
        .call("admin/groups", &[])
        .await
        .json::<Vec<GroupRow>>()
        .into_iter()
        .next()
        .expect("the group");
    assert_eq!((rows.terminals, rows.operators), (2, 1));
    // It cannot be deleted while the clerk is confined to it.
    let refused = admin
        .call("admin/group_delete", &[("id", &group.to_string())])
        .await;
    assert_eq!(refused.error(), AppError::Policy(Policy::GroupInUse));

    // The clerk's search sees the group's terminals, and a third one as soon as it is added.
    let add_sale = |terminal_id: i64, voucher: u32| {
        let db = app.db.conn.clone();
        async move {
            let t = terminals::Entity::find_by_id(terminal_id)
                .one(&db)
                .await
                .expect("query")
                .expect("terminal");
            let now = Utc::now();
            app::backend::entities::transactions::ActiveModel {
                merchant_id: Set(t.merchant_id),
                merchant_number_id: Set(t.merchant_number_id),
                terminal_id: Set(t.id),
                txn_type: Set("purchase".into()),
                status: Set("success".into()),
                card_masked: Set("622588******0019".into()),
                card_last4: Set("0019".into()),
                card_org: Set("unionpay".into()),
                card_type: Set("credit".into()),
                issuer_bank: Set("CMB".into()),
                amount_fen: Set(1_000),
                currency: Set("CNY".into()),
                txn_time: Set(now),
                txn_date: Set(app::backend::local_time::today(
                    now,
                    chrono_tz::Asia::Shanghai,
                )),
                reference_no: Set(format!("{:012}", terminal_id * 100 + i64::from(voucher))),
                voucher_no: Set(format!("{voucher:06}")),
                batch_no: Set("000001".into()),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(&db)
            .await
            .expect("sale");
        }
    };
    for (i, id) in ids.iter().enumerate() {
        add_sale(*id, u32::try_from(i).expect("small") + 1).await;
    }
    let seen = |page: TxnPage| {
        let mut terminals: Vec<String> = page.rows.iter().map(|r| r.terminal_no.clone()).collect();
        terminals.sort();
        terminals
    };
    let page: TxnPage = clerk
        .call_json("transactions/search", json!({"filter": {}}))
        .await
        .json();
    assert_eq!(seen(page), ["70000001", "70000002"]);
    admin
        .call_json(
            "admin/group_terminals",
            json!({"id": group, "add": [ids[2]], "remove": [ids[0]]}),
        )
        .await;
    let page: TxnPage = clerk
        .call_json("transactions/search", json!({"filter": {}}))
        .await
        .json();
    assert_eq!(seen(page), ["70000002", "70000003"]);

    // Terminals: the list's filters and a terminal's page; the clerk may not read them.
    let list: TerminalList = admin
        .call_json(
            "admin/terminals",
            json!({"filter": {"group": group.to_string()}}),
        )
        .await
        .json();
    let numbers: Vec<&str> = list.rows.iter().map(|r| r.terminal_no.as_str()).collect();
    assert_eq!(numbers, ["70000002", "70000003"]);
    let list: TerminalList = admin
        .call_json("admin/terminals", json!({"filter": {"search": "0000003"}}))
        .await
        .json();
    assert_eq!(list.rows.len(), 1);
    let refused = clerk
        .call_json("admin/terminals", json!({"filter": {"search": ""}}))
        .await;
    assert_eq!(refused.error(), AppError::Forbidden);
    let foreign_page = admin
        .call("admin/terminal", &[("id", &foreign.to_string())])
        .await;
    assert_eq!(foreign_page.error(), AppError::NotFound);

    let updated = admin
        .call_json(
            "admin/terminal_update",
            json!({"id": ids[2], "form": {"alias": "Till 3", "enabled": false, "group_ids": []}}),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    let detail: TerminalDetail = admin
        .call("admin/terminal", &[("id", &ids[2].to_string())])
        .await
        .json();
    assert_eq!(
        (
            detail.alias.as_deref(),
            detail.status,
            detail.group_ids.len()
        ),
        (Some("Till 3"), TerminalStatus::Disabled, 0)
    );
    assert_eq!(detail.today_sales.count, 1);
    let page: TxnPage = clerk
        .call_json("transactions/search", json!({"filter": {}}))
        .await
        .json();
    assert_eq!(seen(page), ["70000002"]);
    let too_long = admin
        .call_json(
            "admin/terminal_update",
            json!({"id": ids[2], "form": {"alias": "x".repeat(65), "enabled": true, "group_ids": []}}),
        )
        .await;
    assert!(matches!(too_long.error(), AppError::Invalid(e) if e[0].field == "alias"));

    // Renamed, then deleted once nobody is confined to it; every change is in the audit log.
    let renamed = admin
        .call(
            "admin/group_rename",
            &[("id", &group.to_string()), ("name", "Lobby")],
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    admin
        .call_json(
            "admin/operator_update",
            json!({"id": clerk_id, "form": OperatorForm {
                display_name: "Clerk".into(),
                roles: vec![Role::Finance],
                scope: DataScope::Merchant,
                group_ids: vec![],
                approval_limit: String::new(),
            }}),
        )
        .await;
    let deleted = admin
        .call("admin/group_delete", &[("id", &group.to_string())])
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    for action in [
        "group_create",
        "group_terminals",
        "group_rename",
        "group_delete",
        "terminal_disable",
    ] {
        assert!(
            !app.audit_details(action).await.is_empty(),
            "{action} is in the audit log"
        );
    }
    let disabled = app.audit_details("terminal_disable").await;
    assert!(disabled[0].contains("Till 3"), "{disabled:?}");
}

on_both_backends!(groups_and_their_terminals_confine_operators_at_once);
