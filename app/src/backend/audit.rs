//! The audit log: append-only, each event chained to the one before by an HMAC-SHA-256 under the
//! console's audit key, so that editing or deleting an event is detected by [`verify_chain`] (the
//! `vpos audit verify` command). The key lives in a file outside the database (`audit_key_file`):
//! whoever can write the database but not read that file cannot recompute the chain after an edit.
//! The database refuses changes to events too (triggers), but its owner can drop those.
//!
//! The process loads its key once at start ([`install_key`]); [`append`] refuses to write without it,
//! so no event is ever sealed with anything else. Chains written before the key existed are re-sealed
//! once, when the key is created ([`prepare`]).
//!
//! Events are numbered 1, 2, 3 … without gaps. Appending locks the single row of `audit_chain_head`,
//! so concurrent writers (also on several app instances) extend the chain one after the other. An event
//! that records a change is written in the same transaction as the change: both commit or neither.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionSession, TransactionTrait,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::db::begin_write;
use super::entities::{audit_chain_head, audit_events};
use super::key_file::{self, KeyFileError, KEY_BYTES};
use super::ClientIdentity;
use crate::domain::{AuditAction, AuditOutcome};

/// The `prev_hash` of event 1.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The key the chain is sealed with. Cheap to clone; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct AuditKey(Arc<[u8; KEY_BYTES]>);

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(..)")
    }
}

impl AuditKey {
    pub fn from_bytes(bytes: [u8; KEY_BYTES]) -> Self {
        Self(Arc::new(bytes))
    }

    /// A fresh random key (tests).
    pub fn generate() -> Self {
        Self::from_bytes(key_file::generate())
    }

    /// Reads the key file, creating it when it does not exist yet; returns whether it was created.
    /// A created key must go through [`prepare`] before anything is appended.
    pub fn load_or_create(path: &Path) -> Result<(Self, bool), KeyFileError> {
        let (bytes, created) = key_file::load_or_create("audit", path)?;
        Ok((Self::from_bytes(bytes), created))
    }

    /// Reads the key file, which must exist (verification never makes a key).
    pub fn load(path: &Path) -> Result<Self, KeyFileError> {
        key_file::load("audit", path)?
            .map(Self::from_bytes)
            .ok_or_else(|| KeyFileError::Missing {
                what: "audit",
                path: path.display().to_string(),
            })
    }

    fn mac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256> as Mac>::new_from_slice(&self.0[..]).expect("HMAC takes a key of any length")
    }
}

static KEY: OnceLock<AuditKey> = OnceLock::new();

/// Another key than the one this process already seals with.
#[derive(Debug, thiserror::Error)]
#[error("this process already seals the audit log with another key")]
pub struct KeyConflict;

/// Sets the key [`append`] seals with, once per process (again with the same key is harmless).
pub fn install_key(key: AuditKey) -> Result<(), KeyConflict> {
    let installed = KEY.get_or_init(|| key.clone());
    if *installed == key {
        Ok(())
    } else {
        Err(KeyConflict)
    }
}

fn installed_key() -> Result<&'static AuditKey, DbErr> {
    KEY.get()
        .ok_or_else(|| DbErr::Custom("the audit key is not loaded: nothing is appended".into()))
}

/// Who did it: the operator (when known), the certificate and the address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor {
    pub merchant_id: Option<i64>,
    pub operator_id: Option<i64>,
    /// As typed at sign-in, or the operator's login name.
    pub login_name: Option<String>,
    pub cert_fingerprint: Option<String>,
    pub remote_addr: Option<String>,
}

impl Actor {
    /// Somebody known only by their certificate (e.g. a failed sign-in).
    pub fn from_identity(identity: &ClientIdentity) -> Self {
        Self {
            cert_fingerprint: Some(identity.fingerprint.clone()),
            remote_addr: Some(identity.remote_addr.ip().to_string()),
            ..Self::default()
        }
    }
}

/// One event to append.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub actor: Actor,
    pub action: AuditAction,
    pub outcome: AuditOutcome,
    pub object_type: Option<&'static str>,
    pub object_id: Option<String>,
    /// Before/after or the reason of a refusal. Never a secret.
    pub detail: Option<Value>,
}

