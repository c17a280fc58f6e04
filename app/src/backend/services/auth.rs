//! Sign-in, sessions and passwords (manual §2 and §3.1.3).
//!
//! - Sign-in needs the captcha (one use, short expiry), the login name and password, and a client
//!   certificate bound to that operator, of a merchant that is not suspended. Every refusal gets the
//!   same answer after the same minimum time. 5 wrong passwords in a row lock the account for 30
//!   minutes; only attempts made with the operator's own certificate count, so that no one else can
//!   lock them out. Attempts per certificate and per address, and password checks running at once,
//!   are bounded ([`crate::backend::throttle`]).
//! - A session lives on the server; the browser holds a random token whose SHA-256 is the key. It ends
//!   at logout, after 15 idle minutes, 12 hours after sign-in, when used with another certificate, or
//!   when the operator is disabled or locked by wrong passwords, or their merchant suspended.
//! - A password has at least 12 characters with letters and digits and is none of the last 4.

use chrono::{DateTime, Utc};
use rand::RngCore;
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionSession, TransactionTrait,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::decode;
use super::home::time_zone_of;
use crate::backend::audit::{self, Actor, AuditEntry};
use crate::backend::db::begin_write;
use crate::backend::entities::{
    captchas, merchants, operator_certificates, operator_roles, operator_terminal_groups,
    operators, password_history, sessions,
};
use crate::backend::password::{hash_password, verify_password};
use crate::backend::session_cache::Limits;
use crate::backend::{captcha, AuthConfig, ClientIdentity, Session, SessionCache};
use crate::domain::access::{functions_of, Role};
use crate::domain::password::{check_password, PasswordRule, HISTORY_DEPTH, MAX_LENGTH};
use crate::domain::{
    AuditAction, AuditOutcome, DataScope, LoginName, MerchantStatus, OperatorStatus, SessionEnd,
};
use crate::error::{AppError, FieldError, FieldProblem};

/// A new captcha: its id (for the form) and the image (PNG). The answer stays in the database.
pub struct NewCaptcha {
    pub id: String,
    pub png: Vec<u8>,
}

