//! `vpos serve`: the console over HTTPS with mutual TLS.

use std::sync::Arc;
use std::time::Duration;

use leptos::prelude::LeptosOptions;
use sea_orm_migration::MigratorTrait;
use tokio::net::TcpListener;

use app::backend::feed::Feed;
use app::backend::services::fast_refunds::bank::{BankConfig, BankWorker, Simulator};
use app::backend::services::fast_refunds::upload::UploadLimits;
use app::backend::services::gateway::{Gateway, GatewayConfig};
use app::backend::services::monitor::Monitor;
use app::backend::services::{auth, clearing, exports};
use app::backend::token::TokenKey;
use app::backend::{
    audit, db, AppState, AuthConfig, CertKind, Clock, ExportConfig, FastRefundConfig, SessionCache,
};
use migrations::Migrator;

use crate::metrics::Metrics;
use crate::ops::Ops;
use crate::settings::{BankMode, Settings};
use crate::tls::{TlsFiles, TlsState};

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Settings(#[from] crate::settings::SettingsError),
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    #[error(transparent)]
    KeyFile(#[from] app::backend::key_file::KeyFileError),
    #[error(transparent)]
    Db(#[from] db::ConnectError),
    #[error("audit log: {0}")]
    Audit(#[from] audit::OpenError),
    #[error("database: {0}")]
    Migrations(#[from] sea_orm::DbErr),
    #[error("cannot start the terminal gateway's threads: {0}")]
    Runtime(std::io::Error),
    #[error("cannot find this program's own path (it reads uploaded files): {0}")]
    OwnPath(std::io::Error),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
}

/// The site's options. The browser code's files are named after their content (`vpos-<hash>`, written
/// by scripts/build-site.sh into `pkg/current`), so that browsers may keep them; without that file
/// the plain `vpos` names are served, uncached.
pub fn leptos_options(settings: &Settings) -> LeptosOptions {
    let current = settings.site_root.join("pkg").join("current");
    let output_name = std::fs::read_to_string(&current)
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty() && !name.contains(['/', '\\', '.']))
        .unwrap_or_else(|| "vpos".to_owned());
    LeptosOptions::builder()
        .output_name(output_name)
        .site_root(settings.site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(settings.listen)
        .build()
}

pub fn tls_files(settings: &Settings) -> TlsFiles {
    TlsFiles {
        ca_cert: settings.tls.ca_cert.clone(),
        server_cert: settings.tls.server_cert.clone(),
        server_key: settings.tls.server_key.clone(),
        crl: settings
            .tls
            .crl
            .clone()
            .filter(|crl| !settings.tls.allow_no_crl || crl.is_file()),
    }
}

pub async fn run(settings: Settings) -> Result<(), ServeError> {
    settings.validate_for_serve()?;
    let files = tls_files(&settings);
    if files.crl.is_none() {
        tracing::warn!("serving without a CRL file (tls.allow_no_crl): only revocations recorded in the database are refused");
    }
    let tls = TlsState::load(files)?;
    // Clearing and housekeeping on a small pool of their own, without the console's statement
    // timeout: a day's clearing may rightly run for minutes.
    let background = db::connect(&settings.database_url, 2).await?;
    let metrics = Arc::new(Metrics::default());
    let ops = Ops::new(metrics.clone(), background.clone());
    // One signal stops everything: the listeners stop taking connections and finish their requests,
    // the readiness check says so meanwhile, the background work ends or is handed back.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    {
        let ops = ops.clone();
        tokio::spawn(async move {
            shutdown_signal().await;
            ops.stop();
            let _ = stop.send(true);
        });
    }
    let until_stopped = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    };
    // The operations listener answers from the start (while migrations are awaited, too) to the end.
    let (ops_stop, ops_stopped) = tokio::sync::oneshot::channel::<()>();
    let ops_listener = if settings.ops.enabled {
        let addr = settings.ops.listen;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Bind { addr, source })?;
        tracing::info!(%addr, "serving /health, /ready and /metrics over plain HTTP");
        let serving = axum::serve(listener, crate::ops::router(ops.clone()))
            .with_graceful_shutdown(async {
                let _ = ops_stopped.await;
            });
        Some(tokio::spawn(std::future::IntoFuture::into_future(serving)))
    } else {
        None
    };
    if !migrated(&background, stopped.clone()).await? {
        return Ok(());
    }
    if let audit::Prepared::Resealed(n) = audit::open(&background, &settings.audit_key_file).await?
    {
        tracing::warn!(
            path = %settings.audit_key_file.display(),
            events = n,
            "created the audit key and re-sealed the events written before it"
        );
    }
    let statement_timeout = Duration::from_millis(settings.database_statement_timeout_ms);
    let conn = db::connect_console(
        &settings.database_url,
        settings.database_max_connections,
        statement_timeout,
    )
    .await?;
    let search_db = db::connect_search(
        &settings.database_url,
        settings.database_max_connections,
        &conn,
        statement_timeout,
    )
    .await?;
    ops.watch_pool("console", conn.clone());
    ops.watch_pool("search", search_db.clone());
    let (token_key, created) = TokenKey::load_or_create(&settings.token_key_file)?;
    if created {
        tracing::warn!(path = %settings.token_key_file.display(), "created a new token key");
    }
    let auth_config = AuthConfig {
        allowed_origins: vec![settings.public_origin()],
        session_cache: Duration::from_millis(settings.session_cache_ms),
        ..AuthConfig::default()
    };
    // New transactions for the monitor: on PostgreSQL every instance hears every instance's,
    // through the database; on SQLite the gateway of this process tells it.
    let feed = Feed::new();
    if conn.get_database_backend() == sea_orm::DbBackend::Postgres {
        tokio::spawn(feed.clone().listen(settings.database_url.clone()));
    }
    let monitor = Monitor::start(conn.clone(), feed.clone());
    let state = AppState {
        monitor,
        sessions: SessionCache::new(auth_config.session_cache),
        db: conn,
        search_db,
        leptos_options: leptos_options(&settings),
        clock: Clock::system(),
        auth: auth_config,
        token_key,
        exports: ExportConfig::new(settings.exports.dir.clone(), settings.exports.direct_limit),
        refusals: Default::default(),
        fast_refunds: FastRefundConfig {
            holidays: std::sync::Arc::new(settings.fast_refund.holidays.clone()),
            upload: UploadLimits {
                max_bytes: settings.fast_refund.upload_max_bytes,
                max_rows: settings.fast_refund.upload_max_rows,
                // This same binary reads the files (`vpos read-upload`).
                reader: std::env::current_exe().map_err(ServeError::OwnPath)?,
                ..UploadLimits::default()
            },
        },
    };
    tokio::spawn(housekeeping(background.clone()));
    // Background exports of every instance, written on the console's pool (they read as searches
    // do). Stopping, the exports being written go back to the queue at once, for another instance
    // to take while this one finishes its requests.
    let export_runner = tokio::spawn(
        exports::ExportRunner {
            lease: Duration::from_secs(settings.exports.lease_secs),
            ..exports::ExportRunner::new(state.db.clone(), state.exports.clone())
        }
        .run(until_stopped(stopped.clone())),
    );
    let bank = settings.bank.worker.then(|| {
        tokio::spawn(
            bank_worker(&settings, background.clone())
                .run(state.clock.clone(), until_stopped(stopped.clone())),
        )
    });
    if background.get_database_backend() == sea_orm::DbBackend::Sqlite {
        tokio::spawn(wal_checkpoints(background.clone()));
    }
    let refusals = state.refusals.clone();
    tokio::spawn(refusal_counts(background.clone(), refusals.clone()));
    if settings.clearing.schedule {
        tokio::spawn(clearing_schedule(
            background.clone(),
            Duration::from_secs(settings.clearing.interval_secs),
            settings.clearing.catch_up_days,
            metrics.clone(),
            until_stopped(stopped.clone()),
        ));
    }
    let state_clock = state.clock.clone();
    let monitor = state.monitor.clone();
    let router = crate::http::router(state, metrics.clone());
    // Both listeners are bound before anything is served, so that a port in use stops the start;
    // each is then registered with the runtime that serves it.
    let bind = |addr: std::net::SocketAddr| {
        std::net::TcpListener::bind(addr)
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .map_err(|source| ServeError::Bind { addr, source })
    };
    let listener =
        TcpListener::from_std(bind(settings.listen)?).map_err(|source| ServeError::Bind {
            addr: settings.listen,
            source,
        })?;
    let gateway_listener = if settings.gateway.enabled {
        Some(bind(settings.gateway.listen)?)
    } else {
        None
    };
    let _watcher = tls.spawn_crl_watcher(Duration::from_secs(settings.tls.crl_reload_secs));
    // Revocations recorded in the database by any instance or the command line, read before the
    // first request and then as often as the CRL file is looked at.
    tls.read_revocations(&background).await;
    let _revocations = tls.spawn_revocation_watcher(
        background.clone(),
        Duration::from_secs(settings.tls.crl_reload_secs),
    );
    let handshake_timeout = Duration::from_secs(settings.tls.handshake_timeout_secs);
    let stopped_too = stopped.clone();
    let gateway = match gateway_listener {
        Some(listener) => {
            let config = GatewayConfig {
                max_amount_fen: settings.gateway.max_amount_fen,
            };
            let serving = GatewaySide::start(&settings, statement_timeout, config, feed).await?;
            tracing::info!(addr = %settings.gateway.listen, "serving the terminal gateway over HTTPS (gateway certificate required)");
            let state = crate::gateway::GatewayState {
                gateway: serving.gateway.clone(),
                clock: state_clock.clone(),
                metrics: metrics.clone(),
            };
            let listener = {
                // Registered with the runtime that serves it.
                let _inside = serving.handle.enter();
                TcpListener::from_std(listener).map_err(|source| ServeError::Bind {
                    addr: settings.gateway.listen,
                    source,
                })?
            };
            let task = serving.handle.spawn(crate::http::serve_for(
                CertKind::Gateway,
                listener,
                Arc::clone(&tls),
                crate::gateway::router(state),
                handshake_timeout,
                until_stopped(stopped_too),
            ));
            Some((serving, task))
        }
        None => None,
    };
    {
        let stopped = until_stopped(stopped.clone());
        tokio::spawn(async move {
            stopped.await;
            // Live streams never finish by themselves: they end here, so that their connections
            // close.
            monitor.stop();
        });
    }
    tracing::info!(addr = %settings.listen, url = %settings.public_url(), "serving the console over HTTPS (client certificate required)");
    crate::http::serve(
        listener,
        tls,
        router,
        handshake_timeout,
        until_stopped(stopped),
    )
    .await;
    if let Some((_serving, task)) = gateway {
        let _ = task.await;
    }
    let _ = export_runner.await;
    // The bank worker finishes the look it is taking (what it sent is recorded).
    if let Some(bank) = bank {
        if tokio::time::timeout(Duration::from_secs(10), bank)
            .await
            .is_err()
        {
            tracing::warn!("the fast-refund bank worker did not finish within 10 s");
        }
    }
    refusals.flush_all(&background, chrono::Utc::now()).await;
    let _ = ops_stop.send(());
    if let Some(ops_listener) = ops_listener {
        let _ = ops_listener.await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// The terminal gateway's side of the server: its own threads and its own database pool. A
/// terminal's message and a console page then never wait in one queue: under a stream of payments
/// the console's requests found the shared threads busy with the gateway's connections (the
/// transaction search took several times as long), and the gateway's writers waited behind the
/// console. The operating system shares the cores between the two sides.
struct GatewaySide {
    /// Where the gateway's tasks run.
    handle: tokio::runtime::Handle,
    /// Taken out when dropped and shut down in the background: a runtime may not be dropped on a
    /// thread of another one.
    runtime: Option<tokio::runtime::Runtime>,
    gateway: Gateway,
}

impl GatewaySide {
    async fn start(
        settings: &Settings,
        statement_timeout: Duration,
        config: GatewayConfig,
        feed: Feed,
    ) -> Result<Self, ServeError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(GATEWAY_THREADS)
            .thread_name("vpos-gateway")
            .enable_all()
            .build()
            .map_err(ServeError::Runtime)?;
        // The pool's connections (and the writer of sales) belong to the gateway's runtime.
        let url = settings.database_url.clone();
        let max = settings.database_max_connections;
        let started = runtime
            .spawn(async move {
                let db = db::connect_gateway(&url, max, statement_timeout).await?;
                Ok::<_, ServeError>(Gateway::start(db, config, feed))
            })
            .await;
        match started {
            Ok(Ok(gateway)) => Ok(Self {
                handle: runtime.handle().clone(),
                runtime: Some(runtime),
                gateway,
            }),
            Ok(Err(error)) => {
                runtime.shutdown_background();
                Err(error)
            }
            Err(error) => {
                runtime.shutdown_background();
                Err(ServeError::Runtime(std::io::Error::other(error)))
            }
        }
    }
}

impl Drop for GatewaySide {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The gateway's threads: as many as the console's by default on a small machine.
const GATEWAY_THREADS: usize = 2;

/// Every ten minutes expired export files are deleted, and so are sessions long past their limit and
/// old batch uploads. At start and then every ten minutes the planner's statistics are brought up to
/// date where the database does not do it itself (SQLite: [`app::backend::db::refresh_statistics`]).
async fn housekeeping(db: sea_orm::DatabaseConnection) {
    let mut ticks = tokio::time::interval(Duration::from_secs(600));
    loop {
        ticks.tick().await;
        if let Err(error) = app::backend::db::refresh_statistics(&db).await {
            tracing::error!(error = %error, "refreshing the planner's statistics failed");
        }
        if let Err(error) = exports::purge_expired(&db, chrono::Utc::now()).await {
            tracing::error!(error = %error, "deleting expired exports failed");
        }
        if let Err(error) = auth::purge_sessions(&db, chrono::Utc::now()).await {
            tracing::error!(error = %error, "deleting old sessions failed");
        }
        let uploads = app::backend::services::fast_refunds::upload::purge(&db, chrono::Utc::now());
        if let Err(error) = uploads.await {
            tracing::error!(error = %error, "deleting old batch uploads failed");
        }
    }
}

/// SQLite: the write-ahead log copied into the database file every second, beside the console's and
/// the gateway's writes ([`db::checkpoint_wal`]).
async fn wal_checkpoints(db: sea_orm::DatabaseConnection) {
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(error) = db::checkpoint_wal(&db).await {
            tracing::error!(%error, "copying the write-ahead log into the database failed");
        }
    }
}

/// Records the counts of repeated refusals once their minute is over, also when no refusal follows.
async fn refusal_counts(
    db: sea_orm::DatabaseConnection,
    refusals: std::sync::Arc<app::backend::refusals::Refusals>,
) {
    let mut ticks = tokio::time::interval(Duration::from_secs(60));
    loop {
        ticks.tick().await;
        refusals.flush(&db, chrono::Utc::now()).await;
    }
}

/// The worker that sends fast refunds to the bank configured and applies its answers.
fn bank_worker(
    settings: &Settings,
    db: sea_orm::DatabaseConnection,
) -> BankWorker<sea_orm::DatabaseConnection> {
    let bank = match settings.bank.mode {
        BankMode::Simulator => std::sync::Arc::new(Simulator::new(Duration::from_secs(
            settings.bank.delay_secs,
        ))),
    };
    BankWorker {
        db,
        bank,
        config: BankConfig {
            poll: Duration::from_millis(settings.bank.poll_ms),
            ..BankConfig::default()
        },
    }
}

/// Clearing inside `serve`: a run at start and then at every interval. Failures of one merchant number
/// are logged by the run and retried by the next; a database error waits for the next interval.
async fn clearing_schedule(
    db: sea_orm::DatabaseConnection,
    every: Duration,
    catch_up_days: u32,
    metrics: Arc<Metrics>,
    stop: impl std::future::Future<Output = ()>,
) {
    let mut stop = std::pin::pin!(stop);
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = &mut stop => return,
            _ = ticks.tick() => {}
        }
        let started = std::time::Instant::now();
        // A stop in the middle of a run ends it where it is: each merchant number's day is
        // settled in one transaction, which the database rolls back, and the next run (of any
        // instance) settles it.
        let run = tokio::select! {
            () = &mut stop => return,
            run = clearing::clear_due(&db, chrono::Utc::now(), catch_up_days) => run,
        };
        match run {
            Ok(report) => {
                let settled = report.settled().count();
                let failed = report.failures().count();
                if settled > 0 || failed > 0 || report.paid > 0 {
                    tracing::info!(settled, failed, paid = report.paid, "clearing run");
                }
                metrics.clearing_run(
                    Ok((settled as u64, failed as u64, report.paid)),
                    started.elapsed(),
                );
            }
            Err(err) => {
                tracing::error!(error = %err, "clearing run failed");
                metrics.clearing_run(Err(()), started.elapsed());
            }
        }
    }
}

/// Whether the database has every migration this build needs, waiting for `vpos migrate` (run
/// by the deployment) as long as it has not: the readiness check says why meanwhile. False when
/// the instance was stopped while it waited.
async fn migrated(
    db: &sea_orm::DatabaseConnection,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) -> Result<bool, ServeError> {
    let mut told = None::<std::time::Instant>;
    loop {
        let pending = Migrator::get_pending_migrations(db).await?.len();
        if pending == 0 {
            if told.is_some() {
                tracing::info!("the database is migrated: starting");
            }
            return Ok(true);
        }
        if told.is_none_or(|at| at.elapsed() >= Duration::from_secs(60)) {
            tracing::warn!(
                pending,
                "the database has pending migrations: waiting for `vpos migrate` (/ready answers 503 until then)"
            );
            told = Some(std::time::Instant::now());
        }
        tokio::select! {
            _ = stopped.wait_for(|stop| *stop) => return Ok(false),
            () = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing open requests");
}
