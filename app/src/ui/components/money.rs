//! Money as the user reads it: `¥1,234.56`, right-aligned in tables.

use leptos::prelude::*;

use crate::domain::money::format_count;
use crate::domain::Money;

#[component]
pub fn MoneyText(fen: i64) -> impl IntoView {
    let negative = fen < 0;
    view! { <span class="money" class:negative=negative>{Money::cny(fen).to_string()}</span> }
}

/// A count as the user reads it: `69,856`.
#[component]
pub fn CountText(n: i64) -> impl IntoView {
    view! { <span class="count">{format_count(n)}</span> }
}
