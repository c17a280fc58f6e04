//! What the running code knows of the tally tables, as [`crate::backend::entities`] know the other
//! tables: their names, keys and the statements that move or rebuild them. The migrations that
//! created the tables and their triggers are released and frozen; a test of the server compares the
//! two (`server/tests/it/migrations.rs`).
//!
//! A tally holds the count and amount of the transactions of one key. The triggers keep them; two
//! writers keep them themselves on PostgreSQL: clearing, which moves a whole day into a settlement
//! ([`settle_statements`], with [`CALLER_SETTING`] set), and the demo loader, which disables the
//! insert triggers while it loads and rebuilds each tally at the end ([`Tally::rebuild_statements`]).

/// A tally table.
#[derive(Debug, Clone, Copy)]
pub struct Tally {
    pub table: &'static str,
    /// The trigger on `transactions` that tallies inserted rows.
    pub insert_trigger: &'static str,
    /// The transaction columns of the tally's unique key, in its order.
    pub key: &'static [&'static str],
    /// A date kept beside the key (the largest of the tally's transactions).
    pub kept: Option<&'static str>,
}

/// Per merchant number, day, type, status, card organisation, card type and settlement (an
/// unsettled transaction under settlement 0).
pub const TRANSACTION: Tally = Tally {
    table: "transaction_tallies",
    insert_trigger: "trg_transactions_tally_insert",
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
};

/// Per day, type and status.
pub const DAY: Tally = Tally {
    table: "transaction_day_tallies",
    insert_trigger: "trg_transactions_day_tally_insert",
    key: &["merchant_id", "txn_date", "txn_type", "status"],
    kept: None,
};

/// Per terminal, day, merchant number, type and status.
pub const TERMINAL: Tally = Tally {
    table: "transaction_terminal_tallies",
    insert_trigger: "trg_transactions_terminal_tally_insert",
    key: &[
        "merchant_id",
        "terminal_id",
        "txn_date",
        "merchant_number_id",
        "txn_type",
        "status",
    ],
    kept: None,
};

/// Per issuing bank, day, merchant number, type and status.
pub const BANK: Tally = Tally {
    table: "transaction_bank_tallies",
    insert_trigger: "trg_transactions_bank_tally_insert",
    key: &[
        "merchant_id",
        "issuer_bank",
        "txn_date",
        "merchant_number_id",
        "txn_type",
        "status",
    ],
    kept: None,
};

/// Per terminal, day, merchant number, type, status, card organisation, card type, issuing bank and
/// settlement.
pub const TERMINAL_FINE: Tally = Tally {
    table: "transaction_terminal_fine_tallies",
    insert_trigger: "trg_transactions_terminal_fine_tally_insert",
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
};

/// Per issuing bank, day, merchant number, type, status, card organisation, card type and
/// settlement.
pub const BANK_FINE: Tally = Tally {
    table: "transaction_bank_fine_tallies",
    insert_trigger: "trg_transactions_bank_fine_tally_insert",
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
};

/// Every tally: a bulk load disables and rebuilds each of them.
pub const ALL: [Tally; 6] = [TRANSACTION, DAY, TERMINAL, BANK, TERMINAL_FINE, BANK_FINE];

/// On PostgreSQL, a transaction that sets this to `by_caller` (`SET LOCAL`) keeps the tallies keyed by
/// settlement ([`Tally::settled`]) of its updates itself; their triggers skip its rows.
pub const CALLER_SETTING: &str = "vpos.tallies";

/// The condition of the index of refunds and voids, which a query repeats word for word to use it
/// (SQLite matches a partial index's condition by the query's text).
pub const REVERSALS: &str = "txn_type IN ('refund', 'void')";

impl Tally {
    /// Whether the tally is keyed by settlement (last in its key, the settlement's date kept beside
    /// it): clearing moves it on PostgreSQL.
    pub fn settled(&self) -> bool {
        self.key.last() == Some(&"settlement_id")
    }

    /// The transaction's value of each key column (`settlement_id` 0 for an unsettled one).
    fn key_values(&self, row: &str) -> String {
        self.key
            .iter()
            .map(|c| match *c {
                "settlement_id" => format!("COALESCE({row}.settlement_id, 0)"),
                c => format!("{row}.{c}"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn insert_columns(&self) -> String {
        let kept = self.kept.map_or(String::new(), |c| format!(", {c}"));
        format!("{}{kept}, txn_count, amount_fen", self.key.join(", "))
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
        let kept = self.kept.map_or(String::new(), |c| format!(", MAX({c})"));
        vec![
            format!("DELETE FROM {}", self.table),
            format!(
                "INSERT INTO {} ({}) SELECT {}{kept}, COUNT(*), SUM(amount_fen) \
                 FROM transactions GROUP BY {}",
                self.table,
                self.insert_columns(),
                self.key_values("transactions"),
                self.key_values("transactions"),
            ),
        ]
    }
}

/// After a settlement's transactions were marked (all of them unsettled before, so tallied under
/// settlement 0), moves their count and amount to the settlement's tallies, for each tally keyed by
/// settlement ([`Tally::settled`]): one pass over them adds to the settlement's tallies and takes from the
/// unsettled ones, then the emptied ones go. `$1` is the settlement.
pub fn settle_statements() -> Vec<String> {
    ALL.iter()
        .filter(|t| t.settled())
        .flat_map(|t| {
            let unsettled = &t.key[..t.key.len() - 1];
            let cols = unsettled.join(", ");
            // The leading columns of the key, by which the emptied tallies are found.
            let lead = t.key[..3].join(", ");
            [
                format!(
                    "WITH moved AS (SELECT {cols}, MAX(settlement_date) AS settlement_date, \
                     COUNT(*) AS n, SUM(amount_fen) AS amount FROM transactions \
                     WHERE settlement_id = $1 GROUP BY {cols}) \
                     INSERT INTO {} ({}) \
                     SELECT {cols}, CAST($1 AS BIGINT), settlement_date, n, amount FROM moved \
                     UNION ALL SELECT {cols}, 0, settlement_date, -n, -amount FROM moved \
                     ORDER BY {cols} {}",
                    t.table,
                    t.insert_columns(),
                    t.on_conflict_add()
                ),
                format!(
                    "DELETE FROM {} WHERE settlement_id = 0 AND txn_count = 0 AND ({lead}) IN \
                     (SELECT DISTINCT {lead} FROM transactions WHERE settlement_id = $1)",
                    t.table
                ),
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clearing_moves_every_tally_keyed_by_settlement() {
        for t in ALL {
            // The statements take the settlement off the end of the key and keep its date.
            assert_eq!(t.key.contains(&"settlement_id"), t.settled(), "{}", t.table);
            if t.settled() {
                assert_eq!(t.kept, Some("settlement_date"), "{}", t.table);
            }
        }
        let settled = ALL.iter().filter(|t| t.settled()).count();
        assert_eq!(settled, 3);
        let statements = settle_statements();
        assert_eq!(statements.len(), 2 * settled);
        assert!(statements[3].starts_with(
            "DELETE FROM transaction_terminal_fine_tallies WHERE settlement_id = 0 AND \
             txn_count = 0 AND (merchant_id, terminal_id, txn_date) IN (SELECT DISTINCT \
             merchant_id, terminal_id, txn_date FROM transactions WHERE settlement_id = $1)"
        ));
    }
}
