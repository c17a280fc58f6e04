//! Clearing's held refunds, and indexes for clearing and for the settlement and transaction searches.

use sea_orm_migration::prelude::*;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // POS refunds that a day's clearing could not cover from the balance: each later run tries them
        // again, and the settlement of the day that covers them lists them.
        manager
            .create_table(
                Table::create()
                    .table("clearing_holds")
                    .col(ref_id("transaction_id").primary_key())
                    .col(ref_id("merchant_number_id"))
                    .col(date("held_since"))
                    .col(fen("shortfall_fen"))
                    .check(check("ck_clearing_holds_shortfall", "shortfall_fen > 0"))
                    .foreign_key(&mut fk(
                        "clearing_holds",
                        "transaction_id",
                        "transactions",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "clearing_holds",
                        "merchant_number_id",
                        "merchant_numbers",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "clearing_holds_number",
                "clearing_holds",
                &["merchant_number_id"],
            ))
            .await?;
        for idx in [
            // Clearing leaves out sales voided on their day; refund requests list a sale's refunds.
            index(
                "transactions_original",
                "transactions",
                &["original_txn_id"],
            ),
            // The settlement-date filter of the transaction search and its summary tab.
            index(
                "transactions_merchant_settlement_date",
                "transactions",
                &["merchant_id", "settlement_date"],
            ),
            // A settlement's transaction list in time order, read by keyset.
            index(
                "transactions_settlement_time",
                "transactions",
                &["settlement_id", "txn_time", "id"],
            ),
        ] {
            manager.create_index(idx).await?;
        }
        // Replaced by the one above, which serves the same lookups.
        manager
            .drop_index(
                Index::drop()
                    .name("ix_transactions_settlement")
                    .table("transactions")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(index(
                "transactions_settlement",
                "transactions",
                &["settlement_id"],
            ))
            .await?;
        for name in [
            "ix_transactions_settlement_time",
            "ix_transactions_merchant_settlement_date",
            "ix_transactions_original",
        ] {
            manager
                .drop_index(Index::drop().name(name).table("transactions").to_owned())
                .await?;
        }
        drop_tables(manager, &["clearing_holds"]).await
    }
}
