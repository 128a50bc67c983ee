//! admin.db: the admin's own SQLite database (WAL) with versioned migrations. It holds tenants,
//! users (Argon2 password hashes, TOTP seeds, hashed backup codes), access keys (with their
//! secrets: SigV4 needs them), sessions (token digests only), settings, the audit log,
//! event-log cursors and snapshot version counters. Access-key secrets and TOTP seeds are
//! stored sealed (`control::sealing`, by the caller: `App::seal`); this module stores the
//! sealed text as it is given and re-seals rows in `reseal_secrets`. `secure_delete` is on, so
//! a value replaced or deleted is overwritten in the file, not left in a free page.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use serde::Serialize;

/// Each entry moves the schema one version up; `PRAGMA user_version` records where it is.
const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
     CREATE TABLE tenants (
        id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, display_name TEXT NOT NULL,
        status TEXT NOT NULL, max_storage_bytes INTEGER, max_buckets INTEGER,
        max_access_keys INTEGER, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
     CREATE TABLE users (
        id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,
        tenant_id TEXT REFERENCES tenants(id), role TEXT NOT NULL, status TEXT NOT NULL,
        email TEXT, display_name TEXT, failed_attempts INTEGER NOT NULL DEFAULT 0,
        locked_until INTEGER NOT NULL DEFAULT 0, totp_secret TEXT,
        totp_enabled INTEGER NOT NULL DEFAULT 0, totp_pending_secret TEXT,
        totp_last_step INTEGER, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
     CREATE TABLE backup_codes (
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        code_digest TEXT NOT NULL, used_at INTEGER, PRIMARY KEY (user_id, code_digest));
     CREATE TABLE access_keys (
        access_key_id TEXT PRIMARY KEY, secret_access_key TEXT NOT NULL,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, status TEXT NOT NULL,
        created_at INTEGER NOT NULL);
     CREATE INDEX access_keys_user ON access_keys(user_id);
     CREATE TABLE sessions (
        token_digest TEXT PRIMARY KEY, user_id TEXT NOT NULL, kind TEXT NOT NULL,
        created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
     CREATE INDEX sessions_user ON sessions(user_id);
     CREATE TABLE settings (
        key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL,
        updated_by TEXT);
     CREATE TABLE audit_logs (
        id INTEGER PRIMARY KEY AUTOINCREMENT, timestamp_ms INTEGER NOT NULL, source TEXT NOT NULL,
        tenant_id TEXT, user_id TEXT, username TEXT, event_type TEXT NOT NULL,
        resource_type TEXT, resource TEXT, action TEXT NOT NULL, status TEXT NOT NULL,
        http_status INTEGER, ip TEXT, user_agent TEXT, request_id TEXT, details TEXT);
     CREATE INDEX audit_time ON audit_logs(timestamp_ms);
     CREATE INDEX audit_tenant ON audit_logs(tenant_id, timestamp_ms);
     CREATE INDEX audit_user ON audit_logs(user_id, timestamp_ms);
     CREATE INDEX audit_event ON audit_logs(event_type, timestamp_ms);
     CREATE TABLE event_cursors (partition INTEGER PRIMARY KEY, seq INTEGER NOT NULL);",
    // 2: IAM (`store_iam.rs`): managed policies, groups, membership and attachments. The
    // built-ins' rows are created here with an empty document (`sync_builtin_policies` writes
    // it at every open) so that existing users can be given `readwrite`: before policies
    // every user could do everything in their tenant, and an upgrade must not take that away.
    // A tenant's policies and groups go with the tenant (which is deleted only when empty).
    "CREATE TABLE policies (
        id TEXT PRIMARY KEY, name TEXT NOT NULL,
        tenant_id TEXT REFERENCES tenants(id) ON DELETE CASCADE, document TEXT NOT NULL,
        builtin INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL);
     CREATE UNIQUE INDEX policies_name ON policies(COALESCE(tenant_id, ''), name);
     CREATE TABLE groups (
        id TEXT PRIMARY KEY, name TEXT NOT NULL,
        tenant_id TEXT REFERENCES tenants(id) ON DELETE CASCADE, created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL);
     CREATE UNIQUE INDEX groups_name ON groups(COALESCE(tenant_id, ''), name);
     CREATE TABLE group_members (
        group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        PRIMARY KEY (group_id, user_id));
     CREATE INDEX group_members_user ON group_members(user_id);
     CREATE TABLE user_policies (
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        policy_id TEXT NOT NULL REFERENCES policies(id) ON DELETE CASCADE,
        PRIMARY KEY (user_id, policy_id));
     CREATE INDEX user_policies_policy ON user_policies(policy_id);
     CREATE TABLE group_policies (
        group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
        policy_id TEXT NOT NULL REFERENCES policies(id) ON DELETE CASCADE,
        PRIMARY KEY (group_id, policy_id));
     CREATE INDEX group_policies_policy ON group_policies(policy_id);
     INSERT INTO policies (id, name, tenant_id, document, builtin, created_at, updated_at)
        VALUES ('readonly', 'readonly', NULL, '', 1, 0, 0),
               ('readwrite', 'readwrite', NULL, '', 1, 0, 0),
               ('writeonly', 'writeonly', NULL, '', 1, 0, 0),
               ('diagnostics', 'diagnostics', NULL, '', 1, 0, 0);
     INSERT INTO user_policies (user_id, policy_id)
        SELECT id, 'readwrite' FROM users WHERE role = 'user';",
    // 3: "revoke all sessions" of a user: session credentials (STS) issued at or before this
    // instant (Unix milliseconds) are refused by the data plane (`User::sessions_revoked_at_ms`).
    "CREATE TABLE session_revocations (
        user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        revoked_at_ms INTEGER NOT NULL);",
];

pub const IDENTITY_VERSION: &str = "identity_version";
pub const SETTINGS_VERSION: &str = "settings_version";

/// Most audit entries one query returns.
pub const MAX_PAGE_SIZE: u32 = 1000;
/// Most entries an export holds (it is streamed in pages of `MAX_PAGE_SIZE`).
pub const MAX_EXPORT_ROWS: u32 = 100_000;
/// Live sessions one user may hold; a new login beyond ends the oldest.
pub const MAX_SESSIONS_PER_USER: i64 = 100;

#[derive(Clone, Debug, Serialize)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub display_name: String,
    pub status: String,
    pub max_storage_bytes: Option<i64>,
    pub max_buckets: Option<i64>,
    pub max_access_keys: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub username: String,
    pub password_hash: String,
    pub tenant_id: Option<String>,
    pub role: String,
    pub status: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub failed_attempts: i64,
    pub locked_until: i64,
    pub totp_secret: Option<String>,
    pub totp_enabled: bool,
    pub totp_pending_secret: Option<String>,
    pub totp_last_step: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A field of an edit that may also be set to NULL: kept as stored, or set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Update<T> {
    #[default]
    Keep,
    Set(T),
}

