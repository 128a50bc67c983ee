//! IAM: managed policies, groups, membership and attachments. Stored in admin.db
//! (`store_iam.rs`) and, like every identity change, pushed to the data plane in the identity
//! snapshot before the answer (`App::identity_in_force`). The data plane evaluates the
//! policies; here they are validated (`policy::parse_identity_policy`) and scoped.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use control::identity::Role;
use serde_json::{Value, json};

use crate::api_identity::{find_user, missing, named_tenant, string_field, target, user_note};
use crate::app::{App, Shared, now_seconds, rfc3339};
use crate::audit_note::AuditNote;
use crate::authz::Actor;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Body};
use crate::secrets;
use crate::store::User;
use crate::store_iam::{self, Bounded, Group, ManagedPolicy, builtin};

const MAX_NAME_LENGTH: usize = 128;

type Changed = (axum::Extension<AuditNote>, Json<Value>);
type Created = (StatusCode, axum::Extension<AuditNote>, Json<Value>);

/// IAM's name rule for policies and groups; ids (`policy-…`, `group-…`) and the built-ins'
/// names are kept apart so a name never reads as another policy.
fn valid_name(name: &str, id_prefix: &str) -> bool {
    (1..=MAX_NAME_LENGTH).contains(&name.len())
        && !name.starts_with(id_prefix)
        && builtin(name).is_none()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

fn name_field(body: &Value, id_prefix: &str) -> ApiResult<Option<String>> {
    let Some(name) = string_field(body, "name")? else {
        return Ok(None);
    };
    if !valid_name(name, id_prefix) {
        return Err(ApiError::bad_request(format!(
            "name: 1-128 of letters, digits and +=,.@_-, not a built-in's name, not starting \
             with {id_prefix}"
        )));
    }
    Ok(Some(name.to_owned()))
}

/// The `document` of a body, as given (a string) or as the JSON text of an object, validated
/// as an IAM identity policy: 400 `MalformedPolicyDocument` with the parser's message.
fn document_field(body: &Value) -> ApiResult<Option<String>> {
    let text = match body.get("document") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(text)) => text.clone(),
        Some(object @ Value::Object(_)) => object.to_string(),
        Some(_) => {
            return Err(ApiError::bad_request(
                "document must be a JSON object or a string holding one",
            ));
        }
    };
    policy::parse_identity_policy(&text).map_err(|error| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "MalformedPolicyDocument",
            error.to_string(),
        )
    })?;
    Ok(Some(text))
}

/// The tenant a new policy or group belongs to: the one named, else a tenant admin's own,
/// else none (global); 403 unless the actor may manage that scope.
fn scope_of_new(app: &App, actor: &Actor, body: &Value) -> ApiResult<Option<String>> {
    let tenant_id = match string_field(body, "tenant_id")? {
        Some(name) => Some(named_tenant(app, actor, name)?),
        None if actor.role == Role::TenantAdmin => actor.tenant_id.clone(),
        None => None,
    };
    if !actor.can_manage_iam(tenant_id.as_deref()) {
        return Err(ApiError::forbidden());
    }
    Ok(tenant_id)
}

fn policy_summary(policy: &ManagedPolicy) -> Value {
    json!({"id": policy.id, "name": policy.name, "builtin": policy.builtin})
}

fn policy_json(policy: &ManagedPolicy) -> Value {
    json!({
        "id": policy.id,
        "name": policy.name,
        "tenant_id": policy.tenant_id,
        "builtin": policy.builtin,
        "description": builtin(&policy.id).filter(|_| policy.builtin).map(|b| b.description),
        "document": policy.document,
        "created_at": rfc3339(policy.created_at),
        "updated_at": rfc3339(policy.updated_at),
    })
}

fn policy_note(policy: &ManagedPolicy) -> AuditNote {
    AuditNote {
        resource_type: Some("policy"),
        resource: Some(policy.name.clone()),
        tenant_id: policy.tenant_id.clone(),
        ..AuditNote::default()
    }
}

