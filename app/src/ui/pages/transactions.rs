//! Transaction query (manual §3.3): simple filters and an advanced panel, all in the URL (a search can
//! be bookmarked and shared, the back button works); the results newest first by keyset with the
//! total, the Excel download, and the summary tabs for the same filters. One transaction's detail, and
//! its sales slip reprinted for paper.

use std::sync::Arc;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::exports::{start_transaction_export, DOWNLOADS_PATH};
use crate::api::transactions::{
    transaction_detail, transaction_filter_options, transaction_search, transaction_slip,
    Breakdown, LinkedTxn, Slip, SummaryBy, Tally, TxnFilter, TxnFilterOptions, TxnPage, TxnRow,
    TxnSummary, TxnView, DEFAULT_PAGE_SIZE, PAGE_SIZES,
};
use crate::domain::access::Function;
use crate::domain::money::format_count;
use crate::domain::{Bank, CardOrg, CardType, MaskedPan, Money, TxnStatus, TxnType};
use crate::error::AppError;
use crate::i18n::{title_text, use_i18n, Label, Texts};
use crate::ui::components::alert::ErrorAlert;
use crate::ui::components::form::FieldErrors;
use crate::ui::components::money::{CountText, MoneyText};
use crate::ui::components::tie_out::TieOut;
use crate::url::query_string;

use crate::ui::components::badge::StatusBadge;
use crate::ui::components::cells::When;
use crate::ui::components::load::Loaded;
use crate::ui::components::pager::PositionPager;
use crate::ui::paths::id_param;
use crate::ui::paths::refunds as refund_paths;
use crate::ui::paths::transactions::{detail_path, slip_path, EXPORT_PATH, LIST_PATH};

fn list_url(pairs: &[(&str, String)]) -> String {
    if pairs.is_empty() {
        LIST_PATH.to_owned()
    } else {
        format!("{LIST_PATH}?{}", query_string(pairs))
    }
}

fn summary_label(by: SummaryBy, t: &Texts) -> &'static str {
    match by {
        SummaryBy::TxnDate => t.txn_sum_by_date,
        SummaryBy::SettlementDate => t.txn_sum_by_sdate,
        SummaryBy::MerchantNumber => t.txn_sum_by_number,
        SummaryBy::CardOrg => t.txn_sum_by_org,
    }
}

#[component]
pub fn TransactionsPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        let q = query.get();
        TxnFilter::from_query(|k| q.get(k).unwrap_or_default())
    });
    let by = Memo::new(move |_| {
        query
            .get()
            .get("sum")
            .and_then(|code| SummaryBy::from_code(&code))
            .unwrap_or(SummaryBy::TxnDate)
    });
    let page = Resource::new(move || filter.get(), transaction_search);
    let options = Resource::new(|| (), |()| transaction_filter_options());
    let summary = Resource::new(
        move || (filter.get().without_paging(), by.get()),
        |(filter, by)| crate::api::transactions::transaction_summary(filter, by),
    );
    view! {
        <Title text=title_text(|l| Function::TransactionQuery.label(l).to_owned())/>
        <h1>{move || Function::TransactionQuery.label(i18n.lang())}</h1>
        <p class="muted">{move || i18n.t().txn_intro}</p>
        <Transition fallback=move || view! { <p class="muted">{move || i18n.t().loading}</p> }>
            {move || Suspend::new(async move {
                let filter = filter.get_untracked();
                let TxnFilterOptions { numbers, groups } = match options.await {
                    Ok(options) => options,
                    Err(error) => return view! { <ErrorAlert error/> }.into_any(),
                };
                match page.await {
                    Ok(page) => {
                        // The form shows the days searched (a quick menu's day resolved).
                        let shown = TxnFilter {
                            from: page.from.clone().unwrap_or_default(),
                            to: page.to.clone().unwrap_or_default(),
                            day: String::new(),
                            ..filter.clone()
                        };
                        view! {
                            <Filters filter=shown numbers groups error=Signal::derive(|| None)/>
                            <Results page filter/>
                        }
                        .into_any()
                    }
                    Err(error @ AppError::Invalid(_)) => {
                        let error = Signal::derive(move || Some(error.clone()));
                        view! { <Filters filter numbers groups error/> }
                            .into_any()
                    }
                    Err(error) => view! { <ErrorAlert error/> }.into_any(),
                }
            })}
        </Transition>
        <section class="summary" aria-labelledby="summary-title">
            <h2 id="summary-title">{move || i18n.t().txn_summary}</h2>
            <nav class="tabs" role="tablist">
                {SummaryBy::ALL.into_iter().map(|tab| {
                    let href = move || {
                        let mut pairs = filter.get().query_pairs(true);
                        pairs.push(("sum", tab.code().to_owned()));
                        list_url(&pairs)
                    };
                    let selected = move || by.get() == tab;
                    view! {
                        <a href=href role="tab" class="tab" class:tab-active=selected
                            aria-selected=move || selected().to_string() data-tab=tab.code()>
                            {move || summary_label(tab, i18n.t())}
                        </a>
                    }
                }).collect_view()}
            </nav>
            // Bad filters are already reported on the form.
            <Loaded resource=summary ok=move |summary| view! { <SummaryTable summary/> }
                invalid=Arc::new(|_| ().into_any())/>
        </section>
    }
}

