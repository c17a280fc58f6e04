//! The links under a list read by keyset: back to its first page and on to the next.

use leptos::prelude::*;

use crate::domain::money::format_count;
use crate::i18n::{use_i18n, Texts};
use crate::ui::components::form::DateInput;
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

/// The pager of a list that knows its total and where the page lies in it: first, previous, the
/// position ("1,251–1,300 of 69,856"), next, last, and a day to jump to. `pairs` are the filters and
/// the page size; the links add the keyset cursors (`after`, `before`) and `pos`, the number of rows
/// before the page they lead to.
#[component]
pub fn PositionPager(
    path: &'static str,
    pairs: Vec<(&'static str, String)>,
    total: u64,
    offset: u64,
    shown: u64,
    next_after: Option<String>,
    prev_before: Option<String>,
) -> impl IntoView {
    let i18n = use_i18n();
    let hidden = pairs.clone();
    let url = move |extra: &[(&'static str, String)]| {
        let mut all = pairs.clone();
        all.extend_from_slice(extra);
        match all.as_slice() {
            [] => path.to_owned(),
            all => format!("{path}?{}", query_string(all)),
        }
    };
    let newer = prev_before.is_some();
    let older = next_after.is_some();
    let first = (newer || offset > 0).then(|| url(&[]));
    let prev = prev_before.map(|c| url(&[("before", c), ("pos", offset.to_string())]));
    let next = next_after.map(|c| url(&[("after", c), ("pos", (offset + shown).to_string())]));
    let last = older.then(|| url(&[("last", "1".to_owned())]));
    let position = move || {
        let t = i18n.t();
        if shown == 0 {
            return t
                .page_position_none
                .replace("{}", &format_count(total as i64));
        }
        t.page_position
            .replacen("{}", &format_count((offset + 1) as i64), 1)
            .replacen("{}", &format_count((offset + shown) as i64), 1)
            .replacen("{}", &format_count(total as i64), 1)
    };
    let link = move |href: Option<String>, rel: &'static str, label: TextOf| {
        match href {
        Some(href) => view! { <a href=href rel=rel data-page=rel>{move || label(i18n.t())}</a> }.into_any(),
        None => view! { <span class="muted" aria-disabled="true" data-page=rel>{move || label(i18n.t())}</span> }.into_any(),
    }
    };
    view! {
        <nav class="pager" aria-label=move || i18n.t().page_nav>
            {link(first, "first", |t| t.first_page)}
            {link(prev, "prev", |t| t.prev_page)}
            <span data-field="page-position">{position}</span>
            {link(next, "next", |t| t.next_page)}
            {link(last, "last", |t| t.last_page)}
            // A plain GET form: works before the page's script has loaded.
            <form method="get" action=path class="pager-jump">
                {hidden.into_iter().map(|(name, value)| view! { <input type="hidden" name=name value=value/> }).collect_view()}
                <label>
                    {move || i18n.t().page_jump_day}
                    " "
                    <DateInput id="pager-at" name="at" value=String::new() required=true/>
                </label>
                <button type="submit" class="button">{move || i18n.t().page_jump}</button>
            </form>
        </nav>
    }
}
