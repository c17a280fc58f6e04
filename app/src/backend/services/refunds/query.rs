//! The request query: filters, pages of rows with their transactions' numbers, the pending-clearing
//! list, and one request with its history.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use super::decision::{status_of, visible_request};
use crate::backend::entities::{
    merchants, operators, refund_events, refund_requests, transactions,
};
use crate::backend::local_time::{self, day_start};
use crate::backend::services::filters::{cursor_text, FieldCheck};
use crate::backend::services::transactions::row_of;
use crate::backend::services::{decode, scope};
use crate::backend::Session;
use crate::contract::refunds::{
    ApprovalList, HeldSums, RefundFilter, RefundPage, RefundRow, RefundStep, RefundView,
    DEFAULT_PAGE_SIZE, PAGE_SIZES,
};
use crate::domain::access::Function;
use crate::domain::refund::{RefundReason, RefundStatus};
use crate::error::{AppError, FieldProblem};

/// The request query's filters, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundQuery {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub status: Option<RefundStatus>,
    pub requester: Option<i64>,
    pub amount: Option<i64>,
    pub reference: Option<String>,
    pub txn: Option<i64>,
    pub settlement: Option<i64>,
    pub size: u64,
    pub after: Option<(DateTime<Utc>, i64)>,
}

impl RefundQuery {
    pub fn parse(filter: &RefundFilter) -> Result<Self, AppError> {
        let mut check = FieldCheck::new();
        let (from, to) = check.date_range(("from", &filter.from), ("to", &filter.to));
        let status = check.code("status", &filter.status, RefundStatus::from_code);
        let requester = check.id("requester", &filter.requester);
        let amount = check.amount("amount", &filter.amount);
        let reference = match filter.reference.trim() {
            "" => None,
            text if text.len() <= 12 && text.bytes().all(|b| b.is_ascii_digit()) => {
                Some(text.to_owned())
            }
            _ => {
                check.bad("ref", FieldProblem::Format);
                None
            }
        };
        let txn = check.id("txn", &filter.txn);
        let settlement = check.id("settlement", &filter.settlement);
        let size = check.page_size("size", &filter.size, &PAGE_SIZES, DEFAULT_PAGE_SIZE);
        let after = check.time_cursor("after", &filter.after);
        check.finish()?;
        Ok(Self {
            from,
            to,
            status,
            requester,
            amount,
            reference,
            txn,
            settlement,
            size,
            after,
        })
    }
}

pub async fn search(
    db: &impl ConnectionTrait,
    session: &Session,
    q: RefundQuery,
) -> Result<RefundPage, AppError> {
    use refund_requests::Column as R;
    let tz = session.tz;
    let mut select = refund_requests::Entity::find().filter(scope::refund_requests(session));
    if let Some(from) = q.from.map(|d| day_start(d, tz)) {
        select = select.filter(R::RequestedAt.gte(from));
    }
    if let Some(end) = q.to.and_then(|d| d.succ_opt()).map(|d| day_start(d, tz)) {
        select = select.filter(R::RequestedAt.lt(end));
    }
    if let Some(status) = q.status {
        select = select.filter(R::Status.eq(status.code()));
    }
    if let Some(requester) = q.requester {
        select = select.filter(R::RequestedBy.eq(requester));
    }
    if let Some(amount) = q.amount {
        select = select.filter(R::AmountFen.eq(amount));
    }
    if let Some(txn) = q.txn {
        select = select.filter(R::OriginalTxnId.eq(txn));
    }
    if let Some(settlement) = q.settlement {
        select = select.filter(R::SettlementId.eq(settlement));
    }
    if let Some(reference) = &q.reference {
        select = select.filter(
            R::OriginalTxnId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(transactions::Column::Id)
                    .from(transactions::Entity)
                    .and_where(transactions::Column::MerchantId.eq(session.merchant_id))
                    .and_where(transactions::Column::ReferenceNo.eq(format!("{reference:0>12}")))
                    .to_owned(),
            ),
        );
    }
    let total = select.clone().count(db).await?;
    if let Some((time, id)) = q.after {
        select = select.filter(
            Expr::tuple([Expr::col(R::RequestedAt), Expr::col(R::Id)])
                .lt(Expr::tuple([Expr::val(time), Expr::val(id)])),
        );
    }
    let mut found = select
        .order_by_desc(R::RequestedAt)
        .order_by_desc(R::Id)
        .limit(q.size + 1)
        .all(db)
        .await?;
    let more = found.len() as u64 > q.size;
    found.truncate(q.size as usize);
    let next_after = if more {
        found.last().map(|r| cursor_text(r.requested_at, r.id))
    } else {
        None
    };
    let rows = views(db, session, found).await?;
    Ok(RefundPage {
        rows,
        total,
        next_after,
        size: q.size,
        requesters: requesters(db, session).await?,
        held: None,
    })
}

