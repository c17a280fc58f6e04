//! Transaction tallies: counts and amounts of the transactions per key, kept by the database itself.
//!
//! The search total and the summary tabs read them instead of counting millions of rows
//! when the filters only touch tallied columns. Triggers keep them exact whatever writes
//! `transactions` (the platform, the demo loader, clearing, a hand-written fix): on PostgreSQL one
//! statement-level trigger per event adds up its transition tables, on SQLite a row trigger moves one
//! row's count. A tally whose count falls to zero is deleted.
//!
//! Six tallies are kept (migrations 10, 11, 14, 16 and 19):
//! - [`TRANSACTION_TALLIES`], per merchant number, day, type, status, card organisation, card type and
//!   settlement: every tallied filter and summary;
//! - [`DAY_TALLIES`], per day, type and status only: a few rows per merchant-day, so that the total of
//!   the everyday search (a range of days, perhaps a type or status) is a sum of a few dozen rows;
//! - [`TERMINAL_TALLIES`], per terminal, day, merchant number, type and status: the total and the
//!   summaries by day and by merchant number of a search confined to terminals (a terminal or group
//!   filter, an operator scoped to terminal groups), which would otherwise count the transactions.
//! - [`BANK_TALLIES`], per issuing bank, day, merchant number, type and status: the same for a search
//!   by issuing bank;
//! - [`TERMINAL_FINE_TALLIES`] and [`BANK_FINE_TALLIES`], the same keys with card organisation, card
//!   type and settlement (and the bank, per terminal): the summaries by settlement date and by
//!   organisation of those searches, and a bank within terminals.
//!
//! Triggers have no portable form: this is the one place written in each backend's SQL.
//!
//! The migrations built on this module are released: what they create must never change (the
//! server's tests pin it), so a change of a tally is a new migration. The running code keeps its
//! own description of the tallies (`app::backend::tallies`) and never reads this crate.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::helpers::{bigint, date, date_null, fen, ref_id, text};

/// A tally table and the triggers that keep it.
#[derive(Debug, Clone, Copy)]
pub struct Tally {
    pub table: &'static str,
    /// The triggers are `{trigger}_insert`, `_delete`, `_update` on `transactions`; on PostgreSQL
    /// their functions are `{table}_insert` and so on.
    pub trigger: &'static str,
    /// The transaction columns a tally is keyed by, in the order of its unique key (merchant first,
    /// then what a search ranges over: the days, or the terminals and their days).
    pub key: &'static [&'static str],
    /// A date kept beside the key (the largest of the tally's transactions).
    pub kept: Option<&'static str>,
    /// Whether a PostgreSQL transaction may keep this tally's updates itself ([`CALLER_SETTING`]).
    pub kept_by_caller: bool,
}

pub const TRANSACTION_TALLIES: Tally = Tally {
    table: "transaction_tallies",
    trigger: "trg_transactions_tally",
    // An unsettled transaction is tallied under settlement 0.
    key: &[
        "merchant_id",
        "txn_date",
        "merchant_number_id",
        "txn_type",
        "status",
        "card_org",
        "card_type",
        "settlement_id",
    ],
    kept: Some("settlement_date"),
    kept_by_caller: true,
};

pub const DAY_TALLIES: Tally = Tally {
    table: "transaction_day_tallies",
    trigger: "trg_transactions_day_tally",
    key: &["merchant_id", "txn_date", "txn_type", "status"],
    kept: None,
    kept_by_caller: false,
};

/// A terminal belongs to one merchant number, so the number adds no rows to a terminal's tallies; it
/// is there for the merchant-number filter and summary.
pub const TERMINAL_TALLIES: Tally = Tally {
    table: "transaction_terminal_tallies",
    trigger: "trg_transactions_terminal_tally",
    key: &[
        "merchant_id",
        "terminal_id",
        "txn_date",
        "merchant_number_id",
        "txn_type",
        "status",
    ],
    kept: None,
    kept_by_caller: false,
};

/// The issuing bank before the day, so that one bank's days lie together.
pub const BANK_TALLIES: Tally = Tally {
    table: "transaction_bank_tallies",
    trigger: "trg_transactions_bank_tally",
    key: &[
        "merchant_id",
        "issuer_bank",
        "txn_date",
        "merchant_number_id",
        "txn_type",
        "status",
    ],
    kept: None,
    kept_by_caller: false,
};

