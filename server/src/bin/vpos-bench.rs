//! `vpos-bench`: the query benchmarks against a database the demo loader filled
//! (`scripts/bench-query.sh` prepares one per backend and runs this). Prints one line per figure;
//! docs/PERFORMANCE.md records them.
//!
//! What it measures, for the merchant with the most transactions:
//! - the first page of a filtered search over its last 30 days (the service behind the search server
//!   function, as the server calls it): p50 and p95 over many calls;
//! - page 1,000 of the same search by keyset, against page 1;
//! - the four summary tabs of the same 30 days together;
//! - exports of its newest rows (each size of `--export-rows`, first thing after start) through the
//!   background-job path, wall
//!   time and peak memory growth, against rust_xlsxwriter writing the same rows from memory;
//! - page 1 and the four summary tabs of 18 kinds of search (each filter, an operator of one group,
//!   the smallest merchant); on PostgreSQL each page both planned per execution and planned once.
//!
//! `--filters-only` measures only the last.

use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

#[path = "vpos-bench/upload.rs"]
mod upload;

// Linked for its allocator too (server/src/lib.rs): memory is measured as the server allocates it.
use server::memory::{current_rss_kib, peak_rss_kib, reset_peak_rss};

use app::api::transactions::{SummaryBy, TxnFilter};
use app::backend::entities::{export_jobs, operators, transactions};
use app::backend::export::{Cell, Column, XlsxExport};
use app::backend::services::transactions::{self as service, TxnQuery};
use app::backend::{db, Session};
use app::domain::access::{functions_of, Role};
use app::domain::{DataScope, Money};
use app::i18n::Lang;

struct Args {
    database_url: String,
    /// The exports it measures write audit events, sealed with the database's audit key.
    audit_key_file: std::path::PathBuf,
    iterations: usize,
    export_rows: Vec<u64>,
    filters_only: bool,
    /// Batch sizes of the fast-refund upload benchmark; when given, only it runs.
    upload_rows: Vec<u64>,
}

