//! The audit log page and its Excel download: the administrator's own merchant only,
//! filters checked, pages by keyset, and a file with typed cells, no formulas and neutralised text.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

use app::api::audit::AuditPage;
use app::domain::access::Role;
use app::error::{AppError, FieldProblem};

use crate::on_both_backends;
use crate::support::{spawn_app, Backend};

on_both_backends!(
    administrators_page_through_their_own_merchants_events,
    the_download_holds_the_selection_and_no_formulas,
);

fn filter(pairs: &[(&str, &str)]) -> serde_json::Value {
    let mut filter = serde_json::Map::new();
    for (k, v) in pairs {
        filter.insert((*k).to_owned(), serde_json::Value::String((*v).to_owned()));
    }
    serde_json::json!({ "filter": filter })
}

async fn administrators_page_through_their_own_merchants_events(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut admin = app
        .ready_browser("M50000001", "log.admin", &[Role::Administrator])
        .await;
    let mut monitor = app
        .ready_browser("M50000001", "log.monitor", &[Role::Monitor])
        .await;
    let mut other = app
        .ready_browser("M50000002", "other.admin", &[Role::Administrator])
        .await;
    // 60 refused calls by the monitor, a minute apart (within a minute, refusals after a
    // certificate's first are counted into one event): events of merchant 1. The others keep their
    // sessions alive meanwhile.
    for _ in 0..60 {
        app.clock.advance(chrono::Duration::seconds(61));
        let answer = monitor.call("admin/role_matrix", &[]).await;
        assert_eq!(answer.error(), AppError::Forbidden);
        assert_eq!(admin.call("me", &[]).await.status, 200);
        assert_eq!(other.call("me", &[]).await.status, 200);
    }
    // The monitor cannot read the log either.
    app.clock.advance(chrono::Duration::seconds(61));
    let answer = monitor.call_json("admin/audit_log", filter(&[])).await;
    assert_eq!(answer.error(), AppError::Forbidden);

    let first: AuditPage = admin.call_json("admin/audit_log", filter(&[])).await.json();
    assert_eq!(first.rows.len(), 50);
    assert!(first.total >= 61 + 4, "total {}", first.total);
    assert!(
        first.rows.windows(2).all(|w| w[0].id > w[1].id),
        "newest first"
    );
    let mut seen: Vec<i64> = first.rows.iter().map(|r| r.id).collect();
    let mut before = first.next_before;
    while let Some(cursor) = before {
        let page: AuditPage = admin
            .call_json(
                "admin/audit_log",
                filter(&[("before", &cursor.to_string())]),
            )
            .await
            .json();
        assert!(page.rows.iter().all(|r| r.id < cursor));
        seen.extend(page.rows.iter().map(|r| r.id));
        before = page.next_before;
    }
    assert_eq!(seen.len() as u64, first.total, "every event once");
    // Nothing of the other merchant: its administrator's sign-in is not here …
    let logins: Vec<String> = {
        let page: AuditPage = admin
            .call_json("admin/audit_log", filter(&[("action", "sign_in")]))
            .await
            .json();
        page.rows.into_iter().filter_map(|r| r.login_name).collect()
    };
    assert!(logins.contains(&"log.admin".to_owned()));
    assert!(!logins.contains(&"other.admin".to_owned()));
    // … and the other administrator does not see merchant 1's refusals.
    let theirs: AuditPage = other
        .call_json("admin/audit_log", filter(&[("action", "access_denied")]))
        .await
        .json();
    assert_eq!(theirs.total, 0);

    let refused: AuditPage = admin
        .call_json(
            "admin/audit_log",
            filter(&[("action", "access_denied"), ("operator", "log.mon")]),
        )
        .await
        .json();
    assert_eq!(refused.total, 61);
    // The login filter is a literal prefix: `_` is not a wildcard.
    let literal: AuditPage = admin
        .call_json(
            "admin/audit_log",
            filter(&[("action", "access_denied"), ("operator", "log_mon")]),
        )
        .await
        .json();
    assert_eq!(literal.total, 0);
    let dated: AuditPage = admin
        .call_json(
            "admin/audit_log",
            filter(&[
                ("action", "access_denied"),
                ("from", "2020-01-01"),
                ("to", "2020-01-31"),
            ]),
        )
        .await
        .json();
    assert_eq!(dated.total, 0);

    let answer = admin
        .call_json(
            "admin/audit_log",
            filter(&[
                ("from", "2026-11-22"),
                ("to", "2026-11-01"),
                ("outcome", "maybe"),
            ]),
        )
        .await;
    let error = answer.error();
    assert_eq!(answer.status, 422);
    assert_eq!(error.field_problem("to"), Some(FieldProblem::RangeReversed));
    assert_eq!(error.field_problem("outcome"), Some(FieldProblem::Format));

    // The page itself renders for the administrator, and not for the monitor's menu.
    let page = admin.page("/admin/audit?action=access_denied").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"audit-table\""));
    assert!(page.body.contains("log.monitor"));
    let page = monitor.page("/").await;
    assert!(!page.body.contains("href=\"/admin/audit\""));
}

