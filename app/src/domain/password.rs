//! The password rules of the console (manual §3.1.3, tightened): at least 12 characters, with letters
//! and digits. That a new password is not one of the last 4 is checked by the server against the stored
//! hashes; the rules here are the ones the form can check as the user types.

use serde::{Deserialize, Serialize};

pub const MIN_LENGTH: usize = 12;
/// Longer inputs are refused before hashing, so that a huge body cannot keep the server busy.
pub const MAX_LENGTH: usize = 128;
/// A new password may not equal any of this many most recent passwords (the current one included).
pub const HISTORY_DEPTH: usize = 4;

/// A rule a proposed password breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PasswordRule {
    TooShort,
    TooLong,
    NeedsLetter,
    NeedsDigit,
    /// Spaces at either end are almost always a copy-and-paste accident.
    SurroundingSpace,
    /// One of the last [`HISTORY_DEPTH`] passwords (server-side check).
    RecentlyUsed,
    /// The new password and its confirmation differ.
    Mismatch,
}

/// The rules `candidate` breaks, in a fixed order; empty when it is acceptable.
pub fn check_password(candidate: &str) -> Vec<PasswordRule> {
    let mut broken = Vec::new();
    let chars = candidate.chars().count();
    if chars < MIN_LENGTH {
        broken.push(PasswordRule::TooShort);
    }
    if chars > MAX_LENGTH {
        broken.push(PasswordRule::TooLong);
    }
    if !candidate.chars().any(char::is_alphabetic) {
        broken.push(PasswordRule::NeedsLetter);
    }
    if !candidate.chars().any(|c| c.is_ascii_digit()) {
        broken.push(PasswordRule::NeedsDigit);
    }
    if candidate.trim() != candidate {
        broken.push(PasswordRule::SurroundingSpace);
    }
    broken
}

#[cfg(test)]
mod tests {
    use super::*;
    use PasswordRule::*;

    #[test]
    fn the_rules_each_input_breaks() {
        let cases: &[(&str, &[PasswordRule])] = &[
            ("abcdefghij12", &[]),
            ("商户后台密码安全第一号码9", &[]),
            ("abcdefghij1", &[TooShort]),
            ("", &[TooShort, NeedsLetter, NeedsDigit]),
            ("abcdefghijkl", &[NeedsDigit]),
            ("123456789012", &[NeedsLetter]),
            (" abcdefghij12", &[SurroundingSpace]),
            ("abcdefghij12 ", &[SurroundingSpace]),
            ("with inner space 9", &[]),
        ];
        for (input, expected) in cases {
            assert_eq!(check_password(input), *expected, "{input:?}");
        }
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        // 11 Chinese characters are 33 bytes but still too short.
        assert_eq!(check_password("一二三四五六七八九十1"), vec![TooShort]);
        let long = format!("a1{}", "x".repeat(MAX_LENGTH));
        assert_eq!(check_password(&long), vec![TooLong]);
    }
}
