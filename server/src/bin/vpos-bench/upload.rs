//! `vpos-bench --upload 10000,100000`: batch fast refunds of each size, for the merchant with the
//! most transactions (its sales made for the purpose): the preview (the file read in its child
//! process, every row checked, the preview kept) beside the reader alone on the same file, with the
//! reader's peak memory; and the submission of the whole batch beside the database alone writing
//! as many rows into a bare table in one transaction.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set, Statement, TransactionTrait,
};

use app::backend::entities::{merchants, terminals, transactions};
use app::backend::export::{Cell, Column, XlsxExport};
use app::backend::services::fast_refunds::upload::{self, UploadLimits};
use app::backend::token::TokenKey;
use app::backend::{AuthConfig, FastRefundConfig};
use app::domain::fast_refund::BatchColumn;
use app::domain::IdempotencyKey;
use app::i18n::{Label, Lang};

use super::{finance_session, ms};

type Failure = Box<dyn std::error::Error>;

pub async fn run(
    db: &DatabaseConnection,
    merchant_id: i64,
    sizes: &[u64],
    backend: &str,
) -> Result<(), Failure> {
    // The server's own account of each preview's phases, on standard error.
    let _ = tracing_subscriber::fmt()
        .with_env_filter("app::backend::services::fast_refunds=info")
        .with_writer(std::io::stderr)
        .try_init();
    let session = finance_session(db, merchant_id).await?;
    merchants::ActiveModel {
        id: Set(merchant_id),
        fast_refund_agreement: Set(true),
        daily_refund_quota_fen: Set(1_000_000_000_000),
        refund_requires_token: Set(false),
        ..Default::default()
    }
    .update(db)
    .await?;
    let reader = std::env::current_exe()?
        .parent()
        .ok_or("no directory of vpos-bench")?
        .join("vpos");
    let largest = sizes.iter().copied().max().unwrap_or(0);
    let config = FastRefundConfig {
        upload: UploadLimits {
            max_rows: largest,
            max_bytes: 256 * 1024 * 1024,
            reader: reader.clone(),
            ..UploadLimits::default()
        },
        ..FastRefundConfig::default()
    };
    let mut offset = 0;
    for &size in sizes {
        let references = sales(db, merchant_id, offset, size).await?;
        offset += size;
        let file = workbook(&references)?;
        let (alone, peak_kib) = reader_alone(&reader, &file, size)?;
        // Three previews of the same file; the middle time is the figure.
        let mut times = Vec::new();
        let mut last = 0;
        for _ in 0..3 {
            let started = Instant::now();
            last = upload::upload(db, &config, &session, "bench.xlsx", &file, Utc::now()).await?;
            times.push(started.elapsed());
        }
        times.sort();
        let preview = times[1];
        let view = upload::view(db, &session, last, Utc::now()).await?;
        if view.valid_count != size || view.file_problem.is_some() {
            return Err(format!(
                "the preview of {size} rows found {} valid ({:?}, {} problems)",
                view.valid_count, view.file_problem, view.error_count
            )
            .into());
        }
        let bare = bare_inserts(db, size).await?;
        let key = IdempotencyKey::parse(&format!("bench-upload-{size}-{}", Utc::now().timestamp()))
            .map_err(|e| format!("{e:?}"))?;
        let started = Instant::now();
        let sent = upload::submit(
            db,
            &TokenKey::generate(),
            &AuthConfig::default(),
            &config,
            &session,
            last,
            &key,
            "",
            Utc::now(),
        )
        .await?;
        let submit = started.elapsed();
        if sent.items != size {
            return Err(format!("submitted {} of {size}", sent.items).into());
        }
        println!(
            "{backend} upload {size} rows ({:.1} MiB file): preview {:.0} ms (the reader alone {:.0} ms, its peak {:.1} MiB); submit {:.0} ms (the database alone writing {size} rows in one transaction {:.0} ms)",
            file.len() as f64 / (1024.0 * 1024.0),
            ms(preview),
            ms(alone),
            peak_kib as f64 / 1024.0,
            ms(submit),
            ms(bare),
        );
    }
    Ok(())
}

