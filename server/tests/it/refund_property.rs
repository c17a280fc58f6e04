//! A property test of the refund life cycle: random sequences of sales, refund requests
//! (fresh and retried), approvals, rejections, cancellations, clearing runs and payouts, through the
//! services, with every invariant checked after every step:
//! - each transaction's in-flight and refunded amounts are exactly the sums of its requests in those
//!   states, and never more than the transaction;
//! - each day's quota use is exactly the sum of that day's requests that still count, within the quota;
//! - the ledger never goes negative, and the merchant's balance is its last entry's;
//! - each settlement's sums are its lines' sums (sales, fees, refunds), and net = gross − refunds − fees;
//! - each request's history is a walk of the state machine from its initial status to its status.
//!
//! The sequences come from seeded generators (a failure names its seed and step); set
//! `REFUND_PROPERTY_RUNS` to run more of them.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use app::api::refunds::Decision;
use app::backend::entities::{
    ledger_entries, merchants, refund_events, refund_quota_days, refund_requests, settlements,
    transactions,
};
use app::backend::services::clearing;
use app::backend::services::refunds::{self, DecisionInput, NewRefund};
use app::backend::services::token;
use app::backend::token::{code_at_step, secret_from_typing, step_of, TokenKey};
use app::backend::{AuthConfig, Session};
use app::domain::access::Role;
use app::domain::refund::{RefundEvent, RefundReason, RefundStatus};
use app::domain::{Currency, Money, RefundMode};
use app::error::AppError;

use crate::clearing::{Shop, UP_CREDIT};
use crate::on_both_backends;
use crate::support::app::{create_operator, operator_with_password, service_session};
use crate::support::{Backend, TestDb, PASSWORD};

on_both_backends!(random_refund_life_cycles_keep_every_invariant);

const QUOTA_FEN: i64 = 50_000;
const STEPS: usize = 70;

/// The merchant's local 09:00 of day `day` after 2026-11-01.
fn morning(day: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 1, 0, 0)
        .single()
        .expect("time")
        + Duration::days(day)
}

fn local_date(t: DateTime<Utc>) -> NaiveDate {
    (t + Duration::hours(8)).date_naive()
}

struct World {
    db: TestDb,
    shop: Shop,
    requester: Session,
    approver: Session,
    /// The approver's token: every decision is confirmed with a code of it.
    approver_secret: Vec<u8>,
    key: TokenKey,
    cfg: AuthConfig,
    rng: StdRng,
    day: i64,
    now: DateTime<Utc>,
    sales: Vec<(i64, i64)>,
    /// Keys sent, with the body they were sent with: some are sent again.
    sent: Vec<NewRefund>,
    next_key: u32,
}

impl World {
    async fn new(backend: Backend, seed: u64) -> World {
        let db = TestDb::migrated(backend).await;
        let shop = Shop::open(&db, "M69000001").await;
        merchants::ActiveModel {
            id: Set(shop.merchant_id),
            // Both modes: approval for even seeds, direct for odd ones.
            refund_mode: Set(if seed.is_multiple_of(2) {
                RefundMode::Approval
            } else {
                RefundMode::Direct
            }
            .code()
            .into()),
            refund_requires_token: Set(false),
            daily_refund_quota_fen: Set(QUOTA_FEN),
            ..Default::default()
        }
        .update(&db.conn)
        .await
        .expect("merchant");
        let requester_id =
            create_operator(&db, "M69000001", "m69.requester", &[Role::RefundOperator]).await;
        let approver_id = operator_with_password(
            &db,
            "M69000001",
            "m69.approver",
            &[Role::RefundApprover],
            Some(PASSWORD),
        )
        .await;
        let requester =
            service_session(&db, requester_id, &[Role::RefundOperator, Role::Finance]).await;
        let approver = service_session(&db, approver_id, &[Role::RefundApprover]).await;
        let key = TokenKey::generate();
        let cfg = AuthConfig::default();
        // Enrolled the evening before the first day; the steps of the days are all later.
        let enrolled_at = morning(0) - Duration::hours(12);
        let enrolment = token::begin_enrolment(
            &db.conn,
            &key,
            &cfg,
            &approver,
            PASSWORD.to_owned().into(),
            enrolled_at,
        )
        .await
        .expect("enrolment");
        let approver_secret = secret_from_typing(&enrolment.secret).expect("secret");
        let first = code_at_step(&approver_secret, step_of(enrolled_at.timestamp()));
        token::confirm_enrolment(&db.conn, &key, &cfg, &approver, &first, enrolled_at)
            .await
            .expect("confirmed");
        World {
            db,
            shop,
            requester,
            approver,
            approver_secret,
            key,
            cfg,
            rng: StdRng::seed_from_u64(seed),
            day: 0,
            now: morning(0),
            sales: Vec::new(),
            sent: Vec::new(),
            next_key: 0,
        }
    }

