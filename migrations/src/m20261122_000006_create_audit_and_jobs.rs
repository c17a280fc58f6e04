//! The audit log (append-only, hash-chained) and background export jobs.

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
                    .table("audit_events")
                    .col(id())
                    .col(ts("occurred_at"))
                    .col(ref_id_null("merchant_id"))
                    .col(ref_id_null("operator_id"))
                    // The login name as typed, also for failed sign-ins of unknown names.
                    .col(text_null("login_name"))
                    .col(text_null("cert_fingerprint"))
                    .col(text_null("remote_addr"))
                    .col(text("action"))
                    .col(text_null("object_type"))
                    .col(text_null("object_id"))
                    .col(text("outcome"))
                    // JSON: before/after or the reason of a refusal. Never secrets.
                    .col(text_null("detail"))
                    // Each record is chained to the previous one: hash = SHA-256(prev_hash || record).
                    .col(text("prev_hash"))
                    .col(text("hash").unique_key())
                    .check(one_of(
                        "ck_audit_events_outcome",
                        "outcome",
                        &["success", "failure", "denied"],
                    ))
                    .check(check(
                        "ck_audit_events_hash",
                        "length(hash) = 64 AND length(prev_hash) = 64",
                    ))
                    .foreign_key(&mut fk(
                        "audit_events",
                        "merchant_id",
                        "merchants",
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "audit_events",
                        "operator_id",
                        "operators",
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "audit_events_merchant_time",
                "audit_events",
                &["merchant_id", "occurred_at", "id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("export_jobs")
                    .col(id())
                    .col(ref_id("merchant_id"))
                    .col(ref_id("operator_id"))
                    .col(text("kind"))
                    // The filters of the search being exported, as JSON.
                    .col(text("filters"))
                    .col(text("status").default("queued"))
                    .col(bigint_null("total_rows"))
                    .col(bigint("rows_done").default(0))
                    .col(text_null("file_name"))
                    .col(text_null("file_path"))
                    .col(bigint_null("file_size"))
                    .col(text_null("error"))
                    .col(ts("created_at"))
                    .col(ts_null("started_at"))
                    .col(ts_null("finished_at"))
                    .col(ts_null("expires_at"))
                    .check(one_of(
                        "ck_export_jobs_status",
                        "status",
                        &["queued", "running", "done", "failed", "expired"],
                    ))
                    .check(check("ck_export_jobs_rows", "rows_done >= 0"))
                    .foreign_key(&mut fk(
                        "export_jobs",
                        "merchant_id",
                        "merchants",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "export_jobs",
                        "operator_id",
                        "operators",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "export_jobs_operator",
                "export_jobs",
                &["operator_id", "created_at"],
            ))
            .await?;
        manager
            .create_index(index("export_jobs_status", "export_jobs", &["status"]))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["export_jobs", "audit_events"]).await
    }
}
