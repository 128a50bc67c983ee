//! Bucket default encryption: the `ServerSideEncryptionConfiguration` document of
//! PutBucketEncryption and GetBucketEncryption.
//!
//! ```xml
//! <ServerSideEncryptionConfiguration>
//!   <Rule>
//!     <ApplyServerSideEncryptionByDefault>
//!       <SSEAlgorithm>AES256</SSEAlgorithm>
//!       <KMSMasterKeyID>optional, aws:kms only</KMSMasterKeyID>
//!     </ApplyServerSideEncryptionByDefault>
//!     <BucketKeyEnabled>false</BucketKeyEnabled>
//!   </Rule>
//! </ServerSideEncryptionConfiguration>
//! ```
//!
//! S3 takes exactly one rule. The algorithm is `AES256`, `aws:kms` or `aws:kms:dsse`; which of
//! them this server can honour is the front end's decision.

use super::reader::{Step, Walker, require_blank};
use super::{S3_XML_NAMESPACE, XML_DECLARATION, escape_into, malformed_xml};
use crate::error::S3Error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketEncryption {
    pub algorithm: String,
    pub kms_key_id: Option<String>,
    pub bucket_key_enabled: bool,
}

pub fn parse_bucket_encryption(body: &[u8]) -> Result<BucketEncryption, S3Error> {
    let mut walker = Walker::new(body)?;
    walker.expect_root("ServerSideEncryptionConfiguration")?;
    let mut rules = 0;
    let mut algorithm: Option<String> = None;
    let mut kms_key_id: Option<String> = None;
    let mut bucket_key: Option<bool> = None;
    loop {
        match walker.next()? {
            Step::Open { name, depth: 2 } if name == "Rule" => {
                rules += 1;
                if rules > 1 {
                    return Err(malformed_xml());
                }
            }
            Step::Open { name, depth: 3 }
                if name == "ApplyServerSideEncryptionByDefault" || name == "BucketKeyEnabled" => {}
            Step::Open { name, depth: 4 } if name == "SSEAlgorithm" || name == "KMSMasterKeyID" => {
            }
            Step::Open { .. } => return Err(malformed_xml()),
            Step::Close {
                name,
                depth: 4,
                text,
            } => {
                let slot = if name == "SSEAlgorithm" {
                    &mut algorithm
                } else {
                    &mut kms_key_id
                };
                if slot.replace(text.trim().to_owned()).is_some() {
                    return Err(malformed_xml());
                }
            }
            Step::Close {
                name,
                depth: 3,
                text,
            } if name == "BucketKeyEnabled" => {
                let value = match text.trim() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(malformed_xml()),
                };
                if bucket_key.replace(value).is_some() {
                    return Err(malformed_xml());
                }
            }
            Step::Close { text, .. } => require_blank(&text)?,
            Step::End => break,
        }
    }
    let algorithm = algorithm.ok_or_else(malformed_xml)?;
    if !matches!(algorithm.as_str(), "AES256" | "aws:kms" | "aws:kms:dsse") {
        return Err(malformed_xml());
    }
    if kms_key_id.is_some() && algorithm == "AES256" {
        return Err(malformed_xml());
    }
    Ok(BucketEncryption {
        algorithm,
        kms_key_id: kms_key_id.filter(|id| !id.is_empty()),
        bucket_key_enabled: bucket_key.unwrap_or(false),
    })
}

pub fn bucket_encryption_xml(config: &BucketEncryption) -> String {
    let mut out = String::with_capacity(400);
    out.push_str(XML_DECLARATION);
    out.push_str("<ServerSideEncryptionConfiguration xmlns=\"");
    out.push_str(S3_XML_NAMESPACE);
    out.push_str("\"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>");
    escape_into(&mut out, &config.algorithm);
    out.push_str("</SSEAlgorithm>");
    if let Some(key_id) = &config.kms_key_id {
        out.push_str("<KMSMasterKeyID>");
        escape_into(&mut out, key_id);
        out.push_str("</KMSMasterKeyID>");
    }
    out.push_str("</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>");
    out.push_str(if config.bucket_key_enabled {
        "true"
    } else {
        "false"
    });
    out.push_str("</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::S3ErrorCode;

    const AES: &str = "<ServerSideEncryptionConfiguration xmlns=\"http://s3.amazonaws.com/doc/\
        2006-03-01/\"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256\
        </SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule>\
        </ServerSideEncryptionConfiguration>";

    #[test]
    fn what_boto3_sends_parses_and_round_trips() {
        let config = parse_bucket_encryption(AES.as_bytes()).unwrap();
        assert_eq!(
            config,
            BucketEncryption {
                algorithm: "AES256".into(),
                kms_key_id: None,
                bucket_key_enabled: false
            }
        );
        let written = bucket_encryption_xml(&config);
        assert_eq!(parse_bucket_encryption(written.as_bytes()).unwrap(), config);
        let kms = BucketEncryption {
            algorithm: "aws:kms".into(),
            kms_key_id: Some("arn:aws:kms:us-east-1:1:key/abc".into()),
            bucket_key_enabled: true,
        };
        assert_eq!(
            parse_bucket_encryption(bucket_encryption_xml(&kms).as_bytes()).unwrap(),
            kms
        );
    }

    #[test]
    fn other_shapes_are_malformed() {
        let two_rules = AES.replace("</Rule>", "</Rule><Rule></Rule>");
        let no_algorithm = AES.replace("<SSEAlgorithm>AES256</SSEAlgorithm>", "");
        let bad_algorithm = AES.replace("AES256", "DES");
        let key_with_aes = AES.replace(
            "</SSEAlgorithm>",
            "</SSEAlgorithm><KMSMasterKeyID>k</KMSMasterKeyID>",
        );
        let unknown = AES.replace("<Rule>", "<Rule><Extra/>");
        for body in [
            two_rules,
            no_algorithm,
            bad_algorithm,
            key_with_aes,
            unknown,
        ] {
            let error = parse_bucket_encryption(body.as_bytes()).unwrap_err();
            assert_eq!(error.code, S3ErrorCode::MalformedXML, "{body}");
        }
    }
}