/// More rows than a direct download holds: the file is written in the background and waits in the
/// downloads list.
#[component]
fn BackgroundExport(filter: TxnFilter, total: u64) -> impl IntoView {
    let i18n = use_i18n();
    let start = Action::new(move |filter: &TxnFilter| start_transaction_export(filter.clone()));
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(_)) = start.value().get() {
            navigate(DOWNLOADS_PATH, Default::default());
        }
    });
    let error = move || start.value().get().and_then(Result::err);
    view! {
        <div class="export-job">
            <p class="hint">{move || i18n.t().exports_background.replace("{}", &format_count(total as i64))}</p>
            <button type="button" class="button" data-action="start-export"
                disabled=move || start.pending().get()
                on:click=move |_| { start.dispatch(filter.clone()); }>
                {move || i18n.t().exports_start}
            </button>
            {move || error().map(|error| view! { <ErrorAlert error/> })}
        </div>
    }
}

/// A `<select>` of codes with "any" first.
#[component]
fn CodeSelect(
    id: &'static str,
    label: fn(&Texts) -> &'static str,
    selected: String,
    options: Vec<(String, Signal<String>)>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="field">
            <label for=id>{move || label(i18n.t())}</label>
            <select id=id name=id>
                <option value="">{move || i18n.t().audit_any}</option>
                {options.into_iter().map(|(value, text)| {
                    let is = value == selected;
                    view! { <option value=value selected=is>{text}</option> }
                }).collect_view()}
            </select>
            <FieldErrors error field=id/>
        </div>
    }
}

/// A text `<input>` with its label and problems.
#[component]
fn TextField(
    id: &'static str,
    label: fn(&Texts) -> &'static str,
    value: String,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "")] inputmode: &'static str,
    #[prop(default = 32)] maxlength: u32,
    #[prop(optional)] placeholder: Option<fn(&Texts) -> &'static str>,
    #[prop(optional)] node_ref: NodeRef<leptos::html::Input>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="field">
            <label for=id>{move || label(i18n.t())}</label>
            <input node_ref=node_ref id=id name=id type=kind value=value inputmode=(!inputmode.is_empty()).then_some(inputmode)
                maxlength=maxlength autocomplete="off"
                placeholder=move || placeholder.map(|p| p(i18n.t()))/>
            <FieldErrors error field=id/>
        </div>
    }
}

