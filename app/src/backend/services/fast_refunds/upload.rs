//! Batch fast refunds (manual §3.6.3): the uploaded file read in a child process that limits itself
//! (`vpos read-upload`), every row checked as a single fast refund is, the preview kept until the
//! operator decides, and the submission of its valid rows as one batch in one database
//! transaction (invariant 5: a crash half-way leaves no partial batch).

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, Statement, TransactionSession, TransactionTrait, Value,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::form::{due_of, Cardholder};
use crate::backend::audit::{self, AuditEntry};
use crate::backend::db::begin_write;
use crate::backend::entities::{
    fast_refund_batches, fast_refund_events, fast_refund_uploads, fast_refunds, transactions,
};
use crate::backend::local_time;
use crate::backend::services::filters::FieldCheck;
use crate::backend::services::refunds::{
    merchant_policy, original_of, quota_used, take_quota, today, MerchantPolicy,
};
use crate::backend::services::{idempotency, scope, token};
use crate::backend::token::TokenKey;
use crate::backend::{AuthConfig, FastRefundConfig, Session};
use crate::contract::fast_refunds::{
    BatchCreated, CardholderInput, FileProblem, RowError, RowProblem, UploadView, ERRORS_SHOWN,
};
use crate::domain::cardholder::IdType;
use crate::domain::fast_refund::{check_fast_refund, BatchColumn, FastRefundStatus};
use crate::domain::refund::{check_refundable, RefundRefusal};
use crate::domain::regions::{branches, PROVINCES};
use crate::domain::{AuditAction, AuditOutcome, Bank, IdempotencyKey, Money, TxnStatus};
use crate::error::{AppError, FieldProblem, Policy};
use crate::i18n::{Label, Lang};

/// Columns the reader keeps: the template's ten and some room for a note beside them; a cell
/// further right is refused as outside the template.
pub const READ_COLUMNS: usize = 16;

/// The reader's allocator (mimalloc, the server's) commits memory as it uses it, in small arenas:
/// its default, a 1 GiB arena committed at once, would count wholly against the reader's memory
/// limit. Read by the allocator when the process starts, hence set by whoever starts it.
pub const READER_ENV: [(&str, &str); 2] = [
    ("MIMALLOC_ARENA_EAGER_COMMIT", "0"),
    ("MIMALLOC_ARENA_RESERVE", "32MiB"),
];

/// The most the reader may answer, in bytes: 100,000 rows of full cells fit.
const MAX_ANSWER: u64 = 256 * 1024 * 1024;

/// What `vpos read-upload` answers on its standard output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReadOutcome {
    Rows(Vec<RawRow>),
    Problem(FileProblem),
}

/// One row of the file with a cell in it: its number (the header is 1) and its cells as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawRow {
    pub row: u64,
    pub cells: Vec<String>,
}

/// How uploads are read.
#[derive(Debug, Clone)]
pub struct UploadLimits {
    pub max_bytes: u64,
    /// Data rows under the header.
    pub max_rows: u64,
    /// The `vpos` executable that reads a file (`vpos read-upload`).
    pub reader: PathBuf,
    /// What the reader may use: writable memory, CPU time, and time on the clock.
    pub memory_mib: u64,
    pub cpu_secs: u64,
    pub wall: Duration,
}

impl Default for UploadLimits {
    fn default() -> Self {
        Self {
            max_bytes: 5 * 1024 * 1024,
            max_rows: 10_000,
            reader: PathBuf::from("vpos"),
            memory_mib: 1024,
            cpu_secs: 10,
            wall: Duration::from_secs(20),
        }
    }
}

