//! Operator management (manual §3.7.2): the list, adding an operator, and one operator's page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::api::operators::{
    get_operator, list_operators, new_operator_options, BindOperatorCertificate, CreateOperator,
    GroupOption, OperatorDetail, OperatorForm, OperatorFormOptions, OperatorRow,
    ResetOperatorPassword, ResetOperatorToken, SetOperatorEnabled, UnbindOperatorCertificate,
    UnlockOperator, UpdateOperator,
};
use crate::domain::access::{Function, Role};
use crate::domain::{DataScope, OperatorStatus};
use crate::error::AppError;
use crate::i18n::{title_text, use_i18n, Label};
use crate::ui::components::alert::ErrorAlert;
use crate::ui::components::form::FieldErrors;
use crate::ui::components::load::Loaded;
use crate::ui::paths::id_param;

fn role_list(roles: &[Role], lang: crate::i18n::Lang) -> String {
    lang.list(roles.iter().map(|r| r.label(lang)))
}

#[component]
pub fn OperatorsPage() -> impl IntoView {
    let i18n = use_i18n();
    let search = RwSignal::new(String::new());
    let typed = RwSignal::new(String::new());
    let rows = Resource::new(move || search.get(), list_operators);
    view! {
        <Title text=title_text(|l| Function::AdminOperators.label(l).to_owned())/>
        <h1>{move || Function::AdminOperators.label(i18n.lang())}</h1>
        <div class="toolbar">
            <form class="search-form" on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                search.set(typed.get_untracked());
            }>
                <input type="search" name="search" aria-label=move || i18n.t().ops_search
                    placeholder=move || i18n.t().ops_search
                    prop:value=move || typed.get()
                    on:input=move |ev| typed.set(event_target_value(&ev))/>
                <button type="submit" class="button">{move || i18n.t().ops_search_button}</button>
            </form>
            <A href="/admin/operators/new" attr:class="button button-primary">{move || i18n.t().ops_add}</A>
        </div>
        <Loaded resource=rows ok={move |rows: Vec<_>| if rows.is_empty() {
            view! { <p class="muted">{move || i18n.t().ops_none_found}</p> }.into_any()
        } else {
            view! { <OperatorTable rows/> }.into_any()
        }}/>
    }
}

