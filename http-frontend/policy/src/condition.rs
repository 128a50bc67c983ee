//! The `Condition` element: operators, compiled values, and AWS's rules for missing keys,
//! multi-valued keys (`ForAnyValue:` / `ForAllValues:`), `...IfExists` and `Null`.
//!
//! Values are parsed when the policy is compiled (numbers, dates, CIDRs, ARN components,
//! wildcard patterns), so evaluation parses only the request's own values, without
//! allocating.

use std::net::IpAddr;

use time::format_description::well_known::{Iso8601, Rfc3339};
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

use crate::context::{ConditionSource, Values};
use crate::error::PolicyError;
use crate::wildcard::{Pattern, Syntax};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Comparison {
    Equals,
    LessThan,
    LessThanEquals,
    GreaterThan,
    GreaterThanEquals,
}

impl Comparison {
    fn holds<T: PartialOrd + Copy>(self, request: T, policy: T) -> bool {
        match self {
            Comparison::Equals => request == policy,
            Comparison::LessThan => request < policy,
            Comparison::LessThanEquals => request <= policy,
            Comparison::GreaterThan => request > policy,
            Comparison::GreaterThanEquals => request >= policy,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Qualifier {
    /// No set operator: the key is treated as single-valued (any request value may match).
    Single,
    ForAnyValue,
    ForAllValues,
}

/// A network and its prefix length, both as 128-bit numbers (IPv4 in the low 32 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    network: u128,
    mask: u128,
    is_v4: bool,
}

impl Cidr {
    fn parse(text: &str) -> Option<Cidr> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address.trim().parse().ok()?;
        let (bits, width, is_v4) = match address {
            IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32, true),
            IpAddr::V6(v6) => (u128::from(v6), 128, false),
        };
        let prefix: u32 = match prefix {
            Some(prefix) if !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_digit()) => {
                prefix.parse().ok()?
            }
            Some(_) => return None,
            None => width,
        };
        if prefix > width {
            return None;
        }
        let mask = if prefix == 0 {
            0
        } else {
            (u128::MAX << (width - prefix)) & (u128::MAX >> (128 - width))
        };
        Some(Cidr {
            network: bits & mask,
            mask,
            is_v4,
        })
    }

    fn contains(&self, address: IpAddr) -> bool {
        let (bits, is_v4) = match address {
            IpAddr::V4(v4) => (u128::from(u32::from(v4)), true),
            // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 address.
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => (u128::from(u32::from(v4)), true),
                None => (u128::from(v6), false),
            },
        };
        is_v4 == self.is_v4 && bits & self.mask == self.network
    }
}

/// An ARN pattern split into its six colon-separated components, each matched on its own
/// (`*` does not cross a `:` between components), as `ArnLike` is documented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ArnPattern {
    components: Box<[Pattern]>,
}

impl ArnPattern {
    fn matches(&self, arn: &str, keys: &dyn ConditionSource) -> bool {
        if let [whole] = &*self.components {
            return whole.matches(arn, false, keys);
        }
        let mut request_components = arn.splitn(self.components.len(), ':');
        for component in &self.components {
            match request_components.next() {
                Some(text) if component.matches(text, false, keys) => {}
                _ => return false,
            }
        }
        true
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Test {
    String {
        patterns: Box<[Pattern]>,
        fold: bool,
    },
    Numeric {
        comparison: Comparison,
        numbers: Box<[f64]>,
    },
    Date {
        comparison: Comparison,
        instants_ns: Box<[i128]>,
    },
    Bool {
        booleans: Box<[bool]>,
    },
    Binary {
        values: Box<[Box<str>]>,
    },
    Ip {
        networks: Box<[Cidr]>,
    },
    Arn {
        patterns: Box<[ArnPattern]>,
    },
    /// `Null`: true means "the key must be absent".
    Null {
        absent: Box<[bool]>,
    },
}

/// One `operator: { key: values }` pair of a statement's Condition block.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Condition {
    /// The condition key, ASCII lower case.
    key: Box<str>,
    test: Test,
    /// StringNotEquals, NotIpAddress, ...: true when no policy value matches (NOR).
    negated: bool,
    qualifier: Qualifier,
    if_exists: bool,
}

/// Condition keys that pin a request to a known source or principal (after AWS's "The
/// meaning of public" in the S3 user guide, Block Public Access): an Allow to everyone that
/// tests one of them with a positive operator is not public.
const NARROWING_KEYS: &[&str] = &[
    "aws:sourceip",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourcearn",
    "aws:sourceaccount",
    "aws:sourceowner",
    "aws:principalorgid",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:userid",
    "aws:username",
];

impl Condition {
    /// Whether the condition limits who can match to a fixed source or principal. Negated
    /// operators (NotIpAddress: everyone but a range) and `...IfExists` (true when the key
    /// is absent, as it is for anonymous callers of most keys) do not.
    pub(crate) fn narrows_principal(&self) -> bool {
        !self.negated && !self.if_exists && NARROWING_KEYS.contains(&&*self.key)
    }
}

/// An operator name taken apart: `ForAnyValue:StringNotLikeIfExists` and so on.
struct OperatorName<'a> {
    base: &'a str,
    qualifier: Qualifier,
    if_exists: bool,
}