/// `size` successful sales of the merchant an hour ago on China Merchants Bank cards: their
/// reference numbers.
async fn sales(
    db: &DatabaseConnection,
    merchant_id: i64,
    offset: u64,
    size: u64,
) -> Result<Vec<String>, Failure> {
    let terminal = terminals::Entity::find()
        .filter(terminals::Column::MerchantId.eq(merchant_id))
        .one(db)
        .await?
        .ok_or("the merchant has no terminal")?;
    let at = Utc::now() - chrono::Duration::hours(1);
    let references: Vec<String> = (offset..offset + size)
        .map(|i| format!("8{i:011}"))
        .collect();
    for chunk in references.chunks(1000) {
        let rows = chunk.iter().map(|reference| transactions::ActiveModel {
            merchant_id: Set(merchant_id),
            merchant_number_id: Set(terminal.merchant_number_id),
            terminal_id: Set(terminal.id),
            txn_type: Set("purchase".into()),
            status: Set("success".into()),
            card_masked: Set("622588******1234".into()),
            card_last4: Set("1234".into()),
            card_org: Set("unionpay".into()),
            card_type: Set("debit".into()),
            issuer_bank: Set("CMB".into()),
            amount_fen: Set(10_000),
            currency: Set("CNY".into()),
            txn_time: Set(at),
            txn_date: Set((at + chrono::Duration::hours(8)).date_naive()),
            reference_no: Set(reference.clone()),
            voucher_no: Set(reference[6..].to_owned()),
            batch_no: Set("000001".into()),
            created_at: Set(at),
            ..Default::default()
        });
        transactions::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
    }
    Ok(references)
}

/// The filled-in template: a row per reference, ¥12.34 each, a cardholder in Shanghai.
fn workbook(references: &[String]) -> Result<Vec<u8>, Failure> {
    let columns: Vec<Column> = BatchColumn::ALL
        .iter()
        .map(|c| Column {
            header: c.label(Lang::ZhCn),
            width: 12.0,
        })
        .collect();
    let mut file = XlsxExport::new("批量快速退货", &columns)?;
    for reference in references {
        let row = [
            reference.as_str(),
            "12.34",
            "顾客退货",
            "张三",
            "居民身份证",
            "11010519491231002X",
            "招商银行",
            "上海市",
            "上海市",
            "上海分行营业部",
        ];
        file.push(&row.map(Cell::from))?;
    }
    Ok(file.finish("说明", &[])?)
}

/// The reader on its own: its time and its peak memory.
fn reader_alone(reader: &PathBuf, file: &[u8], rows: u64) -> Result<(Duration, u64), Failure> {
    let started = Instant::now();
    let mut child = Command::new(reader)
        .args(["read-upload", "--report-peak"])
        .args(["--max-rows", &rows.to_string()])
        .args(["--max-bytes", &(256 * 1024 * 1024).to_string()])
        .envs(upload::READER_ENV.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let input = file.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output()?;
    let elapsed = started.elapsed();
    writer.join().map_err(|_| "the writer panicked")??;
    if !out.status.success() {
        return Err(format!("the reader failed: {:?}", out.status).into());
    }
    let peak = String::from_utf8_lossy(&out.stderr)
        .lines()
        .find_map(|l| l.strip_prefix("peak_kib="))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    Ok((elapsed, peak))
}

/// The database alone: `rows` rows of four columns into a bare temporary table, 1,000 a statement,
/// in one transaction.
async fn bare_inserts(db: &DatabaseConnection, rows: u64) -> Result<Duration, Failure> {
    let backend = db.get_database_backend();
    let txn = db.begin().await?;
    txn.execute_raw(Statement::from_string(
        backend,
        "CREATE TEMPORARY TABLE bench_bare (a BIGINT, b BIGINT, c TEXT, d TEXT)",
    ))
    .await?;
    let started = Instant::now();
    let mut left = rows;
    let mut n = 0u64;
    while left > 0 {
        let chunk = left.min(1000);
        let values: Vec<String> = (0..chunk)
            .map(|i| format!("({}, 1234, '张三', '11010519491231002X')", n + i))
            .collect();
        txn.execute_raw(Statement::from_string(
            backend,
            format!("INSERT INTO bench_bare VALUES {}", values.join(", ")),
        ))
        .await?;
        n += chunk;
        left -= chunk;
    }
    let elapsed = started.elapsed();
    txn.rollback().await?;
    Ok(elapsed)
}
