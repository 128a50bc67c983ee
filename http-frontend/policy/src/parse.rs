//! JSON policy documents into `Policy`: the grammar, AWS's validation rules and messages,
//! and compilation of every element.
//!
//! The document is read as a `serde_json::Value` and walked by hand rather than derived,
//! because AWS reports each kind of mistake with its own message (an unknown field, a
//! principal, an action, a resource), which a derived deserializer cannot tell apart.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::actions::{ResourceType, known_actions};
use crate::condition::Condition;
use crate::error::PolicyError;
use crate::policy::{Clause, Effect, Policy, PolicyKind, Statement};
use crate::wildcard::{Pattern, Syntax};
use crate::{
    BUCKET_POLICY_SIZE_BYTES_MAX, CONDITION_COUNT_MAX, ELEMENT_VALUE_COUNT_MAX,
    IDENTITY_POLICY_CHARACTERS_MAX, STATEMENT_COUNT_MAX,
};

mod principal;

const VERSION_CURRENT: &str = "2012-10-17";
const VERSION_ORIGINAL: &str = "2008-10-17";
/// AWS's own bound on a condition key's length.
const CONDITION_KEY_LENGTH_MAX: usize = 256;

/// What every statement of one document is checked against.
struct Rules<'a> {
    kind: PolicyKind,
    /// The bucket a bucket policy is attached to.
    bucket: &'a str,
    /// Version 2012-10-17: `${...}` are policy variables.
    variables: bool,
}

/// Parses a bucket policy for `bucket`: statements need a Principal, and every Resource must
/// be in that bucket.
pub fn parse_bucket_policy(document: &str, bucket: &str) -> Result<Policy, PolicyError> {
    if document.len() > BUCKET_POLICY_SIZE_BYTES_MAX {
        return Err(PolicyError::BucketPolicyTooLarge {
            size_bytes: document.len(),
        });
    }
    parse(document, PolicyKind::Bucket, bucket)
}

/// Parses an identity (IAM user, group or session) policy: no Principal.
pub fn parse_identity_policy(document: &str) -> Result<Policy, PolicyError> {
    let characters = document.chars().filter(|c| !c.is_whitespace()).count();
    if characters > IDENTITY_POLICY_CHARACTERS_MAX {
        return Err(PolicyError::IdentityPolicyTooLarge { characters });
    }
    parse(document, PolicyKind::Identity, "")
}