/// What only the transaction tallies knew (card organisation, card type, settlement) and the issuing
/// bank, per terminal: the summaries by settlement date and by organisation of a search confined to
/// terminals, its filters on those columns, and a bank within terminals. A terminal's day has a few
/// organisations, card types and banks, so these hold several rows for each of
/// [`TERMINAL_TALLIES`]; those stay, for the totals every page reads.
pub const TERMINAL_FINE_TALLIES: Tally = Tally {
    table: "transaction_terminal_fine_tallies",
    trigger: "trg_transactions_terminal_fine_tally",
    key: &[
        "merchant_id",
        "terminal_id",
        "txn_date",
        "merchant_number_id",
        "txn_type",
        "status",
        "card_org",
        "card_type",
        "issuer_bank",
        "settlement_id",
    ],
    kept: Some("settlement_date"),
    kept_by_caller: true,
};

/// The same per issuing bank, beside [`BANK_TALLIES`].
pub const BANK_FINE_TALLIES: Tally = Tally {
    table: "transaction_bank_fine_tallies",
    trigger: "trg_transactions_bank_fine_tally",
    key: &[
        "merchant_id",
        "issuer_bank",
        "txn_date",
        "merchant_number_id",
        "txn_type",
        "status",
        "card_org",
        "card_type",
        "settlement_id",
    ],
    kept: Some("settlement_date"),
    kept_by_caller: true,
};

/// On PostgreSQL, a transaction that sets this to `by_caller` (`SET LOCAL`) keeps the transaction
/// tallies of its updates itself: clearing, which moves a whole day to its settlement in a few
/// statements instead of a trigger call per row. The day and terminal tallies do not know
/// settlements.
pub const CALLER_SETTING: &str = "vpos.tallies";

/// The transaction's value of a key column, `row` being `NEW`, `OLD` or a table alias.
fn key_value(row: &str, col: &str) -> String {
    if col == "settlement_id" {
        format!("COALESCE({row}.settlement_id, 0)")
    } else {
        format!("{row}.{col}")
    }
}

