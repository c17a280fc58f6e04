//! Identifier newtypes. Each can only be built by `parse`, so an invalid value cannot exist.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum IdError {
    #[error("a merchant number has 15 digits")]
    MerchantNo,
    #[error("a terminal number has 8 letters or digits")]
    TerminalNo,
    #[error("a merchant code is M followed by 8 digits")]
    MerchantCode,
    #[error("a reference number has 12 digits")]
    ReferenceNo,
    #[error("a voucher number has 6 digits")]
    VoucherNo,
    #[error("a batch number has 6 digits")]
    BatchNo,
    #[error("an authorisation code has 6 letters or digits")]
    AuthCode,
    #[error("a login name has 3 to 32 letters, digits, dots, dashes or underscores")]
    LoginName,
    #[error("a login prefix has 2 to 16 lower-case letters, digits or dashes")]
    LoginPrefix,
    #[error("an idempotency key has 8 to 128 letters, digits, dashes or underscores")]
    IdempotencyKey,
    #[error("a certificate fingerprint is a SHA-256 digest: 64 hexadecimal digits")]
    CertFingerprint,
    #[error("a token code has 6 digits")]
    TokenCode,
}

macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident, $err:ident, $valid:expr) => {
        identifier!($(#[$doc])* $name, $err, $valid, normalise = |s: &str| s.trim().to_owned());
    };
    ($(#[$doc:meta])* $name:ident, $err:ident, $valid:expr, normalise = $normalise:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses the identifier as typed (surrounding whitespace ignored, and whatever else its
            /// form forgives), into its one canonical form.
            pub fn parse(input: &str) -> Result<Self, IdError> {
                let normalise: fn(&str) -> String = $normalise;
                let valid: fn(&str) -> bool = $valid;
                let s = normalise(input);
                if valid(&s) {
                    Ok(Self(s))
                } else {
                    Err(IdError::$err)
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

fn digits(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit())
}

fn upper_alnum(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

identifier!(
    /// The 15-digit acquirer merchant number (商户编号) printed on sales slips.
    MerchantNo, MerchantNo, |s| digits(s, 15)
);
identifier!(
    /// The 8-character terminal number (终端号): upper-case letters and digits.
    TerminalNo, TerminalNo, |s| upper_alnum(s, 8)
);
identifier!(
    /// The platform's code for a merchant (the tenant), e.g. `M00000001`.
    MerchantCode, MerchantCode, |s| s.len() == 9 && s.starts_with('M') && digits(&s[1..], 8)
);
identifier!(
    /// The 12-digit retrieval reference number (参考号).
    ReferenceNo, ReferenceNo, |s| digits(s, 12)
);
identifier!(
    /// The 6-digit voucher / system trace number (凭证号).
    VoucherNo, VoucherNo, |s| digits(s, 6)
);
identifier!(
    /// The 6-digit terminal batch number (批次号).
    BatchNo, BatchNo, |s| digits(s, 6)
);
identifier!(
    /// The 6-character authorisation code (授权码) from the issuer.
    AuthCode, AuthCode, |s| upper_alnum(s, 6)
);
identifier!(
    /// An operator's login name: 3 to 32 ASCII letters, digits, `.`, `-` or `_`.
    LoginName, LoginName, |s| (3..=32).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
);

identifier!(
    /// A merchant's own part of the login namespace: every login name of its operators made in the
    /// console is `prefix.name`. Prefixes are unique and hold no dot, so two merchants' namespaces
    /// never meet, and creating an operator can never tell one merchant another's login names.
    LoginPrefix, LoginPrefix, |s| (2..=16).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
);

identifier!(
    /// The key a client makes for one money-moving request, so that sending it again (a retry after
    /// a lost answer, a double click) gets the first answer instead of moving money twice.
    IdempotencyKey, IdempotencyKey, |s| (8..=128).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
);

identifier!(
    /// A certificate's SHA-256 fingerprint in lower-case hex, as the server computes it. Typed by a
    /// person, colons, spaces or dashes between the bytes and upper case are forgiven.
    CertFingerprint, CertFingerprint, |s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()),
    normalise = |s: &str| s
        .chars()
        .filter(|c| !matches!(c, ':' | ' ' | '-'))
        .collect::<String>()
        .to_ascii_lowercase()
);

identifier!(
    /// A code an operator's token shows: six digits. Typed, spaces and full-width digits are
    /// forgiven (an input method may give `１２３ ４５６`).
    TokenCode, TokenCode, |s| digits(s, 6),
    normalise = |s: &str| s
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            c => c,
        })
        .collect()
);

impl LoginPrefix {
    /// The prefix a merchant gets when none is chosen: its code in lower case (`m00000001`).
    pub fn of_code(code: &MerchantCode) -> Self {
        Self(code.as_str().to_ascii_lowercase())
    }
}

impl LoginName {
    /// The login name an administrator means by `typed` in the merchant's namespace: `typed` with
    /// the prefix put in front (`finance2` → `hualian.finance2`); typed with the prefix already,
    /// it is taken as it is.
    pub fn in_namespace(prefix: &LoginPrefix, typed: &str) -> Result<Self, IdError> {
        let typed = typed.trim();
        let local = typed
            .strip_prefix(prefix.as_str())
            .and_then(|rest| rest.strip_prefix('.'))
            .unwrap_or(typed);
        if local.is_empty() {
            return Err(IdError::LoginName);
        }
        Self::parse(&format!("{prefix}.{local}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_names_made_in_a_namespace_carry_its_prefix() {
        let prefix = LoginPrefix::parse("hualian").expect("prefix");
        let name = |typed| LoginName::in_namespace(&prefix, typed).map(String::from);
        assert_eq!(name("finance2"), Ok("hualian.finance2".into()));
        assert_eq!(name(" hualian.finance2 "), Ok("hualian.finance2".into()));
        // Another merchant's name is just a name in this namespace.
        assert_eq!(name("yunqi.finance"), Ok("hualian.yunqi.finance".into()));
        assert_eq!(name("hualianx.a"), Ok("hualian.hualianx.a".into()));
        assert_eq!(name(""), Err(IdError::LoginName));
        assert_eq!(name("hualian."), Err(IdError::LoginName));
        assert_eq!(name("名字"), Err(IdError::LoginName));
        assert_eq!(
            name(&"a".repeat(30)),
            Err(IdError::LoginName),
            "too long with the prefix"
        );
        for bad in ["a", "Hualian", "hua.lian", "hua_lian", &"a".repeat(17)] {
            assert_eq!(LoginPrefix::parse(bad), Err(IdError::LoginPrefix), "{bad}");
        }
        let code = MerchantCode::parse("M00000021").expect("code");
        assert_eq!(LoginPrefix::of_code(&code).as_str(), "m00000021");
    }

    #[test]
    fn valid_identifiers_parse_and_trim() {
        assert_eq!(
            MerchantNo::parse(" 898310048990001 ").map(String::from),
            Ok("898310048990001".into())
        );
        assert!(TerminalNo::parse("10000001").is_ok());
        assert!(TerminalNo::parse("POS0A1B2").is_ok());
        assert!(MerchantCode::parse("M00000001").is_ok());
        assert!(ReferenceNo::parse("123456789012").is_ok());
        assert!(VoucherNo::parse("000123").is_ok());
        assert!(BatchNo::parse("000001").is_ok());
        assert!(AuthCode::parse("A1B2C3").is_ok());
        assert!(LoginName::parse("finance.li").is_ok());
    }

    #[test]
    fn invalid_identifiers_are_refused_with_their_own_error() {
        assert_eq!(
            MerchantNo::parse("89831004899000"),
            Err(IdError::MerchantNo)
        );
        assert_eq!(
            MerchantNo::parse("89831004899000a"),
            Err(IdError::MerchantNo)
        );
        assert_eq!(TerminalNo::parse("pos0a1b2"), Err(IdError::TerminalNo));
        assert_eq!(TerminalNo::parse("1000000"), Err(IdError::TerminalNo));
        assert_eq!(MerchantCode::parse("X00000001"), Err(IdError::MerchantCode));
        assert_eq!(ReferenceNo::parse("12345678901"), Err(IdError::ReferenceNo));
        assert_eq!(VoucherNo::parse("12345a"), Err(IdError::VoucherNo));
        assert_eq!(BatchNo::parse(""), Err(IdError::BatchNo));
        assert_eq!(AuthCode::parse("a1b2c3"), Err(IdError::AuthCode));
        assert_eq!(LoginName::parse("ab"), Err(IdError::LoginName));
        assert_eq!(LoginName::parse("名字名字"), Err(IdError::LoginName));
        assert_eq!(LoginName::parse("a b c"), Err(IdError::LoginName));
    }

    #[test]
    fn typed_forms_are_forgiven_into_one_canonical_form() {
        let code = |typed| TokenCode::parse(typed).map(String::from);
        assert_eq!(code(" 123 456 "), Ok("123456".into()));
        assert_eq!(code("１２３４５６"), Ok("123456".into()));
        for bad in ["12345", "1234567", "12a456", "١٢٣٤٥٦"] {
            assert_eq!(code(bad), Err(IdError::TokenCode), "{bad}");
        }

        let hex = "ab".repeat(32);
        let colons = hex
            .as_bytes()
            .chunks(2)
            .map(|c| std::str::from_utf8(c).expect("ascii").to_ascii_uppercase())
            .collect::<Vec<_>>()
            .join(":");
        let print = |typed: &str| CertFingerprint::parse(typed).map(String::from);
        assert_eq!(print(&hex), Ok(hex.clone()));
        assert_eq!(print(&colons), Ok(hex.clone()));
        assert_eq!(print(&hex[..62]), Err(IdError::CertFingerprint));
        assert_eq!(print(&"zz".repeat(32)), Err(IdError::CertFingerprint));

        assert!(IdempotencyKey::parse("refund-0001_a").is_ok());
        for bad in [
            "short",
            "has space in it",
            "ключ-ключ-ключ",
            &"k".repeat(129),
        ] {
            assert_eq!(
                IdempotencyKey::parse(bad),
                Err(IdError::IdempotencyKey),
                "{bad}"
            );
        }
    }

    #[test]
    fn deserialising_goes_through_parse() {
        let ok: Result<TerminalNo, _> = serde_json::from_str("\"10000001\"");
        assert!(ok.is_ok());
        let bad: Result<TerminalNo, _> = serde_json::from_str("\"1\"");
        assert!(bad.is_err());
    }
}
