//! What keeps sign-in from being used against the console itself.
//!
//! - [`PasswordChecks`]: argon2id takes about 19 MiB and tens of milliseconds of CPU per check. Without
//!   a bound, a flood of sign-ins (any platform certificate can send them) would start one check per
//!   request on the blocking pool: gigabytes of memory and every core. Checks run a few at a time;
//!   a short queue waits, anything beyond it is refused at once as busy.
//! - [`Throttle::sign_in_attempt`]: sign-in attempts per certificate and per network address in a
//!   minute, so that guessing (at passwords or, by a script, at captchas) is slow whatever the
//!   captcha's strength.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::AppError;

/// The numbers of [`Throttle`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleLimits {
    /// Password checks (argon2id) running at once.
    pub password_checks: usize,
    /// Checks that may wait for a running one to finish; more are refused as busy.
    pub password_queue: usize,
    /// How long a waiting check waits before it is refused as busy.
    pub password_wait: Duration,
    /// Sign-in attempts one client certificate may make in a minute.
    pub sign_ins_per_certificate: u32,
    /// Sign-in attempts one network address may make in a minute (an office behind one address
    /// shares it).
    pub sign_ins_per_address: u32,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        // Leave a core to the signed-in users: a flood of sign-ins then takes at most the rest.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let checks = cores.saturating_sub(1).max(1);
        Self {
            password_checks: checks,
            password_queue: 4 * checks,
            password_wait: Duration::from_secs(2),
            sign_ins_per_certificate: 10,
            sign_ins_per_address: 60,
        }
    }
}

/// The shared state of the limits, one per process.
#[derive(Debug)]
pub struct Throttle {
    pub limits: ThrottleLimits,
    pub password_checks: PasswordChecks,
    sign_ins: AttemptWindow,
}

impl Default for Throttle {
    fn default() -> Self {
        Self::new(ThrottleLimits::default())
    }
}

impl Throttle {
    pub fn new(limits: ThrottleLimits) -> Self {
        Self {
            limits,
            password_checks: PasswordChecks::new(
                limits.password_checks,
                limits.password_queue,
                limits.password_wait,
            ),
            sign_ins: AttemptWindow::default(),
        }
    }

    /// Counts a sign-in attempt of `certificate` from `address`; refuses it when either has used its
    /// minute's attempts. A refused attempt counts too, so that hammering does not shorten the wait.
    pub fn sign_in_attempt(
        &self,
        certificate: &str,
        address: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let by_cert = self.sign_ins.count(
            format!("c:{certificate}"),
            self.limits.sign_ins_per_certificate,
            now,
        );
        let by_addr = self.sign_ins.count(
            format!("a:{address}"),
            self.limits.sign_ins_per_address,
            now,
        );
        match by_cert.max(by_addr) {
            0 => Ok(()),
            retry_after_s => Err(AppError::TooManyAttempts { retry_after_s }),
        }
    }
}

/// A bound on the password checks running at once, with a short queue.
#[derive(Debug)]
pub struct PasswordChecks {
    running: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
    wait: Duration,
}

impl PasswordChecks {
    pub fn new(running: usize, max_waiting: usize, wait: Duration) -> Self {
        Self {
            running: Arc::new(Semaphore::new(running.max(1))),
            waiting: AtomicUsize::new(0),
            max_waiting,
            wait,
        }
    }

    /// A place for one check, when one is free; [`AppError::Busy`] when the queue is full or the
    /// wait runs out.
    pub async fn acquire(&self) -> Result<CheckPermit, AppError> {
        if let Ok(permit) = self.running.clone().try_acquire_owned() {
            return Ok(CheckPermit(permit));
        }
        // The place in the queue is given back however the wait ends, also when the request is
        // dropped while it waits (its browser went away): a lost place would shrink the queue for
        // good.
        let Some(_queued) = Queued::join(&self.waiting, self.max_waiting) else {
            return Err(AppError::Busy);
        };
        match tokio::time::timeout(self.wait, self.running.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(CheckPermit(permit)),
            _ => Err(AppError::Busy),
        }
    }

    /// Runs `check` on the blocking pool once a place is free.
    pub async fn run<T: Send + 'static>(
        &self,
        check: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        self.acquire().await?.run(check).await
    }
}

/// One place in the queue of [`PasswordChecks`], given back when dropped.
struct Queued<'a>(&'a AtomicUsize);

