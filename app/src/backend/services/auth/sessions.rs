//! Sessions: resolved on every request (through the cache), touched, ended at sign-out, by limit or
//! by an administrator's change, and purged once long ended.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, QueryFilter,
    TransactionSession, TransactionTrait,
};
use serde_json::json;

use super::passwords::token_hash;
use crate::backend::audit::{self, Actor, AuditEntry};
use crate::backend::db::begin_write;
use crate::backend::entities::{
    merchants, operator_roles, operator_terminal_groups, operators, sessions,
};
use crate::backend::local_time;
use crate::backend::session_cache::Limits;
use crate::backend::{AuthConfig, ClientIdentity, Session, SessionCache};
use crate::domain::access::{functions_of, Role};
use crate::domain::{
    AuditAction, AuditOutcome, Currency, DataScope, MerchantStatus, OperatorStatus, SessionEnd,
};

/// The session of a request's cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// No session has this token.
    Unknown,
    /// The session has ended (now or before).
    Ended(SessionEnd),
    Active(Box<Session>),
}

/// How stale `last_seen_at` may get before a request writes it again: reading a page is activity,
/// but not every request needs a write. A session may thus end up to this much before 15 idle minutes.
pub(super) const TOUCH_EVERY: chrono::Duration = chrono::Duration::seconds(10);

/// Looks up the session of `token`, ends it if it has run out (recording the timeout), and otherwise
/// marks it active and returns who it belongs to and what they may do. A session `sessions` read a
/// moment ago is served from there (see [`SessionCache`] for when).
pub async fn resolve_session<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    cfg: &AuthConfig,
    sessions: &SessionCache,
    token: &str,
    identity: &ClientIdentity,
    now: DateTime<Utc>,
) -> Result<Resolved, DbErr> {
    let hash = token_hash(token);
    if let Some(session) = sessions.get(&hash, identity, now, cfg.idle_timeout) {
        return Ok(Resolved::Active(Box::new(session)));
    }
    let read_in = sessions.generation();
    let backend = db.get_database_backend();
    let Some(row) =
        SessionRow::find_by_statement(backend.build(&SessionRow::select(backend, hash.as_str())))
            .one(db)
            .await?
    else {
        return Ok(Resolved::Unknown);
    };
    if let Some(reason) = &row.end_reason {
        // Ended by another instance while this one remembers it.
        sessions.forget(&hash);
        return Ok(Resolved::Ended(
            SessionEnd::from_code(reason).unwrap_or(SessionEnd::Logout),
        ));
    }
    if let Some(reason) = row.end_at(&identity.fingerprint, cfg, now) {
        row.end(db, sessions, &hash, reason, identity, now).await?;
        return Ok(Resolved::Ended(reason));
    }
    let touch = now - row.last_seen_at >= TOUCH_EVERY;
    if touch {
        let _turn = crate::backend::db::write_turn(db).await;
        sessions::Entity::update_many()
            .col_expr(sessions::Column::LastSeenAt, Expr::value(now))
            .filter(sessions::Column::TokenHash.eq(hash.as_str()))
            .filter(sessions::Column::EndedAt.is_null())
            .exec(db)
            .await?;
    }
    let limits = Limits {
        expires_at: row.expires_at,
        last_seen_at: if touch { now } else { row.last_seen_at },
    };
    let session = row.session(hash, identity.remote_addr.ip().to_string())?;
    sessions.put(&session, limits, now, read_in);
    Ok(Resolved::Active(Box::new(session)))
}

/// Why the session `session` has ended at `now`, if it has, read again from the database without
/// counting as activity: a page that only listens (the transaction monitor) does not keep its
/// session alive. A session found past a limit is ended as a request would end it.
pub async fn end_of<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    cfg: &AuthConfig,
    sessions: &SessionCache,
    session: &Session,
    identity: &ClientIdentity,
    now: DateTime<Utc>,
) -> Result<Option<SessionEnd>, DbErr> {
    let hash = session.token_hash.as_str();
    let backend = db.get_database_backend();
    let Some(row) =
        SessionRow::find_by_statement(backend.build(&SessionRow::select(backend, hash)))
            .one(db)
            .await?
    else {
        // Purged: long ended.
        return Ok(Some(SessionEnd::Expired));
    };
    if let Some(reason) = &row.end_reason {
        return Ok(Some(
            SessionEnd::from_code(reason).unwrap_or(SessionEnd::Logout),
        ));
    }
    let Some(reason) = row.end_at(&identity.fingerprint, cfg, now) else {
        return Ok(None);
    };
    row.end(db, sessions, hash, reason, identity, now).await?;
    Ok(Some(reason))
}