fn args() -> Result<Args, String> {
    let mut out = Args {
        database_url: std::env::var("DATABASE_URL").unwrap_or_default(),
        audit_key_file: std::env::var_os("VPOS_AUDIT_KEY_FILE")
            .map_or_else(|| "var/audit.key".into(), Into::into),
        iterations: 200,
        export_rows: vec![100_000, 1_000_000],
        filters_only: false,
        upload_rows: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--database-url" => out.database_url = value()?,
            "--audit-key-file" => out.audit_key_file = value()?.into(),
            "--iterations" => out.iterations = value()?.parse().map_err(|e| format!("{e}"))?,
            "--export-rows" => {
                out.export_rows = value()?
                    .split(',')
                    .map(|n| n.trim().parse().map_err(|e| format!("--export-rows: {e}")))
                    .collect::<Result<_, _>>()?
            }
            "--filters-only" => out.filters_only = true,
            "--upload" => {
                out.upload_rows = value()?
                    .split(',')
                    .map(|n| n.trim().parse().map_err(|e| format!("--upload: {e}")))
                    .collect::<Result<_, _>>()?
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if out.iterations == 0 {
        return Err("--iterations must be at least 1".into());
    }
    if out.database_url.is_empty() {
        return Err("give --database-url or DATABASE_URL".into());
    }
    Ok(out)
}

#[tokio::main]
async fn main() {
    let args = match args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("vpos-bench: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&args).await {
        eprintln!("vpos-bench: {e}");
        std::process::exit(1);
    }
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// p50 and p95 of timings.
fn percentiles(mut t: Vec<Duration>) -> (f64, f64) {
    t.sort();
    let at = |q: f64| ms(t[((t.len() as f64 * q).ceil() as usize).saturating_sub(1)]);
    (at(0.50), at(0.95))
}

async fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let db = db::connect(&args.database_url, 8).await?;
    app::backend::audit::open(&db, &args.audit_key_file).await?;
    let (merchant_id, rows): (i64, i64) = transactions::Entity::find()
        .select_only()
        .column(transactions::Column::MerchantId)
        .column_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "n")
        .group_by(transactions::Column::MerchantId)
        .order_by_desc(Expr::cust("CAST(COUNT(*) AS BIGINT)"))
        .into_tuple()
        .one(&db)
        .await?
        .ok_or("no transactions: load the demo data first")?;
    let total: i64 = transactions::Entity::find()
        .select_only()
        .column_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "n")
        .into_tuple()
        .one(&db)
        .await?
        .unwrap_or(0);
    let last_day: NaiveDate = transactions::Entity::find()
        .select_only()
        .column_as(transactions::Column::TxnDate.max(), "d")
        .filter(transactions::Column::MerchantId.eq(merchant_id))
        .into_tuple()
        .one(&db)
        .await?
        .ok_or("no last day")?;
    let first_day = last_day - chrono::Duration::days(29);
    let session = finance_session(&db, merchant_id).await?;
    let now: DateTime<Utc> = Utc::now();
    let backend = if args.database_url.starts_with("sqlite") {
        "SQLite"
    } else {
        "PostgreSQL"
    };
    println!(
        "backend {backend}: {total} transactions; largest merchant {merchant_id} holds {rows}; 30 days {first_day} .. {last_day}"
    );
    let filter = TxnFilter {
        from: first_day.to_string(),
        to: last_day.to_string(),
        status: "success".into(),
        ..TxnFilter::default()
    };
    if !args.upload_rows.is_empty() {
        return upload::run(&db, merchant_id, &args.upload_rows, backend).await;
    }
    if args.filters_only {
        return by_filter(args, &db, &session, &filter, now).await;
    }
    // Exports first, while the process is as fresh as a server that has just started: its memory
    // growth is the export's, not what earlier measurements left allocated.
    for &want in &args.export_rows {
        export(&db, &session, merchant_id, want, now).await?;
    }

    let query = TxnQuery::parse(&filter)?;

    // First page, warm.
    let mut times = Vec::with_capacity(args.iterations);
    let mut matched = 0;
    for i in 0..args.iterations + 10 {
        let started = Instant::now();
        let page = service::page(&db, &session, query.clone(), now).await?;
        if i >= 10 {
            times.push(started.elapsed());
        }
        matched = page.total;
    }
    let (p50, p95) = percentiles(times);
    println!("search page 1 (30 days, status=success, {matched} rows match, 50 per page): p50 {p50:.2} ms, p95 {p95:.2} ms");

    // Page 1,000 by keyset.
    let mut cursor = String::new();
    let mut reached = 1;
    while reached < 1000 {
        let page = service::page(
            &db,
            &session,
            TxnQuery::parse(&TxnFilter {
                after: cursor.clone(),
                ..filter.clone()
            })?,
            now,
        )
        .await?;
        match page.next_after {
            Some(next) => cursor = next,
            None => break,
        }
        reached += 1;
    }
    let deep = TxnQuery::parse(&TxnFilter {
        after: cursor,
        ..filter.clone()
    })?;
    let mut times = Vec::with_capacity(args.iterations);
    for _ in 0..args.iterations {
        let started = Instant::now();
        service::page(&db, &session, deep.clone(), now).await?;
        times.push(started.elapsed());
    }
    let (d50, d95) = percentiles(times);
    println!(
        "search page {reached} by keyset: p50 {d50:.2} ms, p95 {d95:.2} ms ({:.2}x page 1 at p95)",
        d95 / p95.max(1e-9)
    );

    // The other places the pager leads to, each against page 1.
    let deep_page = service::page(&db, &session, deep.clone(), now).await?;
    let a_day_back =
        (now.with_timezone(&session.tz).date_naive() - chrono::Duration::days(15)).to_string();
    let places = [
        (
            "the page before it",
            TxnFilter {
                before: deep_page.prev_before.clone().unwrap_or_default(),
                pos: deep_page.offset.to_string(),
                ..filter.clone()
            },
        ),
        (
            "the last page",
            TxnFilter {
                last: "1".into(),
                ..filter.clone()
            },
        ),
        (
            "the page of a day 15 days back",
            TxnFilter {
                at: a_day_back,
                ..filter.clone()
            },
        ),
    ];
    for (name, place) in places {
        let place = TxnQuery::parse(&place)?;
        let mut times = Vec::with_capacity(args.iterations);
        for _ in 0..args.iterations {
            let started = Instant::now();
            service::page(&db, &session, place.clone(), now).await?;
            times.push(started.elapsed());
        }
        let (_, t95) = percentiles(times);
        println!(
            "{name}: p95 {t95:.2} ms ({:.2}x page 1 at p95)",
            t95 / p95.max(1e-9)
        );
    }

    // The four summary tabs together.
    let mut times = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        for by in SummaryBy::ALL {
            service::summary(&db, &session, query.clone(), by, now).await?;
        }
        times.push(started.elapsed());
    }
    let (s50, s95) = percentiles(times);
    println!("four summary tabs (30 days, {matched} rows): median {s50:.1} ms, worst {s95:.1} ms");

    by_filter(args, &db, &session, &filter, now).await
}

