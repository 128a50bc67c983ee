//! Multipart listings: `ListParts` (`ListPartsResult`) and `ListMultipartUploads`
//! (`ListMultipartUploadsResult`), with elements in the order of the AWS examples.
//!
//! With `encoding-type=url` (`ListMultipartUploads` only) `Delimiter`, `KeyMarker`, `Prefix`,
//! `NextKeyMarker`, `Key` and `CommonPrefixes/Prefix` are URL-encoded and `<EncodingType>url`
//! is echoed; upload ids are never encoded.

use super::list::{push_common_prefixes, push_encoding_type};
use super::{
    CommonPrefix, EncodingType, Owner, S3_XML_NAMESPACE, XML_DECLARATION, push_display_element,
    push_element, push_etag_element, push_key_element,
};
use crate::time_format::write_iso8601_millis;

/// Appends `<name><ID>..</ID><DisplayName>..</DisplayName></name>` (`Owner`, `Initiator`).
pub(super) fn push_party(out: &mut String, name: &str, party: &Owner) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    push_element(out, "ID", &party.id);
    push_element(out, "DisplayName", &party.display_name);
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

fn push_time_element(out: &mut String, name: &str, unix_ms: i64) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    write_iso8601_millis(out, unix_ms);
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// One `<Part>` of `ListParts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedPart {
    pub part_number: u32,
    /// Unix milliseconds.
    pub last_modified_ms: i64,
    /// Without quotes; written quoted.
    pub etag: String,
    pub size_bytes: u64,
    /// (`ChecksumCRC32`-style element name, base64) when the part has an additional checksum.
    pub checksum: Option<(&'static str, String)>,
}

/// `ListParts` response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPartsResult {
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
    pub initiator: Owner,
    pub owner: Owner,
    pub storage_class: String,
    /// The request's `part-number-marker` (0 when none); always written.
    pub part_number_marker: u32,
    /// Written when `Some`: the last part listed, where the next page starts.
    pub next_part_number_marker: Option<u32>,
    pub max_parts: u32,
    pub is_truncated: bool,
    pub parts: Vec<ListedPart>,
}

impl ListPartsResult {
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(512 + self.parts.len() * 192);
        out.push_str(XML_DECLARATION);
        out.push_str("<ListPartsResult xmlns=\"");
        out.push_str(S3_XML_NAMESPACE);
        out.push_str("\">");
        push_element(&mut out, "Bucket", &self.bucket);
        push_element(&mut out, "Key", &self.key);
        push_element(&mut out, "UploadId", &self.upload_id);
        push_party(&mut out, "Initiator", &self.initiator);
        push_party(&mut out, "Owner", &self.owner);
        push_element(&mut out, "StorageClass", &self.storage_class);
        push_display_element(&mut out, "PartNumberMarker", self.part_number_marker);
        if let Some(next) = self.next_part_number_marker {
            push_display_element(&mut out, "NextPartNumberMarker", next);
        }
        push_display_element(&mut out, "MaxParts", self.max_parts);
        push_display_element(&mut out, "IsTruncated", self.is_truncated);
        for part in &self.parts {
            out.push_str("<Part>");
            push_display_element(&mut out, "PartNumber", part.part_number);
            push_time_element(&mut out, "LastModified", part.last_modified_ms);
            push_etag_element(&mut out, &part.etag);
            push_display_element(&mut out, "Size", part.size_bytes);
            if let Some((name, value)) = &part.checksum {
                push_element(&mut out, name, value);
            }
            out.push_str("</Part>");
        }
        out.push_str("</ListPartsResult>");
        out
    }
}

/// One `<Upload>` of `ListMultipartUploads`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedUpload {
    pub key: String,
    pub upload_id: String,
    pub initiator: Owner,
    pub owner: Owner,
    pub storage_class: String,
    /// Unix milliseconds.
    pub initiated_ms: i64,
}

/// `ListMultipartUploads` response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListMultipartUploadsResult {
    pub bucket: String,
    /// The request's `key-marker` (`""` when none); always written.
    pub key_marker: String,
    /// The request's `upload-id-marker` (`""` when none); always written.
    pub upload_id_marker: String,
    /// Written when `Some` (truncated pages).
    pub next_key_marker: Option<String>,
    /// Written when `Some` (truncated pages that end with an upload, not a common prefix).
    pub next_upload_id_marker: Option<String>,
    /// Written when `Some`; an empty `delimiter=` means "no delimiter": pass `None`.
    pub delimiter: Option<String>,
    /// The request's prefix (`""` when none); always written.
    pub prefix: String,
    pub max_uploads: u32,
    pub is_truncated: bool,
    pub encoding_type: Option<EncodingType>,
    pub uploads: Vec<ListedUpload>,
    pub common_prefixes: Vec<CommonPrefix>,
}

