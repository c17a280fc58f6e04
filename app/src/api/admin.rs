//! System management (manual §3.7): the role ↔ function matrix.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::access::{Function, Role};
use crate::error::AppError;

/// Which role grants which function, as the database holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleMatrixView {
    pub roles: Vec<Role>,
    /// One row per function, in menu order: for each role (same order as `roles`) whether it grants it.
    pub rows: Vec<(Function, Vec<bool>)>,
}

#[server(prefix = "/api", endpoint = "admin/role_matrix")]
pub async fn role_matrix() -> Result<RoleMatrixView, AppError> {
    use crate::backend::{services, RequestCtx};

    let ctx = RequestCtx::current()?;
    ctx.authorize(Function::AdminRoleMatrix).await?;
    services::access::role_matrix(&ctx.state.db).await
}
