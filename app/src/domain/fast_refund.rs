//! The fast-refund state machine (manual §3.6).
//!
//! ```text
//! processing ─bank pays→ success
//!     │ bank fails → failed
//!     └ bank rejects the cardholder data → exception ─corrected and resubmitted→ processing
//! ```

use serde::{Deserialize, Serialize};

use super::codes::{code_enum, Bank};
use super::refund::RefundRefusal;

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

/// Checks what a fast refund needs beyond what every refund needs
/// ([`check_request`](super::refund::check_request)): the merchant's agreement, and a card of a bank
/// that pays fast refunds (manual §3.6.1.2: credit and debit cards of the nine banks alike).
pub fn check_fast_refund(agreement: bool, issuer: Bank) -> Result<(), RefundRefusal> {
    if !agreement {
        return Err(RefundRefusal::NoFastRefundAgreement);
    }
    if !issuer.supports_fast_refund() {
        return Err(RefundRefusal::BankNotForFastRefund(issuer));
    }
    Ok(())
}

/// Whether an item still open on `today` has passed its due date: the bank owes it (processing) or
/// the merchant has not yet corrected it (exception).
pub fn is_overdue(
    status: FastRefundStatus,
    due: chrono::NaiveDate,
    today: chrono::NaiveDate,
) -> bool {
    !status.is_final() && today > due
}

code_enum!(
    /// The columns of the batch template, in their order in the file.
    BatchColumn {
        /// The original transaction's 12-digit reference number.
        Reference = "reference",
        Amount = "amount",
        Reason = "reason",
        Name = "name",
        IdType = "id_type",
        IdNumber = "id_number",
        Bank = "bank",
        Province = "province",
        City = "city",
        Branch = "branch",
    }
);

impl BatchColumn {
    /// The column's letter in the file.
    pub fn letter(self) -> char {
        let index = BatchColumn::ALL
            .iter()
            .position(|c| *c == self)
            .unwrap_or(0);
        char::from(b'A' + index as u8)
    }
}

/// Business days within which the bank pays a fast refund whose cardholder data is right (manual
/// §3.6.1.3).
pub const BUSINESS_DAYS_TO_PAY: u32 = 3;

/// The day a fast refund sent on `sent` is due: [`BUSINESS_DAYS_TO_PAY`] business days later,
/// weekends and `holidays` skipped (the day it was sent does not count).
pub fn due_date(sent: chrono::NaiveDate, holidays: &[chrono::NaiveDate]) -> chrono::NaiveDate {
    use chrono::Datelike;
    let mut day = sent;
    let mut left = BUSINESS_DAYS_TO_PAY;
    while left > 0 {
        day = day.succ_opt().unwrap_or(day);
        let weekend = matches!(day.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun);
        if !weekend && !holidays.contains(&day) {
            left -= 1;
        }
    }
    day
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

    fn date(text: &str) -> chrono::NaiveDate {
        text.parse().expect("date")
    }

    #[test]
    fn a_fast_refund_is_due_three_business_days_later() {
        // Monday → Thursday; Thursday → the next Tuesday; Saturday → Wednesday.
        assert_eq!(due_date(date("2026-12-07"), &[]), date("2026-12-10"));
        assert_eq!(due_date(date("2026-12-10"), &[]), date("2026-12-15"));
        assert_eq!(due_date(date("2026-12-12"), &[]), date("2026-12-16"));
        // New Year's Day (a Friday) skipped as well.
        let holidays = [date("2027-01-01")];
        assert_eq!(due_date(date("2026-12-30"), &holidays), date("2027-01-05"));
    }

    #[test]
    fn only_agreed_merchants_and_the_nine_banks() {
        assert_eq!(check_fast_refund(true, Bank::Icbc), Ok(()));
        assert_eq!(
            check_fast_refund(false, Bank::Icbc),
            Err(RefundRefusal::NoFastRefundAgreement)
        );
        assert_eq!(
            check_fast_refund(true, Bank::Boc),
            Err(RefundRefusal::BankNotForFastRefund(Bank::Boc))
        );
        assert_eq!(
            check_fast_refund(true, Bank::Foreign),
            Err(RefundRefusal::BankNotForFastRefund(Bank::Foreign))
        );
    }

    #[test]
    fn open_items_past_their_due_day_are_overdue() {
        let due = date("2026-12-10");
        assert!(!is_overdue(S::Processing, due, due));
        assert!(is_overdue(S::Processing, due, date("2026-12-11")));
        assert!(is_overdue(S::Exception, due, date("2026-12-11")));
        assert!(!is_overdue(S::Success, due, date("2026-12-11")));
        assert!(!is_overdue(S::Failed, due, date("2026-12-11")));
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
