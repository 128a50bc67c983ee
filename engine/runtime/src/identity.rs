//! Who may sign S3 requests and which buckets they may touch, as every shard sees it.
//!
//! The admin pushes a whole `IdentitySnapshot` over the control channel; the control server
//! validates it and sends it to every shard, and each shard builds its own `IdentityIndex` (a
//! hash map by access key id, built once per snapshot) behind an `Rc`: the data path touches
//! nothing another core touches, not even a reference count. A shard swaps its index in one
//! step, so a request sees either the old or the new identity, never a mix, and a deleted or
//! disabled key fails on the first request after `PutIdentity` answered.

use std::collections::HashMap;
use std::rc::Rc;

pub use control::identity::{IdentitySnapshot, Role, TenantQuota};

/// One access key of a user, with what authorization needs about its owner.
#[derive(Debug, PartialEq)]
pub struct KeyEntry {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub user_id: String,
    pub tenant_id: Option<String>,
    pub role: Role,
    /// The user as bucket policies name it (`policy_principal`), built once per snapshot.
    pub policy_principal: policy::Principal,
    /// False when the key, its user or its tenant is disabled: the signature is still checked
    /// (so only the key's holder learns it is disabled), then the request is refused.
    pub usable: bool,
    /// The owner's effective identity policies: attached directly, then through each group,
    /// each policy once (the first way it came), labelled `user:<name>/<policy>` or
    /// `group:<name>/<policy>` for the audit of a decision. Meant to be evaluated as AWS does
    /// within one account: the tenant boundary first (`Principal::may_access`; no policy
    /// reaches another tenant's buckets), then `policy::evaluate` over these policies together
    /// with the bucket's policy: any explicit Deny wins, else any Allow allows, else denied.
    /// Tenant admins and global admins are allowed without an Allow here, but an explicit Deny
    /// in their policies still applies. A document that did not compile is not in the list
    /// (it allows nothing).
    pub policies: Vec<Rc<policy::Policy>>,
    /// Set for session credentials (STS): what the session token said.
    pub session: Option<SessionGrant>,
}

/// What a session's token adds to its user's rights.
#[derive(Debug, PartialEq)]
pub struct SessionGrant {
    pub id: String,
    /// Unix seconds; checked at every request (entries are cached per shard).
    pub expires_at: i64,
    /// The inline session policy: the session may do only what it allows (on top of what
    /// the user may do). `None`: the user's rights.
    pub policy: Option<policy::Policy>,
    /// The access key that asked for the session (`None`: minted by the admin).
    pub parent_access_key: Option<String>,
    pub role: Option<crate::sessions::AssumedRole>,
}

/// What a user may do, shared by their access keys and sessions.
#[derive(Debug)]
struct UserGrant {
    user_id: String,
    tenant_id: Option<String>,
    role: Role,
    policy_principal: policy::Principal,
    /// The user and their tenant are enabled.
    enabled: bool,
    policies: Vec<Rc<policy::Policy>>,
    sessions_revoked_at_ms: Option<i64>,
}

impl UserGrant {
    fn entry(
        &self,
        access_key_id: String,
        secret_access_key: String,
        usable: bool,
        session: Option<SessionGrant>,
    ) -> KeyEntry {
        KeyEntry {
            access_key_id,
            secret_access_key,
            user_id: self.user_id.clone(),
            tenant_id: self.tenant_id.clone(),
            role: self.role,
            policy_principal: self.policy_principal.clone(),
            usable: usable && self.enabled,
            policies: self.policies.clone(),
            session,
        }
    }
}

/// Why session claims give no usable key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionRefusal {
    /// The user is not in the identity (deleted), or the session policy does not compile.
    Invalid,
}

/// The identity a request was signed with.
#[derive(Clone, Debug, PartialEq)]
pub enum Principal {
    /// The root credential of the data directory: every bucket, always valid.
    Root,
    User(Rc<KeyEntry>),
}

