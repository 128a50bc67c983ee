//! AWS Signature Version 2 verification, server side, for S3 (the "REST authentication" of the
//! S3 developer guide, which boto3 still uses for `signature_version='s3'` and for presigned
//! URLs by default).
//!
//! Header form: `Authorization: AWS AKID:base64(HMAC-SHA1(secret, StringToSign))`, with
//! `StringToSign = Method \n Content-MD5 \n Content-Type \n Date \n CanonicalizedAmzHeaders
//! CanonicalizedResource`; `Date` is empty when `x-amz-date` is sent (it is then part of the
//! amz headers). Query form: `AWSAccessKeyId`, `Expires` (Unix seconds, also the `Date` line),
//! `Signature`.
//!
//! `SigV2` does not sign the body: the payload is [`PayloadMode::Unsigned`]; a `Content-MD5`
//! header is signed and the body path verifies it.
//!
//! Architecture invariant: no IO; signatures compared with `subtle::ConstantTimeEq` after
//! decoding; every loop over client input is bounded by the caller's header and query limits.

#[cfg(test)]
mod tests;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

use crate::sigv4::{
    AUTHORIZATION_HEADER_BYTES_MAX, AuthContext, Authenticated, CLOCK_SKEW_SECS_MAX,
    CredentialStore, PRESIGNED_EXPIRES_SECS_MAX, PayloadMode, SigV4Error, SignedRequest,
    single_header,
};

type HmacSha1 = Hmac<Sha1>;

/// Query parameters that are part of the canonicalized resource (the "sub-resources" of the
/// S3 guide, plus the `response-*` overrides), as botocore's `HmacV1Auth` lists them.
const SUBRESOURCES: &[&str] = &[
    "accelerate",
    "acl",
    "analytics",
    "cors",
    "defaultObjectAcl",
    "delete",
    "inventory",
    "lifecycle",
    "location",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "partNumber",
    "policy",
    "replication",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "select",
    "select-type",
    "storageClass",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
];

/// Whether the request uses a `SigV2` shape: `Authorization: AWS ...` or `AWSAccessKeyId=` in
/// the query. Decided once, here, for both the dispatcher and the verifier.
pub fn is_sigv2(req: &SignedRequest<'_>) -> bool {
    let header = req.headers.iter().any(|(name, value)| {
        name.eq_ignore_ascii_case("authorization") && value.starts_with(b"AWS ")
    });
    header || query_pairs(req.raw_query).any(|(key, _)| key == b"AWSAccessKeyId")
}

fn query_pairs(raw_query: &str) -> impl Iterator<Item = (Vec<u8>, Vec<u8>)> + '_ {
    raw_query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .take(crate::sigv4::QUERY_PARAMETER_COUNT_MAX + 1)
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (
                percent_encoding::percent_decode(key.as_bytes()).collect(),
                percent_encoding::percent_decode(value.as_bytes()).collect(),
            )
        })
}

