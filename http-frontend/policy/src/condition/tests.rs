use super::{Condition, parse_date_ns};
use crate::{ConditionKeys, PolicyError};

/// Compiles `operator: {key: values}` and tests it against `request` (key, value) pairs.
fn holds(operator: &str, key: &str, values: &[&str], request: &[(&str, &str)]) -> bool {
    let values: Vec<String> = values.iter().map(|v| (*v).to_owned()).collect();
    let condition = Condition::compile(operator, key, &values, true).expect("valid condition");
    let mut keys = ConditionKeys::new();
    for (name, value) in request {
        keys.insert(name, *value);
    }
    condition.holds(&keys)
}

fn compile_error(operator: &str, values: &[&str]) -> PolicyError {
    let values: Vec<String> = values.iter().map(|v| (*v).to_owned()).collect();
    Condition::compile(operator, "aws:x", &values, true).expect_err("invalid condition")
}

const ACL: &str = "s3:x-amz-acl";

#[test]
fn string_equals_is_exact_and_case_sensitive() {
    assert!(holds(
        "StringEquals",
        ACL,
        &["private"],
        &[(ACL, "private")]
    ));
    assert!(!holds(
        "StringEquals",
        ACL,
        &["private"],
        &[(ACL, "Private")]
    ));
    assert!(holds(
        "StringEquals",
        ACL,
        &["a", "private"],
        &[(ACL, "private")]
    ));
    // No wildcards in StringEquals.
    assert!(!holds("StringEquals", ACL, &["pri*"], &[(ACL, "private")]));
    assert!(!holds("StringEquals", ACL, &["private"], &[]));
}

#[test]
fn string_not_equals_is_nor_and_true_on_missing_key() {
    assert!(!holds(
        "StringNotEquals",
        ACL,
        &["private"],
        &[(ACL, "private")]
    ));
    assert!(holds(
        "StringNotEquals",
        ACL,
        &["private"],
        &[(ACL, "public-read")]
    ));
    assert!(!holds("StringNotEquals", ACL, &["a", "b"], &[(ACL, "b")]));
    // AWS: a negated operator is true when the key is absent.
    assert!(holds("StringNotEquals", ACL, &["private"], &[]));
}

#[test]
fn ignore_case_operators_fold() {
    assert!(holds(
        "StringEqualsIgnoreCase",
        ACL,
        &["PRIVATE"],
        &[(ACL, "private")]
    ));
    assert!(!holds(
        "StringNotEqualsIgnoreCase",
        ACL,
        &["PRIVATE"],
        &[(ACL, "private")]
    ));
    assert!(holds(
        "StringNotEqualsIgnoreCase",
        ACL,
        &["PRIVATE"],
        &[(ACL, "public")]
    ));
}

#[test]
fn string_like_uses_wildcards() {
    let key = "s3:prefix";
    assert!(holds(
        "StringLike",
        key,
        &["home/*"],
        &[(key, "home/alice/")]
    ));
    assert!(!holds(
        "StringLike",
        key,
        &["home/*"],
        &[(key, "Home/alice/")]
    ));
    assert!(holds("StringLike", key, &["a?c"], &[(key, "abc")]));
    assert!(!holds(
        "StringNotLike",
        key,
        &["home/*"],
        &[(key, "home/x")]
    ));
    assert!(holds("StringNotLike", key, &["home/*"], &[(key, "other")]));
    assert!(holds("StringNotLike", key, &["home/*"], &[]));
}

#[test]
fn string_values_expand_policy_variables() {
    let key = "s3:prefix";
    let request = [(key, "home/alice/"), ("aws:username", "alice")];
    assert!(holds(
        "StringLike",
        key,
        &["home/${aws:username}/*"],
        &request
    ));
    let request = [(key, "home/bob/"), ("aws:username", "alice")];
    assert!(!holds(
        "StringLike",
        key,
        &["home/${aws:username}/*"],
        &request
    ));
    let request = [(key, "home/alice")];
    assert!(!holds(
        "StringEquals",
        key,
        &["home/${aws:username}"],
        &request
    ));
}

