//! Refunds (manual §3.4): the refund form of a transaction, the request query with its filters in the
//! URL, and one request with its history, where the requester cancels and an approver decides.

use std::sync::Arc;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::refunds::{
    cancel_refund, decide_refund, refund_approvals, refund_detail, refund_form, refund_pending,
    refund_search, request_refund, ApprovalList, Decision, HeldSums, RefundCreated, RefundFilter,
    RefundFormView, RefundPage, RefundRequestInput, RefundRow, RefundView, PAGE_SIZES,
};
use crate::domain::access::Function;
use crate::domain::money::format_count;
use crate::domain::refund::{RefundReason, RefundStatus};
use crate::domain::{Currency, Money, RefundMode};
use crate::error::AppError;
use crate::i18n::{title_text, use_i18n, Label};
use crate::ui::components::alert::ErrorAlert;
use crate::ui::components::badge::Toned;
use crate::ui::components::cells::{When, Who};
use crate::ui::components::form::{DateInput, FieldErrors};
use crate::ui::components::load::Loaded;
use crate::ui::components::money::MoneyText;
use crate::ui::components::pager::Pager;
use crate::ui::paths::id_param;
use crate::ui::paths::refunds::{detail_path, AWAITING_PATH, LIST_PATH, PENDING_PATH};
use crate::ui::paths::transactions::detail_path as txn_path;

/// Colour by where the money is: on its way (pending), back with the cardholder or cleared
/// (success), stopped (failed).
#[component]
fn StatusBadge(status: RefundStatus) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <span class=status.tone().class() data-status=status.code()>
            {move || status.label(i18n.lang())}
        </span>
    }
}

/// The refund form of the transaction in `?txn=`.
#[component]
pub fn RefundFormPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let txn_id = Memo::new(move |_| {
        query
            .get()
            .get("txn")
            .and_then(|id| id.parse::<i64>().ok())
            .unwrap_or(0)
    });
    let form = Resource::new(move || txn_id.get(), refund_form);
    // The request just made: its message outlives the form, which is read again after it (the
    // amounts on their way and what is left change, and a next request needs a fresh key).
    let created = RwSignal::new(None::<RefundCreated>);
    let on_created = Callback::new(move |done: RefundCreated| {
        created.set(Some(done));
        form.refetch();
    });
    view! {
        <Title text=title_text(|l| l.texts().refund_new_title.to_owned())/>
        <p><a href=move || txn_path(txn_id.get())>{move || i18n.t().txn_back}</a></p>
        <h1>{move || i18n.t().refund_new_title}</h1>
        {move || created.get().map(|done| view! {
            <div class="alert alert-success" role="status" data-field="refund-created">
                <p>
                    {move || i18n.t().refund_created} " "
                    <StatusBadge status=done.status/> " "
                    <a href=detail_path(done.id) data-action="view-request">{move || i18n.t().refund_view_request}</a>
                </p>
            </div>
        })}
        <Loaded resource=form ok=move |form| view! { <RequestForm form on_created/> }/>
    }
}

