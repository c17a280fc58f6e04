//! Money as an integer count of minor units (fen) with its currency. No floating point anywhere.
//!
//! Amounts typed by a user are parsed from decimal strings by [`Money::parse`], which rejects signs,
//! sub-fen digits and anything that is not a plain decimal number; arithmetic is checked and reports
//! overflow instead of wrapping.

use std::fmt;

use serde::{Deserialize, Serialize};

/// ISO 4217 currency. The console settles in CNY; other codes are accepted from card data but every
/// supported currency has two decimal places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Currency {
    #[default]
    #[serde(rename = "CNY")]
    Cny,
}

impl Currency {
    pub const fn code(self) -> &'static str {
        match self {
            Currency::Cny => "CNY",
        }
    }

    pub const fn symbol(self) -> &'static str {
        match self {
            Currency::Cny => "¥",
        }
    }

    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        match code {
            "CNY" => Ok(Currency::Cny),
            _ => Err(MoneyError::UnknownCurrency),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum MoneyError {
    #[error("the amount is empty")]
    Empty,
    #[error("the amount is not a decimal number")]
    NotANumber,
    #[error("the amount is negative")]
    Negative,
    #[error("the amount has more than two decimal places")]
    SubFen,
    #[error("the amount is too large")]
    Overflow,
    #[error("the amounts are in different currencies")]
    CurrencyMismatch,
    #[error("unknown currency")]
    UnknownCurrency,
}

/// An amount of money: a signed count of fen in one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    fen: i64,
    currency: Currency,
}

/// The largest amount a user may type: 10^12 yuan would be absurd for a card payment, and staying far
/// below i64::MAX keeps sums of millions of rows safe.
pub const MAX_INPUT_FEN: i64 = 100_000_000_000_000; // 1,000,000,000,000.00

impl Money {
    pub const fn from_fen(fen: i64, currency: Currency) -> Self {
        Self { fen, currency }
    }

    pub const fn cny(fen: i64) -> Self {
        Self::from_fen(fen, Currency::Cny)
    }

    pub const fn zero(currency: Currency) -> Self {
        Self::from_fen(0, currency)
    }

    pub const fn fen(self) -> i64 {
        self.fen
    }

    pub const fn currency(self) -> Currency {
        self.currency
    }

    pub const fn is_positive(self) -> bool {
        self.fen > 0
    }

    /// Parses a decimal string such as `"12"`, `"12.5"` or `"1,234.56"` into a non-negative amount.
    ///
    /// Rejects an empty string, a sign, more than two decimal places (sub-fen precision), exponents,
    /// misplaced thousands separators and anything above [`MAX_INPUT_FEN`].
    pub fn parse(input: &str, currency: Currency) -> Result<Self, MoneyError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(MoneyError::Empty);
        }
        if s.starts_with('-') {
            return Err(MoneyError::Negative);
        }
        let (int_part, frac_part) = match s.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (s, None),
        };
        let int_digits = strip_grouping(int_part)?;
        if int_digits.is_empty() && frac_part.is_none_or(str::is_empty) {
            return Err(MoneyError::NotANumber);
        }
        let mut fen: i64 = 0;
        for b in int_digits.bytes() {
            fen = fen
                .checked_mul(10)
                .and_then(|v| v.checked_add(i64::from(b - b'0')))
                .ok_or(MoneyError::Overflow)?;
        }
        fen = fen.checked_mul(100).ok_or(MoneyError::Overflow)?;
        if let Some(frac) = frac_part {
            if !frac.bytes().all(|b| b.is_ascii_digit()) {
                return Err(MoneyError::NotANumber);
            }
            // Trailing zeros beyond the fen carry no value ("1.500" is 1.50), any other digit does.
            let significant = frac.trim_end_matches('0');
            if significant.len() > 2 {
                return Err(MoneyError::SubFen);
            }
            let mut cents = 0i64;
            for (i, b) in significant.bytes().enumerate() {
                cents += i64::from(b - b'0') * if i == 0 { 10 } else { 1 };
            }
            fen = fen.checked_add(cents).ok_or(MoneyError::Overflow)?;
        }
        if fen > MAX_INPUT_FEN {
            return Err(MoneyError::Overflow);
        }
        Ok(Self::from_fen(fen, currency))
    }

    /// An amount typed as a filter or a limit, in minor units (fen) of whichever currency it is
    /// compared in: every supported currency has two decimal places, so the reading is the same.
    pub fn parse_minor(input: &str) -> Result<i64, MoneyError> {
        Self::parse(input, Currency::default()).map(Money::fen)
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        self.fen
            .checked_add(other.fen)
            .map(|fen| Money::from_fen(fen, self.currency))
            .ok_or(MoneyError::Overflow)
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        self.fen
            .checked_sub(other.fen)
            .map(|fen| Money::from_fen(fen, self.currency))
            .ok_or(MoneyError::Overflow)
    }

    pub fn checked_mul(self, factor: i64) -> Result<Money, MoneyError> {
        self.fen
            .checked_mul(factor)
            .map(|fen| Money::from_fen(fen, self.currency))
            .ok_or(MoneyError::Overflow)
    }

    /// Sums amounts of one currency; an empty iterator sums to zero.
    pub fn sum<I: IntoIterator<Item = Money>>(
        currency: Currency,
        items: I,
    ) -> Result<Money, MoneyError> {
        items
            .into_iter()
            .try_fold(Money::zero(currency), Money::checked_add)
    }

    fn same_currency(self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch)
        }
    }

    /// `1,234.56` (no symbol); negative amounts as `-1,234.56`.
    pub fn format_plain(self) -> String {
        format_fen(self.fen)
    }

    /// `¥1,234.56`.
    pub fn format_with_symbol(self) -> String {
        let plain = format_fen(self.fen.abs());
        let sign = if self.fen < 0 { "-" } else { "" };
        format!("{sign}{}{plain}", self.currency.symbol())
    }
}

