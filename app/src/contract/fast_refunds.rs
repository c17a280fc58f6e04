//! The wire contract of `api::fast_refunds`: what its server functions take and answer.

use serde::{Deserialize, Serialize};

use crate::contract::transactions::TxnRow;
use crate::domain::cardholder::IdType;
use crate::domain::fast_refund::{BatchColumn, FastRefundStatus};
use crate::domain::refund::RefundRefusal;
use crate::domain::Bank;
use crate::error::FieldProblem;

pub const DEFAULT_PAGE_SIZE: u64 = 20;
pub const PAGE_SIZES: [u64; 3] = [20, 50, 100];

/// The cardholder's fields as typed or chosen (codes for the lists); checked on the server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CardholderInput {
    pub name: String,
    /// An [`IdType`] code.
    pub id_type: String,
    pub id_number: String,
    /// A [`Bank`] code: the card's issuing bank.
    pub bank: String,
    /// Codes of `domain::regions`: province (2 digits), city (4), branch (`<bank>-<city>-<nn>`).
    pub province: String,
    pub city: String,
    pub branch: String,
}

/// A fast refund as the form submits it (amount as typed, in yuan).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FastRefundInput {
    pub txn_id: i64,
    pub amount: String,
    pub reason: String,
    pub cardholder: CardholderInput,
    /// The form's idempotency key.
    pub key: String,
    /// The operator's token code, when the merchant requires one for refunds.
    pub code: String,
}

/// What a fast refund created (also what a retry with the same key answers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FastRefundCreated {
    pub id: i64,
    pub status: FastRefundStatus,
    /// `YYYY-MM-DD`: the day the bank pays by, when the cardholder data is right.
    pub due_date: String,
}

/// What the fast-refund form of a transaction shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FastRefundFormView {
    pub txn: TxnRow,
    pub refundable_fen: i64,
    pub quota_left_fen: i64,
    /// Why no fast refund of it can be made now, whatever the amount.
    pub refusal: Option<RefundRefusal>,
    pub requires_token: bool,
    /// The card's issuing bank: the bank that pays the cardholder.
    pub bank: Option<Bank>,
    /// `YYYY-MM-DD`: the due day of a fast refund sent now.
    pub due_date: String,
    /// The fast refunds already made on this transaction, newest first.
    pub history: Vec<FastRefundRow>,
    pub key: String,
}

/// A page of the merchant's transactions a fast refund may take, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandidatePage {
    pub rows: Vec<TxnRow>,
    /// What is left to refund of each row, by position.
    pub refundable_fen: Vec<i64>,
    /// More rows match than the page shows: narrow the filters.
    pub more: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FastRefundRow {
    pub id: i64,
    /// In the merchant's time zone, `YYYY-MM-DD HH:MM:SS`.
    pub requested_at: String,
    pub txn_id: i64,
    pub reference_no: String,
    pub card_masked: String,
    pub txn_amount_fen: i64,
    pub amount_fen: i64,
    pub cardholder_name: String,
    pub id_type: IdType,
    /// First 3 and last 4 characters only.
    pub id_masked: String,
    pub bank: Bank,
    pub branch_name: String,
    pub status: FastRefundStatus,
    pub due_date: String,
    /// Still open (processing or exception) after its due day.
    pub overdue: bool,
    pub resubmissions: i32,
    pub bank_reason_code: Option<String>,
    pub bank_reason_text: Option<String>,
    pub batch_id: Option<i64>,
}

/// The query's filters as the URL carries them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct FastRefundFilter {
    /// Days of the request, `YYYY-MM-DD`, in the merchant's time zone.
    pub from: String,
    pub to: String,
    /// A [`FastRefundStatus`] code.
    pub status: String,
    /// The original transaction's reference number.
    #[serde(rename = "ref")]
    pub reference: String,
    /// The original transaction's id (the link from the form).
    pub txn: String,
    pub batch: String,
    /// `1`: only items past their due day.
    pub overdue: String,
    pub size: String,
    /// The keyset cursor: the last row of the previous page.
    pub after: String,
}

