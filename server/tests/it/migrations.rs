//! The schema: every migration up and down on both backends, the role catalogue, and the CHECK
//! constraints that guard the invariants.

use std::collections::BTreeSet;

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use sea_orm_migration::MigratorTrait;

use app::domain::access::{Function, Role};
use migrations::Migrator;

use crate::on_both_backends;
use crate::support::app::seed_merchant;
use crate::support::db::migrate;
use crate::support::{Backend, TestDb};

/// Every table of the schema.
const TABLES: &[&str] = &[
    "merchants",
    "merchant_numbers",
    "fee_rates",
    "functions",
    "roles",
    "role_functions",
    "operators",
    "operator_roles",
    "operator_certificates",
    "totp_tokens",
    "terminals",
    "terminal_groups",
    "terminal_group_members",
    "operator_terminal_groups",
    "settlements",
    "transactions",
    "transaction_tallies",
    "transaction_day_tallies",
    "transaction_terminal_tallies",
    "transaction_bank_tallies",
    "ledger_entries",
    "refund_requests",
    "refund_events",
    "refund_quota_days",
    "fast_refund_batches",
    "fast_refunds",
    "fast_refund_events",
    "idempotency_keys",
    "audit_events",
    "export_jobs",
    "sessions",
    "captchas",
    "password_history",
    "audit_chain_head",
];

async fn tables(db: &TestDb) -> BTreeSet<String> {
    let sql = match db.backend {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
        Backend::Postgres => "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'",
    };
    let rows = db
        .conn
        .query_all_raw(Statement::from_string(db.conn.get_database_backend(), sql))
        .await
        .expect("list tables");
    rows.iter()
        .map(|r| r.try_get::<String>("", "name").expect("name"))
        .collect()
}

on_both_backends!(every_migration_runs_up_and_down);

async fn every_migration_runs_up_and_down(backend: Backend) {
    let db = TestDb::empty(backend).await;

    migrate(&db.url, |c| {
        Box::pin(async move { Migrator::up(&c, None).await })
    })
    .await;
    let after_up = tables(&db).await;
    for table in TABLES {
        assert!(
            after_up.contains(*table),
            "{table} is missing after migrating up"
        );
    }

    migrate(&db.url, |c| {
        Box::pin(async move { Migrator::down(&c, None).await })
    })
    .await;
    let after_down = tables(&db).await;
    assert_eq!(
        after_down,
        BTreeSet::from(["seaql_migrations".to_owned()]),
        "everything but the migration log is gone"
    );

    // And up again: down really undid everything, including the seeded rows.
    migrate(&db.url, |c| {
        Box::pin(async move { Migrator::up(&c, None).await })
    })
    .await;
    assert!(Migrator::get_pending_migrations(&db.conn)
        .await
        .expect("pending")
        .is_empty());
}

on_both_backends!(the_role_catalogue_in_the_database_matches_the_code);

async fn the_role_catalogue_in_the_database_matches_the_code(backend: Backend) {
    let db = TestDb::migrated(backend).await;
    let rows = db
        .conn
        .query_all_raw(Statement::from_string(
            db.conn.get_database_backend(),
            "SELECT role_code, function_code FROM role_functions",
        ))
        .await
        .expect("grants");
    let in_db: BTreeSet<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r.try_get::<String>("", "role_code").expect("role"),
                r.try_get::<String>("", "function_code").expect("fn"),
            )
        })
        .collect();
    let in_code: BTreeSet<(String, String)> = Role::ALL
        .iter()
        .flat_map(|r| {
            r.functions()
                .iter()
                .map(move |f| (r.code().to_owned(), f.code().to_owned()))
        })
        .collect();
    assert_eq!(in_db, in_code);

    let functions = db
        .conn
        .query_all_raw(Statement::from_string(
            db.conn.get_database_backend(),
            "SELECT code FROM functions",
        ))
        .await
        .expect("functions");
    let functions: BTreeSet<String> = functions
        .iter()
        .map(|r| r.try_get::<String>("", "code").expect("code"))
        .collect();
    assert_eq!(
        functions,
        Function::ALL.iter().map(|f| f.code().to_owned()).collect()
    );
}

