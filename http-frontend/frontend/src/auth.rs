//! Who sent a request and what they may do: the credentials the data plane knows, signature
//! verification (SigV4 and SigV2, header and presigned), the tenant check, the bucket policy,
//! and the event-log record of a refusal.
//!
//! Every authentication decision for the S3 port is made here; handlers that verify their own
//! credentials (POST uploads, the metrics scrape) call into this module rather than repeating it.

use std::cell::OnceCell;
use std::rc::Rc;

use runtime::ShardContext;
use runtime::events::Actor;
use runtime::identity::{IdentityIndex, Principal, Role};
use s3_proto::error::{S3Error, S3ErrorCode};
use s3_proto::router::{QueryParams, Route, bucket_from_host};
use s3_proto::sigv4::{
    AuthContext, Authenticated, CredentialStore, PayloadMode, SignedRequest, SigningKeyCache,
    authenticate_for_host,
};

use crate::request::RequestHead;
use crate::s3_error;

pub(crate) mod acls;
pub(crate) mod sessions;

/// The credentials the data plane knows: the root identity, and the access keys of the
/// identity the admin pushed (one hash lookup). A disabled key still has its secret here: the
/// signature is verified first, and `principal` then refuses the key with AccessDenied, so
/// only the key's holder learns that it is disabled.
/// With a session token, the session's key is one more credential (`sessions`).
pub(crate) struct Credentials<'a> {
    pub(crate) settings: &'a runtime::SharedSettings,
    pub(crate) identity: &'a IdentityIndex,
    /// The key of the session whose token the request carries; `None` without a token.
    pub(crate) session: Option<Rc<runtime::identity::KeyEntry>>,
}

impl CredentialStore for Credentials<'_> {
    fn secret_key(&self, access_key_id: &str) -> Option<&str> {
        // The id is public; the secret is compared inside the verifier in constant time.
        if let Some(session) = &self.session {
            // A request with a token signs with the session's key (`sessions::resolve`
            // matched them) and with no other.
            return (session.access_key_id == access_key_id)
                .then_some(session.secret_access_key.as_str());
        }
        if access_key_id == self.settings.root_access_key_id {
            return Some(self.settings.root_secret_key.as_str());
        }
        self.identity
            .key(access_key_id)
            .map(|entry| entry.secret_access_key.as_str())
    }
}

impl Credentials<'_> {
    /// The credentials of a request: the known keys, plus the session of its token.
    pub(crate) fn of_request<'a>(
        context: &'a ShardContext,
        identity: &'a IdentityIndex,
        token: Option<&str>,
        claimed_access_key: Option<&str>,
    ) -> Result<Credentials<'a>, S3Error> {
        Ok(Credentials {
            settings: &context.settings,
            identity,
            session: sessions::resolve(context, identity, token, claimed_access_key)?,
        })
    }

    /// `of_request` with the session token and claimed access key of a request head.
    pub(crate) fn of_head<'a>(
        context: &'a ShardContext,
        identity: &'a IdentityIndex,
        head: &RequestHead,
    ) -> Result<Credentials<'a>, S3Error> {
        let token = sessions::token_of(head);
        let claimed = sessions::claimed_access_key(head);
        Credentials::of_request(context, identity, token.as_deref(), claimed.as_deref())
    }

    /// The principal of a key whose signature verified against this same identity.
    pub(crate) fn principal(&self, access_key_id: &str) -> Result<Principal, S3Error> {
        if let Some(session) = self
            .session
            .as_ref()
            .filter(|session| session.access_key_id == access_key_id)
        {
            sessions::check_in_force(session, now_unix_secs())?;
            return Ok(Principal::User(Rc::clone(session)));
        }
        if access_key_id == self.settings.root_access_key_id {
            return Ok(Principal::Root);
        }
        match self.identity.key(access_key_id) {
            Some(entry) if entry.usable => Ok(Principal::User(Rc::clone(entry))),
            Some(_) => Err(S3Error::with_message(
                S3ErrorCode::AccessDenied,
                "The access key, its user or its tenant is disabled.",
            )),
            None => Err(S3Error::new(S3ErrorCode::InvalidAccessKeyId)),
        }
    }
}

