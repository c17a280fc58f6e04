//! The VPOS merchant console: the page shell, the app and its route table. Everything else lives in
//! `domain` (pure rules), `api` (server functions), `ui` (components and pages) and, on the server
//! only, `backend`.

#![recursion_limit = "256"]

pub mod api;
pub mod contract;
pub mod domain;
pub mod error;
pub mod i18n;
pub mod ui;
pub mod url;

#[cfg(feature = "ssr")]
pub mod backend;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

use crate::i18n::{initial_lang, provide_i18n, title_text};
use crate::ui::layout::Layout;
use crate::ui::pages::admin::audit::AuditLogPage;
use crate::ui::pages::admin::groups::{GroupPage, GroupsPage};
use crate::ui::pages::admin::operators::{NewOperatorPage, OperatorPage, OperatorsPage};
use crate::ui::pages::admin::roles::RoleMatrixPage;
use crate::ui::pages::admin::terminals::{TerminalPage, TerminalsPage};
use crate::ui::pages::{
    downloads::DownloadsPage,
    fast_refunds::{
        FastRefundBatchPage, FastRefundExceptionsPage, FastRefundFormPage, FastRefundPage,
        FastRefundQueryPage, FastRefundSearchPage,
    },
    help::HelpPage,
    home::HomePage,
    login::LoginPage,
    monitor::MonitorPage,
    not_found::NotFound,
    password::PasswordPage,
    refunds::{ApprovalsPage, PendingClearingPage, RefundFormPage, RefundPage, RefundsPage},
    settlements::{SettlementPage, SettlementsPage},
    token::TokenPage,
    transactions::{SlipPage, TransactionPage, TransactionsPage},
};

/// The console's icon, inline so that the site needs no asset files besides the build output.
const FAVICON: &str = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E\
%3Crect width='32' height='32' rx='7' fill='%230b5cad'/%3E%3Cpath d='M8 9h4l4 11 4-11h4l-6 15h-4z' fill='%23fff'/%3E%3C/svg%3E";

/// The nonce of this response's Content-Security-Policy, put into the request by the HTTP layer:
/// the hydration scripts carry it, and no other inline script runs.
#[derive(Debug, Clone)]
pub struct CspNonce(pub String);

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(CspNonce(nonce)) = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<CspNonce>().cloned())
    {
        provide_context(leptos::nonce::Nonce::from_value(nonce));
    }
    let lang = initial_lang();
    view! {
        <!DOCTYPE html>
        <html lang=lang.tag()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light"/>
                <link rel="icon" href=FAVICON type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                <link rel="stylesheet" href=format!("/pkg/{}.css", options.output_name)/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_i18n(initial_lang());
    let app_name = title_text(|l| l.texts().app_name.to_owned());
    // Effects run only in the browser: this marks the page as hydrated (interactive) for users'
    // scripts and for the browser tests, which wait for it instead of sleeping.
    Effect::new(|_| {
        #[cfg(feature = "hydrate")]
        if let Some(body) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.body())
        {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Title formatter=move |page: String| format!("{page} · {}", app_name())/>
        <Router>
            <Layout>
                <Routes fallback=NotFound>
                    // Async: the page arrives with its data (and the frame with the operator's menu),
                    // so it reads right before hydration and without JavaScript. The HTTP layer has
                    // already sent browsers that are not signed in to /login.
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async/>
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                    <Route path=path!("/password") view=PasswordPage ssr=SsrMode::Async/>
                    <Route path=path!("/token") view=TokenPage ssr=SsrMode::Async/>
                    <Route path=path!("/monitor") view=MonitorPage ssr=SsrMode::Async/>
                    <Route path=path!("/settlements") view=SettlementsPage ssr=SsrMode::Async/>
                    <Route path=path!("/settlements/:id") view=SettlementPage ssr=SsrMode::Async/>
                    <Route path=path!("/transactions") view=TransactionsPage ssr=SsrMode::Async/>
                    <Route path=path!("/transactions/:id") view=TransactionPage ssr=SsrMode::Async/>
                    <Route path=path!("/transactions/:id/slip") view=SlipPage ssr=SsrMode::Async/>
                    <Route path=path!("/refunds") view=RefundsPage ssr=SsrMode::Async/>
                    <Route path=path!("/refunds/new") view=RefundFormPage ssr=SsrMode::Async/>
                    <Route path=path!("/refunds/pending-clearing") view=PendingClearingPage ssr=SsrMode::Async/>
                    <Route path=path!("/refunds/approvals") view=ApprovalsPage ssr=SsrMode::Async/>
                    <Route path=path!("/refunds/:id") view=RefundPage ssr=SsrMode::Async/>
                    <Route path=path!("/fast-refunds") view=FastRefundSearchPage ssr=SsrMode::Async/>
                    <Route path=path!("/fast-refunds/new") view=FastRefundFormPage ssr=SsrMode::Async/>
                    <Route path=path!("/fast-refunds/query") view=FastRefundQueryPage ssr=SsrMode::Async/>
                    <Route path=path!("/fast-refunds/batch") view=FastRefundBatchPage ssr=SsrMode::Async/>
                    <Route path=path!("/fast-refunds/exceptions") view=FastRefundExceptionsPage ssr=SsrMode::Async/>
                    <Route path=path!("/fast-refunds/:id") view=FastRefundPage ssr=SsrMode::Async/>
                    <Route path=path!("/downloads") view=DownloadsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/roles") view=RoleMatrixPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/operators") view=OperatorsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/operators/new") view=NewOperatorPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/operators/:id") view=OperatorPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/terminals") view=TerminalsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/terminals/:id") view=TerminalPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/groups") view=GroupsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/groups/:id") view=GroupPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/audit") view=AuditLogPage ssr=SsrMode::Async/>
                    <Route path=path!("/help") view=HelpPage ssr=SsrMode::Async/>
                </Routes>
            </Layout>
        </Router>
    }
}
