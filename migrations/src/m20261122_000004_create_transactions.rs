//! Card transactions and the settlements they are cleared into.
//!
//! The transaction indexes serve the searches: every list is confined to a merchant (or to
//! the terminals of an operator's groups) and ordered by time then id, read by keyset.

use sea_orm_migration::prelude::*;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TXN_TYPES: &[&str] = &[
    "purchase",
    "preauth",
    "preauth_completion",
    "void",
    "refund",
];
const TXN_STATUSES: &[&str] = &["success", "failed", "reversed"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("settlements")
                    .col(id())
                    .col(ref_id("merchant_id"))
                    .col(ref_id("merchant_number_id"))
                    .col(date("settlement_date"))
                    // The covered period [period_start, period_end) in UTC.
                    .col(ts("period_start"))
                    .col(ts("period_end"))
                    .col(bigint("txn_count"))
                    .col(bigint("refund_count").default(0))
                    .col(fen("gross_fen"))
                    .col(fen("refund_fen"))
                    .col(fen("fee_fen"))
                    .col(fen("net_fen"))
                    .col(text("currency").default("CNY"))
                    .col(text("status").default("pending"))
                    .col(text("account_masked"))
                    .col(ts("created_at"))
                    .col(ts_null("paid_at"))
                    .check(check(
                        "ck_settlements_counts",
                        "txn_count >= 0 AND refund_count >= 0",
                    ))
                    .check(check(
                        "ck_settlements_amounts",
                        "gross_fen >= 0 AND refund_fen >= 0 AND fee_fen >= 0",
                    ))
                    .check(check(
                        "ck_settlements_net",
                        "net_fen = gross_fen - refund_fen - fee_fen",
                    ))
                    .check(check("ck_settlements_period", "period_start < period_end"))
                    .check(one_of(
                        "ck_settlements_status",
                        "status",
                        &["pending", "paid"],
                    ))
                    .foreign_key(&mut fk(
                        "settlements",
                        "merchant_id",
                        "merchants",
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "settlements",
                        "merchant_number_id",
                        "merchant_numbers",
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        // One settlement per merchant number and day: what makes clearing idempotent.
        manager
            .create_index(unique(
                "settlements_number_date",
                "settlements",
                &["merchant_number_id", "settlement_date"],
            ))
            .await?;
        manager
            .create_index(index(
                "settlements_merchant_date",
                "settlements",
                &["merchant_id", "settlement_date", "id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("transactions")
                    .col(id())
                    .col(ref_id("merchant_id"))
                    .col(ref_id("merchant_number_id"))
                    .col(ref_id("terminal_id"))
                    .col(text("txn_type"))
                    .col(text("status"))
                    // Never more than the first 6 and last 4 digits; the full PAN is not stored here.
                    .col(text("card_masked"))
                    .col(text("card_last4"))
                    .col(text("card_org"))
                    .col(text("card_type"))
                    .col(text("issuer_bank"))
                    .col(fen("amount_fen"))
                    // Set by clearing.
                    .col(fen_null("fee_fen"))
                    .col(text("currency").default("CNY"))
                    .col(ts("txn_time"))
                    // The merchant-local business date of txn_time.
                    .col(date("txn_date"))
                    .col(text_null("auth_code"))
                    .col(text("reference_no"))
                    .col(text("voucher_no"))
                    .col(text("batch_no"))
                    .col(ref_id_null("original_txn_id"))
                    .col(ref_id_null("settlement_id"))
                    .col(date_null("settlement_date"))
                    // Refunds already cleared, and refunds requested but not final (invariant 1).
                    .col(fen("refunded_fen").default(0))
                    .col(fen("refund_pending_fen").default(0))
                    .col(ts("created_at"))
                    .check(one_of("ck_transactions_type", "txn_type", TXN_TYPES))
                    .check(one_of("ck_transactions_status", "status", TXN_STATUSES))
                    .check(one_of("ck_transactions_card_org", "card_org", CARD_ORGS))
                    .check(one_of("ck_transactions_card_type", "card_type", CARD_TYPES))
                    .check(check(
                        "ck_transactions_card_last4",
                        "length(card_last4) = 4",
                    ))
                    .check(check("ck_transactions_amount", "amount_fen > 0"))
                    .check(check(
                        "ck_transactions_fee",
                        "fee_fen IS NULL OR fee_fen >= 0",
                    ))
                    .check(check(
                        "ck_transactions_refunds",
                        "refunded_fen >= 0 AND refund_pending_fen >= 0 \
                         AND refunded_fen + refund_pending_fen <= amount_fen",
                    ))
                    .foreign_key(&mut fk(
                        "transactions",
                        "merchant_id",
                        "merchants",
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "transactions",
                        "merchant_number_id",
                        "merchant_numbers",
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "transactions",
                        "terminal_id",
                        "terminals",
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "transactions",
                        "original_txn_id",
                        "transactions",
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "transactions",
                        "settlement_id",
                        "settlements",
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        for idx in [
            // Merchant-wide search, newest first, keyset on (txn_time, id).
            index(
                "transactions_merchant_time",
                "transactions",
                &["merchant_id", "txn_time", "id"],
            ),
            // Group-scoped search and the terminal filter.
            index(
                "transactions_terminal_time",
                "transactions",
                &["terminal_id", "txn_time", "id"],
            ),
            // Merchant-number filter and clearing of one merchant number's day.
            index(
                "transactions_number_time",
                "transactions",
                &["merchant_number_id", "txn_time", "id"],
            ),
            index(
                "transactions_reference",
                "transactions",
                &["merchant_id", "reference_no"],
            ),
            index(
                "transactions_card_last4",
                "transactions",
                &["merchant_id", "card_last4", "txn_time"],
            ),
            index(
                "transactions_settlement",
                "transactions",
                &["settlement_id"],
            ),
            // A terminal never reuses a voucher (trace) number within a batch.
            unique(
                "transactions_terminal_voucher",
                "transactions",
                &["terminal_id", "batch_no", "voucher_no"],
            ),
        ] {
            manager.create_index(idx).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["transactions", "settlements"]).await
    }
}
