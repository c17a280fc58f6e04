//! The T+1 reconciliation file of one merchant number and day: a fixed text format
//! that a merchant's finance software reads line by line. Documented for merchants in
//! `docs/RECONCILIATION.md`; this module writes it and reads it back (the tests, and anyone checking a
//! file, use the reader).
//!
//! UTF-8, lines end with CRLF, fields separated by `|` in a fixed order, no field ever contains `|`
//! or a line break (the writer refuses such text). Amounts are integer fen, never decimals. Three
//! kinds of line:
//!
//! ```text
//! H|VPOSRECON|1|<merchant no>|<settlement date YYYYMMDD>|<period start>|<period end>|<currency>|<settlement id>
//! D|<seq>|<S or R>|<type>|<local time>|<terminal>|<batch>|<voucher>|<reference>|<auth code>|<card>|<org>|<card type>|<amount>|<fee>|<net>
//! T|<sales>|<gross>|<refunds>|<refunded>|<fees>|<net>|<detail lines>
//! ```
//!
//! Times are `YYYYMMDDHHMMSS` in the merchant's time zone. `S` lines are settled sales (net = amount −
//! fee), `R` lines refunds debited in the settlement (net = −amount, fee 0). The trailer's figures are
//! the settlement's, and equal the sums of the detail lines.

use std::fmt::Write as _;

/// Format name and version in the header.
pub const FORMAT: &str = "VPOSRECON";
pub const VERSION: &str = "1";
const EOL: &str = "\r\n";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub merchant_no: String,
    /// `YYYYMMDD`
    pub settlement_date: String,
    /// `YYYYMMDDHHMMSS`, local.
    pub period_start: String,
    pub period_end: String,
    pub currency: String,
    pub settlement_id: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sale,
    Refund,
}

