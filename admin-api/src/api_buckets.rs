//! Buckets through the control channel (never by opening shard files): listed with owner and
//! usage, created for the caller's tenant (optionally with versioning and Object Lock:
//! `api_bucket_config.rs`, which also serves their configuration routes), deleted when
//! empty. A tenant's users see only their tenant's buckets; global admins see all.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use control::wire::{BucketInfo, Request, Response};
use serde_json::{Value, json};

use crate::app::Shared;
use crate::app::{App, rfc3339};
use crate::audit_note::AuditNote;
use crate::authz::Actor;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Body};
use crate::link;

fn unavailable(error: &dyn std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "DataPlaneUnavailable",
        format!("the data plane cannot be reached: {error}"),
    )
}

/// A data plane error as an API error, keeping the S3 code.
fn from_data_plane(code: &str, message: String) -> ApiError {
    let (status, code): (StatusCode, &'static str) = match code {
        "BucketAlreadyExists" => (StatusCode::CONFLICT, "BucketAlreadyExists"),
        "BucketAlreadyOwnedByYou" => (StatusCode::CONFLICT, "BucketAlreadyOwnedByYou"),
        "BucketNotEmpty" => (StatusCode::CONFLICT, "BucketNotEmpty"),
        "InvalidBucketState" => (StatusCode::CONFLICT, "InvalidBucketState"),
        "NoSuchBucket" => (StatusCode::NOT_FOUND, "NoSuchBucket"),
        "InvalidBucketName" => (StatusCode::BAD_REQUEST, "InvalidBucketName"),
        "TooManyBuckets" => (StatusCode::BAD_REQUEST, "TooManyBuckets"),
        "QuotaExceeded" => (StatusCode::FORBIDDEN, "QuotaExceeded"),
        "InvalidRequest" => (StatusCode::BAD_REQUEST, "InvalidRequest"),
        "MalformedPolicy" => (StatusCode::BAD_REQUEST, "MalformedPolicy"),
        "AccessDenied" => (StatusCode::FORBIDDEN, "AccessDenied"),
        _ => (StatusCode::BAD_GATEWAY, "DataPlaneError"),
    };
    ApiError::new(status, code, message)
}

pub(crate) async fn call(app: &App, request: Request) -> ApiResult<Response> {
    match link::call(&app.link, request).await {
        Ok(Response::Error { code, message }) => Err(from_data_plane(&code, message)),
        Ok(response) => Ok(response),
        Err(error) => {
            app.metrics.control_errors.inc();
            Err(unavailable(&error))
        }
    }
}

pub async fn all_buckets(app: &App) -> ApiResult<Vec<BucketInfo>> {
    match call(app, Request::ListBuckets).await? {
        Response::Buckets { buckets } => Ok(buckets),
        other => Err(ApiError::internal(&format!(
            "ListBuckets answered {other:?}"
        ))),
    }
}

fn bucket_json(bucket: &BucketInfo, app: &App) -> Value {
    let owner = bucket
        .user_id
        .as_deref()
        .and_then(|id| app.store.user(id).ok().flatten())
        .map(|user| user.username);
    let tenant = bucket
        .tenant_id
        .as_deref()
        .and_then(|id| app.store.tenant(id).ok().flatten())
        .map(|tenant| tenant.name);
    json!({
        "name": bucket.name,
        "created_at": rfc3339(bucket.created_unix_ms / 1000),
        "tenant_id": bucket.tenant_id,
        "tenant_name": tenant,
        "owner_id": bucket.user_id,
        "owner": owner,
        "object_count": bucket.objects,
        "size": bucket.bytes,
    })
}

fn visible(actor: &Actor, bucket: &BucketInfo) -> bool {
    actor.can_access_bucket(bucket.tenant_id.as_deref())
}

pub async fn list(State(app): State<Shared>, Auth(actor): Auth) -> ApiResult<Json<Value>> {
    let buckets: Vec<Value> = all_buckets(&app)
        .await?
        .iter()
        .filter(|bucket| visible(&actor, bucket))
        .map(|bucket| bucket_json(bucket, &app))
        .collect();
    Ok(Json(json!({"buckets": buckets, "total": buckets.len()})))
}

async fn find(app: &App, actor: &Actor, name: &str) -> ApiResult<BucketInfo> {
    let bucket = all_buckets(app)
        .await?
        .into_iter()
        .find(|bucket| bucket.name == name)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "NoSuchBucket", "no such bucket"))?;
    if !visible(actor, &bucket) {
        return Err(ApiError::forbidden());
    }
    Ok(bucket)
}

pub async fn get_one(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let bucket = find(&app, &actor, &name).await?;
    Ok(Json(bucket_json(&bucket, &app)))
}

fn note(name: &str) -> AuditNote {
    AuditNote {
        resource_type: Some("bucket"),
        resource: Some(name.chars().take(256).collect()),
        ..AuditNote::default()
    }
}

pub async fn create(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Body(body): Body<Value>,
) -> ApiResult<(StatusCode, axum::Extension<AuditNote>, Json<Value>)> {
    let Some(name) = body.get("name").and_then(Value::as_str).map(str::to_owned) else {
        return Err(ApiError::bad_request("name is required"));
    };
    // Global admins may create a bucket for a tenant; everyone else creates in their own.
    let tenant_id = match body.get("tenant_id").and_then(Value::as_str) {
        Some(tenant) if actor.is_global_admin() => Some(
            app.store
                .tenant(tenant)?
                .ok_or_else(|| ApiError::bad_request("no such tenant"))?
                .id,
        ),
        Some(_) => return Err(ApiError::forbidden()),
        None => actor.tenant_id.clone(),
    };
    let (versioning, object_lock) = crate::api_bucket_config::creation_options(&body)?;
    let user_id = (!actor.is_root).then(|| actor.user_id.clone());
    call(
        &app,
        Request::CreateBucket {
            name: name.clone(),
            tenant_id,
            user_id,
            versioning,
            object_lock,
        },
    )
    .await?;
    let bucket = find(&app, &actor, &name).await?;
    Ok((
        StatusCode::CREATED,
        axum::Extension(note(&name)),
        Json(bucket_json(&bucket, &app)),
    ))
}

pub async fn remove(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(name): Path<String>,
) -> ApiResult<(axum::Extension<AuditNote>, Json<Value>)> {
    let bucket = find(&app, &actor, &name).await?;
    call(
        &app,
        Request::DeleteBucket {
            name: bucket.name.clone(),
        },
    )
    .await?;
    Ok((
        axum::Extension(note(&name)),
        Json(json!({"deleted": bucket.name})),
    ))
}