/// Verifies a `SigV2` request. `host_bucket` is the bucket named by a virtual-host `Host`
/// (the canonicalized resource then starts with `/bucket`).
pub fn authenticate(
    req: &SignedRequest<'_>,
    ctx: &AuthContext<'_>,
    host_bucket: Option<&str>,
    store: &impl CredentialStore,
) -> Result<Authenticated, SigV4Error> {
    let query: Vec<(Vec<u8>, Vec<u8>)> = query_pairs(req.raw_query).collect();
    if query.len() > crate::sigv4::QUERY_PARAMETER_COUNT_MAX {
        return Err(SigV4Error::TooManyQueryParameters);
    }
    let has_token = req
        .headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("x-amz-security-token"))
        || query.iter().any(|(key, _)| key == b"x-amz-security-token");
    let authorization =
        single_header(req.headers, "authorization").map_err(|()| header_malformed())?;
    let presigned = query.iter().any(|(key, _)| key == b"AWSAccessKeyId");
    let sigv4_query = query.iter().any(|(key, _)| {
        matches!(
            key.as_slice(),
            b"X-Amz-Signature" | b"X-Amz-Credential" | b"X-Amz-Algorithm"
        )
    });
    if sigv4_query {
        return Err(SigV4Error::MultipleAuthMechanisms);
    }
    let (access_key_id, signature, date_lines) = match (authorization, presigned) {
        (Some(_), true) => return Err(SigV4Error::MultipleAuthMechanisms),
        (Some(authorization), false) => parse_header(req, authorization, ctx)?,
        (None, true) => parse_query(&query, ctx)?,
        (None, false) => return Ok(Authenticated::Anonymous),
    };
    if has_token {
        return Err(SigV4Error::SessionTokenUnsupported);
    }
    let secret_key = store
        .secret_key(&access_key_id)
        .ok_or(SigV4Error::InvalidAccessKeyId)?;
    let resource = resource_path(req.raw_path, host_bucket);
    // A bucket-only path `/bucket` is also signed as `/bucket/` (botocore's `authPath`; the
    // S3 guide's virtual-host form).
    let slashed =
        (resource.len() > 1 && !resource[1..].contains('/')).then(|| resource.clone() + "/");
    // Bounded: at most two readings of the date (see `DateLines`) times two of the path.
    let mut result = Err(SigV4Error::SignatureDoesNotMatch);
    for path in std::iter::once(&resource).chain(slashed.as_ref()) {
        for (date_line, skip_amz_date) in date_lines.readings() {
            let string_to_sign = string_to_sign(req, &query, date_line, skip_amz_date, path)?;
            result = verify(secret_key, string_to_sign.as_bytes(), &signature);
            if result.is_ok() {
                break;
            }
        }
        if result.is_ok() {
            break;
        }
    }
    result?;
    check_operation_signed(&query)?;
    Ok(Authenticated::Signed {
        access_key_id,
        payload: PayloadMode::Unsigned,
    })
}

/// A `SigV2` signature covers only the [`SUBRESOURCES`] among the query parameters: a request
/// whose operation is chosen by another parameter (`?encryption` turning a signed
/// `CreateBucket` into `PutBucketEncryption`, `?attributes` a signed `GetObject` into
/// `GetObjectAttributes`) was not signed for that operation, and is refused.
fn check_operation_signed(query: &[(Vec<u8>, Vec<u8>)]) -> Result<(), SigV4Error> {
    for (key, _) in query {
        let Ok(name) = std::str::from_utf8(key) else {
            continue;
        };
        if crate::router::is_operation_parameter(name) && !SUBRESOURCES.contains(&name) {
            return Err(SigV4Error::UnsignedOperationParameter {
                name: name.to_owned(),
            });
        }
    }
    Ok(())
}

/// The `Date` line(s) a request may have been signed with.
struct DateLines {
    /// The documented rule: `Date` value, or empty when `x-amz-date` is sent (which is then
    /// signed among the amz headers); the `Expires` value for presigned URLs.
    primary: String,
    /// The S3 guide's DELETE example signs the `x-amz-date` value in the `Date` position and
    /// leaves it out of the amz headers; some old clients followed it.
    amz_date_in_date_line: Option<String>,
}

impl DateLines {
    fn readings(&self) -> impl Iterator<Item = (&str, bool)> {
        std::iter::once((self.primary.as_str(), false)).chain(
            self.amz_date_in_date_line
                .as_deref()
                .map(|line| (line, true)),
        )
    }
}

fn header_malformed() -> SigV4Error {
    SigV4Error::AuthorizationHeaderMalformed {
        expected_region: None,
    }
}

fn query_malformed() -> SigV4Error {
    SigV4Error::AuthorizationQueryParametersError {
        expected_region: None,
    }
}

