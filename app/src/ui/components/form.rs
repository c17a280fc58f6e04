//! Form helpers: the problems of one field, next to it.

use leptos::prelude::*;

use crate::error::AppError;
use crate::i18n::use_i18n;

/// The problems the last answer found with `field`, in the user's language.
#[component]
pub fn FieldErrors(
    #[prop(into)] error: Signal<Option<AppError>>,
    field: &'static str,
) -> impl IntoView {
    let i18n = use_i18n();
    move || {
        match error.get() {
        Some(AppError::Invalid(errors)) => errors
            .into_iter()
            .filter(|e| e.field == field)
            .map(
                |e| view! { <p class="field-error" role="alert">{i18n.t().field_problem(field, e.problem)}</p> },
            )
            .collect_view()
            .into_any(),
        _ => ().into_any(),
    }
    }
}

/// A day typed as `YYYY-MM-DD`, with the console's own hint. A browser's date field speaks the
/// browser's language (mm/dd/yyyy on an English browser) whatever the console's; the server checks
/// the day and names the rule when it is not one.
#[component]
pub fn DateInput(
    id: &'static str,
    value: String,
    #[prop(optional)] name: Option<&'static str>,
    #[prop(optional)] required: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <input id=id name=name.unwrap_or(id) type="text" inputmode="numeric" maxlength="10"
            autocomplete="off" class="input-date" value=value required=required
            placeholder=move || i18n.t().date_placeholder/>
    }
}
