use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_entries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub merchant_id: i64,
    pub entry_type: String,
    pub amount_fen: i64,
    pub balance_after_fen: i64,
    pub settlement_id: Option<i64>,
    pub refund_request_id: Option<i64>,
    pub fast_refund_id: Option<i64>,
    pub memo: Option<String>,
    /// A deposit's outside reference (e.g. the bank transfer's): credited once per merchant.
    pub reference: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
