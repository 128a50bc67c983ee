//! Listing responses: `ListBuckets` (`ListAllMyBucketsResult`) and `ListObjects` v1 / v2
//! (`ListBucketResult`).
//!
//! With `encoding-type=url` the key-like fields (`Key`, `Prefix`, `Delimiter`, `StartAfter`,
//! `Marker`, `NextMarker`, `CommonPrefixes/Prefix`) are URL-encoded and `<EncodingType>url`
//! is echoed; continuation tokens are opaque and never encoded.

use super::{
    EncodingType, S3_XML_NAMESPACE, XML_DECLARATION, push_display_element, push_element,
    push_etag_element, push_key_element,
};
use crate::time_format::write_iso8601_millis;

/// A bucket or object owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub id: String,
    pub display_name: String,
}

impl Owner {
    fn push_xml(&self, out: &mut String) {
        out.push_str("<Owner>");
        push_element(out, "ID", &self.id);
        push_element(out, "DisplayName", &self.display_name);
        out.push_str("</Owner>");
    }
}

/// One bucket in `ListBuckets`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    pub name: String,
    /// Creation time, unix milliseconds.
    pub creation_date_ms: i64,
    /// `<BucketRegion>`, written when `Some`.
    pub bucket_region: Option<String>,
}

/// `ListBuckets` response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListAllMyBucketsResult {
    pub owner: Owner,
    pub buckets: Vec<Bucket>,
    /// Written when `Some` (paginated `ListBuckets`).
    pub continuation_token: Option<String>,
    /// Written when `Some` (`ListBuckets` with `prefix`).
    pub prefix: Option<String>,
}

impl ListAllMyBucketsResult {
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(256 + self.buckets.len() * 128);
        out.push_str(XML_DECLARATION);
        out.push_str("<ListAllMyBucketsResult xmlns=\"");
        out.push_str(S3_XML_NAMESPACE);
        out.push_str("\">");
        self.owner.push_xml(&mut out);
        out.push_str("<Buckets>");
        for bucket in &self.buckets {
            out.push_str("<Bucket>");
            push_element(&mut out, "Name", &bucket.name);
            out.push_str("<CreationDate>");
            write_iso8601_millis(&mut out, bucket.creation_date_ms);
            out.push_str("</CreationDate>");
            if let Some(region) = &bucket.bucket_region {
                push_element(&mut out, "BucketRegion", region);
            }
            out.push_str("</Bucket>");
        }
        out.push_str("</Buckets>");
        if let Some(token) = &self.continuation_token {
            push_element(&mut out, "ContinuationToken", token);
        }
        if let Some(prefix) = &self.prefix {
            push_element(&mut out, "Prefix", prefix);
        }
        out.push_str("</ListAllMyBucketsResult>");
        out
    }
}

/// One object (`<Contents>`) in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub key: String,
    /// Unix milliseconds.
    pub last_modified_ms: i64,
    /// Without quotes (`d41d8cd98f00b204e9800998ecf8427e`, or `<hex>-<parts>`); written quoted.
    pub etag: String,
    pub size_bytes: u64,
    /// `STANDARD` unless the object says otherwise.
    pub storage_class: String,
    /// Written when `Some`: always in v1, with `fetch-owner=true` in v2.
    pub owner: Option<Owner>,
    /// `<ChecksumAlgorithm>` (`CRC32`, `CRC64NVME`, ...), written when `Some`.
    pub checksum_algorithm: Option<String>,
}

impl Object {
    fn push_xml(&self, out: &mut String, encoding: Option<EncodingType>) {
        out.push_str("<Contents>");
        push_key_element(out, "Key", &self.key, encoding);
        out.push_str("<LastModified>");
        write_iso8601_millis(out, self.last_modified_ms);
        out.push_str("</LastModified>");
        push_etag_element(out, &self.etag);
        if let Some(algorithm) = &self.checksum_algorithm {
            push_element(out, "ChecksumAlgorithm", algorithm);
        }
        push_display_element(out, "Size", self.size_bytes);
        if let Some(owner) = &self.owner {
            owner.push_xml(out);
        }
        push_element(out, "StorageClass", &self.storage_class);
        out.push_str("</Contents>");
    }
}

/// A rolled-up prefix (`<CommonPrefixes><Prefix>..</Prefix></CommonPrefixes>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommonPrefix {
    pub prefix: String,
}

pub(super) fn push_common_prefixes(
    out: &mut String,
    prefixes: &[CommonPrefix],
    encoding: Option<EncodingType>,
) {
    for common_prefix in prefixes {
        out.push_str("<CommonPrefixes>");
        push_key_element(out, "Prefix", &common_prefix.prefix, encoding);
        out.push_str("</CommonPrefixes>");
    }
}

