//! Server-only code: state, database access, services. Compiled with the `ssr` feature.

pub mod context;
pub mod db;
pub mod entities;
pub mod identity;
pub mod password;
pub mod services;
pub mod state;

pub use context::RequestCtx;
pub use identity::ClientIdentity;
pub use state::AppState;
