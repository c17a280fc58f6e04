//! Terminals (manual §3.7.3): the merchant's terminals with their sign-in state, one terminal's page
//! with its open batch and the batches that closed out of balance, and its alias, state and groups.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::api::terminals::{
    get_terminal, list_terminals, BatchView, TerminalDetail, TerminalFilter, TerminalForm,
    TerminalList, UpdateTerminal,
};
use crate::domain::access::Function;
use crate::domain::gateway::BatchTotals;
use crate::domain::TerminalStatus;
use crate::error::AppError;
use crate::i18n::{title_text, use_i18n, Label};
use crate::ui::components::alert::ErrorAlert;
use crate::ui::components::badge::StatusBadge;
use crate::ui::components::form::FieldErrors;
use crate::ui::components::load::Loaded;
use crate::ui::components::money::{CountText, MoneyText};
use crate::ui::paths::{self, id_param};

#[component]
pub fn TerminalsPage() -> impl IntoView {
    let i18n = use_i18n();
    // The filters live in the address, so that a search can be bookmarked, shared and reloaded, and
    // the form works without JavaScript (a plain GET).
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        let q = query.get();
        TerminalFilter::from_query(|k| q.get(k).unwrap_or_default())
    });
    let list = Resource::new(move || filter.get(), list_terminals);
    view! {
        <Title text=title_text(|l| Function::AdminTerminals.label(l).to_owned())/>
        <h1>{move || Function::AdminTerminals.label(i18n.lang())}</h1>
        <Loaded resource=list ok=move |list: TerminalList| {
            let TerminalList { rows, total, limit, numbers, groups } = list;
            let f = filter.get_untracked();
            let selected = |chosen: &str, value: &str| chosen == value;
            view! {
                <form class="toolbar search-form" data-form="terminal-search" method="get" action=paths::terminals::LIST_PATH>
                    <input type="search" name="search" aria-label=move || i18n.t().term_search
                        placeholder=move || i18n.t().term_search value=f.search.clone()/>
                    <select name="number" aria-label=move || i18n.t().term_number>
                        <option value="">{move || i18n.t().term_any_number}</option>
                        {numbers.into_iter().map(|(no, store)| {
                            let label = format!("{no} {store}");
                            let chosen = selected(&f.number, &no);
                            view! { <option value=no selected=chosen>{label}</option> }
                        }).collect_view()}
                    </select>
                    <select name="group" aria-label=move || i18n.t().term_groups>
                        <option value="">{move || i18n.t().term_any_group}</option>
                        {groups.into_iter().map(|g| {
                            let id = g.id.to_string();
                            let chosen = selected(&f.group, &id);
                            view! { <option value=id selected=chosen>{g.name}</option> }
                        }).collect_view()}
                    </select>
                    <select name="status" aria-label=move || i18n.t().term_status>
                        <option value="">{move || i18n.t().term_any_status}</option>
                        {TerminalStatus::ALL.iter().map(|s| {
                            let s = *s;
                            let chosen = selected(&f.status, s.code());
                            view! { <option value=s.code() selected=chosen>{move || s.label(i18n.lang())}</option> }
                        }).collect_view()}
                    </select>
                    <select name="signed_in" aria-label=move || i18n.t().term_signed_in>
                        <option value="">{move || i18n.t().term_any_sign}</option>
                        <option value="yes" selected=selected(&f.signed_in, "yes")>{move || i18n.t().term_signed_in}</option>
                        <option value="no" selected=selected(&f.signed_in, "no")>{move || i18n.t().term_signed_out}</option>
                    </select>
                    <button type="submit" class="button">{move || i18n.t().ops_search_button}</button>
                </form>
                {(total > limit).then(|| view! { <p class="hint">{move || (i18n.t().term_first_of)(limit, total)}</p> })}
                {if rows.is_empty() {
                    view! { <p class="muted">{move || i18n.t().term_none_found}</p> }.into_any()
                } else {
                    view! { <TerminalTable rows/> }.into_any()
                }}
            }
        }/>
    }
}

