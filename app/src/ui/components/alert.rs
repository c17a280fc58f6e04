//! The one place that turns an [`AppError`] into what the user sees.

use leptos::prelude::*;

use crate::error::AppError;
use crate::i18n::use_i18n;

#[component]
pub fn ErrorAlert(error: AppError) -> impl IntoView {
    let i18n = use_i18n();
    let status = error.status_code();
    view! {
        <div class="alert alert-error" role="alert" data-status=status>
            <strong>{move || i18n.t().error_title}</strong>
            <p>{move || error.user_message(i18n.t())}</p>
        </div>
    }
}
