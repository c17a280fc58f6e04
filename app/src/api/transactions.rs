//! Transaction query (manual §3.3): the filters, a page of transactions with the total, the summary
//! tabs, one transaction's detail and its sales slip.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::error::AppError;

pub use crate::contract::transactions::*;

#[server(prefix = "/api", endpoint = "transactions/search", input = GetUrl)]
pub async fn transaction_search(#[server(default)] filter: TxnFilter) -> Result<TxnPage, AppError> {
    use crate::backend::services::transactions::{self, TxnQuery};
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::TransactionQuery).await?;
    let query = TxnQuery::parse(&filter)?;
    let mut page = transactions::page(&ctx.state.search_db, session, query, ctx.now).await?;
    page.direct_limit = ctx.state.exports.direct_limit;
    Ok(page)
}

/// Read once when the page opens, not with every search.
#[server(prefix = "/api", endpoint = "transactions/options", input = GetUrl)]
pub async fn transaction_filter_options() -> Result<TxnFilterOptions, AppError> {
    use crate::backend::services::transactions;
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::TransactionQuery).await?;
    transactions::filter_options(&ctx.state.db, session).await
}

#[server(prefix = "/api", endpoint = "transactions/summary", input = GetUrl)]
pub async fn transaction_summary(
    #[server(default)] filter: TxnFilter,
    by: SummaryBy,
) -> Result<TxnSummary, AppError> {
    use crate::backend::services::transactions::{self, TxnQuery};
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::TransactionQuery).await?;
    let query = TxnQuery::parse(&filter)?;
    transactions::summary(&ctx.state.db, session, query, by, ctx.now).await
}

#[server(prefix = "/api", endpoint = "transactions/detail", input = GetUrl)]
pub async fn transaction_detail(id: i64) -> Result<TxnView, AppError> {
    use crate::backend::services::transactions;
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::TransactionQuery).await?;
    transactions::detail(&ctx.state.db, session, id, ctx.now).await
}

#[server(prefix = "/api", endpoint = "transactions/slip", input = GetUrl)]
pub async fn transaction_slip(id: i64) -> Result<Slip, AppError> {
    use crate::backend::services::transactions;
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::TransactionReprintSlip).await?;
    transactions::slip(&ctx.state.db, session, id, ctx.now).await
}

/// `GET /transactions/export?…`: the transactions of the search's filters as Excel.
#[cfg(feature = "ssr")]
pub async fn transaction_export(
    axum::extract::State(state): axum::extract::State<crate::backend::AppState>,
    axum::extract::Query(filter): axum::extract::Query<TxnFilter>,
    req: axum::extract::Request,
) -> axum::response::Response {
    super::download::serve_file(state, req, super::download::XLSX, |ctx, lang| async move {
        let session = ctx
            .authorize(crate::domain::access::Function::TransactionExport)
            .await?;
        let query = crate::backend::services::transactions::TxnQuery::parse(&filter)?;
        let limit = ctx.state.exports.direct_limit;
        crate::backend::services::transactions::export(
            &ctx.state.db,
            session,
            query,
            lang,
            ctx.now,
            limit,
        )
        .await
    })
    .await
}