/// Page 1 and the four summary tabs of each kind of search. On PostgreSQL the page is timed planned
/// for each execution's values (the main pool) and planned once per connection (the search pool,
/// `db::connect_search`), one after the other: the search pool is right only if no filter is slower
/// with it. A case stops after 3 s of calls (a counted total of the largest merchant takes seconds).
async fn by_filter(
    args: &Args,
    db: &DatabaseConnection,
    session: &Session,
    base: &TxnFilter,
    now: DateTime<Utc>,
) -> Result<(), Box<dyn std::error::Error>> {
    use sea_orm::{FromQueryResult, Statement};

    #[derive(FromQueryResult)]
    struct Sample {
        terminal_no: String,
        group_id: i64,
        merchant_no: String,
        card_last4: String,
        amount_fen: i64,
        reference_no: String,
        issuer_bank: String,
        auth_code: String,
        batch_no: String,
        settlement_date: NaiveDate,
        smallest: i64,
    }
    // A settled sale of the largest merchant, on a terminal of a group: values each filter can take.
    let sample = Sample::find_by_statement(Statement::from_string(
        db.get_database_backend(),
        format!("SELECT tm.terminal_no, g.group_id, n.merchant_no, t.card_last4, t.amount_fen, t.reference_no, \
           t.issuer_bank, t.auth_code, t.batch_no, t.settlement_date, \
           (SELECT merchant_id FROM transactions GROUP BY merchant_id ORDER BY COUNT(*) LIMIT 1) AS smallest \
         FROM transactions t \
         JOIN terminals tm ON tm.id = t.terminal_id \
         JOIN terminal_group_members g ON g.terminal_id = t.terminal_id \
         JOIN merchant_numbers n ON n.id = t.merchant_number_id \
         WHERE t.merchant_id = {} AND t.settlement_date IS NOT NULL AND t.auth_code IS NOT NULL \
         ORDER BY t.txn_time DESC LIMIT 1",
            session.merchant_id
        ),
    ))
    .one(db)
    .await?
    .ok_or("no settled sale on a grouped terminal")?;
    let yuan = |fen: i64| format!("{}.{:02}", fen / 100, fen % 100);
    let with = |change: &dyn Fn(&mut TxnFilter)| {
        let mut f = base.clone();
        change(&mut f);
        f
    };
    let mut grouped = session.clone();
    grouped.scope = DataScope::Groups;
    grouped.group_ids = vec![sample.group_id];
    let smallest = finance_session(db, sample.smallest).await?;
    let cases: Vec<(&str, &Session, TxnFilter)> = vec![
        ("30 days, success", session, base.clone()),
        (
            "+ type refund",
            session,
            with(&|f| f.txn_type = "refund".into()),
        ),
        (
            "status failed",
            session,
            with(&|f| f.status = "failed".into()),
        ),
        (
            "+ card last 4",
            session,
            with(&|f| f.card = sample.card_last4.clone()),
        ),
        (
            "+ amount",
            session,
            with(&|f| f.amount = yuan(sample.amount_fen)),
        ),
        (
            "+ reference",
            session,
            with(&|f| f.reference = sample.reference_no.clone()),
        ),
        (
            "+ terminal",
            session,
            with(&|f| f.terminal = sample.terminal_no.clone()),
        ),
        (
            "+ terminal group",
            session,
            with(&|f| f.group = sample.group_id.to_string()),
        ),
        (
            "+ merchant number",
            session,
            with(&|f| f.number = sample.merchant_no.clone()),
        ),
        (
            "+ organisation, card type",
            session,
            with(&|f| {
                f.org = "unionpay".into();
                f.card_type = "debit".into();
            }),
        ),
        (
            "+ issuing bank",
            session,
            with(&|f| f.bank = sample.issuer_bank.clone()),
        ),
        (
            "+ authorisation code",
            session,
            with(&|f| f.auth = sample.auth_code.clone()),
        ),
        (
            "+ batch",
            session,
            with(&|f| f.batch = sample.batch_no.clone()),
        ),
        (
            "+ settlement date",
            session,
            with(&|f| f.sdate = sample.settlement_date.to_string()),
        ),
        (
            "+ amount range",
            session,
            with(&|f| {
                f.min = "1000.00".into();
                f.max = "1000.50".into();
            }),
        ),
        ("no dates, no status", session, TxnFilter::default()),
        ("operator of one group", &grouped, base.clone()),
        (
            "operator of one group, + bank",
            &grouped,
            with(&|f| f.bank = sample.issuer_bank.clone()),
        ),
        ("smallest merchant", &smallest, base.clone()),
    ];
    let search_db = db::connect_search(&args.database_url, 8, db, Duration::ZERO).await?;
    let postgres = db.get_database_backend() == sea_orm::DbBackend::Postgres;
    let pools: Vec<&DatabaseConnection> = if postgres {
        vec![db, &search_db]
    } else {
        vec![db]
    };
    let iterations = args.iterations.min(50);
    println!(
        "search page 1 by filter, p50 over up to {iterations} calls{}; the four summary tabs, p50 of each added up \
         (and against the first search's), and the slowest",
        if postgres {
            ": planned per execution / planned once"
        } else {
            ""
        }
    );
    let mut reference: Option<f64> = None;
    for (name, session, filter) in cases {
        let query = TxnQuery::parse(&filter)?;
        let mut medians = Vec::new();
        let mut totals = Vec::new();
        for pool in &pools {
            let (median, total) = timed(iterations, || async {
                Ok(service::page(*pool, session, query.clone(), now)
                    .await?
                    .total)
            })
            .await?;
            medians.push(median);
            totals.push(total);
        }
        if totals.iter().any(|t| *t != totals[0]) {
            return Err(format!("{name}: totals differ between the pools: {totals:?}").into());
        }
        // Each tab on its own (a finance user waits for one at a time), then their sum.
        let mut summaries = 0.0;
        let mut slowest = (0.0, SummaryBy::TxnDate);
        for by in SummaryBy::ALL {
            let (tab, counted) = timed(iterations, || async {
                let count = service::summary(db, session, query.clone(), by, now)
                    .await?
                    .total
                    .count();
                Ok(u64::try_from(count).unwrap_or(0))
            })
            .await?;
            if counted != totals[0] {
                return Err(format!(
                    "{name}, by {by:?}: {} rows on the page, {counted} summed",
                    totals[0]
                )
                .into());
            }
            summaries += tab;
            if tab > slowest.0 {
                slowest = (tab, by);
            }
        }
        // The everyday search (the first case) is the reference of this run.
        let reference = *reference.get_or_insert(summaries);
        let pages = match medians[..] {
            [once] => format!("{once:>8.2} ms"),
            [each, once, ..] => format!(
                "{each:>8.2} ms / {once:>8.2} ms = {:.2}x",
                once / each.max(1e-9)
            ),
            [] => String::new(),
        };
        println!(
            "  {name:<30} {:>9} rows: {pages}; summaries {summaries:>8.2} ms = {:>5.1}x, slowest tab {:>8.2} ms ({:?})",
            totals[0],
            summaries / reference.max(1e-9),
            slowest.0,
            slowest.1,
        );
    }
    Ok(())
}

