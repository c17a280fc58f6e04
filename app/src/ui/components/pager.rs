//! The links under a list read by keyset: back to its first page and on to the next.

use leptos::prelude::*;

use crate::i18n::{use_i18n, Texts};
use crate::url::query_string;

/// Names a text of the current language.
pub type TextOf = fn(&'static Texts) -> &'static str;

/// The pager of the list at `path` with the filters `pairs`: a link to the first page when `cursor`
/// (the query parameter that holds the keyset position) has a value `at`, and one to the next page
/// when the answer gave its position `next`.
#[component]
pub fn Pager(
    path: &'static str,
    pairs: Vec<(&'static str, String)>,
    cursor: &'static str,
    at: String,
    next: Option<String>,
    #[prop(default = |t| t.first_page)] first_label: TextOf,
    #[prop(default = |t| t.next_page)] next_label: TextOf,
) -> impl IntoView {
    let i18n = use_i18n();
    let url = |pairs: &[(&str, String)]| match pairs {
        [] => path.to_owned(),
        _ => format!("{path}?{}", query_string(pairs)),
    };
    let first = (!at.is_empty()).then(|| url(&pairs));
    let next = next.map(|position| {
        let mut pairs = pairs.clone();
        pairs.push((cursor, position));
        url(&pairs)
    });
    view! {
        <nav class="pager">
            {first.map(|href| view! { <a href=href>{move || first_label(i18n.t())}</a> })}
            {next.map(|href| view! { <a href=href rel="next">{move || next_label(i18n.t())}</a> })}
        </nav>
    }
}
