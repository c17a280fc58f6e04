//! Transaction query over HTTP: every filter, keyset pages, bad input, the summary tabs, detail, the
//! reprinted slip and the Excel download; and the scope of each (another merchant's rows, another
//! terminal group's rows) never showing.

use calamine::{Data, Reader};
use chrono::Duration;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::{json, Value};

use app::api::transactions::{
    Breakdown, Slip, SummaryBy, Tally, TxnFilterOptions, TxnPage, TxnSummary, TxnView,
};
use app::backend::entities::{
    merchant_numbers, terminal_group_members, terminal_groups, transactions,
};
use app::backend::services::{clearing, transactions as service};
use app::domain::access::Role;
use app::domain::DataScope;
use app::error::{AppError, FieldProblem, Policy};

use crate::clearing::{add_terminal, after_the_day, at, day, Shop, UP_CREDIT};
use crate::on_both_backends;
use crate::support::app::TestApp;
use crate::support::browser::{Answer, Browser};
use crate::support::{spawn_app, Backend, TestDb};

const VISA: (&str, &str) = ("visa", "credit");

/// Our merchant's transactions, by name.
pub(crate) struct Ours {
    a: i64,
    b: i64,
    c: i64,
    d: i64,
    e: i64,
    /// Twenty small purchases at the same minute, for the keyset's tie-break on id.
    same_minute: Vec<i64>,
    terminal2_no: String,
    merchant_no: String,
}

async fn edit(db: &TestDb, id: i64, change: impl FnOnce(&mut transactions::ActiveModel)) {
    let mut row = transactions::ActiveModel {
        id: Set(id),
        ..Default::default()
    };
    change(&mut row);
    row.update(&db.conn).await.expect("update");
}

async fn seed(db: &TestDb, ours: &mut Shop, theirs: &mut Shop) -> Ours {
    let terminal2 = add_terminal(db, ours.merchant_id, ours.number_id, "T5000009").await;

    let a = ours
        .add(
            db,
            ("purchase", "success"),
            UP_CREDIT,
            12_345,
            at(10, 0),
            None,
        )
        .await;
    let b = ours
        .add(db, ("purchase", "success"), VISA, 5_000, at(11, 0), None)
        .await;
    edit(db, b, |t| {
        t.card_masked = Set("411111******1111".into());
        t.card_last4 = Set("1111".into());
        t.issuer_bank = Set("ICBC".into());
        // Text a spreadsheet would take for a formula.
        t.auth_code = Set(Some("=2+3".into()));
    })
    .await;
    let c = ours
        .add(
            db,
            ("purchase", "failed"),
            UP_CREDIT,
            7_700,
            at(12, 0),
            None,
        )
        .await;
    let d = ours
        .add(
            db,
            ("refund", "success"),
            UP_CREDIT,
            2_000,
            at(13, 0),
            Some(a),
        )
        .await;
    let e = ours
        .add(
            db,
            ("purchase", "success"),
            UP_CREDIT,
            99_900,
            at(24 + 9, 0),
            None,
        )
        .await;
    edit(db, e, |t| t.terminal_id = Set(terminal2.id)).await;
    let mut same_minute = Vec::new();
    for _ in 0..20 {
        same_minute.push(
            ours.add(db, ("purchase", "success"), UP_CREDIT, 100, at(8, 0), None)
                .await,
        );
    }
    theirs
        .add(
            db,
            ("purchase", "success"),
            UP_CREDIT,
            12_345,
            at(10, 0),
            None,
        )
        .await;
    clearing::clear_day(&db.conn, day(), after_the_day())
        .await
        .expect("clear");
    let merchant_no = merchant_numbers::Entity::find_by_id(ours.number_id)
        .one(&db.conn)
        .await
        .expect("query")
        .expect("number")
        .merchant_no;
    Ours {
        a,
        b,
        c,
        d,
        e,
        same_minute,
        terminal2_no: terminal2.terminal_no,
        merchant_no,
    }
}

fn ids(page: &TxnPage) -> Vec<i64> {
    page.rows.iter().map(|r| r.id).collect()
}

