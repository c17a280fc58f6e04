//! What fast refunds need beyond their first tables: the merchant's day whose refund quota an item
//! uses (normal and fast refunds share it, given back to that day when the bank fails the item);
//! the bank dispatch of each item, so that several instances' workers send each item once (an
//! instance claims an unsent item until `claimed_until`, then records when the bank took it and
//! under which reference); and a batch's file hash, so that the same file uploaded twice is
//! recognised. And the uploads of batch files waiting for the operator's decision: what was read
//! of the file (the rows that can be sent, the problems of the others), kept until the batch is
//! submitted or the upload cancelled or a day old.

use sea_orm_migration::prelude::*;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        for column in [
            date_null("quota_day"),
            ts_null("claimed_until"),
            ts_null("sent_at"),
            text_null("bank_reference"),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table("fast_refunds")
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        // The worker's question: which items in processing are not yet with the bank, or wait for
        // its answer.
        manager
            .create_index(index(
                "fast_refunds_dispatch",
                "fast_refunds",
                &["status", "sent_at", "id"],
            ))
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("fast_refund_batches")
                    .add_column(text_null("file_sha256"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique(
                "fast_refund_batches_file",
                "fast_refund_batches",
                &["merchant_id", "file_sha256"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("fast_refund_uploads")
                    .col(id())
                    .col(ref_id("merchant_id"))
                    .col(ref_id("operator_id"))
                    .col(text("file_name"))
                    .col(text("file_sha256"))
                    .col(ts("uploaded_at"))
                    // JSON: the file's problem when it could not be read at all, else null.
                    .col(text_null("file_problem"))
                    // JSON: the rows that can be sent, and every problem of the others.
                    .col(text("valid_rows"))
                    .col(text("row_problems"))
                    .col(bigint("row_count"))
                    .col(bigint("valid_count"))
                    .col(fen("valid_fen"))
                    .foreign_key(&mut fk(
                        "fast_refund_uploads",
                        "merchant_id",
                        "merchants",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fast_refund_uploads",
                        "operator_id",
                        "operators",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "fast_refund_uploads_time",
                "fast_refund_uploads",
                &["uploaded_at"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["fast_refund_uploads"]).await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ux_fast_refund_batches_file")
                    .table("fast_refund_batches")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("fast_refund_batches")
                    .drop_column("file_sha256")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_fast_refunds_dispatch")
                    .table("fast_refunds")
                    .to_owned(),
            )
            .await?;
        for column in ["bank_reference", "sent_at", "claimed_until", "quota_day"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("fast_refunds")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
