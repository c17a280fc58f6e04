//! The refund request state machine
//!
//! ```text
//! pending_approval ─approve→ approved ─submit→ submitted ─clear→ cleared ─complete→ refunded
//!        │ reject → rejected                       │ hold                   └─fail→ failed
//!        └ cancel → cancelled                      ↓
//!                                          pending_clearing ─clear→ cleared   (hold again: stays)
//! ```
//! A request starts in `pending_approval` (approval mode) or `submitted` (direct mode).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::codes::{code_enum, Bank, RefundMode, TxnStatus, TxnType};
use super::money::Money;

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

code_enum!(
    /// Why the merchant gives the money back; `Other` needs the operator's words.
    RefundReason {
        ReturnedGoods = "returned_goods",
        NotDelivered = "not_delivered",
        DuplicateCharge = "duplicate_charge",
        WrongAmount = "wrong_amount",
        CustomerRequest = "customer_request",
        Other = "other",
    }
);

/// Whether a refund of `amount` needs a second approver after an approver whose own approval covers
/// refunds up to `limit` (none: no limit). Beyond the manual: a merchant may cap what one approver
/// decides alone.
pub fn needs_second_approval(amount: Money, limit: Option<Money>) -> bool {
    limit.is_some_and(|limit| amount.fen() > limit.fen())
}

/// An approver's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    Approve,
    Reject,
}

/// Why an approver's decision is refused before anything is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionRefusal {
    /// A requester never decides their own request.
    OwnRequest,
    /// The request is no longer waiting for a decision.
    NotPending,
    /// The first approver of an amount above their limit cannot also be the second.
    SecondApproverNeeded,
}

/// A request as an approver's decision sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AwaitingDecision {
    pub status: RefundStatus,
    pub amount: Money,
    pub requested_by: i64,
    /// Who approved first, when the amount needed two approvers.
    pub first_approver: Option<i64>,
}

/// What a decision does to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionSteps {
    /// The statuses the request goes through, in order; the last is where it stays. A first approval
    /// of two leaves the status as it was.
    pub steps: Vec<RefundStatus>,
    /// The approval recorded only who approved first: a second approver must decide.
    pub first_of_two: bool,
}

impl DecisionSteps {
    pub fn to(&self) -> RefundStatus {
        self.steps[self.steps.len() - 1]
    }
}

/// The approval rules: a requester never decides their own request; a decision needs a request
/// waiting for one; an approval above the approver's `limit` (none: no limit) only records the first
/// approver, and a different approver makes the second; an approval that completes is handed to
/// clearing at once (approved, then submitted); a rejection ends the request.
pub fn decide(
    request: AwaitingDecision,
    approver: i64,
    limit: Option<Money>,
    decision: Decision,
) -> Result<DecisionSteps, DecisionRefusal> {
    if request.requested_by == approver {
        return Err(DecisionRefusal::OwnRequest);
    }
    let event = match decision {
        Decision::Approve => RefundEvent::Approve,
        Decision::Reject => RefundEvent::Reject,
    };
    let decided = request
        .status
        .apply(event)
        .map_err(|_| DecisionRefusal::NotPending)?;
    if decision == Decision::Reject {
        return Ok(DecisionSteps {
            steps: vec![decided],
            first_of_two: false,
        });
    }
    if request.first_approver == Some(approver) {
        return Err(DecisionRefusal::SecondApproverNeeded);
    }
    if request.first_approver.is_none() && needs_second_approval(request.amount, limit) {
        return Ok(DecisionSteps {
            steps: vec![request.status],
            first_of_two: true,
        });
    }
    let submitted = decided
        .apply(RefundEvent::Submit)
        .map_err(|_| DecisionRefusal::NotPending)?;
    Ok(DecisionSteps {
        steps: vec![decided, submitted],
        first_of_two: false,
    })
}

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

/// The original transaction of a refund, as a request is checked against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Original {
    pub txn_type: TxnType,
    pub status: TxnStatus,
    pub amount: Money,
    /// Refunds of it already paid back …
    pub refunded: Money,
    /// … and those on their way (normal and fast, neither rejected, cancelled nor failed).
    pub in_flight: Money,
    /// Its day in the merchant's time zone.
    pub day: NaiveDate,
}

impl Original {
    /// What may still be refunded: the amount less what is refunded or on its way, never below zero.
    pub fn refundable(&self) -> Money {
        let left = self.amount.fen() - self.refunded.fen() - self.in_flight.fen();
        Money::from_fen(left.max(0), self.amount.currency())
    }
}

/// A merchant's refund policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefundPolicy {
    /// A transaction may be refunded up to this many days after its day.
    pub window_days: u32,
    /// Refunds requested on one day (normal and fast together) add up to this at most.
    pub daily_quota: Money,
}

