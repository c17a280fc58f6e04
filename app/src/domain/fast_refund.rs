//! The fast-refund state machine (manual §3.6).
//!
//! ```text
//! processing ─bank pays→ success
//!     │ bank fails → failed
//!     └ bank rejects the cardholder data → exception ─corrected and resubmitted→ processing
//! ```

use serde::{Deserialize, Serialize};

use super::codes::code_enum;

code_enum!(
    FastRefundStatus {
        Processing = "processing",
        Success = "success",
        Failed = "failed",
        Exception = "exception",
    }
);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FastRefundEvent {
    /// The bank paid the cardholder.
    BankPaid,
    /// The bank could not pay (e.g. the card account is closed).
    BankFailed,
    /// The bank rejected the cardholder's identity, province, city or branch.
    BankRejectedData,
    /// The merchant corrected the data and sent it again.
    Resubmit,
}

impl FastRefundEvent {
    pub const ALL: &'static [FastRefundEvent] = &[
        FastRefundEvent::BankPaid,
        FastRefundEvent::BankFailed,
        FastRefundEvent::BankRejectedData,
        FastRefundEvent::Resubmit,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("a fast refund in status {from} cannot {event:?}")]
pub struct FastRefundTransitionError {
    pub from: FastRefundStatus,
    pub event: FastRefundEvent,
}

impl FastRefundStatus {
    pub fn apply(
        self,
        event: FastRefundEvent,
    ) -> Result<FastRefundStatus, FastRefundTransitionError> {
        use FastRefundEvent as E;
        use FastRefundStatus as S;
        match (self, event) {
            (S::Processing, E::BankPaid) => Ok(S::Success),
            (S::Processing, E::BankFailed) => Ok(S::Failed),
            (S::Processing, E::BankRejectedData) => Ok(S::Exception),
            (S::Exception, E::Resubmit) => Ok(S::Processing),
            (from, event) => Err(FastRefundTransitionError { from, event }),
        }
    }

    pub const fn is_final(self) -> bool {
        matches!(self, Self::Success | Self::Failed)
    }

    /// Whether the amount counts against the original transaction and the daily quota.
    pub const fn holds_amount(self) -> bool {
        !matches!(self, Self::Failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use FastRefundEvent as E;
    use FastRefundStatus as S;

    const LEGAL: &[(FastRefundStatus, FastRefundEvent, FastRefundStatus)] = &[
        (S::Processing, E::BankPaid, S::Success),
        (S::Processing, E::BankFailed, S::Failed),
        (S::Processing, E::BankRejectedData, S::Exception),
        (S::Exception, E::Resubmit, S::Processing),
    ];

    #[test]
    fn every_transition_legal_and_illegal() {
        for &from in S::ALL {
            for &event in E::ALL {
                let expected = LEGAL
                    .iter()
                    .find(|(f, e, _)| *f == from && *e == event)
                    .map(|t| t.2);
                match expected {
                    Some(to) => assert_eq!(from.apply(event), Ok(to)),
                    None => assert_eq!(
                        from.apply(event),
                        Err(FastRefundTransitionError { from, event })
                    ),
                }
            }
        }
    }

    #[test]
    fn success_and_failure_are_final() {
        for s in [S::Success, S::Failed] {
            assert!(s.is_final());
            assert!(E::ALL.iter().all(|e| s.apply(*e).is_err()));
        }
        assert!(!S::Exception.is_final(), "an exception can be corrected");
    }
}
