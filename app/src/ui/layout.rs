//! The page frame: header with the product name, the signed-in operator, sign-out and the language
//! switch; the navigation menu (only what the operator may use); the content area and the footer.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::auth::{current_operator, Me};
use crate::domain::access::Function;
use crate::i18n::{use_i18n, Label, Lang};
use crate::ui::components::lang_switch::LangSwitch;

/// Who sees a menu entry.
#[derive(Clone, Copy)]
enum Audience {
    /// Everyone, signed in or not.
    Everyone,
    SignedOut,
    /// Any signed-in operator (also one who must still change their password).
    SignedIn,
    /// Signed-in operators who have changed their first password.
    Ready,
    /// Operators one of whose roles grants the function.
    Granted(Function),
}

/// A menu entry. Only sections that exist are listed: there are no placeholder pages.
struct MenuItem {
    href: &'static str,
    label: fn(Lang) -> &'static str,
    audience: Audience,
}

const MENU: &[MenuItem] = &[
    MenuItem {
        href: "/",
        label: |l| l.texts().nav_home,
        audience: Audience::Ready,
    },
    MenuItem {
        href: "/transactions",
        label: |l| Function::TransactionQuery.label(l),
        audience: Audience::Granted(Function::TransactionQuery),
    },
    MenuItem {
        href: "/transactions?day=today",
        label: |l| l.texts().txn_today,
        audience: Audience::Granted(Function::TransactionQuery),
    },
    MenuItem {
        href: "/transactions?day=yesterday",
        label: |l| l.texts().txn_yesterday,
        audience: Audience::Granted(Function::TransactionQuery),
    },
    MenuItem {
        href: "/monitor",
        label: |l| Function::MonitorView.label(l),
        audience: Audience::Granted(Function::MonitorView),
    },
    MenuItem {
        href: "/settlements",
        label: |l| Function::SettlementQuery.label(l),
        audience: Audience::Granted(Function::SettlementQuery),
    },
    MenuItem {
        href: "/settlements?day=yesterday",
        label: |l| l.texts().settle_yesterday,
        audience: Audience::Granted(Function::SettlementQuery),
    },
    MenuItem {
        href: "/refunds",
        label: |l| Function::RefundQuery.label(l),
        audience: Audience::Granted(Function::RefundQuery),
    },
    MenuItem {
        href: crate::ui::paths::refunds::AWAITING_PATH,
        label: |l| Function::RefundApprove.label(l),
        audience: Audience::Granted(Function::RefundApprove),
    },
    MenuItem {
        href: "/refunds/pending-clearing",
        label: |l| Function::RefundPendingClearing.label(l),
        audience: Audience::Granted(Function::RefundPendingClearing),
    },
    MenuItem {
        href: crate::ui::paths::fast_refunds::SEARCH_PATH,
        label: |l| Function::FastRefundRequest.label(l),
        audience: Audience::Granted(Function::FastRefundRequest),
    },
    MenuItem {
        href: crate::ui::paths::fast_refunds::BATCH_PATH,
        label: |l| Function::FastRefundBatch.label(l),
        audience: Audience::Granted(Function::FastRefundBatch),
    },
    MenuItem {
        href: crate::ui::paths::fast_refunds::EXCEPTIONS_PATH,
        label: |l| Function::FastRefundExceptions.label(l),
        audience: Audience::Granted(Function::FastRefundExceptions),
    },
    MenuItem {
        href: crate::ui::paths::fast_refunds::QUERY_PATH,
        label: |l| Function::FastRefundQuery.label(l),
        audience: Audience::Granted(Function::FastRefundQuery),
    },
    MenuItem {
        href: "/downloads",
        label: |l| l.texts().nav_downloads,
        audience: Audience::Granted(Function::TransactionExport),
    },
    MenuItem {
        href: "/admin/roles",
        label: |l| Function::AdminRoleMatrix.label(l),
        audience: Audience::Granted(Function::AdminRoleMatrix),
    },
    MenuItem {
        href: "/admin/operators",
        label: |l| Function::AdminOperators.label(l),
        audience: Audience::Granted(Function::AdminOperators),
    },
    MenuItem {
        href: crate::ui::paths::terminals::LIST_PATH,
        label: |l| Function::AdminTerminals.label(l),
        audience: Audience::Granted(Function::AdminTerminals),
    },
    MenuItem {
        href: crate::ui::paths::groups::LIST_PATH,
        label: |l| Function::AdminTerminalGroups.label(l),
        audience: Audience::Granted(Function::AdminTerminalGroups),
    },
    MenuItem {
        href: "/admin/audit",
        label: |l| Function::AdminAuditLog.label(l),
        audience: Audience::Granted(Function::AdminAuditLog),
    },
    MenuItem {
        href: "/password",
        label: |l| l.texts().nav_password,
        audience: Audience::SignedIn,
    },
    MenuItem {
        href: "/token",
        label: |l| l.texts().nav_token,
        audience: Audience::Ready,
    },
    MenuItem {
        href: "/login",
        label: |l| l.texts().nav_sign_in,
        audience: Audience::SignedOut,
    },
    MenuItem {
        href: "/help",
        label: |l| l.texts().nav_help,
        audience: Audience::Everyone,
    },
];

