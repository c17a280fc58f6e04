//! The cardholder of a fast refund (manual §3.6), checked as the paying bank checks it: the name
//! and the identity document (a mainland resident ID's 18 characters with their check digit, a
//! passport's or another document's format). The banks that pay fast refunds are
//! `Bank::supports_fast_refund`'s. The full document number is personal data: [`IdNumber::masked`]
//! is what every page but the correcting form shows.

use serde::{Deserialize, Serialize};

use super::codes::code_enum;

code_enum!(
    /// The kind of identity document.
    IdType {
        /// 居民身份证: the mainland resident identity card.
        ResidentId = "resident_id",
        Passport = "passport",
        /// Other documents: Hong Kong and Macau or Taiwan residents' permits, foreigners' permanent
        /// residence cards.
        Other = "other",
    }
);

/// Why a cardholder field is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum CardholderProblem {
    #[error("the name is empty")]
    NameMissing,
    /// Letters only: Chinese characters (with `·` between the parts of a transcribed name) or Latin
    /// letters with spaces, 2 to 30 of them.
    #[error("the name has characters a bank account name cannot have")]
    NameFormat,
    #[error("the ID number is empty")]
    IdMissing,
    /// A resident ID is 17 digits and a check character (a digit or `X`).
    #[error("a resident ID has 18 characters: 17 digits and a digit or X")]
    ResidentIdFormat,
    /// Its 7th to 14th digits are not a birth date.
    #[error("the resident ID's birth date is not a date")]
    ResidentIdBirthDate,
    /// Its first two digits are not a province's.
    #[error("the resident ID's region is not a province's")]
    ResidentIdRegion,
    #[error("the resident ID's check character does not match its digits")]
    ResidentIdCheckDigit,
    /// A passport number: 5 to 17 letters and digits, at least one digit.
    #[error("a passport number has 5 to 17 letters and digits")]
    PassportFormat,
    /// Another document's number: 6 to 20 letters, digits and hyphens, at least one digit.
    #[error("the document number has 6 to 20 letters, digits and hyphens")]
    OtherIdFormat,
    /// The bank pays the refund into the card's account: it must be the card's issuing bank.
    #[error("the bank is not the card's issuing bank")]
    NotTheCardsBank,
}

/// A cardholder's name as the bank account holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolderName(String);

impl HolderName {
    pub fn parse(text: &str) -> Result<Self, CardholderProblem> {
        // Runs of spaces count as one, as a teller would type them.
        let name = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() {
            return Err(CardholderProblem::NameMissing);
        }
        let count = name.chars().count();
        let chinese = name.chars().all(|c| is_han(c) || c == '·' || c == '•')
            && !name.starts_with(['·', '•'])
            && !name.ends_with(['·', '•']);
        let latin = name
            .chars()
            .all(|c| c.is_ascii_alphabetic() || c == ' ' || c == '-' || c == '\'' || c == '.')
            && name.chars().any(|c| c.is_ascii_alphabetic());
        if !(2..=30).contains(&count) || !(chinese || latin) {
            return Err(CardholderProblem::NameFormat);
        }
        Ok(Self(if latin {
            name.to_ascii_uppercase()
        } else {
            name
        }))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A CJK unified ideograph (the basic block and extension A).
fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}')
}

/// An identity document's number, checked for its type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdNumber {
    id_type: IdType,
    number: String,
}

/// The weights of a resident ID's 17 digits (GB 11643-1999, ISO 7064 MOD 11-2).
const RESIDENT_ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// The check character for each remainder of the weighted sum modulo 11.
const RESIDENT_ID_CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
/// The first two digits of the provinces, autonomous regions and municipalities (GB/T 2260).
const PROVINCE_CODES: [&str; 31] = [
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
    "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
];

impl IdNumber {
    /// The number `text` of a document of `id_type`: spaces dropped, letters upper-cased.
    pub fn parse(id_type: IdType, text: &str) -> Result<Self, CardholderProblem> {
        let number: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        if number.is_empty() {
            return Err(CardholderProblem::IdMissing);
        }
        match id_type {
            IdType::ResidentId => check_resident_id(&number)?,
            IdType::Passport => {
                let ok = (5..=17).contains(&number.len())
                    && number.bytes().all(|b| b.is_ascii_alphanumeric())
                    && number.bytes().any(|b| b.is_ascii_digit());
                if !ok {
                    return Err(CardholderProblem::PassportFormat);
                }
            }
            IdType::Other => {
                let ok = (6..=20).contains(&number.len())
                    && number
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && number.bytes().any(|b| b.is_ascii_digit());
                if !ok {
                    return Err(CardholderProblem::OtherIdFormat);
                }
            }
        }
        Ok(Self { id_type, number })
    }

    pub fn id_type(&self) -> IdType {
        self.id_type
    }

    /// The whole number: for the bank and for the operator correcting it, nobody else.
    pub fn full(&self) -> &str {
        &self.number
    }

    /// What pages, files and logs show: the first 3 and the last 4 characters, the rest starred.
    pub fn masked(&self) -> String {
        mask_id(&self.number)
    }
}

/// `number` with all but its first 3 and last 4 characters starred (all of it when it is shorter
/// than 8): a stored number shown where the whole one must not be.
pub fn mask_id(number: &str) -> String {
    let chars: Vec<char> = number.chars().collect();
    if chars.len() < 8 {
        return "*".repeat(chars.len());
    }
    let (head, rest) = chars.split_at(3);
    let (middle, tail) = rest.split_at(rest.len() - 4);
    format!(
        "{}{}{}",
        head.iter().collect::<String>(),
        "*".repeat(middle.len()),
        tail.iter().collect::<String>()
    )
}

