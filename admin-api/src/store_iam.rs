//! IAM in admin.db: managed policies (the built-ins and custom ones, global or of a tenant),
//! groups, group membership and attachments (user -> policy, group -> policy). Schema:
//! migration 2 in `store.rs`. Every write that must respect a bound counts and writes in one
//! transaction, so racing requests cannot pass it together.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use crate::store::{Result, Store};

/// IAM's default limit on managed policies attached to one user or one group.
pub const MAX_ATTACHED_POLICIES: i64 = 10;
/// IAM's limit on the groups one user is in.
pub const MAX_GROUPS_PER_USER: i64 = 10;
/// Custom policies per tenant (and global ones), as IAM's default per account (1,500).
pub const MAX_POLICIES_PER_SCOPE: i64 = 1500;
/// Groups per tenant (and global ones), as IAM's default per account.
pub const MAX_GROUPS_PER_SCOPE: i64 = 300;

/// A built-in policy: its id is its name, it is global, and it cannot be changed or deleted.
pub struct Builtin {
    pub id: &'static str,
    pub description: &'static str,
    pub document: &'static str,
}

/// The built-ins. Their rows are created by migration 2 (attachments reference them) and
/// their documents rewritten from here at every open, so a release that corrects one takes
/// effect without a migration.
pub const BUILTIN_POLICIES: &[Builtin] = &[
    Builtin {
        id: "readonly",
        description: "Read and list every bucket and object (s3:Get*, s3:List*)",
        document: concat!(
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"ReadOnly","Effect":"Allow","#,
            r#""Action":["s3:Get*","s3:List*"],"Resource":"*"}]}"#,
        ),
    },
    Builtin {
        id: "readwrite",
        description: "Every S3 action (the access every user had before policies)",
        document: concat!(
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"ReadWrite","Effect":"Allow","#,
            r#""Action":"s3:*","Resource":"*"}]}"#,
        ),
    },
    Builtin {
        id: "writeonly",
        description: "Upload objects (multipart included) without reading or listing them",
        document: concat!(
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"WriteOnly","Effect":"Allow","#,
            r#""Action":["s3:PutObject","s3:AbortMultipartUpload","s3:ListMultipartUploadParts","#,
            r#""s3:ListBucketMultipartUploads"],"Resource":"*"}]}"#,
        ),
    },
    Builtin {
        id: "diagnostics",
        description: "Bucket configuration and listings, no object reads",
        document: concat!(
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"Diagnostics","Effect":"Allow","#,
            r#""Action":["s3:ListAllMyBuckets","s3:ListBucket","s3:ListBucketVersions","#,
            r#""s3:ListBucketMultipartUploads","s3:GetBucket*","s3:GetLifecycleConfiguration","#,
            r#""s3:GetEncryptionConfiguration"],"Resource":"*"}]}"#,
        ),
    },
];

/// The policy a user created without a `policies` list gets: what every user could do before.
pub const DEFAULT_USER_POLICY: &str = "readwrite";

pub fn builtin(id: &str) -> Option<&'static Builtin> {
    BUILTIN_POLICIES.iter().find(|builtin| builtin.id == id)
}

