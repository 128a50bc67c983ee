use crate::{
    ConditionKeys, Outcome, Policy, Principal, RequestContext, bucket_arn, evaluate, object_arn,
    parse_bucket_policy, parse_identity_policy,
};

const BUCKET: &str = "photos";

fn bucket_policy(document: &str) -> Policy {
    parse_bucket_policy(document, BUCKET).expect("valid bucket policy")
}

fn identity_policy(document: &str) -> Policy {
    parse_identity_policy(document).expect("valid identity policy")
}

fn alice() -> Principal {
    Principal::user("tenant1", "alice", "u-alice")
}

/// A request: the principal's own keys plus `extra` (key, value) pairs.
struct Request {
    action: &'static str,
    resource: String,
    principal: Principal,
    keys: ConditionKeys,
}

impl Request {
    fn new(action: &'static str, resource: String, principal: Principal) -> Request {
        let keys = ConditionKeys::for_principal(&principal);
        Request {
            action,
            resource,
            principal,
            keys,
        }
    }

    fn get(key: &str, principal: Principal) -> Request {
        Request::new("s3:GetObject", object_arn(BUCKET, key), principal)
    }

    fn with(mut self, key: &str, value: &str) -> Request {
        self.keys.insert(key, value);
        self
    }

    fn outcome(&self, policies: &[&Policy]) -> Outcome {
        evaluate(policies, &self.context()).outcome
    }

    fn context(&self) -> RequestContext<'_> {
        RequestContext {
            action: self.action,
            resource: &self.resource,
            principal: &self.principal,
            keys: &self.keys,
        }
    }
}

const PUBLIC_READ: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{
    "Sid": "PublicRead",
    "Effect": "Allow",
    "Principal": "*",
    "Action": ["s3:GetObject", "s3:GetObjectVersion"],
    "Resource": ["arn:aws:s3:::photos/*"]
  }]
}"#;

#[test]
fn public_read_allows_anonymous_get_only() {
    let policy = bucket_policy(PUBLIC_READ);
    let anonymous = Request::get("cat.jpg", Principal::anonymous());
    assert_eq!(anonymous.outcome(&[&policy]), Outcome::Allow);
    assert_eq!(
        Request::get("a/b.jpg", alice()).outcome(&[&policy]),
        Outcome::Allow
    );
    let put = Request::new(
        "s3:PutObject",
        object_arn(BUCKET, "x"),
        Principal::anonymous(),
    );
    assert_eq!(put.outcome(&[&policy]), Outcome::ImplicitDeny);
    let list = Request::new("s3:ListBucket", bucket_arn(BUCKET), Principal::anonymous());
    assert_eq!(list.outcome(&[&policy]), Outcome::ImplicitDeny);
    // Action names are case-insensitive on the request side too.
    let lower = Request::new(
        "s3:getobject",
        object_arn(BUCKET, "x"),
        Principal::anonymous(),
    );
    assert_eq!(lower.outcome(&[&policy]), Outcome::Allow);
}

#[test]
fn decision_names_the_deciding_statement() {
    let policy = bucket_policy(PUBLIC_READ);
    let request = Request::get("cat.jpg", Principal::anonymous());
    let decision = evaluate(&[&policy], &request.context());
    let deciding = decision.deciding.expect("a statement decided");
    assert_eq!(deciding.policy_idx, 0);
    assert_eq!(deciding.policy_label, BUCKET);
    assert_eq!(deciding.statement_idx, 0);
    assert_eq!(deciding.sid, Some("PublicRead"));
    assert!(decision.is_allowed());
}

#[test]
fn no_policy_is_an_implicit_deny() {
    let request = Request::get("cat.jpg", alice());
    let decision = evaluate(&[], &request.context());
    assert_eq!(decision.outcome, Outcome::ImplicitDeny);
    assert_eq!(decision.deciding, None);
}

