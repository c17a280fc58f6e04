//! The wire contract of `api::settlements`: what its server functions take and answer.

use serde::{Deserialize, Serialize};

use crate::domain::breakdown::Tally;
use crate::domain::{MoneyError, SettlementStatus};

/// The filters as the page's URL carries them (all text; parsed and checked on the server).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SettlementFilter {
    /// First settlement date, `YYYY-MM-DD`.
    pub from: String,
    /// Last settlement date, inclusive.
    pub to: String,
    /// A 15-digit merchant number of the merchant.
    pub number: String,
    /// A [`SettlementStatus`] code.
    pub status: String,
    /// A quick menu's day, `today` or `yesterday`, resolved in the merchant's time zone; it wins
    /// over `from` and `to`.
    pub day: String,
    /// The cursor of the next page: `YYYY-MM-DD.id` of the last row shown.
    pub after: String,
}

impl SettlementFilter {
    /// The filters as URL query pairs (empty ones left out).
    pub fn query_pairs(&self, with_cursor: bool) -> Vec<(&'static str, String)> {
        let mut pairs = vec![
            ("from", self.from.clone()),
            ("to", self.to.clone()),
            ("number", self.number.clone()),
            ("status", self.status.clone()),
            ("day", self.day.clone()),
        ];
        if with_cursor {
            pairs.push(("after", self.after.clone()));
        }
        pairs.retain(|(_, v)| !v.trim().is_empty());
        pairs
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementRow {
    pub id: i64,
    /// `YYYY-MM-DD`: the business day settled.
    pub settlement_date: String,
    pub merchant_no: String,
    pub store: String,
    /// The covered period in the merchant's time zone.
    pub period: String,
    pub txn_count: i64,
    pub gross_fen: i64,
    pub refund_count: i64,
    pub refund_fen: i64,
    pub fee_fen: i64,
    pub net_fen: i64,
    pub status: SettlementStatus,
    pub account_masked: String,
    pub paid_at: Option<String>,
}

/// Sums over every settlement that matches the filters (all pages).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementSums {
    pub count: i64,
    pub txn_count: i64,
    pub gross_fen: i64,
    pub refund_count: i64,
    pub refund_fen: i64,
    pub fee_fen: i64,
    pub net_fen: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementPage {
    pub rows: Vec<SettlementRow>,
    pub sums: SettlementSums,
    /// The dates searched, `YYYY-MM-DD` (a quick menu's day resolved), for the form.
    pub from: Option<String>,
    pub to: Option<String>,
    /// The cursor of the next page, if there is one.
    pub next_after: Option<String>,
    /// The merchant's numbers, for the filter: (number, store name).
    pub numbers: Vec<(String, String)>,
    pub export_limit: u64,
    /// Whether the operator may download the list and reconciliation files.
    pub may_export: bool,
    pub may_download_files: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementView {
    pub settlement: SettlementRow,
    /// Where its figures come from.
    pub makeup: SettlementMakeup,
    pub may_download_files: bool,
    pub may_query_transactions: bool,
    /// Whether the operator may list the refund requests it cleared.
    pub may_query_refunds: bool,
}

/// What a settlement is made of, read from what it settled: its transactions (the sales it priced and
/// the terminal's refunds and voids it debited) and the refund requests of the console it debited,
/// which are not transactions. A settlement's figures are these added up:
/// sales = `sales`, refunds = `terminal_refunds` + `console_refunds`, net = gross − refunds − fees.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementMakeup {
    pub sales: Tally,
    pub fee_fen: i64,
    /// Refunds and voids made at the terminal (a void here cancels a sale settled on an earlier day).
    pub terminal_refunds: Tally,
    pub console_refunds: Tally,
}

impl SettlementMakeup {
    pub fn refunds(&self) -> Result<Tally, MoneyError> {
        self.terminal_refunds.checked_add(self.console_refunds)
    }

    pub fn net_fen(&self) -> Result<i64, MoneyError> {
        self.sales
            .amount_fen
            .checked_sub(self.refunds()?.amount_fen)
            .and_then(|n| n.checked_sub(self.fee_fen))
            .ok_or(MoneyError::Overflow)
    }

    /// Whether the settlement's own figures are these, to the fen.
    pub fn ties_out(&self, s: &SettlementRow) -> bool {
        let Ok(refunds) = self.refunds() else {
            return false;
        };
        (self.sales.count, self.sales.amount_fen) == (s.txn_count, s.gross_fen)
            && (refunds.count, refunds.amount_fen) == (s.refund_count, s.refund_fen)
            && self.fee_fen == s.fee_fen
            && self.net_fen() == Ok(s.net_fen)
    }
}
