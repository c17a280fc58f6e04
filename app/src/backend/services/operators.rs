//! Operator management by a merchant's administrator (manual §3.7.2).
//!
//! Every function takes the administrator's session and works only on operators of the session's
//! merchant: another merchant's operator is "not found", whatever its id. Every change is written with
//! its audit event in one transaction. An administrator cannot disable or demote themself, and a
//! merchant keeps at least one active administrator.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set, TransactionSession, TransactionTrait,
};
use secrecy::SecretString;
use serde_json::json;

use super::auth::{end_operator_sessions, remember_password};
use super::home::format_local;
use super::{decode, lock_merchant};
use crate::backend::audit::{self, AuditEntry};
use crate::backend::db::begin_write;
use crate::backend::entities::{
    merchants, operator_certificates, operator_roles, operator_terminal_groups, operators,
    terminal_groups, totp_tokens,
};
use crate::backend::password::{generate_one_time_password, hash_password};
use crate::backend::Session;
use crate::contract::operators::{
    CertificateRow, GroupOption, OperatorDetail, OperatorForm, OperatorFormOptions, OperatorRow,
};
use crate::domain::access::Role;
use crate::domain::{
    AuditAction, AuditOutcome, Currency, DataScope, LoginName, LoginPrefix, MerchantCode, Money,
    OperatorStatus, SessionEnd, TokenStatus,
};
use crate::error::{AppError, FieldError, FieldProblem, Policy};