/// `AWS AKID:signature`; checks the request time against the clock (15 minutes).
fn parse_header(
    req: &SignedRequest<'_>,
    authorization: &[u8],
    ctx: &AuthContext<'_>,
) -> Result<(String, Vec<u8>, DateLines), SigV4Error> {
    if authorization.len() > AUTHORIZATION_HEADER_BYTES_MAX {
        return Err(header_malformed());
    }
    let text = std::str::from_utf8(authorization).map_err(|_| header_malformed())?;
    let credentials = text
        .strip_prefix("AWS ")
        .ok_or_else(header_malformed)?
        .trim();
    let (access_key_id, signature) = credentials.rsplit_once(':').ok_or_else(header_malformed)?;
    if access_key_id.is_empty() || signature.is_empty() {
        return Err(header_malformed());
    }
    let amz_date = single_header(req.headers, "x-amz-date").map_err(|()| header_malformed())?;
    let date = single_header(req.headers, "date").map_err(|()| header_malformed())?;
    let text = |value: &[u8]| -> Result<String, SigV4Error> {
        let line = std::str::from_utf8(value).map_err(|_| SigV4Error::DateMissingOrInvalid)?;
        Ok(line.trim().to_owned())
    };
    let (request_time, date_lines) = match (amz_date, date) {
        // With x-amz-date the Date line is empty: the value is signed among the amz headers.
        (Some(value), _) => (
            value,
            DateLines {
                primary: String::new(),
                amz_date_in_date_line: Some(text(value)?),
            },
        ),
        (None, Some(value)) => (
            value,
            DateLines {
                primary: text(value)?,
                amz_date_in_date_line: None,
            },
        ),
        (None, None) => return Err(SigV4Error::DateMissingOrInvalid),
    };
    let request_time = std::str::from_utf8(request_time)
        .ok()
        .and_then(|value| crate::time_format::parse_request_date(value.trim()))
        .ok_or(SigV4Error::DateMissingOrInvalid)?;
    if (ctx.now_unix_secs - request_time).abs() > CLOCK_SKEW_SECS_MAX {
        return Err(SigV4Error::RequestTimeTooSkewed);
    }
    Ok((
        access_key_id.to_owned(),
        signature.as_bytes().to_vec(),
        date_lines,
    ))
}

/// `AWSAccessKeyId`, `Expires`, `Signature`: each exactly once; `Expires` not in the past
/// and at most 7 days ahead.
fn parse_query(
    query: &[(Vec<u8>, Vec<u8>)],
    ctx: &AuthContext<'_>,
) -> Result<(String, Vec<u8>, DateLines), SigV4Error> {
    let find = |name: &[u8]| -> Result<&[u8], SigV4Error> {
        let mut values = query.iter().filter(|(key, _)| key == name);
        let (Some((_, value)), None) = (values.next(), values.next()) else {
            return Err(query_malformed());
        };
        Ok(value.as_slice())
    };
    let access_key_id = std::str::from_utf8(find(b"AWSAccessKeyId")?)
        .map_err(|_| query_malformed())?
        .to_owned();
    let expires = std::str::from_utf8(find(b"Expires")?).map_err(|_| query_malformed())?;
    let signature = find(b"Signature")?.to_vec();
    if expires.is_empty() || expires.len() > 12 || !expires.bytes().all(|b| b.is_ascii_digit()) {
        return Err(query_malformed());
    }
    let expires_unix_secs: i64 = expires.parse().map_err(|_| query_malformed())?;
    if access_key_id.is_empty() {
        return Err(query_malformed());
    }
    if expires_unix_secs < ctx.now_unix_secs {
        return Err(SigV4Error::ExpiredPresignedRequest);
    }
    // SigV2 URLs name an absolute expiry; as for SigV4's `X-Amz-Expires`, no URL may stay
    // valid for more than 7 days from now (a leaked URL must die within a week).
    if expires_unix_secs - ctx.now_unix_secs > PRESIGNED_EXPIRES_SECS_MAX {
        return Err(query_malformed());
    }
    let date_lines = DateLines {
        primary: expires.to_owned(),
        amz_date_in_date_line: None,
    };
    Ok((access_key_id, signature, date_lines))
}

