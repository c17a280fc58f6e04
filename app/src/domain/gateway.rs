//! The terminal gateway's messages and answers, as a POS and the acquirer's front end see them.
//!
//! Every message is a JSON object whose fields are read one by one, so that a refusal names the
//! field and the rule it broke; a field the message does not define is refused too. A card number
//! arrives in full and leaves this module masked ([`MaskedPan`]): nothing past here ever holds it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::breakdown::Tally;
use super::card::MaskedPan;
use super::{Bank, CardOrg, CardType};

/// The answer codes of the gateway. Where ISO 8583 (as China UnionPay uses it) has a code for the
/// refusal, that code; the gateway's own refusals are a letter and a digit. docs/GATEWAY.md lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseCode {
    Approved,
    /// The merchant is suspended or the terminal's merchant number closed.
    MerchantInactive,
    /// The original of a void or refund is not a successful sale.
    NotASale,
    AmountNotPositive,
    InvalidCard,
    OriginalNotFound,
    FormatError,
    MessageTooLarge,
    TerminalDisabled,
    AmountAboveLimit,
    /// A void's amount is not its sale's.
    AmountMismatch,
    NotSignedIn,
    /// The same key (terminal, batch, voucher) came before with other content.
    DuplicateConflict,
    /// The message names a batch that is not the terminal's open one.
    BatchNotOpen,
    SystemError,
    UnknownTerminal,
    /// The certificate on the connection is not a gateway certificate.
    NotAGatewayCertificate,
    VoidOtherTerminal,
    AlreadyVoided,
    AlreadySettled,
    /// A void of a sale of an earlier batch: the terminal must refund it instead.
    NotInOpenBatch,
    RefundExceedsLeft,
    /// A refund's card is not the card of its original.
    CardMismatch,
    OutsideRefundWindow,
    /// A sign-in while another batch is open: that batch must be signed out first.
    AnotherBatchOpen,
    /// A sign-in naming a batch that is closed already.
    BatchClosed,
}

impl ResponseCode {
    pub const ALL: &'static [ResponseCode] = &[
        Self::Approved,
        Self::MerchantInactive,
        Self::NotASale,
        Self::AmountNotPositive,
        Self::InvalidCard,
        Self::OriginalNotFound,
        Self::FormatError,
        Self::MessageTooLarge,
        Self::TerminalDisabled,
        Self::AmountAboveLimit,
        Self::AmountMismatch,
        Self::NotSignedIn,
        Self::DuplicateConflict,
        Self::BatchNotOpen,
        Self::SystemError,
        Self::UnknownTerminal,
        Self::NotAGatewayCertificate,
        Self::VoidOtherTerminal,
        Self::AlreadyVoided,
        Self::AlreadySettled,
        Self::NotInOpenBatch,
        Self::RefundExceedsLeft,
        Self::CardMismatch,
        Self::OutsideRefundWindow,
        Self::AnotherBatchOpen,
        Self::BatchClosed,
    ];

    /// The two characters a POS shows and acts on.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Approved => "00",
            Self::MerchantInactive => "03",
            Self::NotASale => "12",
            Self::AmountNotPositive => "13",
            Self::InvalidCard => "14",
            Self::OriginalNotFound => "25",
            Self::FormatError => "30",
            Self::MessageTooLarge => "31",
            Self::TerminalDisabled => "58",
            Self::AmountAboveLimit => "61",
            Self::AmountMismatch => "64",
            Self::NotSignedIn => "77",
            Self::DuplicateConflict => "94",
            Self::BatchNotOpen => "95",
            Self::SystemError => "96",
            Self::UnknownTerminal => "97",
            Self::NotAGatewayCertificate => "A0",
            Self::VoidOtherTerminal => "A1",
            Self::AlreadyVoided => "A2",
            Self::AlreadySettled => "A3",
            Self::NotInOpenBatch => "A4",
            Self::RefundExceedsLeft => "A5",
            Self::CardMismatch => "A6",
            Self::OutsideRefundWindow => "A7",
            Self::AnotherBatchOpen => "A8",
            Self::BatchClosed => "A9",
        }
    }

    /// What the code means, for the POS's operator and the front end's logs.
    pub const fn message(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::MerchantInactive => "the merchant or its merchant number does not take payments",
            Self::NotASale => "the original transaction is not a successful sale",
            Self::AmountNotPositive => "the amount must be more than zero",
            Self::InvalidCard => "the card number is not a valid card number",
            Self::OriginalNotFound => "no original transaction with that reference and date",
            Self::FormatError => "the message is not well formed",
            Self::MessageTooLarge => "the message is larger than the gateway accepts",
            Self::TerminalDisabled => "the terminal is disabled",
            Self::AmountAboveLimit => "the amount is above the limit of one transaction",
            Self::AmountMismatch => "a void must be of the whole amount of its sale",
            Self::NotSignedIn => "the terminal is not signed in: sign in first",
            Self::DuplicateConflict => {
                "this voucher number was used in this batch for another message"
            }
            Self::BatchNotOpen => "the batch is not the terminal's open batch",
            Self::SystemError => "the host could not process the message; send it again",
            Self::UnknownTerminal => "no terminal has this number",
            Self::NotAGatewayCertificate => "the client certificate is not a gateway certificate",
            Self::VoidOtherTerminal => "the sale was made on another terminal",
            Self::AlreadyVoided => "the sale is voided already",
            Self::AlreadySettled => "the sale is settled: refund it instead",
            Self::NotInOpenBatch => "the sale is of an earlier batch: refund it instead",
            Self::RefundExceedsLeft => "the refund is more than what is left of the original",
            Self::CardMismatch => "the card is not the card of the original transaction",
            Self::OutsideRefundWindow => "the original is older than the merchant's refund window",
            Self::AnotherBatchOpen => "another batch is open: sign it out first",
            Self::BatchClosed => "the batch is closed already: sign in with a new batch number",
        }
    }
}

