//! sea-orm entities, one per table, matching the migrations in `migrations/`.

pub mod audit_chain_head;
pub mod audit_events;
pub mod captchas;
pub mod clearing_holds;
pub mod export_jobs;
pub mod fee_rates;
pub mod ledger_entries;
pub mod merchant_numbers;
pub mod merchants;
pub mod operator_certificates;
pub mod operator_roles;
pub mod operator_terminal_groups;
pub mod operators;
pub mod password_history;
pub mod role_functions;
pub mod sessions;
pub mod settlements;
pub mod terminal_group_members;
pub mod terminal_groups;
pub mod terminals;
pub mod totp_tokens;
pub mod transaction_day_tallies;
pub mod transaction_tallies;
pub mod transactions;
