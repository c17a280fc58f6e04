//! Help: frequently asked questions (manual §4), in both languages.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::i18n::{title_text, use_i18n};

#[component]
pub fn HelpPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Title text=title_text(|l| l.texts().help_title.to_owned())/>
        <h1>{move || i18n.t().help_title}</h1>
        <p class="muted">{move || i18n.t().help_intro}</p>
        <div class="faq">
            {move || {
                i18n.t()
                    .faqs
                    .iter()
                    .map(|faq| {
                        view! {
                            <details class="card">
                                <summary>{faq.question}</summary>
                                {faq.answer.iter().map(|p| view! { <p>{*p}</p> }).collect_view()}
                            </details>
                        }
                    })
                    .collect_view()
            }}
        </div>
    }
}
