//! What refund requests use of a merchant's daily quota, and the approvers' amount limits.
//!
//! `refund_quota_days` holds, per merchant and day (in the merchant's time zone), the amount of the
//! refunds requested that day that still count (invariant 2: neither rejected, cancelled
//! nor failed). A request adds its amount with one conditional statement that only succeeds while the
//! sum stays within the quota, so concurrent requests can never pass it together; a rejection or a
//! cancellation gives the amount back to the day it was taken from (`refund_requests.quota_day`).
//!
//! `operators.refund_approval_limit_fen`: an approver's approval alone covers refunds up to this
//! amount; a larger one needs a second approver. NULL: no limit.

use sea_orm_migration::prelude::*;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("refund_quota_days")
                    .col(ref_id("merchant_id"))
                    .col(date("day"))
                    .col(fen("used_fen"))
                    .primary_key(Index::create().col("merchant_id").col("day"))
                    .check(check("ck_refund_quota_days_used", "used_fen >= 0"))
                    .foreign_key(&mut fk(
                        "refund_quota_days",
                        "merchant_id",
                        "merchants",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("refund_requests")
                    .add_column(date_null("quota_day"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("operators")
                    .add_column(fen_null("refund_approval_limit_fen"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("operators")
                    .drop_column("refund_approval_limit_fen")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("refund_requests")
                    .drop_column("quota_day")
                    .to_owned(),
            )
            .await?;
        drop_tables(manager, &["refund_quota_days"]).await
    }
}