/// Our merchant's rows as the search lists them: newest first, the same minute by id.
fn newest_first(ours: &Ours) -> Vec<i64> {
    let mut expected = vec![ours.e, ours.d, ours.c, ours.b, ours.a];
    expected.extend(ours.same_minute.iter().rev());
    expected
}

/// A fresh app with our merchant's transactions and one of another merchant's, cleared.
pub(crate) async fn seeded(backend: Backend) -> (TestApp, Shop, Ours) {
    let app = spawn_app(backend).await;
    let mut ours_shop = Shop::open(&app.db, "M50000001").await;
    let mut theirs_shop = Shop::open(&app.db, "M50000002").await;
    let ours = seed(&app.db, &mut ours_shop, &mut theirs_shop).await;
    (app, ours_shop, ours)
}

pub(crate) async fn finance(app: &TestApp) -> Browser<'_> {
    app.ready_browser("M50000001", "m5.finance", &[Role::Finance])
        .await
}

async fn search(finance: &Browser<'_>, filter: Value) -> Answer {
    finance
        .twin()
        .call_json("transactions/search", json!({ "filter": filter }))
        .await
}

on_both_backends!(
    a_search_lists_its_merchants_rows_newest_first_and_nobody_elses,
    pages_follow_the_keyset_without_a_row_twice,
    each_filter_selects_exactly_its_rows,
    bad_filters_are_named_field_by_field_never_a_500,
    summary_tabs_add_up_to_the_search,
    a_settlements_drill_down_ties_out_with_it,
    a_detail_links_refunds_to_their_original_and_hides_others,
    a_slip_is_reprinted_and_audited_except_todays,
    the_download_has_typed_cells_neutralised_text_and_the_filters,
    a_monitor_reads_transactions_but_may_not_download_them,
    an_operator_of_a_group_sees_only_its_terminals_everywhere,
);

async fn a_search_lists_its_merchants_rows_newest_first_and_nobody_elses(backend: Backend) {
    let (app, _, ours) = seeded(backend).await;
    let finance = finance(&app).await;
    // Everything of ours, newest first, the same minute broken by id; nothing of theirs.
    let all: TxnPage = search(&finance, json!({})).await.json();
    assert_eq!(all.total, 25);
    assert_eq!(all.rows.len(), 25);
    let expected = newest_first(&ours);
    assert_eq!(ids(&all), expected);

    // Each row names its terminal and merchant number.
    let e_row = all.rows.iter().find(|r| r.id == ours.e).expect("e");
    assert_eq!(
        (e_row.terminal_no.as_str(), e_row.merchant_no.as_str()),
        (ours.terminal2_no.as_str(), ours.merchant_no.as_str())
    );
    assert!(all.rows.iter().all(|r| r.terminal_no.len() == 8));
    // A page reads the columns a row shows and its names in one statement; the detail reads the whole
    // transaction and the names apart. The rows differ in every column one of them has (settled or
    // not, refund, fee, bank, codes), and their text columns differ from each other, so a value read
    // from the wrong place shows.
    for id in [ours.a, ours.b, ours.d, ours.e] {
        let view: TxnView = finance
            .twin()
            .call("transactions/detail", &[("id", &id.to_string())])
            .await
            .json();
        let row = all.rows.iter().find(|r| r.id == id).expect("listed");
        assert_eq!(&view.txn, row);
    }
    // The advanced panel's choices: our numbers, no group yet.
    let options: TxnFilterOptions = finance
        .twin()
        .call("transactions/options", &[])
        .await
        .json();
    assert!(options
        .numbers
        .iter()
        .any(|(no, _)| *no == ours.merchant_no));
    assert!(options.groups.is_empty());
}

