//! The home page: the merchant's basic information (manual §3.1.1) and who is signed in. Any
//! signed-in operator may see it, whatever their roles.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::error::AppError;

pub use crate::contract::home::*;

#[server(prefix = "/api", endpoint = "home", input = GetUrl)]
pub async fn get_home() -> Result<HomeView, AppError> {
    use crate::backend::{services, RequestCtx};

    let ctx = RequestCtx::current()?;
    let session = ctx.self_service()?;
    services::home::home_for_session(&ctx.state.db, &ctx.identity, session, ctx.now).await
}
