//! The wire contract of `api::home`: what its server functions take and answer.

use serde::{Deserialize, Serialize};

use crate::contract::refunds::HeldSums;
use crate::contract::settlements::SettlementSums;
use crate::domain::access::Role;
use crate::domain::breakdown::Breakdown;
use crate::domain::{DataScope, MerchantStatus, RefundMode};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeView {
    pub certificate: CertificateView,
    pub operator: OperatorView,
    pub merchant: MerchantView,
    pub figures: HomeFigures,
}

/// What happened and what the merchant is owed, as far as the operator's functions and scope let
/// them see: each part is `None` when the operator may not read what it is made of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeFigures {
    /// Today in the merchant's time zone, `YYYY-MM-DD`.
    pub today: String,
    /// The last [`CHART_DAYS`] days up to today, oldest first, every day present: the same figures
    /// as the transaction search's summary by transaction date over those days.
    pub days: Option<Vec<DayFigures>>,
    /// The newest settlement day.
    pub last_settlement: Option<SettlementDay>,
    /// The settlements that are to be paid out next; `None` when none is waiting.
    pub next_payout: Option<NextPayout>,
    /// Refunds held at clearing because the balance was short, and the balance they wait for.
    pub held: Option<HeldSums>,
    /// Refund requests waiting for this operator's approval decision.
    pub approvals_waiting: Option<u64>,
    /// The operator's downloads still being written.
    pub exports_running: u64,
}

/// Days of the home page's chart.
pub const CHART_DAYS: i64 = 30;

/// One day's transactions by kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayFigures {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub figures: Breakdown,
}

/// One settlement day: its settlements (one per merchant number) added up, as the settlement query
/// shows them for that day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementDay {
    pub date: chrono::NaiveDate,
    pub sums: SettlementSums,
    /// Every one of them paid out.
    pub paid: bool,
}

/// The next payout day and the settlements due on it: those not paid yet up to
/// `last_settlement_date`, as the settlement query lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextPayout {
    pub date: chrono::NaiveDate,
    pub last_settlement_date: chrono::NaiveDate,
    pub settlements: u64,
    /// Their nets added up, as the settlement query's total shows them. What leaves the ledger can
    /// be less: a payout never takes the balance below zero.
    pub net_fen: i64,
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
