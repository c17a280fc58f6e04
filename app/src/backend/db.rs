//! Opening the database: SQLite (the embedded default) or PostgreSQL, chosen by the URL.

use std::str::FromStr;
use std::time::Duration;

use sea_orm::sqlx::{ConnectOptions, Connection};

use sea_orm::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sea_orm::sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("the database URL must start with sqlite: or postgres://")]
    UnknownScheme,
    #[error("the database URL is not valid: {0}")]
    BadUrl(String),
    #[error("cannot open the database: {0}")]
    Open(String),
}

/// Rows one SQLite statement may have in flight to its reader: at least the largest page (200 + 1)
/// and an export's batch.
pub const ROW_BUFFER: usize = 1024;

/// A PostgreSQL connection idle this long is checked before it is used again.
const PING_IDLE_AFTER: Duration = Duration::from_secs(1);

/// How PostgreSQL plans the prepared statements of a pool's connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plans {
    /// PostgreSQL's own choice: each execution planned for its values until a plan for any values
    /// looks as cheap. What most statements need: their best plan depends on the values (a skewed
    /// merchant, a date range, a day to clear).
    Auto,
    /// One plan per statement and connection, made for any values and kept
    /// (`plan_cache_mode = force_generic_plan`): for statements whose plan is the same whatever
    /// the values, where planning each execution would cost as much as running it.
    Generic,
}

/// What a pool is for, beyond its size and plans.
#[derive(Debug, Clone, Copy)]
struct Pool {
    checkpoints: Checkpoints,
    /// Prepared statements each PostgreSQL connection keeps (sqlx's default is 100).
    statement_cache: usize,
}

impl Pool {
    const BACKGROUND: Pool = Pool {
        checkpoints: Checkpoints::OnCommit,
        statement_cache: 100,
    };
    const SERVER: Pool = Pool {
        checkpoints: Checkpoints::Beside,
        statement_cache: 100,
    };
}

/// Who copies SQLite's write-ahead log into the database file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Checkpoints {
    /// The commit that fills the log past 1,000 pages (SQLite's default).
    OnCommit,
    /// [`checkpoint_wal`], run beside the pool by the server. Such a commit copies the log and
    /// waits for the disk: under a stream of payments that was half of a write's time, and the
    /// writer is serial.
    Beside,
}

/// Opens a connection pool.
///
/// SQLite runs in WAL mode with a busy timeout, so readers never block the writer and a writer waits
/// for another instead of failing; foreign keys are enforced on every connection.
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, ConnectError> {
    connect_planned(url, max_connections, Plans::Auto, None, Pool::BACKGROUND).await
}

/// The pool of the console's requests: as [`connect`], and on PostgreSQL each statement is cancelled
/// by the server after `statement_timeout` (none when zero). A request whose browser has gone away
/// leaves its statement running; without a limit a few slow searches would hold every connection
/// and stall sign-in with them. Clearing and housekeeping, whose statements may rightly run long,
/// use a pool of their own from [`connect`]. (SQLite statements run in this process and end with
/// their request.) On SQLite its commits leave the log's checkpoints to [`checkpoint_wal`].
pub async fn connect_console(
    url: &str,
    max_connections: u32,
    statement_timeout: Duration,
) -> Result<DatabaseConnection, ConnectError> {
    connect_planned(
        url,
        max_connections,
        Plans::Auto,
        Some(statement_timeout),
        Pool::SERVER,
    )
    .await
}

/// The pool of the terminal gateway: as [`connect_console`], with room for more prepared statements
/// on PostgreSQL. A group of sales is written by statements whose text depends on the group's size
/// (one row of values per sale), up to a few hundred texts: with the default hundred each connection
/// kept dropping and preparing them again.
///
/// On SQLite the pool is one connection, whatever `max_connections`. A connection drops its page
/// cache whenever another one has committed since it last read: with the writer of sales taking
/// whichever pooled connection was free, nearly every group read its pages from the file again.
/// One connection keeps its cache over its own commits; SQLite writes one transaction at a time
/// anyway, and the gateway's other reads are few (a terminal's first message, a repeat's answer).
/// Nothing in the gateway asks for a second connection while it holds one.
pub async fn connect_gateway(
    url: &str,
    max_connections: u32,
    statement_timeout: Duration,
) -> Result<DatabaseConnection, ConnectError> {
    let pool = Pool {
        statement_cache: 1_000,
        ..Pool::SERVER
    };
    let max_connections = match Backend::of_url(url) {
        Some(Backend::Sqlite) => 1,
        _ => max_connections,
    };
    connect_planned(
        url,
        max_connections,
        Plans::Auto,
        Some(statement_timeout),
        pool,
    )
    .await
}

