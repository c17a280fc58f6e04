use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fast_refund_uploads")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub merchant_id: i64,
    pub operator_id: i64,
    pub file_name: String,
    pub file_sha256: String,
    pub uploaded_at: DateTimeUtc,
    /// JSON: why the file could not be read at all.
    pub file_problem: Option<String>,
    /// JSON: the rows that can be sent.
    pub valid_rows: String,
    /// JSON: the problems of the other rows.
    pub row_problems: String,
    pub row_count: i64,
    pub valid_count: i64,
    pub valid_fen: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
