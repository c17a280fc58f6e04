//! The search's filters: parsed from what the user typed, each bad field named, then resolved
//! (a quick day into dates in the merchant's zone, a terminal number into its id).

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::backend::entities::terminals;
use crate::backend::services::filters::{FieldCheck, QuickDay};
use crate::backend::Session;
use crate::contract::transactions::{TxnFilter, DEFAULT_PAGE_SIZE, PAGE_SIZES};
use crate::domain::{Bank, CardOrg, CardType, Money, TxnStatus, TxnType};
use crate::error::{AppError, FieldProblem};
use crate::i18n::{Label, Lang};

/// How a card is looked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardMatch {
    /// The last 4 digits.
    Last4(String),
    /// The masked number as printed on a slip: first 6 and last 4 digits.
    Masked { bin: String, last4: String },
}

impl CardMatch {
    /// `1234`, or `622848******1234` (any number of `*`, spaces ignored). A full card number is
    /// refused: the console never takes one.
    pub fn parse(text: &str) -> Option<Self> {
        let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if text.len() == 4 && digits(&text) {
            return Some(Self::Last4(text));
        }
        let (bin, rest) = text.split_at_checked(6)?;
        let last4 = rest.trim_start_matches('*');
        let stars = rest.len() - last4.len();
        (digits(bin) && stars > 0 && last4.len() == 4 && digits(last4)).then(|| Self::Masked {
            bin: bin.to_owned(),
            last4: last4.to_owned(),
        })
    }
}

/// The filters, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TxnQuery {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub day: Option<QuickDay>,
    pub txn_type: Option<TxnType>,
    pub status: Option<TxnStatus>,
    pub card: Option<CardMatch>,
    pub amount: Option<i64>,
    pub reference: Option<String>,
    pub terminal: Option<String>,
    pub group: Option<i64>,
    pub number: Option<String>,
    pub org: Option<CardOrg>,
    pub card_type: Option<CardType>,
    pub bank: Option<Bank>,
    pub auth: Option<String>,
    pub batch: Option<String>,
    pub sdate: Option<NaiveDate>,
    pub settlement: Option<i64>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub size: u64,
    pub place: Place,
}

/// Which page of the selection, newest first, by keyset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Place {
    #[default]
    First,
    /// The rows just older than a row `(time, id)`, with how many rows come before them.
    After((DateTime<Utc>, i64), u64),
    /// The rows just newer than a row, with how many rows came before that row.
    Before((DateTime<Utc>, i64), u64),
    Last,
    /// The page that starts with the newest row of this merchant-local day or before.
    At(NaiveDate),
}

/// Filters ready to search: [`TxnQuery::resolve`] has turned what they name into what the search
/// compares. The page, the total, the summaries and the downloads take only these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedQuery {
    pub(super) query: TxnQuery,
    /// The terminal filter's terminal among the merchant's; `None` without a terminal filter.
    pub(super) terminal_id: Option<TerminalId>,
}

impl std::ops::Deref for ResolvedQuery {
    type Target = TxnQuery;

    fn deref(&self) -> &TxnQuery {
        &self.query
    }
}

/// The terminal filter's number as the id of one of the merchant's terminals. Looked up before the
/// search, so that the search compares `terminal_id` with a value: planned once (the search pool on
/// PostgreSQL), a search by a subquery on the terminal number walked the merchant's whole range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TerminalId {
    Found(i64),
    /// No terminal of the merchant has the number: nothing matches.
    Missing,
}

/// Digits only, at most `max` of them.
pub(super) fn digits_up_to(text: &str, max: usize) -> bool {
    !text.is_empty() && text.len() <= max && text.bytes().all(|b| b.is_ascii_digit())
}

/// A number printed with leading zeros (batch, voucher), as typed without them.
pub(super) fn zero_padded(text: &str, width: usize) -> String {
    format!("{text:0>width$}")
}

