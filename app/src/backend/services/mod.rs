//! Services: plain async functions over a database connection, one file per area.

pub mod access;
pub mod audit_log;
pub mod auth;
pub mod clearing;
pub mod exports;
pub mod fast_refunds;
pub mod filters;
pub mod gateway;
pub mod home;
pub mod idempotency;
pub mod monitor;
pub mod operators;
pub mod platform;
pub mod refunds;
pub mod scope;
pub mod settlements;
pub mod terminals;
pub mod token;
pub mod transactions;

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, UpdateMany};

use crate::backend::entities::{merchants, operators as operator_rows};
use crate::domain::OperatorEvent;
use crate::error::AppError;

/// [`crate::domain::breakdown::SALE_TYPES`] as an SQL list, `('purchase', 'preauth_completion')`.
pub(crate) const SALE_TYPES_SQL: &str = "('purchase', 'preauth_completion')";

/// Holds the merchant's row until the transaction ends, so that the transactions of one merchant that
/// check a rule across its rows (its last administrator, its running exports) run one after the
/// other, also across instances (PostgreSQL locks the row; SQLite writers are serial anyway).
pub(crate) async fn lock_merchant(
    txn: &impl ConnectionTrait,
    merchant_id: i64,
) -> Result<(), DbErr> {
    merchants::Entity::update_many()
        .col_expr(
            merchants::Column::UpdatedAt,
            Expr::col(merchants::Column::UpdatedAt),
        )
        .filter(merchants::Column::Id.eq(merchant_id))
        .exec(txn)
        .await
        .map(drop)
}

/// The update that moves operators by `event`, only those in a status the event applies to (the
/// caller adds which operators and what else changes).
pub(crate) fn moving_operators(event: OperatorEvent) -> UpdateMany<operator_rows::Entity> {
    use operator_rows::Column;
    operator_rows::Entity::update_many()
        .col_expr(Column::Status, Expr::value(event.to().code()))
        .filter(Column::Status.is_in(event.from().iter().map(|s| s.code())))
}

/// Decodes a code read from a CHECK-constrained column. A value outside the enum means the database and
/// the code disagree: an internal error, not the user's.
pub(crate) fn decode<T>(
    column: &'static str,
    code: &str,
    from_code: fn(&str) -> Option<T>,
) -> Result<T, AppError> {
    from_code(code).ok_or_else(|| {
        AppError::internal(
            "decoding a stored code",
            &UnknownCode {
                column,
                code: code.to_owned(),
            },
        )
    })
}

#[derive(Debug, thiserror::Error)]
#[error("unknown code {code:?} in column {column}")]
struct UnknownCode {
    column: &'static str,
    code: String,
}

#[cfg(test)]
mod tests {
    use crate::domain::breakdown::SALE_TYPES;

    #[test]
    fn the_sql_list_of_sales_is_the_domains() {
        let codes: Vec<String> = SALE_TYPES
            .iter()
            .map(|t| format!("'{}'", t.code()))
            .collect();
        assert_eq!(super::SALE_TYPES_SQL, format!("({})", codes.join(", ")));
    }
}
