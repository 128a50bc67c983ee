//! Principal / NotPrincipal: `"*"`, or an object of `AWS`, `CanonicalUser` and `Service`
//! entries, each a string or a list.

use serde_json::{Map, Value};

use super::string_list;
use crate::error::PolicyError;
use crate::policy::{PolicyKind, PrincipalClause, PrincipalPattern};

/// Longest account id accepted: tenant ids are opaque to this crate, AWS's are 12 digits.
const ACCOUNT_ID_LENGTH_MAX: usize = 64;

pub(super) fn compile_clause(
    statement: &Map<String, Value>,
    kind: PolicyKind,
) -> Result<PrincipalClause, PolicyError> {
    let pair = super::element_pair(statement, "Principal", "NotPrincipal")?;
    match (kind, pair) {
        (PolicyKind::Identity, None) => Ok(PrincipalClause::Attached),
        (PolicyKind::Identity, Some(_)) => Err(PolicyError::PrincipalInIdentityPolicy),
        (PolicyKind::Bucket, None) => Err(PolicyError::MissingField { field: "Principal" }),
        (PolicyKind::Bucket, Some((value, negated))) => {
            let patterns = compile_patterns(value)?.into_boxed_slice();
            Ok(if negated {
                PrincipalClause::NotPrincipal(patterns)
            } else {
                PrincipalClause::Principal(patterns)
            })
        }
    }
}

fn invalid(principal: String) -> PolicyError {
    PolicyError::InvalidPrincipal { principal }
}

fn compile_patterns(value: &Value) -> Result<Vec<PrincipalPattern>, PolicyError> {
    let entries = match value {
        Value::String(text) if text == "*" => return Ok(vec![PrincipalPattern::Everyone]),
        Value::Object(entries) if !entries.is_empty() => entries,
        other => return Err(invalid(other.to_string())),
    };
    let mut patterns = Vec::new();
    for (principal_type, values) in entries {
        for text in string_list(values, "Principal", &invalid)? {
            let pattern = match principal_type.as_str() {
                "AWS" => aws_principal(text),
                "CanonicalUser" => (!text.is_empty() && text != "*")
                    .then(|| PrincipalPattern::CanonicalUser(text.into())),
                "Service" => (!text.is_empty() && text != "*")
                    .then(|| PrincipalPattern::Service(text.into())),
                _ => None,
            };
            patterns.push(pattern.ok_or_else(|| invalid(text.to_owned()))?);
        }
    }
    Ok(patterns)
}

/// `*`, an account id, `arn:aws:iam::<account>:root`, or a user / role ARN. Wildcards are
/// refused anywhere but a lone `*`, as AWS refuses them.
fn aws_principal(text: &str) -> Option<PrincipalPattern> {
    if text == "*" {
        return Some(PrincipalPattern::Everyone);
    }
    if valid_account_id(text) {
        return Some(PrincipalPattern::Account(text.into()));
    }
    let rest = text.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    if !valid_account_id(account) || resource.contains(['*', '?']) {
        return None;
    }
    if resource == "root" {
        return Some(PrincipalPattern::Account(account.into()));
    }
    let (resource_type, name) = resource.split_once('/')?;
    let name_valid = !name.is_empty() && !name.ends_with('/');
    match resource_type {
        "user" | "role" | "assumed-role" | "federated-user" if name_valid => {
            Some(PrincipalPattern::Arn(text.into()))
        }
        _ => None,
    }
}

fn valid_account_id(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= ACCOUNT_ID_LENGTH_MAX
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}
