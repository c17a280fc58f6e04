//! Background exports: starting one and the operator's downloads list.

use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};

use crate::api::transactions::TxnFilter;
use crate::error::AppError;

pub use crate::contract::exports::*;

/// Starts writing the transactions of `filter` in the background; the answer is the job's id.
#[server(prefix = "/api", endpoint = "exports/transactions", input = Json)]
pub async fn start_transaction_export(filter: TxnFilter) -> Result<i64, AppError> {
    use crate::backend::services::exports;
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::TransactionExport).await?;
    let lang = crate::i18n::initial_lang();
    exports::start_transactions(
        &ctx.state.db,
        &ctx.state.exports,
        session,
        &filter,
        lang,
        ctx.now,
    )
    .await
}

/// The operator's background exports, newest first.
#[server(prefix = "/api", endpoint = "exports/list", input = GetUrl)]
pub async fn list_exports() -> Result<ExportList, AppError> {
    use crate::backend::services::exports;
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::TransactionExport).await?;
    let mut list = exports::list(&ctx.state.db, session, ctx.now).await?;
    list.direct_limit = ctx.state.exports.direct_limit;
    Ok(list)
}

/// `GET /downloads/{id}/file`: the file of a finished background export of the operator, streamed
/// from disk.
#[cfg(feature = "ssr")]
pub async fn export_file(
    axum::extract::State(state): axum::extract::State<crate::backend::AppState>,
    axum::extract::Path(id): axum::extract::Path<i64>,
    req: axum::extract::Request,
) -> axum::response::Response {
    let lang = super::download::request_lang(&req);
    let ctx = crate::backend::RequestCtx::for_request(state, req.extensions());
    drop(req);
    let found = async {
        let ctx = ctx?;
        let session = ctx.self_service()?;
        let (name, path) =
            crate::backend::services::exports::file(&ctx.state.db, session, id, ctx.now).await?;
        let file = tokio::fs::File::open(&path)
            .await
            .map_err(|e| crate::error::AppError::internal("opening an export file", &e))?;
        Ok::<_, crate::error::AppError>((name, file))
    };
    match found.await {
        Ok((name, file)) => {
            let chunks = futures::stream::unfold(file, |mut file| async move {
                use tokio::io::AsyncReadExt;
                let mut buf = vec![0u8; 64 * 1024];
                match file.read(&mut buf).await {
                    Ok(0) => None,
                    Ok(n) => {
                        buf.truncate(n);
                        Some((Ok::<_, std::io::Error>(buf), file))
                    }
                    Err(e) => Some((Err(e), file)),
                }
            });
            let mut response =
                axum::response::IntoResponse::into_response(axum::body::Body::from_stream(chunks));
            super::download::set_file_headers(&mut response, &name, super::download::XLSX);
            response
        }
        Err(error) => super::download::error_response(&error, lang),
    }
}