#[derive(Clone, Debug, Serialize)]
pub struct ManagedPolicy {
    pub id: String,
    pub name: String,
    pub tenant_id: Option<String>,
    pub document: String,
    pub builtin: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub tenant_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The outcome of a write that respects a bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bounded {
    Done,
    /// Already so (an attachment or membership that existed): nothing changed.
    Unchanged,
    /// The bound (its value) is reached.
    OverLimit(i64),
    /// A name the scope already has.
    NameTaken,
    /// The row it is about is gone.
    Missing,
}

/// Inside an insert's transaction: `NameTaken` when `scope` (a table and a `WHERE` naming the
/// tenant as `?1`) already has `name`, `OverLimit` when it holds `limit` rows, else `None`.
fn name_or_room(
    transaction: &rusqlite::Transaction<'_>,
    scope: &str,
    tenant_id: Option<&str>,
    name: &str,
    limit: i64,
) -> Result<Option<Bounded>> {
    let (count, taken): (i64, bool) = transaction.query_row(
        &format!("SELECT COUNT(*), COALESCE(SUM(name = ?2), 0) > 0 FROM {scope}"),
        params![tenant_id, name],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    Ok(if taken {
        Some(Bounded::NameTaken)
    } else if count >= limit {
        Some(Bounded::OverLimit(limit))
    } else {
        None
    })
}

const POLICY_COLUMNS: &str = "id, name, tenant_id, document, builtin, created_at, updated_at";
const GROUP_COLUMNS: &str = "id, name, tenant_id, created_at, updated_at";

fn policy_from(row: &Row<'_>) -> Result<ManagedPolicy> {
    Ok(ManagedPolicy {
        id: row.get(0)?,
        name: row.get(1)?,
        tenant_id: row.get(2)?,
        document: row.get(3)?,
        builtin: row.get(4)?,
        created_at: row.get(5)?,
        updated_at: row.get(6)?,
    })
}

fn group_from(row: &Row<'_>) -> Result<Group> {
    Ok(Group {
        id: row.get(0)?,
        name: row.get(1)?,
        tenant_id: row.get(2)?,
        created_at: row.get(3)?,
        updated_at: row.get(4)?,
    })
}

/// Where a policy comes to a user from: directly, or through a group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EffectivePolicy {
    pub id: String,
    pub name: String,
    /// `None`: attached to the user; `Some(group name)`: through that group.
    pub via_group: Option<String>,
}

impl Store {
    /// Rewrites the built-ins' documents from `BUILTIN_POLICIES` (called at every open).
    pub fn sync_builtin_policies(&self) -> Result<()> {
        let connection = self.lock();
        for builtin in BUILTIN_POLICIES {
            // OR IGNORE: a built-in added by a later release whose name a global custom
            // policy already has is left out (logged) rather than keeping the admin from
            // starting.
            let inserted = connection.execute(
                "INSERT OR IGNORE INTO policies (id, name, tenant_id, document, builtin,
                    created_at, updated_at) VALUES (?1, ?1, NULL, ?2, 1, 0, 0)",
                params![builtin.id, builtin.document],
            )?;
            let updated = connection.execute(
                "UPDATE policies SET document = ?2 WHERE id = ?1 AND builtin = 1",
                params![builtin.id, builtin.document],
            )?;
            if inserted == 0 && updated == 0 {
                tracing::error!(
                    policy = builtin.id,
                    "built-in policy missing: its name is taken"
                );
            }
        }
        Ok(())
    }

    // ---- policies ----

    /// Every policy, the built-ins first; with `tenant_id`, the built-ins and that tenant's.
    pub fn policies(&self, tenant_id: Option<&str>) -> Result<Vec<ManagedPolicy>> {
        let connection = self.lock();
        let mut statement = connection.prepare(&format!(
            "SELECT {POLICY_COLUMNS} FROM policies
             WHERE ?1 IS NULL OR builtin = 1 OR tenant_id = ?1
             ORDER BY builtin DESC, tenant_id, name"
        ))?;
        statement.query_map([tenant_id], policy_from)?.collect()
    }

    pub fn policy(&self, id: &str) -> Result<Option<ManagedPolicy>> {
        self.lock()
            .query_row(
                &format!("SELECT {POLICY_COLUMNS} FROM policies WHERE id = ?1"),
                [id],
                policy_from,
            )
            .optional()
    }

