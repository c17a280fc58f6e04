use leptos::prelude::*;
use leptos_meta::Title;

use crate::i18n::{title_text, use_i18n};

#[component]
pub fn NotFound() -> impl IntoView {
    let i18n = use_i18n();
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text=title_text(|l| l.texts().not_found_title.to_owned())/>
        <h1>{move || i18n.t().not_found_title}</h1>
        <p>{move || i18n.t().not_found_body}</p>
        <p><a href="/">{move || i18n.t().back_home}</a></p>
    }
}