/// Whether `principal` may run `route`: every operation naming an existing bucket requires
/// access to that bucket's tenant (a missing bucket is left to the handler's NoSuchBucket;
/// CreateBucket of a taken name is the handler's BucketAlreadyExists).
pub(crate) fn authorize(
    context: &ShardContext,
    principal: &Principal,
    operation: &str,
    bucket: Option<&str>,
) -> Result<(), S3Error> {
    let Some(bucket) = bucket else {
        return Ok(());
    };
    let allowed = context
        .buckets
        .borrow()
        .get(bucket)
        .is_none_or(|entry| principal.may_access(entry.record.owner_tenant.as_deref()));
    if allowed {
        return Ok(());
    }
    // For the audit: no policy was asked, the tenant boundary decided.
    let action = policy::actions::s3_action(operation, false).map_or_else(
        || format!("s3:{operation}"),
        |(action, _)| action.to_owned(),
    );
    Err(
        S3Error::new(S3ErrorCode::AccessDenied).denied_by(s3_proto::error::Denial {
            action,
            resource: policy::bucket_arn(bucket),
            decided_by: "tenant boundary: the bucket belongs to another tenant".to_owned(),
            reason: "tenant_boundary",
        }),
    )
}

/// What bucket-policy conditions see of a request besides its head: the connection.
pub(crate) struct RequestFacts<'a> {
    pub(crate) head: &'a RequestHead,
    pub(crate) query: &'a QueryParams,
    /// Asked for the peer only when a policy reads `aws:SourceIp`-like keys: it is a
    /// `getpeername` system call.
    connection: &'a crate::connection::Connection,
    pub(crate) secure: bool,
}

impl RequestFacts<'_> {
    pub(crate) fn of<'a>(
        head: &'a RequestHead,
        query: &'a QueryParams,
        connection: &'a crate::connection::Connection,
    ) -> RequestFacts<'a> {
        RequestFacts {
            head,
            query,
            connection,
            secure: connection.is_tls(),
        }
    }

    /// The peer's address. A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d;
    /// policies name them as IPv4.
    fn peer(&self) -> Option<std::net::IpAddr> {
        self.connection
            .stream
            .peer_addr()
            .ok()
            .map(|address| address.ip().to_canonical())
    }
}

/// One question for a bucket's policy: may this request run `operation` on the bucket (or
/// on `key` in it)?
pub(crate) struct PolicyQuestion<'a> {
    /// The S3 operation as botocore names it (`Operation::as_str`).
    pub(crate) operation: &'a str,
    pub(crate) bucket: &'a str,
    pub(crate) key: Option<&'a str>,
    pub(crate) version_id: bool,
}

