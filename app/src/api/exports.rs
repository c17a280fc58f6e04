//! Background exports: starting one and the operator's downloads list.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::api::transactions::TxnFilter;
use crate::error::AppError;

pub use crate::contract::exports::*;

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