#[test]
fn numeric_operators_compare_numbers() {
    let key = "s3:max-keys";
    let request = [(key, "10")];
    assert!(holds("NumericEquals", key, &["10"], &request));
    assert!(holds("NumericEquals", key, &["10.0"], &request));
    assert!(!holds("NumericNotEquals", key, &["10"], &request));
    assert!(holds("NumericNotEquals", key, &["11"], &request));
    assert!(holds("NumericLessThan", key, &["11"], &request));
    assert!(!holds("NumericLessThan", key, &["10"], &request));
    assert!(holds("NumericLessThanEquals", key, &["10"], &request));
    assert!(holds("NumericGreaterThan", key, &["9.5"], &request));
    assert!(!holds("NumericGreaterThan", key, &["10"], &request));
    assert!(holds("NumericGreaterThanEquals", key, &["10"], &request));
    // A request value that is not a number matches nothing.
    assert!(!holds("NumericLessThan", key, &["11"], &[(key, "ten")]));
    assert!(!holds("NumericLessThan", key, &["11"], &[]));
    assert!(holds("NumericNotEquals", key, &["11"], &[]));
}

#[test]
fn date_operators_accept_iso_8601_and_epoch_seconds() {
    let key = "aws:CurrentTime";
    let request = [(key, "2024-06-01T12:00:00Z")];
    assert!(holds(
        "DateLessThan",
        key,
        &["2024-06-02T00:00:00Z"],
        &request
    ));
    assert!(!holds("DateLessThan", key, &["2024-06-01"], &request));
    assert!(holds("DateGreaterThan", key, &["2024-06-01"], &request));
    assert!(holds(
        "DateEquals",
        key,
        &["2024-06-01T14:00:00+02:00"],
        &request
    ));
    assert!(holds("DateEquals", key, &["1717243200"], &request));
    assert!(!holds("DateNotEquals", key, &["1717243200"], &request));
    assert!(holds("DateLessThanEquals", key, &["1717243200"], &request));
    assert!(holds(
        "DateGreaterThanEquals",
        key,
        &["2024-06-01T12:00:00.000Z"],
        &request
    ));
    let epoch = [("aws:EpochTime", "1717243200")];
    assert!(holds(
        "DateGreaterThan",
        "aws:EpochTime",
        &["2024-01-01T00:00:00Z"],
        &epoch
    ));
}

#[test]
fn dates_parse_in_every_documented_form() {
    let noon = Some(1_717_243_200 * 1_000_000_000_i128);
    assert_eq!(parse_date_ns("2024-06-01T12:00:00Z"), noon);
    assert_eq!(parse_date_ns("2024-06-01T12:00:00"), noon);
    assert_eq!(parse_date_ns("2024-06-01T13:00:00+01:00"), noon);
    assert_eq!(parse_date_ns("1717243200"), noon);
    assert_eq!(
        parse_date_ns("2024-06-01"),
        Some(1_717_200_000 * 1_000_000_000_i128)
    );
    assert_eq!(parse_date_ns("June 1st"), None);
    assert_eq!(parse_date_ns(""), None);
}

#[test]
fn bool_compares_case_insensitively() {
    let key = "aws:SecureTransport";
    assert!(holds("Bool", key, &["false"], &[(key, "false")]));
    assert!(holds("Bool", key, &["false"], &[(key, "FALSE")]));
    assert!(!holds("Bool", key, &["false"], &[(key, "true")]));
    assert!(!holds("Bool", key, &["false"], &[]));
    assert!(holds("BoolIfExists", key, &["false"], &[]));
}

#[test]
fn binary_equals_compares_base64() {
    let key = "aws:x";
    assert!(holds(
        "BinaryEquals",
        key,
        &["QmluYXJ5"],
        &[(key, "QmluYXJ5")]
    ));
    assert!(!holds(
        "BinaryEquals",
        key,
        &["QmluYXJ5"],
        &[(key, "QmluYXJ6")]
    ));
    assert!(matches!(
        compile_error("BinaryEquals", &["not base64!"]),
        PolicyError::InvalidConditionValue { .. }
    ));
}

