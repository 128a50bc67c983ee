//! Policy evaluation, which the S3 front end runs on every request: a 20-statement bucket
//! policy with conditions against a GetObject (the target is 2 us), the same with a user
//! policy holding a policy variable (the one path that allocates), and no policy at all; and
//! what the condition keys cost around it: built into a `ConditionKeys` map per request (as
//! the server did) or read on demand through a `ConditionSource` (as it does now).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use policy::{
    ConditionKeys, ConditionSource, Outcome, Policy, Principal, RequestContext, Values, evaluate,
    object_arn, parse_bucket_policy, parse_identity_policy,
};

const BUCKET: &str = "media";

/// Twenty statements as a real bucket policy mixes them: denies over `s3:*` with conditions
/// every request must pass (TLS, source network, encryption on writes), grants to named
/// users and accounts on prefixes, and one public-read grant on a prefix, last.
fn twenty_statement_policy() -> String {
    let mut statements = vec![
        r#"{"Sid":"TlsOnly","Effect":"Deny","Principal":"*","Action":"s3:*",
           "Resource":["arn:aws:s3:::media","arn:aws:s3:::media/*"],
           "Condition":{"Bool":{"aws:SecureTransport":"false"}}}"#
            .to_owned(),
        r#"{"Sid":"Networks","Effect":"Deny","Principal":"*","Action":"s3:*",
           "Resource":["arn:aws:s3:::media","arn:aws:s3:::media/*"],
           "Condition":{"NotIpAddress":{"aws:SourceIp":
             ["10.0.0.0/8","192.168.0.0/16","203.0.113.0/24","2001:db8::/32"]}}}"#
            .to_owned(),
        r#"{"Sid":"Sse","Effect":"Deny","Principal":"*","Action":"s3:PutObject",
           "Resource":"arn:aws:s3:::media/*",
           "Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption":"AES256"}}}"#
            .to_owned(),
        r#"{"Sid":"Window","Effect":"Deny","Principal":"*","Action":"s3:*",
           "Resource":"arn:aws:s3:::media/*",
           "Condition":{"DateGreaterThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}}"#
            .to_owned(),
    ];
    for user in 0..15 {
        statements.push(format!(
            r#"{{"Sid":"User{user}","Effect":"Allow",
               "Principal":{{"AWS":"arn:aws:iam::tenant1:user/user{user}"}},
               "Action":["s3:PutObject","s3:DeleteObject","s3:GetObjectTagging"],
               "Resource":"arn:aws:s3:::media/users/user{user}/*",
               "Condition":{{"StringLike":{{"aws:UserAgent":["aws-sdk-*","Boto3/*"]}}}}}}"#
        ));
    }
    statements.push(
        r#"{"Sid":"PublicRead","Effect":"Allow","Principal":"*",
           "Action":["s3:GetObject","s3:GetObjectVersion"],
           "Resource":"arn:aws:s3:::media/public/*",
           "Condition":{"StringEquals":{"aws:PrincipalType":["Anonymous","User"]}}}"#
            .to_owned(),
    );
    assert_eq!(statements.len(), 20);
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        statements.join(",")
    )
}

fn get_object_keys(principal: &Principal) -> ConditionKeys {
    let mut keys = ConditionKeys::for_principal(principal);
    keys.insert("aws:SecureTransport", "true");
    keys.insert("aws:SourceIp", "10.1.2.3");
    keys.insert("aws:CurrentTime", "2026-03-01T12:00:00Z");
    keys.insert("aws:EpochTime", "1772366400");
    keys.insert("aws:UserAgent", "aws-sdk-rust/1.0");
    keys.insert("s3:signatureversion", "AWS4-HMAC-SHA256");
    keys.insert("s3:authType", "REST-HEADER");
    keys.insert("s3:x-amz-content-sha256", "UNSIGNED-PAYLOAD");
    keys
}

/// The request's keys read on demand, as the server's source does: borrowed from where the
/// request holds them, nothing built unless a statement reads it.
#[derive(Debug)]
struct OnDemand<'a> {
    principal: &'a Principal,
    user_agent: &'a str,
}

