//! Multipart and copy XML: the `CompleteMultipartUpload` request parser and the
//! `InitiateMultipartUpload`, `CompleteMultipartUpload`, `CopyObject` and `UploadPartCopy` results.

use base::limits::{PART_NUMBER_MAX, PART_NUMBER_MIN};

use super::reader::{Step, Walker, require_blank};
use super::{
    S3_XML_NAMESPACE, XML_DECLARATION, malformed_xml, push_element, push_etag_element,
    strip_etag_quotes,
};
use crate::error::{S3Error, S3ErrorCode};
use crate::time_format::write_iso8601_millis;

/// One `<Part>` of a `CompleteMultipartUpload` request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompletedPart {
    /// 1 ..= 10,000 (checked by the parser).
    pub part_number: u32,
    /// Surrounding quotes stripped; may be unquoted on the wire (s3cmd).
    pub etag: String,
    /// Base64 checksums as sent (`<ChecksumCRC32>` ...), unchecked.
    pub checksum_crc32: Option<String>,
    pub checksum_crc32c: Option<String>,
    pub checksum_crc64nvme: Option<String>,
    pub checksum_sha1: Option<String>,
    pub checksum_sha256: Option<String>,
    pub checksum_sha512: Option<String>,
    pub checksum_md5: Option<String>,
    pub checksum_xxhash64: Option<String>,
    pub checksum_xxhash3: Option<String>,
    pub checksum_xxhash128: Option<String>,
}

/// Parses a `CompleteMultipartUpload` body, with or without the S3 namespace.
///
/// `MalformedXML`: not well-formed, another root, an unknown element, a repeated field, a
/// part without `PartNumber` or `ETag`, a non-numeric part number (`1e3`, `-1`, `+1`), more
/// than 10,000 parts, or no part at all. `InvalidArgument`: a numeric part number outside
/// 1 ..= 10,000. Order and duplicates are checked by [`check_part_order`], not here.
pub fn parse_complete_multipart_upload(body: &[u8]) -> Result<Vec<CompletedPart>, S3Error> {
    let mut walker = Walker::new(body)?;
    walker.expect_root("CompleteMultipartUpload")?;
    let mut parts: Vec<CompletedPart> = Vec::new();
    let mut part = PartFields::default();
    loop {
        match walker.next()? {
            Step::Open { name, depth: 2 } if name == "Part" => {
                if parts.len() == PART_NUMBER_MAX as usize {
                    return Err(S3Error::with_message(
                        S3ErrorCode::MalformedXML,
                        format!("A multipart upload has at most {PART_NUMBER_MAX} parts."),
                    ));
                }
                part = PartFields::default();
            }
            Step::Open { name, depth: 3 } if PartFields::is_field(&name) => {}
            Step::Open { .. } => return Err(malformed_xml()),
            Step::Close {
                name,
                depth: 3,
                text,
            } => part.set(&name, text)?,
            Step::Close { depth: 2, text, .. } => {
                require_blank(&text)?;
                parts.push(std::mem::take(&mut part).finish()?);
            }
            Step::Close { text, .. } => require_blank(&text)?,
            Step::End => break,
        }
    }
    if parts.is_empty() {
        return Err(S3Error::with_message(
            S3ErrorCode::MalformedXML,
            "The XML you provided was not well-formed or did not validate against our \
             published schema: CompleteMultipartUpload lists no part.",
        ));
    }
    Ok(parts)
}

#[derive(Default)]
struct PartFields {
    part_number: Option<String>,
    etag: Option<String>,
    checksum_crc32: Option<String>,
    checksum_crc32c: Option<String>,
    checksum_crc64nvme: Option<String>,
    checksum_sha1: Option<String>,
    checksum_sha256: Option<String>,
    checksum_sha512: Option<String>,
    checksum_md5: Option<String>,
    checksum_xxhash64: Option<String>,
    checksum_xxhash3: Option<String>,
    checksum_xxhash128: Option<String>,
}

impl PartFields {
    fn is_field(name: &str) -> bool {
        matches!(
            name,
            "PartNumber"
                | "ETag"
                | "ChecksumCRC32"
                | "ChecksumCRC32C"
                | "ChecksumCRC64NVME"
                | "ChecksumSHA1"
                | "ChecksumSHA256"
                | "ChecksumSHA512"
                | "ChecksumMD5"
                | "ChecksumXXHASH64"
                | "ChecksumXXHASH3"
                | "ChecksumXXHASH128"
        )
    }