on_both_backends!(check_constraints_refuse_what_the_invariants_forbid);

/// Each statement must be refused by the named constraint, and leave nothing behind.
async fn check_constraints_refuse_what_the_invariants_forbid(backend: Backend) {
    let db = TestDb::migrated(backend).await;
    let merchant_id = seed_merchant(&db, "M20000001").await;
    let b = db.conn.get_database_backend();
    let now = "'2026-11-22T00:00:00+00:00'";
    let ts = if b == DbBackend::Postgres {
        format!("{now}::timestamptz")
    } else {
        now.to_owned()
    };
    let date = if b == DbBackend::Postgres {
        "'2026-11-22'::date"
    } else {
        "'2026-11-22'"
    };
    db.conn
        .execute_unprepared(&format!(
            "INSERT INTO terminals (merchant_id, merchant_number_id, terminal_no, model, status, signed_in, created_at, updated_at) \
             SELECT {merchant_id}, id, 'T0000001', 'PAX', 'enabled', false, {ts}, {ts} FROM merchant_numbers WHERE merchant_id = {merchant_id}"
        ))
        .await
        .expect("terminal");
    let txn = |amount: &str, refunded: &str, status: &str, card_last4: &str| {
        format!(
            "INSERT INTO transactions (merchant_id, merchant_number_id, terminal_id, txn_type, status, card_masked, \
             card_last4, card_org, card_type, issuer_bank, amount_fen, currency, txn_time, txn_date, reference_no, \
             voucher_no, batch_no, refunded_fen, created_at) \
             SELECT t.merchant_id, t.merchant_number_id, t.id, 'purchase', '{status}', '622588******1234', '{card_last4}', \
             'unionpay', 'debit', 'ICBC', {amount}, 'CNY', {ts}, {date}, '000000000001', '000001', '000001', {refunded}, {ts} \
             FROM terminals t WHERE t.terminal_no = 'T0000001'"
        )
    };
    db.conn
        .execute_unprepared(&txn("5000", "0", "success", "1234"))
        .await
        .expect("a valid transaction");

    let refused = [
        (txn("5000", "5001", "success", "1234"), "ck_transactions_refunds"),
        (txn("0", "0", "success", "1234"), "ck_transactions_amount"),
        (txn("100", "0", "settled", "1234"), "ck_transactions_status"),
        (txn("100", "0", "success", "12"), "ck_transactions_card_last4"),
        (format!("UPDATE merchants SET balance_fen = -1 WHERE id = {merchant_id}"), "ck_merchants_balance"),
        (format!("UPDATE merchants SET refund_mode = 'sometimes' WHERE id = {merchant_id}"), "ck_merchants_refund_mode"),
        (
            format!(
                "INSERT INTO settlements (merchant_id, merchant_number_id, settlement_date, period_start, period_end, \
                 txn_count, gross_fen, refund_fen, fee_fen, net_fen, status, account_masked, created_at) \
                 SELECT {merchant_id}, id, {date}, {ts}, {ts}, 1, 1000, 0, 6, 995, 'pending', '6222****2233', {ts} \
                 FROM merchant_numbers WHERE merchant_id = {merchant_id}"
            ),
            "ck_settlements",
        ),
    ];
    for (sql, constraint) in refused {
        let err = db
            .conn
            .execute_unprepared(&sql)
            .await
            .expect_err(&format!("accepted: {sql}"));
        let text = err.to_string();
        // Both backends name the violated constraint in their message.
        assert!(
            text.contains(constraint),
            "{constraint}: unexpected error {text}"
        );
    }
    let count = db
        .conn
        .query_one_raw(Statement::from_string(
            b,
            "SELECT COUNT(*) AS n FROM transactions",
        ))
        .await
        .expect("count")
        .and_then(|r| r.try_get::<i64>("", "n").ok());
    assert_eq!(count, Some(1), "a refused statement left rows behind");
}

