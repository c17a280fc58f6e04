//! sea-orm entities, one per table, matching the migrations in `migrations/`.

pub mod fee_rates;
pub mod merchant_numbers;
pub mod merchants;
pub mod operator_certificates;
pub mod operator_roles;
pub mod operators;
pub mod terminal_group_members;
pub mod terminal_groups;
pub mod terminals;