    /// Inserts a custom policy unless its scope already has the name or is full.
    pub fn insert_policy(&self, policy: &ManagedPolicy) -> Result<Bounded> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let scope = "policies WHERE builtin = 0 AND tenant_id IS ?1";
        let limit = MAX_POLICIES_PER_SCOPE;
        if let Some(refused) = name_or_room(
            &transaction,
            scope,
            policy.tenant_id.as_deref(),
            &policy.name,
            limit,
        )? {
            return Ok(refused);
        }
        transaction.execute(
            &format!("INSERT INTO policies ({POLICY_COLUMNS}) VALUES (?1,?2,?3,?4,0,?5,?6)"),
            params![
                policy.id,
                policy.name,
                policy.tenant_id,
                policy.document,
                policy.created_at,
                policy.updated_at
            ],
        )?;
        transaction.commit()?;
        Ok(Bounded::Done)
    }

    /// A custom policy's new name and/or document (built-ins are never written here).
    pub fn update_policy(
        &self,
        id: &str,
        name: Option<&str>,
        document: Option<&str>,
        now: i64,
    ) -> Result<Bounded> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        if let Some(name) = name {
            let taken: bool = transaction.query_row(
                "SELECT EXISTS (SELECT 1 FROM policies AS other, policies AS this
                 WHERE this.id = ?1 AND other.id != ?1 AND other.name = ?2
                    AND other.tenant_id IS this.tenant_id AND other.builtin = 0)",
                params![id, name],
                |row| row.get(0),
            )?;
            if taken {
                return Ok(Bounded::NameTaken);
            }
        }
        let changed = transaction.execute(
            "UPDATE policies SET name = COALESCE(?2, name), document = COALESCE(?3, document),
                updated_at = ?4 WHERE id = ?1 AND builtin = 0",
            params![id, name, document, now],
        )?;
        transaction.commit()?;
        Ok(if changed == 1 {
            Bounded::Done
        } else {
            Bounded::Missing
        })
    }

    /// Users and groups the policy is attached to.
    pub fn policy_attachments(&self, id: &str) -> Result<(i64, i64)> {
        self.lock().query_row(
            "SELECT (SELECT COUNT(*) FROM user_policies WHERE policy_id = ?1),
                    (SELECT COUNT(*) FROM group_policies WHERE policy_id = ?1)",
            [id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
    }

    /// Deletes a custom policy attached to nobody, in one statement (an attachment made
    /// meanwhile keeps it). `Unchanged`: it is attached.
    pub fn delete_policy_if_detached(&self, id: &str) -> Result<Bounded> {
        let connection = self.lock();
        let changed = connection.execute(
            "DELETE FROM policies WHERE id = ?1 AND builtin = 0
             AND NOT EXISTS (SELECT 1 FROM user_policies WHERE policy_id = ?1)
             AND NOT EXISTS (SELECT 1 FROM group_policies WHERE policy_id = ?1)",
            [id],
        )?;
        if changed == 1 {
            return Ok(Bounded::Done);
        }
        let exists: bool = connection.query_row(
            "SELECT EXISTS (SELECT 1 FROM policies WHERE id = ?1 AND builtin = 0)",
            [id],
            |row| row.get(0),
        )?;
        Ok(if exists {
            Bounded::Unchanged
        } else {
            Bounded::Missing
        })
    }

    // ---- groups ----

    pub fn groups(&self, tenant_id: Option<&str>) -> Result<Vec<Group>> {
        let connection = self.lock();
        let mut statement = connection.prepare(&format!(
            "SELECT {GROUP_COLUMNS} FROM groups WHERE ?1 IS NULL OR tenant_id = ?1
             ORDER BY tenant_id, name"
        ))?;
        statement.query_map([tenant_id], group_from)?.collect()
    }

    pub fn group(&self, id: &str) -> Result<Option<Group>> {
        self.lock()
            .query_row(
                &format!("SELECT {GROUP_COLUMNS} FROM groups WHERE id = ?1"),
                [id],
                group_from,
            )
            .optional()
    }

    pub fn insert_group(&self, group: &Group) -> Result<Bounded> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let scope = "groups WHERE tenant_id IS ?1";
        let limit = MAX_GROUPS_PER_SCOPE;
        if let Some(refused) = name_or_room(
            &transaction,
            scope,
            group.tenant_id.as_deref(),
            &group.name,
            limit,
        )? {
            return Ok(refused);
        }
        transaction.execute(
            &format!("INSERT INTO groups ({GROUP_COLUMNS}) VALUES (?1,?2,?3,?4,?5)"),
            params![
                group.id,
                group.name,
                group.tenant_id,
                group.created_at,
                group.updated_at
            ],
        )?;
        transaction.commit()?;
        Ok(Bounded::Done)
    }

    pub fn rename_group(&self, id: &str, name: &str, now: i64) -> Result<Bounded> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let taken: bool = transaction.query_row(
            "SELECT EXISTS (SELECT 1 FROM groups AS other, groups AS this
             WHERE this.id = ?1 AND other.id != ?1 AND other.name = ?2
                AND other.tenant_id IS this.tenant_id)",
            params![id, name],
            |row| row.get(0),
        )?;
        if taken {
            return Ok(Bounded::NameTaken);
        }
        let changed = transaction.execute(
            "UPDATE groups SET name = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, name, now],
        )?;
        transaction.commit()?;
        Ok(if changed == 1 {
            Bounded::Done
        } else {
            Bounded::Missing
        })
    }

    /// Deletes a group; its memberships and attachments go with it (ON DELETE CASCADE).
    pub fn delete_group(&self, id: &str) -> Result<bool> {
        Ok(self
            .lock()
            .execute("DELETE FROM groups WHERE id = ?1", [id])?
            == 1)
    }

    /// The members of a group: (user id, user name).
    pub fn group_members(&self, id: &str) -> Result<Vec<(String, String)>> {
        let connection = self.lock();
        let mut statement = connection.prepare(
            "SELECT users.id, users.username FROM group_members
             JOIN users ON users.id = group_members.user_id
             WHERE group_members.group_id = ?1 ORDER BY users.username",
        )?;
        statement
            .query_map([id], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect()
    }

    /// The groups a user is in.
    pub fn groups_of(&self, user_id: &str) -> Result<Vec<Group>> {
        let connection = self.lock();
        let mut statement = connection.prepare(
            "SELECT groups.id, groups.name, groups.tenant_id, groups.created_at,
                groups.updated_at FROM group_members
             JOIN groups ON groups.id = group_members.group_id
             WHERE group_members.user_id = ?1 ORDER BY groups.name",
        )?;
        statement.query_map([user_id], group_from)?.collect()
    }

    /// Adds a member unless the user is in `MAX_GROUPS_PER_USER` groups already.
    pub fn add_member(&self, group_id: &str, user_id: &str) -> Result<Bounded> {
        self.bounded_link(
            (
                "SELECT COUNT(*) FROM group_members WHERE user_id = ?1",
                user_id,
            ),
            MAX_GROUPS_PER_USER,
            "INSERT OR IGNORE INTO group_members (group_id, user_id) VALUES (?1, ?2)",
            group_id,
            user_id,
        )
    }

    pub fn remove_member(&self, group_id: &str, user_id: &str) -> Result<bool> {
        let changed = self.lock().execute(
            "DELETE FROM group_members WHERE group_id = ?1 AND user_id = ?2",
            params![group_id, user_id],
        )?;
        Ok(changed == 1)
    }

    // ---- attachments ----

    /// The policies attached to a user directly.
    pub fn user_policies(&self, user_id: &str) -> Result<Vec<ManagedPolicy>> {
        self.attached("user_policies", "user_id", user_id)
    }

    pub fn group_policies(&self, group_id: &str) -> Result<Vec<ManagedPolicy>> {
        self.attached("group_policies", "group_id", group_id)
    }

    fn attached(&self, table: &str, column: &str, id: &str) -> Result<Vec<ManagedPolicy>> {
        let connection = self.lock();
        let mut statement = connection.prepare(&format!(
            "SELECT policies.id, policies.name, policies.tenant_id, policies.document,
                policies.builtin, policies.created_at, policies.updated_at
             FROM {table} JOIN policies ON policies.id = {table}.policy_id
             WHERE {table}.{column} = ?1 ORDER BY policies.name"
        ))?;
        statement.query_map([id], policy_from)?.collect()
    }

    pub fn attach_user_policy(&self, user_id: &str, policy_id: &str) -> Result<Bounded> {
        self.bounded_link(
            (
                "SELECT COUNT(*) FROM user_policies WHERE user_id = ?1",
                user_id,
            ),
            MAX_ATTACHED_POLICIES,
            "INSERT OR IGNORE INTO user_policies (user_id, policy_id) VALUES (?1, ?2)",
            user_id,
            policy_id,
        )
    }

    pub fn attach_group_policy(&self, group_id: &str, policy_id: &str) -> Result<Bounded> {
        self.bounded_link(
            (
                "SELECT COUNT(*) FROM group_policies WHERE group_id = ?1",
                group_id,
            ),
            MAX_ATTACHED_POLICIES,
            "INSERT OR IGNORE INTO group_policies (group_id, policy_id) VALUES (?1, ?2)",
            group_id,
            policy_id,
        )
    }

    pub fn detach_user_policy(&self, user_id: &str, policy_id: &str) -> Result<bool> {
        let changed = self.lock().execute(
            "DELETE FROM user_policies WHERE user_id = ?1 AND policy_id = ?2",
            params![user_id, policy_id],
        )?;
        Ok(changed == 1)
    }

    pub fn detach_group_policy(&self, group_id: &str, policy_id: &str) -> Result<bool> {
        let changed = self.lock().execute(
            "DELETE FROM group_policies WHERE group_id = ?1 AND policy_id = ?2",
            params![group_id, policy_id],
        )?;
        Ok(changed == 1)
    }

    /// One link row (`insert` with ?1, ?2), unless `count` (its query, with ?1 the id it
    /// counts for) is at `limit`;
    /// a link that exists is `Unchanged` whatever the count. A row the link names that is
    /// gone (deleted meanwhile) is `Missing`.
    fn bounded_link(
        &self,
        count: (&str, &str),
        limit: i64,
        insert: &str,
        first: &str,
        second: &str,
    ) -> Result<Bounded> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let current: i64 = transaction.query_row(count.0, [count.1], |row| row.get(0))?;
        let inserted = match transaction.execute(insert, params![first, second]) {
            Ok(changed) => changed,
            Err(rusqlite::Error::SqliteFailure(error, _))
                if error.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                return Ok(Bounded::Missing);
            }
            Err(error) => return Err(error),
        };
        if inserted == 0 {
            return Ok(Bounded::Unchanged);
        }
        if current >= limit {
            // Rolled back when the transaction drops.
            return Ok(Bounded::OverLimit(limit));
        }
        transaction.commit()?;
        Ok(Bounded::Done)
    }

    /// A user's effective policies: attached directly, then through each group (ordered by
    /// group name), each policy once, the first way it came.
    pub fn effective_policies(&self, user_id: &str) -> Result<Vec<EffectivePolicy>> {
        let mut effective: Vec<EffectivePolicy> = Vec::new();
        let mut push = |policy: ManagedPolicy, via_group: Option<String>| {
            if !effective.iter().any(|known| known.id == policy.id) {
                effective.push(EffectivePolicy {
                    id: policy.id,
                    name: policy.name,
                    via_group,
                });
            }
        };
        for policy in self.user_policies(user_id)? {
            push(policy, None);
        }
        for group in self.groups_of(user_id)? {
            for policy in self.group_policies(&group.id)? {
                push(policy, Some(group.name.clone()));
            }
        }
        Ok(effective)
    }

    /// Revokes every session (STS credentials) of a user issued up to `at_ms`.
    pub fn revoke_sessions(&self, user_id: &str, at_ms: i64) -> Result<()> {
        self.lock().execute(
            "INSERT INTO session_revocations (user_id, revoked_at_ms) VALUES (?1, ?2)
             ON CONFLICT (user_id) DO UPDATE SET
                revoked_at_ms = MAX(revoked_at_ms, excluded.revoked_at_ms)",
            rusqlite::params![user_id, at_ms],
        )?;
        Ok(())
    }

    /// Every user's latest session revocation (Unix milliseconds), by user id.
    pub fn session_revocations(&self) -> Result<HashMap<String, i64>> {
        let connection = self.lock();
        let mut statement =
            connection.prepare("SELECT user_id, revoked_at_ms FROM session_revocations")?;
        let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        rows.collect()
    }

    /// Every user's direct policy ids and group ids, and every group's policy ids: the links
    /// of an identity snapshot, in two queries.
    pub fn identity_links(&self) -> Result<IdentityLinks> {
        let connection = self.lock();
        let mut links = IdentityLinks::default();
        let mut users = connection.prepare(
            "SELECT user_id, policy_id, NULL FROM user_policies
             UNION ALL SELECT user_id, NULL, group_id FROM group_members
             ORDER BY 1, 2, 3",
        )?;
        let rows = users.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, Option<String>>(1)?,
                row.get::<_, Option<String>>(2)?,
            ))
        })?;
        for row in rows {
            let (user, policy, group) = row?;
            let entry = links.users.entry(user).or_default();
            entry.0.extend(policy);
            entry.1.extend(group);
        }
        let mut groups =
            connection.prepare("SELECT group_id, policy_id FROM group_policies ORDER BY 1, 2")?;
        let rows = groups.query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (group, policy) = row?;
            links.groups.entry(group).or_default().push(policy);
        }
        Ok(links)
    }
}

