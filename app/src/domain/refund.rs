//! The refund request state machine of SPEC §2.
//!
//! ```text
//! pending_approval ─approve→ approved ─submit→ submitted ─clear→ cleared ─complete→ refunded
//!        │ reject → rejected                       │ hold                   └─fail→ failed
//!        └ cancel → cancelled                      ↓
//!                                          pending_clearing ─clear→ cleared   (hold again: stays)
//! ```
//! A request starts in `pending_approval` (approval mode) or `submitted` (direct mode).

use serde::{Deserialize, Serialize};

use super::codes::{code_enum, RefundMode};

code_enum!(
    RefundStatus {
        PendingApproval = "pending_approval",
        Approved = "approved",
        Rejected = "rejected",
        Cancelled = "cancelled",
        Submitted = "submitted",
        PendingClearing = "pending_clearing",
        Cleared = "cleared",
        Refunded = "refunded",
        Failed = "failed",
    }
);

/// What can happen to a refund request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RefundEvent {
    /// An approver approves (approval mode).
    Approve,
    /// An approver rejects, with a comment.
    Reject,
    /// The requester withdraws a request still waiting for approval.
    Cancel,
    /// An approved request is handed to clearing.
    Submit,
    /// Clearing debited the merchant ledger.
    Clear,
    /// Clearing found the ledger balance short: held until it grows.
    HoldForBalance,
    /// The acquirer paid the cardholder.
    Complete,
    /// The acquirer could not pay the cardholder.
    Fail,
}

impl RefundEvent {
    pub const ALL: &'static [RefundEvent] = &[
        RefundEvent::Approve,
        RefundEvent::Reject,
        RefundEvent::Cancel,
        RefundEvent::Submit,
        RefundEvent::Clear,
        RefundEvent::HoldForBalance,
        RefundEvent::Complete,
        RefundEvent::Fail,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("a refund in status {from} cannot {event:?}")]
pub struct TransitionError {
    pub from: RefundStatus,
    pub event: RefundEvent,
}

impl RefundStatus {
    /// The status a new request starts in.
    pub const fn initial(mode: RefundMode) -> Self {
        match mode {
            RefundMode::Direct => RefundStatus::Submitted,
            RefundMode::Approval => RefundStatus::PendingApproval,
        }
    }

    pub fn apply(self, event: RefundEvent) -> Result<RefundStatus, TransitionError> {
        use RefundEvent as E;
        use RefundStatus as S;
        match (self, event) {
            (S::PendingApproval, E::Approve) => Ok(S::Approved),
            (S::PendingApproval, E::Reject) => Ok(S::Rejected),
            (S::PendingApproval, E::Cancel) => Ok(S::Cancelled),
            (S::Approved, E::Submit) => Ok(S::Submitted),
            (S::Submitted | S::PendingClearing, E::Clear) => Ok(S::Cleared),
            (S::Submitted | S::PendingClearing, E::HoldForBalance) => Ok(S::PendingClearing),
            (S::Cleared, E::Complete) => Ok(S::Refunded),
            (S::Cleared, E::Fail) => Ok(S::Failed),
            (from, event) => Err(TransitionError { from, event }),
        }
    }

    /// No event can move a request out of a final status.
    pub const fn is_final(self) -> bool {
        matches!(
            self,
            Self::Rejected | Self::Cancelled | Self::Refunded | Self::Failed
        )
    }

    /// Whether the amount counts against the original transaction and the daily quota (invariants 1
    /// and 2): everything but a rejected, cancelled or failed request.
    pub const fn holds_amount(self) -> bool {
        !matches!(self, Self::Rejected | Self::Cancelled | Self::Failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RefundEvent as E;
    use RefundStatus as S;

    /// Every legal transition; any (status, event) pair not listed must be refused.
    const LEGAL: &[(RefundStatus, RefundEvent, RefundStatus)] = &[
        (S::PendingApproval, E::Approve, S::Approved),
        (S::PendingApproval, E::Reject, S::Rejected),
        (S::PendingApproval, E::Cancel, S::Cancelled),
        (S::Approved, E::Submit, S::Submitted),
        (S::Submitted, E::Clear, S::Cleared),
        (S::Submitted, E::HoldForBalance, S::PendingClearing),
        (S::PendingClearing, E::Clear, S::Cleared),
        (S::PendingClearing, E::HoldForBalance, S::PendingClearing),
        (S::Cleared, E::Complete, S::Refunded),
        (S::Cleared, E::Fail, S::Failed),
    ];

    #[test]
    fn every_transition_legal_and_illegal() {
        let mut checked = 0;
        for &from in S::ALL {
            for &event in E::ALL {
                let expected = LEGAL
                    .iter()
                    .find(|(f, e, _)| *f == from && *e == event)
                    .map(|(_, _, to)| *to);
                match expected {
                    Some(to) => assert_eq!(from.apply(event), Ok(to), "{from} --{event:?}-->"),
                    None => assert_eq!(
                        from.apply(event),
                        Err(TransitionError { from, event }),
                        "{from} --{event:?}--> must be refused"
                    ),
                }
                checked += 1;
            }
        }
        assert_eq!(checked, S::ALL.len() * E::ALL.len());
    }

    #[test]
    fn final_statuses_have_no_way_out() {
        for &s in S::ALL.iter().filter(|s| s.is_final()) {
            assert!(E::ALL.iter().all(|e| s.apply(*e).is_err()), "{s}");
        }
    }

    #[test]
    fn mode_decides_the_initial_status() {
        assert_eq!(S::initial(RefundMode::Direct), S::Submitted);
        assert_eq!(S::initial(RefundMode::Approval), S::PendingApproval);
    }

    #[test]
    fn rejected_cancelled_and_failed_release_the_amount() {
        let released: Vec<_> = S::ALL
            .iter()
            .filter(|s| !s.holds_amount())
            .copied()
            .collect();
        assert_eq!(released, vec![S::Rejected, S::Cancelled, S::Failed]);
    }
}
