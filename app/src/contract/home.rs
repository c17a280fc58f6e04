//! The wire contract of `api::home`: what its server functions take and answer.

use serde::{Deserialize, Serialize};

use crate::domain::access::Role;
use crate::domain::{DataScope, MerchantStatus, RefundMode};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeView {
    pub certificate: CertificateView,
    pub operator: OperatorView,
    pub merchant: MerchantView,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateView {
    pub subject_cn: String,
    pub fingerprint: String,
    pub serial_hex: String,
    /// Already in the merchant's (or the platform's) time zone: `YYYY-MM-DD HH:MM`.
    pub not_after: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorView {
    pub login_name: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub scope: DataScope,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MerchantView {
    pub code: String,
    pub name: String,
    pub status: MerchantStatus,
    pub settlement_bank: String,
    pub settlement_account_masked: String,
    pub settlement_cycle_days: i32,
    pub refund_mode: RefundMode,
    pub refund_requires_token: bool,
    pub daily_refund_quota_fen: i64,
    pub refund_window_days: i32,
    pub fast_refund_agreement: bool,
    pub balance_fen: i64,
    pub time_zone: String,
    pub merchant_numbers: Vec<MerchantNumberView>,
    pub terminal_count: i64,
    pub terminals_signed_in: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MerchantNumberView {
    pub merchant_no: String,
    pub name: String,
}
