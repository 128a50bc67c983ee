//! The AWS `SigV4` test suite shipped in the `aws-sigv4` crate (`aws-signing-test-suite/v4`),
//! verified with our server-side verifier in both header and query form.
//!
//! The suite targets a generic service (`service`), with its own `normalize` flag per case and
//! the body hash as payload hash; those differences are passed through [`VerifyProfile`], an
//! internal option that S3 mode never uses.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::super::{
    AuthContext, Authenticated, SigV4Error, SignedRequest, SigningKeyCache, VerifyProfile,
    authenticate_with_profile, parse_amz_date,
};
use super::TestStore;

/// Cases that do not apply to a server verifier, with the reason.
const EXCLUDED: &[(&str, &str, &str)] = &[
    (
        "double-encode-path",
        "both",
        "old-format case without context.json",
    ),
    (
        "double-url-encode",
        "both",
        "old-format case without context.json",
    ),
    (
        "post-sts-header-after",
        "query",
        "client quirk: token added to the query after signing (omit_session_token)",
    ),
];

/// Expected passes; a drop means a regression, a rise means this list needs updating.
const EXPECTED_HEADER_PASS_COUNT: usize = 38;
const EXPECTED_QUERY_PASS_COUNT: usize = 37;

fn suite_dir() -> PathBuf {
    let cargo_home = std::env::var_os("CARGO_HOME").map_or_else(
        || {
            PathBuf::from(std::env::var_os("HOME").expect("HOME or CARGO_HOME must be set"))
                .join(".cargo")
        },
        PathBuf::from,
    );
    let registry_src = cargo_home.join("registry").join("src");
    let mut candidates = Vec::new();
    for index in std::fs::read_dir(&registry_src)
        .unwrap_or_else(|error| panic!("{}: {error}", registry_src.display()))
    {
        let index = index.unwrap().path();
        for krate in std::fs::read_dir(&index).unwrap() {
            let krate = krate.unwrap().path();
            let name = krate.file_name().unwrap().to_string_lossy().into_owned();
            let suite = krate.join("aws-signing-test-suite").join("v4");
            if name.starts_with("aws-sigv4-1.") && suite.is_dir() {
                candidates.push(suite);
            }
        }
    }
    candidates.sort();
    candidates.pop().unwrap_or_else(|| {
        panic!(
            "aws-sigv4 test suite not found under {}; it is a dev-dependency of s3-proto, \
             run `cargo fetch`",
            registry_src.display()
        )
    })
}

/// A request parsed from the suite's `*.txt` format.
struct TextRequest {
    method: String,
    raw_path: String,
    raw_query: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

fn parse_request(text: &str) -> TextRequest {
    let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
    let mut lines = head.lines();
    let request_line = lines.next().unwrap();
    let (method, rest) = request_line.split_once(' ').unwrap();
    let target = rest.strip_suffix(" HTTP/1.1").unwrap();
    let (raw_path, raw_query) = target.split_once('?').unwrap_or((target, ""));
    let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            // obs-fold continuation: part of the previous header's value.
            let last = headers.last_mut().unwrap();
            last.1.extend_from_slice(b" ");
            last.1.extend_from_slice(line.trim().as_bytes());
            continue;
        }
        let (name, value) = line.split_once(':').unwrap();
        headers.push((name.to_owned(), value.as_bytes().to_vec()));
    }
    TextRequest {
        method: method.to_owned(),
        raw_path: raw_path.to_owned(),
        raw_query: raw_query.to_owned(),
        headers,
        body: body.as_bytes().to_vec(),
    }
}

struct Context {
    access_key_id: String,
    secret_key: String,
    region: String,
    service: String,
    normalize: bool,
    timestamp_unix_secs: i64,
    expiration_secs: i64,
}

/// Minimal extraction from `context.json` (flat string/bool/number fields).
fn json_field<'a>(json: &'a str, key: &str) -> &'a str {
    let start = json
        .find(&format!("\"{key}\""))
        .unwrap_or_else(|| panic!("{key} in {json}"));
    let after_colon = json[start..].split_once(':').unwrap().1.trim_start();
    if let Some(quoted) = after_colon.strip_prefix('"') {
        &quoted[..quoted.find('"').unwrap()]
    } else {
        let end = after_colon.find([',', '}', '\n']).unwrap();
        after_colon[..end].trim()
    }
}

fn parse_context(json: &str) -> Context {
    let timestamp = json_field(json, "timestamp").replace(['-', ':'], "");
    Context {
        access_key_id: json_field(json, "access_key_id").to_owned(),
        secret_key: json_field(json, "secret_access_key").to_owned(),
        region: json_field(json, "region").to_owned(),
        service: json_field(json, "service").to_owned(),
        normalize: json_field(json, "normalize") == "true",
        timestamp_unix_secs: parse_amz_date(&timestamp).unwrap(),
        expiration_secs: json_field(json, "expiration_in_seconds").parse().unwrap(),
    }
}