#[component]
fn RequestForm(form: RefundFormView, on_created: Callback<RefundCreated>) -> impl IntoView {
    let i18n = use_i18n();
    let t = form.txn.clone();
    let txn_id = t.id;
    let key = form.key.clone();
    let amount = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let reason_text = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let submit = Action::new(move |input: &RefundRequestInput| request_refund(input.clone()));
    let error = Signal::derive(move || submit.value().get().and_then(Result::err));
    Effect::new(move |_| {
        if let Some(Ok(done)) = submit.value().get() {
            on_created.run(done);
        }
    });
    // The amount being confirmed, in fen: the form asks before it sends a refund it can judge.
    let confirming = RwSignal::new(None::<i64>);
    let send = move || {
        confirming.set(None);
        submit.dispatch(RefundRequestInput {
            txn_id,
            amount: amount.get_untracked(),
            reason: reason.get_untracked(),
            reason_text: reason_text.get_untracked(),
            // One key for every attempt of this form: a retry is the same refund.
            key: key.clone(),
            code: code.get_untracked(),
        });
    };
    let refundable = form.refundable_fen;
    let on_submit = {
        let send = send.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            // An amount the form cannot read, or more than is left, goes to the server as typed: its
            // answer names the field and the rule.
            match Money::parse(amount.get_untracked().trim(), Currency::Cny) {
                Ok(m) if m.fen() > 0 && m.fen() <= refundable => confirming.set(Some(m.fen())),
                _ => send(),
            }
        }
    };
    let confirm_facts = ConfirmFacts {
        card: t.card_masked.clone(),
        refundable_fen: form.refundable_fen,
        headroom_fen: form.clearing_headroom_fen,
        requires_token: form.requires_token,
        approval: form.mode == RefundMode::Approval,
    };
    let mode = form.mode;
    let requires_token = form.requires_token;
    let refusal = form.refusal;
    let window = form.window_days;
    view! {
        <section class="card">
            <h2>{move || i18n.t().refund_original}</h2>
            <dl class="facts facts-2col" id="refund-original">
                <dt>{move || i18n.t().txn_col_time}</dt><dd>{t.time.clone()}</dd>
                <dt>{move || i18n.t().txn_col_reference}</dt>
                <dd class="mono"><a href=txn_path(txn_id)>{t.reference_no.clone()}</a></dd>
                <dt>{move || i18n.t().txn_col_card}</dt><dd class="mono">{t.card_masked.clone()}</dd>
                <dt>{move || i18n.t().txn_terminal}</dt><dd class="mono">{t.terminal_no.clone()}</dd>
                <dt>{move || i18n.t().txn_col_amount}</dt><dd data-field="original-amount"><MoneyText fen=t.amount_fen/></dd>
                <dt>{move || i18n.t().refund_refunded}</dt><dd><MoneyText fen=form.refunded_fen/></dd>
                <dt>{move || i18n.t().refund_in_flight}</dt><dd data-field="in-flight"><MoneyText fen=form.in_flight_fen/></dd>
                <dt>{move || i18n.t().refund_refundable}</dt><dd data-field="refundable"><strong><MoneyText fen=form.refundable_fen/></strong></dd>
                <dt>{move || i18n.t().refund_quota_left}</dt><dd data-field="quota-left"><MoneyText fen=form.quota_left_fen/></dd>
                <dt>{move || i18n.t().refund_window}</dt><dd>{move || (i18n.t().home_refund_window_value)(window)}</dd>
            </dl>
        </section>
        <section class="card">
            <p class="hint">
                {move || match mode {
                    RefundMode::Direct => i18n.t().refund_intro_direct,
                    RefundMode::Approval => i18n.t().refund_intro_approval,
                }}
            </p>
            {requires_token.then(|| view! { <p class="hint">{move || i18n.t().refund_token_needed}</p> })}
            {move || error.get()
                .filter(|e| !matches!(e, AppError::Invalid(_)))
                .map(|error| view! { <ErrorAlert error/> })}
            {match refusal {
                Some(refusal) => view! {
                    <div class="alert alert-warning" role="status" data-field="refund-refusal">
                        <p>{move || i18n.t().refund_cannot} " " {move || (i18n.t().refund_refusal)(refusal)}</p>
                    </div>
                }.into_any(),
                None => view! {
                    <form class="form" id="refund-form" on:submit=on_submit>
                        <div class="field">
                            <label for="amount">{move || i18n.t().refund_amount}</label>
                            <input id="amount" name="amount" inputmode="decimal" required autocomplete="off"
                                prop:value=move || amount.get()
                                on:input=move |ev| amount.set(event_target_value(&ev))/>
                            <p class="muted">{move || i18n.t().refund_amount_hint}</p>
                            <FieldErrors error field="amount"/>
                        </div>
                        <div class="field">
                            <label for="reason">{move || i18n.t().refund_reason}</label>
                            <select id="reason" name="reason" required
                                on:change=move |ev| reason.set(event_target_value(&ev))>
                                <option value="">{move || i18n.t().refund_reason_pick}</option>
                                {RefundReason::ALL.iter().map(|r| view! {
                                    <option value=r.code()>{move || r.label(i18n.lang())}</option>
                                }).collect_view()}
                            </select>
                            <FieldErrors error field="reason"/>
                        </div>
                        <div class="field">
                            <label for="reason_text">{move || i18n.t().refund_reason_text}</label>
                            <input id="reason_text" name="reason_text" maxlength="200"
                                prop:value=move || reason_text.get()
                                on:input=move |ev| reason_text.set(event_target_value(&ev))/>
                            <p class="muted">{move || i18n.t().refund_reason_text_hint}</p>
                            <FieldErrors error field="reason_text"/>
                        </div>
                        {requires_token.then(|| view! {
                            <div class="field">
                                <label for="code">{move || i18n.t().token_code}</label>
                                <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code"
                                    maxlength="12" required class="input-code"
                                    prop:value=move || code.get()
                                    on:input=move |ev| code.set(event_target_value(&ev))/>
                                <FieldErrors error field="code"/>
                            </div>
                        })}
                        <FieldErrors error field="key"/>
                        {move || match confirming.get() {
                            None => view! {
                                <button type="submit" class="button button-primary" data-action="submit-refund"
                                    disabled=move || submit.pending().get()>
                                    {move || i18n.t().refund_submit}
                                </button>
                            }.into_any(),
                            Some(fen) => view! {
                                <Confirmation fen form=confirm_facts.clone() on_confirm=Callback::new({
                                    let send = send.clone();
                                    move |()| send()
                                }) on_back=Callback::new(move |()| confirming.set(None))/>
                            }.into_any(),
                        }}
                    </form>
                }.into_any(),
            }}
        </section>
        {(!form.history.is_empty()).then(|| view! {
            <h2>{move || i18n.t().refund_history}</h2>
            <RefundTable rows=form.history/>
        })}
    }
}