/// Why a message is refused before anything is looked up: the code, and the field at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: ResponseCode,
    /// The field at fault, for a malformed one.
    pub field: Option<String>,
}

impl Refusal {
    pub fn new(code: ResponseCode) -> Self {
        Self { code, field: None }
    }

    fn field(code: ResponseCode, field: &str) -> Self {
        Self {
            code,
            field: Some(field.to_owned()),
        }
    }
}

impl From<ResponseCode> for Refusal {
    fn from(code: ResponseCode) -> Self {
        Self::new(code)
    }
}

/// What a payment message carries about its card: the number (masked on the spot), the organisation
/// read from its first digits, and the type and issuing bank as the front end's card-range table
/// gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    pub masked: MaskedPan,
    pub org: CardOrg,
    pub card_type: CardType,
    pub bank: Bank,
}

/// The gateway's checked messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    SignIn {
        terminal: String,
        batch: String,
    },
    Sale {
        key: Key,
        amount_fen: i64,
        card: Card,
    },
    Void {
        key: Key,
        amount_fen: i64,
        original: OriginalRef,
    },
    Refund {
        key: Key,
        amount_fen: i64,
        card: MaskedPan,
        original: OriginalRef,
    },
    SignOut {
        terminal: String,
        batch: String,
        totals: BatchTotals,
    },
}

/// The kinds of message, as the path of their endpoint names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    SignIn,
    Sale,
    Void,
    Refund,
    SignOut,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::SignIn,
        Kind::Sale,
        Kind::Void,
        Kind::Refund,
        Kind::SignOut,
    ];

    /// The last segment of the endpoint's path, and the code stored with a payment message's answer.
    pub const fn name(self) -> &'static str {
        match self {
            Kind::SignIn => "sign-in",
            Kind::Sale => "sale",
            Kind::Void => "void",
            Kind::Refund => "refund",
            Kind::SignOut => "sign-out",
        }
    }
}

/// A payment message's key: the same key twice is the same message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub terminal: String,
    pub batch: String,
    pub voucher: String,
}

