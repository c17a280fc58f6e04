//! Each merchant gets its own part of the login namespace, `merchants.login_prefix`: the operators an
//! administrator creates in the console are named `prefix.name`. Login names stay unique across the
//! console (a certificate names its operator by login), and with prefixes that are unique and hold no
//! dot, one merchant creating an operator can never find out another merchant's login names.
//!
//! Existing merchants get the first label their operators' names already share (`hualian` for
//! `hualian.admin` and `hualian.finance`) when no other merchant's operators use it; otherwise their
//! code in lower case.

use std::collections::{BTreeMap, BTreeSet};

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn valid_prefix(s: &str) -> bool {
    (2..=16).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("merchants")
                    .add_column(text("login_prefix").default(""))
                    .to_owned(),
            )
            .await?;
        let conn = manager.get_connection();
        let backend = manager.get_database_backend();
        let merchants = conn
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT id, code FROM merchants ORDER BY id",
            ))
            .await?;
        let operators = conn
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT merchant_id, login_name FROM operators",
            ))
            .await?;
        // Per merchant, the first labels of its operators' names; per label, the merchants using it.
        let mut labels: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
        let mut users: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
        for row in &operators {
            let merchant: i64 = row.try_get("", "merchant_id")?;
            let login: String = row.try_get("", "login_name")?;
            let label = login.split('.').next().unwrap_or_default().to_owned();
            labels.entry(merchant).or_default().insert(label.clone());
            users.entry(label).or_default().insert(merchant);
        }
        let mut taken = BTreeSet::new();
        for row in &merchants {
            let id: i64 = row.try_get("", "id")?;
            let code: String = row.try_get("", "code")?;
            let shared = labels
                .get(&id)
                .filter(|l| l.len() == 1)
                .and_then(|l| l.first())
                .filter(|label| valid_prefix(label) && users[*label].len() == 1)
                .cloned();
            let prefix = shared
                .filter(|p| !taken.contains(p))
                .unwrap_or_else(|| code.to_ascii_lowercase());
            taken.insert(prefix.clone());
            conn.execute_raw(Statement::from_sql_and_values(
                backend,
                match backend {
                    DbBackend::Postgres => "UPDATE merchants SET login_prefix = $1 WHERE id = $2",
                    _ => "UPDATE merchants SET login_prefix = ? WHERE id = ?",
                },
                [prefix.into(), id.into()],
            ))
            .await?;
        }
        manager
            .create_index(unique(
                "merchants_login_prefix",
                "merchants",
                &["login_prefix"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ux_merchants_login_prefix")
                    .table("merchants")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("merchants")
                    .drop_column("login_prefix")
                    .to_owned(),
            )
            .await
    }
}