/// The policies' word on a request, after the tenant check passed (or for an anonymous
/// request, `principal` `None`): the signer's identity policies (attached to the user and
/// their groups, `KeyEntry::policies`) and the bucket's policy, evaluated together as AWS
/// does within one account:
/// - root is always allowed (the data directory's own credential, like an account's root
///   user, can always repair a policy that locks everyone out);
/// - an explicit Deny in any of them denies, whoever signed;
/// - else an Allow in any of them allows (a bucket policy's Allow admits anonymous requests,
///   unless RestrictPublicBuckets is on and the policy is public);
/// - else tenant admins and global admins are allowed (their role grants their scope, as
///   AWS's AdministratorAccess would) and everyone else is denied: a user with no policy
///   may do nothing (the admin attaches `readwrite` to new users unless told otherwise).
///
/// A policy never admits another tenant's user: `authorize` refuses them before this runs,
/// whatever the policy says. Widening the tenant boundary by policy would need cross-account
/// rules (both sides' consent) that are not implemented.
pub(crate) fn check_bucket_policy(
    context: &ShardContext,
    principal: Option<&Principal>,
    question: &PolicyQuestion<'_>,
    facts: &RequestFacts<'_>,
) -> Result<(), S3Error> {
    let entry = match principal {
        Some(Principal::Root) => return Ok(()),
        Some(Principal::User(entry)) => Some(entry),
        None => None,
    };
    if let Some(entry) = entry {
        check_session_policy(context, entry, question, facts)?;
    }
    let is_admin = entry.is_some_and(|entry| entry.role != Role::User);
    let identity: &[Rc<policy::Policy>] = entry.map_or(&[], |entry| &entry.policies);
    // The common case: no bucket policy, one map lookup and one Option check; an admin
    // without policies needs no evaluation at all.
    // CreateBucket names a bucket that is not the caller's yet: no bucket policy applies.
    let (compiled, restrict_public) = match question.operation {
        "CreateBucket" | "ListBuckets" => (None, false),
        _ => bucket_policy_of(context, question.bucket),
    };
    if compiled.is_none() && (entry.is_none() || (is_admin && identity.is_empty())) {
        return if entry.is_some() {
            Ok(())
        } else {
            // Anonymous, and no bucket policy that could allow it.
            let (action, resource) = action_and_resource(question);
            let no_statement_allowed = policy::Decision {
                outcome: policy::Outcome::ImplicitDeny,
                deciding: None,
            };
            Err(denied(
                &no_statement_allowed,
                identity.len(),
                &action,
                resource,
            ))
        };
    }
    if is_admin && manages_policy(question.operation) {
        return Ok(());
    }
    if question.operation == "DeleteObjects" {
        // AWS asks s3:DeleteObject per listed key, on that key's ARN: the handler does
        // (`delete_objects`), and a refused key is an AccessDenied entry in the answer.
        return Ok(());
    }
    let policies = || {
        identity
            .iter()
            .map(|policy| &**policy)
            .chain(compiled.as_deref())
    };
    if entry.is_some() && allows_without_evaluation(policies()) {
        return Ok(());
    }
    let anonymous;
    let policy_principal = if let Some(entry) = entry {
        &entry.policy_principal
    } else {
        anonymous = policy::Principal::anonymous();
        &anonymous
    };
    let (action, resource) = action_and_resource(question);
    let keys = RequestKeys::new(
        context,
        policy_principal,
        principal.is_some(),
        question,
        facts,
    );
    let request = policy::RequestContext {
        action: &action,
        resource: &resource,
        principal: policy_principal,
        keys: &keys,
    };
    let mut decision = policy::evaluate_each(policies(), &request);
    if keys.object_unknown.get() && decision.outcome != policy::Outcome::ExplicitDeny {
        // A condition on the tags of another shard's object: only a Deny can be trusted.
        decision.outcome = policy::Outcome::ImplicitDeny;
        decision.deciding = None;
    }
    // RestrictPublicBuckets: while the policy is public it admits only the owner's side, so
    // its Allow means nothing to an anonymous caller (other tenants never reach here).
    let restricted = restrict_public
        && principal.is_none()
        && compiled.as_deref().is_some_and(policy::Policy::is_public);
    let allowed = match decision.outcome {
        policy::Outcome::Allow => !restricted,
        policy::Outcome::ExplicitDeny => false,
        policy::Outcome::ImplicitDeny => is_admin,
    };
    if allowed {
        return Ok(());
    }
    // The bucket's policy is evaluated last: its index is the identity policies' count.
    Err(denied(&decision, identity.len(), &action, resource))
}

/// Whether the policies of a signed request allow it without being evaluated: none of them
/// can deny, and one allows every S3 request unconditionally (the built-in `readwrite`, what
/// most users have). `evaluate` would find that Allow and no Deny whatever the request.
fn allows_without_evaluation<'p>(
    policies: impl Iterator<Item = &'p policy::Policy> + Clone,
) -> bool {
    !policies.clone().any(policy::Policy::has_deny)
        && policies
            .into_iter()
            .any(policy::Policy::allows_every_s3_request)
}

/// AccessDenied, with what decided it for the audit log (`record_denied`). An Allow that
/// decided a denial is a public bucket policy's, ignored under RestrictPublicBuckets.
fn denied(
    decision: &policy::Decision<'_>,
    bucket_policy_idx: usize,
    action: &str,
    resource: String,
) -> S3Error {
    let statement = |deciding: &policy::DecidingStatement<'_>| {
        let policy = if deciding.policy_idx == bucket_policy_idx {
            "the bucket policy"
        } else {
            deciding.policy_label
        };
        match deciding.sid.filter(|sid| !sid.is_empty()) {
            Some(sid) => format!("statement \"{sid}\" of {policy}"),
            None => format!("statement {} of {policy}", deciding.statement_idx),
        }
    };
    let (reason, decided_by) = match (decision.outcome, &decision.deciding) {
        (policy::Outcome::ExplicitDeny, Some(deciding)) => (
            "explicit_deny",
            format!("explicit deny: {}", statement(deciding)),
        ),
        (policy::Outcome::Allow, Some(deciding)) => (
            "restrict_public_buckets",
            format!(
                "RestrictPublicBuckets: {} allows the public, which the bucket's public \
                 access block ignores",
                statement(deciding)
            ),
        ),
        _ => (
            "implicit_deny",
            "implicit deny: no statement allowed it".to_owned(),
        ),
    };
    tracing::debug!(action, resource, decided_by, "denied by a policy");
    S3Error::new(S3ErrorCode::AccessDenied).denied_by(s3_proto::error::Denial {
        action: action.to_owned(),
        resource,
        decided_by,
        reason,
    })
}