impl<T> Update<T> {
    /// The value in force after the edit, given the stored one.
    pub fn or(self, current: T) -> T {
        match self {
            Self::Keep => current,
            Self::Set(value) => value,
        }
    }
}

/// What a tenant edit changes; `None` / `Keep`: that field stays (a quota set to `None` is
/// unlimited).
#[derive(Clone, Debug, Default)]
pub struct TenantChange {
    pub display_name: Option<String>,
    pub status: Option<String>,
    pub max_storage_bytes: Update<Option<i64>>,
    pub max_buckets: Update<Option<i64>>,
    pub max_access_keys: Update<Option<i64>>,
}

/// The parts of a user a permission check depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Standing {
    pub role: String,
    pub tenant_id: Option<String>,
    pub status: String,
}

impl User {
    pub fn standing(&self) -> Standing {
        Standing {
            role: self.role.clone(),
            tenant_id: self.tenant_id.clone(),
            status: self.status.clone(),
        }
    }
}

/// What a user edit changes; `None` / `Keep`: that field stays (`Set(None)`: no tenant).
#[derive(Clone, Debug, Default)]
pub struct UserChange {
    pub role: Option<String>,
    pub tenant_id: Update<Option<String>>,
    pub status: Option<String>,
    pub email: Option<String>,
    pub display_name: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyInsert {
    Inserted,
    /// The tenant already holds this many keys, its quota.
    OverQuota(i64),
}

#[derive(Clone, Debug)]
pub struct AccessKey {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub user_id: String,
    pub status: String,
    pub created_at: i64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub timestamp_ms: i64,
    /// `console` or `s3`.
    pub source: String,
    pub tenant_id: Option<String>,
    pub user_id: Option<String>,
    pub username: Option<String>,
    pub event_type: String,
    pub resource_type: Option<String>,
    pub resource: Option<String>,
    pub action: String,
    /// `success` or `failed` (`denied` for refused S3 requests).
    pub status: String,
    pub http_status: Option<i64>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    pub details: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub tenant_id: Option<String>,
    pub user_id: Option<String>,
    pub event_type: Option<String>,
    pub action: Option<String>,
    pub resource: Option<String>,
    pub resource_type: Option<String>,
    pub status: Option<String>,
    pub source: Option<String>,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
}

pub struct Store {
    connection: Mutex<Connection>,
}

pub type Result<T> = rusqlite::Result<T>;

/// Runs the first `count` migrations only: a test builds an admin.db as an older release left
/// it, then opens it with `Store::open` to see the later migrations apply.
#[doc(hidden)]
pub fn migrate_to(path: &Path, count: usize) -> Result<Connection> {
    let mut connection = Connection::open(path)?;
    connection.pragma_update(None, "foreign_keys", "ON")?;
    migrate_through(&mut connection, count)?;
    Ok(connection)
}

fn tenant_from(row: &Row<'_>) -> Result<Tenant> {
    Ok(Tenant {
        id: row.get(0)?,
        name: row.get(1)?,
        display_name: row.get(2)?,
        status: row.get(3)?,
        max_storage_bytes: row.get(4)?,
        max_buckets: row.get(5)?,
        max_access_keys: row.get(6)?,
        created_at: row.get(7)?,
        updated_at: row.get(8)?,
    })
}

const TENANT_COLUMNS: &str = "id, name, display_name, status, max_storage_bytes, max_buckets, \
                              max_access_keys, created_at, updated_at";

const USER_COLUMNS: &str = "id, username, password_hash, tenant_id, role, status, email, \
     display_name, failed_attempts, locked_until, totp_secret, totp_enabled, \
     totp_pending_secret, totp_last_step, created_at, updated_at";

fn user_from(row: &Row<'_>) -> Result<User> {
    Ok(User {
        id: row.get(0)?,
        username: row.get(1)?,
        password_hash: row.get(2)?,
        tenant_id: row.get(3)?,
        role: row.get(4)?,
        status: row.get(5)?,
        email: row.get(6)?,
        display_name: row.get(7)?,
        failed_attempts: row.get(8)?,
        locked_until: row.get(9)?,
        totp_secret: row.get(10)?,
        totp_enabled: row.get(11)?,
        totp_pending_secret: row.get(12)?,
        totp_last_step: row.get(13)?,
        created_at: row.get(14)?,
        updated_at: row.get(15)?,
    })
}

const KEY_COLUMNS: &str = "access_key_id, secret_access_key, user_id, status, created_at";

fn key_from(row: &Row<'_>) -> Result<AccessKey> {
    Ok(AccessKey {
        access_key_id: row.get(0)?,
        secret_access_key: row.get(1)?,
        user_id: row.get(2)?,
        status: row.get(3)?,
        created_at: row.get(4)?,
    })
}

const AUDIT_COLUMNS: &str = "id, timestamp_ms, source, tenant_id, user_id, username, event_type, \
     resource_type, resource, action, status, http_status, ip, user_agent, request_id, details";

fn audit_from(row: &Row<'_>) -> Result<AuditEntry> {
    Ok(AuditEntry {
        id: row.get(0)?,
        timestamp_ms: row.get(1)?,
        source: row.get(2)?,
        tenant_id: row.get(3)?,
        user_id: row.get(4)?,
        username: row.get(5)?,
        event_type: row.get(6)?,
        resource_type: row.get(7)?,
        resource: row.get(8)?,
        action: row.get(9)?,
        status: row.get(10)?,
        http_status: row.get(11)?,
        ip: row.get(12)?,
        user_agent: row.get(13)?,
        request_id: row.get(14)?,
        details: row.get(15)?,
    })
}

/// What marks a stored audit field that was cut to its cap.
pub const TRUNCATED_MARKER: &str = "...[truncated]";
/// Caps of the stored audit fields, in characters: a client chooses most of them (a path, a
/// user agent, a user name tried at login), and an unauthenticated request with a 60 KB path
/// must not store 60 KB.
const MAX_AUDIT_RESOURCE: usize = 1024;
const MAX_AUDIT_USER_AGENT: usize = 256;
const MAX_AUDIT_DETAILS: usize = 4096;
const MAX_AUDIT_SHORT: usize = 256;

/// `text` cut to `max` characters, the cut marked.
pub fn truncated(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let keep = max.saturating_sub(TRUNCATED_MARKER.len());
    let mut out: String = text.chars().take(keep).collect();
    out.push_str(TRUNCATED_MARKER);
    out
}

fn insert_audit(connection: &Connection, entry: &AuditEntry) -> Result<()> {
    let cap =
        |value: &Option<String>, max: usize| value.as_deref().map(|text| truncated(text, max));
    let short = |text: &str| truncated(text, MAX_AUDIT_SHORT);
    connection.execute(
        "INSERT INTO audit_logs (timestamp_ms, source, tenant_id, user_id, username, event_type,
            resource_type, resource, action, status, http_status, ip, user_agent, request_id,
            details) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        params![
            entry.timestamp_ms,
            short(&entry.source),
            cap(&entry.tenant_id, MAX_AUDIT_SHORT),
            cap(&entry.user_id, MAX_AUDIT_SHORT),
            cap(&entry.username, MAX_AUDIT_SHORT),
            short(&entry.event_type),
            cap(&entry.resource_type, MAX_AUDIT_SHORT),
            cap(&entry.resource, MAX_AUDIT_RESOURCE),
            truncated(&entry.action, MAX_AUDIT_RESOURCE),
            short(&entry.status),
            entry.http_status,
            cap(&entry.ip, MAX_AUDIT_SHORT),
            cap(&entry.user_agent, MAX_AUDIT_USER_AGENT),
            cap(&entry.request_id, MAX_AUDIT_SHORT),
            cap(&entry.details, MAX_AUDIT_DETAILS),
        ],
    )?;
    Ok(())
}

