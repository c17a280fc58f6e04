//! Server-only code: state, database access, services. Compiled with the `ssr` feature.

pub mod audit;
pub mod captcha;
pub mod clock;
pub mod context;
pub mod db;
pub mod entities;
pub mod export;
pub mod feed;
pub mod identity;
pub mod key_file;
pub mod local_time;
pub mod password;
pub mod refusals;
pub mod services;
pub mod session;
pub mod session_cache;
pub mod state;
pub mod tallies;
pub mod throttle;
pub mod token;

pub use clock::Clock;
pub use context::RequestCtx;
pub use identity::{CertKind, CertificateCheck, ClientIdentity};
pub use session::Session;
pub use session_cache::SessionCache;
pub use state::{AppState, AuthConfig, ExportConfig, FastRefundConfig};
