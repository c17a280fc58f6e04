//! Count and amount of transactions per merchant number, business day, type, status, card organisation,
//! card type and settlement; kept by triggers on `transactions` (migration 10), read-only here.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "transaction_tallies")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub merchant_id: i64,
    pub txn_date: Date,
    pub merchant_number_id: i64,
    pub txn_type: String,
    pub status: String,
    pub card_org: String,
    pub card_type: String,
    /// 0 while not settled.
    pub settlement_id: i64,
    pub settlement_date: Option<Date>,
    pub txn_count: i64,
    pub amount_fen: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