/// The links of an identity snapshot: user id -> (policy ids, group ids); group id -> policy
/// ids.
#[derive(Debug, Default)]
pub struct IdentityLinks {
    pub users: std::collections::BTreeMap<String, (Vec<String>, Vec<String>)>,
    pub groups: std::collections::BTreeMap<String, Vec<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Standing, Tenant, Update, User, UserChange};

    fn tenant(id: &str) -> Tenant {
        Tenant {
            id: id.into(),
            name: id.into(),
            display_name: id.into(),
            status: "active".into(),
            max_storage_bytes: None,
            max_buckets: None,
            max_access_keys: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn user(id: &str, tenant: Option<&str>) -> User {
        User {
            id: id.into(),
            username: id.into(),
            password_hash: "h".into(),
            tenant_id: tenant.map(Into::into),
            role: "user".into(),
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

    fn policy(id: &str, tenant: Option<&str>) -> ManagedPolicy {
        ManagedPolicy {
            id: id.into(),
            name: id.into(),
            tenant_id: tenant.map(Into::into),
            document: "{}".into(),
            builtin: false,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn group(id: &str, tenant: Option<&str>) -> Group {
        Group {
            id: id.into(),
            name: id.into(),
            tenant_id: tenant.map(Into::into),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn builtins_exist_parse_and_stay() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("admin.db")).unwrap();
        let listed = store.policies(None).unwrap();
        assert_eq!(listed.len(), BUILTIN_POLICIES.len());
        for builtin in &listed {
            assert!(builtin.builtin && builtin.tenant_id.is_none());
            policy::parse_identity_policy(&builtin.document).unwrap();
        }
        assert_eq!(
            store.update_policy("readonly", None, Some("{}"), 1),
            Ok(Bounded::Missing)
        );
        assert_eq!(
            store.delete_policy_if_detached("readonly"),
            Ok(Bounded::Missing)
        );
    }

    #[test]
    fn links_are_bounded_and_follow_deletions_and_moves() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("admin.db")).unwrap();
        store.insert_tenant(&tenant("a")).unwrap();
        store.insert_tenant(&tenant("b")).unwrap();
        store.insert_user(&user("u", Some("a"))).unwrap();
        assert_eq!(
            store.insert_policy(&policy("pa", Some("a"))),
            Ok(Bounded::Done)
        );
        let mut same_name = policy("pa2", Some("a"));
        same_name.name = "pa".into();
        assert_eq!(store.insert_policy(&same_name), Ok(Bounded::NameTaken));
        same_name.tenant_id = Some("b".into());
        assert_eq!(
            store.insert_policy(&same_name),
            Ok(Bounded::Done),
            "another tenant"
        );
        assert_eq!(
            store.insert_group(&group("ga", Some("a"))),
            Ok(Bounded::Done)
        );
        assert_eq!(store.attach_user_policy("u", "pa"), Ok(Bounded::Done));
        assert_eq!(store.attach_user_policy("u", "pa"), Ok(Bounded::Unchanged));
        assert_eq!(store.attach_user_policy("u", "nope"), Ok(Bounded::Missing));
        assert_eq!(store.attach_group_policy("ga", "pa"), Ok(Bounded::Done));
        assert_eq!(store.add_member("ga", "u"), Ok(Bounded::Done));
        assert_eq!(
            store.delete_policy_if_detached("pa"),
            Ok(Bounded::Unchanged)
        );

        // The user moves to tenant b: tenant a's policy and group stay behind.
        store.attach_user_policy("u", "readonly").unwrap();
        let seen = Standing {
            role: "user".into(),
            tenant_id: Some("a".into()),
            status: "active".into(),
        };
        let change = UserChange {
            tenant_id: Update::Set(Some("b".into())),
            ..UserChange::default()
        };
        assert!(store.update_user("u", &seen, &change, 1).unwrap());
        let kept: Vec<String> = store
            .user_policies("u")
            .unwrap()
            .into_iter()
            .map(|p| p.id)
            .collect();
        assert_eq!(kept, ["readonly"], "the built-in stays");
        assert!(store.groups_of("u").unwrap().is_empty());

        // Tenant a, empty of users, goes with its policies and groups.
        assert!(store.delete_tenant_if_empty("a").unwrap());
        assert!(store.policy("pa").unwrap().is_none() && store.group("ga").unwrap().is_none());

        // At most 10 policies per user.
        for index in 0..10 {
            let id = format!("p{index}");
            store.insert_policy(&policy(&id, Some("b"))).unwrap();
            let expected = if index < 9 {
                Bounded::Done
            } else {
                Bounded::OverLimit(MAX_ATTACHED_POLICIES)
            };
            assert_eq!(store.attach_user_policy("u", &id), Ok(expected), "{id}");
        }
        assert_eq!(store.user_policies("u").unwrap().len(), 10);
    }
}