/// The pending-clearing list: [`search`] for held refunds, with the balance they wait for.
pub async fn pending(
    db: &impl ConnectionTrait,
    session: &Session,
    q: RefundQuery,
) -> Result<RefundPage, AppError> {
    let page = search(
        db,
        session,
        RefundQuery {
            status: Some(RefundStatus::PendingClearing),
            ..q
        },
    )
    .await?;
    Ok(RefundPage {
        held: Some(held(db, session).await?),
        ..page
    })
}

/// The approvers' list: [`search`] for requests waiting for approval, with the merchant's mode.
pub async fn approvals(
    db: &impl ConnectionTrait,
    session: &Session,
    q: RefundQuery,
) -> Result<ApprovalList, AppError> {
    let mode = super::form::merchant_policy(db, session).await?.mode;
    let page = search(
        db,
        session,
        RefundQuery {
            status: Some(RefundStatus::PendingApproval),
            ..q
        },
    )
    .await?;
    Ok(ApprovalList { page, mode })
}

/// The refunds held at clearing that the session sees (count and amount), and the balance they wait
/// for.
pub async fn held(db: &impl ConnectionTrait, session: &Session) -> Result<HeldSums, AppError> {
    use refund_requests::Column as R;
    let balance_fen = merchants::Entity::find_by_id(session.merchant_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?
        .balance_fen;
    let all_held = refund_requests::Entity::find()
        .filter(scope::refund_requests(session))
        .filter(R::Status.eq(RefundStatus::PendingClearing.code()));
    let held_fen = all_held
        .clone()
        .select_only()
        // SUM of a BIGINT is NUMERIC on PostgreSQL: cast it back.
        .column_as(
            Expr::cust("CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT)"),
            "sum",
        )
        .into_tuple::<i64>()
        .one(db)
        .await?
        .unwrap_or(0);
    Ok(HeldSums {
        balance_fen,
        held_fen,
        held_count: all_held.count(db).await?,
    })
}

/// How many refund requests the session sees in `status`.
pub async fn count_in(
    db: &impl ConnectionTrait,
    session: &Session,
    status: RefundStatus,
) -> Result<u64, AppError> {
    Ok(refund_requests::Entity::find()
        .filter(scope::refund_requests(session))
        .filter(refund_requests::Column::Status.eq(status.code()))
        .count(db)
        .await?)
}

/// The merchant's operators who requested a refund, for the requester filter.
pub(super) async fn requesters(
    db: &impl ConnectionTrait,
    session: &Session,
) -> Result<Vec<(i64, String)>, AppError> {
    let ids = refund_requests::Entity::find()
        .select_only()
        .column(refund_requests::Column::RequestedBy)
        .distinct()
        .filter(refund_requests::Column::MerchantId.eq(session.merchant_id))
        .into_tuple::<i64>()
        .all(db)
        .await?;
    let mut named: Vec<(i64, String)> = operators::Entity::find()
        .filter(operators::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, name_of(&o)))
        .collect();
    named.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(named)
}

pub(super) fn name_of(o: &operators::Model) -> String {
    format!("{} ({})", o.display_name, o.login_name)
}

/// Reads the requests of `select`, newest first, as rows.
pub(super) async fn rows(
    db: &impl ConnectionTrait,
    session: &Session,
    select: sea_orm::Select<refund_requests::Entity>,
) -> Result<Vec<RefundRow>, AppError> {
    let found = select
        .order_by_desc(refund_requests::Column::RequestedAt)
        .order_by_desc(refund_requests::Column::Id)
        .all(db)
        .await?;
    views(db, session, found).await
}

/// The original transaction's numbers a row shows.
#[derive(Debug, FromQueryResult)]
pub(super) struct TxnBrief {
    pub(super) id: i64,
    pub(super) reference_no: String,
    pub(super) card_masked: String,
    pub(super) amount_fen: i64,
}