    fn set(&mut self, name: &str, text: String) -> Result<(), S3Error> {
        let slot = match name {
            "PartNumber" => &mut self.part_number,
            "ETag" => &mut self.etag,
            "ChecksumCRC32" => &mut self.checksum_crc32,
            "ChecksumCRC32C" => &mut self.checksum_crc32c,
            "ChecksumCRC64NVME" => &mut self.checksum_crc64nvme,
            "ChecksumSHA1" => &mut self.checksum_sha1,
            "ChecksumSHA256" => &mut self.checksum_sha256,
            "ChecksumSHA512" => &mut self.checksum_sha512,
            "ChecksumMD5" => &mut self.checksum_md5,
            "ChecksumXXHASH64" => &mut self.checksum_xxhash64,
            "ChecksumXXHASH3" => &mut self.checksum_xxhash3,
            "ChecksumXXHASH128" => &mut self.checksum_xxhash128,
            _ => return Err(malformed_xml()),
        };
        if slot.is_some() {
            return Err(malformed_xml());
        }
        *slot = Some(text);
        Ok(())
    }

    fn finish(self) -> Result<CompletedPart, S3Error> {
        let (Some(part_number), Some(etag)) = (self.part_number, self.etag) else {
            return Err(malformed_xml());
        };
        let trim_owned = |value: Option<String>| value.map(|v| v.trim().to_owned());
        Ok(CompletedPart {
            part_number: parse_xml_part_number(part_number.trim())?,
            etag: strip_etag_quotes(&etag).to_owned(),
            checksum_crc32: trim_owned(self.checksum_crc32),
            checksum_crc32c: trim_owned(self.checksum_crc32c),
            checksum_crc64nvme: trim_owned(self.checksum_crc64nvme),
            checksum_sha1: trim_owned(self.checksum_sha1),
            checksum_sha256: trim_owned(self.checksum_sha256),
            checksum_sha512: trim_owned(self.checksum_sha512),
            checksum_md5: trim_owned(self.checksum_md5),
            checksum_xxhash64: trim_owned(self.checksum_xxhash64),
            checksum_xxhash3: trim_owned(self.checksum_xxhash3),
            checksum_xxhash128: trim_owned(self.checksum_xxhash128),
        })
    }
}

/// Digits only (the schema type is an integer), else `MalformedXML`; then 1 ..= 10,000,
/// else `InvalidArgument`.
fn parse_xml_part_number(text: &str) -> Result<u32, S3Error> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed_xml());
    }
    let out_of_range = || {
        S3Error::invalid_argument(
            format!(
                "Part number must be an integer between {PART_NUMBER_MIN} and \
                 {PART_NUMBER_MAX}, inclusive"
            ),
            "partNumber",
            text,
        )
    };
    let part_number: u32 = text.parse().map_err(|_| out_of_range())?;
    if !(PART_NUMBER_MIN..=PART_NUMBER_MAX).contains(&part_number) {
        return Err(out_of_range());
    }
    Ok(part_number)
}

/// Parts must be listed in strictly ascending part-number order (which also excludes
/// duplicates), else `InvalidPartOrder`.
pub fn check_part_order(parts: &[CompletedPart]) -> Result<(), S3Error> {
    let is_ascending = parts
        .windows(2)
        .all(|pair| pair[0].part_number < pair[1].part_number);
    if is_ascending {
        Ok(())
    } else {
        Err(S3Error::new(S3ErrorCode::InvalidPartOrder))
    }
}

fn push_root_open(out: &mut String, root: &str) {
    out.push_str(XML_DECLARATION);
    out.push('<');
    out.push_str(root);
    out.push_str(" xmlns=\"");
    out.push_str(S3_XML_NAMESPACE);
    out.push_str("\">");
}

fn push_checksums(out: &mut String, checksums: [(&str, &Option<String>); 10]) {
    for (name, value) in checksums {
        if let Some(value) = value {
            push_element(out, name, value);
        }
    }
}

/// `CreateMultipartUpload` response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitiateMultipartUploadResult {
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
}

impl InitiateMultipartUploadResult {
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(256 + self.key.len());
        push_root_open(&mut out, "InitiateMultipartUploadResult");
        push_element(&mut out, "Bucket", &self.bucket);
        push_element(&mut out, "Key", &self.key);
        push_element(&mut out, "UploadId", &self.upload_id);
        out.push_str("</InitiateMultipartUploadResult>");
        out
    }
}