async fn pages_follow_the_keyset_without_a_row_twice(backend: Backend) {
    let (app, _, ours) = seeded(backend).await;
    let finance = finance(&app).await;
    let expected = newest_first(&ours);
    // Keyset pages: 20, then the last 5, no row twice, the same order.
    let first: TxnPage = search(&finance, json!({"size": "20"})).await.json();
    assert_eq!((first.rows.len(), first.total), (20, 25));
    let after = first.next_after.clone().expect("a next page");
    let second: TxnPage = search(&finance, json!({"size": "20", "after": after}))
        .await
        .json();
    assert_eq!((second.rows.len(), second.total), (5, 25));
    assert!(second.next_after.is_none());
    // A cursor past the last row: no row, and still the total of the search.
    let past: TxnPage = search(&finance, json!({"size": "20", "after": "1.1"}))
        .await
        .json();
    assert_eq!((past.rows.len(), past.total), (0, 25));
    let mut paged = ids(&first);
    paged.extend(ids(&second));
    assert_eq!(paged, expected);
    // Where each page lies: rows 1–20 with no previous page, rows 21–25 with one.
    assert_eq!((first.offset, first.prev_before.is_some()), (0, false));
    let pos = first.rows.len().to_string();
    let second: TxnPage = search(
        &finance,
        json!({"size": "20", "after": first.next_after, "pos": pos}),
    )
    .await
    .json();
    assert_eq!(second.offset, 20);
    let before = second.prev_before.clone().expect("a previous page");

    // Back: the same rows as the first page, which knows it is the first.
    let back: TxnPage = search(
        &finance,
        json!({"size": "20", "before": before, "pos": "20"}),
    )
    .await
    .json();
    assert_eq!(ids(&back), ids(&first));
    assert_eq!((back.offset, back.prev_before, back.total), (0, None, 25));
    assert_eq!(back.next_after, first.next_after);

    // The last page: the five oldest rows, after twenty.
    let last: TxnPage = search(&finance, json!({"size": "20", "last": "1"}))
        .await
        .json();
    assert_eq!(ids(&last), ids(&second));
    assert_eq!((last.offset, last.next_after.is_none()), (20, true));
    assert!(last.prev_before.is_some());

    // A day: the page starts with its newest row. The first day's rows come after e, the one row of
    // the next day.
    let at_day: TxnPage = search(&finance, json!({"size": "20", "at": day().to_string()}))
        .await
        .json();
    assert_eq!(ids(&at_day), expected[1..21].to_vec());
    assert_eq!((at_day.offset, at_day.total), (1, 25));
    assert!(at_day.prev_before.is_some() && at_day.next_after.is_some());
    let next_day = (day() + Duration::days(1)).to_string();
    let at_next: TxnPage = search(&finance, json!({"size": "20", "at": next_day}))
        .await
        .json();
    assert_eq!(
        (ids(&at_next), at_next.offset),
        (expected[..20].to_vec(), 0)
    );
    // A day before every row: nothing on the page, all of them before it.
    let before_all = (day() - Duration::days(1)).to_string();
    let empty: TxnPage = search(&finance, json!({"size": "20", "at": before_all}))
        .await
        .json();
    assert_eq!((empty.rows.len(), empty.offset, empty.total), (0, 25, 25));

    // A position that is no number is refused, naming the field.
    let bad = search(&finance, json!({"pos": "-1", "at": "2026-13-01"})).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    for field in ["pos", "at"] {
        assert_eq!(
            bad.error().field_problem(field),
            Some(FieldProblem::Format),
            "{field}"
        );
    }
}

