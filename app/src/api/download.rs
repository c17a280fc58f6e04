//! What every file download shares: downloads are plain GET routes (so that the browser saves the
//! file), authorised like server functions, each declared in its area's file beside that area's
//! server functions and routed by [`super::download_routes`]. The files themselves are written by the
//! backend's export module.

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::backend::{AppState, RequestCtx};
use crate::error::AppError;
use crate::i18n::Lang;

pub(super) const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub(super) const TEXT: &str = "text/plain; charset=utf-8";

/// Answers `req` with the file `write` makes in memory from the request's context and the user's
/// language (it authorises first), or with the error in that language.
pub(super) async fn serve_file<F, Fut>(
    state: AppState,
    req: Request,
    content_type: &'static str,
    write: F,
) -> Response
where
    F: FnOnce(RequestCtx, Lang) -> Fut,
    Fut: std::future::Future<Output = Result<(String, Vec<u8>), AppError>>,
{
    let lang = request_lang(&req);
    let ctx = RequestCtx::for_request(state, req.extensions());
    // The request (its body is not `Sync`) is not held while the file is written.
    drop(req);
    let ctx = match ctx {
        Ok(ctx) => ctx,
        Err(error) => return error_response(&error, lang),
    };
    // A file is written in memory while its user waits: only a few at once, the rest told to try
    // again in a moment.
    let Ok(_writing) = ctx.state.exports.direct.clone().try_acquire_owned() else {
        return error_response(&AppError::Busy, lang);
    };
    match write(ctx, lang).await {
        Ok((name, bytes)) => file_response(&name, content_type, bytes),
        Err(error) => error_response(&error, lang),
    }
}

pub(super) fn request_lang(req: &Request) -> Lang {
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    Lang::negotiate(header(header::COOKIE), header(header::ACCEPT_LANGUAGE))
}

fn file_response(name: &str, content_type: &'static str, bytes: Vec<u8>) -> Response {
    let mut response = bytes.into_response();
    set_file_headers(&mut response, name, content_type);
    response
}

pub(super) fn set_file_headers(response: &mut Response, name: &str, content_type: &'static str) {
    let disposition = format!("attachment; filename=\"{name}\"");
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
}

/// An error as a short page in the user's language, with the error's status.
pub(super) fn error_response(error: &AppError, lang: Lang) -> Response {
    let status = StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::BAD_REQUEST);
    let t = lang.texts();
    let mut text = t.error(error);
    if let AppError::Invalid(errors) = error {
        for e in errors {
            text.push_str(&format!(
                "\n{}: {}",
                e.field,
                t.field_problem(&e.field, e.problem)
            ));
        }
    }
    let mut response = (status, format!("{text}\n")).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
