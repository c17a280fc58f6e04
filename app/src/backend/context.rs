//! What a server function knows about its request.

use leptos::prelude::use_context;

use super::{AppState, ClientIdentity};
use crate::error::AppError;

pub struct RequestCtx {
    pub state: AppState,
    pub identity: ClientIdentity,
}

impl RequestCtx {
    /// The state and the verified client certificate of the current request.
    pub fn current() -> Result<Self, AppError> {
        let state = use_context::<AppState>().ok_or_else(|| {
            AppError::internal("reading application state", &MissingContext("AppState"))
        })?;
        let parts = use_context::<http::request::Parts>().ok_or(AppError::NoCertificate)?;
        let identity = parts
            .extensions
            .get::<ClientIdentity>()
            .cloned()
            .ok_or(AppError::NoCertificate)?;
        Ok(Self { state, identity })
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0} is not in the request context")]
struct MissingContext(&'static str);