impl Principal {
    pub fn tenant_id(&self) -> Option<&str> {
        match self {
            Principal::Root => None,
            Principal::User(entry) => entry.tenant_id.as_deref(),
        }
    }

    pub fn user_id(&self) -> Option<&str> {
        match self {
            Principal::Root => None,
            Principal::User(entry) => Some(&entry.user_id),
        }
    }

    /// Root or a global admin: sees and touches every bucket. A global admin placed in a
    /// tenant is global too (as on the console port, admin-api/README.md); the tenant only
    /// says which tenant the buckets they create belong to.
    pub fn is_global_admin(&self) -> bool {
        match self {
            Principal::Root => true,
            Principal::User(entry) => entry.role == Role::GlobalAdmin,
        }
    }

    /// Whether this principal may see and touch a bucket owned by `owner_tenant` (`None`: a
    /// bucket of no tenant). Tenant users and tenant admins reach their tenant's buckets only;
    /// a global user who is not an admin reaches the buckets of no tenant only.
    pub fn may_access(&self, owner_tenant: Option<&str>) -> bool {
        self.is_global_admin() || self.tenant_id() == owner_tenant
    }
}

/// The AWS account id bucket policies see for users without a tenant (global users). Tenant
/// ids are `tenant-<hex>` (the admin makes them), so this cannot name a tenant.
pub const GLOBAL_ACCOUNT_ID: &str = "global";

/// A user in the policy language (the `policy` crate's mapping): the tenant is the account,
/// the user `arn:aws:iam::<tenant>:user/<username>`, `aws:userid` the user's id.
fn policy_principal(user: &control::identity::User) -> policy::Principal {
    let account = user.tenant_id.as_deref().unwrap_or(GLOBAL_ACCOUNT_ID);
    policy::Principal::user(account, &user.username, &user.id)
}

/// The lookup structure each shard holds (behind an `Rc`, immutable once built).
#[derive(Debug, Default)]
pub struct IdentityIndex {
    pub version: u64,
    keys: HashMap<String, Rc<KeyEntry>>,
    /// Every user's rights, by user id: sessions are built from them.
    grants: HashMap<String, UserGrant>,
    /// Quotas of each tenant (the data plane enforces storage bytes and bucket counts).
    quotas: HashMap<String, TenantQuota>,
}

impl IdentityIndex {
    /// Builds the index of a snapshot that passed `IdentitySnapshot::validate`.
    pub fn build(snapshot: &IdentitySnapshot) -> IdentityIndex {
        let tenants: HashMap<&str, &control::identity::Tenant> = snapshot
            .tenants
            .iter()
            .map(|tenant| (tenant.id.as_str(), tenant))
            .collect();
        let mut effective = EffectivePolicies::new(snapshot);
        let grants: HashMap<String, UserGrant> = snapshot
            .users
            .iter()
            .map(|user| {
                let tenant_enabled = user
                    .tenant_id
                    .as_deref()
                    .is_none_or(|id| tenants.get(id).is_some_and(|tenant| tenant.enabled));
                let grant = UserGrant {
                    user_id: user.id.clone(),
                    tenant_id: user.tenant_id.clone(),
                    role: user.role,
                    policy_principal: policy_principal(user),
                    enabled: user.enabled && tenant_enabled,
                    policies: effective.of(user),
                    sessions_revoked_at_ms: user.sessions_revoked_at_ms,
                };
                (user.id.clone(), grant)
            })
            .collect();
        let mut keys = HashMap::with_capacity(snapshot.access_keys.len());
        for key in &snapshot.access_keys {
            let Some(grant) = grants.get(key.user_id.as_str()) else {
                continue;
            };
            let entry = grant.entry(
                key.access_key_id.clone(),
                key.secret_access_key.clone(),
                key.enabled,
                None,
            );
            keys.insert(key.access_key_id.clone(), Rc::new(entry));
        }
        let quotas = snapshot
            .tenants
            .iter()
            .map(|tenant| (tenant.id.clone(), tenant.quota.clone()))
            .collect();
        IdentityIndex {
            version: snapshot.version,
            keys,
            grants,
            quotas,
        }
    }