impl AuditEntry {
    pub fn new(actor: Actor, action: AuditAction, outcome: AuditOutcome) -> Self {
        Self {
            actor,
            action,
            outcome,
            object_type: None,
            object_id: None,
            detail: None,
        }
    }

    pub fn object(mut self, kind: &'static str, id: impl ToString) -> Self {
        self.object_type = Some(kind);
        self.object_id = Some(id.to_string());
        self
    }

    pub fn detail(mut self, detail: Value) -> Self {
        self.detail = Some(detail);
        self
    }
}

/// Appends `entry` inside the caller's write transaction (on SQLite one begun with
/// [`begin_write`]); returns the event's number.
pub async fn append(
    txn: &impl ConnectionTrait,
    entry: AuditEntry,
    now: DateTime<Utc>,
) -> Result<i64, DbErr> {
    let key = installed_key()?;
    // Taking the row lock first: a concurrent writer waits here until this transaction ends.
    audit_chain_head::Entity::update_many()
        .col_expr(
            audit_chain_head::Column::Seq,
            Expr::col(audit_chain_head::Column::Seq).add(1),
        )
        .filter(audit_chain_head::Column::Id.eq(1))
        .exec(txn)
        .await?;
    let head = chain_head(txn).await?;
    let detail = entry.detail.map(|d| d.to_string());
    let mut event = audit_events::Model {
        id: head.seq,
        occurred_at: now,
        merchant_id: entry.actor.merchant_id,
        operator_id: entry.actor.operator_id,
        login_name: entry.actor.login_name,
        cert_fingerprint: entry.actor.cert_fingerprint,
        remote_addr: entry.actor.remote_addr,
        action: entry.action.code().to_owned(),
        object_type: entry.object_type.map(str::to_owned),
        object_id: entry.object_id,
        outcome: entry.outcome.code().to_owned(),
        detail,
        prev_hash: head.hash,
        hash: String::new(),
    };
    event.hash = event_hash(key, &event);
    let hash = event.hash.clone();
    let id = event.id;
    audit_events::ActiveModel::from(event).insert(txn).await?;
    audit_chain_head::Entity::update_many()
        .col_expr(audit_chain_head::Column::Hash, Expr::value(hash))
        .filter(audit_chain_head::Column::Id.eq(1))
        .exec(txn)
        .await?;
    Ok(id)
}

/// Appends `entry` in a transaction of its own (for events that record no other change, such as a
/// refused sign-in).
pub async fn record<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    entry: AuditEntry,
    now: DateTime<Utc>,
) -> Result<i64, DbErr> {
    let txn = begin_write(db).await?;
    let id = append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok(id)
}

/// HMAC-SHA-256 under `key` over the previous hash and every field of the event but its own hash,
/// in a fixed order.
pub fn event_hash(key: &AuditKey, event: &audit_events::Model) -> String {
    let mut mac = key.mac();
    mac.update(event.prev_hash.as_bytes());
    mac.update(canonical(event).as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// How events were sealed before the chain was keyed: SHA-256 over the same bytes. Read only to
/// check such a chain once before it is re-sealed (and by the tests, as what somebody without the
/// key can compute).
pub fn unkeyed_event_hash(event: &audit_events::Model) -> String {
    let mut hasher = Sha256::new();
    hasher.update(event.prev_hash.as_bytes());
    hasher.update(canonical(event).as_bytes());
    hex::encode(hasher.finalize())
}

fn canonical(event: &audit_events::Model) -> String {
    json!([
        event.id,
        event
            .occurred_at
            .format("%Y-%m-%dT%H:%M:%S%.6fZ")
            .to_string(),
        event.merchant_id,
        event.operator_id,
        event.login_name,
        event.cert_fingerprint,
        event.remote_addr,
        event.action,
        event.object_type,
        event.object_id,
        event.outcome,
        event.detail,
    ])
    .to_string()
}

/// The result of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// Events read.
    pub events: i64,
    /// The first problem found, if any.
    pub broken: Option<ChainBreak>,
    /// The hash of the newest event that holds: written down elsewhere, it lets a later check tell
    /// whether events were taken off the end together with the head.
    pub newest_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    /// The event at which the chain breaks (for a missing event: the number expected there).
    pub event_id: i64,
    pub reason: BreakReason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakReason {
    /// An event's fields do not give its stored hash: it was edited.
    Edited,
    /// An event does not point at the hash of the one before: it or its predecessor was replaced.
    Relinked,
    /// A number is missing: an event was deleted.
    Missing,
    /// The head names a later event than the last one present: the newest events were deleted.
    Truncated,
}

impl std::fmt::Display for BreakReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BreakReason::Edited => "its content does not match its hash (edited)",
            BreakReason::Relinked => "it does not follow the hash of the event before (replaced)",
            BreakReason::Missing => "it is missing (deleted)",
            BreakReason::Truncated => "the newest events are missing (deleted)",
        })
    }
}

