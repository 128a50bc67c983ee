//! Browser POST uploads (`PostObject`): the form's signature over the base64 policy
//! (`SigV4`: `x-amz-algorithm`, `x-amz-credential`, `x-amz-date`, `x-amz-signature`; `SigV2`:
//! `AWSAccessKeyId`, `signature`) and the policy itself (`expiration` and `conditions`: exact
//! match `{"f": "v"}` / `["eq", "$f", "v"]`, `["starts-with", "$f", "prefix"]`,
//! `["content-length-range", min, max]`).
//!
//! Every form field except `policy`, the signature fields, `file` and `x-ignore-*` must be
//! named by a condition (as AWS requires), so a signed policy fixes what the form may set.
//!
//! Architecture invariant: no IO. Input is bounded by the caller (the form parser's limits);
//! the JSON reader also bounds its nesting depth.

#[cfg(test)]
mod tests;

use base64::Engine as _;
use subtle::ConstantTimeEq as _;

use crate::sigv4::{AuthContext, CredentialStore, SigV4Error};

/// Deepest JSON nesting a policy needs is 3 (object, `conditions` array, condition array).
const JSON_DEPTH_MAX: usize = 4;
/// Most conditions in one policy; real policies have fewer than 20.
pub const CONDITION_COUNT_MAX: usize = 64;

/// One form field (not the file), name lowercased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormField {
    pub name: String,
    pub value: String,
}

/// Why a POST upload was refused; the S3 code is chosen in the front end's error table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostPolicyError {
    /// A required field is missing (`policy` with a signature, `key`, signature fields).
    /// S3: 400 `InvalidArgument`.
    MissingField(&'static str),
    /// The policy is not base64 JSON of the documented shape (S3's text, after its
    /// "Invalid Policy: "). S3: 400 `InvalidPolicyDocument`.
    InvalidPolicyDocument(String),
    /// The policy's `expiration` is past. S3: 403 `AccessDenied`.
    Expired,
    /// A condition does not hold, or a field no condition names. S3: 403 `AccessDenied`.
    ConditionFailed(String),
    /// The signature fields did not verify (the `SigV4` error says how).
    Signature(SigV4Error),
}

/// A parsed policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostPolicy {
    pub expiration_unix_secs: i64,
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// Field (lowercase, without `$`) equals value. `written` is the field as the policy
    /// spells it (`$Content-Type`), which S3 quotes when the condition fails.
    Eq {
        field: String,
        written: String,
        value: String,
    },
    /// Field starts with prefix (`""`: any value).
    StartsWith {
        field: String,
        written: String,
        prefix: String,
    },
    /// The file's size in bytes is within `min..=max`.
    ContentLengthRange { min_bytes: u64, max_bytes: u64 },
}

/// Finds the field `name` (lowercase).
pub fn field<'a>(fields: &'a [FormField], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|field| field.name == name)
        .map(|field| field.value.as_str())
}

/// Verifies the form's signature over its `policy` field; returns the access key id.
pub fn verify_signature(
    fields: &[FormField],
    ctx: &AuthContext<'_>,
    store: &impl CredentialStore,
) -> Result<String, PostPolicyError> {
    let policy = field(fields, "policy").ok_or(PostPolicyError::MissingField("policy"))?;
    if let Some(access_key_id) = field(fields, "awsaccesskeyid") {
        let signature =
            field(fields, "signature").ok_or(PostPolicyError::MissingField("signature"))?;
        let secret = store
            .secret_key(access_key_id)
            .ok_or(PostPolicyError::Signature(SigV4Error::InvalidAccessKeyId))?;
        crate::sigv2::verify(secret, policy.as_bytes(), signature.as_bytes())
            .map_err(PostPolicyError::Signature)?;
        return Ok(access_key_id.to_owned());
    }
    let required =
        |name: &'static str| field(fields, name).ok_or(PostPolicyError::MissingField(name));
    let algorithm = required("x-amz-algorithm")?;
    let credential = required("x-amz-credential")?;
    let amz_date = required("x-amz-date")?;
    let signature = required("x-amz-signature")?;
    let malformed = || {
        PostPolicyError::Signature(SigV4Error::AuthorizationQueryParametersError {
            expected_region: None,
        })
    };
    if algorithm != "AWS4-HMAC-SHA256" {
        return Err(malformed());
    }
    let parts: Vec<&str> = credential.splitn(6, '/').collect();
    let [access_key_id, date, region, service, terminator] = parts.as_slice() else {
        return Err(malformed());
    };
    if *service != "s3" || *terminator != "aws4_request" || !amz_date.starts_with(date) {
        return Err(malformed());
    }
    let date: [u8; 8] = date.as_bytes().try_into().map_err(|_| malformed())?;
    if *region != ctx.region {
        return Err(PostPolicyError::Signature(
            SigV4Error::AuthorizationQueryParametersError {
                expected_region: Some(ctx.region.to_owned()),
            },
        ));
    }
    let secret = store
        .secret_key(access_key_id)
        .ok_or(PostPolicyError::Signature(SigV4Error::InvalidAccessKeyId))?;
    let signing_key = crate::sigv4::derive_signing_key(secret, date, region, service);
    let expected = hex::encode(crate::sigv4::hmac_sha256(&signing_key, policy.as_bytes()));
    if signature.len() != 64 || !bool::from(expected.as_bytes().ct_eq(signature.as_bytes())) {
        return Err(PostPolicyError::Signature(
            SigV4Error::SignatureDoesNotMatch,
        ));
    }
    Ok((*access_key_id).to_owned())
}

