//! Integration tests: services and migrations on a fresh database per test (SQLite, and PostgreSQL
//! when `TEST_DATABASE_URL` is set), HTTP over real mutual TLS, and the `vpos` command line.

mod support;

mod access;
mod assets;
mod audit;
mod audit_log;
mod auth;
mod clearing;
mod cli;
mod crashes;
mod demo;
mod exports;
mod fast_refund_batch;
mod fast_refunds;
mod gateway;
mod home;
mod instances;
mod migrations;
mod monitor;
mod mtls;
mod operations;
mod operators;
mod platform;
mod refund_property;
mod refunds;
mod search_pool;
mod settlements;
mod tallies;
mod terminals;
mod token;
mod transactions;
