//! Settlement query over HTTP: scope, filters, the Excel download and the reconciliation file.

use app::api::settlements::{SettlementPage, SettlementRow, SettlementView};
use app::backend::services::{clearing, settlements};
use app::domain::access::Role;
use app::domain::{reconciliation, DataScope, SettlementStatus};
use app::error::{AppError, FieldProblem, Policy};

use crate::clearing::{after_the_day, at, day, Shop, UP_CREDIT};
use crate::on_both_backends;
use crate::support::app::TestApp;
use crate::support::browser::Browser;
use crate::support::{spawn_app, Backend};

/// Our merchant's and another's settlement of the day: two sales and a refund each.
struct Settled {
    app: TestApp,
    merchant_id: i64,
    theirs_id: i64,
}

async fn settled(backend: Backend) -> Settled {
    let app = spawn_app(backend).await;
    let db = &app.db;
    let mut ours = Shop::open(db, "M40000001").await;
    let mut theirs = Shop::open(db, "M40000002").await;
    for (shop, amount) in [(&mut ours, 12_345), (&mut theirs, 99_999)] {
        shop.add(
            db,
            ("purchase", "success"),
            UP_CREDIT,
            amount,
            at(10, 0),
            None,
        )
        .await;
        shop.add(
            db,
            ("purchase", "success"),
            UP_CREDIT,
            1_000,
            at(11, 0),
            None,
        )
        .await;
        shop.add(db, ("refund", "success"), UP_CREDIT, 500, at(12, 0), None)
            .await;
    }
    let run = clearing::clear_day(&db.conn, day(), after_the_day())
        .await
        .expect("clear");
    assert_eq!(run.settled().count(), 2);
    let theirs_id = run
        .settled()
        .find(|(l, _)| l.merchant_no.ends_with("40000002"))
        .expect("theirs")
        .1
        .settlement_id;

    let merchant_id = ours.merchant_id;
    Settled {
        app,
        merchant_id,
        theirs_id,
    }
}

async fn finance(app: &TestApp) -> Browser<'_> {
    app.ready_browser("M40000001", "m4.finance", &[Role::Finance])
        .await
}

/// Our settlement as the search lists it.
async fn our_row(finance: &Browser<'_>) -> SettlementRow {
    let page: SettlementPage = finance
        .twin()
        .call_json("settlements/search", serde_json::json!({"filter": {}}))
        .await
        .json();
    page.rows[0].clone()
}

on_both_backends!(
    finance_reads_its_settlements_sums_only,
    filters_select_and_bad_ones_are_named,
    a_detail_is_ours_and_never_theirs,
    the_reconciliation_file_agrees_with_the_settlement,
    the_download_has_typed_cells_and_our_row_only,
    a_monitor_and_a_group_operator_are_refused,
);

async fn finance_reads_its_settlements_sums_only(backend: Backend) {
    let Settled { app, .. } = settled(backend).await;
    let mut finance = finance(&app).await;
    let page: SettlementPage = finance
        .call_json("settlements/search", serde_json::json!({"filter": {}}))
        .await
        .json();
    assert_eq!(page.rows.len(), 1, "only our merchant's settlement");
    let row = &page.rows[0];
    assert_eq!(
        (row.gross_fen, row.refund_fen, row.fee_fen),
        (13_345, 500, 74 + 6)
    );
    assert_eq!(row.net_fen, 13_345 - 500 - 80);
    assert_eq!(row.status, SettlementStatus::Pending);
    assert_eq!(page.sums.net_fen, row.net_fen);
    assert!(page.may_export && page.may_download_files);
}

