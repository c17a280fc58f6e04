//! The operator's "token": an RFC 6238 TOTP secret, 30-second steps, 6 digits, a code of
//! the previous, current or next step accepted. The secret is sealed with AES-256-GCM under the
//! console's token key before it reaches the database, bound to its operator by the associated data,
//! so that a copied row does not open for another operator.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rand::RngCore;
use totp_rs::{Algorithm, Secret, TOTP};

use super::key_file::{self, KeyFileError, KEY_BYTES};
use crate::url::encode_component;

/// Seconds per time step.
pub const STEP_SECONDS: i64 = 30;
pub const DIGITS: usize = 6;
/// Secret length in bytes (160 bits, as RFC 4226 recommends for HMAC-SHA1).
const SECRET_BYTES: usize = 20;
const NONCE_BYTES: usize = 12;
/// Marks the sealing format, so that a later one can be told apart.
const SEALED_PREFIX: &str = "v1:";

/// The key that seals token secrets at rest. Cheap to clone; never printed.
#[derive(Clone)]
pub struct TokenKey(Arc<Aes256Gcm>);

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

/// AES-GCM refused to seal (it does so only for inputs of gigabytes).
#[derive(Debug, thiserror::Error)]
#[error("the token secret could not be sealed")]
pub struct SealError;

/// A sealed secret did not open: another key, another operator's row, or an edited value.
#[derive(Debug, thiserror::Error)]
#[error("the token secret does not open with this key")]
pub struct Unsealable;

impl TokenKey {
    pub fn from_bytes(bytes: &[u8; KEY_BYTES]) -> Self {
        Self(Arc::new(Aes256Gcm::new(bytes.into())))
    }

    /// A fresh random key (tests).
    pub fn generate() -> Self {
        Self::from_bytes(&key_file::generate())
    }

    /// Reads the key file, creating it with a random key when it does not exist yet. Returns
    /// whether it was created.
    pub fn load_or_create(path: &Path) -> Result<(Self, bool), KeyFileError> {
        let (bytes, created) = key_file::load_or_create("token", path)?;
        Ok((Self::from_bytes(&bytes), created))
    }

    /// Seals `secret` for `operator_id`: `v1:` + base64(nonce ‖ ciphertext ‖ tag).
    pub fn seal(&self, operator_id: i64, secret: &[u8]) -> Result<String, SealError> {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        let aad = operator_id.to_be_bytes();
        let sealed = self
            .0
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: secret,
                    aad: &aad,
                },
            )
            .map_err(|_| SealError)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{SEALED_PREFIX}{}", B64.encode(out)))
    }

    pub fn open(&self, operator_id: i64, sealed: &str) -> Result<Vec<u8>, Unsealable> {
        let raw = sealed
            .strip_prefix(SEALED_PREFIX)
            .and_then(|b| B64.decode(b).ok())
            .filter(|raw| raw.len() > NONCE_BYTES)
            .ok_or(Unsealable)?;
        let (nonce, ciphertext) = raw.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| Unsealable)?;
        let aad = operator_id.to_be_bytes();
        self.0
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| Unsealable)
    }
}

/// A new random secret.
pub fn new_secret() -> Vec<u8> {
    let mut secret = vec![0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut secret);
    secret
}

/// The secret as authenticator apps take it typed in: base32, in groups of four.
pub fn secret_for_typing(secret: &[u8]) -> String {
    let encoded = Secret::Raw(secret.to_vec()).to_encoded().to_string();
    encoded
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The secret back from its typed form (what an authenticator app does with it).
pub fn secret_from_typing(typed: &str) -> Option<Vec<u8>> {
    let compact: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    Secret::Encoded(compact.to_uppercase()).to_bytes().ok()
}

/// The `otpauth://` URI an authenticator app reads from the QR code.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let encoded = Secret::Raw(secret.to_vec()).to_encoded().to_string();
    let label = format!("{}:{}", encode_component(issuer), encode_component(account));
    format!(
        "otpauth://totp/{label}?secret={encoded}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        encode_component(issuer)
    )
}

/// The QR code of `uri` as an SVG image.
pub fn qr_svg(uri: &str) -> String {
    match qrcode::QrCode::new(uri.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(220, 220)
            .quiet_zone(true)
            .build(),
        // A URI of a few hundred bytes always fits a QR code; the typed secret is the fallback.
        Err(_) => String::new(),
    }
}

