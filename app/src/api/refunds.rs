//! Refunds (manual §3.4): the refund form of a transaction, the request with its idempotency key,
//! cancellation by the requester, approval or rejection with a TOTP code, and the request query with
//! each request's history.

use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};

use crate::domain::refund::RefundStatus;
use crate::error::AppError;

pub use crate::contract::refunds::*;

#[server(prefix = "/api", endpoint = "refunds/form", input = GetUrl)]
pub async fn refund_form(txn_id: i64) -> Result<RefundFormView, AppError> {
    use crate::backend::services::refunds;
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::RefundRequest).await?;
    refunds::form(&ctx.state.db, session, txn_id, ctx.now).await
}

#[server(prefix = "/api", endpoint = "refunds/request", input = Json)]
pub async fn request_refund(input: RefundRequestInput) -> Result<RefundCreated, AppError> {
    use crate::backend::services::refunds::{self, NewRefund};
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::RefundRequest).await?;
    let new = NewRefund::parse(&input, session.currency)?;
    refunds::request(
        &ctx.state.db,
        &ctx.state.token_key,
        &ctx.state.auth,
        session,
        new,
        ctx.now,
    )
    .await
}

#[server(prefix = "/api", endpoint = "refunds/cancel")]
pub async fn cancel_refund(id: i64) -> Result<RefundStatus, AppError> {
    use crate::backend::services::refunds;
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::RefundRequest).await?;
    refunds::cancel(&ctx.state.db, session, id, ctx.now).await
}

#[server(prefix = "/api", endpoint = "refunds/decide", input = Json)]
pub async fn decide_refund(
    id: i64,
    decision: Decision,
    comment: String,
    code: String,
) -> Result<RefundStatus, AppError> {
    use crate::backend::services::refunds;
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::RefundApprove).await?;
    refunds::decide(
        &ctx.state.db,
        &ctx.state.token_key,
        &ctx.state.auth,
        session,
        refunds::DecisionInput {
            id,
            decision,
            comment,
            code,
        },
        ctx.now,
    )
    .await
}

#[server(prefix = "/api", endpoint = "refunds/search", input = GetUrl)]
pub async fn refund_search(
    #[server(default)] filter: RefundFilter,
) -> Result<RefundPage, AppError> {
    use crate::backend::services::refunds::{self, RefundQuery};
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::RefundQuery).await?;
    let query = RefundQuery::parse(&filter)?;
    refunds::search(&ctx.state.db, session, query).await
}

/// The approvers' list: the request query confined to requests waiting for approval.
#[server(prefix = "/api", endpoint = "refunds/approvals", input = GetUrl)]
pub async fn refund_approvals(
    #[server(default)] filter: RefundFilter,
) -> Result<ApprovalList, AppError> {
    use crate::backend::services::refunds::{self, RefundQuery};
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::RefundApprove).await?;
    let query = RefundQuery::parse(&RefundFilter {
        status: RefundStatus::PendingApproval.code().to_owned(),
        ..filter
    })?;
    refunds::approvals(&ctx.state.db, session, query).await
}

/// The pending-clearing list (manual §3.4.4): the request query confined to refunds that clearing
/// holds for the merchant's balance, with what the balance lacks.
#[server(prefix = "/api", endpoint = "refunds/pending", input = GetUrl)]
pub async fn refund_pending(
    #[server(default)] filter: RefundFilter,
) -> Result<RefundPage, AppError> {
    use crate::backend::services::refunds::{self, RefundQuery};
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::RefundPendingClearing).await?;
    let query = RefundQuery::parse(&RefundFilter {
        status: RefundStatus::PendingClearing.code().to_owned(),
        ..filter
    })?;
    refunds::pending(&ctx.state.db, session, query).await
}

#[server(prefix = "/api", endpoint = "refunds/detail", input = GetUrl)]
pub async fn refund_detail(id: i64) -> Result<RefundView, AppError> {
    use crate::backend::services::refunds;
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::RefundQuery).await?;
    refunds::detail(&ctx.state.db, session, id).await
}