fn check_resident_id(number: &str) -> Result<(), CardholderProblem> {
    let bytes = number.as_bytes();
    let well_formed = bytes.len() == 18
        && bytes[..17].iter().all(u8::is_ascii_digit)
        && (bytes[17].is_ascii_digit() || bytes[17] == b'X');
    if !well_formed {
        return Err(CardholderProblem::ResidentIdFormat);
    }
    if !PROVINCE_CODES.contains(&&number[..2]) {
        return Err(CardholderProblem::ResidentIdRegion);
    }
    let birth = chrono::NaiveDate::parse_from_str(&number[6..14], "%Y%m%d")
        .ok()
        .filter(|d| chrono::Datelike::year(d) >= 1900);
    if birth.is_none() {
        return Err(CardholderProblem::ResidentIdBirthDate);
    }
    let sum: u32 = bytes[..17]
        .iter()
        .zip(RESIDENT_ID_WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    if char::from(bytes[17]) != RESIDENT_ID_CHECK[(sum % 11) as usize] {
        return Err(CardholderProblem::ResidentIdCheckDigit);
    }
    Ok(())
}

/// A resident ID with its check character, from its first 17 digits (the demo's cardholders).
pub fn resident_id_with_check(first17: &str) -> String {
    let sum: u32 = first17
        .bytes()
        .take(17)
        .zip(RESIDENT_ID_WEIGHTS)
        .map(|(d, w)| u32::from(d.wrapping_sub(b'0')) * w)
        .sum();
    format!("{first17}{}", RESIDENT_ID_CHECK[(sum % 11) as usize])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_check(first17: &str) -> String {
        resident_id_with_check(first17)
    }

    #[test]
    fn a_resident_id_is_checked_by_its_check_character() {
        // The standard's own example: 11010519491231002X.
        assert!(IdNumber::parse(IdType::ResidentId, "11010519491231002X").is_ok());
        assert!(IdNumber::parse(IdType::ResidentId, "11010519491231002x").is_ok());
        assert_eq!(
            IdNumber::parse(IdType::ResidentId, "110105194912310021"),
            Err(CardholderProblem::ResidentIdCheckDigit)
        );
        // Every digit changed alone is caught.
        let good = with_check("44030419900307651");
        assert!(IdNumber::parse(IdType::ResidentId, &good).is_ok());
        for i in 6..17 {
            let mut changed = good.clone().into_bytes();
            changed[i] = if changed[i] == b'9' {
                b'8'
            } else {
                changed[i] + 1
            };
            let changed = String::from_utf8(changed).expect("ascii");
            assert!(
                IdNumber::parse(IdType::ResidentId, &changed).is_err(),
                "{changed}"
            );
        }
    }

    #[test]
    fn a_resident_id_has_a_province_and_a_birth_date() {
        assert_eq!(
            IdNumber::parse(IdType::ResidentId, &with_check("99030419900307651")),
            Err(CardholderProblem::ResidentIdRegion)
        );
        assert_eq!(
            IdNumber::parse(IdType::ResidentId, &with_check("44030419900230651")),
            Err(CardholderProblem::ResidentIdBirthDate)
        );
        assert_eq!(
            IdNumber::parse(IdType::ResidentId, &with_check("44030418500307651")),
            Err(CardholderProblem::ResidentIdBirthDate)
        );
        for bad in [
            "4403041990030765",
            "44030419900307651Y",
            "A4030419900307651X",
            "",
        ] {
            assert!(IdNumber::parse(IdType::ResidentId, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passports_and_other_documents_have_their_formats() {
        assert!(IdNumber::parse(IdType::Passport, "e12345678").is_ok());
        assert!(IdNumber::parse(IdType::Passport, "G 1234 5678").is_ok());
        assert_eq!(
            IdNumber::parse(IdType::Passport, "ABCDEFG"),
            Err(CardholderProblem::PassportFormat)
        );
        assert_eq!(
            IdNumber::parse(IdType::Passport, "E1234-5678"),
            Err(CardholderProblem::PassportFormat)
        );
        assert!(IdNumber::parse(IdType::Other, "H12345678").is_ok());
        assert!(IdNumber::parse(IdType::Other, "830000-19900101").is_ok());
        assert_eq!(
            IdNumber::parse(IdType::Other, "12345"),
            Err(CardholderProblem::OtherIdFormat)
        );
    }

    #[test]
    fn an_id_number_is_shown_masked() {
        let id = IdNumber::parse(IdType::ResidentId, "11010519491231002X").expect("valid");
        assert_eq!(id.masked(), "110***********002X");
        assert_eq!(id.full(), "11010519491231002X");
        assert_eq!(mask_id("E1234567"), "E12*4567");
        assert_eq!(mask_id("H123"), "****");
    }

    #[test]
    fn names_are_letters_of_one_script() {
        assert_eq!(
            HolderName::parse(" 张  三 ").map(|n| n.0),
            Err(CardholderProblem::NameFormat)
        );
        assert_eq!(
            HolderName::parse("张三").map(|n| n.0),
            Ok("张三".to_owned())
        );
        assert_eq!(
            HolderName::parse("阿卜杜拉·艾力").map(|n| n.0),
            Ok("阿卜杜拉·艾力".to_owned())
        );
        assert_eq!(
            HolderName::parse("  john   o'brien ").map(|n| n.0),
            Ok("JOHN O'BRIEN".to_owned())
        );
        for bad in [
            "", " ", "张", "张3", "Li Lei 2", "张三Li", "·张三", "=SUM(A1)",
        ] {
            assert!(HolderName::parse(bad).is_err(), "{bad:?}");
        }
    }
}
