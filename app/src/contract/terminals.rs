//! The wire contract of `api::terminals`: the merchant's terminals and terminal groups.

use serde::{Deserialize, Serialize};

use crate::domain::breakdown::Tally;
use crate::domain::gateway::BatchTotals;
use crate::domain::TerminalStatus;

pub use crate::contract::operators::GroupOption;

/// The terminal list's filters, as the search form sends them (empty: any).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminalFilter {
    /// Part of the terminal number or of its alias.
    #[serde(default)]
    pub search: String,
    /// A merchant number of the merchant.
    #[serde(default)]
    pub number: String,
    /// A terminal group's id.
    #[serde(default)]
    pub group: String,
    /// `enabled` or `disabled`.
    #[serde(default)]
    pub status: String,
    /// `yes` or `no`.
    #[serde(default)]
    pub signed_in: String,
}

impl TerminalFilter {
    /// The filter from the list's address, each parameter named as its form field.
    pub fn from_query(get: impl Fn(&str) -> String) -> Self {
        Self {
            search: get("search"),
            number: get("number"),
            group: get("group"),
            status: get("status"),
            signed_in: get("signed_in"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminalRow {
    pub id: i64,
    pub terminal_no: String,
    pub alias: Option<String>,
    pub model: String,
    pub merchant_no: String,
    pub store: String,
    pub groups: Vec<String>,
    pub status: TerminalStatus,
    pub signed_in: bool,
    /// In the merchant's time zone.
    pub last_seen: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminalList {
    pub rows: Vec<TerminalRow>,
    /// Every terminal of the filters (the list shows the first [`TerminalList::limit`]).
    pub total: u64,
    pub limit: u64,
    /// What the filters offer: the merchant's numbers and groups.
    pub numbers: Vec<(String, String)>,
    pub groups: Vec<GroupOption>,
}

/// A batch of a terminal, as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchView {
    pub batch_no: String,
    /// `open`, `closed` or `out_of_balance`.
    pub status: String,
    pub opened_at: String,
    pub closed_at: Option<String>,
    /// What the host recorded (for the open batch: so far).
    pub host: BatchTotals,
    /// What the terminal declared at sign-out.
    pub declared: Option<BatchTotals>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminalDetail {
    pub id: i64,
    pub terminal_no: String,
    pub alias: Option<String>,
    pub model: String,
    pub location: Option<String>,
    pub merchant_no: String,
    pub store: String,
    pub status: TerminalStatus,
    pub signed_in: bool,
    /// When it last signed in or out.
    pub sign_state_at: Option<String>,
    /// When it last opened a batch (signed in) and last closed one (signed out).
    pub last_sign_in: Option<String>,
    pub last_sign_out: Option<String>,
    pub last_seen: Option<String>,
    pub open_batch: Option<BatchView>,
    /// The latest batches closed out of balance (at most 20), newest first.
    pub out_of_balance: Vec<BatchView>,
    /// Today's successful sales (merchant's day), count and amount.
    pub today_sales: Tally,
    pub today: String,
    pub group_ids: Vec<i64>,
    /// The merchant's groups, for the group choice.
    pub groups: Vec<GroupOption>,
}

/// What the terminal page's form sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminalForm {
    pub alias: String,
    pub enabled: bool,
    pub group_ids: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRow {
    pub id: i64,
    pub name: String,
    pub terminals: i64,
    /// Operators confined to this group.
    pub operators: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminalOption {
    pub id: i64,
    pub terminal_no: String,
    pub alias: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupDetail {
    pub id: i64,
    pub name: String,
    pub members: Vec<TerminalOption>,
    /// The merchant's terminals not in the group, for adding.
    pub others: Vec<TerminalOption>,
    /// Login names of the operators confined to the group.
    pub operators: Vec<String>,
}