/// The pool for the transaction search's pages, beside `main` (the pool of everything else).
///
/// A page is the newest rows of a selection, walked down an index from its newest end: mostly the
/// same plan whatever the merchant and the date range. PostgreSQL keeps planning such a statement
/// anew at each execution, because with the values unknown it expects few rows in the range and a
/// walk that stops at the page's last row looks dearer than it is; the planning takes about as long
/// as the run. This pool's connections plan each statement once. `vpos-bench` measures each filter
/// both ways on the 10M-row data set (docs/PERFORMANCE.md): faster or equal for all but the
/// settlement-date filter.
/// SQLite plans a statement when it prepares it: there the search uses `main`.
/// Its statements have the same `statement_timeout` as the console's pool.
pub async fn connect_search(
    url: &str,
    max_connections: u32,
    main: &DatabaseConnection,
    statement_timeout: Duration,
) -> Result<DatabaseConnection, ConnectError> {
    match Backend::of_url(url).ok_or(ConnectError::UnknownScheme)? {
        Backend::Sqlite => Ok(main.clone()),
        Backend::Postgres => {
            connect_planned(
                url,
                max_connections,
                Plans::Generic,
                Some(statement_timeout),
                Pool::SERVER,
            )
            .await
        }
    }
}

async fn connect_planned(
    url: &str,
    max_connections: u32,
    plans: Plans,
    statement_timeout: Option<Duration>,
    pool: Pool,
) -> Result<DatabaseConnection, ConnectError> {
    match Backend::of_url(url).ok_or(ConnectError::UnknownScheme)? {
        Backend::Sqlite => {
            let checkpoints = match pool.checkpoints {
                Checkpoints::OnCommit => "1000",
                Checkpoints::Beside => "0",
            };
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| ConnectError::BadUrl(e.to_string()))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .pragma("temp_store", "memory")
                .pragma("wal_autocheckpoint", checkpoints)
                // 16 MiB of pages per connection (the operating system caches the file as well): a
                // large export reads through the cache, which is memory the server keeps.
                .pragma("cache_size", "-16384")
                // Rows a statement may send ahead to the task reading them (sqlx's default is 50): a
                // whole page, or an export's batch, without the connection's thread stopping to wait
                // for the reader, and the reader waking it, row by row.
                .row_buffer_size(ROW_BUFFER)
                // Statements are traced by the services; sqlx's own log would print whole SQL texts.
                .disable_statement_logging();
            if let Some(dir) = options
                .get_filename()
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
            {
                std::fs::create_dir_all(dir)
                    .map_err(|e| ConnectError::Open(format!("{}: {e}", dir.display())))?;
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(max_connections.max(1))
                // A connection to a file in this process cannot go stale: no ping (a round trip to
                // the connection's thread) before every query.
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options)
                .await
                .map_err(|e| ConnectError::Open(e.to_string()))?;
            Ok(DatabaseConnection::from(pool))
        }
        Backend::Postgres => {
            let mut options = PgConnectOptions::from_str(url)
                .map_err(|e| ConnectError::BadUrl(e.to_string()))?
                .statement_cache_capacity(pool.statement_cache)
                .disable_statement_logging();
            if plans == Plans::Generic {
                // No JIT either: a plan for any values is costed for a large merchant's whole range
                // even where the page's LIMIT stops it after 51 rows, which passed `jit_above_cost`
                // and compiled the statement at every execution (about 10 ms for a 1 ms page).
                options =
                    options.options([("plan_cache_mode", "force_generic_plan"), ("jit", "off")]);
            }
            if let Some(timeout) = statement_timeout {
                // In milliseconds; 0 is PostgreSQL's "no limit".
                options = options.options([("statement_timeout", timeout.as_millis().to_string())]);
            }
            let pool = PgPoolOptions::new()
                .max_connections(max_connections.max(1))
                // sqlx checks a connection with a round trip when it returns to the pool, and by
                // default again before every statement: three round trips per statement. A
                // connection back in use within a second was checked that second; one idle longer
                // (the server may have gone away meanwhile) is still checked first.
                .test_before_acquire(false)
                .before_acquire(|conn, meta| {
                    Box::pin(async move {
                        if meta.idle_for >= PING_IDLE_AFTER {
                            conn.ping().await?;
                        }
                        Ok(true)
                    })
                })
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options)
                .await
                .map_err(|e| ConnectError::Open(e.to_string()))?;
            Ok(DatabaseConnection::from(pool))
        }
    }
}

