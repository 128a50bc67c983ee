use super::{Pattern, Syntax};
use crate::ConditionKeys;

const GLOB: Syntax = Syntax {
    wildcards: true,
    variables: true,
};
const LITERAL: Syntax = Syntax {
    wildcards: false,
    variables: true,
};

fn check(pattern: &str, text: &str, fold: bool, expected: bool) {
    let keys = ConditionKeys::new();
    let compiled = Pattern::compile(pattern, GLOB);
    assert_eq!(
        compiled.matches(text, fold, &keys),
        expected,
        "{pattern:?} vs {text:?} (fold {fold})"
    );
}

#[test]
fn wildcards_match_as_aws_documents() {
    check("*", "", false, true);
    check("*", "anything/at:all", false, true);
    check("abc", "abc", false, true);
    check("abc", "abd", false, false);
    check("abc", "ABC", false, false);
    check("a*", "a", false, true);
    check("a*", "ab/c", false, true);
    check("a*", "ba", false, false);
    check("*a", "bca", false, true);
    check("*a", "bcab", false, false);
    check("a?c", "abc", false, true);
    check("a?c", "ac", false, false);
    check("a?c", "aéc", false, true);
    check("a*b*c", "a-b-b-c", false, true);
    check("a*b*c", "a-b-b-d", false, false);
    check("a**b", "ab", false, true);
    check("*.txt", "dir/file.txt", false, true);
    check("*.txt", "dir/file.txt.gz", false, false);
    check("???", "ab", false, false);
    check("???", "abc", false, true);
    check("", "", false, true);
    check("", "a", false, false);
}

#[test]
fn star_crosses_slashes_and_colons() {
    check(
        "arn:aws:s3:::bucket/*",
        "arn:aws:s3:::bucket/a/b/c",
        false,
        true,
    );
    check("arn:aws:s3:::*", "arn:aws:s3:::bucket/key", false, true);
    check("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket", false, false);
    check(
        "arn:aws:s3:::bucket*",
        "arn:aws:s3:::bucket-two/key",
        false,
        true,
    );
}

#[test]
fn folding_is_case_insensitive() {
    check("s3:get*", "s3:GetObject", true, true);
    check("S3:GETOBJECT", "s3:GetObject", true, true);
    check("s3:Get?bject", "S3:GETOBJECT", true, true);
    check("s3:get*", "s3:GetObject", false, false);
}

#[test]
fn exact_folding_covers_unicode() {
    let keys = ConditionKeys::new();
    let pattern = Pattern::compile("ÉTÉ", LITERAL);
    assert!(pattern.matches("été", true, &keys));
    assert!(!pattern.matches("été", false, &keys));
}

#[test]
fn literal_syntax_takes_wildcards_as_characters() {
    let keys = ConditionKeys::new();
    let pattern = Pattern::compile("a*c", LITERAL);
    assert!(pattern.matches("a*c", false, &keys));
    assert!(!pattern.matches("abc", false, &keys));
}

#[test]
fn variables_resolve_from_condition_keys() {
    let mut keys = ConditionKeys::new();
    keys.insert("aws:username", "alice");
    let pattern = Pattern::compile("arn:aws:s3:::b/home/${aws:username}/*", GLOB);
    assert!(pattern.matches("arn:aws:s3:::b/home/alice/x", false, &keys));
    assert!(!pattern.matches("arn:aws:s3:::b/home/bob/x", false, &keys));
    // Key names are case-insensitive in variables too.
    let pattern = Pattern::compile("home/${AWS:UserName}", GLOB);
    assert!(pattern.matches("home/alice", false, &keys));
}

#[test]
fn variable_values_are_literal_not_wildcards() {
    let mut keys = ConditionKeys::new();
    keys.insert("aws:username", "*");
    let pattern = Pattern::compile("home/${aws:username}/x", GLOB);
    assert!(pattern.matches("home/*/x", false, &keys));
    assert!(!pattern.matches("home/alice/x", false, &keys));
}

#[test]
fn missing_variable_matches_nothing_unless_defaulted() {
    let keys = ConditionKeys::new();
    let pattern = Pattern::compile("home/${aws:username}/*", GLOB);
    assert!(!pattern.matches("home//x", false, &keys));
    assert!(!pattern.matches("home/${aws:username}/x", false, &keys));
    let pattern = Pattern::compile("home/${aws:username, 'nobody'}/*", GLOB);
    assert!(pattern.matches("home/nobody/x", false, &keys));
}

#[test]
fn multi_valued_key_is_not_a_variable_value() {
    let mut keys = ConditionKeys::new();
    keys.insert("s3:prefix", "a");
    keys.insert("s3:prefix", "b");
    let pattern = Pattern::compile("${s3:prefix}*", GLOB);
    assert!(!pattern.matches("a", false, &keys));
}

#[test]
fn escapes_give_literal_characters() {
    let keys = ConditionKeys::new();
    let pattern = Pattern::compile("a${*}b${?}c${$}d", GLOB);
    assert!(pattern.matches("a*b?c$d", false, &keys));
    assert!(!pattern.matches("axb?c$d", false, &keys));
    assert!(!pattern.matches("a*bxc$d", false, &keys));
}

#[test]
fn malformed_variables_are_literal_text() {
    let keys = ConditionKeys::new();
    for text in ["${unclosed", "${}", "${no colon}", "${a:b, unquoted}"] {
        let pattern = Pattern::compile(text, LITERAL);
        assert!(pattern.matches(text, false, &keys), "{text:?}");
    }
}

#[test]
fn without_variables_syntax_dollar_braces_are_literal() {
    let mut keys = ConditionKeys::new();
    keys.insert("aws:username", "alice");
    let syntax = Syntax {
        wildcards: true,
        variables: false,
    };
    let pattern = Pattern::compile("home/${aws:username}", syntax);
    assert!(pattern.matches("home/${aws:username}", false, &keys));
    assert!(!pattern.matches("home/alice", false, &keys));
}
