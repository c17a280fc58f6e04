//! The wire contract of `api::audit`: what its server functions take and answer.

use serde::{Deserialize, Serialize};

use crate::domain::{AuditAction, AuditOutcome};

/// The filters as the page's URL carries them (all text; parsed and checked on the server).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditFilter {
    /// First day, `YYYY-MM-DD`, in the merchant's time zone.
    pub from: String,
    /// Last day, inclusive.
    pub to: String,
    /// Login name (exact or its beginning).
    pub operator: String,
    /// An [`AuditAction`] code.
    pub action: String,
    /// An [`AuditOutcome`] code.
    pub outcome: String,
    /// Events older than this id (the next page).
    pub before: String,
}

impl AuditFilter {
    /// The filters as URL query pairs (empty ones left out), for links to other pages and the
    /// download.
    pub fn query_pairs(&self, with_cursor: bool) -> Vec<(&'static str, String)> {
        let mut pairs = vec![
            ("from", self.from.clone()),
            ("to", self.to.clone()),
            ("operator", self.operator.clone()),
            ("action", self.action.clone()),
            ("outcome", self.outcome.clone()),
        ];
        if with_cursor {
            pairs.push(("before", self.before.clone()));
        }
        pairs.retain(|(_, v)| !v.trim().is_empty());
        pairs
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i64,
    /// In the merchant's time zone.
    pub at: String,
    pub login_name: Option<String>,
    pub action: Option<AuditAction>,
    pub action_code: String,
    pub outcome: Option<AuditOutcome>,
    pub object: Option<String>,
    /// The object as a record the console can open (a transaction, a refund request, an operator).
    pub object_ref: Option<ObjectRef>,
    pub remote_addr: Option<String>,
    /// The first 16 hex digits of the certificate's SHA-256.
    pub certificate: Option<String>,
    pub detail: Option<String>,
    /// The detail read field by field, for the page to say in words.
    pub detail_items: Vec<DetailItem>,
}

/// A record an event is about, by kind and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRef {
    pub kind: ObjectKind,
    pub id: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObjectKind {
    Transaction,
    RefundRequest,
    Operator,
    Settlement,
    Export,
    Terminal,
    TerminalGroup,
    FastRefund,
}

impl ObjectKind {
    /// The kind as the audit log writes it.
    pub fn from_code(code: &str) -> Option<ObjectKind> {
        match code {
            "transaction" | "txn_id" => Some(ObjectKind::Transaction),
            "refund_request" => Some(ObjectKind::RefundRequest),
            "operator" => Some(ObjectKind::Operator),
            "settlement" => Some(ObjectKind::Settlement),
            "export" => Some(ObjectKind::Export),
            "terminal" => Some(ObjectKind::Terminal),
            "terminal_group" => Some(ObjectKind::TerminalGroup),
            "fast_refund" => Some(ObjectKind::FastRefund),
            _ => None,
        }
    }
}

/// One field of an event's detail: its name as recorded (the page names the ones it knows) and its
/// value read by kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetailItem {
    pub key: String,
    pub value: DetailValue,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DetailValue {
    /// An amount in fen (a field named `…_fen`).
    Money(i64),
    Number(i64),
    Flag(bool),
    /// A moment, already in the merchant's time zone.
    Time(String),
    /// A code or free text, as recorded (the page translates the codes it knows).
    Text(String),
    /// A record the console can open.
    Record(ObjectRef),
    /// A value before and after a change.
    Change(Box<DetailValue>, Box<DetailValue>),
    /// Anything else, as JSON.
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    /// Events matching the filters, on all pages.
    pub total: u64,
    /// The cursor of the next (older) page, if there is one.
    pub next_before: Option<i64>,
    /// At most this many events go into one download.
    pub export_limit: u64,
}
