//! The audit log page (administrators): filters, one page of events, and what the download link needs.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;

pub use crate::contract::audit::*;

#[server(prefix = "/api", endpoint = "admin/audit_log", input = Json)]
pub async fn audit_log(filter: AuditFilter) -> Result<AuditPage, AppError> {
    use crate::backend::services::audit_log;
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::AdminAuditLog).await?;
    let query = audit_log::AuditQuery::parse(&filter)?;
    audit_log::page(&ctx.state.db, session, &query).await
}
