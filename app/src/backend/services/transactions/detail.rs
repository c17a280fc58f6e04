//! One transaction: its detail with the refunds made of it, and its reprinted sales slip.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use serde_json::json;

use super::page::{row_view, Listed, Names};
use crate::backend::audit::{self, AuditEntry};
use crate::backend::entities::{merchants, transactions};
use crate::backend::local_time::{self};
use crate::backend::services::{decode, scope};
use crate::backend::Session;
use crate::contract::transactions::{LinkedTxn, Slip, TxnRow, TxnView};
use crate::domain::access::Function;
use crate::domain::{
    AuditAction, AuditOutcome, Bank, CardOrg, CardType, DataScope, TxnStatus, TxnType,
};
use crate::error::{AppError, Policy};

/// One transaction the session may see (another merchant's, or another group's, is "not found").
pub(crate) async fn visible(
    db: &impl ConnectionTrait,
    session: &Session,
    id: i64,
) -> Result<transactions::Model, AppError> {
    transactions::Entity::find_by_id(id)
        .filter(scope::transactions(session))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

pub(super) fn linked(t: transactions::Model, tz: Tz) -> Result<LinkedTxn, AppError> {
    Ok(LinkedTxn {
        id: t.id,
        time: local_time::seconds(t.txn_time, tz),
        txn_type: decode("transactions.txn_type", &t.txn_type, TxnType::from_code)?,
        status: decode("transactions.status", &t.status, TxnStatus::from_code)?,
        amount_fen: t.amount_fen,
        reference_no: t.reference_no,
    })
}

/// The list row of a transaction read whole (another page showing it).
pub(crate) async fn row_of(
    db: &impl ConnectionTrait,
    session: &Session,
    t: transactions::Model,
) -> Result<TxnRow, AppError> {
    let names = Names::load(db, session.merchant_id, t.terminal_id).await?;
    let (merchant_no, _) = names.number(t.merchant_number_id);
    let terminal_no = names.terminal(t.terminal_id);
    row_view(Listed::of(t, terminal_no, merchant_no), session.tz)
}

/// Whether a transaction is from the merchant's today: its slip is reprinted on the terminal.
pub(super) fn is_today(t: &transactions::Model, now: DateTime<Utc>, tz: Tz) -> bool {
    t.txn_time.with_timezone(&tz).date_naive() == now.with_timezone(&tz).date_naive()
}

pub async fn detail(
    db: &impl ConnectionTrait,
    session: &Session,
    id: i64,
    now: DateTime<Utc>,
) -> Result<TxnView, AppError> {
    let t = visible(db, session, id).await?;
    let tz = session.tz;
    let names = Names::load(db, session.merchant_id, t.terminal_id).await?;
    let original = match t.original_txn_id {
        Some(original) => transactions::Entity::find_by_id(original)
            .filter(scope::transactions(session))
            .one(db)
            .await?
            .map(|o| linked(o, tz))
            .transpose()?,
        None => None,
    };
    let linked_rows = transactions::Entity::find()
        .filter(scope::transactions(session))
        .filter(transactions::Column::OriginalTxnId.eq(t.id))
        .order_by_asc(transactions::Column::TxnTime)
        .order_by_asc(transactions::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|l| linked(l, tz))
        .collect::<Result<Vec<_>, _>>()?;
    let reprint = session.may(Function::TransactionReprintSlip);
    let today = is_today(&t, now, tz);
    // Nothing left once refunds (done or on their way) take the whole amount: no refund to offer.
    let may_refund = session.may(Function::RefundRequest)
        && t.status == TxnStatus::Success.code()
        && TxnType::from_code(&t.txn_type).is_some_and(crate::domain::refund::is_refundable_type)
        && t.refunded_fen + t.refund_pending_fen < t.amount_fen;
    let (merchant_no, store) = names.number(t.merchant_number_id);
    let terminal_no = names.terminal(t.terminal_id);
    let terminal_alias = names
        .terminals
        .get(&t.terminal_id)
        .and_then(|(_, alias)| alias.clone());
    let refund_in_flight_fen = t.refund_pending_fen;
    Ok(TxnView {
        refund_in_flight_fen,
        txn: row_view(Listed::of(t, terminal_no, merchant_no), tz)?,
        store,
        terminal_alias,
        original,
        linked: linked_rows,
        may_reprint: reprint && !today,
        reprint_on_terminal: reprint && today,
        may_query_settlements: session.may(Function::SettlementQuery)
            && session.scope == DataScope::Merchant,
        may_refund,
        may_query_refunds: session.may(Function::RefundQuery),
    })
}

/// The sales slip of a transaction not from today, reprinted; the reprint is audited.
pub async fn slip(
    db: &(impl ConnectionTrait + TransactionTrait),
    session: &Session,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Slip, AppError> {
    let t = visible(db, session, id).await?;
    let tz = session.tz;
    if is_today(&t, now, tz) {
        return Err(AppError::Policy(Policy::SlipFromToday));
    }
    let names = Names::load(db, session.merchant_id, t.terminal_id).await?;
    let merchant_name = merchants::Entity::find_by_id(session.merchant_id)
        .one(db)
        .await?
        .map(|m| m.name)
        .unwrap_or_default();
    let original_reference = match t.original_txn_id {
        Some(original) => transactions::Entity::find_by_id(original)
            .filter(scope::transactions(session))
            .one(db)
            .await?
            .map(|o| o.reference_no),
        None => None,
    };
    let (merchant_no, store) = names.number(t.merchant_number_id);
    let entry = AuditEntry::new(
        session.actor(),
        AuditAction::SlipReprint,
        AuditOutcome::Success,
    )
    .object("transaction", t.id)
    .detail(json!({ "reference": t.reference_no, "terminal": names.terminal(t.terminal_id) }));
    audit::record(db, entry, now).await?;
    Ok(Slip {
        merchant_name,
        merchant_no,
        store,
        terminal_no: names.terminal(t.terminal_id),
        card_org: decode("transactions.card_org", &t.card_org, CardOrg::from_code)?,
        card_type: decode("transactions.card_type", &t.card_type, CardType::from_code)?,
        bank: Bank::from_code(&t.issuer_bank),
        txn_type: decode("transactions.txn_type", &t.txn_type, TxnType::from_code)?,
        card_masked: t.card_masked,
        batch_no: t.batch_no,
        voucher_no: t.voucher_no,
        reference_no: t.reference_no,
        auth_code: t.auth_code,
        original_reference,
        amount_fen: t.amount_fen,
        time: local_time::seconds(t.txn_time, tz),
        reprinted_at: local_time::seconds(now, tz),
    })
}