#[test]
fn ip_address_matches_cidrs_v4_and_v6() {
    let key = "aws:SourceIp";
    let networks = ["192.0.2.0/24", "2001:db8::/32", "203.0.113.7"];
    assert!(holds("IpAddress", key, &networks, &[(key, "192.0.2.200")]));
    assert!(!holds("IpAddress", key, &networks, &[(key, "192.0.3.1")]));
    assert!(holds(
        "IpAddress",
        key,
        &networks,
        &[(key, "2001:db8:1::5")]
    ));
    assert!(!holds("IpAddress", key, &networks, &[(key, "2001:db9::5")]));
    assert!(holds("IpAddress", key, &networks, &[(key, "203.0.113.7")]));
    assert!(!holds("IpAddress", key, &networks, &[(key, "203.0.113.8")]));
    // An IPv4-mapped IPv6 address is its IPv4 address.
    assert!(holds(
        "IpAddress",
        key,
        &networks,
        &[(key, "::ffff:192.0.2.9")]
    ));
    assert!(holds("IpAddress", key, &["0.0.0.0/0"], &[(key, "8.8.8.8")]));
    assert!(!holds(
        "IpAddress",
        key,
        &["0.0.0.0/0"],
        &[(key, "2001:db8::1")]
    ));
    assert!(!holds("IpAddress", key, &networks, &[(key, "not-an-ip")]));
    assert!(!holds(
        "NotIpAddress",
        key,
        &networks,
        &[(key, "192.0.2.1")]
    ));
    assert!(holds(
        "NotIpAddress",
        key,
        &networks,
        &[(key, "198.51.100.1")]
    ));
    // Host bits beyond the prefix are ignored, as a network address would be.
    assert!(holds(
        "IpAddress",
        key,
        &["192.0.2.77/24"],
        &[(key, "192.0.2.1")]
    ));
}

#[test]
fn malformed_cidrs_are_refused() {
    for value in [
        "192.0.2.0/33",
        "192.0.2/24",
        "2001:db8::/129",
        "10.0.0.0/",
        "x",
        "1.2.3.4/a",
    ] {
        assert!(
            matches!(
                compile_error("IpAddress", &[value]),
                PolicyError::InvalidConditionValue { .. }
            ),
            "{value}"
        );
    }
}

#[test]
fn arn_operators_match_component_by_component() {
    let key = "aws:SourceArn";
    let arn = "arn:aws:sns:us-east-1:123456789012:topic";
    assert!(holds("ArnEquals", key, &[arn], &[(key, arn)]));
    assert!(holds(
        "ArnLike",
        key,
        &["arn:aws:sns:*:123456789012:*"],
        &[(key, arn)]
    ));
    assert!(!holds(
        "ArnLike",
        key,
        &["arn:aws:sns:*:999999999999:*"],
        &[(key, arn)]
    ));
    // `*` in one component does not swallow the colons of the next.
    assert!(!holds(
        "ArnLike",
        key,
        &["arn:aws:*:123456789012:topic"],
        &[(key, arn)]
    ));
    assert!(!holds(
        "ArnNotLike",
        key,
        &["arn:aws:sns:*:*:*"],
        &[(key, arn)]
    ));
    assert!(holds(
        "ArnNotEquals",
        key,
        &["arn:aws:sqs:*:*:*"],
        &[(key, arn)]
    ));
    assert!(holds("ArnNotLike", key, &["arn:aws:sqs:*:*:*"], &[]));
    // The resource component may hold colons of its own.
    let arn = "arn:aws:s3:::bucket/a:b";
    assert!(holds(
        "ArnLike",
        key,
        &["arn:aws:s3:::bucket/*"],
        &[(key, arn)]
    ));
}

#[test]
fn if_exists_is_true_when_the_key_is_missing() {
    let key = "aws:SourceIp";
    assert!(holds("IpAddressIfExists", key, &["10.0.0.0/8"], &[]));
    assert!(holds(
        "IpAddressIfExists",
        key,
        &["10.0.0.0/8"],
        &[(key, "10.1.2.3")]
    ));
    assert!(!holds(
        "IpAddressIfExists",
        key,
        &["10.0.0.0/8"],
        &[(key, "11.1.2.3")]
    ));
    assert!(holds("StringEqualsIfExists", ACL, &["private"], &[]));
    assert!(holds("NumericLessThanIfExists", "s3:max-keys", &["5"], &[]));
    assert!(holds(
        "DateGreaterThanIfExists",
        "aws:CurrentTime",
        &["2020-01-01"],
        &[]
    ));
    assert!(holds(
        "ArnLikeIfExists",
        "aws:SourceArn",
        &["arn:*:*:*:*:*"],
        &[]
    ));
}