impl Tally {
    fn key_values(&self, row: &str) -> String {
        self.key
            .iter()
            .map(|c| key_value(row, c))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `tally.col = <row's value> AND …`
    fn same_key(&self, row: &str) -> String {
        self.key
            .iter()
            .map(|c| format!("{c} = {}", key_value(row, c)))
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// The columns whose change moves a transaction to another tally: the key, the date kept beside
    /// it, and the amount.
    fn tallied(&self) -> Vec<&'static str> {
        self.key
            .iter()
            .copied()
            .chain(self.kept)
            .chain(["amount_fen"])
            .collect()
    }

    /// `, settlement_date` or nothing.
    fn kept_column(&self, prefix: &str) -> String {
        self.kept
            .map_or(String::new(), |c| format!(", {prefix}{c}"))
    }

    fn kept_max(&self) -> String {
        self.kept.map_or(String::new(), |c| format!(", MAX({c})"))
    }

    fn insert_columns(&self) -> String {
        format!(
            "{}{}, txn_count, amount_fen",
            self.key.join(", "),
            self.kept_column("")
        )
    }

    fn on_conflict_add(&self) -> String {
        format!(
            "ON CONFLICT ({}) DO UPDATE SET txn_count = {t}.txn_count + excluded.txn_count, \
             amount_fen = {t}.amount_fen + excluded.amount_fen",
            self.key.join(", "),
            t = self.table
        )
    }

    /// Statements that recompute every tally from the transactions.
    pub fn rebuild_statements(&self) -> Vec<String> {
        vec![
            format!("DELETE FROM {}", self.table),
            format!(
                "INSERT INTO {} ({}) SELECT {}{}, COUNT(*), SUM(amount_fen) \
                 FROM transactions GROUP BY {}",
                self.table,
                self.insert_columns(),
                self.key_values("transactions"),
                self.kept_max(),
                self.key_values("transactions"),
            ),
        ]
    }

    /// Tallies one transaction row (`NEW` or `OLD`).
    fn add_row(&self, row: &str) -> String {
        format!(
            "INSERT INTO {} ({}) VALUES ({}{}, 1, {row}.amount_fen) {};",
            self.table,
            self.insert_columns(),
            self.key_values(row),
            self.kept_column(&format!("{row}.")),
            self.on_conflict_add()
        )
    }

    /// Takes one transaction row out of its tally, deleting the tally if it is left empty.
    fn remove_row(&self, row: &str) -> String {
        format!(
            "UPDATE {t} SET txn_count = txn_count - 1, amount_fen = amount_fen - {row}.amount_fen \
             WHERE {key}; DELETE FROM {t} WHERE {key} AND txn_count = 0;",
            t = self.table,
            key = self.same_key(row)
        )
    }

    pub fn sqlite_triggers(&self) -> Vec<String> {
        let changed = self
            .tallied()
            .iter()
            .map(|c| format!("OLD.{c} IS NOT NEW.{c}"))
            .collect::<Vec<_>>()
            .join(" OR ");
        let trigger = self.trigger;
        vec![
            format!(
                "CREATE TRIGGER {trigger}_insert AFTER INSERT ON transactions BEGIN {} END",
                self.add_row("NEW")
            ),
            format!(
                "CREATE TRIGGER {trigger}_delete AFTER DELETE ON transactions BEGIN {} END",
                self.remove_row("OLD")
            ),
            format!(
                "CREATE TRIGGER {trigger}_update AFTER UPDATE OF {} ON transactions \
                 WHEN {changed} BEGIN {} {} END",
                self.tallied().join(", "),
                self.remove_row("OLD"),
                self.add_row("NEW")
            ),
        ]
    }

    pub fn postgres_triggers(&self) -> Vec<String> {
        let (table, trigger) = (self.table, self.trigger);
        let key = self.key.join(", ");
        let aliased = self
            .key
            .iter()
            .map(|c| format!("{} AS {c}", key_value("r", c)))
            .collect::<Vec<_>>()
            .join(", ");
        // Signed changes (one row per transaction, counting +1 or -1) summed per tally and added;
        // then the tallies that lost transactions are deleted if none is left.
        let apply = |changes: &str, lost: Option<&str>| {
            let mut body = format!(
                "INSERT INTO {table} ({cols}) \
                 SELECT {key}{kept}, SUM(n), SUM(fen) FROM ({changes}) c \
                 GROUP BY {key} HAVING SUM(n) <> 0 OR SUM(fen) <> 0 ORDER BY {key} {conflict};",
                cols = self.insert_columns(),
                kept = self.kept_max(),
                conflict = self.on_conflict_add(),
            );
            if let Some(lost) = lost {
                // One by one through the unique index: a join would depend on the planner's
                // statistics of the tallies, which a fresh or busy database may not have.
                body.push_str(&format!(
                    " FOR k IN SELECT DISTINCT {aliased} FROM {lost} LOOP \
                     DELETE FROM {table} WHERE {} AND txn_count = 0; END LOOP;",
                    self.key
                        .iter()
                        .map(|c| format!("{c} = k.{c}"))
                        .collect::<Vec<_>>()
                        .join(" AND "),
                ));
            }
            body
        };
        let rows = |source: &str, sign: &str| {
            format!(
                "SELECT {aliased}{}, {sign}1 AS n, {sign}r.amount_fen AS fen FROM {source} r",
                self.kept_column("r.")
            )
        };
        let columns = |row: &str| {
            self.tallied()
                .iter()
                .map(|c| format!("{row}.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let function = |event: &str, body: String| {
            format!(
                "CREATE FUNCTION {table}_{event}() RETURNS trigger LANGUAGE plpgsql AS $body$ \
                 DECLARE k record; BEGIN {body} RETURN NULL; END $body$"
            )
        };
        let by_caller = if self.kept_by_caller {
            format!(" AND current_setting('{CALLER_SETTING}', true) IS DISTINCT FROM 'by_caller'")
        } else {
            String::new()
        };
        vec![
            // Room in each page for the new version of an updated tally, so that updates stay HOT
            // (no new index entry) and pages are pruned as they go.
            format!("ALTER TABLE {table} SET (fillfactor = 50)"),
            function("insert", apply(&rows("new_rows", ""), None)),
            function("delete", apply(&rows("old_rows", "-"), Some("old_rows r"))),
            // Updates row by row, only for rows that move to another tally: transition tables would
            // copy every updated row (a refund's running total, a fee) twice to compare them.
            function(
                "update",
                format!("{} {}", self.remove_row("OLD"), self.add_row("NEW")),
            ),
            format!(
                "CREATE TRIGGER {trigger}_insert AFTER INSERT ON transactions \
                 REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {table}_insert()"
            ),
            format!(
                "CREATE TRIGGER {trigger}_delete AFTER DELETE ON transactions \
                 REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {table}_delete()"
            ),
            format!(
                "CREATE TRIGGER {trigger}_update AFTER UPDATE OF {} ON transactions FOR EACH ROW \
                 WHEN (({}) IS DISTINCT FROM ({}){by_caller}) EXECUTE FUNCTION {table}_update()",
                self.tallied().join(", "),
                columns("OLD"),
                columns("NEW"),
            ),
        ]
    }

    /// Creates the tally's table, keyed by its whole key, and installs it ([`Tally::install`]). The
    /// key's columns come first (a reference is a 64-bit id, `txn_date` a date, the rest text), then
    /// the date kept beside it if any, the count and the amount. The key is the primary key, so that
    /// the rows of one merchant (and one terminal or bank) lie together: on SQLite a table without
    /// rowids. (Migration 10's transaction tallies have their own table definition.)
    pub async fn create_keyed(&self, manager: &SchemaManager<'_>) -> Result<(), DbErr> {
        let sqlite = manager.get_database_backend() == DbBackend::Sqlite;
        manager.create_table(self.keyed_table(sqlite)).await?;
        self.install(manager).await
    }

    fn keyed_table(&self, sqlite: bool) -> TableCreateStatement {
        let mut key = Index::create();
        let mut table = Table::create();
        table.table(self.table);
        for col in self.key {
            key.col(*col);
            table.col(match *col {
                "txn_date" => date(col),
                _ if col.ends_with("_id") => ref_id(col),
                _ => text(col),
            });
        }
        if let Some(kept) = self.kept {
            table.col(date_null(kept));
        }
        table
            .col(bigint("txn_count"))
            .col(fen("amount_fen"))
            .primary_key(&mut key);
        if sqlite {
            table.extra("WITHOUT ROWID");
        }
        table.take()
    }

    /// Fills the (new, empty) tally table from the transactions and creates its triggers.
    pub async fn install(&self, manager: &SchemaManager<'_>) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let triggers = match manager.get_database_backend() {
            DbBackend::Postgres => self.postgres_triggers(),
            DbBackend::Sqlite => self.sqlite_triggers(),
            other => {
                return Err(DbErr::Migration(format!(
                    "{}: no triggers for {other:?}",
                    self.table
                )))
            }
        };
        for statement in self.rebuild_statements().into_iter().chain(triggers) {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    /// Drops the triggers (and on PostgreSQL their functions).
    pub async fn uninstall(&self, manager: &SchemaManager<'_>) -> Result<(), DbErr> {
        let postgres = manager.get_database_backend() == DbBackend::Postgres;
        for statement in self.drop_statements(postgres) {
            manager
                .get_connection()
                .execute_unprepared(&statement)
                .await?;
        }
        Ok(())
    }

    fn drop_statements(&self, postgres: bool) -> Vec<String> {
        let mut statements = Vec::new();
        for event in ["insert", "delete", "update"] {
            let on = if postgres { " ON transactions" } else { "" };
            statements.push(format!(
                "DROP TRIGGER IF EXISTS {}_{event}{on}",
                self.trigger
            ));
            if postgres {
                statements.push(format!("DROP FUNCTION IF EXISTS {}_{event}()", self.table));
            }
        }
        statements
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_transaction_tallies_keep_their_sql() {
        // The statements of migration 10 as it was released: the shared code must not change them.
        let t = TRANSACTION_TALLIES;
        assert_eq!(
            t.rebuild_statements()[1],
            "INSERT INTO transaction_tallies (merchant_id, txn_date, merchant_number_id, txn_type, \
             status, card_org, card_type, settlement_id, settlement_date, txn_count, amount_fen) \
             SELECT transactions.merchant_id, transactions.txn_date, transactions.merchant_number_id, \
             transactions.txn_type, transactions.status, transactions.card_org, transactions.card_type, \
             COALESCE(transactions.settlement_id, 0), MAX(settlement_date), COUNT(*), SUM(amount_fen) \
             FROM transactions GROUP BY transactions.merchant_id, transactions.txn_date, \
             transactions.merchant_number_id, transactions.txn_type, transactions.status, \
             transactions.card_org, transactions.card_type, COALESCE(transactions.settlement_id, 0)"
        );
        assert!(t.add_row("NEW").contains(
            "VALUES (NEW.merchant_id, NEW.txn_date, NEW.merchant_number_id, NEW.txn_type, \
             NEW.status, NEW.card_org, NEW.card_type, COALESCE(NEW.settlement_id, 0), \
             NEW.settlement_date, 1, NEW.amount_fen)"
        ));
        assert!(t.postgres_triggers()[6].contains("'vpos.tallies'"));
    }

    #[test]
    fn the_keyed_tables_keep_their_definitions() {
        // The tables of migrations 14 and 16 as they were released.
        assert_eq!(
            TERMINAL_TALLIES
                .keyed_table(true)
                .to_string(SqliteQueryBuilder),
            "CREATE TABLE \"transaction_terminal_tallies\" ( \"merchant_id\" integer NOT NULL, \
             \"terminal_id\" integer NOT NULL, \"txn_date\" date_text NOT NULL, \
             \"merchant_number_id\" integer NOT NULL, \"txn_type\" text NOT NULL, \
             \"status\" text NOT NULL, \"txn_count\" integer NOT NULL, \
             \"amount_fen\" integer NOT NULL, PRIMARY KEY (\"merchant_id\", \"terminal_id\", \
             \"txn_date\", \"merchant_number_id\", \"txn_type\", \"status\") ) WITHOUT ROWID"
        );
        assert_eq!(
            BANK_TALLIES
                .keyed_table(false)
                .to_string(PostgresQueryBuilder),
            "CREATE TABLE \"transaction_bank_tallies\" ( \"merchant_id\" bigint NOT NULL, \
             \"issuer_bank\" text NOT NULL, \"txn_date\" date NOT NULL, \
             \"merchant_number_id\" bigint NOT NULL, \"txn_type\" text NOT NULL, \
             \"status\" text NOT NULL, \"txn_count\" bigint NOT NULL, \
             \"amount_fen\" bigint NOT NULL, PRIMARY KEY (\"merchant_id\", \"issuer_bank\", \
             \"txn_date\", \"merchant_number_id\", \"txn_type\", \"status\") )"
        );
    }

    #[test]
    fn the_day_and_terminal_tallies_know_no_settlement() {
        for d in [DAY_TALLIES, TERMINAL_TALLIES] {
            let sql = [
                d.sqlite_triggers(),
                d.postgres_triggers(),
                d.rebuild_statements(),
            ]
            .concat()
            .join("\n");
            assert!(!sql.contains("settlement"), "{sql}");
            assert!(!sql.contains(CALLER_SETTING));
        }
        let d = DAY_TALLIES;
        assert!(d.add_row("NEW").contains(
            "INSERT INTO transaction_day_tallies (merchant_id, txn_date, txn_type, status, \
             txn_count, amount_fen) VALUES (NEW.merchant_id, NEW.txn_date, NEW.txn_type, \
             NEW.status, 1, NEW.amount_fen)"
        ));
    }

    #[test]
    fn a_terminal_tally_moves_when_its_terminal_or_day_does() {
        let t = TERMINAL_TALLIES;
        let update = &t.sqlite_triggers()[2];
        for col in [
            "terminal_id",
            "txn_date",
            "merchant_number_id",
            "status",
            "amount_fen",
        ] {
            assert!(
                update.contains(&format!("OLD.{col} IS NOT NEW.{col}")),
                "{update}"
            );
        }
        assert!(t.add_row("NEW").contains(
            "INSERT INTO transaction_terminal_tallies (merchant_id, terminal_id, txn_date, \
             merchant_number_id, txn_type, status, txn_count, amount_fen) VALUES (NEW.merchant_id, \
             NEW.terminal_id, NEW.txn_date, NEW.merchant_number_id, NEW.txn_type, NEW.status, 1, \
             NEW.amount_fen)"
        ));
    }
}
