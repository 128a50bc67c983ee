//! `DeleteObjects`: the `<Delete>` request parser and the `<DeleteResult>` writer.

use base::limits::DELETE_OBJECTS_KEYS_MAX;

use super::reader::{Step, Walker, require_blank};
use super::{S3_XML_NAMESPACE, XML_DECLARATION, malformed_xml, push_element};
use crate::error::{S3Error, S3ErrorCode};

/// One `<Object>` of a `DeleteObjects` request. The key is returned exactly as decoded (not
/// trimmed, not validated): the caller validates it and reports a bad key in that key's
/// `<Error>` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectIdentifier {
    pub key: String,
    pub version_id: Option<String>,
    /// Conditional delete (`<ETag>`), quotes stripped.
    pub etag: Option<String>,
    /// Conditional delete (`<LastModifiedTime>`), as sent (ISO-8601).
    pub last_modified_time: Option<String>,
    /// Conditional delete (`<Size>`).
    pub size_bytes: Option<u64>,
}

/// A parsed `DeleteObjects` request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteObjectsRequest {
    /// `<Quiet>true</Quiet>`: report only errors.
    pub quiet: bool,
    pub objects: Vec<ObjectIdentifier>,
}

/// Parses a `DeleteObjects` body. `MalformedXML` for: not well-formed, another root, an
/// unknown or repeated element, an `<Object>` without `<Key>`, a `Quiet` other than
/// true/false, no object, or more than 1000 objects (detected at the 1001st, before the rest
/// is parsed).
pub fn parse_delete(body: &[u8]) -> Result<DeleteObjectsRequest, S3Error> {
    let mut walker = Walker::new(body)?;
    walker.expect_root("Delete")?;
    let mut request = DeleteObjectsRequest::default();
    let mut is_quiet_seen = false;
    let mut object = ObjectFields::default();
    loop {
        match walker.next()? {
            Step::Open { name, depth: 2 } if name == "Object" => {
                if request.objects.len() == DELETE_OBJECTS_KEYS_MAX {
                    return Err(S3Error::with_message(
                        S3ErrorCode::MalformedXML,
                        format!("DeleteObjects accepts at most {DELETE_OBJECTS_KEYS_MAX} keys."),
                    ));
                }
                object = ObjectFields::default();
            }
            Step::Open { name, depth: 2 } if name == "Quiet" => {
                if is_quiet_seen {
                    return Err(malformed_xml());
                }
                is_quiet_seen = true;
            }
            Step::Open { name, depth: 3 } if ObjectFields::is_field(&name) => {}
            Step::Open { .. } => return Err(malformed_xml()),
            Step::Close {
                name,
                depth: 3,
                text,
            } => object.set(&name, text)?,
            Step::Close {
                name,
                depth: 2,
                text,
            } if name == "Quiet" => {
                request.quiet = parse_bool(&text)?;
            }
            Step::Close { depth: 2, text, .. } => {
                require_blank(&text)?;
                request.objects.push(std::mem::take(&mut object).finish()?);
            }
            Step::Close { text, .. } => require_blank(&text)?,
            Step::End => break,
        }
    }
    if request.objects.is_empty() {
        return Err(malformed_xml());
    }
    Ok(request)
}

fn parse_bool(text: &str) -> Result<bool, S3Error> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if text.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(malformed_xml())
    }
}

#[derive(Default)]
struct ObjectFields {
    key: Option<String>,
    version_id: Option<String>,
    etag: Option<String>,
    last_modified_time: Option<String>,
    size: Option<String>,
}

impl ObjectFields {
    fn is_field(name: &str) -> bool {
        matches!(
            name,
            "Key" | "VersionId" | "ETag" | "LastModifiedTime" | "Size"
        )
    }

    fn set(&mut self, name: &str, text: String) -> Result<(), S3Error> {
        let slot = match name {
            "Key" => &mut self.key,
            "VersionId" => &mut self.version_id,
            "ETag" => &mut self.etag,
            "LastModifiedTime" => &mut self.last_modified_time,
            "Size" => &mut self.size,
            _ => return Err(malformed_xml()),
        };
        if slot.is_some() {
            return Err(malformed_xml());
        }
        *slot = Some(text);
        Ok(())
    }

    fn finish(self) -> Result<ObjectIdentifier, S3Error> {
        let Some(key) = self.key else {
            return Err(malformed_xml());
        };
        let size_bytes = match self.size {
            None => None,
            Some(size) => {
                let size = size.trim();
                if size.is_empty() || !size.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(malformed_xml());
                }
                Some(size.parse::<u64>().map_err(|_| malformed_xml())?)
            }
        };
        Ok(ObjectIdentifier {
            key,
            version_id: self.version_id,
            etag: self
                .etag
                .map(|etag| super::strip_etag_quotes(&etag).to_owned()),
            last_modified_time: self.last_modified_time.map(|time| time.trim().to_owned()),
            size_bytes,
        })
    }
}

/// One `<Deleted>` entry, elements written in S3's order (Key, VersionId, DeleteMarker,
/// DeleteMarkerVersionId). What S3 reports:
/// - a plain delete in a versioned bucket wrote a marker: `delete_marker` true and
///   `delete_marker_version_id` the new marker's id, no `version_id`;
/// - a delete by version id removed a version: `version_id` that id;
/// - a delete by version id removed a delete marker: `version_id` and
///   `delete_marker_version_id` both that id, `delete_marker` true;
/// - an unversioned bucket: the key alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deleted {
    pub key: String,
    /// The version id the request named (`<VersionId>`).
    pub version_id: Option<String>,
    /// `<DeleteMarker>true</DeleteMarker>` when the delete created or removed a marker.
    pub delete_marker: bool,
    /// The marker created or removed (`<DeleteMarkerVersionId>`).
    pub delete_marker_version_id: Option<String>,
}

/// One `<Error>` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteError {
    pub key: String,
    pub version_id: Option<String>,
    pub code: S3ErrorCode,
    /// `None` sends the code's default message.
    pub message: Option<String>,
}

/// `DeleteObjects` response. In quiet mode the caller leaves `deleted` empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteResult {
    pub deleted: Vec<Deleted>,
    pub errors: Vec<DeleteError>,
}

impl DeleteResult {
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(128 + (self.deleted.len() + self.errors.len()) * 96);
        out.push_str(XML_DECLARATION);
        out.push_str("<DeleteResult xmlns=\"");
        out.push_str(S3_XML_NAMESPACE);
        out.push_str("\">");
        for deleted in &self.deleted {
            out.push_str("<Deleted>");
            push_element(&mut out, "Key", &deleted.key);
            if let Some(version_id) = &deleted.version_id {
                push_element(&mut out, "VersionId", version_id);
            }
            if deleted.delete_marker {
                out.push_str("<DeleteMarker>true</DeleteMarker>");
            }
            if let Some(version_id) = &deleted.delete_marker_version_id {
                push_element(&mut out, "DeleteMarkerVersionId", version_id);
            }
            out.push_str("</Deleted>");
        }
        for error in &self.errors {
            out.push_str("<Error>");
            push_element(&mut out, "Key", &error.key);
            if let Some(version_id) = &error.version_id {
                push_element(&mut out, "VersionId", version_id);
            }
            push_element(&mut out, "Code", error.code.as_str());
            let message = error
                .message
                .as_deref()
                .unwrap_or(error.code.default_message());
            push_element(&mut out, "Message", message);
            out.push_str("</Error>");
        }
        out.push_str("</DeleteResult>");
        out
    }
}
