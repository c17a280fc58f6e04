//! The audit log becomes append-only in the database itself: triggers refuse to change or delete an
//! event, and refuse to move the chain head backwards (which would hide deleted newest events).
//!
//! One change is let through: the one-time re-sealing of events written before the chain was keyed
//! (the console does it when it creates its audit key). It raises `audit_chain_head.sealing` in the
//! same transaction, and only rewrites `prev_hash` and `hash`.
//!
//! The triggers keep honest mistakes and scripts out; the key kept outside the database is what
//! makes an edit by somebody who can also drop triggers detectable.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_UP: &[&str] = &[
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
     WHEN NOT (SELECT sealing FROM audit_chain_head WHERE id = 1)
       OR NEW.id IS NOT OLD.id OR NEW.occurred_at IS NOT OLD.occurred_at
       OR NEW.merchant_id IS NOT OLD.merchant_id OR NEW.operator_id IS NOT OLD.operator_id
       OR NEW.login_name IS NOT OLD.login_name OR NEW.cert_fingerprint IS NOT OLD.cert_fingerprint
       OR NEW.remote_addr IS NOT OLD.remote_addr OR NEW.action IS NOT OLD.action
       OR NEW.object_type IS NOT OLD.object_type OR NEW.object_id IS NOT OLD.object_id
       OR NEW.outcome IS NOT OLD.outcome OR NEW.detail IS NOT OLD.detail
     BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
     BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
    "CREATE TRIGGER audit_chain_head_forward BEFORE UPDATE ON audit_chain_head
     WHEN NEW.seq < OLD.seq OR NEW.id IS NOT OLD.id
     BEGIN SELECT RAISE(ABORT, 'the audit chain head only moves forward'); END",
    "CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head
     BEGIN SELECT RAISE(ABORT, 'the audit chain head only moves forward'); END",
];

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS audit_chain_head_no_delete",
    "DROP TRIGGER IF EXISTS audit_chain_head_forward",
    "DROP TRIGGER IF EXISTS audit_events_no_delete",
    "DROP TRIGGER IF EXISTS audit_events_no_update",
];

const POSTGRES_UP: &[&str] = &[
    "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       IF TG_OP = 'UPDATE'
          AND (SELECT sealing FROM audit_chain_head WHERE id = 1)
          AND (NEW.id, NEW.occurred_at, NEW.merchant_id, NEW.operator_id, NEW.login_name,
               NEW.cert_fingerprint, NEW.remote_addr, NEW.action, NEW.object_type, NEW.object_id,
               NEW.outcome, NEW.detail)
              IS NOT DISTINCT FROM
              (OLD.id, OLD.occurred_at, OLD.merchant_id, OLD.operator_id, OLD.login_name,
               OLD.cert_fingerprint, OLD.remote_addr, OLD.action, OLD.object_type, OLD.object_id,
               OLD.outcome, OLD.detail)
       THEN
         RETURN NEW;
       END IF;
       RAISE EXCEPTION 'audit events are append-only';
     END $$",
    "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
     FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
     FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()",
    "CREATE FUNCTION audit_chain_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       IF TG_OP = 'UPDATE' AND NEW.seq >= OLD.seq AND NEW.id = OLD.id THEN
         RETURN NEW;
       END IF;
       RAISE EXCEPTION 'the audit chain head only moves forward';
     END $$",
    "CREATE TRIGGER audit_chain_head_forward BEFORE UPDATE OR DELETE ON audit_chain_head
     FOR EACH ROW EXECUTE FUNCTION audit_chain_head_forward()",
    "CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON audit_chain_head
     FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_head_forward()",
];

const POSTGRES_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS audit_chain_head_no_truncate ON audit_chain_head",
    "DROP TRIGGER IF EXISTS audit_chain_head_forward ON audit_chain_head",
    "DROP FUNCTION IF EXISTS audit_chain_head_forward()",
    "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events",
    "DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events",
    "DROP FUNCTION IF EXISTS audit_events_append_only()",
];

async fn run_all(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    for sql in statements {
        conn.execute_unprepared(sql).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("audit_chain_head")
                    .add_column(boolean("sealing").default(false))
                    .to_owned(),
            )
            .await?;
        match manager.get_database_backend() {
            DbBackend::Postgres => run_all(manager, POSTGRES_UP).await,
            _ => run_all(manager, SQLITE_UP).await,
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Postgres => run_all(manager, POSTGRES_DOWN).await?,
            _ => run_all(manager, SQLITE_DOWN).await?,
        }
        manager
            .alter_table(
                Table::alter()
                    .table("audit_chain_head")
                    .drop_column("sealing")
                    .to_owned(),
            )
            .await
    }
}