async fn each_filter_selects_exactly_its_rows(backend: Backend) {
    let (app, _ours_shop, ours) = seeded(backend).await;
    let finance = finance(&app).await;
    let all: TxnPage = search(&finance, json!({})).await.json();
    // Each filter.
    let cases: Vec<(Value, Vec<i64>)> = vec![
        (json!({"type": "refund"}), vec![ours.d]),
        (json!({"status": "failed"}), vec![ours.c]),
        (json!({"card": "1111"}), vec![ours.b]),
        (json!({"card": "411111 ****** 1111"}), vec![ours.b]),
        (json!({"card": "622588******1111"}), vec![]),
        (json!({"amount": "123.45"}), vec![ours.a]),
        (json!({"ref": "000000000001"}), vec![ours.a]),
        (json!({"ref": "2"}), vec![ours.b]),
        (
            json!({"terminal": ours.terminal2_no.to_lowercase()}),
            vec![ours.e],
        ),
        // Another merchant's terminal, and a number no terminal has.
        (json!({"terminal": "T0000002"}), vec![]),
        (json!({"terminal": "T9999999"}), vec![]),
        (json!({"org": "visa"}), vec![ours.b]),
        (json!({"bank": "ICBC"}), vec![ours.b]),
        (
            json!({"card_type": "credit", "status": "failed"}),
            vec![ours.c],
        ),
        (json!({"auth": "a1b2c3", "type": "refund"}), vec![ours.d]),
        (
            json!({"min": "50", "max": "123.45"}),
            vec![ours.c, ours.b, ours.a],
        ),
        (
            json!({"from": "2026-11-21", "to": "2026-11-21"}),
            vec![ours.e],
        ),
        (
            json!({"sdate": day().to_string(), "type": "refund"}),
            vec![ours.d],
        ),
        (
            json!({"number": ours.merchant_no, "min": "999"}),
            vec![ours.e],
        ),
        (json!({"batch": "1", "amount": "50"}), vec![ours.b]),
        (json!({"number": "999999999999999"}), vec![]),
    ];
    for (filter, want) in cases {
        let page: TxnPage = search(&finance, filter.clone()).await.json();
        assert_eq!(ids(&page), want, "{filter}");
        assert_eq!(page.total, want.len() as u64, "{filter}");
    }
    // A settlement's transactions: the day's sales and its refund, not the failed one.
    let a_row = all.rows.iter().find(|r| r.id == ours.a).expect("a");
    let settlement = a_row.settlement_id.expect("a is settled");
    let settled: TxnPage = search(&finance, json!({"settlement": settlement.to_string()}))
        .await
        .json();
    let mut settled_ids = ids(&settled);
    settled_ids.sort_unstable();
    let mut want = vec![ours.a, ours.b, ours.d];
    want.extend(&ours.same_minute);
    want.sort_unstable();
    assert_eq!(settled_ids, want);
    // The quick menu's day comes back resolved for the form.
    let today: TxnPage = search(&finance, json!({"day": "today"})).await.json();
    let local_today = (app.clock.now() + Duration::hours(8))
        .date_naive()
        .to_string();
    assert_eq!(today.from.as_deref(), Some(local_today.as_str()));
    assert_eq!(today.total, 0);
}

async fn bad_filters_are_named_field_by_field_never_a_500(backend: Backend) {
    let (app, _ours_shop, _ours) = seeded(backend).await;
    let finance = finance(&app).await;
    // Bad input: every field named, never a 500.
    let bad = search(&finance, json!({
        "from": "2026-11-30", "to": "2026-11-01", "amount": "12a", "min": "9", "max": "1",
        "card": "6225880000001234", "after": "x", "type": "purchase' OR '1'='1", "size": "1000000",
        "ref": "12345678901234567890", "group": "-1", "sdate": "2026-02-30"
    }))
    .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    let err = bad.error();
    assert_eq!(err.field_problem("to"), Some(FieldProblem::RangeReversed));
    assert_eq!(err.field_problem("max"), Some(FieldProblem::RangeReversed));
    for field in [
        "amount", "card", "after", "type", "size", "ref", "group", "sdate",
    ] {
        assert_eq!(
            err.field_problem(field),
            Some(FieldProblem::Format),
            "{field}"
        );
    }
}