pub(super) async fn views(
    db: &impl ConnectionTrait,
    session: &Session,
    found: Vec<refund_requests::Model>,
) -> Result<Vec<RefundRow>, AppError> {
    use std::collections::HashMap;
    let txn_ids: Vec<i64> = found.iter().map(|r| r.original_txn_id).collect();
    let txns: HashMap<i64, TxnBrief> = transactions::Entity::find()
        .select_only()
        .columns([
            transactions::Column::Id,
            transactions::Column::ReferenceNo,
            transactions::Column::CardMasked,
            transactions::Column::AmountFen,
        ])
        .filter(transactions::Column::Id.is_in(txn_ids))
        .filter(transactions::Column::MerchantId.eq(session.merchant_id))
        .into_model::<TxnBrief>()
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let operator_ids: Vec<i64> = found
        .iter()
        .flat_map(|r| [Some(r.requested_by), r.approver_id, r.second_approver_id])
        .flatten()
        .collect();
    let names = operator_names(db, operator_ids).await?;
    found
        .into_iter()
        .map(|r| {
            let t = txns.get(&r.original_txn_id);
            Ok(RefundRow {
                id: r.id,
                requested_at: local_time::seconds(r.requested_at, session.tz),
                txn_id: r.original_txn_id,
                reference_no: t.map(|t| t.reference_no.clone()).unwrap_or_default(),
                card_masked: t.map(|t| t.card_masked.clone()).unwrap_or_default(),
                txn_amount_fen: t.map_or(0, |t| t.amount_fen),
                amount_fen: r.amount_fen,
                reason: decode(
                    "refund_requests.reason_code",
                    &r.reason_code,
                    RefundReason::from_code,
                )?,
                status: status_of(&r)?,
                requester: names.get(&r.requested_by).cloned().unwrap_or_default(),
                shortfall_fen: r.shortfall_fen,
                approver: r
                    .second_approver_id
                    .or(r.approver_id)
                    .and_then(|id| names.get(&id).cloned()),
            })
        })
        .collect()
}

pub(crate) async fn operator_names(
    db: &impl ConnectionTrait,
    ids: Vec<i64>,
) -> Result<std::collections::HashMap<i64, String>, AppError> {
    Ok(operators::Entity::find()
        .filter(operators::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, name_of(&o)))
        .collect())
}

pub async fn detail(
    db: &impl ConnectionTrait,
    session: &Session,
    id: i64,
) -> Result<RefundView, AppError> {
    let r = visible_request(db, session, id).await?;
    let tz = session.tz;
    let t = transactions::Entity::find_by_id(r.original_txn_id)
        .filter(scope::transactions(session))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let events = refund_events::Entity::find()
        .filter(refund_events::Column::RefundRequestId.eq(r.id))
        .order_by_asc(refund_events::Column::Id)
        .all(db)
        .await?;
    let names = operator_names(
        db,
        events
            .iter()
            .filter_map(|e| e.operator_id)
            .chain(r.approver_id)
            .collect(),
    )
    .await?;
    let history = events
        .into_iter()
        .map(|e| {
            Ok(RefundStep {
                at: local_time::seconds(e.occurred_at, tz),
                from: e
                    .from_status
                    .as_deref()
                    .map(|s| decode("refund_events.from_status", s, RefundStatus::from_code))
                    .transpose()?,
                to: decode(
                    "refund_events.to_status",
                    &e.to_status,
                    RefundStatus::from_code,
                )?,
                by: e.operator_id.and_then(|id| names.get(&id).cloned()),
                comment: e.comment,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    let others = rows(
        db,
        session,
        refund_requests::Entity::find()
            .filter(scope::refund_requests(session))
            .filter(refund_requests::Column::OriginalTxnId.eq(r.original_txn_id))
            .filter(refund_requests::Column::Id.ne(r.id)),
    )
    .await?;
    let status = status_of(&r)?;
    let pending = status == RefundStatus::PendingApproval;
    let first_approver = if pending {
        r.approver_id.and_then(|id| names.get(&id).cloned())
    } else {
        None
    };
    let mine = r.requested_by == session.operator_id;
    let view = RefundView {
        reason_text: r.reason_text.clone(),
        decision_comment: r.decision_comment.clone(),
        decided_at: r.decided_at.map(|at| local_time::seconds(at, tz)),
        submitted_at: r.submitted_at.map(|at| local_time::seconds(at, tz)),
        cleared_at: r.cleared_at.map(|at| local_time::seconds(at, tz)),
        shortfall_fen: r.shortfall_fen,
        settlement_id: r.settlement_id,
        failure_reason: r.failure_reason.clone(),
        history,
        others,
        first_approver,
        may_cancel: pending && mine && session.may(Function::RefundRequest),
        may_open_settlement: session.may(Function::SettlementQuery),
        may_decide: pending
            && !mine
            && session.may(Function::RefundApprove)
            && r.approver_id != Some(session.operator_id),
        txn: row_of(db, session, t).await?,
        row: views(db, session, vec![r])
            .await?
            .pop()
            .ok_or(AppError::NotFound)?,
    };
    Ok(view)
}
