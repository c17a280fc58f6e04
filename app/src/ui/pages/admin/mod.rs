//! System management pages (manual §3.7).

pub mod operators;
pub mod roles;
