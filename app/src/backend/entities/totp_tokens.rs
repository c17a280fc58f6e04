use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "totp_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub operator_id: i64,
    pub secret_ciphertext: String,
    pub status: String,
    pub created_at: DateTimeUtc,
    pub enrolled_at: Option<DateTimeUtc>,
    pub last_used_step: Option<i64>,
    pub failed_count: i32,
    pub locked_until: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
