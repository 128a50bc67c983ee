//! `GetObjectAttributesResponse`: the attributes named in `x-amz-object-attributes`, in the
//! element order of the API reference. Absent attributes are omitted.

use super::{S3_XML_NAMESPACE, XML_DECLARATION, push_display_element, push_element};

/// An object checksum: (`ChecksumCRC32`-style element name, base64 value).
pub type ChecksumElement = (&'static str, String);

/// One `<Part>` of `ObjectParts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributesPart {
    pub part_number: u32,
    pub size_bytes: u64,
    pub checksum: Option<ChecksumElement>,
}

/// `ObjectParts` of a multipart object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectParts {
    pub total_parts_count: usize,
    pub part_number_marker: u32,
    /// Written when the page is truncated.
    pub next_part_number_marker: Option<u32>,
    pub max_parts: u32,
    pub is_truncated: bool,
    /// Empty when the object has no part checksums (S3 then lists no `Part`).
    pub parts: Vec<AttributesPart>,
}

/// `GetObjectAttributes` response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GetObjectAttributesResult {
    /// Without quotes, and written without them (S3 does so here, unlike elsewhere).
    pub etag: Option<String>,
    pub checksum: Option<ChecksumElement>,
    /// `COMPOSITE` or `FULL_OBJECT`, inside `Checksum`.
    pub checksum_type: Option<String>,
    pub object_parts: Option<ObjectParts>,
    pub storage_class: Option<String>,
    pub object_size_bytes: Option<u64>,
}

impl GetObjectAttributesResult {
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(512);
        out.push_str(XML_DECLARATION);
        out.push_str("<GetObjectAttributesResponse xmlns=\"");
        out.push_str(S3_XML_NAMESPACE);
        out.push_str("\">");
        if let Some(etag) = &self.etag {
            push_element(&mut out, "ETag", etag);
        }
        if let Some((name, value)) = &self.checksum {
            out.push_str("<Checksum>");
            push_element(&mut out, name, value);
            if let Some(checksum_type) = &self.checksum_type {
                push_element(&mut out, "ChecksumType", checksum_type);
            }
            out.push_str("</Checksum>");
        }
        if let Some(parts) = &self.object_parts {
            push_object_parts(&mut out, parts);
        }
        if let Some(storage_class) = &self.storage_class {
            push_element(&mut out, "StorageClass", storage_class);
        }
        if let Some(size) = self.object_size_bytes {
            push_display_element(&mut out, "ObjectSize", size);
        }
        out.push_str("</GetObjectAttributesResponse>");
        out
    }
}

fn push_object_parts(out: &mut String, parts: &ObjectParts) {
    out.push_str("<ObjectParts>");
    push_display_element(out, "PartsCount", parts.total_parts_count);
    push_display_element(out, "PartNumberMarker", parts.part_number_marker);
    if let Some(next) = parts.next_part_number_marker {
        push_display_element(out, "NextPartNumberMarker", next);
    }
    push_display_element(out, "MaxParts", parts.max_parts);
    push_display_element(out, "IsTruncated", parts.is_truncated);
    for part in &parts.parts {
        out.push_str("<Part>");
        push_display_element(out, "PartNumber", part.part_number);
        push_display_element(out, "Size", part.size_bytes);
        if let Some((name, value)) = &part.checksum {
            push_element(out, name, value);
        }
        out.push_str("</Part>");
    }
    out.push_str("</ObjectParts>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_only_what_was_asked() {
        let result = GetObjectAttributesResult {
            etag: Some("abc".into()),
            object_size_bytes: Some(5),
            ..GetObjectAttributesResult::default()
        };
        let xml = result.to_xml();
        assert!(xml.contains("<ETag>abc</ETag>"));
        assert!(xml.contains("<ObjectSize>5</ObjectSize>"));
        assert!(!xml.contains("Checksum") && !xml.contains("ObjectParts"));
    }

    #[test]
    fn writes_parts_and_checksum() {
        let result = GetObjectAttributesResult {
            checksum: Some(("ChecksumCRC32", "AAAAAA==-2".into())),
            checksum_type: Some("COMPOSITE".into()),
            object_parts: Some(ObjectParts {
                total_parts_count: 2,
                part_number_marker: 0,
                next_part_number_marker: Some(1),
                max_parts: 1,
                is_truncated: true,
                parts: vec![AttributesPart {
                    part_number: 1,
                    size_bytes: 7,
                    checksum: Some(("ChecksumCRC32", "BBBBBB==".into())),
                }],
            }),
            ..GetObjectAttributesResult::default()
        };
        let xml = result.to_xml();
        assert!(xml.contains(
            "<Checksum><ChecksumCRC32>AAAAAA==-2</ChecksumCRC32>\
             <ChecksumType>COMPOSITE</ChecksumType></Checksum>"
        ));
        assert!(xml.contains(
            "<Part><PartNumber>1</PartNumber><Size>7</Size>\
             <ChecksumCRC32>BBBBBB==</ChecksumCRC32></Part>"
        ));
        assert!(xml.contains("<PartsCount>2</PartsCount>"));
    }
}
