//! Operators, the role ↔ function model, operator certificates and TOTP tokens.

use sea_orm_migration::prelude::*;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A function is a menu item or an action that a role may grant.
        manager
            .create_table(
                Table::create()
                    .table("functions")
                    .col(text("code").primary_key())
                    .col(text("area"))
                    .col(int("sort_order"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("roles")
                    .col(text("code").primary_key())
                    .col(boolean("builtin").default(true))
                    .col(int("sort_order"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("role_functions")
                    .col(text("role_code"))
                    .col(text("function_code"))
                    .primary_key(Index::create().col("role_code").col("function_code"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_role_functions_role")
                            .from("role_functions", "role_code")
                            .to("roles", "code")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_role_functions_function")
                            .from("role_functions", "function_code")
                            .to("functions", "code")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("operators")
                    .col(id())
                    .col(ref_id("merchant_id"))
                    .col(text("login_name").unique_key())
                    .col(text("display_name"))
                    // argon2id PHC string.
                    .col(text("password_hash"))
                    .col(text("status").default("active"))
                    .col(boolean("must_change_password").default(true))
                    .col(int("failed_login_count").default(0))
                    .col(ts_null("locked_until"))
                    .col(ts_null("last_login_at"))
                    .col(text_null("last_login_addr"))
                    .col(ts_null("password_changed_at"))
                    // `merchant`: every terminal of the merchant; `groups`: only the assigned terminal groups.
                    .col(text("data_scope").default("merchant"))
                    .col(ts("created_at"))
                    .col(ts("updated_at"))
                    .check(one_of(
                        "ck_operators_status",
                        "status",
                        &["active", "locked", "disabled"],
                    ))
                    .check(one_of(
                        "ck_operators_scope",
                        "data_scope",
                        &["merchant", "groups"],
                    ))
                    .check(check(
                        "ck_operators_failed_count",
                        "failed_login_count >= 0",
                    ))
                    .check(check(
                        "ck_operators_login_name",
                        "length(login_name) BETWEEN 3 AND 64",
                    ))
                    .foreign_key(&mut fk(
                        "operators",
                        "merchant_id",
                        "merchants",
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("operators_merchant", "operators", &["merchant_id"]))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("operator_roles")
                    .col(ref_id("operator_id"))
                    .col(text("role_code"))
                    .primary_key(Index::create().col("operator_id").col("role_code"))
                    .foreign_key(&mut fk(
                        "operator_roles",
                        "operator_id",
                        "operators",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_operator_roles_role")
                            .from("operator_roles", "role_code")
                            .to("roles", "code")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;

        // Client certificates issued by the platform CA. A certificate is bound to at most one operator;
        // sign-in requires the presented certificate to be bound to the operator who logs in.
        manager
            .create_table(
                Table::create()
                    .table("operator_certificates")
                    .col(id())
                    .col(ref_id_null("operator_id"))
                    // SHA-256 of the DER certificate, lower-case hex.
                    .col(text("fingerprint_sha256").unique_key())
                    .col(text("serial_hex"))
                    .col(text("subject_cn"))
                    .col(ts("not_before"))
                    .col(ts("not_after"))
                    .col(ts_null("bound_at"))
                    .col(ts_null("revoked_at"))
                    .col(ts("created_at"))
                    .check(check(
                        "ck_operator_certificates_fp",
                        "length(fingerprint_sha256) = 64",
                    ))
                    .foreign_key(&mut fk(
                        "operator_certificates",
                        "operator_id",
                        "operators",
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "operator_certificates_operator",
                "operator_certificates",
                &["operator_id"],
            ))
            .await?;

        // The "token" of the manual: an RFC 6238 TOTP secret, encrypted at rest.
        manager
            .create_table(
                Table::create()
                    .table("totp_tokens")
                    .col(ref_id("operator_id").primary_key())
                    .col(text("secret_ciphertext"))
                    .col(text("status").default("pending"))
                    .col(ts("created_at"))
                    .col(ts_null("enrolled_at"))
                    // The last accepted time step: a code is accepted at most once.
                    .col(bigint_null("last_used_step"))
                    .col(int("failed_count").default(0))
                    .col(ts_null("locked_until"))
                    .check(one_of(
                        "ck_totp_tokens_status",
                        "status",
                        &["pending", "active"],
                    ))
                    .check(check("ck_totp_tokens_failed_count", "failed_count >= 0"))
                    .foreign_key(&mut fk(
                        "totp_tokens",
                        "operator_id",
                        "operators",
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
                "totp_tokens",
                "operator_certificates",
                "operator_roles",
                "operators",
                "role_functions",
                "roles",
                "functions",
            ],
        )
        .await
    }
}
