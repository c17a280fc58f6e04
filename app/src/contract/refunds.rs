//! The wire contract of `api::refunds`: what its server functions take and answer.

use serde::{Deserialize, Serialize};

use crate::contract::transactions::TxnRow;
pub use crate::domain::refund::Decision;
use crate::domain::refund::{RefundReason, RefundRefusal, RefundStatus};
use crate::domain::RefundMode;

/// Requests on one page of the query unless the user picks another size.
pub const DEFAULT_PAGE_SIZE: u64 = 20;

pub const PAGE_SIZES: [u64; 3] = [20, 50, 100];

/// What the refund form of a transaction shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundFormView {
    pub txn: TxnRow,
    /// Refunds of it already paid back (at the terminal or cleared here) …
    pub refunded_fen: i64,
    /// … and those on their way.
    pub in_flight_fen: i64,
    /// What may still be refunded.
    pub refundable_fen: i64,
    /// Why no refund of it can be requested now, whatever the amount (type, status, window, nothing
    /// left, no quota left today).
    pub refusal: Option<RefundRefusal>,
    pub mode: RefundMode,
    pub requires_token: bool,
    pub window_days: i32,
    /// What the merchant's daily quota has left today.
    pub quota_left_fen: i64,
    /// The largest refund that clearing, were it to run now, would debit at once; a larger one
    /// would be held until the balance grows.
    pub clearing_headroom_fen: i64,
    /// The requests made on this transaction, newest first.
    pub history: Vec<RefundRow>,
    /// A fresh key for this submission: a retry with it creates no second refund.
    pub key: String,
}

/// A refund request as the form submits it (amount as typed, in yuan).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RefundRequestInput {
    pub txn_id: i64,
    pub amount: String,
    /// A [`RefundReason`] code.
    pub reason: String,
    /// The operator's words; required for [`RefundReason::Other`].
    pub reason_text: String,
    /// The form's idempotency key.
    pub key: String,
    /// The requester's token code, when the merchant requires one.
    pub code: String,
}

/// What a request created (also what a retry with the same key answers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundCreated {
    pub id: i64,
    pub status: RefundStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRow {
    pub id: i64,
    /// In the merchant's time zone, `YYYY-MM-DD HH:MM:SS`.
    pub requested_at: String,
    pub txn_id: i64,
    pub reference_no: String,
    pub card_masked: String,
    pub txn_amount_fen: i64,
    pub amount_fen: i64,
    pub reason: RefundReason,
    pub status: RefundStatus,
    /// Display name and login name of the requester.
    pub requester: String,
    pub approver: Option<String>,
    /// What the merchant's balance lacked when clearing last held it (`pending_clearing` only).
    pub shortfall_fen: Option<i64>,
}

/// The query's filters as the URL carries them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct RefundFilter {
    /// Days of the request, `YYYY-MM-DD`, in the merchant's time zone.
    pub from: String,
    pub to: String,
    /// A [`RefundStatus`] code.
    pub status: String,
    /// The requester's operator id.
    pub requester: String,
    /// An exact amount in yuan.
    pub amount: String,
    /// The original transaction's reference number …
    #[serde(rename = "ref")]
    pub reference: String,
    /// … or its id (the link from a transaction's detail).
    pub txn: String,
    /// The settlement that cleared them (the link from a settlement's detail).
    pub settlement: String,
    pub size: String,
    /// The keyset cursor: the last row of the previous page.
    pub after: String,
}

impl RefundFilter {
    /// The filters as URL query pairs, without the empty ones (the cursor only when `with_paging`).
    pub fn query_pairs(&self, with_paging: bool) -> Vec<(&'static str, String)> {
        let mut pairs = vec![
            ("from", &self.from),
            ("to", &self.to),
            ("status", &self.status),
            ("requester", &self.requester),
            ("amount", &self.amount),
            ("ref", &self.reference),
            ("txn", &self.txn),
            ("settlement", &self.settlement),
            ("size", &self.size),
        ];
        if with_paging {
            pairs.push(("after", &self.after));
        }
        pairs
            .into_iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| (k, v.clone()))
            .collect()
    }

    pub fn from_query(get: impl Fn(&str) -> String) -> Self {
        Self {
            from: get("from"),
            to: get("to"),
            status: get("status"),
            requester: get("requester"),
            amount: get("amount"),
            reference: get("ref"),
            txn: get("txn"),
            settlement: get("settlement"),
            size: get("size"),
            after: get("after"),
        }
    }
}

/// The approvers' list: the requests waiting for a decision, and the merchant's refund mode (which
/// tells an empty list's reason: a merchant that refunds directly has nothing to approve).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalList {
    pub page: RefundPage,
    pub mode: RefundMode,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundPage {
    pub rows: Vec<RefundRow>,
    pub total: u64,
    pub next_after: Option<String>,
    pub size: u64,
    /// The merchant's operators who requested refunds, (id, name), for the requester filter.
    pub requesters: Vec<(i64, String)>,
    /// The pending-clearing list only: the merchant's ledger balance now, and the sum of all its
    /// refunds pending clearing (not only this page's), so that the page can say what is missing.
    pub held: Option<HeldSums>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldSums {
    pub balance_fen: i64,
    pub held_fen: i64,
    pub held_count: u64,
}

/// One step of a request's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundStep {
    pub at: String,
    pub from: Option<RefundStatus>,
    pub to: RefundStatus,
    /// Who (none: the clearing run).
    pub by: Option<String>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundView {
    pub row: RefundRow,
    pub reason_text: Option<String>,
    pub decision_comment: Option<String>,
    pub decided_at: Option<String>,
    pub submitted_at: Option<String>,
    pub cleared_at: Option<String>,
    /// What the ledger lacked when clearing held it.
    pub shortfall_fen: Option<i64>,
    pub failure_reason: Option<String>,
    /// The settlement whose clearing debited it.
    pub settlement_id: Option<i64>,
    pub history: Vec<RefundStep>,
    pub txn: TxnRow,
    /// The other requests on the same transaction.
    pub others: Vec<RefundRow>,
    /// The approver whose approval did not cover the amount alone, when a second one is awaited.
    pub first_approver: Option<String>,
    /// Whether this operator may cancel it (theirs, still awaiting approval) …
    pub may_cancel: bool,
    /// … or decide on it (an approver, not theirs, awaiting approval, not already approved by them).
    pub may_decide: bool,
    /// Whether the settlement it was cleared in may be opened (the settlement query).
    pub may_open_settlement: bool,
}
