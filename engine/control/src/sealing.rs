//! Secrets sealed at rest: access-key secrets and TOTP seeds in admin.db, access-key secrets
//! in the data plane's `identity.json`, and (when they exist) replication and webhook
//! credentials. One API for all of them: `SealingKeys::seal` / `SealingKeys::open`.
//!
//! The master keys (`sse::master`) never leave the data plane. From each master key version
//! `v` it derives a sealing key with HKDF-SHA256 (no salt, `info` = a fixed label naming the
//! use, so the keys of two uses are unrelated), and seals under the current version. The
//! admin gets its derived keys over the control socket (`Request::SealingKeys`); those keys
//! open nothing but the admin's own sealed values (HKDF is one-way: no master key, no data key
//! of an object, no other label's key can be computed from them).
//!
//! Sealed form, stored as text: `mxs1:` then standard base64 of
//!
//! ```text
//! format (1 byte, 1) | key version (u32 BE) | nonce (12 random bytes) | ciphertext | tag (16)
//! ```
//!
//! AES-256-GCM; the associated data is the format byte, the key version and a context string
//! that names the row the value belongs to (`access_key:<id>`, `totp:<user id>`, ...), so a
//! sealed value copied into another row, or its version byte changed, does not open.
//! A value without the `mxs1:` prefix is not sealed (rows written before sealing existed);
//! `is_sealed` tells them apart (generated secrets are base64 or base32: no `:`).

use std::collections::BTreeMap;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::hkdf;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};

/// HKDF label of the admin's sealing keys (admin.db).
pub const ADMIN_SECRETS_LABEL: &str = "maxiofs admin secrets v1";
/// HKDF label of the data plane's own sealing keys (identity.json).
pub const IDENTITY_FILE_LABEL: &str = "maxiofs identity.json secrets v1";
/// HKDF label of the keys that seal session tokens (STS credentials): only the data plane
/// holds them, so only it mints and opens tokens.
pub const SESSION_TOKEN_LABEL: &str = "maxiofs session tokens v1";

const PREFIX: &str = "mxs1:";
const FORMAT: u8 = 1;
const HEADER_BYTES: usize = 1 + 4;
const NONCE_BYTES: usize = 12;
const TAG_BYTES: usize = 16;

/// AAD context of an access key's secret.
pub fn access_key_context(access_key_id: &str) -> String {
    format!("access_key:{access_key_id}")
}

/// AAD context of a user's TOTP seed (the pending one during setup, then the active one).
pub fn totp_context(user_id: &str) -> String {
    format!("totp:{user_id}")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealError {
    /// The text is not a sealed value (no `mxs1:` prefix).
    NotSealed,
    /// A sealed value that is not in this format (bad base64, too short, another format).
    Format,
    /// Sealed under a key version these keys do not hold.
    UnknownVersion(u32),
    /// Wrong key, another row's value, or tampered bytes.
    Authentication,
    /// The opened bytes are not UTF-8 (for text secrets).
    NotText,
}

impl std::fmt::Display for SealError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SealError::NotSealed => write!(f, "the value is not sealed"),
            SealError::Format => write!(f, "malformed sealed value"),
            SealError::UnknownVersion(version) => {
                write!(f, "sealed under key version {version}, which is not held")
            }
            SealError::Authentication => write!(
                f,
                "a sealed value did not authenticate (wrong key, moved or tampered)"
            ),
            SealError::NotText => write!(f, "a sealed text secret is not UTF-8"),
        }
    }
}

impl std::error::Error for SealError {}

/// Opened secret bytes; zeroed when dropped, never printed by `Debug`.
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps bytes that are already in the clear (a row written before sealing existed).
    pub fn new(bytes: Vec<u8>) -> Self {
        Secret(bytes)
    }

    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn text(&self) -> Result<&str, SealError> {
        std::str::from_utf8(&self.0).map_err(|_| SealError::NotText)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

fn wipe(bytes: &mut [u8]) {
    for byte in bytes.iter_mut() {
        // SAFETY: `byte` is a valid, aligned, exclusive reference into our own buffer; a
        // volatile write keeps the compiler from dropping the zeroing as a dead store.
        #[allow(unsafe_code)]
        unsafe {
            std::ptr::write_volatile(byte, 0);
        }
    }
}

/// Versioned AES-256 sealing keys, one of them current.
#[derive(Clone)]
pub struct SealingKeys {
    keys: BTreeMap<u32, [u8; 32]>,
    current: u32,
}

impl std::fmt::Debug for SealingKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SealingKeys(current {}, versions {:?})",
            self.current,
            self.keys.keys().collect::<Vec<_>>()
        )
    }
}