#[component]
fn OperatorTable(rows: Vec<OperatorRow>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="table-wrap">
            <table class="table" data-table="operators">
                <thead>
                    <tr>
                        <th scope="col">{move || i18n.t().ops_login}</th>
                        <th scope="col">{move || i18n.t().ops_name}</th>
                        <th scope="col">{move || i18n.t().ops_roles}</th>
                        <th scope="col">{move || i18n.t().ops_status}</th>
                        <th scope="col">{move || i18n.t().ops_last_login}</th>
                        <th scope="col">{move || i18n.t().ops_certificates}</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|row| {
                        let href = format!("/admin/operators/{}", row.id);
                        let roles = row.roles.clone();
                        let status = row.status;
                        let login = row.login_name.clone();
                        view! {
                            <tr data-login=login>
                                <td class="mono"><A href=href>{row.login_name}</A></td>
                                <td>{row.display_name}</td>
                                <td>{move || role_list(&roles, i18n.lang())}</td>
                                <td><StatusBadge status/></td>
                                <td>{row.last_login_at.unwrap_or_default()}</td>
                                <td class="num">{row.certificates}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn StatusBadge(status: OperatorStatus) -> impl IntoView {
    let i18n = use_i18n();
    view! { <span class=format!("badge badge-{}", status.code())>{move || status.label(i18n.lang())}</span> }
}

/// The fields shared by the add and edit forms, bound to signals.
#[derive(Clone, Copy)]
struct FormState {
    display_name: RwSignal<String>,
    roles: RwSignal<Vec<Role>>,
    scope: RwSignal<DataScope>,
    group_ids: RwSignal<Vec<i64>>,
    approval_limit: RwSignal<String>,
}

impl FormState {
    fn new(form: OperatorForm) -> Self {
        Self {
            display_name: RwSignal::new(form.display_name),
            roles: RwSignal::new(form.roles),
            scope: RwSignal::new(form.scope),
            group_ids: RwSignal::new(form.group_ids),
            approval_limit: RwSignal::new(form.approval_limit),
        }
    }

    fn value(&self) -> OperatorForm {
        OperatorForm {
            display_name: self.display_name.get_untracked(),
            roles: self.roles.get_untracked(),
            scope: self.scope.get_untracked(),
            group_ids: self.group_ids.get_untracked(),
            approval_limit: self.approval_limit.get_untracked(),
        }
    }
}

#[component]
fn FormFields(
    state: FormState,
    groups: Vec<GroupOption>,
    #[prop(into)] error: Signal<Option<AppError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let has_groups = !groups.is_empty();
    view! {
        <div class="field">
            <label for="display_name">{move || i18n.t().ops_name}</label>
            <input id="display_name" type="text" maxlength="64" required
                prop:value=move || state.display_name.get()
                on:input=move |ev| state.display_name.set(event_target_value(&ev))/>
            <FieldErrors error field="display_name"/>
        </div>
        <fieldset class="field">
            <legend>{move || i18n.t().ops_roles}</legend>
            {Role::ALL.iter().map(|&role| view! {
                <label class="check-label">
                    <input type="checkbox" name="roles" value=role.code()
                        prop:checked=move || state.roles.with(|r| r.contains(&role))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            state.roles.update(|r| {
                                r.retain(|x| *x != role);
                                if on { r.push(role); r.sort(); }
                            });
                        }/>
                    {move || role.label(i18n.lang())}
                </label>
            }).collect_view()}
            <FieldErrors error field="roles"/>
        </fieldset>
        <Show when=move || state.roles.with(|r| r.contains(&Role::RefundApprover))>
            <div class="field">
                <label for="approval_limit">{move || i18n.t().ops_approval_limit}</label>
                <input id="approval_limit" type="text" inputmode="decimal" maxlength="20"
                    prop:value=move || state.approval_limit.get()
                    on:input=move |ev| state.approval_limit.set(event_target_value(&ev))/>
                <p class="hint">{move || i18n.t().ops_approval_limit_hint}</p>
                <FieldErrors error field="approval_limit"/>
            </div>
        </Show>
        <fieldset class="field">
            <legend>{move || i18n.t().ops_scope}</legend>
            {DataScope::ALL.iter().map(|&scope| view! {
                <label class="check-label">
                    <input type="radio" name="scope" value=scope.code()
                        prop:checked=move || state.scope.get() == scope
                        on:change=move |_| state.scope.set(scope)/>
                    {move || scope.label(i18n.lang())}
                </label>
            }).collect_view()}
        </fieldset>
        <Show when=move || state.scope.get() == DataScope::Groups>
            <fieldset class="field">
                <legend>{move || i18n.t().ops_groups}</legend>
                {(!has_groups).then(|| view! { <p class="hint">{move || i18n.t().ops_no_groups}</p> })}
                {groups.clone().into_iter().map(|g| {
                    let id = g.id;
                    view! {
                        <label class="check-label">
                            <input type="checkbox" name="group_ids" value=id
                                prop:checked=move || state.group_ids.with(|ids| ids.contains(&id))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    state.group_ids.update(|ids| {
                                        ids.retain(|x| *x != id);
                                        if on { ids.push(id); ids.sort(); }
                                    });
                                }/>
                            {g.name}
                        </label>
                    }
                }).collect_view()}
                <FieldErrors error field="group_ids"/>
            </fieldset>
        </Show>
    }
}

/// A one-time password panel, shown once.
#[component]
fn OneTimePasswordPanel(password: String) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="alert alert-success otp" role="status">
            <strong>{move || i18n.t().ops_otp_title}</strong>
            <p class="mono otp-value" data-field="one-time-password">{password}</p>
            <p>{move || i18n.t().ops_otp_body}</p>
        </div>
    }
}

