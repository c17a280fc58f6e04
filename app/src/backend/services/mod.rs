//! Services: plain async functions over a database connection, one file per area.

pub mod access;
pub mod audit_log;
pub mod auth;
pub mod clearing;
pub mod exports;
pub mod filters;
pub mod home;
pub mod operators;
pub mod platform;
pub mod refunds;
pub mod scope;
pub mod settlements;
pub mod token;
pub mod transactions;

use crate::error::AppError;

/// Decodes a code read from a CHECK-constrained column. A value outside the enum means the database and
/// the code disagree: an internal error, not the user's.
pub(crate) fn decode<T>(
    column: &'static str,
    code: &str,
    from_code: fn(&str) -> Option<T>,
) -> Result<T, AppError> {
    from_code(code).ok_or_else(|| {
        AppError::internal(
            "decoding a stored code",
            &UnknownCode {
                column,
                code: code.to_owned(),
            },
        )
    })
}

#[derive(Debug, thiserror::Error)]
#[error("unknown code {code:?} in column {column}")]
struct UnknownCode {
    column: &'static str,
    code: String,
}