async fn summary_tabs_add_up_to_the_search(backend: Backend) {
    let (app, _, ours) = seeded(backend).await;
    let mut finance = finance(&app).await;
    let all: TxnPage = search(&finance, json!({})).await.json();
    // The search's rows added up by kind: every tab's total is this.
    let mut rows = Breakdown::default();
    for r in &all.rows {
        let one = Tally {
            count: 1,
            amount_fen: r.amount_fen,
        };
        rows.add(r.txn_type, r.status, one).expect("adds");
    }
    for by in SummaryBy::ALL {
        let summary: TxnSummary = finance
            .call_json("transactions/summary", json!({"filter": {}, "by": by}))
            .await
            .json();
        let total = summary.total;
        assert_eq!(total, rows, "{by:?}");
        assert_eq!(total.count(), 25, "{by:?}");
        // 22 purchases of the first day and one of the next; the refund is subtracted, the failed
        // purchase kept apart.
        let sales = 12_345 + 5_000 + 20 * 100 + 99_900;
        assert_eq!((total.sales.count, total.sales.amount_fen), (23, sales));
        assert_eq!((total.refunds.count, total.refunds.amount_fen), (1, 2_000));
        assert_eq!((total.failed.count, total.failed.amount_fen), (1, 7_700));
        assert_eq!(total.voids, Tally::default());
        assert_eq!(total.net_fen(), Ok(sales - 2_000), "{by:?}");
        let mut lines = Breakdown::default();
        for line in &summary.lines {
            lines.merge(&line.figures).expect("adds");
        }
        assert_eq!(lines, total, "{by:?}: the lines add up to the total");
        assert_eq!(summary.settlement, None, "no settlement asked for");
    }
    let by_org: TxnSummary = finance
        .call_json(
            "transactions/summary",
            json!({"filter": {}, "by": SummaryBy::CardOrg}),
        )
        .await
        .json();
    let keys: Vec<_> = by_org.lines.iter().map(|l| l.key.as_str()).collect();
    assert_eq!(keys, ["unionpay", "visa"]);
    assert_eq!(
        by_org.lines[1].figures.sales,
        Tally {
            count: 1,
            amount_fen: 5_000
        }
    );
    let by_sdate: TxnSummary = finance
        .call_json(
            "transactions/summary",
            json!({"filter": {}, "by": SummaryBy::SettlementDate}),
        )
        .await
        .json();
    let keys: Vec<_> = by_sdate.lines.iter().map(|l| l.key.as_str()).collect();
    assert_eq!(
        keys,
        [day().to_string().as_str(), ""],
        "settled, then not yet"
    );
    let by_number: TxnSummary = finance
        .call_json(
            "transactions/summary",
            json!({"filter": {"type": "refund"}, "by": SummaryBy::MerchantNumber}),
        )
        .await
        .json();
    assert_eq!(by_number.lines.len(), 1);
    assert_eq!(by_number.lines[0].key, ours.merchant_no);
    assert_eq!(by_number.total.refunds.amount_fen, 2_000);
    assert_eq!(by_number.total.net_fen(), Ok(-2_000), "only money out");
}

async fn a_settlements_drill_down_ties_out_with_it(backend: Backend) {
    let (app, _, ours) = seeded(backend).await;
    let mut finance = finance(&app).await;
    let all: TxnPage = search(&finance, json!({})).await.json();
    let settlement = all
        .rows
        .iter()
        .find(|r| r.id == ours.a)
        .and_then(|r| r.settlement_id)
        .expect("a is settled");
    let summary: TxnSummary = finance
        .call_json(
            "transactions/summary",
            json!({"filter": {"settlement": settlement.to_string()}, "by": SummaryBy::TxnDate}),
        )
        .await
        .json();
    let tie = summary.settlement.expect("the settlement beside its rows");
    assert_eq!(tie.settlement.id, settlement);
    // The first day's 22 sales and the refund of a; the failed purchase and the next day's are not
    // in it.
    let sales = 12_345 + 5_000 + 20 * 100;
    assert_eq!(
        (tie.settlement.txn_count, tie.settlement.gross_fen),
        (22, sales)
    );
    assert_eq!(summary.total.sales, tie.makeup.sales);
    assert_eq!(summary.total.refunds, tie.makeup.terminal_refunds);
    assert_eq!(tie.makeup.console_refunds, Tally::default());
    assert!(tie.makeup.ties_out(&tie.settlement), "{tie:?}");
    assert_eq!(
        tie.makeup.net_fen(),
        Ok(sales - 2_000 - tie.settlement.fee_fen)
    );
    assert_eq!(
        tie.settlement.net_fen,
        sales - 2_000 - tie.settlement.fee_fen
    );

    // Another merchant's settlement: no rows, and nothing of it beside them.
    let theirs = app::backend::entities::settlements::Entity::find()
        .all(&app.db.conn)
        .await
        .expect("settlements")
        .into_iter()
        .map(|s| s.id)
        .find(|id| *id != settlement)
        .expect("theirs is settled too");
    let summary: TxnSummary = finance
        .call_json(
            "transactions/summary",
            json!({"filter": {"settlement": theirs.to_string()}, "by": SummaryBy::TxnDate}),
        )
        .await
        .json();
    assert_eq!((summary.total.count(), summary.settlement), (0, None));
}

