//! Operator management by a merchant's administrator (manual §3.7.2).
//!
//! Every function takes the administrator's session and works only on operators of the session's
//! merchant: another merchant's operator is "not found", whatever its id. Every change is written with
//! its audit event in one transaction. An administrator cannot disable or demote themself, and a
//! merchant keeps at least one active administrator.

mod credentials;
mod edit;
mod view;

pub use self::credentials::{
    bind_certificate, reset_password, reset_token, unbind_certificate, unlock,
};
pub use self::edit::{create_operator, login_prefix, set_enabled, update_operator, Created};
pub use self::view::{group_options, list_operators, new_operator_options, operator_detail};
