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

/// The preview of an uploaded batch file.
#[server(prefix = "/api", endpoint = "fast_refunds/upload_view", input = GetUrl)]
pub async fn fast_refund_upload_view(id: i64) -> Result<UploadView, AppError> {
    use crate::backend::services::fast_refunds::upload;
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::FastRefundBatch).await?;
    upload::view(&ctx.state.db, session, id, ctx.now).await
}

/// Sends the valid rows of an upload as one batch.
#[server(prefix = "/api", endpoint = "fast_refunds/batch_submit", input = Json)]
pub async fn submit_fast_refund_batch(
    id: i64,
    key: String,
    code: String,
) -> Result<BatchCreated, AppError> {
    use crate::backend::services::fast_refunds::upload;
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;
    use crate::domain::IdempotencyKey;
    use crate::error::FieldProblem;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::FastRefundBatch).await?;
    let key =
        IdempotencyKey::parse(&key).map_err(|_| AppError::invalid("key", FieldProblem::Format))?;
    upload::submit(
        &ctx.state.db,
        &ctx.state.token_key,
        &ctx.state.auth,
        &ctx.state.fast_refunds,
        session,
        id,
        &key,
        &code,
        ctx.now,
    )
    .await
}

/// Drops an upload: nothing of it is sent.
#[server(prefix = "/api", endpoint = "fast_refunds/upload_cancel")]
pub async fn cancel_fast_refund_upload(id: i64) -> Result<(), AppError> {
    use crate::backend::services::fast_refunds::upload;
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::FastRefundBatch).await?;
    upload::cancel(&ctx.state.db, session, id).await
}

/// `GET /fast-refunds/template`: the batch template, in the user's language.
#[cfg(feature = "ssr")]
pub async fn fast_refund_template(
    axum::extract::State(state): axum::extract::State<crate::backend::AppState>,
    req: axum::extract::Request,
) -> axum::response::Response {
    super::download::serve_file(state, req, super::download::XLSX, |ctx, lang| async move {
        ctx.authorize(crate::domain::access::Function::FastRefundBatch)
            .await?;
        let bytes = crate::backend::services::fast_refunds::template::write(lang)
            .map_err(|e| AppError::internal("writing the batch template", &e))?;
        Ok(("fast-refund-template.xlsx".to_owned(), bytes))
    })
    .await
}

/// `GET /fast-refunds/upload/{id}/errors`: the error report of an upload.
#[cfg(feature = "ssr")]
pub async fn fast_refund_upload_errors(
    axum::extract::State(state): axum::extract::State<crate::backend::AppState>,
    axum::extract::Path(id): axum::extract::Path<i64>,
    req: axum::extract::Request,
) -> axum::response::Response {
    super::download::serve_file(state, req, super::download::XLSX, |ctx, lang| async move {
        let session = ctx
            .authorize(crate::domain::access::Function::FastRefundBatch)
            .await?;
        crate::backend::services::fast_refunds::upload::error_report(
            &ctx.state.db,
            session,
            id,
            lang,
            ctx.now,
        )
        .await
    })
    .await
}

/// `POST /fast-refunds/upload` (multipart, the file in field `file`): reads the batch file, keeps
/// what was found and shows the preview (a redirect to it, so that a reload does not upload again).
/// Works without JavaScript: a plain form posts here.
#[cfg(feature = "ssr")]
pub async fn fast_refund_upload(
    axum::extract::State(state): axum::extract::State<crate::backend::AppState>,
    req: axum::extract::Request,
) -> axum::response::Response {
    use axum::extract::FromRequest;
    use axum::response::IntoResponse;

    use crate::backend::services::fast_refunds::upload;
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let lang = super::download::request_lang(&req);
    let result = async {
        let ctx = RequestCtx::for_request(state.clone(), req.extensions())?;
        let session = ctx.authorize(Function::FastRefundBatch).await?.clone();
        let max = ctx.state.fast_refunds.upload.max_bytes;
        let mut form = axum::extract::Multipart::from_request(req, &state)
            .await
            .map_err(|_| AppError::invalid("file", crate::error::FieldProblem::Format))?;
        let mut file: Option<(String, Vec<u8>)> = None;
        while let Ok(Some(mut field)) = form.next_field().await {
            let wanted = file.is_none() && field.name() == Some("file");
            let name = field.file_name().unwrap_or("upload.xlsx").to_owned();
            let mut bytes = Vec::new();
            // Kept up to one byte past the limit (enough to know the file is too large); the
            // rest is read and dropped, so that the browser gets the answer on a connection
            // that stays usable.
            while let Ok(Some(chunk)) = field.chunk().await {
                if wanted && bytes.len() as u64 <= max {
                    bytes.extend_from_slice(&chunk);
                }
            }
            if wanted {
                file = Some((name, bytes));
            }
        }
        let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
            return Err(AppError::invalid(
                "file",
                crate::error::FieldProblem::Required,
            ));
        };
        upload::upload(
            &ctx.state.db,
            &ctx.state.fast_refunds,
            &session,
            &name,
            &bytes,
            ctx.now,
        )
        .await
    }
    .await;
    match result {
        Ok(id) => axum::response::Redirect::to(&crate::ui::paths::fast_refunds::preview_path(id))
            .into_response(),
        Err(error) => super::download::error_response(&error, lang),
    }
}