/// How a void or a refund names its original: the host's reference number and the sale's day (as
/// printed on the sale's receipt).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginalRef {
    pub reference: String,
    pub date: chrono::NaiveDate,
}

/// A batch's totals per type: successful sales, voids and refunds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchTotals {
    pub sale: Tally,
    pub void: Tally,
    pub refund: Tally,
}

impl Message {
    /// Reads a message of `kind` from its JSON body. `max_amount_fen` is the limit of one payment.
    pub fn parse(kind: Kind, body: &[u8], max_amount_fen: i64) -> Result<Message, Refusal> {
        let value: Value =
            serde_json::from_slice(body).map_err(|_| Refusal::new(ResponseCode::FormatError))?;
        let Value::Object(map) = value else {
            return Err(Refusal::new(ResponseCode::FormatError));
        };
        let mut fields = Fields::new(map);
        let message = match kind {
            Kind::SignIn => Message::SignIn {
                terminal: fields.digits("terminal", 8)?,
                batch: fields.digits("batch", 6)?,
            },
            Kind::Sale => {
                let key = fields.key()?;
                let amount_fen = fields.amount("amount_fen", max_amount_fen)?;
                let mut card = fields.nested("card")?;
                let (masked, org) = card_number(&mut card)?;
                let card_type = card.code("type", CardType::from_code)?;
                let bank = card.code("bank", Bank::from_code)?;
                card.done()?;
                Message::Sale {
                    key,
                    amount_fen,
                    card: Card {
                        masked,
                        org,
                        card_type,
                        bank,
                    },
                }
            }
            Kind::Void => Message::Void {
                key: fields.key()?,
                amount_fen: fields.amount("amount_fen", max_amount_fen)?,
                original: fields.original()?,
            },
            Kind::Refund => {
                let key = fields.key()?;
                let amount_fen = fields.amount("amount_fen", max_amount_fen)?;
                let mut card = fields.nested("card")?;
                let (masked, _) = card_number(&mut card)?;
                card.done()?;
                Message::Refund {
                    key,
                    amount_fen,
                    card: masked,
                    original: fields.original()?,
                }
            }
            Kind::SignOut => {
                let terminal = fields.digits("terminal", 8)?;
                let batch = fields.digits("batch", 6)?;
                let mut totals = fields.nested("totals")?;
                let totals = BatchTotals {
                    sale: totals.tally("sale")?,
                    void: totals.tally("void")?,
                    refund: totals.tally("refund")?,
                };
                Message::SignOut {
                    terminal,
                    batch,
                    totals,
                }
            }
        };
        fields.done()?;
        Ok(message)
    }

    /// The message's content in a fixed form, card masked: what "the same message" compares (its
    /// hash is stored with the answer; a hash of the full card number could be reversed from its
    /// masked form in a moment, so it is never made).
    pub fn canonical(&self) -> String {
        use serde_json::json;
        let key = |k: &Key| json!([k.terminal, k.batch, k.voucher]);
        let original = |o: &OriginalRef| json!([o.reference, o.date.to_string()]);
        let value = match self {
            Message::SignIn { terminal, batch } => json!(["sign-in", terminal, batch]),
            Message::Sale {
                key: k,
                amount_fen,
                card,
            } => json!([
                "sale",
                key(k),
                amount_fen,
                card.masked.to_string(),
                card.card_type.code(),
                card.bank.code()
            ]),
            Message::Void {
                key: k,
                amount_fen,
                original: o,
            } => json!(["void", key(k), amount_fen, original(o)]),
            Message::Refund {
                key: k,
                amount_fen,
                card,
                original: o,
            } => json!(["refund", key(k), amount_fen, card.to_string(), original(o)]),
            Message::SignOut {
                terminal,
                batch,
                totals,
            } => json!(["sign-out", terminal, batch, totals]),
        };
        value.to_string()
    }

    pub fn terminal(&self) -> &str {
        match self {
            Message::SignIn { terminal, .. } | Message::SignOut { terminal, .. } => terminal,
            Message::Sale { key, .. } | Message::Void { key, .. } | Message::Refund { key, .. } => {
                &key.terminal
            }
        }
    }
}