/// A session with an inline session policy may do only what that policy allows (AWS: the
/// intersection of the session policy and the user's identity policies; the rest of
/// `check_bucket_policy` decides the second half). DeleteObjects is asked per key.
fn check_session_policy(
    context: &ShardContext,
    entry: &runtime::identity::KeyEntry,
    question: &PolicyQuestion<'_>,
    facts: &RequestFacts<'_>,
) -> Result<(), S3Error> {
    let Some(session_policy) = entry.session.as_ref().and_then(|s| s.policy.as_ref()) else {
        return Ok(());
    };
    if question.operation == "DeleteObjects" {
        return Ok(());
    }
    let (action, resource) = action_and_resource(question);
    let keys = RequestKeys::new(context, &entry.policy_principal, true, question, facts);
    let request = policy::RequestContext {
        action: &action,
        resource: &resource,
        principal: &entry.policy_principal,
        keys: &keys,
    };
    let decision = policy::evaluate(&[session_policy], &request);
    if decision.outcome == policy::Outcome::Allow {
        return Ok(());
    }
    tracing::debug!(
        action = &*action,
        resource = &*resource,
        "denied by the session policy"
    );
    Err(S3Error::new(S3ErrorCode::AccessDenied))
}

/// The bucket's compiled policy and whether RestrictPublicBuckets is on.
fn bucket_policy_of(context: &ShardContext, bucket: &str) -> (Option<Rc<policy::Policy>>, bool) {
    context
        .buckets
        .borrow()
        .get(bucket)
        .map(|entry| {
            let restrict = entry
                .record
                .public_access_block
                .is_some_and(|block| block.restrict_public_buckets);
            (entry.policy.clone(), restrict)
        })
        .unwrap_or_default()
}

/// AWS's lockout protection, with the tenant admin as the account's root user: global admins
/// and the bucket tenant's admins (the tenant check has already placed them on the owner's
/// side) may always read, replace or delete the policy; root never reaches the question.
fn manages_policy(operation: &str) -> bool {
    matches!(
        operation,
        "PutBucketPolicy" | "GetBucketPolicy" | "DeleteBucketPolicy" | "GetBucketPolicyStatus"
    )
}

/// The IAM action and resource ARN of a question. An operation the action table does not
/// know is asked as `s3:<operation>`, so that a Deny of `s3:*` still covers it.
fn action_and_resource(question: &PolicyQuestion<'_>) -> (std::borrow::Cow<'static, str>, String) {
    use policy::actions::ResourceType;
    let known = policy::actions::s3_action(question.operation, question.version_id);
    let (action, resource_type) = if let Some((action, resource_type)) = known {
        (std::borrow::Cow::Borrowed(action), resource_type)
    } else {
        let resource_type = if question.key.is_some() {
            ResourceType::Object
        } else {
            ResourceType::Bucket
        };
        let action = format!("s3:{}", question.operation);
        (std::borrow::Cow::Owned(action), resource_type)
    };
    // `allows_without_evaluation` relies on it: `s3:*` covers every action asked.
    debug_assert!(action.starts_with("s3:"));
    let resource = match resource_type {
        ResourceType::Object => policy::object_arn(question.bucket, question.key.unwrap_or("")),
        ResourceType::Bucket => policy::bucket_arn(question.bucket),
        ResourceType::Account => "*".to_owned(),
    };
    (action, resource)
}