    fn tick(&mut self) {
        self.now += Duration::minutes(self.rng.random_range(1..20));
    }

    async fn sale(&mut self) {
        let amount = self.rng.random_range(1..=20_000);
        let id = self
            .shop
            .add(
                &self.db,
                ("purchase", "success"),
                UP_CREDIT,
                amount,
                self.now,
                None,
            )
            .await;
        self.sales.push((id, amount));
    }

    async fn request(&mut self) -> Result<(), AppError> {
        if self.sales.is_empty() {
            return Ok(());
        }
        let (txn_id, amount) = self.sales[self.rng.random_range(0..self.sales.len())];
        // Mostly within the sale, sometimes the whole of it, sometimes more than is left.
        let fen = match self.rng.random_range(0..4) {
            0 => amount,
            _ => self.rng.random_range(1..=amount),
        };
        self.next_key += 1;
        let new = NewRefund {
            txn_id,
            amount: Money::from_fen(fen, Currency::Cny),
            reason: RefundReason::CustomerRequest,
            reason_text: None,
            key: app::domain::IdempotencyKey::parse(&format!("property-{:08}", self.next_key))
                .expect("a key"),
            code: String::new(),
        };
        self.sent.push(new.clone());
        self.send(new).await
    }

    /// A retry of an earlier submission: the same key and body.
    async fn retry(&mut self) -> Result<(), AppError> {
        if self.sent.is_empty() {
            return Ok(());
        }
        let new = self.sent[self.rng.random_range(0..self.sent.len())].clone();
        self.send(new).await
    }

    async fn send(&mut self, new: NewRefund) -> Result<(), AppError> {
        refunds::request(
            &self.db.conn,
            &self.key,
            &self.cfg,
            &self.requester,
            new,
            self.now,
        )
        .await
        .map(|_| ())
    }

    /// A request in `status`, picked at random.
    async fn one_in(&mut self, status: RefundStatus) -> Option<i64> {
        let ids: Vec<i64> = refund_requests::Entity::find()
            .filter(refund_requests::Column::Status.eq(status.code()))
            .order_by_asc(refund_requests::Column::Id)
            .all(&self.db.conn)
            .await
            .expect("requests")
            .into_iter()
            .map(|r| r.id)
            .collect();
        (!ids.is_empty()).then(|| ids[self.rng.random_range(0..ids.len())])
    }

    async fn decide(&mut self, decision: Decision) -> Result<(), AppError> {
        let Some(id) = self.one_in(RefundStatus::PendingApproval).await else {
            return Ok(());
        };
        refunds::decide(
            &self.db.conn,
            &self.key,
            &self.cfg,
            &self.approver,
            DecisionInput {
                id,
                decision,
                comment: "checked with the shop".into(),
                // Time moves on by at least a minute a step: the code of now is always fresh.
                code: code_at_step(&self.approver_secret, step_of(self.now.timestamp())),
            },
            self.now,
        )
        .await
        .map(|_| ())
    }

    async fn cancel(&mut self) -> Result<(), AppError> {
        let Some(id) = self.one_in(RefundStatus::PendingApproval).await else {
            return Ok(());
        };
        refunds::cancel(&self.db.conn, &self.requester, id, self.now)
            .await
            .map(|_| ())
    }

    /// The run after the day: clears it, then the next day begins.
    async fn clear(&mut self) {
        let date = local_date(self.now);
        let run_at = morning(self.day + 1) - Duration::hours(8);
        let report = clearing::clear_day(&self.db.conn, date, run_at)
            .await
            .expect("clearing");
        assert_eq!(report.failures().count(), 0, "{report:?}");
        if self.rng.random_bool(0.5) {
            clearing::mark_paid(&self.db.conn, run_at)
                .await
                .expect("payout");
        }
        self.day += 1;
        self.now = morning(self.day);
    }
}

