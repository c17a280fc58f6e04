//! The time as the application sees it. Production reads the system clock; tests set and advance a
//! manual clock to cross an idle timeout or a lockout without waiting.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, DurationRound, Utc};

#[derive(Clone, Default)]
pub struct Clock {
    manual: Option<Arc<Mutex<DateTime<Utc>>>>,
}

impl Clock {
    pub fn system() -> Self {
        Self { manual: None }
    }

    /// A clock that stands still at `start` until advanced.
    pub fn manual(start: DateTime<Utc>) -> Self {
        Self {
            manual: Some(Arc::new(Mutex::new(start))),
        }
    }

    /// Now, to the microsecond: what both databases store, so that a value reads back equal.
    pub fn now(&self) -> DateTime<Utc> {
        let now = match &self.manual {
            Some(t) => *t.lock().unwrap_or_else(|poisoned| poisoned.into_inner()),
            None => Utc::now(),
        };
        now.duration_trunc(Duration::microseconds(1)).unwrap_or(now)
    }

    /// Moves a manual clock forward; a system clock ignores it.
    pub fn advance(&self, by: Duration) {
        if let Some(t) = &self.manual {
            let mut t = t.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            *t += by;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_advanced() {
        let start = DateTime::parse_from_rfc3339("2026-11-22T08:00:00.123456789Z")
            .expect("time")
            .with_timezone(&Utc);
        let clock = Clock::manual(start);
        assert_eq!(clock.now().timestamp_subsec_nanos(), 123_456_000);
        clock.advance(Duration::minutes(15));
        assert_eq!(clock.now() - clock.now(), Duration::zero());
        assert_eq!(
            clock.now().timestamp() - start.timestamp(),
            15 * 60,
            "advanced by 15 minutes"
        );
    }
}
