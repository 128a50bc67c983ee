//! Tenants, users and access keys. Every change is stored in admin.db and then pushed to the
//! data plane as a whole identity snapshot before the answer, so it is in force on the S3 port
//! when the client hears back.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use control::identity::Role;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::Shared;
use crate::app::{App, now_seconds, rfc3339};
use crate::audit_note::AuditNote;
use crate::authz::{Actor, Target, UserScope, parse_role, role_name};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Body, Session};
use crate::secrets;
use crate::settings;
use crate::store::{AccessKey, KeyInsert, Tenant, TenantChange, Update, User, UserChange};

const MAX_NAME_LENGTH: usize = 64;
const USER_STATUSES: &[&str] = &["active", "disabled", "locked"];

/// Tenant and user names share lookups with ids (`tenant-…`, `user-…`), so a name may not
/// look like an id.
pub(crate) fn valid_tenant_name(name: &str) -> bool {
    (1..=MAX_NAME_LENGTH).contains(&name.len())
        && !name.starts_with("tenant-")
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
}

pub(crate) fn valid_username(name: &str) -> bool {
    (1..=MAX_NAME_LENGTH).contains(&name.len())
        && !name.starts_with("user-")
        && name != crate::app::ROOT_USER_ID
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._@-".contains(&b))
}

fn tenant_json(tenant: &Tenant) -> Value {
    json!({
        "id": tenant.id,
        "name": tenant.name,
        "display_name": tenant.display_name,
        "status": tenant.status,
        "max_storage_bytes": tenant.max_storage_bytes,
        "max_buckets": tenant.max_buckets,
        "max_access_keys": tenant.max_access_keys,
        "created_at": rfc3339(tenant.created_at),
        "updated_at": rfc3339(tenant.updated_at),
    })
}

pub fn user_json(user: &User) -> Value {
    let locked = user.locked_until > now_seconds();
    json!({
        "id": user.id,
        "username": user.username,
        "tenant_id": user.tenant_id,
        "role": user.role,
        "status": user.status,
        "email": user.email,
        "display_name": user.display_name,
        "two_factor_enabled": user.totp_enabled,
        "locked": locked || user.status == "locked",
        "locked_until": locked.then(|| rfc3339(user.locked_until)),
        "created_at": rfc3339(user.created_at),
        "updated_at": rfc3339(user.updated_at),
    })
}

fn key_json(key: &AccessKey, username: &str) -> Value {
    json!({
        "access_key_id": key.access_key_id,
        "user_id": key.user_id,
        "username": username,
        "status": key.status,
        "created_at": rfc3339(key.created_at),
    })
}

pub(crate) fn target(user: &User) -> Target<'_> {
    Target {
        user_id: &user.id,
        tenant_id: user.tenant_id.as_deref(),
        role: parse_role(&user.role).unwrap_or(Role::User),
    }
}

/// A quota field of a request body: absent (kept), `null` (unlimited) or a count.
pub(crate) fn quota_field(body: &Value, name: &str) -> ApiResult<Update<Option<i64>>> {
    match body.get(name) {
        None => Ok(Update::Keep),
        Some(Value::Null) => Ok(Update::Set(None)),
        Some(value) => value
            .as_i64()
            .filter(|number| *number >= 0)
            .map(|number| Update::Set(Some(number)))
            .ok_or_else(|| ApiError::bad_request(format!("{name} must be a number >= 0 or null"))),
    }
}

pub(crate) fn string_field<'a>(body: &'a Value, name: &str) -> ApiResult<Option<&'a str>> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.as_str())),
        Some(_) => Err(ApiError::bad_request(format!("{name} must be a string"))),
    }
}

fn tenant_note(tenant: &Tenant) -> AuditNote {
    AuditNote {
        resource_type: Some("tenant"),
        resource: Some(tenant.name.clone()),
        ..AuditNote::default()
    }
}

/// Whom "no such ..." may be told: a global admin sees everything anyway; anyone else gets
/// the same 403 for a name that does not exist as for one they may not see, so the answer
/// does not tell which tenants or users exist.
pub(crate) fn missing(actor: &Actor, what: &str) -> ApiError {
    if actor.is_global_admin() {
        ApiError::not_found(what)
    } else {
        ApiError::forbidden()
    }
}

fn find_tenant(app: &App, actor: &Actor, name: &str) -> ApiResult<Tenant> {
    let tenant = app
        .store
        .tenant(name)?
        .ok_or_else(|| missing(actor, "tenant"))?;
    if !actor.can_view_tenant(&tenant.id) {
        return Err(ApiError::forbidden());
    }
    Ok(tenant)
}

