//! Terminal tallies: count and amount of the transactions per merchant, terminal, business day,
//! merchant number, type and status, kept by triggers on `transactions` like the other tallies (see
//! [`crate::tallies`]).
//!
//! A search confined to terminals (a terminal or terminal-group filter, or an operator scoped to
//! terminal groups) had its total and summaries counted from the transactions: hundreds of
//! milliseconds for a busy group's month. Here it adds up a few rows per terminal and day. The key is
//! the primary key, terminal before day, so that each terminal's days lie together (on SQLite a table
//! without rowids).

use sea_orm_migration::prelude::*;

use crate::helpers::*;
use crate::tallies::TERMINAL_TALLIES as TALLY;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        TALLY.create_keyed(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        TALLY.uninstall(manager).await?;
        drop_tables(manager, &[TALLY.table]).await
    }
}