#[component]
pub fn NewOperatorPage() -> impl IntoView {
    let i18n = use_i18n();
    let options = Resource::new(|| (), |_| new_operator_options());
    view! {
        <Title text=title_text(|l| l.texts().ops_new_title.to_owned())/>
        <p><A href="/admin/operators">{move || i18n.t().ops_back}</A></p>
        <h1>{move || i18n.t().ops_new_title}</h1>
        <Loaded resource=options ok=move |options| view! { <NewOperatorForm options/> }/>
    }
}

#[component]
fn NewOperatorForm(options: OperatorFormOptions) -> impl IntoView {
    let i18n = use_i18n();
    let OperatorFormOptions {
        login_prefix,
        groups,
    } = options;
    // Read by the form each time it is shown.
    let login_prefix = StoredValue::new(login_prefix);
    let login = RwSignal::new(String::new());
    let state = FormState::new(OperatorForm {
        display_name: String::new(),
        roles: Vec::new(),
        scope: DataScope::Merchant,
        group_ids: Vec::new(),
        approval_limit: String::new(),
    });
    let action = ServerAction::<CreateOperator>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let created = move || action.value().get().and_then(Result::ok);
    view! {
        {move || created().map(|otp| {
            let href = format!("/admin/operators/{}", otp.operator_id);
            view! {
                <OneTimePasswordPanel password=otp.password/>
                <p><A href=href>{move || i18n.t().ops_open}</A></p>
            }
        })}
        {move || error.get().filter(|e| !matches!(e, AppError::Invalid(_))).map(|error| view! { <ErrorAlert error/> })}
        <Show when=move || created().is_none()>
            <section class="card">
                <form class="form" on:submit=move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    action.dispatch(CreateOperator { login_name: login.get_untracked(), form: state.value() });
                }>
                    <div class="field">
                        <label for="login_name">{move || i18n.t().ops_login}</label>
                        <div class="input-group">
                            <span class="input-addon mono" data-field="login-prefix">{move || login_prefix.with_value(|p| format!("{p}."))}</span>
                            <input id="login_name" type="text" maxlength="32" required autocapitalize="none"
                                spellcheck="false" aria-describedby="login_name_hint"
                                prop:value=move || login.get()
                                on:input=move |ev| login.set(event_target_value(&ev))/>
                        </div>
                        <p class="hint" id="login_name_hint">{move || login_prefix.with_value(|p| (i18n.t().ops_login_prefix_hint)(p))}</p>
                        <FieldErrors error field="login_name"/>
                    </div>
                    <FormFields state groups=groups.clone() error/>
                    <button type="submit" class="button button-primary" disabled=move || action.pending().get()>
                        {move || i18n.t().ops_create}
                    </button>
                </form>
            </section>
        </Show>
    }
}

#[component]
pub fn OperatorPage() -> impl IntoView {
    let i18n = use_i18n();
    let id = id_param();
    // Every action bumps the version, which reloads the operator.
    let version = RwSignal::new(0_u32);
    let detail = Resource::new(
        move || (id.get(), version.get()),
        |(id, _)| get_operator(id),
    );
    view! {
        <Title text=title_text(|l| Function::AdminOperators.label(l).to_owned())/>
        <p><A href="/admin/operators">{move || i18n.t().ops_back}</A></p>
        <Loaded resource=detail ok=move |detail| view! { <OperatorView detail version/> }/>
    }
}