    /// The key of a session whose token opened: its user's rights now (disabled, or revoked
    /// since the session was issued: `usable` false), narrowed by the session policy.
    pub fn session_entry(
        &self,
        access_key_id: &str,
        claims: crate::sessions::SessionClaims,
    ) -> Result<KeyEntry, SessionRefusal> {
        let grant = self
            .grants
            .get(&claims.user)
            .ok_or(SessionRefusal::Invalid)?;
        let policy = match &claims.policy {
            Some(document) => {
                Some(policy::parse_identity_policy(document).map_err(|_| SessionRefusal::Invalid)?)
            }
            None => None,
        };
        let revoked = grant
            .sessions_revoked_at_ms
            .is_some_and(|revoked_at| claims.issued_ms <= revoked_at);
        let session = SessionGrant {
            id: claims.id,
            expires_at: claims.expires,
            policy,
            parent_access_key: claims.parent,
            role: claims.role,
        };
        Ok(grant.entry(
            access_key_id.to_owned(),
            claims.secret,
            !revoked,
            Some(session),
        ))
    }

    pub fn key(&self, access_key_id: &str) -> Option<&Rc<KeyEntry>> {
        self.keys.get(access_key_id)
    }

    pub fn quota(&self, tenant_id: &str) -> Option<&TenantQuota> {
        self.quotas.get(tenant_id)
    }

    pub fn key_count(&self) -> usize {
        self.keys.len()
    }
}

/// The effective policies of the users of one snapshot: each document compiled once, each
/// labelled policy built once (a group's policy is shared by all its members' keys), each
/// user's list computed once (shared by all their keys).
struct EffectivePolicies<'a> {
    compiled: HashMap<&'a str, Option<policy::Policy>>,
    groups: HashMap<&'a str, &'a control::identity::Group>,
    names: HashMap<&'a str, &'a str>,
    labelled: HashMap<String, Rc<policy::Policy>>,
    per_user: HashMap<&'a str, Vec<Rc<policy::Policy>>>,
}

impl<'a> EffectivePolicies<'a> {
    fn new(snapshot: &'a IdentitySnapshot) -> Self {
        let mut compiled = HashMap::new();
        let mut by_document: HashMap<&str, Option<policy::Policy>> = HashMap::new();
        for managed in &snapshot.policies {
            let document = managed.document.as_str();
            let policy = by_document
                .entry(document)
                .or_insert_with(|| match policy::parse_identity_policy(document) {
                    Ok(policy) => Some(policy),
                    Err(error) => {
                        // The admin validated it; a document that does not compile here is
                        // left out, so it allows nothing (and denies nothing).
                        tracing::warn!(policy = %managed.id, %error, "policy skipped");
                        None
                    }
                })
                .clone();
            compiled.insert(managed.id.as_str(), policy);
        }
        EffectivePolicies {
            compiled,
            groups: snapshot.groups.iter().map(|g| (g.id.as_str(), g)).collect(),
            names: snapshot
                .policies
                .iter()
                .map(|p| (p.id.as_str(), p.name.as_str()))
                .collect(),
            labelled: HashMap::new(),
            per_user: HashMap::new(),
        }
    }

    /// The labelled policy `policy_id` as attached to `holder` (`user:alice`), if it compiled.
    fn labelled(&mut self, holder: &str, policy_id: &str) -> Option<Rc<policy::Policy>> {
        let name = self.names.get(policy_id).copied().unwrap_or(policy_id);
        let label = format!("{holder}/{name}");
        if let Some(policy) = self.labelled.get(&label) {
            return Some(Rc::clone(policy));
        }
        let policy = self.compiled.get(policy_id)?.clone()?.with_label(&label);
        let policy = Rc::new(policy);
        self.labelled.insert(label, Rc::clone(&policy));
        Some(policy)
    }

