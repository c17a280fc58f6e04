//! Refused accesses in the audit log, bounded. Every refusal is a request somebody chose to send, so
//! a script can send thousands a second: each one an audit event of its own would grow the log
//! without bound and queue real changes behind the chain head. So per client certificate and minute
//! the first refusal is recorded as it happened, with its details, and the ones after it in the same
//! minute are counted in memory and recorded as one event with the count once the minute is over.
//!
//! The tally is the process's: with several instances, each records its own first refusal and count.
//! A crash loses at most the counts of the running minute, never a first refusal.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, TransactionSession, TransactionTrait};
use serde_json::{json, Value};

use super::audit::{self, Actor, AuditEntry};
use super::db::begin_write;
use crate::domain::{AuditAction, AuditOutcome};

/// Certificates tallied apart in one minute; refusals from further ones share one count.
const MAX_CERTIFICATES: usize = 10_000;

#[derive(Debug, Default)]
pub struct Refusals {
    tally: Mutex<Tally>,
}

#[derive(Debug, Default)]
struct Tally {
    /// Minutes since the epoch.
    minute: i64,
    /// By certificate fingerprint (`None`: the certificates past [`MAX_CERTIFICATES`]).
    seen: HashMap<Option<String>, Repeats>,
}

#[derive(Debug)]
struct Repeats {
    /// Refusals after the first one recorded.
    count: u64,
    /// Who and what the latest of them was.
    actor: Actor,
    detail: Option<Value>,
}

impl Refusals {
    /// Records the refused access `entry` (an [`AuditAction::AccessDenied`]), or counts it when its
    /// certificate was refused before in this minute. A failure to record is logged, not shown: the
    /// refusal stands.
    pub async fn record<C: ConnectionTrait + TransactionTrait>(
        &self,
        db: &C,
        entry: AuditEntry,
        now: DateTime<Utc>,
    ) {
        let (first, due) = self.count(&entry, now);
        let mut entries = summaries(due);
        if first {
            entries.push(entry);
        }
        write(db, entries, now).await;
    }

    /// Records the counts of the minutes that are over; the server calls it every minute, so that
    /// the counts of a flood that stopped are not left waiting for the next refusal.
    pub async fn flush<C: ConnectionTrait + TransactionTrait>(&self, db: &C, now: DateTime<Utc>) {
        let due = {
            let mut tally = self.tally.lock().unwrap_or_else(|e| e.into_inner());
            tally.roll(minute_of(now))
        };
        write(db, summaries(due), now).await;
    }

    /// Records every count held, the running minute's too: at shutdown, when no later flush comes.
    pub async fn flush_all<C: ConnectionTrait + TransactionTrait>(
        &self,
        db: &C,
        now: DateTime<Utc>,
    ) {
        let held = {
            let mut tally = self.tally.lock().unwrap_or_else(|e| e.into_inner());
            let held = std::mem::take(&mut *tally);
            Some((held.minute, held))
        };
        write(db, summaries(held), now).await;
    }

    /// Whether `entry` is its certificate's first refusal of the minute; and the counts of a minute
    /// that ended, to record.
    fn count(&self, entry: &AuditEntry, now: DateTime<Utc>) -> (bool, Option<(i64, Tally)>) {
        let mut tally = self.tally.lock().unwrap_or_else(|e| e.into_inner());
        let due = tally.roll(minute_of(now));
        let key = entry.actor.cert_fingerprint.clone();
        if let Some(repeats) = tally.seen.get_mut(&key) {
            repeats.count += 1;
            repeats.actor = entry.actor.clone();
            repeats.detail = entry.detail.clone();
            return (false, due);
        }
        if tally.seen.len() >= MAX_CERTIFICATES {
            let others = tally.seen.entry(None).or_insert_with(|| Repeats {
                count: 0,
                actor: Actor::default(),
                detail: None,
            });
            others.count += 1;
            return (false, due);
        }
        tally.seen.insert(
            key,
            Repeats {
                count: 0,
                actor: entry.actor.clone(),
                detail: entry.detail.clone(),
            },
        );
        (true, due)
    }
}