/// Why a refund cannot be requested; each is shown to the operator in their language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum RefundRefusal {
    #[error("a {0} cannot be refunded")]
    NotRefundableType(TxnType),
    #[error("only a successful transaction can be refunded, this one is {0}")]
    NotSuccessful(TxnStatus),
    #[error("the transaction is older than the refund window of {window_days} days")]
    OutsideWindow { window_days: u32 },
    #[error("the amount must be more than zero")]
    AmountNotPositive,
    #[error("the amount is in another currency than the transaction")]
    OtherCurrency,
    #[error("at most {refundable_fen} fen can still be refunded")]
    MoreThanRefundable { refundable_fen: i64 },
    #[error("the daily refund quota has {left_fen} fen left")]
    OverDailyQuota { left_fen: i64 },
    #[error("the merchant has not signed the fast-refund agreement")]
    NoFastRefundAgreement,
    #[error("fast refunds are not paid to cards of {0}")]
    BankNotForFastRefund(Bank),
}

/// Kinds of transaction that took the cardholder's money: a purchase and a completed
/// pre-authorisation. A pre-authorisation only holds it; a void or a refund gave it back.
pub const fn is_refundable_type(txn_type: TxnType) -> bool {
    matches!(txn_type, TxnType::Purchase | TxnType::PreAuthCompletion)
}

/// Checks a refund of `amount` against its original transaction and the merchant's policy, on the
/// merchant's day `today`, when `used_today` has been requested already that day. The database
/// enforces the amount and quota limits again where it writes (concurrent requests see the same
/// figures here); this gives the operator the reason.
pub fn check_request(
    original: &Original,
    amount: Money,
    policy: &RefundPolicy,
    used_today: Money,
    today: NaiveDate,
) -> Result<(), RefundRefusal> {
    check_refundable(original, amount, policy.window_days, today)?;
    let left = (policy.daily_quota.fen() - used_today.fen()).max(0);
    if amount.fen() > left {
        return Err(RefundRefusal::OverDailyQuota { left_fen: left });
    }
    Ok(())
}

