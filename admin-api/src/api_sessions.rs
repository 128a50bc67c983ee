//! Session credentials (STS) on the console API: short-lived S3 credentials for the
//! logged-in user (the console's browser calls the S3 port with them, with that user's
//! rights and never more), and "revoke all sessions" of a user.
//!
//! The data plane mints (it alone holds the token keys, `runtime::sessions`); the admin
//! asks over the control socket. A revocation is part of the identity snapshot and is in
//! force on the S3 port when the answer is 200 (else 503 NotInForce, as every identity change).

use axum::Json;
use axum::extract::{Path, State};
use control::wire::{MintSession, Request, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api_buckets::call;
use crate::api_identity::{find_user, target, user_note};
use crate::app::{Shared, now_ms, rfc3339};
use crate::audit_note::AuditNote;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Body};

/// How long console credentials last unless asked otherwise, and the bounds of asking.
const DEFAULT_SECONDS: u32 = 3600;
const MIN_SECONDS: u32 = 60;
const MAX_SECONDS: u32 = 43_200;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CredentialsRequest {
    #[serde(default)]
    duration_seconds: Option<u32>,
    /// An inline session policy (IAM JSON) narrowing what the credentials may do.
    #[serde(default)]
    policy: Option<Value>,
}

/// `POST /api/v1/auth/s3-credentials`: session credentials of the logged-in user.
pub async fn s3_credentials(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Body(request): Body<CredentialsRequest>,
) -> ApiResult<Json<Value>> {
    if actor.is_root {
        return Err(ApiError::bad_request(
            "the root identity has no S3 sessions; log in as a user (e.g. a global admin)",
        ));
    }
    let duration_secs = request.duration_seconds.unwrap_or(DEFAULT_SECONDS);
    if !(MIN_SECONDS..=MAX_SECONDS).contains(&duration_secs) {
        return Err(ApiError::bad_request(format!(
            "durationSeconds must be {MIN_SECONDS} to {MAX_SECONDS}"
        )));
    }
    let policy = request.policy.as_ref().map(|document| match document {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    });
    let mint = MintSession {
        user_id: actor.user_id.clone(),
        duration_secs,
        policy,
    };
    let minted = match call(&app, Request::MintSession(mint)).await? {
        Response::Session(minted) => minted,
        other => {
            return Err(ApiError::internal(&format!(
                "MintSession answered {other:?}"
            )));
        }
    };
    Ok(Json(json!({
        "accessKeyId": minted.access_key_id,
        "secretAccessKey": minted.secret_access_key,
        "sessionToken": minted.session_token,
        "expiration": rfc3339(minted.expires_at),
        "expiresAt": minted.expires_at,
        "endpoint": app.s3_endpoint,
        "region": app.region,
    })))
}

/// `POST /api/v1/users/{user}/sessions/revoke`: every session credential of the user
/// issued until now stops working (the user's access keys are untouched).
pub async fn revoke_sessions(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(name): Path<String>,
) -> ApiResult<(axum::Extension<AuditNote>, Json<Value>)> {
    let user = find_user(&app, &actor, &name)?;
    if !actor.can_manage_user(target(&user)) {
        return Err(ApiError::forbidden());
    }
    let revoked_at_ms = now_ms();
    app.store.revoke_sessions(&user.id, revoked_at_ms)?;
    app.identity_in_force(user_note(&user)).await?;
    Ok((
        axum::Extension(user_note(&user)),
        Json(json!({"message": "sessions revoked", "revokedAtMs": revoked_at_ms})),
    ))
}
