//! The admin's state shared by every request, and its background work: keeping the data plane's
//! identity and settings current (after every change, at start, and whenever the data plane
//! comes back with another version) and turning the event log into audit entries.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use control::events::{Event, EventKind};
use control::identity::{self, IdentitySnapshot, TenantQuota};
use control::sealing::{self, SealError, SealingKeys, Secret};
use control::settings::SettingsSnapshot;
use control::wire::{Request, Response};

use crate::audit_note::AuditNote;
use crate::authz::{Actor, parse_role};
use crate::error::{ApiError, ApiResult, SecretError};
use crate::limits::{HashGate, Windows};
use crate::link::{self, Link};
use crate::metrics::Metrics;
use crate::settings::{self, Live};
use crate::store::{self, AuditEntry, Store};

/// The application state every handler gets (axum `State`).
pub type Shared = Arc<App>;

/// How often the background loop checks the data plane and reads the event log.
const SYNC_INTERVAL: Duration = Duration::from_millis(500);
/// How long a console call that changed identity or settings waits for the data plane to
/// take the new snapshot before it answers 503: a stalled data plane must not hang the console
/// (the change is saved either way, and the background loop pushes it again).
pub const PUSH_TIMEOUT: Duration = Duration::from_secs(5);
/// Events read per partition per call.
const EVENT_BATCH: u32 = 1000;
/// How often old audit entries are purged.
const RETENTION_INTERVAL: Duration = Duration::from_mins(10);
/// Keys (client IPs, user ids) each rate limiter remembers; beyond, the oldest window is
/// forgotten.
const MAX_TRACKED_KEYS: usize = 10_000;
/// Audit entries of unauthenticated calls that failed (denials, bad logins) stored per client
/// IP per minute; the rest are counted in `maxiofs_admin_audit_dropped_total` only. A person
/// mistyping stays far below; a flood stores this many.
pub const UNAUTHENTICATED_AUDIT_PER_MINUTE: u64 = 30;

pub const ROOT_USER_ID: &str = "root";

#[derive(Debug, Default)]
struct RootLock {
    failed_attempts: i64,
    locked_until: i64,
}
const NOT_PUSHED: u64 = u64::MAX;

pub struct RootIdentity {
    pub user: String,
    pub secret: String,
}

pub struct App {
    pub store: Store,
    pub link: Arc<Link>,
    pub live: RwLock<Live>,
    pub root: RootIdentity,
    pub metrics: Metrics,
    /// Login and 2FA attempts per client IP.
    login_limiter: Windows,
    /// Password and 2FA changes per account.
    change_limiter: Windows,
    /// Audit entries of failed unauthenticated calls per client IP.
    denial_sampler: Windows,
    /// Every Argon2 computation goes through here (`hash_work`).
    hashing: HashGate,
    /// An Argon2 hash of the root secret: a root login costs what any login costs, so its
    /// timing does not tell the root's name.
    pub root_hash: String,
    /// The root identity's failed logins and lockout (it has no row in admin.db; a restart
    /// forgets them, as it ends nothing else).
    root_lock: Mutex<RootLock>,
    /// Bearer token a Prometheus scrape of `/metrics` may use instead of a session.
    pub metrics_token: Option<String>,
    /// Peers whose `X-Forwarded-For` names the client (`proxy.rs`).
    pub trusted_proxies: Vec<crate::proxy::Cidr>,
    /// Where the console's browser reaches the S3 port, and its region (`Config`).
    pub s3_endpoint: Option<String>,
    pub region: String,
    /// Serialises snapshot pushes so versions reach the data plane in order.
    push_lock: tokio::sync::Mutex<()>,
    /// Versions the data plane acknowledged (`NOT_PUSHED`: none yet this run, so the first
    /// round pushes whatever the data plane holds).
    pushed_identity: AtomicU64,
    pushed_settings: AtomicU64,
    /// The sealing keys the data plane handed over (`control::sealing`), in memory only:
    /// fetched at the first need or round, again when the master key version moves.
    sealing: RwLock<Option<Arc<SealingKeys>>>,
    /// Recent data-plane traffic samples for the console (`api_metrics.rs`).
    pub traffic: crate::api_metrics::TrafficHistory,
}

