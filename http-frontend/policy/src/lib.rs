//! The AWS access-policy language: bucket policies and IAM identity (user, group, session)
//! policies, parsed, validated against AWS's rules, compiled, and evaluated.
//!
//! - `parse_bucket_policy(json, bucket)` / `parse_identity_policy(json)` give a `Policy` or a
//!   `PolicyError` whose `Display` is AWS's MalformedPolicy message.
//! - `evaluate(&[&Policy], &RequestContext)` gives a `Decision`: Allow, ExplicitDeny or
//!   ImplicitDeny, with the policy and statement that decided.
//! - `actions::s3_action(operation, with_version_id)` names the IAM action and resource type
//!   of each S3 operation.
//!
//! Mapping MaxIOFS identities onto AWS's (what the server is expected to do):
//! - the AWS account id is the tenant id: a bare `"<tenant id>"` or
//!   `arn:aws:iam::<tenant id>:root` principal names every user of that tenant;
//! - a user is `arn:aws:iam::<tenant id>:user/<username>` (`Principal::user`), with
//!   `aws:username` = the username and `aws:userid` = the user's id;
//! - users without a tenant (global users) need an account id the server reserves for them;
//!   this crate treats account ids as opaque tokens of `[A-Za-z0-9._-]`, up to 64 bytes;
//! - an unsigned request is `Principal::anonymous()`: only `"*"` / `{"AWS": "*"}` match it;
//! - resources are `arn:aws:s3:::<bucket>` and `arn:aws:s3:::<bucket>/<key>` with the key
//!   as stored (not URL-encoded).
//!
//! Differences from AWS, on purpose: account ids are not required to be 12 digits;
//! `{"Service": ...}` principals are accepted but never match; the same-account rule
//! (bucket policy OR identity policy allows) is what `evaluate` computes, and cross-account
//! checks, if any, are the caller's.
//!
//! Architecture invariant: no IO, no clock, no global state; the server passes the time as
//! `aws:CurrentTime` / `aws:EpochTime` condition keys.

pub mod actions;
mod condition;
mod context;
mod error;
mod evaluate;
mod parse;
mod policy;
mod wildcard;

pub use context::{
    ConditionKeys, ConditionSource, Principal, RequestContext, Values, bucket_arn, object_arn,
};
pub use error::PolicyError;
pub use evaluate::{DecidingStatement, Decision, Outcome, evaluate, evaluate_each};
pub use parse::{parse_bucket_policy, parse_identity_policy};
pub use policy::{Effect, Policy, PolicyKind};

/// AWS's limit on a bucket policy document (S3 user guide, "Bucket policy size").
pub const BUCKET_POLICY_SIZE_BYTES_MAX: usize = 20 * 1024;
/// IAM's limit on a managed policy, white space not counted (IAM quotas).
pub const IDENTITY_POLICY_CHARACTERS_MAX: usize = 6144;
/// Statements per document. A 20 KiB document holds at most ~350 minimal statements; the
/// bound keeps one evaluation's cost bounded whatever the document.
pub const STATEMENT_COUNT_MAX: usize = 512;
/// Values per element (Action, Resource, Principal, one condition key's values).
pub const ELEMENT_VALUE_COUNT_MAX: usize = 1024;
/// Condition keys per statement, all operators together.
pub const CONDITION_COUNT_MAX: usize = 128;