fn parse(document: &str, kind: PolicyKind, bucket: &str) -> Result<Policy, PolicyError> {
    if !document.trim_start().starts_with('{') {
        return Err(PolicyError::NotJson);
    }
    let Ok(Value::Object(top)) = serde_json::from_str::<Value>(document) else {
        return Err(PolicyError::NotJson);
    };
    for field in top.keys() {
        if !matches!(field.as_str(), "Version" | "Id" | "Statement") {
            return Err(PolicyError::UnknownField {
                field: field.clone(),
            });
        }
    }
    let variables = match top.get("Version") {
        None => false,
        Some(Value::String(version)) if version == VERSION_CURRENT => true,
        Some(Value::String(version)) if version == VERSION_ORIGINAL => false,
        Some(other) => {
            return Err(PolicyError::InvalidVersion {
                version: other.to_string(),
            });
        }
    };
    let id = match top.get("Id") {
        None => None,
        Some(Value::String(id)) => Some(id.as_str().into()),
        Some(_) => return Err(PolicyError::InvalidField { field: "Id" }),
    };
    let statements: Vec<&Map<String, Value>> = match top.get("Statement") {
        None => return Err(PolicyError::MissingField { field: "Statement" }),
        Some(Value::Object(statement)) => vec![statement],
        Some(Value::Array(statements)) => statements
            .iter()
            .map(|statement| match statement {
                Value::Object(statement) => Ok(statement),
                _ => Err(PolicyError::InvalidField { field: "Statement" }),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(PolicyError::InvalidField { field: "Statement" }),
    };
    if statements.is_empty() {
        return Err(PolicyError::EmptyStatement);
    }
    if statements.len() > STATEMENT_COUNT_MAX {
        return Err(PolicyError::TooManyStatements);
    }
    let rules = Rules {
        kind,
        bucket,
        variables,
    };
    let statements = statements
        .into_iter()
        .map(|statement| compile_statement(statement, &rules))
        .collect::<Result<Box<[Statement]>, _>>()?;
    if kind == PolicyKind::Identity {
        check_unique_sids(&statements)?;
    }
    let reads_keys = statements.iter().any(Statement::reads_keys);
    let allows_every_s3_request = statements.iter().any(Statement::allows_every_s3_request);
    let has_deny = statements.iter().any(|s| s.effect == Effect::Deny);
    Ok(Policy {
        kind,
        label: bucket.into(),
        id,
        statements,
        reads_keys,
        allows_every_s3_request,
        has_deny,
    })
}

fn check_unique_sids(statements: &[Statement]) -> Result<(), PolicyError> {
    let mut seen = BTreeSet::new();
    for sid in statements.iter().filter_map(|s| s.sid.as_deref()) {
        if !sid.is_empty() && !seen.insert(sid) {
            return Err(PolicyError::DuplicateSid {
                sid: sid.to_owned(),
            });
        }
    }
    Ok(())
}

const STATEMENT_FIELDS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

fn compile_statement(
    statement: &Map<String, Value>,
    rules: &Rules<'_>,
) -> Result<Statement, PolicyError> {
    if let Some(field) = statement
        .keys()
        .find(|field| !STATEMENT_FIELDS.contains(&field.as_str()))
    {
        return Err(PolicyError::UnknownField {
            field: field.clone(),
        });
    }
    let sid = match statement.get("Sid") {
        None => None,
        Some(Value::String(sid)) => Some(sid.as_str().into()),
        Some(_) => return Err(PolicyError::InvalidField { field: "Sid" }),
    };
    let effect = match statement.get("Effect") {
        None => return Err(PolicyError::MissingField { field: "Effect" }),
        Some(Value::String(effect)) if effect == "Allow" => Effect::Allow,
        Some(Value::String(effect)) if effect == "Deny" => Effect::Deny,
        Some(other) => {
            return Err(PolicyError::InvalidEffect {
                effect: other
                    .as_str()
                    .map_or_else(|| other.to_string(), str::to_owned),
            });
        }
    };
    let principals = principal::compile_clause(statement, rules.kind)?;
    let actions = compile_actions(statement, rules)?;
    let resources = compile_resources(statement, rules)?;
    if rules.kind == PolicyKind::Bucket {
        check_actions_apply(statement)?;
    }
    let conditions = match statement.get("Condition") {
        None => Box::default(),
        Some(condition) => compile_conditions(condition, rules)?,
    };
    Ok(Statement {
        sid,
        effect,
        principals,
        actions,
        resources,
        conditions,
    })
}

/// The element named `field` or its negated twin, whichever is present (never both).
fn element_pair<'a>(
    statement: &'a Map<String, Value>,
    field: &'static str,
    negated_field: &'static str,
) -> Result<Option<(&'a Value, bool)>, PolicyError> {
    match (statement.get(field), statement.get(negated_field)) {
        (Some(_), Some(_)) => Err(PolicyError::ConflictingFields {
            field,
            negated_field,
        }),
        (Some(value), None) => Ok(Some((value, false))),
        (None, Some(value)) => Ok(Some((value, true))),
        (None, None) => Ok(None),
    }
}

/// A string or a non-empty array of strings; anything else is `invalid(text)`.
fn string_list<'a>(
    value: &'a Value,
    field: &'static str,
    invalid: &dyn Fn(String) -> PolicyError,
) -> Result<Vec<&'a str>, PolicyError> {
    let list: Vec<&str> = match value {
        Value::String(text) => vec![text.as_str()],
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().ok_or_else(|| invalid(item.to_string())))
            .collect::<Result<_, _>>()?,
        other => return Err(invalid(other.to_string())),
    };
    if list.is_empty() {
        return Err(invalid(String::new()));
    }
    if list.len() > ELEMENT_VALUE_COUNT_MAX {
        return Err(PolicyError::TooManyValues { field });
    }
    Ok(list)
}