/// A policy the actor may see: an admin's in scope, or one of a user's own effective ones.
fn find_policy(app: &App, actor: &Actor, id: &str) -> ApiResult<ManagedPolicy> {
    let policy = app
        .store
        .policy(id)?
        .ok_or_else(|| missing(actor, "policy"))?;
    if actor.can_view_policy(policy.tenant_id.as_deref(), policy.builtin) {
        return Ok(policy);
    }
    let own = !actor.is_root
        && app
            .store
            .effective_policies(&actor.user_id)?
            .iter()
            .any(|effective| effective.id == policy.id);
    if own {
        Ok(policy)
    } else {
        Err(ApiError::forbidden())
    }
}

/// A custom policy the actor may change.
fn managed_policy(app: &App, actor: &Actor, id: &str) -> ApiResult<ManagedPolicy> {
    let policy = find_policy(app, actor, id)?;
    if policy.builtin {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "a built-in policy cannot be changed or deleted",
        ));
    }
    if !actor.can_manage_iam(policy.tenant_id.as_deref()) {
        return Err(ApiError::forbidden());
    }
    Ok(policy)
}

/// The answer to a bounded write that did not happen.
fn refused(outcome: Bounded, what: &str) -> ApiResult<()> {
    match outcome {
        Bounded::Done | Bounded::Unchanged => Ok(()),
        Bounded::NameTaken => Err(ApiError::conflict(
            "EntityAlreadyExists",
            format!("a {what} of this scope has this name"),
        )),
        Bounded::OverLimit(limit) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "LimitExceeded",
            format!("at most {limit} {what}"),
        )),
        // Found a moment ago, gone now: deleted by a concurrent call.
        Bounded::Missing => Err(ApiError::changed_meanwhile()),
    }
}

pub async fn list_policies(State(app): State<Shared>, Auth(actor): Auth) -> ApiResult<Json<Value>> {
    let policies = if actor.is_global_admin() {
        app.store.policies(None)?
    } else if let (Role::TenantAdmin, Some(tenant)) = (actor.role, actor.tenant_id.as_deref()) {
        app.store.policies(Some(tenant))?
    } else {
        // A user reads their own effective policies (in their user answer, and one by one).
        return Err(ApiError::forbidden());
    };
    let policies: Vec<Value> = policies.iter().map(policy_json).collect();
    Ok(Json(json!({"policies": policies, "total": policies.len()})))
}

pub async fn create_policy(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Body(body): Body<Value>,
) -> ApiResult<Created> {
    let tenant_id = scope_of_new(&app, &actor, &body)?;
    let name = name_field(&body, "policy-")?.ok_or_else(|| ApiError::bad_request("name"))?;
    let document = document_field(&body)?.ok_or_else(|| ApiError::bad_request("document"))?;
    let now = now_seconds();
    let policy = ManagedPolicy {
        id: secrets::new_id("policy"),
        name,
        tenant_id,
        document,
        builtin: false,
        created_at: now,
        updated_at: now,
    };
    refused(app.store.insert_policy(&policy)?, "policy")?;
    app.identity_in_force(policy_note(&policy)).await?;
    Ok((
        StatusCode::CREATED,
        axum::Extension(policy_note(&policy)),
        Json(policy_json(&policy)),
    ))
}

pub async fn get_policy(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let policy = find_policy(&app, &actor, &id)?;
    let mut body = policy_json(&policy);
    if actor.can_view_policy(policy.tenant_id.as_deref(), policy.builtin) {
        let (users, groups) = app.store.policy_attachments(&policy.id)?;
        body["attached_users"] = json!(users);
        body["attached_groups"] = json!(groups);
    }
    Ok(Json(body))
}

