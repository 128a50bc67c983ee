use base64::Engine as _;

use super::{Condition, FormField, PostPolicyError, parse_policy, verify_signature};
use crate::sigv4::tests::{EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_KEY, example_store};
use crate::sigv4::{AuthContext, SigV4Error};

fn fields(pairs: &[(&str, &str)]) -> Vec<FormField> {
    pairs
        .iter()
        .map(|(name, value)| FormField {
            name: (*name).to_owned(),
            value: (*value).to_owned(),
        })
        .collect()
}

fn encode(json: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(json)
}

const POLICY: &str = r#"{ "expiration": "2030-01-01T00:00:00.000Z",
  "conditions": [ {"bucket": "bkt"}, ["starts-with", "$key", "user/"], {"acl": "private"},
    ["content-length-range", 1, 1048576], ["starts-with", "$Content-Type", "image/"],
    ["eq", "$x-amz-meta-tag", "a\"b"] ] }"#;

#[test]
fn conditions_hold_and_fail() {
    let policy = parse_policy(&encode(POLICY)).unwrap();
    assert_eq!(policy.conditions.len(), 6);
    assert_eq!(
        policy.conditions[3],
        Condition::ContentLengthRange {
            min_bytes: 1,
            max_bytes: 1_048_576
        }
    );
    let good = fields(&[
        ("key", "user/a.txt"),
        ("acl", "private"),
        ("content-type", "image/png"),
        ("x-amz-meta-tag", "a\"b"),
        ("policy", "p"),
        ("x-ignore-me", "1"),
    ]);
    assert_eq!(policy.check(&good, "bkt", 0), Ok(Some((1, 1_048_576))));
    assert!(matches!(
        policy.check(&good, "other", 0),
        Err(PostPolicyError::ConditionFailed(_))
    ));
    let mut bad_key = good.clone();
    bad_key[0].value = "admin/a.txt".to_owned();
    assert!(matches!(
        policy.check(&bad_key, "bkt", 0),
        Err(PostPolicyError::ConditionFailed(_))
    ));
    let mut extra = good.clone();
    extra.push(FormField {
        name: "x-amz-meta-other".to_owned(),
        value: String::new(),
    });
    assert!(matches!(
        policy.check(&extra, "bkt", 0),
        Err(PostPolicyError::ConditionFailed(message)) if message.contains("Extra input")
    ));
    assert_eq!(
        policy.check(&good, "bkt", 1_900_000_000),
        Err(PostPolicyError::Expired)
    );
}

#[test]
fn malformed_policies_are_rejected() {
    for json in [
        "not json",
        r#"{"conditions": []}"#,
        r#"{"expiration": "tomorrow", "conditions": []}"#,
        r#"{"expiration": "2030-01-01T00:00:00Z", "conditions": [[[[["deep"]]]]]}"#,
        r#"{"expiration": "2030-01-01T00:00:00Z", "conditions": []} trailing"#,
    ] {
        assert!(
            matches!(
                parse_policy(&encode(json)),
                Err(PostPolicyError::InvalidPolicyDocument(_))
            ),
            "{json}"
        );
    }
    assert!(parse_policy("!!!").is_err());
}