async fn the_download_holds_the_selection_and_no_formulas(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut admin = app
        .ready_browser("M50000003", "xlsx.admin", &[Role::Administrator])
        .await;
    let mut finance = app
        .ready_browser("M50000003", "xlsx.finance", &[Role::Finance])
        .await;
    let _other = app
        .ready_browser("M50000004", "xlsx.other", &[Role::Administrator])
        .await;
    for _ in 0..3 {
        let answer = finance.call("admin/operators", &[("search", "")]).await;
        assert_eq!(answer.error(), AppError::Forbidden);
    }

    let expected: AuditPage = admin.call_json("admin/audit_log", filter(&[])).await.json();
    let (status, content_type, bytes) = admin.download("/admin/audit/export").await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    assert!(content_type.contains("spreadsheetml"), "{content_type}");

    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).expect("xlsx");
    let sheets = book.sheet_names();
    assert_eq!(sheets.len(), 2, "{sheets:?}");
    let data = book.worksheet_range(&sheets[0]).expect("data sheet");
    assert_eq!(
        data.height() as u64,
        expected.total + 1,
        "header + every event"
    );
    // Typed cells: the number is a number, the time a date.
    assert!(matches!(data.get((1, 0)), Some(Data::Float(_))));
    assert!(matches!(data.get((1, 1)), Some(Data::DateTime(_))));
    let text: Vec<String> = data
        .rows()
        .flat_map(|r| r.iter().map(|c| c.to_string()))
        .collect();
    assert!(text.iter().any(|c| c == "xlsx.finance"));
    assert!(
        !text.iter().any(|c| c.contains("xlsx.other")),
        "another merchant's event"
    );
    let formulas = book.worksheet_formula(&sheets[0]).expect("formulas");
    assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()));

    // Hostile filter text comes back neutralised on the filter sheet.
    let (status, _, bytes) = admin
        .download("/admin/audit/export?operator=%3DSUM(1%2C2)&action=access_denied")
        .await;
    assert_eq!(status, 200);
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).expect("xlsx");
    let sheets = book.sheet_names();
    let data = book.worksheet_range(&sheets[0]).expect("data sheet");
    assert_eq!(data.height(), 1, "only the header");
    let filters = book.worksheet_range(&sheets[1]).expect("filter sheet");
    let cells: Vec<String> = filters
        .rows()
        .flat_map(|r| r.iter().map(|c| c.to_string()))
        .collect();
    assert!(cells.contains(&"'=SUM(1,2)".to_owned()), "{cells:?}");
    let formulas = book.worksheet_formula(&sheets[1]).expect("formulas");
    assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()));

    // Bad filters and other roles are refused with a message, not a file.
    let (status, content_type, body) = admin.download("/admin/audit/export?from=yesterday").await;
    assert_eq!(status, 422);
    assert!(content_type.starts_with("text/plain"));
    assert!(!body.is_empty());
    let (status, _, _) = finance.download("/admin/audit/export").await;
    assert_eq!(status, 403);
    // Downloads are recorded.
    assert_eq!(app.audit_details("audit_export").await.len(), 2);
}