pub(super) fn push_encoding_type(out: &mut String, encoding: Option<EncodingType>) {
    if encoding == Some(EncodingType::Url) {
        push_element(out, "EncodingType", "url");
    }
}

/// `ListObjectsV2` response (`ListBucketResult`). `KeyCount` is computed as
/// `contents.len() + common_prefixes.len()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListObjectsV2Result {
    pub name: String,
    /// The request's prefix (`""` when none); always written.
    pub prefix: String,
    /// Written when `Some`; an empty `delimiter=` means "no delimiter": pass `None`.
    pub delimiter: Option<String>,
    pub max_keys: u32,
    pub is_truncated: bool,
    pub continuation_token: Option<String>,
    pub next_continuation_token: Option<String>,
    pub start_after: Option<String>,
    pub encoding_type: Option<EncodingType>,
    pub contents: Vec<Object>,
    pub common_prefixes: Vec<CommonPrefix>,
}

impl ListObjectsV2Result {
    pub fn to_xml(&self) -> String {
        let encoding = self.encoding_type;
        let mut out = String::with_capacity(512 + self.contents.len() * 256);
        out.push_str(XML_DECLARATION);
        out.push_str("<ListBucketResult xmlns=\"");
        out.push_str(S3_XML_NAMESPACE);
        out.push_str("\">");
        push_element(&mut out, "Name", &self.name);
        push_key_element(&mut out, "Prefix", &self.prefix, encoding);
        if let Some(token) = &self.continuation_token {
            push_element(&mut out, "ContinuationToken", token);
        }
        if let Some(token) = &self.next_continuation_token {
            push_element(&mut out, "NextContinuationToken", token);
        }
        push_display_element(
            &mut out,
            "KeyCount",
            self.contents.len() + self.common_prefixes.len(),
        );
        push_display_element(&mut out, "MaxKeys", self.max_keys);
        if let Some(delimiter) = &self.delimiter {
            push_key_element(&mut out, "Delimiter", delimiter, encoding);
        }
        push_display_element(&mut out, "IsTruncated", self.is_truncated);
        push_encoding_type(&mut out, encoding);
        if let Some(start_after) = &self.start_after {
            push_key_element(&mut out, "StartAfter", start_after, encoding);
        }
        for object in &self.contents {
            object.push_xml(&mut out, encoding);
        }
        push_common_prefixes(&mut out, &self.common_prefixes, encoding);
        out.push_str("</ListBucketResult>");
        out
    }
}

/// `ListObjects` (v1) response (`ListBucketResult`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListObjectsV1Result {
    pub name: String,
    pub prefix: String,
    /// The request's marker (`""` when none); always written.
    pub marker: String,
    /// Written when `Some`. AWS sends it only with a delimiter; without one, clients use the
    /// last key. Set it whenever `is_truncated` for clients that rely on it.
    pub next_marker: Option<String>,
    pub delimiter: Option<String>,
    pub max_keys: u32,
    pub is_truncated: bool,
    pub encoding_type: Option<EncodingType>,
    pub contents: Vec<Object>,
    pub common_prefixes: Vec<CommonPrefix>,
}

impl ListObjectsV1Result {
    pub fn to_xml(&self) -> String {
        let encoding = self.encoding_type;
        let mut out = String::with_capacity(512 + self.contents.len() * 256);
        out.push_str(XML_DECLARATION);
        out.push_str("<ListBucketResult xmlns=\"");
        out.push_str(S3_XML_NAMESPACE);
        out.push_str("\">");
        push_element(&mut out, "Name", &self.name);
        push_key_element(&mut out, "Prefix", &self.prefix, encoding);
        push_key_element(&mut out, "Marker", &self.marker, encoding);
        if let Some(next_marker) = &self.next_marker {
            push_key_element(&mut out, "NextMarker", next_marker, encoding);
        }
        push_display_element(&mut out, "MaxKeys", self.max_keys);
        if let Some(delimiter) = &self.delimiter {
            push_key_element(&mut out, "Delimiter", delimiter, encoding);
        }
        push_display_element(&mut out, "IsTruncated", self.is_truncated);
        push_encoding_type(&mut out, encoding);
        for object in &self.contents {
            object.push_xml(&mut out, encoding);
        }
        push_common_prefixes(&mut out, &self.common_prefixes, encoding);
        out.push_str("</ListBucketResult>");
        out
    }
}