const IP_RESTRICTED: &str = r#"{
  "Version": "2012-10-17",
  "Id": "S3PolicyId1",
  "Statement": [
    {
      "Sid": "IPAllow",
      "Effect": "Deny",
      "Principal": "*",
      "Action": "s3:*",
      "Resource": ["arn:aws:s3:::photos", "arn:aws:s3:::photos/*"],
      "Condition": {"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24", "2001:db8::/32"]}}
    },
    {
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::tenant1:user/alice"},
      "Action": "s3:*",
      "Resource": "arn:aws:s3:::photos/*"
    }
  ]
}"#;

#[test]
fn ip_restriction_denies_outside_addresses() {
    let policy = bucket_policy(IP_RESTRICTED);
    let inside = Request::get("k", alice()).with("aws:SourceIp", "192.0.2.10");
    assert_eq!(inside.outcome(&[&policy]), Outcome::Allow);
    let inside_v6 = Request::get("k", alice()).with("aws:SourceIp", "2001:db8::7");
    assert_eq!(inside_v6.outcome(&[&policy]), Outcome::Allow);
    let outside = Request::get("k", alice()).with("aws:SourceIp", "198.51.100.1");
    let decision = evaluate(&[&policy], &outside.context());
    assert_eq!(decision.outcome, Outcome::ExplicitDeny);
    assert_eq!(decision.deciding.map(|d| d.sid), Some(Some("IPAllow")));
    // NotIpAddress with the key absent is true: the deny applies.
    assert_eq!(
        Request::get("k", alice()).outcome(&[&policy]),
        Outcome::ExplicitDeny
    );
}

const TLS_ONLY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{
    "Sid": "AllowSSLRequestsOnly",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::photos", "arn:aws:s3:::photos/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}}
  }]
}"#;

#[test]
fn tls_only_denies_plain_http_and_beats_an_identity_allow() {
    let deny = bucket_policy(TLS_ONLY);
    let allow_all = identity_policy(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#,
    )
    .with_label("user:alice/FullAccess");
    let plain = Request::get("k", alice()).with("aws:SecureTransport", "false");
    let decision = evaluate(&[&allow_all, &deny], &plain.context());
    assert_eq!(decision.outcome, Outcome::ExplicitDeny);
    let deciding = decision.deciding.expect("deny");
    assert_eq!((deciding.policy_idx, deciding.policy_label), (1, BUCKET));
    let tls = Request::get("k", alice()).with("aws:SecureTransport", "true");
    let decision = evaluate(&[&allow_all, &deny], &tls.context());
    assert_eq!(decision.outcome, Outcome::Allow);
    assert_eq!(
        decision.deciding.map(|d| d.policy_label),
        Some("user:alice/FullAccess")
    );
    // The Bool test is false when the key is missing: no deny, and nothing allows.
    assert_eq!(
        Request::get("k", alice()).outcome(&[&deny]),
        Outcome::ImplicitDeny
    );
}

const HOME_PREFIX: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "ListOwnHome",
      "Effect": "Allow",
      "Action": "s3:ListBucket",
      "Resource": "arn:aws:s3:::photos",
      "Condition": {"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/*"]}}
    },
    {
      "Sid": "ObjectsInOwnHome",
      "Effect": "Allow",
      "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
      "Resource": "arn:aws:s3:::photos/home/${aws:username}/*"
    }
  ]
}"#;

#[test]
fn home_prefix_policy_limits_users_to_their_own_folder() {
    let policy = identity_policy(HOME_PREFIX);
    let bob = Principal::user("tenant1", "bob", "u-bob");
    let list = |principal: Principal, prefix: &str| {
        Request::new("s3:ListBucket", bucket_arn(BUCKET), principal).with("s3:prefix", prefix)
    };
    assert_eq!(
        list(alice(), "home/alice/").outcome(&[&policy]),
        Outcome::Allow
    );
    assert_eq!(
        list(alice(), "home/alice/2024/").outcome(&[&policy]),
        Outcome::Allow
    );
    assert_eq!(list(alice(), "").outcome(&[&policy]), Outcome::Allow);
    assert_eq!(
        list(alice(), "home/bob/").outcome(&[&policy]),
        Outcome::ImplicitDeny
    );
    assert_eq!(
        list(bob.clone(), "home/bob/").outcome(&[&policy]),
        Outcome::Allow
    );
    let no_prefix = Request::new("s3:ListBucket", bucket_arn(BUCKET), alice());
    assert_eq!(no_prefix.outcome(&[&policy]), Outcome::ImplicitDeny);
    assert_eq!(
        Request::get("home/alice/x.jpg", alice()).outcome(&[&policy]),
        Outcome::Allow
    );
    assert_eq!(
        Request::get("home/bob/x.jpg", alice()).outcome(&[&policy]),
        Outcome::ImplicitDeny
    );
    // Without aws:username (the account root), the variable resolves to nothing.
    let root = Principal::root("tenant1");
    assert_eq!(
        Request::get("home//x.jpg", root).outcome(&[&policy]),
        Outcome::ImplicitDeny
    );
}

