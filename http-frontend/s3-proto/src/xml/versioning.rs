//! Bucket versioning: the `VersioningConfiguration` body of PutBucketVersioning and the answer
//! of GetBucketVersioning.
//!
//! ```xml
//! <VersioningConfiguration>
//!   <Status>Enabled|Suspended</Status>        <!-- optional -->
//!   <MfaDelete>Enabled|Disabled</MfaDelete>   <!-- optional -->
//! </VersioningConfiguration>
//! ```
//!
//! A status or MFA-delete value other than those is `MalformedXML`, as S3 answers (the values
//! are schema enumerations; S3 compares them exactly). The parser reports `MfaDelete` as given:
//! the handler refuses `Enabled`, which this server cannot honour (it has no MFA devices).

use super::reader::{Step, Walker, require_blank};
use super::{S3_XML_NAMESPACE, XML_DECLARATION, malformed_xml};
use crate::error::S3Error;

/// A bucket's versioning state as the API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VersioningStatus {
    Enabled,
    Suspended,
}

impl VersioningStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VersioningStatus::Enabled => "Enabled",
            VersioningStatus::Suspended => "Suspended",
        }
    }
}

/// The `MfaDelete` element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MfaDelete {
    Enabled,
    Disabled,
}

impl MfaDelete {
    pub fn as_str(self) -> &'static str {
        match self {
            MfaDelete::Enabled => "Enabled",
            MfaDelete::Disabled => "Disabled",
        }
    }
}

/// A parsed PutBucketVersioning body, or what GetBucketVersioning reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct VersioningConfiguration {
    /// `None`: the element was absent (a body that changes nothing; a bucket never versioned).
    pub status: Option<VersioningStatus>,
    pub mfa_delete: Option<MfaDelete>,
}

/// Parses a PutBucketVersioning body. `MalformedXML` for another root, an unknown or repeated
/// element, or a value outside the enumerations.
pub fn parse_versioning_configuration(body: &[u8]) -> Result<VersioningConfiguration, S3Error> {
    let mut walker = Walker::new(body)?;
    walker.expect_root("VersioningConfiguration")?;
    let mut configuration = VersioningConfiguration::default();
    loop {
        match walker.next()? {
            Step::Open { name, depth: 2 } if name == "Status" || name == "MfaDelete" => {}
            Step::Open { .. } => return Err(malformed_xml()),
            Step::Close {
                name,
                depth: 2,
                text,
            } => {
                if name == "Status" {
                    let status = match text.trim() {
                        "Enabled" => VersioningStatus::Enabled,
                        "Suspended" => VersioningStatus::Suspended,
                        _ => return Err(malformed_xml()),
                    };
                    if configuration.status.replace(status).is_some() {
                        return Err(malformed_xml());
                    }
                } else {
                    let mfa_delete = match text.trim() {
                        "Enabled" => MfaDelete::Enabled,
                        "Disabled" => MfaDelete::Disabled,
                        _ => return Err(malformed_xml()),
                    };
                    if configuration.mfa_delete.replace(mfa_delete).is_some() {
                        return Err(malformed_xml());
                    }
                }
            }
            Step::Close { text, .. } => require_blank(&text)?,
            Step::End => return Ok(configuration),
        }
    }
}

/// The GetBucketVersioning answer: `<VersioningConfiguration/>` for a bucket that was never
/// versioned (what S3 answers), else `<Status>` and, when set, `<MfaDelete>`.
pub fn bucket_versioning_xml(configuration: &VersioningConfiguration) -> String {
    let mut out = String::with_capacity(200);
    out.push_str(XML_DECLARATION);
    out.push_str("<VersioningConfiguration xmlns=\"");
    out.push_str(S3_XML_NAMESPACE);
    if configuration.status.is_none() && configuration.mfa_delete.is_none() {
        out.push_str("\"/>");
        return out;
    }
    out.push_str("\">");
    if let Some(status) = configuration.status {
        out.push_str("<Status>");
        out.push_str(status.as_str());
        out.push_str("</Status>");
    }
    if let Some(mfa_delete) = configuration.mfa_delete {
        out.push_str("<MfaDelete>");
        out.push_str(mfa_delete.as_str());
        out.push_str("</MfaDelete>");
    }
    out.push_str("</VersioningConfiguration>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::S3ErrorCode;

    #[test]
    fn what_clients_send_parses_and_round_trips() {
        // boto3 put_bucket_versioning (namespace), aws cli, terraform (with MfaDelete).
        for (body, expected) in [
            (
                "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
                 <Status>Enabled</Status></VersioningConfiguration>",
                VersioningConfiguration {
                    status: Some(VersioningStatus::Enabled),
                    mfa_delete: None,
                },
            ),
            (
                "<VersioningConfiguration><Status>Suspended</Status>\
                 <MfaDelete>Disabled</MfaDelete></VersioningConfiguration>",
                VersioningConfiguration {
                    status: Some(VersioningStatus::Suspended),
                    mfa_delete: Some(MfaDelete::Disabled),
                },
            ),
            (
                "<VersioningConfiguration><MfaDelete>Enabled</MfaDelete>\
                 </VersioningConfiguration>",
                VersioningConfiguration {
                    status: None,
                    mfa_delete: Some(MfaDelete::Enabled),
                },
            ),
            (
                "<VersioningConfiguration/>",
                VersioningConfiguration::default(),
            ),
        ] {
            let parsed = parse_versioning_configuration(body.as_bytes()).unwrap();
            assert_eq!(parsed, expected, "{body}");
            let written = bucket_versioning_xml(&parsed);
            assert_eq!(
                parse_versioning_configuration(written.as_bytes()).unwrap(),
                parsed
            );
        }
    }

    #[test]
    fn answers_have_s3_shape() {
        assert!(
            bucket_versioning_xml(&VersioningConfiguration::default()).ends_with(
                "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"/>"
            )
        );
        let enabled = VersioningConfiguration {
            status: Some(VersioningStatus::Enabled),
            mfa_delete: Some(MfaDelete::Disabled),
        };
        assert!(bucket_versioning_xml(&enabled).ends_with(
            "\"><Status>Enabled</Status><MfaDelete>Disabled</MfaDelete>\
             </VersioningConfiguration>"
        ));
    }

    #[test]
    fn other_values_and_shapes_are_malformed() {
        for body in [
            "<VersioningConfiguration><Status>enabled</Status></VersioningConfiguration>",
            "<VersioningConfiguration><Status>Disabled</Status></VersioningConfiguration>",
            "<VersioningConfiguration><Status>suspend</Status></VersioningConfiguration>",
            "<VersioningConfiguration><Status></Status></VersioningConfiguration>",
            "<VersioningConfiguration><MfaDelete>On</MfaDelete></VersioningConfiguration>",
            "<VersioningConfiguration><Status>Enabled</Status><Status>Enabled</Status>\
             </VersioningConfiguration>",
            "<VersioningConfiguration><Other/></VersioningConfiguration>",
            "<VersioningConfiguration><Status><Status>Enabled</Status></Status>\
             </VersioningConfiguration>",
            "<VersioningConfiguration>x<Status>Enabled</Status></VersioningConfiguration>",
            "<Versioning><Status>Enabled</Status></Versioning>",
            "",
            "<VersioningConfiguration>",
        ] {
            let error = parse_versioning_configuration(body.as_bytes()).unwrap_err();
            assert_eq!(error.code, S3ErrorCode::MalformedXML, "{body}");
        }
    }
}
