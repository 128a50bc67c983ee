//! `ListObjectVersions` response (`ListVersionsResult`), elements in the order of the AWS
//! examples. Versions and delete markers are written interleaved, in the order given: the
//! listing order (keys ascending, each key's versions newest first), as S3 answers.
//!
//! With `encoding-type=url` `Key`, `Prefix`, `Delimiter`, `KeyMarker`, `NextKeyMarker` and
//! `CommonPrefixes/Prefix` are URL-encoded and `<EncodingType>url` is echoed; version ids are
//! never encoded.

use super::list::{push_common_prefixes, push_encoding_type};
use super::uploads::push_party;
use super::{
    CommonPrefix, EncodingType, Owner, S3_XML_NAMESPACE, XML_DECLARATION, push_display_element,
    push_element, push_etag_element, push_key_element,
};
use crate::time_format::write_iso8601_millis;

/// One `<Version>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectVersion {
    pub key: String,
    /// `null` for objects written while versioning was never enabled.
    pub version_id: String,
    pub is_latest: bool,
    /// Unix milliseconds.
    pub last_modified_ms: i64,
    /// Without quotes; written quoted.
    pub etag: String,
    pub size_bytes: u64,
    pub storage_class: String,
    pub owner: Option<Owner>,
}

/// One `<DeleteMarker>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteMarkerEntry {
    pub key: String,
    pub version_id: String,
    pub is_latest: bool,
    /// Unix milliseconds: when the marker was written.
    pub last_modified_ms: i64,
    pub owner: Option<Owner>,
}

/// One entry of a versions listing: a version or a delete marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionEntry {
    Version(ObjectVersion),
    DeleteMarker(DeleteMarkerEntry),
}

/// `ListObjectVersions` response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListVersionsResult {
    pub name: String,
    /// The request's prefix (`""` when none); always written.
    pub prefix: String,
    /// The request's `key-marker` (`""` when none); always written.
    pub key_marker: String,
    /// The request's `version-id-marker` (`""` when none); always written.
    pub version_id_marker: String,
    /// Written when `Some` (truncated pages).
    pub next_key_marker: Option<String>,
    /// Written when `Some` (truncated pages that end with a version, not a common prefix).
    pub next_version_id_marker: Option<String>,
    pub max_keys: u32,
    /// Written when `Some`; an empty `delimiter=` means "no delimiter": pass `None`.
    pub delimiter: Option<String>,
    pub is_truncated: bool,
    pub encoding_type: Option<EncodingType>,
    /// Versions and delete markers in listing order.
    pub entries: Vec<VersionEntry>,
    pub common_prefixes: Vec<CommonPrefix>,
}

impl ListVersionsResult {
    pub fn to_xml(&self) -> String {
        let encoding = self.encoding_type;
        let mut out = String::with_capacity(512 + self.entries.len() * 384);
        out.push_str(XML_DECLARATION);
        out.push_str("<ListVersionsResult xmlns=\"");
        out.push_str(S3_XML_NAMESPACE);
        out.push_str("\">");
        push_element(&mut out, "Name", &self.name);
        push_key_element(&mut out, "Prefix", &self.prefix, encoding);
        push_key_element(&mut out, "KeyMarker", &self.key_marker, encoding);
        push_element(&mut out, "VersionIdMarker", &self.version_id_marker);
        if let Some(next) = &self.next_key_marker {
            push_key_element(&mut out, "NextKeyMarker", next, encoding);
        }
        if let Some(next) = &self.next_version_id_marker {
            push_element(&mut out, "NextVersionIdMarker", next);
        }
        push_display_element(&mut out, "MaxKeys", self.max_keys);
        if let Some(delimiter) = &self.delimiter {
            push_key_element(&mut out, "Delimiter", delimiter, encoding);
        }
        push_display_element(&mut out, "IsTruncated", self.is_truncated);
        push_encoding_type(&mut out, encoding);
        // Every entry names the bucket owner: rendered once, copied per entry.
        let mut owners = OwnerCache::default();
        for entry in &self.entries {
            match entry {
                VersionEntry::Version(version) => {
                    push_version(&mut out, version, encoding, &mut owners);
                }
                VersionEntry::DeleteMarker(marker) => {
                    push_marker(&mut out, marker, encoding, &mut owners);
                }
            }
        }
        push_common_prefixes(&mut out, &self.common_prefixes, encoding);
        out.push_str("</ListVersionsResult>");
        out
    }
}

/// The last `<Owner>` element rendered, and for whom.
#[derive(Default)]
struct OwnerCache {
    owner: Option<Owner>,
    xml: String,
}

