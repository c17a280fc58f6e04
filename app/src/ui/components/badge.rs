//! Status badges: one colour per meaning, whatever the status belongs to, so that "waiting" looks the
//! same on a refund, a settlement and a download.

use leptos::prelude::*;

use crate::domain::fast_refund::FastRefundStatus;
use crate::domain::refund::RefundStatus;
use crate::domain::{ExportStatus, SettlementStatus, TerminalStatus, TxnStatus};
use crate::i18n::{use_i18n, Label};

/// What a status means to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Something is still to happen (an approval, a payout, a file being written).
    Waiting,
    /// Waiting for money: held at clearing until the balance covers it.
    Held,
    Done,
    /// Stopped on purpose: rejected, cancelled, reversed.
    Refused,
    Failed,
    /// Over, nothing to do (an expired file).
    Neutral,
}

impl Tone {
    pub const fn class(self) -> &'static str {
        match self {
            Tone::Waiting => "badge badge-waiting",
            Tone::Held => "badge badge-held",
            Tone::Done => "badge badge-done",
            Tone::Refused => "badge badge-refused",
            Tone::Failed => "badge badge-failed",
            Tone::Neutral => "badge",
        }
    }
}

/// A status with a [`Tone`].
pub trait Toned: Label + Copy + Send + Sync + 'static {
    fn tone(self) -> Tone;
}

impl Toned for TxnStatus {
    fn tone(self) -> Tone {
        match self {
            TxnStatus::Success => Tone::Done,
            TxnStatus::Failed => Tone::Failed,
            TxnStatus::Reversed => Tone::Refused,
        }
    }
}

impl Toned for SettlementStatus {
    fn tone(self) -> Tone {
        match self {
            SettlementStatus::Pending => Tone::Waiting,
            SettlementStatus::Paid => Tone::Done,
        }
    }
}

impl Toned for RefundStatus {
    fn tone(self) -> Tone {
        use RefundStatus as S;
        match self {
            S::PendingApproval | S::Approved | S::Submitted => Tone::Waiting,
            S::PendingClearing => Tone::Held,
            S::Cleared | S::Refunded => Tone::Done,
            S::Rejected | S::Cancelled => Tone::Refused,
            S::Failed => Tone::Failed,
        }
    }
}

impl Toned for FastRefundStatus {
    fn tone(self) -> Tone {
        match self {
            FastRefundStatus::Processing => Tone::Waiting,
            // The merchant has to act: correct and resend.
            FastRefundStatus::Exception => Tone::Held,
            FastRefundStatus::Success => Tone::Done,
            FastRefundStatus::Failed => Tone::Failed,
        }
    }
}

impl Toned for ExportStatus {
    fn tone(self) -> Tone {
        match self {
            ExportStatus::Queued | ExportStatus::Running => Tone::Waiting,
            ExportStatus::Done => Tone::Done,
            ExportStatus::Failed => Tone::Failed,
            ExportStatus::Expired => Tone::Neutral,
        }
    }
}

impl Toned for TerminalStatus {
    fn tone(self) -> Tone {
        match self {
            TerminalStatus::Enabled => Tone::Done,
            TerminalStatus::Disabled => Tone::Refused,
        }
    }
}

/// A status as a badge in the page's language.
#[component]
pub fn StatusBadge<S: Toned>(status: S) -> impl IntoView {
    let i18n = use_i18n();
    view! { <span class=status.tone().class()>{move || status.label(i18n.lang())}</span> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_meaning_has_its_own_colour_and_statuses_keep_theirs() {
        let tones = [
            Tone::Waiting,
            Tone::Held,
            Tone::Done,
            Tone::Refused,
            Tone::Failed,
            Tone::Neutral,
        ];
        let classes: std::collections::HashSet<_> = tones.iter().map(|t| t.class()).collect();
        assert_eq!(classes.len(), tones.len());
        // The same meaning looks the same across kinds of status.
        assert_eq!(
            RefundStatus::PendingApproval.tone(),
            SettlementStatus::Pending.tone()
        );
        assert_eq!(RefundStatus::Refunded.tone(), TxnStatus::Success.tone());
        assert_eq!(ExportStatus::Failed.tone(), RefundStatus::Failed.tone());
        // Held at clearing is its own colour, and a refusal is not a failure.
        assert_eq!(RefundStatus::PendingClearing.tone(), Tone::Held);
        assert_ne!(RefundStatus::Rejected.tone(), RefundStatus::Failed.tone());
    }
}
