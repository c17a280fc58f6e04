//! The audit log: append-only, each event chained to the one before by a SHA-256 hash, so that editing
//! or deleting an event is detected by [`verify_chain`] (the `vpos audit verify` command).
//!
//! Events are numbered 1, 2, 3 … without gaps. Appending locks the single row of `audit_chain_head`,
//! so concurrent writers (also on several app instances) extend the chain one after the other. An event
//! that records a change is written in the same transaction as the change: both commit or neither.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionSession, TransactionTrait,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::db::begin_write;
use super::entities::{audit_chain_head, audit_events};
use super::ClientIdentity;
use crate::domain::{AuditAction, AuditOutcome};

/// The `prev_hash` of event 1.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

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
    // Taking the row lock first: a concurrent writer waits here until this transaction ends.
    audit_chain_head::Entity::update_many()
        .col_expr(
            audit_chain_head::Column::Seq,
            Expr::col(audit_chain_head::Column::Seq).add(1),
        )
        .filter(audit_chain_head::Column::Id.eq(1))
        .exec(txn)
        .await?;
    let head = audit_chain_head::Entity::find_by_id(1)
        .one(txn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("audit_chain_head".into()))?;
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
    event.hash = event_hash(&event);
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

/// SHA-256 over the previous hash and every field of the event but its own hash, in a fixed order.
pub fn event_hash(event: &audit_events::Model) -> String {
    let canonical = json!([
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
    ]);
    let mut hasher = Sha256::new();
    hasher.update(event.prev_hash.as_bytes());
    hasher.update(canonical.to_string().as_bytes());
    hex::encode(hasher.finalize())
}

/// The result of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// Events read.
    pub events: i64,
    /// The first problem found, if any.
    pub broken: Option<ChainBreak>,
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
pub async fn verify_chain(db: &impl ConnectionTrait) -> Result<ChainReport, DbErr> {
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
            if event_hash(&event) != event.hash {
                return broken(BreakReason::Edited);
            }
            prev_hash = event.hash;
            expected_id += 1;
        }
        if done {
            break;
        }
    }
    let head = audit_chain_head::Entity::find_by_id(1)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("audit_chain_head".into()))?;
    let broken = (head.seq != expected_id - 1 || head.hash != prev_hash).then_some(ChainBreak {
        event_id: expected_id,
        reason: BreakReason::Truncated,
    });
    Ok(ChainReport { events, broken })
}
