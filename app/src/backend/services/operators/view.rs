//! What an administrator reads: the list of the merchant's operators, one operator's detail, the
//! options of the form.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};

use super::edit::login_prefix;
use crate::backend::entities::{
    operator_certificates, operator_roles, operator_terminal_groups, operators, terminal_groups,
    totp_tokens,
};
use crate::backend::local_time;
use crate::backend::services::decode;
use crate::backend::Session;
use crate::contract::operators::{
    CertificateRow, GroupOption, OperatorDetail, OperatorFormOptions, OperatorRow,
};
use crate::domain::access::Role;
use crate::domain::{DataScope, OperatorStatus, TokenStatus};
use crate::error::AppError;

/// The operator `id` if it belongs to the session's merchant.
pub(super) async fn own_operator(
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

pub(super) async fn roles_of(
    db: &impl ConnectionTrait,
    operator_id: i64,
) -> Result<Vec<Role>, DbErr> {
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

pub(super) async fn groups_of(
    db: &impl ConnectionTrait,
    operator_id: i64,
) -> Result<Vec<i64>, DbErr> {
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
pub(super) fn effective_status(
    op: &operators::Model,
    now: DateTime<Utc>,
) -> Result<OperatorStatus, AppError> {
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
            last_login_at: op.last_login_at.map(|t| local_time::minutes(t, tz)),
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
            not_after: local_time::minutes(c.not_after, tz),
            bound_at: c.bound_at.map(|t| local_time::minutes(t, tz)),
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
            .map(|t| local_time::minutes(t, tz)),
        last_login_at: op.last_login_at.map(|t| local_time::minutes(t, tz)),
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
