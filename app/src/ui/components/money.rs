//! Money as the user reads it: `¥1,234.56`, right-aligned in tables.

use leptos::prelude::*;

use crate::domain::Money;

#[component]
pub fn MoneyText(fen: i64) -> impl IntoView {
    let negative = fen < 0;
    view! { <span class="money" class:negative=negative>{Money::cny(fen).to_string()}</span> }
}
