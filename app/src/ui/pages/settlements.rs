//! Settlement query (manual §3.2): filters in the URL (a search can be bookmarked, the back button
//! works), the settlements newest first with the sums of all that match, older pages by keyset, the
//! Excel download of the same selection; one settlement's detail with its reconciliation file and its
//! transactions.

use std::sync::Arc;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::settlements::{
    settlement_detail, settlement_search, SettlementFilter, SettlementPage, SettlementRow,
    SettlementView,
};
use crate::domain::access::Function;
use crate::domain::money::format_count;
use crate::domain::SettlementStatus;
use crate::error::AppError;
use crate::i18n::{title_text, use_i18n, Label};
use crate::ui::components::form::{DateInput, FieldErrors};
use crate::ui::components::money::{CountText, MoneyText};
use crate::ui::components::tie_out::TieOut;
use crate::url::query_string;

use crate::ui::components::badge::StatusBadge;
use crate::ui::components::load::Loaded;
use crate::ui::components::pager::Pager;
use crate::ui::paths::id_param;
use crate::ui::paths::settlements::{detail_path, reconciliation_path, EXPORT_PATH, LIST_PATH};

#[component]
pub fn SettlementsPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        let q = query.get();
        let get = |k: &str| q.get(k).unwrap_or_default();
        SettlementFilter {
            from: get("from"),
            to: get("to"),
            number: get("number"),
            status: get("status"),
            day: get("day"),
            after: get("after"),
        }
    });
    let page = Resource::new(move || filter.get(), settlement_search);
    view! {
        <Title text=title_text(|l| Function::SettlementQuery.label(l).to_owned())/>
        <h1>{move || Function::SettlementQuery.label(i18n.lang())}</h1>
        <p class="muted">{move || i18n.t().settle_intro}</p>
        <Loaded resource=page
            ok=move |page| {
                let filter = filter.get_untracked();
                // The form shows the dates searched (a quick menu's day resolved).
                let shown = SettlementFilter {
                    from: page.from.clone().unwrap_or_default(),
                    to: page.to.clone().unwrap_or_default(),
                    day: String::new(),
                    ..filter.clone()
                };
                let numbers = page.numbers.clone();
                view! {
                    <Filters filter=shown numbers error=Signal::derive(|| None)/>
                    <Results page filter/>
                }
            }
            invalid=Arc::new(move |error| {
                let filter = filter.get_untracked();
                let error = Signal::derive(move || Some(error.clone()));
                view! { <Filters filter numbers=Vec::new() error/> }.into_any()
            })/>
    }
}

#[component]
fn Filters(
    filter: SettlementFilter,
    numbers: Vec<(String, String)>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let selected_status = filter.status.clone();
    let selected_number = filter.number.clone();
    // A number typed into the URL that is not in the list still shows (and is reported if bad).
    let mut choices = numbers;
    if !selected_number.is_empty() && !choices.iter().any(|(n, _)| *n == selected_number) {
        choices.push((selected_number.clone(), String::new()));
    }
    view! {
        <form class="filters card" method="get" action=LIST_PATH>
            <div class="filter-grid">
                <div class="field">
                    <label for="from">{move || i18n.t().settle_from}</label>
                    <DateInput id="from" value=filter.from/>
                    <FieldErrors error field="from"/>
                </div>
                <div class="field">
                    <label for="to">{move || i18n.t().settle_to}</label>
                    <DateInput id="to" value=filter.to/>
                    <FieldErrors error field="to"/>
                </div>
                <div class="field">
                    <label for="number">{move || i18n.t().settle_number}</label>
                    <select id="number" name="number">
                        <option value="">{move || i18n.t().audit_any}</option>
                        {choices.into_iter().map(|(number, store)| {
                            let selected = number == selected_number;
                            let label = if store.is_empty() { number.clone() } else { format!("{number} {store}") };
                            view! { <option value=number selected=selected>{label}</option> }
                        }).collect_view()}
                    </select>
                    <FieldErrors error field="number"/>
                </div>
                <div class="field">
                    <label for="status">{move || i18n.t().settle_status}</label>
                    <select id="status" name="status">
                        <option value="">{move || i18n.t().audit_any}</option>
                        {SettlementStatus::ALL.iter().map(|s| {
                            let selected = selected_status == s.code();
                            view! { <option value=s.code() selected=selected>{move || s.label(i18n.lang())}</option> }
                        }).collect_view()}
                    </select>
                    <FieldErrors error field="status"/>
                </div>
            </div>
            <FieldErrors error field="day"/>
            <FieldErrors error field="after"/>
            <div class="form-actions">
                <button type="submit" class="button button-primary">{move || i18n.t().search}</button>
                <a class="button" href=LIST_PATH>{move || i18n.t().reset}</a>
                <a class="button button-quiet" href=format!("{LIST_PATH}?day=yesterday")>
                    {move || i18n.t().settle_yesterday}
                </a>
            </div>
        </form>
    }
}

