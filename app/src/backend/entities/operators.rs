use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "operators")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub merchant_id: i64,
    pub login_name: String,
    pub display_name: String,
    pub password_hash: String,
    pub status: String,
    pub must_change_password: bool,
    pub failed_login_count: i32,
    pub locked_until: Option<DateTimeUtc>,
    pub last_login_at: Option<DateTimeUtc>,
    pub last_login_addr: Option<String>,
    pub password_changed_at: Option<DateTimeUtc>,
    pub data_scope: String,
    /// An approval alone covers refunds up to this amount; a larger one needs a second approver.
    /// None: no limit.
    pub refund_approval_limit_fen: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::operator_roles::Entity")]
    Roles,
}

impl Related<super::operator_roles::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Roles.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