#[component]
fn OperatorView(detail: OperatorDetail, version: RwSignal<u32>) -> impl IntoView {
    let i18n = use_i18n();
    let id = detail.id;
    let state = FormState::new(OperatorForm {
        display_name: detail.display_name.clone(),
        roles: detail.roles.clone(),
        scope: detail.scope,
        group_ids: detail.group_ids.clone(),
        approval_limit: detail
            .approval_limit_fen
            .map(crate::domain::money::format_fen)
            .unwrap_or_default(),
    });
    let update = ServerAction::<UpdateOperator>::new();
    let enable = ServerAction::<SetOperatorEnabled>::new();
    let unlock = ServerAction::<UnlockOperator>::new();
    let reset = ServerAction::<ResetOperatorPassword>::new();
    let reset_token = ServerAction::<ResetOperatorToken>::new();
    let bind = ServerAction::<BindOperatorCertificate>::new();
    let unbind = ServerAction::<UnbindOperatorCertificate>::new();
    let fingerprint = RwSignal::new(String::new());

    // The last answer of any action: shown once, and a success reloads the operator.
    let last_error = RwSignal::new(None::<AppError>);
    let reload = move |result: Option<Result<(), AppError>>| match result {
        Some(Ok(())) => {
            last_error.set(None);
            version.update(|v| *v += 1);
        }
        Some(Err(e)) => last_error.set(Some(e)),
        None => {}
    };
    Effect::new(move |_| reload(enable.value().get()));
    Effect::new(move |_| reload(unlock.value().get()));
    Effect::new(move |_| reload(reset_token.value().get()));
    Effect::new(move |_| reload(unbind.value().get()));
    Effect::new(move |_| {
        if let Some(Err(e)) = update.value().get() {
            last_error.set(Some(e));
        }
    });
    Effect::new(move |_| {
        if let Some(Err(e)) = bind.value().get() {
            last_error.set(Some(e));
        } else if let Some(Ok(())) = bind.value().get() {
            fingerprint.set(String::new());
            version.update(|v| *v += 1);
        }
    });
    let form_error = Signal::derive(move || last_error.get());
    let new_password = move || reset.value().get().and_then(Result::ok).map(|o| o.password);
    let reset_error = move || reset.value().get().and_then(Result::err);

    let status = detail.status;
    let roles = detail.roles.clone();
    let locked_until = detail.locked_until.clone();
    view! {
        <h1>{detail.display_name.clone()} " " <span class="mono muted">"(" {detail.login_name.clone()} ")"</span></h1>
        {move || new_password().map(|password| view! { <OneTimePasswordPanel password/> })}
        {move || reset_error().map(|error| view! { <ErrorAlert error/> })}
        {move || last_error.get().filter(|e| !matches!(e, AppError::Invalid(_))).map(|error| view! { <ErrorAlert error/> })}
        {move || matches!(update.value().get(), Some(Ok(()))).then(|| view! {
            <div class="alert alert-success" role="status"><p>{move || i18n.t().ops_saved}</p></div>
        })}
        <div class="cards">
            <section class="card">
                <dl class="facts">
                    <dt>{move || i18n.t().ops_status}</dt>
                    <dd data-field="operator-status"><StatusBadge status/></dd>
                    <dt>{move || i18n.t().ops_roles}</dt>
                    <dd>{move || role_list(&roles, i18n.lang())}</dd>
                    <dt>{move || i18n.t().ops_last_login}</dt>
                    <dd>{detail.last_login_at.clone().unwrap_or_default()} " " {detail.last_login_addr.clone().unwrap_or_default()}</dd>
                    <dt>{move || i18n.t().ops_failed}</dt>
                    <dd>{detail.failed_login_count}</dd>
                    {locked_until.map(|until| view! {
                        <dt>{move || i18n.t().ops_locked_until}</dt>
                        <dd>{until}</dd>
                    })}
                    <dt>{move || i18n.t().ops_must_change}</dt>
                    <dd>{move || if detail.must_change_password { i18n.t().yes } else { i18n.t().no }}</dd>
                    <dt>{move || i18n.t().ops_token}</dt>
                    <dd>{move || if detail.token_enrolled { i18n.t().ops_token_enrolled } else { i18n.t().ops_token_none }}</dd>
                </dl>
                <h2>{move || i18n.t().ops_actions}</h2>
                <div class="actions">
                    {(status == OperatorStatus::Disabled).then(|| view! {
                        <button class="button" on:click=move |_| { enable.dispatch(SetOperatorEnabled { id, enabled: true }); }>
                            {move || i18n.t().ops_enable}
                        </button>
                    })}
                    {(status != OperatorStatus::Disabled && !detail.is_self).then(|| view! {
                        <button class="button" on:click=move |_| { enable.dispatch(SetOperatorEnabled { id, enabled: false }); }>
                            {move || i18n.t().ops_disable}
                        </button>
                    })}
                    {(status == OperatorStatus::Locked).then(|| view! {
                        <button class="button" on:click=move |_| { unlock.dispatch(UnlockOperator { id }); }>
                            {move || i18n.t().ops_unlock}
                        </button>
                    })}
                    <button class="button" on:click=move |_| { reset.dispatch(ResetOperatorPassword { id }); }>
                        {move || i18n.t().ops_reset_password}
                    </button>
                    {detail.token_enrolled.then(|| view! {
                        <button class="button" on:click=move |_| { reset_token.dispatch(ResetOperatorToken { id }); }>
                            {move || i18n.t().ops_reset_token}
                        </button>
                    })}
                </div>
            </section>
            <section class="card">
                <form class="form" on:submit=move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    update.dispatch(UpdateOperator { id, form: state.value() });
                }>
                    <FormFields state groups=detail.groups.clone() error=form_error/>
                    <button type="submit" class="button button-primary" disabled=move || update.pending().get()>
                        {move || i18n.t().ops_save}
                    </button>
                </form>
            </section>
            <section class="card card-wide">
                <h2>{move || i18n.t().ops_certificates}</h2>
                {detail.certificates.is_empty().then(|| view! { <p class="muted">{move || i18n.t().ops_no_certificates}</p> })}
                {(!detail.certificates.is_empty()).then(|| view! {
                    <table class="table" data-table="certificates">
                        <thead>
                            <tr>
                                <th scope="col">{move || i18n.t().ops_subject}</th>
                                <th scope="col">{move || i18n.t().ops_fingerprint}</th>
                                <th scope="col">{move || i18n.t().ops_valid_until}</th>
                                <th scope="col"></th>
                            </tr>
                        </thead>
                        <tbody>
                            {detail.certificates.clone().into_iter().map(|c| {
                                let fp = c.fingerprint.clone();
                                view! {
                                    <tr>
                                        <td>{c.subject_cn}</td>
                                        <td class="mono wrap">{c.fingerprint}</td>
                                        <td>{c.not_after}</td>
                                        <td>
                                            <button class="button button-quiet" on:click=move |_| {
                                                unbind.dispatch(UnbindOperatorCertificate { id, fingerprint: fp.clone() });
                                            }>{move || i18n.t().ops_unbind}</button>
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                })}
                <form class="form" on:submit=move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    bind.dispatch(BindOperatorCertificate { id, fingerprint: fingerprint.get_untracked() });
                }>
                    <div class="field">
                        <label for="fingerprint">{move || i18n.t().ops_fingerprint}</label>
                        <input id="fingerprint" type="text" class="mono" spellcheck="false" autocomplete="off"
                            maxlength="100" required
                            prop:value=move || fingerprint.get()
                            on:input=move |ev| fingerprint.set(event_target_value(&ev))/>
                        <p class="hint">{move || i18n.t().ops_bind_hint}</p>
                        <FieldErrors error=form_error field="fingerprint"/>
                    </div>
                    <button type="submit" class="button">{move || i18n.t().ops_bind}</button>
                </form>
            </section>
        </div>
    }
}
