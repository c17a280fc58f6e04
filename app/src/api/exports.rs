//! Background exports: starting one and the operator's downloads list.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use crate::api::transactions::TxnFilter;
use crate::domain::ExportStatus;
use crate::error::AppError;

/// Where the downloads list lives.
pub const DOWNLOADS_PATH: &str = "/downloads";

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

/// Starts writing the transactions of `filter` in the background; the answer is the job's id.
#[server(prefix = "/api", endpoint = "exports/transactions", input = Json)]
pub async fn start_transaction_export(filter: TxnFilter) -> Result<i64, AppError> {
    use crate::backend::services::exports;
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::TransactionExport).await?;
    let lang = crate::i18n::initial_lang();
    exports::start_transactions(
        &ctx.state.db,
        &ctx.state.exports,
        session,
        &filter,
        lang,
        ctx.now,
    )
    .await
}

/// The operator's background exports, newest first.
#[server(prefix = "/api", endpoint = "exports/list")]
pub async fn list_exports() -> Result<ExportList, AppError> {
    use crate::backend::services::exports;
    use crate::backend::RequestCtx;
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::TransactionExport).await?;
    let mut list = exports::list(&ctx.state.db, session, ctx.now).await?;
    list.direct_limit = ctx.state.exports.direct_limit;
    Ok(list)
}