/// Checks a refund of `amount` against its original transaction within a refund window of
/// `window_days`, on the merchant's day `today`: everything a refund must meet wherever it is made
/// (the console's, the fast and the terminal's). The daily quota is the console's own rule.
pub fn check_refundable(
    original: &Original,
    amount: Money,
    window_days: u32,
    today: NaiveDate,
) -> Result<(), RefundRefusal> {
    if !is_refundable_type(original.txn_type) {
        return Err(RefundRefusal::NotRefundableType(original.txn_type));
    }
    if original.status != TxnStatus::Success {
        return Err(RefundRefusal::NotSuccessful(original.status));
    }
    let age_days = (today - original.day).num_days();
    if age_days > i64::from(window_days) {
        return Err(RefundRefusal::OutsideWindow { window_days });
    }
    if !amount.is_positive() {
        return Err(RefundRefusal::AmountNotPositive);
    }
    if amount.currency() != original.amount.currency() {
        return Err(RefundRefusal::OtherCurrency);
    }
    let refundable = original.refundable();
    if amount.fen() > refundable.fen() {
        return Err(RefundRefusal::MoreThanRefundable {
            refundable_fen: refundable.fen(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use RefundEvent as E;
    use RefundStatus as S;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).expect("a valid day")
    }

    fn purchase(amount: i64, refunded: i64, in_flight: i64) -> Original {
        Original {
            txn_type: TxnType::Purchase,
            status: TxnStatus::Success,
            amount: Money::cny(amount),
            refunded: Money::cny(refunded),
            in_flight: Money::cny(in_flight),
            day: day(1),
        }
    }

    const POLICY: RefundPolicy = RefundPolicy {
        window_days: 30,
        daily_quota: Money::cny(1_000_000),
    };

    fn check(original: &Original, amount: i64, used_today: i64) -> Result<(), RefundRefusal> {
        check_request(
            original,
            Money::cny(amount),
            &POLICY,
            Money::cny(used_today),
            day(2),
        )
    }

    #[test]
    fn a_second_approver_only_above_the_first_ones_limit() {
        assert!(!needs_second_approval(Money::cny(10_000), None));
        assert!(!needs_second_approval(
            Money::cny(10_000),
            Some(Money::cny(10_000))
        ));
        assert!(needs_second_approval(
            Money::cny(10_001),
            Some(Money::cny(10_000))
        ));
    }

    #[test]
    fn partial_refunds_up_to_what_is_left() {
        let p = purchase(5_000, 1_000, 1_500);
        assert_eq!(p.refundable(), Money::cny(2_500));
        assert_eq!(check(&p, 2_500, 0), Ok(()));
        assert_eq!(check(&p, 1, 0), Ok(()));
        assert_eq!(
            check(&p, 2_501, 0),
            Err(RefundRefusal::MoreThanRefundable {
                refundable_fen: 2_500
            })
        );
        let done = purchase(5_000, 5_000, 0);
        assert_eq!(done.refundable(), Money::cny(0));
        assert!(check(&done, 1, 0).is_err());
    }

    #[test]
    fn only_successful_purchases_and_completions_are_refunded() {
        for t in TxnType::ALL {
            let original = Original {
                txn_type: *t,
                ..purchase(5_000, 0, 0)
            };
            let allowed = matches!(t, TxnType::Purchase | TxnType::PreAuthCompletion);
            assert_eq!(check(&original, 100, 0).is_ok(), allowed, "{t}");
        }
        for s in [TxnStatus::Failed, TxnStatus::Reversed] {
            let original = Original {
                status: s,
                ..purchase(5_000, 0, 0)
            };
            assert_eq!(
                check(&original, 100, 0),
                Err(RefundRefusal::NotSuccessful(s))
            );
        }
    }

    #[test]
    fn the_window_counts_whole_days_after_the_transactions_day() {
        let p = purchase(5_000, 0, 0);
        let on = |today| check_request(&p, Money::cny(100), &POLICY, Money::cny(0), today);
        assert_eq!(on(day(31)), Ok(()));
        assert_eq!(
            on(day(1) + chrono::Duration::days(31)),
            Err(RefundRefusal::OutsideWindow { window_days: 30 })
        );
    }

    #[test]
    fn zero_and_negative_amounts_are_refused() {
        let p = purchase(5_000, 0, 0);
        assert_eq!(check(&p, 0, 0), Err(RefundRefusal::AmountNotPositive));
        assert_eq!(check(&p, -100, 0), Err(RefundRefusal::AmountNotPositive));
    }

    #[test]
    fn the_daily_quota_counts_what_was_requested_that_day() {
        let p = purchase(5_000_000, 0, 0);
        assert_eq!(check(&p, 400_000, 600_000), Ok(()));
        assert_eq!(
            check(&p, 400_001, 600_000),
            Err(RefundRefusal::OverDailyQuota { left_fen: 400_000 })
        );
        // Used beyond the quota (the quota was lowered): nothing left, never a negative figure.
        assert_eq!(
            check(&p, 1, 1_200_000),
            Err(RefundRefusal::OverDailyQuota { left_fen: 0 })
        );
    }

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

    #[test]
    fn approval_rules() {
        use Decision::{Approve, Reject};
        use DecisionRefusal::{NotPending, OwnRequest, SecondApproverNeeded};
        let (requester, alice, bob) = (1, 2, 3);
        let waiting = |amount: i64, first: Option<i64>| AwaitingDecision {
            status: S::PendingApproval,
            amount: Money::cny(amount),
            requested_by: requester,
            first_approver: first,
        };
        let done = |steps: &[S], first_of_two| {
            Ok(DecisionSteps {
                steps: steps.to_vec(),
                first_of_two,
            })
        };
        let submitted = done(&[S::Approved, S::Submitted], false);
        // (request, approver, approver's limit fen, decision, what happens)
        let cases = [
            (waiting(500, None), alice, None, Approve, submitted.clone()),
            (
                waiting(500, None),
                alice,
                Some(500),
                Approve,
                submitted.clone(),
            ),
            (
                waiting(500, None),
                alice,
                None,
                Reject,
                done(&[S::Rejected], false),
            ),
            // a requester never decides, either way
            (
                waiting(500, None),
                requester,
                None,
                Approve,
                Err(OwnRequest),
            ),
            (waiting(500, None), requester, None, Reject, Err(OwnRequest)),
            // above the limit: the first approval only records the approver
            (
                waiting(501, None),
                alice,
                Some(500),
                Approve,
                done(&[S::PendingApproval], true),
            ),
            // ... a rejection above the limit needs nobody else
            (
                waiting(501, None),
                alice,
                Some(500),
                Reject,
                done(&[S::Rejected], false),
            ),
            // the second approval is someone else's, whatever their own limit
            (
                waiting(501, Some(alice)),
                bob,
                Some(100),
                Approve,
                submitted.clone(),
            ),
            (
                waiting(501, Some(alice)),
                alice,
                Some(500),
                Approve,
                Err(SecondApproverNeeded),
            ),
            (
                waiting(501, Some(alice)),
                alice,
                None,
                Reject,
                done(&[S::Rejected], false),
            ),
        ];
        for (request, approver, limit, decision, expected) in cases {
            assert_eq!(
                decide(request, approver, limit.map(Money::cny), decision),
                expected,
                "{request:?} by {approver} (limit {limit:?}): {decision:?}"
            );
        }
        for status in [
            S::Approved,
            S::Submitted,
            S::Rejected,
            S::Cancelled,
            S::Cleared,
        ] {
            let request = AwaitingDecision {
                status,
                ..waiting(500, None)
            };
            for decision in [Approve, Reject] {
                assert_eq!(decide(request, alice, None, decision), Err(NotPending));
            }
        }
    }
}
