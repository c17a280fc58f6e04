//! The audit log (administrators): filters in the URL (a search can be bookmarked, the back button
//! works), newest events first, older pages by keyset, and the Excel download of the same selection.

use std::sync::Arc;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::audit::{
    audit_log, AuditFilter, AuditPage, AuditRow, DetailItem, DetailValue, ObjectKind, ObjectRef,
};
use crate::domain::access::Function;
use crate::domain::{AuditAction, AuditOutcome};
use crate::error::AppError;
use crate::i18n::{title_text, use_i18n, Label};
use crate::ui::components::form::{DateInput, FieldErrors};
use crate::ui::components::load::Loaded;
use crate::ui::components::money::{CountText, MoneyText};
use crate::ui::components::pager::Pager;
use crate::ui::paths;
use crate::url::query_string;

use crate::ui::paths::audit::EXPORT_PATH;

#[component]
pub fn AuditLogPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        let q = query.get();
        let get = |k: &str| q.get(k).unwrap_or_default();
        AuditFilter {
            from: get("from"),
            to: get("to"),
            operator: get("operator"),
            action: get("action"),
            outcome: get("outcome"),
            before: get("before"),
        }
    });
    let page = Resource::new(move || filter.get(), audit_log);
    view! {
        <Title text=title_text(|l| Function::AdminAuditLog.label(l).to_owned())/>
        <h1>{move || Function::AdminAuditLog.label(i18n.lang())}</h1>
        <p class="muted">{move || i18n.t().audit_intro}</p>
        <Loaded resource=page
            ok=move |page| {
                let filter = filter.get_untracked();
                view! {
                    <Filters filter=filter.clone() error=Signal::derive(|| None)/>
                    <Results page filter/>
                }
            }
            invalid=Arc::new(move |error| {
                let filter = filter.get_untracked();
                let error = Signal::derive(move || Some(error.clone()));
                view! { <Filters filter error/> }.into_any()
            })/>
    }
}

#[component]
fn Filters(filter: AuditFilter, error: Signal<Option<AppError>>) -> impl IntoView {
    let i18n = use_i18n();
    let selected_action = filter.action.clone();
    let selected_outcome = filter.outcome.clone();
    view! {
        <form class="filters card" method="get" action="/admin/audit">
            <div class="filter-grid">
                <div class="field">
                    <label for="from">{move || i18n.t().audit_from}</label>
                    <DateInput id="from" value=filter.from/>
                    <FieldErrors error field="from"/>
                </div>
                <div class="field">
                    <label for="to">{move || i18n.t().audit_to}</label>
                    <DateInput id="to" value=filter.to/>
                    <FieldErrors error field="to"/>
                </div>
                <div class="field">
                    <label for="operator">{move || i18n.t().audit_operator}</label>
                    <input id="operator" name="operator" maxlength="64" value=filter.operator/>
                </div>
                <div class="field">
                    <label for="action">{move || i18n.t().audit_action}</label>
                    <select id="action" name="action">
                        <option value="">{move || i18n.t().audit_any}</option>
                        {AuditAction::ALL.iter().map(|a| {
                            let selected = selected_action == a.code();
                            view! { <option value=a.code() selected=selected>{move || a.label(i18n.lang())}</option> }
                        }).collect_view()}
                    </select>
                    <FieldErrors error field="action"/>
                </div>
                <div class="field">
                    <label for="outcome">{move || i18n.t().audit_outcome}</label>
                    <select id="outcome" name="outcome">
                        <option value="">{move || i18n.t().audit_any}</option>
                        {AuditOutcome::ALL.iter().map(|o| {
                            let selected = selected_outcome == o.code();
                            view! { <option value=o.code() selected=selected>{move || o.label(i18n.lang())}</option> }
                        }).collect_view()}
                    </select>
                    <FieldErrors error field="outcome"/>
                </div>
            </div>
            <div class="form-actions">
                <button type="submit" class="button button-primary">{move || i18n.t().audit_search}</button>
                <a class="button" href="/admin/audit">{move || i18n.t().audit_reset}</a>
            </div>
        </form>
    }
}

#[component]
fn Results(page: AuditPage, filter: AuditFilter) -> impl IntoView {
    let i18n = use_i18n();
    let total = page.total;
    let too_many = total > page.export_limit;
    let limit = page.export_limit;
    let download = format!("{EXPORT_PATH}?{}", query_string(&filter.query_pairs(false)));
    view! {
        <div class="toolbar">
            <p data-field="audit-total">{move || i18n.t().audit_total.replace("{}", &total.to_string())}</p>
            {if too_many {
                view! {
                    <p class="hint" role="status">
                        {move || i18n.t().audit_download_too_many.replace("{}", &limit.to_string())}
                    </p>
                }.into_any()
            } else {
                view! {
                    <a class="button" href=download rel="external" download="" data-action="download">
                        {move || i18n.t().audit_download}
                    </a>
                }.into_any()
            }}
        </div>
        {if page.rows.is_empty() {
            view! { <p class="muted">{move || i18n.t().audit_none}</p> }.into_any()
        } else {
            view! { <AuditTable rows=page.rows/> }.into_any()
        }}
        <Pager path="/admin/audit" pairs=filter.query_pairs(false) cursor="before"
            at=filter.before.clone() next=page.next_before.map(|before| before.to_string())
            first_label=|t| t.audit_newest next_label=|t| t.audit_next/>
    }
}

