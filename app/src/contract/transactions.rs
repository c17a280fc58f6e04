//! The wire contract of `api::transactions`: what its server functions take and answer.

use serde::{Deserialize, Serialize};

use crate::contract::settlements::{SettlementMakeup, SettlementRow};
pub use crate::domain::breakdown::{Breakdown, Tally};
use crate::domain::{Bank, CardOrg, CardType, TxnStatus, TxnType};

/// The filters as the page's URL carries them (all text; parsed and checked on the server). The field
/// names are the URL's keys.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct TxnFilter {
    /// First day, `YYYY-MM-DD`, in the merchant's time zone.
    pub from: String,
    /// Last day, inclusive.
    pub to: String,
    /// A quick menu's day, `today` or `yesterday`; it wins over `from` and `to`.
    pub day: String,
    /// A [`TxnType`] code.
    #[serde(rename = "type")]
    pub txn_type: String,
    /// A [`TxnStatus`] code.
    pub status: String,
    /// The last 4 digits of the card, or its masked number `622848******1234`.
    pub card: String,
    /// An exact amount in yuan, `12.34`.
    pub amount: String,
    /// A reference (12 digits) or voucher (6 digits) number.
    #[serde(rename = "ref")]
    pub reference: String,
    // The advanced panel.
    /// An 8-character terminal number.
    pub terminal: String,
    /// A terminal group id.
    pub group: String,
    /// A 15-digit merchant number.
    pub number: String,
    /// A [`CardOrg`] code.
    pub org: String,
    /// A [`CardType`] code.
    pub card_type: String,
    /// A [`Bank`] code (the issuing bank).
    pub bank: String,
    /// An authorisation code.
    pub auth: String,
    /// A 6-digit batch number.
    pub batch: String,
    /// A settlement date, `YYYY-MM-DD`.
    pub sdate: String,
    /// A settlement id: the transactions of one settlement.
    pub settlement: String,
    /// Amount range in yuan, inclusive.
    pub min: String,
    pub max: String,
    /// Rows per page, one of [`PAGE_SIZES`].
    pub size: String,
    /// The cursor of the next page: `<microseconds since 1970>.<id>` of the last row shown.
    pub after: String,
    /// The cursor of the previous page: the first row shown; the page holds the rows just newer.
    pub before: String,
    /// How many rows come before the page the cursor leads to, for "1,251–1,300 of 69,856" (the
    /// pager's links carry it; a keyset page does not know its place otherwise).
    pub pos: String,
    /// `1`: the last page (the oldest rows).
    pub last: String,
    /// A day, `YYYY-MM-DD`: the page that starts with the newest transaction of that day or before.
    pub at: String,
}

/// The page sizes offered.
pub const PAGE_SIZES: [u64; 4] = [20, 50, 100, 200];

pub const DEFAULT_PAGE_SIZE: u64 = 50;

impl TxnFilter {
    /// The filters as URL query pairs (empty ones left out), for links to other pages, summaries and
    /// downloads. The page size and cursor are left out unless asked for.
    pub fn query_pairs(&self, with_paging: bool) -> Vec<(&'static str, String)> {
        let mut pairs = vec![
            ("from", self.from.clone()),
            ("to", self.to.clone()),
            ("day", self.day.clone()),
            ("type", self.txn_type.clone()),
            ("status", self.status.clone()),
            ("card", self.card.clone()),
            ("amount", self.amount.clone()),
            ("ref", self.reference.clone()),
            ("terminal", self.terminal.clone()),
            ("group", self.group.clone()),
            ("number", self.number.clone()),
            ("org", self.org.clone()),
            ("card_type", self.card_type.clone()),
            ("bank", self.bank.clone()),
            ("auth", self.auth.clone()),
            ("batch", self.batch.clone()),
            ("sdate", self.sdate.clone()),
            ("settlement", self.settlement.clone()),
            ("min", self.min.clone()),
            ("max", self.max.clone()),
        ];
        if with_paging {
            pairs.push(("size", self.size.clone()));
            pairs.push(("after", self.after.clone()));
            pairs.push(("before", self.before.clone()));
            pairs.push(("pos", self.pos.clone()));
            pairs.push(("last", self.last.clone()));
            pairs.push(("at", self.at.clone()));
        }
        pairs.retain(|(_, v)| !v.trim().is_empty());
        pairs
    }

    /// The same filters at the first page (the page size kept): what a summary or a download reads.
    pub fn without_paging(&self) -> Self {
        Self {
            after: String::new(),
            before: String::new(),
            pos: String::new(),
            last: String::new(),
            at: String::new(),
            ..self.clone()
        }
    }

    /// Reads the filters from URL query pairs.
    pub fn from_query(get: impl Fn(&str) -> String) -> Self {
        Self {
            from: get("from"),
            to: get("to"),
            day: get("day"),
            txn_type: get("type"),
            status: get("status"),
            card: get("card"),
            amount: get("amount"),
            reference: get("ref"),
            terminal: get("terminal"),
            group: get("group"),
            number: get("number"),
            org: get("org"),
            card_type: get("card_type"),
            bank: get("bank"),
            auth: get("auth"),
            batch: get("batch"),
            sdate: get("sdate"),
            settlement: get("settlement"),
            min: get("min"),
            max: get("max"),
            size: get("size"),
            after: get("after"),
            before: get("before"),
            pos: get("pos"),
            last: get("last"),
            at: get("at"),
        }
    }

