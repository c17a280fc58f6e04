//! Posting: every movement of a merchant's money is an entry on its ledger with the balance after
//! it, and the merchant's balance is always its newest entry's.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr,
    EntityTrait, QueryFilter, Set, Statement, Value,
};

use crate::backend::db::begin_write;
use crate::backend::entities::{ledger_entries, merchants};
use crate::domain::{Currency, LedgerEntryType, Money};

/// The merchant's balance, read under the row lock its update will need (PostgreSQL), so that two
/// numbers of one merchant cleared at once post one after the other. `FOR NO KEY UPDATE`, not `FOR
/// UPDATE`: each clearing already holds a key-share lock on the merchant's row (its new settlement
/// refers to it), which `FOR UPDATE` waits for, so two clearings of one merchant deadlocked.
pub(super) async fn merchant_balance(
    db: &impl ConnectionTrait,
    merchant_id: i64,
) -> Result<Money, DbErr> {
    let backend = db.get_database_backend();
    let lock = if backend == DbBackend::Postgres {
        " FOR NO KEY UPDATE"
    } else {
        ""
    };
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            format!("SELECT balance_fen, currency FROM merchants WHERE id = $1{lock}"),
            [Value::from(merchant_id)],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("merchant {merchant_id}")))?;
    let currency = Currency::parse(&row.try_get::<String>("", "currency")?)
        .map_err(|e| DbErr::Custom(format!("merchant {merchant_id}: {e}")))?;
    Ok(Money::from_fen(row.try_get("", "balance_fen")?, currency))
}

/// Appends a ledger entry of a settlement and keeps the merchant's balance equal to its balance_after.
pub(super) async fn post(
    db: &impl ConnectionTrait,
    merchant_id: i64,
    entry_type: LedgerEntryType,
    amount: Money,
    balance_after: Money,
    settlement_id: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    append(
        db,
        ledger_entries::ActiveModel {
            merchant_id: Set(merchant_id),
            entry_type: Set(entry_type.code().to_owned()),
            amount_fen: Set(amount.fen()),
            balance_after_fen: Set(balance_after.fen()),
            settlement_id: Set(Some(settlement_id)),
            created_at: Set(now),
            ..Default::default()
        },
        now,
    )
    .await
}

async fn append(
    db: &impl ConnectionTrait,
    entry: ledger_entries::ActiveModel,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let entry = entry.insert(db).await?;
    merchants::Entity::update_many()
        .col_expr(
            merchants::Column::BalanceFen,
            entry.balance_after_fen.into(),
        )
        .col_expr(merchants::Column::UpdatedAt, now.into())
        .filter(merchants::Column::Id.eq(entry.merchant_id))
        .exec(db)
        .await?;
    Ok(())
}

/// A settlement's two entries from the `opening` balance: its sales less fees are credited
/// (`credit`), then its refunds debited (`refunded`); an entry of nothing is not written.
pub(super) async fn post_settlement(
    db: &impl ConnectionTrait,
    merchant_id: i64,
    settlement_id: i64,
    opening: Money,
    (credit, refunded): (Money, Money),
    now: DateTime<Utc>,
) -> Result<(), super::ClearingError> {
    let mut balance = opening;
    if credit.is_positive() {
        balance = balance.checked_add(credit)?;
        post(
            db,
            merchant_id,
            LedgerEntryType::SettlementCredit,
            credit,
            balance,
            settlement_id,
            now,
        )
        .await?;
    }
    if refunded.is_positive() {
        balance = balance.checked_sub(refunded)?;
        post(
            db,
            merchant_id,
            LedgerEntryType::RefundDebit,
            refunded,
            balance,
            settlement_id,
            now,
        )
        .await?;
    }
    Ok(())
}

/// What a deposit did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deposited {
    /// Credited; the balance after it.
    Credited(Money),
    /// A deposit with this reference was credited before: nothing changed.
    AlreadyCredited,
}

/// Money the merchant pays into its account (platform side), for example to cover refunds that
/// wait for the balance: an `adjustment_credit` with a memo. The next clearing run debits the
/// held refunds from it. With a `reference` (the bank transfer's, say) a deposit is credited once,
/// however often it is entered: the reference is looked up under the merchant's balance lock, and a
/// unique index keeps it once per merchant. The same reference with another amount is refused.
pub async fn deposit(
    db: &DatabaseConnection,
    merchant_id: i64,
    amount: Money,
    memo: &str,
    reference: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Deposited, DbErr> {
    if !amount.is_positive() {
        return Err(DbErr::Custom("a deposit is a positive amount".into()));
    }
    let txn = begin_write(db).await?;
    let balance = merchant_balance(&txn, merchant_id).await?;
    if let Some(reference) = reference {
        let earlier = ledger_entries::Entity::find()
            .filter(ledger_entries::Column::MerchantId.eq(merchant_id))
            .filter(ledger_entries::Column::Reference.eq(reference))
            .one(&txn)
            .await?;
        if let Some(earlier) = earlier {
            txn.rollback().await?;
            if earlier.amount_fen != amount.fen() {
                return Err(DbErr::Custom(format!(
                    "reference {reference} was credited before with another amount ({} fen)",
                    earlier.amount_fen
                )));
            }
            return Ok(Deposited::AlreadyCredited);
        }
    }
    let after = balance
        .checked_add(amount)
        .map_err(|e| DbErr::Custom(e.to_string()))?;
    append(
        &txn,
        ledger_entries::ActiveModel {
            merchant_id: Set(merchant_id),
            entry_type: Set(LedgerEntryType::AdjustmentCredit.code().to_owned()),
            amount_fen: Set(amount.fen()),
            balance_after_fen: Set(after.fen()),
            memo: Set(Some(memo.to_owned())),
            reference: Set(reference.map(str::to_owned)),
            created_at: Set(now),
            ..Default::default()
        },
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(Deposited::Credited(after))
}
