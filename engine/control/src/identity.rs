//! Identity as the data plane needs it to authenticate and authorize S3 requests on every
//! core: tenants with quotas, users with a role, their groups and managed (IAM identity)
//! policies, and access keys with their secrets.
//!
//! The admin process owns identity (passwords, 2FA, sessions stay there); it pushes a whole
//! `IdentitySnapshot` whenever anything changes. The snapshot carries secret keys (SigV4 needs
//! the secret itself), so it only travels over the 0600 control socket and is persisted by the
//! data plane with the same mode.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentitySnapshot {
    /// Strictly increasing; the data plane ignores a snapshot older than the one it holds.
    pub version: u64,
    pub tenants: Vec<Tenant>,
    pub users: Vec<User>,
    pub access_keys: Vec<AccessKey>,
    /// Managed policies referenced by users or groups (built-ins included). Defaulted so a
    /// snapshot persisted before policies existed still parses.
    #[serde(default)]
    pub policies: Vec<ManagedPolicy>,
    #[serde(default)]
    pub groups: Vec<Group>,
}

/// An IAM identity policy document, as the admin validated it (`policy::parse_identity_policy`);
/// the data plane compiles it again (it trusts no file or socket to hold only valid text).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedPolicy {
    pub id: String,
    pub name: String,
    /// `None`: a global policy (the built-ins, or one a global admin created).
    #[serde(default)]
    pub tenant_id: Option<String>,
    pub document: String,
}

/// A group of users; its members get its policies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub tenant_id: Option<String>,
    #[serde(default)]
    pub policy_ids: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    /// A disabled tenant's keys are refused (`AccessDenied`).
    pub enabled: bool,
    pub quota: TenantQuota,
}

/// Limits the data plane enforces (storage, buckets); access keys are limited by the admin.
/// `None` is unlimited.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantQuota {
    pub max_storage_bytes: Option<u64>,
    pub max_buckets: Option<u32>,
    pub max_access_keys: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Every bucket of every tenant, and the buckets of no tenant.
    GlobalAdmin,
    /// The buckets of their tenant; manages the tenant's users in the admin.
    TenantAdmin,
    /// The buckets of their tenant.
    User,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub username: String,
    /// `None`: a global user (no tenant). A non-admin global user owns the buckets of no
    /// tenant only.
    pub tenant_id: Option<String>,
    pub role: Role,
    /// False for a disabled or locked user: their keys are refused.
    pub enabled: bool,
    /// Policies attached to the user directly.
    #[serde(default)]
    pub policy_ids: Vec<String>,
    /// Groups the user is a member of (their policies apply too).
    #[serde(default)]
    pub group_ids: Vec<String>,
    /// Session credentials (STS) of this user issued at or before this instant (Unix
    /// milliseconds) are revoked: "revoke all sessions". `None`: none revoked.
    #[serde(default)]
    pub sessions_revoked_at_ms: Option<i64>,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessKey {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub user_id: String,
    pub enabled: bool,
}

/// Never prints the secret (snapshots end up in error messages and logs).
impl std::fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKey")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"..")
            .field("user_id", &self.user_id)
            .field("enabled", &self.enabled)
            .finish()
    }
}

impl IdentitySnapshot {
    /// Checks references and uniqueness; the data plane refuses a snapshot that fails this.
    pub fn validate(&self) -> Result<(), String> {
        let mut tenant_ids = BTreeSet::new();
        for tenant in &self.tenants {
            if !tenant_ids.insert(tenant.id.as_str()) {
                return Err(format!("duplicate tenant id {:?}", tenant.id));
            }
        }
        let policy_ids = self.check_policies_and_groups(&tenant_ids)?;
        let group_ids: BTreeSet<&str> = self.groups.iter().map(|g| g.id.as_str()).collect();
        let mut user_ids = BTreeSet::new();
        for user in &self.users {
            if !user_ids.insert(user.id.as_str()) {
                return Err(format!("duplicate user id {:?}", user.id));
            }
            if let Some(tenant_id) = &user.tenant_id
                && !tenant_ids.contains(tenant_id.as_str())
            {
                return Err(format!("user {:?}: unknown tenant {tenant_id:?}", user.id));
            }
            if let Some(policy) = user
                .policy_ids
                .iter()
                .find(|p| !policy_ids.contains(p.as_str()))
            {
                return Err(format!("user {:?}: unknown policy {policy:?}", user.id));
            }
            if let Some(group) = user
                .group_ids
                .iter()
                .find(|g| !group_ids.contains(g.as_str()))
            {
                return Err(format!("user {:?}: unknown group {group:?}", user.id));
            }
        }
        let mut key_ids = BTreeSet::new();
        for key in &self.access_keys {
            if !key_ids.insert(key.access_key_id.as_str()) {
                return Err(format!("duplicate access key {:?}", key.access_key_id));
            }
            if !user_ids.contains(key.user_id.as_str()) {
                return Err(format!(
                    "access key {:?}: unknown user {:?}",
                    key.access_key_id, key.user_id
                ));
            }
        }
        Ok(())
    }