    /// Whether any field of the advanced panel is set (the panel then opens by itself).
    pub fn uses_advanced(&self) -> bool {
        [
            &self.terminal,
            &self.group,
            &self.number,
            &self.org,
            &self.card_type,
            &self.bank,
            &self.auth,
            &self.batch,
            &self.sdate,
            &self.settlement,
            &self.min,
            &self.max,
        ]
        .iter()
        .any(|v| !v.trim().is_empty())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnRow {
    pub id: i64,
    /// In the merchant's time zone, `YYYY-MM-DD HH:MM:SS`.
    pub time: String,
    pub merchant_no: String,
    pub terminal_no: String,
    pub txn_type: TxnType,
    pub status: TxnStatus,
    /// First 6 and last 4 digits only.
    pub card_masked: String,
    pub card_org: CardOrg,
    pub card_type: CardType,
    pub bank: Option<Bank>,
    pub amount_fen: i64,
    pub fee_fen: Option<i64>,
    pub reference_no: String,
    pub voucher_no: String,
    pub batch_no: String,
    pub auth_code: Option<String>,
    pub settlement_id: Option<i64>,
    pub settlement_date: Option<String>,
    pub refunded_fen: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnPage {
    pub rows: Vec<TxnRow>,
    /// Transactions matching the filters, on all pages.
    pub total: u64,
    /// How many of them come before this page's first row.
    pub offset: u64,
    /// The cursors of the next and previous pages, when there are such pages.
    pub next_after: Option<String>,
    pub prev_before: Option<String>,
    pub size: u64,
    /// The days searched, `YYYY-MM-DD` (a quick menu's day resolved), for the form.
    pub from: Option<String>,
    pub to: Option<String>,
    pub may_export: bool,
    /// Up to this many rows download directly; more are written by a background job …
    pub direct_limit: u64,
    /// … up to this many: beyond, the user narrows the filters.
    pub export_cap: u64,
}

/// What the advanced panel offers: the merchant's numbers (number, store) and the terminal groups the
/// operator may filter by (id, name).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnFilterOptions {
    pub numbers: Vec<(String, String)>,
    pub groups: Vec<(i64, String)>,
}

/// The summary tabs under the results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SummaryBy {
    TxnDate,
    SettlementDate,
    MerchantNumber,
    CardOrg,
}

impl SummaryBy {
    pub const ALL: [SummaryBy; 4] = [
        SummaryBy::TxnDate,
        SummaryBy::SettlementDate,
        SummaryBy::MerchantNumber,
        SummaryBy::CardOrg,
    ];

    pub const fn code(self) -> &'static str {
        match self {
            SummaryBy::TxnDate => "date",
            SummaryBy::SettlementDate => "sdate",
            SummaryBy::MerchantNumber => "number",
            SummaryBy::CardOrg => "org",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|by| by.code() == code)
    }
}

/// One line of a summary: a key (a day, a number, an organisation) and what its transactions moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryLine {
    /// The day, the merchant number or the organisation code; empty for "not settled yet".
    pub key: String,
    /// The store of a merchant number.
    pub note: String,
    pub figures: Breakdown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnSummary {
    pub by: SummaryBy,
    pub lines: Vec<SummaryLine>,
    /// The lines added up.
    pub total: Breakdown,
    /// When the search is one settlement's transactions: that settlement and what it is made of, to
    /// set beside the lines.
    pub settlement: Option<SettlementTieOut>,
}

/// A settlement beside its drill-down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementTieOut {
    pub settlement: SettlementRow,
    pub makeup: SettlementMakeup,
    /// Whether the operator may list the refund requests it cleared.
    pub may_query_refunds: bool,
}

/// Another transaction linked to this one (its original, or a void or refund of it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedTxn {
    pub id: i64,
    pub time: String,
    pub txn_type: TxnType,
    pub status: TxnStatus,
    pub amount_fen: i64,
    pub reference_no: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnView {
    pub txn: TxnRow,
    pub store: String,
    pub terminal_alias: Option<String>,
    pub original: Option<LinkedTxn>,
    /// Voids and refunds of this transaction, oldest first.
    pub linked: Vec<LinkedTxn>,
    /// Refund requests of the console on their way (not yet back with the cardholder, not refused).
    pub refund_in_flight_fen: i64,
    /// The operator may reprint slips, and this one is not from today.
    pub may_reprint: bool,
    /// The operator may reprint slips, but this transaction is from today: the terminal reprints it.
    pub reprint_on_terminal: bool,
    pub may_query_settlements: bool,
    /// The operator may request refunds, and this is a successful purchase or pre-auth completion of
    /// which refunds (done or on their way) do not take the whole amount yet.
    pub may_refund: bool,
    pub may_query_refunds: bool,
}

/// What a POS sales slip shows (签购单), reprinted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slip {
    pub merchant_name: String,
    pub merchant_no: String,
    pub store: String,
    pub terminal_no: String,
    pub card_masked: String,
    pub card_org: CardOrg,
    pub card_type: CardType,
    pub bank: Option<Bank>,
    pub txn_type: TxnType,
    pub batch_no: String,
    pub voucher_no: String,
    pub reference_no: String,
    pub auth_code: Option<String>,
    pub original_reference: Option<String>,
    pub amount_fen: i64,
    pub time: String,
    /// When it was reprinted, for the "REPRINT" line.
    pub reprinted_at: String,
}
