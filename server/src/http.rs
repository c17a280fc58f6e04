//! The axum router and the HTTPS accept loop that puts each connection's verified client certificate
//! into every request.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, Request, Response, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulConnection, GracefulShutdown};
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use sea_orm::ConnectionTrait;
use tokio::net::TcpListener;
use tower::ServiceExt;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_http::LatencyUnit;

use app::backend::{AppState, CertKind, CertificateCheck, ClientIdentity};
use app::{shell, App};

use crate::tls::{identity_of, TlsState};

/// The longest a request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The largest request body read: the console's forms are a few kilobytes. A larger one is refused
/// (413) before it is read into memory.
pub const MAX_REQUEST_BODY: usize = 64 * 1024;

/// Refuses a request body over [`MAX_REQUEST_BODY`]: at once when its length says so (413), else
/// where the handler reads past it. The one exception is a batch file's upload, which reads the
/// file up to the configured limit itself and shows a larger one as too large in its preview.
async fn body_limit(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if req.method() == axum::http::Method::POST
        && req.uri().path() == app::ui::paths::fast_refunds::UPLOAD_PATH
    {
        return next.run(req).await;
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_REQUEST_BODY) {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    let (parts, body) = req.into_parts();
    let limited = axum::body::Body::new(http_body_util::Limited::new(body, MAX_REQUEST_BODY));
    next.run(axum::extract::Request::from_parts(parts, limited))
        .await
}

/// The app's pages, found once per process.
///
/// Leptos finds them by rendering the app with every resource held back, and the switch that holds
/// them back is one for the whole process: a page rendered meanwhile on another thread waits for its
/// data for ever (until the request times out). Found once, before the first router exists, no page
/// can be rendering then; a process that builds several routers (the integration tests build one per
/// test, while other tests' servers serve) would otherwise hang pages at random.
fn routes() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

pub fn router(state: AppState, metrics: Arc<crate::metrics::Metrics>) -> Router {
    let routes = routes();
    let options = state.leptos_options.clone();
    let security_headers = [
        (header::STRICT_TRANSPORT_SECURITY, "max-age=31536000"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
    ];
    // The browser code, gzipped once by scripts/build-site.sh and sent so to browsers that take it.
    let pkg = ServeDir::new(
        std::path::Path::new(state.leptos_options.site_root.as_ref())
            .join(state.leptos_options.site_pkg_dir.as_ref()),
    )
    .precompressed_gzip();
    let mut router = Router::new()
        .route("/health", get(health))
        .merge(app::api::download_routes())
        .nest_service("/pkg", pkg)
        .leptos_routes(&state, routes, move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::guard::guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            AssetName(format!("/pkg/{}.", state.leptos_options.output_name)),
            caching,
        ))
        // Pages and answers compressed on the way out (the browser code is already compressed; a
        // spreadsheet is a zip file).
        .layer(
            CompressionLayer::new()
                .gzip(true)
                .compress_when(DefaultPredicate::new().and(NotForContentType::const_new(
                    "application/vnd.openxmlformats",
                ))),
        )
        .layer(axum::middleware::from_fn(content_security_policy))
        .layer(axum::middleware::from_fn(body_limit))
        // No request may hold a connection and a worker forever: large downloads run as background
        // jobs, not as long requests.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ))
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            crate::metrics::track,
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<Body>| {
                    // The operator and merchant are filled in once the session is known
                    // (`guard`): every line logged for the request then names them.
                    let id = req
                        .extensions()
                        .get::<RequestId>()
                        .map_or("", |id| id.0.as_str());
                    tracing::info_span!(
                        "request",
                        method = %req.method(),
                        path = %req.uri().path(),
                        request_id = %id,
                        operator = tracing::field::Empty,
                        merchant = tracing::field::Empty,
                    )
                })
                .on_response(
                    DefaultOnResponse::new()
                        .level(tracing::Level::INFO)
                        .latency_unit(LatencyUnit::Micros),
                ),
        )
        .layer(axum::middleware::from_fn(request_id));
    for (name, value) in security_headers {
        router = router.layer(SetResponseHeaderLayer::overriding(
            name,
            HeaderValue::from_static(value),
        ));
    }
    router.with_state(state)
}

/// The id of a request in the logs, also sent back as `x-request-id`: the one a load balancer in
/// front set when it looks like an id, else a new one.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

const REQUEST_ID: &str = "x-request-id";