/// The fields of a JSON object, taken one by one; what is left at the end is refused.
struct Fields {
    map: Map<String, Value>,
    /// The path of this object in the message (`card.`), for the names of its fields.
    prefix: String,
}

impl Fields {
    fn new(map: Map<String, Value>) -> Self {
        Self {
            map,
            prefix: String::new(),
        }
    }

    /// The fields of the object `name` within this one.
    fn nested(&mut self, name: &str) -> Result<Fields, Refusal> {
        match self.take(name)? {
            Value::Object(map) => Ok(Fields {
                map,
                prefix: format!("{}{name}.", self.prefix),
            }),
            _ => Err(self.refuse(ResponseCode::FormatError, name)),
        }
    }

    fn refuse(&self, code: ResponseCode, name: &str) -> Refusal {
        Refusal::field(code, &format!("{}{name}", self.prefix))
    }

    fn take(&mut self, name: &str) -> Result<Value, Refusal> {
        self.map
            .remove(name)
            .ok_or_else(|| self.refuse(ResponseCode::FormatError, name))
    }

    fn text(&mut self, name: &str) -> Result<String, Refusal> {
        match self.take(name)? {
            Value::String(s) => Ok(s),
            _ => Err(self.refuse(ResponseCode::FormatError, name)),
        }
    }

    /// Exactly `len` ASCII digits.
    fn digits(&mut self, name: &str, len: usize) -> Result<String, Refusal> {
        let s = self.text(name)?;
        if s.len() == len && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(s)
        } else {
            Err(self.refuse(ResponseCode::FormatError, name))
        }
    }

    fn integer(&mut self, name: &str) -> Result<i64, Refusal> {
        self.take(name)?
            .as_i64()
            .ok_or_else(|| self.refuse(ResponseCode::FormatError, name))
    }

    /// An amount in fen: an integer, more than zero, at most `max`.
    fn amount(&mut self, name: &str, max: i64) -> Result<i64, Refusal> {
        let fen = self.integer(name)?;
        if fen <= 0 {
            Err(self.refuse(ResponseCode::AmountNotPositive, name))
        } else if fen > max {
            Err(self.refuse(ResponseCode::AmountAboveLimit, name))
        } else {
            Ok(fen)
        }
    }

    fn code<T>(&mut self, name: &str, parse: impl Fn(&str) -> Option<T>) -> Result<T, Refusal> {
        let s = self.text(name)?;
        parse(&s).ok_or_else(|| self.refuse(ResponseCode::FormatError, name))
    }

    fn key(&mut self) -> Result<Key, Refusal> {
        Ok(Key {
            terminal: self.digits("terminal", 8)?,
            batch: self.digits("batch", 6)?,
            voucher: self.digits("voucher", 6)?,
        })
    }

    fn original(&mut self) -> Result<OriginalRef, Refusal> {
        let mut original = self.nested("original")?;
        let reference = original.digits("reference", 12)?;
        let date = original.text("date")?;
        let date = chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d")
            .map_err(|_| original.refuse(ResponseCode::FormatError, "date"))?;
        original.done()?;
        Ok(OriginalRef { reference, date })
    }

    /// A count and an amount, neither negative.
    fn tally(&mut self, name: &str) -> Result<Tally, Refusal> {
        let mut tally = self.nested(name)?;
        let count = tally.integer("count")?;
        let amount_fen = tally.integer("amount_fen")?;
        tally.done()?;
        if count < 0 || amount_fen < 0 {
            return Err(self.refuse(ResponseCode::FormatError, name));
        }
        Ok(Tally { count, amount_fen })
    }

    /// Refuses a field the message does not define, naming it.
    fn done(self) -> Result<(), Refusal> {
        match self.map.keys().next() {
            Some(extra) => Err(self.refuse(ResponseCode::FormatError, extra)),
            None => Ok(()),
        }
    }
}

