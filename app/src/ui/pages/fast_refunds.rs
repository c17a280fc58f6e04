//! Fast refunds (manual §3.6): the transactions a fast refund may take, the form of one with the
//! cardholder's bank details, the query and the exception list with their filters in the URL, and
//! one item with its history, where an item the bank rejected is corrected and sent again.

use std::sync::Arc;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::fast_refunds::{
    cancel_fast_refund_upload, fast_refund_candidates, fast_refund_detail, fast_refund_exceptions,
    fast_refund_form, fast_refund_search, fast_refund_upload_view, request_fast_refund,
    resubmit_fast_refund, submit_fast_refund_batch, BatchCreated, CandidatePage, CardholderInput,
    CorrectionInput, FastRefundCreated, FastRefundFilter, FastRefundFormView, FastRefundInput,
    FastRefundPage, FastRefundRow, FastRefundView, UploadView, PAGE_SIZES,
};
use crate::contract::transactions::TxnFilter;
use crate::domain::access::Function;
use crate::domain::cardholder::IdType;
use crate::domain::fast_refund::FastRefundStatus;
use crate::domain::money::format_count;
use crate::domain::regions::{branches, PROVINCES};
use crate::domain::Bank;
use crate::error::AppError;
use crate::i18n::{title_text, use_i18n, Label, Texts};
use crate::ui::components::alert::ErrorAlert;
use crate::ui::components::badge::Toned;
use crate::ui::components::cells::When;
use crate::ui::components::form::{DateInput, FieldErrors};
use crate::ui::components::load::Loaded;
use crate::ui::components::money::MoneyText;
use crate::ui::components::pager::Pager;
use crate::ui::paths::fast_refunds::{
    batch_items_path, detail_path, errors_path, new_path, BATCH_PATH, EXCEPTIONS_PATH, EXPORT_PATH,
    QUERY_PATH, SEARCH_PATH, TEMPLATE_PATH, UPLOAD_PATH,
};
use crate::ui::paths::id_param;
use crate::ui::paths::transactions::detail_path as txn_path;
use crate::url::query_string;

#[component]
fn StatusBadge(status: FastRefundStatus, overdue: bool) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <span class=status.tone().class() data-status=status.code()>
            {move || status.label(i18n.lang())}
        </span>
        {overdue.then(|| view! {
            " " <span class="badge badge-failed" data-field="overdue">{move || i18n.t().fr_overdue}</span>
        })}
    }
}

/// The search for a transaction to refund fast (manual §3.6.2).
#[component]
pub fn FastRefundSearchPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        let q = query.get();
        let get = |k: &str| q.get(k).unwrap_or_default();
        TxnFilter {
            from: get("from"),
            to: get("to"),
            card: get("card"),
            amount: get("amount"),
            reference: get("ref"),
            bank: get("bank"),
            size: get("size"),
            ..TxnFilter::default()
        }
    });
    let page = Resource::new(move || filter.get(), fast_refund_candidates);
    view! {
        <Title text=title_text(|l| Function::FastRefundRequest.label(l).to_owned())/>
        <h1>{move || Function::FastRefundRequest.label(i18n.lang())}</h1>
        <p class="muted">{move || i18n.t().fr_search_intro}</p>
        <Loaded resource=page
            ok=move |page| {
                let filter = filter.get_untracked();
                view! {
                    <CandidateFilters filter error=Signal::derive(|| None)/>
                    <Candidates page/>
                }
            }
            invalid=Arc::new(move |error| {
                let filter = filter.get_untracked();
                let error = Signal::derive(move || Some(error.clone()));
                view! { <CandidateFilters filter error/> }.into_any()
            })/>
    }
}

#[component]
fn CandidateFilters(filter: TxnFilter, error: Signal<Option<AppError>>) -> impl IntoView {
    let i18n = use_i18n();
    let selected_bank = filter.bank.clone();
    view! {
        <form class="filters card" method="get" action=SEARCH_PATH>
            <div class="filter-grid">
                <div class="field">
                    <label for="from">{move || i18n.t().txn_from}</label>
                    <DateInput id="from" value=filter.from/>
                    <FieldErrors error field="from"/>
                </div>
                <div class="field">
                    <label for="to">{move || i18n.t().txn_to}</label>
                    <DateInput id="to" value=filter.to/>
                    <FieldErrors error field="to"/>
                </div>
                <div class="field">
                    <label for="card">{move || i18n.t().txn_card}</label>
                    <input id="card" name="card" maxlength="16" value=filter.card/>
                    <FieldErrors error field="card"/>
                </div>
                <div class="field">
                    <label for="amount">{move || i18n.t().txn_amount}</label>
                    <input id="amount" name="amount" inputmode="decimal" value=filter.amount/>
                    <FieldErrors error field="amount"/>
                </div>
                <div class="field">
                    <label for="ref">{move || i18n.t().txn_reference}</label>
                    <input id="ref" name="ref" inputmode="numeric" maxlength="12" value=filter.reference/>
                    <FieldErrors error field="ref"/>
                </div>
                <div class="field">
                    <label for="bank">{move || i18n.t().txn_bank}</label>
                    <select id="bank" name="bank">
                        <option value="">{move || i18n.t().audit_any}</option>
                        {Bank::ALL.iter().filter(|b| b.supports_fast_refund()).map(|b| {
                            let selected = selected_bank == b.code();
                            view! { <option value=b.code() selected=selected>{move || b.label(i18n.lang())}</option> }
                        }).collect_view()}
                    </select>
                    <FieldErrors error field="bank"/>
                </div>
            </div>
            <div class="form-actions">
                <button type="submit" class="button button-primary">{move || i18n.t().search}</button>
                <a class="button" href=SEARCH_PATH>{move || i18n.t().reset}</a>
            </div>
        </form>
    }
}