impl OwnerCache {
    fn push(&mut self, out: &mut String, owner: &Owner) {
        if self.owner.as_ref() != Some(owner) {
            self.xml.clear();
            push_party(&mut self.xml, "Owner", owner);
            self.owner = Some(owner.clone());
        }
        out.push_str(&self.xml);
    }
}

fn push_version(
    out: &mut String,
    version: &ObjectVersion,
    encoding: Option<EncodingType>,
    owners: &mut OwnerCache,
) {
    out.push_str("<Version>");
    push_key_element(out, "Key", &version.key, encoding);
    push_element(out, "VersionId", &version.version_id);
    push_display_element(out, "IsLatest", version.is_latest);
    out.push_str("<LastModified>");
    write_iso8601_millis(out, version.last_modified_ms);
    out.push_str("</LastModified>");
    push_etag_element(out, &version.etag);
    push_display_element(out, "Size", version.size_bytes);
    push_element(out, "StorageClass", &version.storage_class);
    if let Some(owner) = &version.owner {
        owners.push(out, owner);
    }
    out.push_str("</Version>");
}

fn push_marker(
    out: &mut String,
    marker: &DeleteMarkerEntry,
    encoding: Option<EncodingType>,
    owners: &mut OwnerCache,
) {
    out.push_str("<DeleteMarker>");
    push_key_element(out, "Key", &marker.key, encoding);
    push_element(out, "VersionId", &marker.version_id);
    push_display_element(out, "IsLatest", marker.is_latest);
    out.push_str("<LastModified>");
    write_iso8601_millis(out, marker.last_modified_ms);
    out.push_str("</LastModified>");
    if let Some(owner) = &marker.owner {
        owners.push(out, owner);
    }
    out.push_str("</DeleteMarker>");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner() -> Owner {
        Owner {
            id: "i".to_owned(),
            display_name: "d".to_owned(),
        }
    }

    #[test]
    fn versions_and_markers_are_written_interleaved_in_order() {
        let marker = |key: &str, id: &str, latest| {
            VersionEntry::DeleteMarker(DeleteMarkerEntry {
                key: key.to_owned(),
                version_id: id.to_owned(),
                is_latest: latest,
                last_modified_ms: 1000,
                owner: Some(owner()),
            })
        };
        let result = ListVersionsResult {
            name: "b".to_owned(),
            prefix: "p".to_owned(),
            key_marker: String::new(),
            version_id_marker: String::new(),
            next_key_marker: Some("p x".to_owned()),
            next_version_id_marker: Some("null".to_owned()),
            max_keys: 3,
            delimiter: None,
            is_truncated: true,
            encoding_type: Some(EncodingType::Url),
            entries: vec![
                marker("p a", "v3", true),
                VersionEntry::Version(ObjectVersion {
                    key: "p x".to_owned(),
                    version_id: "null".to_owned(),
                    is_latest: false,
                    last_modified_ms: 0,
                    etag: "abc".to_owned(),
                    size_bytes: 3,
                    storage_class: "STANDARD".to_owned(),
                    owner: Some(owner()),
                }),
                marker("p x", "v1", false),
            ],
            common_prefixes: Vec::new(),
        };
        let xml = result.to_xml();
        let expected = "<Name>b</Name><Prefix>p</Prefix><KeyMarker></KeyMarker>\
            <VersionIdMarker></VersionIdMarker><NextKeyMarker>p%20x</NextKeyMarker>\
            <NextVersionIdMarker>null</NextVersionIdMarker><MaxKeys>3</MaxKeys>\
            <IsTruncated>true</IsTruncated><EncodingType>url</EncodingType>\
            <DeleteMarker><Key>p%20a</Key><VersionId>v3</VersionId><IsLatest>true</IsLatest>\
            <LastModified>1970-01-01T00:00:01.000Z</LastModified>\
            <Owner><ID>i</ID><DisplayName>d</DisplayName></Owner></DeleteMarker>\
            <Version><Key>p%20x</Key><VersionId>null</VersionId><IsLatest>false</IsLatest>\
            <LastModified>1970-01-01T00:00:00.000Z</LastModified>\
            <ETag>&quot;abc&quot;</ETag><Size>3</Size><StorageClass>STANDARD</StorageClass>\
            <Owner><ID>i</ID><DisplayName>d</DisplayName></Owner></Version>\
            <DeleteMarker><Key>p%20x</Key><VersionId>v1</VersionId><IsLatest>false</IsLatest>\
            <LastModified>1970-01-01T00:00:01.000Z</LastModified>\
            <Owner><ID>i</ID><DisplayName>d</DisplayName></Owner></DeleteMarker>\
            </ListVersionsResult>";
        assert!(xml.ends_with(expected), "{xml}");
    }
}
