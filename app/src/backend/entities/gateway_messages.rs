use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "gateway_messages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub terminal_id: i64,
    pub batch_no: String,
    pub voucher_no: String,
    pub kind: String,
    pub request_hash: String,
    pub response_json: String,
    pub transaction_id: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
