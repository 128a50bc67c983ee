//! A compiled policy: statements whose elements are ready to test against a request.
//! `parse.rs` builds it from JSON; `evaluate.rs` combines several.

use crate::condition::Condition;
use crate::context::{Principal, RequestContext};
use crate::wildcard::Pattern;

/// Where a policy is attached, which decides its grammar (a bucket policy names principals;
/// an identity policy applies to whoever it is attached to and must not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    Bucket,
    Identity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// One entry of a Principal / NotPrincipal element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PrincipalPattern {
    /// `"*"` or `{"AWS": "*"}`: everyone, anonymous requests included.
    Everyone,
    /// A bare account id or `arn:aws:iam::<account>:root`: every authenticated principal of
    /// that account.
    Account(Box<str>),
    /// `arn:aws:iam::<account>:user/<name>` (or role): that principal exactly.
    Arn(Box<str>),
    CanonicalUser(Box<str>),
    /// `{"Service": ...}`: accepted, never matches (MaxIOFS has no service principals).
    Service(Box<str>),
}

impl PrincipalPattern {
    fn matches(&self, principal: &Principal) -> bool {
        match self {
            PrincipalPattern::Everyone => true,
            PrincipalPattern::Account(account) => {
                !principal.anonymous && *principal.account_id == **account
            }
            PrincipalPattern::Arn(arn) => !principal.anonymous && *principal.arn == **arn,
            PrincipalPattern::CanonicalUser(id) => {
                principal.canonical_user_id.as_deref() == Some(&**id)
            }
            PrincipalPattern::Service(_) => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PrincipalClause {
    /// An identity policy: the statement is about the principal it is attached to.
    Attached,
    Principal(Box<[PrincipalPattern]>),
    NotPrincipal(Box<[PrincipalPattern]>),
}

impl PrincipalClause {
    fn matches(&self, principal: &Principal) -> bool {
        match self {
            PrincipalClause::Attached => true,
            PrincipalClause::Principal(patterns) => patterns.iter().any(|p| p.matches(principal)),
            PrincipalClause::NotPrincipal(patterns) => {
                !patterns.iter().any(|p| p.matches(principal))
            }
        }
    }
}

/// Action / NotAction, Resource / NotResource: patterns, any of which matches, and whether
/// the element is the negated one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Clause {
    pub negated: bool,
    pub patterns: Box<[Pattern]>,
}

impl Clause {
    fn matches(&self, text: &str, fold: bool, ctx: &RequestContext<'_>) -> bool {
        let any = self
            .patterns
            .iter()
            .any(|pattern| pattern.matches(text, fold, ctx.keys));
        any != self.negated
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Statement {
    pub sid: Option<Box<str>>,
    pub effect: Effect,
    pub principals: PrincipalClause,
    pub actions: Clause,
    pub resources: Clause,
    pub conditions: Box<[Condition]>,
}

impl Statement {
    /// Whether deciding this statement reads the request's condition keys.
    pub(crate) fn reads_keys(&self) -> bool {
        !self.conditions.is_empty()
            || self.actions.patterns.iter().any(Pattern::has_variables)
            || self.resources.patterns.iter().any(Pattern::has_variables)
    }

    /// Whether the statement allows, with no condition, every S3 request of whoever it is
    /// about: an Allow of every `s3:` action (`*`, `s3:*`) on every resource (`*`), for the
    /// principal it is attached to or for everyone.
    pub(crate) fn allows_every_s3_request(&self) -> bool {
        let about_everyone = match &self.principals {
            PrincipalClause::Attached => true,
            PrincipalClause::Principal(patterns) => patterns.contains(&PrincipalPattern::Everyone),
            PrincipalClause::NotPrincipal(_) => false,
        };
        self.effect == Effect::Allow
            && about_everyone
            && !self.actions.negated
            && self.actions.patterns.iter().any(|p| p.covers_prefix("s3:"))
            && !self.resources.negated
            && self.resources.patterns.iter().any(Pattern::is_any)
            && self.conditions.is_empty()
    }

    /// True if the statement is about this request; its effect then applies. Cheapest tests
    /// first: most statements of a bucket policy are ruled out by the action.
    pub(crate) fn applies(&self, ctx: &RequestContext<'_>) -> bool {
        // Action names are case-insensitive in AWS; ARNs are not.
        self.actions.matches(ctx.action, true, ctx)
            && self.resources.matches(ctx.resource, false, ctx)
            && self.principals.matches(ctx.principal)
            && self
                .conditions
                .iter()
                .all(|condition| condition.holds(ctx.keys))
    }
}

/// A parsed, validated and compiled policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub(crate) kind: PolicyKind,
    pub(crate) label: Box<str>,
    pub(crate) id: Option<Box<str>>,
    pub(crate) statements: Box<[Statement]>,
    /// Some statement has a condition or a policy variable (see [`Policy::reads_keys`]).
    pub(crate) reads_keys: bool,
    /// See [`Policy::allows_every_s3_request`].
    pub(crate) allows_every_s3_request: bool,
    /// Some statement is a Deny.
    pub(crate) has_deny: bool,
}

impl Policy {
    /// Whether evaluating this policy reads the request's condition keys (a condition or a
    /// policy variable somewhere). When no policy of a request does, the caller may evaluate
    /// with empty keys and skip building them: `readwrite`-like documents cost a few
    /// comparisons per request.
    pub fn reads_keys(&self) -> bool {
        self.reads_keys
    }

    /// Whether some statement allows every S3 action (every action the server asks starts with
    /// `s3:`) on every resource, unconditionally, to whoever the policy is about (the
    /// principal it is attached to, or everyone). With no Deny in any policy of a request,
    /// such a policy decides Allow without evaluation: the built-in `readwrite` is one.
    pub fn allows_every_s3_request(&self) -> bool {
        self.allows_every_s3_request
    }

    /// Whether some statement is a Deny (without one, nothing can deny explicitly).
    pub fn has_deny(&self) -> bool {
        self.has_deny
    }

    pub fn kind(&self) -> PolicyKind {
        self.kind
    }

    /// The name decisions report for the audit log: the bucket for a bucket policy, empty
    /// for an identity policy until `with_label` names it.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Names the policy in decisions, e.g. `user:alice/ReadOnly` or `group:devs/Deploy`.
    #[must_use]
    pub fn with_label(mut self, label: &str) -> Policy {
        self.label = label.into();
        self
    }

    /// The document's `Id`, if any.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    pub fn statement_count(&self) -> usize {
        self.statements.len()
    }

    /// The `Sid` of statement `statement_idx`, if it has one.
    pub fn sid(&self, statement_idx: usize) -> Option<&str> {
        self.statements.get(statement_idx)?.sid.as_deref()
    }

    /// GetBucketPolicyStatus's `IsPublic`: some Allow statement names everyone (`"*"` /
    /// `{"AWS": "*"}`, or a NotPrincipal, which is everyone but a few) without a condition
    /// that pins the caller to a fixed source or principal (`aws:SourceIp`, `aws:SourceVpc`,
    /// `aws:PrincipalAccount`, ...: `Condition::narrows_principal`). Simpler than AWS's rule
    /// on one point: a narrowing condition counts even when its value is a wildcard.
    pub fn is_public(&self) -> bool {
        self.statements.iter().any(|statement| {
            let everyone = match &statement.principals {
                PrincipalClause::Attached => false,
                PrincipalClause::Principal(patterns) => {
                    patterns.contains(&PrincipalPattern::Everyone)
                }
                PrincipalClause::NotPrincipal(_) => true,
            };
            statement.effect == Effect::Allow
                && everyone
                && !statement
                    .conditions
                    .iter()
                    .any(Condition::narrows_principal)
        })
    }

    /// The effect of statement `statement_idx`.
    pub fn effect(&self, statement_idx: usize) -> Option<Effect> {
        Some(self.statements.get(statement_idx)?.effect)
    }
}
