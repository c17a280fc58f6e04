//! The wire contract of `api::auth`: what its server functions take and answer.

use serde::{Deserialize, Serialize};

use crate::domain::access::{Function, Role};

/// What the sign-in form shows: a fresh captcha (its id and image as a `data:` URI, never its answer)
/// and the certificate the browser presented.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInFormView {
    pub captcha_id: String,
    pub captcha_image: String,
    pub certificate_subject: String,
    /// SHA-256 of the certificate: what an administrator needs to bind it.
    pub certificate_fingerprint: String,
    /// Whether the certificate is bound to any operator: if not, no sign-in can succeed with it, and
    /// the page says so (this tells nothing about any account).
    pub certificate_bound: bool,
}

/// The signed-in operator, for the frame of every page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub login_name: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub functions: Vec<Function>,
    pub must_change_password: bool,
}

impl Me {
    pub fn may(&self, function: Function) -> bool {
        !self.must_change_password && self.functions.contains(&function)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInOutcome {
    pub must_change_password: bool,
}
