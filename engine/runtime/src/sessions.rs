//! Session credentials (STS): temporary access keys whose state travels in the session token.
//!
//! A token is the session's claims (JSON) sealed with AES-256-GCM under a key derived from
//! the master keys with its own label (`sealing::SESSION_TOKEN_LABEL`), the session's access
//! key id bound in as associated data. The data plane keeps no table of sessions: any shard
//! that holds the master keys opens a token and learns who the session belongs to, its
//! secret, its expiry and its session policy; a token that was altered, or presented with
//! another access key id, does not open. The admin never sees the token keys: it asks the
//! data plane to mint (`Request::MintSession`).
//!
//! What a session may do is decided at each request from its user's current identity (a
//! disabled or deleted user's sessions stop, a revocation of the user's sessions is in the
//! identity snapshot), narrowed by the session policy: the `identity` module builds the
//! `KeyEntry` of a session from the claims.

use std::cell::RefCell;
use std::rc::Rc;

use control::sealing::{SESSION_TOKEN_LABEL, SealingKeys};
use control::wire::SessionCredentials;
use serde::{Deserialize, Serialize};
use sse::master::MasterKeys;

/// Session access key ids start like AWS's (`ASIA`), then 16 base-32 characters.
pub const SESSION_KEY_PREFIX: &str = "ASIA";
const SESSION_KEY_LENGTH: usize = 20;
/// A longer token is refused before any decoding: a session policy is at most
/// `SESSION_POLICY_BYTES_MAX`, and the rest of the claims are a few hundred bytes.
pub const TOKEN_BYTES_MAX: usize = 8192;
/// AWS's limit on an inline session policy (plain text).
pub const SESSION_POLICY_BYTES_MAX: usize = 2048;

/// How a session came to be, for GetCallerIdentity and the audit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssumedRole {
    /// The RoleArn the caller named.
    pub arn: String,
    pub session_name: String,
}

/// What a token carries. Short field names: the token travels with every request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    /// The session's id (32 hex digits), for the audit.
    pub id: String,
    pub secret: String,
    /// The user whose rights the session has.
    pub user: String,
    /// The access key that asked for the session; `None` when the admin minted it.
    #[serde(default)]
    pub parent: Option<String>,
    /// Unix milliseconds; a revocation of the user's sessions names an instant in the same unit.
    pub issued_ms: i64,
    /// Unix seconds.
    pub expires: i64,
    #[serde(default)]
    pub policy: Option<String>,
    #[serde(default)]
    pub role: Option<AssumedRole>,
}

/// What a new session is for.
pub struct SessionRequest<'a> {
    pub user_id: &'a str,
    pub parent_access_key: Option<&'a str>,
    pub duration_secs: u32,
    /// Validated by the caller (`policy::parse_identity_policy`, at most
    /// `SESSION_POLICY_BYTES_MAX`).
    pub policy: Option<&'a str>,
    pub role: Option<AssumedRole>,
}

/// Why a token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Too long, not a sealed value, sealed under a key these keys do not hold, altered, or
    /// presented with another access key id.
    Invalid,
}

/// Whether an inline session policy is acceptable: at most `SESSION_POLICY_BYTES_MAX`
/// bytes and a valid identity policy. The reason is for the caller's MalformedPolicy.
pub fn check_session_policy(document: &str) -> Result<(), String> {
    if document.len() > SESSION_POLICY_BYTES_MAX {
        return Err(format!(
            "a session policy is at most {SESSION_POLICY_BYTES_MAX} bytes"
        ));
    }
    policy::parse_identity_policy(document)
        .map(|_| ())
        .map_err(|error| error.to_string())
}

pub fn is_session_key(access_key_id: &str) -> bool {
    access_key_id.len() == SESSION_KEY_LENGTH && access_key_id.starts_with(SESSION_KEY_PREFIX)
}

fn token_context(access_key_id: &str) -> String {
    format!("session:{access_key_id}")
}

/// Mints a session: a fresh access key id and secret, and the token that carries them.
pub fn mint(keys: &SealingKeys, request: SessionRequest<'_>, now_ms: i64) -> SessionCredentials {
    let access_key_id = new_access_key_id();
    let secret: [u8; 30] = rand::random();
    let id: [u8; 16] = rand::random();
    let expires = now_ms.div_euclid(1000) + i64::from(request.duration_secs);
    let claims = SessionClaims {
        id: hex::encode(id),
        secret: base64_secret(&secret),
        user: request.user_id.to_owned(),
        parent: request.parent_access_key.map(str::to_owned),
        issued_ms: now_ms,
        expires,
        policy: request.policy.map(str::to_owned),
        role: request.role,
    };
    let plaintext = serde_json::to_vec(&claims).expect("claims serialize");
    SessionCredentials {
        session_token: keys.seal(&token_context(&access_key_id), &plaintext),
        access_key_id,
        secret_access_key: claims.secret,
        expires_at: expires,
    }
}