#[component]
fn Results(page: SettlementPage, filter: SettlementFilter) -> impl IntoView {
    let i18n = use_i18n();
    let sums = page.sums;
    let count = sums.count;
    let too_many = count as u64 > page.export_limit;
    let limit = page.export_limit;
    let download = format!("{EXPORT_PATH}?{}", query_string(&filter.query_pairs(false)));
    let may_download_files = page.may_download_files;
    view! {
        <div class="toolbar">
            <p data-field="settle-total">{move || i18n.t().settle_total.replace("{}", &format_count(count))}</p>
            {match (page.may_export, too_many) {
                (false, _) => ().into_any(),
                (true, true) => view! {
                    <p class="hint" role="status">
                        {move || i18n.t().audit_download_too_many.replace("{}", &limit.to_string())}
                    </p>
                }.into_any(),
                (true, false) => view! {
                    <a class="button" href=download rel="external" download="" data-action="download">
                        {move || i18n.t().download_excel}
                    </a>
                }.into_any(),
            }}
        </div>
        {if page.rows.is_empty() {
            view! { <p class="muted">{move || i18n.t().settle_none}</p> }.into_any()
        } else {
            view! {
                <div class="table-wrap">
                    <table class="table" id="settlement-table">
                        <thead>
                            <tr>
                                <th>{move || i18n.t().settle_col_date}</th>
                                <th>{move || i18n.t().settle_col_number}</th>
                                <th>{move || i18n.t().settle_col_store}</th>
                                <th class="num">{move || i18n.t().settle_col_sales}</th>
                                <th class="num">{move || i18n.t().settle_col_gross}</th>
                                <th class="num">{move || i18n.t().settle_col_refunds}</th>
                                <th class="num">{move || i18n.t().settle_col_refund_amount}</th>
                                <th class="num">{move || i18n.t().settle_col_fees}</th>
                                <th class="num">{move || i18n.t().settle_col_net}</th>
                                <th>{move || i18n.t().settle_col_status}</th>
                                <th></th>
                            </tr>
                        </thead>
                        <tbody>
                            {page.rows.into_iter().map(|row| view! { <Row row may_download_files/> }).collect_view()}
                        </tbody>
                        <tfoot>
                            <tr data-field="settle-sums">
                                <th colspan="3">{move || i18n.t().settle_sums}</th>
                                <td class="num"><CountText n=sums.txn_count/></td>
                                <td class="num"><MoneyText fen=sums.gross_fen/></td>
                                <td class="num"><CountText n=sums.refund_count/></td>
                                <td class="num"><MoneyText fen=sums.refund_fen/></td>
                                <td class="num"><MoneyText fen=sums.fee_fen/></td>
                                <td class="num"><MoneyText fen=sums.net_fen/></td>
                                <td colspan="2"></td>
                            </tr>
                        </tfoot>
                    </table>
                </div>
            }.into_any()
        }}
        <Pager path=LIST_PATH pairs=filter.query_pairs(false) cursor="after" at=filter.after.clone()
            next=page.next_after/>
    }
}