fn insert_user_row(connection: &Connection, user: &User) -> Result<()> {
    connection.execute(
        &format!(
            "INSERT INTO users ({USER_COLUMNS})
             VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)"
        ),
        params![
            user.id,
            user.username,
            user.password_hash,
            user.tenant_id,
            user.role,
            user.status,
            user.email,
            user.display_name,
            user.failed_attempts,
            user.locked_until,
            user.totp_secret,
            user.totp_enabled,
            user.totp_pending_secret,
            user.totp_last_step,
            user.created_at,
            user.updated_at
        ],
    )?;
    Ok(())
}

fn write_backup_codes(connection: &Connection, user_id: &str, digests: &[String]) -> Result<()> {
    connection.execute("DELETE FROM backup_codes WHERE user_id = ?1", [user_id])?;
    for digest in digests {
        connection.execute(
            "INSERT INTO backup_codes (user_id, code_digest) VALUES (?1, ?2)",
            params![user_id, digest],
        )?;
    }
    Ok(())
}

/// Ends every session of a user (2FA temp tokens too) but `keep`.
fn end_sessions_but(connection: &Connection, user_id: &str, keep: Option<&str>) -> Result<()> {
    connection.execute(
        "DELETE FROM sessions WHERE user_id = ?1 AND (?2 IS NULL OR token_digest != ?2)",
        params![user_id, keep],
    )?;
    Ok(())
}

impl AuditFilter {
    fn clause(&self) -> (String, Vec<SqlValue>) {
        let mut conditions = Vec::new();
        let mut values = Vec::new();
        let exact = [
            ("tenant_id", &self.tenant_id),
            ("user_id", &self.user_id),
            ("event_type", &self.event_type),
            ("action", &self.action),
            ("resource_type", &self.resource_type),
            ("status", &self.status),
            ("source", &self.source),
        ];
        for (column, value) in exact {
            if let Some(value) = value {
                values.push(SqlValue::Text(value.clone()));
                conditions.push(format!("{column} = ?{}", values.len()));
            }
        }
        if let Some(resource) = &self.resource {
            // A prefix match: `photos` finds the bucket and every object in it.
            values.push(SqlValue::Text(resource.clone()));
            let exact = values.len();
            values.push(SqlValue::Text(format!("{resource}/%")));
            conditions.push(format!(
                "(resource = ?{exact} OR resource LIKE ?{})",
                values.len()
            ));
        }
        if let Some(start) = self.start_ms {
            values.push(SqlValue::Integer(start));
            conditions.push(format!("timestamp_ms >= ?{}", values.len()));
        }
        if let Some(end) = self.end_ms {
            values.push(SqlValue::Integer(end));
            conditions.push(format!("timestamp_ms <= ?{}", values.len()));
        }
        let clause = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        (clause, values)
    }
}