/// The condition keys of a request, each found the first time a statement reads it: the
/// principal's, the connection's, the time, a few headers, a listing's parameters and how
/// the request was signed. Most statements are ruled out by their action before their
/// conditions are read, so most requests compute none of them (formatting the time, asking
/// the kernel for the peer address), and headers and parameters are lent, not copied.
///
/// `s3:ExistingObjectTag/<key>` reads the tags of the object the request names, from this
/// shard's partition: a request's object is served by the shard that owns it, except a
/// copy's source and DeleteObjects' keys, which may be another shard's. Their tags cannot be
/// read here without waiting on that shard, so a policy that reads them decides nothing but
/// a Deny (`object_unknown`: the caller refuses what it would otherwise allow).
struct RequestKeys<'a> {
    principal: &'a policy::Principal,
    signed: bool,
    listing: bool,
    facts: &'a RequestFacts<'a>,
    context: &'a ShardContext,
    /// The object the request names (bucket, key), if any.
    object: Option<(&'a str, &'a str)>,
    existing_tags: OnceCell<Option<shard::record::Tags>>,
    /// Set when a statement read the tags of an object another shard holds.
    object_unknown: std::cell::Cell<bool>,
    remaining_retention_days: OnceCell<Option<String>>,
    /// Read once, so that `aws:CurrentTime` and `aws:EpochTime` agree.
    now_ms: OnceCell<i64>,
    source_ip: OnceCell<Option<String>>,
    current_time: OnceCell<String>,
    epoch_time: OnceCell<String>,
}

impl<'a> RequestKeys<'a> {
    fn new(
        context: &'a ShardContext,
        principal: &'a policy::Principal,
        signed: bool,
        question: &PolicyQuestion<'a>,
        facts: &'a RequestFacts<'a>,
    ) -> RequestKeys<'a> {
        let listing = matches!(
            question.operation,
            "ListObjects" | "ListObjectsV2" | "ListObjectVersions"
        );
        RequestKeys {
            principal,
            signed,
            listing,
            facts,
            context,
            object: question.key.map(|key| (question.bucket, key)),
            existing_tags: OnceCell::new(),
            object_unknown: std::cell::Cell::new(false),
            remaining_retention_days: OnceCell::new(),
            now_ms: OnceCell::new(),
            source_ip: OnceCell::new(),
            current_time: OnceCell::new(),
            epoch_time: OnceCell::new(),
        }
    }

    fn now_ms(&self) -> i64 {
        *self.now_ms.get_or_init(runtime::events::now_ms)
    }

    /// A tag of the object the request names (`tag`: lower case, as the policy's key is;
    /// tag keys are compared without case), from the version asked for or the latest.
    fn existing_tag(&self, tag: &str) -> Option<&str> {
        let tags = self.existing_tags.get_or_init(|| self.object_tags());
        tags.as_ref()?
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(tag))
            .map(|(_, value)| value.as_str())
    }

    fn object_tags(&self) -> Option<shard::record::Tags> {
        let (bucket, key) = self.object?;
        if self.context.owner_of_key(bucket, key) != self.context.shard_id {
            self.object_unknown.set(true);
            return None;
        }
        let partition = self.context.local_partition(bucket, key);
        let version = self.facts.query.get("versionId");
        let found = match version.and_then(shard::record::VersionRef::parse) {
            Some(version) => partition
                .object_version(bucket, key, &version)
                .ok()
                .flatten()
                .map(|(record, _)| record),
            None => partition.object(bucket, key).ok().flatten(),
        };
        found
            .filter(|record| !record.delete_marker)
            .map(|record| record.tags)
    }

    /// `s3:object-lock-remaining-retention-days`: whole days (rounded up) from now to the
    /// request's `x-amz-object-lock-retain-until-date`.
    fn remaining_retention_days(&self) -> Option<&str> {
        self.remaining_retention_days
            .get_or_init(|| {
                let until = self
                    .facts
                    .head
                    .header_str("x-amz-object-lock-retain-until-date")?;
                let until_ms = s3_proto::time_format::parse_iso8601_millis(until)?;
                let left_ms = u64::try_from(until_ms - self.now_ms()).unwrap_or(0);
                let days = left_ms.div_ceil(86_400_000);
                Some(days.to_string())
            })
            .as_deref()
    }

    /// `s3:signatureversion` and `s3:authType`, for a signed request.
    fn signature(&self) -> (&'static str, &'static str) {
        match auth_method(self.facts.head) {
            "sigv2" => ("AWS", "REST-HEADER"),
            "presigned_v2" => ("AWS", "REST-QUERY-STRING"),
            "presigned_v4" => ("AWS4-HMAC-SHA256", "REST-QUERY-STRING"),
            _ => ("AWS4-HMAC-SHA256", "REST-HEADER"),
        }
    }
}

