use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "operator_certificates")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub operator_id: Option<i64>,
    pub fingerprint_sha256: String,
    pub serial_hex: String,
    pub subject_cn: String,
    pub not_before: DateTimeUtc,
    pub not_after: DateTimeUtc,
    pub bound_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