fn split_operator(operator: &str) -> OperatorName<'_> {
    let (qualifier, rest) = if let Some(rest) = operator.strip_prefix("ForAnyValue:") {
        (Qualifier::ForAnyValue, rest)
    } else if let Some(rest) = operator.strip_prefix("ForAllValues:") {
        (Qualifier::ForAllValues, rest)
    } else {
        (Qualifier::Single, operator)
    };
    match rest.strip_suffix("IfExists") {
        Some(base) => OperatorName {
            base,
            qualifier,
            if_exists: true,
        },
        None => OperatorName {
            base: rest,
            qualifier,
            if_exists: false,
        },
    }
}

/// The operator family, whether it is negated, and the comparison for numbers and dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    String { fold: bool, like: bool },
    Numeric(Comparison),
    Date(Comparison),
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

fn family_of(base: &str) -> Option<(Family, bool)> {
    let string = |fold, like| Family::String { fold, like };
    Some(match base {
        "StringEquals" => (string(false, false), false),
        "StringNotEquals" => (string(false, false), true),
        "StringEqualsIgnoreCase" => (string(true, false), false),
        "StringNotEqualsIgnoreCase" => (string(true, false), true),
        "StringLike" => (string(false, true), false),
        "StringNotLike" => (string(false, true), true),
        "Bool" => (Family::Bool, false),
        "BinaryEquals" => (Family::Binary, false),
        "IpAddress" => (Family::Ip, false),
        "NotIpAddress" => (Family::Ip, true),
        "ArnEquals" | "ArnLike" => (Family::Arn, false),
        "ArnNotEquals" | "ArnNotLike" => (Family::Arn, true),
        "Null" => (Family::Null, false),
        _ => {
            let (family, rest): (fn(Comparison) -> Family, &str) =
                if let Some(rest) = base.strip_prefix("Numeric") {
                    (Family::Numeric, rest)
                } else if let Some(rest) = base.strip_prefix("Date") {
                    (Family::Date, rest)
                } else {
                    return None;
                };
            let (comparison, negated) = match rest {
                "Equals" => (Comparison::Equals, false),
                "NotEquals" => (Comparison::Equals, true),
                "LessThan" => (Comparison::LessThan, false),
                "LessThanEquals" => (Comparison::LessThanEquals, false),
                "GreaterThan" => (Comparison::GreaterThan, false),
                "GreaterThanEquals" => (Comparison::GreaterThanEquals, false),
                _ => return None,
            };
            (family(comparison), negated)
        }
    })
}

impl Condition {
    /// Compiles one key of one operator. `variables` is false for Version 2008-10-17
    /// documents, where `${...}` is literal text.
    pub(crate) fn compile(
        operator: &str,
        key: &str,
        values: &[String],
        variables: bool,
    ) -> Result<Condition, PolicyError> {
        let name = split_operator(operator);
        let invalid_operator = || PolicyError::InvalidConditionOperator {
            operator: operator.to_owned(),
        };
        let (family, negated) = family_of(name.base).ok_or_else(invalid_operator)?;
        // Null tests presence itself: IfExists or a set qualifier would be meaningless.
        if family == Family::Null && (name.if_exists || name.qualifier != Qualifier::Single) {
            return Err(invalid_operator());
        }
        let test = compile_test(family, operator, values, variables)?;
        Ok(Condition {
            key: key.to_ascii_lowercase().into_boxed_str(),
            test,
            negated,
            qualifier: name.qualifier,
            if_exists: name.if_exists,
        })
    }

    pub(crate) fn holds(&self, keys: &dyn ConditionSource) -> bool {
        let values = keys.values_lowercase(&self.key);
        if let Test::Null { absent } = &self.test {
            let is_absent = values.is_none_or(Values::is_empty);
            return absent.contains(&is_absent);
        }
        let values = match values {
            Some(values) if !values.is_empty() => values,
            // AWS: a missing key fails the test, except that a negated operator is true,
            // ...IfExists is true, and ForAllValues is true (vacuously).
            _ => {
                return self.if_exists
                    || self.qualifier == Qualifier::ForAllValues
                    || (self.negated && self.qualifier == Qualifier::Single);
            }
        };
        let passes = |value: &str| self.matches_any(value, keys) != self.negated;
        match self.qualifier {
            Qualifier::Single if self.negated => {
                values.iter().all(|value| !self.matches_any(value, keys))
            }
            Qualifier::Single | Qualifier::ForAnyValue => values.iter().any(passes),
            Qualifier::ForAllValues => values.iter().all(passes),
        }
    }