/// Walks the whole chain in order, a page at a time, and reports the first break.
pub async fn verify_chain(db: &impl ConnectionTrait, key: &AuditKey) -> Result<ChainReport, DbErr> {
    walk(db, |event| event_hash(key, event), |_| {}).await
}

/// Walks the chain as sealed by `hash`, handing each event that holds to `visit`, up to the first
/// break.
async fn walk(
    db: &impl ConnectionTrait,
    hash: impl Fn(&audit_events::Model) -> String,
    mut visit: impl FnMut(&audit_events::Model),
) -> Result<ChainReport, DbErr> {
    const PAGE: u64 = 1_000;
    let mut expected_id = 1_i64;
    let mut prev_hash = GENESIS_HASH.to_owned();
    let mut events = 0_i64;
    loop {
        let page = audit_events::Entity::find()
            .filter(audit_events::Column::Id.gte(expected_id))
            .order_by_asc(audit_events::Column::Id)
            .limit(PAGE)
            .all(db)
            .await?;
        let done = (page.len() as u64) < PAGE;
        for event in page {
            events += 1;
            let broken = |reason| {
                Ok(ChainReport {
                    events,
                    newest_hash: prev_hash.clone(),
                    broken: Some(ChainBreak {
                        event_id: if reason == BreakReason::Missing {
                            expected_id
                        } else {
                            event.id
                        },
                        reason,
                    }),
                })
            };
            if event.id != expected_id {
                return broken(BreakReason::Missing);
            }
            if event.prev_hash != prev_hash {
                return broken(BreakReason::Relinked);
            }
            if hash(&event) != event.hash {
                return broken(BreakReason::Edited);
            }
            visit(&event);
            prev_hash = event.hash;
            expected_id += 1;
        }
        if done {
            break;
        }
    }
    let head = chain_head(db).await?;
    let broken = (head.seq != expected_id - 1 || head.hash != prev_hash).then_some(ChainBreak {
        event_id: expected_id,
        reason: BreakReason::Truncated,
    });
    Ok(ChainReport {
        events,
        broken,
        newest_hash: prev_hash,
    })
}

async fn chain_head(db: &impl ConnectionTrait) -> Result<audit_chain_head::Model, DbErr> {
    audit_chain_head::Entity::find_by_id(1)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("audit_chain_head".into()))
}

/// What [`prepare`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prepared {
    /// No event yet.
    Empty,
    /// The newest event holds under the key.
    Sealed,
    /// This many events, written before the chain was keyed, were checked and re-sealed.
    Resealed(i64),
}

#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error(
        "the newest audit event does not verify with the audit key: the log was sealed with \
         another key (restore the key file all instances share) or it was altered (run \
         `vpos audit verify`)"
    )]
    OtherKey,
    #[error(
        "the audit log written before the audit key existed is broken at event {0}: {1}; it is \
         not re-sealed (restore the database or the audit key file)"
    )]
    BrokenBeforeKey(i64, BreakReason),
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