/// The id of the tenant a request names, looked up only after `actor` passed the permission
/// check for it (a tenant admin naming a tenant that does not exist hears 403, as for one of
/// somebody else's; a global admin hears 400).
pub(crate) fn named_tenant(app: &App, actor: &Actor, name: &str) -> ApiResult<String> {
    match app.store.tenant(name)? {
        Some(tenant) => Ok(tenant.id),
        None if actor.is_global_admin() => Err(ApiError::bad_request("no such tenant")),
        None => Err(ApiError::forbidden()),
    }
}

pub async fn list_tenants(State(app): State<Shared>, Auth(actor): Auth) -> ApiResult<Json<Value>> {
    let tenants: Vec<Value> = app
        .store
        .tenants()?
        .iter()
        .filter(|tenant| actor.can_view_tenant(&tenant.id))
        .map(tenant_json)
        .collect();
    Ok(Json(json!({"tenants": tenants, "total": tenants.len()})))
}

pub async fn create_tenant(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Body(body): Body<Value>,
) -> ApiResult<(StatusCode, axum::Extension<AuditNote>, Json<Value>)> {
    if !actor.can_manage_tenants() {
        return Err(ApiError::forbidden());
    }
    let name = string_field(&body, "name")?.unwrap_or_default().to_owned();
    if !valid_tenant_name(&name) {
        return Err(ApiError::bad_request(
            "name: 1-64 of a-z, 0-9 and '-', not starting with '-' or tenant-",
        ));
    }
    if app.store.tenant(&name)?.is_some() {
        return Err(ApiError::conflict(
            "TenantAlreadyExists",
            "a tenant has this name",
        ));
    }
    let status = string_field(&body, "status")?.unwrap_or("active");
    if status != "active" && status != "disabled" {
        return Err(ApiError::bad_request("status: active or disabled"));
    }
    let now = now_seconds();
    let tenant = Tenant {
        id: secrets::new_id("tenant"),
        display_name: string_field(&body, "display_name")?
            .unwrap_or(&name)
            .chars()
            .take(256)
            .collect(),
        name,
        status: status.into(),
        max_storage_bytes: quota_field(&body, "max_storage_bytes")?.or(None),
        max_buckets: quota_field(&body, "max_buckets")?.or(None),
        max_access_keys: quota_field(&body, "max_access_keys")?.or(None),
        created_at: now,
        updated_at: now,
    };
    app.store.insert_tenant(&tenant)?;
    app.identity_in_force(tenant_note(&tenant)).await?;
    Ok((
        StatusCode::CREATED,
        axum::Extension(tenant_note(&tenant)),
        Json(tenant_json(&tenant)),
    ))
}

pub async fn get_tenant(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(tenant_json(&find_tenant(&app, &actor, &name)?)))
}

