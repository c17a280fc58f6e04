//! Bank tallies and a batch index: the two advanced filters whose total was still counted.
//!
//! A search by issuing bank counted the matching transactions of the merchant's days for its total and
//! its summaries (a second for a large merchant's month on PostgreSQL); the bank tallies (per
//! merchant, bank, day, merchant number, type and status, kept by triggers like the others, see
//! [`crate::tallies`]) hold it in a few rows per bank and day. A batch number is a terminal's, so a
//! merchant-wide search by batch finds one batch on each of a few terminals: the index takes it to
//! them, newest first, instead of through all of the merchant's days.

use sea_orm_migration::prelude::*;

use crate::helpers::*;
use crate::tallies::BANK_TALLIES as TALLY;

#[derive(DeriveMigrationName)]
pub struct Migration;

const BATCH: &str = "transactions_merchant_batch";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        TALLY.create_keyed(manager).await?;
        manager
            .create_index(index(
                BATCH,
                "transactions",
                &["merchant_id", "batch_no", "txn_time", "id"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(format!("ix_{BATCH}"))
                    .table("transactions")
                    .to_owned(),
            )
            .await?;
        TALLY.uninstall(manager).await?;
        drop_tables(manager, &[TALLY.table]).await
    }
}
