//! Sign-in (manual §2): login name, password and the captcha, with the browser's certificate shown.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::auth::{sign_in_form, SignIn, SignInFormView};
use crate::error::AppError;
use crate::i18n::{title_text, use_i18n};
use crate::ui::components::alert::{go_to, ErrorAlert};
use crate::ui::components::load::Loaded;

#[component]
pub fn LoginPage() -> impl IntoView {
    let i18n = use_i18n();
    let form = Resource::new(|| (), |_| sign_in_form());
    view! {
        <Title text=title_text(|l| l.texts().login_title.to_owned())/>
        <div class="auth-wrap">
            <section class="card auth-card" aria-labelledby="login-title">
                <h1 id="login-title">{move || i18n.t().login_heading}</h1>
                <p class="muted">{move || i18n.t().login_intro}</p>
                <Loaded resource=form ok=move |view| view! { <SignInForm initial=view/> }/>
                <p class="muted small">{move || i18n.t().login_help} " " <a href="/help">{move || i18n.t().nav_help}</a></p>
            </section>
        </div>
    }
}

#[component]
fn SignInForm(initial: SignInFormView) -> impl IntoView {
    let i18n = use_i18n();
    let captcha = RwSignal::new((initial.captcha_id, initial.captcha_image));
    let login_name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let answer = RwSignal::new(String::new());
    let action = ServerAction::<SignIn>::new();
    let pending = action.pending();

    let refresh_captcha = move || {
        leptos::task::spawn_local(async move {
            if let Ok(view) = sign_in_form().await {
                captcha.set((view.captcha_id, view.captcha_image));
            }
        });
    };

    // After an answer: on success a fresh page load (the frame then shows the operator's menu); on a
    // refusal a new captcha (each is good for one try) and the secrets cleared.
    Effect::new(move |_| match action.value().get() {
        Some(Ok(outcome)) => go_to(if outcome.must_change_password {
            "/password"
        } else {
            "/"
        }),
        Some(Err(_)) => {
            password.set(String::new());
            answer.set(String::new());
            refresh_captcha();
        }
        None => {}
    });

    let error = move || action.value().get().and_then(Result::err);
    let captcha_problem = move || {
        error()
            .and_then(|e| e.field_problem("captcha"))
            .map(|p| i18n.t().problem(p))
    };
    let general_error = move || error().filter(|e| !matches!(e, AppError::Invalid(_)));

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(SignIn {
            login_name: login_name.get_untracked(),
            password: password.get_untracked(),
            captcha_id: captcha.get_untracked().0,
            captcha_answer: answer.get_untracked(),
        });
    };

    let cert_subject = initial.certificate_subject;
    let cert_fingerprint = initial.certificate_fingerprint;
    let cert_bound = initial.certificate_bound;
    view! {
        <p class="cert-line">
            <span class="muted">{move || i18n.t().login_certificate} ": "</span>
            <span class="mono" data-field="cert-subject">{cert_subject}</span>
        </p>
        <Show when=move || !cert_bound>
            <div class="alert alert-warning" role="status">
                <strong>{move || i18n.t().home_unbound_title}</strong>
                <p>{move || i18n.t().home_unbound_body}</p>
                <p>
                    {move || i18n.t().login_fingerprint} ": "
                    <span class="mono wrap" data-field="cert-fingerprint">{cert_fingerprint.clone()}</span>
                </p>
            </div>
        </Show>
        {move || general_error().map(|error| view! { <ErrorAlert error/> })}
        <form class="form" method="post" action="/api/sign_in" on:submit=on_submit>
            <input type="hidden" name="captcha_id" prop:value=move || captcha.get().0/>
            <div class="field">
                <label for="login_name">{move || i18n.t().login_name}</label>
                <input id="login_name" name="login_name" type="text" autocomplete="username"
                    autocapitalize="none" spellcheck="false" required maxlength="64"
                    prop:value=move || login_name.get()
                    on:input=move |ev| login_name.set(event_target_value(&ev))/>
            </div>
            <div class="field">
                <label for="password">{move || i18n.t().login_password}</label>
                <input id="password" name="password" type="password" autocomplete="current-password"
                    required maxlength="512"
                    prop:value=move || password.get()
                    on:input=move |ev| password.set(event_target_value(&ev))/>
            </div>
            <div class="field">
                <label for="captcha_answer">{move || i18n.t().login_captcha}</label>
                <div class="captcha-row">
                    <input id="captcha_answer" name="captcha_answer" type="text" inputmode="numeric"
                        autocomplete="off" required maxlength="10"
                        aria-describedby="captcha-hint"
                        aria-invalid=move || captcha_problem().is_some().to_string()
                        prop:value=move || answer.get()
                        on:input=move |ev| answer.set(event_target_value(&ev))/>
                    <img class="captcha" src=move || captcha.get().1 alt=move || i18n.t().login_captcha_hint
                        width="200" height="70"/>
                    <button type="button" class="button button-quiet" on:click=move |_| refresh_captcha()>
                        {move || i18n.t().login_captcha_refresh}
                    </button>
                </div>
                <p id="captcha-hint" class="hint">{move || i18n.t().login_captcha_hint}</p>
                {move || captcha_problem().map(|p| view! { <p class="field-error" role="alert">{p}</p> })}
            </div>
            <button type="submit" class="button button-primary" disabled=move || pending.get()>
                {move || if pending.get() { i18n.t().login_submitting } else { i18n.t().login_submit }}
            </button>
        </form>
    }
}
