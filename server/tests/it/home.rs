//! The home page's figures are the figures of the lists they link to, to the fen, and only what the
//! operator's functions and scope let them read.

use chrono::Duration;
use serde_json::json;

use app::api::home::{HomeView, CHART_DAYS};
use app::api::settlements::SettlementPage;
use app::api::transactions::{Breakdown, SummaryBy, TxnSummary};
use app::domain::access::Role;

use crate::clearing::{after_the_day, day};
use crate::on_both_backends;
use crate::support::Backend;
use crate::transactions::{finance, seeded};

on_both_backends!(
    the_days_are_the_searchs_summary_by_date,
    the_settlement_and_payout_are_the_settlement_querys,
    an_operator_sees_only_the_figures_of_their_functions,
);

async fn the_days_are_the_searchs_summary_by_date(backend: Backend) {
    let (app, _, _) = seeded(backend).await;
    // Early on the day after the seeded one, in the merchant's time zone.
    app.clock.advance(after_the_day() - app.clock.now());
    let mut finance = finance(&app).await;
    let home: HomeView = finance.call("home", &[]).await.json();
    let days = home.figures.days.expect("finance reads transactions");
    let today = day() + Duration::days(1);
    let first = today - Duration::days(CHART_DAYS - 1);
    assert_eq!(home.figures.today, today.to_string());
    assert_eq!(days.len(), 30);
    assert_eq!(days[0].day, first.to_string());
    assert_eq!(days[29].day, today.to_string());
    assert_eq!(days[28].day, day().to_string(), "yesterday");

    let summary: TxnSummary = finance
        .call_json(
            "transactions/summary",
            json!({"filter": {"from": first.to_string(), "to": today.to_string()}, "by": SummaryBy::TxnDate}),
        )
        .await
        .json();
    assert!(summary.lines.len() >= 2, "{summary:?}");
    for line in &summary.lines {
        let shown = days.iter().find(|d| d.day == line.key).expect("every day");
        assert_eq!(shown.figures, line.figures, "{}", line.key);
    }
    let mut total = Breakdown::default();
    for d in &days {
        total.merge(&d.figures).expect("adds");
        if !summary.lines.iter().any(|l| l.key == d.day) {
            assert!(d.figures.is_empty(), "{} had nothing", d.day);
        }
    }
    assert_eq!(total, summary.total);
    // The seeded day: 22 purchases, a refund and a failed purchase of the search's own test.
    let yesterday = days[28].figures;
    assert_eq!(yesterday.sales.count, 22);
    assert_eq!(yesterday.refunds.amount_fen, 2_000);
    assert_eq!(yesterday.failed.amount_fen, 7_700);
}

async fn the_settlement_and_payout_are_the_settlement_querys(backend: Backend) {
    let (app, _, _) = seeded(backend).await;
    app.clock.advance(after_the_day() - app.clock.now());
    let mut finance = finance(&app).await;
    let home: HomeView = finance.call("home", &[]).await.json();

    let last = home
        .figures
        .last_settlement
        .expect("the seeded day was cleared");
    assert_eq!(last.date, day());
    let of_day: SettlementPage = finance
        .call_json(
            "settlements/search",
            json!({"filter": {"from": day().to_string(), "to": day().to_string()}}),
        )
        .await
        .json();
    assert_eq!(last.sums, of_day.sums, "the day's settlements added up");
    assert!(last.sums.count >= 1);
    assert!(!last.paid, "not paid out yet");

    let payout = home
        .figures
        .next_payout
        .expect("the settlement waits for its payout");
    let cycle = i64::from(home.merchant.settlement_cycle_days);
    assert_eq!(payout.date, day() + Duration::days(cycle));
    assert_eq!(payout.last_settlement_date, day());
    let due: SettlementPage = finance
        .call_json(
            "settlements/search",
            json!({"filter": {"status": "pending", "to": payout.last_settlement_date.to_string()}}),
        )
        .await
        .json();
    assert_eq!(
        payout.settlements,
        u64::try_from(due.sums.count).expect("count")
    );
    assert_eq!(payout.net_fen, due.sums.net_fen);
    assert!(payout.net_fen > 0);
    // No held refunds here, and the balance is the merchant's.
    let held = home
        .figures
        .held
        .expect("finance sees the pending-clearing list");
    assert_eq!((held.held_count, held.held_fen), (0, 0));
    assert_eq!(held.balance_fen, home.merchant.balance_fen);
}

async fn an_operator_sees_only_the_figures_of_their_functions(backend: Backend) {
    let (app, _, _) = seeded(backend).await;
    app.clock.advance(after_the_day() - app.clock.now());
    let mut admin = app
        .ready_browser("M50000001", "m5.admin", &[Role::Administrator])
        .await;
    let f = admin.call("home", &[]).await.json::<HomeView>().figures;
    // Transactions and settlements, but neither the pending-clearing list nor approvals.
    assert!(f.days.is_some() && f.last_settlement.is_some() && f.next_payout.is_some());
    assert_eq!((f.held, f.approvals_waiting), (None, None));

    let mut approver = app
        .ready_browser("M50000001", "m5.approver", &[Role::RefundApprover])
        .await;
    let f = approver.call("home", &[]).await.json::<HomeView>().figures;
    assert!(f.days.is_some());
    assert_eq!(
        (f.last_settlement, f.next_payout, f.held),
        (None, None, None)
    );
    assert_eq!(f.approvals_waiting, Some(0));
}
