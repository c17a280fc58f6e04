//! The wire contract: the serialisable views, filters and forms that the server functions take and
//! answer, and the constants both sides must agree on (page sizes, limits). One file per area, as in
//! `api/`. It depends on the domain and the error type only, so that `api/` (the server functions),
//! `ui/` (the pages) and `backend/` (the services) can all depend on it and not on each other.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod exports;
pub mod fast_refunds;
pub mod home;
pub mod monitor;
pub mod operators;
pub mod refunds;
pub mod settlements;
pub mod terminals;
pub mod token;
pub mod transactions;