    /// True if the request's `value` matches any of the policy's values (before negation).
    fn matches_any(&self, value: &str, keys: &dyn ConditionSource) -> bool {
        match &self.test {
            Test::String { patterns, fold } => patterns
                .iter()
                .any(|pattern| pattern.matches(value, *fold, keys)),
            Test::Numeric {
                comparison,
                numbers,
            } => parse_number(value).is_some_and(|request| {
                numbers
                    .iter()
                    .any(|&policy| comparison.holds(request, policy))
            }),
            Test::Date {
                comparison,
                instants_ns,
            } => parse_date_ns(value).is_some_and(|request| {
                instants_ns
                    .iter()
                    .any(|&policy| comparison.holds(request, policy))
            }),
            Test::Bool { booleans } => {
                parse_bool(value).is_some_and(|request| booleans.contains(&request))
            }
            Test::Binary { values } => values.iter().any(|policy| **policy == *value),
            Test::Ip { networks } => value
                .trim()
                .parse::<IpAddr>()
                .is_ok_and(|address| networks.iter().any(|network| network.contains(address))),
            Test::Arn { patterns } => patterns.iter().any(|pattern| pattern.matches(value, keys)),
            Test::Null { .. } => unreachable!("Null is decided before values are compared"),
        }
    }
}

fn compile_test(
    family: Family,
    operator: &str,
    values: &[String],
    variables: bool,
) -> Result<Test, PolicyError> {
    let invalid = |value: &str| PolicyError::InvalidConditionValue {
        operator: operator.to_owned(),
        value: value.to_owned(),
    };
    let each = |parse: &dyn Fn(&str) -> Option<()>| -> Result<(), PolicyError> {
        values
            .iter()
            .try_for_each(|value| parse(value).ok_or_else(|| invalid(value)))
    };
    Ok(match family {
        Family::String { fold, like } => {
            let syntax = Syntax {
                wildcards: like,
                variables,
            };
            let patterns = values.iter().map(|v| Pattern::compile(v, syntax)).collect();
            Test::String { patterns, fold }
        }
        Family::Numeric(comparison) => {
            each(&|value| parse_number(value).map(drop))?;
            let numbers = values.iter().filter_map(|v| parse_number(v)).collect();
            Test::Numeric {
                comparison,
                numbers,
            }
        }
        Family::Date(comparison) => {
            each(&|value| parse_date_ns(value).map(drop))?;
            let instants_ns = values.iter().filter_map(|v| parse_date_ns(v)).collect();
            Test::Date {
                comparison,
                instants_ns,
            }
        }
        Family::Bool | Family::Null => {
            each(&|value| parse_bool(value).map(drop))?;
            let booleans: Box<[bool]> = values.iter().filter_map(|v| parse_bool(v)).collect();
            if family == Family::Null {
                Test::Null { absent: booleans }
            } else {
                Test::Bool { booleans }
            }
        }
        Family::Binary => {
            each(&|value| is_base64(value).then_some(()))?;
            Test::Binary {
                values: values.iter().map(|v| v.as_str().into()).collect(),
            }
        }
        Family::Ip => {
            each(&|value| Cidr::parse(value).map(drop))?;
            let networks = values.iter().filter_map(|v| Cidr::parse(v)).collect();
            Test::Ip { networks }
        }
        Family::Arn => {
            let syntax = Syntax {
                wildcards: true,
                variables,
            };
            let patterns = values
                .iter()
                .map(|value| ArnPattern {
                    components: value
                        .splitn(6, ':')
                        .map(|c| Pattern::compile(c, syntax))
                        .collect(),
                })
                .collect();
            Test::Arn { patterns }
        }
    })
}

fn parse_number(text: &str) -> Option<f64> {
    let text = text.trim();
    let plain = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'));
    if !plain {
        return None;
    }
    text.parse::<f64>().ok().filter(|number| number.is_finite())
}

fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn is_base64(text: &str) -> bool {
    let body = text.trim_end_matches('=');
    text.len() - body.len() <= 2
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/'))
}

/// A date as nanoseconds since the epoch: epoch seconds (`1700000000`), or ISO 8601 in the
/// forms AWS shows (`2024-01-31T12:00:00Z`, with an offset or fraction, without a zone
/// taken as UTC, or a bare date `2024-01-31` as its midnight UTC).
pub(crate) fn parse_date_ns(text: &str) -> Option<i128> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let seconds: i64 = text.parse().ok()?;
        return Some(i128::from(seconds) * 1_000_000_000);
    }
    if let Ok(instant) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(instant.unix_timestamp_nanos());
    }
    if let Ok(instant) = OffsetDateTime::parse(text, &Iso8601::DEFAULT) {
        return Some(instant.unix_timestamp_nanos());
    }
    if let Ok(instant) = PrimitiveDateTime::parse(text, &Iso8601::DEFAULT) {
        return Some(instant.assume_utc().unix_timestamp_nanos());
    }
    let date = Date::parse(text, &Iso8601::DEFAULT).ok()?;
    Some(
        PrimitiveDateTime::new(date, Time::MIDNIGHT)
            .assume_utc()
            .unix_timestamp_nanos(),
    )
}

#[cfg(test)]
mod tests;
