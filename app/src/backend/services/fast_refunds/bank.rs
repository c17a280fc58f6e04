//! The bank side of fast refunds: the connector every bank answers through, the built-in simulator,
//! and the worker that sends each item in processing to the bank and applies the bank's answer.
//!
//! Several instances may run the worker on one database. An item is sent once: an instance claims
//! it with a conditional update (not yet sent, not claimed by another or that claim lapsed) and
//! records when the bank took it; an answer is applied by a conditional update on the status and
//! the attempt it answers, so two workers applying the same answer change the item once. Should an
//! instance die between the bank taking an item and recording it, the claim lapses and another sends
//! it again under the same request number, which a bank takes once (the simulator is stateless).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use futures::future::BoxFuture;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionSession, TransactionTrait,
};
use serde_json::json;

use super::request::record_step;
use crate::backend::audit::{self, Actor, AuditEntry};
use crate::backend::db::{begin_write, write_turn};
use crate::backend::entities::fast_refunds;
use crate::backend::services::decode;
use crate::backend::services::refunds::{count_refunded, give_back};
use crate::domain::cardholder::IdType;
use crate::domain::fast_refund::{FastRefundEvent, FastRefundStatus};
use crate::domain::{AuditAction, AuditOutcome, Bank};
use crate::error::AppError;

/// What the bank is sent: one attempt of one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankItem {
    /// Ours, unique per item and attempt: a bank takes a request number once.
    pub request_no: String,
    pub amount_fen: i64,
    pub name: String,
    pub id_type: IdType,
    pub id_number: String,
    pub bank: Bank,
    pub branch: String,
}

/// The bank's word on an item it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BankAnswer {
    /// Not decided yet.
    Pending,
    Paid,
    /// The bank could not pay; the item ends failed and gives its amount back.
    Failed {
        code: String,
        text: String,
    },
    /// The cardholder data is wrong: the item waits in the exception list for a correction.
    Rejected {
        code: String,
        text: String,
    },
}

#[derive(Debug, thiserror::Error)]
#[error("the bank could not be reached: {0}")]
pub struct BankError(pub String);

/// A bank that pays fast refunds.
pub trait BankConnector: Send + Sync {
    /// Hands an item to the bank: the bank's reference of it.
    fn send<'a>(&'a self, item: &'a BankItem) -> BoxFuture<'a, Result<String, BankError>>;
    /// What the bank says now of an item it took at `sent_at` under `reference`.
    fn answer<'a>(
        &'a self,
        item: &'a BankItem,
        reference: &'a str,
        sent_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<BankAnswer, BankError>>;
}

/// The built-in bank: it takes every item, and after `delay` pays it, unless the cardholder data
/// carries one of its marks, so that exceptions and failures can be made on purpose
/// (docs/FAST_REFUNDS.md):
/// - a name with `错` in it, or a Latin name starting `WRONG`: rejected, R01 (the name is not the
///   ID's holder);
/// - a branch numbered 03 (`…-03`, the 中山路支行 of each city): rejected, R02 (the bank does not know
///   the branch under that bank);
/// - a document number whose serial part ends in `999`: rejected, R03 (the account is closed);
/// - an amount whose fen are 44 (`¥12.44`): failed, F01 (the bank declined the payment).
///
/// It counts what it is sent, for the tests that check each item is sent once.
#[derive(Debug, Default)]
pub struct Simulator {
    pub delay: std::time::Duration,
    pub sent: AtomicUsize,
}

impl Simulator {
    pub fn new(delay: std::time::Duration) -> Self {
        Self {
            delay,
            sent: AtomicUsize::new(0),
        }
    }

    /// The simulated bank's decision on `item`, once its delay has passed.
    pub fn decide(item: &BankItem) -> BankAnswer {
        let reject = |code: &str, text: &str| BankAnswer::Rejected {
            code: code.into(),
            text: text.into(),
        };
        let name = item.name.as_str();
        if name.contains('错') || name.to_ascii_uppercase().starts_with("WRONG") {
            return reject("R01", "持卡人姓名与证件号码不符");
        }
        if item.branch.ends_with("-03") {
            return reject("R02", "开户支行不属于该银行");
        }
        let serial = match item.id_type {
            // The check character is not part of the serial.
            IdType::ResidentId => item.id_number.get(..17).unwrap_or(&item.id_number),
            IdType::Passport | IdType::Other => item.id_number.as_str(),
        };
        if serial.ends_with("999") {
            return reject("R03", "收款账户已销户");
        }
        if item.amount_fen % 100 == 44 {
            return BankAnswer::Failed {
                code: "F01".into(),
                text: "银行拒绝付款".into(),
            };
        }
        BankAnswer::Paid
    }
}