impl policy::ConditionSource for RequestKeys<'_> {
    fn values_lowercase(&self, key: &str) -> Option<policy::Values<'_>> {
        use policy::Values::One;
        if let Some(value) = self.principal.condition_value(key) {
            return Some(One(value));
        }
        let head = self.facts.head;
        let value = match key {
            "aws:sourceip" => self
                .source_ip
                .get_or_init(|| self.facts.peer().map(|peer| peer.to_string()))
                .as_deref()?,
            "aws:securetransport" => {
                if self.facts.secure {
                    "true"
                } else {
                    "false"
                }
            }
            "aws:currenttime" => self
                .current_time
                .get_or_init(|| s3_proto::time_format::iso8601_millis(self.now_ms())),
            "aws:epochtime" => self
                .epoch_time
                .get_or_init(|| self.now_ms().div_euclid(1000).to_string()),
            "aws:useragent" => head.header_str("user-agent")?,
            "aws:referer" => head.header_str("referer")?,
            "s3:x-amz-server-side-encryption" => head.header_str("x-amz-server-side-encryption")?,
            "s3:x-amz-acl" => head.header_str("x-amz-acl")?,
            "s3:prefix" | "s3:delimiter" | "s3:max-keys" if self.listing => {
                self.facts.query.get(&key["s3:".len()..])?
            }
            "s3:signatureversion" if self.signed => self.signature().0,
            "s3:authtype" if self.signed => self.signature().1,
            "s3:object-lock-mode" => head.header_str("x-amz-object-lock-mode")?,
            "s3:object-lock-retain-until-date" => {
                head.header_str("x-amz-object-lock-retain-until-date")?
            }
            "s3:object-lock-legal-hold" => head.header_str("x-amz-object-lock-legal-hold")?,
            "s3:object-lock-remaining-retention-days" => self.remaining_retention_days()?,
            _ => match key.strip_prefix("s3:existingobjecttag/") {
                Some(tag) => self.existing_tag(tag)?,
                None => return None,
            },
        };
        Some(One(value))
    }
}

impl std::fmt::Debug for RequestKeys<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestKeys")
            .field("principal", &self.principal.arn)
            .finish_non_exhaustive()
    }
}

/// Records a refused request (AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch) on
/// an existing bucket in partition 0's event log, with what decided a policy's denial, and
/// counts every AccessDenied by reason (`maxiofs_access_denied_total`).
pub(crate) fn record_denied(
    context: &Rc<ShardContext>,
    error: &S3Error,
    route: &Route,
    actor: &Actor,
) {
    let Some(bucket) = route.bucket.as_deref() else {
        count_access_denied(context, error);
        return;
    };
    let question = PolicyQuestion {
        operation: route.operation.as_str(),
        bucket,
        key: route.key.as_deref(),
        version_id: false,
    };
    record_denied_on(context, error, &question, actor);
}

/// `record_denied` for a refusal of one part of a request (a key of DeleteObjects): the
/// question names the operation, bucket and key refused.
pub(crate) fn record_denied_on(
    context: &Rc<ShardContext>,
    error: &S3Error,
    refused: &PolicyQuestion<'_>,
    actor: &Actor,
) {
    count_access_denied(context, error);
    let denied = matches!(
        error.code,
        S3ErrorCode::AccessDenied
            | S3ErrorCode::InvalidAccessKeyId
            | S3ErrorCode::SignatureDoesNotMatch
    );
    if !denied || !context.bucket_exists(refused.bucket) {
        return;
    }
    let mut event = runtime::events::record(
        control_kind_access_denied(),
        refused.operation,
        refused.bucket,
        refused.key,
        actor,
        error.code.http_status(),
    );
    if let Some(denial) = &error.denial {
        event.iam_action = Some(denial.action.clone());
        event.resource_arn = Some(denial.resource.clone());
        event.decided_by = Some(denial.decided_by.clone());
    }
    runtime::events::record_denied(context, event);
}

fn count_access_denied(context: &ShardContext, error: &S3Error) {
    if error.code == S3ErrorCode::AccessDenied {
        let reason = error
            .denial
            .as_ref()
            .map_or("other", |denial| denial.reason);
        context.metrics.borrow_mut().record_access_denied(reason);
    }
}