/// What the confirmation tells besides the amount.
#[derive(Debug, Clone)]
struct ConfirmFacts {
    card: String,
    refundable_fen: i64,
    headroom_fen: i64,
    requires_token: bool,
    approval: bool,
}

/// The refund about to be sent, as it will be: how much back to which card, what is left after it,
/// whether clearing would hold it for want of balance, whether a token code goes with it.
#[component]
fn Confirmation(
    fen: i64,
    form: ConfirmFacts,
    on_confirm: Callback<()>,
    on_back: Callback<()>,
) -> impl IntoView {
    let i18n = use_i18n();
    let held = fen > form.headroom_fen;
    let token = form.requires_token;
    view! {
        <div class="confirm card" role="group" aria-labelledby="confirm-title" id="refund-confirm">
            <h3 id="confirm-title">{move || i18n.t().refund_confirm_title}</h3>
            <dl class="facts">
                <dt>{move || i18n.t().refund_amount}</dt>
                <dd data-field="confirm-amount"><strong><MoneyText fen/></strong></dd>
                <dt>{move || i18n.t().refund_confirm_card}</dt>
                <dd class="mono">{form.card}</dd>
                <dt>{move || i18n.t().refund_confirm_left}</dt>
                <dd data-field="confirm-left"><MoneyText fen=form.refundable_fen - fen/></dd>
                <dt>{move || i18n.t().refund_confirm_clearing}</dt>
                <dd data-field="confirm-clearing" data-held=held.to_string()>
                    {move || if held { i18n.t().refund_confirm_held } else { i18n.t().refund_confirm_covered }}
                </dd>
                <dt>{move || i18n.t().refund_confirm_token}</dt>
                <dd data-field="confirm-token">
                    {move || if token { i18n.t().refund_confirm_yes } else { i18n.t().refund_confirm_no }}
                </dd>
            </dl>
            {form.approval.then(|| view! { <p class="hint">{move || i18n.t().refund_confirm_approval}</p> })}
            <div class="actions">
                <button type="button" class="button button-primary" data-action="confirm-refund"
                    on:click=move |_| on_confirm.run(())>
                    {move || i18n.t().refund_confirm_submit}
                </button>
                <button type="button" class="button button-quiet" data-action="back-to-form"
                    on:click=move |_| on_back.run(())>
                    {move || i18n.t().refund_confirm_back}
                </button>
            </div>
        </div>
    }
}