impl Audience {
    fn admits(self, me: Option<&Me>) -> bool {
        match (self, me) {
            (Audience::Everyone, _) => true,
            (Audience::SignedOut, me) => me.is_none(),
            (Audience::SignedIn, me) => me.is_some(),
            (Audience::Ready, Some(me)) => !me.must_change_password,
            (Audience::Granted(f), Some(me)) => me.may(f),
            (Audience::Ready | Audience::Granted(_), None) => false,
        }
    }
}

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let i18n = use_i18n();
    let me = Resource::new(|| (), |_| current_operator());
    // The frame waits for the operator so that the menu is right in the first HTML; a failure to
    // read it shows the public menu (the page itself reports errors).
    view! {
        <a class="skip-link" href="#content">{move || i18n.t().skip_to_content}</a>
        <header class="topbar">
            <a class="brand" href="/">
                <span class="brand-mark" aria-hidden="true">"V"</span>
                <span class="brand-name">{move || i18n.t().app_name}</span>
            </a>
            <div class="topbar-actions">
                <Suspense>
                    {move || Suspend::new(async move {
                        let me = me.await.ok().flatten();
                        me.map(|me| view! { <UserBox me/> })
                    })}
                </Suspense>
                <LangSwitch/>
            </div>
        </header>
        <div class="frame">
            <nav class="sidebar" aria-label=move || i18n.t().nav_label>
                <Suspense>
                    {move || Suspend::new(async move {
                        let me = me.await.ok().flatten();
                        view! {
                            <input type="checkbox" id="nav-toggle" class="nav-toggle"/>
                            <label for="nav-toggle" class="nav-toggle-label">{move || i18n.t().nav_menu}</label>
                            <ul>
                                {MENU.iter()
                                    .filter(|item| item.audience.admits(me.as_ref()))
                                    .map(|item| {
                                        let label = move || (item.label)(i18n.lang());
                                        // A quick menu (a path with a query) is not marked as the
                                        // current page: its page's own entry is.
                                        if item.href.contains('?') {
                                            view! { <li><a href=item.href>{label}</a></li> }.into_any()
                                        } else {
                                            view! { <li><A href=item.href exact=true>{label}</A></li> }.into_any()
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        }
                    })}
                </Suspense>
            </nav>
            <main id="content" class="content" tabindex="-1">
                {children()}
            </main>
        </div>
        <footer class="footer">{move || i18n.t().footer}</footer>
    }
}

/// The signed-in operator and the sign-out button: a plain form, so that signing out works before
/// the page is interactive and ends in a fresh page load.
#[component]
fn UserBox(me: Me) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="user-box">
            <span class="muted">{move || i18n.t().signed_in_as}</span>
            <span class="user-name" data-field="signed-in-as">
                {me.display_name} " (" <span class="mono">{me.login_name}</span> ")"
            </span>
            <form method="post" action="/api/sign_out" class="inline-form">
                <button type="submit" class="button button-quiet">{move || i18n.t().sign_out}</button>
            </form>
        </div>
    }
}
