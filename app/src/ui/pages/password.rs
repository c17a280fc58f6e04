//! Change password (manual §3.1.3): current password and the new one twice, with the rules checked as
//! the operator types. After a first sign-in or a reset this is the only page open to them.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::auth::{current_operator, ChangePassword};
use crate::domain::password::{check_password, PasswordRule};
use crate::error::AppError;
use crate::i18n::{title_text, use_i18n};
use crate::ui::components::alert::{go_to, ErrorAlert};
use crate::ui::components::load::Loaded;

/// The rules shown as a checklist, in this order.
const CHECKLIST: &[PasswordRule] = &[
    PasswordRule::TooShort,
    PasswordRule::NeedsLetter,
    PasswordRule::NeedsDigit,
    PasswordRule::SurroundingSpace,
];

#[component]
pub fn PasswordPage() -> impl IntoView {
    let i18n = use_i18n();
    let me = Resource::new(|| (), |_| current_operator());
    view! {
        <Title text=title_text(|l| l.texts().password_title.to_owned())/>
        <h1>{move || i18n.t().password_title}</h1>
        <Loaded resource=me ok=move |me| match me {
            Some(me) => view! { <PasswordForm forced=me.must_change_password/> }.into_any(),
            None => view! { <ErrorAlert error=AppError::Unauthenticated/> }.into_any(),
        }/>
    }
}

#[component]
fn PasswordForm(forced: bool) -> impl IntoView {
    let i18n = use_i18n();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let action = ServerAction::<ChangePassword>::new();
    let pending = action.pending();
    let done = move || matches!(action.value().get(), Some(Ok(())));

    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            current.set(String::new());
            new.set(String::new());
            confirm.set(String::new());
            if forced {
                go_to("/");
            }
        }
    });

    let error = move || action.value().get().and_then(Result::err);
    let problems = move |field: &'static str| {
        move || {
            match error() {
            Some(AppError::Invalid(errors)) => errors
                .into_iter()
                .filter(|e| e.field == field)
                .map(|e| view! { <p class="field-error" role="alert">{i18n.t().problem(e.problem)}</p> })
                .collect_view()
                .into_any(),
            _ => ().into_any(),
        }
        }
    };
    let general_error = move || error().filter(|e| !matches!(e, AppError::Invalid(_)));
    let broken = move || check_password(&new.get());
    let mismatch = move || !confirm.get().is_empty() && confirm.get() != new.get();

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(ChangePassword {
            current_password: current.get_untracked(),
            new_password: new.get_untracked(),
            confirm_password: confirm.get_untracked(),
        });
    };

    view! {
        <Show when=move || forced>
            <div class="alert alert-warning" role="status">
                <p>{move || i18n.t().password_forced}</p>
            </div>
        </Show>
        <Show when=done>
            <div class="alert alert-success" role="status">
                <p>{move || i18n.t().password_done}</p>
            </div>
        </Show>
        {move || general_error().map(|error| view! { <ErrorAlert error/> })}
        <div class="cards">
            <section class="card">
                <form class="form" method="post" action="/api/change_password" on:submit=on_submit>
                    <div class="field">
                        <label for="current_password">{move || i18n.t().password_current}</label>
                        <input id="current_password" name="current_password" type="password"
                            autocomplete="current-password" required maxlength="512"
                            prop:value=move || current.get()
                            on:input=move |ev| current.set(event_target_value(&ev))/>
                        {problems("current_password")}
                    </div>
                    <div class="field">
                        <label for="new_password">{move || i18n.t().password_new}</label>
                        <input id="new_password" name="new_password" type="password"
                            autocomplete="new-password" required maxlength="128"
                            aria-describedby="password-rules"
                            prop:value=move || new.get()
                            on:input=move |ev| new.set(event_target_value(&ev))/>
                        {problems("new_password")}
                    </div>
                    <div class="field">
                        <label for="confirm_password">{move || i18n.t().password_confirm}</label>
                        <input id="confirm_password" name="confirm_password" type="password"
                            autocomplete="new-password" required maxlength="128"
                            prop:value=move || confirm.get()
                            on:input=move |ev| confirm.set(event_target_value(&ev))/>
                        <Show when=mismatch>
                            <p class="hint hint-bad">{move || i18n.t().rule_mismatch}</p>
                        </Show>
                        {problems("confirm_password")}
                    </div>
                    <button type="submit" class="button button-primary" disabled=move || pending.get()>
                        {move || if pending.get() { i18n.t().password_saving } else { i18n.t().password_submit }}
                    </button>
                </form>
            </section>
            <section class="card" aria-labelledby="password-rules-title">
                <h2 id="password-rules-title">{move || i18n.t().password_rules}</h2>
                <ul id="password-rules" class="checklist">
                    {CHECKLIST
                        .iter()
                        .map(|&rule| {
                            let ok = move || !new.get().is_empty() && !broken().contains(&rule);
                            view! {
                                <li class:ok=ok data-rule=format!("{rule:?}")>
                                    <span class="check" aria-hidden="true">{move || if ok() { "✓" } else { "·" }}</span>
                                    {move || i18n.t().rule(rule)}
                                </li>
                            }
                        })
                        .collect_view()}
                    <li>
                        <span class="check" aria-hidden="true">"·"</span>
                        {move || i18n.t().rule_recent}
                    </li>
                </ul>
            </section>
        </div>
    }
}