#[component]
fn TerminalTable(rows: Vec<crate::api::terminals::TerminalRow>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="table-wrap">
            <table class="table" data-table="terminals">
                <thead>
                    <tr>
                        <th scope="col" class="nowrap">{move || i18n.t().term_no}</th>
                        <th scope="col" class="nowrap">{move || i18n.t().term_alias}</th>
                        <th scope="col" class="nowrap">{move || i18n.t().term_number}</th>
                        <th scope="col" class="nowrap">{move || i18n.t().term_groups}</th>
                        <th scope="col" class="nowrap">{move || i18n.t().term_status}</th>
                        <th scope="col" class="nowrap">{move || i18n.t().term_sign_state}</th>
                        <th scope="col" class="nowrap">{move || i18n.t().term_last_seen}</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|row| {
                        let href = paths::terminals::detail_path(row.id);
                        let signed_in = row.signed_in;
                        let groups = row.groups.clone();
                        let key = row.terminal_no.clone();
                        view! {
                            <tr data-terminal=key>
                                <td class="mono"><A href=href>{row.terminal_no}</A></td>
                                <td class="nowrap">{row.alias.unwrap_or_default()}</td>
                                <td class="nowrap"><span class="mono">{row.merchant_no}</span> " " <span class="muted">{row.store}</span></td>
                                <td class="nowrap">{move || i18n.lang().list(groups.iter().map(String::as_str))}</td>
                                <td class="nowrap"><StatusBadge status=row.status/></td>
                                <td class="nowrap">{move || if signed_in { i18n.t().term_signed_in } else { i18n.t().term_signed_out }}</td>
                                <td class="nowrap">{row.last_seen.unwrap_or_default()}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
pub fn TerminalPage() -> impl IntoView {
    let i18n = use_i18n();
    let id = id_param();
    let version = RwSignal::new(0_u32);
    let detail = Resource::new(
        move || (id.get(), version.get()),
        |(id, _)| get_terminal(id),
    );
    view! {
        <Title text=title_text(|l| Function::AdminTerminals.label(l).to_owned())/>
        <p><A href=paths::terminals::LIST_PATH>{move || i18n.t().term_back}</A></p>
        <Loaded resource=detail ok=move |detail| view! { <TerminalView detail version/> }/>
    }
}

#[component]
fn TerminalView(detail: TerminalDetail, version: RwSignal<u32>) -> impl IntoView {
    let i18n = use_i18n();
    let id = detail.id;
    let alias = RwSignal::new(detail.alias.clone().unwrap_or_default());
    let enabled = RwSignal::new(detail.status == TerminalStatus::Enabled);
    let group_ids = RwSignal::new(detail.group_ids.clone());
    let update = ServerAction::<UpdateTerminal>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = update.value().get() {
            version.update(|v| *v += 1);
        }
    });
    let error = Signal::derive(move || update.value().get().and_then(Result::err));
    let signed_in = detail.signed_in;
    let title = match &detail.alias {
        Some(alias) => format!("{} {}", detail.terminal_no, alias),
        None => detail.terminal_no.clone(),
    };
    let groups = detail.groups.clone();
    let has_groups = !groups.is_empty();
    view! {
        <h1>{title}</h1>
        {move || error.get().filter(|e| !matches!(e, AppError::Invalid(_))).map(|error| view! { <ErrorAlert error/> })}
        <div class="cards">
            <section class="card">
                <dl class="facts">
                    <dt>{move || i18n.t().term_number}</dt>
                    <dd><span class="mono">{detail.merchant_no.clone()}</span> " " {detail.store.clone()}</dd>
                    <dt>{move || i18n.t().term_model}</dt>
                    <dd>{detail.model.clone()}</dd>
                    <dt>{move || i18n.t().term_status}</dt>
                    <dd data-field="terminal-status"><StatusBadge status=detail.status/></dd>
                    <dt>{move || i18n.t().term_sign_state}</dt>
                    <dd data-field="sign-state">{move || if signed_in { i18n.t().term_signed_in } else { i18n.t().term_signed_out }}
                        " " <span class="muted">{detail.sign_state_at.clone().unwrap_or_default()}</span></dd>
                    <dt>{move || i18n.t().term_last_sign_in}</dt>
                    <dd data-field="last-sign-in">{detail.last_sign_in.clone().unwrap_or_default()}</dd>
                    <dt>{move || i18n.t().term_last_sign_out}</dt>
                    <dd data-field="last-sign-out">{detail.last_sign_out.clone().unwrap_or_default()}</dd>
                    <dt>{move || i18n.t().term_last_seen}</dt>
                    <dd>{detail.last_seen.clone().unwrap_or_default()}</dd>
                    <dt>{move || (i18n.t().term_today_sales)(&detail.today)}</dt>
                    <dd data-field="today-sales"><CountText n=detail.today_sales.count/> " / " <MoneyText fen=detail.today_sales.amount_fen/></dd>
                </dl>
            </section>
            <section class="card">
                <h2>{move || i18n.t().term_open_batch}</h2>
                {match detail.open_batch.clone() {
                    Some(batch) => view! { <BatchFacts batch/> }.into_any(),
                    None => view! { <p class="muted">{move || i18n.t().term_no_open_batch}</p> }.into_any(),
                }}
            </section>
        </div>
        <section class="card">
            <h2>{move || i18n.t().term_out_of_balance}</h2>
            {if detail.out_of_balance.is_empty() {
                view! { <p class="muted">{move || i18n.t().term_none_out_of_balance}</p> }.into_any()
            } else {
                detail.out_of_balance.clone().into_iter().map(|batch| view! { <BatchFacts batch/> }).collect_view().into_any()
            }}
        </section>
        <section class="card">
            <h2>{move || i18n.t().term_settings}</h2>
            {move || matches!(update.value().get(), Some(Ok(()))).then(|| view! {
                <div class="alert alert-success" role="status"><p>{move || i18n.t().ops_saved}</p></div>
            })}
            <form class="form" on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                update.dispatch(UpdateTerminal { id, form: TerminalForm {
                    alias: alias.get_untracked(),
                    enabled: enabled.get_untracked(),
                    group_ids: group_ids.get_untracked(),
                } });
            }>
                <div class="field">
                    <label for="alias">{move || i18n.t().term_alias}</label>
                    <input id="alias" type="text" maxlength="64" prop:value=move || alias.get()
                        on:input=move |ev| alias.set(event_target_value(&ev))/>
                    <FieldErrors error field="alias"/>
                </div>
                <label class="check-label">
                    <input type="checkbox" name="enabled" prop:checked=move || enabled.get()
                        on:change=move |ev| enabled.set(event_target_checked(&ev))/>
                    {move || i18n.t().term_enabled}
                </label>
                <p class="hint">{move || i18n.t().term_enabled_hint}</p>
                <fieldset class="field">
                    <legend>{move || i18n.t().term_groups}</legend>
                    {(!has_groups).then(|| view! { <p class="hint">{move || i18n.t().ops_no_groups}</p> })}
                    {groups.into_iter().map(|g| {
                        let gid = g.id;
                        view! {
                            <label class="check-label">
                                <input type="checkbox" name="group_ids" value=gid
                                    prop:checked=move || group_ids.with(|ids| ids.contains(&gid))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        group_ids.update(|ids| {
                                            ids.retain(|x| *x != gid);
                                            if on { ids.push(gid); ids.sort_unstable(); }
                                        });
                                    }/>
                                {g.name}
                            </label>
                        }
                    }).collect_view()}
                    <FieldErrors error field="group_ids"/>
                </fieldset>
                <button type="submit" class="button button-primary" disabled=move || update.pending().get()>
                    {move || i18n.t().term_save}
                </button>
            </form>
        </section>
    }
}