/// The requests as a table; `shortfall` adds what the balance lacked (the pending-clearing list).
#[component]
fn RefundTable(rows: Vec<RefundRow>, #[prop(optional)] shortfall: bool) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="table-wrap">
            <table class="table refund-table">
                <thead>
                    <tr>
                        <th>{move || i18n.t().refund_col_requested}</th>
                        <th>{move || i18n.t().txn_col_reference}</th>
                        <th>{move || i18n.t().txn_col_card}</th>
                        <th class="num">{move || i18n.t().refund_col_txn_amount}</th>
                        <th class="num">{move || i18n.t().refund_col_amount}</th>
                        {shortfall.then(|| view! { <th class="num">{move || i18n.t().refund_col_shortfall}</th> })}
                        <th>{move || i18n.t().refund_reason}</th>
                        <th>{move || i18n.t().refund_col_status}</th>
                        <th>{move || i18n.t().refund_col_requester}</th>
                        <th>{move || i18n.t().refund_col_approver}</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|r| {
                        let reason = r.reason;
                        view! {
                            <tr data-id=r.id>
                                <td><a href=detail_path(r.id)><When at=r.requested_at/></a></td>
                                <td class="mono"><a href=txn_path(r.txn_id)>{r.reference_no}</a></td>
                                <td class="mono">{r.card_masked}</td>
                                <td class="num"><MoneyText fen=r.txn_amount_fen/></td>
                                <td class="num"><MoneyText fen=r.amount_fen/></td>
                                {shortfall.then(|| view! {
                                    <td class="num" data-field="shortfall"><MoneyText fen=r.shortfall_fen.unwrap_or(0)/></td>
                                })}
                                <td class="reason">{move || reason.label(i18n.lang())}</td>
                                <td><StatusBadge status=r.status/></td>
                                <td><Who full=r.requester/></td>
                                <td>{r.approver.map(|full| view! { <Who full/> })}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// The request query (manual §3.4.3).
#[component]
pub fn RefundsPage() -> impl IntoView {
    view! { <RequestList pending=false/> }
}

/// The approvers' list: requests waiting for a decision, newest first; when there are none, why.
#[component]
pub fn ApprovalsPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        let q = query.get();
        RefundFilter::from_query(|k| q.get(k).unwrap_or_default())
    });
    let list = Resource::new(move || filter.get(), refund_approvals);
    view! {
        <Title text=title_text(|l| Function::RefundApprove.label(l).to_owned())/>
        <h1>{move || Function::RefundApprove.label(i18n.lang())}</h1>
        <p class="muted">{move || i18n.t().approvals_intro}</p>
        <Loaded resource=list ok=move |list| {
            let ApprovalList { page, mode } = list;
            let filter = filter.get_untracked();
            if page.rows.is_empty() && filter.after.is_empty() {
                let why = move || match mode {
                    RefundMode::Direct => i18n.t().approvals_none_direct,
                    RefundMode::Approval => i18n.t().approvals_none,
                };
                view! { <p class="alert alert-info" role="status" data-field="approvals-none">{why}</p> }.into_any()
            } else {
                let total = page.total;
                view! {
                    <div class="toolbar">
                        <p data-field="refund-total">{move || i18n.t().refund_total.replace("{}", &format_count(total as i64))}</p>
                    </div>
                    <RefundTable rows=page.rows/>
                    <Pager path=AWAITING_PATH pairs=filter.query_pairs(false) cursor="after" at=filter.after.clone()
                        next=page.next_after/>
                }.into_any()
            }
        }/>
    }
}

/// The pending-clearing list (manual §3.4.4): refunds clearing holds for the merchant's balance, with
/// what each lacked, the balance now and what is still missing overall.
#[component]
pub fn PendingClearingPage() -> impl IntoView {
    view! { <RequestList pending=true/> }
}