#[tracing::instrument(skip_all)]
pub async fn new_captcha(
    db: &impl ConnectionTrait,
    cfg: &AuthConfig,
    now: DateTime<Utc>,
) -> Result<NewCaptcha, AppError> {
    // Expired captchas are of no use to anyone: sweep them as new ones are made.
    captchas::Entity::delete_many()
        .filter(captchas::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?;
    let id = random_token();
    let image = captcha::new_image()
        .ok_or_else(|| AppError::internal("drawing a captcha", &CaptchaNotDrawn))?;
    captchas::ActiveModel {
        id: Set(id.clone()),
        answer: Set(image.answer),
        created_at: Set(now),
        expires_at: Set(now + cfg.captcha_ttl),
        used_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(NewCaptcha { id, png: image.png })
}

#[derive(Debug, thiserror::Error)]
#[error("the captcha image could not be encoded")]
struct CaptchaNotDrawn;

/// Whether the presented certificate is bound to some operator. A certificate the console has not
/// seen before is recorded, unbound, so that an administrator can bind it by its fingerprint.
pub async fn note_certificate(
    db: &impl ConnectionTrait,
    identity: &ClientIdentity,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let known = operator_certificates::Entity::find()
        .filter(operator_certificates::Column::FingerprintSha256.eq(&identity.fingerprint))
        .one(db)
        .await?;
    match known {
        Some(cert) => Ok(cert.operator_id.is_some() && cert.revoked_at.is_none()),
        None => {
            let insert =
                operator_certificates::Entity::insert(operator_certificates::ActiveModel {
                    operator_id: Set(None),
                    fingerprint_sha256: Set(identity.fingerprint.clone()),
                    serial_hex: Set(identity.serial_hex.clone()),
                    subject_cn: Set(identity.subject_cn.chars().take(200).collect()),
                    not_before: Set(identity.not_before),
                    not_after: Set(identity.not_after),
                    bound_at: Set(None),
                    revoked_at: Set(None),
                    created_at: Set(now),
                    ..Default::default()
                })
                .on_conflict(
                    sea_orm::sea_query::OnConflict::column(
                        operator_certificates::Column::FingerprintSha256,
                    )
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(db)
                .await;
            insert.map(|_| false)
        }
    }
}

/// What the sign-in form sends.
pub struct SignInForm {
    pub login_name: String,
    pub password: SecretString,
    pub captcha_id: String,
    pub captcha_answer: String,
}

/// A successful sign-in: the token for the session cookie.
pub struct SignedIn {
    pub token: SecretString,
    pub operator_id: i64,
    pub must_change_password: bool,
}

/// Signs an operator in. Refusals are [`AppError::SignInRefused`] whatever the reason (the reason is in
/// the audit log) and come no sooner than `cfg.refusal_floor` after the call; a wrong or expired
/// captcha is a field error on `captcha`. A certificate or address over its attempts of the minute
/// gets [`AppError::TooManyAttempts`] before anything is read, and a sign-in that finds every password
/// check taken and its queue full gets [`AppError::Busy`].
#[tracing::instrument(skip_all, fields(cert.fingerprint = %identity.fingerprint))]
pub async fn sign_in<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    cfg: &AuthConfig,
    form: SignInForm,
    identity: &ClientIdentity,
    now: DateTime<Utc>,
) -> Result<SignedIn, AppError> {
    let started = tokio::time::Instant::now();
    cfg.throttle.sign_in_attempt(
        &identity.fingerprint,
        &identity.remote_addr.ip().to_string(),
        now,
    )?;
    let result = attempt_sign_in(db, cfg, form, identity, now).await;
    if matches!(result, Err(AppError::SignInRefused)) {
        tokio::time::sleep_until(started + cfg.refusal_floor).await;
    }
    result
}

/// Why a sign-in was refused, for the audit log only.
#[derive(Debug, Clone, Copy)]
enum Refusal {
    UnknownLogin,
    Disabled,
    Locked,
    WrongPassword,
    CertificateNotBound,
    MerchantSuspended,
}

impl Refusal {
    fn code(self) -> &'static str {
        match self {
            Refusal::UnknownLogin => "unknown_login",
            Refusal::Disabled => "disabled",
            Refusal::Locked => "locked",
            Refusal::WrongPassword => "wrong_password",
            Refusal::CertificateNotBound => "certificate_not_bound",
            Refusal::MerchantSuspended => "merchant_suspended",
        }
    }
}

async fn attempt_sign_in<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    cfg: &AuthConfig,
    form: SignInForm,
    identity: &ClientIdentity,
    now: DateTime<Utc>,
) -> Result<SignedIn, AppError> {
    let typed_login: String = form.login_name.trim().chars().take(64).collect();
    let mut actor = Actor {
        login_name: Some(typed_login.clone()),
        ..Actor::from_identity(identity)
    };

    // 1. The captcha, used up whatever the answer.
    let consumed = captchas::Entity::update_many()
        .col_expr(captchas::Column::UsedAt, Expr::value(Some(now)))
        .filter(captchas::Column::Id.eq(form.captcha_id.as_str()))
        .filter(captchas::Column::UsedAt.is_null())
        .filter(captchas::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?
        .rows_affected
        == 1;
    let captcha_ok = consumed
        && captchas::Entity::find_by_id(form.captcha_id.as_str())
            .one(db)
            .await?
            .is_some_and(|c| captcha::matches(&c.answer, &form.captcha_answer));
    if !captcha_ok {
        let entry = AuditEntry::new(actor, AuditAction::SignIn, AuditOutcome::Failure)
            .detail(json!({ "reason": "captcha" }));
        audit::record(db, entry, now).await?;
        return Err(AppError::invalid("captcha", FieldProblem::Captcha));
    }

    // 2. Who is meant, and whether this attempt may count against them. Only an attempt made with a
    // certificate bound to that operator is judged and counted: anyone else's certificate could
    // otherwise lock any operator whose login name it guessed.
    let operator = match LoginName::parse(&typed_login) {
        Ok(login) => {
            operators::Entity::find()
                .filter(operators::Column::LoginName.eq(login.as_str()))
                .one(db)
                .await?
        }
        Err(_) => None,
    };
    let bound = match &operator {
        Some(o) => certificate_bound_to(db, &identity.fingerprint, o.id).await?,
        None => false,
    };

    // 3. The password, checked exactly once on every path.
    let Judged {
        judged,
        matched: password_ok,
    } = judge_attempt(db, cfg, operator.as_ref(), bound, form.password, now).await?;

    // 4. Decide and record in one write transaction, on the operator as it is now.
    let txn = begin_write(db).await?;
    let operator = match operator {
        Some(o) => operators::Entity::find_by_id(o.id).one(&txn).await?,
        None => None,
    };
    let Some(operator) = operator else {
        return refused(txn, actor, Refusal::UnknownLogin, now).await;
    };
    actor.operator_id = Some(operator.id);
    actor.merchant_id = Some(operator.merchant_id);
    let status = decode(
        "operators.status",
        &operator.status,
        OperatorStatus::from_code,
    )?;
    let refusal = if status == OperatorStatus::Disabled {
        Some(Refusal::Disabled)
    } else if !merchant_active(&txn, operator.merchant_id).await? {
        Some(Refusal::MerchantSuspended)
    } else if !bound {
        Some(Refusal::CertificateNotBound)
    } else if !judged {
        Some(Refusal::Locked)
    } else if !password_ok {
        Some(Refusal::WrongPassword)
    } else {
        None
    };
    if let Some(reason) = refusal {
        refuse(&txn, actor.clone(), reason, now).await?;
        if matches!(reason, Refusal::WrongPassword) {
            lock_at_limit(&txn, cfg, &operator, actor, now).await?;
        }
        txn.commit().await?;
        return Err(AppError::SignInRefused);
    }

    // A success clears the count, unless a parallel attempt has locked the account meanwhile: a
    // right password does not undo a lock.
    let opened = operators::Entity::update_many()
        .col_expr(operators::Column::FailedLoginCount, Expr::value(0))
        .col_expr(operators::Column::LastLoginAt, Expr::value(Some(now)))
        .col_expr(
            operators::Column::LastLoginAddr,
            Expr::value(actor.remote_addr.clone()),
        )
        .filter(operators::Column::Id.eq(operator.id))
        .filter(operators::Column::Status.eq(OperatorStatus::Active.code()))
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    if !opened {
        return refused(txn, actor, Refusal::Locked, now).await;
    }
    let token = random_token();
    sessions::ActiveModel {
        token_hash: Set(token_hash(&token)),
        operator_id: Set(operator.id),
        merchant_id: Set(operator.merchant_id),
        cert_fingerprint: Set(identity.fingerprint.clone()),
        remote_addr: Set(identity.remote_addr.ip().to_string()),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(now + cfg.absolute_timeout),
        ended_at: Set(None),
        end_reason: Set(None),
    }
    .insert(&txn)
    .await?;
    let entry = AuditEntry::new(actor, AuditAction::SignIn, AuditOutcome::Success)
        .object("operator", operator.id);
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    tracing::info!(operator.id = operator.id, "signed in");
    Ok(SignedIn {
        token: SecretString::from(token),
        operator_id: operator.id,
        must_change_password: operator.must_change_password,
    })
}

/// Whether the certificate is bound to the operator and not revoked.
async fn certificate_bound_to(
    db: &impl ConnectionTrait,
    fingerprint: &str,
    operator_id: i64,
) -> Result<bool, DbErr> {
    Ok(operator_certificates::Entity::find()
        .filter(operator_certificates::Column::FingerprintSha256.eq(fingerprint))
        .filter(operator_certificates::Column::OperatorId.eq(operator_id))
        .filter(operator_certificates::Column::RevokedAt.is_null())
        .one(db)
        .await?
        .is_some())
}

/// Whether the merchant may use the console (a suspended merchant's staff may not).
pub async fn merchant_active(db: &impl ConnectionTrait, merchant_id: i64) -> Result<bool, DbErr> {
    Ok(merchants::Entity::find_by_id(merchant_id)
        .one(db)
        .await?
        .is_some_and(|m| m.status == MerchantStatus::Active.code()))
}

/// An attempt at an operator's password, checked.
struct Judged {
    /// The attempt counted against the operator and the account had failures left.
    judged: bool,
    /// Judged, and the password is the operator's.
    matched: bool,
}

/// Checks `password` as an attempt at `operator`'s. A `counted` attempt first takes its place among
/// the operator's failures ([`take_attempt`]), so that parallel attempts get no more guesses than the
/// limit, and is judged only within it. Every other attempt (no such operator, not counted, past the
/// limit, account not active) is checked against a dummy hash, so that the time taken does not tell
/// the cases apart. The place is taken only once a password check may run: the check may be refused
/// as busy, and a busy refusal must not count as a failure.
async fn judge_attempt<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    cfg: &AuthConfig,
    operator: Option<&operators::Model>,
    counted: bool,
    password: SecretString,
    now: DateTime<Utc>,
) -> Result<Judged, AppError> {
    let check = cfg.throttle.password_checks.acquire().await?;
    let attempt = match operator {
        Some(o) if counted => take_attempt(db, o.id, now).await?,
        _ => None,
    };
    let judged = attempt.is_some_and(|n| n <= cfg.max_failed_sign_ins);
    let hash = match operator {
        Some(o) if judged => o.password_hash.clone(),
        _ => dummy_hash().to_owned(),
    };
    let matched = check.run(move || matches(&password, &hash)).await?;
    Ok(Judged {
        judged,
        matched: judged && matched,
    })
}