    fn of(&mut self, user: &'a control::identity::User) -> Vec<Rc<policy::Policy>> {
        if let Some(policies) = self.per_user.get(user.id.as_str()) {
            return policies.clone();
        }
        let mut seen = std::collections::HashSet::new();
        let mut sources: Vec<(String, &str)> = Vec::new();
        let direct = format!("user:{}", user.username);
        for policy_id in &user.policy_ids {
            if seen.insert(policy_id.as_str()) {
                sources.push((direct.clone(), policy_id));
            }
        }
        for group_id in &user.group_ids {
            let Some(group) = self.groups.get(group_id.as_str()).copied() else {
                continue;
            };
            for policy_id in &group.policy_ids {
                if seen.insert(policy_id.as_str()) {
                    sources.push((format!("group:{}", group.name), policy_id));
                }
            }
        }
        let policies: Vec<_> = sources
            .into_iter()
            .filter_map(|(holder, policy_id)| self.labelled(&holder, policy_id))
            .collect();
        self.per_user.insert(user.id.as_str(), policies.clone());
        policies
    }
}

#[cfg(test)]
mod tests {
    use control::identity::{AccessKey, Group, ManagedPolicy, Tenant, User};

    use super::*;

    fn snapshot() -> IdentitySnapshot {
        let tenant = |id: &str, enabled| Tenant {
            id: id.into(),
            name: id.into(),
            enabled,
            quota: TenantQuota {
                max_buckets: Some(2),
                ..TenantQuota::default()
            },
        };
        let user = |id: &str, tenant: Option<&str>, role, enabled| User {
            id: id.into(),
            username: id.into(),
            tenant_id: tenant.map(Into::into),
            role,
            enabled,
            policy_ids: Vec::new(),
            group_ids: Vec::new(),
            sessions_revoked_at_ms: None,
        };
        let key = |id: &str, user: &str, enabled| AccessKey {
            access_key_id: id.into(),
            secret_access_key: format!("secret-{id}"),
            user_id: user.into(),
            enabled,
        };
        IdentitySnapshot {
            version: 7,
            tenants: vec![tenant("acme", true), tenant("gone", false)],
            users: vec![
                user("alice", Some("acme"), Role::User, true),
                user("bob", Some("acme"), Role::User, false),
                user("carol", Some("gone"), Role::TenantAdmin, true),
                user("admin", None, Role::GlobalAdmin, true),
                user("plain", None, Role::User, true),
                user("placed", Some("acme"), Role::GlobalAdmin, true),
            ],
            access_keys: vec![
                key("AK-ALICE", "alice", true),
                key("AK-ALICE-OFF", "alice", false),
                key("AK-BOB", "bob", true),
                key("AK-CAROL", "carol", true),
                key("AK-ADMIN", "admin", true),
                key("AK-PLAIN", "plain", true),
                key("AK-PLACED", "placed", true),
            ],
            policies: Vec::new(),
            groups: Vec::new(),
        }
    }

