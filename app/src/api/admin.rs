//! System management (manual §3.7): the role ↔ function matrix.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::error::AppError;

pub use crate::contract::admin::*;

#[server(prefix = "/api", endpoint = "admin/role_matrix", input = GetUrl)]
pub async fn role_matrix() -> Result<RoleMatrixView, AppError> {
    use crate::backend::{services, RequestCtx};
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    ctx.authorize(Function::AdminRoleMatrix).await?;
    services::access::role_matrix(&ctx.state.db).await
}
