//! Partial indexes: an index on a column that most rows leave NULL holds only the rows that have it,
//! and the voids and refunds of a merchant number's day have an index of their own.
//!
//! Clearing marks every sale of a day with its settlement, which writes a new entry into each index
//! of `transactions`. The link to an original sale is NULL for every sale, the settlement columns for
//! every transaction until it is cleared: each of those indexes held an entry per row that no lookup
//! (`original_txn_id = ?`, `settlement_id = ?`, a settlement date compared) can find. Clearing also
//! found a day's refunds by reading every transaction of the number's day.

use sea_orm_migration::prelude::*;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The condition of the reversals index, which a query repeats word for word to use it (SQLite
/// matches a partial index's condition by the query's text).
pub const REVERSALS: &str = "txn_type IN ('refund', 'void')";

/// The indexes this migration makes partial: (name, columns, the column whose rows they keep).
const PARTIAL: [(&str, &[&str], &str); 3] = [
    (
        "transactions_original",
        &["original_txn_id"],
        "original_txn_id",
    ),
    (
        "transactions_merchant_settlement_date",
        &["merchant_id", "settlement_date"],
        "settlement_date",
    ),
    (
        "transactions_settlement_time",
        &["settlement_id", "txn_time", "id"],
        "settlement_id",
    ),
];

fn reversals() -> IndexCreateStatement {
    index(
        "transactions_number_reversals",
        "transactions",
        &["merchant_number_id", "txn_time"],
    )
    .and_where(Expr::cust(REVERSALS))
    .take()
}

fn drop(name: &str) -> IndexDropStatement {
    Index::drop()
        .name(format!("ix_{name}"))
        .table("transactions")
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, cols, set) in PARTIAL {
            manager.drop_index(drop(name)).await?;
            manager
                .create_index(
                    index(name, "transactions", cols)
                        .and_where(Expr::col(set).is_not_null())
                        .take(),
                )
                .await?;
        }
        manager.create_index(reversals()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(drop("transactions_number_reversals"))
            .await?;
        for (name, cols, _) in PARTIAL {
            manager.drop_index(drop(name)).await?;
            manager
                .create_index(index(name, "transactions", cols))
                .await?;
        }
        Ok(())
    }
}
