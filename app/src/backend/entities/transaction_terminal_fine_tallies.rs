//! Count and amount of transactions per merchant, terminal, business day, merchant number, type,
//! status, card organisation, card type, issuing bank and settlement (0 while unsettled), with the settlement's
//! date; kept by triggers on `transactions` and by clearing (migration 19), read-only here.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "transaction_terminal_fine_tallies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub merchant_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub terminal_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub txn_date: Date,
    #[sea_orm(primary_key, auto_increment = false)]
    pub merchant_number_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub txn_type: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub status: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub card_org: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub card_type: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub issuer_bank: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub settlement_id: i64,
    pub settlement_date: Option<Date>,
    pub txn_count: i64,
    pub amount_fen: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