fn compile_actions(
    statement: &Map<String, Value>,
    rules: &Rules<'_>,
) -> Result<Clause, PolicyError> {
    let Some((value, negated)) = element_pair(statement, "Action", "NotAction")? else {
        return Err(PolicyError::MissingField { field: "Action" });
    };
    let invalid = |action| PolicyError::InvalidAction { action };
    let syntax = Syntax {
        wildcards: true,
        variables: false,
    };
    let mut patterns = Vec::new();
    for action in string_list(value, "Action", &invalid)? {
        if !valid_action(action, rules.kind) {
            return Err(invalid(action.to_owned()));
        }
        patterns.push(Pattern::compile(action, syntax));
    }
    Ok(Clause {
        negated,
        patterns: patterns.into_boxed_slice(),
    })
}

/// `*`, or `service:name` with wildcards in the name. A bucket policy may only name S3
/// actions that exist (a wildcard must cover at least one); an identity policy may name any
/// service's, as IAM accepts unknown ones.
fn valid_action(action: &str, kind: PolicyKind) -> bool {
    if action == "*" {
        return true;
    }
    let Some((service, name)) = action.split_once(':') else {
        return false;
    };
    let service_valid = !service.is_empty()
        && service
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let name_valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'*' | b'?' | b'-' | b'_'));
    if !service_valid || !name_valid {
        return false;
    }
    if kind == PolicyKind::Identity {
        return true;
    }
    let pattern = Pattern::compile(
        action,
        Syntax {
            wildcards: true,
            variables: false,
        },
    );
    let keys = crate::ConditionKeys::new();
    known_actions().any(|(known, _)| pattern.matches(known, true, &keys))
}

fn compile_resources(
    statement: &Map<String, Value>,
    rules: &Rules<'_>,
) -> Result<Clause, PolicyError> {
    let Some((value, negated)) = element_pair(statement, "Resource", "NotResource")? else {
        return Err(PolicyError::MissingField { field: "Resource" });
    };
    let invalid = |resource| PolicyError::InvalidResource { resource };
    let syntax = Syntax {
        wildcards: true,
        variables: rules.variables,
    };
    let mut patterns = Vec::new();
    for resource in string_list(value, "Resource", &invalid)? {
        let valid = match rules.kind {
            PolicyKind::Bucket => resource_in_bucket(resource, rules.bucket),
            PolicyKind::Identity => resource == "*" || resource_is_arn(resource),
        };
        if !valid {
            return Err(invalid(resource.to_owned()));
        }
        patterns.push(Pattern::compile(resource, syntax));
    }
    Ok(Clause {
        negated,
        patterns: patterns.into_boxed_slice(),
    })
}

/// `arn:partition:service:region:account:resource` (the resource part may hold colons).
fn resource_is_arn(resource: &str) -> bool {
    let mut components = resource.splitn(6, ':');
    components.next() == Some("arn")
        && components
            .next()
            .is_some_and(|partition| !partition.is_empty())
        && components.next().is_some_and(|service| !service.is_empty())
        && components.nth(2).is_some_and(|rest| !rest.is_empty())
}

/// A bucket policy's resource: `*`, or an S3 ARN whose bucket part (up to the first `/`)
/// is the policy's bucket or a wildcard pattern matching it.
fn resource_in_bucket(resource: &str, bucket: &str) -> bool {
    if resource == "*" {
        return true;
    }
    let Some(rest) = resource.strip_prefix("arn:aws:s3:::") else {
        return false;
    };
    let bucket_part = rest
        .split_once('/')
        .map_or(rest, |(bucket_part, _)| bucket_part);
    if bucket_part == bucket {
        return true;
    }
    let pattern = Pattern::compile(
        bucket_part,
        Syntax {
            wildcards: true,
            variables: false,
        },
    );
    !pattern.is_literal() && pattern.matches(bucket, false, &crate::ConditionKeys::new())
}

