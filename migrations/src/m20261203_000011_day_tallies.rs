//! Day tallies: count and amount of the transactions per merchant, business day, type and status,
//! kept by triggers on `transactions` like the transaction tallies (see [`crate::tallies`]).
//!
//! The total of the everyday search (a range of days, perhaps a type or a status) adds up a few rows
//! per day here instead of the hundreds of the finer transaction tallies. The key is the primary key
//! (on SQLite a table without rowids: the rows of one merchant's days lie together).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::helpers::*;
use crate::tallies::DAY_TALLIES as TALLY;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut key = Index::create();
        for col in TALLY.key {
            key.col(*col);
        }
        let mut table = Table::create();
        table
            .table(TALLY.table)
            .col(ref_id("merchant_id"))
            .col(date("txn_date"))
            .col(text("txn_type"))
            .col(text("status"))
            .col(bigint("txn_count"))
            .col(fen("amount_fen"))
            .primary_key(&mut key);
        if manager.get_database_backend() == DbBackend::Sqlite {
            table.extra("WITHOUT ROWID");
        }
        manager.create_table(table).await?;
        TALLY.install(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        TALLY.uninstall(manager).await?;
        drop_tables(manager, &[TALLY.table]).await
    }
}