/// Opens a token presented with `access_key_id`. Expiry is the caller's check (at every
/// request, also for a token it has cached).
pub fn open(
    keys: &SealingKeys,
    access_key_id: &str,
    token: &str,
) -> Result<SessionClaims, TokenError> {
    if token.len() > TOKEN_BYTES_MAX || !is_session_key(access_key_id) {
        return Err(TokenError::Invalid);
    }
    let opened = keys
        .open(&token_context(access_key_id), token)
        .map_err(|_| TokenError::Invalid)?;
    serde_json::from_slice(opened.bytes()).map_err(|_| TokenError::Invalid)
}

fn new_access_key_id() -> String {
    const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let random: [u8; 10] = rand::random();
    let mut bits = u128::from_be_bytes({
        let mut wide = [0u8; 16];
        wide[6..].copy_from_slice(&random);
        wide
    });
    let mut tail = [0u8; 16];
    for slot in tail.iter_mut().rev() {
        *slot = BASE32[usize::try_from(bits & 31).unwrap_or(0)];
        bits >>= 5;
    }
    let mut id = String::with_capacity(SESSION_KEY_LENGTH);
    id.push_str(SESSION_KEY_PREFIX);
    id.extend(tail.iter().map(|byte| char::from(*byte)));
    id
}

fn base64_secret(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The token keys of a keyring: one per master key version, so a token minted before a
/// rotation still opens after it.
pub fn token_keys(master_keys: &MasterKeys) -> SealingKeys {
    crate::control_server::sealing_keys(master_keys, SESSION_TOKEN_LABEL)
}

thread_local! {
    /// This shard's token keys, derived again only when the keyring is replaced (rotation).
    static SHARD_TOKEN_KEYS: RefCell<Option<(Rc<MasterKeys>, Rc<SealingKeys>)>> =
        const { RefCell::new(None) };
}

/// The token keys of the keyring a shard holds now.
pub fn shard_token_keys(master_keys: &Rc<MasterKeys>) -> Rc<SealingKeys> {
    SHARD_TOKEN_KEYS.with(|cell| {
        let mut cell = cell.borrow_mut();
        if let Some((held, keys)) = cell.as_ref()
            && Rc::ptr_eq(held, master_keys)
        {
            return Rc::clone(keys);
        }
        let keys = Rc::new(token_keys(master_keys));
        *cell = Some((Rc::clone(master_keys), Rc::clone(&keys)));
        keys
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> SealingKeys {
        token_keys(&MasterKeys::generate())
    }

    fn request(policy: Option<&str>) -> SessionRequest<'_> {
        SessionRequest {
            user_id: "u-1",
            parent_access_key: Some("AKPARENT"),
            duration_secs: 900,
            policy,
            role: None,
        }
    }

    #[test]
    fn a_minted_token_opens_with_its_access_key_only() {
        let keys = keys();
        let minted = mint(&keys, request(Some("{}")), 1_000_000);
        assert!(is_session_key(&minted.access_key_id));
        assert_eq!(minted.expires_at, 1000 + 900);
        let claims = open(&keys, &minted.access_key_id, &minted.session_token).unwrap();
        assert_eq!(claims.user, "u-1");
        assert_eq!(claims.secret, minted.secret_access_key);
        assert_eq!(claims.policy.as_deref(), Some("{}"));
        assert_eq!(claims.parent.as_deref(), Some("AKPARENT"));
        let other = mint(&keys, request(None), 1_000_000);
        assert_eq!(
            open(&keys, &other.access_key_id, &minted.session_token),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn an_altered_or_foreign_token_does_not_open() {
        let keys = keys();
        let minted = mint(&keys, request(None), 0);
        let mut altered = minted.session_token.clone().into_bytes();
        let last = altered.len() - 3;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        assert!(open(&keys, &minted.access_key_id, &altered).is_err());
        // Another data directory's keys.
        assert!(open(&self::keys(), &minted.access_key_id, &minted.session_token).is_err());
        let long = "x".repeat(TOKEN_BYTES_MAX + 1);
        assert!(open(&keys, &minted.access_key_id, &long).is_err());
    }

    #[test]
    fn a_rotation_keeps_old_tokens_valid() {
        let mut master = MasterKeys::generate();
        let minted = mint(&token_keys(&master), request(None), 0);
        master.rotate();
        assert!(
            open(
                &token_keys(&master),
                &minted.access_key_id,
                &minted.session_token
            )
            .is_ok()
        );
    }

    #[test]
    fn access_key_ids_look_like_aws_session_keys() {
        for _ in 0..100 {
            let id = new_access_key_id();
            assert_eq!(id.len(), 20);
            assert!(id.starts_with("ASIA"));
            assert!(
                id[4..]
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
            );
        }
    }
}
