//! The console served over real mutual TLS on a random port, on a fresh database.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use http_body_util::BodyExt;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio_rustls::TlsConnector;

use app::backend::services::monitor::Monitor;
use app::backend::services::platform::{self, CertificateRecord, NewMerchant, NewOperator};
use app::backend::services::transactions;
use app::backend::throttle::{Throttle, ThrottleLimits};
use app::backend::token::TokenKey;
use app::backend::{AppState, AuthConfig, Clock, ExportConfig, SessionCache};
use app::domain::access::Role;
use app::domain::{
    Currency, DataScope, LoginName, LoginPrefix, MaskedAccount, MerchantCode, MerchantNo, Money,
    RefundMode,
};
use server::pki::IssuedCert;
use server::tls::{TlsFiles, TlsState};

use super::browser::Browser;
use super::{Backend, TestDb, TestPki};

/// The first password of operators made by [`TestApp::operator`].
/// The console's statement timeout in the test apps (the default of `vpos serve`).
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);

pub const FIRST_PASSWORD: &str = "first-Password-2026";
/// The browser code's name in the test apps, as scripts/build-site.sh names a build (none is built
/// for these tests: `site/pkg` is empty unless a test puts files there).
pub const ASSET_NAME: &str = "vpos-0123456789abcdef";
/// Their own password after [`TestApp::ready_browser`].
pub const PASSWORD: &str = "own-Password-2026";

