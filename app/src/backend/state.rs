//! Shared application state, provided to every server function through context.

use axum::extract::FromRef;
use chrono::Duration;
use leptos::prelude::LeptosOptions;
use sea_orm::DatabaseConnection;

use super::clock::Clock;
use super::token::TokenKey;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    /// The pool for the transaction search's pages ([`super::db::connect_search`]).
    pub search_db: DatabaseConnection,
    pub leptos_options: LeptosOptions,
    pub clock: Clock,
    pub auth: AuthConfig,
    /// Seals the operators' token secrets at rest.
    pub token_key: TokenKey,
    pub exports: ExportConfig,
    /// Sessions read a moment ago ([`super::SessionCache`], living `auth.session_cache`).
    pub sessions: super::SessionCache,
    /// Refused accesses of the running minute ([`super::refusals`]): one audit event per
    /// certificate and minute, whatever their number.
    pub refusals: std::sync::Arc<super::refusals::Refusals>,
    /// The transaction monitor's rows as they are committed ([`super::services::monitor`]).
    pub monitor: super::services::monitor::Monitor,
    pub fast_refunds: FastRefundConfig,
}

/// Fast refunds' calendar and limits.
#[derive(Debug, Clone, Default)]
pub struct FastRefundConfig {
    /// Days the banks do not work besides weekends: a fast refund's due day skips them.
    pub holidays: std::sync::Arc<Vec<chrono::NaiveDate>>,
    /// How uploaded batch files are read.
    pub upload: super::services::fast_refunds::upload::UploadLimits,
}

/// Background exports: where their files go, and from how many rows a download becomes one.
#[derive(Debug, Clone)]
pub struct ExportConfig {
    pub dir: std::path::PathBuf,
    pub direct_limit: u64,
    /// Background jobs this process writes at once, whoever started them: each holds a database
    /// connection and a core for minutes. Past it, new jobs wait in the queue.
    pub jobs: std::sync::Arc<tokio::sync::Semaphore>,
    /// Tells this process's export runner that a job was queued, so that it need not wait for its
    /// next look at the queue.
    pub wake: std::sync::Arc<tokio::sync::Notify>,
    /// Downloads written while their user waits, at once.
    pub direct: std::sync::Arc<tokio::sync::Semaphore>,
}

impl ExportConfig {
    /// Background jobs one process writes at once.
    pub const JOBS: usize = 4;
    /// Downloads one process writes at once while their users wait.
    pub const DIRECT: usize = 4;

    pub fn new(dir: std::path::PathBuf, direct_limit: u64) -> Self {
        Self {
            dir,
            direct_limit,
            jobs: std::sync::Arc::new(tokio::sync::Semaphore::new(Self::JOBS)),
            wake: std::sync::Arc::default(),
            direct: std::sync::Arc::new(tokio::sync::Semaphore::new(Self::DIRECT)),
        }
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The sign-in and session rules. The numbers are the product's; only the origins and the
/// failure floor vary between deployments and tests.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// A session without a request for this long has ended.
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in, however active.
    pub absolute_timeout: Duration,
    /// Failed sign-ins in a row that lock an account …
    pub max_failed_sign_ins: i32,
    /// … for this long (or until an administrator unlocks it).
    pub lockout: Duration,
    pub captcha_ttl: Duration,
    /// A refused sign-in answers no sooner than this after the request arrived, whatever the reason,
    /// so that timing does not tell a wrong login name from a wrong password.
    pub refusal_floor: std::time::Duration,
    /// `https://host[:port]` origins whose pages may call state-changing server functions, besides
    /// the origin of the request's own Host header.
    pub allowed_origins: Vec<String>,
    /// Wrong token codes in a row that lock the token …
    pub token_max_failures: i32,
    /// … for this long.
    pub token_lockout: Duration,
    /// How long a session read from the database may serve further requests of its browser
    /// ([`super::SessionCache`]): also how long a change made by another instance may take to reach
    /// this one's requests. Zero reads the session at every request.
    pub session_cache: std::time::Duration,
    /// The bounds on password checks and sign-in attempts, shared by every request of the process.
    pub throttle: std::sync::Arc<super::throttle::Throttle>,
    /// How often an open live stream (the transaction monitor's) reads its session and looks at
    /// its certificate again: a sign-out, a limit reached or a revocation ends it within this time.
    pub stream_check: std::time::Duration,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::minutes(15),
            absolute_timeout: Duration::hours(12),
            max_failed_sign_ins: 5,
            lockout: Duration::minutes(30),
            captcha_ttl: Duration::minutes(5),
            refusal_floor: std::time::Duration::from_millis(400),
            allowed_origins: Vec::new(),
            token_max_failures: 5,
            token_lockout: Duration::minutes(15),
            session_cache: std::time::Duration::from_secs(1),
            throttle: Default::default(),
            stream_check: std::time::Duration::from_secs(5),
        }
    }
}
