//! The wire contract of the transaction monitor: the latest transactions of the operator's scope,
//! as the page renders them and as the live stream (`/api/monitor/stream`) sends them.

use serde::{Deserialize, Serialize};

use crate::domain::{SessionEnd, TxnStatus, TxnType};

pub use crate::contract::operators::GroupOption;
pub use crate::contract::terminals::TerminalOption;

/// How many transactions the monitor shows.
pub const LATEST: usize = 20;

/// The path of the live stream (server-sent events).
pub const STREAM_PATH: &str = "/api/monitor/stream";

/// The names of the stream's events. Each event's data is JSON.
pub mod event {
    /// The latest transactions in the watcher's scope (a [`super::Latest`]), sent first on every
    /// connection and again whenever the server could not tell what the watcher missed: the page
    /// merges it with what it shows, by id.
    pub const LATEST: &str = "latest";
    /// Transactions committed since, in the watcher's scope (an array of [`super::MonitorRow`]).
    pub const ROWS: &str = "rows";
    /// The session ended (a [`super::StreamEnd`]): the stream closes and is not to be reopened.
    pub const END: &str = "end";
}

/// The monitor's filters, as the page's address and the stream's carry them (empty: any).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MonitorFilter {
    /// A terminal group's id.
    pub group: String,
    /// A terminal number.
    pub terminal: String,
}

impl MonitorFilter {
    pub fn from_query(get: impl Fn(&str) -> String) -> Self {
        Self {
            group: get("group"),
            terminal: get("terminal"),
        }
    }

    /// `group=…&terminal=…` of the filters set, for an address.
    pub fn query_string(&self) -> String {
        let pairs: Vec<(&str, String)> = [("group", &self.group), ("terminal", &self.terminal)]
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k, v.clone()))
            .collect();
        crate::url::query_string(&pairs)
    }
}

/// One transaction on the monitor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitorRow {
    pub id: i64,
    /// In the merchant's time zone, `YYYY-MM-DD HH:MM:SS`.
    pub time: String,
    /// When the host accepted it, milliseconds since 1970 (UTC): orders rows of one second.
    pub accepted_ms: i64,
    pub terminal_no: String,
    pub terminal_alias: Option<String>,
    pub txn_type: TxnType,
    pub status: TxnStatus,
    /// First 6 and last 4 digits only.
    pub card_masked: String,
    pub amount_fen: i64,
    /// The host's response code, when the transaction was approved (`00`).
    pub response_code: Option<String>,
}

impl MonitorRow {
    /// Newest first: by time, then by id.
    pub fn newest_first(a: &MonitorRow, b: &MonitorRow) -> std::cmp::Ordering {
        (b.time.as_str(), b.accepted_ms, b.id).cmp(&(a.time.as_str(), a.accepted_ms, a.id))
    }
}

/// The latest transactions in the watcher's scope, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Latest {
    pub rows: Vec<MonitorRow>,
}

/// The monitor page: the latest transactions and what it may be filtered by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitorView {
    pub latest: Latest,
    /// The terminal groups the operator may watch.
    pub groups: Vec<GroupOption>,
    /// The terminals the operator may watch.
    pub terminals: Vec<TerminalOption>,
}

/// Why the stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamEnd {
    pub reason: SessionEnd,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, time: &str, accepted_ms: i64) -> MonitorRow {
        MonitorRow {
            id,
            time: time.to_owned(),
            accepted_ms,
            terminal_no: "T1".into(),
            terminal_alias: None,
            txn_type: TxnType::Purchase,
            status: TxnStatus::Success,
            card_masked: "622848******1234".into(),
            amount_fen: 100,
            response_code: Some("00".into()),
        }
    }

    #[test]
    fn rows_sort_newest_first_by_time_then_acceptance_then_id() {
        let mut rows = [
            row(1, "2026-12-07 10:00:00", 5),
            row(3, "2026-12-07 10:00:01", 1),
            row(2, "2026-12-07 10:00:00", 9),
            row(4, "2026-12-07 10:00:00", 9),
        ];
        rows.sort_by(MonitorRow::newest_first);
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        assert_eq!(ids, [3, 4, 2, 1]);
    }

    #[test]
    fn the_filter_goes_into_an_address_encoded() {
        let filter = MonitorFilter {
            group: "7".into(),
            terminal: "A&B".into(),
        };
        assert_eq!(filter.query_string(), "group=7&terminal=A%26B");
        assert_eq!(MonitorFilter::default().query_string(), "");
    }
}