impl Tally {
    /// Starts `minute` if it is a new one, handing back the tally of the one before.
    fn roll(&mut self, minute: i64) -> Option<(i64, Tally)> {
        if minute == self.minute {
            return None;
        }
        let ended = std::mem::take(self);
        self.minute = minute;
        Some((ended.minute, ended))
    }
}

fn minute_of(now: DateTime<Utc>) -> i64 {
    now.timestamp().div_euclid(60)
}

/// One event per certificate refused more than once in the minute that ended.
fn summaries(due: Option<(i64, Tally)>) -> Vec<AuditEntry> {
    let Some((minute, tally)) = due else {
        return Vec::new();
    };
    let from = DateTime::from_timestamp(minute * 60, 0).unwrap_or_default();
    tally
        .seen
        .into_iter()
        .filter(|(_, repeats)| repeats.count > 0)
        .map(|(cert, repeats)| {
            let mut detail = json!({
                "reason": "repeated",
                "count": repeats.count,
                "minute": from.format("%Y-%m-%dT%H:%MZ").to_string(),
            });
            match cert {
                Some(_) => detail["last"] = repeats.detail.unwrap_or(Value::Null),
                None => detail["certificates"] = json!("others"),
            }
            AuditEntry::new(
                repeats.actor,
                AuditAction::AccessDenied,
                AuditOutcome::Denied,
            )
            .detail(detail)
        })
        .collect()
}

/// Appends `entries` in one transaction: one wait for the chain head, however many there are.
async fn write<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    entries: Vec<AuditEntry>,
    now: DateTime<Utc>,
) {
    if entries.is_empty() {
        return;
    }
    let result = async {
        let txn = begin_write(db).await?;
        for entry in entries {
            audit::append(&txn, entry, now).await?;
        }
        txn.commit().await
    }
    .await;
    if let Err(error) = result {
        tracing::error!(error = %crate::error::source_chain(&error), "recording refused accesses failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(cert: &str, n: u32) -> AuditEntry {
        AuditEntry::new(
            Actor {
                cert_fingerprint: Some(cert.into()),
                ..Actor::default()
            },
            AuditAction::AccessDenied,
            AuditOutcome::Denied,
        )
        .detail(json!({ "n": n }))
    }

    #[test]
    fn the_first_refusal_of_a_minute_is_recorded_and_the_rest_counted() {
        let refusals = Refusals::default();
        let t0 = DateTime::from_timestamp(1_765_000_020, 0).expect("time");
        assert!(refusals.count(&refusal("a", 0), t0).0);
        for n in 1..=50 {
            assert!(!refusals.count(&refusal("a", n), t0).0);
        }
        assert!(
            refusals.count(&refusal("b", 0), t0).0,
            "another certificate"
        );

        let next = t0 + chrono::Duration::seconds(60);
        let (first, due) = refusals.count(&refusal("a", 99), next);
        assert!(first, "a new minute starts afresh");
        let summaries = summaries(due);
        assert_eq!(summaries.len(), 1, "b was refused once: nothing to add");
        let detail = summaries[0].detail.as_ref().expect("detail");
        assert_eq!(detail["count"], 50);
        assert_eq!(detail["last"]["n"], 50);
        assert_eq!(detail["minute"], "2025-12-06T05:47Z");
    }

    #[test]
    fn certificates_past_the_limit_share_one_count() {
        let refusals = Refusals::default();
        let t0 = DateTime::from_timestamp(1_765_000_020, 0).expect("time");
        for n in 0..(MAX_CERTIFICATES as u32 + 30) {
            refusals.count(&refusal(&format!("cert-{n}"), n), t0);
        }
        let summaries = summaries(
            refusals
                .count(&refusal("x", 0), t0 + chrono::Duration::minutes(1))
                .1,
        );
        assert_eq!(summaries.len(), 1);
        let detail = summaries[0].detail.as_ref().expect("detail");
        assert_eq!(
            (detail["count"].as_u64(), detail["certificates"].as_str()),
            (Some(30), Some("others"))
        );
    }
}
