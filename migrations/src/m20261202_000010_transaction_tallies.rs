//! Transaction tallies: count and amount of the transactions per merchant number, business day, type,
//! status, card organisation, card type and settlement, kept by the database itself.
//!
//! The search total and the summary tabs of SPEC §3.3 read them instead of counting millions of rows
//! when the filters only touch these columns. Triggers keep them exact whatever writes `transactions`
//! (the platform, the demo loader, clearing, a hand-written fix): on PostgreSQL one statement-level
//! trigger per event adds up its transition tables, on SQLite a row trigger moves one row's count.
//! A tally whose count falls to zero is deleted.
//!
//! This is the one migration written partly in each backend's SQL: triggers have no portable form.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The columns a tally is keyed by, in the order of its unique index (merchant and day first: every
/// search is one merchant's range of days). An unsettled transaction is tallied under settlement 0.
const KEY: [&str; 8] = [
    "merchant_id",
    "txn_date",
    "merchant_number_id",
    "txn_type",
    "status",
    "card_org",
    "card_type",
    "settlement_id",
];

/// The transaction's value of a key column, `row` being `NEW`, `OLD` or a table alias.
fn key_value(row: &str, col: &str) -> String {
    if col == "settlement_id" {
        format!("COALESCE({row}.settlement_id, 0)")
    } else {
        format!("{row}.{col}")
    }
}