pub async fn update_tenant(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(name): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<(axum::Extension<AuditNote>, Json<Value>)> {
    if !actor.can_manage_tenants() {
        return Err(ApiError::forbidden());
    }
    let tenant = find_tenant(&app, &actor, &name)?;
    let mut change = TenantChange {
        display_name: string_field(&body, "display_name")?
            .map(|text| text.chars().take(256).collect()),
        max_storage_bytes: quota_field(&body, "max_storage_bytes")?,
        max_buckets: quota_field(&body, "max_buckets")?,
        max_access_keys: quota_field(&body, "max_access_keys")?,
        ..TenantChange::default()
    };
    if let Some(status) = string_field(&body, "status")? {
        if status != "active" && status != "disabled" {
            return Err(ApiError::bad_request("status: active or disabled"));
        }
        change.status = Some(status.into());
    }
    // Only the fields named are written: a concurrent edit of another field stays.
    if !app
        .store
        .update_tenant(&tenant.id, &change, now_seconds())?
    {
        return Err(ApiError::not_found("tenant"));
    }
    app.identity_in_force(tenant_note(&tenant)).await?;
    let tenant = app
        .store
        .tenant(&tenant.id)?
        .ok_or_else(|| ApiError::not_found("tenant"))?;
    Ok((
        axum::Extension(tenant_note(&tenant)),
        Json(tenant_json(&tenant)),
    ))
}

pub async fn delete_tenant(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(name): Path<String>,
) -> ApiResult<(axum::Extension<AuditNote>, Json<Value>)> {
    if !actor.can_manage_tenants() {
        return Err(ApiError::forbidden());
    }
    let tenant = find_tenant(&app, &actor, &name)?;
    if !app.store.users(Some(&tenant.id))?.is_empty() {
        return Err(ApiError::conflict(
            "TenantNotEmpty",
            "the tenant still has users",
        ));
    }
    let buckets = crate::api_buckets::all_buckets(&app).await?;
    if buckets
        .iter()
        .any(|bucket| bucket.tenant_id.as_deref() == Some(tenant.id.as_str()))
    {
        return Err(ApiError::conflict(
            "TenantNotEmpty",
            "the tenant still has buckets",
        ));
    }
    if !app.store.delete_tenant_if_empty(&tenant.id)? {
        return Err(ApiError::conflict(
            "TenantNotEmpty",
            "the tenant still has users",
        ));
    }
    app.identity_in_force(tenant_note(&tenant)).await?;
    Ok((
        axum::Extension(tenant_note(&tenant)),
        Json(json!({"deleted": tenant.id})),
    ))
}

pub async fn tenant_users(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let tenant = find_tenant(&app, &actor, &name)?;
    if actor.user_scope() == UserScope::OnlySelf {
        return Err(ApiError::forbidden());
    }
    let users: Vec<Value> = app
        .store
        .users(Some(&tenant.id))?
        .iter()
        .map(user_json)
        .collect();
    Ok(Json(json!({"users": users, "total": users.len()})))
}

pub(crate) fn find_user(app: &App, actor: &Actor, name: &str) -> ApiResult<User> {
    let user = app
        .store
        .user(name)?
        .ok_or_else(|| missing(actor, "user"))?;
    if !actor.can_view_user(target(&user)) {
        return Err(ApiError::forbidden());
    }
    Ok(user)
}

pub(crate) fn user_note(user: &User) -> AuditNote {
    AuditNote {
        resource_type: Some("user"),
        resource: Some(user.username.clone()),
        ..AuditNote::default()
    }
}

pub async fn list_users(State(app): State<Shared>, Auth(actor): Auth) -> ApiResult<Json<Value>> {
    let users: Vec<Value> = match actor.user_scope() {
        UserScope::All => app.store.users(None)?.iter().map(user_json).collect(),
        UserScope::Tenant(tenant) => app
            .store
            .users(Some(tenant))?
            .iter()
            .map(user_json)
            .collect(),
        // A plain user sees themselves.
        UserScope::OnlySelf => app
            .store
            .user(&actor.user_id)?
            .iter()
            .map(user_json)
            .collect(),
    };
    Ok(Json(json!({"users": users, "total": users.len()})))
}

/// An Argon2 hash through the admin's hashing gate (503 when too many wait).
async fn hash_password(app: &App, password: String) -> ApiResult<String> {
    app.hash_work(move || secrets::hash_password(&password))
        .await?
        .map_err(|error| ApiError::internal(&error))
}

pub async fn create_user(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Body(body): Body<Value>,
) -> ApiResult<(StatusCode, axum::Extension<AuditNote>, Json<Value>)> {
    let username = string_field(&body, "username")?
        .unwrap_or_default()
        .to_owned();
    if !valid_username(&username) {
        return Err(ApiError::bad_request(
            "username: 1-64 of letters, digits and . _ @ -, not starting with user-",
        ));
    }
    let role_text = string_field(&body, "role")?.unwrap_or("user");
    let role = parse_role(role_text)
        .ok_or_else(|| ApiError::bad_request("role: global_admin, tenant_admin or user"))?;
    // A tenant admin's users land in their tenant unless they name it.
    let tenant_id = match string_field(&body, "tenant_id")? {
        Some(name) => Some(named_tenant(&app, &actor, name)?),
        None if actor.role == Role::TenantAdmin => actor.tenant_id.clone(),
        None => None,
    };
    if !actor.can_assign(tenant_id.as_deref(), role) {
        return Err(ApiError::forbidden());
    }
    if username == app.root.user || app.store.user(&username)?.is_some() {
        return Err(ApiError::conflict(
            "UserAlreadyExists",
            "a user has this name",
        ));
    }
    let password = string_field(&body, "password")?
        .unwrap_or_default()
        .to_owned();
    settings::check_password(&app.live(), &password).map_err(ApiError::bad_request)?;
    let status = string_field(&body, "status")?.unwrap_or("active");
    if !USER_STATUSES.contains(&status) {
        return Err(ApiError::bad_request("status: active, disabled or locked"));
    }
    let policies = crate::api_iam::initial_policies(&app, &actor, &body, tenant_id.as_deref())?;
    let now = now_seconds();
    let user = User {
        id: secrets::new_id("user"),
        username,
        password_hash: hash_password(&app, password).await?,
        tenant_id,
        role: role_name(role).into(),
        status: status.into(),
        email: string_field(&body, "email")?.map(|text| text.chars().take(256).collect()),
        display_name: string_field(&body, "display_name")?
            .map(|text| text.chars().take(256).collect()),
        failed_attempts: 0,
        locked_until: 0,
        totp_secret: None,
        totp_enabled: false,
        totp_pending_secret: None,
        totp_last_step: None,
        created_at: now,
        updated_at: now,
    };
    app.store.insert_user_with_policies(&user, &policies)?;
    app.identity_in_force(user_note(&user)).await?;
    let mut answer = user_json(&user);
    merge(&mut answer, crate::api_iam::user_grants(&app, &user)?);
    Ok((
        StatusCode::CREATED,
        axum::Extension(user_note(&user)),
        Json(answer),
    ))
}

pub async fn get_user(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let user = find_user(&app, &actor, &name)?;
    let mut answer = user_json(&user);
    merge(&mut answer, crate::api_iam::user_grants(&app, &user)?);
    Ok(Json(answer))
}

/// `extra`'s fields added to the object `into`.
fn merge(into: &mut Value, extra: Value) {
    if let (Value::Object(into), Value::Object(extra)) = (into, extra) {
        into.extend(extra);
    }
}

pub async fn update_user(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(name): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<(axum::Extension<AuditNote>, Json<Value>)> {
    let user = find_user(&app, &actor, &name)?;
    if !actor.can_manage_user(target(&user)) {
        return Err(ApiError::forbidden());
    }
    let old_role = parse_role(&user.role).unwrap_or(Role::User);
    let role = match string_field(&body, "role")? {
        Some(text) => parse_role(text)
            .ok_or_else(|| ApiError::bad_request("role: global_admin, tenant_admin or user"))?,
        None => old_role,
    };
    let tenant_id = match body.get("tenant_id") {
        None => user.tenant_id.clone(),
        Some(Value::Null) => None,
        Some(Value::String(name)) => {
            // Moving a user is a standing change: only someone who may change it learns
            // whether the tenant exists.
            if !actor.can_change_standing(target(&user)) {
                return Err(ApiError::forbidden());
            }
            Some(named_tenant(&app, &actor, name)?)
        }
        Some(_) => return Err(ApiError::bad_request("tenant_id must be a string or null")),
    };
    let status = string_field(&body, "status")?
        .unwrap_or(&user.status)
        .to_owned();
    if !USER_STATUSES.contains(&status.as_str()) {
        return Err(ApiError::bad_request("status: active, disabled or locked"));
    }
    let standing_changes = role != old_role || tenant_id != user.tenant_id || status != user.status;
    if standing_changes
        && (!actor.can_change_standing(target(&user))
            || !actor.can_assign(tenant_id.as_deref(), role))
    {
        return Err(ApiError::forbidden());
    }
    let event = if role != old_role {
        Some("user_role_changed")
    } else if status != user.status {
        Some(if status == "active" {
            "user_unblocked"
        } else {
            "user_status_changed"
        })
    } else {
        None
    };
    let change = UserChange {
        role: (role != old_role).then(|| role_name(role).to_owned()),
        tenant_id: if tenant_id == user.tenant_id {
            Update::Keep
        } else {
            Update::Set(tenant_id.clone())
        },
        status: (status != user.status).then(|| status.clone()),
        email: string_field(&body, "email")?.map(|text| text.chars().take(256).collect()),
        display_name: string_field(&body, "display_name")?
            .map(|text| text.chars().take(256).collect()),
    };
    // Written only if the user's role, tenant and status are still what the checks above
    // saw; the sessions of a user no longer active end in the same transaction.
    if !app
        .store
        .update_user(&user.id, &user.standing(), &change, now_seconds())?
    {
        return Err(ApiError::changed_meanwhile());
    }
    if standing_changes {
        let note = AuditNote {
            event,
            ..user_note(&user)
        };
        app.identity_in_force(note).await?;
    }
    let user = app
        .store
        .user(&user.id)?
        .ok_or_else(|| ApiError::not_found("user"))?;
    Ok((
        axum::Extension(AuditNote {
            event,
            ..user_note(&user)
        }),
        Json(user_json(&user)),
    ))
}

pub async fn delete_user(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(name): Path<String>,
) -> ApiResult<(axum::Extension<AuditNote>, Json<Value>)> {
    let user = find_user(&app, &actor, &name)?;
    if !actor.can_change_standing(target(&user)) {
        return Err(ApiError::forbidden());
    }
    app.store.delete_user(&user.id)?;
    app.identity_in_force(user_note(&user)).await?;
    Ok((
        axum::Extension(user_note(&user)),
        Json(json!({"deleted": user.id})),
    ))
}

#[derive(Deserialize)]
pub struct PasswordRequest {
    #[serde(default)]
    current_password: Option<String>,
    new_password: String,
}

/// One's own password (the current one required; one's other sessions end) or an
/// administrator's reset (every session of the user ends).
pub async fn change_password(
    State(app): State<Shared>,
    Session(session): Session,
    Path(name): Path<String>,
    Body(request): Body<PasswordRequest>,
) -> ApiResult<(axum::Extension<AuditNote>, Json<Value>)> {
    let actor = &session.actor;
    let user = find_user(&app, actor, &name)?;
    if !actor.can_manage_user(target(&user)) {
        return Err(ApiError::forbidden());
    }
    app.account_change_allowed(&user.id)?;
    settings::check_password(&app.live(), &request.new_password).map_err(ApiError::bad_request)?;
    let own = actor.user_id == user.id;
    // One's own password needs the current one (a stolen session cannot take the account).
    if own {
        let current = request.current_password.unwrap_or_default();
        if !app
            .verify_password(current, user.password_hash.clone())
            .await?
        {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "InvalidCredentials",
                "current_password is wrong",
            ));
        }
    }
    let new_hash = hash_password(&app, request.new_password).await?;
    // Only the hash is written, and for one's own change only if it is still the hash the
    // current password was checked against.
    let changed = app.store.set_password(
        &user.id,
        own.then_some(user.password_hash.as_str()),
        &new_hash,
        own.then_some(session.token_digest.as_str()),
        now_seconds(),
    )?;
    if !changed {
        return Err(ApiError::changed_meanwhile());
    }
    Ok((
        axum::Extension(user_note(&user)),
        Json(json!({"message": "password changed"})),
    ))
}