/// A list of refund requests filtered by the URL: the query, or (`pending`) the pending-clearing list.
#[component]
fn RequestList(pending: bool) -> impl IntoView {
    let i18n = use_i18n();
    let function = if pending {
        Function::RefundPendingClearing
    } else {
        Function::RefundQuery
    };
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        let q = query.get();
        RefundFilter::from_query(|k| q.get(k).unwrap_or_default())
    });
    let page = Resource::new(
        move || filter.get(),
        move |filter| async move {
            if pending {
                refund_pending(filter).await
            } else {
                refund_search(filter).await
            }
        },
    );
    view! {
        <Title text=title_text(if pending {
            |l| Function::RefundPendingClearing.label(l).to_owned()
        } else {
            |l| Function::RefundQuery.label(l).to_owned()
        })/>
        <h1>{move || function.label(i18n.lang())}</h1>
        {pending.then(|| view! { <p class="muted">{move || i18n.t().pending_intro}</p> })}
        <Loaded resource=page
            ok=move |page| {
                let filter = filter.get_untracked();
                let requesters = page.requesters.clone();
                view! {
                    {page.held.map(|held| view! { <HeldCard held/> })}
                    <Filters filter=filter.clone() requesters error=Signal::derive(|| None) pending/>
                    <Results page filter/>
                }
            }
            invalid=Arc::new(move |error| {
                let filter = filter.get_untracked();
                let error = Signal::derive(move || Some(error.clone()));
                view! { <Filters filter requesters=Vec::new() error pending/> }.into_any()
            })/>
    }
}

/// The balance against what the held refunds need.
#[component]
fn HeldCard(held: HeldSums) -> impl IntoView {
    let i18n = use_i18n();
    let missing = held.held_fen - held.balance_fen;
    view! {
        <section class="card" id="held-sums">
            <dl class="facts facts-2col">
                <dt>{move || i18n.t().pending_balance}</dt>
                <dd data-field="balance"><MoneyText fen=held.balance_fen/></dd>
                <dt>{move || Function::RefundPendingClearing.label(i18n.lang())}</dt>
                <dd data-field="held">{move || (i18n.t().pending_held)(held.held_count, held.held_fen)}</dd>
                {(missing > 0).then(|| view! {
                    <dt>{move || i18n.t().pending_missing}</dt>
                    <dd data-field="missing"><MoneyText fen=missing/></dd>
                })}
            </dl>
        </section>
    }
}

/// The query's filters; `pending`: those of the pending-clearing list (its status is fixed).
#[component]
fn Filters(
    filter: RefundFilter,
    requesters: Vec<(i64, String)>,
    error: Signal<Option<AppError>>,
    #[prop(optional)] pending: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    let path = if pending { PENDING_PATH } else { LIST_PATH };
    let selected_status = filter.status.clone();
    let selected_requester = filter.requester.clone();
    let selected_size = filter.size.clone();
    view! {
        <form class="filters card" method="get" action=path>
            <div class="filter-grid">
                <div class="field">
                    <label for="from">{move || i18n.t().refund_from}</label>
                    <DateInput id="from" value=filter.from/>
                    <FieldErrors error field="from"/>
                </div>
                <div class="field">
                    <label for="to">{move || i18n.t().refund_to}</label>
                    <DateInput id="to" value=filter.to/>
                    <FieldErrors error field="to"/>
                </div>
                {(!pending).then(|| view! {
                    <div class="field">
                        <label for="status">{move || i18n.t().refund_col_status}</label>
                        <select id="status" name="status">
                            <option value="">{move || i18n.t().audit_any}</option>
                            {RefundStatus::ALL.iter().map(|s| {
                                let selected = selected_status == s.code();
                                view! { <option value=s.code() selected=selected>{move || s.label(i18n.lang())}</option> }
                            }).collect_view()}
                        </select>
                        <FieldErrors error field="status"/>
                    </div>
                })}
                <div class="field">
                    <label for="requester">{move || i18n.t().refund_col_requester}</label>
                    <select id="requester" name="requester">
                        <option value="">{move || i18n.t().audit_any}</option>
                        {requesters.into_iter().map(|(id, name)| {
                            let selected = selected_requester == id.to_string();
                            view! { <option value=id.to_string() selected=selected>{name}</option> }
                        }).collect_view()}
                    </select>
                    <FieldErrors error field="requester"/>
                </div>
                <div class="field">
                    <label for="amount">{move || i18n.t().refund_col_amount}</label>
                    <input id="amount" name="amount" inputmode="decimal" value=filter.amount/>
                    <FieldErrors error field="amount"/>
                </div>
                <div class="field">
                    <label for="ref">{move || i18n.t().refund_reference}</label>
                    <input id="ref" name="ref" inputmode="numeric" maxlength="12" value=filter.reference/>
                    <FieldErrors error field="ref"/>
                </div>
                <div class="field">
                    <label for="size">{move || i18n.t().txn_size}</label>
                    <select id="size" name="size">
                        {PAGE_SIZES.iter().map(|s| {
                            let selected = selected_size == s.to_string();
                            view! { <option value=s.to_string() selected=selected>{*s}</option> }
                        }).collect_view()}
                    </select>
                    <FieldErrors error field="size"/>
                </div>
            </div>
            {(!filter.txn.is_empty()).then(|| view! { <input type="hidden" name="txn" value=filter.txn.clone()/> })}
            <FieldErrors error field="txn"/>
            {(!filter.settlement.is_empty()).then(|| view! {
                <p class="hint" data-field="in-settlement">{move || i18n.t().refund_in_settlement}</p>
                <input type="hidden" name="settlement" value=filter.settlement.clone()/>
            })}
            <FieldErrors error field="settlement"/>
            <FieldErrors error field="after"/>
            <div class="form-actions">
                <button type="submit" class="button button-primary">{move || i18n.t().search}</button>
                <a class="button" href=path>{move || i18n.t().reset}</a>
                {(!pending).then(|| view! {
                    <a class="button button-quiet" href=AWAITING_PATH data-action="awaiting">
                        {move || i18n.t().refund_awaiting}
                    </a>
                })}
            </div>
        </form>
    }
}

