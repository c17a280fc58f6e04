//! A short memory of the sessions this process has read, so that a browser's burst of requests (a
//! search page with its summary, a user paging on) reads its session from the database once.
//!
//! What it may serve, and for how long:
//! - a session read from the database less than the cache's time to live ago (one second by default,
//!   [`crate::backend::AuthConfig::session_cache`]), presented by the same certificate, within its
//!   absolute and idle limits at the request's time; anything else is read again (and ended there if
//!   it has run out, with its audit entry);
//! - never across a change made by this process: every request that may change a session or what it
//!   grants (anything but a page or a server function known to only read, see the request guard)
//!   forgets every entry before its answer leaves;
//! - a change made elsewhere (another instance, the command line) takes effect within the time to
//!   live, as it would have for a request already under way.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::{ClientIdentity, Session};

/// Entries beyond which the expired ones are dropped (and, if that is not enough, all of them).
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug, Clone)]
pub struct SessionCache {
    ttl: Duration,
    entries: Arc<Mutex<Entries>>,
}

#[derive(Debug, Default)]
struct Entries {
    by_token_hash: HashMap<String, Entry>,
    /// Counts the forgetting: a session read from the database before a forgetting is not kept
    /// after it (the read may predate the change that caused it).
    generation: u64,
}

/// What [`SessionCache::generation`] was when a session was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generation(u64);

#[derive(Debug)]
struct Entry {
    session: Session,
    /// When it was read, by the monotonic clock and by the console's.
    read_at: Instant,
    read_now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
}

/// When a session read from the database ends: its absolute limit and its last activity.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub expires_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

impl SessionCache {
    /// A cache whose entries live `ttl`; zero keeps nothing.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Arc::default(),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        // An entry is written whole under the lock: a panic elsewhere leaves none half-written.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The session of `token_hash` as last read, if it may still be served to `identity` at `now`
    /// with sessions ending after `idle` without a request.
    pub fn get(
        &self,
        token_hash: &str,
        identity: &ClientIdentity,
        now: DateTime<Utc>,
        idle: chrono::Duration,
    ) -> Option<Session> {
        let entries = self.entries();
        let entry = entries.by_token_hash.get(token_hash)?;
        // A console clock before the read (a negative age) is no time within it either.
        let fresh = entry.read_at.elapsed() < self.ttl
            && (now - entry.read_now)
                .to_std()
                .is_ok_and(|age| age < self.ttl)
            && entry.session.cert_fingerprint == identity.fingerprint
            && now < entry.expires_at
            && now - entry.last_seen_at < idle;
        fresh.then(|| Session {
            remote_addr: identity.remote_addr.ip().to_string(),
            ..entry.session.clone()
        })
    }

    /// Taken before a session is read from the database, for [`SessionCache::put`].
    pub fn generation(&self) -> Generation {
        Generation(self.entries().generation)
    }

