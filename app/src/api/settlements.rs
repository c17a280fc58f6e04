//! Settlement query (manual §3.2): filters, a page of settlements with the sums of all that match, one
//! settlement's detail, and what the download links need.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;

pub use crate::contract::settlements::*;

#[server(prefix = "/api", endpoint = "settlements/search", input = Json)]
pub async fn settlement_search(filter: SettlementFilter) -> Result<SettlementPage, AppError> {
    use crate::backend::services::settlements::{self, SettlementQuery};
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::SettlementQuery).await?;
    let query = SettlementQuery::parse(&filter)?;
    settlements::page(&ctx.state.db, session, &query, ctx.now).await
}

#[server(prefix = "/api", endpoint = "settlements/detail")]
pub async fn settlement_detail(id: i64) -> Result<SettlementView, AppError> {
    use crate::backend::services::{refunds, settlements};
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::SettlementQuery).await?;
    let settlement = settlements::detail(&ctx.state.db, session, id).await?;
    let console_refunds = if session.may(Function::RefundQuery) {
        Some(refunds::cleared_in(&ctx.state.db, session, settlement.id).await?)
    } else {
        None
    };
    Ok(SettlementView {
        settlement,
        may_download_files: session.may(Function::SettlementReconciliationFile),
        may_query_transactions: session.may(Function::TransactionQuery),
        console_refunds,
    })
}
