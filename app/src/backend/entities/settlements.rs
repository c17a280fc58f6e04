use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "settlements")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub merchant_id: i64,
    pub merchant_number_id: i64,
    pub settlement_date: Date,
    pub period_start: DateTimeUtc,
    pub period_end: DateTimeUtc,
    pub txn_count: i64,
    pub refund_count: i64,
    pub gross_fen: i64,
    pub refund_fen: i64,
    pub fee_fen: i64,
    pub net_fen: i64,
    pub currency: String,
    pub status: String,
    pub account_masked: String,
    pub created_at: DateTimeUtc,
    pub paid_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