/// Reads `bytes` in a child process: the rows, or why the file cannot be read.
pub async fn read_file(
    limits: &UploadLimits,
    bytes: &[u8],
) -> Result<Result<Vec<RawRow>, FileProblem>, AppError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    if bytes.len() as u64 > limits.max_bytes {
        return Ok(Err(FileProblem::TooLarge {
            max_bytes: limits.max_bytes,
        }));
    }
    let mut child = tokio::process::Command::new(&limits.reader)
        .arg("read-upload")
        .args(["--max-rows", &limits.max_rows.to_string()])
        .args(["--max-bytes", &limits.max_bytes.to_string()])
        .args(["--memory-mib", &limits.memory_mib.to_string()])
        .args(["--cpu-secs", &limits.cpu_secs.to_string()])
        .envs(READER_ENV.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| AppError::internal("starting the batch file reader", &e))?;
    let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(AppError::internal(
            "starting the batch file reader",
            &std::io::Error::other("no pipes"),
        ));
    };
    // Written and read at once: the reader may answer before it has read everything.
    let write = async move {
        // A reader that stopped early (the file too large) closes its end: not an error here.
        let _ = stdin.write_all(bytes).await;
        drop(stdin);
    };
    let read = async move {
        let mut out = Vec::new();
        stdout
            .take(MAX_ANSWER)
            .read_to_end(&mut out)
            .await
            .map(|_| out)
    };
    let both = async { futures::join!(write, read).1 };
    let Ok(out) = tokio::time::timeout(limits.wall, both).await else {
        let _ = child.kill().await;
        return Ok(Err(FileProblem::TooSlow));
    };
    let status = child
        .wait()
        .await
        .map_err(|e| AppError::internal("waiting for the batch file reader", &e))?;
    if !status.success() {
        return Ok(Err(ended_badly(status)));
    }
    let out = out.map_err(|e| AppError::internal("reading the batch file reader", &e))?;
    match serde_json::from_slice::<ReadOutcome>(&out) {
        Ok(ReadOutcome::Rows(rows)) => Ok(Ok(rows)),
        Ok(ReadOutcome::Problem(problem)) => Ok(Err(problem)),
        Err(e) => Err(AppError::internal(
            "reading the batch file reader's answer",
            &e,
        )),
    }
}

/// Why the reader ended without answering: the kernel stopped it at its CPU limit (or it was
/// killed), else it ran out of the memory it may use (an allocation failed and it aborted).
fn ended_badly(status: std::process::ExitStatus) -> FileProblem {
    use std::os::unix::process::ExitStatusExt;
    match status.signal() {
        Some(libc_signal) if libc_signal == SIGXCPU || libc_signal == SIGKILL => {
            FileProblem::TooSlow
        }
        _ => FileProblem::TooBigUnpacked,
    }
}

const SIGKILL: i32 = 9;
const SIGXCPU: i32 = 24;

/// A row that can be sent, as kept with the preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidRow {
    pub row: u64,
    pub txn_id: i64,
    pub amount_fen: i64,
    pub reason: String,
    pub cardholder: CardholderInput,
}

/// The problems of a file, with the rows they are in (for the error report).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Problems {
    errors: Vec<RowError>,
    rows: Vec<RawRow>,
}

/// The header a column may have: its name in either language, or its code.
fn is_header(column: BatchColumn, text: &str) -> bool {
    let text = text.trim();
    Lang::ALL.iter().any(|l| column.label(*l) == text) || column.code() == text
}

/// `text` as one of `items`: by its code, or its name in either language.
fn pick<T: Label + Copy>(items: &[T], code: fn(T) -> &'static str, text: &str) -> Option<T> {
    let text = text.trim();
    items
        .iter()
        .copied()
        .find(|item| code(*item) == text || Lang::ALL.iter().any(|l| item.label(*l) == text))
}

/// The file's name as shown: its last path part, at most 100 characters.
fn file_name_of(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name).trim();
    let name: String = last.chars().filter(|c| !c.is_control()).take(100).collect();
    if name.is_empty() {
        "upload.xlsx".to_owned()
    } else {
        name
    }
}

