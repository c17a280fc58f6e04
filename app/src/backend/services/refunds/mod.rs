//! Refund requests (manual §3.4): the form of a transaction, the request, its cancellation, the
//! approvers' decisions and the request query.
//!
//! The amounts are guarded where they are written (invariants 1 and 2), each by one
//! conditional statement in the request's transaction: the original transaction's `refund_pending_fen`
//! grows only while refunded + in flight stays within its amount (the table's CHECK says so too), and
//! the merchant's day in `refund_quota_days` grows only while it stays within the quota
//! (`take_refundable` and `take_quota`, the guards every refund goes through). Concurrent
//! requests are thus decided by the database; [`check_request`](crate::domain::refund::check_request) before them gives the reason in words.
//! A request that stops counting (rejected, cancelled) gives both amounts back in the transaction
//! that changes its status. Every status change goes through [`RefundStatus::apply`](crate::domain::refund::RefundStatus::apply), is a
//! conditional update on the status read (a concurrent change makes it touch no row: refused), and
//! writes a `refund_events` row and an audit record.

mod decision;
mod form;
mod query;
mod request;

pub use self::decision::{cancel, decide, DecisionInput};
pub use self::form::{form, NewRefund};
pub(crate) use self::form::{merchant_policy, original_of, quota_used, today, MerchantPolicy};
pub(crate) use self::query::operator_names;
pub use self::query::{approvals, count_in, detail, held, pending, search, RefundQuery};
pub use self::request::request;
pub(crate) use self::request::{
    count_refunded, give_back, refuse, take_quota, take_refundable, Counted,
};
