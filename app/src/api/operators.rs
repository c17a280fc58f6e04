//! Operator management (manual §3.7.2): list, add, edit, enable/disable, reset password, unlock,
//! bind and unbind certificates, reset the TOTP token. Every function needs `admin.operators` and
//! works on the caller's merchant only.

use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};

use crate::error::AppError;

pub use crate::contract::operators::*;

#[server(prefix = "/api", endpoint = "admin/operators", input = GetUrl)]
pub async fn list_operators(search: String) -> Result<Vec<OperatorRow>, AppError> {
    use crate::backend::{services, RequestCtx};
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::AdminOperators).await?;
    services::operators::list_operators(&ctx.state.db, session, &search, ctx.now).await
}

#[server(prefix = "/api", endpoint = "admin/new_operator", input = GetUrl)]
pub async fn new_operator_options() -> Result<OperatorFormOptions, AppError> {
    use crate::backend::{services, RequestCtx};
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::AdminOperators).await?;
    services::operators::new_operator_options(&ctx.state.db, session).await
}

#[server(prefix = "/api", endpoint = "admin/operator", input = GetUrl)]
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