/// The median time of up to `iterations` calls of `call` after 5 unmeasured ones, stopping after 3 s
/// once 3 are measured (a counted total of the largest merchant takes seconds: a few calls of it are
/// enough); and what the last call returned.
async fn timed<F, Fut>(iterations: usize, call: F) -> Result<(f64, u64), Box<dyn std::error::Error>>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<u64, Box<dyn std::error::Error>>>,
{
    let mut times = Vec::with_capacity(iterations);
    let mut last = 0;
    let began = Instant::now();
    for round in 0..iterations + 5 {
        let started = Instant::now();
        last = call().await?;
        if round >= 5 {
            times.push(started.elapsed());
        }
        if times.len() >= 3 && began.elapsed() > Duration::from_secs(3) {
            break;
        }
    }
    Ok((percentiles(times).0, last))
}

pub(crate) async fn finance_session(
    db: &DatabaseConnection,
    merchant_id: i64,
) -> Result<Session, Box<dyn std::error::Error>> {
    let operator = operators::Entity::find()
        .filter(operators::Column::MerchantId.eq(merchant_id))
        .one(db)
        .await?
        .ok_or("the merchant has no operator")?;
    Ok(Session {
        token_hash: "bench".into(),
        operator_id: operator.id,
        merchant_id,
        login_name: operator.login_name,
        display_name: operator.display_name,
        roles: vec![Role::Finance],
        functions: functions_of(&[Role::Finance]),
        scope: DataScope::Merchant,
        group_ids: Vec::new(),
        must_change_password: false,
        cert_fingerprint: "bench".into(),
        remote_addr: "127.0.0.1".into(),
        tz: chrono_tz::Asia::Shanghai,
        currency: app::domain::Currency::Cny,
    })
}

