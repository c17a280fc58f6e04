//! Fast refunds (manual §3.6): the transactions a fast refund may take, the form of one, sending it
//! with its idempotency key, the query and the exception list, one item with its history, and the
//! correction of a rejected one.

use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};

use crate::contract::transactions::TxnFilter;
use crate::domain::fast_refund::FastRefundStatus;
use crate::error::AppError;

pub use crate::contract::fast_refunds::*;

#[server(prefix = "/api", endpoint = "fast_refunds/candidates", input = GetUrl)]
pub async fn fast_refund_candidates(
    #[server(default)] filter: TxnFilter,
) -> Result<CandidatePage, AppError> {
    use crate::backend::services::fast_refunds;
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::FastRefundRequest).await?;
    fast_refunds::candidates(&ctx.state.db, session, &filter, ctx.now).await
}

#[server(prefix = "/api", endpoint = "fast_refunds/form", input = GetUrl)]
pub async fn fast_refund_form(txn_id: i64) -> Result<FastRefundFormView, AppError> {
    use crate::backend::services::fast_refunds;
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::FastRefundRequest).await?;
    let holidays = ctx.state.fast_refunds.holidays.clone();
    fast_refunds::form(&ctx.state.db, session, txn_id, &holidays, ctx.now).await
}

#[server(prefix = "/api", endpoint = "fast_refunds/request", input = Json)]
pub async fn request_fast_refund(input: FastRefundInput) -> Result<FastRefundCreated, AppError> {
    use crate::backend::services::fast_refunds::{self, NewFastRefund};
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::FastRefundRequest).await?;
    let new = NewFastRefund::parse(&input, session.currency)?;
    fast_refunds::request(
        &ctx.state.db,
        &ctx.state.token_key,
        &ctx.state.auth,
        &ctx.state.fast_refunds,
        session,
        new,
        ctx.now,
    )
    .await
}

#[server(prefix = "/api", endpoint = "fast_refunds/search", input = GetUrl)]
pub async fn fast_refund_search(
    #[server(default)] filter: FastRefundFilter,
) -> Result<FastRefundPage, AppError> {
    use crate::backend::services::fast_refunds::{self, FastRefundQuery};
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::FastRefundQuery).await?;
    let query = FastRefundQuery::parse(&filter)?;
    fast_refunds::search(&ctx.state.db, session, query, ctx.now).await
}

/// The exception list: the query confined to the items the bank rejected.
#[server(prefix = "/api", endpoint = "fast_refunds/exceptions", input = GetUrl)]
pub async fn fast_refund_exceptions(
    #[server(default)] filter: FastRefundFilter,
) -> Result<FastRefundPage, AppError> {
    use crate::backend::services::fast_refunds::{self, FastRefundQuery};
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::FastRefundExceptions).await?;
    let query = FastRefundQuery::parse(&FastRefundFilter {
        status: FastRefundStatus::Exception.code().to_owned(),
        ..filter
    })?;
    fast_refunds::search(&ctx.state.db, session, query, ctx.now).await
}

#[server(prefix = "/api", endpoint = "fast_refunds/detail", input = GetUrl)]
pub async fn fast_refund_detail(id: i64) -> Result<FastRefundView, AppError> {
    use crate::backend::services::fast_refunds;
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::FastRefundQuery).await?;
    fast_refunds::detail(&ctx.state.db, session, id, ctx.now).await
}

#[server(prefix = "/api", endpoint = "fast_refunds/resubmit", input = Json)]
pub async fn resubmit_fast_refund(input: CorrectionInput) -> Result<FastRefundStatus, AppError> {
    use crate::backend::services::fast_refunds;
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::FastRefundExceptions).await?;
    fast_refunds::resubmit(
        &ctx.state.db,
        &ctx.state.token_key,
        &ctx.state.auth,
        &ctx.state.fast_refunds,
        session,
        &input,
        ctx.now,
    )
    .await
}

/// `GET /fast-refunds/export?from&to&status&ref&overdue`: the query's items as Excel.
#[cfg(feature = "ssr")]
pub async fn fast_refund_export(
    axum::extract::State(state): axum::extract::State<crate::backend::AppState>,
    axum::extract::Query(filter): axum::extract::Query<FastRefundFilter>,
    req: axum::extract::Request,
) -> axum::response::Response {
    use crate::backend::services::fast_refunds::{self, FastRefundQuery};
    super::download::serve_file(state, req, super::download::XLSX, |ctx, lang| async move {
        let session = ctx
            .authorize(crate::domain::access::Function::FastRefundQuery)
            .await?;
        let query = FastRefundQuery::parse(&filter)?;
        fast_refunds::export(&ctx.state.db, session, &query, lang, ctx.now).await
    })
    .await
}