async fn random_refund_life_cycles_keep_every_invariant(backend: Backend) {
    let runs: u64 = std::env::var("REFUND_PROPERTY_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(4);
    // The steps the runs took, by status reached: runs that never got anywhere prove nothing.
    let mut reached: HashMap<String, usize> = HashMap::new();
    for seed in 0..runs {
        let mut world = World::new(backend, seed).await;
        for step in 0..STEPS {
            world.tick();
            let roll = world.rng.random_range(0..100);
            let answer = match roll {
                0..25 => {
                    world.sale().await;
                    Ok(())
                }
                25..55 => world.request().await,
                55..60 => world.retry().await,
                60..75 => world.decide(Decision::Approve).await,
                75..80 => world.decide(Decision::Reject).await,
                80..85 => world.cancel().await,
                _ => {
                    world.clear().await;
                    Ok(())
                }
            };
            // Refusals are expected (more than refundable, over the quota); nothing else is.
            if let Err(error) = answer {
                assert!(
                    matches!(error, AppError::Refund(_)),
                    "seed {seed} step {step}: {error:?}"
                );
            }
            check(&world.db, world.shop.merchant_id)
                .await
                .unwrap_or_else(|why| panic!("seed {seed} step {step} (roll {roll}): {why}"));
        }
        for step in refund_events::Entity::find()
            .all(&world.db.conn)
            .await
            .expect("events")
        {
            *reached.entry(step.to_status).or_default() += 1;
        }
    }
    use RefundStatus as S;
    for status in [
        S::PendingApproval,
        S::Rejected,
        S::Cancelled,
        S::Submitted,
        S::PendingClearing,
        S::Cleared,
        S::Refunded,
    ] {
        assert!(
            reached.contains_key(status.code()),
            "no run reached {status}: {reached:?}"
        );
    }
}

/// Every invariant of the module comment, or the first one broken.
async fn check(db: &TestDb, merchant_id: i64) -> Result<(), String> {
    use RefundStatus as S;
    let conn = &db.conn;
    let merchant = merchants::Entity::find_by_id(merchant_id)
        .one(conn)
        .await
        .expect("merchant")
        .expect("merchant");
    let mode = RefundMode::from_code(&merchant.refund_mode).expect("mode");
    let requests = refund_requests::Entity::find()
        .order_by_asc(refund_requests::Column::Id)
        .all(conn)
        .await
        .expect("requests");
    let txns = transactions::Entity::find()
        .all(conn)
        .await
        .expect("transactions");

    let mut in_flight: HashMap<i64, i64> = HashMap::new();
    let mut refunded: HashMap<i64, i64> = HashMap::new();
    let mut quota: HashMap<NaiveDate, i64> = HashMap::new();
    let mut by_settlement: HashMap<i64, (i64, i64)> = HashMap::new();
    for r in &requests {
        let status =
            S::from_code(&r.status).ok_or(format!("request {} status {}", r.id, r.status))?;
        match status {
            S::PendingApproval | S::Approved | S::Submitted | S::PendingClearing => {
                *in_flight.entry(r.original_txn_id).or_default() += r.amount_fen;
            }
            S::Cleared | S::Refunded => {
                *refunded.entry(r.original_txn_id).or_default() += r.amount_fen;
                let settlement = r
                    .settlement_id
                    .ok_or(format!("request {} is {status} without a settlement", r.id))?;
                let sums = by_settlement.entry(settlement).or_default();
                sums.0 += 1;
                sums.1 += r.amount_fen;
            }
            S::Rejected | S::Cancelled | S::Failed => {}
        }
        if status.holds_amount() {
            let day = r
                .quota_day
                .ok_or(format!("request {} has no quota day", r.id))?;
            *quota.entry(day).or_default() += r.amount_fen;
        }
        if (status == S::PendingClearing) != r.shortfall_fen.is_some_and(|f| f > 0) {
            return Err(format!(
                "request {} is {status} with shortfall {:?}",
                r.id, r.shortfall_fen
            ));
        }
        history_is_a_walk(db, r, status, mode).await?;
    }
    for t in &txns {
        let expected = (
            in_flight.get(&t.id).copied().unwrap_or(0),
            refunded.get(&t.id).copied().unwrap_or(0),
        );
        if (t.refund_pending_fen, t.refunded_fen) != expected {
            return Err(format!(
                "transaction {}: in flight {} refunded {}, its requests say {expected:?}",
                t.id, t.refund_pending_fen, t.refunded_fen
            ));
        }
        if t.refund_pending_fen + t.refunded_fen > t.amount_fen {
            return Err(format!("transaction {} refunds more than its amount", t.id));
        }
    }

    for day in refund_quota_days::Entity::find()
        .all(conn)
        .await
        .expect("quota days")
    {
        let expected = quota.get(&day.day).copied().unwrap_or(0);
        if day.used_fen != expected || day.used_fen > QUOTA_FEN {
            return Err(format!(
                "quota of {}: used {}, its requests say {expected} (quota {QUOTA_FEN})",
                day.day, day.used_fen
            ));
        }
    }

    let ledger = ledger_entries::Entity::find()
        .filter(ledger_entries::Column::MerchantId.eq(merchant_id))
        .order_by_asc(ledger_entries::Column::Id)
        .all(conn)
        .await
        .expect("ledger");
    let mut running = 0;
    for entry in &ledger {
        running += match entry.entry_type.as_str() {
            "settlement_credit" | "adjustment_credit" => entry.amount_fen,
            "refund_debit" | "payout_debit" => -entry.amount_fen,
            other => return Err(format!("ledger entry type {other}")),
        };
        if entry.balance_after_fen != running || running < 0 {
            return Err(format!(
                "ledger entry {}: balance after {}, the entries sum to {running}",
                entry.id, entry.balance_after_fen
            ));
        }
    }
    let balance = merchant.balance_fen;
    if balance != running {
        return Err(format!("balance {balance}, the ledger sums to {running}"));
    }

    for s in settlements::Entity::find()
        .all(conn)
        .await
        .expect("settlements")
    {
        let sales: Vec<_> = txns
            .iter()
            .filter(|t| t.settlement_id == Some(s.id))
            .collect();
        let gross: i64 = sales.iter().map(|t| t.amount_fen).sum();
        let fees: i64 = sales.iter().map(|t| t.fee_fen.unwrap_or(0)).sum();
        let (count, refund) = by_settlement.get(&s.id).copied().unwrap_or((0, 0));
        let actual = (
            s.txn_count,
            s.gross_fen,
            s.fee_fen,
            s.refund_count,
            s.refund_fen,
        );
        let expected = (sales.len() as i64, gross, fees, count, refund);
        if actual != expected || s.net_fen != s.gross_fen - s.refund_fen - s.fee_fen {
            return Err(format!(
                "settlement {}: {actual:?} net {}, its lines say {expected:?}",
                s.id, s.net_fen
            ));
        }
    }
    Ok(())
}

/// The request's steps, oldest first, start at its initial status, follow the state machine and end
/// at its status.
async fn history_is_a_walk(
    db: &TestDb,
    r: &refund_requests::Model,
    status: RefundStatus,
    mode: RefundMode,
) -> Result<(), String> {
    let steps = refund_events::Entity::find()
        .filter(refund_events::Column::RefundRequestId.eq(r.id))
        .order_by_asc(refund_events::Column::Id)
        .all(&db.conn)
        .await
        .expect("events");
    let code = |s: &str| RefundStatus::from_code(s).ok_or(format!("status {s}"));
    let mut at: Option<RefundStatus> = None;
    for step in &steps {
        let from = step.from_status.as_deref().map(code).transpose()?;
        let to = code(&step.to_status)?;
        let legal = match from {
            None => at.is_none() && to == RefundStatus::initial(mode),
            Some(from) => {
                at == Some(from) && RefundEvent::ALL.iter().any(|e| from.apply(*e) == Ok(to))
            }
        };
        if !legal {
            return Err(format!(
                "request {}: step {from:?} → {to} after {at:?}",
                r.id
            ));
        }
        at = Some(to);
    }
    if at != Some(status) {
        return Err(format!(
            "request {} is {status}, its history ends at {at:?}",
            r.id
        ));
    }
    Ok(())
}
