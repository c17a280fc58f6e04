//! The wire contract of `api::operators`: what its server functions take and answer.

use serde::{Deserialize, Serialize};

use crate::domain::access::Role;
use crate::domain::{DataScope, OperatorStatus};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorRow {
    pub id: i64,
    pub login_name: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub scope: DataScope,
    pub status: OperatorStatus,
    /// In the merchant's time zone.
    pub last_login_at: Option<String>,
    pub certificates: i64,
    pub token_enrolled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorDetail {
    pub id: i64,
    pub login_name: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub scope: DataScope,
    pub group_ids: Vec<i64>,
    pub status: OperatorStatus,
    pub failed_login_count: i32,
    pub locked_until: Option<String>,
    pub last_login_at: Option<String>,
    pub last_login_addr: Option<String>,
    pub must_change_password: bool,
    /// The operator is the administrator looking at them.
    pub is_self: bool,
    pub certificates: Vec<CertificateRow>,
    pub token_enrolled: bool,
    /// The merchant's terminal groups, for the scope choice.
    pub groups: Vec<GroupOption>,
    /// A refund approver's approval alone covers refunds up to this amount (none: no limit).
    pub approval_limit_fen: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateRow {
    pub fingerprint: String,
    pub subject_cn: String,
    pub not_after: String,
    pub bound_at: Option<String>,
    pub revoked: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupOption {
    pub id: i64,
    pub name: String,
}

/// What the add and edit forms send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorForm {
    pub display_name: String,
    pub roles: Vec<Role>,
    pub scope: DataScope,
    pub group_ids: Vec<i64>,
    /// A refund approver's amount limit in yuan as typed; empty: no limit. Beyond the manual: a refund
    /// above it needs a second approver.
    #[serde(default)]
    pub approval_limit: String,
}

/// A one-time password, shown once to the administrator who created or reset it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneTimePassword {
    pub operator_id: i64,
    pub password: String,
}

/// What the form for a new operator offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorFormOptions {
    /// Login names are made as `login_prefix.name`.
    pub login_prefix: String,
    pub groups: Vec<GroupOption>,
}
