//! Every HTTP endpoint of the console but its pages, one file per area: the server functions and,
//! beside them, the area's file downloads. Each authorises, parses its input into domain types, calls
//! one service and returns a contract type (or a file).
//!
//! Whether an endpoint changes state is said once, where it is declared: a server function that
//! changes nothing a session grants is `input = GetUrl`, and a download is a GET route; everything
//! else is a POST. The request guard derives from the method alone which requests are checked for
//! their origin and after which the sessions read are forgotten.

pub mod admin;
pub mod audit;
pub mod auth;
#[cfg(feature = "ssr")]
mod download;
pub mod exports;
pub mod fast_refunds;
pub mod home;
pub mod monitor;
pub mod operators;
pub mod refunds;
pub mod settlements;
pub mod terminals;
pub mod token;
pub mod transactions;

/// The routes of the file downloads and of the monitor's live stream, beside the server functions
/// that leptos routes itself.
#[cfg(feature = "ssr")]
pub fn download_routes() -> axum::Router<crate::backend::AppState> {
    use axum::routing::get;

    use crate::ui::paths;

    axum::Router::new()
        .route(paths::audit::EXPORT_PATH, get(audit::audit_export))
        .route(
            paths::settlements::EXPORT_PATH,
            get(settlements::settlement_export),
        )
        .route(
            paths::settlements::RECONCILIATION_ROUTE,
            get(settlements::reconciliation_file),
        )
        .route(
            paths::fast_refunds::EXPORT_PATH,
            get(fast_refunds::fast_refund_export),
        )
        .route(
            paths::fast_refunds::TEMPLATE_PATH,
            get(fast_refunds::fast_refund_template),
        )
        .route(
            paths::fast_refunds::UPLOAD_PATH,
            // The handler keeps at most the configured file size and drops the rest as it reads.
            axum::routing::post(fast_refunds::fast_refund_upload)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route(
            paths::fast_refunds::ERRORS_ROUTE,
            get(fast_refunds::fast_refund_upload_errors),
        )
        .route(
            paths::transactions::EXPORT_PATH,
            get(transactions::transaction_export),
        )
        .route(
            crate::contract::exports::FILE_ROUTE,
            get(exports::export_file),
        )
        .route(
            crate::contract::monitor::STREAM_PATH,
            get(monitor::monitor_stream),
        )
}
