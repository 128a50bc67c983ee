//! ACLs in authorization: what a bucket's or an object's grants add to the policies' word.
//!
//! As on S3, an ACL grant is one more way to be allowed, and an explicit Deny in any policy
//! (identity, session, bucket) still wins over it. ACLs count only while the bucket's Object
//! Ownership enables them, and public grants not under IgnorePublicAcls (`handlers::acl`).
//! The permissions are S3's:
//! - bucket READ: ListBucket, ListBucketVersions, ListBucketMultipartUploads;
//!   WRITE: PutObject, DeleteObject (any key); READ_ACP: GetBucketAcl; WRITE_ACP: PutBucketAcl;
//! - object READ: GetObject (HEAD too); READ_ACP: GetObjectAcl; WRITE_ACP: PutObjectAcl.
//!
//! An object's grants are in its record, which authorization does not read: a request that
//! only the object's ACL could allow is let through with `Verdict::IfObjectAcl`, and the
//! handler that loads the record checks it (`handlers::acl::check_object_gate`) before it
//! reveals anything, a missing object included.

use base::acl::{Permission, Requester};
use runtime::ShardContext;
use runtime::identity::Principal;
use s3_proto::error::{S3Error, S3ErrorCode};

use super::{PolicyQuestion, RequestFacts};

/// What authorization decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Allowed,
    /// Allowed if the object's ACL grants this permission to the requester.
    IfObjectAcl(Permission),
}

/// Whether a grant is on the bucket or on the object.
enum Level {
    Bucket,
    Object,
}

/// The ACL permission that allows an IAM action, and where it is granted.
fn acl_permission(action: &str) -> Option<(Level, Permission)> {
    Some(match action {
        "s3:ListBucket" | "s3:ListBucketVersions" | "s3:ListBucketMultipartUploads" => {
            (Level::Bucket, Permission::Read)
        }
        "s3:PutObject" | "s3:DeleteObject" => (Level::Bucket, Permission::Write),
        "s3:GetBucketAcl" => (Level::Bucket, Permission::ReadAcp),
        "s3:PutBucketAcl" => (Level::Bucket, Permission::WriteAcp),
        "s3:GetObject" | "s3:GetObjectVersion" => (Level::Object, Permission::Read),
        "s3:GetObjectAcl" | "s3:GetObjectVersionAcl" => (Level::Object, Permission::ReadAcp),
        "s3:PutObjectAcl" | "s3:PutObjectVersionAcl" => (Level::Object, Permission::WriteAcp),
        _ => return None,
    })
}

/// `check_bucket_policy`, then the ACLs for what the policies did not allow.
pub(crate) fn check_with_acls(
    context: &ShardContext,
    principal: Option<&Principal>,
    question: &PolicyQuestion<'_>,
    facts: &RequestFacts<'_>,
) -> Result<Verdict, S3Error> {
    let denied = match super::check_bucket_policy(context, principal, question, facts) {
        Ok(()) => return Ok(Verdict::Allowed),
        Err(denied) => denied,
    };
    if denied.code != S3ErrorCode::AccessDenied
        || matches!(question.operation, "CreateBucket" | "ListBuckets")
    {
        return Err(denied);
    }
    let Some(record) = context
        .buckets
        .borrow()
        .get(question.bucket)
        .map(|entry| entry.record.clone())
    else {
        return Err(denied);
    };
    if !record.object_ownership.acls_enabled() {
        return Err(denied);
    }
    let (action, _) = super::action_and_resource(question);
    let Some((level, permission)) = acl_permission(&action) else {
        return Err(denied);
    };
    if explicitly_denied(context, principal, question, facts) {
        return Err(denied);
    }
    let requester = requester(principal);
    match level {
        Level::Bucket => {
            let acl = crate::handlers::acl::in_force(&record, record.acl.as_ref());
            if acl.is_some_and(|acl| acl.allows(requester, permission)) {
                Ok(Verdict::Allowed)
            } else {
                Err(denied)
            }
        }
        Level::Object => Ok(Verdict::IfObjectAcl(permission)),
    }
}

pub(crate) fn requester(principal: Option<&Principal>) -> Requester {
    if principal.is_some() {
        Requester::Authenticated
    } else {
        Requester::Anonymous
    }
}

/// Whether a policy (identity, session or the bucket's) explicitly denies the request: an
/// ACL grant never overrides that. Asked only on the way to a refusal.
fn explicitly_denied(
    context: &ShardContext,
    principal: Option<&Principal>,
    question: &PolicyQuestion<'_>,
    facts: &RequestFacts<'_>,
) -> bool {
    let entry = match principal {
        Some(Principal::Root) => return false,
        Some(Principal::User(entry)) => Some(entry),
        None => None,
    };
    let (bucket_policy, _) = super::bucket_policy_of(context, question.bucket);
    let mut policies: Vec<&policy::Policy> = entry
        .map(|entry| entry.policies.iter().map(|policy| &**policy).collect())
        .unwrap_or_default();
    policies.extend(bucket_policy.as_deref());
    if let Some(session_policy) = entry
        .and_then(|entry| entry.session.as_ref())
        .and_then(|session| session.policy.as_ref())
    {
        policies.push(session_policy);
    }
    let anonymous = policy::Principal::anonymous();
    let policy_principal = entry.map_or(&anonymous, |entry| &entry.policy_principal);
    let (action, resource) = super::action_and_resource(question);
    let signed = principal.is_some();
    let keys = super::RequestKeys::new(context, policy_principal, signed, question, facts);
    let request = policy::RequestContext {
        action: &action,
        resource: &resource,
        principal: policy_principal,
        keys: &keys,
    };
    // A condition on another shard's object's tags: a Deny cannot be ruled out.
    policy::evaluate(&policies, &request).outcome == policy::Outcome::ExplicitDeny
        || keys.object_unknown.get()
}
