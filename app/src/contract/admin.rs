//! The wire contract of `api::admin`: what its server functions take and answer.

use serde::{Deserialize, Serialize};

use crate::domain::access::{Function, Role};

/// Which role grants which function, as the database holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleMatrixView {
    pub roles: Vec<Role>,
    /// One row per function, in menu order: for each role (same order as `roles`) whether it grants it.
    pub rows: Vec<(Function, Vec<bool>)>,
}
