use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "merchants")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub code: String,
    /// Every login name made in the console for this merchant is `login_prefix.name`.
    pub login_prefix: String,
    pub name: String,
    pub currency: String,
    pub time_zone: String,
    pub settlement_bank: String,
    pub settlement_account_masked: String,
    pub settlement_cycle_days: i32,
    pub refund_mode: String,
    pub refund_requires_token: bool,
    pub daily_refund_quota_fen: i64,
    pub refund_window_days: i32,
    pub fast_refund_agreement: bool,
    pub balance_fen: i64,
    pub status: String,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub address: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::merchant_numbers::Entity")]
    MerchantNumbers,
}

impl Related<super::merchant_numbers::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::MerchantNumbers.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