#[test]
fn variables_are_literal_in_2008_documents() {
    let old = HOME_PREFIX.replace("2012-10-17", "2008-10-17");
    let policy = identity_policy(&old);
    let literal = Request::get("home/${aws:username}/x", alice());
    assert_eq!(literal.outcome(&[&policy]), Outcome::Allow);
    let expanded = Request::get("home/alice/x", alice());
    assert_eq!(expanded.outcome(&[&policy]), Outcome::ImplicitDeny);
}

const REQUIRE_SSE: &str = r#"{
  "Version": "2012-10-17",
  "Id": "PutObjPolicy",
  "Statement": [
    {
      "Sid": "DenyIncorrectEncryptionHeader",
      "Effect": "Deny",
      "Principal": "*",
      "Action": "s3:PutObject",
      "Resource": "arn:aws:s3:::photos/*",
      "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "AES256"}}
    },
    {
      "Sid": "DenyUnEncryptedObjectUploads",
      "Effect": "Deny",
      "Principal": "*",
      "Action": "s3:PutObject",
      "Resource": "arn:aws:s3:::photos/*",
      "Condition": {"Null": {"s3:x-amz-server-side-encryption": true}}
    },
    {
      "Effect": "Allow",
      "Principal": {"AWS": "tenant1"},
      "Action": "s3:PutObject",
      "Resource": "arn:aws:s3:::photos/*"
    }
  ]
}"#;

#[test]
fn uploads_without_sse_are_denied() {
    let policy = bucket_policy(REQUIRE_SSE);
    let put = || Request::new("s3:PutObject", object_arn(BUCKET, "k"), alice());
    let decision = evaluate(&[&policy], &put().context());
    assert_eq!(decision.outcome, Outcome::ExplicitDeny);
    // StringNotEquals on an absent key is true, so the first Deny already applies.
    assert_eq!(
        decision.deciding.and_then(|d| d.sid),
        Some("DenyIncorrectEncryptionHeader")
    );
    let wrong = put().with("s3:x-amz-server-side-encryption", "aws:kms");
    assert_eq!(wrong.outcome(&[&policy]), Outcome::ExplicitDeny);
    let right = put().with("s3:x-amz-server-side-encryption", "AES256");
    assert_eq!(right.outcome(&[&policy]), Outcome::Allow);
    // The account principal covers every user of tenant1, not other tenants.
    let stranger = Principal::user("tenant2", "alice", "u-x");
    let other = Request::new("s3:PutObject", object_arn(BUCKET, "k"), stranger)
        .with("s3:x-amz-server-side-encryption", "AES256");
    assert_eq!(other.outcome(&[&policy]), Outcome::ImplicitDeny);
}

#[test]
fn explicit_deny_wins_in_any_order() {
    let allow = bucket_policy(PUBLIC_READ);
    let deny = bucket_policy(
        r#"{"Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*",
        "Resource":"arn:aws:s3:::photos/secret/*"}}"#,
    );
    let secret = Request::get("secret/x", alice());
    assert_eq!(secret.outcome(&[&allow, &deny]), Outcome::ExplicitDeny);
    assert_eq!(secret.outcome(&[&deny, &allow]), Outcome::ExplicitDeny);
    let public = Request::get("public/x", alice());
    assert_eq!(public.outcome(&[&deny, &allow]), Outcome::Allow);
}