/// Decodes and parses the base64 `policy` field. The error texts are S3's (after its
/// "Invalid Policy: " prefix); S3 does not document them. "value must be a string" is quoted
/// by users from S3; the others are what S3-compatible servers tested against S3 answer.
pub fn parse_policy(policy_base64: &str) -> Result<PostPolicy, PostPolicyError> {
    let invalid = |text: &str| PostPolicyError::InvalidPolicyDocument(text.to_owned());
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(policy_base64.trim())
        .map_err(|_| invalid("invalid Base64 encoding."))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| invalid("Invalid JSON."))?;
    let mut reader = JsonReader {
        bytes: text.as_bytes(),
        pos: 0,
    };
    let document = reader.value(0).ok_or_else(|| invalid("Invalid JSON."))?;
    reader.skip_space();
    if reader.pos != reader.bytes.len() {
        return Err(invalid("Invalid JSON."));
    }
    let Json::Object(members) = document else {
        return Err(invalid("Invalid JSON."));
    };
    let mut expiration = None;
    let mut conditions = None;
    for (name, value) in members {
        match name.as_str() {
            "expiration" => expiration = Some(value),
            "conditions" => conditions = Some(value),
            _ => return Err(invalid(&format!("Unexpected: \"{name}\""))),
        }
    }
    let expiration = expiration.ok_or_else(|| invalid("Policy missing expiration."))?;
    let expiration_unix_secs = parse_expiration(&expiration).ok_or_else(|| {
        invalid(&format!(
            "Invalid 'expiration' value: '{}'",
            expiration.as_text()
        ))
    })?;
    let Json::Array(items) = conditions.ok_or_else(|| invalid("Policy missing conditions."))?
    else {
        return Err(invalid("Invalid 'conditions' value: must be a List."));
    };
    if items.len() > CONDITION_COUNT_MAX {
        // Our bound, not S3's: a policy is read before its signature is known to be good.
        return Err(invalid("too many policy conditions"));
    }
    let conditions = items
        .into_iter()
        .map(parse_condition)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PostPolicy {
        expiration_unix_secs,
        conditions,
    })
}

/// An ISO 8601 date and time with a zone (`2030-01-01T00:00:00.000Z`, as S3 documents it).
/// A date alone or a time without a zone is refused, as S3 refuses them.
fn parse_expiration(value: &Json) -> Option<i64> {
    let Json::String(text) = value else {
        return None;
    };
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(time::OffsetDateTime::unix_timestamp)
}