/// Codes and their labels, in the page's language (which the switch changes in place).
fn labelled<T: Label + Send + Sync + 'static>(
    all: &[T],
    code: fn(T) -> &'static str,
) -> Vec<(String, Signal<String>)> {
    let i18n = use_i18n();
    all.iter()
        .map(|v| {
            let v = *v;
            (
                code(v).to_owned(),
                Signal::derive(move || v.label(i18n.lang()).to_owned()),
            )
        })
        .collect()
}

/// Choices whose text does not depend on the language.
fn plain(choices: Vec<(String, String)>) -> Vec<(String, Signal<String>)> {
    choices
        .into_iter()
        .map(|(value, text)| (value, Signal::derive(move || text.clone())))
        .collect()
}

#[component]
fn Filters(
    filter: TxnFilter,
    numbers: Vec<(String, String)>,
    groups: Vec<(i64, String)>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let advanced = filter.uses_advanced();
    let mut number_choices: Vec<(String, String)> = numbers
        .into_iter()
        .map(|(no, store)| (no.clone(), format!("{no} {store}")))
        .collect();
    if !filter.number.is_empty() && !number_choices.iter().any(|(n, _)| *n == filter.number) {
        number_choices.push((filter.number.clone(), filter.number.clone()));
    }
    let group_choices: Vec<(String, String)> = groups
        .into_iter()
        .map(|(id, name)| (id.to_string(), name))
        .collect();
    // A whole card number typed into the card field is masked before the search leaves the browser,
    // so that it reaches neither the URL nor the history (the server refuses one anyway).
    let card = NodeRef::<leptos::html::Input>::new();
    let mask_card = move |_| {
        if let Some(input) = card.get() {
            if let Ok(masked) = MaskedPan::from_pan(&input.value()) {
                input.set_value(&masked.to_string());
            }
        }
    };
    let size = if filter.size.is_empty() {
        DEFAULT_PAGE_SIZE.to_string()
    } else {
        filter.size.clone()
    };
    view! {
        <form class="filters card" method="get" action=LIST_PATH id="txn-filters" on:submit=mask_card>
            <div class="filter-grid">
                <TextField id="from" label=|t| t.txn_from value=filter.from.clone()
                    inputmode="numeric" maxlength=10 placeholder=|t| t.date_placeholder error/>
                <TextField id="to" label=|t| t.txn_to value=filter.to.clone()
                    inputmode="numeric" maxlength=10 placeholder=|t| t.date_placeholder error/>
                <CodeSelect id="type" label=|t| t.txn_type selected=filter.txn_type.clone()
                    options=labelled(TxnType::ALL, TxnType::code) error/>
                <CodeSelect id="status" label=|t| t.txn_status selected=filter.status.clone()
                    options=labelled(TxnStatus::ALL, TxnStatus::code) error/>
                <TextField id="card" label=|t| t.txn_card value=filter.card.clone() maxlength=24
                    placeholder=|t| t.txn_card_hint node_ref=card error/>
                <TextField id="amount" label=|t| t.txn_amount value=filter.amount.clone()
                    inputmode="decimal" maxlength=20 error/>
                <TextField id="ref" label=|t| t.txn_reference value=filter.reference.clone()
                    inputmode="numeric" maxlength=12 error/>
            </div>
            <details class="advanced" open=advanced>
                <summary>{move || i18n.t().txn_advanced}</summary>
                <div class="filter-grid">
                    <TextField id="terminal" label=|t| t.txn_terminal value=filter.terminal.clone() maxlength=16 error/>
                    <CodeSelect id="group" label=|t| t.txn_group selected=filter.group.clone()
                        options=plain(group_choices) error/>
                    <CodeSelect id="number" label=|t| t.txn_number selected=filter.number.clone()
                        options=plain(number_choices) error/>
                    <CodeSelect id="org" label=|t| t.txn_org selected=filter.org.clone()
                        options=labelled(CardOrg::ALL, CardOrg::code) error/>
                    <CodeSelect id="card_type" label=|t| t.txn_card_type selected=filter.card_type.clone()
                        options=labelled(CardType::ALL, CardType::code) error/>
                    <CodeSelect id="bank" label=|t| t.txn_bank selected=filter.bank.clone()
                        options=labelled(Bank::ALL, Bank::code) error/>
                    <TextField id="auth" label=|t| t.txn_auth value=filter.auth.clone() maxlength=6 error/>
                    <TextField id="batch" label=|t| t.txn_batch value=filter.batch.clone()
                        inputmode="numeric" maxlength=6 error/>
                    <TextField id="sdate" label=|t| t.txn_sdate value=filter.sdate.clone()
                    inputmode="numeric" maxlength=10 placeholder=|t| t.date_placeholder error/>
                    <TextField id="settlement" label=|t| t.txn_settlement value=filter.settlement.clone()
                        inputmode="numeric" maxlength=19 error/>
                    <TextField id="min" label=|t| t.txn_min value=filter.min.clone()
                        inputmode="decimal" maxlength=20 error/>
                    <TextField id="max" label=|t| t.txn_max value=filter.max.clone()
                        inputmode="decimal" maxlength=20 error/>
                </div>
            </details>
            <FieldErrors error field="day"/>
            {["after", "before", "pos", "at"].map(|field| view! { <FieldErrors error field/> })}
            <div class="form-actions">
                <button type="submit" class="button button-primary">{move || i18n.t().search}</button>
                <a class="button" href=LIST_PATH>{move || i18n.t().reset}</a>
                <a class="button button-quiet" href=format!("{LIST_PATH}?day=today")>{move || i18n.t().txn_today}</a>
                <a class="button button-quiet" href=format!("{LIST_PATH}?day=yesterday")>{move || i18n.t().txn_yesterday}</a>
                <label class="inline-field">
                    {move || i18n.t().txn_size} " "
                    <select name="size" id="size" aria-describedby="size-error">
                        {PAGE_SIZES.into_iter().map(|s| {
                            let is = s.to_string() == size;
                            view! { <option value=s.to_string() selected=is>{s}</option> }
                        }).collect_view()}
                        // A size the list does not offer (typed into the address) stays shown, so
                        // that the message beside it says what was wrong with it.
                        {(!size.is_empty() && !PAGE_SIZES.iter().any(|s| s.to_string() == size))
                            .then(|| view! { <option value=size.clone() selected=true>{size.clone()}</option> })}
                    </select>
                </label>
                <span id="size-error"><FieldErrors error field="size"/></span>
            </div>
        </form>
    }
}