/// A stored secret in the clear: sealed values are opened with the version they name; a value
/// without the sealed prefix is a row from before sealing that `reseal_all` has not reached.
pub fn open_stored(keys: &SealingKeys, context: &str, stored: &str) -> Result<Secret, SealError> {
    if sealing::is_sealed(stored) {
        keys.open_text(context, stored)
    } else {
        Ok(Secret::new(stored.as_bytes().to_vec()))
    }
}

pub fn now_seconds() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

pub fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
        .unwrap_or(i64::MAX)
}

pub fn rfc3339(unix_seconds: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix_seconds)
        .ok()
        .and_then(|moment| {
            moment
                .format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

impl App {
    pub fn new(store: Store, link: Link, root: RootIdentity) -> Result<Self, rusqlite::Error> {
        let live = Live::from_stored(store.settings()?);
        let root_hash = crate::secrets::hash_password(&root.secret).unwrap_or_else(|error| {
            // An empty hash matches nothing: the root cannot log in to the console, and says so
            // in the log (its S3 use does not depend on this).
            tracing::error!(%error, "root secret not hashed: root console login impossible");
            String::new()
        });
        Ok(Self {
            store,
            link: Arc::new(link),
            live: RwLock::new(live),
            root,
            metrics: Metrics::new(),
            login_limiter: Windows::new(MAX_TRACKED_KEYS),
            change_limiter: Windows::new(MAX_TRACKED_KEYS),
            denial_sampler: Windows::new(MAX_TRACKED_KEYS),
            hashing: HashGate::default(),
            root_hash,
            root_lock: Mutex::new(RootLock::default()),
            metrics_token: None,
            trusted_proxies: Vec::new(),
            s3_endpoint: None,
            region: crate::config::DEFAULT_REGION.to_owned(),
            push_lock: tokio::sync::Mutex::new(()),
            pushed_identity: AtomicU64::new(NOT_PUSHED),
            pushed_settings: AtomicU64::new(NOT_PUSHED),
            sealing: RwLock::new(None),
            traffic: crate::api_metrics::TrafficHistory::default(),
        })
    }

    /// The token `/metrics` accepts besides a global admin's session (empty: none).
    #[must_use]
    pub fn with_metrics_token(mut self, token: Option<String>) -> Self {
        self.metrics_token = token.filter(|token| !token.is_empty());
        self
    }

    #[must_use]
    pub fn with_trusted_proxies(mut self, trusted: Vec<crate::proxy::Cidr>) -> Self {
        self.trusted_proxies = trusted;
        self
    }

    #[must_use]
    pub fn with_s3_endpoint(mut self, endpoint: Option<String>, region: String) -> Self {
        self.s3_endpoint = endpoint;
        self.region = region;
        self
    }

    pub fn live(&self) -> Live {
        self.live
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Reads the stored settings into the live copy. The table is read under the live copy's
    /// write lock: two changes reloading at once are serialised, so the later reload (which
    /// sees both stored values) is the one that stays, never an earlier read of the table.
    pub fn reload_settings(&self) -> Result<(), rusqlite::Error> {
        let mut live = self
            .live
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *live = Live::from_stored(self.store.settings()?);
        Ok(())
    }

    pub fn root_actor(&self) -> Actor {
        Actor {
            user_id: ROOT_USER_ID.into(),
            username: self.root.user.clone(),
            tenant_id: None,
            role: control::identity::Role::GlobalAdmin,
            is_root: true,
        }
    }

    /// The identity behind a user id (the root's included), if it may act now.
    pub fn actor_of(&self, user_id: &str) -> Result<Option<Actor>, rusqlite::Error> {
        if user_id == ROOT_USER_ID {
            return Ok(Some(self.root_actor()));
        }
        let Some(user) = self.store.user(user_id)? else {
            return Ok(None);
        };
        if user.id != user_id || user.status != "active" || !self.tenant_enabled(&user)? {
            return Ok(None);
        }
        Ok(Some(Actor {
            user_id: user.id,
            username: user.username,
            tenant_id: user.tenant_id,
            role: parse_role(&user.role).unwrap_or(control::identity::Role::User),
            is_root: false,
        }))
    }

    /// False for a user of a disabled tenant: they may not use the console either.
    pub fn tenant_enabled(&self, user: &store::User) -> Result<bool, rusqlite::Error> {
        match &user.tenant_id {
            Some(tenant) => Ok(self
                .store
                .tenant(tenant)?
                .is_none_or(|tenant| tenant.status == "active")),
            None => Ok(true),
        }
    }

    /// Whether one more login attempt from `ip` fits in the per-minute budget.
    pub fn login_allowed(&self, ip: &str) -> bool {
        let live = self.live();
        if !live.flag(settings::RATELIMIT_ENABLED) {
            return true;
        }
        let budget = live.number(settings::RATELIMIT_LOGIN_PER_MINUTE);
        self.login_limiter.take(ip, budget).is_ok()
    }

    /// One more password or 2FA change of `user_id`; `Err(retry_after)` beyond the budget.
    /// Not switched off with the login limit: it bounds guesses of the current password
    /// through a stolen session, and Argon2 work per account.
    /// 429 with `Retry-After` beyond the budget.
    pub fn account_change_allowed(&self, user_id: &str) -> ApiResult<()> {
        let budget = self
            .live()
            .number(settings::RATELIMIT_ACCOUNT_CHANGES_PER_MINUTE);
        self.change_limiter
            .take(user_id, budget)
            .map_err(|retry_after| {
                ApiError::too_many(
                    "too many password or 2FA changes of this account; try again later",
                    retry_after,
                )
            })
    }

    /// Whether an audit entry of a failed unauthenticated call from `ip` is stored; counted
    /// as dropped if not.
    pub fn sample_unauthenticated(&self, ip: &str) -> bool {
        if self
            .denial_sampler
            .take(ip, UNAUTHENTICATED_AUDIT_PER_MINUTE)
            .is_ok()
        {
            return true;
        }
        self.metrics.audit_dropped.inc();
        false
    }

    /// Whether the root identity is locked out now.
    pub fn root_locked(&self, now: i64) -> bool {
        self.root_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .locked_until
            > now
    }

    /// Counts a failed root login; locks the root's console login at
    /// `security.max_failed_attempts`, like any user's. True when this failure locked it.
    pub fn root_failure(&self, now: i64) -> bool {
        let live = self.live();
        let limit = i64::try_from(live.number(settings::MAX_FAILED_ATTEMPTS)).unwrap_or(5);
        let duration = i64::try_from(live.number(settings::LOCKOUT_DURATION)).unwrap_or(900);
        let mut lock = self
            .root_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        lock.failed_attempts += 1;
        if lock.failed_attempts >= limit {
            lock.failed_attempts = 0;
            lock.locked_until = now.saturating_add(duration);
            return true;
        }
        false
    }

    /// After a correct root password: false if the root got locked meanwhile.
    pub fn root_success(&self, now: i64) -> bool {
        let mut lock = self
            .root_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if lock.locked_until > now {
            return false;
        }
        lock.failed_attempts = 0;
        true
    }

    /// Runs an Argon2 computation through the gate; a refusal (queue full) is counted.
    pub async fn hash_work<T, F>(&self, work: F) -> Result<T, crate::limits::GateError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let result = self.hashing.run(work).await;
        if matches!(result, Err(crate::limits::GateError::Busy)) {
            self.metrics.hashing_busy.inc();
        }
        result
    }

    /// An Argon2 verification of `password` against `hash` through the hashing gate (503
    /// when too many wait).
    pub async fn verify_password(&self, password: String, hash: String) -> ApiResult<bool> {
        Ok(self
            .hash_work(move || crate::secrets::verify_password(&password, &hash))
            .await?)
    }

    /// Seconds a console session lives at most (`security.session_max_lifetime`).
    pub fn session_max_lifetime(&self) -> i64 {
        i64::try_from(self.live().number(settings::SESSION_MAX_LIFETIME)).unwrap_or(43_200)
    }

    pub fn audit(&self, entry: &AuditEntry) {
        let live = self.live();
        if !live.flag(settings::AUDIT_ENABLED) {
            return;
        }
        if entry.source == "console" && !live.flag(settings::AUDIT_LOG_CONSOLE) {
            return;
        }
        match self.store.append_audit(entry) {
            Ok(()) => self
                .metrics
                .audit_entries
                .with_label_values(&[entry.source.as_str()])
                .inc(),
            Err(error) => tracing::error!(%error, "audit entry not stored"),
        }
    }

    /// The sealing keys in force, fetched from the data plane when none are held yet or when
    /// `version` (the master key version the data plane announced) is not the one held. A
    /// fetch of new keys re-seals every stored secret under the new current version (and
    /// seals the plaintext rows of an admin.db from before sealing).
    pub async fn sealing_keys(
        &self,
        version: Option<u32>,
    ) -> Result<Arc<SealingKeys>, SecretError> {
        let held = self
            .sealing
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        if let Some(keys) = &held
            && version.is_none_or(|version| version == keys.current_version())
        {
            return Ok(Arc::clone(keys));
        }
        let keys = match link::call(&self.link, Request::SealingKeys).await {
            Ok(Response::SealingKeys(set)) => {
                SealingKeys::from_wire(&set).map_err(SecretError::Sealing)?
            }
            Ok(other) => {
                return Err(SecretError::Unavailable(format!(
                    "the data plane answered {other:?}"
                )));
            }
            Err(error) => return Err(SecretError::Unavailable(error.to_string())),
        };
        let keys = Arc::new(keys);
        {
            let mut slot = self
                .sealing
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // Two fetches racing a rotation: the newer keys stay (versions only grow).
            if let Some(newer) = slot
                .as_ref()
                .filter(|slot| slot.current_version() > keys.current_version())
            {
                return Ok(Arc::clone(newer));
            }
            *slot = Some(Arc::clone(&keys));
        }
        if held.is_none_or(|held| held.current_version() != keys.current_version()) {
            self.reseal_all(&keys);
        }
        Ok(keys)
    }

    /// Seals every stored secret that is plaintext or on an older key version under the
    /// current one. A value that does not open is left as it is, and logged (its key id or
    /// user id only).
    fn reseal_all(&self, keys: &SealingKeys) {
        let mut failed = 0usize;
        let result = self.store.reseal_secrets(&mut |context, stored| {
            if !keys.needs_sealing(stored) {
                return None;
            }
            match open_stored(keys, context, stored) {
                Ok(secret) => Some(keys.seal(context, secret.bytes())),
                Err(error) => {
                    failed += 1;
                    tracing::error!(%error, row = context, "a stored secret does not open");
                    None
                }
            }
        });
        match result {
            Ok(0) => {}
            Ok(changed) => tracing::info!(
                changed,
                version = keys.current_version(),
                "admin.db: secrets sealed under the current sealing key"
            ),
            Err(error) => tracing::error!(%error, "admin.db: secrets not re-sealed"),
        }
        if failed > 0 {
            self.metrics.control_errors.inc();
        }
    }

    /// `plaintext` sealed for the row `context` (`sealing::access_key_context`, ...).
    pub async fn seal(&self, context: &str, plaintext: &[u8]) -> Result<String, SecretError> {
        Ok(self.sealing_keys(None).await?.seal(context, plaintext))
    }

    /// A stored secret of the row `context`, in the clear.
    pub async fn open(&self, context: &str, stored: &str) -> Result<Secret, SecretError> {
        if !sealing::is_sealed(stored) {
            return Ok(Secret::new(stored.as_bytes().to_vec()));
        }
        let keys = self.sealing_keys(None).await?;
        open_stored(&keys, context, stored).map_err(SecretError::Sealing)
    }

    /// The whole identity as the data plane needs it, from admin.db, the secrets opened. A key
    /// whose secret does not open is left out (and logged): the others keep working.
    fn identity_snapshot(
        &self,
        version: u64,
        keys: &SealingKeys,
    ) -> Result<IdentitySnapshot, rusqlite::Error> {
        let quota = |value: Option<i64>| value.and_then(|value| u64::try_from(value).ok());
        let tenants = self
            .store
            .tenants()?
            .into_iter()
            .map(|tenant| identity::Tenant {
                enabled: tenant.status == "active",
                quota: TenantQuota {
                    max_storage_bytes: quota(tenant.max_storage_bytes),
                    max_buckets: quota(tenant.max_buckets).and_then(|v| u32::try_from(v).ok()),
                    max_access_keys: quota(tenant.max_access_keys)
                        .and_then(|v| u32::try_from(v).ok()),
                },
                id: tenant.id,
                name: tenant.name,
            })
            .collect();
        let mut links = self.store.identity_links()?;
        let revocations = self.store.session_revocations()?;
        let users = self
            .store
            .users(None)?
            .into_iter()
            .map(|user| {
                let (policy_ids, group_ids) = links.users.remove(&user.id).unwrap_or_default();
                identity::User {
                    sessions_revoked_at_ms: revocations.get(&user.id).copied(),
                    enabled: user.status == "active",
                    role: parse_role(&user.role).unwrap_or(identity::Role::User),
                    id: user.id,
                    username: user.username,
                    tenant_id: user.tenant_id,
                    policy_ids,
                    group_ids,
                }
            })
            .collect();
        let (policies, groups) = self.iam_snapshot(&mut links)?;
        let access_keys = self
            .store
            .access_keys(None)?
            .into_iter()
            .filter_map(|key| {
                let context = sealing::access_key_context(&key.access_key_id);
                let secret = match open_stored(keys, &context, &key.secret_access_key) {
                    Ok(secret) => secret,
                    Err(error) => {
                        tracing::error!(
                            %error,
                            access_key_id = %key.access_key_id,
                            "access key left out of the identity: its secret does not open"
                        );
                        return None;
                    }
                };
                Some(identity::AccessKey {
                    enabled: key.status == "active",
                    secret_access_key: secret.text().ok()?.to_owned(),
                    access_key_id: key.access_key_id,
                    user_id: key.user_id,
                })
            })
            .collect();
        Ok(IdentitySnapshot {
            version,
            tenants,
            users,
            access_keys,
            policies,
            groups,
        })
    }

    /// The policies and groups of an identity snapshot (the users' links are taken by the
    /// caller). Every policy travels, attached or not: a few KB each, bounded by the
    /// per-scope limits, and the data plane then never depends on which ones are in use.
    fn iam_snapshot(
        &self,
        links: &mut crate::store_iam::IdentityLinks,
    ) -> Result<(Vec<identity::ManagedPolicy>, Vec<identity::Group>), rusqlite::Error> {
        let policies = self
            .store
            .policies(None)?
            .into_iter()
            .map(|policy| identity::ManagedPolicy {
                id: policy.id,
                name: policy.name,
                tenant_id: policy.tenant_id,
                document: policy.document,
            })
            .collect();
        let groups = self
            .store
            .groups(None)?
            .into_iter()
            .map(|group| identity::Group {
                policy_ids: links.groups.remove(&group.id).unwrap_or_default(),
                id: group.id,
                name: group.name,
                tenant_id: group.tenant_id,
            })
            .collect();
        Ok((policies, groups))
    }

    fn note_control_error(&self, what: &str, error: &dyn std::fmt::Display) {
        self.metrics.control_errors.inc();
        tracing::warn!(%error, "control channel: {what} failed");
    }

    /// Sends the current identity to the data plane and waits for it to be in force there.
    /// A failure is logged and counted; the background loop pushes again when the data plane
    /// is back (admin.db stays the source of truth).
    pub async fn push_identity(&self, at_least: u64) -> bool {
        self.try_push_identity(at_least).await.is_ok()
    }

    /// `push_identity` with the reason of a failure (for the console's answer; it names no
    /// secret). A failure forgets which version the data plane holds: the one it has may be
    /// the one before this change (a restart keeps it), so only a mismatch makes the
    /// background loop push again.
    async fn try_push_identity(&self, at_least: u64) -> Result<(), String> {
        let _order = self.push_lock.lock().await;
        let result = self.push_identity_locked(at_least).await;
        match &result {
            Ok(version) => self.pushed_identity.store(*version, Ordering::Release),
            Err(_) => self.pushed_identity.store(NOT_PUSHED, Ordering::Release),
        }
        result.map(drop)
    }

    async fn push_identity_locked(&self, at_least: u64) -> Result<u64, String> {
        let keys = self.sealing_keys(None).await.map_err(|error| {
            self.note_control_error("PutIdentity", &error);
            "the data plane has not handed over the sealing keys".to_owned()
        })?;
        let snapshot = self
            .store
            .bump_counter(store::IDENTITY_VERSION, at_least)
            .and_then(|version| self.identity_snapshot(version, &keys))
            .map_err(|error| {
                tracing::error!(%error, "identity snapshot not built");
                "the identity snapshot could not be built".to_owned()
            })?;
        let version = snapshot.version;
        self.put("PutIdentity", Request::PutIdentity { snapshot })
            .await
            .map(|()| version)
    }

    /// One snapshot request to the data plane; `Err` says why it was not taken.
    async fn put(&self, what: &str, request: Request) -> Result<(), String> {
        match link::call(&self.link, request).await {
            Ok(Response::Ok) => Ok(()),
            Ok(Response::Error { code, message }) => {
                self.note_control_error(what, &format!("{code}: {message}"));
                Err(format!("the data plane refused it ({code})"))
            }
            Ok(other) => {
                self.note_control_error(what, &format!("{other:?}"));
                Err("the data plane gave an unexpected answer".to_owned())
            }
            Err(error) => {
                self.note_control_error(what, &error);
                Err("the data plane is not reachable".to_owned())
            }
        }
    }

    pub async fn push_settings(&self, at_least: u64) -> bool {
        self.try_push_settings(at_least).await.is_ok()
    }

    /// As `try_push_identity`, for the settings.
    async fn try_push_settings(&self, at_least: u64) -> Result<(), String> {
        let _order = self.push_lock.lock().await;
        let result = match self.store.bump_counter(store::SETTINGS_VERSION, at_least) {
            Ok(version) => {
                let snapshot = SettingsSnapshot {
                    version,
                    values: self.live().values,
                };
                self.put("PutSettings", Request::PutSettings { snapshot })
                    .await
                    .map(|()| version)
            }
            Err(error) => {
                tracing::error!(%error, "settings version not stored");
                Err("the settings version could not be stored".to_owned())
            }
        };
        match &result {
            Ok(version) => self.pushed_settings.store(*version, Ordering::Release),
            Err(_) => self.pushed_settings.store(NOT_PUSHED, Ordering::Release),
        }
        result.map(drop)
    }

    /// Pushes the identity for a console call that changed it, and answers whether the data
    /// plane holds it within `PUSH_TIMEOUT`: the console promises a change is in force on the
    /// S3 port when it answers, so a push that failed or did not finish is an error (503
    /// `NotInForce`, the change saved, `note` in the audit entry with why).
    pub async fn identity_in_force(self: &Arc<Self>, note: AuditNote) -> ApiResult<()> {
        self.identity_pushed_within()
            .await
            .map_err(|reason| ApiError::not_in_force("the change", "S3 port", &reason, note))
    }

    /// As `identity_in_force`, for a settings change.
    pub async fn settings_in_force(self: &Arc<Self>, note: AuditNote) -> ApiResult<()> {
        let app = Arc::clone(self);
        let push = tokio::spawn(async move { app.try_push_settings(0).await });
        self.settle(push).await.map_err(|reason| {
            ApiError::not_in_force("the settings change", "data plane", &reason, note)
        })
    }

    /// Pushes the identity and waits at most `PUSH_TIMEOUT` for the data plane to take it;
    /// `Err` says why it did not.
    pub async fn identity_pushed_within(self: &Arc<Self>) -> Result<(), String> {
        let app = Arc::clone(self);
        // In its own task: a wait that times out leaves the push to finish under `push_lock`
        // (versions stay in order) instead of dropping it halfway.
        let push = tokio::spawn(async move { app.try_push_identity(0).await });
        self.settle(push).await
    }

    async fn settle(
        &self,
        push: tokio::task::JoinHandle<Result<(), String>>,
    ) -> Result<(), String> {
        match tokio::time::timeout(PUSH_TIMEOUT, push).await {
            Ok(Ok(result)) => result,
            Ok(Err(error)) => {
                tracing::error!(%error, "snapshot push task failed");
                Err("the push did not complete".to_owned())
            }
            Err(_) => {
                let reason = format!(
                    "the data plane did not confirm it within {} s",
                    PUSH_TIMEOUT.as_secs()
                );
                self.note_control_error("snapshot push", &reason);
                Err(reason)
            }
        }
    }

    /// One round of the background loop: re-push what the data plane does not hold, then
    /// consume the event log.
    pub async fn sync_once(&self) {
        let status = match link::call(&self.link, Request::Status).await {
            Ok(Response::Status(status)) => status,
            Ok(other) => {
                self.note_control_error("Status", &format!("{other:?}"));
                return;
            }
            Err(error) => {
                // Not counted: the data plane being down (or not up yet) is visible enough in
                // the log at debug level, and each later call that matters is counted.
                tracing::debug!(%error, "control channel: data plane not reachable");
                return;
            }
        };
        // The sealing keys of the master key version in force: fetched at the first round and
        // after a rotation (which also re-seals admin.db under the new version).
        let version = (status.master_key_version != 0).then_some(status.master_key_version);
        if let Err(error) = self.sealing_keys(version).await {
            self.note_control_error("SealingKeys", &error);
        }
        // A data plane that restarted without our last snapshot (or with a newer one from a
        // previous admin.db) gets the current state under a version above what it holds.
        if status.identity_version != self.pushed_identity.load(Ordering::Acquire) {
            self.push_identity(status.identity_version + 1).await;
        }
        if status.settings_version != self.pushed_settings.load(Ordering::Acquire) {
            self.push_settings(status.settings_version + 1).await;
        }
        for (partition, head) in status.event_heads.iter().enumerate() {
            let Ok(partition) = u32::try_from(partition) else {
                break;
            };
            if let Err(error) = self.consume_partition(partition, *head).await {
                self.note_control_error("event log", &error);
            }
        }
    }

    async fn consume_partition(&self, partition: u32, head: u64) -> Result<(), String> {
        let mut cursor = self.store.cursor(partition).map_err(|e| e.to_string())?;
        // A data plane with a fresh log (data directory replaced) starts again from 0.
        if head < cursor {
            cursor = 0;
            self.store
                .append_events(partition, 0, &[])
                .map_err(|e| e.to_string())?;
        }
        while cursor < head {
            let request = Request::ReadEvents {
                partition,
                after: cursor,
                limit: EVENT_BATCH,
            };
            let events = match link::call(&self.link, request).await {
                Ok(Response::Events { events }) => events,
                Ok(other) => return Err(format!("ReadEvents: {other:?}")),
                Err(error) => return Err(format!("ReadEvents: {error}")),
            };
            let Some(last) = events.last().map(|event| event.seq) else {
                break;
            };
            let entries = self.audit_entries_of(&events);
            self.store
                .append_events(partition, last, &entries)
                .map_err(|e| e.to_string())?;
            self.metrics
                .audit_entries
                .with_label_values(&["s3"])
                .inc_by(entries.len() as u64);
            cursor = last;
            // The audit log is the only consumer so far: what it stored may go.
            match link::call(
                &self.link,
                Request::TrimEvents {
                    partition,
                    through: last,
                },
            )
            .await
            {
                Ok(Response::Ok) => {}
                Ok(other) => return Err(format!("TrimEvents: {other:?}")),
                Err(error) => return Err(format!("TrimEvents: {error}")),
            }
        }
        self.metrics
            .event_lag
            .with_label_values(&[partition.to_string().as_str()])
            .set(i64::try_from(head.saturating_sub(cursor)).unwrap_or(i64::MAX));
        Ok(())
    }

    fn audit_entries_of(&self, events: &[Event]) -> Vec<AuditEntry> {
        let live = self.live();
        if !live.flag(settings::AUDIT_ENABLED) {
            return Vec::new();
        }
        let log_writes = live.flag(settings::AUDIT_LOG_S3);
        let names: BTreeMap<String, String> = self
            .store
            .users(None)
            .unwrap_or_default()
            .into_iter()
            .map(|user| (user.id, user.username))
            .collect();
        events
            .iter()
            .filter(|event| log_writes || event.kind == EventKind::AccessDenied)
            .map(|event| {
                let (event_type, resource_type) = match event.kind {
                    EventKind::ObjectCreated => ("object_uploaded", "object"),
                    EventKind::ObjectRemoved | EventKind::DeleteMarkerCreated => {
                        ("object_deleted", "object")
                    }
                    EventKind::ObjectRestored => ("object_restored", "object"),
                    EventKind::LifecycleExpired => ("object_expired", "object"),
                    EventKind::BucketCreated => ("bucket_created", "bucket"),
                    EventKind::BucketRemoved => ("bucket_deleted", "bucket"),
                    EventKind::BucketConfigChanged => ("bucket_config_changed", "bucket"),
                    EventKind::AccessDenied => ("access_denied", "s3"),
                };
                let resource = match &event.key {
                    Some(key) => format!("{}/{key}", event.bucket),
                    None => event.bucket.clone(),
                };
                let username = match (&event.user_id, &event.access_key_id) {
                    (Some(user), _) => names.get(user).cloned(),
                    (None, Some(key)) if *key == self.root.user => Some(key.clone()),
                    _ => None,
                };
                let mut details = serde_json::Map::new();
                for (name, value) in [
                    ("access_key_id", event.access_key_id.clone().map(Into::into)),
                    ("version_id", event.version_id.clone().map(Into::into)),
                    ("size", event.size.map(Into::into)),
                    ("etag", event.etag.clone().map(Into::into)),
                    ("partition", Some(event.partition.into())),
                    ("seq", Some(event.seq.into())),
                    // What decided a policy's denial.
                    ("iam_action", event.iam_action.clone().map(Into::into)),
                    ("resource_arn", event.resource_arn.clone().map(Into::into)),
                    ("decided_by", event.decided_by.clone().map(Into::into)),
                ] {
                    if let Some(value) = value {
                        details.insert(name.into(), value);
                    }
                }
                let status = if event.kind == EventKind::AccessDenied {
                    "denied"
                } else if event.status < 400 {
                    "success"
                } else {
                    "failed"
                };
                AuditEntry {
                    timestamp_ms: event.time_unix_ms,
                    source: "s3".into(),
                    tenant_id: event.tenant_id.clone(),
                    user_id: event.user_id.clone(),
                    username,
                    event_type: event_type.into(),
                    resource_type: Some(resource_type.into()),
                    resource: (!resource.is_empty()).then_some(resource),
                    action: event.operation.clone(),
                    status: status.into(),
                    http_status: Some(i64::from(event.status)),
                    ip: event.source_ip.clone(),
                    request_id: Some(event.request_id.clone()),
                    details: Some(serde_json::Value::Object(details).to_string()),
                    ..AuditEntry::default()
                }
            })
            .collect()
    }

    fn purge_audit(&self) {
        let days = i64::try_from(self.live().number(settings::AUDIT_RETENTION_DAYS))
            .unwrap_or(i64::MAX / 2);
        let cutoff = now_ms().saturating_sub(days.saturating_mul(86_400_000));
        match self.store.purge_audit(cutoff) {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "audit entries past retention removed"),
            Err(error) => tracing::error!(%error, "audit retention purge failed"),
        }
    }
}

/// The background loop, until the process stops.
pub async fn run_background(app: Arc<App>) {
    let mut last_purge: Option<Instant> = None;
    loop {
        app.sync_once().await;
        if last_purge.is_none_or(|at| at.elapsed() >= RETENTION_INTERVAL) {
            app.purge_audit();
            last_purge = Some(Instant::now());
        }
        tokio::time::sleep(SYNC_INTERVAL).await;
    }
}

/// Purges with the retention in force right now (after a change of `audit.retention_days`).
pub fn purge_now(app: &App) {
    app.purge_audit();
}
