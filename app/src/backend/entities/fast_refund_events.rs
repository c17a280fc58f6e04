use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fast_refund_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub fast_refund_id: i64,
    pub from_status: Option<String>,
    pub to_status: String,
    /// Who (none: the bank).
    pub operator_id: Option<i64>,
    pub comment: Option<String>,
    pub occurred_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