pub async fn unlock_user(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(name): Path<String>,
) -> ApiResult<(axum::Extension<AuditNote>, Json<Value>)> {
    let user = find_user(&app, &actor, &name)?;
    if !actor.can_change_standing(target(&user)) {
        return Err(ApiError::forbidden());
    }
    if app.store.unlock_user(&user.id, now_seconds())? {
        app.identity_in_force(user_note(&user)).await?;
    }
    let user = app
        .store
        .user(&user.id)?
        .ok_or_else(|| ApiError::not_found("user"))?;
    Ok((axum::Extension(user_note(&user)), Json(user_json(&user))))
}

pub async fn list_all_keys(State(app): State<Shared>, Auth(actor): Auth) -> ApiResult<Json<Value>> {
    let users = match actor.user_scope() {
        UserScope::All => app.store.users(None)?,
        UserScope::Tenant(tenant) => app.store.users(Some(tenant))?,
        UserScope::OnlySelf => app.store.user(&actor.user_id)?.into_iter().collect(),
    };
    let mut keys = Vec::new();
    for user in &users {
        for key in app.store.access_keys(Some(&user.id))? {
            keys.push(key_json(&key, &user.username));
        }
    }
    Ok(Json(json!({"access_keys": keys, "total": keys.len()})))
}

