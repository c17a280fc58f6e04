//! The request guard in front of every route: resolves the session cookie, refuses state-changing
//! requests from other origins (CSRF), and sends browsers that are not signed in to the sign-in page.
//! Server functions then authorise each call themselves (`RequestCtx::authorize`).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use app::backend::audit::{Actor, AuditEntry};
use app::backend::services::auth::{self, Resolved};
use app::backend::session::{
    all_cookies, clear_session_cookie, token_from_cookies, CurrentSession,
};
use app::backend::{AppState, ClientIdentity, Session};
use app::domain::{AuditAction, AuditOutcome};
use app::error::AppError;

/// Pages anyone with a valid certificate may open without signing in.
const PUBLIC_PAGES: &[&str] = &["/login", "/help"];
/// The page an operator who must change their password is confined to (with the public ones).
const PASSWORD_PAGE: &str = "/password";

pub async fn guard(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(identity) = req.extensions().get::<ClientIdentity>().cloned() else {
        // The accept loop puts the identity into every request; without it nothing is served.
        return (StatusCode::UNAUTHORIZED, "client certificate required\n").into_response();
    };
    let now = state.clock.now();
    let token = token_from_cookies(&all_cookies(req.headers())).map(str::to_owned);
    let (session, forget_cookie) = match token {
        None => (None, false),
        Some(token) => {
            let sessions = &state.sessions;
            match auth::resolve_session(&state.db, &state.auth, sessions, &token, &identity, now)
                .await
            {
                Ok(Resolved::Active(session)) => {
                    let span = tracing::Span::current();
                    span.record("operator", session.login_name.as_str());
                    span.record("merchant", session.merchant_id);
                    (Some(*session), false)
                }
                Ok(Resolved::Ended(_) | Resolved::Unknown) => (None, true),
                Err(error) => {
                    let err = AppError::internal("resolving the session", &error);
                    return (StatusCode::INTERNAL_SERVER_ERROR, err.to_string()).into_response();
                }
            }
        }
    };

    if !is_safe(req.method()) && !origin_allowed(&req, &state.auth.allowed_origins) {
        // The header is the sender's to choose, up to the server's header limit: the log keeps a
        // bounded piece of it, and of the path.
        let origin = capped(header_str(&req, header::ORIGIN).unwrap_or("(none)"));
        let path = capped(req.uri().path());
        tracing::warn!(peer = %identity.remote_addr, %origin, %path, "cross-origin request refused");
        let actor = session
            .as_ref()
            .map(Session::actor)
            .unwrap_or_else(|| Actor::from_identity(&identity));
        let entry = AuditEntry::new(actor, AuditAction::AccessDenied, AuditOutcome::Denied)
            .detail(json!({ "reason": "origin", "origin": origin, "path": path }));
        state.refusals.record(&state.db, entry, now).await;
        return (StatusCode::FORBIDDEN, "cross-origin request refused\n").into_response();
    }

    if is_page(&req) {
        let path = req.uri().path();
        let target = match &session {
            None if !PUBLIC_PAGES.contains(&path) => Some("/login"),
            Some(_) if path == "/login" => Some("/"),
            Some(s)
                if s.must_change_password
                    && path != PASSWORD_PAGE
                    && !PUBLIC_PAGES.contains(&path) =>
            {
                Some(PASSWORD_PAGE)
            }
            _ => None,
        };
        if let Some(target) = target {
            let mut response = see_other(target);
            if forget_cookie {
                append_clear_cookie(&mut response);
            }
            return response;
        }
    }

    let server_fn = req.uri().path().starts_with("/api/");
    // A server function that changes nothing a session grants is declared a GET (`input = GetUrl`
    // next to it); any other request (a sign-out, a password change, an operator's new roles) makes
    // the process forget the sessions it has read ([`app::backend::SessionCache`]), so that the
    // change holds from the next request on.
    let keeps_sessions = is_safe(req.method());
    req.extensions_mut().insert(CurrentSession(session));
    let mut response = next.run(req).await;
    if !keeps_sessions {
        state.sessions.forget_all();
    }
    if server_fn && response.status() == StatusCode::INTERNAL_SERVER_ERROR {
        response = with_error_status(response).await;
    }
    if forget_cookie {
        append_clear_cookie(&mut response);
    }
    response
}

/// Server functions answer every error with 500; this gives the answer the status of its
/// [`AppError`] (401, 403, 404, 409, 422 …), so that clients and logs tell the cases apart.
async fn with_error_status(response: Response) -> Response {
    const MAX_ERROR_BODY: usize = 64 * 1024;
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response();
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        if let Ok(status) = StatusCode::from_u16(error.status_code()) {
            parts.status = status;
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// A browser page (not a server function, a built asset or the health check).
fn is_page(req: &Request) -> bool {
    let path = req.uri().path();
    matches!(*req.method(), Method::GET | Method::HEAD)
        && !path.starts_with("/api/")
        && !path.starts_with("/pkg/")
        && path != "/health"
}

/// The longest piece of a header or path kept in the audit log, in characters.
const LOGGED_VALUE_MAX: usize = 200;

/// `value` cut to [`LOGGED_VALUE_MAX`] characters, marked with `…` when cut.
fn capped(value: &str) -> String {
    let mut chars = value.chars();
    let mut kept: String = chars.by_ref().take(LOGGED_VALUE_MAX).collect();
    if chars.next().is_some() {
        kept.push('…');
    }
    kept
}

fn header_str(req: &Request, name: header::HeaderName) -> Option<&str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The Origin of a state-changing request must be the console's: one of the configured origins or
/// the origin of the host the request was sent to. Browsers always send Origin with such requests;
/// a request without one is refused too.
fn origin_allowed(req: &Request, configured: &[String]) -> bool {
    let Some(origin) = header_str(req, header::ORIGIN) else {
        return false;
    };
    let host = header_str(req, header::HOST).or_else(|| req.uri().authority().map(|a| a.as_str()));
    origin_matches(origin, host, configured)
}

pub fn origin_matches(origin: &str, host: Option<&str>, configured: &[String]) -> bool {
    let origin = origin.trim_end_matches('/');
    configured
        .iter()
        .any(|c| c.trim_end_matches('/').eq_ignore_ascii_case(origin))
        || host.is_some_and(|h| {
            origin
                .strip_prefix("https://")
                .is_some_and(|o| o.eq_ignore_ascii_case(h))
        })
}

fn see_other(location: &'static str) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SEE_OTHER;
    response
        .headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static(location));
    response
}

fn append_clear_cookie(response: &mut Response) {
    if let Ok(value) = HeaderValue::from_str(&clear_session_cookie()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_must_be_the_consoles() {
        let configured = vec!["https://console.example.com".to_owned()];
        assert!(origin_matches(
            "https://console.example.com",
            None,
            &configured
        ));
        assert!(origin_matches(
            "https://127.0.0.1:8443",
            Some("127.0.0.1:8443"),
            &configured
        ));
        assert!(!origin_matches(
            "https://evil.example",
            Some("console.example.com"),
            &configured
        ));
        assert!(!origin_matches(
            "http://127.0.0.1:8443",
            Some("127.0.0.1:8443"),
            &configured
        ));
        assert!(!origin_matches("null", Some("127.0.0.1:8443"), &[]));
        assert!(!origin_matches(
            "https://127.0.0.1:8443.evil.example",
            Some("127.0.0.1:8443"),
            &[]
        ));
    }
}