/// Reads and checks an uploaded file and keeps what was found for the operator's decision: the id
/// of the preview.
pub async fn upload<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    config: &FastRefundConfig,
    session: &Session,
    file_name: &str,
    bytes: &[u8],
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    let merchant = merchant_policy(db, session).await?;
    if !merchant.fast_refund_agreement {
        return Err(AppError::Refund(RefundRefusal::NoFastRefundAgreement));
    }
    let sha = hex::encode(Sha256::digest(bytes));
    let started = std::time::Instant::now();
    let read = read_file(&config.upload, bytes).await?;
    let read_ms = started.elapsed().as_millis();
    let (valid, problems, row_count, file_problem) = match read {
        Err(problem) => (Vec::new(), Problems::default(), 0, Some(problem)),
        Ok(rows) => {
            let mut rows = rows.into_iter();
            let header_ok = rows.next().is_some_and(|header| {
                header.row == 1
                    && BatchColumn::ALL
                        .iter()
                        .zip(&header.cells)
                        .all(|(c, text)| is_header(*c, text))
            });
            let data: Vec<RawRow> = rows.collect();
            if !header_ok {
                (
                    Vec::new(),
                    Problems::default(),
                    0,
                    Some(FileProblem::NotTemplate),
                )
            } else if data.is_empty() {
                (Vec::new(), Problems::default(), 0, Some(FileProblem::Empty))
            } else {
                let count = data.len() as u64;
                let (valid, problems) = check_rows(db, session, &merchant, data, now).await?;
                (valid, problems, count, None)
            }
        }
    };
    let checked_ms = started.elapsed().as_millis() - read_ms;
    let valid_fen = valid.iter().map(|r| r.amount_fen).sum();
    let kept = fast_refund_uploads::ActiveModel {
        merchant_id: Set(session.merchant_id),
        operator_id: Set(session.operator_id),
        file_name: Set(file_name_of(file_name)),
        file_sha256: Set(sha),
        uploaded_at: Set(now),
        file_problem: Set(file_problem.as_ref().map(to_json)),
        valid_rows: Set(to_json(&valid)),
        row_problems: Set(to_json(&problems)),
        row_count: Set(row_count as i64),
        valid_count: Set(valid.len() as i64),
        valid_fen: Set(valid_fen),
        ..Default::default()
    };
    let _turn = crate::backend::db::write_turn(db).await;
    let id = kept.insert(db).await?.id;
    tracing::info!(
        upload = id,
        rows = row_count,
        bytes = bytes.len(),
        read_ms,
        checked_ms,
        total_ms = started.elapsed().as_millis(),
        "batch file read"
    );
    Ok(id)
}

/// The kept parts as JSON: they serialise without fail (no maps with non-string keys).
fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// A row's own fields, checked without the database.
struct Parsed {
    raw: RawRow,
    reference: Option<String>,
    amount: Option<Money>,
    reason: String,
    input: CardholderInput,
    cardholder: Option<Cardholder>,
    errors: Vec<(Option<BatchColumn>, RowProblem)>,
}

/// A cell that must be filled in, read by `parse`; when it is empty or unreadable, the problem is
/// recorded under `column`.
fn required<T>(
    text: &str,
    column: BatchColumn,
    parse: impl FnOnce(&str) -> Option<T>,
    errors: &mut Vec<(Option<BatchColumn>, RowProblem)>,
) -> Option<T> {
    let problem = if text.is_empty() {
        FieldProblem::Required
    } else if let Some(value) = parse(text) {
        return Some(value);
    } else {
        FieldProblem::Format
    };
    errors.push((Some(column), RowProblem::Field(problem)));
    None
}

fn parse_row(raw: RawRow, currency: crate::domain::Currency) -> Parsed {
    let mut errors: Vec<(Option<BatchColumn>, RowProblem)> = Vec::new();
    let cell = |c: BatchColumn| raw.cells[c as usize].as_str();
    let reference = required(
        cell(BatchColumn::Reference),
        BatchColumn::Reference,
        reference_of,
        &mut errors,
    );
    let amount = required(
        cell(BatchColumn::Amount),
        BatchColumn::Amount,
        |text| Money::parse(text, currency).ok(),
        &mut errors,
    );
    let reason = cell(BatchColumn::Reason)
        .chars()
        .take(200)
        .collect::<String>();
    if reason.is_empty() {
        errors.push((
            Some(BatchColumn::Reason),
            RowProblem::Field(FieldProblem::Required),
        ));
    }
    let mut input = cardholder_of(&raw, &mut errors);
    let mut check = FieldCheck::new();
    let cardholder = Cardholder::parse(&mut check, &input);
    if let Some(c) = &cardholder {
        // Kept as the checks read them, as a single fast refund keeps them.
        input.name = c.name.as_str().to_owned();
        input.id_number = c.id.full().to_owned();
    }
    if let Err(AppError::Invalid(fields)) = check.finish() {
        for field in fields {
            let column = BatchColumn::ALL
                .iter()
                .copied()
                .find(|c| c.code() == field.field);
            // A list column already reported as not in the list is not reported twice.
            if !errors.iter().any(|(c, _)| *c == column) {
                errors.push((column, RowProblem::Field(field.problem)));
            }
        }
    }
    Parsed {
        raw,
        reference,
        amount,
        reason,
        input,
        cardholder,
        errors,
    }
}

