//! Platform operations: onboarding merchants and operators, binding certificates.

use chrono::Utc;
use secrecy::ExposeSecret;

use app::backend::password::verify_password;
use app::backend::services::platform::{self, PlatformError};
use app::domain::access::Role;
use app::domain::LoginName;
use sea_orm::{ConnectionTrait, Statement};

use crate::on_both_backends;
use crate::support::app::{bind, create_operator, record, seed_merchant};
use crate::support::{Backend, TestDb, TestPki};

async fn scalar(db: &TestDb, sql: &str) -> Option<i64> {
    db.conn
        .query_one_raw(Statement::from_string(db.conn.get_database_backend(), sql))
        .await
        .expect("query")
        .and_then(|r| r.try_get::<i64>("", "n").ok())
}

on_both_backends!(an_operator_gets_a_one_time_password_that_must_be_changed);

async fn an_operator_gets_a_one_time_password_that_must_be_changed(backend: Backend) {
    let db = TestDb::migrated(backend).await;
    seed_merchant(&db, "M30000001").await;

    let created = platform::create_operator(
        &db.conn,
        platform::NewOperator {
            merchant_code: app::domain::MerchantCode::parse("M30000001").expect("code"),
            login_name: LoginName::parse("shop.admin").expect("login"),
            display_name: "Shop Admin".into(),
            roles: vec![Role::Administrator, Role::Finance, Role::Administrator],
            scope: app::domain::DataScope::Merchant,
        },
        None,
        Utc::now(),
    )
    .await
    .expect("create");

    let row = db
        .conn
        .query_one_raw(Statement::from_string(
            db.conn.get_database_backend(),
            format!(
                "SELECT password_hash, must_change_password FROM operators WHERE id = {}",
                created.id
            ),
        ))
        .await
        .expect("query")
        .expect("row");
    let hash: String = row.try_get("", "password_hash").expect("hash");
    let must_change: bool = row.try_get("", "must_change_password").expect("flag");
    assert!(hash.starts_with("$argon2id$"));
    assert!(verify_password(&created.one_time_password, &hash));
    assert!(!hash.contains(created.one_time_password.expose_secret()));
    assert!(must_change);
    assert_eq!(
        scalar(
            &db,
            &format!(
                "SELECT COUNT(*) AS n FROM operator_roles WHERE operator_id = {}",
                created.id
            )
        )
        .await,
        Some(2),
        "duplicate roles are stored once"
    );
}

on_both_backends!(duplicates_are_refused_and_nothing_half_done_remains);

async fn duplicates_are_refused_and_nothing_half_done_remains(backend: Backend) {
    let db = TestDb::migrated(backend).await;
    seed_merchant(&db, "M30000002").await;
    create_operator(&db, "M30000002", "dup.user", &[Role::Finance]).await;

    let again = platform::create_operator(
        &db.conn,
        platform::NewOperator {
            merchant_code: app::domain::MerchantCode::parse("M30000002").expect("code"),
            login_name: LoginName::parse("dup.user").expect("login"),
            display_name: "Again".into(),
            roles: vec![Role::Finance],
            scope: app::domain::DataScope::Merchant,
        },
        None,
        Utc::now(),
    )
    .await;
    assert!(
        matches!(again, Err(PlatformError::LoginTaken(_))),
        "{again:?}"
    );

    let merchants_before = scalar(&db, "SELECT COUNT(*) AS n FROM merchants").await;
    let numbers_before = scalar(&db, "SELECT COUNT(*) AS n FROM merchant_numbers").await;
    // Same merchant number under a new code: refused as a whole.
    let mut new = crate::support::app::new_merchant("M30000003");
    new.numbers = vec![(
        app::domain::MerchantNo::parse("898000030000002").expect("no"),
        "x".into(),
    )];
    let err = platform::create_merchant(&db.conn, new, Utc::now()).await;
    assert!(
        matches!(err, Err(PlatformError::MerchantNoTaken(_))),
        "{err:?}"
    );
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) AS n FROM merchants").await,
        merchants_before
    );
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) AS n FROM merchant_numbers").await,
        numbers_before
    );
}

on_both_backends!(a_certificate_binds_to_one_operator_only);

async fn a_certificate_binds_to_one_operator_only(backend: Backend) {
    let db = TestDb::migrated(backend).await;
    seed_merchant(&db, "M30000004").await;
    create_operator(&db, "M30000004", "first.op", &[Role::Monitor]).await;
    create_operator(&db, "M30000004", "second.op", &[Role::Monitor]).await;
    let pki = TestPki::new();
    let cert = pki.client("first.op");

    bind(&db, "first.op", &cert).await;
    // Binding again to the same operator changes nothing.
    bind(&db, "first.op", &cert).await;
    let other = platform::bind_certificate(
        &db.conn,
        &LoginName::parse("second.op").expect("login"),
        &record(&cert),
        Utc::now(),
    )
    .await;

    assert!(
        matches!(other, Err(PlatformError::CertificateBoundElsewhere)),
        "{other:?}"
    );
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) AS n FROM operator_certificates").await,
        Some(1)
    );
    let unknown = platform::bind_certificate(
        &db.conn,
        &LoginName::parse("nobody").expect("login"),
        &record(&cert),
        Utc::now(),
    )
    .await;
    assert!(
        matches!(unknown, Err(PlatformError::NoSuchOperator(_))),
        "{unknown:?}"
    );
}
