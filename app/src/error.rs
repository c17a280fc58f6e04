//! The one error type that crosses the server-function boundary.
//!
//! Internal causes (database, I/O) never reach the browser: they are logged once on the server with a
//! correlation id, and the user sees a generic message quoting that id.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::domain::cardholder::CardholderProblem;
use crate::domain::password::PasswordRule;
use crate::domain::refund::RefundRefusal;
use crate::domain::regions::PlaceProblem;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The TLS layer let a request through without a verified client certificate (should not happen).
    #[error("no client certificate")]
    NoCertificate,
    #[error("not signed in")]
    Unauthenticated,
    /// Sign-in refused. One answer for a wrong login name, a wrong password, a certificate bound to
    /// someone else, a locked and a disabled account, so that it tells an attacker nothing.
    #[error("sign-in refused")]
    SignInRefused,
    /// The operator must change their password before anything else.
    #[error("password change required")]
    PasswordChangeRequired,
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    /// Input that does not parse; one entry per field.
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// The record changed under the request (e.g. a status update found another status).
    #[error("conflict")]
    Conflict,
    /// A rule of the console forbids this change.
    #[error("not allowed: {0:?}")]
    Policy(Policy),
    /// A refund the original transaction or the merchant's refund policy does not allow.
    #[error("refund refused: {0}")]
    Refund(RefundRefusal),
    /// Too many sign-in attempts from this certificate or network address in a short time.
    #[error("too many attempts; retry after {retry_after_s} s")]
    TooManyAttempts { retry_after_s: u32 },
    /// The server is at a limit it keeps to stay responsive (password checks, exports): try later.
    #[error("busy")]
    Busy,
    #[error("internal error, correlation id {correlation_id}")]
    Internal { correlation_id: String },
    /// The request did not reach the server function or its answer could not be read.
    #[error("transport: {0}")]
    Transport(String),
}

/// A problem with one input field, shown next to that field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The form field's name.
    pub field: String,
    pub problem: FieldProblem,
}

/// The rules that refuse a change outright (as opposed to a field's bad input).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Policy {
    /// An administrator cannot disable themself …
    SelfDisable,
    /// … nor take the administrator role away from themself.
    SelfDemote,
    /// A merchant keeps at least one active administrator.
    LastAdministrator,
    /// The certificate is bound to another operator; unbind it there first.
    CertificateBoundElsewhere,
    /// No certificate with this fingerprint has reached the console yet.
    CertificateUnknown,
    /// The certificate is expired, not yet valid or revoked.
    CertificateNotValid,
    /// The certificate was not issued for one of this merchant's operators (its subject names none).
    CertificateNotForMerchant,
    /// The action needs a token code and the operator has no enrolled token.
    TokenNotEnrolled,
    /// A token is already enrolled: an administrator resets it before a new one is enrolled.
    TokenAlreadyEnrolled,
    /// Too many wrong codes in a row: the token is locked for a while.
    TokenLocked,
    /// More rows than one download may hold: narrow the filters.
    ExportTooLarge,
    /// Settlements cover whole merchant numbers: an operator scoped to terminal groups reads none.
    MerchantScopeRequired,
    /// A slip of today's transaction is reprinted on the terminal, not in the console.
    SlipFromToday,
    /// The operator already has files being written: wait for one to finish.
    ExportsBusy,
    /// The requester of a refund never decides on it.
    OwnRefund,
    /// A refund over the first approver's limit needs another approver, not the same one twice.
    SecondApproverNeeded,
    /// Only the operator who requested a refund may cancel it.
    NotTheRequester,
    /// The refund request is no longer in a status that allows this (someone acted first).
    RefundStatusChanged,
    /// The submission key was used before for a different request.
    IdempotencyKeyReused,
    /// The platform has suspended the merchant: no refunds until it is active again.
    MerchantSuspended,
    /// Operators are confined to the terminal group: it cannot be deleted.
    GroupInUse,
    /// A batch file without a row that can be sent.
    BatchEmpty,
    /// The same file was submitted as a batch already.
    BatchAlreadySubmitted,
}

/// What is wrong with a field, as a code: each language words it (see `i18n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FieldProblem {
    Required,
    /// Not in the expected format (e.g. a login name with spaces).
    Format,
    /// The captcha answer is wrong or the captcha has expired.
    Captcha,
    /// The current password given to change it is wrong.
    WrongPassword,
    /// Already used (a login name).
    Taken,
    Password(PasswordRule),
    /// The token code is not the operator's current one.
    CodeWrong,
    /// The token code has been used already: wait for the next one.
    CodeUsed,
    /// The end of a range comes before its start.
    RangeReversed,
    /// A cardholder's name or document number the bank would refuse.
    Cardholder(CardholderProblem),
    /// A province, city or branch that does not fit the others or the bank.
    Place(PlaceProblem),
}

impl FieldError {
    pub fn new(field: &str, problem: FieldProblem) -> Self {
        Self {
            field: field.to_owned(),
            problem,
        }
    }
}

impl AppError {
    pub fn status_code(&self) -> u16 {
        match self {
            AppError::NoCertificate | AppError::Unauthenticated | AppError::SignInRefused => 401,
            AppError::Forbidden | AppError::PasswordChangeRequired => 403,
            AppError::NotFound => 404,
            AppError::Invalid(_) => 422,
            AppError::Conflict | AppError::Policy(_) | AppError::Refund(_) => 409,
            AppError::TooManyAttempts { .. } => 429,
            AppError::Internal { .. } => 500,
            AppError::Busy | AppError::Transport(_) => 503,
        }
    }

    /// The problem of `field`, when the error is about input.
    pub fn field_problem(&self, field: &str) -> Option<FieldProblem> {
        match self {
            AppError::Invalid(errors) => {
                errors.iter().find(|e| e.field == field).map(|e| e.problem)
            }
            _ => None,
        }
    }

    pub fn invalid(field: &str, problem: FieldProblem) -> Self {
        AppError::Invalid(vec![FieldError::new(field, problem)])
    }

    /// Logs an internal failure with its whole source chain and returns the error the user sees.
    #[cfg(feature = "ssr")]
    pub fn internal(context: &str, err: &(dyn std::error::Error + 'static)) -> AppError {
        let correlation_id = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
        tracing::error!(correlation_id = %correlation_id, error = %source_chain(err), "{context} failed");
        AppError::Internal { correlation_id }
    }
}

/// An error and its causes on one line: `outer: middle: root cause`.
pub fn source_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut chain = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    chain
}

#[cfg(feature = "ssr")]
impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        AppError::internal("database query", &err)
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Arguments the server could not read (an id that is not a number, an unknown summary
            // key): the caller's input, not an outage. (The JSON codec reports its arguments as
            // `Deserialization`, which on the server can only be the arguments; in the browser it
            // is an answer that could not be read, a transport problem.)
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => {
                AppError::Invalid(Vec::new())
            }
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(_) => AppError::Invalid(Vec::new()),
            other => AppError::Transport(other.to_string()),
        }
    }
}
