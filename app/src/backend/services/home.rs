//! The home page's data: the merchant of the operator whose certificate is presented.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

use super::transactions::{self, TxnQuery};
use super::{decode, exports, refunds, settlements};
use crate::backend::entities::{merchant_numbers, merchants, operator_roles, operators, terminals};
use crate::backend::local_time;
use crate::backend::{ClientIdentity, Session};
use crate::contract::home::{
    CertificateView, DayFigures, HomeFigures, HomeView, MerchantNumberView, MerchantView,
    OperatorView, CHART_DAYS,
};
use crate::contract::transactions::{SummaryBy, DEFAULT_PAGE_SIZE};
use crate::domain::access::{Function, Role};
use crate::domain::breakdown::Breakdown;
use crate::domain::refund::RefundStatus;
use crate::domain::{DataScope, MerchantStatus, RefundMode};
use crate::error::{AppError, Policy};

#[tracing::instrument(skip_all, fields(operator.id = session.operator_id))]
pub async fn home_for_session(
    db: &impl ConnectionTrait,
    identity: &ClientIdentity,
    session: &Session,
    now: DateTime<Utc>,
) -> Result<HomeView, AppError> {
    let operator = operators::Entity::find_by_id(session.operator_id)
        .one(db)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let merchant = merchants::Entity::find_by_id(operator.merchant_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let tz = session.tz;
    let roles = operator_roles::Entity::find()
        .filter(operator_roles::Column::OperatorId.eq(operator.id))
        .all(db)
        .await?
        .iter()
        .map(|r| decode("operator_roles.role_code", &r.role_code, Role::from_code))
        .collect::<Result<Vec<_>, _>>()?;
    let numbers = merchant_numbers::Entity::find()
        .filter(merchant_numbers::Column::MerchantId.eq(merchant.id))
        .order_by_asc(merchant_numbers::Column::MerchantNo)
        .all(db)
        .await?;
    let terminal_count = terminals::Entity::find()
        .filter(terminals::Column::MerchantId.eq(merchant.id))
        .count(db)
        .await?;
    let terminals_signed_in = terminals::Entity::find()
        .filter(terminals::Column::MerchantId.eq(merchant.id))
        .filter(terminals::Column::SignedIn.eq(true))
        .count(db)
        .await?;

    let figures = figures(db, session, merchant.settlement_cycle_days, now).await?;
    Ok(HomeView {
        figures,
        certificate: certificate_view(identity, tz),
        operator: OperatorView {
            login_name: operator.login_name,
            display_name: operator.display_name,
            roles,
            scope: decode(
                "operators.data_scope",
                &operator.data_scope,
                DataScope::from_code,
            )?,
        },
        merchant: MerchantView {
            code: merchant.code,
            name: merchant.name,
            status: decode(
                "merchants.status",
                &merchant.status,
                MerchantStatus::from_code,
            )?,
            settlement_bank: merchant.settlement_bank,
            settlement_account_masked: merchant.settlement_account_masked,
            settlement_cycle_days: merchant.settlement_cycle_days,
            refund_mode: decode(
                "merchants.refund_mode",
                &merchant.refund_mode,
                RefundMode::from_code,
            )?,
            refund_requires_token: merchant.refund_requires_token,
            daily_refund_quota_fen: merchant.daily_refund_quota_fen,
            refund_window_days: merchant.refund_window_days,
            fast_refund_agreement: merchant.fast_refund_agreement,
            balance_fen: merchant.balance_fen,
            time_zone: merchant.time_zone,
            merchant_numbers: numbers
                .into_iter()
                .map(|n| MerchantNumberView {
                    merchant_no: n.merchant_no,
                    name: n.name,
                })
                .collect(),
            terminal_count: i64::try_from(terminal_count).unwrap_or(i64::MAX),
            terminals_signed_in: i64::try_from(terminals_signed_in).unwrap_or(i64::MAX),
        },
    })
}

/// The finance figures of the home page, each read by the service that the page it links to reads
/// (so that both show the same), and only where the operator holds that page's function.
async fn figures(
    db: &impl ConnectionTrait,
    session: &Session,
    cycle_days: i32,
    now: DateTime<Utc>,
) -> Result<HomeFigures, AppError> {
    let today = local_time::today(now, session.tz);
    let days = if session.may(Function::TransactionQuery) {
        Some(chart_days(db, session, today, now).await?)
    } else {
        None
    };
    // The settlements' own scope decides: an operator confined to terminal groups sees none.
    let (last_settlement, next_payout) = if session.may(Function::SettlementQuery) {
        match settlements::latest_day(db, session).await {
            Ok(day) => (
                day,
                settlements::next_payout(db, session, cycle_days, now).await?,
            ),
            Err(AppError::Policy(Policy::MerchantScopeRequired)) => (None, None),
            Err(e) => return Err(e),
        }
    } else {
        (None, None)
    };
    let held = if session.may(Function::RefundPendingClearing) {
        Some(refunds::held(db, session).await?)
    } else {
        None
    };
    let approvals_waiting = if session.may(Function::RefundApprove) {
        Some(refunds::count_in(db, session, RefundStatus::PendingApproval).await?)
    } else {
        None
    };
    Ok(HomeFigures {
        today: today.to_string(),
        days,
        last_settlement,
        next_payout,
        held,
        approvals_waiting,
        exports_running: exports::running(db, session).await?,
    })
}

/// The last [`CHART_DAYS`] days by kind: the transaction search's summary by date over those days,
/// with the days on which nothing happened filled in.
async fn chart_days(
    db: &impl ConnectionTrait,
    session: &Session,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Vec<DayFigures>, AppError> {
    let first = today - Duration::days(CHART_DAYS - 1);
    let query = TxnQuery {
        from: Some(first),
        to: Some(today),
        size: DEFAULT_PAGE_SIZE,
        ..TxnQuery::default()
    };
    let summary = transactions::summary(db, session, query, SummaryBy::TxnDate, now).await?;
    let by_day: HashMap<String, Breakdown> = summary
        .lines
        .into_iter()
        .map(|line| (line.key, line.figures))
        .collect();
    Ok(first
        .iter_days()
        .take_while(|d| *d <= today)
        .map(|d| {
            let day = d.to_string();
            let figures = by_day.get(&day).copied().unwrap_or_default();
            DayFigures { day, figures }
        })
        .collect())
}

fn certificate_view(identity: &ClientIdentity, tz: Tz) -> CertificateView {
    CertificateView {
        subject_cn: identity.subject_cn.clone(),
        fingerprint: identity.fingerprint.clone(),
        serial_hex: identity.serial_hex.clone(),
        not_after: local_time::minutes(identity.not_after, tz),
    }
}
