//! Terminals and terminal groups (manual §3.7.3–3.7.4): the list, one terminal's page and its changes
//! need `admin.terminals`; the groups need `admin.terminal_groups`. The caller's merchant only.

use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};

use crate::error::AppError;

pub use crate::contract::terminals::*;

#[server(prefix = "/api", endpoint = "admin/terminals", input = GetUrl)]
pub async fn list_terminals(filter: TerminalFilter) -> Result<TerminalList, AppError> {
    use crate::backend::{services, RequestCtx};
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::AdminTerminals).await?;
    services::terminals::list_terminals(&ctx.state.db, session, &filter).await
}

#[server(prefix = "/api", endpoint = "admin/terminal", input = GetUrl)]
pub async fn get_terminal(id: i64) -> Result<TerminalDetail, AppError> {
    use crate::backend::{services, RequestCtx};
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::AdminTerminals).await?;
    services::terminals::terminal_detail(&ctx.state.db, session, id, ctx.now).await
}

#[server(prefix = "/api", endpoint = "admin/terminal_update", input = Json)]
pub async fn update_terminal(id: i64, form: TerminalForm) -> Result<(), AppError> {
    use crate::backend::{services, RequestCtx};
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::AdminTerminals).await?;
    services::terminals::update_terminal(&ctx.state.db, session, id, &form, ctx.now).await
}

#[server(prefix = "/api", endpoint = "admin/groups", input = GetUrl)]
pub async fn list_groups() -> Result<Vec<GroupRow>, AppError> {
    use crate::backend::{services, RequestCtx};
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::AdminTerminalGroups).await?;
    services::terminals::list_groups(&ctx.state.db, session).await
}

#[server(prefix = "/api", endpoint = "admin/group", input = GetUrl)]
pub async fn get_group(id: i64) -> Result<GroupDetail, AppError> {
    use crate::backend::{services, RequestCtx};
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::AdminTerminalGroups).await?;
    services::terminals::group_detail(&ctx.state.db, session, id).await
}

#[server(prefix = "/api", endpoint = "admin/group_create")]
pub async fn create_group(name: String) -> Result<i64, AppError> {
    use crate::backend::{services, RequestCtx};
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::AdminTerminalGroups).await?;
    services::terminals::create_group(&ctx.state.db, session, &name, ctx.now).await
}

#[server(prefix = "/api", endpoint = "admin/group_rename")]
pub async fn rename_group(id: i64, name: String) -> Result<(), AppError> {
    use crate::backend::{services, RequestCtx};
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::AdminTerminalGroups).await?;
    services::terminals::rename_group(&ctx.state.db, session, id, &name, ctx.now).await
}

#[server(prefix = "/api", endpoint = "admin/group_delete")]
pub async fn delete_group(id: i64) -> Result<(), AppError> {
    use crate::backend::{services, RequestCtx};
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::AdminTerminalGroups).await?;
    services::terminals::delete_group(&ctx.state.db, session, id, ctx.now).await
}

#[server(prefix = "/api", endpoint = "admin/group_terminals", input = Json)]
pub async fn change_group_terminals(
    id: i64,
    add: Vec<i64>,
    remove: Vec<i64>,
) -> Result<(), AppError> {
    use crate::backend::{services, RequestCtx};
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::AdminTerminalGroups).await?;
    services::terminals::change_group_terminals(&ctx.state.db, session, id, &add, &remove, ctx.now)
        .await
}