/// S3's texts for a policy it cannot read (after "Invalid Policy: ").
#[test]
fn malformed_policies_get_s3s_messages() {
    let with = |conditions: &str| {
        format!(r#"{{"expiration": "2030-01-01T00:00:00Z", "conditions": [{conditions}]}}"#)
    };
    let cases = [
        (
            r#"{"conditions": []}"#.to_owned(),
            "Policy missing expiration.",
        ),
        (
            r#"{"expiration": "2030-01-01", "conditions": []}"#.to_owned(),
            "Invalid 'expiration' value: '2030-01-01'",
        ),
        (
            r#"{"expiration": 5, "conditions": []}"#.to_owned(),
            "Invalid 'expiration' value: '5'",
        ),
        (
            r#"{"expiration": "2030-01-01T00:00:00Z"}"#.to_owned(),
            "Policy missing conditions.",
        ),
        (
            r#"{"expiration": "2030-01-01T00:00:00Z", "conditions": {}}"#.to_owned(),
            "Invalid 'conditions' value: must be a List.",
        ),
        (
            with(r#"{"a": "1", "b": "2"}"#),
            "Invalid Simple-Condition: Simple-Conditions must have exactly one property \
             specified.",
        ),
        (
            with(r#"{"success_action_status": 201}"#),
            "Invalid Simple-Condition: value must be a string.",
        ),
        (
            with("7"),
            "Invalid condition test: must be a List or Object.",
        ),
        (
            with("[]"),
            "Invalid Condition: missing operation identifier.",
        ),
        (
            with(r#"["contains", "$key", "a"]"#),
            "Invalid Condition: unknown operation 'contains'.",
        ),
        (
            with(r#"["eq", "$key"]"#),
            "Invalid eq: wrong number of arguments.",
        ),
        (
            with(r#"["content-length-range", 1]"#),
            "Invalid content-length-range: wrong number of arguments.",
        ),
        (with(r#"["eq", "$key", 1]"#), "Invalid JSON."),
        ("[".to_owned(), "Invalid JSON."),
    ];
    for (json, message) in cases {
        assert_eq!(
            parse_policy(&encode(&json)),
            Err(PostPolicyError::InvalidPolicyDocument(message.to_owned())),
            "{json}"
        );
    }
    assert_eq!(
        parse_policy("!!!"),
        Err(PostPolicyError::InvalidPolicyDocument(
            "invalid Base64 encoding.".to_owned()
        ))
    );
    // A field without `$` is a condition that fails, quoted as written.
    assert_eq!(
        parse_policy(&encode(&with(r#"["eq", "key", "a"]"#))),
        Err(PostPolicyError::ConditionFailed(
            "Policy Condition failed: [\"eq\", \"key\", \"a\"]".to_owned()
        ))
    );
}

#[test]
fn a_failed_condition_is_quoted_as_the_policy_wrote_it() {
    let json = r#"{"expiration": "2030-01-01T00:00:00Z",
        "conditions": [["starts-with", "$Content-Type", "image/"], {"Key": "a"}]}"#;
    let policy = parse_policy(&encode(json)).unwrap();
    let form = fields(&[("content-type", "text/plain"), ("key", "a")]);
    assert_eq!(
        policy.check(&form, "b", 0),
        Err(PostPolicyError::ConditionFailed(
            "Policy Condition failed: [\"starts-with\", \"$Content-Type\", \"image/\"]".to_owned()
        ))
    );
    let form = fields(&[("content-type", "image/png"), ("key", "b")]);
    assert_eq!(
        policy.check(&form, "b", 0),
        Err(PostPolicyError::ConditionFailed(
            "Policy Condition failed: [\"eq\", \"$Key\", \"a\"]".to_owned()
        ))
    );
}

#[test]
fn sigv4_and_sigv2_form_signatures() {
    let policy = encode(POLICY);
    let ctx = AuthContext {
        region: "us-east-1",
        now_unix_secs: 0,
    };
    let key = crate::sigv4::derive_signing_key(EXAMPLE_SECRET_KEY, *b"20300101", "us-east-1", "s3");
    let signature = hex::encode(crate::sigv4::hmac_sha256(&key, policy.as_bytes()));
    let credential = format!("{EXAMPLE_ACCESS_KEY_ID}/20300101/us-east-1/s3/aws4_request");
    let mut form = fields(&[
        ("policy", &policy),
        ("x-amz-algorithm", "AWS4-HMAC-SHA256"),
        ("x-amz-credential", &credential),
        ("x-amz-date", "20300101T000000Z"),
        ("x-amz-signature", &signature),
    ]);
    assert_eq!(
        verify_signature(&form, &ctx, &example_store()).unwrap(),
        EXAMPLE_ACCESS_KEY_ID
    );
    form[4].value = "0".repeat(64);
    assert_eq!(
        verify_signature(&form, &ctx, &example_store()),
        Err(PostPolicyError::Signature(
            SigV4Error::SignatureDoesNotMatch
        ))
    );
    form.truncate(4);
    assert_eq!(
        verify_signature(&form, &ctx, &example_store()),
        Err(PostPolicyError::MissingField("x-amz-signature"))
    );
    let v2 = base64::engine::general_purpose::STANDARD.encode(crate::sigv2::hmac_sha1(
        EXAMPLE_SECRET_KEY.as_bytes(),
        policy.as_bytes(),
    ));
    let mut form = fields(&[
        ("policy", &policy),
        ("awsaccesskeyid", EXAMPLE_ACCESS_KEY_ID),
        ("signature", &v2),
    ]);
    assert_eq!(
        verify_signature(&form, &ctx, &example_store()).unwrap(),
        EXAMPLE_ACCESS_KEY_ID
    );
    form[2].value = "AAAA".to_owned();
    assert!(verify_signature(&form, &ctx, &example_store()).is_err());
}