/// AWS refuses a bucket-policy statement in which an action applies to none of the
/// resources: an object action with only bucket ARNs, `s3:ListBucket` on `bucket/*`.
/// (NotAction and NotResource name what is excluded, so they are not checked.)
fn check_actions_apply(statement: &Map<String, Value>) -> Result<(), PolicyError> {
    let (Some(actions), Some(resources)) = (statement.get("Action"), statement.get("Resource"))
    else {
        return Ok(());
    };
    let resources = string_list(resources, "Resource", &|resource| {
        PolicyError::InvalidResource { resource }
    })?;
    let nameable = |resource_type: ResourceType| {
        resources
            .iter()
            .any(|resource| resource_names(resource, resource_type))
    };
    let actions = string_list(actions, "Action", &|action| PolicyError::InvalidAction {
        action,
    })?;
    let syntax = Syntax {
        wildcards: true,
        variables: false,
    };
    let keys = crate::ConditionKeys::new();
    for action in actions {
        if action == "*" {
            continue;
        }
        let pattern = Pattern::compile(action, syntax);
        let applies = known_actions()
            .filter(|(known, _)| pattern.matches(known, true, &keys))
            .any(|(_, resource_type)| nameable(resource_type));
        if !applies {
            return Err(PolicyError::ActionResourceMismatch {
                action: action.to_owned(),
            });
        }
    }
    Ok(())
}

/// True if the bucket-policy resource `resource` can name a resource of `resource_type`:
/// a bucket ARN has no `/` after the bucket; an object ARN has one, or a wildcard that may
/// stand for it.
fn resource_names(resource: &str, resource_type: ResourceType) -> bool {
    if resource == "*" {
        return true;
    }
    let rest = resource.strip_prefix("arn:aws:s3:::").unwrap_or(resource);
    match resource_type {
        ResourceType::Bucket => !rest.contains('/'),
        ResourceType::Object => rest.contains('/') || rest.contains('*'),
        ResourceType::Account => false,
    }
}

fn compile_conditions(
    condition: &Value,
    rules: &Rules<'_>,
) -> Result<Box<[Condition]>, PolicyError> {
    let Value::Object(operators) = condition else {
        return Err(PolicyError::InvalidField { field: "Condition" });
    };
    let mut conditions = Vec::new();
    for (operator, keys) in operators {
        let Value::Object(keys) = keys else {
            return Err(PolicyError::InvalidConditionOperator {
                operator: operator.clone(),
            });
        };
        for (key, values) in keys {
            check_condition_key(key, rules.kind)?;
            let values = condition_values(operator, values)?;
            conditions.push(Condition::compile(operator, key, &values, rules.variables)?);
            if conditions.len() > CONDITION_COUNT_MAX {
                return Err(PolicyError::TooManyValues { field: "Condition" });
            }
        }
    }
    Ok(conditions.into_boxed_slice())
}

/// `prefix:name`; a bucket policy accepts only the global (`aws:`) and S3 (`s3:`) keys.
fn check_condition_key(key: &str, kind: PolicyKind) -> Result<(), PolicyError> {
    let invalid = || PolicyError::InvalidConditionKey {
        key: key.to_owned(),
    };
    let (prefix, name) = key.split_once(':').ok_or_else(invalid)?;
    let valid = !prefix.is_empty()
        && !name.is_empty()
        && key.len() <= CONDITION_KEY_LENGTH_MAX
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !key.chars().any(char::is_control);
    let service_allowed = kind == PolicyKind::Identity
        || prefix.eq_ignore_ascii_case("aws")
        || prefix.eq_ignore_ascii_case("s3");
    if valid && service_allowed {
        Ok(())
    } else {
        Err(invalid())
    }
}

/// A condition's values as strings: JSON strings, numbers and booleans (AWS accepts
/// `"aws:SecureTransport": false` and `"s3:max-keys": 10`), alone or in a non-empty array.
fn condition_values(operator: &str, values: &Value) -> Result<Vec<String>, PolicyError> {
    let invalid = |value: &Value| PolicyError::InvalidConditionValue {
        operator: operator.to_owned(),
        value: value.to_string(),
    };
    let scalar = |value: &Value| match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(boolean) => Ok(boolean.to_string()),
        other => Err(invalid(other)),
    };
    let list: Vec<String> = match values {
        Value::Array(items) => items.iter().map(scalar).collect::<Result<_, _>>()?,
        other => vec![scalar(other)?],
    };
    if list.is_empty() {
        return Err(invalid(values));
    }
    if list.len() > ELEMENT_VALUE_COUNT_MAX {
        return Err(PolicyError::TooManyValues { field: "Condition" });
    }
    Ok(list)
}

#[cfg(test)]
mod tests;
