//! Sign-in state: server-side sessions, one-use captchas, the password history and the head of the
//! audit chain.

use sea_orm_migration::prelude::*;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The `prev_hash` of the first audit event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A signed-in browser. The cookie holds a random token; the table holds only its SHA-256, so a
        // copy of the database does not sign anybody in.
        manager
            .create_table(
                Table::create()
                    .table("sessions")
                    .col(text("token_hash").primary_key())
                    .col(ref_id("operator_id"))
                    .col(ref_id("merchant_id"))
                    // The certificate the session was opened with; another certificate cannot use it.
                    .col(text("cert_fingerprint"))
                    .col(text("remote_addr"))
                    .col(ts("created_at"))
                    .col(ts("last_seen_at"))
                    // created_at + the absolute limit.
                    .col(ts("expires_at"))
                    .col(ts_null("ended_at"))
                    .col(text_null("end_reason"))
                    .check(check("ck_sessions_token_hash", "length(token_hash) = 64"))
                    .check(one_of(
                        "ck_sessions_end_reason",
                        "end_reason",
                        &[
                            "logout",
                            "idle",
                            "expired",
                            "password_changed",
                            "operator_changed",
                            "certificate",
                        ],
                    ))
                    .check(check(
                        "ck_sessions_ended",
                        "(ended_at IS NULL) = (end_reason IS NULL)",
                    ))
                    .foreign_key(&mut fk(
                        "sessions",
                        "operator_id",
                        "operators",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "sessions",
                        "merchant_id",
                        "merchants",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "sessions_operator",
                "sessions",
                &["operator_id", "ended_at"],
            ))
            .await?;

        // The "additional code" of the sign-in form. The answer stays on the server; a captcha is used
        // at most once and expires after a few minutes.
        manager
            .create_table(
                Table::create()
                    .table("captchas")
                    .col(text("id").primary_key())
                    .col(text("answer"))
                    .col(ts("created_at"))
                    .col(ts("expires_at"))
                    .col(ts_null("used_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("captchas_expiry", "captchas", &["expires_at"]))
            .await?;

        // Every password an operator has had, newest last: a new password may not be one of the last 4.
        manager
            .create_table(
                Table::create()
                    .table("password_history")
                    .col(id())
                    .col(ref_id("operator_id"))
                    .col(text("password_hash"))
                    .col(ts("created_at"))
                    .foreign_key(&mut fk(
                        "password_history",
                        "operator_id",
                        "operators",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "password_history_operator",
                "password_history",
                &["operator_id", "id"],
            ))
            .await?;

        // One row: the sequence number and hash of the newest audit event. Appending locks this row, so
        // concurrent writers extend the chain one after the other; deleting the newest event is
        // detected because the head still names it.
        manager
            .create_table(
                Table::create()
                    .table("audit_chain_head")
                    .col(int("id").primary_key())
                    .col(bigint("seq"))
                    .col(text("hash"))
                    .check(check("ck_audit_chain_head_single", "id = 1"))
                    .check(check("ck_audit_chain_head_seq", "seq >= 0"))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table("audit_chain_head")
                    .columns(["id", "seq", "hash"])
                    .values_panic([1.into(), 0i64.into(), GENESIS_HASH.into()])
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            &[
                "audit_chain_head",
                "password_history",
                "captchas",
                "sessions",
            ],
        )
        .await
    }
}
