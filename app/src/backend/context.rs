//! What a server function knows about its request, and the one place that authorises it.

use chrono::{DateTime, Utc};
use leptos::prelude::use_context;
use serde_json::json;

use super::audit::{Actor, AuditEntry};
use super::session::CurrentSession;
use super::{AppState, ClientIdentity, Session};
use crate::domain::access::Function;
use crate::domain::{AuditAction, AuditOutcome};
use crate::error::AppError;

pub struct RequestCtx {
    pub state: AppState,
    pub identity: ClientIdentity,
    /// The session the HTTP layer resolved from the cookie, if it is open.
    pub session: Option<Session>,
    pub now: DateTime<Utc>,
}

impl RequestCtx {
    /// The state, the verified client certificate and the session of the current request.
    pub fn current() -> Result<Self, AppError> {
        let state = use_context::<AppState>().ok_or_else(|| {
            AppError::internal("reading application state", &MissingContext("AppState"))
        })?;
        let parts = use_context::<http::request::Parts>().ok_or(AppError::NoCertificate)?;
        Self::for_request(state, &parts.extensions)
    }

    /// The same for a plain axum handler (a download): what the HTTP layer put into the request's
    /// extensions.
    pub fn for_request(state: AppState, extensions: &http::Extensions) -> Result<Self, AppError> {
        let identity = extensions
            .get::<ClientIdentity>()
            .cloned()
            .ok_or(AppError::NoCertificate)?;
        let session = extensions.get::<CurrentSession>().and_then(|s| s.0.clone());
        let now = state.clock.now();
        Ok(Self {
            state,
            identity,
            session,
            now,
        })
    }

    /// The signed-in operator, even one who still has to change their password (for the pages that
    /// lead there).
    pub fn signed_in(&self) -> Result<&Session, AppError> {
        self.session.as_ref().ok_or(AppError::Unauthenticated)
    }

    /// The signed-in operator, for what everyone does for themself (their token): refused until a
    /// required password change is done.
    pub fn self_service(&self) -> Result<&Session, AppError> {
        let session = self.signed_in()?;
        if session.must_change_password {
            return Err(AppError::PasswordChangeRequired);
        }
        Ok(session)
    }

    /// The signed-in operator, if a role of theirs grants `function`. Every server function that
    /// reads or changes merchant data starts here; a refusal is recorded in the audit log.
    pub async fn authorize(&self, function: Function) -> Result<&Session, AppError> {
        let session = self.self_service()?;
        if session.may(function) {
            return Ok(session);
        }
        self.record_denial(
            session.actor(),
            json!({ "function": function.code(), "reason": "not_granted" }),
        )
        .await;
        Err(AppError::Forbidden)
    }

    /// Records a refused access ([`super::refusals`]).
    pub async fn record_denial(&self, actor: Actor, detail: serde_json::Value) {
        let entry =
            AuditEntry::new(actor, AuditAction::AccessDenied, AuditOutcome::Denied).detail(detail);
        self.state
            .refusals
            .record(&self.state.db, entry, self.now)
            .await;
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0} is not in the request context")]
struct MissingContext(&'static str);
