//! "Load, then show or alert": the one way a page waits for a server function.

use std::sync::Arc;

use leptos::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::alert::ErrorAlert;
use crate::error::AppError;
use crate::i18n::use_i18n;

/// What a search page shows when its filters are refused: the form again, with each field's error.
pub type InvalidView = Arc<dyn Fn(AppError) -> AnyView + Send + Sync>;

/// Waits for `resource`, saying so, then shows `ok` of its value, or its error as an [`ErrorAlert`]
/// (which sends an ended session to the sign-in page); a refusal of the input
/// ([`AppError::Invalid`]) goes to `invalid` when the page gives one. While the resource loads again
/// (a new search), what it showed stays until the new answer is there.
#[component]
pub fn Loaded<T, V, F>(
    resource: Resource<Result<T, AppError>>,
    ok: F,
    #[prop(optional)] invalid: Option<InvalidView>,
) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    V: IntoView + 'static,
    F: Fn(T) -> V + Clone + Send + Sync + 'static,
{
    let i18n = use_i18n();
    view! {
        <Transition fallback=move || view! { <p class="muted">{move || i18n.t().loading}</p> }>
            {move || {
                let (ok, invalid) = (ok.clone(), invalid.clone());
                Suspend::new(async move {
                    match (resource.await, invalid) {
                        (Ok(value), _) => ok(value).into_any(),
                        (Err(error @ AppError::Invalid(_)), Some(invalid)) => invalid(error),
                        (Err(error), _) => view! { <ErrorAlert error/> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}
