//! The merchant's terminals and terminal groups (manual §3.7.3–3.7.4): what an administrator reads
//! and changes. Every function works on the session's merchant only; every change is in the audit log.
//!
//! A group's terminals are read by every search of an operator confined to it at the moment of the
//! search ([`super::scope::group_terminals`]), so a change here holds for them at once. A group that
//! operators are confined to cannot be deleted: they would be left seeing nothing.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionSession, TransactionTrait,
};
use serde_json::json;

use crate::backend::audit::{self, AuditEntry};
use crate::backend::db::begin_write;
use crate::backend::entities::{
    merchant_numbers, operator_terminal_groups, operators, terminal_batches,
    terminal_group_members, terminal_groups, terminals, transactions,
};
use crate::backend::local_time;
use crate::backend::services::decode;
use crate::backend::services::filters::contains_pattern;
use crate::backend::services::gateway::batch_totals;
use crate::backend::Session;
use crate::contract::terminals::{
    BatchView, GroupDetail, GroupOption, GroupRow, TerminalDetail, TerminalFilter, TerminalForm,
    TerminalList, TerminalOption, TerminalRow,
};
use crate::domain::breakdown::Tally;
use crate::domain::gateway::BatchTotals;
use crate::domain::{AuditAction, AuditOutcome, TerminalStatus, TxnStatus};
use crate::error::{AppError, FieldError, FieldProblem, Policy};

/// The most terminals one list shows; narrower filters find the others.
pub const LIST_LIMIT: u64 = 500;

/// The longest alias and group name.
const MAX_NAME: usize = 64;

