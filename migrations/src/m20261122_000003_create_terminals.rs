//! POS terminals, terminal groups and their members, and operators' group scope.

use sea_orm_migration::prelude::*;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("terminals")
                    .col(id())
                    .col(ref_id("merchant_id"))
                    .col(ref_id("merchant_number_id"))
                    // The 8-character terminal number assigned by the acquirer.
                    .col(text("terminal_no").unique_key())
                    .col(text("model"))
                    .col(text_null("alias"))
                    .col(text_null("location"))
                    .col(text("status").default("enabled"))
                    // A signed-out terminal cannot take payments.
                    .col(boolean("signed_in").default(false))
                    .col(ts_null("sign_state_at"))
                    .col(ts_null("last_seen_at"))
                    .col(ts("created_at"))
                    .col(ts("updated_at"))
                    .check(check("ck_terminals_no", "length(terminal_no) = 8"))
                    .check(one_of(
                        "ck_terminals_status",
                        "status",
                        &["enabled", "disabled"],
                    ))
                    .foreign_key(&mut fk(
                        "terminals",
                        "merchant_id",
                        "merchants",
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "terminals",
                        "merchant_number_id",
                        "merchant_numbers",
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "terminals_merchant",
                "terminals",
                &["merchant_id", "terminal_no"],
            ))
            .await?;
        manager
            .create_index(index(
                "terminals_merchant_number",
                "terminals",
                &["merchant_number_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("terminal_groups")
                    .col(id())
                    .col(ref_id("merchant_id"))
                    .col(text("name"))
                    .col(ts("created_at"))
                    .col(ts("updated_at"))
                    .check(check(
                        "ck_terminal_groups_name",
                        "length(name) BETWEEN 1 AND 64",
                    ))
                    .foreign_key(&mut fk(
                        "terminal_groups",
                        "merchant_id",
                        "merchants",
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique(
                "terminal_groups_name",
                "terminal_groups",
                &["merchant_id", "name"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("terminal_group_members")
                    .col(ref_id("group_id"))
                    .col(ref_id("terminal_id"))
                    .primary_key(Index::create().col("group_id").col("terminal_id"))
                    .foreign_key(&mut fk(
                        "terminal_group_members",
                        "group_id",
                        "terminal_groups",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "terminal_group_members",
                        "terminal_id",
                        "terminals",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "terminal_group_members_terminal",
                "terminal_group_members",
                &["terminal_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("operator_terminal_groups")
                    .col(ref_id("operator_id"))
                    .col(ref_id("group_id"))
                    .primary_key(Index::create().col("operator_id").col("group_id"))
                    .foreign_key(&mut fk(
                        "operator_terminal_groups",
                        "operator_id",
                        "operators",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "operator_terminal_groups",
                        "group_id",
                        "terminal_groups",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            &[
                "operator_terminal_groups",
                "terminal_group_members",
                "terminal_groups",
                "terminals",
            ],
        )
        .await
    }
}
