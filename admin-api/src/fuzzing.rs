//! Entry points for the fuzz targets (tests/fuzz-targets, fuzz/): the parsing the console API
//! does on request bodies and query strings, without a store, a session or a socket. Hidden
//! from the docs and used by nothing else; it exists so that the handlers' helpers can stay
//! crate-private.

use std::collections::BTreeMap;

use axum::extract::Query;
use axum::http::Uri;
use control::identity::Role;
use serde_json::Value;

use crate::api_audit::{AuditQuery, filter_of};

use crate::api_identity::{quota_field, string_field, valid_tenant_name, valid_username};
use crate::authz::{Actor, parse_role};
use crate::settings::{self, CATALOGUE, Live};
use crate::store::Update;

/// Body kinds, chosen by the first byte modulo their count.
const KINDS: u8 = 8;

/// Input: one byte choosing the endpoint (0 login, 1 2FA verify, 2 2FA code, 3 password
/// change, 4 one setting, 5 bulk settings, 6 tenant create/update, 7 user create/update),
/// then the JSON body as sent.
pub fn json_body(data: &[u8]) {
    let Some((&kind, body)) = data.split_first() else {
        return;
    };
    // What `http::Body` does: axum's Json extractor, serde_json over the whole body.
    match kind % KINDS {
        0 => {
            let _ = serde_json::from_slice::<crate::api_auth::LoginRequest>(body);
        }
        1 => {
            let _ = serde_json::from_slice::<crate::api_auth::VerifyRequest>(body);
        }
        2 => {
            let _ = serde_json::from_slice::<crate::api_auth::CodeRequest>(body);
        }
        3 => {
            let _ = serde_json::from_slice::<crate::api_identity::PasswordRequest>(body);
        }
        kind => {
            let Ok(value) = serde_json::from_slice::<Value>(body) else {
                return;
            };
            match kind {
                4 => setting(&value),
                5 => bulk_settings(&value),
                6 => tenant(&value),
                _ => user(&value),
            }
        }
    }
}

/// `PUT /settings/{key}`: the value checked against every setting of the catalogue. What is
/// stored reads back as a JSON value that validates to the same stored text.
fn setting(body: &Value) {
    let _ = serde_json::from_value::<crate::api_settings::PutRequest>(body.clone());
    let value = body.get("value").unwrap_or(body);
    for definition in CATALOGUE {
        if let Ok(stored) = settings::validate(definition.key, value) {
            let shown = settings::to_json(definition.key, &stored);
            assert_eq!(settings::validate(definition.key, &shown), Ok(stored));
        }
    }
    if let Some(password) = value.as_str() {
        let _ = settings::check_password(&Live::from_stored(BTreeMap::new()), password);
    }
}

fn bulk_settings(body: &Value) {
    if let Ok(values) = crate::api_settings::bulk_values(body) {
        for (key, stored) in values {
            assert!(settings::definition(&key).is_some(), "{key}");
            let shown = settings::to_json(&key, &stored);
            assert_eq!(settings::validate(&key, &shown), Ok(stored));
        }
    }
}

fn tenant(body: &Value) {
    if let Ok(Some(name)) = string_field(body, "name")
        && valid_tenant_name(name)
    {
        // A tenant name may never be mistaken for a tenant id.
        assert!(!name.starts_with("tenant-") && !name.is_empty());
    }
    let _ = string_field(body, "status");
    let _ = string_field(body, "display_name");
    for name in ["max_storage_bytes", "max_buckets", "max_access_keys"] {
        if let Ok(Update::Set(Some(quota))) = quota_field(body, name) {
            assert!(quota >= 0);
        }
    }
}

fn user(body: &Value) {
    if let Ok(Some(name)) = string_field(body, "username")
        && valid_username(name)
    {
        assert!(!name.starts_with("user-") && !name.is_empty());
    }
    if let Ok(Some(role)) = string_field(body, "role") {
        let _ = parse_role(role);
    }
    let _ = string_field(body, "tenant_id");
    let _ = string_field(body, "password");
}

/// Input: the query string of `GET /api/v1/audit-logs`, read as axum reads it, then turned
/// into a store filter for a global admin, a tenant admin and a user. Whatever is asked, a
/// tenant admin's filter is pinned to their tenant and a user's to themselves.
pub fn audit_query(query: &[u8]) {
    let Ok(query) = std::str::from_utf8(query) else {
        return;
    };
    let Ok(uri) = format!("/api/v1/audit-logs?{query}").parse::<Uri>() else {
        return;
    };
    let Ok(Query(query)) = Query::<AuditQuery>::try_from_uri(&uri) else {
        return;
    };
    let actor = |role: Role| Actor {
        user_id: "user-fuzz".to_owned(),
        username: "fuzz".to_owned(),
        tenant_id: Some("tenant-fuzz".to_owned()),
        role,
        is_root: false,
    };
    let _ = filter_of(&actor(Role::GlobalAdmin), &query);
    if let Ok(filter) = filter_of(&actor(Role::TenantAdmin), &query) {
        assert_eq!(filter.tenant_id.as_deref(), Some("tenant-fuzz"));
    }
    if let Ok(filter) = filter_of(&actor(Role::User), &query) {
        assert_eq!(filter.user_id.as_deref(), Some("user-fuzz"));
    }
}
