//! Passwords (Argon2id, memory-hard, a random salt per hash, PHC strings), opaque random tokens
//! stored as SHA-256 digests, backup codes and access key material.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Characters of generated access key ids (AWS style: upper case and digits).
const ACCESS_KEY_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
/// Characters of backup codes: no 0/O or 1/I/L to misread.
const BACKUP_CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
pub const BACKUP_CODES: usize = 10;

/// Argon2id with the crate's defaults (19 MiB, 2 passes: OWASP's recommendation).
pub fn hash_password(password: &str) -> Result<String, String> {
    // 16 random bytes from the OS-seeded generator (the recommended salt length).
    let salt =
        SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(|error| error.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| error.to_string())
}

pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Session and 2FA tokens: 32 random bytes, URL-safe; only their digest is stored.
pub fn new_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

pub fn digest(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

pub fn equal(left: &[u8], right: &[u8]) -> bool {
    bool::from(left.ct_eq(right))
}

fn random_string(alphabet: &[u8], length: usize) -> String {
    (0..length)
        .map(|_| char::from(alphabet[rand::random_range(0..alphabet.len())]))
        .collect()
}

pub fn new_access_key_id() -> String {
    format!("MX{}", random_string(ACCESS_KEY_ALPHABET, 18))
}

pub fn new_secret_key() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 30]>())
}

/// A backup code: 16 characters of a 31-letter alphabet (79 bits), grouped by four. High
/// entropy makes a fast digest enough to store them.
pub fn new_backup_code() -> String {
    let raw = random_string(BACKUP_CODE_ALPHABET, 16);
    format!(
        "{}-{}-{}-{}",
        &raw[0..4],
        &raw[4..8],
        &raw[8..12],
        &raw[12..16]
    )
}

/// The digest a backup code is stored as: case and dashes do not matter when typed.
pub fn backup_code_digest(code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    digest(&normal)
}

pub fn new_id(prefix: &str) -> String {
    format!("{prefix}-{}", hex::encode(rand::random::<[u8; 8]>()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_and_salts_differ() {
        let first = hash_password("Correct Horse 1").unwrap();
        let second = hash_password("Correct Horse 1").unwrap();
        assert!(first.starts_with("$argon2id$"));
        assert_ne!(first, second, "per-hash salt");
        assert!(verify_password("Correct Horse 1", &first));
        assert!(verify_password("Correct Horse 1", &second));
        assert!(!verify_password("Correct Horse 2", &first));
        assert!(!verify_password("Correct Horse 1", "not a phc string"));
    }

    #[test]
    fn backup_codes_normalise_before_digest() {
        let code = new_backup_code();
        assert_eq!(code.len(), 19);
        let typed = code.replace('-', "").to_ascii_lowercase();
        assert_eq!(backup_code_digest(&code), backup_code_digest(&typed));
        assert_ne!(
            backup_code_digest(&code),
            backup_code_digest(&new_backup_code())
        );
    }

    #[test]
    fn generated_keys_have_their_shapes() {
        let id = new_access_key_id();
        assert_eq!(id.len(), 20);
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        );
        assert_eq!(new_secret_key().len(), 40);
        assert_eq!(new_token().len(), 64);
    }
}
