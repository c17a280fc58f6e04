//! HTTPS with mutual TLS: who gets in, who does not, and what reaches the handlers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::HandshakeKind;
use secrecy::SecretString;
use time::OffsetDateTime;

use app::api::auth::SignInFormView;
use app::api::home::HomeView;
use app::backend::services::platform::{self, Revoked};
use app::domain::access::Role;
use app::error::AppError;
use server::pki::Reason;
use server::tls::{TlsError, TlsFiles, TlsState};

use crate::on_both_backends;
use crate::support::app::{client_config, connect, get_once, record, root_store};
use crate::support::{spawn_app, Backend, TestPki};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_without_a_client_certificate_is_refused() {
    let app = spawn_app(Backend::Sqlite).await;

    let result = get_once(app.addr, Arc::new(app.client_config(None)), "/health").await;

    let err = result.expect_err("served without a client certificate");
    assert!(
        err.contains("CertificateRequired"),
        "unexpected error: {err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_from_another_ca_is_refused() {
    let app = spawn_app(Backend::Sqlite).await;
    // Another CA, and a forged one that copies our CA's name: neither gets in.
    for (other, alert) in [
        (TestPki::with_ca_name("Other CA"), "UnknownCA"),
        (TestPki::new(), "DecryptError"),
    ] {
        let foreign = other.client("mallory");

        let result = get_once(
            app.addr,
            Arc::new(app.client_config(Some(&foreign))),
            "/health",
        )
        .await;

        let err = result.expect_err("served a certificate of another CA");
        assert!(err.contains(alert), "expected {alert}, got: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_certificate_is_refused() {
    let app = spawn_app(Backend::Sqlite).await;
    let now = OffsetDateTime::now_utc();
    let expired = app
        .pki
        .pki
        .issue_client_valid_between(
            "expired.user",
            None,
            now - time::Duration::days(30),
            now - time::Duration::days(1),
            Some(SecretString::from("password-1234".to_owned())),
            false,
        )
        .expect("issue");

    let result = get_once(
        app.addr,
        Arc::new(app.client_config(Some(&expired))),
        "/health",
    )
    .await;

    let err = result.expect_err("served an expired certificate");
    assert!(
        err.contains("CertificateExpired"),
        "unexpected error: {err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_certificate_is_refused_at_the_next_handshake() {
    let app = spawn_app(Backend::Sqlite).await;
    let cert = app.pki.client("alice");
    let config = Arc::new(app.client_config(Some(&cert)));
    assert_eq!(
        get_once(app.addr, config.clone(), "/health")
            .await
            .map(|r| r.0),
        Ok(200)
    );

    assert!(app
        .pki
        .pki
        .revoke(&cert.serial_hex, Reason::KeyCompromise)
        .expect("revoke"));
    app.tls.reload().expect("reload");

    let err = get_once(app.addr, config, "/health")
        .await
        .expect_err("served a revoked certificate");
    assert!(
        err.contains("CertificateRevoked"),
        "unexpected error: {err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_connection_does_not_outlive_a_revocation() {
    let app = spawn_app(Backend::Sqlite).await;
    let cert = app.pki.client("bob");
    let mut conn = connect(app.addr, Arc::new(app.client_config(Some(&cert))))
        .await
        .expect("connect");
    assert_eq!(conn.get("/health").await.map(|r| r.0), Ok(200));

    app.pki
        .pki
        .revoke(&cert.serial_hex, Reason::Unspecified)
        .expect("revoke");
    app.tls.reload().expect("reload");

    // The same keep-alive connection, opened before the revocation.
    let (status, body) = conn
        .get("/health")
        .await
        .expect("an answer on the open connection");
    assert_eq!(status, 401);
    assert!(body.contains("revoked"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_crl_file_is_watched_and_a_revocation_takes_effect_by_itself() {
    let app = spawn_app(Backend::Sqlite).await;
    let _watcher = app.tls.spawn_crl_watcher(Duration::from_millis(100));
    let cert = app.pki.client("carol");
    let config = Arc::new(app.client_config(Some(&cert)));
    assert_eq!(
        get_once(app.addr, config.clone(), "/health")
            .await
            .map(|r| r.0),
        Ok(200)
    );

    // What `vpos pki revoke` does: rewrite the CRL file. Nobody calls reload.
    app.pki
        .pki
        .revoke(&cert.serial_hex, Reason::Superseded)
        .expect("revoke");

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match get_once(app.addr, config.clone(), "/health").await {
            Err(e) if e.contains("CertificateRevoked") => break,
            other => assert!(
                Instant::now() < deadline,
                "still accepted 10 s after revocation: {other:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_in_the_database_is_refused_within_seconds_without_the_crl() {
    let app = spawn_app(Backend::Sqlite).await;
    let _watcher = app
        .tls
        .spawn_revocation_watcher(app.db.conn.clone(), Duration::from_millis(100));
    let cert = app.pki.client("erin");
    let config = Arc::new(app.client_config(Some(&cert)));
    let mut conn = connect(app.addr, config.clone()).await.expect("connect");
    assert_eq!(conn.get("/health").await.map(|r| r.0), Ok(200));

    // What another instance's `vpos pki revoke` leaves here: a row in the database, and this
    // instance's CRL file as it was.
    let marked = platform::revoke_certificate(
        &app.db.conn,
        &Revoked::Certificate(record(&cert)),
        chrono::Utc::now(),
    )
    .await
    .expect("revoke");
    assert_eq!(marked, 1);
    assert!(!app.tls.is_revoked(&cert.serial_hex), "not on the CRL");

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match conn.get("/health").await {
            Ok((401, body)) if body.contains("revoked") => break,
            other => assert!(
                Instant::now() < deadline,
                "still served 10 s after the revocation: {other:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A new connection too: its requests are refused.
    assert_eq!(
        get_once(app.addr, config, "/health").await.map(|r| r.0),
        Ok(401)
    );
    // Revoking again marks nothing new.
    let again = platform::revoke_certificate(
        &app.db.conn,
        &Revoked::Serial(cert.serial_hex.clone()),
        chrono::Utc::now(),
    )
    .await
    .expect("revoke again");
    assert_eq!(again, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_connection_does_not_outlive_its_certificate() {
    let app = spawn_app(Backend::Sqlite).await;
    let now = OffsetDateTime::now_utc();
    let short = app
        .pki
        .pki
        .issue_client_valid_between(
            "short.lived",
            None,
            now - time::Duration::hours(1),
            now + time::Duration::seconds(3),
            Some(SecretString::from("password-1234".to_owned())),
            false,
        )
        .expect("issue");
    let mut conn = connect(app.addr, Arc::new(app.client_config(Some(&short))))
        .await
        .expect("connect");
    assert_eq!(conn.get("/health").await.map(|r| r.0), Ok(200));

    let expires = short.not_after - chrono::Utc::now();
    tokio::time::sleep(expires.to_std().unwrap_or_default() + Duration::from_millis(500)).await;
    let (status, body) = conn
        .get("/health")
        .await
        .expect("an answer on the open connection");
    assert_eq!(status, 401);
    assert!(body.contains("expired"), "{body}");
}

#[test]
fn a_crl_file_without_a_crl_or_past_its_next_update_is_refused() {
    let pki = TestPki::new();
    let files = || TlsFiles {
        ca_cert: pki.pki.ca_cert_path(),
        server_cert: pki.pki.server_cert_path(),
        server_key: pki.pki.server_key_path(),
        crl: Some(pki.pki.crl_path()),
    };
    assert!(TlsState::load(files()).is_ok());

    std::fs::write(pki.pki.crl_path(), "").expect("empty the CRL");
    match TlsState::load(files()) {
        Err(TlsError::NoCrl { .. }) => {}
        other => panic!("an empty CRL file was taken: {:?}", other.err()),
    }

    let now = OffsetDateTime::now_utc();
    pki.pki
        .write_crl_between(
            now - time::Duration::days(31),
            now - time::Duration::days(1),
        )
        .expect("an expired CRL");
    match TlsState::load(files()) {
        Err(error @ TlsError::CrlExpired { .. }) => {
            assert!(error.to_string().contains("vpos pki crl"), "{error}")
        }
        other => panic!("an expired CRL was taken: {:?}", other.err()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_sessions_are_never_resumed() {
    let app = spawn_app(Backend::Sqlite).await;
    let cert = app.pki.client("dave");
    for versions in [
        &[&rustls::version::TLS13][..],
        &[&rustls::version::TLS12][..],
    ] {
        // One client configuration, with its session cache, for both connections.
        let base = app.client_config(Some(&cert));
        let config = Arc::new(
            rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_protocol_versions(versions)
            .expect("versions")
            .with_root_certificates(root_store(&app.pki.pki.ca_cert_path()))
            .with_client_cert_resolver(base.client_auth_cert_resolver.clone()),
        );
        let mut first = connect(app.addr, config.clone())
            .await
            .expect("first connection");
        assert_eq!(first.get("/health").await.map(|r| r.0), Ok(200));
        drop(first);

        let mut second = connect(app.addr, config.clone())
            .await
            .expect("second connection");
        assert_eq!(second.get("/health").await.map(|r| r.0), Ok(200));
        assert_eq!(
            second.handshake_kind,
            Some(HandshakeKind::Full),
            "{versions:?}: the session was resumed"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_the_database() {
    let app = spawn_app(Backend::Sqlite).await;
    let cert = app.pki.client("erin");

    let response = app.get(&cert, "/health").await;

    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_carry_the_security_headers() {
    let app = spawn_app(Backend::Sqlite).await;
    let cert = app.pki.client("frank");

    let response = app.get(&cert, "/help").await;

    assert_eq!(response.status(), 200);
    let h = response.headers().clone();
    assert_eq!(h["strict-transport-security"], "max-age=31536000");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    // Scripts only from the console or with this response's nonce, which the hydration scripts
    // carry; a fresh nonce for every response.
    let policy = h["content-security-policy"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    for directive in [
        "default-src 'self'",
        "'wasm-unsafe-eval'",
        "style-src 'self'",
        "img-src 'self' data:",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ] {
        assert!(
            policy.contains(directive),
            "{directive} missing from {policy}"
        );
    }
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce")
        .to_owned();
    assert!(nonce.len() >= 22, "{nonce}");
    // A page and a server function's answer hold a merchant's data: nothing keeps a copy.
    assert_eq!(h["cache-control"], "no-store");
    let page = response.text().await.expect("page");
    let scripts = page.matches("<script").count();
    assert!(scripts > 0, "the page has its hydration scripts");
    assert_eq!(
        page.matches(&format!("nonce=\"{nonce}\"")).count(),
        scripts,
        "every script carries the nonce: {page}"
    );
    let again = app.get(&cert, "/help").await;
    let next_policy = again.headers()["content-security-policy"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!next_policy.contains(&nonce), "a nonce is used once");
    let answer = app
        .https(Some(&cert))
        .get(app.url("/api/sign_in_form"))
        .send()
        .await
        .expect("server function");
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["cache-control"], "no-store");

    // A body larger than any form is refused before it is read.
    let oversized = app
        .https(Some(&cert))
        .post(app.url("/api/sign_in"))
        .header("origin", app.url("").trim_end_matches('/'))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "login_name={}",
            "a".repeat(server::http::MAX_REQUEST_BODY)
        ))
        .send()
        .await;
    // The server answers 413 as soon as it sees the length and closes the connection; a client
    // still writing the body may see the close first (a broken pipe). Either way the body was not
    // taken; any other outcome fails.
    match oversized {
        Ok(answer) => assert_eq!(answer.status(), 413),
        Err(error) => {
            let chain = format!("{error:?}");
            assert!(
                chain.contains("BodyWrite") || chain.contains("BrokenPipe"),
                "oversized request: {chain}"
            );
        }
    }
}

on_both_backends!(a_valid_certificate_is_served_and_its_identity_reaches_the_handlers);

async fn a_valid_certificate_is_served_and_its_identity_reaches_the_handlers(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut browser = app
        .ready_browser("M10000001", "acme.admin", &[Role::Administrator])
        .await;
    let fingerprint = app
        .audit_details("certificate_bind")
        .await
        .first()
        .cloned()
        .unwrap_or_default();

    // The page, rendered on the server with the data of the signed-in operator.
    let page = browser.page("/").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Merchant M10000001"),
        "the merchant's name is on the page"
    );

    // The server function behind it, with the certificate of the connection.
    let home: HomeView = browser.call("home", &[]).await.json();
    assert!(fingerprint.contains(&home.certificate.fingerprint));
    assert_eq!(home.certificate.subject_cn, "acme.admin");
    assert_eq!(home.operator.login_name, "acme.admin");
    assert_eq!(home.merchant.code, "M10000001");
    assert!(page.body.contains(&home.certificate.fingerprint));
}

on_both_backends!(a_certificate_bound_to_nobody_is_told_so_and_cannot_sign_in);

async fn a_certificate_bound_to_nobody_is_told_so_and_cannot_sign_in(backend: Backend) {
    let app = spawn_app(backend).await;
    app.bound_operator("M10000002", "other.admin").await;
    let stranger = app.pki.client("stranger");
    let mut browser = app.browser(&stranger);

    let form: SignInFormView = browser.call("sign_in_form", &[]).await.json();
    assert_eq!(form.certificate_subject, "stranger");
    assert!(!form.certificate_bound);
    assert_eq!(browser.page("/").await.body, "/login");
    let refused = browser.call("home", &[]).await;
    assert_eq!(refused.error(), AppError::Unauthenticated);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_language_follows_the_cookie_then_the_browser() {
    let app = spawn_app(Backend::Sqlite).await;
    let cert = app.pki.client("grace");
    let client = app.https(Some(&cert));
    let get = |headers: &'static [(&'static str, &'static str)]| {
        let mut request = client.get(app.url("/help"));
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        async move {
            request
                .send()
                .await
                .expect("page")
                .text()
                .await
                .expect("html")
        }
    };

    assert!(
        get(&[]).await.contains("<html lang=\"zh-CN\""),
        "zh-CN is the default"
    );
    assert!(get(&[("accept-language", "en-US,en;q=0.9")])
        .await
        .contains("<h1>Help"));
    let zh = get(&[("accept-language", "en-US"), ("cookie", "vpos_lang=zh-CN")]).await;
    assert!(
        zh.contains("<h1>常见问题"),
        "the cookie wins over Accept-Language"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_path_is_a_404_page() {
    let app = spawn_app(Backend::Sqlite).await;
    let mut browser = app
        .ready_browser("M10000003", "heidi.admin", &[Role::Administrator])
        .await;

    let response = browser.page("/nowhere").await;

    assert_eq!(response.status, 404);
    assert!(response.body.contains("页面不存在"));
}

#[test]
fn the_client_config_helper_presents_the_certificate() {
    // Guards the helpers the tests above rely on: a config built with a certificate has a resolver
    // that offers it.
    let pki = TestPki::new();
    let cert = pki.client("ivan");
    let config = client_config(&pki.pki.ca_cert_path(), Some(&cert));
    assert!(config.client_auth_cert_resolver.has_certs());
}