pub struct TestApp {
    pub addr: SocketAddr,
    pub pki: TestPki,
    pub db: TestDb,
    pub tls: Arc<TlsState>,
    /// The app's clock: stands still until a test advances it.
    pub clock: Clock,
    pub auth: AuthConfig,
    /// The monitor's side of the app; its feed is the one the app's gateway announces on.
    pub monitor: Monitor,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The console's rules, but sign-in attempts limited as for a whole office: the tests sign in many
/// operators from one address, and some one operator many times, within one minute of the test clock.
/// (`auth::sign_ins_are_limited_per_certificate_and_per_address` checks the limits themselves.)
pub async fn spawn_app(backend: Backend) -> TestApp {
    let limits = ThrottleLimits {
        sign_ins_per_certificate: 100,
        sign_ins_per_address: 1_000,
        ..ThrottleLimits::default()
    };
    let auth = AuthConfig {
        throttle: Arc::new(Throttle::new(limits)),
        // A live stream notices the end of its session within a fifth of a second.
        stream_check: Duration::from_millis(200),
        ..AuthConfig::default()
    };
    spawn_app_with(backend, auth).await
}

/// [`spawn_app`] with other session and sign-in rules.
pub async fn spawn_app_with(backend: Backend, auth: AuthConfig) -> TestApp {
    // TEST_LOG=<filter> (e.g. `debug,sqlx=warn`) prints the servers' and clients' logs, each span
    // as it opens and closes: what a hung or slow test was doing. Run with `--nocapture`.
    if let Ok(filter) = std::env::var("TEST_LOG") {
        use tracing_subscriber::fmt::format::FmtSpan;
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_thread_names(true)
            .with_span_events(FmtSpan::NEW | FmtSpan::CLOSE)
            .with_ansi(false)
            .with_writer(std::io::stderr)
            .try_init();
    }
    let db = TestDb::migrated(backend).await;
    let pki = TestPki::new();
    let tls = TlsState::load(TlsFiles {
        ca_cert: pki.pki.ca_cert_path(),
        server_cert: pki.pki.server_cert_path(),
        server_key: pki.pki.server_key_path(),
        crl: Some(pki.pki.crl_path()),
    })
    .expect("TLS configuration");
    let clock = Clock::manual(Utc::now());
    let (addr, monitor, tx) = serve_instance(&db.conn, &db.url, &pki, &tls, &clock, &auth).await;
    TestApp {
        addr,
        pki,
        db,
        tls,
        clock,
        auth,
        monitor,
        shutdown: Some(tx),
    }
}

/// One instance of the console on `conn` (a pool on the database of `url`): its own monitor (on
/// PostgreSQL listening to the database's announcements), served on a random port. Stops when the
/// sender it gives back is used or dropped.
async fn serve_instance(
    conn: &sea_orm::DatabaseConnection,
    url: &str,
    pki: &TestPki,
    tls: &Arc<TlsState>,
    clock: &Clock,
    auth: &AuthConfig,
) -> (SocketAddr, Monitor, oneshot::Sender<()>) {
    let site_root = pki.dir.path().join("site");
    std::fs::create_dir_all(site_root.join("pkg")).expect("site dir");
    let leptos_options = leptos::prelude::LeptosOptions::builder()
        .output_name(ASSET_NAME)
        .site_root(site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .build();
    let search_db = app::backend::db::connect_search(url, 2, conn, STATEMENT_TIMEOUT)
        .await
        .expect("open the search pool");
    let feed = app::backend::feed::Feed::new();
    if conn.get_database_backend() == sea_orm::DbBackend::Postgres {
        tokio::spawn(feed.clone().listen(url.to_owned()));
    }
    let monitor = Monitor::start(conn.clone(), feed);
    let exports = ExportConfig::new(pki.dir.path().join("exports"), transactions::DIRECT_LIMIT);
    // Ends with the test's runtime.
    tokio::spawn(
        app::backend::services::exports::ExportRunner::new(conn.clone(), exports.clone())
            .run(std::future::pending()),
    );
    let router = server::http::router(
        AppState {
            monitor: monitor.clone(),
            db: conn.clone(),
            search_db,
            leptos_options,
            clock: clock.clone(),
            sessions: SessionCache::new(auth.session_cache),
            auth: auth.clone(),
            token_key: TokenKey::generate(),
            exports,
            refusals: Default::default(),
            fast_refunds: app::backend::FastRefundConfig {
                upload: app::backend::services::fast_refunds::upload::UploadLimits {
                    reader: std::path::PathBuf::from(env!("CARGO_BIN_EXE_vpos")),
                    ..Default::default()
                },
                ..Default::default()
            },
        },
        Arc::default(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(server::http::serve(
        listener,
        Arc::clone(tls),
        router,
        Duration::from_secs(5),
        async {
            let _ = rx.await;
        },
    ));
    (addr, monitor, tx)
}

/// Another instance of a [`TestApp`]'s console: the same database (through a pool of its own),
/// certificates and clock, its own monitor and port.
pub struct Instance {
    pub addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

impl TestApp {
    pub async fn second_instance(&self) -> Instance {
        let conn = app::backend::db::connect(&self.db.url, 4)
            .await
            .expect("the second instance's pool");
        let (addr, _monitor, stop) = serve_instance(
            &conn,
            &self.db.url,
            &self.pki,
            &self.tls,
            &self.clock,
            &self.auth,
        )
        .await;
        Instance { addr, _stop: stop }
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.addr.port())
    }

    /// A rustls client trusting the test CA, presenting `cert` if given.
    pub fn client_config(&self, cert: Option<&IssuedCert>) -> ClientConfig {
        client_config(&self.pki.pki.ca_cert_path(), cert)
    }

    /// GET `path` presenting `cert`.
    pub async fn get(&self, cert: &IssuedCert, path: &str) -> reqwest::Response {
        self.https(Some(cert))
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    pub fn https(&self, cert: Option<&IssuedCert>) -> reqwest::Client {
        reqwest::Client::builder()
            .use_preconfigured_tls(self.client_config(cert))
            .build()
            .expect("reqwest client")
    }

    /// An operator of merchant `code` (created if need be) with `roles`, the first password
    /// [`FIRST_PASSWORD`] and a fresh certificate bound to them.
    /// A merchant made here takes the first label of `login` as its login prefix (`six` for
    /// `six.admin`), so that the names its administrator creates read as the test wrote them.
    pub async fn operator(&self, code: &str, login: &str, roles: &[Role]) -> IssuedCert {
        let label = login.split('.').next().unwrap_or_default();
        let named = NewMerchant {
            login_prefix: LoginPrefix::parse(label).ok(),
            ..new_merchant(code)
        };
        let created = match platform::create_merchant(&self.db.conn, named, Utc::now()).await {
            Err(platform::PlatformError::LoginPrefixTaken(_)) => {
                platform::create_merchant(&self.db.conn, new_merchant(code), Utc::now()).await
            }
            other => other,
        };
        match created {
            Ok(_) | Err(platform::PlatformError::MerchantExists(_)) => {}
            Err(e) => panic!("create merchant: {e}"),
        }
        operator_with_password(&self.db, code, login, roles, Some(FIRST_PASSWORD)).await;
        let cert = self.pki.client(login);
        bind(&self.db, login, &cert).await;
        cert
    }

    /// A browser of a new operator, signed in and past the forced password change: their password is
    /// now [`PASSWORD`].
    pub async fn ready_browser(&self, code: &str, login: &str, roles: &[Role]) -> Browser<'_> {
        let cert = self.operator(code, login, roles).await;
        let mut browser = self.browser(&cert);
        browser.signed_in(login, FIRST_PASSWORD).await;
        let changed = browser
            .change_password(FIRST_PASSWORD, PASSWORD, PASSWORD)
            .await;
        assert_eq!(changed.status, 200, "{}", changed.body);
        browser
    }

    /// The operator row of `login`.
    pub async fn operator_row(&self, login: &str) -> app::backend::entities::operators::Model {
        use app::backend::entities::operators;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        operators::Entity::find()
            .filter(operators::Column::LoginName.eq(login))
            .one(&self.db.conn)
            .await
            .expect("query")
            .expect("operator")
    }

    pub async fn operator_id(&self, login: &str) -> i64 {
        self.operator_row(login).await.id
    }

    /// The `detail` of every audit event with `action`, oldest first.
    pub async fn audit_details(&self, action: &str) -> Vec<String> {
        use app::backend::entities::audit_events;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
        audit_events::Entity::find()
            .filter(audit_events::Column::Action.eq(action))
            .order_by_asc(audit_events::Column::Id)
            .all(&self.db.conn)
            .await
            .expect("audit query")
            .into_iter()
            .map(|e| e.detail.unwrap_or_default())
            .collect()
    }

    /// A merchant with an administrator whose fresh certificate is bound to them.
    pub async fn bound_operator(&self, code: &str, login: &str) -> IssuedCert {
        seed_merchant(&self.db, code).await;
        create_operator(&self.db, code, login, &[Role::Administrator]).await;
        let cert = self.pki.client(login);
        bind(&self.db, login, &cert).await;
        cert
    }
}

/// The CA file as a rustls root store.
pub fn root_store(ca: &std::path::Path) -> RootCertStore {
    let mut roots = RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca).expect("CA file") {
        roots.add(c.expect("CA certificate")).expect("add CA");
    }
    roots
}

pub fn client_config(ca: &std::path::Path, cert: Option<&IssuedCert>) -> ClientConfig {
    let roots = root_store(ca);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots);
    match cert {
        None => builder.with_no_client_auth(),
        Some(cert) => {
            let chain = CertificateDer::pem_file_iter(&cert.cert_path)
                .expect("cert file")
                .collect::<Result<Vec<_>, _>>()
                .expect("certs");
            let key = PrivateKeyDer::from_pem_file(&cert.key_path).expect("key");
            builder
                .with_client_auth_cert(chain, key)
                .expect("client auth")
        }
    }
}

/// One TLS connection carrying HTTP/1.1 requests: what a browser's keep-alive connection does.
pub struct Connection {
    sender: hyper::client::conn::http1::SendRequest<String>,
    pub handshake_kind: Option<rustls::HandshakeKind>,
}

/// Opens a TLS connection and sends nothing yet. In TLS 1.3 a refused client certificate surfaces at
/// the first request, as the server's alert.
pub async fn connect(addr: SocketAddr, config: Arc<ClientConfig>) -> Result<Connection, String> {
    let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let name = ServerName::try_from("127.0.0.1")
        .map_err(|e| e.to_string())?
        .to_owned();
    let tls = TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())?;
    let handshake_kind = tls.get_ref().1.handshake_kind();
    let (sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(Connection {
        sender,
        handshake_kind,
    })
}

impl Connection {
    /// GET `path`; the status and body, or the error (e.g. the TLS alert) as text.
    pub async fn get(&mut self, path: &str) -> Result<(u16, String), String> {
        let request = http::Request::get(path)
            .header("host", "127.0.0.1")
            .body(String::new())
            .map_err(|e| e.to_string())?;
        let response = self
            .sender
            .send_request(request)
            .await
            .map_err(|e| app::error::source_chain(&e))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }
}

/// Connects and GETs `path` once, in plain HTTP/1.1 over the TLS stream, so that a TLS alert from the
/// server comes back as the error text (e.g. `received fatal alert: CertificateRequired`).
pub async fn get_once(
    addr: SocketAddr,
    config: Arc<ClientConfig>,
    path: &str,
) -> Result<(u16, String), String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let name = ServerName::try_from("127.0.0.1")
        .map_err(|e| e.to_string())?
        .to_owned();
    let mut tls = TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    tls.write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    tls.read_to_end(&mut response)
        .await
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| format!("not an HTTP response: {text:?}"))?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

/// A merchant `code` with one merchant number derived from the code, so that several coexist.
pub fn new_merchant(code: &str) -> NewMerchant {
    let digits = &code[1..];
    NewMerchant {
        code: MerchantCode::parse(code).expect("code"),
        login_prefix: None,
        name: format!("Merchant {code}"),
        settlement_bank: "Test Bank".into(),
        settlement_account: MaskedAccount::from_account("6222020200112233").expect("account"),
        refund_mode: RefundMode::Direct,
        refund_requires_token: false,
        daily_refund_quota: Money::from_fen(1_000_000, Currency::Cny),
        refund_window_days: 180,
        fast_refund_agreement: false,
        numbers: vec![(
            MerchantNo::parse(&format!("8980000{digits}")).expect("number"),
            "Main store".into(),
        )],
        fee_rates: platform::standard_fee_rates(),
    }
}

/// A merchant-wide session of operator `operator_id` holding `roles`, for calling services directly
/// (no sign-in: the services trust the session they are given).
pub async fn service_session(
    db: &TestDb,
    operator_id: i64,
    roles: &[Role],
) -> app::backend::Session {
    use app::backend::entities::operators;
    use sea_orm::EntityTrait;
    let operator = operators::Entity::find_by_id(operator_id)
        .one(&db.conn)
        .await
        .expect("query")
        .expect("operator");
    app::backend::Session {
        token_hash: format!("test-{operator_id}"),
        operator_id,
        merchant_id: operator.merchant_id,
        login_name: operator.login_name,
        display_name: operator.display_name,
        roles: roles.to_vec(),
        functions: app::domain::access::functions_of(roles),
        scope: DataScope::Merchant,
        group_ids: Vec::new(),
        must_change_password: false,
        cert_fingerprint: "00".into(),
        remote_addr: "127.0.0.1".into(),
        tz: chrono_tz::Asia::Shanghai,
        currency: app::domain::Currency::Cny,
    }
}

pub async fn seed_merchant(db: &TestDb, code: &str) -> i64 {
    platform::create_merchant(&db.conn, new_merchant(code), Utc::now())
        .await
        .expect("create merchant")
}

pub async fn create_operator(db: &TestDb, code: &str, login: &str, roles: &[Role]) -> i64 {
    operator_with_password(db, code, login, roles, None).await
}

/// An operator with the given first password, or a generated one.
pub async fn operator_with_password(
    db: &TestDb,
    code: &str,
    login: &str,
    roles: &[Role],
    password: Option<&str>,
) -> i64 {
    platform::create_operator(
        &db.conn,
        NewOperator {
            merchant_code: MerchantCode::parse(code).expect("code"),
            login_name: LoginName::parse(login).expect("login"),
            display_name: format!("Operator {login}"),
            roles: roles.to_vec(),
            scope: DataScope::Merchant,
        },
        password.map(|p| p.to_owned().into()),
        Utc::now(),
    )
    .await
    .expect("create operator")
    .id
}

pub async fn bind(db: &TestDb, login: &str, cert: &IssuedCert) {
    platform::bind_certificate(
        &db.conn,
        &LoginName::parse(login).expect("login"),
        &record(cert),
        Utc::now(),
    )
    .await
    .expect("bind certificate");
}

pub fn record(cert: &IssuedCert) -> CertificateRecord {
    CertificateRecord {
        fingerprint: cert.fingerprint.clone(),
        serial_hex: cert.serial_hex.clone(),
        subject_cn: cert.subject_cn.clone(),
        not_before: cert.not_before,
        not_after: cert.not_after,
    }
}

/// The terminal gateway of a [`TestApp`]: its database and TLS configuration, a port of its own.
pub struct Gateway {
    pub addr: SocketAddr,
    ca: std::path::PathBuf,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl TestApp {
    /// Serves the terminal gateway on the app's database, with `clock` (the gateway's instance may
    /// keep another time than the console's) and the default limits, through a pool of its own as
    /// `vpos serve` opens it (on SQLite, one connection).
    pub async fn gateway(&self, clock: Clock) -> Gateway {
        use app::backend::services::gateway::{self, GatewayConfig};
        let pool = app::backend::db::connect_gateway(&self.db.url, 4, Duration::from_secs(30))
            .await
            .expect("the gateway's pool");
        let router = server::gateway::router(server::gateway::GatewayState {
            gateway: gateway::Gateway::start(
                pool,
                GatewayConfig::default(),
                self.monitor.feed().clone(),
            ),
            clock,
            metrics: Arc::default(),
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(server::http::serve_for(
            app::backend::CertKind::Gateway,
            listener,
            Arc::clone(&self.tls),
            router,
            Duration::from_secs(5),
            async {
                let _ = rx.await;
            },
        ));
        Gateway {
            addr,
            ca: self.pki.pki.ca_cert_path(),
            shutdown: Some(tx),
        }
    }
}

/// What the gateway answered: the HTTP status, the JSON answer, and whether it was a repeat's.
#[derive(Debug, Clone)]
pub struct GatewayAnswer {
    pub status: u16,
    pub json: serde_json::Value,
    pub replayed: bool,
}

impl GatewayAnswer {
    pub fn code(&self) -> &str {
        self.json["code"].as_str().unwrap_or_default()
    }
}

impl Gateway {
    /// A client of the gateway presenting `cert`.
    pub fn client(&self, cert: &IssuedCert) -> reqwest::Client {
        reqwest::Client::builder()
            .use_preconfigured_tls(client_config(&self.ca, Some(cert)))
            .build()
            .expect("reqwest client")
    }

    /// Sends a message of `kind` (`sale`, …) with the raw `body`.
    pub async fn send_raw(
        &self,
        client: &reqwest::Client,
        kind: &str,
        body: impl Into<reqwest::Body>,
    ) -> GatewayAnswer {
        let response = client
            .post(format!("https://127.0.0.1:{}/v1/{kind}", self.addr.port()))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("gateway request");
        let status = response.status().as_u16();
        let replayed = response.headers().contains_key("idempotent-replayed");
        let text = response.text().await.expect("gateway answer");
        let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        GatewayAnswer {
            status,
            json,
            replayed,
        }
    }

    pub async fn send(
        &self,
        client: &reqwest::Client,
        kind: &str,
        body: &serde_json::Value,
    ) -> GatewayAnswer {
        self.send_raw(client, kind, body.to_string()).await
    }
}