impl Store {
    pub fn open(path: &Path) -> std::result::Result<Self, Box<dyn std::error::Error>> {
        let new = !path.exists();
        let mut connection = Connection::open(path)?;
        if new {
            std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
        }
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        // Replaced secrets (plaintext rows sealed, re-sealed rows) are zeroed, not left behind.
        connection.pragma_update(None, "secure_delete", "ON")?;
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&mut connection)?;
        let store = Self {
            connection: Mutex::new(connection),
        };
        store.sync_builtin_policies()?;
        Ok(store)
    }

    /// The connection; a poisoned lock is taken over (SQLite rolls back an open transaction
    /// of a panicked holder when the transaction object drops).
    pub fn lock(&self) -> MutexGuard<'_, Connection> {
        self.connection
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn counter(&self, key: &str) -> Result<u64> {
        let value: Option<i64> = self
            .lock()
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
                row.get(0)
            })
            .optional()?;
        Ok(value
            .and_then(|value| u64::try_from(value).ok())
            .unwrap_or(0))
    }

    /// Moves a counter to `max(current + 1, at_least)` and returns it.
    pub fn bump_counter(&self, key: &str, at_least: u64) -> Result<u64> {
        let connection = self.lock();
        let current: Option<i64> = connection
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
                row.get(0)
            })
            .optional()?;
        let current = current
            .and_then(|value| u64::try_from(value).ok())
            .unwrap_or(0);
        let next = (current + 1).max(at_least);
        connection.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, i64::try_from(next).unwrap_or(i64::MAX)],
        )?;
        Ok(next)
    }

    // ---- tenants ----

    pub fn tenants(&self) -> Result<Vec<Tenant>> {
        let connection = self.lock();
        let mut statement = connection.prepare(&format!(
            "SELECT {TENANT_COLUMNS} FROM tenants ORDER BY name"
        ))?;
        statement.query_map([], tenant_from)?.collect()
    }

    pub fn tenant(&self, id_or_name: &str) -> Result<Option<Tenant>> {
        self.lock()
            .query_row(
                &format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE id = ?1 OR name = ?1"),
                [id_or_name],
                tenant_from,
            )
            .optional()
    }

    pub fn insert_tenant(&self, tenant: &Tenant) -> Result<()> {
        self.lock().execute(
            &format!("INSERT INTO tenants ({TENANT_COLUMNS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)"),
            params![
                tenant.id,
                tenant.name,
                tenant.display_name,
                tenant.status,
                tenant.max_storage_bytes,
                tenant.max_buckets,
                tenant.max_access_keys,
                tenant.created_at,
                tenant.updated_at
            ],
        )?;
        Ok(())
    }

    /// Writes only the fields a request named (a concurrent change of another field stays).
    /// False if the tenant is gone.
    pub fn update_tenant(&self, id: &str, change: &TenantChange, now: i64) -> Result<bool> {
        let mut sets = vec!["updated_at = ?2".to_owned()];
        let mut values = vec![SqlValue::Text(id.to_owned()), SqlValue::Integer(now)];
        let mut set = |column: &str, value: SqlValue| {
            values.push(value);
            sets.push(format!("{column} = ?{}", values.len()));
        };
        if let Some(display_name) = &change.display_name {
            set("display_name", SqlValue::Text(display_name.clone()));
        }
        if let Some(status) = &change.status {
            set("status", SqlValue::Text(status.clone()));
        }
        let quota = |value: Option<i64>| value.map_or(SqlValue::Null, SqlValue::Integer);
        if let Update::Set(value) = change.max_storage_bytes {
            set("max_storage_bytes", quota(value));
        }
        if let Update::Set(value) = change.max_buckets {
            set("max_buckets", quota(value));
        }
        if let Update::Set(value) = change.max_access_keys {
            set("max_access_keys", quota(value));
        }
        let changed = self.lock().execute(
            &format!("UPDATE tenants SET {} WHERE id = ?1", sets.join(", ")),
            params_from_iter(values.iter()),
        )?;
        Ok(changed == 1)
    }

    /// Deletes a tenant that has no users, in one statement (a user created in it meanwhile
    /// keeps it). False if it has users or is gone.
    pub fn delete_tenant_if_empty(&self, id: &str) -> Result<bool> {
        let changed = self.lock().execute(
            "DELETE FROM tenants WHERE id = ?1
             AND NOT EXISTS (SELECT 1 FROM users WHERE tenant_id = ?1)",
            [id],
        )?;
        Ok(changed == 1)
    }

    // ---- users ----

    pub fn users(&self, tenant_id: Option<&str>) -> Result<Vec<User>> {
        // One statement for both: a NULL filter matches every row.
        let connection = self.lock();
        let mut statement = connection.prepare(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE ?1 IS NULL OR tenant_id = ?1 ORDER BY username"
        ))?;
        statement.query_map([tenant_id], user_from)?.collect()
    }

    /// A user by id or by user name.
    pub fn user(&self, id_or_name: &str) -> Result<Option<User>> {
        self.lock()
            .query_row(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1 OR username = ?1"),
                [id_or_name],
                user_from,
            )
            .optional()
    }

    pub fn insert_user(&self, user: &User) -> Result<()> {
        insert_user_row(&self.lock(), user)
    }

    /// A new user and their first policy attachments, in one transaction.
    pub fn insert_user_with_policies(&self, user: &User, policy_ids: &[String]) -> Result<()> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        insert_user_row(&transaction, user)?;
        for policy_id in policy_ids {
            transaction.execute(
                "INSERT OR IGNORE INTO user_policies (user_id, policy_id) VALUES (?1, ?2)",
                params![user.id, policy_id],
            )?;
        }
        transaction.commit()
    }

    // Every write below changes only the columns its path is about, in one statement or one
    // transaction, with the facts the caller checked in its WHERE clause: a path that read the
    // user, ran Argon2 or TOTP (tens of milliseconds) and then wrote the whole row back used
    // to undo a demotion or a disable made meanwhile.

    /// A profile or standing edit. `expected` is the standing the caller's permission check saw;
    /// if it changed since, nothing is written and the answer is false (the caller says
    /// Conflict). A user no longer active loses their sessions in the same transaction.
    pub fn update_user(
        &self,
        id: &str,
        expected: &Standing,
        change: &UserChange,
        now: i64,
    ) -> Result<bool> {
        let mut sets = vec!["updated_at = ?5".to_owned()];
        let mut values = vec![
            SqlValue::Text(id.to_owned()),
            SqlValue::Text(expected.role.clone()),
            expected
                .tenant_id
                .clone()
                .map_or(SqlValue::Null, SqlValue::Text),
            SqlValue::Text(expected.status.clone()),
            SqlValue::Integer(now),
        ];
        let mut set = |column: &str, value: SqlValue| {
            values.push(value);
            sets.push(format!("{column} = ?{}", values.len()));
        };
        if let Some(role) = &change.role {
            set("role", SqlValue::Text(role.clone()));
        }
        if let Update::Set(tenant_id) = &change.tenant_id {
            set(
                "tenant_id",
                tenant_id.clone().map_or(SqlValue::Null, SqlValue::Text),
            );
        }
        if let Some(status) = &change.status {
            set("status", SqlValue::Text(status.clone()));
        }
        if let Some(email) = &change.email {
            set("email", SqlValue::Text(email.clone()));
        }
        if let Some(display_name) = &change.display_name {
            set("display_name", SqlValue::Text(display_name.clone()));
        }
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let changed = transaction.execute(
            &format!(
                "UPDATE users SET {} WHERE id = ?1 AND role = ?2 AND tenant_id IS ?3
                 AND status = ?4",
                sets.join(", ")
            ),
            params_from_iter(values.iter()),
        )?;
        if changed == 1 {
            transaction.execute(
                "DELETE FROM sessions WHERE user_id = ?1
                 AND (SELECT status FROM users WHERE id = ?1) != 'active'",
                [id],
            )?;
        }
        if changed == 1 && matches!(change.tenant_id, Update::Set(_)) {
            // A user moved to another tenant keeps no policy or group of the old one: a
            // tenant's policies and groups are for its own users only.
            transaction.execute(
                "DELETE FROM user_policies WHERE user_id = ?1 AND policy_id IN (
                    SELECT id FROM policies WHERE tenant_id IS NOT NULL
                    AND tenant_id IS NOT (SELECT tenant_id FROM users WHERE id = ?1))",
                [id],
            )?;
            transaction.execute(
                "DELETE FROM group_members WHERE user_id = ?1 AND group_id IN (
                    SELECT id FROM groups
                    WHERE tenant_id IS NOT (SELECT tenant_id FROM users WHERE id = ?1))",
                [id],
            )?;
        }
        transaction.commit()?;
        Ok(changed == 1)
    }

    /// A new password hash. With `expected_hash`, only if the hash is still the one the
    /// caller verified the current password against (two changes racing: one wins, the
    /// other is told Conflict). Ends the user's sessions but `keep` (None: all of them, as
    /// for an administrator's reset), in the same transaction.
    pub fn set_password(
        &self,
        id: &str,
        expected_hash: Option<&str>,
        new_hash: &str,
        keep: Option<&str>,
        now: i64,
    ) -> Result<bool> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let changed = transaction.execute(
            "UPDATE users SET password_hash = ?3, updated_at = ?4
             WHERE id = ?1 AND (?2 IS NULL OR password_hash = ?2)",
            params![id, expected_hash, new_hash, now],
        )?;
        if changed == 1 {
            end_sessions_but(&transaction, id, keep)?;
        }
        transaction.commit()?;
        Ok(changed == 1)
    }

    /// Counts one failed password or code, atomically (concurrent failures all count); at
    /// `limit` the account is locked until `now + lock_seconds` and the count starts over.
    /// True when this failure locked it.
    pub fn record_failure(
        &self,
        id: &str,
        limit: i64,
        lock_seconds: i64,
        now: i64,
    ) -> Result<bool> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        transaction.execute(
            "UPDATE users SET failed_attempts = failed_attempts + 1 WHERE id = ?1",
            [id],
        )?;
        let locked = transaction.execute(
            "UPDATE users SET failed_attempts = 0, locked_until = ?3
             WHERE id = ?1 AND failed_attempts >= ?2",
            params![id, limit, now.saturating_add(lock_seconds)],
        )?;
        transaction.commit()?;
        Ok(locked == 1)
    }

    /// After a correct password or code: the failure count starts over, unless the account
    /// was locked meanwhile (by failures that raced this login); false then, and the login
    /// must fail.
    pub fn clear_failures(&self, id: &str, now: i64) -> Result<bool> {
        let changed = self.lock().execute(
            "UPDATE users SET failed_attempts = 0 WHERE id = ?1 AND locked_until <= ?2",
            params![id, now],
        )?;
        Ok(changed == 1)
    }

    /// Lifts a lockout (and a `locked` status); returns whether the status was `locked`.
    pub fn unlock_user(&self, id: &str, now: i64) -> Result<bool> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let was_locked = transaction.execute(
            "UPDATE users SET status = 'active' WHERE id = ?1 AND status = 'locked'",
            [id],
        )? == 1;
        transaction.execute(
            "UPDATE users SET failed_attempts = 0, locked_until = 0, updated_at = ?2
             WHERE id = ?1",
            params![id, now],
        )?;
        transaction.commit()?;
        Ok(was_locked)
    }

    /// Takes TOTP step `step` for the user if no later or equal step was used: a code is
    /// accepted once even when two requests race with it.
    pub fn use_totp_step(&self, id: &str, step: i64) -> Result<bool> {
        let changed = self.lock().execute(
            "UPDATE users SET totp_last_step = ?2
             WHERE id = ?1 AND (totp_last_step IS NULL OR totp_last_step < ?2)",
            params![id, step],
        )?;
        Ok(changed == 1)
    }

    pub fn set_totp_pending(&self, id: &str, secret: &str, now: i64) -> Result<()> {
        self.lock().execute(
            "UPDATE users SET totp_pending_secret = ?2, updated_at = ?3
             WHERE id = ?1 AND totp_enabled = 0",
            params![id, secret, now],
        )?;
        Ok(())
    }

    /// Turns 2FA on with the pending secret the caller verified a code against (false if it
    /// is no longer the pending one), stores the backup codes and ends the user's other
    /// sessions, in one transaction.
    pub fn enable_totp(
        &self,
        id: &str,
        pending: &str,
        step: i64,
        backup_digests: &[String],
        keep: Option<&str>,
        now: i64,
    ) -> Result<bool> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let changed = transaction.execute(
            "UPDATE users SET totp_secret = ?2, totp_pending_secret = NULL, totp_enabled = 1,
                totp_last_step = ?3, updated_at = ?4
             WHERE id = ?1 AND totp_enabled = 0 AND totp_pending_secret = ?2",
            params![id, pending, step, now],
        )?;
        if changed == 1 {
            write_backup_codes(&transaction, id, backup_digests)?;
            end_sessions_but(&transaction, id, keep)?;
        }
        transaction.commit()?;
        Ok(changed == 1)
    }

    /// Turns 2FA off, drops the backup codes and ends the user's other sessions.
    pub fn disable_totp(&self, id: &str, keep: Option<&str>, now: i64) -> Result<()> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        transaction.execute(
            "UPDATE users SET totp_enabled = 0, totp_secret = NULL, totp_pending_secret = NULL,
                updated_at = ?2 WHERE id = ?1",
            params![id, now],
        )?;
        write_backup_codes(&transaction, id, &[])?;
        end_sessions_but(&transaction, id, keep)?;
        transaction.commit()
    }

    pub fn delete_user(&self, id: &str) -> Result<()> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        transaction.execute("DELETE FROM sessions WHERE user_id = ?1", [id])?;
        transaction.execute("DELETE FROM users WHERE id = ?1", [id])?;
        transaction.commit()
    }

    // ---- backup codes ----

    pub fn replace_backup_codes(&self, user_id: &str, digests: &[String]) -> Result<()> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        write_backup_codes(&transaction, user_id, digests)?;
        transaction.commit()
    }

    /// Marks an unused backup code used; false if there is none such.
    pub fn use_backup_code(&self, user_id: &str, digest: &str, now: i64) -> Result<bool> {
        let changed = self.lock().execute(
            "UPDATE backup_codes SET used_at = ?3
             WHERE user_id = ?1 AND code_digest = ?2 AND used_at IS NULL",
            params![user_id, digest, now],
        )?;
        Ok(changed == 1)
    }

    pub fn unused_backup_codes(&self, user_id: &str) -> Result<i64> {
        self.lock().query_row(
            "SELECT COUNT(*) FROM backup_codes WHERE user_id = ?1 AND used_at IS NULL",
            [user_id],
            |row| row.get(0),
        )
    }

    // ---- access keys ----

    pub fn access_keys(&self, user_id: Option<&str>) -> Result<Vec<AccessKey>> {
        let connection = self.lock();
        let mut statement = connection.prepare(&format!(
            "SELECT {KEY_COLUMNS} FROM access_keys WHERE ?1 IS NULL OR user_id = ?1 \
             ORDER BY created_at"
        ))?;
        statement.query_map([user_id], key_from)?.collect()
    }

    pub fn access_key(&self, id: &str) -> Result<Option<AccessKey>> {
        self.lock()
            .query_row(
                &format!("SELECT {KEY_COLUMNS} FROM access_keys WHERE access_key_id = ?1"),
                [id],
                key_from,
            )
            .optional()
    }

    /// Inserts a key unless the owner's tenant is at its `max_access_keys`: the count and the
    /// insert are one transaction, so racing creations cannot pass the quota together.
    pub fn insert_access_key(&self, key: &AccessKey) -> Result<KeyInsert> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let limit: Option<(String, i64)> = transaction
            .query_row(
                "SELECT tenants.id, tenants.max_access_keys FROM users
                 JOIN tenants ON tenants.id = users.tenant_id
                 WHERE users.id = ?1 AND tenants.max_access_keys IS NOT NULL",
                [&key.user_id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        if let Some((tenant_id, limit)) = limit {
            let count: i64 = transaction.query_row(
                "SELECT COUNT(*) FROM access_keys JOIN users ON users.id = access_keys.user_id
                 WHERE users.tenant_id = ?1",
                [tenant_id],
                |row| row.get(0),
            )?;
            if count >= limit {
                return Ok(KeyInsert::OverQuota(limit));
            }
        }
        transaction.execute(
            &format!("INSERT INTO access_keys ({KEY_COLUMNS}) VALUES (?1,?2,?3,?4,?5)"),
            params![
                key.access_key_id,
                key.secret_access_key,
                key.user_id,
                key.status,
                key.created_at
            ],
        )?;
        transaction.commit()?;
        Ok(KeyInsert::Inserted)
    }

    /// Only a key of `user_id` (the user the caller's permission check was about).
    pub fn set_access_key_status(&self, id: &str, user_id: &str, status: &str) -> Result<bool> {
        let changed = self.lock().execute(
            "UPDATE access_keys SET status = ?3 WHERE access_key_id = ?1 AND user_id = ?2",
            params![id, user_id, status],
        )?;
        Ok(changed == 1)
    }

    pub fn delete_access_key(&self, id: &str, user_id: &str) -> Result<bool> {
        let changed = self.lock().execute(
            "DELETE FROM access_keys WHERE access_key_id = ?1 AND user_id = ?2",
            params![id, user_id],
        )?;
        Ok(changed == 1)
    }

    // ---- sealed secrets ----

    /// Every stored secret through `reseal(context, stored)`: a `Some` replaces the stored
    /// value (compare-and-swap on the value read, in one transaction). Access-key secrets under
    /// `access_key:<id>`, TOTP seeds (active and pending) under `totp:<user id>`. When anything
    /// changed, the WAL is checkpointed and truncated so the replaced values leave the disk.
    /// Returns how many values changed.
    pub fn reseal_secrets(
        &self,
        reseal: &mut dyn FnMut(&str, &str) -> Option<String>,
    ) -> Result<usize> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let mut changed = 0;
        let keys: Vec<(String, String)> = transaction
            .prepare("SELECT access_key_id, secret_access_key FROM access_keys")?
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<_>>()?;
        for (id, stored) in keys {
            if let Some(new) = reseal(&control::sealing::access_key_context(&id), &stored) {
                changed += transaction.execute(
                    "UPDATE access_keys SET secret_access_key = ?3
                     WHERE access_key_id = ?1 AND secret_access_key = ?2",
                    params![id, stored, new],
                )?;
            }
        }
        for column in ["totp_secret", "totp_pending_secret"] {
            let users: Vec<(String, String)> = transaction
                .prepare(&format!(
                    "SELECT id, {column} FROM users WHERE {column} IS NOT NULL"
                ))?
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect::<Result<_>>()?;
            for (id, stored) in users {
                if let Some(new) = reseal(&control::sealing::totp_context(&id), &stored) {
                    changed += transaction.execute(
                        &format!("UPDATE users SET {column} = ?3 WHERE id = ?1 AND {column} = ?2"),
                        params![id, stored, new],
                    )?;
                }
            }
        }
        transaction.commit()?;
        if changed > 0 {
            // The old values are in WAL frames until a checkpoint copies the new pages over
            // them; TRUNCATE also empties the -wal file.
            connection.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        }
        Ok(changed)
    }

    // ---- sessions ----

    pub fn insert_session(
        &self,
        digest: &str,
        user_id: &str,
        kind: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<()> {
        let connection = self.lock();
        // Expired sessions go whenever a new one comes, so the table stays bounded by the
        // number of live sessions.
        connection.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now])?;
        connection.execute(
            "INSERT INTO sessions (token_digest, user_id, kind, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![digest, user_id, kind, now, expires_at],
        )?;
        connection.execute(
            "DELETE FROM sessions WHERE user_id = ?1 AND token_digest NOT IN (
                SELECT token_digest FROM sessions WHERE user_id = ?1
                ORDER BY created_at DESC, rowid DESC LIMIT ?2)",
            params![user_id, MAX_SESSIONS_PER_USER],
        )?;
        Ok(())
    }

    /// The user of a live session of `kind`: not expired, and younger than `max_lifetime`
    /// seconds (the absolute lifetime; checked here too so that lowering the setting ends
    /// older sessions at once).
    pub fn session(
        &self,
        digest: &str,
        kind: &str,
        now: i64,
        max_lifetime: i64,
    ) -> Result<Option<(String, i64)>> {
        self.lock()
            .query_row(
                "SELECT user_id, expires_at FROM sessions
                 WHERE token_digest = ?1 AND kind = ?2 AND expires_at > ?3
                    AND created_at + ?4 > ?3",
                params![digest, kind, now, max_lifetime],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
    }

    /// Moves a session's expiry to `expires_at`, but never past its creation plus
    /// `max_lifetime`; returns the expiry in force (None if the session is gone).
    pub fn extend_session(
        &self,
        digest: &str,
        expires_at: i64,
        max_lifetime: i64,
    ) -> Result<Option<i64>> {
        let connection = self.lock();
        connection.execute(
            "UPDATE sessions SET expires_at = MIN(?2, created_at + ?3) WHERE token_digest = ?1",
            params![digest, expires_at, max_lifetime],
        )?;
        connection
            .query_row(
                "SELECT expires_at FROM sessions WHERE token_digest = ?1",
                [digest],
                |row| row.get(0),
            )
            .optional()
    }

    pub fn delete_session(&self, digest: &str) -> Result<()> {
        self.lock()
            .execute("DELETE FROM sessions WHERE token_digest = ?1", [digest])?;
        Ok(())
    }

    pub fn delete_sessions_of(&self, user_id: &str) -> Result<()> {
        self.lock()
            .execute("DELETE FROM sessions WHERE user_id = ?1", [user_id])?;
        Ok(())
    }

    // ---- settings ----

    pub fn settings(&self) -> Result<BTreeMap<String, String>> {
        let connection = self.lock();
        let mut statement = connection.prepare("SELECT key, value FROM settings")?;
        statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect()
    }

    pub fn setting_updates(&self) -> Result<BTreeMap<String, (i64, Option<String>)>> {
        let connection = self.lock();
        let mut statement =
            connection.prepare("SELECT key, updated_at, updated_by FROM settings")?;
        statement
            .query_map([], |row| Ok((row.get(0)?, (row.get(1)?, row.get(2)?))))?
            .collect()
    }

    /// Stores several settings in one transaction.
    pub fn put_settings(&self, values: &[(String, String)], by: &str, now: i64) -> Result<()> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        for (key, value) in values {
            transaction.execute(
                "INSERT INTO settings (key, value, updated_at, updated_by) VALUES (?1,?2,?3,?4)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value,
                    updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                params![key, value, now, by],
            )?;
        }
        transaction.commit()
    }

    // ---- audit ----

    pub fn append_audit(&self, entry: &AuditEntry) -> Result<()> {
        insert_audit(&self.lock(), entry)
    }

    /// Stores the entries of one event-log batch and moves the partition's cursor, atomically
    /// (a crash between the two would duplicate or lose entries).
    pub fn append_events(
        &self,
        partition: u32,
        through: u64,
        entries: &[AuditEntry],
    ) -> Result<()> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        for entry in entries {
            insert_audit(&transaction, entry)?;
        }
        transaction.execute(
            "INSERT INTO event_cursors (partition, seq) VALUES (?1, ?2)
             ON CONFLICT(partition) DO UPDATE SET seq = excluded.seq",
            params![partition, i64::try_from(through).unwrap_or(i64::MAX)],
        )?;
        transaction.commit()
    }

    pub fn cursor(&self, partition: u32) -> Result<u64> {
        let value: Option<i64> = self
            .lock()
            .query_row(
                "SELECT seq FROM event_cursors WHERE partition = ?1",
                [partition],
                |row| row.get(0),
            )
            .optional()?;
        Ok(value
            .and_then(|value| u64::try_from(value).ok())
            .unwrap_or(0))
    }

    pub fn audit_entry(&self, id: i64) -> Result<Option<AuditEntry>> {
        self.lock()
            .query_row(
                &format!("SELECT {AUDIT_COLUMNS} FROM audit_logs WHERE id = ?1"),
                [id],
                audit_from,
            )
            .optional()
    }

    /// One page of entries, newest first, and the total matching.
    pub fn audit_page(
        &self,
        filter: &AuditFilter,
        page: u32,
        page_size: u32,
    ) -> Result<(Vec<AuditEntry>, i64)> {
        let (clause, values) = filter.clause();
        let connection = self.lock();
        let total: i64 = connection.query_row(
            &format!("SELECT COUNT(*) FROM audit_logs {clause}"),
            params_from_iter(values.iter()),
            |row| row.get(0),
        )?;
        let offset = i64::from(page.saturating_sub(1)) * i64::from(page_size);
        let mut statement = connection.prepare(&format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_logs {clause} ORDER BY id DESC LIMIT {} OFFSET {}",
            page_size.min(MAX_EXPORT_ROWS),
            offset
        ))?;
        let entries = statement
            .query_map(params_from_iter(values.iter()), audit_from)?
            .collect::<Result<Vec<_>>>()?;
        Ok((entries, total))
    }

    /// Entries older (smaller id) than `before_id`, newest first, at most `limit`: the pages
    /// of a streamed export (a key set, so a page costs the same wherever it starts).
    pub fn audit_before(
        &self,
        filter: &AuditFilter,
        before_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>> {
        let (clause, mut values) = filter.clause();
        values.push(SqlValue::Integer(before_id.unwrap_or(i64::MAX)));
        let before = values.len();
        let clause = if clause.is_empty() {
            format!("WHERE id < ?{before}")
        } else {
            format!("{clause} AND id < ?{before}")
        };
        let connection = self.lock();
        let mut statement = connection.prepare(&format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_logs {clause} ORDER BY id DESC LIMIT {}",
            limit.min(MAX_PAGE_SIZE)
        ))?;
        statement
            .query_map(params_from_iter(values.iter()), audit_from)?
            .collect()
    }

    /// Deletes entries older than `cutoff_ms`; returns how many.
    pub fn purge_audit(&self, cutoff_ms: i64) -> Result<usize> {
        self.lock().execute(
            "DELETE FROM audit_logs WHERE timestamp_ms < ?1",
            [cutoff_ms],
        )
    }
}