/// The terminal `id` if it is the session's merchant's.
async fn own_terminal(
    db: &impl ConnectionTrait,
    session: &Session,
    id: i64,
) -> Result<terminals::Model, AppError> {
    terminals::Entity::find_by_id(id)
        .filter(terminals::Column::MerchantId.eq(session.merchant_id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// The group `id` if it is the session's merchant's.
async fn own_group(
    db: &impl ConnectionTrait,
    session: &Session,
    id: i64,
) -> Result<terminal_groups::Model, AppError> {
    terminal_groups::Entity::find_by_id(id)
        .filter(terminal_groups::Column::MerchantId.eq(session.merchant_id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

async fn groups_of_merchant(
    db: &impl ConnectionTrait,
    merchant_id: i64,
) -> Result<Vec<GroupOption>, AppError> {
    Ok(terminal_groups::Entity::find()
        .filter(terminal_groups::Column::MerchantId.eq(merchant_id))
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

fn invalid(field: &'static str, problem: FieldProblem) -> AppError {
    AppError::Invalid(vec![FieldError::new(field, problem)])
}

/// The merchant's terminals of the filters, by number.
pub async fn list_terminals(
    db: &impl ConnectionTrait,
    session: &Session,
    filter: &TerminalFilter,
) -> Result<TerminalList, AppError> {
    use terminals::Column as C;
    let mut cond = Condition::all().add(C::MerchantId.eq(session.merchant_id));
    let search = filter.search.trim();
    if !search.is_empty() {
        let pattern = contains_pattern(search);
        cond = cond.add(
            Condition::any()
                .add(C::TerminalNo.like(pattern.clone()))
                .add(C::Alias.like(pattern)),
        );
    }
    let numbers: Vec<merchant_numbers::Model> = merchant_numbers::Entity::find()
        .filter(merchant_numbers::Column::MerchantId.eq(session.merchant_id))
        .order_by_asc(merchant_numbers::Column::MerchantNo)
        .all(db)
        .await?;
    if !filter.number.is_empty() {
        let id = numbers
            .iter()
            .find(|n| n.merchant_no == filter.number)
            .map_or(0, |n| n.id);
        cond = cond.add(C::MerchantNumberId.eq(id));
    }
    if !filter.group.is_empty() {
        let group: i64 = filter
            .group
            .parse()
            .map_err(|_| invalid("group", FieldProblem::Format))?;
        cond = cond.add(
            C::Id.in_subquery(
                Query::select()
                    .column(terminal_group_members::Column::TerminalId)
                    .from(terminal_group_members::Entity)
                    .and_where(Expr::col(terminal_group_members::Column::GroupId).eq(group))
                    .to_owned(),
            ),
        );
    }
    match filter.status.as_str() {
        "" => {}
        code => {
            let status = TerminalStatus::from_code(code)
                .ok_or_else(|| invalid("status", FieldProblem::Format))?;
            cond = cond.add(C::Status.eq(status.code()));
        }
    }
    match filter.signed_in.as_str() {
        "" => {}
        "yes" => cond = cond.add(C::SignedIn.eq(true)),
        "no" => cond = cond.add(C::SignedIn.eq(false)),
        _ => return Err(invalid("signed_in", FieldProblem::Format)),
    }
    let select = terminals::Entity::find().filter(cond);
    let total = select.clone().count(db).await?;
    let rows = select
        .order_by_asc(C::TerminalNo)
        .limit(LIST_LIMIT)
        .all(db)
        .await?;
    let names = group_names_of(db, rows.iter().map(|t| t.id).collect()).await?;
    let rows = rows
        .into_iter()
        .map(|t| {
            let number = numbers.iter().find(|n| n.id == t.merchant_number_id);
            Ok(TerminalRow {
                id: t.id,
                groups: names
                    .iter()
                    .filter(|(id, _)| *id == t.id)
                    .map(|(_, name)| name.clone())
                    .collect(),
                terminal_no: t.terminal_no,
                alias: t.alias,
                model: t.model,
                merchant_no: number.map(|n| n.merchant_no.clone()).unwrap_or_default(),
                store: number.map(|n| n.name.clone()).unwrap_or_default(),
                status: decode("terminals.status", &t.status, TerminalStatus::from_code)?,
                signed_in: t.signed_in,
                last_seen: t.last_seen_at.map(|at| local_time::minutes(at, session.tz)),
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok(TerminalList {
        rows,
        total,
        limit: LIST_LIMIT,
        numbers: numbers
            .into_iter()
            .map(|n| (n.merchant_no, n.name))
            .collect(),
        groups: groups_of_merchant(db, session.merchant_id).await?,
    })
}

/// (terminal id, group name) of the terminals `ids`, by name.
async fn group_names_of(
    db: &impl ConnectionTrait,
    ids: Vec<i64>,
) -> Result<Vec<(i64, String)>, AppError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let members = terminal_group_members::Entity::find()
        .filter(terminal_group_members::Column::TerminalId.is_in(ids))
        .all(db)
        .await?;
    let groups = terminal_groups::Entity::find()
        .filter(
            terminal_groups::Column::Id
                .is_in(members.iter().map(|m| m.group_id).collect::<Vec<_>>()),
        )
        .order_by_asc(terminal_groups::Column::Name)
        .all(db)
        .await?;
    Ok(groups
        .iter()
        .flat_map(|g| {
            members
                .iter()
                .filter(move |m| m.group_id == g.id)
                .map(move |m| (m.terminal_id, g.name.clone()))
        })
        .collect())
}

fn batch_view(batch: terminal_batches::Model, host: BatchTotals, tz: chrono_tz::Tz) -> BatchView {
    let stored = |json: &Option<String>| {
        json.as_deref()
            .and_then(|j| serde_json::from_str::<BatchTotals>(j).ok())
    };
    BatchView {
        host: stored(&batch.host_totals).unwrap_or(host),
        declared: stored(&batch.declared_totals),
        batch_no: batch.batch_no,
        status: batch.status,
        opened_at: local_time::minutes(batch.opened_at, tz),
        closed_at: batch.closed_at.map(|at| local_time::minutes(at, tz)),
    }
}

/// One terminal: its state, its open batch with the totals so far, its batches out of balance,
/// today's sales.
pub async fn terminal_detail(
    db: &impl ConnectionTrait,
    session: &Session,
    id: i64,
    now: DateTime<Utc>,
) -> Result<TerminalDetail, AppError> {
    let t = own_terminal(db, session, id).await?;
    let tz = session.tz;
    let number = merchant_numbers::Entity::find_by_id(t.merchant_number_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let open_batch = match terminal_batches::Entity::find()
        .filter(terminal_batches::Column::TerminalId.eq(t.id))
        .filter(terminal_batches::Column::Status.eq("open"))
        .one(db)
        .await?
    {
        Some(batch) => {
            let host = batch_totals(db, t.id, &batch.batch_no).await?;
            Some(batch_view(batch, host, tz))
        }
        None => None,
    };
    let out_of_balance = terminal_batches::Entity::find()
        .filter(terminal_batches::Column::TerminalId.eq(t.id))
        .filter(terminal_batches::Column::Status.eq("out_of_balance"))
        .order_by_desc(terminal_batches::Column::ClosedAt)
        .limit(20)
        .all(db)
        .await?
        .into_iter()
        .map(|b| batch_view(b, BatchTotals::default(), tz))
        .collect();
    let (last_sign_in, last_sign_out): (Option<DateTime<Utc>>, Option<DateTime<Utc>>) =
        terminal_batches::Entity::find()
            .select_only()
            .expr(Expr::col(terminal_batches::Column::OpenedAt).max())
            .expr(Expr::col(terminal_batches::Column::ClosedAt).max())
            .filter(terminal_batches::Column::TerminalId.eq(t.id))
            .into_tuple()
            .one(db)
            .await?
            .unwrap_or((None, None));
    let today = local_time::today(now, tz);
    let (start, end) = local_time::day_bounds(today, tz);
    let (count, amount_fen): (i64, i64) = transactions::Entity::find()
        .select_only()
        .expr(Expr::cust("CAST(COUNT(*) AS BIGINT)"))
        .expr(Expr::cust("CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT)"))
        .filter(transactions::Column::TerminalId.eq(t.id))
        .filter(transactions::Column::TxnTime.gte(start))
        .filter(transactions::Column::TxnTime.lt(end))
        .filter(transactions::Column::Status.eq(TxnStatus::Success.code()))
        .filter(
            transactions::Column::TxnType.is_in(
                crate::domain::breakdown::SALE_TYPES
                    .iter()
                    .map(|t| t.code()),
            ),
        )
        .into_tuple()
        .one(db)
        .await?
        .unwrap_or((0, 0));
    let group_ids = terminal_group_members::Entity::find()
        .filter(terminal_group_members::Column::TerminalId.eq(t.id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.group_id)
        .collect();
    Ok(TerminalDetail {
        id: t.id,
        terminal_no: t.terminal_no,
        alias: t.alias,
        model: t.model,
        location: t.location,
        merchant_no: number.merchant_no,
        store: number.name,
        status: decode("terminals.status", &t.status, TerminalStatus::from_code)?,
        signed_in: t.signed_in,
        sign_state_at: t.sign_state_at.map(|at| local_time::minutes(at, tz)),
        last_sign_in: last_sign_in.map(|at| local_time::minutes(at, tz)),
        last_sign_out: last_sign_out.map(|at| local_time::minutes(at, tz)),
        last_seen: t.last_seen_at.map(|at| local_time::minutes(at, tz)),
        open_batch,
        out_of_balance,
        today_sales: Tally { count, amount_fen },
        today: today.to_string(),
        group_ids,
        groups: groups_of_merchant(db, session.merchant_id).await?,
    })
}

/// An alias as typed: trimmed, at most [`MAX_NAME`] characters, none a control character; empty
/// clears it.
fn checked_name(field: &'static str, typed: &str) -> Result<String, AppError> {
    let name = typed.trim();
    if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(invalid(field, FieldProblem::Format));
    }
    Ok(name.to_owned())
}

/// Sets a terminal's alias, whether it is enabled, and its groups. A disabled terminal's next
/// message to the gateway is refused.
pub async fn update_terminal<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    session: &Session,
    id: i64,
    form: &TerminalForm,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let alias = checked_name("alias", &form.alias)?;
    let txn = begin_write(db).await?;
    let t = own_terminal(&txn, session, id).await?;
    let groups = groups_of_merchant(&txn, session.merchant_id).await?;
    let mut wanted: Vec<i64> = form.group_ids.clone();
    wanted.sort_unstable();
    wanted.dedup();
    if wanted.iter().any(|g| !groups.iter().any(|o| o.id == *g)) {
        return Err(invalid("group_ids", FieldProblem::Format));
    }
    let had: Vec<i64> = terminal_group_members::Entity::find()
        .filter(terminal_group_members::Column::TerminalId.eq(t.id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|m| m.group_id)
        .collect();
    let status = if form.enabled {
        TerminalStatus::Enabled
    } else {
        TerminalStatus::Disabled
    };
    let old_alias = t.alias.clone().unwrap_or_default();
    let old_status = t.status.clone();
    let mut row: terminals::ActiveModel = t.clone().into();
    row.alias = Set((!alias.is_empty()).then(|| alias.clone()));
    row.status = Set(status.code().to_owned());
    row.updated_at = Set(now);
    row.update(&txn).await?;
    let added: Vec<i64> = wanted
        .iter()
        .filter(|g| !had.contains(g))
        .copied()
        .collect();
    let removed: Vec<i64> = had
        .iter()
        .filter(|g| !wanted.contains(g))
        .copied()
        .collect();
    change_membership(&txn, Member::Terminal(t.id), &added, &removed).await?;
    let mut changes = serde_json::Map::new();
    if old_alias != alias {
        changes.insert("alias".into(), json!(alias));
    }
    if old_status != status.code() {
        changes.insert("status".into(), json!(status.code()));
    }
    if !added.is_empty() || !removed.is_empty() {
        let names: Vec<&str> = groups
            .iter()
            .filter(|g| wanted.contains(&g.id))
            .map(|g| g.name.as_str())
            .collect();
        changes.insert("groups".into(), json!(names));
    }
    if !changes.is_empty() {
        changes.insert("terminal".into(), json!(t.terminal_no));
        let action = if old_status != status.code() {
            match status {
                TerminalStatus::Enabled => AuditAction::TerminalEnable,
                TerminalStatus::Disabled => AuditAction::TerminalDisable,
            }
        } else {
            AuditAction::TerminalUpdate
        };
        let entry = AuditEntry::new(session.actor(), action, AuditOutcome::Success)
            .object("terminal", t.id)
            .detail(serde_json::Value::Object(changes));
        audit::append(&txn, entry, now).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// One side of group membership: a terminal whose groups change, or a group whose terminals do.
#[derive(Clone, Copy)]
enum Member {
    Terminal(i64),
    Group(i64),
}

/// Adds `member` to the groups (or terminals) `added` and takes it out of `removed`.
async fn change_membership(
    db: &impl ConnectionTrait,
    member: Member,
    added: &[i64],
    removed: &[i64],
) -> Result<(), AppError> {
    use terminal_group_members::Column as C;
    let pair = |other: i64| match member {
        Member::Terminal(terminal) => (other, terminal),
        Member::Group(group) => (group, other),
    };
    for (group_id, terminal_id) in added.iter().map(|other| pair(*other)) {
        terminal_group_members::ActiveModel {
            group_id: Set(group_id),
            terminal_id: Set(terminal_id),
        }
        .insert(db)
        .await?;
    }
    if !removed.is_empty() {
        let (fixed, others) = match member {
            Member::Terminal(terminal) => (
                C::TerminalId.eq(terminal),
                C::GroupId.is_in(removed.to_vec()),
            ),
            Member::Group(group) => (C::GroupId.eq(group), C::TerminalId.is_in(removed.to_vec())),
        };
        terminal_group_members::Entity::delete_many()
            .filter(fixed)
            .filter(others)
            .exec(db)
            .await?;
    }
    Ok(())
}

/// The merchant's terminal groups with how many terminals and operators each has.
pub async fn list_groups(
    db: &impl ConnectionTrait,
    session: &Session,
) -> Result<Vec<GroupRow>, AppError> {
    let groups = groups_of_merchant(db, session.merchant_id).await?;
    let ids: Vec<i64> = groups.iter().map(|g| g.id).collect();
    // Per group: its terminals and its confined operators, one grouped count each.
    let terminals: HashMap<i64, i64> = terminal_group_members::Entity::find()
        .select_only()
        .column(terminal_group_members::Column::GroupId)
        .expr(Expr::cust("CAST(COUNT(*) AS BIGINT)"))
        .filter(terminal_group_members::Column::GroupId.is_in(ids.clone()))
        .group_by(terminal_group_members::Column::GroupId)
        .into_tuple::<(i64, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let operators: HashMap<i64, i64> = operator_terminal_groups::Entity::find()
        .select_only()
        .column(operator_terminal_groups::Column::GroupId)
        .expr(Expr::cust("CAST(COUNT(*) AS BIGINT)"))
        .filter(operator_terminal_groups::Column::GroupId.is_in(ids))
        .group_by(operator_terminal_groups::Column::GroupId)
        .into_tuple::<(i64, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(groups
        .into_iter()
        .map(|g| GroupRow {
            terminals: terminals.get(&g.id).copied().unwrap_or(0),
            operators: operators.get(&g.id).copied().unwrap_or(0),
            id: g.id,
            name: g.name,
        })
        .collect())
}

fn option(t: terminals::Model) -> TerminalOption {
    TerminalOption {
        id: t.id,
        terminal_no: t.terminal_no,
        alias: t.alias,
    }
}

/// One group: its terminals, the merchant's others, the operators confined to it.
pub async fn group_detail(
    db: &impl ConnectionTrait,
    session: &Session,
    id: i64,
) -> Result<GroupDetail, AppError> {
    let group = own_group(db, session, id).await?;
    let members: Vec<i64> = terminal_group_members::Entity::find()
        .filter(terminal_group_members::Column::GroupId.eq(id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.terminal_id)
        .collect();
    let (inside, outside): (Vec<_>, Vec<_>) = terminals::Entity::find()
        .filter(terminals::Column::MerchantId.eq(session.merchant_id))
        .order_by_asc(terminals::Column::TerminalNo)
        .all(db)
        .await?
        .into_iter()
        .partition(|t| members.contains(&t.id));
    let operators = operators::Entity::find()
        .filter(
            operators::Column::Id.in_subquery(
                Query::select()
                    .column(operator_terminal_groups::Column::OperatorId)
                    .from(operator_terminal_groups::Entity)
                    .and_where(Expr::col(operator_terminal_groups::Column::GroupId).eq(id))
                    .to_owned(),
            ),
        )
        .order_by_asc(operators::Column::LoginName)
        .all(db)
        .await?
        .into_iter()
        .map(|o| o.login_name)
        .collect();
    Ok(GroupDetail {
        id: group.id,
        name: group.name,
        members: inside.into_iter().map(option).collect(),
        others: outside.into_iter().map(option).collect(),
        operators,
    })
}

/// A group name as typed: 1 to 64 characters, not one of the merchant's other groups' names.
async fn group_name(
    db: &impl ConnectionTrait,
    session: &Session,
    typed: &str,
    except: Option<i64>,
) -> Result<String, AppError> {
    let name = checked_name("name", typed)?;
    if name.is_empty() {
        return Err(invalid("name", FieldProblem::Required));
    }
    let mut taken = terminal_groups::Entity::find()
        .filter(terminal_groups::Column::MerchantId.eq(session.merchant_id))
        .filter(terminal_groups::Column::Name.eq(name.as_str()));
    if let Some(id) = except {
        taken = taken.filter(terminal_groups::Column::Id.ne(id));
    }
    if taken.one(db).await?.is_some() {
        return Err(invalid("name", FieldProblem::Taken));
    }
    Ok(name)
}

pub async fn create_group<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    session: &Session,
    typed: &str,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    let txn = begin_write(db).await?;
    let name = group_name(&txn, session, typed, None).await?;
    let group = terminal_groups::ActiveModel {
        merchant_id: Set(session.merchant_id),
        name: Set(name.clone()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let entry = AuditEntry::new(
        session.actor(),
        AuditAction::GroupCreate,
        AuditOutcome::Success,
    )
    .object("terminal_group", group.id)
    .detail(json!({"name": name}));
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok(group.id)
}

pub async fn rename_group<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    session: &Session,
    id: i64,
    typed: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let txn = begin_write(db).await?;
    let group = own_group(&txn, session, id).await?;
    let name = group_name(&txn, session, typed, Some(id)).await?;
    if name == group.name {
        return Ok(());
    }
    let old = group.name.clone();
    let mut row: terminal_groups::ActiveModel = group.into();
    row.name = Set(name.clone());
    row.updated_at = Set(now);
    row.update(&txn).await?;
    let entry = AuditEntry::new(
        session.actor(),
        AuditAction::GroupRename,
        AuditOutcome::Success,
    )
    .object("terminal_group", id)
    .detail(json!({"old_name": old, "name": name}));
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok(())
}

/// Deletes a group no operator is confined to; its terminals stay.
pub async fn delete_group<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    session: &Session,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let txn = begin_write(db).await?;
    let group = own_group(&txn, session, id).await?;
    // The merchant's row is held: an operator cannot be confined to the group meanwhile.
    crate::backend::services::lock_merchant(&txn, session.merchant_id).await?;
    let confined = operator_terminal_groups::Entity::find()
        .filter(operator_terminal_groups::Column::GroupId.eq(id))
        .count(&txn)
        .await?;
    if confined > 0 {
        return Err(AppError::Policy(Policy::GroupInUse));
    }
    terminal_group_members::Entity::delete_many()
        .filter(terminal_group_members::Column::GroupId.eq(id))
        .exec(&txn)
        .await?;
    terminal_groups::Entity::delete_by_id(id).exec(&txn).await?;
    let entry = AuditEntry::new(
        session.actor(),
        AuditAction::GroupDelete,
        AuditOutcome::Success,
    )
    .object("terminal_group", id)
    .detail(json!({"name": group.name}));
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok(())
}

/// Adds terminals to a group and removes others from it (the merchant's terminals only).
pub async fn change_group_terminals<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    session: &Session,
    id: i64,
    add: &[i64],
    remove: &[i64],
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let txn = begin_write(db).await?;
    own_group(&txn, session, id).await?;
    let mut wanted: Vec<i64> = add.iter().chain(remove).copied().collect();
    wanted.sort_unstable();
    wanted.dedup();
    let own: Vec<terminals::Model> = terminals::Entity::find()
        .filter(terminals::Column::MerchantId.eq(session.merchant_id))
        .filter(terminals::Column::Id.is_in(wanted.clone()))
        .all(&txn)
        .await?;
    if own.len() != wanted.len() {
        return Err(AppError::NotFound);
    }
    let members: Vec<i64> = terminal_group_members::Entity::find()
        .filter(terminal_group_members::Column::GroupId.eq(id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|m| m.terminal_id)
        .collect();
    let added: Vec<i64> = add
        .iter()
        .filter(|t| !members.contains(t) && !remove.contains(t))
        .copied()
        .collect();
    let removed: Vec<i64> = remove
        .iter()
        .filter(|t| members.contains(t))
        .copied()
        .collect();
    change_membership(&txn, Member::Group(id), &added, &removed).await?;
    if added.is_empty() && removed.is_empty() {
        return Ok(());
    }
    let number_of = |ids: &[i64]| -> Vec<String> {
        own.iter()
            .filter(|t| ids.contains(&t.id))
            .map(|t| t.terminal_no.clone())
            .collect()
    };
    let entry = AuditEntry::new(
        session.actor(),
        AuditAction::GroupTerminals,
        AuditOutcome::Success,
    )
    .object("terminal_group", id)
    .detail(json!({"added": number_of(&added), "removed": number_of(&removed)}));
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok(())
}