async fn a_detail_links_refunds_to_their_original_and_hides_others(backend: Backend) {
    let (app, _, ours) = seeded(backend).await;
    let mut finance = finance(&app).await;
    // Detail: the refund links to its original and back; theirs is not found.
    let view: TxnView = finance
        .call("transactions/detail", &[("id", &ours.a.to_string())])
        .await
        .json();
    assert_eq!(
        view.linked.iter().map(|l| l.id).collect::<Vec<_>>(),
        [ours.d]
    );
    assert!(view.may_reprint && !view.reprint_on_terminal);
    let refund: TxnView = finance
        .call("transactions/detail", &[("id", &ours.d.to_string())])
        .await
        .json();
    assert_eq!(refund.original.map(|o| o.id), Some(ours.a));
    let theirs_id = ours.same_minute.last().expect("ours") + 1;
    let other = finance
        .call("transactions/detail", &[("id", &theirs_id.to_string())])
        .await;
    assert_eq!(other.error(), AppError::NotFound);
    // Arguments that do not parse are the caller's input: 422, not an outage.
    let garbled = finance
        .call("transactions/detail", &[("id", "12abc")])
        .await;
    assert_eq!(garbled.status, 422, "{}", garbled.body);
    let unknown = finance
        .call_json(
            "transactions/summary",
            json!({"filter": {}, "by": "Everything"}),
        )
        .await;
    assert_eq!(unknown.status, 422, "{}", unknown.body);
}

async fn a_slip_is_reprinted_and_audited_except_todays(backend: Backend) {
    let (app, mut ours_shop, ours) = seeded(backend).await;
    let mut finance = finance(&app).await;
    let db = &app.db;
    let theirs_id = ours.same_minute.last().expect("ours") + 1;
    // The slip: reprinted and audited; theirs not found; today's only on the terminal.
    let slip: Slip = finance
        .call("transactions/slip", &[("id", &ours.d.to_string())])
        .await
        .json();
    assert_eq!(slip.card_masked, "622588******1234");
    assert_eq!(slip.amount_fen, 2_000);
    assert_eq!(slip.original_reference.as_deref(), Some("000000000001"));
    assert_eq!(app.audit_details("slip_reprint").await.len(), 1);
    let other = finance
        .call("transactions/slip", &[("id", &theirs_id.to_string())])
        .await;
    assert_eq!(other.error(), AppError::NotFound);
    let fresh = ours_shop
        .add(
            db,
            ("purchase", "success"),
            UP_CREDIT,
            300,
            app.clock.now(),
            None,
        )
        .await;
    let refused = finance
        .call("transactions/slip", &[("id", &fresh.to_string())])
        .await;
    assert_eq!(refused.error(), AppError::Policy(Policy::SlipFromToday));
    let fresh_view: TxnView = finance
        .call("transactions/detail", &[("id", &fresh.to_string())])
        .await
        .json();
    assert!(!fresh_view.may_reprint && fresh_view.reprint_on_terminal);
}