#[component]
fn Results(page: TxnPage, filter: TxnFilter) -> impl IntoView {
    let i18n = use_i18n();
    let total = page.total;
    let shown = page.rows.len() as u64;
    let (direct_limit, cap) = (page.direct_limit, page.export_cap);
    let download = format!("{EXPORT_PATH}?{}", query_string(&filter.query_pairs(false)));
    let mut keep = filter.query_pairs(false);
    if !filter.size.is_empty() {
        keep.push(("size", filter.size.clone()));
    }
    let export = match (page.may_export, total) {
        (false, _) | (_, 0) => ().into_any(),
        (true, n) if n <= direct_limit => view! {
            <a class="button" href=download rel="external" download="" data-action="download">
                {move || i18n.t().download_excel}
            </a>
        }
        .into_any(),
        (true, n) if n <= cap => view! { <BackgroundExport filter=filter.clone() total=n/> }.into_any(),
        (true, n) => view! {
            <p class="hint" role="status" data-field="export-too-many">
                {move || i18n.t().exports_too_many.replacen("{}", &format_count(n as i64), 1).replacen("{}", &format_count(cap as i64), 1)}
            </p>
        }
        .into_any(),
    };
    view! {
        <div class="toolbar">
            <p data-field="txn-total">{move || i18n.t().txn_total.replace("{}", &format_count(total as i64))}</p>
            {export}
        </div>
        {if page.rows.is_empty() {
            view! { <p class="muted">{move || i18n.t().txn_none}</p> }.into_any()
        } else {
            view! {
                <div class="table-wrap">
                    <table class="table" id="txn-table">
                        <thead>
                            <tr>
                                <th>{move || i18n.t().txn_col_time}</th>
                                <th>{move || i18n.t().txn_number}</th>
                                <th>{move || i18n.t().txn_terminal}</th>
                                <th>{move || i18n.t().txn_type} <br/> <span class="muted">{move || i18n.t().txn_status}</span></th>
                                <th>{move || i18n.t().txn_col_card}</th>
                                <th>{move || i18n.t().txn_org}</th>
                                <th class="num">{move || i18n.t().txn_col_amount}</th>
                                <th>{move || i18n.t().txn_col_reference} <br/> <span class="muted">{move || i18n.t().txn_col_voucher}</span></th>
                                <th>{move || i18n.t().txn_sdate}</th>
                            </tr>
                        </thead>
                        <tbody>
                            {page.rows.into_iter().map(|row| view! { <Row row/> }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any()
        }}
        <PositionPager path=LIST_PATH pairs=keep total offset=page.offset shown
            next_after=page.next_after prev_before=page.prev_before/>
    }
}

#[component]
fn Row(row: TxnRow) -> impl IntoView {
    let i18n = use_i18n();
    let (txn_type, status, org) = (row.txn_type, row.status, row.card_org);
    view! {
        <tr data-id=row.id>
            <td><a href=detail_path(row.id)><When at=row.time/></a></td>
            <td class="mono">{row.merchant_no}</td>
            <td class="mono">{row.terminal_no}</td>
            <td class="nowrap">{move || txn_type.label(i18n.lang())} <br/> <StatusBadge status/></td>
            <td class="mono nowrap">{row.card_masked}</td>
            <td class="nowrap" data-col="org">{move || org.label(i18n.lang())}</td>
            <td class="num"><MoneyText fen=row.amount_fen/></td>
            <td class="mono">{row.reference_no}<br/><span class="muted">{row.voucher_no}</span></td>
            <td class="nowrap">{row.settlement_date.unwrap_or_default()}</td>
        </tr>
    }
}

#[component]
fn SummaryTable(summary: TxnSummary) -> impl IntoView {
    let i18n = use_i18n();
    let by = summary.by;
    let tie_out = summary.settlement.clone().map(|t| {
        view! {
            <TieOut settlement=t.settlement makeup=t.makeup rows=Some(summary.total)
                may_query_refunds=t.may_query_refunds/>
        }
    });
    if summary.lines.is_empty() {
        return view! { {tie_out} <p class="muted">{move || i18n.t().txn_none}</p> }.into_any();
    }
    let line_view = move |key: String, note: String, b: Breakdown, total: bool| {
        let label = move || {
            if total {
                i18n.t().txn_sum_total.to_owned()
            } else if key.is_empty() {
                i18n.t().txn_unsettled.to_owned()
            } else if by == SummaryBy::CardOrg {
                CardOrg::from_code(&key).map_or(key.clone(), |o| o.label(i18n.lang()).to_owned())
            } else {
                key.clone()
            }
        };
        // Money out is shown as it leaves: negative.
        let out = |t: Tally| {
            view! {
                <td class="num"><CountText n=t.count/></td>
                <td class="num"><MoneyText fen=t.amount_fen.saturating_neg()/></td>
            }
        };
        // What moved no money: the count, its amount on hover.
        let aside = |t: Tally| {
            view! {
                <td class="num muted" title=move || format!("{} {}", i18n.t().txn_sum_amount_of, Money::cny(t.amount_fen))>
                    <CountText n=t.count/>
                </td>
            }
        };
        view! {
            <tr class:total=total>
                <th scope="row" class="nowrap">{label} {(!note.is_empty()).then(|| view! { <span class="muted small">" " {note}</span> })}</th>
                <td class="num"><CountText n=b.sales.count/></td>
                <td class="num"><MoneyText fen=b.sales.amount_fen/></td>
                {out(b.voids)}
                {out(b.refunds)}
                <td class="num strong" data-field="net">
                    {match b.net_fen() {
                        Ok(fen) => view! { <MoneyText fen/> }.into_any(),
                        Err(_) => view! { "—" }.into_any(),
                    }}
                </td>
                {aside(b.preauths)}
                {aside(b.failed)}
                {aside(b.reversed)}
            </tr>
        }
    };
    let pair = |label: fn(&Texts) -> &'static str| {
        view! {
            <th colspan="2" class="num">{move || label(i18n.t())}</th>
        }
    };
    view! {
        {tie_out}
        <div class="table-wrap">
            <table class="table" id="summary-table" data-by=by.code()>
                <thead>
                    <tr>
                        <th rowspan="2">{move || summary_label(by, i18n.t())}</th>
                        {pair(|t| t.txn_sum_sales)}
                        {pair(|t| t.txn_sum_voids)}
                        {pair(|t| t.txn_sum_refunds)}
                        <th rowspan="2" class="num">{move || i18n.t().txn_sum_net}</th>
                        <th colspan="3" class="num muted">{move || i18n.t().txn_sum_no_money}</th>
                    </tr>
                    <tr>
                        {(0..3).map(|_| view! {
                            <th class="num">{move || i18n.t().txn_sum_count}</th>
                            <th class="num">{move || i18n.t().txn_sum_amount}</th>
                        }).collect_view()}
                        <th class="num">{move || i18n.t().txn_sum_preauths}</th>
                        <th class="num">{move || i18n.t().txn_sum_failed}</th>
                        <th class="num">{move || i18n.t().txn_sum_reversed}</th>
                    </tr>
                </thead>
                <tbody>
                    {summary.lines.into_iter().map(|l| line_view(l.key, l.note, l.figures, false)).collect_view()}
                </tbody>
                <tfoot>{line_view(String::new(), String::new(), summary.total, true)}</tfoot>
            </table>
        </div>
        <p class="muted small">{move || i18n.t().txn_sum_explained}</p>
    }
    .into_any()
}

/// One transaction: what the slip shows and more, the transactions linked to it, and the way to its
/// settlement and its slip.
#[component]
pub fn TransactionPage() -> impl IntoView {
    let i18n = use_i18n();
    let id = id_param();
    let view = Resource::new(move || id.get(), transaction_detail);
    view! {
        <Title text=title_text(|l| l.texts().txn_detail.to_owned())/>
        <p class="no-print"><a href=LIST_PATH>{move || i18n.t().txn_back}</a></p>
        <h1>{move || i18n.t().txn_detail}</h1>
        <Loaded resource=view ok=move |view| view! { <Detail view/> }/>
    }
}

#[component]
fn Detail(view: TxnView) -> impl IntoView {
    let i18n = use_i18n();
    let t = view.txn;
    let (txn_type, status, org, card_type, bank) =
        (t.txn_type, t.status, t.card_org, t.card_type, t.bank);
    let id = t.id;
    let settlement = t.settlement_id.filter(|_| view.may_query_settlements);
    view! {
        <section class="card">
            <dl class="facts facts-2col" id="txn-detail">
                <dt>{move || i18n.t().txn_col_time}</dt><dd data-field="txn-time">{t.time}</dd>
                <dt>{move || i18n.t().txn_type}</dt><dd>{move || txn_type.label(i18n.lang())}</dd>
                <dt>{move || i18n.t().txn_status}</dt>
                <dd><StatusBadge status/></dd>
                <dt>{move || i18n.t().txn_col_amount}</dt><dd data-field="txn-amount"><MoneyText fen=t.amount_fen/></dd>
                <dt>{move || i18n.t().txn_col_fee}</dt>
                <dd>{t.fee_fen.map(|fen| view! { <MoneyText fen/> })}</dd>
                <dt>{move || i18n.t().txn_refunded}</dt><dd><MoneyText fen=t.refunded_fen/></dd>
                {(view.refund_in_flight_fen > 0).then(|| view! {
                    <dt>{move || i18n.t().refund_in_flight}</dt>
                    <dd data-field="txn-refund-in-flight">
                        <MoneyText fen=view.refund_in_flight_fen/>
                        {view.may_query_refunds.then(|| view! {
                            " " <a href=refund_paths::of_txn_path(id)>{move || i18n.t().refund_requests_of_txn}</a>
                        })}
                    </dd>
                })}
                <dt>{move || i18n.t().txn_col_card}</dt><dd class="mono" data-field="txn-card">{t.card_masked}</dd>
                <dt>{move || i18n.t().txn_org}</dt><dd>{move || org.label(i18n.lang())}</dd>
                <dt>{move || i18n.t().txn_card_type}</dt><dd>{move || card_type.label(i18n.lang())}</dd>
                <dt>{move || i18n.t().txn_bank}</dt><dd>{move || bank.map(|b| b.label(i18n.lang()))}</dd>
                <dt>{move || i18n.t().txn_number}</dt><dd class="mono">{t.merchant_no}</dd>
                <dt>{move || i18n.t().txn_store}</dt><dd>{view.store}</dd>
                <dt>{move || i18n.t().txn_terminal}</dt><dd class="mono">{t.terminal_no}</dd>
                <dt>{move || i18n.t().txn_alias}</dt><dd>{view.terminal_alias}</dd>
                <dt>{move || i18n.t().txn_batch}</dt><dd class="mono">{t.batch_no}</dd>
                <dt>{move || i18n.t().txn_col_voucher}</dt><dd class="mono">{t.voucher_no}</dd>
                <dt>{move || i18n.t().txn_col_reference}</dt><dd class="mono" data-field="txn-reference">{t.reference_no}</dd>
                <dt>{move || i18n.t().txn_auth}</dt><dd class="mono">{t.auth_code}</dd>
                <dt>{move || i18n.t().txn_sdate}</dt>
                <dd>{match (settlement, t.settlement_date) {
                    (Some(sid), Some(date)) => view! { <a href=format!("/settlements/{sid}")>{date}</a> }.into_any(),
                    (_, Some(date)) => date.into_any(),
                    (_, None) => view! { <span class="muted">{move || i18n.t().txn_unsettled}</span> }.into_any(),
                }}</dd>
            </dl>
            <div class="form-actions">
                {view.may_reprint.then(|| view! {
                    <a class="button button-primary" href=slip_path(id) data-action="reprint">{move || i18n.t().txn_reprint}</a>
                })}
                {view.reprint_on_terminal.then(|| view! {
                    <p class="hint">{move || i18n.t().txn_reprint_on_terminal}</p>
                })}
                {view.may_refund.then(|| view! {
                    <a class="button" href=refund_paths::new_path(id) data-action="refund">{move || i18n.t().refund_action}</a>
                })}
                {view.may_query_refunds.then(|| view! {
                    <a class="button button-quiet" href=refund_paths::of_txn_path(id) data-action="refund-requests">
                        {move || i18n.t().refund_requests_of_txn}
                    </a>
                })}
            </div>
        </section>
        {view.original.map(|o| view! {
            <h2>{move || i18n.t().txn_original}</h2>
            <LinkedTable rows=vec![o]/>
        })}
        {(!view.linked.is_empty()).then(|| view! {
            <h2>{move || i18n.t().txn_linked}</h2>
            <LinkedTable rows=view.linked/>
        })}
    }
}

#[component]
fn LinkedTable(rows: Vec<LinkedTxn>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead>
                    <tr>
                        <th>{move || i18n.t().txn_col_time}</th>
                        <th>{move || i18n.t().txn_type}</th>
                        <th>{move || i18n.t().txn_status}</th>
                        <th class="num">{move || i18n.t().txn_col_amount}</th>
                        <th>{move || i18n.t().txn_col_reference}</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|l| {
                        let (txn_type, status) = (l.txn_type, l.status);
                        view! {
                            <tr>
                                <td class="nowrap"><a href=detail_path(l.id)>{l.time}</a></td>
                                <td>{move || txn_type.label(i18n.lang())}</td>
                                <td><StatusBadge status/></td>
                                <td class="num"><MoneyText fen=l.amount_fen/></td>
                                <td class="mono">{l.reference_no}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// The sales slip (签购单) of a transaction not from today, as a POS prints it, for paper.
#[component]
pub fn SlipPage() -> impl IntoView {
    let i18n = use_i18n();
    let id = id_param();
    let slip = Resource::new(move || id.get(), transaction_slip);
    view! {
        <Title text=title_text(|l| l.texts().slip_title.to_owned())/>
        <p class="no-print">
            <a href=move || detail_path(id.get())>{move || i18n.t().txn_detail}</a>
        </p>
        <Loaded resource=slip ok=move |slip| view! { <SlipView slip/> }/>
    }
}

#[component]
fn SlipView(slip: Slip) -> impl IntoView {
    let i18n = use_i18n();
    let t = move || i18n.t();
    let (txn_type, org, card_type, bank) =
        (slip.txn_type, slip.card_org, slip.card_type, slip.bank);
    let amount = Money::cny(slip.amount_fen).format_with_symbol();
    let print = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    };
    view! {
        <div class="slip-actions no-print">
            <button type="button" class="button button-primary" on:click=print>{move || t().slip_print}</button>
        </div>
        <article class="slip" id="slip" aria-label=move || t().slip_title>
            <header class="slip-head">
                <p class="slip-brand">{move || t().app_name}</p>
                <p class="slip-title">{move || t().slip_title}</p>
                <p class="slip-copy">{move || t().slip_copy}</p>
                <p class="slip-reprint" data-field="slip-reprint">{move || t().slip_reprint}</p>
            </header>
            <dl class="slip-lines">
                <dt>{move || t().slip_merchant_name}</dt><dd>{slip.merchant_name} " " {slip.store}</dd>
                <dt>{move || t().slip_merchant_no}</dt><dd class="mono">{slip.merchant_no}</dd>
                <dt>{move || t().slip_terminal}</dt><dd class="mono">{slip.terminal_no}</dd>
                <dt>{move || t().slip_card}</dt>
                <dd class="mono slip-big" data-field="slip-card">{slip.card_masked}</dd>
                <dt>{move || t().slip_issuer}</dt>
                <dd>{move || bank.map(|b| b.label(i18n.lang()))} " " {move || org.label(i18n.lang())} " " {move || card_type.label(i18n.lang())}</dd>
                <dt>{move || t().slip_txn_type}</dt><dd class="slip-big">{move || txn_type.label(i18n.lang())}</dd>
                <dt>{move || t().slip_batch}</dt><dd class="mono">{slip.batch_no}</dd>
                <dt>{move || t().slip_voucher}</dt><dd class="mono">{slip.voucher_no}</dd>
                <dt>{move || t().slip_reference}</dt><dd class="mono" data-field="slip-reference">{slip.reference_no}</dd>
                <dt>{move || t().slip_auth}</dt><dd class="mono">{slip.auth_code}</dd>
                {slip.original_reference.map(|r| view! {
                    <dt>{move || t().slip_original}</dt><dd class="mono">{r}</dd>
                })}
                <dt>{move || t().slip_time}</dt><dd class="mono">{slip.time}</dd>
                <dt>{move || t().slip_amount}</dt><dd class="slip-amount" data-field="slip-amount">{amount}</dd>
            </dl>
            <footer class="slip-foot">
                <p>{move || t().slip_signature}</p>
                <p class="slip-sign-line"></p>
                <p class="small">{move || t().slip_ack}</p>
                <p class="small">{move || t().slip_reprinted_at} " " {slip.reprinted_at}</p>
            </footer>
        </article>
    }
}
