//! File downloads: plain GET routes (so that the browser saves the file), authorised like server
//! functions. The files themselves are written by the app's export module.

use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use app::api::audit::AuditFilter;
use app::api::settlements::SettlementFilter;
use app::api::transactions::TxnFilter;
use app::backend::services::audit_log::{self, AuditQuery};
use app::backend::services::exports;
use app::backend::services::settlements::{self, SettlementQuery};
use app::backend::services::transactions::{self, TxnQuery};
use app::backend::{AppState, RequestCtx};
use app::domain::access::Function;
use app::error::AppError;
use app::i18n::Lang;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const TEXT: &str = "text/plain; charset=utf-8";

/// `GET /admin/audit/export?from&to&operator&action&outcome`: the audit log selection as Excel.
pub async fn audit_export(
    State(state): State<AppState>,
    Query(filter): Query<AuditFilter>,
    req: Request,
) -> Response {
    let lang = request_lang(&req);
    serve_file(
        RequestCtx::for_request(state, req.extensions()),
        lang,
        XLSX,
        |ctx| async move {
            let session = ctx.authorize(Function::AdminAuditLog).await?;
            let query = AuditQuery::parse(&filter)?;
            audit_log::export(&ctx.state.db, session, &query, lang, ctx.now).await
        },
    )
    .await
}

/// `GET /settlements/export?from&to&number&status`: the settlement list as Excel.
pub async fn settlement_export(
    State(state): State<AppState>,
    Query(filter): Query<SettlementFilter>,
    req: Request,
) -> Response {
    let lang = request_lang(&req);
    serve_file(
        RequestCtx::for_request(state, req.extensions()),
        lang,
        XLSX,
        |ctx| async move {
            let session = ctx.authorize(Function::SettlementExport).await?;
            let query = SettlementQuery::parse(&filter)?;
            settlements::export(&ctx.state.db, session, &query, lang, ctx.now).await
        },
    )
    .await
}

/// `GET /transactions/export?…`: the transactions of the search's filters as Excel.
pub async fn transaction_export(
    State(state): State<AppState>,
    Query(filter): Query<TxnFilter>,
    req: Request,
) -> Response {
    let lang = request_lang(&req);
    serve_file(
        RequestCtx::for_request(state, req.extensions()),
        lang,
        XLSX,
        |ctx| async move {
            let session = ctx.authorize(Function::TransactionExport).await?;
            let query = TxnQuery::parse(&filter)?;
            let limit = ctx.state.exports.direct_limit;
            transactions::export(&ctx.state.db, session, query, lang, ctx.now, limit).await
        },
    )
    .await
}

/// `GET /settlements/{id}/reconciliation`: the T+1 reconciliation file of one settlement.
pub async fn reconciliation_file(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    req: Request,
) -> Response {
    let lang = request_lang(&req);
    serve_file(
        RequestCtx::for_request(state, req.extensions()),
        lang,
        TEXT,
        |ctx| async move {
            let session = ctx
                .authorize(Function::SettlementReconciliationFile)
                .await?;
            settlements::reconciliation_file(&ctx.state.db, session, id, ctx.now).await
        },
    )
    .await
}

/// `GET /downloads/{id}/file`: the file of a finished background export of the operator, streamed
/// from disk.
pub async fn export_file(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    req: Request,
) -> Response {
    let lang = request_lang(&req);
    let ctx = RequestCtx::for_request(state, req.extensions());
    drop(req);
    let found = async {
        let ctx = ctx?;
        let session = ctx.self_service()?;
        let (name, path) = exports::file(&ctx.state.db, session, id, ctx.now).await?;
        let file = tokio::fs::File::open(&path)
            .await
            .map_err(|e| AppError::internal("opening an export file", &e))?;
        Ok::<_, AppError>((name, file))
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
            let mut response = axum::body::Body::from_stream(chunks).into_response();
            set_file_headers(&mut response, &name, XLSX);
            response
        }
        Err(error) => error_response(&error, lang),
    }
}

/// Authorises through the request context, writes the file, and answers with it or with the error
/// in the user's language.
async fn serve_file<F, Fut>(
    ctx: Result<RequestCtx, AppError>,
    lang: Lang,
    content_type: &'static str,
    write: F,
) -> Response
where
    F: FnOnce(RequestCtx) -> Fut,
    Fut: std::future::Future<Output = Result<(String, Vec<u8>), AppError>>,
{
    let ctx = match ctx {
        Ok(ctx) => ctx,
        Err(error) => return error_response(&error, lang),
    };
    // A file is written in memory while its user waits: only a few at once, the rest told to try
    // again in a moment.
    let Ok(_writing) = ctx.state.exports.direct.clone().try_acquire_owned() else {
        return error_response(&AppError::Busy, lang);
    };
    match write(ctx).await {
        Ok((name, bytes)) => file_response(&name, content_type, bytes),
        Err(error) => error_response(&error, lang),
    }
}

fn request_lang(req: &Request) -> Lang {
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    Lang::negotiate(header(header::COOKIE), header(header::ACCEPT_LANGUAGE))
}

fn file_response(name: &str, content_type: &'static str, bytes: Vec<u8>) -> Response {
    let mut response = bytes.into_response();
    set_file_headers(&mut response, name, content_type);
    response
}

fn set_file_headers(response: &mut Response, name: &str, content_type: &'static str) {
    let disposition = format!("attachment; filename=\"{name}\"");
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
}

/// An error as a short page in the user's language, with the error's status.
fn error_response(error: &AppError, lang: Lang) -> Response {
    let status = StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::BAD_REQUEST);
    let t = lang.texts();
    let mut text = t.error(error);
    if let AppError::Invalid(errors) = error {
        for e in errors {
            text.push_str(&format!("\n{}: {}", e.field, t.problem(e.problem)));
        }
    }
    let mut response = (status, format!("{text}\n")).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
