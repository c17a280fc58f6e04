//! System management pages (manual §3.7).

pub mod audit;
pub mod groups;
pub mod operators;
pub mod roles;
pub mod terminals;
