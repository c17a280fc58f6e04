//! Transaction tallies per merchant number, business day, type, status, card organisation, card
//! type and settlement, kept by triggers on `transactions`: see [`crate::tallies`], which holds the
//! SQL of this migration's triggers.

use sea_orm_migration::prelude::*;

use crate::helpers::*;
use crate::tallies::TRANSACTION_TALLIES as TALLY;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("transaction_tallies")
                    .col(id())
                    .col(ref_id("merchant_id"))
                    .col(date("txn_date"))
                    .col(ref_id("merchant_number_id"))
                    .col(text("txn_type"))
                    .col(text("status"))
                    .col(text("card_org"))
                    .col(text("card_type"))
                    // 0 while the transactions are not settled (a key column cannot be NULL).
                    .col(ref_id("settlement_id"))
                    .col(date_null("settlement_date"))
                    .col(bigint("txn_count"))
                    .col(fen("amount_fen"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique(
                "transaction_tallies_key",
                "transaction_tallies",
                TALLY.key,
            ))
            .await?;
        TALLY.install(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        TALLY.uninstall(manager).await?;
        drop_tables(manager, &["transaction_tallies"]).await
    }
}