/// Checks every row as a single fast refund is checked: its fields, its transaction (by reference
/// number, in the operator's scope), the agreement, the card's bank, and what is left to refund of
/// the transaction after the file's earlier rows on it.
async fn check_rows(
    db: &impl ConnectionTrait,
    session: &Session,
    merchant: &MerchantPolicy,
    data: Vec<RawRow>,
    now: DateTime<Utc>,
) -> Result<(Vec<ValidRow>, Problems), AppError> {
    let references: Vec<String> = data
        .iter()
        .filter_map(|r| reference_of(&r.cells[BatchColumn::Reference as usize]))
        .collect();
    let currency = merchant.policy.daily_quota.currency();
    // The rows' own fields are checked on a blocking thread while the database looks up their
    // transactions.
    let parsing = tokio::task::spawn_blocking(move || {
        data.into_iter()
            .map(|raw| parse_row(raw, currency))
            .collect::<Vec<_>>()
    });
    let txns = transactions_by_reference(db, session, references).await?;
    let parsed = parsing
        .await
        .map_err(|e| AppError::internal("checking a batch file's rows", &e))?;
    let day = today(session, now);
    // What the file's earlier valid rows take of each transaction.
    let mut taken: HashMap<i64, i64> = HashMap::new();
    let mut valid = Vec::new();
    let mut problems = Problems::default();
    for Parsed {
        raw,
        reference,
        amount,
        reason,
        input,
        cardholder,
        mut errors,
    } in parsed
    {
        let txn = reference.as_ref().and_then(|r| txns.get(r));
        if reference.is_some() && txn.is_none() {
            errors.push((Some(BatchColumn::Reference), RowProblem::TxnNotFound));
        }
        if let (Some(t), Some(amount)) = (txn, amount) {
            let issuer = Bank::from_code(&t.issuer_bank).unwrap_or(Bank::Foreign);
            let mut original = original_of(t, session)?;
            let earlier = taken.get(&t.id).copied().unwrap_or(0);
            original.in_flight = Money::from_fen(original.in_flight.fen() + earlier, currency);
            let refusal = check_fast_refund(merchant.fast_refund_agreement, issuer)
                .err()
                .or_else(|| {
                    check_refundable(&original, amount, merchant.policy.window_days, day).err()
                });
            if let Some(refusal) = refusal {
                let column = match refusal {
                    RefundRefusal::AmountNotPositive
                    | RefundRefusal::MoreThanRefundable { .. }
                    | RefundRefusal::OtherCurrency => BatchColumn::Amount,
                    _ => BatchColumn::Reference,
                };
                errors.push((Some(column), RowProblem::Refusal(refusal)));
            } else if cardholder.as_ref().is_some_and(|c| c.bank != issuer) {
                errors.push((
                    Some(BatchColumn::Bank),
                    RowProblem::Field(FieldProblem::Cardholder(
                        crate::domain::cardholder::CardholderProblem::NotTheCardsBank,
                    )),
                ));
            }
        }
        match (errors.is_empty(), txn, amount) {
            (true, Some(t), Some(amount)) => {
                *taken.entry(t.id).or_default() += amount.fen();
                valid.push(ValidRow {
                    row: raw.row,
                    txn_id: t.id,
                    amount_fen: amount.fen(),
                    reason,
                    cardholder: input,
                });
            }
            _ => {
                problems
                    .errors
                    .extend(errors.into_iter().map(|(column, problem)| RowError {
                        row: raw.row,
                        column,
                        problem,
                    }));
                problems.rows.push(raw);
            }
        }
    }
    Ok((valid, problems))
}

/// A 12-digit reference number as typed (leading zeros may be lost to a number cell).
fn reference_of(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty() && text.len() <= 12 && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("{text:0>12}"))
}