#[test]
fn not_action_applies_to_every_other_action() {
    let policy = identity_policy(
        r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"s3:*","Resource":"*"},
        {"Effect":"Deny","NotAction":["s3:Get*","s3:List*"],"Resource":"*"}]}"#,
    );
    assert_eq!(
        Request::get("k", alice()).outcome(&[&policy]),
        Outcome::Allow
    );
    let put = Request::new("s3:PutObject", object_arn(BUCKET, "k"), alice());
    assert_eq!(put.outcome(&[&policy]), Outcome::ExplicitDeny);
}

#[test]
fn not_resource_applies_to_every_other_resource() {
    let policy = identity_policy(
        r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"s3:GetObject",
         "NotResource":"arn:aws:s3:::photos/private/*"}]}"#,
    );
    assert_eq!(
        Request::get("public/k", alice()).outcome(&[&policy]),
        Outcome::Allow
    );
    assert_eq!(
        Request::get("private/k", alice()).outcome(&[&policy]),
        Outcome::ImplicitDeny
    );
}

#[test]
fn not_principal_deny_spares_the_named_principals() {
    let policy = bucket_policy(
        r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Principal":"*","Action":"s3:GetObject",
         "Resource":"arn:aws:s3:::photos/*"},
        {"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::tenant1:user/alice"]},
         "Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}]}"#,
    );
    assert_eq!(
        Request::get("k", alice()).outcome(&[&policy]),
        Outcome::Allow
    );
    let bob = Principal::user("tenant1", "bob", "u-bob");
    assert_eq!(
        Request::get("k", bob).outcome(&[&policy]),
        Outcome::ExplicitDeny
    );
    assert_eq!(
        Request::get("k", Principal::anonymous()).outcome(&[&policy]),
        Outcome::ExplicitDeny
    );
}

