//! The wire contract of `api::exports`: what its server functions take and answer.

use serde::{Deserialize, Serialize};

use crate::domain::ExportStatus;

/// Where the downloads list lives.
pub const DOWNLOADS_PATH: &str = "/downloads";

/// The route of [`file_path`] (axum's pattern).
pub const FILE_ROUTE: &str = "/downloads/{id}/file";

/// The file of a finished job (a plain GET, so the browser saves it).
pub fn file_path(id: i64) -> String {
    format!("{DOWNLOADS_PATH}/{id}/file")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportJobView {
    pub id: i64,
    /// What is exported: `transactions`.
    pub kind: String,
    pub status: ExportStatus,
    pub total_rows: i64,
    pub rows_done: i64,
    pub file_name: Option<String>,
    pub file_size: Option<i64>,
    pub requested_at: String,
    pub expires_at: Option<String>,
    /// Failed because the server stopped while writing it.
    pub interrupted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportList {
    pub jobs: Vec<ExportJobView>,
    pub direct_limit: u64,
}