/// The cardholder's cells as the form's codes: a bank, an ID type, a province, a city or a branch
/// may be written by its name (in either language) or its code; one that is neither is reported.
fn cardholder_of(
    raw: &RawRow,
    errors: &mut Vec<(Option<BatchColumn>, RowProblem)>,
) -> CardholderInput {
    let cell = |c: BatchColumn| raw.cells[c as usize].trim();
    let mut listed = |column: BatchColumn, found: Option<String>| -> String {
        let text = cell(column);
        match found {
            Some(code) => code,
            None if text.is_empty() => String::new(),
            None => {
                errors.push((Some(column), RowProblem::NotInList));
                String::new()
            }
        }
    };
    let bank = pick(Bank::ALL, Bank::code, cell(BatchColumn::Bank));
    let id_type = pick(IdType::ALL, IdType::code, cell(BatchColumn::IdType));
    let province_text = cell(BatchColumn::Province);
    let province = PROVINCES
        .iter()
        .find(|p| p.code == province_text || p.name == province_text);
    let city_text = cell(BatchColumn::City);
    let city = province.and_then(|p| {
        p.cities
            .iter()
            .find(|(code, name)| *code == city_text || *name == city_text)
    });
    let branch = match (bank, city) {
        (Some(bank), Some((city, _))) => {
            let text = cell(BatchColumn::Branch);
            branches(bank, city)
                .into_iter()
                .find(|b| b.code == text || b.name == text)
                .map(|b| b.code)
        }
        _ => None,
    };
    CardholderInput {
        name: cell(BatchColumn::Name).to_owned(),
        id_type: listed(BatchColumn::IdType, id_type.map(|t| t.code().to_owned())),
        id_number: cell(BatchColumn::IdNumber).to_owned(),
        bank: listed(BatchColumn::Bank, bank.map(|b| b.code().to_owned())),
        province: listed(BatchColumn::Province, province.map(|p| p.code.to_owned())),
        city: listed(
            BatchColumn::City,
            city.map(|(code, _)| (*code).to_owned())
                .or_else(|| province.is_none().then(String::new)),
        ),
        branch: listed(
            BatchColumn::Branch,
            branch.or_else(|| (bank.is_none() || city.is_none()).then(String::new)),
        ),
    }
}

/// The merchant's transactions (in the operator's scope) with these reference numbers.
async fn transactions_by_reference(
    db: &impl ConnectionTrait,
    session: &Session,
    mut references: Vec<String>,
) -> Result<HashMap<String, transactions::Model>, AppError> {
    references.sort_unstable();
    references.dedup();
    let mut found = HashMap::new();
    for chunk in references.chunks(1000) {
        let rows = transactions::Entity::find()
            .filter(scope::transactions(session))
            .filter(transactions::Column::ReferenceNo.is_in(chunk.iter().cloned()))
            .order_by_asc(transactions::Column::Id)
            .all(db)
            .await?;
        for t in rows {
            found.entry(t.reference_no.clone()).or_insert(t);
        }
    }
    Ok(found)
}

