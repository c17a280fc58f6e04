//! The one place that turns an [`AppError`] into what the user sees.

use leptos::prelude::*;

use crate::error::AppError;
use crate::i18n::use_i18n;

/// Shows an error. A session that has ended sends the browser to the sign-in page, an operator who
/// must change their password to that page.
#[component]
pub fn ErrorAlert(error: AppError) -> impl IntoView {
    let i18n = use_i18n();
    let status = error.status_code();
    let redirect = match error {
        AppError::Unauthenticated => Some("/login"),
        AppError::PasswordChangeRequired => Some("/password"),
        _ => None,
    };
    Effect::new(move |_| {
        if let Some(path) = redirect {
            go_to(path);
        }
    });
    // A function the operator's roles do not grant is no fault: say so, and who can change it.
    let forbidden = matches!(error, AppError::Forbidden);
    view! {
        <div class=if forbidden { "alert alert-warning" } else { "alert alert-error" } role="alert" data-status=status>
            <strong>{move || if forbidden { i18n.t().error_title_forbidden } else { i18n.t().error_title }}</strong>
            <p>{move || i18n.t().error(&error)}</p>
            {forbidden.then(|| view! { <p class="small">{move || i18n.t().error_forbidden_hint}</p> })}
        </div>
    }
}

/// A full page load of `path`: after signing in or out the whole frame changes.
pub fn go_to(path: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let _ = window.location().assign(path);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}