#[component]
fn Results(page: RefundPage, filter: RefundFilter) -> impl IntoView {
    let i18n = use_i18n();
    let total = page.total;
    let pending = page.held.is_some();
    let path = if pending { PENDING_PATH } else { LIST_PATH };
    view! {
        <div class="toolbar">
            <p data-field="refund-total">{move || i18n.t().refund_total.replace("{}", &format_count(total as i64))}</p>
        </div>
        {if page.rows.is_empty() {
            let none = move || if pending { i18n.t().pending_none } else { i18n.t().refund_none };
            view! { <p class="muted">{none}</p> }.into_any()
        } else {
            view! { <RefundTable rows=page.rows shortfall=pending/> }.into_any()
        }}
        <Pager path pairs=filter.query_pairs(false) cursor="after" at=filter.after.clone()
            next=page.next_after/>
    }
}

/// One request: its figures, the original transaction, its history and what this operator may do.
#[component]
pub fn RefundPage() -> impl IntoView {
    let i18n = use_i18n();
    let id = id_param();
    // Bumped after a decision or a cancellation: the page reads the request again.
    let version = RwSignal::new(0u32);
    // What the approver just decided: said above the request read again.
    let decided = RwSignal::new(None::<RefundStatus>);
    let view = Resource::new(
        move || (id.get(), version.get()),
        |(id, _)| refund_detail(id),
    );
    view! {
        <Title text=title_text(|l| l.texts().refund_detail.to_owned())/>
        <p><a href=LIST_PATH>{move || i18n.t().refund_back}</a></p>
        <h1>{move || i18n.t().refund_detail}</h1>
        {move || decided.get().map(|status| view! {
            <p class="alert alert-success" role="status" data-field="refund-decided">
                {move || (i18n.t().refund_decision_done)(status)}
            </p>
        })}
        <Loaded resource=view ok=move |view| view! { <Detail view version decided/> }/>
    }
}

