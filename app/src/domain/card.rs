//! Masked card numbers. The console never holds more of a PAN than its first 6 and last 4 digits.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum CardError {
    #[error("a card number has 13 to 19 digits")]
    BadLength,
    #[error("a card number has only digits")]
    NotDigits,
    #[error("a masked card number looks like 622588******1234")]
    BadMask,
    #[error("the last four digits are four digits")]
    BadLast4,
}

/// A card number reduced to its first 6 and last 4 digits, e.g. `622588******1234`.
///
/// It can be built from a full PAN (which is masked on the spot and not kept) or parsed from its masked
/// form; there is no way to get more digits out of it than it holds.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MaskedPan {
    first6: [u8; 6],
    last4: [u8; 4],
    /// Length of the original PAN (13..=19); decides how many `*` are shown.
    len: u8,
}

const MIN_PAN: usize = 13;
const MAX_PAN: usize = 19;

impl MaskedPan {
    /// Masks a full primary account number. Spaces and dashes between digit groups are ignored.
    pub fn from_pan(pan: &str) -> Result<Self, CardError> {
        let digits: Vec<u8> = pan.bytes().filter(|b| *b != b' ' && *b != b'-').collect();
        if !digits.iter().all(u8::is_ascii_digit) {
            return Err(CardError::NotDigits);
        }
        if !(MIN_PAN..=MAX_PAN).contains(&digits.len()) {
            return Err(CardError::BadLength);
        }
        let mut first6 = [0u8; 6];
        first6.copy_from_slice(&digits[..6]);
        let mut last4 = [0u8; 4];
        last4.copy_from_slice(&digits[digits.len() - 4..]);
        Ok(Self {
            first6,
            last4,
            len: digits.len() as u8,
        })
    }

    /// Parses the stored, masked form: 6 digits, 3 to 9 `*`, 4 digits.
    pub fn parse(masked: &str) -> Result<Self, CardError> {
        let bytes = masked.as_bytes();
        if !(MIN_PAN..=MAX_PAN).contains(&bytes.len()) {
            return Err(CardError::BadMask);
        }
        let (head, rest) = bytes.split_at(6);
        let (stars, tail) = rest.split_at(rest.len() - 4);
        if !head.iter().all(u8::is_ascii_digit)
            || !tail.iter().all(u8::is_ascii_digit)
            || !stars.iter().all(|b| *b == b'*')
        {
            return Err(CardError::BadMask);
        }
        let mut first6 = [0u8; 6];
        first6.copy_from_slice(head);
        let mut last4 = [0u8; 4];
        last4.copy_from_slice(tail);
        Ok(Self {
            first6,
            last4,
            len: bytes.len() as u8,
        })
    }

    /// The issuer identification number (BIN): the first 6 digits.
    pub fn bin(&self) -> &str {
        std::str::from_utf8(&self.first6).unwrap_or_default()
    }

    pub fn last4(&self) -> &str {
        std::str::from_utf8(&self.last4).unwrap_or_default()
    }
}

impl fmt::Display for MaskedPan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.bin())?;
        for _ in 0..(usize::from(self.len) - 10) {
            f.write_str("*")?;
        }
        f.write_str(self.last4())
    }
}

/// Debug shows the masked form too, so a card number can never leak through `{:?}` in a log.
impl fmt::Debug for MaskedPan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MaskedPan({self})")
    }
}

impl TryFrom<String> for MaskedPan {
    type Error = CardError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<MaskedPan> for String {
    fn from(value: MaskedPan) -> Self {
        value.to_string()
    }
}

/// The last four digits of a card, as typed in a search box.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Last4(String);

impl Last4 {
    pub fn parse(input: &str) -> Result<Self, CardError> {
        let s = input.trim();
        if s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(CardError::BadLast4)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A bank account number reduced to its first 4 and last 4 digits, e.g. `6222****3456`.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MaskedAccount(String);

impl MaskedAccount {
    /// Masks a full account number (8 to 32 digits; spaces ignored).
    pub fn from_account(account: &str) -> Result<Self, CardError> {
        let digits: String = account.chars().filter(|c| *c != ' ').collect();
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CardError::NotDigits);
        }
        if !(8..=32).contains(&digits.len()) {
            return Err(CardError::BadLength);
        }
        Ok(Self(format!(
            "{}****{}",
            &digits[..4],
            &digits[digits.len() - 4..]
        )))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MaskedAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for MaskedAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MaskedAccount({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_pan_is_masked_to_first_six_and_last_four() {
        let m = MaskedPan::from_pan("6225880123451234").expect("valid pan");
        assert_eq!(m.to_string(), "622588******1234");
        assert_eq!(m.bin(), "622588");
        assert_eq!(m.last4(), "1234");
        assert_eq!(format!("{m:?}"), "MaskedPan(622588******1234)");
    }

    #[test]
    fn the_middle_digits_are_not_kept() {
        let m = MaskedPan::from_pan("4111 1111 1111 1111").expect("valid pan");
        let json = serde_json::to_string(&m).expect("serialises");
        assert_eq!(json, "\"411111******1111\"");
        // Every length keeps exactly 10 digits visible.
        for len in MIN_PAN..=MAX_PAN {
            let pan: String = (0..len)
                .map(|i| char::from(b'0' + (i % 10) as u8))
                .collect();
            let shown = MaskedPan::from_pan(&pan).expect("valid").to_string();
            assert_eq!(shown.len(), len);
            assert_eq!(
                shown.bytes().filter(u8::is_ascii_digit).count(),
                10,
                "{shown}"
            );
        }
    }

    #[test]
    fn bad_pans_are_refused() {
        assert_eq!(
            MaskedPan::from_pan("123456789012"),
            Err(CardError::BadLength)
        );
        assert_eq!(
            MaskedPan::from_pan("12345678901234567890"),
            Err(CardError::BadLength)
        );
        assert_eq!(
            MaskedPan::from_pan("4111a11111111111"),
            Err(CardError::NotDigits)
        );
        assert_eq!(MaskedPan::from_pan(""), Err(CardError::BadLength));
    }

    #[test]
    fn the_masked_form_round_trips_and_nothing_else_parses() {
        let m = MaskedPan::parse("622588*********1234").expect("19-digit mask");
        assert_eq!(m.to_string(), "622588*********1234");
        for bad in [
            "6225880123451234",
            "622588******123",
            "62258******11234",
            "622588**x***1234",
            "622588**1234",
            "",
        ] {
            assert_eq!(MaskedPan::parse(bad), Err(CardError::BadMask), "{bad}");
        }
        let from_json: Result<MaskedPan, _> = serde_json::from_str("\"6225880123451234\"");
        assert!(
            from_json.is_err(),
            "a full PAN must not deserialise as a MaskedPan"
        );
    }

    #[test]
    fn an_account_keeps_only_four_digits_at_each_end() {
        let m = MaskedAccount::from_account("6222 0202 0011 2233 445").expect("valid");
        assert_eq!(m.as_str(), "6222****3445");
        assert_eq!(
            MaskedAccount::from_account("1234567"),
            Err(CardError::BadLength)
        );
        assert_eq!(
            MaskedAccount::from_account("12345678x"),
            Err(CardError::NotDigits)
        );
    }

    #[test]
    fn last4_is_exactly_four_digits() {
        assert_eq!(
            Last4::parse(" 1234 ").map(|l| l.as_str().to_owned()),
            Ok("1234".into())
        );
        for bad in ["123", "12345", "12a4", ""] {
            assert_eq!(Last4::parse(bad), Err(CardError::BadLast4));
        }
    }
}