/// Shows the amount with two decimals and thousands separators: `¥1,234.56`.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format_with_symbol())
    }
}

/// Formats a count of fen as `1,234.56`.
pub fn format_fen(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}{}.{:02}", group_thousands(abs / 100), abs % 100)
}

/// Formats a count (of transactions, rows) as `69,856`.
pub fn format_count(n: i64) -> String {
    let sign = if n < 0 { "-" } else { "" };
    format!("{sign}{}", group_thousands(n.unsigned_abs()))
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    grouped
}

/// Removes thousands separators from the integer part, checking that they group digits by three.
fn strip_grouping(int_part: &str) -> Result<String, MoneyError> {
    if !int_part.contains(',') {
        return if int_part.bytes().all(|b| b.is_ascii_digit()) {
            Ok(int_part.to_owned())
        } else {
            Err(MoneyError::NotANumber)
        };
    }
    let groups: Vec<&str> = int_part.split(',').collect();
    let first_ok = matches!(groups[0].len(), 1..=3);
    let rest_ok = groups[1..].iter().all(|g| g.len() == 3);
    if !first_ok || !rest_ok || !groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit())) {
        return Err(MoneyError::NotANumber);
    }
    Ok(groups.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<i64, MoneyError> {
        Money::parse(s, Currency::Cny).map(Money::fen)
    }

    #[test]
    fn parses_whole_and_decimal_amounts_into_fen() {
        for (input, fen) in [
            ("0", 0),
            ("1", 100),
            ("1.5", 150),
            ("1.50", 150),
            ("1.500", 150),
            ("0.01", 1),
            (".5", 50),
            ("12.", 1200),
            (" 42.10 ", 4210),
            ("1,234.56", 123_456),
            ("1,000,000", 100_000_000),
            ("007.07", 707),
        ] {
            assert_eq!(parse(input), Ok(fen), "input {input:?}");
        }
    }

    #[test]
    fn rejects_sub_fen_negative_and_garbage() {
        for (input, err) in [
            ("", MoneyError::Empty),
            ("   ", MoneyError::Empty),
            ("-1", MoneyError::Negative),
            ("-0.01", MoneyError::Negative),
            ("0.001", MoneyError::SubFen),
            ("1.234", MoneyError::SubFen),
            ("1.2301", MoneyError::SubFen),
            ("abc", MoneyError::NotANumber),
            ("1e3", MoneyError::NotANumber),
            ("+1", MoneyError::NotANumber),
            ("1.2.3", MoneyError::NotANumber),
            ("1.-2", MoneyError::NotANumber),
            ("1,23", MoneyError::NotANumber),
            ("1234,567", MoneyError::NotANumber),
            (",123", MoneyError::NotANumber),
            (".", MoneyError::NotANumber),
            ("１２", MoneyError::NotANumber),
            ("NaN", MoneyError::NotANumber),
            ("99999999999999999999999", MoneyError::Overflow),
            ("1000000000000.01", MoneyError::Overflow),
        ] {
            assert_eq!(parse(input), Err(err), "input {input:?}");
        }
    }

    #[test]
    fn the_largest_input_is_accepted() {
        assert_eq!(parse("1,000,000,000,000.00"), Ok(MAX_INPUT_FEN));
    }

    #[test]
    fn formats_with_grouping_and_two_decimals() {
        assert_eq!(format_fen(0), "0.00");
        assert_eq!(format_fen(5), "0.05");
        assert_eq!(format_fen(123_456), "1,234.56");
        assert_eq!(format_fen(100_000_000), "1,000,000.00");
        assert_eq!(format_fen(-123_456), "-1,234.56");
        assert_eq!(format_fen(i64::MIN), "-92,233,720,368,547,758.08");
        assert_eq!(format_count(0), "0");
        assert_eq!(format_count(999), "999");
        assert_eq!(format_count(69_856), "69,856");
        assert_eq!(format_count(1_000_000), "1,000,000");
        assert_eq!(format_count(-1_250), "-1,250");
        assert_eq!(Money::cny(-5).to_string(), "-¥0.05");
        assert_eq!(Money::cny(99_999).to_string(), "¥999.99");
    }

    #[test]
    fn formatting_and_parsing_round_trip() {
        for fen in [0, 1, 10, 99, 100, 101, 123_456_789, MAX_INPUT_FEN] {
            assert_eq!(parse(&format_fen(fen)), Ok(fen));
        }
    }

    #[test]
    fn arithmetic_is_checked() {
        let max = Money::cny(i64::MAX);
        assert_eq!(max.checked_add(Money::cny(1)), Err(MoneyError::Overflow));
        assert_eq!(
            Money::cny(i64::MIN).checked_sub(Money::cny(1)),
            Err(MoneyError::Overflow)
        );
        assert_eq!(max.checked_mul(2), Err(MoneyError::Overflow));
        assert_eq!(
            Money::cny(150).checked_sub(Money::cny(200)),
            Ok(Money::cny(-50))
        );
        assert_eq!(
            Money::sum(Currency::Cny, [Money::cny(1), Money::cny(2), Money::cny(3)]),
            Ok(Money::cny(6))
        );
        assert_eq!(Money::sum(Currency::Cny, []), Ok(Money::cny(0)));
    }
}
