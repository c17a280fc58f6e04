//! Operator management (manual §3.7.2): list, add, edit, enable/disable, reset password, unlock,
//! bind and unbind certificates, reset the TOTP token. Every function needs `admin.operators` and
//! works on the caller's merchant only.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use crate::domain::access::Role;
use crate::domain::{DataScope, OperatorStatus};
use crate::error::AppError;

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

#[server(prefix = "/api", endpoint = "admin/operators")]
pub async fn list_operators(search: String) -> Result<Vec<OperatorRow>, AppError> {
    use crate::backend::{services, RequestCtx};
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::AdminOperators).await?;
    services::operators::list_operators(&ctx.state.db, session, &search, ctx.now).await
}

/// What the form for a new operator offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorFormOptions {
    /// Login names are made as `login_prefix.name`.
    pub login_prefix: String,
    pub groups: Vec<GroupOption>,
}

#[server(prefix = "/api", endpoint = "admin/new_operator")]
pub async fn new_operator_options() -> Result<OperatorFormOptions, AppError> {
    use crate::backend::{services, RequestCtx};
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::AdminOperators).await?;
    services::operators::new_operator_options(&ctx.state.db, session).await
}

#[server(prefix = "/api", endpoint = "admin/operator")]
pub async fn get_operator(id: i64) -> Result<OperatorDetail, AppError> {
    use crate::backend::{services, RequestCtx};
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::AdminOperators).await?;
    services::operators::operator_detail(&ctx.state.db, session, id, ctx.now).await
}

#[server(prefix = "/api", endpoint = "admin/operator_create", input = Json)]
pub async fn create_operator(
    login_name: String,
    form: OperatorForm,
) -> Result<OneTimePassword, AppError> {
    use crate::backend::{services, RequestCtx};
    use crate::domain::access::Function;
    use secrecy::ExposeSecret;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::AdminOperators).await?;
    let created =
        services::operators::create_operator(&ctx.state.db, session, &login_name, &form, ctx.now)
            .await?;
    Ok(OneTimePassword {
        operator_id: created.id,
        password: created.one_time_password.expose_secret().to_owned(),
    })
}

#[server(prefix = "/api", endpoint = "admin/operator_update", input = Json)]
pub async fn update_operator(id: i64, form: OperatorForm) -> Result<(), AppError> {
    use crate::backend::{services, RequestCtx};
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::AdminOperators).await?;
    services::operators::update_operator(&ctx.state.db, session, id, &form, ctx.now).await
}

#[server(prefix = "/api", endpoint = "admin/operator_enabled")]
pub async fn set_operator_enabled(id: i64, enabled: bool) -> Result<(), AppError> {
    use crate::backend::{services, RequestCtx};
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::AdminOperators).await?;
    services::operators::set_enabled(&ctx.state.db, session, id, enabled, ctx.now).await
}

#[server(prefix = "/api", endpoint = "admin/operator_unlock")]
pub async fn unlock_operator(id: i64) -> Result<(), AppError> {
    use crate::backend::{services, RequestCtx};
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::AdminOperators).await?;
    services::operators::unlock(&ctx.state.db, session, id, ctx.now).await
}

#[server(prefix = "/api", endpoint = "admin/operator_reset_password")]
pub async fn reset_operator_password(id: i64) -> Result<OneTimePassword, AppError> {
    use crate::backend::{services, RequestCtx};
    use crate::domain::access::Function;
    use secrecy::ExposeSecret;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::AdminOperators).await?;
    let password = services::operators::reset_password(&ctx.state.db, session, id, ctx.now).await?;
    Ok(OneTimePassword {
        operator_id: id,
        password: password.expose_secret().to_owned(),
    })
}

#[server(prefix = "/api", endpoint = "admin/operator_bind")]
pub async fn bind_operator_certificate(id: i64, fingerprint: String) -> Result<(), AppError> {
    use crate::backend::{services, RequestCtx};
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::AdminOperators).await?;
    services::operators::bind_certificate(&ctx.state.db, session, id, &fingerprint, ctx.now).await
}

#[server(prefix = "/api", endpoint = "admin/operator_unbind")]
pub async fn unbind_operator_certificate(id: i64, fingerprint: String) -> Result<(), AppError> {
    use crate::backend::{services, RequestCtx};
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::AdminOperators).await?;
    services::operators::unbind_certificate(&ctx.state.db, session, id, &fingerprint, ctx.now).await
}

#[server(prefix = "/api", endpoint = "admin/operator_reset_token")]
pub async fn reset_operator_token(id: i64) -> Result<(), AppError> {
    use crate::backend::{services, RequestCtx};
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::AdminOperators).await?;
    services::operators::reset_token(&ctx.state.db, session, id, ctx.now).await
}