#[component]
fn Row(row: SettlementRow, may_download_files: bool) -> impl IntoView {
    let i18n = use_i18n();
    let status = row.status;
    view! {
        <tr data-id=row.id>
            <td class="nowrap"><a href=detail_path(row.id)>{row.settlement_date}</a></td>
            <td class="mono">{row.merchant_no}</td>
            <td>{row.store}</td>
            <td class="num"><CountText n=row.txn_count/></td>
            <td class="num"><MoneyText fen=row.gross_fen/></td>
            <td class="num"><CountText n=row.refund_count/></td>
            <td class="num"><MoneyText fen=row.refund_fen/></td>
            <td class="num"><MoneyText fen=row.fee_fen/></td>
            <td class="num"><MoneyText fen=row.net_fen/></td>
            <td><StatusBadge status/></td>
            <td>
                <a class="nowrap" href=detail_path(row.id)>{move || i18n.t().settle_detail}</a>
                {may_download_files.then(|| view! {
                    <br/>
                    <a href=reconciliation_path(row.id) rel="external" download="">
                        {move || i18n.t().settle_recon_short}
                    </a>
                })}
            </td>
        </tr>
    }
}

/// One settlement: its figures, its reconciliation file and its transactions.
#[component]
pub fn SettlementPage() -> impl IntoView {
    let i18n = use_i18n();
    let id = id_param();
    let view = Resource::new(move || id.get(), settlement_detail);
    view! {
        <Title text=title_text(|l| l.texts().settle_detail.to_owned())/>
        <p><a href=LIST_PATH>{move || i18n.t().settle_back}</a></p>
        <h1>{move || i18n.t().settle_detail}</h1>
        <Loaded resource=view ok=move |view| view! { <Detail view/> }/>
    }
}

#[component]
fn Detail(view: SettlementView) -> impl IntoView {
    let i18n = use_i18n();
    let s = view.settlement;
    let tie_settlement = s.clone();
    let status = s.status;
    let id = s.id;

    view! {
        <section class="card">
            <dl class="facts" id="settlement-detail">
                <dt>{move || i18n.t().settle_col_date}</dt>
                <dd data-field="settlement-date">{s.settlement_date}</dd>
                <dt>{move || i18n.t().settle_col_number}</dt>
                <dd class="mono">{s.merchant_no}</dd>
                <dt>{move || i18n.t().settle_col_store}</dt>
                <dd>{s.store}</dd>
                <dt>{move || i18n.t().settle_col_period}</dt>
                <dd>{s.period}</dd>
                <dt>{move || i18n.t().settle_col_sales}</dt>
                <dd><CountText n=s.txn_count/></dd>
                <dt>{move || i18n.t().settle_col_gross}</dt>
                <dd><MoneyText fen=s.gross_fen/></dd>
                <dt>{move || i18n.t().settle_col_refunds}</dt>
                <dd><CountText n=s.refund_count/></dd>
                <dt>{move || i18n.t().settle_col_refund_amount}</dt>
                <dd><MoneyText fen=s.refund_fen/></dd>
                <dt>{move || i18n.t().settle_col_fees}</dt>
                <dd><MoneyText fen=s.fee_fen/></dd>
                <dt>{move || i18n.t().settle_col_net}</dt>
                <dd data-field="settlement-net"><MoneyText fen=s.net_fen/></dd>
                <dt>{move || i18n.t().settle_col_status}</dt>
                <dd><StatusBadge status/></dd>
                <dt>{move || i18n.t().settle_col_account}</dt>
                <dd class="mono">{s.account_masked}</dd>
                <dt>{move || i18n.t().settle_col_paid_at}</dt>
                <dd>{s.paid_at.unwrap_or_else(|| "—".to_owned())}</dd>
            </dl>
            <div class="form-actions">
                {view.may_query_transactions.then(|| view! {
                    <a class="button button-primary" href=format!("/transactions?settlement={id}") data-action="settlement-transactions">
                        {move || i18n.t().settle_transactions}
                    </a>
                })}
                {view.may_download_files.then(|| view! {
                    <a class="button" href=reconciliation_path(id) rel="external" download="" data-action="reconciliation">
                        {move || i18n.t().settle_recon}
                    </a>
                })}
            </div>
        </section>
        <TieOut settlement=tie_settlement makeup=view.makeup rows=None may_query_refunds=view.may_query_refunds/>
    }
}