impl Drop for SealingKeys {
    fn drop(&mut self) {
        for key in self.keys.values_mut() {
            wipe(key);
        }
    }
}

/// HKDF-SHA256(ikm = `master`, no salt, info = `label`), 32 bytes.
pub fn derive_key(master: &[u8; 32], label: &str) -> [u8; 32] {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, &[]).extract(master);
    let info = [label.as_bytes()];
    let okm = prk
        .expand(&info, hkdf::HKDF_SHA256)
        .expect("32 bytes is a valid HKDF-SHA256 length");
    let mut key = [0u8; 32];
    okm.fill(&mut key)
        .expect("32 bytes is a valid HKDF-SHA256 length");
    key
}

impl SealingKeys {
    /// Keys from raw versions; `current` must be one of them.
    pub fn new(
        current: u32,
        keys: impl IntoIterator<Item = (u32, [u8; 32])>,
    ) -> Result<Self, SealError> {
        let keys: BTreeMap<u32, [u8; 32]> = keys.into_iter().collect();
        if !keys.contains_key(&current) {
            return Err(SealError::UnknownVersion(current));
        }
        Ok(Self { keys, current })
    }

    /// One sealing key per master key version, derived under `label`.
    pub fn derive<'a>(
        label: &str,
        current: u32,
        masters: impl IntoIterator<Item = (u32, &'a [u8; 32])>,
    ) -> Result<Self, SealError> {
        Self::new(
            current,
            masters
                .into_iter()
                .map(|(version, master)| (version, derive_key(master, label))),
        )
    }

    pub fn current_version(&self) -> u32 {
        self.current
    }

    pub fn versions(&self) -> impl Iterator<Item = u32> + '_ {
        self.keys.keys().copied()
    }

    /// Seals `plaintext` for the row named by `context`, under the current version.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> String {
        let nonce: [u8; NONCE_BYTES] = rand::random();
        let mut out = Vec::with_capacity(HEADER_BYTES + NONCE_BYTES + plaintext.len() + TAG_BYTES);
        out.push(FORMAT);
        out.extend_from_slice(&self.current.to_be_bytes());
        let aad = associated_data(&out[..HEADER_BYTES], context);
        out.extend_from_slice(&nonce);
        let body_start = out.len();
        out.extend_from_slice(plaintext);
        let tag = gcm_key(&self.keys[&self.current])
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_slice()),
                &mut out[body_start..],
            )
            .expect("AES-GCM sealing of a short secret cannot fail");
        out.extend_from_slice(tag.as_ref());
        format!("{PREFIX}{}", BASE64.encode(&out))
    }

    /// Opens a value sealed for `context` with the key version it names.
    pub fn open(&self, context: &str, sealed: &str) -> Result<Secret, SealError> {
        let mut raw = decode(sealed)?;
        let version = u32::from_be_bytes(raw[1..HEADER_BYTES].try_into().expect("4 bytes"));
        let key = self
            .keys
            .get(&version)
            .ok_or(SealError::UnknownVersion(version))?;
        let aad = associated_data(&raw[..HEADER_BYTES], context);
        let nonce =
            Nonce::try_assume_unique_for_key(&raw[HEADER_BYTES..HEADER_BYTES + NONCE_BYTES])
                .map_err(|_| SealError::Format)?;
        let opened = gcm_key(key)
            .open_in_place(
                nonce,
                Aad::from(aad.as_slice()),
                &mut raw[HEADER_BYTES + NONCE_BYTES..],
            )
            .map(|plain| plain.to_vec());
        wipe(&mut raw);
        opened.map(Secret).map_err(|_| SealError::Authentication)
    }

    /// A text secret (access-key secret, base32 TOTP seed) opened as a `String`-like value.
    pub fn open_text(&self, context: &str, sealed: &str) -> Result<Secret, SealError> {
        let secret = self.open(context, sealed)?;
        secret.text()?;
        Ok(secret)
    }

    /// True when `stored` must be (re)sealed: not sealed yet, or sealed under an older
    /// version than the current one.
    pub fn needs_sealing(&self, stored: &str) -> bool {
        sealed_version(stored).is_none_or(|version| version != self.current)
    }

    /// The keys as they cross the control socket (base64).
    pub fn to_wire(&self) -> SealingKeySet {
        SealingKeySet {
            current_version: self.current,
            keys: self
                .keys
                .iter()
                .map(|(version, key)| WireSealingKey {
                    version: *version,
                    key: BASE64.encode(key),
                })
                .collect(),
        }
    }

    pub fn from_wire(set: &SealingKeySet) -> Result<Self, SealError> {
        let mut keys = Vec::with_capacity(set.keys.len());
        for entry in &set.keys {
            let mut bytes = BASE64.decode(&entry.key).map_err(|_| SealError::Format)?;
            let key = <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| SealError::Format);
            wipe(&mut bytes);
            keys.push((entry.version, key?));
        }
        Self::new(set.current_version, keys)
    }
}