/// A batch with the host's totals and, once signed out, the terminal's beside them.
#[component]
fn BatchFacts(batch: BatchView) -> impl IntoView {
    let i18n = use_i18n();
    let BatchView {
        batch_no,
        status,
        opened_at,
        closed_at,
        host,
        declared,
    } = batch;
    let period = match closed_at {
        Some(closed) => format!("{opened_at} – {closed}"),
        None => opened_at,
    };
    let has_declared = declared.is_some();
    let declared = declared.unwrap_or_default();
    let line = move |label: fn(&crate::i18n::Texts) -> &'static str,
                     pick: fn(&BatchTotals) -> crate::domain::breakdown::Tally| {
        let (h, d) = (pick(&host), pick(&declared));
        let differs = has_declared && h != d;
        view! {
            <tr class:row-alert=differs>
                <th scope="row">{move || label(i18n.t())}</th>
                <td class="num"><CountText n=h.count/></td>
                <td class="num"><MoneyText fen=h.amount_fen/></td>
                {has_declared.then(|| view! {
                    <td class="num"><CountText n=d.count/></td>
                    <td class="num"><MoneyText fen=d.amount_fen/></td>
                })}
            </tr>
        }
    };
    let key = batch_no.clone();
    view! {
        <div class="batch" data-batch=key data-status=status>
            <p><strong class="mono">{batch_no}</strong> " " <span class="muted">{period}</span></p>
            <div class="table-wrap">
                <table class="table">
                    <thead>
                        <tr>
                            <th scope="col"></th>
                            <th scope="col" colspan="2">{move || i18n.t().term_host_totals}</th>
                            {has_declared.then(|| view! { <th scope="col" colspan="2">{move || i18n.t().term_declared_totals}</th> })}
                        </tr>
                    </thead>
                    <tbody>
                        {line(|t| t.term_sales, |b| b.sale)}
                        {line(|t| t.term_voids, |b| b.void)}
                        {line(|t| t.term_refunds, |b| b.refund)}
                    </tbody>
                </table>
            </div>
        </div>
    }
}
