//! Fine terminal and bank tallies: a search confined to terminals (a terminal or group filter, an
//! operator scoped to terminal groups) or to an issuing bank had its summaries by settlement date and
//! by card organisation, and its filters on those columns, counted from the transactions, as was
//! every summary of a bank within terminals: a second and more for a busy group's month on
//! PostgreSQL. These tallies add the card organisation, card type and settlement (and, per terminal,
//! the bank) to the keys of the terminal and bank tallies (see [`crate::tallies`]); like the
//! transaction tallies, clearing on PostgreSQL moves them itself.

use sea_orm_migration::prelude::*;

use crate::helpers::*;
use crate::tallies::{BANK_FINE_TALLIES, TERMINAL_FINE_TALLIES};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        TERMINAL_FINE_TALLIES.create_keyed(manager).await?;
        BANK_FINE_TALLIES.create_keyed(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for tally in [BANK_FINE_TALLIES, TERMINAL_FINE_TALLIES] {
            tally.uninstall(manager).await?;
            drop_tables(manager, &[tally.table]).await?;
        }
        Ok(())
    }
}
