//! Creating and changing operators: the form checked field by field, roles and groups written, the
//! last active administrator kept, every change with its audit event.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, Set, TransactionSession, TransactionTrait,
};
use secrecy::SecretString;
use serde_json::json;

use super::view::{groups_of, own_operator, roles_of};
use crate::backend::audit::{self, AuditEntry};
use crate::backend::db::begin_write;
use crate::backend::entities::{
    merchants, operator_roles, operator_terminal_groups, operators, terminal_groups,
};
use crate::backend::password::{generate_one_time_password, hash_password};
use crate::backend::services::auth::{end_operator_sessions, remember_password};
use crate::backend::services::lock_merchant;
use crate::backend::Session;
use crate::contract::operators::OperatorForm;
use crate::domain::access::Role;
use crate::domain::{
    AuditAction, AuditOutcome, DataScope, LoginName, LoginPrefix, MerchantCode, Money,
    OperatorEvent, OperatorStatus, SessionEnd,
};
use crate::error::{AppError, FieldError, FieldProblem, Policy};

/// The checked content of the add/edit form.
pub(super) struct ValidForm {
    pub(super) display_name: String,
    pub(super) roles: Vec<Role>,
    pub(super) scope: DataScope,
    pub(super) group_ids: Vec<i64>,
    /// Kept for refund approvers only.
    pub(super) approval_limit_fen: Option<i64>,
}

pub(super) async fn validate_form(
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
        text => match Money::parse_minor(text) {
            Ok(fen) if fen > 0 => Some(fen),
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

pub(super) async fn write_roles_and_groups(
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
        "approval_limit_fen": valid.approval_limit_fen}));
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    tracing::info!(operator.id = op.id, "operator created");
    Ok(Created {
        id: op.id,
        one_time_password: password,
    })
}

/// Whether, without `operator_id`, the merchant still has an active administrator.
pub(super) async fn another_active_admin(
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
                "after": valid.approval_limit_fen} }),
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
                "group_ids": { "before": groups_before, "after": valid.group_ids }}),
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
    let event = if enabled {
        OperatorEvent::Enable
    } else {
        OperatorEvent::Disable
    };
    crate::backend::services::moving_operators(event)
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
        json!({ "status": { "before": op.status, "after": event.to() }, "sessions_ended": ended });
    commit_with_audit(txn, session, action, op.id, detail, now).await
}

/// Records the change to operator `operator_id` and commits it together with the change.
pub(super) async fn commit_with_audit<T: ConnectionTrait + TransactionSession>(
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