    /// Unique policy and group ids, known tenants, and groups naming known policies; the
    /// policy ids, for the users' references.
    fn check_policies_and_groups(
        &self,
        tenant_ids: &BTreeSet<&str>,
    ) -> Result<BTreeSet<&str>, String> {
        let known_tenant = |tenant: &Option<String>| {
            tenant
                .as_deref()
                .is_none_or(|tenant| tenant_ids.contains(tenant))
        };
        let mut policy_ids = BTreeSet::new();
        for policy in &self.policies {
            if !policy_ids.insert(policy.id.as_str()) {
                return Err(format!("duplicate policy id {:?}", policy.id));
            }
            if !known_tenant(&policy.tenant_id) {
                return Err(format!("policy {:?}: unknown tenant", policy.id));
            }
        }
        let mut group_ids = BTreeSet::new();
        for group in &self.groups {
            if !group_ids.insert(group.id.as_str()) {
                return Err(format!("duplicate group id {:?}", group.id));
            }
            if !known_tenant(&group.tenant_id) {
                return Err(format!("group {:?}: unknown tenant", group.id));
            }
            if let Some(policy) = group
                .policy_ids
                .iter()
                .find(|p| !policy_ids.contains(p.as_str()))
            {
                return Err(format!("group {:?}: unknown policy {policy:?}", group.id));
            }
        }
        Ok(policy_ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot() -> IdentitySnapshot {
        IdentitySnapshot {
            version: 1,
            tenants: vec![Tenant {
                id: "t1".into(),
                name: "acme".into(),
                enabled: true,
                quota: TenantQuota::default(),
            }],
            users: vec![User {
                id: "u1".into(),
                username: "alice".into(),
                tenant_id: Some("t1".into()),
                role: Role::User,
                enabled: true,
                policy_ids: vec!["readonly".into()],
                group_ids: vec!["g1".into()],
                sessions_revoked_at_ms: None,
            }],
            access_keys: vec![AccessKey {
                access_key_id: "AK1".into(),
                secret_access_key: "secret".into(),
                user_id: "u1".into(),
                enabled: true,
            }],
            policies: vec![ManagedPolicy {
                id: "readonly".into(),
                name: "readonly".into(),
                tenant_id: None,
                document: "{}".into(),
            }],
            groups: vec![Group {
                id: "g1".into(),
                name: "devs".into(),
                tenant_id: Some("t1".into()),
                policy_ids: vec!["readonly".into()],
            }],
        }
    }

    #[test]
    fn debug_never_shows_a_secret() {
        assert!(!format!("{:?}", snapshot()).contains("secret\""));
        assert!(!format!("{:?}", snapshot().access_keys[0]).contains("\"secret\""));
    }

    #[test]
    fn a_consistent_snapshot_validates() {
        assert_eq!(snapshot().validate(), Ok(()));
    }

    #[test]
    fn dangling_references_are_refused() {
        let mut bad_key = snapshot();
        bad_key.access_keys[0].user_id = "nobody".into();
        assert!(bad_key.validate().is_err());
        let mut bad_user = snapshot();
        bad_user.users[0].tenant_id = Some("t9".into());
        assert!(bad_user.validate().is_err());
        let mut duplicate = snapshot();
        duplicate.access_keys.push(duplicate.access_keys[0].clone());
        assert!(duplicate.validate().is_err());
        let mut bad_policy = snapshot();
        bad_policy.users[0].policy_ids.push("nope".into());
        assert!(bad_policy.validate().is_err());
        let mut bad_group = snapshot();
        bad_group.users[0].group_ids = vec!["g9".into()];
        assert!(bad_group.validate().is_err());
        let mut bad_group_policy = snapshot();
        bad_group_policy.groups[0].policy_ids = vec!["nope".into()];
        assert!(bad_group_policy.validate().is_err());
    }

    #[test]
    fn a_snapshot_from_before_policies_still_parses() {
        let old = r#"{"version":3,"tenants":[],"access_keys":[],
            "users":[{"id":"u","username":"u","tenant_id":null,"role":"user","enabled":true}]}"#;
        let snapshot: IdentitySnapshot = serde_json::from_str(old).unwrap();
        assert!(snapshot.policies.is_empty() && snapshot.users[0].policy_ids.is_empty());
        assert_eq!(snapshot.validate(), Ok(()));
    }
}
