//! System management pages (manual §3.7).

pub mod roles;