/// The card number of a `card` object, masked, and its organisation.
fn card_number(card: &mut Fields) -> Result<(MaskedPan, CardOrg), Refusal> {
    let number = card.text("number")?;
    let invalid = || card.refuse(ResponseCode::InvalidCard, "number");
    if !(13..=19).contains(&number.len()) || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    if !luhn_valid(&number) {
        return Err(invalid());
    }
    let org = org_of_pan(&number).ok_or_else(invalid)?;
    let masked = MaskedPan::from_pan(&number).map_err(|_| invalid())?;
    Ok((masked, org))
}

/// Whether a card number's last digit is its Luhn check digit.
pub fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, b) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

/// The card organisation of a card number, by the ranges the organisations publish: UnionPay 62 and
/// 81, Visa 4, Mastercard 51–55 and 2221–2720, American Express 34 and 37, JCB 3528–3589, Diners
/// Club 300–305, 36 and 38. `None` for a number of none of them.
pub fn org_of_pan(digits: &str) -> Option<CardOrg> {
    let prefix = |n: usize| digits.get(..n).and_then(|p| p.parse::<u32>().ok());
    let (p1, p2, p3, p4) = (prefix(1)?, prefix(2)?, prefix(3)?, prefix(4)?);
    match () {
        () if p2 == 62 || p2 == 81 => Some(CardOrg::UnionPay),
        () if p1 == 4 => Some(CardOrg::Visa),
        () if (51..=55).contains(&p2) || (2221..=2720).contains(&p4) => Some(CardOrg::Mastercard),
        () if p2 == 34 || p2 == 37 => Some(CardOrg::Amex),
        () if (3528..=3589).contains(&p4) => Some(CardOrg::Jcb),
        () if (300..=305).contains(&p3) || p2 == 36 || p2 == 38 => Some(CardOrg::Diners),
        () => None,
    }
}

