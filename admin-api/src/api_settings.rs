//! Dynamic settings: read by any admin, changed by global admins. A change is validated,
//! stored, applied by the admin at once (its live map) and pushed to the data plane.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::Shared;
use crate::app::{App, now_seconds, rfc3339};
use crate::audit_note::AuditNote;
use crate::authz::Actor;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Body};
use crate::settings::{self, CATALOGUE, Definition};

/// Most settings one bulk request may change.
const MAX_BULK: usize = 256;

fn readable(actor: &Actor) -> ApiResult<()> {
    if actor.user_scope() == crate::authz::UserScope::OnlySelf {
        return Err(ApiError::forbidden());
    }
    Ok(())
}

fn setting_json(app: &App, definition: &Definition) -> ApiResult<Value> {
    let live = app.live();
    let updates = app.store.setting_updates()?;
    let value = live
        .values
        .get(definition.key)
        .map_or(definition.default, String::as_str);
    let update = updates.get(definition.key);
    // An integer's bounds, so that a form can check a value before sending it.
    let (min, max) = match definition.kind {
        settings::Kind::Int { min, max } => (Some(min), Some(max)),
        settings::Kind::Bool => (None, None),
    };
    Ok(json!({
        "key": definition.key,
        "value": settings::to_json(definition.key, value),
        "default": settings::to_json(definition.key, definition.default),
        "type": definition.type_name(),
        "category": definition.category(),
        "description": definition.description,
        "min": min,
        "max": max,
        "updated_at": update.map(|(at, _)| rfc3339(*at)),
        "updated_by": update.and_then(|(_, by)| by.clone()),
    }))
}

#[derive(Deserialize)]
pub struct ListQuery {
    category: Option<String>,
}

pub async fn list(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    readable(&actor)?;
    let mut out = Vec::new();
    for definition in CATALOGUE {
        if query
            .category
            .as_deref()
            .is_none_or(|category| category == definition.category())
        {
            out.push(setting_json(&app, definition)?);
        }
    }
    Ok(Json(json!({"settings": out, "total": out.len()})))
}

pub async fn categories(Auth(actor): Auth) -> ApiResult<Json<Value>> {
    readable(&actor)?;
    Ok(Json(json!({"categories": settings::categories()})))
}

pub async fn get_one(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(key): Path<String>,
) -> ApiResult<Json<Value>> {
    readable(&actor)?;
    let definition = settings::definition(&key).ok_or_else(|| ApiError::not_found("setting"))?;
    Ok(Json(setting_json(&app, definition)?))
}

/// Stores validated values, applies them here and pushes them to the data plane before the
/// answer (503 `NotInForce` with `note` audited if it does not take them in time).
async fn apply(
    app: &Shared,
    actor: &Actor,
    values: Vec<(String, String)>,
    note: AuditNote,
) -> ApiResult<()> {
    app.store
        .put_settings(&values, &actor.username, now_seconds())?;
    app.reload_settings()?;
    if values
        .iter()
        .any(|(key, _)| key == settings::AUDIT_RETENTION_DAYS)
    {
        crate::app::purge_now(app);
    }
    app.settings_in_force(note).await
}

#[derive(Deserialize)]
pub struct PutRequest {
    value: Value,
}

pub async fn put_one(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(key): Path<String>,
    Body(request): Body<PutRequest>,
) -> ApiResult<(axum::Extension<AuditNote>, Json<Value>)> {
    if !actor.can_manage_settings() {
        return Err(ApiError::forbidden());
    }
    let definition = settings::definition(&key).ok_or_else(|| ApiError::not_found("setting"))?;
    let stored = settings::validate(&key, &request.value).map_err(ApiError::bad_request)?;
    let note = AuditNote {
        resource_type: Some("setting"),
        resource: Some(key.clone()),
        details: Some(json!({"value": stored}).to_string()),
        ..AuditNote::default()
    };
    apply(&app, &actor, vec![(key, stored)], note.clone()).await?;
    Ok((axum::Extension(note), Json(setting_json(&app, definition)?)))
}

/// The (key, stored value) pairs of a bulk request body, every one validated; a separate
/// function so that the fuzz targets run exactly this parsing (crate::fuzzing).
pub(crate) fn bulk_values(body: &Value) -> ApiResult<Vec<(String, String)>> {
    // {"settings": {"key": value, ...}} or the map itself.
    let map = body
        .get("settings")
        .unwrap_or(body)
        .as_object()
        .ok_or_else(|| ApiError::bad_request("send {\"settings\": {key: value, ...}}"))?;
    if map.len() > MAX_BULK {
        return Err(ApiError::bad_request(format!(
            "at most {MAX_BULK} settings at once"
        )));
    }
    let mut values = Vec::new();
    let mut errors = serde_json::Map::new();
    for (key, value) in map {
        match settings::validate(key, value) {
            Ok(stored) => values.push((key.clone(), stored)),
            Err(error) => {
                errors.insert(key.clone(), Value::String(error));
            }
        }
    }
    // All or nothing: one bad value refuses the whole request.
    if !errors.is_empty() {
        return Err(ApiError::bad_request(Value::Object(errors).to_string()));
    }
    Ok(values)
}

pub async fn bulk(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Body(body): Body<Value>,
) -> ApiResult<(axum::Extension<AuditNote>, Json<Value>)> {
    if !actor.can_manage_settings() {
        return Err(ApiError::forbidden());
    }
    let values = bulk_values(&body)?;
    let keys: Vec<String> = values.iter().map(|(key, _)| key.clone()).collect();
    let details: serde_json::Map<String, Value> = values
        .iter()
        .map(|(key, value)| (key.clone(), Value::String(value.clone())))
        .collect();
    let note = AuditNote {
        resource_type: Some("setting"),
        resource: Some(keys.join(",")),
        details: Some(Value::Object(details).to_string()),
        ..AuditNote::default()
    };
    apply(&app, &actor, values, note.clone()).await?;
    Ok((axum::Extension(note), Json(json!({"updated": keys}))))
}