    const READ: &str = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}]}"#;
    const WRITE: &str = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}"#;

    #[test]
    fn keys_carry_direct_and_group_policies_once_and_skip_bad_documents() {
        let mut snapshot = snapshot();
        let managed = |id: &str, document: &str| ManagedPolicy {
            id: id.into(),
            name: format!("{id}-name"),
            tenant_id: None,
            document: document.into(),
        };
        snapshot.policies = vec![
            managed("read", READ),
            managed("write", WRITE),
            managed("read-copy", READ),
            managed("broken", r#"{"Statement":"nope"}"#),
        ];
        snapshot.groups = vec![Group {
            id: "g1".into(),
            name: "devs".into(),
            tenant_id: Some("acme".into()),
            policy_ids: vec!["read".into(), "write".into(), "broken".into()],
        }];
        snapshot.users[0].policy_ids = vec!["read".into(), "read-copy".into()];
        snapshot.users[0].group_ids = vec!["g1".into()];
        snapshot.users[1].group_ids = vec!["g1".into()];
        assert_eq!(snapshot.validate(), Ok(()));
        let index = IdentityIndex::build(&snapshot);
        let labels = |id: &str| -> Vec<String> {
            let entry = index.key(id).unwrap();
            entry
                .policies
                .iter()
                .map(|p| p.label().to_owned())
                .collect()
        };
        assert_eq!(
            labels("AK-ALICE"),
            [
                "user:alice/read-name",
                "user:alice/read-copy-name",
                "group:devs/write-name"
            ],
            "direct first; `read` once though the group has it too; `broken` skipped"
        );
        assert_eq!(labels("AK-ALICE-OFF"), labels("AK-ALICE"));
        assert_eq!(
            labels("AK-BOB"),
            ["group:devs/read-name", "group:devs/write-name"]
        );
        assert!(
            Rc::ptr_eq(
                &index.key("AK-BOB").unwrap().policies[1],
                &index.key("AK-ALICE").unwrap().policies[2]
            ),
            "a group's policy is built once for all its members"
        );
        assert!(labels("AK-ADMIN").is_empty());
    }

    #[test]
    fn keys_are_usable_only_when_key_user_and_tenant_are_enabled() {
        let index = IdentityIndex::build(&snapshot());
        assert_eq!(index.version, 7);
        assert_eq!(index.key_count(), 7);
        let usable = |id: &str| index.key(id).map(|entry| entry.usable);
        assert_eq!(usable("AK-ALICE"), Some(true));
        assert_eq!(usable("AK-ALICE-OFF"), Some(false));
        assert_eq!(usable("AK-BOB"), Some(false), "disabled user");
        assert_eq!(usable("AK-CAROL"), Some(false), "disabled tenant");
        assert_eq!(usable("AK-ADMIN"), Some(true));
        assert_eq!(usable("AK-NOBODY"), None);
        let alice = index.key("AK-ALICE").unwrap();
        assert_eq!(alice.secret_access_key, "secret-AK-ALICE");
        assert_eq!(alice.tenant_id.as_deref(), Some("acme"));
        assert_eq!(index.quota("acme").unwrap().max_buckets, Some(2));
        assert!(index.quota("nobody").is_none());
    }

    #[test]
    fn authorization_follows_tenant_and_role() {
        let index = IdentityIndex::build(&snapshot());
        let principal = |id: &str| Principal::User(Rc::clone(index.key(id).unwrap()));
        let alice = principal("AK-ALICE");
        assert!(alice.may_access(Some("acme")));
        assert!(!alice.may_access(Some("other")));
        assert!(
            !alice.may_access(None),
            "a tenant user never reaches tenant-less buckets"
        );
        let carol = principal("AK-CAROL");
        assert!(
            !carol.may_access(Some("acme")),
            "a tenant admin stays in the tenant"
        );
        let admin = principal("AK-ADMIN");
        assert!(admin.is_global_admin());
        let placed = principal("AK-PLACED");
        assert!(
            placed.is_global_admin() && placed.may_access(Some("other")) && placed.may_access(None),
            "a global admin in a tenant is global, as on the console port"
        );
        assert!(admin.may_access(Some("acme")) && admin.may_access(None));
        let plain = principal("AK-PLAIN");
        assert!(plain.may_access(None));
        assert!(!plain.may_access(Some("acme")));
        assert!(Principal::Root.may_access(Some("acme")) && Principal::Root.may_access(None));
        assert_eq!(alice.user_id(), Some("alice"));
        assert_eq!(Principal::Root.user_id(), None);
    }
}
