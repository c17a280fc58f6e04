use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "clearing_holds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub transaction_id: i64,
    pub merchant_number_id: i64,
    pub held_since: Date,
    pub shortfall_fen: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
