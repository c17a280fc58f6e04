//! Roles and functions as the database holds them (manual §3.7.1).

use std::collections::BTreeSet;

use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder};

use crate::backend::entities::role_functions;
use crate::contract::admin::RoleMatrixView;
use crate::domain::access::{Function, Role};
use crate::error::AppError;

/// The role ↔ function matrix. Roles and functions appear in catalogue order; a grant in the database
/// that this build does not know is left out (and cannot grant anything: see `functions_of`).
pub async fn role_matrix(db: &impl ConnectionTrait) -> Result<RoleMatrixView, AppError> {
    let grants: BTreeSet<(Role, Function)> = role_functions::Entity::find()
        .order_by_asc(role_functions::Column::RoleCode)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|g| {
            Some((
                Role::from_code(&g.role_code)?,
                Function::from_code(&g.function_code)?,
            ))
        })
        .collect();
    let roles = Role::ALL.to_vec();
    let rows = Function::ALL
        .iter()
        .map(|&f| (f, roles.iter().map(|&r| grants.contains(&(r, f))).collect()))
        .collect();
    Ok(RoleMatrixView { roles, rows })
}
