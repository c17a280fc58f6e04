//! Password hashing (argon2id) and one-time passwords for new or reset operators.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Hashes a password into a PHC string (`$argon2id$v=19$…`) with a fresh random salt.
pub fn hash_password(password: &SecretString) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.expose_secret().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Whether the password matches the stored PHC string. A malformed hash never matches.
pub fn verify_password(password: &SecretString, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.expose_secret().as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A random one-time password of 16 characters with upper- and lower-case letters and digits, without
/// look-alikes (0/O, 1/l/I), so that it can be read out over the phone.
pub fn generate_one_time_password() -> SecretString {
    const LOWER: &[u8] = b"abcdefghijkmnpqrstuvwxyz";
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const DIGITS: &[u8] = b"23456789";
    let mut rng = rand::rng();
    let mut pick = |set: &[u8]| char::from(set[rng.random_range(0..set.len())]);
    let mut chars: Vec<char> = vec![pick(LOWER), pick(UPPER), pick(DIGITS)];
    let all: Vec<u8> = [LOWER, UPPER, DIGITS].concat();
    while chars.len() < 16 {
        chars.push(pick(&all));
    }
    // Move the guaranteed classes away from the front.
    for i in (1..chars.len()).rev() {
        let j = rand::rng().random_range(0..=i);
        chars.swap(i, j);
    }
    SecretString::from(chars.into_iter().collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let pw = SecretString::from("correct horse 42".to_owned());
        let hash = hash_password(&pw).expect("hashes");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&pw, &hash));
        assert!(!verify_password(
            &SecretString::from("correct horse 43".to_owned()),
            &hash
        ));
        assert!(!verify_password(&pw, "not a hash"));
    }

    #[test]
    fn one_time_passwords_mix_letters_and_digits() {
        for _ in 0..50 {
            let pw = generate_one_time_password();
            let s = pw.expose_secret();
            assert_eq!(s.len(), 16);
            assert!(s.chars().any(|c| c.is_ascii_digit()));
            assert!(s.chars().any(|c| c.is_ascii_lowercase()));
            assert!(s.chars().any(|c| c.is_ascii_uppercase()));
            assert!(!s.contains(['0', 'O', '1', 'l', 'I']));
        }
    }
}