impl ListMultipartUploadsResult {
    pub fn to_xml(&self) -> String {
        let encoding = self.encoding_type;
        let mut out = String::with_capacity(512 + self.uploads.len() * 384);
        out.push_str(XML_DECLARATION);
        out.push_str("<ListMultipartUploadsResult xmlns=\"");
        out.push_str(S3_XML_NAMESPACE);
        out.push_str("\">");
        push_element(&mut out, "Bucket", &self.bucket);
        push_key_element(&mut out, "KeyMarker", &self.key_marker, encoding);
        push_element(&mut out, "UploadIdMarker", &self.upload_id_marker);
        if let Some(next) = &self.next_key_marker {
            push_key_element(&mut out, "NextKeyMarker", next, encoding);
        }
        if let Some(next) = &self.next_upload_id_marker {
            push_element(&mut out, "NextUploadIdMarker", next);
        }
        if let Some(delimiter) = &self.delimiter {
            push_key_element(&mut out, "Delimiter", delimiter, encoding);
        }
        push_key_element(&mut out, "Prefix", &self.prefix, encoding);
        push_display_element(&mut out, "MaxUploads", self.max_uploads);
        push_display_element(&mut out, "IsTruncated", self.is_truncated);
        push_encoding_type(&mut out, encoding);
        for upload in &self.uploads {
            out.push_str("<Upload>");
            push_key_element(&mut out, "Key", &upload.key, encoding);
            push_element(&mut out, "UploadId", &upload.upload_id);
            push_party(&mut out, "Initiator", &upload.initiator);
            push_party(&mut out, "Owner", &upload.owner);
            push_element(&mut out, "StorageClass", &upload.storage_class);
            push_time_element(&mut out, "Initiated", upload.initiated_ms);
            out.push_str("</Upload>");
        }
        push_common_prefixes(&mut out, &self.common_prefixes, encoding);
        out.push_str("</ListMultipartUploadsResult>");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner() -> Owner {
        Owner {
            id: "id1".to_owned(),
            display_name: "me".to_owned(),
        }
    }

    #[test]
    fn list_parts_writes_aws_elements_in_order() {
        let result = ListPartsResult {
            bucket: "b".to_owned(),
            key: "a&b".to_owned(),
            upload_id: "u1".to_owned(),
            initiator: owner(),
            owner: owner(),
            storage_class: "STANDARD".to_owned(),
            part_number_marker: 1,
            next_part_number_marker: Some(2),
            max_parts: 1,
            is_truncated: true,
            parts: vec![ListedPart {
                part_number: 2,
                last_modified_ms: 0,
                etag: "abc".to_owned(),
                size_bytes: 5,
                checksum: Some(("ChecksumCRC32", "AAAAAA==".to_owned())),
            }],
        };
        let xml = result.to_xml();
        let expected = "<Bucket>b</Bucket><Key>a&amp;b</Key><UploadId>u1</UploadId>\
            <Initiator><ID>id1</ID><DisplayName>me</DisplayName></Initiator>\
            <Owner><ID>id1</ID><DisplayName>me</DisplayName></Owner>\
            <StorageClass>STANDARD</StorageClass><PartNumberMarker>1</PartNumberMarker>\
            <NextPartNumberMarker>2</NextPartNumberMarker><MaxParts>1</MaxParts>\
            <IsTruncated>true</IsTruncated><Part><PartNumber>2</PartNumber>\
            <LastModified>1970-01-01T00:00:00.000Z</LastModified>\
            <ETag>&quot;abc&quot;</ETag><Size>5</Size>\
            <ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part></ListPartsResult>";
        assert!(xml.ends_with(expected), "{xml}");
    }

    #[test]
    fn list_uploads_encodes_keys_but_not_upload_ids() {
        let result = ListMultipartUploadsResult {
            bucket: "b".to_owned(),
            key_marker: "k m".to_owned(),
            upload_id_marker: "u+1".to_owned(),
            next_key_marker: Some("n x".to_owned()),
            next_upload_id_marker: Some("u+2".to_owned()),
            delimiter: Some("/".to_owned()),
            prefix: String::new(),
            max_uploads: 2,
            is_truncated: true,
            encoding_type: Some(EncodingType::Url),
            uploads: vec![ListedUpload {
                key: "a b".to_owned(),
                upload_id: "u+2".to_owned(),
                initiator: owner(),
                owner: owner(),
                storage_class: "STANDARD".to_owned(),
                initiated_ms: 1000,
            }],
            common_prefixes: vec![CommonPrefix {
                prefix: "d r/".to_owned(),
            }],
        };
        let xml = result.to_xml();
        let expected = "<Bucket>b</Bucket><KeyMarker>k%20m</KeyMarker>\
            <UploadIdMarker>u+1</UploadIdMarker><NextKeyMarker>n%20x</NextKeyMarker>\
            <NextUploadIdMarker>u+2</NextUploadIdMarker><Delimiter>/</Delimiter>\
            <Prefix></Prefix><MaxUploads>2</MaxUploads><IsTruncated>true</IsTruncated>\
            <EncodingType>url</EncodingType><Upload><Key>a%20b</Key><UploadId>u+2</UploadId>\
            <Initiator><ID>id1</ID><DisplayName>me</DisplayName></Initiator>\
            <Owner><ID>id1</ID><DisplayName>me</DisplayName></Owner>\
            <StorageClass>STANDARD</StorageClass>\
            <Initiated>1970-01-01T00:00:01.000Z</Initiated></Upload>\
            <CommonPrefixes><Prefix>d%20r/</Prefix></CommonPrefixes>\
            </ListMultipartUploadsResult>";
        assert!(xml.ends_with(expected), "{xml}");
    }
}
