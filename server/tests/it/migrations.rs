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
    "fast_refund_uploads",
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

on_both_backends!(
    released_migrations_still_create_what_they_created,
    the_running_codes_tallies_are_the_released_tables,
);

/// Every object of the schema (tables' columns, indexes, constraints, triggers, functions) and the
/// rows of the catalogues the migrations seed, each as (name, definition).
async fn schema_objects(db: &TestDb) -> std::collections::BTreeMap<String, String> {
    let sql = match db.backend {
        Backend::Sqlite => {
            "SELECT type || ' ' || name AS name, sql AS def FROM sqlite_master \
             WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'"
        }
        Backend::Postgres => {
            "SELECT 'column ' || c.relname || '.' || a.attname AS name, \
                    format_type(a.atttypid, a.atttypmod) \
                    || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END \
                    || COALESCE(' default ' || pg_get_expr(d.adbin, d.adrelid), '') AS def \
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped \
             UNION ALL SELECT 'index ' || indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' \
             UNION ALL SELECT 'constraint ' || conrelid::regclass::text || '.' || conname, \
                    pg_get_constraintdef(oid) FROM pg_constraint \
             WHERE connamespace = 'public'::regnamespace \
             UNION ALL SELECT 'trigger ' || tgname, pg_get_triggerdef(oid) FROM pg_trigger \
             WHERE NOT tgisinternal \
             UNION ALL SELECT 'function ' || proname, pg_get_functiondef(oid) FROM pg_proc \
             WHERE pronamespace = 'public'::regnamespace"
        }
    };
    let backend = db.conn.get_database_backend();
    let mut objects: std::collections::BTreeMap<String, String> = db
        .conn
        .query_all_raw(Statement::from_string(backend, sql))
        .await
        .expect("read the catalogue")
        .iter()
        .map(|r| {
            (
                r.try_get::<String>("", "name").expect("name"),
                r.try_get::<String>("", "def").expect("definition"),
            )
        })
        .collect();
    let present = tables(db).await;
    for table in ["functions", "roles", "role_functions"] {
        if !present.contains(table) {
            continue;
        }
        let rows = db
            .conn
            .query_all_raw(Statement::from_string(
                backend,
                format!("SELECT * FROM {table}"),
            ))
            .await
            .expect("read a catalogue");
        let mut lines: Vec<String> = rows.iter().map(|r| format!("{r:?}")).collect();
        lines.sort();
        objects.insert(format!("rows {table}"), lines.join("\n"));
    }
    objects
}

fn digest(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(text.as_bytes()))[..16].to_owned()
}

/// Applies the migrations one by one and writes, for each, what it created, changed or dropped, with
/// a digest of each definition: the pins in `server/tests/it/schema/`. A released migration must
/// create the same thing forever (a database migrated last month and one migrated today are the
/// same), so a changed pin fails the test. Pins for a new migration are written with
/// `PIN_SCHEMA=write`.
async fn released_migrations_still_create_what_they_created(backend: Backend) {
    let db = TestDb::empty(backend).await;
    let mut before = std::collections::BTreeMap::new();
    let mut pins = String::new();
    for migration in Migrator::migrations() {
        migrate(&db.url, |c| {
            Box::pin(async move { Migrator::up(&c, Some(1)).await })
        })
        .await;
        let after = schema_objects(&db).await;
        for (name, def) in &after {
            if before.get(name) != Some(def) {
                pins.push_str(&format!("{}\t{name}\t{}\n", migration.name(), digest(def)));
            }
        }
        for name in before.keys().filter(|n| !after.contains_key(*n)) {
            pins.push_str(&format!("{}\t{name}\tdropped\n", migration.name()));
        }
        before = after;
    }
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
        "tests/it/schema/{}.pins",
        match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    ));
    if std::env::var("PIN_SCHEMA").as_deref() == Ok("write") {
        std::fs::create_dir_all(file.parent().expect("folder")).expect("schema folder");
        std::fs::write(&file, &pins).expect("write the pins");
        return;
    }
    let pinned = std::fs::read_to_string(&file).expect("the pins (PIN_SCHEMA=write makes them)");
    let (pinned, now): (BTreeSet<&str>, BTreeSet<&str>) =
        (pinned.lines().collect(), pins.lines().collect());
    let changed: Vec<_> = pinned.symmetric_difference(&now).collect();
    assert!(
        changed.is_empty(),
        "released migrations create something else now (a change is a new migration): {changed:#?}"
    );
}

/// The running code's description of the tally tables (`app::backend::tallies`) names the tables,
/// keys and triggers the released migrations made, and the reversals index's condition.
async fn the_running_codes_tallies_are_the_released_tables(backend: Backend) {
    let db = TestDb::migrated(backend).await;
    let objects = schema_objects(&db).await;
    for tally in app::backend::tallies::ALL {
        let key = tally.key.join(", ");
        let unique = objects.iter().any(|(name, def)| {
            (name.starts_with("index ")
                || name.starts_with("table ")
                || name.starts_with("constraint "))
                && def.contains(tally.table)
                && def.replace('"', "").contains(&key)
        });
        assert!(unique, "{}: no unique key ({key})", tally.table);
        if backend == Backend::Postgres {
            assert!(
                objects.contains_key(&format!("trigger {}", tally.insert_trigger)),
                "{}",
                tally.insert_trigger
            );
        }
    }
    let setting = format!("'{}'", app::backend::tallies::CALLER_SETTING);
    if backend == Backend::Postgres {
        assert!(
            objects
                .iter()
                .any(|(name, def)| name.starts_with("trigger ") && def.contains(&setting)),
            "a trigger reads {setting}"
        );
    }
    // SQLite keeps an index's condition as written, and uses it only for a query that repeats it
    // (PostgreSQL keeps its own rewriting of it).
    let reversals = app::backend::tallies::REVERSALS;
    if backend == Backend::Sqlite {
        assert!(
            objects
                .iter()
                .any(|(name, def)| name.starts_with("index ") && def.contains(reversals)),
            "an index is partial on {reversals}"
        );
    }
}