/// An event's detail in words: each field named in the console's language, amounts as money, codes
/// by their labels, records linked.
#[component]
fn Details(items: Vec<DetailItem>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <ul class="detail-list">
            {items.into_iter().map(|item| {
                let key = item.key.clone();
                let label = move || {
                    let t = i18n.t();
                    (t.audit_detail_key)(&key).map_or_else(|| key.replace('_', " "), str::to_owned)
                };
                view! {
                    <li data-key=item.key.clone()>
                        {(!item.key.is_empty()).then(|| view! { <span class="muted">{label} {move || i18n.t().label_sep}</span> })}
                        <Value value=item.value/>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

#[component]
fn Value(value: DetailValue) -> impl IntoView {
    let i18n = use_i18n();
    match value {
        DetailValue::Money(fen) => view! { <MoneyText fen/> }.into_any(),
        DetailValue::Number(n) => view! { <CountText n/> }.into_any(),
        DetailValue::Flag(yes) => (move || {
            if yes {
                i18n.t().refund_confirm_yes
            } else {
                i18n.t().refund_confirm_no
            }
        })
        .into_any(),
        DetailValue::Time(at) => at.into_any(),
        DetailValue::Text(text) => (move || code_words(&text, i18n.lang())).into_any(),
        DetailValue::Record(object) => {
            view! { <RecordLink object text=Signal::stored(format!("#{}", object.id))/> }.into_any()
        }
        DetailValue::Change(before, after) => {
            view! { <Value value=*before/> " → " <Value value=*after/> }.into_any()
        }
        DetailValue::Other(json) => view! { <span class="mono">{json}</span> }.into_any(),
    }
}

/// A code the services record, in words when the console has a label for it.
fn code_words(text: &str, lang: crate::i18n::Lang) -> String {
    use crate::domain::refund::{RefundReason, RefundStatus};
    use crate::domain::OperatorStatus;
    if let Some(reason) = RefundReason::from_code(text) {
        return reason.label(lang).to_owned();
    }
    if let Some(status) = RefundStatus::from_code(text) {
        return status.label(lang).to_owned();
    }
    if let Some(status) = OperatorStatus::from_code(text) {
        return status.label(lang).to_owned();
    }
    match text {
        "platform" => lang.texts().audit_by_platform.to_owned(),
        _ => text.to_owned(),
    }
}

/// A record the event is about, linked to its page.
#[component]
fn RecordLink(object: ObjectRef, text: Signal<String>) -> impl IntoView {
    let href = match object.kind {
        ObjectKind::Transaction => paths::transactions::detail_path(object.id),
        ObjectKind::RefundRequest => paths::refunds::detail_path(object.id),
        ObjectKind::Operator => paths::operators::detail_path(object.id),
        ObjectKind::Settlement => paths::settlements::detail_path(object.id),
        ObjectKind::Export => paths::downloads::PATH.to_owned(),
        ObjectKind::Terminal => paths::terminals::detail_path(object.id),
        ObjectKind::TerminalGroup => paths::groups::detail_path(object.id),
        ObjectKind::FastRefund => paths::fast_refunds::detail_path(object.id),
    };
    view! { <a href=href>{move || text.get()}</a> }
}

#[component]
fn AuditTable(rows: Vec<AuditRow>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <p class="muted small" data-field="audit-ids-note">{move || i18n.t().audit_ids_note}</p>
        <div class="table-wrap">
            <table class="table" id="audit-table">
                <thead>
                    <tr>
                        <th class="num">{move || i18n.t().audit_col_id}</th>
                        <th>{move || i18n.t().audit_col_time}</th>
                        <th>{move || i18n.t().audit_col_operator}</th>
                        <th>{move || i18n.t().audit_col_action}</th>
                        <th>{move || i18n.t().audit_col_outcome}</th>
                        <th>{move || i18n.t().audit_col_object}</th>
                        <th>{move || i18n.t().audit_col_address} <br/> <span class="muted">{move || i18n.t().audit_col_certificate}</span></th>
                        <th>{move || i18n.t().audit_col_detail}</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|row| {
                        let action = row.action;
                        let action_code = row.action_code.clone();
                        let outcome = row.outcome;
                        let outcome_class = match outcome {
                            Some(AuditOutcome::Success) => "badge badge-success",
                            Some(AuditOutcome::Failure | AuditOutcome::Denied) => "badge badge-failed",
                            None => "badge",
                        };
                        view! {
                            <tr data-action=row.action_code.clone()>
                                <td class="num mono">{row.id}</td>
                                <td class="nowrap">{row.at}</td>
                                <td class="mono">{row.login_name}</td>
                                <td class="nowrap">{move || action.map_or(action_code.clone(), |a| a.label(i18n.lang()).to_owned())}</td>
                                <td><span class=outcome_class>{move || outcome.map_or("", |o| o.label(i18n.lang()))}</span></td>
                                <td class="nowrap">{match row.object_ref {
                                    Some(object) => view! {
                                        <RecordLink object text=Signal::derive(move || format!("{} #{}", (i18n.t().audit_object_kind)(object.kind), object.id))/>
                                    }.into_any(),
                                    None => row.object.clone().into_any(),
                                }}</td>
                                <td class="mono">{row.remote_addr} <br/> <span class="muted">{row.certificate}</span></td>
                                <td class="detail"><Details items=row.detail_items/></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
