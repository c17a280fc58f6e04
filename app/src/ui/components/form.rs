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