fn parse_condition(item: Json) -> Result<Condition, PostPolicyError> {
    let invalid = |text: &str| PostPolicyError::InvalidPolicyDocument(text.to_owned());
    let parts = match item {
        Json::Object(members) => {
            let [(name, value)] = <[(String, Json); 1]>::try_from(members).map_err(|_| {
                invalid(
                    "Invalid Simple-Condition: Simple-Conditions must have exactly one \
                     property specified.",
                )
            })?;
            let Json::String(value) = value else {
                return Err(invalid("Invalid Simple-Condition: value must be a string."));
            };
            return Ok(Condition::Eq {
                field: name.to_ascii_lowercase(),
                written: format!("${name}"),
                value,
            });
        }
        Json::Array(parts) => parts,
        _ => return Err(invalid("Invalid condition test: must be a List or Object.")),
    };
    let Some(op) = parts.first() else {
        return Err(invalid("Invalid Condition: missing operation identifier."));
    };
    let Json::String(op) = op else {
        return Err(invalid("Invalid JSON."));
    };
    let op = op.clone();
    let lower = op.to_ascii_lowercase();
    if !matches!(
        lower.as_str(),
        "eq" | "starts-with" | "content-length-range"
    ) {
        return Err(invalid(&format!(
            "Invalid Condition: unknown operation '{op}'."
        )));
    }
    let Ok([_, first, second]) = <[Json; 3]>::try_from(parts) else {
        return Err(invalid(&format!(
            "Invalid {op}: wrong number of arguments."
        )));
    };
    if lower == "content-length-range" {
        let (Some(min_bytes), Some(max_bytes)) = (first.as_u64(), second.as_u64()) else {
            return Err(invalid("Invalid JSON."));
        };
        return Ok(Condition::ContentLengthRange {
            min_bytes,
            max_bytes,
        });
    }
    let (Json::String(written), Json::String(value)) = (first, second) else {
        return Err(invalid("Invalid JSON."));
    };
    // A field without `$` names no form field: S3 lets the policy parse and then fails the
    // condition (403), quoting it.
    let Some(field) = written.strip_prefix('$').map(str::to_ascii_lowercase) else {
        return Err(PostPolicyError::ConditionFailed(format!(
            "Policy Condition failed: [\"{op}\", \"{written}\", \"{value}\"]"
        )));
    };
    Ok(if lower == "eq" {
        Condition::Eq {
            field,
            written,
            value,
        }
    } else {
        Condition::StartsWith {
            field,
            written,
            prefix: value,
        }
    })
}

impl PostPolicy {
    /// Checks expiry, every condition against `fields` (with `bucket` as the `bucket` field)
    /// and that every field is named by a condition. Returns the allowed size range.
    pub fn check(
        &self,
        fields: &[FormField],
        bucket: &str,
        now_unix_secs: i64,
    ) -> Result<Option<(u64, u64)>, PostPolicyError> {
        if self.expiration_unix_secs < now_unix_secs {
            return Err(PostPolicyError::Expired);
        }
        let value_of = |name: &str| {
            if name == "bucket" {
                Some(bucket)
            } else {
                field(fields, name)
            }
        };
        let mut range = None;
        for condition in &self.conditions {
            let holds = match condition {
                Condition::Eq { field, value, .. } => value_of(field) == Some(value.as_str()),
                Condition::StartsWith { field, prefix, .. } => {
                    value_of(field).is_some_and(|value| starts_with(field, value, prefix))
                }
                Condition::ContentLengthRange {
                    min_bytes,
                    max_bytes,
                } => {
                    range = Some((*min_bytes, *max_bytes));
                    true
                }
            };
            if !holds {
                return Err(PostPolicyError::ConditionFailed(describe(condition)));
            }
        }
        for form_field in fields {
            if is_exempt(&form_field.name) {
                continue;
            }
            let named = self.conditions.iter().any(|condition| match condition {
                Condition::Eq { field, .. } | Condition::StartsWith { field, .. } => {
                    *field == form_field.name
                }
                Condition::ContentLengthRange { .. } => false,
            });
            if !named {
                return Err(PostPolicyError::ConditionFailed(format!(
                    "Extra input fields: {}",
                    form_field.name
                )));
            }
        }
        Ok(range)
    }
}

/// `starts-with` on `Content-Type` applies to each comma-separated value, as AWS documents.
fn starts_with(field: &str, value: &str, prefix: &str) -> bool {
    if field == "content-type" {
        return value.split(',').all(|part| part.trim().starts_with(prefix));
    }
    value.starts_with(prefix)
}

/// Fields that need no condition: the policy and signature fields, and `x-ignore-*`.
fn is_exempt(name: &str) -> bool {
    matches!(
        name,
        "policy" | "x-amz-signature" | "signature" | "awsaccesskeyid" | "file" | "bucket"
    ) || name.starts_with("x-ignore-")
}

