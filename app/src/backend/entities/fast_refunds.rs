use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fast_refunds")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub merchant_id: i64,
    pub original_txn_id: i64,
    pub batch_id: Option<i64>,
    pub amount_fen: i64,
    pub currency: String,
    pub cardholder_name: String,
    pub id_type: String,
    /// The full document number: personal data, shown masked but to the correcting operator.
    pub id_number: String,
    pub bank_code: String,
    pub province: String,
    pub city: String,
    pub branch: String,
    pub reason: String,
    pub status: String,
    pub bank_reason_code: Option<String>,
    pub bank_reason_text: Option<String>,
    pub due_date: Date,
    pub resubmission_count: i32,
    pub requested_by: i64,
    pub requested_at: DateTimeUtc,
    pub completed_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
    /// The merchant's day whose refund quota the item uses.
    pub quota_day: Option<Date>,
    /// An instance's worker is sending it to the bank until then.
    pub claimed_until: Option<DateTimeUtc>,
    /// When the bank took this attempt (none: not yet sent).
    pub sent_at: Option<DateTimeUtc>,
    pub bank_reference: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