#[test]
fn principals_match_as_aws_defines_them() {
    let with_principal = |principal: &str| {
        bucket_policy(&format!(
            r#"{{"Statement":{{"Effect":"Allow","Principal":{principal},
            "Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}}}}"#
        ))
    };
    let cases = [
        (r#""*""#, true, true),
        (r#"{"AWS":"*"}"#, true, true),
        (r#"{"AWS":"tenant1"}"#, true, false),
        (r#"{"AWS":"arn:aws:iam::tenant1:root"}"#, true, false),
        (r#"{"AWS":"arn:aws:iam::tenant1:user/alice"}"#, true, false),
        (r#"{"AWS":"arn:aws:iam::tenant1:user/bob"}"#, false, false),
        (r#"{"AWS":"tenant2"}"#, false, false),
        (r#"{"Service":"logging.s3.amazonaws.com"}"#, false, false),
    ];
    for (principal, alice_allowed, anonymous_allowed) in cases {
        let policy = with_principal(principal);
        let outcome = |p: Principal| Request::get("k", p).outcome(&[&policy]) == Outcome::Allow;
        assert_eq!(outcome(alice()), alice_allowed, "alice, {principal}");
        assert_eq!(
            outcome(Principal::anonymous()),
            anonymous_allowed,
            "anonymous, {principal}"
        );
    }
    let mut canonical = alice();
    canonical.canonical_user_id = Some("c0ffee".to_owned());
    let policy = with_principal(r#"{"CanonicalUser":"c0ffee"}"#);
    assert_eq!(
        Request::get("k", canonical).outcome(&[&policy]),
        Outcome::Allow
    );
    assert_eq!(
        Request::get("k", alice()).outcome(&[&policy]),
        Outcome::ImplicitDeny
    );
}

#[test]
fn conditions_in_one_statement_are_all_required() {
    let policy = bucket_policy(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*",
        "Action":"s3:ListBucket","Resource":"arn:aws:s3:::photos",
        "Condition":{"StringEquals":{"s3:prefix":"public/","s3:delimiter":"/"},
                     "NumericLessThanEquals":{"s3:max-keys":"100"}}}}"#,
    );
    let list = || Request::new("s3:ListBucket", bucket_arn(BUCKET), Principal::anonymous());
    let all = list()
        .with("s3:prefix", "public/")
        .with("s3:delimiter", "/")
        .with("s3:max-keys", "50");
    assert_eq!(all.outcome(&[&policy]), Outcome::Allow);
    let too_many = list()
        .with("s3:prefix", "public/")
        .with("s3:delimiter", "/")
        .with("s3:max-keys", "1000");
    assert_eq!(too_many.outcome(&[&policy]), Outcome::ImplicitDeny);
    let no_delimiter = list().with("s3:prefix", "public/").with("s3:max-keys", "5");
    assert_eq!(no_delimiter.outcome(&[&policy]), Outcome::ImplicitDeny);
}

#[test]
fn time_window_uses_current_time() {
    let policy = bucket_policy(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*",
        "Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*",
        "Condition":{"DateGreaterThan":{"aws:CurrentTime":"2024-01-01T00:00:00Z"},
                     "DateLessThan":{"aws:CurrentTime":"2024-12-31T23:59:59Z"}}}}"#,
    );
    let at = |time: &str| {
        Request::get("k", Principal::anonymous())
            .with("aws:CurrentTime", time)
            .outcome(&[&policy])
    };
    assert_eq!(at("2024-06-01T00:00:00Z"), Outcome::Allow);
    assert_eq!(at("2025-06-01T00:00:00Z"), Outcome::ImplicitDeny);
    assert_eq!(at("2023-06-01T00:00:00Z"), Outcome::ImplicitDeny);
}

#[test]
fn existing_object_tag_conditions() {
    let policy = identity_policy(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject",
        "Resource":"arn:aws:s3:::photos/*",
        "Condition":{"StringEquals":{"s3:ExistingObjectTag/classification":"public"}}}}"#,
    );
    let tagged = Request::get("k", alice()).with("s3:ExistingObjectTag/classification", "public");
    assert_eq!(tagged.outcome(&[&policy]), Outcome::Allow);
    let secret = Request::get("k", alice()).with("s3:ExistingObjectTag/classification", "secret");
    assert_eq!(secret.outcome(&[&policy]), Outcome::ImplicitDeny);
}

#[test]
fn public_means_an_allow_to_everyone_without_a_narrowing_condition() {
    let statement = |principal: &str, condition: &str| {
        let condition = if condition.is_empty() {
            String::new()
        } else {
            format!(r#","Condition":{condition}"#)
        };
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{principal},
            "Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"{condition}}}]}}"#
        )
    };
    let public = |principal: &str, condition: &str| {
        bucket_policy(&statement(principal, condition)).is_public()
    };
    assert!(public(r#""*""#, ""));
    assert!(public(r#"{"AWS":"*"}"#, ""));
    assert!(public(r#"{"AWS":["tenant1","*"]}"#, ""));
    assert!(!public(r#"{"AWS":"tenant1"}"#, ""));
    assert!(!public(
        r#""*""#,
        r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#
    ));
    // Everyone but a range is still everyone.
    assert!(public(
        r#""*""#,
        r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#
    ));
    assert!(public(
        r#""*""#,
        r#"{"Bool":{"aws:SecureTransport":"true"}}"#
    ));
    let deny = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*",
        "Action":"s3:*","Resource":"arn:aws:s3:::photos/*"}]}"#;
    assert!(!bucket_policy(deny).is_public());
}

#[test]
fn a_policy_says_whether_it_reads_the_request_keys() {
    let plain = crate::parse_identity_policy(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*",
            "Resource":"*"}]}"#,
    )
    .unwrap();
    assert!(!plain.reads_keys());
    let variable = crate::parse_identity_policy(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject",
            "Resource":"arn:aws:s3:::b/home/${aws:username}/*"}]}"#,
    )
    .unwrap();
    assert!(variable.reads_keys());
    let conditioned = crate::parse_identity_policy(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*",
            "Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#,
    )
    .unwrap();
    assert!(conditioned.reads_keys());
    // Literal in a 2008-10-17 document: no variable, nothing read.
    let old = crate::parse_identity_policy(
        r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject",
            "Resource":"arn:aws:s3:::b/${aws:username}"}]}"#,
    )
    .unwrap();
    assert!(!old.reads_keys());
}

