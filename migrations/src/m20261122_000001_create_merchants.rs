//! Merchants (the tenants), their merchant numbers (one per store of a chain) and fee rates.

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
                    .table("merchants")
                    .col(id())
                    // Platform-assigned merchant code, e.g. "M00000001": how operations name a merchant.
                    .col(text("code").unique_key())
                    .col(text("name"))
                    .col(text("currency").default("CNY"))
                    .col(text("time_zone").default("Asia/Shanghai"))
                    .col(text("settlement_bank"))
                    // Only ever the masked account number; the full one lives with the acquirer.
                    .col(text("settlement_account_masked"))
                    .col(int("settlement_cycle_days").default(1))
                    .col(text("refund_mode").default("direct"))
                    .col(boolean("refund_requires_token").default(false))
                    .col(fen("daily_refund_quota_fen"))
                    .col(int("refund_window_days").default(180))
                    .col(boolean("fast_refund_agreement").default(false))
                    // Ledger balance, kept equal to the last ledger entry's balance_after_fen.
                    .col(fen("balance_fen").default(0))
                    .col(text("status").default("active"))
                    .col(text_null("contact_name"))
                    .col(text_null("contact_phone"))
                    .col(text_null("address"))
                    .col(ts("created_at"))
                    .col(ts("updated_at"))
                    .check(check("ck_merchants_currency", "length(currency) = 3"))
                    .check(check(
                        "ck_merchants_settlement_cycle",
                        "settlement_cycle_days BETWEEN 0 AND 30",
                    ))
                    .check(one_of(
                        "ck_merchants_refund_mode",
                        "refund_mode",
                        &["direct", "approval"],
                    ))
                    .check(check("ck_merchants_quota", "daily_refund_quota_fen >= 0"))
                    .check(check(
                        "ck_merchants_refund_window",
                        "refund_window_days BETWEEN 1 AND 3650",
                    ))
                    .check(check("ck_merchants_balance", "balance_fen >= 0"))
                    .check(one_of(
                        "ck_merchants_status",
                        "status",
                        &["active", "suspended"],
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("merchant_numbers")
                    .col(id())
                    .col(ref_id("merchant_id"))
                    // The 15-digit acquirer merchant number printed on slips.
                    .col(text("merchant_no").unique_key())
                    .col(text("name"))
                    .col(text_null("address"))
                    .col(text("status").default("active"))
                    .col(ts("created_at"))
                    .check(check("ck_merchant_numbers_no", "length(merchant_no) = 15"))
                    .check(one_of(
                        "ck_merchant_numbers_status",
                        "status",
                        &["active", "closed"],
                    ))
                    .foreign_key(&mut fk(
                        "merchant_numbers",
                        "merchant_id",
                        "merchants",
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "merchant_numbers_merchant",
                "merchant_numbers",
                &["merchant_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("fee_rates")
                    .col(id())
                    .col(ref_id("merchant_id"))
                    .col(text("card_org"))
                    .col(text("card_type"))
                    // Rate in parts per million of the amount: 0.38 % is 3800.
                    .col(int("rate_ppm"))
                    // Optional cap per transaction (e.g. debit cards), in fen.
                    .col(fen_null("cap_fen"))
                    .check(one_of("ck_fee_rates_card_org", "card_org", CARD_ORGS))
                    .check(one_of("ck_fee_rates_card_type", "card_type", CARD_TYPES))
                    .check(check("ck_fee_rates_rate", "rate_ppm BETWEEN 0 AND 100000"))
                    .check(check("ck_fee_rates_cap", "cap_fen IS NULL OR cap_fen > 0"))
                    .foreign_key(&mut fk(
                        "fee_rates",
                        "merchant_id",
                        "merchants",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique(
                "fee_rates_merchant_card",
                "fee_rates",
                &["merchant_id", "card_org", "card_type"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["fee_rates", "merchant_numbers", "merchants"]).await
    }
}
