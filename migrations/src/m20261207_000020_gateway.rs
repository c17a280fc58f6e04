//! The terminal gateway: a terminal's batches (opened at sign-in, closed at sign-out with the totals
//! the terminal declared beside the host's own), and the answer given to each payment message, kept
//! under the message's key (terminal, batch, voucher) so that a repeat gets the same answer and
//! creates nothing. And a deposit's outside reference on the ledger, unique per merchant, so that a
//! deposit entered twice credits once.

use sea_orm_migration::prelude::*;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

pub const BATCH_STATUSES: &[&str] = &["open", "closed", "out_of_balance"];
pub const MESSAGE_KINDS: &[&str] = &["sale", "void", "refund"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("terminal_batches")
                    .col(id())
                    .col(ref_id("terminal_id"))
                    .col(text("batch_no"))
                    .col(text("status").default("open"))
                    .col(ts("opened_at"))
                    .col(ts_null("closed_at"))
                    // Totals per type as JSON ({"sale": {"count": n, "amount_fen": f}, …}): what the
                    // terminal declared at sign-out and what the host recorded for the batch.
                    .col(text_null("declared_totals"))
                    .col(text_null("host_totals"))
                    .check(check("ck_terminal_batches_no", "length(batch_no) = 6"))
                    .check(one_of(
                        "ck_terminal_batches_status",
                        "status",
                        BATCH_STATUSES,
                    ))
                    .foreign_key(&mut fk(
                        "terminal_batches",
                        "terminal_id",
                        "terminals",
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique(
                "terminal_batches_number",
                "terminal_batches",
                &["terminal_id", "batch_no"],
            ))
            .await?;
        // At most one open batch per terminal, whatever two sign-ins race.
        manager
            .create_index(
                unique(
                    "terminal_batches_open",
                    "terminal_batches",
                    &["terminal_id"],
                )
                .and_where(Expr::cust("status = 'open'"))
                .take(),
            )
            .await?;
        // The batches a terminal's page lists as out of balance.
        manager
            .create_index(
                index(
                    "terminal_batches_out_of_balance",
                    "terminal_batches",
                    &["terminal_id", "closed_at"],
                )
                .and_where(Expr::cust("status = 'out_of_balance'"))
                .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("gateway_messages")
                    .col(id())
                    .col(ref_id("terminal_id"))
                    .col(text("batch_no"))
                    .col(text("voucher_no"))
                    .col(text("kind"))
                    // SHA-256 of the message as received (the card number in it never stored).
                    .col(text("request_hash"))
                    .col(text("response_json"))
                    // The transaction the message booked, written in the same database transaction
                    // just after this row (whose key must come first): no foreign key, which would
                    // want the transaction before it.
                    .col(ref_id("transaction_id"))
                    .col(ts("created_at"))
                    .check(one_of("ck_gateway_messages_kind", "kind", MESSAGE_KINDS))
                    .foreign_key(&mut fk(
                        "gateway_messages",
                        "terminal_id",
                        "terminals",
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique(
                "gateway_messages_key",
                "gateway_messages",
                &["terminal_id", "batch_no", "voucher_no"],
            ))
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table("ledger_entries")
                    .add_column(text_null("reference"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                unique(
                    "ledger_entries_reference",
                    "ledger_entries",
                    &["merchant_id", "reference"],
                )
                .and_where(Expr::col("reference").is_not_null())
                .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ux_ledger_entries_reference")
                    .table("ledger_entries")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("ledger_entries")
                    .drop_column("reference")
                    .to_owned(),
            )
            .await?;
        drop_tables(manager, &["gateway_messages", "terminal_batches"]).await
    }
}
