//! Idempotency keys of money-moving submissions (refunds, fast refunds, fast-refund batches).
//!
//! The form carries a fresh key; the submission claims it inside its own database transaction and
//! stores its answer there too, so a retry (a double click, a lost answer, a second instance) gets
//! the first answer and creates nothing, and the same key with another request is refused. The
//! request is compared by the SHA-256 of its canonical form.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::backend::entities::idempotency_keys;
use crate::backend::Session;
use crate::domain::IdempotencyKey;
use crate::error::{AppError, Policy};

/// The answer stored under the operator's key, if the key was used: the same request (same `hash`)
/// gets it again, another request with the key is refused.
pub(crate) async fn stored<T: DeserializeOwned>(
    db: &impl ConnectionTrait,
    session: &Session,
    key: &IdempotencyKey,
    hash: &str,
) -> Result<Option<T>, AppError> {
    let Some(row) = idempotency_keys::Entity::find()
        .filter(idempotency_keys::Column::OperatorId.eq(session.operator_id))
        .filter(idempotency_keys::Column::IdemKey.eq(key.as_str()))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if row.request_hash != hash {
        return Err(AppError::Policy(Policy::IdempotencyKeyReused));
    }
    let answer = row
        .response_json
        .as_deref()
        .and_then(|json| serde_json::from_str::<T>(json).ok());
    match answer {
        Some(answer) => Ok(Some(answer)),
        None => Err(AppError::internal(
            "reading a stored answer",
            &UnreadableAnswer(row.id),
        )),
    }
}

#[derive(Debug, thiserror::Error)]
#[error("idempotency key {0} holds no readable answer")]
struct UnreadableAnswer(i64);

/// Claims the key inside the submission's transaction `txn`: false when a concurrent submission
/// with it committed first (roll back and answer with [`stored`]).
pub(crate) async fn claim(
    txn: &impl ConnectionTrait,
    session: &Session,
    key: &IdempotencyKey,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let inserted = idempotency_keys::Entity::insert(idempotency_keys::ActiveModel {
        merchant_id: Set(session.merchant_id),
        operator_id: Set(session.operator_id),
        idem_key: Set(key.to_string()),
        request_hash: Set(hash.to_owned()),
        response_json: Set(None),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            idempotency_keys::Column::OperatorId,
            idempotency_keys::Column::IdemKey,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(inserted == 1)
}

/// Stores the submission's answer under its claimed key, in the same transaction.
pub(crate) async fn answer<T: Serialize>(
    txn: &impl ConnectionTrait,
    session: &Session,
    key: &IdempotencyKey,
    answer: &T,
) -> Result<(), AppError> {
    let json = serde_json::to_string(answer)
        .map_err(|e| AppError::internal("storing a submission's answer", &e))?;
    idempotency_keys::Entity::update_many()
        .col_expr(
            idempotency_keys::Column::ResponseJson,
            Expr::value(Some(json)),
        )
        .filter(idempotency_keys::Column::OperatorId.eq(session.operator_id))
        .filter(idempotency_keys::Column::IdemKey.eq(key.as_str()))
        .exec(txn)
        .await?;
    Ok(())
}
