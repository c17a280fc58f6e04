//! Indexes for the searches that look one payment up: by its amount (a cardholder's "I paid 128.50")
//! and by its authorisation code (from the slip or the issuer).
//!
//! Without them such a search walks all of a merchant's transactions of the days searched to find a
//! handful: seconds for a large merchant's month. The amount index keeps time and id after the amount,
//! so that one amount's transactions come newest first, ready for the keyset. A declined transaction
//! has no authorisation code, so that index holds only the transactions that have one.

use sea_orm_migration::prelude::*;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const AMOUNT: &str = "transactions_merchant_amount";
const AUTH_CODE: &str = "transactions_merchant_auth_code";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(index(
                AMOUNT,
                "transactions",
                &["merchant_id", "amount_fen", "txn_time", "id"],
            ))
            .await?;
        manager
            .create_index(
                index(AUTH_CODE, "transactions", &["merchant_id", "auth_code"])
                    .and_where(Expr::col("auth_code").is_not_null())
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in [AMOUNT, AUTH_CODE] {
            manager
                .drop_index(
                    Index::drop()
                        .name(format!("ix_{name}"))
                        .table("transactions")
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