impl BankConnector for Simulator {
    fn send<'a>(&'a self, item: &'a BankItem) -> BoxFuture<'a, Result<String, BankError>> {
        self.sent.fetch_add(1, Ordering::Relaxed);
        Box::pin(async move { Ok(format!("SIM{}", item.request_no)) })
    }

    fn answer<'a>(
        &'a self,
        item: &'a BankItem,
        _reference: &'a str,
        sent_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<BankAnswer, BankError>> {
        let delay = Duration::from_std(self.delay).unwrap_or(Duration::zero());
        Box::pin(async move {
            if now < sent_at + delay {
                return Ok(BankAnswer::Pending);
            }
            Ok(Self::decide(item))
        })
    }
}

/// How the worker runs.
#[derive(Debug, Clone)]
pub struct BankConfig {
    /// Time between two looks at the items.
    pub poll: std::time::Duration,
    /// How long an instance may take to send an item it claimed before another may.
    pub claim: Duration,
    /// Items read per look, for sending and for answers each.
    pub chunk: u64,
}

impl Default for BankConfig {
    fn default() -> Self {
        Self {
            poll: std::time::Duration::from_secs(2),
            claim: Duration::seconds(60),
            chunk: 200,
        }
    }
}

/// What one look did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tick {
    pub sent: usize,
    pub paid: usize,
    pub failed: usize,
    pub rejected: usize,
}

/// The worker: sends the items in processing to the bank and applies its answers.
#[derive(Clone)]
pub struct BankWorker<C> {
    pub db: C,
    pub bank: Arc<dyn BankConnector>,
    pub config: BankConfig,
}