/// Whether a stored value is in the sealed form (it may still fail to open).
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(PREFIX)
}

/// The key version a sealed value names (`None`: not sealed, or malformed).
pub fn sealed_version(stored: &str) -> Option<u32> {
    decode(stored)
        .ok()
        .map(|raw| u32::from_be_bytes(raw[1..HEADER_BYTES].try_into().expect("4 bytes")))
}

fn decode(sealed: &str) -> Result<Vec<u8>, SealError> {
    let body = sealed.strip_prefix(PREFIX).ok_or(SealError::NotSealed)?;
    let raw = BASE64.decode(body).map_err(|_| SealError::Format)?;
    if raw.len() < HEADER_BYTES + NONCE_BYTES + TAG_BYTES || raw[0] != FORMAT {
        return Err(SealError::Format);
    }
    Ok(raw)
}

fn associated_data(header: &[u8], context: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(header.len() + context.len());
    aad.extend_from_slice(header);
    aad.extend_from_slice(context.as_bytes());
    aad
}

fn gcm_key(key: &[u8; 32]) -> LessSafeKey {
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).expect("AES_256_GCM takes 32 bytes"))
}

/// The admin's sealing keys as the data plane hands them over (`Response::SealingKeys`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealingKeySet {
    pub current_version: u32,
    /// Every version, ascending.
    pub keys: Vec<WireSealingKey>,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireSealingKey {
    pub version: u32,
    /// Standard base64 of 32 bytes.
    pub key: String,
}

impl std::fmt::Debug for SealingKeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SealingKeySet(current {}, versions {:?})",
            self.current_version,
            self.keys.iter().map(|key| key.version).collect::<Vec<_>>()
        )
    }
}

impl std::fmt::Debug for WireSealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WireSealingKey(version {}, ..)", self.version)
    }
}