/// The operator's own preview `id`.
async fn kept(
    db: &impl ConnectionTrait,
    session: &Session,
    id: i64,
) -> Result<fast_refund_uploads::Model, AppError> {
    fast_refund_uploads::Entity::find_by_id(id)
        .filter(fast_refund_uploads::Column::MerchantId.eq(session.merchant_id))
        .filter(fast_refund_uploads::Column::OperatorId.eq(session.operator_id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

fn decoded<T: serde::de::DeserializeOwned>(what: &str, json: &str) -> Result<T, AppError> {
    serde_json::from_str(json).map_err(|e| AppError::internal(what, &e))
}

/// The preview of upload `id`.
pub async fn view(
    db: &impl ConnectionTrait,
    session: &Session,
    id: i64,
    now: DateTime<Utc>,
) -> Result<UploadView, AppError> {
    let u = kept(db, session, id).await?;
    let tz = session.tz;
    let problems: Problems = decoded("reading an upload's problems", &u.row_problems)?;
    let earlier = fast_refund_batches::Entity::find()
        .filter(fast_refund_batches::Column::MerchantId.eq(session.merchant_id))
        .filter(fast_refund_batches::Column::FileSha256.eq(u.file_sha256.as_str()))
        .one(db)
        .await?
        .map(|b| (b.id, local_time::seconds(b.uploaded_at, tz)));
    let merchant = merchant_policy(db, session).await?;
    let used = quota_used(db, session.merchant_id, today(session, now)).await?;
    Ok(UploadView {
        id: u.id,
        file_name: u.file_name,
        uploaded_at: local_time::seconds(u.uploaded_at, tz),
        file_problem: u
            .file_problem
            .as_deref()
            .map(|p| decoded("reading an upload's file problem", p))
            .transpose()?,
        row_count: u64::try_from(u.row_count).unwrap_or(0),
        valid_count: u64::try_from(u.valid_count).unwrap_or(0),
        valid_fen: u.valid_fen,
        error_count: problems.errors.len() as u64,
        errors: problems.errors.into_iter().take(ERRORS_SHOWN).collect(),
        earlier_batch: earlier,
        quota_left_fen: std::cmp::max(merchant.policy.daily_quota.fen() - used, 0),
        requires_token: merchant.requires_token,
        key: uuid::Uuid::new_v4().simple().to_string(),
    })
}

/// How long an upload waits for the operator's decision.
pub const KEPT_FOR: chrono::Duration = chrono::Duration::days(1);

/// Deletes the uploads older than [`KEPT_FOR`] that nobody sent or cancelled: what was read of a
/// file (cardholders' data among it) is not kept longer than the decision needs.
pub async fn purge(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, AppError> {
    let _turn = crate::backend::db::write_turn(db).await;
    Ok(fast_refund_uploads::Entity::delete_many()
        .filter(fast_refund_uploads::Column::UploadedAt.lt(now - KEPT_FOR))
        .exec(db)
        .await?
        .rows_affected)
}

/// Drops the operator's preview `id`: nothing of it is sent.
pub async fn cancel(db: &impl ConnectionTrait, session: &Session, id: i64) -> Result<(), AppError> {
    let u = kept(db, session, id).await?;
    let _turn = crate::backend::db::write_turn(db).await;
    fast_refund_uploads::Entity::delete_by_id(u.id)
        .exec(db)
        .await?;
    Ok(())
}

/// The error report of upload `id`: each problem with its row and column, and the row as it was in
/// the file, so that it can be corrected there and uploaded again.
pub async fn error_report(
    db: &impl ConnectionTrait,
    session: &Session,
    id: i64,
    lang: Lang,
    now: DateTime<Utc>,
) -> Result<(String, Vec<u8>), AppError> {
    use crate::backend::export::{Cell, Column, XlsxExport};
    let u = kept(db, session, id).await?;
    let problems: Problems = decoded("reading an upload's problems", &u.row_problems)?;
    let t = lang.texts();
    let mut columns = vec![
        Column {
            header: t.fr_err_row,
            width: 8.0,
        },
        Column {
            header: t.fr_err_column,
            width: 14.0,
        },
        Column {
            header: t.fr_err_problem,
            width: 48.0,
        },
    ];
    columns.extend(BatchColumn::ALL.iter().map(|c| Column {
        header: c.label(lang),
        width: 16.0,
    }));
    let internal = |e: crate::backend::export::ExportError| {
        AppError::internal("writing a batch error report", &e)
    };
    let mut file = XlsxExport::new(t.fr_err_sheet, &columns).map_err(internal)?;
    let rows: HashMap<u64, &RawRow> = problems.rows.iter().map(|r| (r.row, r)).collect();
    for e in &problems.errors {
        let mut cells = vec![
            Cell::Integer(e.row as i64),
            e.column.map_or(Cell::Empty, |c| {
                format!("{} {}", c.letter(), c.label(lang)).into()
            }),
            t.row_problem(e.column, e.problem).into(),
        ];
        if let Some(raw) = rows.get(&e.row) {
            cells.extend(
                raw.cells
                    .iter()
                    .take(BatchColumn::ALL.len())
                    .map(|c| Cell::from(c.as_str())),
            );
        }
        cells.resize(columns.len(), Cell::Empty);
        file.push(&cells).map_err(internal)?;
    }
    let bytes = file
        .finish(
            t.audit_filters_sheet,
            &[(t.fr_upload_file.to_owned(), u.file_name.clone())],
        )
        .map_err(internal)?;
    Ok((
        local_time::file_name("fast-refund-errors", now, session.tz, "xlsx"),
        bytes,
    ))
}

/// Sends the valid rows of upload `id` as one batch: everything in one database transaction, the
/// amounts taken by the same guards as single refunds (one statement per chunk of transactions,
/// one for the day's quota), so the batch is all there or not at all.
#[allow(clippy::too_many_arguments)]
pub async fn submit<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    key: &TokenKey,
    cfg: &AuthConfig,
    config: &FastRefundConfig,
    session: &Session,
    id: i64,
    idem: &IdempotencyKey,
    code: &str,
    now: DateTime<Utc>,
) -> Result<BatchCreated, AppError> {
    let hash = hex::encode(Sha256::digest(format!("fast_refund_batch:{id}").as_bytes()));
    if let Some(answer) = idempotency::stored(db, session, idem, &hash).await? {
        return Ok(answer);
    }
    let u = kept(db, session, id).await?;
    if u.file_problem.is_some() || u.valid_count == 0 {
        return Err(AppError::Policy(Policy::BatchEmpty));
    }
    let rows: Vec<ValidRow> = decoded("reading an upload's rows", &u.valid_rows)?;
    let merchant = merchant_policy(db, session).await?;
    if !merchant.fast_refund_agreement {
        return Err(AppError::Refund(RefundRefusal::NoFastRefundAgreement));
    }
    if merchant.requires_token {
        token::require_fresh_code(db, key, cfg, session, code, "fast_refund.batch", now).await?;
    }
    let day = today(session, now);
    let due = due_of(session, now, &config.holidays);
    let total: i64 = rows.iter().map(|r| r.amount_fen).sum();

    let txn = begin_write(db).await?;
    if !idempotency::claim(&txn, session, idem, &hash, now).await? {
        txn.rollback().await?;
        return idempotency::stored(db, session, idem, &hash)
            .await?
            .ok_or(AppError::Conflict);
    }
    let batch = fast_refund_batches::Entity::insert(fast_refund_batches::ActiveModel {
        merchant_id: Set(session.merchant_id),
        uploaded_by: Set(session.operator_id),
        uploaded_at: Set(now),
        file_name: Set(u.file_name.clone()),
        item_count: Set(rows.len() as i64),
        total_fen: Set(total),
        file_sha256: Set(Some(u.file_sha256.clone())),
        ..Default::default()
    })
    .on_conflict(
        sea_orm::sea_query::OnConflict::columns([
            fast_refund_batches::Column::MerchantId,
            fast_refund_batches::Column::FileSha256,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    if batch != 1 {
        txn.rollback().await?;
        return Err(AppError::Policy(Policy::BatchAlreadySubmitted));
    }
    let batch_id = fast_refund_batches::Entity::find()
        .select_only()
        .column(fast_refund_batches::Column::Id)
        .filter(fast_refund_batches::Column::MerchantId.eq(session.merchant_id))
        .filter(fast_refund_batches::Column::FileSha256.eq(u.file_sha256.as_str()))
        .into_tuple::<i64>()
        .one(&txn)
        .await?
        .ok_or(AppError::Conflict)?;
    if let Err(chunk) = take_all(&txn, &rows).await? {
        txn.rollback().await?;
        return Err(AppError::Refund(first_refusal(db, &chunk).await?));
    }
    let quota = merchant.policy.daily_quota.fen();
    if let Err(refusal) = take_quota(&txn, session.merchant_id, day, total, quota).await? {
        txn.rollback().await?;
        return Err(AppError::Refund(refusal));
    }
    insert_items(&txn, session, &rows, batch_id, due, day, now).await?;
    fast_refund_uploads::Entity::delete_by_id(u.id)
        .exec(&txn)
        .await?;
    let answer = BatchCreated {
        batch_id,
        items: rows.len() as u64,
        total_fen: total,
    };
    idempotency::answer(&txn, session, idem, &answer).await?;
    let entry = AuditEntry::new(
        session.actor(),
        AuditAction::FastRefundBatch,
        AuditOutcome::Success,
    )
    .detail(json!({
        "batch": batch_id,
        "rows": rows.len(),
        "amount_fen": total,
        "file": u.file_name}));
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok(answer)
}

/// Rows per statement: within both databases' limits on bound values.
const CHUNK: usize = 1000;

/// Takes each transaction's rows' amount on it, if what is refunded and on its way stays within
/// its amount: one conditional statement per chunk of transactions. Otherwise the chunk (each
/// transaction with its rows' sum) that did not fit: the caller rolls back, then asks why.
async fn take_all(
    txn: &impl ConnectionTrait,
    rows: &[ValidRow],
) -> Result<Result<(), Vec<(i64, i64)>>, AppError> {
    let mut sums: Vec<(i64, i64)> = Vec::new();
    let mut index: HashMap<i64, usize> = HashMap::new();
    for r in rows {
        match index.get(&r.txn_id) {
            Some(i) => sums[*i].1 += r.amount_fen,
            None => {
                index.insert(r.txn_id, sums.len());
                sums.push((r.txn_id, r.amount_fen));
            }
        }
    }
    let backend = txn.get_database_backend();
    for chunk in sums.chunks(CHUNK) {
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 2);
        let tuples: Vec<String> = chunk
            .iter()
            .enumerate()
            .map(|(i, (id, amount))| {
                values.push((*id).into());
                values.push((*amount).into());
                format!("(${}, ${})", 2 * i + 1, 2 * i + 2)
            })
            .collect();
        // VALUES names its columns column1, column2 on both databases.
        let sql = format!(
            "UPDATE transactions SET refund_pending_fen = refund_pending_fen + v.amount \
             FROM (SELECT column1 AS id, column2 AS amount FROM (VALUES {}) AS t) AS v \
             WHERE transactions.id = v.id AND transactions.status = 'success' \
             AND transactions.refunded_fen + transactions.refund_pending_fen + v.amount \
             <= transactions.amount_fen",
            tuples.join(", ")
        );
        let taken = txn
            .execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?
            .rows_affected();
        if taken != chunk.len() as u64 {
            return Ok(Err(chunk.to_vec()));
        }
    }
    Ok(Ok(()))
}

/// Why the first transaction of `chunk` no longer takes its rows' sum, read after the batch's
/// transaction was rolled back (inside it, the statement had taken some of the chunk already).
async fn first_refusal(
    db: &impl ConnectionTrait,
    chunk: &[(i64, i64)],
) -> Result<RefundRefusal, AppError> {
    let found: HashMap<i64, transactions::Model> = transactions::Entity::find()
        .filter(transactions::Column::Id.is_in(chunk.iter().map(|(id, _)| *id)))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    for (id, sum) in chunk {
        let Some(t) = found.get(id) else {
            continue;
        };
        if let Some(status) = TxnStatus::from_code(&t.status).filter(|s| *s != TxnStatus::Success) {
            return Ok(RefundRefusal::NotSuccessful(status));
        }
        let left = t.amount_fen - t.refunded_fen - t.refund_pending_fen;
        if left < *sum {
            return Ok(RefundRefusal::MoreThanRefundable {
                refundable_fen: std::cmp::max(left, 0),
            });
        }
    }
    // Another request took what was left and gave it back in the meantime.
    Ok(RefundRefusal::MoreThanRefundable { refundable_fen: 0 })
}

/// Writes the batch's items in processing, each with the first step of its history.
async fn insert_items(
    txn: &impl ConnectionTrait,
    session: &Session,
    rows: &[ValidRow],
    batch_id: i64,
    due: chrono::NaiveDate,
    day: chrono::NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let currency = session.currency.code().to_owned();
    for chunk in rows.chunks(CHUNK / 2) {
        let items = chunk.iter().map(|r| {
            let c = &r.cardholder;
            fast_refunds::ActiveModel {
                merchant_id: Set(session.merchant_id),
                original_txn_id: Set(r.txn_id),
                batch_id: Set(Some(batch_id)),
                amount_fen: Set(r.amount_fen),
                currency: Set(currency.clone()),
                cardholder_name: Set(c.name.clone()),
                id_type: Set(c.id_type.clone()),
                id_number: Set(c.id_number.clone()),
                bank_code: Set(c.bank.clone()),
                province: Set(c.province.clone()),
                city: Set(c.city.clone()),
                branch: Set(c.branch.clone()),
                reason: Set(r.reason.clone()),
                status: Set(FastRefundStatus::Processing.code().to_owned()),
                due_date: Set(due),
                resubmission_count: Set(0),
                requested_by: Set(session.operator_id),
                requested_at: Set(now),
                updated_at: Set(now),
                quota_day: Set(Some(day)),
                ..Default::default()
            }
        });
        fast_refunds::Entity::insert_many(items)
            .exec_without_returning(txn)
            .await?;
    }
    let ids: Vec<i64> = fast_refunds::Entity::find()
        .select_only()
        .column(fast_refunds::Column::Id)
        .filter(fast_refunds::Column::BatchId.eq(batch_id))
        .order_by_asc(fast_refunds::Column::Id)
        .into_tuple()
        .all(txn)
        .await?;
    for chunk in ids.chunks(CHUNK) {
        let events = chunk.iter().map(|id| fast_refund_events::ActiveModel {
            fast_refund_id: Set(*id),
            from_status: Set(None),
            to_status: Set(FastRefundStatus::Processing.code().to_owned()),
            operator_id: Set(Some(session.operator_id)),
            comment: Set(None),
            occurred_at: Set(now),
            ..Default::default()
        });
        fast_refund_events::Entity::insert_many(events)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}
