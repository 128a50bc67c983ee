//! AWS's evaluation logic over several policies: an explicit Deny in any applicable
//! statement wins; otherwise an Allow from any policy allows; otherwise the request is
//! implicitly denied. Which policies apply (the bucket's, the user's, the user's groups',
//! a session's) is the caller's choice; this function only combines them.

use crate::context::RequestContext;
use crate::policy::{Effect, Policy};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allow,
    /// A Deny statement applied.
    ExplicitDeny,
    /// No statement applied (or no policy was given).
    ImplicitDeny,
}

/// The statement that decided, for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecidingStatement<'p> {
    /// Index into the `policies` slice given to `evaluate`.
    pub policy_idx: usize,
    /// The policy's label (`Policy::with_label`; the bucket for a bucket policy).
    pub policy_label: &'p str,
    /// Index of the statement in its document (0-based).
    pub statement_idx: usize,
    pub sid: Option<&'p str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision<'p> {
    pub outcome: Outcome,
    /// The first applicable Deny, or else the first applicable Allow; `None` for an implicit
    /// deny.
    pub deciding: Option<DecidingStatement<'p>>,
}

impl Decision<'_> {
    pub fn is_allowed(&self) -> bool {
        self.outcome == Outcome::Allow
    }
}

/// Evaluates `ctx` against every policy. Stops at the first applicable Deny; an Allow only
/// records itself and goes on looking for a Deny. Allocates nothing unless a pattern holds
/// a policy variable.
pub fn evaluate<'p>(policies: &[&'p Policy], ctx: &RequestContext<'_>) -> Decision<'p> {
    evaluate_each(policies.iter().copied(), ctx)
}

/// `evaluate` over policies as they come (`policy_idx` counts them from 0), for a caller that
/// holds them in more than one place and would otherwise collect them into a slice.
pub fn evaluate_each<'p>(
    policies: impl IntoIterator<Item = &'p Policy>,
    ctx: &RequestContext<'_>,
) -> Decision<'p> {
    let mut allow: Option<DecidingStatement<'p>> = None;
    for (policy_idx, policy) in policies.into_iter().enumerate() {
        for (statement_idx, statement) in policy.statements.iter().enumerate() {
            // An Allow after the first cannot change the answer; only a Deny can.
            if statement.effect == Effect::Allow && allow.is_some() {
                continue;
            }
            if !statement.applies(ctx) {
                continue;
            }
            let deciding = DecidingStatement {
                policy_idx,
                policy_label: &policy.label,
                statement_idx,
                sid: statement.sid.as_deref(),
            };
            match statement.effect {
                Effect::Deny => {
                    return Decision {
                        outcome: Outcome::ExplicitDeny,
                        deciding: Some(deciding),
                    };
                }
                Effect::Allow => allow = Some(deciding),
            }
        }
    }
    match allow {
        Some(deciding) => Decision {
            outcome: Outcome::Allow,
            deciding: Some(deciding),
        },
        None => Decision {
            outcome: Outcome::ImplicitDeny,
            deciding: None,
        },
    }
}

#[cfg(test)]
mod tests;
