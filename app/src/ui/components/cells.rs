//! Table cells that keep wide tables narrow enough for a 1280 px screen.

use leptos::prelude::*;

/// A moment, `YYYY-MM-DD HH:MM[:SS]`: the date over the time.
#[component]
pub fn When(#[prop(into)] at: String) -> impl IntoView {
    match at.split_once(' ') {
        Some((date, time)) => view! {
            <span class="nowrap">{date.to_owned()}</span><br/><span class="nowrap muted">{time.to_owned()}</span>
        }
        .into_any(),
        None => at.into_any(),
    }
}

/// An operator written "name (login)": the name, the whole on hover.
#[component]
pub fn Who(#[prop(into)] full: String) -> impl IntoView {
    let name = full
        .split_once(" (")
        .map_or(full.as_str(), |(name, _)| name)
        .to_owned();
    view! { <span title=full>{name}</span> }
}