/// (document, bucket policy?, allows every S3 request, has a Deny)
const SHORTCUT_CASES: &[(&str, bool, bool, bool)] = &[
    (
        r#"{"Effect":"Allow","Action":"s3:*","Resource":"*"}"#,
        false,
        true,
        false,
    ),
    (
        r#"{"Effect":"Allow","Action":"*","Resource":["arn:aws:s3:::b","*"]}"#,
        false,
        true,
        false,
    ),
    (
        r#"{"Effect":"Allow","Action":"S3:*","Resource":"*"}"#,
        false,
        true,
        false,
    ),
    (
        r#"{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}"#,
        false,
        false,
        false,
    ),
    (
        r#"{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::*"}"#,
        false,
        false,
        false,
    ),
    (
        r#"{"Effect":"Allow","NotAction":"s3:Get*","Resource":"*"}"#,
        false,
        false,
        false,
    ),
    (
        r#"{"Effect":"Allow","Action":"s3:*","NotResource":"arn:aws:s3:::b"}"#,
        false,
        false,
        false,
    ),
    (
        r#"{"Effect":"Allow","Action":"s3:*","Resource":"*",
            "Condition":{"Bool":{"aws:SecureTransport":"true"}}}"#,
        false,
        false,
        false,
    ),
    (
        r#"{"Effect":"Deny","Action":"s3:*","Resource":"*"}"#,
        false,
        false,
        true,
    ),
    (
        r#"{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}"#,
        true,
        true,
        false,
    ),
    (
        r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::t:user/a"},"Action":"s3:*",
            "Resource":"*"}"#,
        true,
        false,
        false,
    ),
    (
        r#"{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::t:user/a"},"Action":"s3:*",
            "Resource":"*"}"#,
        true,
        false,
        false,
    ),
];

#[test]
fn a_policy_says_whether_it_allows_everything_and_whether_it_can_deny() {
    for &(statement, is_bucket, allows_everything, has_deny) in SHORTCUT_CASES {
        let document = format!(r#"{{"Version":"2012-10-17","Statement":[{statement}]}}"#);
        let policy = if is_bucket {
            parse_bucket_policy(&document, "b").unwrap()
        } else {
            identity_policy(&document)
        };
        assert_eq!(
            policy.allows_every_s3_request(),
            allows_everything,
            "{statement}"
        );
        assert_eq!(policy.has_deny(), has_deny, "{statement}");
    }
}

/// What the shortcut stands for: a policy that allows every S3 request allows any S3 action
/// on any resource when evaluated.
#[test]
fn a_policy_that_allows_everything_allows_every_action_when_evaluated() {
    let policy = identity_policy(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*",
            "Resource":"*"}]}"#,
    );
    assert!(policy.allows_every_s3_request());
    let principal = alice();
    let keys = ConditionKeys::new();
    for (action, _) in crate::actions::known_actions() {
        for resource in [
            "*".to_owned(),
            bucket_arn(BUCKET),
            object_arn(BUCKET, "a/b"),
        ] {
            let ctx = RequestContext {
                action,
                resource: &resource,
                principal: &principal,
                keys: &keys,
            };
            assert_eq!(
                evaluate(&[&policy], &ctx).outcome,
                Outcome::Allow,
                "{action}"
            );
        }
    }
}

#[test]
fn evaluating_policies_as_they_come_is_evaluating_their_slice() {
    let allow = identity_policy(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*",
            "Resource":"*"}]}"#,
    );
    let deny = bucket_policy(
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoDelete","Effect":"Deny","Principal":"*",
            "Action":"s3:DeleteObject","Resource":"arn:aws:s3:::photos/*"}]}"#,
    );
    let principal = alice();
    let keys = ConditionKeys::for_principal(&principal);
    let resource = object_arn(BUCKET, "cat.jpg");
    for action in ["s3:GetObject", "s3:DeleteObject", "s3:PutObject"] {
        let ctx = RequestContext {
            action,
            resource: &resource,
            principal: &principal,
            keys: &keys,
        };
        let owned = [Some(&allow), None, Some(&deny)];
        let each = crate::evaluate_each(owned.iter().flatten().copied(), &ctx);
        assert_eq!(each, evaluate(&[&allow, &deny], &ctx), "{action}");
    }
}