impl Kind {
    fn code(self) -> &'static str {
        match self {
            Kind::Sale => "S",
            Kind::Refund => "R",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detail {
    pub kind: Kind,
    pub txn_type: String,
    pub local_time: String,
    pub terminal_no: String,
    pub batch_no: String,
    pub voucher_no: String,
    pub reference_no: String,
    pub auth_code: String,
    pub card_masked: String,
    pub card_org: String,
    pub card_type: String,
    pub amount_fen: i64,
    pub fee_fen: i64,
}

impl Detail {
    /// What the line adds to the merchant's net: a sale its amount less its fee, a refund minus its
    /// amount.
    pub fn net_fen(&self) -> i64 {
        match self.kind {
            Kind::Sale => self.amount_fen - self.fee_fen,
            Kind::Refund => -self.amount_fen,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Trailer {
    pub sales: i64,
    pub gross_fen: i64,
    pub refunds: i64,
    pub refund_fen: i64,
    pub fee_fen: i64,
    pub net_fen: i64,
    pub lines: i64,
}

impl Trailer {
    fn add(&mut self, d: &Detail) {
        match d.kind {
            Kind::Sale => {
                self.sales += 1;
                self.gross_fen += d.amount_fen;
                self.fee_fen += d.fee_fen;
            }
            Kind::Refund => {
                self.refunds += 1;
                self.refund_fen += d.amount_fen;
            }
        }
        self.net_fen += d.net_fen();
        self.lines += 1;
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReconError {
    #[error("field {0:?} contains a separator or a line break")]
    BadField(String),
    #[error("line {line}: {why}")]
    Parse { line: usize, why: String },
    #[error("the detail lines sum to {computed:?}, the settlement says {expected:?}")]
    SumsDiffer {
        computed: Box<Trailer>,
        expected: Box<Trailer>,
    },
}

/// Writes a file line by line, summing as it goes; `finish` refuses a trailer that the lines do not
/// add up to, so a file that disagrees with its settlement is never handed out.
pub struct Writer {
    text: String,
    sums: Trailer,
}

fn clean(field: &str) -> Result<&str, ReconError> {
    if field.contains(['|', '\r', '\n']) {
        Err(ReconError::BadField(field.to_owned()))
    } else {
        Ok(field)
    }
}

impl Writer {
    pub fn new(header: &Header) -> Result<Writer, ReconError> {
        let mut text = String::with_capacity(4096);
        let _ = write!(
            text,
            "H|{FORMAT}|{VERSION}|{}|{}|{}|{}|{}|{}{EOL}",
            clean(&header.merchant_no)?,
            clean(&header.settlement_date)?,
            clean(&header.period_start)?,
            clean(&header.period_end)?,
            clean(&header.currency)?,
            header.settlement_id
        );
        Ok(Writer {
            text,
            sums: Trailer::default(),
        })
    }

    pub fn push(&mut self, d: &Detail) -> Result<(), ReconError> {
        self.sums.add(d);
        let _ = write!(
            self.text,
            "D|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}{EOL}",
            self.sums.lines,
            d.kind.code(),
            clean(&d.txn_type)?,
            clean(&d.local_time)?,
            clean(&d.terminal_no)?,
            clean(&d.batch_no)?,
            clean(&d.voucher_no)?,
            clean(&d.reference_no)?,
            clean(&d.auth_code)?,
            clean(&d.card_masked)?,
            clean(&d.card_org)?,
            clean(&d.card_type)?,
            d.amount_fen,
            d.fee_fen,
            d.net_fen()
        );
        Ok(())
    }

    /// Closes the file with the settlement's figures (`lines` is ignored: it is counted).
    pub fn finish(mut self, expected: Trailer) -> Result<String, ReconError> {
        let expected = Trailer {
            lines: self.sums.lines,
            ..expected
        };
        if self.sums != expected {
            return Err(ReconError::SumsDiffer {
                computed: Box::new(self.sums),
                expected: Box::new(expected),
            });
        }
        let t = self.sums;
        let _ = write!(
            self.text,
            "T|{}|{}|{}|{}|{}|{}|{}{EOL}",
            t.sales, t.gross_fen, t.refunds, t.refund_fen, t.fee_fen, t.net_fen, t.lines
        );
        Ok(self.text)
    }
}

/// A file read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub header: Header,
    pub details: Vec<Detail>,
    pub trailer: Trailer,
}

/// Reads a file and checks its structure, its sequence numbers and that the trailer is the sum of the
/// detail lines.
pub fn parse(text: &str) -> Result<File, ReconError> {
    let err = |line: usize, why: &str| ReconError::Parse {
        line,
        why: why.to_owned(),
    };
    let lines: Vec<&str> = text
        .strip_suffix(EOL)
        .ok_or_else(|| err(0, "the file does not end with CRLF"))?
        .split(EOL)
        .collect();
    let int = |n: usize, s: &str| s.parse::<i64>().map_err(|_| err(n, "not an integer"));
    let first = lines.first().ok_or_else(|| err(1, "empty file"))?;
    let h: Vec<&str> = first.split('|').collect();
    if h.len() != 9 || h[0] != "H" || h[1] != FORMAT || h[2] != VERSION {
        return Err(err(1, "not a VPOSRECON version 1 header"));
    }
    let header = Header {
        merchant_no: h[3].into(),
        settlement_date: h[4].into(),
        period_start: h[5].into(),
        period_end: h[6].into(),
        currency: h[7].into(),
        settlement_id: int(1, h[8])?,
    };
    let mut details = Vec::new();
    let mut sums = Trailer::default();
    let last = lines.len();
    for (i, line) in lines.iter().enumerate().take(last - 1).skip(1) {
        let n = i + 1;
        let f: Vec<&str> = line.split('|').collect();
        if f.len() != 16 || f[0] != "D" {
            return Err(err(n, "not a detail line of 16 fields"));
        }
        if int(n, f[1])? != sums.lines + 1 {
            return Err(err(n, "sequence number out of order"));
        }
        let kind = match f[2] {
            "S" => Kind::Sale,
            "R" => Kind::Refund,
            _ => return Err(err(n, "kind is neither S nor R")),
        };
        let d = Detail {
            kind,
            txn_type: f[3].into(),
            local_time: f[4].into(),
            terminal_no: f[5].into(),
            batch_no: f[6].into(),
            voucher_no: f[7].into(),
            reference_no: f[8].into(),
            auth_code: f[9].into(),
            card_masked: f[10].into(),
            card_org: f[11].into(),
            card_type: f[12].into(),
            amount_fen: int(n, f[13])?,
            fee_fen: int(n, f[14])?,
        };
        if int(n, f[15])? != d.net_fen() {
            return Err(err(n, "net is not amount less fee"));
        }
        sums.add(&d);
        details.push(d);
    }
    let t: Vec<&str> = lines[last - 1].split('|').collect();
    if last < 2 || t.len() != 8 || t[0] != "T" {
        return Err(err(last, "no trailer"));
    }
    let trailer = Trailer {
        sales: int(last, t[1])?,
        gross_fen: int(last, t[2])?,
        refunds: int(last, t[3])?,
        refund_fen: int(last, t[4])?,
        fee_fen: int(last, t[5])?,
        net_fen: int(last, t[6])?,
        lines: int(last, t[7])?,
    };
    if trailer != sums {
        return Err(ReconError::SumsDiffer {
            computed: Box::new(sums),
            expected: Box::new(trailer),
        });
    }
    Ok(File {
        header,
        details,
        trailer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header {
            merchant_no: "898000000000001".into(),
            settlement_date: "20261120".into(),
            period_start: "20261120000000".into(),
            period_end: "20261121000000".into(),
            currency: "CNY".into(),
            settlement_id: 7,
        }
    }

    fn detail(kind: Kind, amount_fen: i64, fee_fen: i64) -> Detail {
        Detail {
            kind,
            txn_type: if kind == Kind::Sale {
                "purchase"
            } else {
                "refund"
            }
            .into(),
            local_time: "20261120093000".into(),
            terminal_no: "10000001".into(),
            batch_no: "000001".into(),
            voucher_no: "000042".into(),
            reference_no: "324091234567".into(),
            auth_code: "A1B2C3".into(),
            card_masked: "622588******1234".into(),
            card_org: "unionpay".into(),
            card_type: "debit".into(),
            amount_fen,
            fee_fen,
        }
    }

    #[test]
    fn a_file_reads_back_as_written() {
        let mut w = Writer::new(&header()).expect("header");
        w.push(&detail(Kind::Sale, 10_000, 60)).expect("sale");
        w.push(&detail(Kind::Sale, 1, 0)).expect("sale");
        w.push(&detail(Kind::Refund, 2_500, 0)).expect("refund");
        let expected = Trailer {
            sales: 2,
            gross_fen: 10_001,
            refunds: 1,
            refund_fen: 2_500,
            fee_fen: 60,
            net_fen: 10_001 - 2_500 - 60,
            lines: 0,
        };
        let text = w.finish(expected).expect("sums agree");
        assert!(text.starts_with("H|VPOSRECON|1|898000000000001|20261120|"));
        assert!(text.contains("\r\nD|3|R|refund|20261120093000|10000001|000001|000042|324091234567|A1B2C3|622588******1234|unionpay|debit|2500|0|-2500\r\n"));
        assert!(text.ends_with("\r\nT|2|10001|1|2500|60|7441|3\r\n"));
        let file = parse(&text).expect("parses");
        assert_eq!(file.header, header());
        assert_eq!(file.details.len(), 3);
        assert_eq!(file.trailer.net_fen, 7_441);
    }

    #[test]
    fn a_trailer_that_the_lines_do_not_add_up_to_is_refused() {
        let mut w = Writer::new(&header()).expect("header");
        w.push(&detail(Kind::Sale, 10_000, 60)).expect("sale");
        let wrong = Trailer {
            sales: 1,
            gross_fen: 10_000,
            fee_fen: 61,
            net_fen: 9_939,
            ..Trailer::default()
        };
        assert!(matches!(
            w.finish(wrong),
            Err(ReconError::SumsDiffer { .. })
        ));
    }

    #[test]
    fn separators_in_text_are_refused_and_tampering_is_found() {
        let mut bad = detail(Kind::Sale, 1, 0);
        bad.reference_no = "12|34".into();
        let mut w = Writer::new(&header()).expect("header");
        assert_eq!(w.push(&bad), Err(ReconError::BadField("12|34".into())));

        let mut w = Writer::new(&header()).expect("header");
        w.push(&detail(Kind::Sale, 10_000, 60)).expect("sale");
        let text = w
            .finish(Trailer {
                sales: 1,
                gross_fen: 10_000,
                fee_fen: 60,
                net_fen: 9_940,
                ..Trailer::default()
            })
            .expect("file");
        let tampered = text.replace("|10000|60|9940", "|10001|60|9941");
        assert!(matches!(
            parse(&tampered),
            Err(ReconError::SumsDiffer { .. })
        ));
        assert!(parse(&text.replace("\r\n", "\n")).is_err());
    }
}