impl<C: ConnectionTrait + TransactionTrait + Clone + Send + Sync + 'static> BankWorker<C> {
    /// Looks at the items every `config.poll` until `stop` resolves.
    pub async fn run(
        self,
        clock: crate::backend::Clock,
        stop: impl std::future::Future<Output = ()>,
    ) {
        let mut stop = std::pin::pin!(stop);
        loop {
            if let Err(error) = self.tick(clock.now()).await {
                tracing::error!(error = %error, "fast-refund bank worker");
            }
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(self.config.poll) => {}
            }
        }
    }

    /// One look: sends what is unsent, then asks the bank about what it took.
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<Tick, AppError> {
        let mut tick = Tick::default();
        for item in self.unsent(now).await? {
            if self.claim(&item, now).await? {
                let bank_item = bank_item(&item)?;
                match self.bank.send(&bank_item).await {
                    Ok(reference) => {
                        self.record_sent(&item, &reference, now).await?;
                        tick.sent += 1;
                    }
                    // The claim lapses and the item is sent again later.
                    Err(error) => {
                        tracing::warn!(item = item.id, error = %error, "sending a fast refund")
                    }
                }
            }
        }
        for item in self.waiting().await? {
            let (Some(reference), Some(sent_at)) = (&item.bank_reference, item.sent_at) else {
                continue;
            };
            let bank_item = bank_item(&item)?;
            let answer = match self.bank.answer(&bank_item, reference, sent_at, now).await {
                Ok(answer) => answer,
                Err(error) => {
                    tracing::warn!(item = item.id, error = %error, "asking the bank");
                    continue;
                }
            };
            let counted = match &answer {
                BankAnswer::Pending => continue,
                BankAnswer::Paid => &mut tick.paid,
                BankAnswer::Failed { .. } => &mut tick.failed,
                BankAnswer::Rejected { .. } => &mut tick.rejected,
            };
            if apply(&self.db, &item, &answer, now).await? {
                *counted += 1;
            }
        }
        Ok(tick)
    }

    async fn unsent(&self, now: DateTime<Utc>) -> Result<Vec<fast_refunds::Model>, AppError> {
        Ok(fast_refunds::Entity::find()
            .filter(fast_refunds::Column::Status.eq(FastRefundStatus::Processing.code()))
            .filter(fast_refunds::Column::SentAt.is_null())
            .filter(claimable(now))
            .order_by_asc(fast_refunds::Column::Id)
            .limit(self.config.chunk)
            .all(&self.db)
            .await?)
    }

    async fn waiting(&self) -> Result<Vec<fast_refunds::Model>, AppError> {
        Ok(fast_refunds::Entity::find()
            .filter(fast_refunds::Column::Status.eq(FastRefundStatus::Processing.code()))
            .filter(fast_refunds::Column::SentAt.is_not_null())
            .order_by_asc(fast_refunds::Column::SentAt)
            .order_by_asc(fast_refunds::Column::Id)
            .limit(self.config.chunk)
            .all(&self.db)
            .await?)
    }

    /// Takes the item for this instance until the claim lapses: false if another instance did.
    async fn claim(
        &self,
        item: &fast_refunds::Model,
        now: DateTime<Utc>,
    ) -> Result<bool, AppError> {
        let _turn = write_turn(&self.db).await;
        let claimed = fast_refunds::Entity::update_many()
            .col_expr(
                fast_refunds::Column::ClaimedUntil,
                Expr::value(Some(now + self.config.claim)),
            )
            .filter(this_attempt(item))
            .filter(fast_refunds::Column::SentAt.is_null())
            .filter(claimable(now))
            .exec(&self.db)
            .await?
            .rows_affected;
        Ok(claimed == 1)
    }

    async fn record_sent(
        &self,
        item: &fast_refunds::Model,
        reference: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let _turn = write_turn(&self.db).await;
        fast_refunds::Entity::update_many()
            .col_expr(fast_refunds::Column::SentAt, Expr::value(Some(now)))
            .col_expr(
                fast_refunds::Column::BankReference,
                Expr::value(Some(reference.to_owned())),
            )
            .col_expr(
                fast_refunds::Column::ClaimedUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(this_attempt(item))
            .filter(fast_refunds::Column::SentAt.is_null())
            .exec(&self.db)
            .await?;
        Ok(())
    }
}

/// Not claimed, or the claim lapsed.
fn claimable(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(fast_refunds::Column::ClaimedUntil.is_null())
        .add(fast_refunds::Column::ClaimedUntil.lt(now))
}

/// The item as read, still in processing and in the same attempt (not corrected since).
fn this_attempt(item: &fast_refunds::Model) -> Condition {
    Condition::all()
        .add(fast_refunds::Column::Id.eq(item.id))
        .add(fast_refunds::Column::Status.eq(FastRefundStatus::Processing.code()))
        .add(fast_refunds::Column::ResubmissionCount.eq(item.resubmission_count))
}

fn bank_item(item: &fast_refunds::Model) -> Result<BankItem, AppError> {
    Ok(BankItem {
        request_no: format!("FR{:010}-{}", item.id, item.resubmission_count),
        amount_fen: item.amount_fen,
        name: item.cardholder_name.clone(),
        id_type: decode("fast_refunds.id_type", &item.id_type, IdType::from_code)?,
        id_number: item.id_number.clone(),
        bank: decode("fast_refunds.bank_code", &item.bank_code, Bank::from_code)?,
        branch: item.branch.clone(),
    })
}

