use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refund_requests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub merchant_id: i64,
    pub original_txn_id: i64,
    pub amount_fen: i64,
    pub currency: String,
    pub reason_code: String,
    pub reason_text: Option<String>,
    pub status: String,
    pub requested_by: i64,
    pub requested_at: DateTimeUtc,
    pub approver_id: Option<i64>,
    pub second_approver_id: Option<i64>,
    pub decided_at: Option<DateTimeUtc>,
    pub decision_comment: Option<String>,
    pub submitted_at: Option<DateTimeUtc>,
    pub cleared_at: Option<DateTimeUtc>,
    pub settlement_id: Option<i64>,
    pub shortfall_fen: Option<i64>,
    pub failure_reason: Option<String>,
    pub updated_at: DateTimeUtc,
    /// The merchant's day whose refund quota the request uses.
    pub quota_day: Option<Date>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
