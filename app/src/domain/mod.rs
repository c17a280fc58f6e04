//! Pure domain types and rules: no web, no database. Compiles for the browser too, so the UI reuses
//! the same validation.

pub mod access;
pub mod breakdown;
pub mod card;
pub mod cardholder;
pub mod clearing;
pub mod codes;
pub mod fast_refund;
pub mod gateway;
pub mod ids;
pub mod money;
pub mod operator;
pub mod password;
pub mod reconciliation;
pub mod refund;
pub mod regions;

pub use card::{Last4, MaskedAccount, MaskedPan};
pub use codes::*;
pub use ids::*;
pub use money::{Currency, Money, MoneyError};
pub use operator::OperatorEvent;
