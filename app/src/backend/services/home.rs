//! The home page's data: the merchant of the operator whose certificate is presented.

use chrono_tz::Tz;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

use super::decode;
use crate::backend::entities::{merchant_numbers, merchants, operator_roles, operators, terminals};
use crate::backend::local_time;
use crate::backend::{ClientIdentity, Session};
use crate::contract::home::{
    CertificateView, HomeView, MerchantNumberView, MerchantView, OperatorView,
};
use crate::domain::access::Role;
use crate::domain::{DataScope, MerchantStatus, RefundMode};
use crate::error::AppError;

#[tracing::instrument(skip_all, fields(operator.id = session.operator_id))]
pub async fn home_for_session(
    db: &impl ConnectionTrait,
    identity: &ClientIdentity,
    session: &Session,
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

    Ok(HomeView {
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

fn certificate_view(identity: &ClientIdentity, tz: Tz) -> CertificateView {
    CertificateView {
        subject_cn: identity.subject_cn.clone(),
        fingerprint: identity.fingerprint.clone(),
        serial_hex: identity.serial_hex.clone(),
        not_after: local_time::minutes(identity.not_after, tz),
    }
}