impl TxnQuery {
    pub fn parse(filter: &TxnFilter) -> Result<Self, AppError> {
        let mut check = FieldCheck::new();
        let (from, to) = check.date_range(("from", &filter.from), ("to", &filter.to));
        let day = check.code("day", &filter.day, QuickDay::from_code);
        let txn_type = check.code("type", &filter.txn_type, TxnType::from_code);
        let status = check.code("status", &filter.status, TxnStatus::from_code);
        let card = check.code("card", &filter.card, CardMatch::parse);
        let amount = check.amount("amount", &filter.amount);
        let min = check.amount("min", &filter.min);
        let max = check.amount("max", &filter.max);
        if let (Some(min), Some(max)) = (min, max) {
            if max < min {
                check.bad("max", FieldProblem::RangeReversed);
            }
        }
        let mut exact = |field: &str, text: &str, ok: fn(&str) -> bool| {
            let text = text.trim();
            if text.is_empty() {
                return None;
            }
            if !ok(text) {
                check.bad(field, FieldProblem::Format);
                return None;
            }
            Some(text.to_owned())
        };
        let reference = exact("ref", &filter.reference, |t| digits_up_to(t, 12));
        let terminal = exact("terminal", &filter.terminal, |t| {
            t.len() <= 16 && t.bytes().all(|b| b.is_ascii_alphanumeric())
        })
        .map(|t| t.to_ascii_uppercase());
        let number = exact("number", &filter.number, |t| {
            t.len() == 15 && digits_up_to(t, 15)
        });
        let auth = exact("auth", &filter.auth, |t| {
            t.len() <= 6 && t.bytes().all(|b| b.is_ascii_alphanumeric())
        })
        .map(|t| t.to_ascii_uppercase());
        let batch =
            exact("batch", &filter.batch, |t| digits_up_to(t, 6)).map(|b| zero_padded(&b, 6));
        let group = check.id("group", &filter.group);
        let settlement = check.id("settlement", &filter.settlement);
        let org = check.code("org", &filter.org, CardOrg::from_code);
        let card_type = check.code("card_type", &filter.card_type, CardType::from_code);
        let bank = check.code("bank", &filter.bank, Bank::from_code);
        let sdate = check.date("sdate", &filter.sdate);
        let size = check.page_size("size", &filter.size, &PAGE_SIZES, DEFAULT_PAGE_SIZE);
        let after = check.time_cursor("after", &filter.after);
        let before = check.time_cursor("before", &filter.before);
        let at = check.date("at", &filter.at);
        let last = check.code("last", &filter.last, |c| (c == "1").then_some(()));
        let pos = check.count("pos", &filter.pos).unwrap_or(0);
        // One place wins when a link names several: a day asked for, then the last page, then the
        // cursors.
        let place = match (at, last, before, after) {
            (Some(day), _, _, _) => Place::At(day),
            (None, Some(()), _, _) => Place::Last,
            (None, None, Some(row), _) => Place::Before(row, pos),
            (None, None, None, Some(row)) => Place::After(row, pos),
            (None, None, None, None) => Place::First,
        };
        check.finish()?;
        Ok(Self {
            from,
            to,
            day,
            txn_type,
            status,
            card,
            amount,
            reference,
            terminal,
            group,
            number,
            org,
            card_type,
            bank,
            auth,
            batch,
            sdate,
            settlement,
            min,
            max,
            size,
            place,
        })
    }

    /// Turns what the filters name into what the search compares: a quick menu's day into the date
    /// range in the merchant's time zone, and the terminal number into its id.
    pub async fn resolve(
        mut self,
        db: &impl ConnectionTrait,
        session: &Session,
        now: DateTime<Utc>,
    ) -> Result<ResolvedQuery, AppError> {
        QuickDay::resolve(
            &mut self.day,
            (&mut self.from, &mut self.to),
            now,
            session.tz,
        );
        let terminal_id = match &self.terminal {
            None => None,
            Some(number) => Some(
                terminals::Entity::find()
                    .select_only()
                    .column(terminals::Column::Id)
                    .filter(terminals::Column::MerchantId.eq(session.merchant_id))
                    .filter(terminals::Column::TerminalNo.eq(number.as_str()))
                    .into_tuple::<i64>()
                    .one(db)
                    .await?
                    .map_or(TerminalId::Missing, TerminalId::Found),
            ),
        };
        Ok(ResolvedQuery {
            query: self,
            terminal_id,
        })
    }

    /// The filters in words, for the second sheet of a download.
    pub(super) fn described(&self, lang: Lang) -> Vec<(String, String)> {
        let t = lang.texts();
        let mut lines: Vec<(String, String)> = Vec::new();
        let mut add = |name: &str, value: Option<String>| {
            if let Some(value) = value {
                lines.push((name.to_owned(), value));
            }
        };
        let yuan = |fen: i64| Money::cny(fen).format_plain();
        add(t.txn_from, self.from.map(|d| d.to_string()));
        add(t.txn_to, self.to.map(|d| d.to_string()));
        add(t.txn_type, self.txn_type.map(|v| v.label(lang).to_owned()));
        add(t.txn_status, self.status.map(|v| v.label(lang).to_owned()));
        add(
            t.txn_card,
            self.card.as_ref().map(|c| match c {
                CardMatch::Last4(l) => format!("****{l}"),
                CardMatch::Masked { bin, last4 } => format!("{bin}******{last4}"),
            }),
        );
        add(t.txn_amount, self.amount.map(yuan));
        add(t.txn_reference, self.reference.clone());
        add(t.txn_terminal, self.terminal.clone());
        add(t.txn_group, self.group.map(|g| g.to_string()));
        add(t.txn_number, self.number.clone());
        add(t.txn_org, self.org.map(|v| v.label(lang).to_owned()));
        add(
            t.txn_card_type,
            self.card_type.map(|v| v.label(lang).to_owned()),
        );
        add(t.txn_bank, self.bank.map(|v| v.label(lang).to_owned()));
        add(t.txn_auth, self.auth.clone());
        add(t.txn_batch, self.batch.clone());
        add(t.txn_sdate, self.sdate.map(|d| d.to_string()));
        add(t.txn_settlement, self.settlement.map(|s| s.to_string()));
        add(t.txn_min, self.min.map(yuan));
        add(t.txn_max, self.max.map(yuan));
        if lines.is_empty() {
            lines.push((t.txn_filters_none.to_owned(), String::new()));
        }
        lines
    }
}
