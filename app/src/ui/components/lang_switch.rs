//! The language switch in the header: changes every text at once, without a reload.

use leptos::prelude::*;

use crate::i18n::{use_i18n, Lang};

#[component]
pub fn LangSwitch() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="lang-switch" role="group" aria-label=move || i18n.t().switch_language>
            {Lang::ALL
                .into_iter()
                .map(|lang| {
                    view! {
                        <button
                            type="button"
                            lang=lang.tag()
                            data-lang=lang.tag()
                            aria-pressed=move || (i18n.lang() == lang).to_string()
                            on:click=move |_| i18n.set_lang(lang)
                        >
                            {lang.texts().language_name}
                        </button>
                    }
                })
                .collect_view()}
        </div>
    }
}
