use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "terminal_batches")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub terminal_id: i64,
    pub batch_no: String,
    pub status: String,
    pub opened_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
    pub declared_totals: Option<String>,
    pub host_totals: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
