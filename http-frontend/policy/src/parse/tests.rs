use crate::{
    BUCKET_POLICY_SIZE_BYTES_MAX, PolicyError, PolicyKind, parse_bucket_policy,
    parse_identity_policy,
};

const BUCKET: &str = "photos";

/// The AWS message a bucket policy for `photos` is refused with.
fn bucket_error(document: &str) -> String {
    parse_bucket_policy(document, BUCKET)
        .expect_err("refused")
        .to_string()
}

fn identity_error(document: &str) -> String {
    parse_identity_policy(document)
        .expect_err("refused")
        .to_string()
}

/// A bucket-policy document with one statement made of `fields`.
fn statement(fields: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{{{fields}}}]}}"#)
}

const ALLOW_GET: &str = r#""Effect":"Allow","Principal":"*","Action":"s3:GetObject",
    "Resource":"arn:aws:s3:::photos/*""#;

#[test]
fn valid_bucket_policy_is_compiled() {
    let policy = parse_bucket_policy(&statement(ALLOW_GET), BUCKET).expect("valid");
    assert_eq!(policy.kind(), PolicyKind::Bucket);
    assert_eq!(policy.statement_count(), 1);
    assert_eq!(policy.label(), BUCKET);
}

#[test]
fn statement_may_be_a_single_object() {
    let document = format!(r#"{{"Id":"P1","Statement":{{{ALLOW_GET}}}}}"#);
    let policy = parse_bucket_policy(&document, BUCKET).expect("valid");
    assert_eq!(policy.id(), Some("P1"));
    assert_eq!(policy.statement_count(), 1);
}

#[test]
fn not_json_is_refused_with_the_first_byte_message() {
    let message = "Policies must be valid JSON and the first byte must be '{'";
    for document in ["", "[]", "\"x\"", "{", "{\"Statement\": }", "x{}", "null"] {
        assert_eq!(bucket_error(document), message, "{document:?}");
    }
}

#[test]
fn missing_and_unknown_fields_are_named() {
    assert_eq!(
        bucket_error(r#"{"Version":"2012-10-17"}"#),
        "Missing required field Statement"
    );
    assert_eq!(
        bucket_error(r#"{"Version":"2012-10-17","Statement":[],"Extra":1}"#),
        "Unknown field Extra"
    );
    assert_eq!(
        bucket_error(&statement(&format!(r#"{ALLOW_GET},"Actions":"s3:*""#))),
        "Unknown field Actions"
    );
    let no_effect = r#""Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*""#;
    assert_eq!(
        bucket_error(&statement(no_effect)),
        "Missing required field Effect"
    );
    let no_principal =
        r#""Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*""#;
    assert_eq!(
        bucket_error(&statement(no_principal)),
        "Missing required field Principal"
    );
    let no_action = r#""Effect":"Allow","Principal":"*","Resource":"arn:aws:s3:::photos/*""#;
    assert_eq!(
        bucket_error(&statement(no_action)),
        "Missing required field Action"
    );
    let no_resource = r#""Effect":"Allow","Principal":"*","Action":"s3:GetObject""#;
    assert_eq!(
        bucket_error(&statement(no_resource)),
        "Missing required field Resource"
    );
}

#[test]
fn empty_statement_list_is_refused() {
    assert_eq!(
        bucket_error(r#"{"Version":"2012-10-17","Statement":[]}"#),
        "Could not parse the policy: Statement is empty!"
    );
}

#[test]
fn version_must_be_one_of_the_two() {
    let document = ALLOW_GET;
    for version in [r#""2012-10-18""#, "2012", r#""""#] {
        let text = format!(r#"{{"Version":{version},"Statement":{{{document}}}}}"#);
        assert_eq!(
            bucket_error(&text),
            "The policy must contain a valid version string"
        );
    }
    let old = format!(r#"{{"Version":"2008-10-17","Statement":{{{document}}}}}"#);
    assert!(parse_bucket_policy(&old, BUCKET).is_ok());
}

#[test]
fn effect_must_be_allow_or_deny() {
    let fields = ALLOW_GET.replace("Allow", "Alow");
    assert_eq!(bucket_error(&statement(&fields)), "Invalid effect: Alow");
    let fields = ALLOW_GET.replace("Allow", "allow");
    assert_eq!(bucket_error(&statement(&fields)), "Invalid effect: allow");
}

#[test]
fn invalid_actions_are_refused() {
    for action in [
        r#""s3:GetObjekt""#,
        r#""s3:Foo*""#,
        r#""GetObject""#,
        r#""s3:""#,
        r#""iam:CreateUser""#,
        r#""s3:Get Object""#,
        "[]",
        "3",
        r#"["s3:GetObject", 1]"#,
    ] {
        let fields = ALLOW_GET.replace(r#""s3:GetObject""#, action);
        assert_eq!(
            bucket_error(&statement(&fields)),
            "Policy has invalid action",
            "{action}"
        );
    }
}

#[test]
fn valid_actions_cover_wildcards_and_case() {
    for action in [
        r#""s3:*""#,
        r#""*""#,
        r#""s3:Get*""#,
        r#""s3:getobject""#,
        r#""S3:GetObject""#,
        r#""s3:GetObject?ersion""#,
        r#"["s3:GetObject","s3:GetObjectVersion"]"#,
    ] {
        let fields = ALLOW_GET.replace(r#""s3:GetObject""#, action);
        assert!(
            parse_bucket_policy(&statement(&fields), BUCKET).is_ok(),
            "{action}"
        );
    }
}

#[test]
fn invalid_principals_are_refused() {
    for principal in [
        r#""alice""#,
        r#"{"AWS":[]}"#,
        "{}",
        r#"{"AWS":"arn:aws:iam::123:group/devs"}"#,
        r#"{"AWS":"arn:aws:iam::123:user/*"}"#,
        r#"{"AWS":"arn:aws:iam::*:root"}"#,
        r#"{"AWS":"arn:aws:s3:::photos"}"#,
        r#"{"AWS":"acc ount"}"#,
        r#"{"Federated":"x"}"#,
        r#"{"CanonicalUser":""}"#,
        r#"{"AWS":3}"#,
        "3",
    ] {
        let fields =
            ALLOW_GET.replace(r#""Principal":"*""#, &format!(r#""Principal":{principal}"#));
        assert_eq!(
            bucket_error(&statement(&fields)),
            "Invalid principal in policy",
            "{principal}"
        );
    }
}

#[test]
fn valid_principals_are_accepted() {
    for principal in [
        r#"{"AWS":"*"}"#,
        r#"{"AWS":"123456789012"}"#,
        r#"{"AWS":"tenant-7"}"#,
        r#"{"AWS":"arn:aws:iam::123456789012:root"}"#,
        r#"{"AWS":["arn:aws:iam::123456789012:user/alice","arn:aws:iam::1:user/path/bob"]}"#,
        r#"{"AWS":"arn:aws:iam::123456789012:role/reader"}"#,
        r#"{"CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}"#,
        r#"{"Service":"logging.s3.amazonaws.com"}"#,
    ] {
        let fields =
            ALLOW_GET.replace(r#""Principal":"*""#, &format!(r#""Principal":{principal}"#));
        assert!(
            parse_bucket_policy(&statement(&fields), BUCKET).is_ok(),
            "{principal}"
        );
    }
}

#[test]
fn resources_must_be_in_the_policy_bucket() {
    for resource in [
        r#""arn:aws:s3:::videos/*""#,
        r#""arn:aws:s3:::photosx/*""#,
        r#""arn:aws:s3:::pho/*""#,
        r#""photos/*""#,
        r#""arn:aws:s3:::v*/*""#,
        r#""arn:aws:iam::1:user/x""#,
        "[]",
    ] {
        let fields = ALLOW_GET.replace(r#""arn:aws:s3:::photos/*""#, resource);
        assert_eq!(
            bucket_error(&statement(&fields)),
            "Policy has invalid resource",
            "{resource}"
        );
    }
    for resource in [
        r#""arn:aws:s3:::photos/a/*""#,
        r#""arn:aws:s3:::pho*/*""#,
        r#""*""#,
    ] {
        let fields = ALLOW_GET.replace(r#""arn:aws:s3:::photos/*""#, resource);
        assert!(
            parse_bucket_policy(&statement(&fields), BUCKET).is_ok(),
            "{resource}"
        );
    }
}

#[test]
fn action_must_apply_to_some_resource() {
    let message = "Action does not apply to any resource(s) in statement";
    let object_on_bucket = ALLOW_GET.replace("photos/*", "photos");
    assert_eq!(bucket_error(&statement(&object_on_bucket)), message);
    let list_on_objects = ALLOW_GET.replace("s3:GetObject", "s3:ListBucket");
    assert_eq!(bucket_error(&statement(&list_on_objects)), message);
    let mixed = ALLOW_GET.replace(r#""s3:GetObject""#, r#"["s3:GetObject","s3:ListBucket"]"#);
    assert_eq!(bucket_error(&statement(&mixed)), message);
    let both = mixed.replace(
        r#""arn:aws:s3:::photos/*""#,
        r#"["arn:aws:s3:::photos","arn:aws:s3:::photos/*"]"#,
    );
    assert!(parse_bucket_policy(&statement(&both), BUCKET).is_ok());
    // A wildcard action applies if any action it covers does.
    let wildcard = ALLOW_GET.replace("s3:GetObject", "s3:*");
    assert!(parse_bucket_policy(&statement(&wildcard), BUCKET).is_ok());
}

#[test]
fn element_and_its_negation_are_exclusive() {
    let fields = format!(r#"{ALLOW_GET},"NotAction":"s3:PutObject""#);
    assert_eq!(
        bucket_error(&statement(&fields)),
        "Statement has both Action and NotAction"
    );
    let fields = format!(r#"{ALLOW_GET},"NotPrincipal":{{"AWS":"1"}}"#);
    assert_eq!(
        bucket_error(&statement(&fields)),
        "Statement has both Principal and NotPrincipal"
    );
}

#[test]
fn condition_errors_are_reported() {
    let with = |condition: &str| statement(&format!(r#"{ALLOW_GET},"Condition":{condition}"#));
    assert_eq!(
        bucket_error(&with(r#"{"StringEqualz":{"s3:x-amz-acl":"private"}}"#)),
        "Invalid Condition operator"
    );
    assert_eq!(
        bucket_error(&with(r#"{"StringEquals":{"iam:PassedToService":"x"}}"#)),
        "Policy has an invalid condition key"
    );
    assert_eq!(
        bucket_error(&with(r#"{"StringEquals":{"nocolon":"x"}}"#)),
        "Policy has an invalid condition key"
    );
    assert!(
        bucket_error(&with(r#"{"IpAddress":{"aws:SourceIp":"300.1.1.1/8"}}"#))
            .starts_with("Invalid Condition value")
    );
    assert!(
        bucket_error(&with(r#"{"StringEquals":{"s3:x-amz-acl":[]}}"#))
            .starts_with("Invalid Condition value")
    );
    assert!(
        bucket_error(&with(r#"{"StringEquals":{"s3:x-amz-acl":null}}"#))
            .starts_with("Invalid Condition value")
    );
    // JSON booleans and numbers are condition values.
    let typed =
        with(r#"{"Bool":{"aws:SecureTransport":false},"NumericLessThan":{"s3:max-keys":10}}"#);
    assert!(parse_bucket_policy(&typed, BUCKET).is_ok());
}

#[test]
fn identity_policies_must_not_name_a_principal() {
    let document = statement(ALLOW_GET);
    assert_eq!(
        identity_error(&document),
        "Policy document should not specify a principal."
    );
    let without = statement(r#""Effect":"Allow","Action":"s3:*","Resource":"*""#);
    let policy = parse_identity_policy(&without).expect("valid");
    assert_eq!(policy.kind(), PolicyKind::Identity);
    // Identity policies may name any service's actions and any ARN.
    let other =
        statement(r#""Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::1:user/a""#);
    assert!(parse_identity_policy(&other).is_ok());
    let bad = statement(r#""Effect":"Allow","Action":"s3:*","Resource":"bucket/*""#);
    assert_eq!(identity_error(&bad), "Policy has invalid resource");
}

#[test]
fn identity_policy_sids_must_be_unique() {
    let one = r#"{"Sid":"A","Effect":"Allow","Action":"s3:*","Resource":"*"}"#;
    let document = format!(r#"{{"Version":"2012-10-17","Statement":[{one},{one}]}}"#);
    assert_eq!(
        identity_error(&document),
        "Statement IDs (SID) in a single policy must be unique."
    );
}

#[test]
fn size_limits_are_aws_limits() {
    let padding = " ".repeat(BUCKET_POLICY_SIZE_BYTES_MAX);
    let large = format!("{}{padding}", statement(ALLOW_GET));
    assert!(matches!(
        parse_bucket_policy(&large, BUCKET),
        Err(PolicyError::BucketPolicyTooLarge { .. })
    ));
    // IAM does not count white space.
    let spaced = format!(
        "{}{padding}",
        statement(r#""Effect":"Allow","Action":"s3:*","Resource":"*""#)
    );
    assert!(parse_identity_policy(&spaced).is_ok());
    let resources: Vec<String> = (0..400)
        .map(|i| format!(r#""arn:aws:s3:::bucket/{i:05}""#))
        .collect();
    let long = statement(&format!(
        r#""Effect":"Allow","Action":"s3:*","Resource":[{}]"#,
        resources.join(",")
    ));
    assert_eq!(
        identity_error(&long),
        "Cannot exceed quota for PolicySize: 6144"
    );
}

#[test]
fn statement_count_is_bounded() {
    let one = r#"{"Effect":"Allow","Action":"s3:*","Resource":"*"}"#;
    let many = vec![one; crate::STATEMENT_COUNT_MAX + 1].join(",");
    let document = format!(r#"{{"Statement":[{many}]}}"#);
    let error = crate::parse::parse(&document, PolicyKind::Identity, "").expect_err("refused");
    assert_eq!(error, PolicyError::TooManyStatements);
}

#[test]
fn field_types_are_checked() {
    assert_eq!(
        bucket_error(&statement(&format!(r#"{ALLOW_GET},"Sid":3"#))),
        "Policy has an invalid Sid"
    );
    assert_eq!(
        bucket_error(r#"{"Statement":"x"}"#),
        "Policy has an invalid Statement"
    );
    assert_eq!(
        bucket_error(r#"{"Id":[],"Statement":[]}"#),
        "Policy has an invalid Id"
    );
}
