//! The terminal gateway's listener: JSON messages from the acquirer's front end, one endpoint per
//! kind (`POST /v1/sign-in`, `/v1/sale`, `/v1/void`, `/v1/refund`, `/v1/sign-out`), over mutual TLS
//! with gateway certificates (docs/GATEWAY.md).
//!
//! Every answer is the host's JSON answer with its response code: 200 for a message the host
//! decided on (approved or refused by a rule), 400 for a malformed one, 413 for one over
//! [`MAX_MESSAGE`], 500 when the host failed (`96`: send it again; the key makes a repeat safe).
//! Nothing of a message's body is logged: the card number in it is whole.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use chrono::Utc;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_http::LatencyUnit;

use app::backend::services::gateway::{Answer, Gateway};
use app::backend::Clock;
use app::domain::gateway::{Kind, Refusal, ResponseCode};

/// The largest message read: a payment message is a few hundred bytes.
pub const MAX_MESSAGE: usize = 4 * 1024;

/// The longest a message may take: a POS gives up long before.
const MESSAGE_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Clone)]
pub struct GatewayState {
    pub gateway: Gateway,
    pub clock: Clock,
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
}

pub fn router(state: GatewayState) -> Router {
    Router::new()
        .route("/v1/{kind}", post(message))
        .fallback(unknown)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            MESSAGE_TIMEOUT,
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<Body>| {
                    tracing::info_span!("gateway", method = %req.method(), path = %req.uri().path())
                })
                .on_response(
                    DefaultOnResponse::new()
                        .level(tracing::Level::DEBUG)
                        .latency_unit(LatencyUnit::Micros),
                ),
        )
        .with_state(state)
}

/// The JSON body of a refusal without a message behind it.
pub fn refusal_body(code: ResponseCode) -> String {
    serde_json::to_string(&Answer::refused(Refusal::new(code), Utc::now())).unwrap_or_default()
}

fn kind_of(path: &str) -> Option<Kind> {
    Kind::ALL.into_iter().find(|k| k.name() == path)
}

async fn message(
    State(state): State<GatewayState>,
    Path(kind): Path<String>,
    req: Request,
) -> Response {
    let Some(kind) = kind_of(&kind) else {
        return unknown().await;
    };
    let body = match axum::body::to_bytes(req.into_body(), MAX_MESSAGE).await {
        Ok(body) => body,
        Err(_) => {
            return answer(
                StatusCode::PAYLOAD_TOO_LARGE,
                refusal_body(ResponseCode::MessageTooLarge),
                false,
            )
        }
    };
    let now = state.clock.now();
    match state.gateway.handle(kind, &body, now).await {
        Ok(handled) => {
            let a = &handled.answer;
            tracing::info!(
                kind = kind.name(),
                code = %a.code,
                reference = a.reference.as_deref().unwrap_or(""),
                repeated = handled.repeated,
                "gateway message"
            );
            state.metrics.gateway_message(kind.name(), &a.code);
            let status = match a.reason {
                ResponseCode::FormatError => StatusCode::BAD_REQUEST,
                _ => StatusCode::OK,
            };
            let json = serde_json::to_string(a).unwrap_or_default();
            answer(status, json, handled.repeated)
        }
        Err(error) => {
            tracing::error!(kind = kind.name(), %error, "gateway message failed");
            state
                .metrics
                .gateway_message(kind.name(), ResponseCode::SystemError.code());
            answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                refusal_body(ResponseCode::SystemError),
                false,
            )
        }
    }
}

async fn unknown() -> Response {
    answer(
        StatusCode::NOT_FOUND,
        refusal_body(ResponseCode::FormatError),
        false,
    )
}

fn answer(status: StatusCode, json: String, repeated: bool) -> Response {
    let mut response = (status, json).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if repeated {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}
