//! What moves an operator's account between its statuses. Every change of status in the services
//! is one of these events, written as a conditional update from the statuses it applies to, so
//! that two changes at once cannot both apply to a status the first one left.

use super::codes::OperatorStatus;

/// What happens to an operator's account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorEvent {
    /// Too many wrong passwords in a row with the operator's own certificate.
    Lock,
    /// The lock's time is over, or an administrator lifts it.
    Unlock,
    /// An administrator disables the account (and ends its sessions).
    Disable,
    /// An administrator enables the account; a lock it had is lifted too.
    Enable,
}

impl OperatorEvent {
    /// The statuses the event moves an account from.
    pub const fn from(self) -> &'static [OperatorStatus] {
        use OperatorStatus::{Active, Disabled, Locked};
        match self {
            Self::Lock => &[Active],
            Self::Unlock => &[Locked],
            Self::Disable | Self::Enable => &[Active, Locked, Disabled],
        }
    }

    /// The status the event leaves an account in.
    pub const fn to(self) -> OperatorStatus {
        match self {
            Self::Lock => OperatorStatus::Locked,
            Self::Unlock | Self::Enable => OperatorStatus::Active,
            Self::Disable => OperatorStatus::Disabled,
        }
    }
}

impl OperatorStatus {
    /// The status after `event`, or `None` when the event does not apply to this status.
    pub fn apply(self, event: OperatorEvent) -> Option<OperatorStatus> {
        event.from().contains(&self).then_some(event.to())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OperatorEvent::{Disable, Enable, Lock, Unlock};
    use OperatorStatus::{Active, Disabled, Locked};

    #[test]
    fn each_event_moves_only_the_statuses_it_applies_to() {
        // (status, event, after)
        let cases = [
            (Active, Lock, Some(Locked)),
            (Locked, Lock, None),
            (Disabled, Lock, None),
            (Locked, Unlock, Some(Active)),
            (Active, Unlock, None),
            (Disabled, Unlock, None),
            (Active, Disable, Some(Disabled)),
            (Locked, Disable, Some(Disabled)),
            (Disabled, Disable, Some(Disabled)),
            (Disabled, Enable, Some(Active)),
            (Locked, Enable, Some(Active)),
            (Active, Enable, Some(Active)),
        ];
        for (status, event, after) in cases {
            assert_eq!(status.apply(event), after, "{status} {event:?}");
        }
    }
}
