//! XML bodies of the S3 API: writers for responses and strict, bounded parsers for requests.
//!
//! Types are plain data with public fields; writers return a `String` (or append to one) and
//! parsers take the whole body as bytes (the caller has already capped it at
//! `XML_BODY_BYTES_MAX` while reading). Nothing here does IO, looks at headers, or decides
//! what a parsed value means for storage: keys from request bodies are returned exactly as
//! decoded and must be validated by the caller (BAD-INPUTS.md P3).
//!
//! Escaping policy for text we write (see [`escape_into`]): `& < > " '` become entities;
//! tab, line feed and carriage return become character references (`&#x9;`, `&#xA;`,
//! `&#xD;`), so XML end-of-line normalisation cannot alter a key; characters that XML 1.0
//! cannot carry at all (other C0 controls such as U+0001, and U+FFFE / U+FFFF) become U+FFFD,
//! exactly as Go's `encoding/xml` (`MinIO`) does, so the document always parses. Clients that
//! need such keys byte-exact ask for `encoding-type=url` (boto3 always does).
//!
//! Parsing policy: UTF-8 only; no DOCTYPE (so no entity can be declared); only the five
//! predefined entities and character references; nesting at most `XML_DEPTH_MAX`; element
//! counts capped while parsing (1000 objects in Delete, 10,000 parts in
//! `CompleteMultipartUpload`); any namespace or none; unknown elements are `MalformedXML`.

mod access;
mod attributes;
mod bucket;
mod cors;
mod delete;
mod encryption;
mod lifecycle;
mod list;
mod multipart;
mod object_lock;
mod reader;
mod tagging;
mod uploads;
mod versioning;
mod versions;

use std::fmt::Write as _;

pub use access::{
    ACL_GRANTS_MAX, AccessControlPolicy, GranteeRef, OBJECT_OWNERSHIP_VALUES, PublicAccessBlock,
    access_control_policy_xml, ownership_controls_xml, parse_access_control_policy,
    parse_ownership_controls, parse_public_access_block, public_access_block_xml,
};
pub use bucket::{location_constraint_xml, parse_create_bucket_configuration};
pub use cors::{
    CORS_METHODS, CorsRule, cors_configuration_xml, parse_cors_configuration, validate_cors_rules,
};
pub use delete::{
    DeleteError, DeleteObjectsRequest, DeleteResult, Deleted, ObjectIdentifier, parse_delete,
};
pub use encryption::{BucketEncryption, bucket_encryption_xml, parse_bucket_encryption};
pub use lifecycle::{
    expiration_header_value, lifecycle_configuration_xml, lifecycle_error,
    parse_lifecycle_configuration,
};
pub use list::{
    Bucket, CommonPrefix, ListAllMyBucketsResult, ListObjectsV1Result, ListObjectsV2Result, Object,
    Owner,
};
pub use multipart::{
    CompleteMultipartUploadResult, CompletedPart, CopyObjectResult, CopyPartResult,
    InitiateMultipartUploadResult, check_part_order, parse_complete_multipart_upload,
};
pub use object_lock::{
    ObjectLockHeaders, check_retain_until_in_future, legal_hold_xml, object_lock_configuration_xml,
    parse_legal_hold, parse_object_lock_configuration, parse_object_lock_headers, parse_retention,
    retention_xml,
};

pub use attributes::{AttributesPart, GetObjectAttributesResult, ObjectParts};
pub use tagging::{TagTarget, parse_tagging, parse_tagging_header, tagging_xml, validate_tags};
pub use uploads::{ListMultipartUploadsResult, ListPartsResult, ListedPart, ListedUpload};
pub use versioning::{
    MfaDelete, VersioningConfiguration, VersioningStatus, bucket_versioning_xml,
    parse_versioning_configuration,
};
pub use versions::{DeleteMarkerEntry, ListVersionsResult, ObjectVersion, VersionEntry};

use crate::error::{S3Error, S3ErrorCode};