#[component]
fn Detail(
    view: RefundView,
    version: RwSignal<u32>,
    decided: RwSignal<Option<RefundStatus>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let r = view.row.clone();
    let id = r.id;
    let reason = r.reason;
    let t = view.txn.clone();
    let dash = || "—".to_owned();
    view! {
        <section class="card">
            <dl class="facts facts-2col" id="refund-detail">
                <dt>{move || i18n.t().refund_col_status}</dt><dd><StatusBadge status=r.status/></dd>
                <dt>{move || i18n.t().refund_col_amount}</dt><dd data-field="refund-amount"><MoneyText fen=r.amount_fen/></dd>
                <dt>{move || i18n.t().refund_col_requested}</dt><dd>{r.requested_at.clone()}</dd>
                <dt>{move || i18n.t().refund_col_requester}</dt><dd>{r.requester.clone()}</dd>
                <dt>{move || i18n.t().refund_reason}</dt>
                <dd>{move || reason.label(i18n.lang())} {view.reason_text.clone().map(|text| format!(" — {text}"))}</dd>
                <dt>{move || i18n.t().refund_col_approver}</dt><dd>{r.approver.clone().unwrap_or_else(dash)}</dd>
                <dt>{move || i18n.t().refund_decided_at}</dt><dd>{view.decided_at.clone().unwrap_or_else(dash)}</dd>
                <dt>{move || i18n.t().refund_decision_comment}</dt><dd>{view.decision_comment.clone().unwrap_or_else(dash)}</dd>
                <dt>{move || i18n.t().refund_submitted_at}</dt><dd>{view.submitted_at.clone().unwrap_or_else(dash)}</dd>
                <dt>{move || i18n.t().refund_cleared_at}</dt><dd>{view.cleared_at.clone().unwrap_or_else(dash)}</dd>
                {view.settlement_id.map(|sid| view! {
                    <dt>{move || i18n.t().refund_settlement}</dt>
                    <dd>{if view.may_open_settlement {
                        view! { <a href=crate::ui::paths::settlements::detail_path(sid) data-action="settlement">{sid}</a> }.into_any()
                    } else {
                        view! { <span data-field="settlement">{sid}</span> }.into_any()
                    }}</dd>
                })}
            </dl>
            {view.shortfall_fen.filter(|_| r.status == RefundStatus::PendingClearing).map(|fen| view! {
                <p class="alert alert-warning" role="status" data-field="shortfall">
                    {move || i18n.t().refund_shortfall.replace("{}", &crate::domain::money::format_fen(fen))}
                </p>
            })}
            {view.failure_reason.clone().filter(|_| r.status == RefundStatus::Failed).map(|why| view! {
                <p class="alert alert-error" role="status">{move || i18n.t().refund_failure} ": " {why.clone()}</p>
            })}
            {view.first_approver.clone().map(|first| view! {
                <p class="alert alert-warning" role="status" data-field="second-approver">
                    {move || i18n.t().refund_second_note.replace("{}", &first)}
                </p>
            })}
            {view.may_cancel.then(|| view! { <CancelButton id version/> })}
        </section>
        {view.may_decide.then(|| view! { <DecideForm id amount_fen=r.amount_fen version decided/> })}
        <h2>{move || i18n.t().refund_original}</h2>
        <section class="card">
            <dl class="facts facts-2col">
                <dt>{move || i18n.t().txn_col_time}</dt><dd>{t.time.clone()}</dd>
                <dt>{move || i18n.t().txn_col_reference}</dt>
                <dd class="mono"><a href=txn_path(t.id) data-action="original">{t.reference_no.clone()}</a></dd>
                <dt>{move || i18n.t().txn_col_card}</dt><dd class="mono">{t.card_masked.clone()}</dd>
                <dt>{move || i18n.t().txn_col_amount}</dt><dd><MoneyText fen=t.amount_fen/></dd>
                <dt>{move || i18n.t().refund_refunded}</dt><dd><MoneyText fen=t.refunded_fen/></dd>
            </dl>
        </section>
        <h2>{move || i18n.t().refund_steps}</h2>
        <div class="table-wrap">
            <table class="table" id="refund-history">
                <thead>
                    <tr>
                        <th>{move || i18n.t().refund_col_requested}</th>
                        <th>{move || i18n.t().refund_col_status}</th>
                        <th>{move || i18n.t().refund_col_approver}</th>
                        <th>{move || i18n.t().refund_comment}</th>
                    </tr>
                </thead>
                <tbody>
                    {view.history.into_iter().map(|step| view! {
                        <tr>
                            <td class="nowrap">{step.at}</td>
                            <td>
                                {step.from.map(|from| view! { <StatusBadge status=from/> " → " })}
                                <StatusBadge status=step.to/>
                            </td>
                            <td>{match step.by {
                                Some(by) => by.into_any(),
                                None => view! { <span class="muted">{move || i18n.t().refund_step_by_clearing}</span> }.into_any(),
                            }}</td>
                            <td>{step.comment}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {(!view.others.is_empty()).then(|| view! {
            <h2>{move || i18n.t().refund_others}</h2>
            <RefundTable rows=view.others/>
        })}
    }
}

#[component]
fn CancelButton(id: i64, version: RwSignal<u32>) -> impl IntoView {
    let i18n = use_i18n();
    let cancel = Action::new(move |id: &i64| cancel_refund(*id));
    Effect::new(move |_| {
        if let Some(Ok(_)) = cancel.value().get() {
            version.update(|v| *v += 1);
        }
    });
    view! {
        {move || cancel.value().get().and_then(Result::err).map(|error| view! { <ErrorAlert error/> })}
        <div class="form-actions">
            <button type="button" class="button" data-action="cancel-refund"
                disabled=move || cancel.pending().get()
                on:click=move |_| { cancel.dispatch(id); }>
                {move || i18n.t().refund_cancel}
            </button>
        </div>
    }
}

#[component]
fn DecideForm(
    id: i64,
    amount_fen: i64,
    version: RwSignal<u32>,
    decided: RwSignal<Option<RefundStatus>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let comment = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let decide = Action::new(move |decision: &Decision| {
        decide_refund(id, *decision, comment.get_untracked(), code.get_untracked())
    });
    let error = Signal::derive(move || decide.value().get().and_then(Result::err));
    Effect::new(move |_| {
        if let Some(Ok(status)) = decide.value().get() {
            decided.set(Some(status));
            version.update(|v| *v += 1);
        }
    });
    // The decision being confirmed: nothing is sent before the approver says yes to it.
    let asking = RwSignal::new(None::<Decision>);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        asking.set(Some(Decision::Approve));
    };
    let amount = Money::cny(amount_fen).to_string();
    view! {
        <section class="card" id="refund-decision">
            <h2>{move || i18n.t().refund_decide_title}</h2>
            <p class="muted">{move || i18n.t().refund_decide_intro}</p>
            {move || error.get()
                .filter(|e| !matches!(e, AppError::Invalid(_)))
                .map(|error| view! { <ErrorAlert error/> })}
            <form class="form" on:submit=on_submit>
                <div class="field">
                    <label for="comment">{move || i18n.t().refund_comment}</label>
                    <input id="comment" name="comment" maxlength="200"
                        prop:value=move || comment.get()
                        on:input=move |ev| comment.set(event_target_value(&ev))/>
                    <p class="muted">{move || i18n.t().refund_comment_hint}</p>
                    <FieldErrors error field="comment"/>
                </div>
                <div class="field">
                    <label for="code">{move || i18n.t().token_code}</label>
                    <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code"
                        maxlength="12" required class="input-code"
                        prop:value=move || code.get()
                        on:input=move |ev| code.set(event_target_value(&ev))/>
                    <FieldErrors error field="code"/>
                </div>
                {move || match asking.get() {
                    None => view! {
                        <div class="form-actions">
                            <button type="submit" class="button button-primary" data-action="approve"
                                disabled=move || decide.pending().get()>
                                {move || i18n.t().refund_approve}
                            </button>
                            <button type="button" class="button" data-action="reject"
                                disabled=move || decide.pending().get()
                                on:click=move |_| asking.set(Some(Decision::Reject))>
                                {move || i18n.t().refund_reject}
                            </button>
                        </div>
                    }.into_any(),
                    Some(decision) => {
                        let amount = amount.clone();
                        view! {
                            <div class="confirm" id="decision-confirm" role="group">
                                <p>{move || match decision {
                                    Decision::Approve => (i18n.t().refund_confirm_approve)(amount.clone()),
                                    Decision::Reject => (i18n.t().refund_confirm_reject)(amount.clone()),
                                }}</p>
                                <div class="form-actions">
                                    <button type="button" class="button button-primary" data-action="confirm-decision"
                                        disabled=move || decide.pending().get()
                                        on:click=move |_| {
                                            asking.set(None);
                                            decide.dispatch(decision);
                                        }>
                                        {move || i18n.t().refund_confirm_submit}
                                    </button>
                                    <button type="button" class="button button-quiet" data-action="back-to-form"
                                        on:click=move |_| asking.set(None)>
                                        {move || i18n.t().refund_confirm_back}
                                    </button>
                                </div>
                            </div>
                        }.into_any()
                    }
                }}
            </form>
        </section>
    }
}
