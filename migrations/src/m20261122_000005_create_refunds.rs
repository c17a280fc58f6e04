//! Refund requests, fast refunds and their batches, the merchant ledger and idempotency keys.

use sea_orm_migration::prelude::*;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// pending_approval → approved | rejected | cancelled; approved (or directly) → submitted →
/// cleared | pending_clearing (→ cleared) → refunded | failed.
const REFUND_STATUSES: &[&str] = &[
    "pending_approval",
    "approved",
    "rejected",
    "cancelled",
    "submitted",
    "pending_clearing",
    "cleared",
    "refunded",
    "failed",
];
const FAST_REFUND_STATUSES: &[&str] = &["processing", "success", "failed", "exception"];
const LEDGER_ENTRY_TYPES: &[&str] = &[
    "settlement_credit",
    "refund_debit",
    "fast_refund_debit",
    "payout_debit",
    "adjustment_credit",
    "adjustment_debit",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("refund_requests")
                    .col(id())
                    .col(ref_id("merchant_id"))
                    .col(ref_id("original_txn_id"))
                    .col(fen("amount_fen"))
                    .col(text("currency").default("CNY"))
                    .col(text("reason_code"))
                    .col(text_null("reason_text"))
                    .col(text("status"))
                    .col(ref_id("requested_by"))
                    .col(ts("requested_at"))
                    .col(ref_id_null("approver_id"))
                    // Set when the approver's limit requires a second approval.
                    .col(ref_id_null("second_approver_id"))
                    .col(ts_null("decided_at"))
                    .col(text_null("decision_comment"))
                    .col(ts_null("submitted_at"))
                    .col(ts_null("cleared_at"))
                    .col(ref_id_null("settlement_id"))
                    // What the ledger lacked when the refund was held at clearing.
                    .col(fen_null("shortfall_fen"))
                    .col(text_null("failure_reason"))
                    .col(ts("updated_at"))
                    .check(check("ck_refund_requests_amount", "amount_fen > 0"))
                    .check(one_of(
                        "ck_refund_requests_status",
                        "status",
                        REFUND_STATUSES,
                    ))
                    .check(check(
                        "ck_refund_requests_shortfall",
                        "shortfall_fen IS NULL OR shortfall_fen > 0",
                    ))
                    .check(check(
                        "ck_refund_requests_self_approval",
                        "approver_id IS NULL OR approver_id <> requested_by",
                    ))
                    .foreign_key(&mut fk(
                        "refund_requests",
                        "merchant_id",
                        "merchants",
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "refund_requests",
                        "original_txn_id",
                        "transactions",
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "refund_requests",
                        "requested_by",
                        "operators",
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "refund_requests",
                        "approver_id",
                        "operators",
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "refund_requests",
                        "second_approver_id",
                        "operators",
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "refund_requests",
                        "settlement_id",
                        "settlements",
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        for idx in [
            index(
                "refund_requests_merchant_time",
                "refund_requests",
                &["merchant_id", "requested_at", "id"],
            ),
            index(
                "refund_requests_merchant_status",
                "refund_requests",
                &["merchant_id", "status", "id"],
            ),
            index(
                "refund_requests_original",
                "refund_requests",
                &["original_txn_id"],
            ),
        ] {
            manager.create_index(idx).await?;
        }

        // Every status change of a refund request: its history page.
        manager
            .create_table(
                Table::create()
                    .table("refund_events")
                    .col(id())
                    .col(ref_id("refund_request_id"))
                    .col(text_null("from_status"))
                    .col(text("to_status"))
                    .col(ref_id_null("operator_id"))
                    .col(text_null("comment"))
                    .col(ts("occurred_at"))
                    .check(one_of("ck_refund_events_to", "to_status", REFUND_STATUSES))
                    .foreign_key(&mut fk(
                        "refund_events",
                        "refund_request_id",
                        "refund_requests",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "refund_events",
                        "operator_id",
                        "operators",
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "refund_events_request",
                "refund_events",
                &["refund_request_id", "id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("fast_refund_batches")
                    .col(id())
                    .col(ref_id("merchant_id"))
                    .col(ref_id("uploaded_by"))
                    .col(ts("uploaded_at"))
                    .col(text("file_name"))
                    .col(bigint("item_count"))
                    .col(fen("total_fen"))
                    .check(check(
                        "ck_fast_refund_batches_counts",
                        "item_count > 0 AND total_fen > 0",
                    ))
                    .foreign_key(&mut fk(
                        "fast_refund_batches",
                        "merchant_id",
                        "merchants",
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fast_refund_batches",
                        "uploaded_by",
                        "operators",
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("fast_refunds")
                    .col(id())
                    .col(ref_id("merchant_id"))
                    .col(ref_id("original_txn_id"))
                    .col(ref_id_null("batch_id"))
                    .col(fen("amount_fen"))
                    .col(text("currency").default("CNY"))
                    .col(text("cardholder_name"))
                    .col(text("id_type"))
                    .col(text("id_number"))
                    .col(text("bank_code"))
                    .col(text("province"))
                    .col(text("city"))
                    .col(text("branch"))
                    .col(text("reason"))
                    .col(text("status").default("processing"))
                    // Why the bank rejected the cardholder data (status exception).
                    .col(text_null("bank_reason_code"))
                    .col(text_null("bank_reason_text"))
                    .col(date("due_date"))
                    .col(int("resubmission_count").default(0))
                    .col(ref_id("requested_by"))
                    .col(ts("requested_at"))
                    .col(ts_null("completed_at"))
                    .col(ts("updated_at"))
                    .check(check("ck_fast_refunds_amount", "amount_fen > 0"))
                    .check(one_of(
                        "ck_fast_refunds_status",
                        "status",
                        FAST_REFUND_STATUSES,
                    ))
                    .check(one_of(
                        "ck_fast_refunds_id_type",
                        "id_type",
                        &["resident_id", "passport", "other"],
                    ))
                    .check(check(
                        "ck_fast_refunds_resubmissions",
                        "resubmission_count >= 0",
                    ))
                    .foreign_key(&mut fk(
                        "fast_refunds",
                        "merchant_id",
                        "merchants",
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fast_refunds",
                        "original_txn_id",
                        "transactions",
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fast_refunds",
                        "batch_id",
                        "fast_refund_batches",
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fast_refunds",
                        "requested_by",
                        "operators",
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        for idx in [
            index(
                "fast_refunds_merchant_time",
                "fast_refunds",
                &["merchant_id", "requested_at", "id"],
            ),
            index(
                "fast_refunds_merchant_status",
                "fast_refunds",
                &["merchant_id", "status", "id"],
            ),
            index(
                "fast_refunds_original",
                "fast_refunds",
                &["original_txn_id"],
            ),
            index("fast_refunds_batch", "fast_refunds", &["batch_id"]),
        ] {
            manager.create_index(idx).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table("fast_refund_events")
                    .col(id())
                    .col(ref_id("fast_refund_id"))
                    .col(text_null("from_status"))
                    .col(text("to_status"))
                    .col(ref_id_null("operator_id"))
                    .col(text_null("comment"))
                    .col(ts("occurred_at"))
                    .check(one_of(
                        "ck_fast_refund_events_to",
                        "to_status",
                        FAST_REFUND_STATUSES,
                    ))
                    .foreign_key(&mut fk(
                        "fast_refund_events",
                        "fast_refund_id",
                        "fast_refunds",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fast_refund_events",
                        "operator_id",
                        "operators",
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "fast_refund_events_item",
                "fast_refund_events",
                &["fast_refund_id", "id"],
            ))
            .await?;

        // Append-only merchant ledger. Every entry records the balance after it, which never goes negative.
        manager
            .create_table(
                Table::create()
                    .table("ledger_entries")
                    .col(id())
                    .col(ref_id("merchant_id"))
                    .col(text("entry_type"))
                    .col(fen("amount_fen"))
                    .col(fen("balance_after_fen"))
                    .col(ref_id_null("settlement_id"))
                    .col(ref_id_null("refund_request_id"))
                    .col(ref_id_null("fast_refund_id"))
                    .col(text_null("memo"))
                    .col(ts("created_at"))
                    .check(one_of(
                        "ck_ledger_entries_type",
                        "entry_type",
                        LEDGER_ENTRY_TYPES,
                    ))
                    .check(check("ck_ledger_entries_amount", "amount_fen > 0"))
                    .check(check("ck_ledger_entries_balance", "balance_after_fen >= 0"))
                    .foreign_key(&mut fk(
                        "ledger_entries",
                        "merchant_id",
                        "merchants",
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "ledger_entries",
                        "settlement_id",
                        "settlements",
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "ledger_entries",
                        "refund_request_id",
                        "refund_requests",
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "ledger_entries",
                        "fast_refund_id",
                        "fast_refunds",
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ledger_entries_merchant",
                "ledger_entries",
                &["merchant_id", "id"],
            ))
            .await?;
        // A settlement is credited once, a refund debited once.
        manager
            .create_index(unique(
                "ledger_entries_settlement",
                "ledger_entries",
                &["settlement_id", "entry_type"],
            ))
            .await?;
        manager
            .create_index(unique(
                "ledger_entries_refund",
                "ledger_entries",
                &["refund_request_id", "entry_type"],
            ))
            .await?;
        manager
            .create_index(unique(
                "ledger_entries_fast_refund",
                "ledger_entries",
                &["fast_refund_id", "entry_type"],
            ))
            .await?;

        // Money-moving commands carry an idempotency key: a retry returns the first answer.
        manager
            .create_table(
                Table::create()
                    .table("idempotency_keys")
                    .col(id())
                    .col(ref_id("merchant_id"))
                    .col(ref_id("operator_id"))
                    .col(text("idem_key"))
                    // SHA-256 of the canonical request body: the same key with another body is refused.
                    .col(text("request_hash"))
                    .col(text_null("response_json"))
                    .col(ts("created_at"))
                    .check(check(
                        "ck_idempotency_keys_key",
                        "length(idem_key) BETWEEN 8 AND 128",
                    ))
                    .foreign_key(&mut fk(
                        "idempotency_keys",
                        "merchant_id",
                        "merchants",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "idempotency_keys",
                        "operator_id",
                        "operators",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique(
                "idempotency_keys_operator_key",
                "idempotency_keys",
                &["operator_id", "idem_key"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            &[
                "idempotency_keys",
                "ledger_entries",
                "fast_refund_events",
                "fast_refunds",
                "fast_refund_batches",
                "refund_events",
                "refund_requests",
            ],
        )
        .await
    }
}