/// The session of `token_hash` with what its operator may do now, whether or not it is still open:
/// work the operator started (a background export) is carried on with their present rights. None
/// when the row is gone, the operator disabled or their merchant suspended.
pub async fn as_now(
    db: &impl ConnectionTrait,
    token_hash: &str,
    remote_addr: String,
) -> Result<Option<Session>, DbErr> {
    let backend = db.get_database_backend();
    let Some(row) =
        SessionRow::find_by_statement(backend.build(&SessionRow::select(backend, token_hash)))
            .one(db)
            .await?
    else {
        return Ok(None);
    };
    if row.status == OperatorStatus::Disabled.code()
        || row.merchant_status != MerchantStatus::Active.code()
    {
        return Ok(None);
    }
    row.session(token_hash.to_owned(), remote_addr).map(Some)
}

/// The items of a comma-separated list an aggregate wrote (none for NULL: no rows).
pub(super) fn items_of(list: Option<&str>) -> impl Iterator<Item = &str> {
    list.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

/// A session with what a request needs of its operator (their roles and terminal groups as lists) and
/// merchant, read in one query.
#[derive(Debug, FromQueryResult)]
pub(super) struct SessionRow {
    pub(super) operator_id: i64,
    pub(super) cert_fingerprint: String,
    pub(super) last_seen_at: DateTime<Utc>,
    pub(super) expires_at: DateTime<Utc>,
    pub(super) end_reason: Option<String>,
    pub(super) merchant_id: i64,
    pub(super) login_name: String,
    pub(super) display_name: String,
    pub(super) status: String,
    pub(super) must_change_password: bool,
    pub(super) data_scope: String,
    pub(super) time_zone: String,
    pub(super) currency: String,
    pub(super) merchant_status: String,
    /// Role codes, comma-separated; NULL when there are none.
    pub(super) roles: Option<String>,
    /// Terminal group ids, comma-separated; NULL when there are none.
    pub(super) group_ids: Option<String>,
}

impl SessionRow {
    /// Why the open session this row was read of ends at `now`, for a request presenting the
    /// certificate of `fingerprint`, if it does.
    fn end_at(
        &self,
        fingerprint: &str,
        cfg: &AuthConfig,
        now: DateTime<Utc>,
    ) -> Option<SessionEnd> {
        if self.cert_fingerprint != fingerprint {
            Some(SessionEnd::Certificate)
        } else if now >= self.expires_at {
            Some(SessionEnd::Expired)
        } else if now - self.last_seen_at >= cfg.idle_timeout {
            Some(SessionEnd::Idle)
        } else if self.status == OperatorStatus::Disabled.code()
            || self.merchant_status != MerchantStatus::Active.code()
        {
            // Disabled, or their merchant suspended: nothing of the console is theirs any more.
            Some(SessionEnd::OperatorChanged)
        } else {
            None
        }
    }

    /// Ends the session of `hash` (read as this row) for `reason`, with its audit entry.
    async fn end<C: ConnectionTrait + TransactionTrait>(
        &self,
        db: &C,
        sessions: &SessionCache,
        hash: &str,
        reason: SessionEnd,
        identity: &ClientIdentity,
        now: DateTime<Utc>,
    ) -> Result<(), DbErr> {
        let actor = Actor {
            merchant_id: Some(self.merchant_id),
            operator_id: Some(self.operator_id),
            login_name: Some(self.login_name.clone()),
            ..Actor::from_identity(identity)
        };
        end_session(db, hash, reason, actor, now).await?;
        // After the end is written: a request reading the session meanwhile keeps nothing.
        sessions.forget(hash);
        Ok(())
    }

    /// The session this row was read of, for requests from `remote_addr`.
    fn session(self, token_hash: String, remote_addr: String) -> Result<Session, DbErr> {
        // A role this build does not know grants nothing.
        let mut roles: Vec<Role> = items_of(self.roles.as_deref())
            .filter_map(Role::from_code)
            .collect();
        let mut group_ids: Vec<i64> = items_of(self.group_ids.as_deref())
            .filter_map(|id| id.parse().ok())
            .collect();
        roles.sort();
        roles.dedup();
        group_ids.sort_unstable();
        group_ids.dedup();
        Ok(Session {
            token_hash,
            operator_id: self.operator_id,
            merchant_id: self.merchant_id,
            login_name: self.login_name,
            display_name: self.display_name,
            functions: functions_of(&roles),
            roles,
            // An unknown scope code confines the most: to the (possibly empty) assigned groups.
            scope: DataScope::from_code(&self.data_scope).unwrap_or(DataScope::Groups),
            group_ids,
            must_change_password: self.must_change_password,
            cert_fingerprint: self.cert_fingerprint,
            remote_addr,
            tz: local_time::zone(&self.time_zone).map_err(|e| DbErr::Custom(e.to_string()))?,
            currency: Currency::parse(&self.currency).map_err(|e| {
                DbErr::Custom(format!("merchants.currency {:?}: {e}", self.currency))
            })?,
        })
    }

    pub(super) fn select(backend: DbBackend, token_hash: &str) -> SelectStatement {
        use merchants::Column as M;
        use operator_roles::Column as R;
        use operator_terminal_groups::Column as G;
        use operators::Column as O;
        use sessions::Column as S;
        Query::select()
            .columns([
                (sessions::Entity, S::OperatorId),
                (sessions::Entity, S::CertFingerprint),
                (sessions::Entity, S::LastSeenAt),
                (sessions::Entity, S::ExpiresAt),
                (sessions::Entity, S::EndReason),
            ])
            .columns([
                (operators::Entity, O::MerchantId),
                (operators::Entity, O::LoginName),
                (operators::Entity, O::DisplayName),
                (operators::Entity, O::Status),
                (operators::Entity, O::MustChangePassword),
                (operators::Entity, O::DataScope),
            ])
            .column((merchants::Entity, M::TimeZone))
            .column((merchants::Entity, M::Currency))
            .expr_as(Expr::col((merchants::Entity, M::Status)), "merchant_status")
            .expr_as(list_of(backend, R::RoleCode, R::OperatorId), "roles")
            .expr_as(list_of(backend, G::GroupId, G::OperatorId), "group_ids")
            .from(sessions::Entity)
            .inner_join(
                operators::Entity,
                Expr::col((operators::Entity, O::Id)).equals((sessions::Entity, S::OperatorId)),
            )
            .inner_join(
                merchants::Entity,
                Expr::col((merchants::Entity, M::Id)).equals((operators::Entity, O::MerchantId)),
            )
            .and_where(Expr::col((sessions::Entity, S::TokenHash)).eq(token_hash))
            .to_owned()
    }
}

/// `(SELECT <column> of the session operator's rows of its table, comma-separated)`: a scalar
/// subquery of the session statement. The aggregate is spelt differently on each database.
pub(super) fn list_of<C: ColumnTrait>(backend: DbBackend, column: C, operator: C) -> Expr {
    let list = match backend {
        DbBackend::Postgres => Func::cust("string_agg")
            .arg(Expr::col(column).cast_as("text"))
            .arg(","),
        _ => Func::cust("group_concat").arg(Expr::col(column)).arg(","),
    };
    Query::select()
        .expr(list)
        .from(column.entity_name())
        .and_where(Expr::col(operator).equals((sessions::Entity, sessions::Column::OperatorId)))
        .to_owned()
        .into()
}

/// How long a session's row outlives its absolute limit: a browser that comes back within it is told
/// why it was signed out; after it the row is of no use (sign-ins and their ends are in the audit log).
pub const SESSION_ROW_KEPT: chrono::Duration = chrono::Duration::days(7);

/// Deletes the sessions whose absolute limit passed more than [`SESSION_ROW_KEPT`] ago: ended or not,
/// none of them can be used again. The housekeeping of `serve` calls it.
pub async fn purge_sessions(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(sessions::Entity::delete_many()
        .filter(sessions::Column::ExpiresAt.lt(now - SESSION_ROW_KEPT))
        .exec(db)
        .await?
        .rows_affected)
}

/// Ends a session once, recording why: the first of several concurrent requests writes the event.
pub async fn end_session<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    token_hash: &str,
    reason: SessionEnd,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let txn = begin_write(db).await?;
    let ended = sessions::Entity::update_many()
        .col_expr(sessions::Column::EndedAt, Expr::value(Some(now)))
        .col_expr(
            sessions::Column::EndReason,
            Expr::value(Some(reason.code())),
        )
        .filter(sessions::Column::TokenHash.eq(token_hash))
        .filter(sessions::Column::EndedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    if ended {
        let (action, outcome) = match reason {
            SessionEnd::Logout => (AuditAction::SignOut, AuditOutcome::Success),
            SessionEnd::Certificate => (AuditAction::AccessDenied, AuditOutcome::Denied),
            _ => (AuditAction::SessionTimeout, AuditOutcome::Success),
        };
        let object = actor.operator_id.unwrap_or_default();
        let entry = AuditEntry::new(actor, action, outcome)
            .object("operator", object)
            .detail(json!({ "session_end": reason.code() }));
        audit::append(&txn, entry, now).await?;
    }
    txn.commit().await?;
    Ok(ended)
}

/// Ends every open session of an operator but `keep` (after a password change, a disable, a reset).
pub async fn end_operator_sessions(
    txn: &impl ConnectionTrait,
    operator_id: i64,
    keep: Option<&str>,
    reason: SessionEnd,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let mut update = sessions::Entity::update_many()
        .col_expr(sessions::Column::EndedAt, Expr::value(Some(now)))
        .col_expr(
            sessions::Column::EndReason,
            Expr::value(Some(reason.code())),
        )
        .filter(sessions::Column::OperatorId.eq(operator_id))
        .filter(sessions::Column::EndedAt.is_null());
    if let Some(keep) = keep {
        update = update.filter(sessions::Column::TokenHash.ne(keep));
    }
    Ok(update.exec(txn).await?.rows_affected)
}

pub async fn sign_out<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    session: &Session,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    end_session(
        db,
        &session.token_hash,
        SessionEnd::Logout,
        session.actor(),
        now,
    )
    .await
    .map(drop)
}