impl Drop for WireSealingKey {
    fn drop(&mut self) {
        // The base64 text is key material too.
        let mut bytes = std::mem::take(&mut self.key).into_bytes();
        wipe(&mut bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(current: u32) -> SealingKeys {
        SealingKeys::derive(
            ADMIN_SECRETS_LABEL,
            current,
            [(1, &[1u8; 32]), (2, &[2u8; 32])],
        )
        .unwrap()
    }

    #[test]
    fn seals_and_opens_with_the_version_it_names() {
        let old = keys(1);
        let sealed = old.seal("access_key:AK1", b"the secret");
        assert!(is_sealed(&sealed));
        assert!(!sealed.contains("the secret"));
        assert_eq!(sealed_version(&sealed), Some(1));
        assert_eq!(
            old.open("access_key:AK1", &sealed).unwrap().bytes(),
            b"the secret"
        );
        // After a rotation the newer keys open the old value and want it re-sealed.
        let new = keys(2);
        assert!(new.needs_sealing(&sealed));
        assert_eq!(
            new.open_text("access_key:AK1", &sealed).unwrap().text(),
            Ok("the secret")
        );
        let resealed = new.seal("access_key:AK1", b"the secret");
        assert_eq!(sealed_version(&resealed), Some(2));
        assert!(!new.needs_sealing(&resealed));
        assert!(new.needs_sealing("PLAINTEXTSECRET"));
        // Keys without version 2 cannot open it.
        let only_one =
            SealingKeys::new(1, [(1, derive_key(&[1u8; 32], ADMIN_SECRETS_LABEL))]).unwrap();
        assert_eq!(
            only_one.open("access_key:AK1", &resealed).unwrap_err(),
            SealError::UnknownVersion(2)
        );
    }

    #[test]
    fn a_value_moved_to_another_row_does_not_open() {
        let keys = keys(2);
        let sealed = keys.seal("access_key:AK1", b"secret of AK1");
        assert_eq!(
            keys.open("access_key:AK2", &sealed).unwrap_err(),
            SealError::Authentication
        );
        assert_eq!(
            keys.open("totp:AK1", &sealed).unwrap_err(),
            SealError::Authentication
        );
        let seed = keys.seal(&totp_context("u1"), b"JBSWY3DPEHPK3PXP");
        assert_eq!(
            keys.open(&totp_context("u2"), &seed).unwrap_err(),
            SealError::Authentication
        );
    }

    #[test]
    fn every_flipped_bit_and_other_labels_fail() {
        let keys = keys(2);
        let sealed = keys.seal("totp:u1", b"seed");
        let raw = BASE64.decode(sealed.strip_prefix(PREFIX).unwrap()).unwrap();
        for index in 0..raw.len() {
            let mut bad = raw.clone();
            bad[index] ^= 0x01;
            let text = format!("{PREFIX}{}", BASE64.encode(&bad));
            assert!(keys.open("totp:u1", &text).is_err(), "byte {index}");
        }
        let identity_keys =
            SealingKeys::derive(IDENTITY_FILE_LABEL, 2, [(1, &[1u8; 32]), (2, &[2u8; 32])])
                .unwrap();
        assert_eq!(
            identity_keys.open("totp:u1", &sealed).unwrap_err(),
            SealError::Authentication
        );
        assert_eq!(
            keys.open("totp:u1", "plain").unwrap_err(),
            SealError::NotSealed
        );
        assert_eq!(
            keys.open("totp:u1", "mxs1:!!!").unwrap_err(),
            SealError::Format
        );
        assert_eq!(
            keys.open("totp:u1", "mxs1:AAAA").unwrap_err(),
            SealError::Format
        );
    }

    #[test]
    fn the_format_is_plain_aes_256_gcm_with_hkdf_sha256_keys() {
        // The layout, checked byte by byte against an independent AES-256-GCM and HKDF.
        use aes_gcm::aead::{Aead, KeyInit, Payload};
        use hmac::{Hmac, Mac};
        let master = [7u8; 32];
        // RFC 5869 by hand: PRK = HMAC(zeros, ikm), OKM = HMAC(PRK, info | 0x01).
        let mut extract = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&[0u8; 32]).unwrap();
        extract.update(&master);
        let prk = extract.finalize().into_bytes();
        let mut expand = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&prk).unwrap();
        expand.update(ADMIN_SECRETS_LABEL.as_bytes());
        expand.update(&[1]);
        let expected: [u8; 32] = expand.finalize().into_bytes().into();
        assert_eq!(derive_key(&master, ADMIN_SECRETS_LABEL), expected);

        let keys = SealingKeys::derive(ADMIN_SECRETS_LABEL, 3, [(3, &master)]).unwrap();
        let sealed = keys.seal("access_key:AK9", b"s3cr3t");
        let raw = BASE64
            .decode(sealed.strip_prefix("mxs1:").unwrap())
            .unwrap();
        assert_eq!(raw[0], 1, "format");
        assert_eq!(&raw[1..5], &3u32.to_be_bytes(), "key version");
        assert_eq!(raw.len(), 5 + 12 + 6 + 16);
        let mut aad = raw[..5].to_vec();
        aad.extend_from_slice(b"access_key:AK9");
        let plain = aes_gcm::Aes256Gcm::new(&expected.into())
            .decrypt(
                aes_gcm::Nonce::from_slice(&raw[5..17]),
                Payload {
                    msg: &raw[17..],
                    aad: &aad,
                },
            )
            .unwrap();
        assert_eq!(plain, b"s3cr3t");
    }

    #[test]
    fn wire_form_round_trips_and_debug_shows_no_key() {
        let keys = keys(2);
        let wire = keys.to_wire();
        let json = serde_json::to_string(&wire).unwrap();
        let back: SealingKeySet = serde_json::from_str(&json).unwrap();
        let again = SealingKeys::from_wire(&back).unwrap();
        let sealed = keys.seal("x", b"y");
        assert_eq!(again.open("x", &sealed).unwrap().bytes(), b"y");
        let shown = format!("{wire:?} {keys:?} {:?}", again.open("x", &sealed).unwrap());
        assert!(!shown.contains(&wire.keys[0].key), "{shown}");
        let mut bad = back.clone();
        bad.current_version = 9;
        assert_eq!(
            SealingKeys::from_wire(&bad).unwrap_err(),
            SealError::UnknownVersion(9)
        );
    }
}
