//! The built-in roles and the functions they grant (manual §3.7.1), as of this migration.
//!
//! `app::domain::access` holds the same catalogue in code; a test checks that the two agree, so a new
//! function means a new migration and a new line there.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (code, area, sort order)
const FUNCTIONS: &[(&str, &str, i32)] = &[
    ("settlement.query", "settlement", 100),
    ("settlement.export", "settlement", 110),
    ("settlement.reconciliation_file", "settlement", 120),
    ("transaction.query", "transaction", 200),
    ("transaction.export", "transaction", 210),
    ("transaction.reprint_slip", "transaction", 220),
    ("refund.request", "refund", 300),
    ("refund.approve", "refund", 310),
    ("refund.query", "refund", 320),
    ("refund.pending_clearing", "refund", 330),
    ("monitor.view", "monitor", 400),
    ("fast_refund.request", "fast_refund", 500),
    ("fast_refund.batch", "fast_refund", 510),
    ("fast_refund.exceptions", "fast_refund", 520),
    ("fast_refund.query", "fast_refund", 530),
    ("admin.role_matrix", "admin", 600),
    ("admin.operators", "admin", 610),
    ("admin.terminals", "admin", 620),
    ("admin.terminal_groups", "admin", 630),
    ("admin.audit_log", "admin", 640),
];

/// (role, sort order, functions)
const ROLES: &[(&str, i32, &[&str])] = &[
    (
        "administrator",
        1,
        &[
            "settlement.query",
            "transaction.query",
            "refund.query",
            "monitor.view",
            "fast_refund.query",
            "admin.role_matrix",
            "admin.operators",
            "admin.terminals",
            "admin.terminal_groups",
            "admin.audit_log",
        ],
    ),
    (
        "finance",
        2,
        &[
            "settlement.query",
            "settlement.export",
            "settlement.reconciliation_file",
            "transaction.query",
            "transaction.export",
            "transaction.reprint_slip",
            "refund.query",
            "refund.pending_clearing",
            "fast_refund.query",
        ],
    ),
    (
        "monitor",
        3,
        &[
            "transaction.query",
            "transaction.reprint_slip",
            "monitor.view",
        ],
    ),
    (
        "refund_operator",
        4,
        &[
            "transaction.query",
            "refund.request",
            "refund.query",
            "refund.pending_clearing",
        ],
    ),
    (
        "refund_approver",
        5,
        &["transaction.query", "refund.approve", "refund.query"],
    ),
    (
        "fast_refund_operator",
        6,
        &[
            "transaction.query",
            "fast_refund.request",
            "fast_refund.batch",
            "fast_refund.exceptions",
            "fast_refund.query",
        ],
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut functions = Query::insert();
        functions
            .into_table("functions")
            .columns(["code", "area", "sort_order"]);
        for (code, area, order) in FUNCTIONS {
            functions.values_panic([(*code).into(), (*area).into(), (*order).into()]);
        }
        manager.exec_stmt(functions).await?;

        let mut roles = Query::insert();
        roles
            .into_table("roles")
            .columns(["code", "builtin", "sort_order"]);
        for (code, order, _) in ROLES {
            roles.values_panic([(*code).into(), true.into(), (*order).into()]);
        }
        manager.exec_stmt(roles).await?;

        let mut grants = Query::insert();
        grants
            .into_table("role_functions")
            .columns(["role_code", "function_code"]);
        for (role, _, granted) in ROLES {
            for function in *granted {
                grants.values_panic([(*role).into(), (*function).into()]);
            }
        }
        manager.exec_stmt(grants).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["role_functions", "roles", "functions"] {
            manager
                .exec_stmt(Query::delete().from_table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