async fn the_download_has_typed_cells_neutralised_text_and_the_filters(backend: Backend) {
    let (app, _, _ours) = seeded(backend).await;
    let mut finance = finance(&app).await;
    // The Excel download: typed cells, neutralised text, the filters on the second sheet.
    let (status, content_type, xlsx) = finance
        .download("/transactions/export?org=visa&card=1111")
        .await;
    assert_eq!(status, 200);
    assert!(content_type.contains("spreadsheetml"), "{content_type}");
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx)).expect("xlsx");
    let sheet = book.worksheet_range_at(0).expect("sheet").expect("range");
    assert_eq!(sheet.height(), 2, "header and one transaction");
    assert!(
        matches!(sheet.get((1, 0)), Some(Data::DateTime(_))),
        "{:?}",
        sheet.get((1, 0))
    );
    assert_eq!(
        sheet.get((1, 5)),
        Some(&Data::String("411111******1111".into()))
    );
    assert_eq!(sheet.get((1, 9)), Some(&Data::Float(50.0)));
    assert_eq!(sheet.get((1, 14)), Some(&Data::String("'=2+3".into())));
    assert!(matches!(sheet.get((1, 15)), Some(Data::DateTime(_))));
    let filters = book.worksheet_range_at(1).expect("sheet").expect("range");
    assert!(filters
        .rows()
        .any(|r| r.get(1) == Some(&Data::String("****1111".into()))));
    let (status, _, xlsx) = finance.download("/transactions/export").await;
    assert_eq!(status, 200);
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx)).expect("xlsx");
    let sheet = book.worksheet_range_at(0).expect("sheet").expect("range");
    assert_eq!(sheet.height(), 1 + 25, "every row of ours, none of theirs");
    assert_eq!(finance.download("/transactions/export?min=x").await.0, 422);
}

async fn a_monitor_reads_transactions_but_may_not_download_them(backend: Backend) {
    let (app, _, _) = seeded(backend).await;
    // A monitor reads transactions but may not download them.
    let mut monitor = app
        .ready_browser("M50000001", "m5.monitor", &[Role::Monitor])
        .await;
    let page: TxnPage = monitor
        .call_json("transactions/search", json!({"filter": {}}))
        .await
        .json();
    assert!(!page.may_export);
    assert_eq!(monitor.download("/transactions/export").await.0, 403);
}

async fn an_operator_of_a_group_sees_only_its_terminals_everywhere(backend: Backend) {
    let (app, ours_shop, ours) = seeded(backend).await;
    let db = &app.db;
    // The service reads as a session of one of the merchant's operators.
    finance(&app).await;
    // An operator scoped to a terminal group sees that group's terminals only, everywhere.
    let group = terminal_groups::ActiveModel {
        merchant_id: Set(ours_shop.merchant_id),
        name: Set("收银台 1".into()),
        created_at: Set(chrono::Utc::now()),
        updated_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(&db.conn)
    .await
    .expect("group");
    terminal_group_members::ActiveModel {
        group_id: Set(group.id),
        terminal_id: Set(ours_shop.terminal_id),
    }
    .insert(&db.conn)
    .await
    .expect("member");
    let mut grouped = crate::demo::session_of(db, ours_shop.merchant_id).await;
    grouped.scope = DataScope::Groups;
    grouped.group_ids = vec![group.id];
    let now = app.clock.now();
    let query = |filter: Value| {
        service::TxnQuery::parse(&serde_json::from_value(filter).expect("filter")).expect("parses")
    };
    let page = service::page(&db.conn, &grouped, query(json!({})), now)
        .await
        .expect("page");
    assert_eq!(page.total, 24, "all but the other terminal's one");
    assert!(!ids(&page).contains(&ours.e));
    let options = service::filter_options(&db.conn, &grouped)
        .await
        .expect("options");
    assert_eq!(options.groups, vec![(group.id, "收银台 1".to_owned())]);
    let summary = service::summary(
        &db.conn,
        &grouped,
        query(json!({})),
        SummaryBy::TxnDate,
        now,
    )
    .await
    .expect("summary");
    assert_eq!(summary.total.count(), 24);
    assert_eq!(
        service::detail(&db.conn, &grouped, ours.e, now).await.err(),
        Some(AppError::NotFound)
    );
    assert_eq!(
        service::slip(&db.conn, &grouped, ours.e, now).await.err(),
        Some(AppError::NotFound)
    );
    let (_, bytes) = service::export(
        &db.conn,
        &grouped,
        query(json!({"terminal": ours.terminal2_no})),
        app::i18n::Lang::En,
        now,
        service::DIRECT_LIMIT,
    )
    .await
    .expect("export");
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("xlsx");
    let sheet = book.worksheet_range_at(0).expect("sheet").expect("range");
    assert_eq!(sheet.height(), 1, "the header only");
}
