//! Master key management (docs/design/encryption.md): rotation and status, for global admins
//! only, through the control channel. Master keys never reach the admin: the data plane
//! answers version numbers and counts (and, to `SealingKeys`, only keys derived for sealing
//! admin.db's secrets). A rotation re-seals admin.db's secrets under the new version.

use axum::Json;
use axum::extract::State;
use control::wire::{EncryptionStatus, Request, Response};
use serde_json::{Value, json};

use crate::api_buckets::call;
use crate::app::Shared;
use crate::audit_note::AuditNote;
use crate::authz::Actor;
use crate::error::{ApiError, ApiResult};
use crate::extract::Auth;

fn allowed(actor: &Actor) -> ApiResult<()> {
    if actor.is_global_admin() {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
}

fn status_json(status: &EncryptionStatus) -> Value {
    json!({
        "current_version": status.current_version,
        "versions": status.versions,
        "data_keys_by_version": status
            .data_keys_by_version
            .iter()
            .map(|entry| json!({"version": entry.version, "data_keys": entry.data_keys}))
            .collect::<Vec<_>>(),
        "data_keys_on_old_versions": status.data_keys_on_old_versions,
        "rewrap_complete": status.data_keys_on_old_versions == 0,
    })
}

fn expect_status(response: Response) -> ApiResult<EncryptionStatus> {
    match response {
        Response::Encryption(status) => Ok(status),
        other => Err(ApiError::internal(&format!(
            "the data plane answered {other:?} to an encryption request"
        ))),
    }
}

pub async fn status(State(app): State<Shared>, Auth(actor): Auth) -> ApiResult<Json<Value>> {
    allowed(&actor)?;
    let status = expect_status(call(&app, Request::EncryptionStatus).await?)?;
    Ok(Json(status_json(&status)))
}

pub async fn rotate(
    State(app): State<Shared>,
    Auth(actor): Auth,
) -> ApiResult<(axum::Extension<AuditNote>, Json<Value>)> {
    allowed(&actor)?;
    let status = expect_status(call(&app, Request::RotateMasterKey).await?)?;
    // admin.db's secrets move to the new version now (else at the next background round).
    if let Err(error) = app.sealing_keys(Some(status.current_version)).await {
        tracing::warn!(%error, "secrets not re-sealed after the rotation yet");
    }
    Ok((
        axum::Extension(AuditNote {
            resource_type: Some("master_key"),
            resource: Some(status.current_version.to_string()),
            details: Some(json!({"new_version": status.current_version}).to_string()),
            ..AuditNote::default()
        }),
        Json(status_json(&status)),
    ))
}
