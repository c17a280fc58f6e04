//! The audit log page (administrators): filters, one page of events, and what the download link needs.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::error::AppError;

pub use crate::contract::audit::*;

#[server(prefix = "/api", endpoint = "admin/audit_log", input = GetUrl)]
pub async fn audit_log(#[server(default)] filter: AuditFilter) -> Result<AuditPage, AppError> {
    use crate::backend::services::audit_log;
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::AdminAuditLog).await?;
    let query = audit_log::AuditQuery::parse(&filter)?;
    audit_log::page(&ctx.state.db, session, &query).await
}

/// `GET /admin/audit/export?from&to&operator&action&outcome`: the audit log selection as Excel.
#[cfg(feature = "ssr")]
pub async fn audit_export(
    axum::extract::State(state): axum::extract::State<crate::backend::AppState>,
    axum::extract::Query(filter): axum::extract::Query<AuditFilter>,
    req: axum::extract::Request,
) -> axum::response::Response {
    super::download::serve_file(state, req, super::download::XLSX, |ctx, lang| async move {
        let session = ctx
            .authorize(crate::domain::access::Function::AdminAuditLog)
            .await?;
        let query = crate::backend::services::audit_log::AuditQuery::parse(&filter)?;
        crate::backend::services::audit_log::export(&ctx.state.db, session, &query, lang, ctx.now)
            .await
    })
    .await
}
