//! Requests signed with session credentials (STS): the token a request carries is opened
//! (`runtime::sessions`) and turned into the session's key before the signature is checked,
//! so that the verifier sees one more credential and nothing else changes.
//!
//! Opening a token costs an AES-GCM open, a JSON parse and possibly a policy compilation:
//! each shard keeps the keys it built, by token, until the identity changes (a session's
//! rights are its user's, which a new identity may change). Expiry is checked at every
//! request, cached or not.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use runtime::ShardContext;
use runtime::identity::{IdentityIndex, KeyEntry};
use runtime::sessions;
use s3_proto::error::{S3Error, S3ErrorCode};

use crate::request::RequestHead;

/// Sessions a shard keeps opened; at the limit the cache starts over (a client that keeps
/// presenting new tokens pays their opening, nothing more).
const CACHED_SESSIONS_MAX: usize = 512;

struct SessionCache {
    identity_version: u64,
    entries: HashMap<String, Rc<KeyEntry>>,
}

thread_local! {
    static SESSIONS: RefCell<SessionCache> = RefCell::new(SessionCache {
        identity_version: 0,
        entries: HashMap::new(),
    });
}

/// The session key of a request that carries a session token; `None` without a token.
/// A token presented with a long-term key, one that does not open, or whose user is gone
/// is InvalidToken.
pub(crate) fn resolve(
    context: &ShardContext,
    identity: &IdentityIndex,
    token: Option<&str>,
    claimed_access_key: Option<&str>,
) -> Result<Option<Rc<KeyEntry>>, S3Error> {
    let Some(token) = token else {
        return Ok(None);
    };
    let invalid = || S3Error::new(S3ErrorCode::InvalidToken);
    let access_key_id = claimed_access_key
        .filter(|id| sessions::is_session_key(id))
        .ok_or_else(invalid)?;
    let cached = SESSIONS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.identity_version != identity.version {
            cache.entries.clear();
            cache.identity_version = identity.version;
        }
        cache.entries.get(token).cloned()
    });
    if let Some(entry) = cached {
        return if entry.access_key_id == access_key_id {
            Ok(Some(entry))
        } else {
            Err(invalid())
        };
    }
    let keys = sessions::shard_token_keys(&context.master_keys());
    let claims = sessions::open(&keys, access_key_id, token).map_err(|_| invalid())?;
    let entry = Rc::new(
        identity
            .session_entry(access_key_id, claims)
            .map_err(|_| invalid())?,
    );
    SESSIONS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.entries.len() >= CACHED_SESSIONS_MAX {
            cache.entries.clear();
        }
        cache.entries.insert(token.to_owned(), Rc::clone(&entry));
    });
    Ok(Some(entry))
}

/// A session that verified may act only before its expiry, and only while its user may
/// (`usable`: user and tenant enabled, sessions not revoked since it was issued).
pub(crate) fn check_in_force(entry: &KeyEntry, now_unix_secs: i64) -> Result<(), S3Error> {
    let Some(session) = &entry.session else {
        return Ok(());
    };
    if now_unix_secs >= session.expires_at {
        return Err(S3Error::new(S3ErrorCode::ExpiredToken));
    }
    if !entry.usable {
        return Err(S3Error::with_message(
            S3ErrorCode::AccessDenied,
            "The session was revoked, or its user or tenant is disabled.",
        ));
    }
    Ok(())
}

/// The session token of a request: the `x-amz-security-token` header, else the presigned
/// `X-Amz-Security-Token` query parameter (percent-decoded).
pub(crate) fn token_of(head: &RequestHead) -> Option<std::borrow::Cow<'_, str>> {
    if let Some(value) = head.header_str("x-amz-security-token") {
        return Some(std::borrow::Cow::Borrowed(value));
    }
    query_value(&head.raw_query, "X-Amz-Security-Token")
}

/// The access key id a request claims (SigV4 header or presigned), before any check: it
/// selects which key the token must have been minted for.
pub(crate) fn claimed_access_key(head: &RequestHead) -> Option<std::borrow::Cow<'_, str>> {
    if let Some(authorization) = head.header_str("authorization") {
        let credential = authorization.split("Credential=").nth(1)?;
        return credential.split('/').next().map(std::borrow::Cow::Borrowed);
    }
    let credential = query_value(&head.raw_query, "X-Amz-Credential")?;
    let access_key = credential.split('/').next()?.to_owned();
    Some(std::borrow::Cow::Owned(access_key))
}

fn query_value<'q>(raw_query: &'q str, name: &str) -> Option<std::borrow::Cow<'q, str>> {
    raw_query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .and_then(|(_, value)| {
            percent_encoding::percent_decode_str(value)
                .decode_utf8()
                .ok()
        })
}