/// Whether a terminal's declared totals agree with the host's.
pub fn in_balance(declared: &BatchTotals, host: &BatchTotals) -> bool {
    declared == host
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: i64 = 10_000_000;

    fn parse(kind: Kind, json: &str) -> Result<Message, Refusal> {
        Message::parse(kind, json.as_bytes(), MAX)
    }

    fn refused(kind: Kind, json: &str) -> (ResponseCode, Option<String>) {
        let r = parse(kind, json).expect_err("refused");
        (r.code, r.field)
    }

    const SALE: &str = r#"{"terminal":"10000001","batch":"000001","voucher":"000007",
        "amount_fen":12800,"card":{"number":"6225880000000019","type":"credit","bank":"CMB"}}"#;

    #[test]
    fn a_sale_is_read_and_its_card_masked_at_once() {
        let Ok(Message::Sale {
            key,
            amount_fen,
            card,
        }) = parse(Kind::Sale, SALE)
        else {
            panic!("a sale");
        };
        assert_eq!(key.voucher, "000007");
        assert_eq!(amount_fen, 12_800);
        assert_eq!(card.masked.to_string(), "622588******0019");
        assert_eq!(card.org, CardOrg::UnionPay);
        assert_eq!(card.bank, Bank::Cmb);
        let debug = format!("{:?}", parse(Kind::Sale, SALE));
        assert!(!debug.contains("6225880000000019"), "{debug}");
    }

    #[test]
    fn each_bad_field_is_named_with_its_rule() {
        let with = |from: &str, to: &str| SALE.replace(from, to);
        let cases = [
            (
                with("12800", "0"),
                ResponseCode::AmountNotPositive,
                "amount_fen",
            ),
            (
                with("12800", "-5"),
                ResponseCode::AmountNotPositive,
                "amount_fen",
            ),
            (
                with("12800", "10000001"),
                ResponseCode::AmountAboveLimit,
                "amount_fen",
            ),
            (
                with("12800", "128.5"),
                ResponseCode::FormatError,
                "amount_fen",
            ),
            (
                with("12800", "\"12800\""),
                ResponseCode::FormatError,
                "amount_fen",
            ),
            (
                with("\"10000001\"", "\"1000001\""),
                ResponseCode::FormatError,
                "terminal",
            ),
            (with("000007", "7"), ResponseCode::FormatError, "voucher"),
            (
                with("6225880000000019", "6225880000000018"),
                ResponseCode::InvalidCard,
                "card.number",
            ),
            (
                with("6225880000000019", "62258800000"),
                ResponseCode::InvalidCard,
                "card.number",
            ),
            (
                with("6225880000000019", "9999999999999995"),
                ResponseCode::InvalidCard,
                "card.number",
            ),
            (
                with("\"credit\"", "\"gold\""),
                ResponseCode::FormatError,
                "card.type",
            ),
            (
                with("\"CMB\"", "\"XYZ\""),
                ResponseCode::FormatError,
                "card.bank",
            ),
            (
                with("\"bank\":\"CMB\"", "\"bank\":\"CMB\",\"cvv\":\"123\""),
                ResponseCode::FormatError,
                "card.cvv",
            ),
            (
                with("\"amount_fen\"", "\"tip\":1,\"amount_fen\""),
                ResponseCode::FormatError,
                "tip",
            ),
        ];
        for (json, code, field) in cases {
            assert_eq!(
                refused(Kind::Sale, &json),
                (code, Some(field.to_owned())),
                "{json}"
            );
        }
        for json in ["", "[]", "{", "null", "{\"terminal\":1}"] {
            assert_eq!(
                refused(Kind::Sale, json).0,
                ResponseCode::FormatError,
                "{json}"
            );
        }
    }

    #[test]
    fn sign_out_totals_and_originals_are_read() {
        let out = r#"{"terminal":"10000001","batch":"000001","totals":{
            "sale":{"count":3,"amount_fen":300},"void":{"count":1,"amount_fen":100},
            "refund":{"count":0,"amount_fen":0}}}"#;
        let Ok(Message::SignOut { totals, .. }) = parse(Kind::SignOut, out) else {
            panic!("a sign-out");
        };
        assert_eq!(
            totals.sale,
            Tally {
                count: 3,
                amount_fen: 300
            }
        );
        assert!(in_balance(&totals, &totals));
        assert!(!in_balance(&totals, &BatchTotals::default()));
        let negative = out.replace("\"count\":3", "\"count\":-3");
        assert_eq!(
            refused(Kind::SignOut, &negative).1.as_deref(),
            Some("totals.sale")
        );

        let void = r#"{"terminal":"10000001","batch":"000001","voucher":"000008","amount_fen":12800,
            "original":{"reference":"000000000042","date":"2026-12-07"}}"#;
        let Ok(Message::Void { original, .. }) = parse(Kind::Void, void) else {
            panic!("a void");
        };
        assert_eq!(original.reference, "000000000042");
        let bad_date = void.replace("2026-12-07", "2026-02-30");
        assert_eq!(
            refused(Kind::Void, &bad_date),
            (ResponseCode::FormatError, Some("original.date".to_owned()))
        );
    }

    #[test]
    fn card_organisations_follow_the_published_ranges() {
        for (pan, org) in [
            ("6225880000000019", Some(CardOrg::UnionPay)),
            ("4111111111111111", Some(CardOrg::Visa)),
            ("5500000000000004", Some(CardOrg::Mastercard)),
            ("2221000000000009", Some(CardOrg::Mastercard)),
            ("378282246310005", Some(CardOrg::Amex)),
            ("3530111333300000", Some(CardOrg::Jcb)),
            ("30569309025904", Some(CardOrg::Diners)),
            ("9999999999999995", None),
        ] {
            assert!(luhn_valid(pan), "{pan}");
            assert_eq!(org_of_pan(pan), org, "{pan}");
        }
        assert!(!luhn_valid("4111111111111112"));
    }

    #[test]
    fn every_code_is_two_characters_and_its_own() {
        let mut seen = std::collections::HashSet::new();
        for code in ResponseCode::ALL {
            assert_eq!(code.code().len(), 2);
            assert!(seen.insert(code.code()), "{code:?}");
            assert!(!code.message().is_empty());
        }
    }
}
