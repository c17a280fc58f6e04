//! Authorisation: every server function checks its function on the server, for every role, and
//! answers only with the caller's own merchant's data.

use std::collections::BTreeSet;

use app::api::admin::RoleMatrixView;
use app::api::home::HomeView;
use app::domain::access::{Function, Role};
use app::error::AppError;

use crate::on_both_backends;
use crate::support::browser::{Answer, Browser};
use crate::support::{spawn_app, Backend, PASSWORD};

/// Who may call a server function.
#[derive(Debug, Clone, Copy)]
enum Access {
    /// Anyone with a valid certificate (the sign-in page and the frame need these).
    Public,
    /// Any signed-in operator.
    SignedIn,
    /// Operators granted the function who have changed their first password.
    Granted(Function),
}

/// Arguments that parse: form fields, or a JSON body.
#[derive(Debug, Clone, Copy)]
enum Args {
    Form(&'static [(&'static str, &'static str)]),
    Json(&'static str),
}
use Args::{Form, Json};

/// A form with one argument, `id`, naming an operator of another merchant in the tests.
const OTHER_ID: Args = Form(&[("id", "999999")]);
// In the arguments, 999999 stands for an operator's id, 777777 for a terminal group's and 666666 for
// a terminal's: the test of another merchant's ids puts that merchant's there.

/// Every server function of the console, with arguments that parse. A new one must be added here,
/// or the first test fails.
const ENDPOINTS: &[(&str, Access, Args)] = &[
    ("/api/sign_in_form", Access::Public, Form(&[])),
    (
        "/api/sign_in",
        Access::Public,
        Form(&[
            ("login_name", "x"),
            ("password", "x"),
            ("captcha_id", "x"),
            ("captcha_answer", "x"),
        ]),
    ),
    ("/api/sign_out", Access::Public, Form(&[])),
    ("/api/me", Access::Public, Form(&[])),
    (
        "/api/change_password",
        Access::SignedIn,
        Form(&[
            ("current_password", "x"),
            ("new_password", "x"),
            ("confirm_password", "x"),
        ]),
    ),
    ("/api/home", Access::SignedIn, Form(&[])),
    ("/api/my_token", Access::SignedIn, Form(&[])),
    (
        "/api/begin_token_enrolment",
        Access::SignedIn,
        Form(&[("password", "x")]),
    ),
    (
        "/api/confirm_token_enrolment",
        Access::SignedIn,
        Form(&[("code", "123456")]),
    ),
    (
        "/api/try_token_code",
        Access::SignedIn,
        Form(&[("code", "123456")]),
    ),
    (
        "/api/admin/audit_log",
        Access::Granted(Function::AdminAuditLog),
        Json(r#"{"filter":{}}"#),
    ),
    (
        "/api/settlements/search",
        Access::Granted(Function::SettlementQuery),
        Json(r#"{"filter":{}}"#),
    ),
    (
        "/api/settlements/detail",
        Access::Granted(Function::SettlementQuery),
        OTHER_ID,
    ),
    (
        "/api/exports/transactions",
        Access::Granted(Function::TransactionExport),
        Json(r#"{"filter":{}}"#),
    ),
    (
        "/api/exports/list",
        Access::Granted(Function::TransactionExport),
        Form(&[]),
    ),
    (
        "/api/monitor/latest",
        Access::Granted(Function::MonitorView),
        Json(r#"{"filter":{}}"#),
    ),
    (
        "/api/transactions/search",
        Access::Granted(Function::TransactionQuery),
        Json(r#"{"filter":{}}"#),
    ),
    (
        "/api/transactions/options",
        Access::Granted(Function::TransactionQuery),
        Form(&[]),
    ),
    (
        "/api/transactions/summary",
        Access::Granted(Function::TransactionQuery),
        Json(r#"{"filter":{},"by":"CardOrg"}"#),
    ),
    (
        "/api/transactions/detail",
        Access::Granted(Function::TransactionQuery),
        OTHER_ID,
    ),
    (
        "/api/transactions/slip",
        Access::Granted(Function::TransactionReprintSlip),
        OTHER_ID,
    ),
    (
        "/api/refunds/form",
        Access::Granted(Function::RefundRequest),
        Form(&[("txn_id", "999999")]),
    ),
    (
        "/api/refunds/request",
        Access::Granted(Function::RefundRequest),
        Json(concat!(
            r#"{"input":{"txn_id":999999,"amount":"1.00","reason":"returned_goods","#,
            r#""reason_text":"","key":"access-check","code":""}}"#
        )),
    ),
    (
        "/api/refunds/cancel",
        Access::Granted(Function::RefundRequest),
        OTHER_ID,
    ),
    (
        "/api/refunds/decide",
        Access::Granted(Function::RefundApprove),
        Json(r#"{"id":999999,"decision":"Approve","comment":"","code":"123456"}"#),
    ),
    (
        "/api/refunds/search",
        Access::Granted(Function::RefundQuery),
        Json(r#"{"filter":{}}"#),
    ),
    (
        "/api/refunds/pending",
        Access::Granted(Function::RefundPendingClearing),
        Json(r#"{"filter":{}}"#),
    ),
    (
        "/api/refunds/approvals",
        Access::Granted(Function::RefundApprove),
        Json(r#"{"filter":{}}"#),
    ),
    (
        "/api/refunds/detail",
        Access::Granted(Function::RefundQuery),
        OTHER_ID,
    ),
    (
        "/api/fast_refunds/candidates",
        Access::Granted(Function::FastRefundRequest),
        Json(r#"{"filter":{}}"#),
    ),
    (
        "/api/fast_refunds/form",
        Access::Granted(Function::FastRefundRequest),
        Form(&[("txn_id", "999999")]),
    ),
    (
        "/api/fast_refunds/request",
        Access::Granted(Function::FastRefundRequest),
        Json(concat!(
            r#"{"input":{"txn_id":999999,"amount":"1.00","reason":"returned goods","#,
            r#""cardholder":{"name":"张三","id_type":"resident_id","id_number":"11010519491231002X","#,
            r#""bank":"CMB","province":"11","city":"1101","branch":"CMB-1101-01"},"#,
            r#""key":"access-check","code":""}}"#
        )),
    ),
    (
        "/api/fast_refunds/search",
        Access::Granted(Function::FastRefundQuery),
        Json(r#"{"filter":{}}"#),
    ),
    (
        "/api/fast_refunds/exceptions",
        Access::Granted(Function::FastRefundExceptions),
        Json(r#"{"filter":{}}"#),
    ),
    (
        "/api/fast_refunds/detail",
        Access::Granted(Function::FastRefundQuery),
        OTHER_ID,
    ),
    (
        "/api/fast_refunds/resubmit",
        Access::Granted(Function::FastRefundExceptions),
        Json(r#"{"input":{"id":999999,"cardholder":{},"code":""}}"#),
    ),
    (
        "/api/fast_refunds/upload_view",
        Access::Granted(Function::FastRefundBatch),
        OTHER_ID,
    ),
    (
        "/api/fast_refunds/batch_submit",
        Access::Granted(Function::FastRefundBatch),
        Json(r#"{"id":999999,"key":"access-check","code":""}"#),
    ),
    (
        "/api/fast_refunds/upload_cancel",
        Access::Granted(Function::FastRefundBatch),
        OTHER_ID,
    ),
    (
        "/api/admin/role_matrix",
        Access::Granted(Function::AdminRoleMatrix),
        Form(&[]),
    ),
    (
        "/api/admin/operators",
        Access::Granted(Function::AdminOperators),
        Form(&[("search", "")]),
    ),
    (
        "/api/admin/new_operator",
        Access::Granted(Function::AdminOperators),
        Form(&[]),
    ),
    (
        "/api/admin/operator",
        Access::Granted(Function::AdminOperators),
        OTHER_ID,
    ),
    (
        "/api/admin/operator_create",
        Access::Granted(Function::AdminOperators),
        Json(concat!(
            r#"{"login_name":"walk.created","form":"#,
            r#"{"display_name":"X","roles":["monitor"],"scope":"merchant","group_ids":[]}"#,
            "}"
        )),
    ),
    (
        "/api/admin/operator_update",
        Access::Granted(Function::AdminOperators),
        Json(concat!(
            r#"{"id":999999,"form":"#,
            r#"{"display_name":"X","roles":["monitor"],"scope":"merchant","group_ids":[]}"#,
            "}"
        )),
    ),
    (
        "/api/admin/operator_enabled",
        Access::Granted(Function::AdminOperators),
        Form(&[("id", "999999"), ("enabled", "false")]),
    ),
    (
        "/api/admin/operator_unlock",
        Access::Granted(Function::AdminOperators),
        OTHER_ID,
    ),
    (
        "/api/admin/operator_reset_password",
        Access::Granted(Function::AdminOperators),
        OTHER_ID,
    ),
    (
        "/api/admin/operator_bind",
        Access::Granted(Function::AdminOperators),
        Form(&[("id", "999999"), ("fingerprint", "x")]),
    ),
    (
        "/api/admin/operator_unbind",
        Access::Granted(Function::AdminOperators),
        Form(&[("id", "999999"), ("fingerprint", "x")]),
    ),
    (
        "/api/admin/operator_reset_token",
        Access::Granted(Function::AdminOperators),
        OTHER_ID,
    ),
    (
        "/api/admin/terminals",
        Access::Granted(Function::AdminTerminals),
        Json(r#"{"filter":{"search":""}}"#),
    ),
    (
        "/api/admin/terminal",
        Access::Granted(Function::AdminTerminals),
        Form(&[("id", "666666")]),
    ),
    (
        "/api/admin/terminal_update",
        Access::Granted(Function::AdminTerminals),
        Json(r#"{"id":666666,"form":{"alias":"","enabled":true,"group_ids":[]}}"#),
    ),
    (
        "/api/admin/groups",
        Access::Granted(Function::AdminTerminalGroups),
        Form(&[]),
    ),
    (
        "/api/admin/group",
        Access::Granted(Function::AdminTerminalGroups),
        Form(&[("id", "777777")]),
    ),
    (
        "/api/admin/group_create",
        Access::Granted(Function::AdminTerminalGroups),
        Form(&[("name", "walk group")]),
    ),
    (
        "/api/admin/group_rename",
        Access::Granted(Function::AdminTerminalGroups),
        Form(&[("id", "777777"), ("name", "x")]),
    ),
    (
        "/api/admin/group_delete",
        Access::Granted(Function::AdminTerminalGroups),
        Form(&[("id", "777777")]),
    ),
    (
        "/api/admin/group_terminals",
        Access::Granted(Function::AdminTerminalGroups),
        Json(r#"{"id":777777,"add":[666666],"remove":[]}"#),
    ),
];

impl Args {
    async fn send(self, browser: &mut Browser<'_>, endpoint: &str) -> Answer {
        let endpoint = endpoint.trim_start_matches("/api/");
        match self {
            Form(fields) => browser.call(endpoint, fields).await,
            Json(body) => {
                let body = serde_json::from_str(body).expect("JSON arguments");
                browser.call_json(endpoint, body).await
            }
        }
    }
}

#[test]
fn every_server_function_is_in_the_access_table() {
    let registered: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, method)| {
            assert!(
                method == http::Method::POST || method == http::Method::GET,
                "{path} is {method}"
            );
            path.to_owned()
        })
        .collect();
    let listed: BTreeSet<String> = ENDPOINTS.iter().map(|(p, ..)| (*p).to_owned()).collect();
    assert_eq!(registered, listed);
}

/// A function that signs in or out, or changes an operator, a token or a password, is a POST: the
/// guard checks its origin and forgets the sessions it has read. A GET (declared `input = GetUrl`
/// next to the function) changes nothing a session grants.
#[test]
fn functions_that_change_state_are_posts() {
    let changing = [
        "sign_in",
        "sign_out",
        "change_password",
        "begin_token_enrolment",
        "confirm_token_enrolment",
        "try_token_code",
        "refunds/request",
        "refunds/cancel",
        "refunds/decide",
        "fast_refunds/request",
        "fast_refunds/resubmit",
        "fast_refunds/batch_submit",
        "fast_refunds/upload_cancel",
        "exports/transactions",
        "admin/operator_create",
        "admin/operator_update",
        "admin/operator_enabled",
        "admin/operator_unlock",
        "admin/operator_reset_password",
        "admin/operator_bind",
        "admin/operator_unbind",
        "admin/operator_reset_token",
        "admin/terminal_update",
        "admin/group_create",
        "admin/group_rename",
        "admin/group_delete",
        "admin/group_terminals",
    ];
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        let endpoint = path.trim_start_matches("/api/");
        let expected = if changing.contains(&endpoint) {
            http::Method::POST
        } else {
            http::Method::GET
        };
        assert_eq!(method, expected, "{path}");
    }
}

on_both_backends!(
    each_role_reaches_exactly_its_functions,
    an_operator_sees_only_their_own_merchant,
    another_merchants_ids_reach_nothing,
);

async fn each_role_reaches_exactly_its_functions(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut anonymous = app.browser(&app.pki.client("anonymous"));
    for (endpoint, access, fields) in ENDPOINTS {
        if !matches!(access, Access::Public) {
            let answer = fields.send(&mut anonymous, endpoint).await;
            assert_eq!(answer.error(), AppError::Unauthenticated, "{endpoint}");
        }
    }

    for (i, role) in Role::ALL.iter().enumerate() {
        let login = format!("op{i}.{}", role.code().replace('_', "-"));
        let mut browser = app.ready_browser("M30000001", &login, &[*role]).await;
        for (endpoint, access, fields) in ENDPOINTS {
            let Access::Granted(function) = access else {
                continue;
            };
            let answer = fields.send(&mut browser, endpoint).await;
            if role.grants(*function) {
                // Granted: past the role check. The arguments name nobody of this merchant, so a
                // call may still be refused for its input, but never as forbidden.
                assert_ne!(answer.status, 401, "{role} {endpoint}: {}", answer.body);
                assert_ne!(answer.status, 403, "{role} {endpoint}: {}", answer.body);
                assert!(answer.status != 500, "{role} {endpoint}: {}", answer.body);
            } else {
                assert_eq!(answer.error(), AppError::Forbidden, "{role} {endpoint}");
            }
        }
        // The menu of the home page lists exactly what the role may use.
        let page = browser.page("/").await;
        assert_eq!(page.status, 200);
        assert_eq!(
            page.body.contains("href=\"/admin/roles\""),
            role.grants(Function::AdminRoleMatrix),
            "{role}'s menu"
        );
        assert_eq!(
            page.body.contains("href=\"/transactions\""),
            role.grants(Function::TransactionQuery),
            "{role}'s menu"
        );
        assert_eq!(
            page.body.contains("href=\"/settlements\""),
            role.grants(Function::SettlementQuery),
            "{role}'s menu"
        );
    }

    let admin = app
        .ready_browser("M30000001", "matrix.admin", &[Role::Administrator])
        .await;
    let mut admin = admin;
    let matrix: RoleMatrixView = admin.call("admin/role_matrix", &[]).await.json();
    assert_eq!(matrix.roles, Role::ALL.to_vec());
    for (function, granted) in &matrix.rows {
        for (role, g) in matrix.roles.iter().zip(granted) {
            assert_eq!(role.grants(*function), *g, "{role} {function}");
        }
    }
    // Every refusal is in the audit log with the function asked for.
    let refusals: usize = Role::ALL
        .iter()
        .map(|role| {
            ENDPOINTS
                .iter()
                .filter(|(_, access, _)| matches!(access, Access::Granted(f) if !role.grants(*f)))
                .count()
        })
        .sum();
    // Per certificate and minute, the first refusal is an event of its own and the rest one event
    // with their count, written once the minute is over (here: at the next refusal after it).
    app.clock.advance(chrono::Duration::seconds(60));
    let mut late = app
        .ready_browser("M30000001", "late.monitor", &[Role::Monitor])
        .await;
    let answer = late.call("admin/role_matrix", &[]).await;
    assert_eq!(answer.error(), AppError::Forbidden);
    let refusals = refusals + 1;
    let mut recorded = 0;
    for detail in app.audit_details("access_denied").await {
        let detail: serde_json::Value = serde_json::from_str(&detail).expect("json");
        let refusal = match detail["reason"].as_str() {
            Some("repeated") => {
                recorded += detail["count"].as_u64().expect("count") as usize;
                detail["last"].clone()
            }
            _ => {
                recorded += 1;
                detail
            }
        };
        let function = refusal["function"].as_str().unwrap_or_default();
        assert!(
            [
                "admin.",
                "settlement.",
                "transaction.",
                "refund.",
                "fast_refund."
            ]
            .iter()
            .any(|prefix| function.starts_with(prefix)),
            "{refusal}"
        );
    }
    assert_eq!(recorded, refusals);
}

async fn an_operator_sees_only_their_own_merchant(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut a = app
        .ready_browser("M30000002", "a.admin", &[Role::Administrator])
        .await;
    let mut b = app
        .ready_browser("M30000003", "b.admin", &[Role::Administrator])
        .await;

    let home_a: HomeView = a.call("home", &[]).await.json();
    let home_b: HomeView = b.call("home", &[]).await.json();

    assert_eq!(home_a.merchant.code, "M30000002");
    assert_eq!(home_b.merchant.code, "M30000003");
    assert_eq!(home_a.operator.login_name, "a.admin");
    let page_b = b.page("/").await.body;
    assert!(page_b.contains("Merchant M30000003"));
    assert!(
        !page_b.contains("M30000002"),
        "merchant A's data on merchant B's page"
    );
}

/// Everything of merchant `code`'s operators, terminals and terminal groups that a server function
/// could change, as text.
async fn operator_state(app: &crate::support::app::TestApp, code: &str) -> String {
    use app::backend::entities::{
        merchants, operator_certificates, operator_roles, operator_terminal_groups, operators,
        terminal_group_members, terminal_groups, terminals, totp_tokens,
    };
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let db = &app.db.conn;
    let merchant = merchants::Entity::find()
        .filter(merchants::Column::Code.eq(code))
        .one(db)
        .await
        .expect("query")
        .expect("merchant");
    let ops = operators::Entity::find()
        .filter(operators::Column::MerchantId.eq(merchant.id))
        .order_by_asc(operators::Column::Id)
        .all(db)
        .await
        .expect("operators");
    let ids: Vec<i64> = ops.iter().map(|o| o.id).collect();
    let roles = operator_roles::Entity::find()
        .filter(operator_roles::Column::OperatorId.is_in(ids.clone()))
        .all(db)
        .await
        .expect("roles");
    let certs = operator_certificates::Entity::find()
        .filter(operator_certificates::Column::OperatorId.is_in(ids.clone()))
        .all(db)
        .await
        .expect("certificates");
    let groups = operator_terminal_groups::Entity::find()
        .filter(operator_terminal_groups::Column::OperatorId.is_in(ids.clone()))
        .all(db)
        .await
        .expect("groups");
    let tokens = totp_tokens::Entity::find()
        .filter(totp_tokens::Column::OperatorId.is_in(ids))
        .all(db)
        .await
        .expect("tokens");
    let terminal_rows = terminals::Entity::find()
        .filter(terminals::Column::MerchantId.eq(merchant.id))
        .order_by_asc(terminals::Column::Id)
        .all(db)
        .await
        .expect("terminals");
    let group_rows = terminal_groups::Entity::find()
        .filter(terminal_groups::Column::MerchantId.eq(merchant.id))
        .order_by_asc(terminal_groups::Column::Id)
        .all(db)
        .await
        .expect("terminal groups");
    let members = terminal_group_members::Entity::find()
        .filter(
            terminal_group_members::Column::GroupId
                .is_in(group_rows.iter().map(|g| g.id).collect::<Vec<_>>()),
        )
        .all(db)
        .await
        .expect("members");
    format!(
        "{merchant:?}\n{ops:?}\n{roles:?}\n{certs:?}\n{groups:?}\n{tokens:?}\n\
         {terminal_rows:?}\n{group_rows:?}\n{members:?}"
    )
}

/// An operator holding every role calls every server function with the ids of another merchant's
/// operator: no answer names anything of that merchant, and nothing of it changes.
async fn another_merchants_ids_reach_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut victim = app
        .ready_browser("M30000004", "victim.admin", &[Role::Administrator])
        .await;
    // The victim has a token, a session and events: things a leak could read or change.
    let enrolment: app::api::token::Enrolment = victim
        .call("begin_token_enrolment", &[("password", PASSWORD)])
        .await
        .json();
    assert!(!enrolment.secret.is_empty());
    let victim_id = app.operator_id("victim.admin").await.to_string();
    // A terminal group and a terminal of the victim's.
    let group: i64 = victim
        .call("admin/group_create", &[("name", "victim group")])
        .await
        .json();
    let terminal = victim_terminal(&app).await;
    let foreign = |text: &str| {
        text.replace("999999", &victim_id)
            .replace("777777", &group.to_string())
            .replace("666666", &terminal.to_string())
    };
    let before = operator_state(&app, "M30000004").await;

    let mut intruder = app
        .ready_browser("M30000005", "intruder.all", Role::ALL)
        .await;
    for (endpoint, access, args) in ENDPOINTS {
        if matches!(access, Access::Public) && *endpoint == "/api/sign_out" {
            continue;
        }
        let answer = match args {
            Form(fields) => {
                let fields: Vec<(&str, String)> =
                    fields.iter().map(|(k, v)| (*k, foreign(v))).collect();
                let fields: Vec<(&str, &str)> =
                    fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                intruder
                    .call(endpoint.trim_start_matches("/api/"), &fields)
                    .await
            }
            Json(body) => {
                let body = serde_json::from_str(&foreign(body)).expect("JSON arguments");
                intruder
                    .call_json(endpoint.trim_start_matches("/api/"), body)
                    .await
            }
        };
        assert!(answer.status != 500, "{endpoint}: {}", answer.body);
        for secret in ["victim.admin", "M30000004"] {
            assert!(
                !answer.body.contains(secret),
                "{endpoint} answered with {secret}: {}",
                answer.body
            );
        }
        if args_name_a_record(args) {
            assert_ne!(
                answer.status, 200,
                "{endpoint} acted on another merchant's operator, group or terminal"
            );
        }
    }
    for page in ["/", "/admin/operators", "/admin/audit", "/token"] {
        let answer = intruder.page(page).await;
        assert_eq!(answer.status, 200, "{page}");
        assert!(!answer.body.contains("victim.admin"), "{page}");
    }
    let (status, _, file) = intruder.download("/admin/audit/export").await;
    assert_eq!(status, 200);
    // The file is compressed: read its cells.
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(file)).expect("xlsx");
    for sheet in book.sheet_names() {
        let range = book.worksheet_range(&sheet).expect("sheet");
        assert!(range.height() > 0);
        assert!(range
            .cells()
            .all(|(_, _, c)| !c.to_string().contains("victim")));
    }
    assert_eq!(operator_state(&app, "M30000004").await, before);
}

fn args_name_a_record(args: &Args) -> bool {
    match args {
        Form(fields) => fields.iter().any(|(k, _)| *k == "id"),
        Json(body) => ["999999", "777777", "666666"]
            .iter()
            .any(|id| body.contains(&format!("\"id\":{id}"))),
    }
}

/// A terminal of the victim's merchant (M30000004), as the platform installs it.
async fn victim_terminal(app: &crate::support::app::TestApp) -> i64 {
    let number = app::domain::MerchantNo::parse("898000030000004").expect("number");
    app::backend::services::platform::add_terminal(
        &app.db.conn,
        &number,
        "30000004",
        "PAX A920",
        Some("victim till"),
        chrono::Utc::now(),
    )
    .await
    .expect("terminal")
}
