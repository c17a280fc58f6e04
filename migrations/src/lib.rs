//! Database migrations of the VPOS merchant console.
//!
//! Every migration is written with the sea-query schema builder so that one definition runs on SQLite
//! and PostgreSQL; only triggers, which have no portable form, are written in each backend's SQL
//! (the transaction tallies, in [`tallies`]). Once a migration has been released what it does never
//! changes: a change is a new migration (migration 10's trigger SQL moved to [`tallies`] unchanged,
//! which a unit test there checks).
//! Status columns hold fixed codes guarded by named CHECK constraints (`ck_<table>_<rule>`), money
//! columns hold integer fen, timestamps are UTC.

pub use sea_orm_migration::prelude::*;

mod helpers;

mod m20261122_000001_create_merchants;
mod m20261122_000002_create_access_control;
mod m20261122_000003_create_terminals;
mod m20261122_000004_create_transactions;
mod m20261122_000005_create_refunds;
mod m20261122_000006_create_audit_and_jobs;
mod m20261122_000007_seed_roles;
mod m20261122_000008_create_sessions;
mod m20261122_000009_clearing_indexes;
mod m20261202_000010_transaction_tallies;
mod m20261203_000011_day_tallies;
mod m20261203_000012_reversal_indexes;
mod m20261204_000013_refund_quota;
mod m20261204_000014_terminal_tallies;
mod m20261204_000015_lookup_indexes;
mod m20261205_000016_bank_tallies;
mod m20261206_000017_audit_append_only;
mod m20261206_000018_login_prefixes;
mod m20261206_000019_fine_tallies;
mod m20261207_000020_gateway;
mod m20261207_000021_fast_refund_dispatch;
mod m20261207_000022_export_leases;
pub mod tallies;

pub use m20261122_000008_create_sessions::GENESIS_HASH;
pub use m20261203_000012_reversal_indexes::REVERSALS;
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_merchants::Migration),
            Box::new(m20261122_000002_create_access_control::Migration),
            Box::new(m20261122_000003_create_terminals::Migration),
            Box::new(m20261122_000004_create_transactions::Migration),
            Box::new(m20261122_000005_create_refunds::Migration),
            Box::new(m20261122_000006_create_audit_and_jobs::Migration),
            Box::new(m20261122_000007_seed_roles::Migration),
            Box::new(m20261122_000008_create_sessions::Migration),
            Box::new(m20261122_000009_clearing_indexes::Migration),
            Box::new(m20261202_000010_transaction_tallies::Migration),
            Box::new(m20261203_000011_day_tallies::Migration),
            Box::new(m20261203_000012_reversal_indexes::Migration),
            Box::new(m20261204_000013_refund_quota::Migration),
            Box::new(m20261204_000014_terminal_tallies::Migration),
            Box::new(m20261204_000015_lookup_indexes::Migration),
            Box::new(m20261205_000016_bank_tallies::Migration),
            Box::new(m20261206_000017_audit_append_only::Migration),
            Box::new(m20261206_000018_login_prefixes::Migration),
            Box::new(m20261206_000019_fine_tallies::Migration),
            Box::new(m20261207_000020_gateway::Migration),
            Box::new(m20261207_000021_fast_refund_dispatch::Migration),
            Box::new(m20261207_000022_export_leases::Migration),
        ]
    }
}
