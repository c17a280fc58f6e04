//! Background exports written by whichever instance has room: a job is claimed by one instance
//! (`owner`) until `lease_until`, which the instance moves on while it writes. A job whose lease has
//! run out (its instance stopped or died) is taken by another and written again from the start;
//! `attempts` counts the starts, so that a job that keeps failing its instance is given up.

use sea_orm_migration::prelude::*;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        for column in [
            text_null("owner"),
            ts_null("lease_until"),
            int("attempts").default(0).to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table("export_jobs")
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["attempts", "lease_until", "owner"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("export_jobs")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