/// The operator `id` if it belongs to the session's merchant.
async fn own_operator(
    db: &impl ConnectionTrait,
    session: &Session,
    id: i64,
) -> Result<operators::Model, AppError> {
    operators::Entity::find_by_id(id)
        .filter(operators::Column::MerchantId.eq(session.merchant_id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

async fn roles_of(db: &impl ConnectionTrait, operator_id: i64) -> Result<Vec<Role>, DbErr> {
    let mut roles: Vec<Role> = operator_roles::Entity::find()
        .filter(operator_roles::Column::OperatorId.eq(operator_id))
        .all(db)
        .await?
        .iter()
        .filter_map(|r| Role::from_code(&r.role_code))
        .collect();
    roles.sort();
    Ok(roles)
}

async fn groups_of(db: &impl ConnectionTrait, operator_id: i64) -> Result<Vec<i64>, DbErr> {
    Ok(operator_terminal_groups::Entity::find()
        .filter(operator_terminal_groups::Column::OperatorId.eq(operator_id))
        .order_by_asc(operator_terminal_groups::Column::GroupId)
        .all(db)
        .await?
        .into_iter()
        .map(|g| g.group_id)
        .collect())
}

/// The status an administrator sees: a lock that has run out shows as active.
fn effective_status(op: &operators::Model, now: DateTime<Utc>) -> Result<OperatorStatus, AppError> {
    let status = decode("operators.status", &op.status, OperatorStatus::from_code)?;
    Ok(match status {
        OperatorStatus::Locked if op.locked_until.is_some_and(|u| u <= now) => {
            OperatorStatus::Active
        }
        s => s,
    })
}

/// The merchant's operators whose login or display name contains `search` (all when empty).
pub async fn list_operators(
    db: &impl ConnectionTrait,
    session: &Session,
    search: &str,
    now: DateTime<Utc>,
) -> Result<Vec<OperatorRow>, AppError> {
    let tz = session.tz;
    let needle = search.trim().to_lowercase();
    let operators = operators::Entity::find()
        .filter(operators::Column::MerchantId.eq(session.merchant_id))
        .order_by_asc(operators::Column::LoginName)
        .all(db)
        .await?;
    let mut rows = Vec::new();
    for op in operators {
        if !needle.is_empty()
            && !op.login_name.to_lowercase().contains(&needle)
            && !op.display_name.to_lowercase().contains(&needle)
        {
            continue;
        }
        let certificates = operator_certificates::Entity::find()
            .filter(operator_certificates::Column::OperatorId.eq(op.id))
            .count(db)
            .await?;
        let token_enrolled = totp_tokens::Entity::find_by_id(op.id)
            .filter(totp_tokens::Column::Status.eq(TokenStatus::Active.code()))
            .one(db)
            .await?
            .is_some();
        rows.push(OperatorRow {
            id: op.id,
            status: effective_status(&op, now)?,
            roles: roles_of(db, op.id).await?,
            scope: DataScope::from_code(&op.data_scope).unwrap_or(DataScope::Groups),
            last_login_at: op.last_login_at.map(|t| format_local(t, tz)),
            login_name: op.login_name,
            display_name: op.display_name,
            certificates: i64::try_from(certificates).unwrap_or(i64::MAX),
            token_enrolled,
        });
    }
    Ok(rows)
}

/// The merchant's terminal groups, for the scope choice.
pub async fn group_options(
    db: &impl ConnectionTrait,
    session: &Session,
) -> Result<Vec<GroupOption>, AppError> {
    Ok(terminal_groups::Entity::find()
        .filter(terminal_groups::Column::MerchantId.eq(session.merchant_id))
        .order_by_asc(terminal_groups::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(|g| GroupOption {
            id: g.id,
            name: g.name,
        })
        .collect())
}

/// What the form for a new operator offers: the namespace its login name is made in, and the
/// terminal groups for its scope.
pub async fn new_operator_options(
    db: &impl ConnectionTrait,
    session: &Session,
) -> Result<OperatorFormOptions, AppError> {
    Ok(OperatorFormOptions {
        login_prefix: login_prefix(db, session.merchant_id).await?.to_string(),
        groups: group_options(db, session).await?,
    })
}

pub async fn operator_detail(
    db: &impl ConnectionTrait,
    session: &Session,
    id: i64,
    now: DateTime<Utc>,
) -> Result<OperatorDetail, AppError> {
    let op = own_operator(db, session, id).await?;
    let tz = session.tz;
    let certificates = operator_certificates::Entity::find()
        .filter(operator_certificates::Column::OperatorId.eq(op.id))
        .order_by_asc(operator_certificates::Column::BoundAt)
        .all(db)
        .await?
        .into_iter()
        .map(|c| CertificateRow {
            fingerprint: c.fingerprint_sha256,
            subject_cn: c.subject_cn,
            not_after: format_local(c.not_after, tz),
            bound_at: c.bound_at.map(|t| format_local(t, tz)),
            revoked: c.revoked_at.is_some(),
        })
        .collect();
    let token_enrolled = totp_tokens::Entity::find_by_id(op.id)
        .filter(totp_tokens::Column::Status.eq(TokenStatus::Active.code()))
        .one(db)
        .await?
        .is_some();
    Ok(OperatorDetail {
        id: op.id,
        status: effective_status(&op, now)?,
        roles: roles_of(db, op.id).await?,
        scope: DataScope::from_code(&op.data_scope).unwrap_or(DataScope::Groups),
        group_ids: groups_of(db, op.id).await?,
        failed_login_count: op.failed_login_count,
        locked_until: op
            .locked_until
            .filter(|u| *u > now)
            .map(|t| format_local(t, tz)),
        last_login_at: op.last_login_at.map(|t| format_local(t, tz)),
        last_login_addr: op.last_login_addr,
        must_change_password: op.must_change_password,
        is_self: op.id == session.operator_id,
        login_name: op.login_name,
        display_name: op.display_name,
        certificates,
        token_enrolled,
        groups: group_options(db, session).await?,
        approval_limit_fen: op.refund_approval_limit_fen,
    })
}

/// The checked content of the add/edit form.
struct ValidForm {
    display_name: String,
    roles: Vec<Role>,
    scope: DataScope,
    group_ids: Vec<i64>,
    /// Kept for refund approvers only.
    approval_limit_fen: Option<i64>,
}

async fn validate_form(
    db: &impl ConnectionTrait,
    session: &Session,
    form: &OperatorForm,
) -> Result<ValidForm, Vec<FieldError>> {
    let mut errors = Vec::new();
    let display_name = form.display_name.trim().to_owned();
    if display_name.is_empty() {
        errors.push(FieldError::new("display_name", FieldProblem::Required));
    } else if display_name.chars().count() > 64 {
        errors.push(FieldError::new("display_name", FieldProblem::Format));
    }
    let roles: BTreeSet<Role> = form.roles.iter().copied().collect();
    if roles.is_empty() {
        errors.push(FieldError::new("roles", FieldProblem::Required));
    }
    let approval_limit_fen = match form.approval_limit.trim() {
        "" => None,
        text => match Money::parse(text, Currency::Cny) {
            Ok(limit) if limit.is_positive() => Some(limit.fen()),
            _ => {
                errors.push(FieldError::new("approval_limit", FieldProblem::Format));
                None
            }
        },
    };
    let group_ids: BTreeSet<i64> = form.group_ids.iter().copied().collect();
    match form.scope {
        DataScope::Groups if group_ids.is_empty() => {
            errors.push(FieldError::new("group_ids", FieldProblem::Required));
        }
        DataScope::Groups => {
            let own = terminal_groups::Entity::find()
                .filter(terminal_groups::Column::MerchantId.eq(session.merchant_id))
                .filter(terminal_groups::Column::Id.is_in(group_ids.iter().copied()))
                .count(db)
                .await
                .unwrap_or(0);
            if own != group_ids.len() as u64 {
                // Another merchant's group, or one that no longer exists.
                errors.push(FieldError::new("group_ids", FieldProblem::Format));
            }
        }
        DataScope::Merchant => {}
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ValidForm {
        display_name,
        approval_limit_fen: approval_limit_fen.filter(|_| roles.contains(&Role::RefundApprover)),
        roles: roles.into_iter().collect(),
        group_ids: match form.scope {
            DataScope::Groups => group_ids.into_iter().collect(),
            DataScope::Merchant => Vec::new(),
        },
        scope: form.scope,
    })
}

async fn write_roles_and_groups(
    txn: &impl ConnectionTrait,
    operator_id: i64,
    roles: &[Role],
    group_ids: &[i64],
) -> Result<(), DbErr> {
    operator_roles::Entity::delete_many()
        .filter(operator_roles::Column::OperatorId.eq(operator_id))
        .exec(txn)
        .await?;
    for role in roles {
        operator_roles::ActiveModel {
            operator_id: Set(operator_id),
            role_code: Set(role.code().to_owned()),
        }
        .insert(txn)
        .await?;
    }
    operator_terminal_groups::Entity::delete_many()
        .filter(operator_terminal_groups::Column::OperatorId.eq(operator_id))
        .exec(txn)
        .await?;
    for group_id in group_ids {
        operator_terminal_groups::ActiveModel {
            operator_id: Set(operator_id),
            group_id: Set(*group_id),
        }
        .insert(txn)
        .await?;
    }
    Ok(())
}

/// The merchant's part of the login namespace.
pub async fn login_prefix(
    db: &impl ConnectionTrait,
    merchant_id: i64,
) -> Result<LoginPrefix, AppError> {
    let merchant = merchants::Entity::find_by_id(merchant_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    LoginPrefix::parse(&merchant.login_prefix).or_else(|_| {
        MerchantCode::parse(&merchant.code)
            .map(|code| LoginPrefix::of_code(&code))
            .map_err(|e| AppError::internal("reading the merchant's login prefix", &e))
    })
}

/// A new operator and the one-time password to hand over (shown once, changed at first sign-in).
pub struct Created {
    pub id: i64,
    pub one_time_password: SecretString,
}

#[tracing::instrument(skip_all, fields(merchant.id = session.merchant_id))]
pub async fn create_operator<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    session: &Session,
    login_name: &str,
    form: &OperatorForm,
    now: DateTime<Utc>,
) -> Result<Created, AppError> {
    // Names are made in the merchant's own namespace: whatever is typed, the only names that can
    // already exist there are this merchant's, so "taken" never tells of another merchant's staff.
    let prefix = login_prefix(db, session.merchant_id).await?;
    let login = LoginName::in_namespace(&prefix, login_name);
    let valid = validate_form(db, session, form).await;
    let (login, valid) = match (login, valid) {
        (Ok(login), Ok(valid)) => (login, valid),
        (login, valid) => {
            let mut errors = valid.err().unwrap_or_default();
            if login.is_err() {
                errors.insert(0, FieldError::new("login_name", FieldProblem::Format));
            }
            return Err(AppError::Invalid(errors));
        }
    };
    let password = generate_one_time_password();
    let hash =
        hash_password(&password).map_err(|e| AppError::internal("hashing a password", &e))?;

    let txn = begin_write(db).await?;
    let taken = operators::Entity::find()
        .filter(operators::Column::LoginName.eq(login.as_str()))
        .one(&txn)
        .await?
        .is_some();
    if taken {
        return Err(AppError::invalid("login_name", FieldProblem::Taken));
    }
    let op = operators::ActiveModel {
        merchant_id: Set(session.merchant_id),
        login_name: Set(login.to_string()),
        display_name: Set(valid.display_name.clone()),
        password_hash: Set(hash.clone()),
        status: Set(OperatorStatus::Active.code().to_owned()),
        must_change_password: Set(true),
        failed_login_count: Set(0),
        data_scope: Set(valid.scope.code().to_owned()),
        refund_approval_limit_fen: Set(valid.approval_limit_fen),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    remember_password(&txn, op.id, hash, now).await?;
    write_roles_and_groups(&txn, op.id, &valid.roles, &valid.group_ids).await?;
    let entry = AuditEntry::new(
        session.actor(),
        AuditAction::OperatorCreate,
        AuditOutcome::Success,
    )
    .object("operator", op.id)
    .detail(json!({
        "login_name": op.login_name,
        "display_name": op.display_name,
        "roles": valid.roles,
        "scope": valid.scope,
        "group_ids": valid.group_ids,
        "approval_limit_fen": valid.approval_limit_fen,
    }));
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    tracing::info!(operator.id = op.id, "operator created");
    Ok(Created {
        id: op.id,
        one_time_password: password,
    })
}

/// Whether, without `operator_id`, the merchant still has an active administrator.
async fn another_active_admin(
    txn: &impl ConnectionTrait,
    merchant_id: i64,
    operator_id: i64,
) -> Result<bool, DbErr> {
    let admins: Vec<i64> = operator_roles::Entity::find()
        .filter(operator_roles::Column::RoleCode.eq(Role::Administrator.code()))
        .filter(operator_roles::Column::OperatorId.ne(operator_id))
        .all(txn)
        .await?
        .into_iter()
        .map(|r| r.operator_id)
        .collect();
    if admins.is_empty() {
        return Ok(false);
    }
    Ok(operators::Entity::find()
        .filter(operators::Column::MerchantId.eq(merchant_id))
        .filter(operators::Column::Id.is_in(admins))
        .filter(operators::Column::Status.ne(OperatorStatus::Disabled.code()))
        .count(txn)
        .await?
        > 0)
}

#[tracing::instrument(skip_all, fields(operator.id = id))]
pub async fn update_operator<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    session: &Session,
    id: i64,
    form: &OperatorForm,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let valid = validate_form(db, session, form)
        .await
        .map_err(AppError::Invalid)?;
    let txn = begin_write(db).await?;
    // Two administrators demoting or disabling each other at the same moment are checked one
    // after the other.
    lock_merchant(&txn, session.merchant_id).await?;
    let op = own_operator(&txn, session, id).await?;
    let roles_before = roles_of(&txn, op.id).await?;
    let groups_before = groups_of(&txn, op.id).await?;
    let was_admin = roles_before.contains(&Role::Administrator);
    let stays_admin = valid.roles.contains(&Role::Administrator);
    if was_admin && !stays_admin {
        if op.id == session.operator_id {
            return Err(AppError::Policy(Policy::SelfDemote));
        }
        if op.status != OperatorStatus::Disabled.code()
            && !another_active_admin(&txn, session.merchant_id, op.id).await?
        {
            return Err(AppError::Policy(Policy::LastAdministrator));
        }
    }
    operators::Entity::update_many()
        .col_expr(
            operators::Column::DisplayName,
            Expr::value(valid.display_name.clone()),
        )
        .col_expr(
            operators::Column::DataScope,
            Expr::value(valid.scope.code()),
        )
        .col_expr(
            operators::Column::RefundApprovalLimitFen,
            Expr::value(valid.approval_limit_fen),
        )
        .col_expr(operators::Column::UpdatedAt, Expr::value(now))
        .filter(operators::Column::Id.eq(op.id))
        .exec(&txn)
        .await?;
    write_roles_and_groups(&txn, op.id, &valid.roles, &valid.group_ids).await?;
    let scope_before = DataScope::from_code(&op.data_scope).unwrap_or(DataScope::Groups);
    let changes = [
        (
            op.display_name != valid.display_name,
            AuditAction::OperatorUpdate,
            json!({ "display_name": { "before": op.display_name, "after": valid.display_name } }),
        ),
        (
            op.refund_approval_limit_fen != valid.approval_limit_fen,
            AuditAction::OperatorUpdate,
            json!({ "approval_limit_fen": {
                "before": op.refund_approval_limit_fen,
                "after": valid.approval_limit_fen,
            } }),
        ),
        (
            roles_before != valid.roles,
            AuditAction::OperatorRoles,
            json!({ "roles": { "before": roles_before, "after": valid.roles } }),
        ),
        (
            scope_before != valid.scope || groups_before != valid.group_ids,
            AuditAction::OperatorScope,
            json!({
                "scope": { "before": scope_before, "after": valid.scope },
                "group_ids": { "before": groups_before, "after": valid.group_ids },
            }),
        ),
    ];
    for (changed, action, detail) in changes {
        if changed {
            let entry = AuditEntry::new(session.actor(), action, AuditOutcome::Success)
                .object("operator", op.id)
                .detail(detail);
            audit::append(&txn, entry, now).await?;
        }
    }
    txn.commit().await?;
    Ok(())
}

/// Enables or disables an operator. Disabling ends their sessions at once.
#[tracing::instrument(skip_all, fields(operator.id = id, enabled))]
pub async fn set_enabled<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    session: &Session,
    id: i64,
    enabled: bool,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let txn = begin_write(db).await?;
    // Two administrators demoting or disabling each other at the same moment are checked one
    // after the other.
    lock_merchant(&txn, session.merchant_id).await?;
    let op = own_operator(&txn, session, id).await?;
    if !enabled {
        if op.id == session.operator_id {
            return Err(AppError::Policy(Policy::SelfDisable));
        }
        let is_admin = roles_of(&txn, op.id).await?.contains(&Role::Administrator);
        if is_admin
            && op.status != OperatorStatus::Disabled.code()
            && !another_active_admin(&txn, session.merchant_id, op.id).await?
        {
            return Err(AppError::Policy(Policy::LastAdministrator));
        }
    }
    let status = if enabled {
        OperatorStatus::Active
    } else {
        OperatorStatus::Disabled
    };
    operators::Entity::update_many()
        .col_expr(operators::Column::Status, Expr::value(status.code()))
        .col_expr(operators::Column::FailedLoginCount, Expr::value(0))
        .col_expr(
            operators::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(operators::Column::UpdatedAt, Expr::value(now))
        .filter(operators::Column::Id.eq(op.id))
        .exec(&txn)
        .await?;
    let ended = if enabled {
        0
    } else {
        end_operator_sessions(&txn, op.id, None, SessionEnd::OperatorChanged, now).await?
    };
    let action = if enabled {
        AuditAction::OperatorEnable
    } else {
        AuditAction::OperatorDisable
    };
    let detail =
        json!({ "status": { "before": op.status, "after": status }, "sessions_ended": ended });
    commit_with_audit(txn, session, action, op.id, detail, now).await
}

/// Records the change to operator `operator_id` and commits it together with the change.
async fn commit_with_audit<T: ConnectionTrait + TransactionSession>(
    txn: T,
    session: &Session,
    action: AuditAction,
    operator_id: i64,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let entry = AuditEntry::new(session.actor(), action, AuditOutcome::Success)
        .object("operator", operator_id)
        .detail(detail);
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok(())
}

/// Lifts a lockout.
pub async fn unlock<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    session: &Session,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let txn = begin_write(db).await?;
    let op = own_operator(&txn, session, id).await?;
    let unlocked = super::auth::unlocking()
        .col_expr(operators::Column::UpdatedAt, Expr::value(now))
        .filter(operators::Column::Id.eq(op.id))
        .exec(&txn)
        .await?
        .rows_affected;
    if unlocked == 0 {
        return Err(AppError::Conflict);
    }
    commit_with_audit(
        txn,
        session,
        AuditAction::OperatorUnlock,
        op.id,
        json!({ "failed_login_count": op.failed_login_count }),
        now,
    )
    .await?;
    Ok(())
}

/// Gives an operator a new one-time password (changed at their next sign-in) and ends their sessions.
pub async fn reset_password<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    session: &Session,
    id: i64,
    now: DateTime<Utc>,
) -> Result<SecretString, AppError> {
    let password = generate_one_time_password();
    let hash =
        hash_password(&password).map_err(|e| AppError::internal("hashing a password", &e))?;
    let txn = begin_write(db).await?;
    let op = own_operator(&txn, session, id).await?;
    operators::Entity::update_many()
        .col_expr(operators::Column::PasswordHash, Expr::value(hash.clone()))
        .col_expr(operators::Column::MustChangePassword, Expr::value(true))
        .col_expr(operators::Column::UpdatedAt, Expr::value(now))
        .filter(operators::Column::Id.eq(op.id))
        .exec(&txn)
        .await?;
    remember_password(&txn, op.id, hash, now).await?;
    let keep = (op.id == session.operator_id).then_some(session.token_hash.as_str());
    let ended = end_operator_sessions(&txn, op.id, keep, SessionEnd::OperatorChanged, now).await?;
    commit_with_audit(
        txn,
        session,
        AuditAction::PasswordReset,
        op.id,
        json!({ "sessions_ended": ended }),
        now,
    )
    .await?;
    Ok(password)
}

/// A SHA-256 fingerprint as typed: hex with or without colons or spaces, any case.
pub fn parse_fingerprint(input: &str) -> Option<String> {
    let hex: String = input
        .chars()
        .filter(|c| !matches!(c, ':' | ' ' | '-'))
        .collect::<String>()
        .to_ascii_lowercase();
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hex)
}

/// Binds a certificate the console has seen (by its fingerprint) to an operator.
pub async fn bind_certificate<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    session: &Session,
    id: i64,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let fingerprint = parse_fingerprint(fingerprint)
        .ok_or_else(|| AppError::invalid("fingerprint", FieldProblem::Format))?;
    let txn = begin_write(db).await?;
    let op = own_operator(&txn, session, id).await?;
    let cert = operator_certificates::Entity::find()
        .filter(operator_certificates::Column::FingerprintSha256.eq(&fingerprint))
        .one(&txn)
        .await?
        .ok_or(AppError::Policy(Policy::CertificateUnknown))?;
    match cert.operator_id {
        Some(owner) if owner == op.id => return Ok(()),
        Some(_) => return Err(AppError::Policy(Policy::CertificateBoundElsewhere)),
        None => {}
    }
    if cert.revoked_at.is_some() || now < cert.not_before || now >= cert.not_after {
        return Err(AppError::Policy(Policy::CertificateNotValid));
    }
    // The platform issues an operator's certificate with their login name as its subject: one issued
    // for another merchant's operator (or for no one) is not this merchant's to bind. The answer is
    // the same whether the subject names another merchant's operator or nobody, so that it tells
    // nothing about other merchants' login names.
    let own_subject = operators::Entity::find()
        .filter(operators::Column::MerchantId.eq(session.merchant_id))
        .filter(operators::Column::LoginName.eq(cert.subject_cn.as_str()))
        .one(&txn)
        .await?
        .is_some();
    if !own_subject {
        return Err(AppError::Policy(Policy::CertificateNotForMerchant));
    }
    let bound = operator_certificates::Entity::update_many()
        .col_expr(
            operator_certificates::Column::OperatorId,
            Expr::value(Some(op.id)),
        )
        .col_expr(
            operator_certificates::Column::BoundAt,
            Expr::value(Some(now)),
        )
        .filter(operator_certificates::Column::Id.eq(cert.id))
        .filter(operator_certificates::Column::OperatorId.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    if bound == 0 {
        return Err(AppError::Conflict);
    }
    commit_with_audit(
        txn,
        session,
        AuditAction::CertificateBind,
        op.id,
        json!({ "fingerprint": fingerprint, "subject": cert.subject_cn }),
        now,
    )
    .await?;
    Ok(())
}

/// Unbinds a certificate from an operator; sessions opened with it end.
pub async fn unbind_certificate<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    session: &Session,
    id: i64,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let fingerprint = parse_fingerprint(fingerprint)
        .ok_or_else(|| AppError::invalid("fingerprint", FieldProblem::Format))?;
    let txn = begin_write(db).await?;
    let op = own_operator(&txn, session, id).await?;
    let unbound = operator_certificates::Entity::update_many()
        .col_expr(
            operator_certificates::Column::OperatorId,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(
            operator_certificates::Column::BoundAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(operator_certificates::Column::FingerprintSha256.eq(&fingerprint))
        .filter(operator_certificates::Column::OperatorId.eq(op.id))
        .exec(&txn)
        .await?
        .rows_affected;
    if unbound == 0 {
        return Err(AppError::NotFound);
    }
    let ended = crate::backend::entities::sessions::Entity::update_many()
        .col_expr(
            crate::backend::entities::sessions::Column::EndedAt,
            Expr::value(Some(now)),
        )
        .col_expr(
            crate::backend::entities::sessions::Column::EndReason,
            Expr::value(Some(SessionEnd::Certificate.code())),
        )
        .filter(crate::backend::entities::sessions::Column::CertFingerprint.eq(&fingerprint))
        .filter(crate::backend::entities::sessions::Column::EndedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    commit_with_audit(
        txn,
        session,
        AuditAction::CertificateUnbind,
        op.id,
        json!({ "fingerprint": fingerprint, "sessions_ended": ended }),
        now,
    )
    .await?;
    Ok(())
}

/// Removes an operator's TOTP token: they enrol a new one.
pub async fn reset_token<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    session: &Session,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let txn = begin_write(db).await?;
    let op = own_operator(&txn, session, id).await?;
    let removed = totp_tokens::Entity::delete_many()
        .filter(totp_tokens::Column::OperatorId.eq(op.id))
        .exec(&txn)
        .await?
        .rows_affected;
    commit_with_audit(
        txn,
        session,
        AuditAction::TokenReset,
        op.id,
        json!({ "had_token": removed > 0 }),
        now,
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_read_as_typed_or_pasted() {
        let hex = "ab".repeat(32);
        assert_eq!(parse_fingerprint(&hex), Some(hex.clone()));
        let colons = hex
            .as_bytes()
            .chunks(2)
            .map(|c| String::from_utf8_lossy(c).to_uppercase())
            .collect::<Vec<_>>()
            .join(":");
        assert_eq!(parse_fingerprint(&colons), Some(hex.clone()));
        assert_eq!(parse_fingerprint(&hex[..62]), None);
        assert_eq!(parse_fingerprint(&"zz".repeat(32)), None);
    }
}
