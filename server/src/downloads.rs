//! File downloads: plain GET routes (so that the browser saves the file), authorised like server
//! functions. The files themselves are written by the app's export module.

use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use app::api::audit::AuditFilter;
use app::backend::services::audit_log::{self, AuditQuery};
use app::backend::{AppState, RequestCtx};
use app::domain::access::Function;
use app::error::AppError;
use app::i18n::Lang;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// `GET /admin/audit/export?from&to&operator&action&outcome`: the audit log selection as Excel.
pub async fn audit_export(
    State(state): State<AppState>,
    Query(filter): Query<AuditFilter>,
    req: Request,
) -> Response {
    let lang = request_lang(&req);
    let ctx = match RequestCtx::for_request(state, req.extensions()) {
        Ok(ctx) => ctx,
        Err(error) => return error_response(&error, lang),
    };
    let result = async {
        let session = ctx.authorize(Function::AdminAuditLog).await?;
        let query = AuditQuery::parse(&filter)?;
        audit_log::export(&ctx.state.db, session, &query, lang, ctx.now).await
    }
    .await;
    match result {
        Ok((name, bytes)) => file_response(&name, XLSX, bytes),
        Err(error) => error_response(&error, lang),
    }
}

fn request_lang(req: &Request) -> Lang {
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    Lang::negotiate(header(header::COOKIE), header(header::ACCEPT_LANGUAGE))
}

fn file_response(name: &str, content_type: &'static str, bytes: Vec<u8>) -> Response {
    let disposition = format!("attachment; filename=\"{name}\"");
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// An error as a short page in the user's language, with the error's status.
fn error_response(error: &AppError, lang: Lang) -> Response {
    let status = StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::BAD_REQUEST);
    let t = lang.texts();
    let mut text = error.user_message(t);
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
