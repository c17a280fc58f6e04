//! The page frame: header with the product name and the language switch, the navigation menu, the
//! content area and the footer.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::i18n::{use_i18n, Texts};
use crate::ui::components::lang_switch::LangSwitch;

/// A menu entry. Only sections that exist are listed: there are no placeholder pages.
struct MenuItem {
    href: &'static str,
    label: fn(&Texts) -> &'static str,
}

const MENU: &[MenuItem] = &[
    MenuItem {
        href: "/",
        label: |t| t.nav_home,
    },
    MenuItem {
        href: "/help",
        label: |t| t.nav_help,
    },
];

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <a class="skip-link" href="#content">{move || i18n.t().skip_to_content}</a>
        <header class="topbar">
            <a class="brand" href="/">
                <span class="brand-mark" aria-hidden="true">"V"</span>
                <span class="brand-name">{move || i18n.t().app_name}</span>
            </a>
            <div class="topbar-actions">
                <LangSwitch/>
            </div>
        </header>
        <div class="frame">
            <nav class="sidebar" aria-label=move || i18n.t().nav_label>
                <ul>
                    {MENU
                        .iter()
                        .map(|item| {
                            view! {
                                <li>
                                    <A href=item.href exact=true>
                                        {move || (item.label)(i18n.t())}
                                    </A>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </nav>
            <main id="content" class="content" tabindex="-1">
                {children()}
            </main>
        </div>
        <footer class="footer">{move || i18n.t().footer}</footer>
    }
}
