//! The operator's own TOTP token: its state, enrolment, and trying a code.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::error::AppError;

pub use crate::contract::token::*;

#[server(prefix = "/api", endpoint = "my_token", input = GetUrl)]
pub async fn my_token() -> Result<TokenView, AppError> {
    use crate::backend::{services, RequestCtx};

    let ctx = RequestCtx::current()?;
    let session = ctx.self_service()?;
    services::token::my_token(&ctx.state.db, session, ctx.now).await
}

/// Starts an enrolment once the operator's password is given again; the secret is shown in this
/// answer only.
#[server(prefix = "/api", endpoint = "begin_token_enrolment")]
pub async fn begin_token_enrolment(password: String) -> Result<Enrolment, AppError> {
    use crate::backend::{services, RequestCtx};

    let ctx = RequestCtx::current()?;
    let session = ctx.self_service()?;
    services::token::begin_enrolment(
        &ctx.state.db,
        &ctx.state.token_key,
        &ctx.state.auth,
        session,
        password.into(),
        ctx.now,
    )
    .await
}

#[server(prefix = "/api", endpoint = "confirm_token_enrolment")]
pub async fn confirm_token_enrolment(code: String) -> Result<(), AppError> {
    use crate::backend::{services, RequestCtx};

    let ctx = RequestCtx::current()?;
    let session = ctx.self_service()?;
    services::token::confirm_enrolment(
        &ctx.state.db,
        &ctx.state.token_key,
        &ctx.state.auth,
        session,
        &code,
        ctx.now,
    )
    .await
}

/// Tries a code of the enrolled token, as an action would: the code is used up.
#[server(prefix = "/api", endpoint = "try_token_code")]
pub async fn try_token_code(code: String) -> Result<(), AppError> {
    use crate::backend::{services, RequestCtx};

    let ctx = RequestCtx::current()?;
    let session = ctx.self_service()?;
    services::token::require_fresh_code(
        &ctx.state.db,
        &ctx.state.token_key,
        &ctx.state.auth,
        session,
        &code,
        "token.try",
        ctx.now,
    )
    .await
}
