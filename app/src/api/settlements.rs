//! Settlement query (manual §3.2): filters, a page of settlements with the sums of all that match, one
//! settlement's detail, and what the download links need.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::error::AppError;

pub use crate::contract::settlements::*;

#[server(prefix = "/api", endpoint = "settlements/search", input = GetUrl)]
pub async fn settlement_search(
    #[server(default)] filter: SettlementFilter,
) -> Result<SettlementPage, AppError> {
    use crate::backend::services::settlements::{self, SettlementQuery};
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::SettlementQuery).await?;
    let query = SettlementQuery::parse(&filter)?;
    settlements::page(&ctx.state.db, session, &query, ctx.now).await
}

#[server(prefix = "/api", endpoint = "settlements/detail", input = GetUrl)]
pub async fn settlement_detail(id: i64) -> Result<SettlementView, AppError> {
    use crate::backend::services::settlements;
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::SettlementQuery).await?;
    let (settlement, makeup) = settlements::detail_with_makeup(&ctx.state.db, session, id).await?;
    Ok(SettlementView {
        settlement,
        makeup,
        may_download_files: session.may(Function::SettlementReconciliationFile),
        may_query_transactions: session.may(Function::TransactionQuery),
        may_query_refunds: session.may(Function::RefundQuery),
    })
}

/// `GET /settlements/export?from&to&number&status`: the settlement list as Excel.
#[cfg(feature = "ssr")]
pub async fn settlement_export(
    axum::extract::State(state): axum::extract::State<crate::backend::AppState>,
    axum::extract::Query(filter): axum::extract::Query<SettlementFilter>,
    req: axum::extract::Request,
) -> axum::response::Response {
    super::download::serve_file(state, req, super::download::XLSX, |ctx, lang| async move {
        let session = ctx
            .authorize(crate::domain::access::Function::SettlementExport)
            .await?;
        let query = crate::backend::services::settlements::SettlementQuery::parse(&filter)?;
        crate::backend::services::settlements::export(&ctx.state.db, session, &query, lang, ctx.now)
            .await
    })
    .await
}

/// `GET /settlements/{id}/reconciliation`: the T+1 reconciliation file of one settlement.
#[cfg(feature = "ssr")]
pub async fn reconciliation_file(
    axum::extract::State(state): axum::extract::State<crate::backend::AppState>,
    axum::extract::Path(id): axum::extract::Path<i64>,
    req: axum::extract::Request,
) -> axum::response::Response {
    super::download::serve_file(state, req, super::download::TEXT, |ctx, _| async move {
        let session = ctx
            .authorize(crate::domain::access::Function::SettlementReconciliationFile)
            .await?;
        crate::backend::services::settlements::reconciliation_file(
            &ctx.state.db,
            session,
            id,
            ctx.now,
        )
        .await
    })
    .await
}
