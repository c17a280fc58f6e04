use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "transactions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub merchant_id: i64,
    pub merchant_number_id: i64,
    pub terminal_id: i64,
    pub txn_type: String,
    pub status: String,
    pub card_masked: String,
    pub card_last4: String,
    pub card_org: String,
    pub card_type: String,
    pub issuer_bank: String,
    pub amount_fen: i64,
    pub fee_fen: Option<i64>,
    pub currency: String,
    pub txn_time: DateTimeUtc,
    pub txn_date: Date,
    pub auth_code: Option<String>,
    pub reference_no: String,
    pub voucher_no: String,
    pub batch_no: String,
    pub original_txn_id: Option<i64>,
    pub settlement_id: Option<i64>,
    pub settlement_date: Option<Date>,
    pub refunded_fen: i64,
    pub refund_pending_fen: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