/// The S3 namespace, written on every response root element.
pub const S3_XML_NAMESPACE: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// The declaration every response starts with.
pub const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// Appends `text` escaped for XML element content or attribute values (policy in the module
/// docs).
pub fn escape_into(out: &mut String, text: &str) {
    // Runs of characters that need nothing are copied whole: listings escape every key, ETag
    // and name, and almost none of them hold a character to replace.
    let bytes = text.as_bytes();
    let mut clean_from = 0;
    let mut index = 0;
    while index < bytes.len() {
        let (replacement, width) = match bytes[index] {
            b'&' => ("&amp;", 1),
            b'<' => ("&lt;", 1),
            b'>' => ("&gt;", 1),
            b'"' => ("&quot;", 1),
            b'\'' => ("&apos;", 1),
            b'\t' => ("&#x9;", 1),
            b'\n' => ("&#xA;", 1),
            b'\r' => ("&#xD;", 1),
            0x00..=0x1f => ("\u{fffd}", 1),
            // U+FFFE and U+FFFF (EF BF BE, EF BF BF): not characters XML can carry.
            0xEF if bytes.get(index + 1) == Some(&0xBF)
                && matches!(bytes.get(index + 2), Some(0xBE | 0xBF)) =>
            {
                ("\u{fffd}", 3)
            }
            _ => {
                index += 1;
                continue;
            }
        };
        // Every boundary here is a character boundary: the bytes matched are ASCII or the
        // lead byte of a three-byte sequence.
        out.push_str(&text[clean_from..index]);
        out.push_str(replacement);
        index += width;
        clean_from = index;
    }
    out.push_str(&text[clean_from..]);
}

/// `text` escaped for XML (see [`escape_into`]).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, text);
    out
}

/// `encoding-type` of a listing request. Only `url` exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodingType {
    Url,
}

impl EncodingType {
    /// Parses the `encoding-type` query value: absent → `None`, `url` → `Url` (AWS compares
    /// case-insensitively), anything else → `InvalidArgument`.
    pub fn from_query(value: Option<&str>) -> Result<Option<EncodingType>, S3Error> {
        match value {
            None => Ok(None),
            Some(value) if value.eq_ignore_ascii_case("url") => Ok(Some(EncodingType::Url)),
            Some(value) => Err(S3Error::invalid_argument(
                "Invalid Encoding Method specified in Request",
                "encoding-type",
                value,
            )),
        }
    }
}

/// Appends `text` URL-encoded as listings with `encoding-type=url` carry it: every UTF-8
/// byte except unreserved characters (`A-Z a-z 0-9 - _ . ~`) and `/` becomes `%XX`
/// (uppercase hex); a space becomes `%20`, a plus `%2B`. botocore decodes with
/// `unquote_plus` and minio-go with `url.QueryUnescape`; both read this form back exactly.
pub fn url_encode_into(out: &mut String, text: &str) {
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
}

/// Appends `<name>escaped value</name>`. `name` is a static element name of ours.
pub(crate) fn push_element(out: &mut String, name: &str, value: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    escape_into(out, value);
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// Appends `<name>value</name>` for a value that needs no escaping (numbers, booleans).
pub(crate) fn push_display_element(out: &mut String, name: &str, value: impl std::fmt::Display) {
    let _ = write!(out, "<{name}>{value}</{name}>");
}

/// Appends `<name>value</name>`, URL-encoding the value first when `encoding` is `Url`.
pub(crate) fn push_key_element(
    out: &mut String,
    name: &str,
    value: &str,
    encoding: Option<EncodingType>,
) {
    match encoding {
        None => push_element(out, name, value),
        Some(EncodingType::Url) => {
            let mut encoded = String::with_capacity(value.len());
            url_encode_into(&mut encoded, value);
            push_element(out, name, &encoded);
        }
    }
}

/// Appends `<ETag>"etag"</ETag>`: the quotes are part of the S3 `ETag` value; `etag` is stored
/// without them (quotes already present are not doubled).
pub(crate) fn push_etag_element(out: &mut String, etag: &str) {
    let bare = strip_etag_quotes(etag);
    out.push_str("<ETag>&quot;");
    escape_into(out, bare);
    out.push_str("&quot;</ETag>");
}

/// `"abc"` → `abc`; an unquoted value is returned as is (s3cmd sends unquoted `ETags`).
pub fn strip_etag_quotes(etag: &str) -> &str {
    let trimmed = etag.trim();
    trimmed
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or(trimmed)
}

fn malformed_xml() -> S3Error {
    S3Error::new(S3ErrorCode::MalformedXML)
}

#[cfg(test)]
mod tests;
