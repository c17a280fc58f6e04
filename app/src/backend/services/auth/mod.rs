//! Sign-in, sessions and passwords (manual §2 and §3.1.3).
//!
//! - Sign-in needs the captcha (one use, short expiry), the login name and password, and a client
//!   certificate bound to that operator, of a merchant that is not suspended. Every refusal gets the
//!   same answer after the same minimum time. 5 wrong passwords in a row lock the account for 30
//!   minutes; only attempts made with the operator's own certificate count, so that no one else can
//!   lock them out. Attempts per certificate and per address, and password checks running at once,
//!   are bounded ([`crate::backend::throttle`]).
//! - A session lives on the server; the browser holds a random token whose SHA-256 is the key. It ends
//!   at logout, after 15 idle minutes, 12 hours after sign-in, when used with another certificate, or
//!   when the operator is disabled or locked by wrong passwords, or their merchant suspended.
//! - A password has at least 12 characters with letters and digits and is none of the last 4.

mod passwords;
mod sessions;
mod sign_in;

pub use self::passwords::{
    change_password, confirm_own_password, random_token, remember_password, token_hash,
    PasswordChange,
};
pub use self::sessions::{
    as_now, end_of, end_operator_sessions, end_session, purge_sessions, resolve_session, sign_out,
    Resolved, SESSION_ROW_KEPT,
};
pub use self::sign_in::{
    merchant_active, new_captcha, note_certificate, sign_in, unlocking, NewCaptcha, SignInForm,
    SignedIn,
};