async fn request_id(mut req: Request<Body>, next: axum::middleware::Next) -> Response<Body> {
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=64).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        })
        .map_or_else(|| uuid::Uuid::new_v4().simple().to_string(), str::to_owned);
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(req).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// Scripts run only from the console's own origin or with this response's nonce (the hydration
/// scripts: [`app::CspNonce`]), WebAssembly may be compiled, styles come from the stylesheet,
/// images from the site or `data:` (the captcha, the icon). Nothing may frame the console, and
/// forms post only to it.
async fn content_security_policy(
    mut req: Request<Body>,
    next: axum::middleware::Next,
) -> Response<Body> {
    let nonce = csp_nonce();
    req.extensions_mut().insert(app::CspNonce(nonce.clone()));
    let mut response = next.run(req).await;
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
         base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// 128 random bits in hex: a fresh one for every response.
fn csp_nonce() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The path prefix of the browser code's files of this build (`/pkg/vpos-<hash>.`).
#[derive(Clone)]
struct AssetName(String);

/// Pages, server-function answers and downloads hold a merchant's data: no browser or proxy keeps a
/// copy (the back button then asks the server again, which checks the session). The browser code is
/// the same for everyone: files named after their content are kept for a year, others (a build
/// without names by content) are asked again each time.
async fn caching(
    State(AssetName(current)): State<AssetName>,
    req: Request<Body>,
    next: axum::middleware::Next,
) -> Response<Body> {
    let path = req.uri().path().to_owned();
    let mut response = next.run(req).await;
    let policy = if !path.starts_with("/pkg/") {
        "no-store"
    } else if path.starts_with(&current) && response.status() == StatusCode::OK {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    response
}

/// `GET /health`: 200 when the database answers, 503 otherwise.
async fn health(State(state): State<AppState>) -> impl IntoResponse {
    let db_ok = state.db.execute_unprepared("SELECT 1").await.is_ok();
    let status = if db_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({
        "status": if db_ok { "ok" } else { "degraded" },
        "database": if db_ok { "ok" } else { "unreachable" },
        "version": env!("CARGO_PKG_VERSION"),
    });
    (status, Json(body))
}

/// Accepts TLS connections for the console (operators' certificates) until `shutdown` resolves,
/// then lets open requests finish (up to 10 s).
pub async fn serve(
    listener: TcpListener,
    tls: Arc<TlsState>,
    router: Router,
    handshake_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) {
    serve_for(
        CertKind::Operator,
        listener,
        tls,
        router,
        handshake_timeout,
        shutdown,
    )
    .await;
}

/// [`serve`] for the clients holding certificates of `kind`: a request on a connection with another
/// kind of certificate is refused (403) before it reaches the router.
pub async fn serve_for(
    kind: CertKind,
    listener: TcpListener,
    tls: Arc<TlsState>,
    router: Router,
    handshake_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(error) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = tcp.set_nodelay(true);
        let watcher = graceful.watcher();
        let (tls, router) = (Arc::clone(&tls), router.clone());
        tokio::spawn(async move {
            let Some(connection) =
                accept_connection(kind, tcp, remote, tls, router, handshake_timeout).await
            else {
                return;
            };
            if let Err(error) = watcher.watch(connection).await {
                // Browsers routinely drop connections without close_notify: not worth more than debug.
                tracing::debug!(peer = %remote, %error, "connection ended with an error");
            }
        });
    }
    // Every request may finish: none runs longer than the request timeout.
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(REQUEST_TIMEOUT) => tracing::warn!(
            "connections still open after {} s; closing", REQUEST_TIMEOUT.as_secs()
        ),
    }
}

/// One connection: the TLS handshake (which verifies the client certificate), then HTTP/1.1 or h2 with
/// the certificate's identity in every request.
async fn accept_connection(
    kind: CertKind,
    tcp: tokio::net::TcpStream,
    remote: SocketAddr,
    tls: Arc<TlsState>,
    router: Router,
    handshake_timeout: Duration,
) -> Option<impl GracefulConnection<Error: std::fmt::Display> + Send + 'static> {
    let acceptor = tls.acceptor();
    let stream = match tokio::time::timeout(handshake_timeout, acceptor.accept(tcp)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(error)) => {
            tracing::info!(peer = %remote, %error, "TLS handshake refused");
            return None;
        }
        Err(_) => {
            tracing::info!(peer = %remote, "TLS handshake timed out");
            return None;
        }
    };
    let Some(identity) = identity_of(stream.get_ref().1, remote) else {
        tracing::warn!(peer = %remote, "verified connection without a readable client certificate");
        return None;
    };
    let still_good = {
        let tls = Arc::clone(&tls);
        CertificateCheck(Arc::new(move |identity: &ClientIdentity, now| {
            tls.refusal(identity, now).is_none()
        }))
    };
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        let router = router.clone();
        let identity = identity.clone();
        let tls = Arc::clone(&tls);
        let still_good = still_good.clone();
        async move {
            // A connection opened before a revocation or the certificate's expiry must not
            // outlive it.
            if let Some(refusal) = tls.refusal(&identity, chrono::Utc::now()) {
                tracing::info!(peer = %identity.remote_addr, cert.serial = %identity.serial_hex, ?refusal, "request on a refused certificate");
                return Ok::<_, Infallible>(refused_response(refusal));
            }
            if identity.kind != kind {
                tracing::info!(peer = %identity.remote_addr, cert.serial = %identity.serial_hex, cert.kind = ?identity.kind, "request with the wrong kind of certificate");
                return Ok(wrong_kind_response(kind));
            }
            req.extensions_mut().insert(identity);
            req.extensions_mut().insert(still_good);
            router.oneshot(req.map(Body::new)).await
        }
    });
    Some(
        auto::Builder::new(TokioExecutor::new())
            .serve_connection(TokioIo::new(stream), service)
            .into_owned(),
    )
}

/// The answer to a certificate of the other kind: in the gateway's JSON on the gateway, in words on
/// the console.
fn wrong_kind_response(listener: CertKind) -> Response<Body> {
    let (content_type, body) = match listener {
        CertKind::Gateway => (
            "application/json",
            crate::gateway::refusal_body(
                app::domain::gateway::ResponseCode::NotAGatewayCertificate,
            ),
        ),
        CertKind::Operator => (
            "text/plain; charset=utf-8",
            "this is a gateway certificate: the console takes operators' certificates only\n"
                .to_owned(),
        ),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::FORBIDDEN;
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn refused_response(refusal: crate::tls::Refusal) -> Response<Body> {
    let text = match refusal {
        crate::tls::Refusal::Revoked => "certificate revoked\n",
        crate::tls::Refusal::Expired => "certificate expired\n",
    };
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
