use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fast_refund_batches")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub merchant_id: i64,
    pub uploaded_by: i64,
    pub uploaded_at: DateTimeUtc,
    pub file_name: String,
    pub item_count: i64,
    pub total_fen: i64,
    /// SHA-256 of the uploaded file: the same file is recognised when uploaded again.
    pub file_sha256: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