pub async fn update_policy(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<Changed> {
    let policy = managed_policy(&app, &actor, &id)?;
    let name = name_field(&body, "policy-")?;
    let document = document_field(&body)?;
    let outcome = app.store.update_policy(
        &policy.id,
        name.as_deref(),
        document.as_deref(),
        now_seconds(),
    )?;
    refused(outcome, "policy")?;
    let policy = app
        .store
        .policy(&policy.id)?
        .ok_or_else(|| ApiError::not_found("policy"))?;
    app.identity_in_force(policy_note(&policy)).await?;
    Ok((
        axum::Extension(policy_note(&policy)),
        Json(policy_json(&policy)),
    ))
}

pub async fn delete_policy(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> ApiResult<Changed> {
    let policy = managed_policy(&app, &actor, &id)?;
    match app.store.delete_policy_if_detached(&policy.id)? {
        Bounded::Done => {}
        Bounded::Unchanged => {
            let (users, groups) = app.store.policy_attachments(&policy.id)?;
            return Err(ApiError::conflict(
                "DeleteConflict",
                format!(
                    "the policy is attached to {users} users and {groups} groups; detach it first"
                ),
            ));
        }
        _ => return Err(ApiError::not_found("policy")),
    }
    app.identity_in_force(policy_note(&policy)).await?;
    Ok((
        axum::Extension(policy_note(&policy)),
        Json(json!({"deleted": policy.id})),
    ))
}

// ---- groups ----

fn group_note(group: &Group) -> AuditNote {
    AuditNote {
        resource_type: Some("group"),
        resource: Some(group.name.clone()),
        tenant_id: group.tenant_id.clone(),
        ..AuditNote::default()
    }
}

fn group_json(app: &App, group: &Group) -> ApiResult<Value> {
    let members: Vec<Value> = app
        .store
        .group_members(&group.id)?
        .into_iter()
        .map(|(id, username)| json!({"id": id, "username": username}))
        .collect();
    let policies: Vec<Value> = app
        .store
        .group_policies(&group.id)?
        .iter()
        .map(policy_summary)
        .collect();
    Ok(json!({
        "id": group.id,
        "name": group.name,
        "tenant_id": group.tenant_id,
        "members": members,
        "policies": policies,
        "created_at": rfc3339(group.created_at),
        "updated_at": rfc3339(group.updated_at),
    }))
}

/// A group the actor may manage (a user sees their groups in their user answer only).
fn find_group(app: &App, actor: &Actor, id: &str) -> ApiResult<Group> {
    let group = app
        .store
        .group(id)?
        .ok_or_else(|| missing(actor, "group"))?;
    if !actor.can_manage_iam(group.tenant_id.as_deref()) {
        return Err(ApiError::forbidden());
    }
    Ok(group)
}

pub async fn list_groups(State(app): State<Shared>, Auth(actor): Auth) -> ApiResult<Json<Value>> {
    let groups = if actor.is_global_admin() {
        app.store.groups(None)?
    } else if let (Role::TenantAdmin, Some(tenant)) = (actor.role, actor.tenant_id.as_deref()) {
        app.store.groups(Some(tenant))?
    } else {
        return Err(ApiError::forbidden());
    };
    let groups = groups
        .iter()
        .map(|group| group_json(&app, group))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Json(json!({"groups": groups, "total": groups.len()})))
}

pub async fn create_group(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Body(body): Body<Value>,
) -> ApiResult<Created> {
    let tenant_id = scope_of_new(&app, &actor, &body)?;
    let name = name_field(&body, "group-")?.ok_or_else(|| ApiError::bad_request("name"))?;
    let now = now_seconds();
    let group = Group {
        id: secrets::new_id("group"),
        name,
        tenant_id,
        created_at: now,
        updated_at: now,
    };
    refused(app.store.insert_group(&group)?, "group")?;
    app.identity_in_force(group_note(&group)).await?;
    Ok((
        StatusCode::CREATED,
        axum::Extension(group_note(&group)),
        Json(group_json(&app, &group)?),
    ))
}

pub async fn get_group(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let group = find_group(&app, &actor, &id)?;
    Ok(Json(group_json(&app, &group)?))
}

pub async fn update_group(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<Changed> {
    let group = find_group(&app, &actor, &id)?;
    if let Some(name) = name_field(&body, "group-")? {
        refused(
            app.store.rename_group(&group.id, &name, now_seconds())?,
            "group",
        )?;
        app.identity_in_force(group_note(&group)).await?;
    }
    let group = app
        .store
        .group(&group.id)?
        .ok_or_else(|| ApiError::not_found("group"))?;
    Ok((
        axum::Extension(group_note(&group)),
        Json(group_json(&app, &group)?),
    ))
}

/// Deletes a group with its memberships and attachments (unlike AWS, which wants it emptied
/// first: the members lose only what the group gave them, and that is the point of deleting).
pub async fn delete_group(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> ApiResult<Changed> {
    let group = find_group(&app, &actor, &id)?;
    if !app.store.delete_group(&group.id)? {
        return Err(ApiError::not_found("group"));
    }
    app.identity_in_force(group_note(&group)).await?;
    Ok((
        axum::Extension(group_note(&group)),
        Json(json!({"deleted": group.id})),
    ))
}

/// A user whose grants the actor may change.
fn grantee(app: &App, actor: &Actor, name: &str) -> ApiResult<User> {
    let user = find_user(app, actor, name)?;
    if !actor.can_change_grants(target(&user)) {
        return Err(ApiError::forbidden());
    }
    Ok(user)
}

fn member_note(group: &Group, user: &User) -> AuditNote {
    AuditNote {
        resource: Some(format!("{}/{}", group.name, user.username)),
        ..group_note(group)
    }
}

pub async fn add_member(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path((id, user)): Path<(String, String)>,
) -> ApiResult<Changed> {
    let group = find_group(&app, &actor, &id)?;
    let user = grantee(&app, &actor, &user)?;
    if user.tenant_id != group.tenant_id {
        return Err(ApiError::bad_request(
            "a group's members are users of its tenant",
        ));
    }
    let outcome = app.store.add_member(&group.id, &user.id)?;
    refused(outcome, "groups per user")?;
    if outcome == Bounded::Done {
        app.identity_in_force(member_note(&group, &user)).await?;
    }
    Ok((
        axum::Extension(member_note(&group, &user)),
        Json(group_json(&app, &group)?),
    ))
}

pub async fn remove_member(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path((id, user)): Path<(String, String)>,
) -> ApiResult<Changed> {
    let group = find_group(&app, &actor, &id)?;
    let user = grantee(&app, &actor, &user)?;
    if !app.store.remove_member(&group.id, &user.id)? {
        return Err(ApiError::not_found("membership"));
    }
    app.identity_in_force(member_note(&group, &user)).await?;
    Ok((
        axum::Extension(member_note(&group, &user)),
        Json(group_json(&app, &group)?),
    ))
}

/// A policy the actor may attach to a holder of `holder_tenant`.
fn attachable(
    app: &App,
    actor: &Actor,
    id: &str,
    holder_tenant: Option<&str>,
) -> ApiResult<ManagedPolicy> {
    let policy = app
        .store
        .policy(id)?
        .ok_or_else(|| ApiError::bad_request(format!("no such policy {id:?}")))?;
    if !actor.can_attach(policy.tenant_id.as_deref(), policy.builtin, holder_tenant) {
        return Err(ApiError::forbidden());
    }
    Ok(policy)
}

fn attachment_note(holder: &str, policy: &ManagedPolicy, base: AuditNote) -> AuditNote {
    AuditNote {
        resource: Some(format!("{holder}/{}", policy.name)),
        ..base
    }
}

pub async fn attach_group_policy(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path((id, policy_id)): Path<(String, String)>,
) -> ApiResult<Changed> {
    let group = find_group(&app, &actor, &id)?;
    let policy = attachable(&app, &actor, &policy_id, group.tenant_id.as_deref())?;
    let outcome = app.store.attach_group_policy(&group.id, &policy.id)?;
    refused(outcome, "policies attached to one group")?;
    let note = attachment_note(&group.name, &policy, group_note(&group));
    if outcome == Bounded::Done {
        app.identity_in_force(note.clone()).await?;
    }
    Ok((axum::Extension(note), Json(group_json(&app, &group)?)))
}

pub async fn detach_group_policy(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path((id, policy_id)): Path<(String, String)>,
) -> ApiResult<Changed> {
    let group = find_group(&app, &actor, &id)?;
    let policy = attachable(&app, &actor, &policy_id, group.tenant_id.as_deref())?;
    if !app.store.detach_group_policy(&group.id, &policy.id)? {
        return Err(ApiError::not_found("attachment"));
    }
    let note = attachment_note(&group.name, &policy, group_note(&group));
    app.identity_in_force(note.clone()).await?;
    Ok((axum::Extension(note), Json(group_json(&app, &group)?)))
}

// ---- users ----

/// What the user answer adds about IAM: the policies attached to the user, their groups, and
/// the effective policies (direct and through groups, each once).
pub fn user_grants(app: &App, user: &User) -> ApiResult<Value> {
    let policies: Vec<Value> = app
        .store
        .user_policies(&user.id)?
        .iter()
        .map(policy_summary)
        .collect();
    let groups: Vec<Value> = app
        .store
        .groups_of(&user.id)?
        .iter()
        .map(|group| json!({"id": group.id, "name": group.name}))
        .collect();
    let effective = app.store.effective_policies(&user.id)?;
    Ok(json!({
        "policies": policies,
        "groups": groups,
        "effective_policies": effective,
    }))
}

/// The `policies` of a new user: absent → the default (`readwrite`: every user could do
/// everything in their tenant before policies); a list → exactly those (checked like an
/// attachment by the actor).
pub fn initial_policies(
    app: &App,
    actor: &Actor,
    body: &Value,
    tenant_id: Option<&str>,
) -> ApiResult<Vec<String>> {
    let ids: Vec<String> = match body.get("policies") {
        None | Some(Value::Null) => vec![store_iam::DEFAULT_USER_POLICY.to_owned()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or_else(|| ApiError::bad_request("policies: a list of policy ids"))?,
        Some(_) => return Err(ApiError::bad_request("policies: a list of policy ids")),
    };
    let mut unique: Vec<String> = Vec::new();
    for id in ids {
        attachable(app, actor, &id, tenant_id)?;
        if !unique.contains(&id) {
            unique.push(id);
        }
    }
    if unique.len() > usize::try_from(store_iam::MAX_ATTACHED_POLICIES).unwrap_or(usize::MAX) {
        return Err(ApiError::bad_request(format!(
            "at most {} policies per user",
            store_iam::MAX_ATTACHED_POLICIES
        )));
    }
    Ok(unique)
}

pub async fn attach_user_policy(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path((name, policy_id)): Path<(String, String)>,
) -> ApiResult<Changed> {
    let user = grantee(&app, &actor, &name)?;
    let policy = attachable(&app, &actor, &policy_id, user.tenant_id.as_deref())?;
    let outcome = app.store.attach_user_policy(&user.id, &policy.id)?;
    refused(outcome, "policies attached to one user")?;
    let note = attachment_note(&user.username, &policy, user_note(&user));
    if outcome == Bounded::Done {
        app.identity_in_force(note.clone()).await?;
    }
    Ok((axum::Extension(note), Json(user_grants(&app, &user)?)))
}

pub async fn detach_user_policy(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path((name, policy_id)): Path<(String, String)>,
) -> ApiResult<Changed> {
    let user = grantee(&app, &actor, &name)?;
    let policy = attachable(&app, &actor, &policy_id, user.tenant_id.as_deref())?;
    if !app.store.detach_user_policy(&user.id, &policy.id)? {
        return Err(ApiError::not_found("attachment"));
    }
    let note = attachment_note(&user.username, &policy, user_note(&user));
    app.identity_in_force(note.clone()).await?;
    Ok((axum::Extension(note), Json(user_grants(&app, &user)?)))
}