impl From<ConnectError> for DbErr {
    fn from(err: ConnectError) -> Self {
        DbErr::Custom(err.to_string())
    }
}

/// Copies the SQLite write-ahead log into the database file as far as no reader still needs it,
/// without waiting for readers or writers (a passive checkpoint), on a connection of `db`. The
/// server runs it every second on its background pool, in place of the checkpoints its console and
/// gateway pools leave out ([`connect_console`]). Nothing on PostgreSQL.
pub async fn checkpoint_wal(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() != sea_orm::DbBackend::Sqlite {
        return Ok(());
    }
    db.execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)")
        .await
        .map(drop)
}

/// Starts a transaction that will write. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`):
/// a deferred transaction that reads and then writes fails with "database is locked" when another
/// writer got there first, instead of waiting its turn. It waits for its [`write_turn`] to begin.
pub async fn begin_write<C>(db: &C) -> Result<C::Transaction, DbErr>
where
    C: sea_orm::TransactionTrait + ConnectionTrait,
{
    let _turn = write_turn(db).await;
    begin_immediate(db).await
}

/// [`begin_write`] for writers whose transactions follow each other closely (the gateway's): the
/// [`write_turn`] is kept, and given back with the transaction, to be dropped once it has ended.
pub async fn begin_write_in_turn<C>(db: &C) -> Result<(WriteTurn, C::Transaction), DbErr>
where
    C: sea_orm::TransactionTrait + ConnectionTrait,
{
    let turn = write_turn(db).await;
    let txn = begin_immediate(db).await?;
    Ok((turn, txn))
}

async fn begin_immediate<C: sea_orm::TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    db.begin_with_options(sea_orm::TransactionOptions {
        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// A writer's turn on SQLite ([`write_turn`]); nothing on PostgreSQL.
pub type WriteTurn = Option<tokio::sync::MutexGuard<'static, ()>>;

/// SQLite lets one transaction write at a time, and a writer that finds the database locked sleeps
/// in growing steps (milliseconds, then tens) before it looks again: behind a stream of writes (the
/// gateway's payments, each group starting as the last one commits) such a writer kept finding it
/// locked, and a console page that wrote waited for seconds. The writers of this process queue here
/// instead, first come first served, and find the database free: a [`begin_write`] until its
/// transaction has begun, the gateway's writers (whose writes follow each other closely) until
/// theirs has ended, a lone statement until it has run. Never taken inside a write transaction of
/// this process: it would wait for a writer that waits for that transaction. PostgreSQL writers run
/// side by side: no turn.
pub async fn write_turn(db: &impl ConnectionTrait) -> WriteTurn {
    static SQLITE_WRITERS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    match db.get_database_backend() {
        sea_orm::DbBackend::Sqlite => Some(SQLITE_WRITERS.lock().await),
        _ => None,
    }
}

/// Starts a read-only transaction that sees one snapshot of the database throughout, for reading a
/// large result in batches (an export): every batch is read on the same connection, as of the same
/// moment, whatever is written meanwhile. SQLite's WAL gives a deferred transaction its snapshot at
/// the first read; PostgreSQL needs REPEATABLE READ for it.
pub async fn begin_snapshot(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    use sea_orm::{AccessMode, IsolationLevel, TransactionTrait};
    let options = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => sea_orm::TransactionOptions {
            isolation_level: Some(IsolationLevel::RepeatableRead),
            access_mode: Some(AccessMode::ReadOnly),
            ..Default::default()
        },
        _ => sea_orm::TransactionOptions::default(),
    };
    db.begin_with_options(options).await
}

/// Keeps the query planner's statistics current on SQLite, where nothing else does (PostgreSQL's
/// autovacuum analyses tables as they change). Without them SQLite guesses, and a search by
/// reference or card number on a large merchant walked the merchant's whole month by time (190 ms
/// on 1M rows) instead of its index (0.1 ms). `PRAGMA optimize` analyses only the tables that changed
/// much since their last analysis (all tables: `0x10000`), on a sample (`analysis_limit`), so it is
/// cheap to repeat; both pragmas in one call, as the limit holds for one connection.
pub async fn refresh_statistics(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() == sea_orm::DbBackend::Sqlite {
        db.execute_unprepared("PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002")
            .await?;
    }
    Ok(())
}