fn key_values(row: &str) -> String {
    KEY.iter()
        .map(|c| key_value(row, c))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `tally.col = <row's value> AND …`
fn same_key(row: &str) -> String {
    KEY.iter()
        .map(|c| format!("{c} = {}", key_value(row, c)))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// The columns whose change moves a transaction to another tally: the key, the settlement date kept
/// beside it, and the amount.
fn tallied() -> Vec<&'static str> {
    KEY.iter()
        .copied()
        .chain(["settlement_date", "amount_fen"])
        .collect()
}

fn insert_columns() -> String {
    format!("{}, settlement_date, txn_count, amount_fen", KEY.join(", "))
}

fn on_conflict_add() -> String {
    format!(
        "ON CONFLICT ({}) DO UPDATE SET txn_count = transaction_tallies.txn_count + excluded.txn_count, \
         amount_fen = transaction_tallies.amount_fen + excluded.amount_fen",
        KEY.join(", ")
    )
}

/// The trigger that tallies inserted transactions. A bulk load into an empty database (the demo
/// loader, on PostgreSQL) may disable it within its transaction and run [`rebuild_statements`] at
/// the end: one aggregate instead of updating the same tallies batch after batch, whose old versions
/// PostgreSQL cannot prune while the loading transaction is open.
pub const INSERT_TRIGGER: &str = "trg_transactions_tally_insert";

/// Statements that recompute every tally from the transactions.
pub fn rebuild_statements() -> Vec<String> {
    vec![
        "DELETE FROM transaction_tallies".into(),
        format!(
            "INSERT INTO transaction_tallies ({}) SELECT {}, MAX(settlement_date), COUNT(*), SUM(amount_fen) \
             FROM transactions GROUP BY {}",
            insert_columns(),
            key_values("transactions"),
            key_values("transactions"),
        ),
    ]
}

/// Tallies one transaction row (`NEW` or `OLD`).
fn add_row(row: &str) -> String {
    format!(
        "INSERT INTO transaction_tallies ({}) VALUES ({}, {row}.settlement_date, 1, {row}.amount_fen) {};",
        insert_columns(),
        key_values(row),
        on_conflict_add()
    )
}

/// Takes one transaction row out of its tally, deleting the tally if it is left empty.
fn remove_row(row: &str) -> String {
    format!(
        "UPDATE transaction_tallies SET txn_count = txn_count - 1, amount_fen = amount_fen - {row}.amount_fen \
         WHERE {key}; DELETE FROM transaction_tallies WHERE {key} AND txn_count = 0;",
        key = same_key(row)
    )
}

/// On PostgreSQL, a transaction that sets this to `by_caller` (`SET LOCAL`) keeps the tallies of
/// its updates itself: clearing, which moves a whole day to its settlement and runs
/// [`settle_statements`] instead of a trigger call per row.
pub const CALLER_SETTING: &str = "vpos.tallies";

/// After a settlement's transactions were marked (all of them unsettled before, so tallied under
/// settlement 0), moves their count and amount to the settlement's tallies. `$1` is the settlement.
pub fn settle_statements() -> Vec<String> {
    let cols = KEY[..7].join(", ");
    let moved = |settlement: &str, sign: &str| {
        format!(
            "INSERT INTO transaction_tallies ({}) SELECT {cols}, {settlement}, MAX(settlement_date), \
             {sign}COUNT(*), {sign}SUM(amount_fen) FROM transactions WHERE settlement_id = $1 \
             GROUP BY {cols} ORDER BY {cols} {}",
            insert_columns(),
            on_conflict_add()
        )
    };
    vec![
        moved("$1", ""),
        moved("0", "-"),
        "DELETE FROM transaction_tallies WHERE settlement_id = 0 AND txn_count = 0 AND (merchant_id, txn_date) IN \
         (SELECT DISTINCT merchant_id, txn_date FROM transactions WHERE settlement_id = $1)"
            .into(),
    ]
}

fn sqlite_triggers() -> Vec<String> {
    let add = add_row;
    let remove = remove_row;
    let changed = tallied()
        .iter()
        .map(|c| format!("OLD.{c} IS NOT NEW.{c}"))
        .collect::<Vec<_>>()
        .join(" OR ");
    vec![
        format!(
            "CREATE TRIGGER trg_transactions_tally_insert AFTER INSERT ON transactions BEGIN {} END",
            add("NEW")
        ),
        format!(
            "CREATE TRIGGER trg_transactions_tally_delete AFTER DELETE ON transactions BEGIN {} END",
            remove("OLD")
        ),
        format!(
            "CREATE TRIGGER trg_transactions_tally_update AFTER UPDATE OF {} ON transactions \
             WHEN {changed} BEGIN {} {} END",
            tallied().join(", "),
            remove("OLD"),
            add("NEW")
        ),
    ]
}

fn postgres_triggers() -> Vec<String> {
    let key = KEY.join(", ");
    // Signed changes (one row per transaction, counting +1 or -1) summed per tally and added; then the
    // tallies that lost transactions are deleted if none is left.
    let apply = |changes: &str, lost: Option<&str>| {
        let mut body = format!(
            "INSERT INTO transaction_tallies ({cols}) \
             SELECT {key}, MAX(settlement_date), SUM(n), SUM(fen) FROM ({changes}) c \
             GROUP BY {key} HAVING SUM(n) <> 0 OR SUM(fen) <> 0 ORDER BY {key} {conflict};",
            cols = insert_columns(),
            conflict = on_conflict_add(),
        );
        if let Some(lost) = lost {
            // One by one through the unique index: a join would depend on the planner's statistics
            // of the tallies, which a fresh or busy database may not have.
            body.push_str(&format!(
                " FOR k IN SELECT DISTINCT {} FROM {lost} LOOP \
                 DELETE FROM transaction_tallies WHERE {} AND txn_count = 0; END LOOP;",
                KEY.iter()
                    .map(|c| format!("{} AS {c}", key_value("r", c)))
                    .collect::<Vec<_>>()
                    .join(", "),
                KEY.iter()
                    .map(|c| format!("{c} = k.{c}"))
                    .collect::<Vec<_>>()
                    .join(" AND "),
            ));
        }
        body
    };
    let rows = |table: &str, sign: &str, only: &str| {
        format!(
            "SELECT {}, r.settlement_date, {sign}1 AS n, {sign}r.amount_fen AS fen FROM {table} r {only}",
            KEY.iter()
                .map(|c| format!("{} AS {c}", key_value("r", c)))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let columns = |row: &str| {
        tallied()
            .iter()
            .map(|c| format!("{row}.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let function = |name: &str, body: String| {
        format!(
            "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $body$ \
             DECLARE k record; BEGIN {body} RETURN NULL; END $body$"
        )
    };
    vec![
        // Room in each page for the new version of an updated tally, so that updates stay HOT (no
        // new index entry) and pages are pruned as they go.
        "ALTER TABLE transaction_tallies SET (fillfactor = 50)".into(),
        function(
            "transaction_tallies_insert",
            apply(&rows("new_rows", "", ""), None),
        ),
        function(
            "transaction_tallies_delete",
            apply(&rows("old_rows", "-", ""), Some("old_rows r")),
        ),
        // Updates row by row, only for rows that move to another tally: transition tables would copy
        // every updated row (a refund's running total, a fee) twice to compare them.
        function(
            "transaction_tallies_update",
            format!("{} {}", remove_row("OLD"), add_row("NEW")),
        ),
        "CREATE TRIGGER trg_transactions_tally_insert AFTER INSERT ON transactions \
         REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION transaction_tallies_insert()"
            .into(),
        "CREATE TRIGGER trg_transactions_tally_delete AFTER DELETE ON transactions \
         REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION transaction_tallies_delete()"
            .into(),
        format!(
            "CREATE TRIGGER trg_transactions_tally_update AFTER UPDATE OF {} ON transactions FOR EACH ROW \
             WHEN (({}) IS DISTINCT FROM ({}) \
             AND current_setting('{CALLER_SETTING}', true) IS DISTINCT FROM 'by_caller') \
             EXECUTE FUNCTION transaction_tallies_update()",
            tallied().join(", "),
            columns("OLD"),
            columns("NEW"),
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("transaction_tallies")
                    .col(id())
                    .col(ref_id("merchant_id"))
                    .col(date("txn_date"))
                    .col(ref_id("merchant_number_id"))
                    .col(text("txn_type"))
                    .col(text("status"))
                    .col(text("card_org"))
                    .col(text("card_type"))
                    // 0 while the transactions are not settled (a key column cannot be NULL).
                    .col(ref_id("settlement_id"))
                    .col(date_null("settlement_date"))
                    .col(bigint("txn_count"))
                    .col(fen("amount_fen"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique(
                "transaction_tallies_key",
                "transaction_tallies",
                &KEY,
            ))
            .await?;
        let db = manager.get_connection();
        for statement in rebuild_statements() {
            db.execute_unprepared(&statement).await?;
        }
        let statements = match manager.get_database_backend() {
            DbBackend::Postgres => postgres_triggers(),
            DbBackend::Sqlite => sqlite_triggers(),
            other => {
                return Err(DbErr::Migration(format!(
                    "transaction tallies: no triggers for {other:?}"
                )))
            }
        };
        for statement in statements {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for event in ["insert", "delete", "update"] {
            db.execute_unprepared(&format!(
                "DROP TRIGGER IF EXISTS trg_transactions_tally_{event}{}",
                if manager.get_database_backend() == DbBackend::Postgres {
                    " ON transactions"
                } else {
                    ""
                }
            ))
            .await?;
            if manager.get_database_backend() == DbBackend::Postgres {
                db.execute_unprepared(&format!(
                    "DROP FUNCTION IF EXISTS transaction_tallies_{event}()"
                ))
                .await?;
            }
        }
        drop_tables(manager, &["transaction_tallies"]).await
    }
}