#[test]
fn null_tests_presence() {
    let key = "s3:x-amz-server-side-encryption";
    assert!(holds("Null", key, &["true"], &[]));
    assert!(!holds("Null", key, &["true"], &[(key, "AES256")]));
    assert!(holds("Null", key, &["false"], &[(key, "AES256")]));
    assert!(!holds("Null", key, &["false"], &[]));
    // JSON booleans arrive as strings; any case is accepted.
    assert!(holds("Null", key, &["TRUE"], &[]));
    // A key present with no value counts as absent.
    let mut keys = ConditionKeys::new();
    keys.set(key, Vec::new());
    let condition =
        Condition::compile("Null", key, &["true".to_owned()], true).expect("valid condition");
    assert!(condition.holds(&keys));
}

#[test]
fn condition_keys_are_case_insensitive() {
    assert!(holds(
        "StringEquals",
        "S3:X-AMZ-ACL",
        &["private"],
        &[("s3:x-amz-acl", "private")]
    ));
    assert!(holds(
        "StringEquals",
        ACL,
        &["private"],
        &[("S3:X-Amz-Acl", "private")]
    ));
}

const TAG_KEYS: &str = "s3:RequestObjectTagKeys";

#[test]
fn for_any_value_needs_one_matching_request_value() {
    let op = "ForAnyValue:StringEquals";
    let request = [(TAG_KEYS, "project"), (TAG_KEYS, "owner")];
    assert!(holds(op, TAG_KEYS, &["owner", "cost"], &request));
    assert!(!holds(op, TAG_KEYS, &["cost"], &request));
    // ForAnyValue on a missing key is false, even negated.
    assert!(!holds(op, TAG_KEYS, &["owner"], &[]));
    assert!(!holds("ForAnyValue:StringNotEquals", TAG_KEYS, &["x"], &[]));
    // Negated: true if some request value is outside the list.
    assert!(holds(
        "ForAnyValue:StringNotEquals",
        TAG_KEYS,
        &["project"],
        &request
    ));
    let both = ["project", "owner"];
    assert!(!holds(
        "ForAnyValue:StringNotEquals",
        TAG_KEYS,
        &both,
        &request
    ));
    assert!(holds(
        "ForAnyValue:StringEqualsIfExists",
        TAG_KEYS,
        &["x"],
        &[]
    ));
}

#[test]
fn for_all_values_needs_every_request_value_to_match() {
    let op = "ForAllValues:StringEquals";
    let request = [(TAG_KEYS, "project"), (TAG_KEYS, "owner")];
    assert!(holds(op, TAG_KEYS, &["owner", "project", "cost"], &request));
    assert!(!holds(op, TAG_KEYS, &["owner"], &request));
    // Vacuously true on a missing key (AWS's documented pitfall).
    assert!(holds(op, TAG_KEYS, &["owner"], &[]));
    // Negated: true if no request value is in the list.
    assert!(holds(
        "ForAllValues:StringNotEquals",
        TAG_KEYS,
        &["cost"],
        &request
    ));
    assert!(!holds(
        "ForAllValues:StringNotEquals",
        TAG_KEYS,
        &["owner"],
        &request
    ));
    assert!(holds(
        "ForAllValues:StringLike",
        TAG_KEYS,
        &["*o*"],
        &request
    ));
}

#[test]
fn single_valued_operator_on_a_multi_valued_key_matches_any_value() {
    let request = [(TAG_KEYS, "project"), (TAG_KEYS, "owner")];
    assert!(holds("StringEquals", TAG_KEYS, &["owner"], &request));
    assert!(!holds("StringNotEquals", TAG_KEYS, &["owner"], &request));
    assert!(holds("StringNotEquals", TAG_KEYS, &["cost"], &request));
}

#[test]
fn unknown_operators_are_refused() {
    for operator in [
        "StringEqualz",
        "stringequals",
        "ForSomeValues:StringEquals",
        "NumericLess",
        "DateBefore",
        "NullIfExists",
        "ForAnyValue:Null",
        "IfExists",
        "",
    ] {
        assert!(
            matches!(
                compile_error(operator, &["true"]),
                PolicyError::InvalidConditionOperator { .. }
            ),
            "{operator:?}"
        );
    }
}

#[test]
fn malformed_values_are_refused() {
    for (operator, value) in [
        ("NumericEquals", "ten"),
        ("NumericLessThan", ""),
        ("DateLessThan", "yesterday"),
        ("Bool", "yes"),
        ("Null", "1"),
        ("IpAddress", "256.0.0.1"),
    ] {
        assert!(
            matches!(
                compile_error(operator, &[value]),
                PolicyError::InvalidConditionValue { .. }
            ),
            "{operator} {value:?}"
        );
    }
}