/// The `SigV2` string-to-sign.
fn string_to_sign(
    req: &SignedRequest<'_>,
    query: &[(Vec<u8>, Vec<u8>)],
    date_line: &str,
    skip_amz_date: bool,
    resource_path: &str,
) -> Result<String, SigV4Error> {
    let header_text = |name: &str| -> Result<String, SigV4Error> {
        match single_header(req.headers, name).map_err(|()| header_malformed())? {
            Some(value) => Ok(String::from_utf8_lossy(value).trim().to_owned()),
            None => Ok(String::new()),
        }
    };
    let mut out = String::with_capacity(256);
    out.push_str(req.method);
    out.push('\n');
    out.push_str(&header_text("content-md5")?);
    out.push('\n');
    out.push_str(&header_text("content-type")?);
    out.push('\n');
    out.push_str(date_line);
    out.push('\n');
    canonical_amz_headers(req.headers, skip_amz_date, &mut out);
    canonical_resource(resource_path, query, &mut out)?;
    Ok(out)
}

/// `x-amz-*` headers: lowercase names, sorted, values of one name joined with `,`, each
/// line `name:value\n`.
fn canonical_amz_headers(headers: &[(&str, &[u8])], skip_amz_date: bool, out: &mut String) {
    let mut amz: Vec<(String, String)> = headers
        .iter()
        .filter(|(name, _)| name.len() > 6 && name.as_bytes()[..6].eq_ignore_ascii_case(b"x-amz-"))
        .filter(|(name, _)| !(skip_amz_date && name.eq_ignore_ascii_case("x-amz-date")))
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value);
            // Unfold: runs of whitespace become one space, as the S3 guide specifies.
            let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
            (name.to_ascii_lowercase(), value)
        })
        .collect();
    amz.sort_by(|left, right| left.0.cmp(&right.0));
    let mut idx = 0;
    while idx < amz.len() {
        let name = &amz[idx].0;
        out.push_str(name);
        out.push(':');
        let mut first = true;
        while idx < amz.len() && amz[idx].0 == *name {
            if !first {
                out.push(',');
            }
            out.push_str(&amz[idx].1);
            first = false;
            idx += 1;
        }
        out.push('\n');
    }
}

/// `[/bucket]` + the path as sent: the resource part of the canonicalized resource.
fn resource_path(raw_path: &str, host_bucket: Option<&str>) -> String {
    match host_bucket {
        Some(bucket) => format!("/{bucket}{raw_path}"),
        None => raw_path.to_owned(),
    }
}

/// The resource path + `?` sub-resources sorted by name, values decoded.
fn canonical_resource(
    resource_path: &str,
    query: &[(Vec<u8>, Vec<u8>)],
    out: &mut String,
) -> Result<(), SigV4Error> {
    out.push_str(resource_path);
    let mut subresources: Vec<(&str, &[u8], bool)> = Vec::new();
    for (key, value) in query {
        let Some(name) = SUBRESOURCES
            .iter()
            .find(|name| name.as_bytes() == key.as_slice())
        else {
            continue;
        };
        // `?acl` and `?acl=` differ in the raw query; both sign as `acl` (as botocore does).
        subresources.push((name, value.as_slice(), !value.is_empty()));
    }
    subresources.sort_by(|left, right| left.0.cmp(right.0));
    for (idx, (name, value, has_value)) in subresources.iter().enumerate() {
        out.push(if idx == 0 { '?' } else { '&' });
        out.push_str(name);
        if *has_value {
            out.push('=');
            out.push_str(std::str::from_utf8(value).map_err(|_| query_malformed())?);
        }
    }
    Ok(())
}

/// Compares `base64(HMAC-SHA1(secret, string_to_sign))` with the claimed signature in
/// constant time, after decoding the claim (a malformed claim never matches).
pub(crate) fn verify(
    secret_key: &str,
    string_to_sign: &[u8],
    claimed: &[u8],
) -> Result<(), SigV4Error> {
    let claimed = base64::engine::general_purpose::STANDARD
        .decode(claimed)
        .map_err(|_| SigV4Error::SignatureDoesNotMatch)?;
    let expected = hmac_sha1(secret_key.as_bytes(), string_to_sign);
    if claimed.len() == expected.len() && bool::from(expected.as_slice().ct_eq(&claimed)) {
        Ok(())
    } else {
        Err(SigV4Error::SignatureDoesNotMatch)
    }
}

pub(crate) fn hmac_sha1(key: &[u8], data: &[u8]) -> [u8; 20] {
    let mut mac = HmacSha1::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}