pub async fn list_keys(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let user = find_user(&app, &actor, &name)?;
    let keys: Vec<Value> = app
        .store
        .access_keys(Some(&user.id))?
        .iter()
        .map(|key| key_json(key, &user.username))
        .collect();
    Ok(Json(json!({"access_keys": keys, "total": keys.len()})))
}

fn key_note(user: &User, key_id: &str) -> AuditNote {
    AuditNote {
        resource_type: Some("access_key"),
        resource: Some(format!("{}/{key_id}", user.username)),
        ..AuditNote::default()
    }
}

pub async fn create_key(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(name): Path<String>,
) -> ApiResult<(StatusCode, axum::Extension<AuditNote>, Json<Value>)> {
    let user = find_user(&app, &actor, &name)?;
    if !actor.can_manage_user(target(&user)) {
        return Err(ApiError::forbidden());
    }
    let access_key_id = secrets::new_access_key_id();
    let secret = secrets::new_secret_key();
    // Only the sealed form is stored; the secret is shown once, in this answer.
    let sealed = app
        .seal(
            &control::sealing::access_key_context(&access_key_id),
            secret.as_bytes(),
        )
        .await
        .map_err(|error| ApiError::secret(&error))?;
    let key = AccessKey {
        access_key_id,
        secret_access_key: sealed,
        user_id: user.id.clone(),
        status: "active".into(),
        created_at: now_seconds(),
    };
    // The quota is checked in the insert's transaction: racing creations cannot pass it.
    if let KeyInsert::OverQuota(limit) = app.store.insert_access_key(&key)? {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "QuotaExceeded",
            format!("the tenant may have at most {limit} access keys"),
        ));
    }
    if let Err(reason) = app.identity_pushed_within().await {
        let note = key_note(&user, &key.access_key_id);
        return Err(withdraw_key(&app, &key, note, &reason));
    }
    let mut body = key_json(&key, &user.username);
    body["secret_access_key"] = Value::String(secret);
    Ok((
        StatusCode::CREATED,
        axum::Extension(key_note(&user, &key.access_key_id)),
        Json(body),
    ))
}