impl FastRefundFilter {
    /// The filters as URL query pairs, without the empty ones (the cursor only when `with_paging`).
    pub fn query_pairs(&self, with_paging: bool) -> Vec<(&'static str, String)> {
        let mut pairs = vec![
            ("from", &self.from),
            ("to", &self.to),
            ("status", &self.status),
            ("ref", &self.reference),
            ("txn", &self.txn),
            ("batch", &self.batch),
            ("overdue", &self.overdue),
            ("size", &self.size),
        ];
        if with_paging {
            pairs.push(("after", &self.after));
        }
        pairs
            .into_iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| (k, v.clone()))
            .collect()
    }

    pub fn from_query(get: impl Fn(&str) -> String) -> Self {
        Self {
            from: get("from"),
            to: get("to"),
            status: get("status"),
            reference: get("ref"),
            txn: get("txn"),
            batch: get("batch"),
            overdue: get("overdue"),
            size: get("size"),
            after: get("after"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FastRefundPage {
    pub rows: Vec<FastRefundRow>,
    /// Items matching the filters, on all pages, and their amount: the page's rows add up to their
    /// part of it.
    pub total: u64,
    pub total_fen: i64,
    pub next_after: Option<String>,
    pub size: u64,
}

/// One step of an item's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FastRefundStep {
    pub at: String,
    pub from: Option<FastRefundStatus>,
    pub to: FastRefundStatus,
    /// Who (none: the bank).
    pub by: Option<String>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FastRefundView {
    pub row: FastRefundRow,
    pub reason: String,
    pub province_name: String,
    pub city_name: String,
    pub completed_at: Option<String>,
    pub sent_at: Option<String>,
    pub history: Vec<FastRefundStep>,
    pub txn: TxnRow,
    /// The cardholder's fields with the full document number: only for an item in exception, to an
    /// operator who may correct it.
    pub correction: Option<CardholderInput>,
    pub requires_token: bool,
}

/// A corrected item sent again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CorrectionInput {
    pub id: i64,
    pub cardholder: CardholderInput,
    pub code: String,
}

/// Why a batch file could not be read at all: nothing of it is shown but this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileProblem {
    /// Not an .xlsx workbook (another format, a damaged file).
    NotXlsx,
    TooLarge {
        max_bytes: u64,
    },
    TooManyRows {
        max_rows: u64,
    },
    /// A cell outside the template's columns or far below its rows.
    CellOutside {
        row: u64,
        column: u64,
    },
    /// The first row is not the template's header.
    NotTemplate,
    /// No row under the header.
    Empty,
    /// The workbook's parts do not read (malformed XML, a part missing).
    Unreadable,
    /// Reading it would take more memory than a batch file may (a file that unpacks to far more
    /// than it weighs).
    TooBigUnpacked,
    /// Reading it took longer than a batch file may.
    TooSlow,
}

/// What is wrong with one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RowProblem {
    Field(FieldProblem),
    /// The transaction may not be refunded so, or not fast.
    Refusal(RefundRefusal),
    /// No transaction of the merchant (in the operator's scope) has this reference number.
    TxnNotFound,
    /// A name that is not in the list (a bank, an ID type, a province, a city or a branch).
    NotInList,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    /// The row's number in the file (the header is row 1).
    pub row: u64,
    pub column: Option<BatchColumn>,
    pub problem: RowProblem,
}

/// An uploaded batch file as read, waiting for the operator's decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadView {
    pub id: i64,
    pub file_name: String,
    pub uploaded_at: String,
    pub file_problem: Option<FileProblem>,
    /// Rows under the header, those that can be sent, and their amount.
    pub row_count: u64,
    pub valid_count: u64,
    pub valid_fen: i64,
    /// The problems, row by row (the first [`ERRORS_SHOWN`]; all of them in the error report).
    pub errors: Vec<RowError>,
    pub error_count: u64,
    /// The batch this same file was submitted as already, with its day.
    pub earlier_batch: Option<(i64, String)>,
    pub quota_left_fen: i64,
    pub requires_token: bool,
    /// A fresh key for the submission.
    pub key: String,
}

/// The problems a preview lists on the page; the error report has them all.
pub const ERRORS_SHOWN: usize = 200;

/// A batch submitted: its items are processing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchCreated {
    pub batch_id: i64,
    pub items: u64,
    pub total_fen: i64,
}