#[component]
fn Candidates(page: CandidatePage) -> impl IntoView {
    let i18n = use_i18n();
    if page.rows.is_empty() {
        return view! { <p class="muted" data-field="no-candidates">{move || i18n.t().fr_no_candidates}</p> }
            .into_any();
    }
    let more = page.more;
    view! {
        <div class="table-wrap">
            <table class="table" id="fast-refund-candidates">
                <thead>
                    <tr>
                        <th>{move || i18n.t().txn_col_time}</th>
                        <th>{move || i18n.t().txn_col_reference}</th>
                        <th>{move || i18n.t().txn_col_card}</th>
                        <th>{move || i18n.t().txn_bank}</th>
                        <th class="num">{move || i18n.t().txn_col_amount}</th>
                        <th class="num">{move || i18n.t().refund_refundable}</th>
                        <th></th>
                    </tr>
                </thead>
                <tbody>
                    {page.rows.into_iter().zip(page.refundable_fen).map(|(t, left)| {
                        let bank = t.bank;
                        view! {
                            <tr data-id=t.id>
                                <td><When at=t.time/></td>
                                <td class="mono"><a href=txn_path(t.id)>{t.reference_no}</a></td>
                                <td class="mono">{t.card_masked}</td>
                                <td>{move || bank.map(|b| b.label(i18n.lang()))}</td>
                                <td class="num"><MoneyText fen=t.amount_fen/></td>
                                <td class="num"><MoneyText fen=left/></td>
                                <td><a class="button button-small" href=new_path(t.id) data-action="fast-refund">
                                    {move || Function::FastRefundRequest.label(i18n.lang())}
                                </a></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {more.then(|| view! { <p class="hint">{move || i18n.t().fr_more_candidates}</p> })}
    }
    .into_any()
}

/// The fast-refund form of the transaction in `?txn=`.
#[component]
pub fn FastRefundFormPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let txn_id = Memo::new(move |_| {
        query
            .get()
            .get("txn")
            .and_then(|id| id.parse::<i64>().ok())
            .unwrap_or(0)
    });
    let form = Resource::new(move || txn_id.get(), fast_refund_form);
    let created = RwSignal::new(None::<FastRefundCreated>);
    let on_created = Callback::new(move |done: FastRefundCreated| {
        created.set(Some(done));
        form.refetch();
    });
    view! {
        <Title text=title_text(|l| l.texts().fr_new_title.to_owned())/>
        <p><a href=SEARCH_PATH>{move || i18n.t().fr_back_to_search}</a></p>
        <h1>{move || i18n.t().fr_new_title}</h1>
        {move || created.get().map(|done| view! {
            <div class="alert alert-success" role="status" data-field="fast-refund-created">
                <p>
                    {move || (i18n.t().fr_created)(&done.due_date)} " "
                    <a href=detail_path(done.id) data-action="view-item">{move || i18n.t().fr_view_item}</a>
                </p>
            </div>
        })}
        <Loaded resource=form ok=move |form| view! { <RequestForm form on_created/> }/>
    }
}

/// The cardholder's fields, bound to `value`; the bank is fixed to the card's (`bank`), the city
/// list follows the province and the branch list the city.
#[component]
fn CardholderFields(
    value: RwSignal<CardholderInput>,
    bank: Option<Bank>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let set = move |f: fn(&mut CardholderInput, String)| {
        move |ev: leptos::ev::Event| {
            let text = event_target_value(&ev);
            value.update(|v| f(v, text));
        }
    };
    let cities = move || {
        let province = value.with(|v| v.province.clone());
        PROVINCES
            .iter()
            .find(|p| p.code == province)
            .map(|p| p.cities.to_vec())
            .unwrap_or_default()
    };
    let branch_list = move || {
        let city = value.with(|v| v.city.clone());
        bank.map(|b| branches(b, &city)).unwrap_or_default()
    };
    view! {
        <fieldset class="cardholder">
            <legend>{move || i18n.t().fr_cardholder}</legend>
            <div class="field">
                <label for="name">{move || i18n.t().fr_name}</label>
                <input id="name" name="name" maxlength="30" autocomplete="off" required
                    prop:value=move || value.with(|v| v.name.clone())
                    on:input=set(|v, t| v.name = t)/>
                <p class="muted">{move || i18n.t().fr_name_hint}</p>
                <FieldErrors error field="name"/>
            </div>
            <div class="field">
                <label for="id_type">{move || i18n.t().fr_id_type}</label>
                <select id="id_type" name="id_type" required
                    prop:value=move || value.with(|v| v.id_type.clone())
                    on:change=set(|v, t| v.id_type = t)>
                    <option value="">{move || i18n.t().fr_pick}</option>
                    {IdType::ALL.iter().map(|t| view! {
                        <option value=t.code()>{move || t.label(i18n.lang())}</option>
                    }).collect_view()}
                </select>
                <FieldErrors error field="id_type"/>
            </div>
            <div class="field">
                <label for="id_number">{move || i18n.t().fr_id_number}</label>
                <input id="id_number" name="id_number" maxlength="20" autocomplete="off" required class="mono"
                    prop:value=move || value.with(|v| v.id_number.clone())
                    on:input=set(|v, t| v.id_number = t)/>
                <FieldErrors error field="id_number"/>
            </div>
            <div class="field">
                <label for="bank">{move || i18n.t().fr_bank}</label>
                <input id="bank" readonly data-field="bank"
                    prop:value=move || bank.map(|b| b.label(i18n.lang())).unwrap_or_default()/>
                <p class="muted">{move || i18n.t().fr_bank_hint}</p>
                <FieldErrors error field="bank"/>
            </div>
            <div class="field">
                <label for="province">{move || i18n.t().fr_province}</label>
                <select id="province" name="province" required
                    prop:value=move || value.with(|v| v.province.clone())
                    on:change=move |ev| {
                        let province = event_target_value(&ev);
                        value.update(|v| {
                            v.province = province;
                            v.city.clear();
                            v.branch.clear();
                        });
                    }>
                    <option value="">{move || i18n.t().fr_pick}</option>
                    {PROVINCES.iter().map(|p| view! { <option value=p.code>{p.name}</option> }).collect_view()}
                </select>
                <FieldErrors error field="province"/>
            </div>
            <div class="field">
                <label for="city">{move || i18n.t().fr_city}</label>
                <select id="city" name="city" required
                    prop:value=move || value.with(|v| v.city.clone())
                    on:change=move |ev| {
                        let city = event_target_value(&ev);
                        value.update(|v| {
                            v.city = city;
                            v.branch.clear();
                        });
                    }>
                    <option value="">{move || i18n.t().fr_pick}</option>
                    {move || cities().into_iter().map(|(code, name)| view! {
                        <option value=code selected=move || value.with(|v| v.city == code)>{name}</option>
                    }).collect_view()}
                </select>
                <FieldErrors error field="city"/>
            </div>
            <div class="field">
                <label for="branch">{move || i18n.t().fr_branch}</label>
                <select id="branch" name="branch" required
                    prop:value=move || value.with(|v| v.branch.clone())
                    on:change=set(|v, t| v.branch = t)>
                    <option value="">{move || i18n.t().fr_pick}</option>
                    {move || branch_list().into_iter().map(|b| {
                        let code = b.code.clone();
                        view! {
                            <option value=b.code.clone() selected=move || value.with(|v| v.branch == code)>{b.name}</option>
                        }
                    }).collect_view()}
                </select>
                <FieldErrors error field="branch"/>
            </div>
        </fieldset>
    }
}

#[component]
fn RequestForm(form: FastRefundFormView, on_created: Callback<FastRefundCreated>) -> impl IntoView {
    let i18n = use_i18n();
    let t = form.txn.clone();
    let txn_id = t.id;
    let key = form.key.clone();
    let bank = form.bank;
    let amount = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let cardholder = RwSignal::new(CardholderInput {
        bank: bank.map(|b| b.code().to_owned()).unwrap_or_default(),
        ..CardholderInput::default()
    });
    let submit = Action::new(move |input: &FastRefundInput| request_fast_refund(input.clone()));
    let error = Signal::derive(move || submit.value().get().and_then(Result::err));
    Effect::new(move |_| {
        if let Some(Ok(done)) = submit.value().get() {
            on_created.run(done);
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submit.dispatch(FastRefundInput {
            txn_id,
            amount: amount.get_untracked(),
            reason: reason.get_untracked(),
            cardholder: cardholder.get_untracked(),
            // One key for every attempt of this form: a retry is the same fast refund.
            key: key.clone(),
            code: code.get_untracked(),
        });
    };
    let requires_token = form.requires_token;
    let refusal = form.refusal;
    let due = form.due_date.clone();
    view! {
        <section class="card">
            <h2>{move || i18n.t().refund_original}</h2>
            <dl class="facts facts-2col" id="fast-refund-original">
                <dt>{move || i18n.t().txn_col_time}</dt><dd>{t.time.clone()}</dd>
                <dt>{move || i18n.t().txn_col_reference}</dt>
                <dd class="mono"><a href=txn_path(txn_id)>{t.reference_no.clone()}</a></dd>
                <dt>{move || i18n.t().txn_col_card}</dt><dd class="mono">{t.card_masked.clone()}</dd>
                <dt>{move || i18n.t().txn_bank}</dt><dd>{move || bank.map(|b| b.label(i18n.lang()))}</dd>
                <dt>{move || i18n.t().txn_col_amount}</dt><dd><MoneyText fen=t.amount_fen/></dd>
                <dt>{move || i18n.t().refund_refundable}</dt><dd data-field="refundable"><strong><MoneyText fen=form.refundable_fen/></strong></dd>
                <dt>{move || i18n.t().refund_quota_left}</dt><dd data-field="quota-left"><MoneyText fen=form.quota_left_fen/></dd>
                <dt>{move || i18n.t().fr_due}</dt><dd data-field="due">{due.clone()}</dd>
            </dl>
        </section>
        <section class="card">
            <p class="hint">{move || i18n.t().fr_form_intro}</p>
            {requires_token.then(|| view! { <p class="hint">{move || i18n.t().refund_token_needed}</p> })}
            {move || error.get()
                .filter(|e| !matches!(e, AppError::Invalid(_)))
                .map(|error| view! { <ErrorAlert error/> })}
            {match refusal {
                Some(refusal) => view! {
                    <div class="alert alert-warning" role="status" data-field="fast-refund-refusal">
                        <p>{move || i18n.t().refund_cannot} " " {move || (i18n.t().refund_refusal)(refusal)}</p>
                    </div>
                }.into_any(),
                None => view! {
                    <form class="form" id="fast-refund-form" on:submit=on_submit>
                        <div class="field">
                            <label for="amount">{move || i18n.t().refund_amount}</label>
                            <input id="amount" name="amount" inputmode="decimal" required autocomplete="off"
                                prop:value=move || amount.get()
                                on:input=move |ev| amount.set(event_target_value(&ev))/>
                            <FieldErrors error field="amount"/>
                        </div>
                        <div class="field">
                            <label for="reason">{move || i18n.t().refund_reason}</label>
                            <input id="reason" name="reason" maxlength="200" required
                                prop:value=move || reason.get()
                                on:input=move |ev| reason.set(event_target_value(&ev))/>
                            <FieldErrors error field="reason"/>
                        </div>
                        <CardholderFields value=cardholder bank error/>
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
                        <FieldErrors error field="txn_id"/>
                        <button type="submit" class="button button-primary" data-action="submit-fast-refund"
                            disabled=move || submit.pending().get()>
                            {move || Function::FastRefundRequest.label(i18n.lang())}
                        </button>
                    </form>
                }.into_any(),
            }}
        </section>
        {(!form.history.is_empty()).then(|| view! {
            <h2>{move || i18n.t().fr_history_of_txn}</h2>
            <ItemTable rows=form.history/>
        })}
    }
}

/// Items as a table.
#[component]
fn ItemTable(rows: Vec<FastRefundRow>, #[prop(optional)] correct: bool) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="table-wrap">
            <table class="table fast-refund-table">
                <thead>
                    <tr>
                        <th>{move || i18n.t().refund_col_requested}</th>
                        <th>{move || i18n.t().txn_col_reference}</th>
                        <th>{move || i18n.t().txn_col_card}</th>
                        <th class="num">{move || i18n.t().refund_col_amount}</th>
                        <th>{move || i18n.t().fr_name}</th>
                        <th>{move || i18n.t().fr_id_number}</th>
                        <th>{move || i18n.t().fr_branch}</th>
                        <th>{move || i18n.t().refund_col_status}</th>
                        <th>{move || i18n.t().fr_due}</th>
                        <th class="num">{move || i18n.t().fr_resubmissions}</th>
                        <th>{move || i18n.t().fr_bank_reason}</th>
                        {correct.then(|| view! { <th></th> })}
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|r| {
                        let bank = r.bank;
                        let reason = r.bank_reason_code.clone().map(|code| {
                            let text = r.bank_reason_text.clone().unwrap_or_default();
                            move || (i18n.t().fr_bank_reason_text)(&code, &text)
                        });
                        view! {
                            <tr data-id=r.id>
                                <td><a href=detail_path(r.id)><When at=r.requested_at/></a></td>
                                <td class="mono"><a href=txn_path(r.txn_id)>{r.reference_no}</a></td>
                                <td class="mono">{r.card_masked}</td>
                                <td class="num"><MoneyText fen=r.amount_fen/></td>
                                <td>{r.cardholder_name}</td>
                                <td class="mono">{r.id_masked}</td>
                                <td>{move || bank.label(i18n.lang())} " " {r.branch_name}</td>
                                <td><StatusBadge status=r.status overdue=r.overdue/></td>
                                <td>{r.due_date}</td>
                                <td class="num" data-field="resubmissions">{r.resubmissions}</td>
                                <td data-field="bank-reason">{reason}</td>
                                {correct.then(|| view! {
                                    <td><a class="button button-small" href=detail_path(r.id) data-action="correct">
                                        {move || i18n.t().fr_correct}
                                    </a></td>
                                })}
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// The fast-refund query (manual §3.6.5).
#[component]
pub fn FastRefundQueryPage() -> impl IntoView {
    view! { <ItemList exceptions=false/> }
}

/// The exception list (manual §3.6.4).
#[component]
pub fn FastRefundExceptionsPage() -> impl IntoView {
    view! { <ItemList exceptions=true/> }
}

#[component]
fn ItemList(exceptions: bool) -> impl IntoView {
    let i18n = use_i18n();
    let function = if exceptions {
        Function::FastRefundExceptions
    } else {
        Function::FastRefundQuery
    };
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        let q = query.get();
        FastRefundFilter::from_query(|k| q.get(k).unwrap_or_default())
    });
    let page = Resource::new(
        move || filter.get(),
        move |filter| async move {
            if exceptions {
                fast_refund_exceptions(filter).await
            } else {
                fast_refund_search(filter).await
            }
        },
    );
    view! {
        <Title text=title_text(if exceptions {
            |l| Function::FastRefundExceptions.label(l).to_owned()
        } else {
            |l| Function::FastRefundQuery.label(l).to_owned()
        })/>
        <h1>{move || function.label(i18n.lang())}</h1>
        {exceptions.then(|| view! { <p class="muted">{move || i18n.t().fr_exceptions_intro}</p> })}
        <Loaded resource=page
            ok=move |page| {
                let filter = filter.get_untracked();
                view! {
                    <ItemFilters filter=filter.clone() error=Signal::derive(|| None) exceptions/>
                    <Items page filter exceptions/>
                }
            }
            invalid=Arc::new(move |error| {
                let filter = filter.get_untracked();
                let error = Signal::derive(move || Some(error.clone()));
                view! { <ItemFilters filter error exceptions/> }.into_any()
            })/>
    }
}

#[component]
fn ItemFilters(
    filter: FastRefundFilter,
    error: Signal<Option<AppError>>,
    exceptions: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    let path = if exceptions {
        EXCEPTIONS_PATH
    } else {
        QUERY_PATH
    };
    let selected_status = filter.status.clone();
    let selected_size = filter.size.clone();
    let overdue = filter.overdue == "1";
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
                {(!exceptions).then(|| view! {
                    <div class="field">
                        <label for="status">{move || i18n.t().refund_col_status}</label>
                        <select id="status" name="status">
                            <option value="">{move || i18n.t().audit_any}</option>
                            {FastRefundStatus::ALL.iter().map(|s| {
                                let selected = selected_status == s.code();
                                view! { <option value=s.code() selected=selected>{move || s.label(i18n.lang())}</option> }
                            }).collect_view()}
                        </select>
                        <FieldErrors error field="status"/>
                    </div>
                })}
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
                </div>
                <div class="field field-check">
                    <label>
                        <input type="checkbox" name="overdue" value="1" checked=overdue/>
                        " " {move || i18n.t().fr_only_overdue}
                    </label>
                    <FieldErrors error field="overdue"/>
                </div>
            </div>
            {(!filter.txn.is_empty()).then(|| view! { <input type="hidden" name="txn" value=filter.txn.clone()/> })}
            {(!filter.batch.is_empty()).then(|| view! { <input type="hidden" name="batch" value=filter.batch.clone()/> })}
            <FieldErrors error field="txn"/>
            <FieldErrors error field="batch"/>
            <FieldErrors error field="size"/>
            <FieldErrors error field="after"/>
            <div class="form-actions">
                <button type="submit" class="button button-primary">{move || i18n.t().search}</button>
                <a class="button" href=path>{move || i18n.t().reset}</a>
            </div>
        </form>
    }
}

#[component]
fn Items(page: FastRefundPage, filter: FastRefundFilter, exceptions: bool) -> impl IntoView {
    let i18n = use_i18n();
    let path = if exceptions {
        EXCEPTIONS_PATH
    } else {
        QUERY_PATH
    };
    let (total, total_fen) = (page.total, page.total_fen);
    let mut pairs = filter.query_pairs(false);
    if exceptions {
        pairs.push(("status", FastRefundStatus::Exception.code().to_owned()));
    }
    let download = format!("{EXPORT_PATH}?{}", query_string(&pairs));
    view! {
        <div class="toolbar">
            <p data-field="fast-refund-total">
                {move || (i18n.t().fr_total)(&format_count(total as i64))} " "
                <MoneyText fen=total_fen/>
            </p>
            {(total > 0).then(|| view! {
                <a class="button" href=download.clone() rel="external" download="" data-action="download">
                    {move || i18n.t().download_excel}
                </a>
            })}
        </div>
        {if page.rows.is_empty() {
            let none = move || if exceptions { i18n.t().fr_no_exceptions } else { i18n.t().fr_none };
            view! { <p class="muted">{none}</p> }.into_any()
        } else {
            view! { <ItemTable rows=page.rows correct=exceptions/> }.into_any()
        }}
        <Pager path pairs=filter.query_pairs(false) cursor="after" at=filter.after.clone()
            next=page.next_after/>
    }
}

/// One item: its figures, the original transaction, its history, and the correction of an item the
/// bank rejected.
#[component]
pub fn FastRefundPage() -> impl IntoView {
    let i18n = use_i18n();
    let id = id_param();
    let version = RwSignal::new(0u32);
    let resent = RwSignal::new(false);
    let view = Resource::new(
        move || (id.get(), version.get()),
        |(id, _)| fast_refund_detail(id),
    );
    view! {
        <Title text=title_text(|l| l.texts().fr_detail.to_owned())/>
        <p><a href=QUERY_PATH>{move || i18n.t().fr_back_to_query}</a></p>
        <h1>{move || i18n.t().fr_detail}</h1>
        {move || resent.get().then(|| view! {
            <p class="alert alert-success" role="status" data-field="fast-refund-resent">{move || i18n.t().fr_resent}</p>
        })}
        <Loaded resource=view ok=move |view| view! { <Detail view version resent/> }/>
    }
}

#[component]
fn Detail(view: FastRefundView, version: RwSignal<u32>, resent: RwSignal<bool>) -> impl IntoView {
    let i18n = use_i18n();
    let r = view.row.clone();
    let t = view.txn.clone();
    let bank = r.bank;
    let id_type = r.id_type;
    let reason = r.bank_reason_code.clone().map(|code| {
        let text = r.bank_reason_text.clone().unwrap_or_default();
        move || (i18n.t().fr_bank_reason_text)(&code, &text)
    });
    view! {
        <section class="card">
            <dl class="facts facts-2col" id="fast-refund-facts">
                <dt>{move || i18n.t().refund_col_status}</dt>
                <dd data-field="status"><StatusBadge status=r.status overdue=r.overdue/></dd>
                <dt>{move || i18n.t().refund_col_amount}</dt><dd data-field="amount"><MoneyText fen=r.amount_fen/></dd>
                <dt>{move || i18n.t().refund_col_requested}</dt><dd>{r.requested_at.clone()}</dd>
                <dt>{move || i18n.t().fr_due}</dt><dd data-field="due">{r.due_date.clone()}</dd>
                <dt>{move || i18n.t().fr_sent}</dt><dd>{view.sent_at.clone()}</dd>
                <dt>{move || i18n.t().fr_completed}</dt><dd>{view.completed_at.clone()}</dd>
                <dt>{move || i18n.t().fr_resubmissions}</dt><dd data-field="resubmissions">{r.resubmissions}</dd>
                {reason.map(|reason| view! {
                    <dt>{move || i18n.t().fr_bank_reason}</dt><dd data-field="bank-reason">{reason}</dd>
                })}
                <dt>{move || i18n.t().refund_reason}</dt><dd>{view.reason.clone()}</dd>
                <dt>{move || i18n.t().fr_name}</dt><dd data-field="name">{r.cardholder_name.clone()}</dd>
                <dt>{move || i18n.t().fr_id_type}</dt><dd>{move || id_type.label(i18n.lang())}</dd>
                <dt>{move || i18n.t().fr_id_number}</dt><dd class="mono" data-field="id-masked">{r.id_masked.clone()}</dd>
                <dt>{move || i18n.t().fr_bank}</dt><dd>{move || bank.label(i18n.lang())}</dd>
                <dt>{move || i18n.t().fr_branch}</dt>
                <dd>{format!("{} {} {}", view.province_name, view.city_name, r.branch_name)}</dd>
                {r.batch_id.map(|b| view! { <dt>{move || i18n.t().fr_batch}</dt><dd>{b}</dd> })}
            </dl>
        </section>
        {view.correction.clone().map(|current| view! {
            <Correction id=r.id current bank requires_token=view.requires_token version resent/>
        })}
        <section class="card">
            <h2>{move || i18n.t().refund_original}</h2>
            <dl class="facts facts-2col">
                <dt>{move || i18n.t().txn_col_time}</dt><dd>{t.time.clone()}</dd>
                <dt>{move || i18n.t().txn_col_reference}</dt>
                <dd class="mono"><a href=txn_path(t.id)>{t.reference_no.clone()}</a></dd>
                <dt>{move || i18n.t().txn_col_card}</dt><dd class="mono">{t.card_masked.clone()}</dd>
                <dt>{move || i18n.t().txn_col_amount}</dt><dd><MoneyText fen=t.amount_fen/></dd>
            </dl>
        </section>
        <h2>{move || i18n.t().fr_history}</h2>
        <ol class="history fast-refund-history" id="fast-refund-history">
            {view.history.into_iter().map(|step| {
                let to = step.to;
                let comment = step.comment.clone().map(|c| move || step_comment(i18n.t(), &c));
                view! {
                    <li>
                        <When at=step.at/> " "
                        <StatusBadge status=to overdue=false/> " "
                        {step.by.unwrap_or_else(|| i18n.t().fr_by_bank.to_owned())}
                        {comment.map(|c| view! { <p class="muted">{c}</p> })}
                    </li>
                }
            }).collect_view()}
        </ol>
    }
}

/// The correction of an item in exception: the cardholder's fields as they were sent (the full
/// document number shown only here), changed and sent again.
#[component]
fn Correction(
    id: i64,
    current: CardholderInput,
    bank: Bank,
    requires_token: bool,
    version: RwSignal<u32>,
    resent: RwSignal<bool>,
) -> impl IntoView {
    let i18n = use_i18n();
    let value = RwSignal::new(current);
    let code = RwSignal::new(String::new());
    let submit = Action::new(move |input: &CorrectionInput| resubmit_fast_refund(input.clone()));
    let error = Signal::derive(move || submit.value().get().and_then(Result::err));
    Effect::new(move |_| {
        if let Some(Ok(_)) = submit.value().get() {
            resent.set(true);
            version.update(|v| *v += 1);
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        resent.set(false);
        submit.dispatch(CorrectionInput {
            id,
            cardholder: value.get_untracked(),
            code: code.get_untracked(),
        });
    };
    view! {
        <section class="card" id="fast-refund-correction">
            <h2>{move || i18n.t().fr_correct_title}</h2>
            <p class="hint">{move || i18n.t().fr_correct_intro}</p>
            {move || error.get()
                .filter(|e| !matches!(e, AppError::Invalid(_)))
                .map(|error| view! { <ErrorAlert error/> })}
            <form class="form" on:submit=on_submit>
                <CardholderFields value bank=Some(bank) error/>
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
                <button type="submit" class="button button-primary" data-action="resubmit"
                    disabled=move || submit.pending().get()>
                    {move || i18n.t().fr_resubmit}
                </button>
            </form>
        </section>
    }
}

/// The batch fast refund (manual §3.6.3): the template, the upload (a plain form: the server
/// reads the file and answers with its preview's address) and, with `?upload=`, the preview.
#[component]
pub fn FastRefundBatchPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let upload = Memo::new(move |_| {
        query
            .get()
            .get("upload")
            .and_then(|id| id.parse::<i64>().ok())
    });
    let created = RwSignal::new(None::<BatchCreated>);
    view! {
        <Title text=title_text(|l| Function::FastRefundBatch.label(l).to_owned())/>
        <h1>{move || Function::FastRefundBatch.label(i18n.lang())}</h1>
        <p class="muted">{move || i18n.t().fr_batch_intro}</p>
        {move || created.get().map(|done| view! {
            <div class="alert alert-success" role="status" data-field="batch-created">
                <p>
                    {move || (i18n.t().fr_batch_created)(done.items, &crate::domain::money::format_fen(done.total_fen))} " "
                    <a href=batch_items_path(done.batch_id) data-action="view-batch">{move || i18n.t().fr_batch_view}</a>
                </p>
            </div>
        })}
        <section class="card">
            <p>
                <a class="button" href=TEMPLATE_PATH rel="external" download="" data-action="template">
                    {move || i18n.t().fr_batch_template}
                </a>
            </p>
            <form class="form" method="post" action=UPLOAD_PATH enctype="multipart/form-data" id="batch-upload">
                <div class="field">
                    <label for="file">{move || i18n.t().fr_batch_file}</label>
                    <input id="file" name="file" type="file" required
                        accept=".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"/>
                    <p class="muted">{move || i18n.t().fr_batch_file_hint}</p>
                </div>
                <button type="submit" class="button button-primary" data-action="upload">
                    {move || i18n.t().fr_batch_upload}
                </button>
            </form>
        </section>
        {move || upload.get().filter(|_| created.get().is_none()).map(|id| {
            let view = Resource::new(move || id, fast_refund_upload_view);
            view! { <Loaded resource=view ok=move |view| view! { <Preview view created/> }/> }
        })}
    }
}

/// What the file holds: its problem, or its rows' count and total with every problem found, and the
/// operator's decision.
#[component]
fn Preview(view: UploadView, created: RwSignal<Option<BatchCreated>>) -> impl IntoView {
    let i18n = use_i18n();
    let id = view.id;
    let key = view.key.clone();
    let code = RwSignal::new(String::new());
    let submit = Action::new(move |(key, code): &(String, String)| {
        submit_fast_refund_batch(id, key.clone(), code.clone())
    });
    let cancel = Action::new(move |_: &()| cancel_fast_refund_upload(id));
    let error = Signal::derive(move || {
        submit
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| cancel.value().get().and_then(Result::err))
    });
    Effect::new(move |_| {
        if let Some(Ok(done)) = submit.value().get() {
            created.set(Some(done));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = cancel.value().get() {
            let navigate = leptos_router::hooks::use_navigate();
            navigate(BATCH_PATH, Default::default());
        }
    });
    let file = view.file_name.clone();
    if let Some(problem) = view.file_problem.clone() {
        return view! {
            <section class="card" id="batch-preview">
                <h2>{file}</h2>
                <div class="alert alert-error" role="alert" data-field="file-problem">
                    <p>{move || (i18n.t().file_problem)(&problem)}</p>
                </div>
            </section>
        }
        .into_any();
    }
    let over_quota = view.valid_fen > view.quota_left_fen;
    let sendable = view.valid_count > 0 && view.earlier_batch.is_none() && !over_quota;
    let requires_token = view.requires_token;
    let (rows, valid, valid_fen, errors) = (
        view.row_count,
        view.valid_count,
        view.valid_fen,
        view.error_count,
    );
    let shown = view.errors.len() as u64;
    view! {
        <section class="card" id="batch-preview">
            <h2>{file}</h2>
            <dl class="facts facts-2col">
                <dt>{move || i18n.t().fr_batch_rows}</dt><dd data-field="rows">{rows}</dd>
                <dt>{move || i18n.t().fr_batch_valid}</dt><dd data-field="valid">{valid}</dd>
                <dt>{move || i18n.t().fr_batch_valid_total}</dt><dd data-field="valid-total"><MoneyText fen=valid_fen/></dd>
                <dt>{move || i18n.t().fr_batch_errors}</dt><dd data-field="errors">{errors}</dd>
                <dt>{move || i18n.t().refund_quota_left}</dt><dd><MoneyText fen=view.quota_left_fen/></dd>
            </dl>
            {view.earlier_batch.clone().map(|(batch, at)| view! {
                <div class="alert alert-warning" role="status" data-field="earlier-batch">
                    <p>
                        {move || (i18n.t().fr_batch_earlier)(&at)} " "
                        <a href=batch_items_path(batch)>{move || i18n.t().fr_batch_view}</a>
                    </p>
                </div>
            })}
            {over_quota.then(|| view! {
                <div class="alert alert-warning" role="status" data-field="over-quota">
                    <p>{move || i18n.t().fr_batch_over_quota}</p>
                </div>
            })}
            {(errors > 0).then(|| view! {
                <p>
                    <a class="button" href=errors_path(id) rel="external" download="" data-action="error-report">
                        {move || i18n.t().fr_batch_error_report}
                    </a>
                    {(errors > shown).then(|| view! {
                        " " <span class="muted">{move || (i18n.t().fr_batch_errors_shown)(shown)}</span>
                    })}
                </p>
                <div class="table-wrap">
                    <table class="table" id="batch-errors">
                        <thead>
                            <tr>
                                <th class="num">{move || i18n.t().fr_err_row}</th>
                                <th>{move || i18n.t().fr_err_column}</th>
                                <th>{move || i18n.t().fr_err_problem}</th>
                            </tr>
                        </thead>
                        <tbody>
                            {view.errors.iter().map(|e| {
                                let (column, problem) = (e.column, e.problem);
                                view! {
                                    <tr data-row=e.row>
                                        <td class="num">{e.row}</td>
                                        <td>{move || column.map(|c| format!("{} {}", c.letter(), c.label(i18n.lang())))}</td>
                                        <td>{move || i18n.t().row_problem(column, problem)}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            })}
            {move || error.get().map(|error| view! { <ErrorAlert error/> })}
            <div class="form">
                {(sendable && requires_token).then(|| view! {
                    <div class="field">
                        <label for="code">{move || i18n.t().token_code}</label>
                        <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code"
                            maxlength="12" class="input-code"
                            prop:value=move || code.get()
                            on:input=move |ev| code.set(event_target_value(&ev))/>
                    </div>
                })}
                <div class="form-actions">
                    {sendable.then(|| {
                        let key = key.clone();
                        view! {
                            <button type="button" class="button button-primary" data-action="submit-batch"
                                disabled=move || submit.pending().get()
                                on:click=move |_| { submit.dispatch((key.clone(), code.get_untracked())); }>
                                {move || (i18n.t().fr_batch_submit)(valid)}
                            </button>
                        }
                    })}
                    <button type="button" class="button" data-action="cancel-batch"
                        on:click=move |_| { cancel.dispatch(()); }>
                        {move || i18n.t().fr_batch_cancel}
                    </button>
                </div>
            </div>
        </section>
    }
    .into_any()
}

/// A step's comment in words: the fields a correction changed (before → after, the document
/// number masked as stored), or the bank's reason as it gave it.
fn step_comment(t: &Texts, comment: &str) -> String {
    let changed = serde_json::from_str::<serde_json::Value>(comment)
        .ok()
        .and_then(|v| v.get("changed").cloned());
    let Some(serde_json::Value::Object(changed)) = changed else {
        let (code, text) = comment.split_once(' ').unwrap_or((comment, ""));
        return (t.fr_bank_reason_text)(code, text);
    };
    let parts: Vec<String> = changed
        .iter()
        .map(|(field, pair)| {
            let name = match field.as_str() {
                "name" => t.fr_name,
                "id_type" => t.fr_id_type,
                "id_number" => t.fr_id_number,
                "place" => t.fr_city,
                _ => t.fr_branch,
            };
            let side = |i: usize| {
                pair.get(i)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            format!("{name} {} → {}", side(0), side(1))
        })
        .collect();
    format!("{} {}", t.fr_changed, parts.join("; "))
}
