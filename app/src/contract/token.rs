//! The wire contract of `api::token`: what its server functions take and answer.

use serde::{Deserialize, Serialize};

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