/// Counts an attempt against the operator before its password is checked, in a write transaction of
/// its own: its place among the attempts since the last success, or `None` when the account is not
/// active (locked or disabled). An attempt that finds the account's lock run out opens it afresh.
/// The increment and the read are one transaction on the locked row, so that two parallel attempts
/// never get the same place.
async fn take_attempt<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    operator_id: i64,
    now: DateTime<Utc>,
) -> Result<Option<i32>, DbErr> {
    let txn = begin_write(db).await?;
    unlocking()
        .filter(operators::Column::Id.eq(operator_id))
        .filter(operators::Column::LockedUntil.lte(now))
        .exec(&txn)
        .await?;
    let counted = count_failure(&txn, operator_id).await?;
    txn.commit().await?;
    Ok(counted)
}

/// The update that ends a lock (the account active again, with no failures counted), for the
/// locked operators its caller filters to: at the lock's end or by an administrator.
pub fn unlocking() -> sea_orm::UpdateMany<operators::Entity> {
    operators::Entity::update_many()
        .col_expr(
            operators::Column::Status,
            Expr::value(OperatorStatus::Active.code()),
        )
        .col_expr(operators::Column::FailedLoginCount, Expr::value(0))
        .col_expr(
            operators::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(operators::Column::Status.eq(OperatorStatus::Locked.code()))
}

/// Adds one to an active operator's failure count and reads it back (in the caller's transaction,
/// which then holds the row); `None` when the operator is not active.
async fn count_failure(txn: &impl ConnectionTrait, operator_id: i64) -> Result<Option<i32>, DbErr> {
    let counted = operators::Entity::update_many()
        .col_expr(
            operators::Column::FailedLoginCount,
            Expr::col(operators::Column::FailedLoginCount).add(1),
        )
        .filter(operators::Column::Id.eq(operator_id))
        .filter(operators::Column::Status.eq(OperatorStatus::Active.code()))
        .exec(txn)
        .await?
        .rows_affected
        == 1;
    if !counted {
        return Ok(None);
    }
    Ok(operators::Entity::find_by_id(operator_id)
        .one(txn)
        .await?
        .map(|o| o.failed_login_count))
}

/// Records the refusal, commits and answers with the one refusal there is.
async fn refused<T: ConnectionTrait + TransactionSession>(
    txn: T,
    actor: Actor,
    reason: Refusal,
    now: DateTime<Utc>,
) -> Result<SignedIn, AppError> {
    refuse(&txn, actor, reason, now).await?;
    txn.commit().await?;
    Err(AppError::SignInRefused)
}

async fn refuse(
    txn: &impl ConnectionTrait,
    actor: Actor,
    reason: Refusal,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    tracing::info!(reason = reason.code(), "sign-in refused");
    let entry = AuditEntry::new(actor, AuditAction::SignIn, AuditOutcome::Failure)
        .detail(json!({ "reason": reason.code() }));
    audit::append(txn, entry, now).await.map(drop)
}

/// Locks the account once its failures in a row reach the limit. The count is read in the same
/// statement that locks, so a success that cleared it meanwhile leaves the account open, and of
/// several parallel attempts at the limit exactly one locks.
async fn lock_at_limit(
    txn: &impl ConnectionTrait,
    cfg: &AuthConfig,
    operator: &operators::Model,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let locked = operators::Entity::update_many()
        .col_expr(
            operators::Column::Status,
            Expr::value(OperatorStatus::Locked.code()),
        )
        .col_expr(
            operators::Column::LockedUntil,
            Expr::value(Some(now + cfg.lockout)),
        )
        .col_expr(operators::Column::UpdatedAt, Expr::value(now))
        .filter(operators::Column::Id.eq(operator.id))
        .filter(operators::Column::Status.eq(OperatorStatus::Active.code()))
        .filter(operators::Column::FailedLoginCount.gte(cfg.max_failed_sign_ins))
        .exec(txn)
        .await?
        .rows_affected
        == 1;
    if locked {
        tracing::warn!(operator.id = operator.id, "account locked");
        let entry = AuditEntry::new(actor, AuditAction::Lockout, AuditOutcome::Success)
            .object("operator", operator.id)
            .detail(json!({ "failures": cfg.max_failed_sign_ins, "until": now + cfg.lockout }));
        audit::append(txn, entry, now).await?;
    }
    Ok(locked)
}

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
const TOUCH_EVERY: chrono::Duration = chrono::Duration::seconds(10);

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
    let end = if row.cert_fingerprint != identity.fingerprint {
        Some(SessionEnd::Certificate)
    } else if now >= row.expires_at {
        Some(SessionEnd::Expired)
    } else if now - row.last_seen_at >= cfg.idle_timeout {
        Some(SessionEnd::Idle)
    } else if row.status == OperatorStatus::Disabled.code()
        || row.merchant_status != MerchantStatus::Active.code()
    {
        // Disabled, or their merchant suspended: nothing of the console is theirs any more.
        Some(SessionEnd::OperatorChanged)
    } else {
        None
    };
    if let Some(reason) = end {
        let actor = Actor {
            merchant_id: Some(row.merchant_id),
            operator_id: Some(row.operator_id),
            login_name: Some(row.login_name.clone()),
            ..Actor::from_identity(identity)
        };
        end_session(db, &hash, reason, actor, now).await?;
        // After the end is written: a request reading the session meanwhile keeps nothing.
        sessions.forget(&hash);
        return Ok(Resolved::Ended(reason));
    }
    let touch = now - row.last_seen_at >= TOUCH_EVERY;
    if touch {
        sessions::Entity::update_many()
            .col_expr(sessions::Column::LastSeenAt, Expr::value(now))
            .filter(sessions::Column::TokenHash.eq(hash.as_str()))
            .filter(sessions::Column::EndedAt.is_null())
            .exec(db)
            .await?;
    }
    // A role this build does not know grants nothing.
    let mut roles: Vec<Role> = items_of(row.roles.as_deref())
        .filter_map(Role::from_code)
        .collect();
    let mut group_ids: Vec<i64> = items_of(row.group_ids.as_deref())
        .filter_map(|id| id.parse().ok())
        .collect();
    roles.sort();
    roles.dedup();
    group_ids.sort_unstable();
    group_ids.dedup();
    let session = Session {
        token_hash: hash,
        operator_id: row.operator_id,
        merchant_id: row.merchant_id,
        login_name: row.login_name,
        display_name: row.display_name,
        functions: functions_of(&roles),
        roles,
        // An unknown scope code confines the most: to the (possibly empty) assigned groups.
        scope: DataScope::from_code(&row.data_scope).unwrap_or(DataScope::Groups),
        group_ids,
        must_change_password: row.must_change_password,
        cert_fingerprint: row.cert_fingerprint,
        remote_addr: identity.remote_addr.ip().to_string(),
        tz: time_zone_of(&row.time_zone),
    };
    let limits = Limits {
        expires_at: row.expires_at,
        last_seen_at: if touch { now } else { row.last_seen_at },
    };
    sessions.put(&session, limits, now, read_in);
    Ok(Resolved::Active(Box::new(session)))
}