/// Applies the bank's `answer` to the item as read, in one transaction: its status, the amounts (a
/// paid item counts as refunded on its original; a failed one gives its amount back to the original
/// and to its day's quota; a rejected one keeps both while it waits for a correction), its history
/// and the audit log. False when another worker applied it first.
async fn apply<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    item: &fast_refunds::Model,
    answer: &BankAnswer,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let (event, reason) = match answer {
        BankAnswer::Pending => return Ok(false),
        BankAnswer::Paid => (FastRefundEvent::BankPaid, None),
        BankAnswer::Failed { code, text } => (FastRefundEvent::BankFailed, Some((code, text))),
        BankAnswer::Rejected { code, text } => {
            (FastRefundEvent::BankRejectedData, Some((code, text)))
        }
    };
    let to = FastRefundStatus::Processing
        .apply(event)
        .map_err(|e| AppError::internal("applying the bank's answer", &e))?;
    let txn = begin_write(db).await?;
    let mut update = fast_refunds::Entity::update_many()
        .col_expr(fast_refunds::Column::Status, Expr::value(to.code()))
        .col_expr(fast_refunds::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            fast_refunds::Column::BankReasonCode,
            Expr::value(reason.map(|(code, _)| code.clone())),
        )
        .col_expr(
            fast_refunds::Column::BankReasonText,
            Expr::value(reason.map(|(_, text)| text.clone())),
        );
    if to.is_final() {
        update = update.col_expr(fast_refunds::Column::CompletedAt, Expr::value(Some(now)));
    }
    let changed = update
        .filter(this_attempt(item))
        .filter(fast_refunds::Column::SentAt.is_not_null())
        .exec(&txn)
        .await?
        .rows_affected;
    if changed != 1 {
        txn.rollback().await?;
        return Ok(false);
    }
    match to {
        FastRefundStatus::Success => {
            count_refunded(&txn, item.original_txn_id, item.amount_fen).await?
        }
        FastRefundStatus::Failed => {
            give_back(
                &txn,
                item.merchant_id,
                item.original_txn_id,
                item.amount_fen,
                item.quota_day,
            )
            .await?
        }
        FastRefundStatus::Exception | FastRefundStatus::Processing => {}
    }
    let comment = reason.map(|(code, text)| format!("{code} {text}"));
    record_step(
        &txn,
        item.id,
        Some(FastRefundStatus::Processing),
        to,
        None,
        comment,
        now,
    )
    .await?;
    let actor = Actor {
        merchant_id: Some(item.merchant_id),
        login_name: Some("bank".into()),
        ..Actor::default()
    };
    let entry = AuditEntry::new(actor, AuditAction::FastRefundAnswer, AuditOutcome::Success)
        .object("fast_refund", item.id)
        .detail(json!({
            "to": to.code(),
            "amount_fen": item.amount_fen,
            "reason": reason.map(|(code, _)| code.clone())}));
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(name: &str, id_number: &str, branch: &str, amount_fen: i64) -> BankItem {
        BankItem {
            request_no: "FR0000000001-0".into(),
            amount_fen,
            name: name.into(),
            id_type: IdType::ResidentId,
            id_number: id_number.into(),
            bank: Bank::Icbc,
            branch: branch.into(),
        }
    }

    const ID: &str = "11010519491231002X";

    #[test]
    fn the_simulator_pays_right_data_and_refuses_its_marks() {
        let decide = |i: &BankItem| match Simulator::decide(i) {
            BankAnswer::Paid => "paid".to_owned(),
            BankAnswer::Rejected { code, .. } | BankAnswer::Failed { code, .. } => code,
            BankAnswer::Pending => "pending".to_owned(),
        };
        assert_eq!(decide(&item("张三", ID, "ICBC-1101-01", 1000)), "paid");
        assert_eq!(decide(&item("张错", ID, "ICBC-1101-01", 1000)), "R01");
        assert_eq!(decide(&item("Wrong Name", ID, "ICBC-1101-01", 1000)), "R01");
        assert_eq!(decide(&item("张三", ID, "ICBC-1101-03", 1000)), "R02");
        assert_eq!(
            decide(&item("张三", "110105194912319993", "ICBC-1101-01", 1000)),
            "R03"
        );
        assert_eq!(decide(&item("张三", ID, "ICBC-1101-01", 1244)), "F01");
    }

    #[tokio::test]
    async fn the_simulator_answers_after_its_delay() {
        let bank = Simulator::new(std::time::Duration::from_secs(30));
        let sent = Utc::now();
        let i = item("张三", ID, "ICBC-1101-01", 1000);
        let early = bank
            .answer(&i, "r", sent, sent + Duration::seconds(29))
            .await;
        assert_eq!(early.ok(), Some(BankAnswer::Pending));
        let late = bank
            .answer(&i, "r", sent, sent + Duration::seconds(30))
            .await;
        assert_eq!(late.ok(), Some(BankAnswer::Paid));
    }
}