/// `CompleteMultipartUpload` response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompleteMultipartUploadResult {
    /// URL of the new object (`http://host/bucket/key`, key URL-encoded by the caller).
    pub location: String,
    pub bucket: String,
    pub key: String,
    /// Without quotes (`<hex>-<part count>`); written quoted.
    pub etag: String,
    pub checksum_crc32: Option<String>,
    pub checksum_crc32c: Option<String>,
    pub checksum_crc64nvme: Option<String>,
    pub checksum_sha1: Option<String>,
    pub checksum_sha256: Option<String>,
    pub checksum_sha512: Option<String>,
    pub checksum_md5: Option<String>,
    pub checksum_xxhash64: Option<String>,
    pub checksum_xxhash3: Option<String>,
    pub checksum_xxhash128: Option<String>,
    /// `COMPOSITE` or `FULL_OBJECT`, written when `Some`.
    pub checksum_type: Option<String>,
}

impl CompleteMultipartUploadResult {
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(384 + self.key.len() * 2);
        push_root_open(&mut out, "CompleteMultipartUploadResult");
        push_element(&mut out, "Location", &self.location);
        push_element(&mut out, "Bucket", &self.bucket);
        push_element(&mut out, "Key", &self.key);
        push_etag_element(&mut out, &self.etag);
        push_checksums(
            &mut out,
            [
                ("ChecksumCRC32", &self.checksum_crc32),
                ("ChecksumCRC32C", &self.checksum_crc32c),
                ("ChecksumCRC64NVME", &self.checksum_crc64nvme),
                ("ChecksumSHA1", &self.checksum_sha1),
                ("ChecksumSHA256", &self.checksum_sha256),
                ("ChecksumSHA512", &self.checksum_sha512),
                ("ChecksumMD5", &self.checksum_md5),
                ("ChecksumXXHASH64", &self.checksum_xxhash64),
                ("ChecksumXXHASH3", &self.checksum_xxhash3),
                ("ChecksumXXHASH128", &self.checksum_xxhash128),
            ],
        );
        if let Some(checksum_type) = &self.checksum_type {
            push_element(&mut out, "ChecksumType", checksum_type);
        }
        out.push_str("</CompleteMultipartUploadResult>");
        out
    }
}

/// `CopyObject` response body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyObjectResult {
    /// Without quotes; written quoted.
    pub etag: String,
    /// Unix milliseconds.
    pub last_modified_ms: i64,
    /// The new object's checksum (`ChecksumSHA256`, base64 value), when it has one.
    pub checksum: Option<(&'static str, String)>,
}

impl CopyObjectResult {
    pub fn to_xml(&self) -> String {
        let checksum = self
            .checksum
            .as_ref()
            .map(|(name, value)| (*name, value.as_str()));
        copy_result_xml(
            "CopyObjectResult",
            &self.etag,
            self.last_modified_ms,
            checksum,
        )
    }
}

/// `UploadPartCopy` response body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyPartResult {
    /// Without quotes; written quoted.
    pub etag: String,
    /// Unix milliseconds.
    pub last_modified_ms: i64,
    /// The part's checksum (`ChecksumCRC32`, base64 value) when the upload was created with a
    /// checksum algorithm: AWS returns it then, and only then.
    pub checksum: Option<(&'static str, String)>,
}

impl CopyPartResult {
    pub fn to_xml(&self) -> String {
        let checksum = self
            .checksum
            .as_ref()
            .map(|(name, value)| (*name, value.as_str()));
        copy_result_xml(
            "CopyPartResult",
            &self.etag,
            self.last_modified_ms,
            checksum,
        )
    }
}

fn copy_result_xml(
    root: &str,
    etag: &str,
    last_modified_ms: i64,
    checksum: Option<(&str, &str)>,
) -> String {
    let mut out = String::with_capacity(200);
    push_root_open(&mut out, root);
    out.push_str("<LastModified>");
    write_iso8601_millis(&mut out, last_modified_ms);
    out.push_str("</LastModified>");
    push_etag_element(&mut out, etag);
    if let Some((name, value)) = checksum {
        push_element(&mut out, name, value);
    }
    out.push_str("</");
    out.push_str(root);
    out.push('>');
    out
}