impl<'a> Queued<'a> {
    fn join(waiting: &'a AtomicUsize, max_waiting: usize) -> Option<Self> {
        let queued = Queued(waiting);
        (waiting.fetch_add(1, Ordering::AcqRel) < max_waiting).then_some(queued)
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A place among the running checks, held until its check has run.
#[derive(Debug)]
pub struct CheckPermit(OwnedSemaphorePermit);

impl CheckPermit {
    /// Runs `check` on the blocking pool (argon2 would hold up a request thread for its whole time).
    /// The place goes with the check, not with the request: a request dropped meanwhile leaves its
    /// check running, and the place stays taken until the check ends, so that requests sent and
    /// abandoned cannot start more checks than the bound.
    pub async fn run<T: Send + 'static>(
        self,
        check: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let CheckPermit(place) = self;
        tokio::task::spawn_blocking(move || {
            let result = check();
            drop(place);
            result
        })
        .await
        .map_err(|e| AppError::internal("checking a password", &e))
    }
}

/// Attempts per key in the current minute. Keys of earlier minutes are dropped as the minute turns,
/// so the map holds at most one minute's keys.
#[derive(Debug, Default)]
struct AttemptWindow {
    inner: Mutex<Window>,
}

#[derive(Debug, Default)]
struct Window {
    minute: i64,
    counts: HashMap<String, u32>,
}

impl AttemptWindow {
    /// Counts one attempt of `key`; 0 when it is within `limit`, otherwise the seconds until the
    /// minute turns.
    fn count(&self, key: String, limit: u32, now: DateTime<Utc>) -> u32 {
        let minute = now.timestamp().div_euclid(60);
        let mut window = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if window.minute != minute {
            window.minute = minute;
            window.counts.clear();
        }
        let count = window.counts.entry(key).or_insert(0);
        *count = count.saturating_add(1);
        if *count <= limit {
            0
        } else {
            (60 - now.timestamp().rem_euclid(60)) as u32
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(second: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, 9, 30, 0).unwrap()
            + chrono::Duration::seconds(second.into())
    }

    #[test]
    fn a_certificate_gets_its_minutes_attempts_then_waits_for_the_next_minute() {
        let throttle = Throttle::new(ThrottleLimits {
            sign_ins_per_certificate: 3,
            sign_ins_per_address: 100,
            ..ThrottleLimits::default()
        });
        for _ in 0..3 {
            assert_eq!(
                throttle.sign_in_attempt("cert-a", "10.0.0.1", at(10)),
                Ok(())
            );
        }
        assert_eq!(
            throttle.sign_in_attempt("cert-a", "10.0.0.1", at(15)),
            Err(AppError::TooManyAttempts { retry_after_s: 45 })
        );
        // Another certificate from the same address is not held up.
        assert_eq!(
            throttle.sign_in_attempt("cert-b", "10.0.0.1", at(15)),
            Ok(())
        );
        // The next minute starts afresh.
        assert_eq!(
            throttle.sign_in_attempt("cert-a", "10.0.0.1", at(60)),
            Ok(())
        );
    }

    #[test]
    fn an_address_is_limited_across_certificates() {
        let throttle = Throttle::new(ThrottleLimits {
            sign_ins_per_certificate: 100,
            sign_ins_per_address: 2,
            ..ThrottleLimits::default()
        });
        assert_eq!(throttle.sign_in_attempt("c1", "10.0.0.9", at(0)), Ok(()));
        assert_eq!(throttle.sign_in_attempt("c2", "10.0.0.9", at(1)), Ok(()));
        assert!(throttle.sign_in_attempt("c3", "10.0.0.9", at(2)).is_err());
        assert_eq!(throttle.sign_in_attempt("c3", "10.0.0.8", at(2)), Ok(()));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn checks_beyond_the_running_and_waiting_places_are_refused_at_once() {
        let checks = std::sync::Arc::new(PasswordChecks::new(1, 1, Duration::from_secs(5)));
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let hold = std::sync::Arc::new(Mutex::new(hold));
        let running = {
            let (checks, hold) = (checks.clone(), hold.clone());
            tokio::spawn(async move {
                checks
                    .run(move || drop(hold.lock().map(|h| h.recv())))
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        let waiting = {
            let checks = checks.clone();
            tokio::spawn(async move { checks.run(|| 7).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started = std::time::Instant::now();
        assert_eq!(checks.run(|| 8).await, Err(AppError::Busy));
        assert!(
            started.elapsed() < Duration::from_millis(100),
            "refused at once"
        );
        release.send(()).expect("release the running check");
        assert_eq!(running.await.expect("running"), Ok(()));
        assert_eq!(waiting.await.expect("waiting"), Ok(7));
    }

    #[tokio::test]
    async fn a_wait_that_runs_out_is_busy() {
        let checks = PasswordChecks::new(1, 4, Duration::from_millis(20));
        let _held = checks.running.try_acquire().expect("the one place");
        assert_eq!(checks.run(|| ()).await, Err(AppError::Busy));
        assert_eq!(checks.waiting.load(Ordering::Acquire), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_request_dropped_while_it_waits_gives_its_place_in_the_queue_back() {
        let checks = PasswordChecks::new(1, 1, Duration::from_secs(5));
        let held = checks
            .running
            .clone()
            .try_acquire_owned()
            .expect("the one place");
        let waiting = tokio::time::timeout(Duration::from_millis(30), checks.acquire()).await;
        assert!(waiting.is_err(), "still waiting when dropped");
        assert_eq!(checks.waiting.load(Ordering::Acquire), 0);
        drop(held);
        assert!(checks.run(|| ()).await.is_ok());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_check_keeps_its_place_until_it_ends_even_if_its_request_is_dropped() {
        let checks = PasswordChecks::new(1, 0, Duration::from_secs(5));
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let permit = checks.acquire().await.expect("a place");
        let dropped = tokio::time::timeout(
            Duration::from_millis(30),
            permit.run(move || hold.recv().is_ok()),
        )
        .await;
        assert!(dropped.is_err(), "the request gave up");
        // The check still runs: no place for another.
        assert_eq!(checks.run(|| ()).await, Err(AppError::Busy));
        release.send(()).expect("end the check");
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(checks.run(|| ()).await.is_ok());
    }
}