/// The items of a comma-separated list an aggregate wrote (none for NULL: no rows).
fn items_of(list: Option<&str>) -> impl Iterator<Item = &str> {
    list.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

/// A session with what a request needs of its operator (their roles and terminal groups as lists) and
/// merchant, read in one query.
#[derive(Debug, FromQueryResult)]
struct SessionRow {
    operator_id: i64,
    cert_fingerprint: String,
    last_seen_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    end_reason: Option<String>,
    merchant_id: i64,
    login_name: String,
    display_name: String,
    status: String,
    must_change_password: bool,
    data_scope: String,
    time_zone: String,
    merchant_status: String,
    /// Role codes, comma-separated; NULL when there are none.
    roles: Option<String>,
    /// Terminal group ids, comma-separated; NULL when there are none.
    group_ids: Option<String>,
}

impl SessionRow {
    fn select(backend: DbBackend, token_hash: &str) -> SelectStatement {
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
fn list_of<C: ColumnTrait>(backend: DbBackend, column: C, operator: C) -> Expr {
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

/// What the change-password form sends.
pub struct PasswordChange {
    pub current: SecretString,
    pub new: SecretString,
    pub confirm: SecretString,
}

/// Changes the signed-in operator's own password; ends their other sessions.
#[tracing::instrument(skip_all, fields(operator.id = session.operator_id))]
pub async fn change_password<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    cfg: &AuthConfig,
    session: &Session,
    change: PasswordChange,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let new = change.new.expose_secret();
    let mut errors: Vec<FieldError> = check_password(new)
        .into_iter()
        .map(|rule| FieldError::new("new_password", FieldProblem::Password(rule)))
        .collect();
    if change.current.expose_secret().is_empty() {
        errors.push(FieldError::new("current_password", FieldProblem::Required));
    }
    if new != change.confirm.expose_secret() {
        errors.push(FieldError::new(
            "confirm_password",
            FieldProblem::Password(PasswordRule::Mismatch),
        ));
    }
    if change.current.expose_secret().len() > 4 * MAX_LENGTH {
        errors.push(FieldError::new("current_password", FieldProblem::Format));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let operator = confirm_own_password(
        db,
        cfg,
        session,
        change.current,
        "current_password",
        AuditAction::PasswordChange,
        now,
    )
    .await?;
    let recent = recent_hashes(db, &operator).await?;
    let new_secret = SecretString::from(new.to_owned());
    if verify_bounded(cfg, new_secret, recent)
        .await?
        .into_iter()
        .any(|m| m)
    {
        return Err(AppError::invalid(
            "new_password",
            FieldProblem::Password(PasswordRule::RecentlyUsed),
        ));
    }
    let hash = hash_bounded(cfg, change.new).await?;

    let txn = begin_write(db).await?;
    operators::Entity::update_many()
        .col_expr(operators::Column::PasswordHash, Expr::value(hash.clone()))
        .col_expr(operators::Column::MustChangePassword, Expr::value(false))
        .col_expr(operators::Column::PasswordChangedAt, Expr::value(Some(now)))
        .col_expr(operators::Column::UpdatedAt, Expr::value(now))
        .filter(operators::Column::Id.eq(operator.id))
        .exec(&txn)
        .await?;
    remember_password(&txn, operator.id, hash, now).await?;
    let ended = end_operator_sessions(
        &txn,
        operator.id,
        Some(&session.token_hash),
        SessionEnd::PasswordChanged,
        now,
    )
    .await?;
    let entry = AuditEntry::new(
        session.actor(),
        AuditAction::PasswordChange,
        AuditOutcome::Success,
    )
    .object("operator", operator.id)
    .detail(json!({ "other_sessions_ended": ended }));
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    tracing::info!("password changed");
    Ok(())
}

/// Checks a signed-in operator's own password, asked again before a sensitive change (a new
/// password, a token). A wrong one counts toward the lockout exactly as at sign-in: otherwise a
/// session left open would let anyone guess the password without limit. The lock ends every session
/// of the operator, this one included. A refusal is recorded as a failed `action`; a wrong password
/// is a field error on `field`, the form's password field. Returns the operator as read for the
/// check.
pub async fn confirm_own_password<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    cfg: &AuthConfig,
    session: &Session,
    password: SecretString,
    field: &str,
    action: AuditAction,
    now: DateTime<Utc>,
) -> Result<operators::Model, AppError> {
    let operator = operators::Entity::find_by_id(session.operator_id)
        .one(db)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let Judged { judged, matched } =
        judge_attempt(db, cfg, Some(&operator), true, password, now).await?;
    if matched {
        operators::Entity::update_many()
            .col_expr(operators::Column::FailedLoginCount, Expr::value(0))
            .filter(operators::Column::Id.eq(operator.id))
            .exec(db)
            .await?;
        return Ok(operator);
    }
    let txn = begin_write(db).await?;
    let reason = if judged {
        "wrong_current_password"
    } else {
        "locked"
    };
    let entry = AuditEntry::new(session.actor(), action, AuditOutcome::Failure)
        .object("operator", operator.id)
        .detail(json!({ "reason": reason }));
    audit::append(&txn, entry, now).await?;
    let locked = judged && lock_at_limit(&txn, cfg, &operator, session.actor(), now).await?;
    if locked || !judged {
        end_operator_sessions(&txn, operator.id, None, SessionEnd::OperatorChanged, now).await?;
        txn.commit().await?;
        return Err(AppError::Unauthenticated);
    }
    txn.commit().await?;
    Err(AppError::invalid(field, FieldProblem::WrongPassword))
}

/// Adds a password hash to the operator's history.
pub async fn remember_password(
    txn: &impl ConnectionTrait,
    operator_id: i64,
    hash: String,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    password_history::ActiveModel {
        operator_id: Set(operator_id),
        password_hash: Set(hash),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await
    .map(drop)
}

/// The hashes of the last [`HISTORY_DEPTH`] passwords, the current one included.
async fn recent_hashes(
    db: &impl ConnectionTrait,
    operator: &operators::Model,
) -> Result<Vec<String>, DbErr> {
    let mut hashes: Vec<String> = password_history::Entity::find()
        .filter(password_history::Column::OperatorId.eq(operator.id))
        .order_by_desc(password_history::Column::Id)
        .limit(HISTORY_DEPTH as u64)
        .all(db)
        .await?
        .into_iter()
        .map(|h| h.password_hash)
        .collect();
    if !hashes.contains(&operator.password_hash) {
        hashes.truncate(HISTORY_DEPTH - 1);
        hashes.insert(0, operator.password_hash.clone());
    }
    Ok(hashes)
}

/// A random 256-bit token as 64 hex digits.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A hash no password matches in practice, verified for unknown login names so that they cost the
/// same time as known ones.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_password(&SecretString::from(random_token())).unwrap_or_else(|_| {
            // Same parameters as a real hash; the salt and digest are arbitrary.
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$\
             0lF2cCFl6ZlGYoGBqnPOCjmp6oUjkDbDYvFNf4Yx0Hk"
                .to_owned()
        })
    })
}

/// Whether the password matches the hash. Argon2 takes tens of milliseconds of CPU and 19 MiB:
/// callers run it through the throttle's password checks. An overlong password matches nothing and
/// costs nothing.
fn matches(password: &SecretString, hash: &str) -> bool {
    password.expose_secret().len() <= 4 * MAX_LENGTH && verify_password(password, hash)
}

/// For each hash, whether the password matches it: one of the throttle's bounded checks.
async fn verify_bounded(
    cfg: &AuthConfig,
    password: SecretString,
    hashes: Vec<String>,
) -> Result<Vec<bool>, AppError> {
    cfg.throttle
        .password_checks
        .run(move || hashes.iter().map(|h| matches(&password, h)).collect())
        .await
}

async fn hash_bounded(cfg: &AuthConfig, password: SecretString) -> Result<String, AppError> {
    cfg.throttle
        .password_checks
        .run(move || hash_password(&password))
        .await?
        .map_err(|e| AppError::internal("hashing a password", &e))
}
