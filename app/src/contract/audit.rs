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
    pub remote_addr: Option<String>,
    /// The first 16 hex digits of the certificate's SHA-256.
    pub certificate: Option<String>,
    pub detail: Option<String>,
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
