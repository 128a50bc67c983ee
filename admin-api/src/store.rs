//! admin.db: the admin's own SQLite database (WAL) with versioned migrations. It holds tenants,
//! users (Argon2 password hashes, TOTP secrets, hashed backup codes), access keys (with their
//! secrets: SigV4 needs them, so the file is 0600 like the data plane's copy), sessions (token
//! digests only), settings, the audit log, event-log cursors and snapshot version counters.

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
];

pub const IDENTITY_VERSION: &str = "identity_version";
pub const SETTINGS_VERSION: &str = "settings_version";

/// Most audit entries one query returns.
pub const MAX_PAGE_SIZE: u32 = 1000;
/// Most entries a CSV export holds (it is built in memory).
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

fn insert_audit(connection: &Connection, entry: &AuditEntry) -> Result<()> {
    connection.execute(
        "INSERT INTO audit_logs (timestamp_ms, source, tenant_id, user_id, username, event_type,
            resource_type, resource, action, status, http_status, ip, user_agent, request_id,
            details) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        params![
            entry.timestamp_ms,
            entry.source,
            entry.tenant_id,
            entry.user_id,
            entry.username,
            entry.event_type,
            entry.resource_type,
            entry.resource,
            entry.action,
            entry.status,
            entry.http_status,
            entry.ip,
            entry.user_agent,
            entry.request_id,
            entry.details,
        ],
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
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&mut connection)?;
        Ok(Self {
            connection: Mutex::new(connection),
        })
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

    pub fn update_tenant(&self, tenant: &Tenant) -> Result<()> {
        self.lock().execute(
            "UPDATE tenants SET display_name = ?2, status = ?3, max_storage_bytes = ?4,
                max_buckets = ?5, max_access_keys = ?6, updated_at = ?7 WHERE id = ?1",
            params![
                tenant.id,
                tenant.display_name,
                tenant.status,
                tenant.max_storage_bytes,
                tenant.max_buckets,
                tenant.max_access_keys,
                tenant.updated_at
            ],
        )?;
        Ok(())
    }

    pub fn delete_tenant(&self, id: &str) -> Result<()> {
        self.lock()
            .execute("DELETE FROM tenants WHERE id = ?1", [id])?;
        Ok(())
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
        self.lock().execute(
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

    /// Writes every mutable column of a user.
    pub fn update_user(&self, user: &User) -> Result<()> {
        self.lock().execute(
            "UPDATE users SET password_hash = ?2, tenant_id = ?3, role = ?4, status = ?5,
                email = ?6, display_name = ?7, failed_attempts = ?8, locked_until = ?9,
                totp_secret = ?10, totp_enabled = ?11, totp_pending_secret = ?12,
                totp_last_step = ?13, updated_at = ?14 WHERE id = ?1",
            params![
                user.id,
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
                user.updated_at
            ],
        )?;
        Ok(())
    }

    pub fn delete_user(&self, id: &str) -> Result<()> {
        let connection = self.lock();
        connection.execute("DELETE FROM sessions WHERE user_id = ?1", [id])?;
        connection.execute("DELETE FROM users WHERE id = ?1", [id])?;
        Ok(())
    }

    // ---- backup codes ----

    pub fn replace_backup_codes(&self, user_id: &str, digests: &[String]) -> Result<()> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        transaction.execute("DELETE FROM backup_codes WHERE user_id = ?1", [user_id])?;
        for digest in digests {
            transaction.execute(
                "INSERT INTO backup_codes (user_id, code_digest) VALUES (?1, ?2)",
                params![user_id, digest],
            )?;
        }
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

    pub fn tenant_key_count(&self, tenant_id: &str) -> Result<i64> {
        self.lock().query_row(
            "SELECT COUNT(*) FROM access_keys JOIN users ON users.id = access_keys.user_id
             WHERE users.tenant_id = ?1",
            [tenant_id],
            |row| row.get(0),
        )
    }

    pub fn insert_access_key(&self, key: &AccessKey) -> Result<()> {
        self.lock().execute(
            &format!("INSERT INTO access_keys ({KEY_COLUMNS}) VALUES (?1,?2,?3,?4,?5)"),
            params![
                key.access_key_id,
                key.secret_access_key,
                key.user_id,
                key.status,
                key.created_at
            ],
        )?;
        Ok(())
    }

    pub fn set_access_key_status(&self, id: &str, status: &str) -> Result<()> {
        self.lock().execute(
            "UPDATE access_keys SET status = ?2 WHERE access_key_id = ?1",
            params![id, status],
        )?;
        Ok(())
    }

    pub fn delete_access_key(&self, id: &str) -> Result<()> {
        self.lock()
            .execute("DELETE FROM access_keys WHERE access_key_id = ?1", [id])?;
        Ok(())
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

    /// The user of a live session of `kind`.
    pub fn session(&self, digest: &str, kind: &str, now: i64) -> Result<Option<(String, i64)>> {
        self.lock()
            .query_row(
                "SELECT user_id, expires_at FROM sessions
                 WHERE token_digest = ?1 AND kind = ?2 AND expires_at > ?3",
                params![digest, kind, now],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
    }

    pub fn extend_session(&self, digest: &str, expires_at: i64) -> Result<()> {
        self.lock().execute(
            "UPDATE sessions SET expires_at = ?2 WHERE token_digest = ?1",
            params![digest, expires_at],
        )?;
        Ok(())
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

    /// Deletes entries older than `cutoff_ms`; returns how many.
    pub fn purge_audit(&self, cutoff_ms: i64) -> Result<usize> {
        self.lock().execute(
            "DELETE FROM audit_logs WHERE timestamp_ms < ?1",
            [cutoff_ms],
        )
    }
}

fn migrate(connection: &mut Connection) -> Result<()> {
    let version: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let version = usize::try_from(version).unwrap_or(0);
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(version) {
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
            store.session("token0", "session", 10).unwrap().is_none(),
            "oldest ended"
        );
        assert!(store.session("token1", "session", 10).unwrap().is_some());
        assert!(
            store.session("token1", "2fa", 10).unwrap().is_none(),
            "kinds are apart"
        );
        assert!(
            store.session("token1", "session", 1000).unwrap().is_none(),
            "expired"
        );
        store.delete_sessions_of("u1").unwrap();
        assert!(store.session("token5", "session", 10).unwrap().is_none());
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
