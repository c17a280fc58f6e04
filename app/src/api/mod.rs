//! Server functions, one file per area. Each authorises, parses its input into domain types, calls one
//! service and returns a view type.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod exports;
pub mod home;
pub mod operators;
pub mod refunds;
pub mod settlements;
pub mod token;
pub mod transactions;