fn control_kind_access_denied() -> runtime::events::EventKind {
    runtime::events::EventKind::AccessDenied
}

thread_local! {
    /// Signing keys derived per (access key, day): no key derivation per request.
    static SIGNING_KEYS: std::cell::RefCell<SigningKeyCache> =
        std::cell::RefCell::new(SigningKeyCache::new());
}

/// Runs `verify` with this shard's signing-key cache.
pub(crate) fn with_signing_keys<R>(verify: impl FnOnce(&mut SigningKeyCache) -> R) -> R {
    SIGNING_KEYS.with(|cache| verify(&mut cache.borrow_mut()))
}

/// A request whose signature verified, and who signed it.
pub(crate) struct SignedBy {
    pub(crate) access_key_id: String,
    pub(crate) payload: PayloadMode,
    pub(crate) principal: Principal,
}

/// Verifies the request's signature (SigV4 or SigV2, header or presigned) against the known
/// identities, and resolves who signed it (AccessDenied for a disabled key); `None` when it
/// carries no signature (anonymous).
/// Authenticates the request and counts the attempt by method and outcome
/// (`maxiofs_auth_attempts_total`, `maxiofs_auth_failures_total`).
pub(crate) fn authenticate_head(
    context: &ShardContext,
    head: &RequestHead,
) -> Result<Option<SignedBy>, S3Error> {
    let result = verify_head(context, head);
    let failure = result.as_ref().err().map(|error| error.code.as_str());
    context
        .metrics
        .borrow_mut()
        .record_auth(auth_method(head), failure);
    result
}

/// How a request is signed, as a static metric label (from the head alone: the verifier
/// decides whether the signature is good).
fn auth_method(head: &RequestHead) -> &'static str {
    if let Some(authorization) = head.header("authorization") {
        if authorization.starts_with(b"AWS4-HMAC-SHA256") {
            return "sigv4";
        }
        if authorization.starts_with(b"AWS ") {
            return "sigv2";
        }
        return "other";
    }
    let query = head.raw_query.as_str();
    if query.contains("X-Amz-Signature=") {
        "presigned_v4"
    } else if query.contains("Signature=") {
        "presigned_v2"
    } else {
        "anonymous"
    }
}

fn verify_head(context: &ShardContext, head: &RequestHead) -> Result<Option<SignedBy>, S3Error> {
    let host_bucket = host_bucket(context, head);
    // One snapshot for the whole request: the key verified is the key authorized.
    let identity = context.identity();
    let store = Credentials::of_head(context, &identity, head)?;
    let authenticated = verify_signed(context, head, |signed, auth_context, cache| {
        authenticate_for_host(signed, auth_context, host_bucket, &store, cache)
    })
    .map_err(|error| s3_error::from_sigv4(&error, &context.settings.region))?;
    match authenticated {
        Authenticated::Signed {
            access_key_id,
            payload,
        } => Ok(Some(SignedBy {
            principal: store.principal(&access_key_id)?,
            access_key_id,
            payload,
        })),
        Authenticated::Anonymous => Ok(None),
    }
}

/// Runs `verify` on what a signature covers in `head` (method, path, query and headers as
/// received), with the server's region and clock and this shard's signing-key cache.
pub(crate) fn verify_signed<R>(
    context: &ShardContext,
    head: &RequestHead,
    verify: impl FnOnce(&SignedRequest<'_>, &AuthContext<'_>, &mut SigningKeyCache) -> R,
) -> R {
    let headers: Vec<(&str, &[u8])> = head
        .headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_slice()))
        .collect();
    let signed = SignedRequest {
        method: &head.method,
        raw_path: &head.raw_path,
        raw_query: &head.raw_query,
        headers: &headers,
    };
    let auth_context = AuthContext {
        region: &context.settings.region,
        now_unix_secs: now_unix_secs(),
    };
    with_signing_keys(|cache| verify(&signed, &auth_context, cache))
}

pub(crate) fn now_unix_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}

/// The bucket a virtual-host `Host` names, with the configured `--domain`s.
pub(crate) fn host_bucket<'h>(context: &ShardContext, head: &'h RequestHead) -> Option<&'h str> {
    let host = head.header_str("host")?;
    bucket_from_host(host, &context.settings.domains)
}