/// The time step of a moment (Unix seconds).
pub fn step_of(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP_SECONDS)
}

fn totp(secret: &[u8]) -> TOTP {
    // Skew 0: the steps around the current one are tried one by one below, to learn which matched.
    TOTP::new_unchecked(
        Algorithm::SHA1,
        DIGITS,
        0,
        STEP_SECONDS as u64,
        secret.to_vec(),
    )
}

/// The code of a time step.
pub fn code_at_step(secret: &[u8], step: i64) -> String {
    totp(secret).generate((step.max(0) * STEP_SECONDS) as u64)
}

/// The step (previous, current or next, in that order of preference for the newest) whose code is
/// `code`, compared in constant time.
pub fn matching_step(secret: &[u8], code: &str, unix_seconds: i64) -> Option<i64> {
    let totp = totp(secret);
    let now = step_of(unix_seconds);
    (now - 1..=now + 1)
        .rev()
        .filter(|step| *step >= 0)
        .find(|step| totp.check(code, (*step * STEP_SECONDS) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 key, truncated to six digits.
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn codes_follow_rfc_6238() {
        for (time, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(code_at_step(RFC_SECRET, step_of(time)), code, "T = {time}");
        }
    }

    #[test]
    fn the_previous_and_next_steps_are_accepted_and_no_further() {
        let now = 1_111_111_111;
        let step = step_of(now);
        for offset in -1..=1 {
            let code = code_at_step(RFC_SECRET, step + offset);
            assert_eq!(matching_step(RFC_SECRET, &code, now), Some(step + offset));
        }
        for offset in [-3, -2, 2, 3] {
            let code = code_at_step(RFC_SECRET, step + offset);
            assert_eq!(
                matching_step(RFC_SECRET, &code, now),
                None,
                "offset {offset}"
            );
        }
        assert_eq!(matching_step(RFC_SECRET, "12345", now), None);
    }

    #[test]
    fn sealed_secrets_open_only_for_their_operator_and_key() {
        let key = TokenKey::generate();
        let secret = new_secret();
        let sealed = key.seal(7, &secret).expect("seal");
        assert!(sealed.starts_with(SEALED_PREFIX));
        assert!(!sealed.contains(&secret_for_typing(&secret).replace(' ', "")));
        assert_eq!(key.open(7, &sealed).ok(), Some(secret.clone()));
        assert!(key.open(8, &sealed).is_err(), "another operator's row");
        let other = TokenKey::generate();
        assert!(other.open(7, &sealed).is_err(), "another key");
        let mut edited = sealed.clone().into_bytes();
        let last = edited.len() - 3;
        edited[last] = if edited[last] == b'A' { b'B' } else { b'A' };
        assert!(key
            .open(7, &String::from_utf8(edited).expect("ascii"))
            .is_err());
        assert!(key.open(7, "v1:").is_err());
        assert!(key.open(7, "plain").is_err());
        assert_ne!(
            key.seal(7, &secret).expect("seal"),
            sealed,
            "a fresh nonce every time"
        );
    }

    #[test]
    fn the_key_file_is_created_once_and_opens_what_it_sealed() {
        let dir = std::env::temp_dir().join(format!("vpos-key-{}", uuid::Uuid::new_v4()));
        let path = dir.join("token.key");
        let (first, created) = TokenKey::load_or_create(&path).expect("create");
        assert!(created);
        let (second, created) = TokenKey::load_or_create(&path).expect("read");
        assert!(!created);
        let sealed = first.seal(1, b"secret-bytes-1234567").expect("seal");
        assert_eq!(
            second.open(1, &sealed).ok(),
            Some(b"secret-bytes-1234567".to_vec())
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn the_uri_names_the_console_and_the_operator() {
        let uri = otpauth_uri("VPOS 华联", "hualian.admin", RFC_SECRET);
        assert!(uri.starts_with("otpauth://totp/VPOS%20%E5%8D%8E%E8%81%94:hualian.admin?secret="));
        assert!(uri.contains("&digits=6&period=30"));
        assert!(qr_svg(&uri).starts_with("<?xml"));
        assert_eq!(secret_for_typing(RFC_SECRET).replace(' ', "").len(), 32);
        assert_eq!(
            secret_from_typing(&secret_for_typing(RFC_SECRET)).as_deref(),
            Some(RFC_SECRET)
        );
    }
}
