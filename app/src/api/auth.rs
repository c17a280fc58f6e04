//! Sign-in, sign-out, the captcha, changing one's password and who is signed in.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::error::AppError;

pub use crate::contract::auth::*;

#[server(prefix = "/api", endpoint = "sign_in_form", input = GetUrl)]
pub async fn sign_in_form() -> Result<SignInFormView, AppError> {
    use crate::backend::{captcha, services, RequestCtx};

    let ctx = RequestCtx::current()?;
    let made = services::auth::new_captcha(&ctx.state.db, &ctx.state.auth, ctx.now).await?;
    let certificate_bound =
        services::auth::note_certificate(&ctx.state.db, &ctx.identity, ctx.now).await?;
    Ok(SignInFormView {
        captcha_id: made.id,
        captcha_image: captcha::data_uri(&made.png),
        certificate_subject: ctx.identity.subject_cn.clone(),
        certificate_fingerprint: ctx.identity.fingerprint.clone(),
        certificate_bound,
    })
}

#[server(prefix = "/api", endpoint = "sign_in")]
pub async fn sign_in(
    login_name: String,
    password: String,
    captcha_id: String,
    captcha_answer: String,
) -> Result<SignInOutcome, AppError> {
    use crate::backend::services::auth::{self, SignInForm};
    use crate::backend::{session, RequestCtx};

    let ctx = RequestCtx::current()?;
    let form = SignInForm {
        login_name,
        password: password.into(),
        captcha_id,
        captcha_answer,
    };
    let signed_in =
        auth::sign_in(&ctx.state.db, &ctx.state.auth, form, &ctx.identity, ctx.now).await?;
    use secrecy::ExposeSecret;
    set_cookie(&session::session_cookie(signed_in.token.expose_secret()));
    Ok(SignInOutcome {
        must_change_password: signed_in.must_change_password,
    })
}

/// Ends the session and goes to the sign-in page. Also works as a plain HTML form (no JavaScript).
#[server(prefix = "/api", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::backend::{services, session, RequestCtx};

    let ctx = RequestCtx::current()?;
    if let Some(current) = &ctx.session {
        services::auth::sign_out(&ctx.state.db, current, ctx.now).await?;
    }
    set_cookie(&session::clear_session_cookie());
    leptos_axum::redirect("/login");
    Ok(())
}

#[server(prefix = "/api", endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
    confirm_password: String,
) -> Result<(), AppError> {
    use crate::backend::services::auth::{self, PasswordChange};
    use crate::backend::RequestCtx;

    let ctx = RequestCtx::current()?;
    let session = ctx.signed_in()?;
    let change = PasswordChange {
        current: current_password.into(),
        new: new_password.into(),
        confirm: confirm_password.into(),
    };
    auth::change_password(&ctx.state.db, &ctx.state.auth, session, change, ctx.now).await
}

/// Who is signed in; `None` on the sign-in page and after the session has ended.
#[server(prefix = "/api", endpoint = "me", input = GetUrl)]
pub async fn current_operator() -> Result<Option<Me>, AppError> {
    use crate::backend::RequestCtx;

    let ctx = RequestCtx::current()?;
    Ok(ctx.session.as_ref().map(|s| Me {
        login_name: s.login_name.clone(),
        display_name: s.display_name.clone(),
        roles: s.roles.clone(),
        functions: s.functions.clone(),
        must_change_password: s.must_change_password,
    }))
}

#[cfg(feature = "ssr")]
fn set_cookie(value: &str) {
    if let (Some(response), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(value),
    ) {
        response.append_header(http::header::SET_COOKIE, value);
    }
}