fn verify(
    request: &TextRequest,
    context: &Context,
    now_unix_secs: i64,
) -> Result<Authenticated, SigV4Error> {
    let header_refs: Vec<(&str, &[u8])> = request
        .headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_slice()))
        .collect();
    let req = SignedRequest {
        method: &request.method,
        raw_path: &request.raw_path,
        raw_query: &request.raw_query,
        headers: &header_refs,
    };
    let body_hash = hex::encode(Sha256::digest(&request.body));
    let profile = VerifyProfile {
        service: &context.service,
        normalize_path: context.normalize,
        default_payload_hash_hex: Some(&body_hash),
        accept_session_token: true,
        require_signed_amz_headers: false,
    };
    let ctx = AuthContext {
        region: &context.region,
        now_unix_secs,
    };
    let store = TestStore(vec![(
        context.access_key_id.clone(),
        context.secret_key.clone(),
    )]);
    authenticate_with_profile(&req, &ctx, &store, &mut SigningKeyCache::new(), &profile)
}

fn flip_last_hex_digit(signature: &str) -> String {
    let mut flipped = signature.to_owned();
    let last = if signature.ends_with('0') { "1" } else { "0" };
    flipped.replace_range(63..64, last);
    flipped
}

fn is_excluded(case: &str, form: &str) -> bool {
    EXCLUDED
        .iter()
        .any(|(name, forms, _)| *name == case && (*forms == "both" || *forms == form))
}

/// Verifies one form of one case; on success also checks that the two mutations are rejected.
fn check_form(case_dir: &Path, context: &Context, form: &str) -> Result<(), String> {
    let read = |name: &str| std::fs::read_to_string(case_dir.join(name));
    let signed = read(&format!("{form}-signed-request.txt")).map_err(|error| error.to_string())?;
    let signature = read(&format!("{form}-signature.txt")).map_err(|error| error.to_string())?;
    let signature = signature.trim();
    let request = parse_request(&signed);
    let result = verify(&request, context, context.timestamp_unix_secs);
    if !matches!(result, Ok(Authenticated::Signed { .. })) {
        return Err(format!("did not verify: {result:?}"));
    }
    let tampered = parse_request(&signed.replace(signature, &flip_last_hex_digit(signature)));
    let result = verify(&tampered, context, context.timestamp_unix_secs);
    if result.as_ref().err() != Some(&SigV4Error::SignatureDoesNotMatch) {
        return Err(format!("flipped signature accepted: {result:?}"));
    }
    let (late, expected) = if form == "header" {
        (
            context.timestamp_unix_secs + 16 * 60,
            SigV4Error::RequestTimeTooSkewed,
        )
    } else {
        (
            context.timestamp_unix_secs + context.expiration_secs + 1,
            SigV4Error::ExpiredPresignedRequest,
        )
    };
    let result = verify(&request, context, late);
    if result.as_ref().err() != Some(&expected) {
        return Err(format!(
            "late request not rejected as {expected:?}: {result:?}"
        ));
    }
    Ok(())
}

#[test]
fn aws_signing_test_suite_v4_verifies() {
    let dir = suite_dir();
    let mut case_dirs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    case_dirs.sort();
    assert!(
        case_dirs.len() >= 40,
        "{}: only {} cases",
        dir.display(),
        case_dirs.len()
    );
    let mut header_pass_count = 0;
    let mut query_pass_count = 0;
    let mut failures = Vec::new();
    for case_dir in &case_dirs {
        let case = case_dir.file_name().unwrap().to_string_lossy().into_owned();
        let context_json = std::fs::read_to_string(case_dir.join("context.json"));
        for form in ["header", "query"] {
            if is_excluded(&case, form) {
                continue;
            }
            let Ok(context_json) = &context_json else {
                failures.push(format!("{case}: no context.json"));
                continue;
            };
            let context = parse_context(context_json);
            match check_form(case_dir, &context, form) {
                Ok(()) if form == "header" => header_pass_count += 1,
                Ok(()) => query_pass_count += 1,
                Err(error) => failures.push(format!("{case} ({form}): {error}")),
            }
        }
    }
    println!(
        "aws-signing-test-suite v4 ({}): header {header_pass_count} passed, query \
         {query_pass_count} passed, {} excluded",
        dir.display(),
        EXCLUDED.len()
    );
    assert!(failures.is_empty(), "failures:\n{}", failures.join("\n"));
    assert_eq!(header_pass_count, EXPECTED_HEADER_PASS_COUNT);
    assert_eq!(query_pass_count, EXPECTED_QUERY_PASS_COUNT);
}
