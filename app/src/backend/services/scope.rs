//! What an operator may read: the one place that confines every read of transactions and settlements
//! (lists, summaries, details, slips, exports, files) to the session's merchant and, for an operator
//! scoped to terminal groups, to the terminals of those groups.

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition};

use sea_orm::sea_query::SelectStatement;

use crate::backend::entities::{
    fast_refunds, merchant_numbers, refund_requests, settlements, terminal_group_members,
    transactions,
};
use crate::backend::Session;
use crate::domain::DataScope;
use crate::error::{AppError, Policy};

/// The transactions the session may see.
pub fn transactions(session: &Session) -> Condition {
    let merchant = Condition::all().add(transactions::Column::MerchantId.eq(session.merchant_id));
    match session.scope {
        DataScope::Merchant => merchant,
        DataScope::Groups => merchant.add(
            transactions::Column::TerminalId
                .in_subquery(group_terminals(session.group_ids.iter().copied())),
        ),
    }
}

/// The terminals of the terminal groups `groups`, for a `terminal_id IN (…)` condition (which the
/// merchant's own condition beside it confines to the merchant).
pub fn group_terminals(groups: impl IntoIterator<Item = i64>) -> SelectStatement {
    Query::select()
        .column(terminal_group_members::Column::TerminalId)
        .from(terminal_group_members::Entity)
        .and_where(Expr::col(terminal_group_members::Column::GroupId).is_in(groups))
        .to_owned()
}

/// The refund requests the session may see: those of the transactions it may see.
pub fn refund_requests(session: &Session) -> Condition {
    let merchant =
        Condition::all().add(refund_requests::Column::MerchantId.eq(session.merchant_id));
    match session.scope {
        DataScope::Merchant => merchant,
        DataScope::Groups => merchant.add(
            refund_requests::Column::OriginalTxnId.in_subquery(
                Query::select()
                    .column(transactions::Column::Id)
                    .from(transactions::Entity)
                    .cond_where(transactions(session))
                    .to_owned(),
            ),
        ),
    }
}

/// The fast refunds the session may see: those of the transactions it may see.
pub fn fast_refunds(session: &Session) -> Condition {
    let merchant = Condition::all().add(fast_refunds::Column::MerchantId.eq(session.merchant_id));
    match session.scope {
        DataScope::Merchant => merchant,
        DataScope::Groups => merchant.add(
            fast_refunds::Column::OriginalTxnId.in_subquery(
                Query::select()
                    .column(transactions::Column::Id)
                    .from(transactions::Entity)
                    .cond_where(transactions(session))
                    .to_owned(),
            ),
        ),
    }
}

/// The transaction tallies the session may read: all of its merchant's, for an operator who sees the
/// whole merchant; for an operator scoped to terminal groups, the tallies of their groups' terminals,
/// which only tallies `per_terminal` know (with the others there are none, and the transactions
/// themselves are counted). The columns are unqualified, so that the condition serves every tally
/// table.
pub fn tallies(session: &Session, per_terminal: bool) -> Option<Condition> {
    let merchant = Condition::all().add(Expr::col("merchant_id").eq(session.merchant_id));
    match session.scope {
        DataScope::Merchant => Some(merchant),
        DataScope::Groups if per_terminal => Some(
            merchant.add(
                Expr::col("terminal_id")
                    .in_subquery(group_terminals(session.group_ids.iter().copied())),
            ),
        ),
        DataScope::Groups => None,
    }
}

/// The settlements the session may see. A settlement covers every terminal of a merchant number, so
/// an operator scoped to terminal groups sees none: they are told why instead of shown a part.
pub fn settlements(session: &Session) -> Result<Condition, AppError> {
    match session.scope {
        DataScope::Merchant => {
            Ok(Condition::all().add(settlements::Column::MerchantId.eq(session.merchant_id)))
        }
        DataScope::Groups => Err(AppError::Policy(Policy::MerchantScopeRequired)),
    }
}

/// The id of the session's merchant number `number` (none when the number is another merchant's), for
/// a `merchant_number_id IN (…)` filter.
pub fn merchant_number(session: &Session, number: &str) -> SelectStatement {
    Query::select()
        .column(merchant_numbers::Column::Id)
        .from(merchant_numbers::Entity)
        .and_where(Expr::col(merchant_numbers::Column::MerchantId).eq(session.merchant_id))
        .and_where(Expr::col(merchant_numbers::Column::MerchantNo).eq(number))
        .to_owned()
}
