//! The operator's own TOTP token: its state, enrolment, and trying a code.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenState {
    /// No token (or an enrolment that was not confirmed).
    None,
    Active,
    /// Enrolled, but locked after wrong codes.
    Locked,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenView {
    pub state: TokenState,
    /// In the merchant's time zone.
    pub enrolled_at: Option<String>,
    pub locked_until: Option<String>,
}

/// What an enrolment shows once: the QR code for an authenticator app and the same secret as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolment {
    /// An SVG image, generated on the server from the `otpauth://` URI.
    pub qr_svg: String,
    /// Base32 in groups of four, for typing into an app by hand.
    pub secret: String,
    pub account: String,
    pub issuer: String,
}

#[server(prefix = "/api", endpoint = "my_token")]
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