/// Checks, before a process appends anything, that the chain is sealed with `key`: cheaply, by its
/// newest event. When the key file was `created` just now, a chain written before keys existed
/// (plain SHA-256) is checked whole and re-sealed under the key, in one transaction; this happens
/// once, since afterwards the file exists. An unkeyed chain found while the key already existed is
/// never re-sealed: that is what somebody who rewrote the chain without the key would leave.
pub async fn prepare<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    key: &AuditKey,
    created: bool,
) -> Result<Prepared, PrepareError> {
    let head = chain_head(db).await?;
    if head.seq == 0 {
        return Ok(Prepared::Empty);
    }
    let newest = audit_events::Entity::find_by_id(head.seq).one(db).await?;
    if newest.is_some_and(|e| event_hash(key, &e) == e.hash) {
        return Ok(Prepared::Sealed);
    }
    if !created {
        return Err(PrepareError::OtherKey);
    }
    reseal(db, key).await
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
    #[error(transparent)]
    Prepare(#[from] PrepareError),
    #[error(transparent)]
    Conflict(#[from] KeyConflict),
}

/// What a process does before it writes to the audit log: reads the key file (creating it on the
/// very first start), [`prepare`]s the chain and [`install_key`]s the key. A key file created just
/// now for a chain it does not fit is removed again, so that restoring the right one is a copy.
pub async fn open<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    key_file: &Path,
) -> Result<Prepared, OpenError> {
    let (key, created) = AuditKey::load_or_create(key_file)?;
    let prepared = match prepare(db, &key, created).await {
        Ok(prepared) => prepared,
        Err(error) => {
            if created {
                let _ = std::fs::remove_file(key_file);
            }
            return Err(error.into());
        }
    };
    install_key(key)?;
    Ok(prepared)
}

async fn reseal<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    key: &AuditKey,
) -> Result<Prepared, PrepareError> {
    let txn = begin_write(db).await?;
    // Raising the flag takes the head's lock: appends wait until the chain is re-sealed.
    audit_chain_head::Entity::update_many()
        .col_expr(audit_chain_head::Column::Sealing, Expr::value(true))
        .filter(audit_chain_head::Column::Id.eq(1))
        .exec(&txn)
        .await?;
    let mut prev_hash = GENESIS_HASH.to_owned();
    let mut sealed = Vec::new();
    let report = walk(&txn, unkeyed_event_hash, |event| {
        let mut event = event.clone();
        event.prev_hash = std::mem::take(&mut prev_hash);
        event.hash = event_hash(key, &event);
        prev_hash = event.hash.clone();
        sealed.push((event.id, event.prev_hash, event.hash));
    })
    .await?;
    match report.broken {
        // Not even the first event is plain SHA-256: a chain sealed with a key, not this one.
        Some(b) if b.event_id == 1 && b.reason == BreakReason::Edited => {
            return Err(PrepareError::OtherKey)
        }
        Some(b) => return Err(PrepareError::BrokenBeforeKey(b.event_id, b.reason)),
        None => {}
    }
    for (id, prev, hash) in &sealed {
        audit_events::Entity::update_many()
            .col_expr(audit_events::Column::PrevHash, Expr::value(prev.clone()))
            .col_expr(audit_events::Column::Hash, Expr::value(hash.clone()))
            .filter(audit_events::Column::Id.eq(*id))
            .exec(&txn)
            .await?;
    }
    audit_chain_head::Entity::update_many()
        .col_expr(audit_chain_head::Column::Hash, Expr::value(prev_hash))
        .col_expr(audit_chain_head::Column::Sealing, Expr::value(false))
        .filter(audit_chain_head::Column::Id.eq(1))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(Prepared::Resealed(report.events))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> audit_events::Model {
        audit_events::Model {
            id: 1,
            occurred_at: DateTime::from_timestamp(1_765_000_000, 0).expect("time"),
            merchant_id: Some(1),
            operator_id: None,
            login_name: Some("someone".into()),
            cert_fingerprint: None,
            remote_addr: None,
            action: "auth.sign_in".into(),
            object_type: None,
            object_id: None,
            outcome: "failure".into(),
            detail: None,
            prev_hash: GENESIS_HASH.into(),
            hash: String::new(),
        }
    }

    #[test]
    fn the_seal_depends_on_the_key_and_on_every_field() {
        let (a, b) = (AuditKey::generate(), AuditKey::generate());
        let event = event();
        let sealed = event_hash(&a, &event);
        assert_eq!(sealed.len(), 64);
        assert_eq!(sealed, event_hash(&a.clone(), &event));
        assert_ne!(sealed, event_hash(&b, &event), "another key, another seal");
        assert_ne!(sealed, unkeyed_event_hash(&event), "not the plain hash");
        let edited = audit_events::Model {
            outcome: "success".into(),
            ..event.clone()
        };
        assert_ne!(sealed, event_hash(&a, &edited));
        let relinked = audit_events::Model {
            prev_hash: "1".repeat(64),
            ..event
        };
        assert_ne!(sealed, event_hash(&a, &relinked));
        assert_eq!(format!("{a:?}"), "AuditKey(..)");
    }
}