fn describe(condition: &Condition) -> String {
    match condition {
        Condition::Eq { written, value, .. } => {
            format!("Policy Condition failed: [\"eq\", \"{written}\", \"{value}\"]")
        }
        Condition::StartsWith {
            written, prefix, ..
        } => {
            format!("Policy Condition failed: [\"starts-with\", \"{written}\", \"{prefix}\"]")
        }
        Condition::ContentLengthRange {
            min_bytes,
            max_bytes,
        } => {
            format!("Policy Condition failed: [\"content-length-range\", {min_bytes}, {max_bytes}]")
        }
    }
}

/// The JSON values a policy uses.
#[derive(Debug)]
enum Json {
    Object(Vec<(String, Json)>),
    Array(Vec<Json>),
    String(String),
    Number(String),
    Other,
}

impl Json {
    /// Integers may be written as numbers or strings (boto3 writes numbers; some SDKs quote).
    fn as_u64(&self) -> Option<u64> {
        match self {
            Json::Number(text) | Json::String(text) => text.parse().ok(),
            Json::Object(_) | Json::Array(_) | Json::Other => None,
        }
    }

    /// A scalar's text, for quoting it in an error; empty for anything else.
    fn as_text(&self) -> &str {
        match self {
            Json::Number(text) | Json::String(text) => text,
            Json::Object(_) | Json::Array(_) | Json::Other => "",
        }
    }
}

/// A small JSON reader: enough for policies, with depth bounded by [`JSON_DEPTH_MAX`].
struct JsonReader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl JsonReader<'_> {
    fn skip_space(&mut self) {
        while self
            .bytes
            .get(self.pos)
            .is_some_and(|b| b" \t\r\n".contains(b))
        {
            self.pos += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        self.skip_space();
        if self.bytes.get(self.pos) == Some(&byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Option<Json> {
        if depth >= JSON_DEPTH_MAX {
            return None;
        }
        self.skip_space();
        match self.bytes.get(self.pos)? {
            b'{' => {
                self.pos += 1;
                let mut members = Vec::new();
                if self.eat(b'}') {
                    return Some(Json::Object(members));
                }
                loop {
                    self.skip_space();
                    let name = self.string()?;
                    if !self.eat(b':') {
                        return None;
                    }
                    members.push((name, self.value(depth + 1)?));
                    if self.eat(b'}') {
                        return Some(Json::Object(members));
                    }
                    if !self.eat(b',') {
                        return None;
                    }
                }
            }
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                if self.eat(b']') {
                    return Some(Json::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    if self.eat(b']') {
                        return Some(Json::Array(items));
                    }
                    if !self.eat(b',') {
                        return None;
                    }
                }
            }
            b'"' => self.string().map(Json::String),
            b'-' | b'0'..=b'9' => {
                let start = self.pos;
                while self
                    .bytes
                    .get(self.pos)
                    .is_some_and(|b| b.is_ascii_digit() || b"-+.eE".contains(b))
                {
                    self.pos += 1;
                }
                let text = std::str::from_utf8(&self.bytes[start..self.pos]).ok()?;
                Some(Json::Number(text.to_owned()))
            }
            _ => {
                for word in [&b"true"[..], b"false", b"null"] {
                    if self.bytes[self.pos..].starts_with(word) {
                        self.pos += word.len();
                        return Some(Json::Other);
                    }
                }
                None
            }
        }
    }

    fn string(&mut self) -> Option<String> {
        if self.bytes.get(self.pos) != Some(&b'"') {
            return None;
        }
        self.pos += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let byte = *self.bytes.get(self.pos)?;
            self.pos += 1;
            match byte {
                b'"' => return String::from_utf8(out).ok(),
                b'\\' => {
                    let escaped = *self.bytes.get(self.pos)?;
                    self.pos += 1;
                    let simple = match escaped {
                        b'"' | b'\\' | b'/' => escaped,
                        b'b' => 8,
                        b'f' => 12,
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'u' => {
                            let hex = self.bytes.get(self.pos..self.pos + 4)?;
                            self.pos += 4;
                            let code =
                                u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
                            let ch = char::from_u32(code)?;
                            let mut buf = [0_u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                            continue;
                        }
                        _ => return None,
                    };
                    out.push(simple);
                }
                _ => out.push(byte),
            }
        }
    }
}
