//! Every console API route as data: method, path (axum and OpenAPI share the `{name}` syntax),
//! the audit event a call records, and a summary. The router is built from this table and a
//! test checks docs/api/openapi.json against it, so neither can drift.

#[derive(Clone, Copy, Debug)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    /// The audit `event_type` of a call (MaxIOFS's names where it has one).
    pub event: &'static str,
    pub summary: &'static str,
}

const fn route(
    method: &'static str,
    path: &'static str,
    event: &'static str,
    summary: &'static str,
) -> Route {
    Route {
        method,
        path,
        event,
        summary,
    }
}

pub const ROUTES: &[Route] = &[
    route(
        "GET",
        "/api/v1",
        "api_root",
        "Name, version and endpoint groups",
    ),
    route(
        "GET",
        "/api/v1/",
        "api_root",
        "Name, version and endpoint groups",
    ),
    // auth
    route(
        "POST",
        "/api/v1/auth/login",
        "login",
        "Log in with user name and password",
    ),
    route(
        "POST",
        "/api/v1/auth/logout",
        "logout",
        "End the current session",
    ),
    route(
        "POST",
        "/api/v1/auth/refresh",
        "session_refreshed",
        "Extend the current session",
    ),
    route("GET", "/api/v1/auth/me", "me", "The logged-in identity"),
    route(
        "POST",
        "/api/v1/auth/s3-credentials",
        "s3_credentials_issued",
        "Short-lived S3 credentials (STS session) of the logged-in user",
    ),
    route(
        "POST",
        "/api/v1/auth/2fa/setup",
        "2fa_setup",
        "Start TOTP enrolment",
    ),
    route(
        "POST",
        "/api/v1/auth/2fa/enable",
        "2fa_enabled",
        "Confirm TOTP with a code",
    ),
    route(
        "POST",
        "/api/v1/auth/2fa/verify",
        "2fa_verify",
        "Second login step",
    ),
    route(
        "POST",
        "/api/v1/auth/2fa/disable",
        "2fa_disabled",
        "Turn TOTP off",
    ),
    route(
        "POST",
        "/api/v1/auth/2fa/backup-codes",
        "2fa_backup_codes",
        "New backup codes",
    ),
    route(
        "GET",
        "/api/v1/auth/2fa/status",
        "2fa_status",
        "Whether TOTP is on",
    ),
    // tenants
    route("GET", "/api/v1/tenants", "tenant_list", "List tenants"),
    route(
        "POST",
        "/api/v1/tenants",
        "tenant_created",
        "Create a tenant",
    ),
    route(
        "GET",
        "/api/v1/tenants/{tenant}",
        "tenant_get",
        "One tenant",
    ),
    route(
        "PUT",
        "/api/v1/tenants/{tenant}",
        "tenant_updated",
        "Change a tenant",
    ),
    route(
        "DELETE",
        "/api/v1/tenants/{tenant}",
        "tenant_deleted",
        "Delete an empty tenant",
    ),
    route(
        "GET",
        "/api/v1/tenants/{tenant}/users",
        "tenant_users",
        "A tenant's users",
    ),
    // users
    route("GET", "/api/v1/users", "user_list", "List users"),
    route("POST", "/api/v1/users", "user_created", "Create a user"),
    route("GET", "/api/v1/users/{user}", "user_get", "One user"),
    route(
        "PUT",
        "/api/v1/users/{user}",
        "user_updated",
        "Change a user",
    ),
    route(
        "DELETE",
        "/api/v1/users/{user}",
        "user_deleted",
        "Delete a user",
    ),
    route(
        "PUT",
        "/api/v1/users/{user}/password",
        "password_changed",
        "Change a password",
    ),
    route(
        "POST",
        "/api/v1/users/{user}/unlock",
        "user_unblocked",
        "Clear a lockout",
    ),
    route(
        "POST",
        "/api/v1/users/{user}/sessions/revoke",
        "user_sessions_revoked",
        "Revoke every session credential (STS) of a user",
    ),
    // access keys
    route(
        "GET",
        "/api/v1/access-keys",
        "access_key_list",
        "Every key one may see",
    ),
    route(
        "GET",
        "/api/v1/users/{user}/access-keys",
        "access_key_list",
        "A user's keys",
    ),
    route(
        "POST",
        "/api/v1/users/{user}/access-keys",
        "access_key_created",
        "Create a key",
    ),
    route(
        "PUT",
        "/api/v1/users/{user}/access-keys/{accessKey}",
        "access_key_status_changed",
        "Enable or disable a key",
    ),
    route(
        "PATCH",
        "/api/v1/users/{user}/access-keys/{accessKey}",
        "access_key_status_changed",
        "Enable or disable a key",
    ),
    route(
        "DELETE",
        "/api/v1/users/{user}/access-keys/{accessKey}",
        "access_key_deleted",
        "Delete a key",
    ),
    // IAM: managed policies, groups, attachments
    route(
        "GET",
        "/api/v1/policies",
        "policy_list",
        "Managed policies (built-ins included)",
    ),
    route(
        "POST",
        "/api/v1/policies",
        "policy_created",
        "Create a managed policy",
    ),
    route(
        "GET",
        "/api/v1/policies/{policy}",
        "policy_get",
        "One policy",
    ),
    route(
        "PUT",
        "/api/v1/policies/{policy}",
        "policy_updated",
        "Change a policy's name or document",
    ),
    route(
        "DELETE",
        "/api/v1/policies/{policy}",
        "policy_deleted",
        "Delete a policy attached to nobody",
    ),
    route("GET", "/api/v1/groups", "group_list", "List groups"),
    route("POST", "/api/v1/groups", "group_created", "Create a group"),
    route("GET", "/api/v1/groups/{group}", "group_get", "One group"),
    route(
        "PUT",
        "/api/v1/groups/{group}",
        "group_updated",
        "Rename a group",
    ),
    route(
        "DELETE",
        "/api/v1/groups/{group}",
        "group_deleted",
        "Delete a group",
    ),
    route(
        "PUT",
        "/api/v1/groups/{group}/members/{user}",
        "group_member_added",
        "Add a user to a group",
    ),
    route(
        "DELETE",
        "/api/v1/groups/{group}/members/{user}",
        "group_member_removed",
        "Remove a user from a group",
    ),
    route(
        "PUT",
        "/api/v1/groups/{group}/policies/{policy}",
        "group_policy_attached",
        "Attach a policy to a group",
    ),
    route(
        "DELETE",
        "/api/v1/groups/{group}/policies/{policy}",
        "group_policy_detached",
        "Detach a policy from a group",
    ),
    route(
        "PUT",
        "/api/v1/users/{user}/policies/{policy}",
        "user_policy_attached",
        "Attach a policy to a user",
    ),
    route(
        "DELETE",
        "/api/v1/users/{user}/policies/{policy}",
        "user_policy_detached",
        "Detach a policy from a user",
    ),
    // buckets
    route(
        "GET",
        "/api/v1/buckets",
        "bucket_list",
        "Buckets with owner and usage",
    ),
    route(
        "POST",
        "/api/v1/buckets",
        "bucket_created",
        "Create a bucket",
    ),
    route(
        "GET",
        "/api/v1/buckets/{bucket}",
        "bucket_get",
        "One bucket",
    ),
    route(
        "DELETE",
        "/api/v1/buckets/{bucket}",
        "bucket_deleted",
        "Delete an empty bucket",
    ),
    route(
        "GET",
        "/api/v1/buckets/{bucket}/versioning",
        "bucket_versioning_get",
        "Versioning status of a bucket",
    ),
    route(
        "PUT",
        "/api/v1/buckets/{bucket}/versioning",
        "bucket_versioning_changed",
        "Enable or suspend versioning",
    ),
    route(
        "GET",
        "/api/v1/buckets/{bucket}/object-lock",
        "bucket_object_lock_get",
        "Object Lock and default retention of a bucket",
    ),
    route(
        "PUT",
        "/api/v1/buckets/{bucket}/object-lock",
        "bucket_object_lock_changed",
        "Enable Object Lock or change its default retention",
    ),
    route(
        "GET",
        "/api/v1/buckets/{bucket}/lifecycle",
        "bucket_lifecycle_get",
        "Lifecycle rules of a bucket",
    ),
    route(
        "PUT",
        "/api/v1/buckets/{bucket}/lifecycle",
        "bucket_lifecycle_changed",
        "Replace the lifecycle rules",
    ),
    route(
        "DELETE",
        "/api/v1/buckets/{bucket}/lifecycle",
        "bucket_lifecycle_deleted",
        "Remove the lifecycle rules",
    ),
    route(
        "GET",
        "/api/v1/buckets/{bucket}/cors",
        "bucket_cors_get",
        "CORS rules of a bucket",
    ),
    route(
        "PUT",
        "/api/v1/buckets/{bucket}/cors",
        "bucket_cors_changed",
        "Replace the CORS rules",
    ),
    route(
        "DELETE",
        "/api/v1/buckets/{bucket}/cors",
        "bucket_cors_deleted",
        "Remove the CORS rules",
    ),
    route(
        "GET",
        "/api/v1/buckets/{bucket}/policy",
        "bucket_policy_get",
        "The bucket policy",
    ),
    route(
        "PUT",
        "/api/v1/buckets/{bucket}/policy",
        "bucket_policy_changed",
        "Replace the bucket policy",
    ),
    route(
        "DELETE",
        "/api/v1/buckets/{bucket}/policy",
        "bucket_policy_deleted",
        "Remove the bucket policy",
    ),
    route(
        "GET",
        "/api/v1/buckets/{bucket}/tagging",
        "bucket_tagging_get",
        "Tags of a bucket",
    ),
    route(
        "PUT",
        "/api/v1/buckets/{bucket}/tagging",
        "bucket_tagging_changed",
        "Replace the bucket's tags",
    ),
    route(
        "DELETE",
        "/api/v1/buckets/{bucket}/tagging",
        "bucket_tagging_deleted",
        "Remove the bucket's tags",
    ),
    route(
        "GET",
        "/api/v1/buckets/{bucket}/versions",
        "bucket_versions_list",
        "A page of object versions and delete markers",
    ),
    // encryption
    route(
        "GET",
        "/api/v1/encryption",
        "encryption_status",
        "Master key versions and data keys per version",
    ),
    route(
        "POST",
        "/api/v1/encryption/rotate",
        "master_key_rotated",
        "Add a master key version; data keys are re-wrapped in the background",
    ),
    // settings
    route(
        "GET",
        "/api/v1/settings",
        "settings_list",
        "Every dynamic setting",
    ),
    route(
        "GET",
        "/api/v1/settings/categories",
        "settings_categories",
        "Setting categories",
    ),
    route(
        "POST",
        "/api/v1/settings/bulk",
        "settings_updated",
        "Change several settings",
    ),
    route(
        "GET",
        "/api/v1/settings/{key}",
        "setting_get",
        "One setting",
    ),
    route(
        "PUT",
        "/api/v1/settings/{key}",
        "setting_updated",
        "Change one setting",
    ),
    // audit
    route(
        "GET",
        "/api/v1/audit-logs",
        "audit_list",
        "Audit entries, filtered and paged",
    ),
    route(
        "GET",
        "/api/v1/audit-logs/export",
        "audit_export",
        "Audit entries as CSV",
    ),
    route(
        "GET",
        "/api/v1/audit-logs/{id}",
        "audit_get",
        "One audit entry",
    ),
    // traffic
    route(
        "GET",
        "/api/v1/metrics",
        "metrics_recent",
        "Recent data-plane traffic per operation and per shard",
    ),
    // operations
    route(
        "GET",
        "/metrics",
        "metrics",
        "Prometheus metrics of the admin",
    ),
    route(
        "GET",
        "/health",
        "health",
        "Liveness and control-channel state",
    ),
];

/// The route of a method and matched path.
pub fn find(method: &str, path: &str) -> Option<&'static Route> {
    ROUTES
        .iter()
        .find(|route| route.method == method && route.path == path)
}

/// The endpoint groups the API root lists.
pub const GROUPS: &[(&str, &str)] = &[
    ("auth", "/api/v1/auth"),
    ("tenants", "/api/v1/tenants"),
    ("users", "/api/v1/users"),
    ("access_keys", "/api/v1/access-keys"),
    ("policies", "/api/v1/policies"),
    ("groups", "/api/v1/groups"),
    ("buckets", "/api/v1/buckets"),
    ("encryption", "/api/v1/encryption"),
    ("settings", "/api/v1/settings"),
    ("audit_logs", "/api/v1/audit-logs"),
    ("metrics", "/api/v1/metrics"),
];
