//! Transaction query (manual §3.3): the filters, a page of transactions with the total, the summary
//! tabs, one transaction's detail and its sales slip.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;

pub use crate::contract::transactions::*;

#[server(prefix = "/api", endpoint = "transactions/search", input = Json)]
pub async fn transaction_search(filter: TxnFilter) -> Result<TxnPage, AppError> {
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
#[server(prefix = "/api", endpoint = "transactions/options")]
pub async fn transaction_filter_options() -> Result<TxnFilterOptions, AppError> {
    use crate::backend::services::transactions;
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::TransactionQuery).await?;
    transactions::filter_options(&ctx.state.db, session).await
}

#[server(prefix = "/api", endpoint = "transactions/summary", input = Json)]
pub async fn transaction_summary(filter: TxnFilter, by: SummaryBy) -> Result<TxnSummary, AppError> {
    use crate::backend::services::transactions::{self, TxnQuery};
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::TransactionQuery).await?;
    let query = TxnQuery::parse(&filter)?;
    transactions::summary(&ctx.state.db, session, query, by, ctx.now).await
}

#[server(prefix = "/api", endpoint = "transactions/detail")]
pub async fn transaction_detail(id: i64) -> Result<TxnView, AppError> {
    use crate::backend::services::transactions;
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::TransactionQuery).await?;
    transactions::detail(&ctx.state.db, session, id, ctx.now).await
}

#[server(prefix = "/api", endpoint = "transactions/slip")]
pub async fn transaction_slip(id: i64) -> Result<Slip, AppError> {
    use crate::backend::services::transactions;
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::TransactionReprintSlip).await?;
    transactions::slip(&ctx.state.db, session, id, ctx.now).await
}
