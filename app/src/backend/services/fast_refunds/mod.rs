//! Fast refunds (manual §3.6): paid by the cardholder's bank into the card's account within three
//! business days, instead of the card scheme's slow refund.
//!
//! A fast refund is a refund like any other to the amounts it holds: it goes through the same
//! guards as a refund request ([`take_refundable`](crate::backend::services::refunds) and the
//! daily quota), in its own transaction, so that normal and fast refunds racing on one
//! transaction or one day never pass the original's amount or the quota together (invariants 1
//! and 2). It holds both while it is processing or waits for a correction; the bank paying it
//! turns it into refunded on the original; the bank failing it gives both back.
//!
//! One file per step: the form and the cardholder's fields ([`form`]), sending one
//! ([`request`]), the bank and its worker ([`bank`]), correcting a rejected one ([`correct`]),
//! the query and the exception list ([`query`]) and its download ([`export`]).

pub mod bank;
mod correct;
mod export;
mod form;
mod query;
mod request;
pub mod template;
pub mod upload;

pub use self::correct::resubmit;
pub use self::export::{export, EXPORT_LIMIT};
pub use self::form::{candidates, form, Cardholder, NewFastRefund};
pub use self::query::{all, detail, search, FastRefundQuery};
pub use self::request::request;