/// A new key the data plane did not take is removed again, not kept as "saved": its secret
/// is shown only in the success answer, so nobody could ever use it. The removal is pushed in
/// the background (the push that timed out may still land), and the loop repeats it if that
/// fails too.
fn withdraw_key(app: &Shared, key: &AccessKey, note: AuditNote, reason: &str) -> ApiError {
    match app
        .store
        .delete_access_key(&key.access_key_id, &key.user_id)
    {
        Ok(_) => {
            let app = std::sync::Arc::clone(app);
            tokio::spawn(async move { app.push_identity(0).await });
        }
        Err(error) => tracing::error!(%error, "a key not in force was not removed again"),
    }
    let details = json!({"saved": false, "in_force": false, "reason": reason});
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "DataPlaneUnavailable",
        format!("the access key was not created: {reason}; retry"),
    )
    .with_note(AuditNote {
        details: Some(details.to_string()),
        ..note
    })
}

fn find_key(app: &App, actor: &Actor, name: &str, key_id: &str) -> ApiResult<(User, AccessKey)> {
    let user = find_user(app, actor, name)?;
    if !actor.can_manage_user(target(&user)) {
        return Err(ApiError::forbidden());
    }
    let key = app
        .store
        .access_key(key_id)?
        .filter(|key| key.user_id == user.id)
        .ok_or_else(|| ApiError::not_found("access key"))?;
    Ok((user, key))
}

pub async fn set_key_status(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path((name, key_id)): Path<(String, String)>,
    Body(body): Body<Value>,
) -> ApiResult<(axum::Extension<AuditNote>, Json<Value>)> {
    let (user, mut key) = find_key(&app, &actor, &name, &key_id)?;
    let status = match (body.get("status"), body.get("enabled")) {
        (Some(Value::String(status)), _) if status == "active" || status == "inactive" => {
            status.clone()
        }
        (None, Some(Value::Bool(enabled))) => {
            if *enabled { "active" } else { "inactive" }.to_owned()
        }
        _ => {
            return Err(ApiError::bad_request(
                "send {\"status\": \"active\" | \"inactive\"} or {\"enabled\": bool}",
            ));
        }
    };
    if !app
        .store
        .set_access_key_status(&key.access_key_id, &user.id, &status)?
    {
        return Err(ApiError::not_found("access key"));
    }
    key.status = status;
    app.identity_in_force(key_note(&user, &key.access_key_id))
        .await?;
    Ok((
        axum::Extension(key_note(&user, &key.access_key_id)),
        Json(key_json(&key, &user.username)),
    ))
}

pub async fn delete_key(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path((name, key_id)): Path<(String, String)>,
) -> ApiResult<(axum::Extension<AuditNote>, Json<Value>)> {
    let (user, key) = find_key(&app, &actor, &name, &key_id)?;
    if !app.store.delete_access_key(&key.access_key_id, &user.id)? {
        return Err(ApiError::not_found("access key"));
    }
    app.identity_in_force(key_note(&user, &key.access_key_id))
        .await?;
    Ok((
        axum::Extension(key_note(&user, &key.access_key_id)),
        Json(json!({"deleted": key.access_key_id})),
    ))
}
