//! A fresh database per test.
//!
//! SQLite: a new file in a temporary directory. PostgreSQL: a new database created from a migrated
//! template (made once per test process), dropped when the test ends, even when it fails.

use std::sync::atomic::{AtomicU32, Ordering};

use sea_orm::sqlx::{Connection, PgConnection};
use sea_orm::DatabaseConnection;
use sea_orm_migration::MigratorTrait;
use tokio::sync::OnceCell;

use app::backend::db;
use migrations::Migrator;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server to test against, e.g. `postgres://postgres@127.0.0.1:5432/postgres`.
fn admin_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// Whether the PostgreSQL variant of a test runs. Without a server it is skipped, loudly; with
/// `TEST_REQUIRE_POSTGRES=1` a missing server is a failure.
pub fn postgres_available() -> bool {
    if admin_url().is_some() {
        return true;
    }
    assert!(
        std::env::var("TEST_REQUIRE_POSTGRES").as_deref() != Ok("1"),
        "TEST_REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set"
    );
    eprintln!("skipped on PostgreSQL: TEST_DATABASE_URL is not set");
    false
}

/// `postgres://host/db` with the database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let base = match base.rsplit_once('/') {
        Some((head, _))
            if head.contains("://") && head.len() > head.find("://").unwrap_or(0) + 3 =>
        {
            head
        }
        _ => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);
static TEMPLATE: OnceCell<String> = OnceCell::const_new();

fn unique_name(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

async fn admin_execute(sql: &str) {
    let url = admin_url().expect("TEST_DATABASE_URL");
    let mut conn = PgConnection::connect(&url)
        .await
        .expect("connect to the PostgreSQL test server");
    // Database names are made here, never from input.
    sea_orm::sqlx::raw_sql(sea_orm::sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let _ = conn.close().await;
}

/// The migrated template database of this test process.
async fn template() -> &'static str {
    TEMPLATE
        .get_or_init(|| async {
            let name = unique_name("vpos_tpl");
            admin_execute(&format!("CREATE DATABASE {name}")).await;
            let url = with_database(&admin_url().expect("TEST_DATABASE_URL"), &name);
            let conn = db::connect(&url, 1).await.expect("connect to the template");
            Migrator::up(&conn, None)
                .await
                .expect("migrate the template");
            conn.close().await.expect("close the template");
            name
        })
        .await
}

/// The key every test database's audit log is sealed with, the same for the whole test process
/// (the key a process seals with is set once).
pub fn audit_key() -> app::backend::audit::AuditKey {
    app::backend::audit::AuditKey::from_bytes([7; 32])
}

fn seal_with_the_test_key() {
    app::backend::audit::install_key(audit_key()).expect("one audit key for every test");
}

pub struct TestDb {
    pub conn: DatabaseConnection,
    pub url: String,
    pub backend: Backend,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A database with every migration applied.
    pub async fn migrated(backend: Backend) -> TestDb {
        seal_with_the_test_key();
        match backend {
            Backend::Sqlite => {
                let db = Self::empty(backend).await;
                migrate(&db.url, |conn| {
                    Box::pin(async move { Migrator::up(&conn, None).await })
                })
                .await;
                db
            }
            Backend::Postgres => {
                let template = template().await;
                let name = unique_name("vpos_t");
                admin_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}")).await;
                Self::open_postgres(name).await
            }
        }
    }

    /// A database with nothing in it.
    pub async fn empty(backend: Backend) -> TestDb {
        seal_with_the_test_key();
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                let conn = db::connect(&url, 4).await.expect("open SQLite");
                TestDb {
                    conn,
                    url,
                    backend,
                    pg_name: None,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let name = unique_name("vpos_t");
                admin_execute(&format!("CREATE DATABASE {name}")).await;
                Self::open_postgres(name).await
            }
        }
    }

    async fn open_postgres(name: String) -> TestDb {
        let url = with_database(&admin_url().expect("TEST_DATABASE_URL"), &name);
        let conn = db::connect(&url, 4).await.expect("open PostgreSQL");
        TestDb {
            conn,
            url,
            backend: Backend::Postgres,
            pg_name: Some(name),
            _dir: None,
        }
    }
}

/// A migration step's future, run over its own connection.
pub type MigrationStep =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), sea_orm::DbErr>> + Send>>;

/// Runs a migration step over one connection of its own, as `vpos migrate` does. Schema changes must
/// not go through a pool: another pooled SQLite connection keeps its cached schema and can refuse a
/// CREATE for a table or index that a DROP on a sibling connection already removed.
pub async fn migrate(url: &str, step: impl FnOnce(DatabaseConnection) -> MigrationStep) {
    let conn = db::connect(url, 1).await.expect("connect for migrating");
    step(conn.clone()).await.expect("migration step");
    conn.close().await.expect("close");
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        // Drop runs outside async; a thread with its own runtime drops the database.
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(admin_execute(&format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )));
            }
        })
        .join();
    }
}

#[test]
fn database_names_are_swapped_in_urls() {
    assert_eq!(
        with_database("postgres://u@h:5432/postgres", "x"),
        "postgres://u@h:5432/x"
    );
    assert_eq!(
        with_database("postgres://u@h:5432/postgres?sslmode=disable", "x"),
        "postgres://u@h:5432/x?sslmode=disable"
    );
    assert_eq!(
        with_database("postgres://u@h:5432", "x"),
        "postgres://u@h:5432/x"
    );
}