on_both_backends!(the_refund_entities_read_back_what_they_write);

/// Writes `$model` through the active model of entity module `$entity` (the id left to the database),
/// reads the row back by its id and checks that it equals `$model` but for the id; gives the row read.
macro_rules! round_trip {
    ($db:expr, $entity:ident, $model:expr) => {{
        let model = $model;
        let written = $entity::ActiveModel {
            id: NotSet,
            ..model.clone().into()
        }
        .insert(&$db.conn)
        .await
        .expect(stringify!($entity));
        let read = $entity::Entity::find_by_id(written.id)
            .one(&$db.conn)
            .await
            .expect("query")
            .expect(stringify!($entity));
        assert_eq!(
            read,
            $entity::Model {
                id: written.id,
                ..model
            }
        );
        read
    }};
}

/// The entities of refund requests, their events and idempotency keys match their tables: a row
/// written through each, every column set, reads back equal.
async fn the_refund_entities_read_back_what_they_write(backend: Backend) {
    use app::backend::entities::{idempotency_keys, refund_events, refund_requests, settlements};
    use sea_orm::{ActiveModelTrait, EntityTrait, NotSet};

    use crate::clearing::{after_the_day, at, day, Shop, UP_CREDIT};
    use crate::support::app::create_operator;

    let db = TestDb::migrated(backend).await;
    let mut shop = Shop::open(&db, "M20000001").await;
    let sale = shop
        .add(
            &db,
            ("purchase", "success"),
            UP_CREDIT,
            5_000,
            at(10, 0),
            None,
        )
        .await;
    app::backend::services::clearing::clear_day(&db.conn, day(), after_the_day())
        .await
        .expect("clear");
    let settlement = settlements::Entity::find()
        .one(&db.conn)
        .await
        .expect("query")
        .expect("a settlement");
    let requester = create_operator(&db, "M20000001", "rq.refund", &[Role::RefundOperator]).await;
    let approver = create_operator(&db, "M20000001", "rq.approve", &[Role::RefundApprover]).await;
    let second = create_operator(&db, "M20000001", "rq.second", &[Role::RefundApprover]).await;

    let request = round_trip!(
        db,
        refund_requests,
        refund_requests::Model {
            id: 0,
            merchant_id: shop.merchant_id,
            original_txn_id: sale,
            amount_fen: 1_234,
            currency: "CNY".into(),
            reason_code: "returned_goods".into(),
            reason_text: Some("退货 returned".into()),
            status: "cleared".into(),
            requested_by: requester,
            requested_at: at(11, 0),
            approver_id: Some(approver),
            second_approver_id: Some(second),
            decided_at: Some(at(11, 5)),
            decision_comment: Some("ok".into()),
            submitted_at: Some(at(11, 6)),
            cleared_at: Some(at(26, 0)),
            settlement_id: Some(settlement.id),
            shortfall_fen: Some(34),
            failure_reason: Some("none".into()),
            updated_at: at(26, 0),
            quota_day: Some(day()),
        }
    );
    round_trip!(
        db,
        refund_events,
        refund_events::Model {
            id: 0,
            refund_request_id: request.id,
            from_status: Some("submitted".into()),
            to_status: "cleared".into(),
            operator_id: Some(approver),
            comment: Some("cleared by the run".into()),
            occurred_at: at(26, 0),
        }
    );
    let key = round_trip!(
        db,
        idempotency_keys,
        idempotency_keys::Model {
            id: 0,
            merchant_id: shop.merchant_id,
            operator_id: requester,
            idem_key: "k-0123456789".into(),
            request_hash: "ab".repeat(32),
            response_json: Some("{\"id\":1}".into()),
            created_at: at(11, 0),
        }
    );
    // The same key of the same operator is one row.
    let again = idempotency_keys::ActiveModel {
        id: NotSet,
        ..key.into()
    }
    .insert(&db.conn)
    .await;
    assert!(again.is_err(), "a second row with the same key");
}