/// Peak resident memory of this process since the last reset, in KiB (Linux).
async fn export(
    db: &DatabaseConnection,
    session: &Session,
    merchant_id: i64,
    want: u64,
    now: DateTime<Utc>,
) -> Result<(), Box<dyn std::error::Error>> {
    // About the newest `want` rows of the merchant: whole days, from the day after the one where the
    // `want`-th newest row lies (merchant time). The bare writer then takes the same newest rows.
    let start: Option<DateTime<Utc>> = transactions::Entity::find()
        .select_only()
        .column(transactions::Column::TxnTime)
        .filter(transactions::Column::MerchantId.eq(merchant_id))
        .order_by_desc(transactions::Column::TxnTime)
        .offset(want.saturating_sub(1))
        .limit(1)
        .into_tuple()
        .one(db)
        .await?;
    let filter = TxnFilter {
        from: start
            .map(|t| {
                (t.with_timezone(&chrono_tz::Asia::Shanghai).date_naive()
                    + chrono::Duration::days(1))
                .to_string()
            })
            .unwrap_or_default(),
        ..TxnFilter::default()
    };
    let dir = tempfile_dir()?;
    let job = export_jobs::ActiveModel {
        merchant_id: Set(merchant_id),
        operator_id: Set(session.operator_id),
        kind: Set("transactions".into()),
        filters: Set("{}".into()),
        status: Set("running".into()),
        rows_done: Set(0),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let query = TxnQuery::parse(&filter)?.resolve(db, session, now).await?;
    let rows = service::export_size(db, session, &query).await?;

    let path = dir.join("app.xlsx");
    let before = current_rss_kib().unwrap_or(0);
    reset_peak_rss();
    let started = Instant::now();
    let (_, written) =
        service::export_to_file(db, session, &query, Lang::ZhCn, now, &path, job.id).await?;
    let app_time = started.elapsed();
    let peak = peak_rss_kib().unwrap_or(0);
    let size = std::fs::metadata(&path)?.len();
    export_jobs::Entity::delete_by_id(job.id).exec(db).await?;
    println!(
        "export through the job path: {written} rows (of {rows} selected), {:.2} s, file {:.1} MB, peak memory growth {:.1} MiB (resident {:.1} MiB before, peak {:.1} MiB)",
        app_time.as_secs_f64(),
        size as f64 / 1e6,
        peak.saturating_sub(before) as f64 / 1024.0,
        before as f64 / 1024.0,
        peak as f64 / 1024.0
    );

    // The same rows, from memory, through the bare writer.
    let mut cells: Vec<[Cell; 16]> = Vec::with_capacity(written as usize);
    let mut cursor: Option<(DateTime<Utc>, i64)> = None;
    loop {
        let mut select = transactions::Entity::find()
            .filter(transactions::Column::MerchantId.eq(merchant_id))
            .order_by_desc(transactions::Column::TxnTime)
            .order_by_desc(transactions::Column::Id)
            .limit(10_000);
        if let Some((t, id)) = cursor {
            select = select.filter(
                Expr::tuple([
                    Expr::col(transactions::Column::TxnTime),
                    Expr::col(transactions::Column::Id),
                ])
                .lt(Expr::tuple([Expr::val(t), Expr::val(id)])),
            );
        }
        let batch = select.all(db).await?;
        let Some(last) = batch.last().map(|t| (t.txn_time, t.id)) else {
            break;
        };
        for t in batch {
            if cells.len() as u32 >= written {
                break;
            }
            cells.push([
                Cell::DateTime(t.txn_time.naive_utc()),
                Cell::Text(format!("{}", t.merchant_number_id)),
                Cell::Text(format!("{}", t.terminal_id)),
                Cell::Text(t.txn_type),
                Cell::Text(t.status),
                Cell::Text(t.card_masked),
                Cell::Text(t.card_org),
                Cell::Text(t.card_type),
                Cell::Text(t.issuer_bank),
                Cell::Money(Money::cny(t.amount_fen)),
                t.fee_fen
                    .map_or(Cell::Empty, |f| Cell::Money(Money::cny(f))),
                Cell::Text(t.reference_no),
                Cell::Text(t.voucher_no),
                Cell::Text(t.batch_no),
                t.auth_code.map_or(Cell::Empty, Cell::Text),
                t.settlement_date.map_or(Cell::Empty, Cell::Date),
            ]);
        }
        if cells.len() as u32 >= written {
            break;
        }
        cursor = Some(last);
    }
    let columns: Vec<Column> = (0..16)
        .map(|_| Column {
            header: "column",
            width: 12.0,
        })
        .collect();
    let path = dir.join("bare.xlsx");
    let before = current_rss_kib().unwrap_or(0);
    reset_peak_rss();
    let started = Instant::now();
    let mut file = XlsxExport::new("bare", &columns)?;
    for row in &cells {
        file.push(row)?;
    }
    file.finish_to_file("filters", &[], &path)?;
    let bare_time = started.elapsed();
    let peak = peak_rss_kib().unwrap_or(0);
    println!(
        "bare writer from memory: {} rows, {:.2} s, peak memory growth {:.1} MiB; the job path takes {:.2}x",
        cells.len(),
        bare_time.as_secs_f64(),
        peak.saturating_sub(before) as f64 / 1024.0,
        app_time.as_secs_f64() / bare_time.as_secs_f64().max(1e-9)
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("vpos-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