impl ConditionSource for OnDemand<'_> {
    fn values_lowercase(&self, key: &str) -> Option<Values<'_>> {
        if let Some(value) = self.principal.condition_value(key) {
            return Some(Values::One(value));
        }
        match key {
            "aws:securetransport" => Some(Values::One("true")),
            "aws:sourceip" => Some(Values::One("10.1.2.3")),
            "aws:currenttime" => Some(Values::One("2026-03-01T12:00:00Z")),
            "aws:useragent" => Some(Values::One(self.user_agent)),
            _ => None,
        }
    }
}

/// The resource ARN, then `evaluate` of a GetObject of `key` with `keys`.
fn get_object(
    policy: &Policy,
    principal: &Principal,
    keys: &dyn ConditionSource,
    key: &str,
) -> Outcome {
    let resource = object_arn(BUCKET, key);
    let ctx = RequestContext {
        action: "s3:GetObject",
        resource: &resource,
        principal,
        keys,
    };
    evaluate(&[policy], &ctx).outcome
}

/// The server's per-request work around evaluation: the keys (a map built per request, or a
/// source read on demand), the resource ARN, then `evaluate`.
fn keys_per_request(c: &mut Criterion) {
    let policy = parse_bucket_policy(&twenty_statement_policy(), BUCKET).expect("valid");
    let principal = Principal::user("tenant1", "user7", "u-7");
    let key = "public/photos/2026/03/cat.jpg";
    let mut group = c.benchmark_group("policy/request");
    group.bench_function("20 statements, keys built per request", |b| {
        b.iter(|| {
            let keys = get_object_keys(black_box(&principal));
            get_object(&policy, &principal, &keys, black_box(key))
        });
    });
    group.bench_function("20 statements, keys read on demand", |b| {
        b.iter(|| {
            let keys = OnDemand {
                principal: black_box(&principal),
                user_agent: "aws-sdk-rust/1.0",
            };
            get_object(&policy, &principal, &keys, black_box(key))
        });
    });
    group.finish();
}

fn bucket_policy(c: &mut Criterion) {
    let policy = parse_bucket_policy(&twenty_statement_policy(), BUCKET).expect("valid");
    let principal = Principal::user("tenant1", "user7", "u-7");
    let keys = get_object_keys(&principal);
    let resource = object_arn(BUCKET, "public/photos/2026/03/cat.jpg");
    let ctx = RequestContext {
        action: "s3:GetObject",
        resource: &resource,
        principal: &principal,
        keys: &keys,
    };
    assert_eq!(evaluate(&[&policy], &ctx).outcome, Outcome::Allow);
    let mut group = c.benchmark_group("policy/evaluate");
    group.bench_function("20-statement bucket policy, GetObject allowed", |b| {
        b.iter(|| evaluate(black_box(&[&policy]), black_box(&ctx)).outcome);
    });
    let denied_resource = object_arn(BUCKET, "private/report.pdf");
    let denied = RequestContext {
        resource: &denied_resource,
        ..ctx
    };
    assert_eq!(evaluate(&[&policy], &denied).outcome, Outcome::ImplicitDeny);
    group.bench_function(
        "20-statement bucket policy, GetObject implicitly denied",
        |b| {
            b.iter(|| evaluate(black_box(&[&policy]), black_box(&denied)).outcome);
        },
    );
    let home = parse_identity_policy(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject",
            "Resource":"arn:aws:s3:::media/users/${aws:username}/*"}}"#,
    )
    .expect("valid");
    let home_resource = object_arn(BUCKET, "users/user7/notes.txt");
    let home_ctx = RequestContext {
        resource: &home_resource,
        ..ctx
    };
    let both: [&Policy; 2] = [&policy, &home];
    assert_eq!(evaluate(&both, &home_ctx).outcome, Outcome::Allow);
    group.bench_function("bucket policy + user policy with ${aws:username}", |b| {
        b.iter(|| evaluate(black_box(&both), black_box(&home_ctx)).outcome);
    });
    group.bench_function("no policy", |b| {
        b.iter(|| evaluate(black_box(&[]), black_box(&ctx)).outcome);
    });
    group.finish();
}

fn parse(c: &mut Criterion) {
    let document = twenty_statement_policy();
    c.bench_function("policy/parse 20-statement bucket policy", |b| {
        b.iter(|| parse_bucket_policy(black_box(&document), BUCKET).expect("valid"));
    });
}

criterion_group!(benches, bucket_policy, keys_per_request, parse);
criterion_main!(benches);