async fn filters_select_and_bad_ones_are_named(backend: Backend) {
    let Settled { app, .. } = settled(backend).await;
    let mut finance = finance(&app).await;
    // Filters: a date range without it, a status, and bad input named field by field.
    let none: SettlementPage = finance
        .call_json(
            "settlements/search",
            serde_json::json!({"filter": {"from": "2026-11-21"}}),
        )
        .await
        .json();
    assert!(none.rows.is_empty() && none.sums.count == 0);
    // The quick menu "yesterday's settlements": the day resolved in the merchant's time zone.
    let yesterday = (app.clock.now().with_timezone(&chrono_tz::Asia::Shanghai)
        - chrono::Duration::days(1))
    .date_naive()
    .to_string();
    let quick: SettlementPage = finance
        .call_json(
            "settlements/search",
            serde_json::json!({"filter": {"day": "yesterday", "from": "2020-01-01"}}),
        )
        .await
        .json();
    assert_eq!(
        (quick.from.as_deref(), quick.to.as_deref()),
        (Some(yesterday.as_str()), Some(yesterday.as_str()))
    );
    let bad = finance
        .call_json(
            "settlements/search",
            serde_json::json!({"filter": {"from": "2026-11-22", "to": "2026-11-01", "number": "12ab", "status": "paid'--", "after": "x", "day": "tomorrow"}}),
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    let err = bad.error();
    assert_eq!(err.field_problem("to"), Some(FieldProblem::RangeReversed));
    for field in ["number", "status", "after", "day"] {
        assert_eq!(
            err.field_problem(field),
            Some(FieldProblem::Format),
            "{field}"
        );
    }
}

async fn a_detail_is_ours_and_never_theirs(backend: Backend) {
    let Settled { app, theirs_id, .. } = settled(backend).await;
    let mut finance = finance(&app).await;
    let row = &our_row(&finance).await;
    // Detail: ours, not theirs.
    let view: SettlementView = finance
        .call("settlements/detail", &[("id", &row.id.to_string())])
        .await
        .json();
    assert_eq!(view.settlement, *row);
    let other = finance
        .call("settlements/detail", &[("id", &theirs_id.to_string())])
        .await;
    assert_eq!(other.error(), AppError::NotFound);
}

async fn the_reconciliation_file_agrees_with_the_settlement(backend: Backend) {
    let Settled { app, theirs_id, .. } = settled(backend).await;
    let mut finance = finance(&app).await;
    let row = &our_row(&finance).await;
    // The reconciliation file: ours parses and agrees; theirs is not found.
    let (status, content_type, bytes) = finance
        .download(&format!("/settlements/{}/reconciliation", row.id))
        .await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/plain"));
    let file = reconciliation::parse(&String::from_utf8(bytes).expect("utf-8")).expect("parses");
    assert_eq!(
        (
            file.trailer.sales,
            file.trailer.refunds,
            file.trailer.net_fen
        ),
        (2, 1, row.net_fen)
    );
    let (status, _, _) = finance
        .download(&format!("/settlements/{theirs_id}/reconciliation"))
        .await;
    assert_eq!(status, 404);
}

async fn the_download_has_typed_cells_and_our_row_only(backend: Backend) {
    let Settled { app, .. } = settled(backend).await;
    let mut finance = finance(&app).await;
    // The Excel download: typed cells, our row only.
    let (status, _, xlsx) = finance.download("/settlements/export?to=2026-11-30").await;
    assert_eq!(status, 200);
    use calamine::{Data, Reader};
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx)).expect("xlsx");
    let sheet = book.worksheet_range_at(0).expect("sheet").expect("range");
    assert_eq!(sheet.height(), 2, "header and one settlement");
    assert!(
        matches!(sheet.get((1, 0)), Some(Data::DateTime(_))),
        "{:?}",
        sheet.get((1, 0))
    );
    assert_eq!(
        sheet.get((1, 8)),
        Some(&Data::Float((13_345 - 580) as f64 / 100.0))
    );
    let bad = finance.download("/settlements/export?status=nope").await;
    assert_eq!(bad.0, 422);
}

async fn a_monitor_and_a_group_operator_are_refused(backend: Backend) {
    let Settled {
        app, merchant_id, ..
    } = settled(backend).await;
    let db = &app.db;
    let finance = finance(&app).await;
    let row = &our_row(&finance).await;
    // A monitor has no settlement query; an operator scoped to terminal groups is told why.
    let mut monitor = app
        .ready_browser("M40000001", "m4.monitor", &[Role::Monitor])
        .await;
    let answer = monitor
        .call_json("settlements/search", serde_json::json!({"filter": {}}))
        .await;
    assert_eq!(answer.error(), AppError::Forbidden);
    let (status, _, _) = monitor
        .download(&format!("/settlements/{}/reconciliation", row.id))
        .await;
    assert_eq!(status, 403);
    let mut grouped = crate::demo::session_of(db, merchant_id).await;
    grouped.scope = DataScope::Groups;
    let refused = settlements::page(
        &db.conn,
        &grouped,
        &settlements::SettlementQuery::default(),
        after_the_day(),
    )
    .await;
    assert_eq!(
        refused.err(),
        Some(AppError::Policy(Policy::MerchantScopeRequired))
    );
}