fn migrate(connection: &mut Connection) -> Result<()> {
    migrate_through(connection, MIGRATIONS.len())
}

fn migrate_through(connection: &mut Connection, count: usize) -> Result<()> {
    let version: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let version = usize::try_from(version).unwrap_or(0);
    for (index, migration) in MIGRATIONS.iter().enumerate().take(count).skip(version) {
        let transaction = connection.transaction()?;
        transaction.execute_batch(migration)?;
        transaction.pragma_update(None, "user_version", index + 1)?;
        transaction.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    fn user(id: &str, role: &str) -> User {
        User {
            id: id.into(),
            username: id.into(),
            password_hash: "h0".into(),
            tenant_id: None,
            role: role.into(),
            status: "active".into(),
            email: None,
            display_name: None,
            failed_attempts: 0,
            locked_until: 0,
            totp_secret: None,
            totp_enabled: false,
            totp_pending_secret: None,
            totp_last_step: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn writes_touch_only_their_columns_and_check_what_they_assumed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("admin.db")).unwrap();
        store.insert_user(&user("u1", "global_admin")).unwrap();
        let seen = store.user("u1").unwrap().unwrap().standing();
        // Root demotes and disables the user...
        let demote = UserChange {
            role: Some("user".into()),
            status: Some("disabled".into()),
            ..UserChange::default()
        };
        assert!(store.update_user("u1", &seen, &demote, 1).unwrap());
        // ... while a password change that read the row before finishes: it writes the hash
        // only, and a profile edit based on the stale standing is refused.
        assert!(store.set_password("u1", Some("h0"), "h1", None, 2).unwrap());
        let stale = UserChange {
            display_name: Some("x".into()),
            ..UserChange::default()
        };
        assert!(!store.update_user("u1", &seen, &stale, 3).unwrap());
        let after = store.user("u1").unwrap().unwrap();
        assert_eq!(
            (after.role.as_str(), after.status.as_str()),
            ("user", "disabled")
        );
        assert_eq!(after.password_hash, "h1");
        assert!(
            !store.set_password("u1", Some("h0"), "h2", None, 4).unwrap(),
            "verified against a hash that is gone"
        );
    }

    #[test]
    fn failures_count_atomically_and_lock_at_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("admin.db")).unwrap();
        store.insert_user(&user("u1", "user")).unwrap();
        assert!(!store.record_failure("u1", 3, 60, 100).unwrap());
        assert!(!store.record_failure("u1", 3, 60, 100).unwrap());
        assert!(store.record_failure("u1", 3, 60, 100).unwrap());
        let locked = store.user("u1").unwrap().unwrap();
        assert_eq!((locked.failed_attempts, locked.locked_until), (0, 160));
        assert!(
            !store.clear_failures("u1", 120).unwrap(),
            "a login racing the lock fails"
        );
        assert!(store.clear_failures("u1", 160).unwrap());
        assert!(store.use_totp_step("u1", 7).unwrap());
        assert!(!store.use_totp_step("u1", 7).unwrap(), "a step counts once");
    }

    #[test]
    fn refresh_never_passes_the_absolute_lifetime() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("admin.db")).unwrap();
        store
            .insert_session("t", "u1", "session", 100, 200)
            .unwrap();
        assert_eq!(store.extend_session("t", 10_000, 500).unwrap(), Some(600));
        assert!(store.session("t", "session", 599, 500).unwrap().is_some());
        assert!(store.session("t", "session", 599, 400).unwrap().is_none());
        store
            .insert_session("k", "u1", "session", 100, 900)
            .unwrap();
        assert!(store.set_password("u1", None, "h", Some("k"), 1).is_ok());
    }

    #[test]
    fn key_quota_is_checked_with_the_insert() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("admin.db")).unwrap();
        store
            .insert_tenant(&Tenant {
                id: "t1".into(),
                name: "t1".into(),
                display_name: "t1".into(),
                status: "active".into(),
                max_storage_bytes: None,
                max_buckets: None,
                max_access_keys: Some(1),
                created_at: 0,
                updated_at: 0,
            })
            .unwrap();
        let mut member = user("u1", "user");
        member.tenant_id = Some("t1".into());
        store.insert_user(&member).unwrap();
        let key = |id: &str| AccessKey {
            access_key_id: id.into(),
            secret_access_key: "s".into(),
            user_id: "u1".into(),
            status: "active".into(),
            created_at: 0,
        };
        assert_eq!(
            store.insert_access_key(&key("k1")).unwrap(),
            KeyInsert::Inserted
        );
        assert_eq!(
            store.insert_access_key(&key("k2")).unwrap(),
            KeyInsert::OverQuota(1)
        );
        assert!(
            !store.delete_tenant_if_empty("t1").unwrap(),
            "it has a user"
        );
        let change = TenantChange {
            display_name: Some("renamed".into()),
            ..TenantChange::default()
        };
        assert!(store.update_tenant("t1", &change, 5).unwrap());
        assert_eq!(
            store.tenant("t1").unwrap().unwrap().max_access_keys,
            Some(1),
            "untouched"
        );
    }

    #[test]
    fn a_sealed_secret_copied_into_another_row_does_not_open() {
        use control::sealing::{SealError, SealingKeys, access_key_context, totp_context};
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("admin.db")).unwrap();
        store.insert_user(&user("u1", "user")).unwrap();
        store.insert_user(&user("u2", "user")).unwrap();
        let keys = SealingKeys::new(1, [(1, [3u8; 32])]).unwrap();
        for (id, secret) in [("AK1", "secret-one"), ("AK2", "secret-two")] {
            let key = AccessKey {
                access_key_id: id.into(),
                secret_access_key: keys.seal(&access_key_context(id), secret.as_bytes()),
                user_id: "u1".into(),
                status: "active".into(),
                created_at: 0,
            };
            store.insert_access_key(&key).unwrap();
        }
        store
            .set_totp_pending("u1", &keys.seal(&totp_context("u1"), b"SEEDONE"), 0)
            .unwrap();
        // Someone with write access to the file copies AK1's secret into AK2's row, and u1's
        // seed into u2's: neither opens there.
        let moved = store.access_key("AK1").unwrap().unwrap().secret_access_key;
        store
            .lock()
            .execute(
                "UPDATE access_keys SET secret_access_key = ?1 WHERE access_key_id = 'AK2'",
                [&moved],
            )
            .unwrap();
        let stored = store.access_key("AK2").unwrap().unwrap().secret_access_key;
        assert_eq!(
            crate::app::open_stored(&keys, &access_key_context("AK2"), &stored).unwrap_err(),
            SealError::Authentication
        );
        let seed = store
            .user("u1")
            .unwrap()
            .unwrap()
            .totp_pending_secret
            .unwrap();
        store.set_totp_pending("u2", &seed, 0).unwrap();
        let copied = store
            .user("u2")
            .unwrap()
            .unwrap()
            .totp_pending_secret
            .unwrap();
        assert_eq!(
            crate::app::open_stored(&keys, &totp_context("u2"), &copied).unwrap_err(),
            SealError::Authentication
        );
        // In its own row it opens.
        let own = crate::app::open_stored(&keys, &totp_context("u1"), &seed).unwrap();
        assert_eq!(own.bytes(), b"SEEDONE");
        // A re-seal under a new version skips values that do not open (logged by the caller)
        // and moves the others.
        let newer = SealingKeys::new(2, [(1, [3u8; 32]), (2, [4u8; 32])]).unwrap();
        let changed = store
            .reseal_secrets(&mut |context, stored| {
                let secret = crate::app::open_stored(&newer, context, stored).ok()?;
                Some(newer.seal(context, secret.bytes()))
            })
            .unwrap();
        assert_eq!(changed, 2, "AK1 and u1's seed");
        let ak1 = store.access_key("AK1").unwrap().unwrap().secret_access_key;
        assert_eq!(control::sealing::sealed_version(&ak1), Some(2));
        let opened = crate::app::open_stored(&newer, &access_key_context("AK1"), &ak1).unwrap();
        assert_eq!(opened.bytes(), b"secret-one");
    }

    #[test]
    fn audit_fields_are_capped_with_a_marker() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("admin.db")).unwrap();
        store
            .append_audit(&AuditEntry {
                source: "console".into(),
                event_type: "x".into(),
                action: "GET /x".into(),
                status: "denied".into(),
                resource: Some("r".repeat(60_000)),
                user_agent: Some("a".repeat(10_000)),
                ..AuditEntry::default()
            })
            .unwrap();
        let entry = &store
            .audit_before(&AuditFilter::default(), None, 10)
            .unwrap()[0];
        let resource = entry.resource.as_deref().unwrap();
        assert_eq!(resource.len(), MAX_AUDIT_RESOURCE);
        assert!(resource.ends_with(TRUNCATED_MARKER));
        assert_eq!(
            entry.user_agent.as_deref().unwrap().len(),
            MAX_AUDIT_USER_AGENT
        );
    }

    #[test]
    fn migrations_apply_once_and_counters_persist() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("admin.db");
        {
            let store = Store::open(&path).unwrap();
            assert_eq!(store.bump_counter(IDENTITY_VERSION, 0).unwrap(), 1);
            assert_eq!(store.bump_counter(IDENTITY_VERSION, 10).unwrap(), 10);
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(store.counter(IDENTITY_VERSION).unwrap(), 10);
        let version: i64 = store
            .lock()
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .unwrap();
        assert_eq!(usize::try_from(version).unwrap(), MIGRATIONS.len());
    }

    #[test]
    fn sessions_expire_and_are_capped_per_user() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("admin.db")).unwrap();
        for index in 0..=MAX_SESSIONS_PER_USER {
            store
                .insert_session(&format!("token{index}"), "u1", "session", index, 1000)
                .unwrap();
        }
        assert!(
            store
                .session("token0", "session", 10, DAY)
                .unwrap()
                .is_none(),
            "oldest ended"
        );
        assert!(
            store
                .session("token1", "session", 10, DAY)
                .unwrap()
                .is_some()
        );
        assert!(
            store.session("token1", "2fa", 10, DAY).unwrap().is_none(),
            "kinds are apart"
        );
        assert!(
            store
                .session("token1", "session", 1000, DAY)
                .unwrap()
                .is_none(),
            "expired"
        );
        store.delete_sessions_of("u1").unwrap();
        assert!(
            store
                .session("token5", "session", 10, DAY)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn audit_filters_and_pages() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("admin.db")).unwrap();
        for index in 0..5 {
            store
                .append_audit(&AuditEntry {
                    timestamp_ms: index * 1000,
                    source: "console".into(),
                    tenant_id: Some(if index % 2 == 0 { "a" } else { "b" }.into()),
                    event_type: "user_created".into(),
                    action: "POST /users".into(),
                    status: "success".into(),
                    resource: Some(format!("bucket{index}/key")),
                    ..AuditEntry::default()
                })
                .unwrap();
        }
        let filter = AuditFilter {
            tenant_id: Some("a".into()),
            ..AuditFilter::default()
        };
        let (page, total) = store.audit_page(&filter, 1, 2).unwrap();
        assert_eq!(total, 3);
        assert_eq!(page.len(), 2);
        assert_eq!(page[0].timestamp_ms, 4000, "newest first");
        let by_resource = AuditFilter {
            resource: Some("bucket3".into()),
            start_ms: Some(1000),
            ..AuditFilter::default()
        };
        assert_eq!(store.audit_page(&by_resource, 1, 10).unwrap().1, 1);
        assert_eq!(store.purge_audit(2000).unwrap(), 2);
    }
}