    /// Remembers a session read from the database at `now`, unless something was forgotten since
    /// `read_in` was taken.
    pub fn put(&self, session: &Session, limits: Limits, now: DateTime<Utc>, read_in: Generation) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries();
        if entries.generation != read_in.0 {
            return;
        }
        let map = &mut entries.by_token_hash;
        if map.len() >= MAX_ENTRIES {
            map.retain(|_, e| e.read_at.elapsed() < self.ttl);
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
        }
        map.insert(
            session.token_hash.clone(),
            Entry {
                session: session.clone(),
                read_at: Instant::now(),
                read_now: now,
                expires_at: limits.expires_at,
                last_seen_at: limits.last_seen_at,
            },
        );
    }

    /// Forgets the session of `token_hash`: it has ended.
    pub fn forget(&self, token_hash: &str) {
        let mut entries = self.entries();
        entries.generation += 1;
        entries.by_token_hash.remove(token_hash);
    }

    /// Forgets every session: this process may have changed one.
    pub fn forget_all(&self) {
        let mut entries = self.entries();
        entries.generation += 1;
        entries.by_token_hash.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::DataScope;

    fn identity(fingerprint: &str) -> ClientIdentity {
        ClientIdentity {
            fingerprint: fingerprint.to_owned(),
            subject_cn: "a".into(),
            serial_hex: "01".into(),
            not_before: Utc::now(),
            not_after: Utc::now(),
            remote_addr: "10.0.0.2:4000".parse().expect("an address"),
            kind: crate::backend::CertKind::Operator,
        }
    }

    fn session() -> Session {
        Session {
            token_hash: "h1".into(),
            operator_id: 1,
            merchant_id: 1,
            login_name: "a".into(),
            display_name: "A".into(),
            roles: Vec::new(),
            functions: Vec::new(),
            scope: DataScope::Merchant,
            group_ids: Vec::new(),
            must_change_password: false,
            cert_fingerprint: "f1".into(),
            remote_addr: "10.0.0.1".into(),
            tz: chrono_tz::Asia::Shanghai,
            currency: crate::domain::Currency::Cny,
        }
    }

    /// A session just active, ending in an hour.
    fn an_hour_left(now: DateTime<Utc>) -> Limits {
        Limits {
            expires_at: now + chrono::Duration::hours(1),
            last_seen_at: now,
        }
    }

    #[test]
    fn a_session_is_served_only_within_its_limits_to_its_certificate() {
        let (now, idle) = (Utc::now(), chrono::Duration::minutes(15));
        let limits = an_hour_left(now);
        let cache = SessionCache::new(Duration::from_secs(60));
        assert!(cache.get("h1", &identity("f1"), now, idle).is_none());
        cache.put(&session(), limits, now, cache.generation());
        let served = cache.get("h1", &identity("f1"), now, idle).expect("served");
        assert_eq!(served.operator_id, 1);
        // The address is the request's, not the one of the request that read it.
        assert_eq!(
            served.remote_addr,
            identity("f1").remote_addr.ip().to_string()
        );
        // Another certificate, the idle limit, the absolute limit: read again.
        assert!(cache.get("h1", &identity("f2"), now, idle).is_none());
        assert!(cache.get("h1", &identity("f1"), now + idle, idle).is_none());
        let late = limits.expires_at;
        assert!(cache
            .get("h1", &identity("f1"), late, chrono::Duration::days(1))
            .is_none());
        assert!(cache.get("h2", &identity("f1"), now, idle).is_none());
        cache.forget_all();
        cache.put(&session(), limits, now, cache.generation());
        cache.forget("h1");
        assert!(cache.get("h1", &identity("f1"), now, idle).is_none());
    }

    #[test]
    fn a_session_read_before_a_forgetting_is_not_kept() {
        let (now, idle) = (Utc::now(), chrono::Duration::minutes(15));
        let limits = an_hour_left(now);
        let cache = SessionCache::new(Duration::from_secs(60));
        for forgetting in [
            SessionCache::forget_all as fn(&SessionCache),
            |c: &SessionCache| c.forget("another"),
        ] {
            let read_in = cache.generation();
            forgetting(&cache);
            cache.put(&session(), limits, now, read_in);
            assert!(cache.get("h1", &identity("f1"), now, idle).is_none());
        }
    }

    #[test]
    fn entries_live_their_time_only() {
        let (now, idle) = (Utc::now(), chrono::Duration::minutes(15));
        let limits = an_hour_left(now);
        let off = SessionCache::new(Duration::ZERO);
        off.put(&session(), limits, now, off.generation());
        assert!(off.get("h1", &identity("f1"), now, idle).is_none());
        let short = SessionCache::new(Duration::from_millis(30));
        short.put(&session(), limits, now, short.generation());
        assert!(short.get("h1", &identity("f1"), now, idle).is_some());
        // The console's clock (a test's moves by minutes) ends them as well as the monotonic one.
        let later = now + chrono::Duration::milliseconds(30);
        assert!(short.get("h1", &identity("f1"), later, idle).is_none());
        let earlier = now - chrono::Duration::milliseconds(1);
        assert!(short.get("h1", &identity("f1"), earlier, idle).is_none());
        std::thread::sleep(Duration::from_millis(40));
        assert!(short.get("h1", &identity("f1"), now, idle).is_none());
    }
}
