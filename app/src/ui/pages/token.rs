//! "My token": the operator's TOTP token. Enrolment shows a QR code (and the secret as text) once,
//! then asks for the first code the app shows; an enrolled token can be tried with a code.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::token::{
    my_token, BeginTokenEnrolment, ConfirmTokenEnrolment, Enrolment, TokenState, TokenView,
    TryTokenCode,
};
use crate::error::AppError;
use crate::i18n::{title_text, use_i18n};
use crate::ui::components::alert::ErrorAlert;
use crate::ui::components::form::FieldErrors;
use crate::ui::components::load::Loaded;

#[component]
pub fn TokenPage() -> impl IntoView {
    let i18n = use_i18n();
    let token = Resource::new(|| (), |_| my_token());
    view! {
        <Title text=title_text(|l| l.texts().token_title.to_owned())/>
        <h1>{move || i18n.t().token_title}</h1>
        <p class="muted">{move || i18n.t().token_intro}</p>
        <Loaded resource=token ok=move |state| view! { <TokenCard token=state on_change=move || token.refetch()/> }/>
    }
}

#[component]
fn TokenCard(
    token: TokenView,
    on_change: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    let state = token.state;
    let status_text = move || match state {
        TokenState::None => i18n.t().token_state_none,
        TokenState::Active => i18n.t().token_state_active,
        TokenState::Locked => i18n.t().token_state_locked,
    };
    let status_class = match state {
        TokenState::None => "badge",
        TokenState::Active => "badge badge-active",
        TokenState::Locked => "badge badge-locked",
    };
    view! {
        <section class="card">
            <dl class="facts">
                <dt>{move || i18n.t().token_status}</dt>
                <dd><span class=status_class data-field="token-state">{status_text}</span></dd>
                {token.enrolled_at.map(|at| view! {
                    <dt>{move || i18n.t().token_enrolled_at}</dt>
                    <dd>{at}</dd>
                })}
                {token.locked_until.map(|at| view! {
                    <dt>{move || i18n.t().token_locked_until}</dt>
                    <dd>{at}</dd>
                })}
            </dl>
        </section>
        {match state {
            TokenState::None => view! { <Enrol on_change/> }.into_any(),
            TokenState::Active | TokenState::Locked => view! { <TryCode/> }.into_any(),
        }}
    }
}

/// Step 1: show the secret (once); step 2: confirm with a code.
#[component]
fn Enrol(on_change: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let i18n = use_i18n();
    let begin = ServerAction::<BeginTokenEnrolment>::new();
    let confirm = ServerAction::<ConfirmTokenEnrolment>::new();
    let code = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let enrolment = move || begin.value().get().and_then(Result::ok);
    let begin_error = Signal::derive(move || begin.value().get().and_then(Result::err));
    // The password is asked again before a secret is shown; it is not kept once sent.
    let on_begin = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        begin.dispatch(BeginTokenEnrolment {
            password: password.get_untracked(),
        });
        password.set(String::new());
    };
    let confirm_error = Signal::derive(move || confirm.value().get().and_then(Result::err));
    Effect::new(move |_| {
        if let Some(Ok(())) = confirm.value().get() {
            on_change();
        }
    });
    let on_confirm = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        confirm.dispatch(ConfirmTokenEnrolment {
            code: code.get_untracked(),
        });
    };
    view! {
        {move || begin_error.get()
            .filter(|e| !matches!(e, AppError::Invalid(_)))
            .map(|error| view! { <ErrorAlert error/> })}
        <section class="card">
            <h2>{move || i18n.t().token_enrol}</h2>
            {move || match enrolment() {
                None => view! {
                    <p>{move || i18n.t().token_enrol_intro}</p>
                    <form class="form" on:submit=on_begin>
                        <div class="field">
                            <label for="enrol-password">{move || i18n.t().token_enrol_password}</label>
                            <input id="enrol-password" name="password" type="password"
                                autocomplete="current-password" required
                                prop:value=move || password.get()
                                on:input=move |ev| password.set(event_target_value(&ev))/>
                            <FieldErrors error=begin_error field="password"/>
                        </div>
                        <button type="submit" class="button button-primary" data-action="begin-enrolment"
                            disabled=move || begin.pending().get()>
                            {move || i18n.t().token_enrol_start}
                        </button>
                    </form>
                }.into_any(),
                Some(enrolment) => view! {
                    <EnrolmentSecret enrolment/>
                    <form class="form" on:submit=on_confirm>
                        <div class="field">
                            <label for="code">{move || i18n.t().token_code}</label>
                            <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code"
                                maxlength="12" required class="input-code"
                                prop:value=move || code.get()
                                on:input=move |ev| code.set(event_target_value(&ev))/>
                            <FieldErrors error=confirm_error field="code"/>
                        </div>
                        {move || confirm_error.get()
                            .filter(|e| !matches!(e, AppError::Invalid(_)))
                            .map(|error| view! { <ErrorAlert error/> })}
                        <button type="submit" class="button button-primary" data-action="confirm-enrolment"
                            disabled=move || confirm.pending().get()>
                            {move || i18n.t().token_enrol_confirm}
                        </button>
                    </form>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
fn EnrolmentSecret(enrolment: Enrolment) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <p>{move || i18n.t().token_scan}</p>
        <div class="qr" role="img" aria-label=move || i18n.t().token_qr_label inner_html=enrolment.qr_svg></div>
        <p class="muted">{move || i18n.t().token_type_instead}</p>
        <p>
            <code class="secret" data-field="token-secret">{enrolment.secret}</code>
        </p>
        <p class="muted">
            {move || i18n.t().token_account} ": " <span class="mono">{enrolment.issuer.clone()} " · " {enrolment.account.clone()}</span>
        </p>
        <p class="alert alert-warning" role="status">{move || i18n.t().token_shown_once}</p>
    }
}

#[component]
fn TryCode() -> impl IntoView {
    let i18n = use_i18n();
    let attempt = ServerAction::<TryTokenCode>::new();
    let code = RwSignal::new(String::new());
    let error = Signal::derive(move || attempt.value().get().and_then(Result::err));
    let ok = move || matches!(attempt.value().get(), Some(Ok(())));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        attempt.dispatch(TryTokenCode {
            code: code.get_untracked(),
        });
    };
    view! {
        <section class="card">
            <h2>{move || i18n.t().token_try}</h2>
            <p class="muted">{move || i18n.t().token_try_intro}</p>
            <Show when=ok>
                <div class="alert alert-success" role="status"><p>{move || i18n.t().token_try_ok}</p></div>
            </Show>
            {move || error.get()
                .filter(|e| !matches!(e, AppError::Invalid(_)))
                .map(|error| view! { <ErrorAlert error/> })}
            <form class="form" on:submit=on_submit>
                <div class="field">
                    <label for="code">{move || i18n.t().token_code}</label>
                    <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code"
                        maxlength="12" required class="input-code"
                        prop:value=move || code.get()
                        on:input=move |ev| code.set(event_target_value(&ev))/>
                    <FieldErrors error field="code"/>
                </div>
                <button type="submit" class="button" data-action="try-code" disabled=move || attempt.pending().get()>
                    {move || i18n.t().token_try_submit}
                </button>
            </form>
        </section>
    }
}
