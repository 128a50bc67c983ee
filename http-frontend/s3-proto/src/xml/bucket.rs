//! Bucket-level XML: the `GetBucketLocation` answer and the `CreateBucket` request body.

use super::reader::{Step, Walker, require_blank};
use super::{S3_XML_NAMESPACE, XML_DECLARATION, escape_into, malformed_xml};
use crate::error::S3Error;

/// `<LocationConstraint>` for `GetBucketLocation`: an empty element for `us-east-1` (what
/// AWS answers and what restic and s3cmd expect), the region name otherwise.
pub fn location_constraint_xml(region: &str) -> String {
    let mut out = String::with_capacity(160);
    out.push_str(XML_DECLARATION);
    out.push_str("<LocationConstraint xmlns=\"");
    out.push_str(S3_XML_NAMESPACE);
    if region.is_empty() || region == "us-east-1" {
        out.push_str("\"/>");
    } else {
        out.push_str("\">");
        escape_into(&mut out, region);
        out.push_str("</LocationConstraint>");
    }
    out
}

/// Parses a `CreateBucket` body into its `LocationConstraint`. An empty (or blank) body and an
/// empty `<LocationConstraint/>` give `None` (us-east-1). The directory-bucket and tagging
/// elements `Location`, `Bucket` and `Tags` are skipped (not supported, not an error); any
/// other element is `MalformedXML`.
pub fn parse_create_bucket_configuration(body: &[u8]) -> Result<Option<String>, S3Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let mut walker = Walker::new(body)?;
    walker.expect_root("CreateBucketConfiguration")?;
    let mut location_constraint: Option<String> = None;
    let mut is_location_constraint_seen = false;
    loop {
        match walker.next()? {
            Step::Open { name, depth: 2 } if name == "LocationConstraint" => {}
            Step::Open { name, depth: 2 }
                if matches!(name.as_str(), "Location" | "Bucket" | "Tags") =>
            {
                walker.skip_subtree(2)?;
            }
            Step::Open { .. } => return Err(malformed_xml()),
            Step::Close { depth: 2, text, .. } => {
                if is_location_constraint_seen {
                    return Err(malformed_xml());
                }
                is_location_constraint_seen = true;
                let region = text.trim();
                if !region.is_empty() {
                    location_constraint = Some(region.to_owned());
                }
            }
            Step::Close { text, .. } => require_blank(&text)?,
            Step::End => return Ok(location_constraint),
        }
    }
}
