//! A settlement beside what it is made of: its own figures, and the same figures read back from its
//! transactions and the console's refund requests it debited, with whether they agree to the fen.

use leptos::prelude::*;

use crate::contract::settlements::{SettlementMakeup, SettlementRow};
use crate::domain::breakdown::{Breakdown, Tally};
use crate::i18n::{use_i18n, Texts};
use crate::ui::components::money::{CountText, MoneyText};
use crate::ui::paths::refunds::in_settlement_path;

/// `rows`, when given, is the drill-down's own summary (the rows under the panel): its sales and its
/// terminal refunds are shown instead of the makeup's, so that the panel ties the settlement to what
/// the user sees below it. The console's requests are linked when the user may list them.
#[component]
pub fn TieOut(
    settlement: SettlementRow,
    makeup: SettlementMakeup,
    rows: Option<Breakdown>,
    may_query_refunds: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    let s = settlement;
    // The rows' refunds and voids added up; `None` only past the largest amount, which then shows
    // as "—" and does not tie out.
    let (sales, terminal) = match rows {
        Some(b) => (b.sales, b.voids.checked_add(b.refunds).ok()),
        None => (makeup.sales, Some(makeup.terminal_refunds)),
    };
    let read = terminal.map(|terminal_refunds| SettlementMakeup {
        sales,
        terminal_refunds,
        ..makeup
    });
    let ties = read.is_some_and(|read| read.ties_out(&s) && (rows.is_none() || read == makeup));
    let refunds = read.and_then(|r| r.refunds().ok());
    let net = read.and_then(|r| r.net_fen().ok());
    let tally = |t: Option<Tally>| {
        match t {
        Some(t) => view! { <td class="num"><CountText n=t.count/></td><td class="num"><MoneyText fen=t.amount_fen/></td> }.into_any(),
        None => view! { <td class="num">"—"</td><td class="num">"—"</td> }.into_any(),
    }
    };
    let line = move |label: fn(&Texts) -> &'static str,
                     field: &'static str,
                     settled: Option<Tally>,
                     read: Option<Tally>| {
        view! {
            <tr data-line=field>
                <th scope="row">{move || label(i18n.t())}</th>
                {tally(settled)}
                {tally(read)}
            </tr>
        }
    };
    let fen = |fen: Option<i64>| match fen {
        Some(fen) => view! { <td class="num"><MoneyText fen/></td> }.into_any(),
        None => view! { <td class="num">"—"</td> }.into_any(),
    };
    view! {
        <section class="card tie-out" id="tie-out" data-ties=ties.to_string()>
            <h2>{move || i18n.t().tie_title} " · " {s.settlement_date.clone()} " · " <span class="mono">{s.merchant_no.clone()}</span></h2>
            <div class="table-wrap">
                <table class="table">
                    <thead>
                        <tr>
                            <th rowspan="2">{move || i18n.t().tie_item}</th>
                            <th colspan="2" class="num">{move || i18n.t().tie_settlement}</th>
                            <th colspan="2" class="num">{move || i18n.t().tie_rows}</th>
                        </tr>
                        <tr>
                            <th class="num">{move || i18n.t().txn_sum_count}</th>
                            <th class="num">{move || i18n.t().txn_sum_amount}</th>
                            <th class="num">{move || i18n.t().txn_sum_count}</th>
                            <th class="num">{move || i18n.t().txn_sum_amount}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {line(|t| t.tie_sales, "sales", Some(Tally { count: s.txn_count, amount_fen: s.gross_fen }), Some(sales))}
                        {line(|t| t.tie_terminal_refunds, "terminal-refunds", None, terminal)}
                        <tr data-line="console-refunds">
                            <th scope="row">
                                {move || i18n.t().tie_console_refunds}
                                <div class="muted small">
                                    {move || i18n.t().tie_console_note}
                                    {(may_query_refunds && makeup.console_refunds.count > 0).then(|| view! {
                                        " " <a href=in_settlement_path(s.id) data-action="settlement-refunds">{move || i18n.t().tie_refund_list}</a>
                                    })}
                                </div>
                            </th>
                            {tally(None)}
                            {tally(Some(makeup.console_refunds))}
                        </tr>
                        {line(|t| t.tie_refunds_total, "refunds", Some(Tally { count: s.refund_count, amount_fen: s.refund_fen }), refunds)}
                        <tr data-line="fees">
                            <th scope="row">{move || i18n.t().tie_fees}</th>
                            <td></td>{fen(Some(s.fee_fen))}
                            <td></td>{fen(Some(makeup.fee_fen))}
                        </tr>
                        <tr data-line="net" class="total">
                            <th scope="row">{move || i18n.t().tie_net}</th>
                            <td></td>{fen(Some(s.net_fen))}
                            <td></td>{fen(net)}
                        </tr>
                    </tbody>
                </table>
            </div>
            {if ties {
                view! { <p class="alert alert-success" role="status">{move || i18n.t().tie_ok}</p> }.into_any()
            } else {
                view! { <p class="alert alert-error" role="alert">{move || i18n.t().tie_off}</p> }.into_any()
            }}
        </section>
    }
}
