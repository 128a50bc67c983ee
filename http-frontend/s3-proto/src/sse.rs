//! Server-side encryption headers of a request: which mode a write asks for, and the SSE-C key
//! headers of the object and of a copy source. Syntax only: the customer key's base64 and MD5
//! are checked by the `sse` crate; whether a mode is allowed (SSE-C over plain HTTP, a KMS
//! key that exists) is decided by the front end.
//!
//! The wire names are AWS's:
//! - `x-amz-server-side-encryption`: `AES256` (SSE-S3), `aws:kms` or `aws:kms:dsse` (SSE-KMS),
//!   with `x-amz-server-side-encryption-aws-kms-key-id` and `-context`;
//! - `x-amz-server-side-encryption-customer-algorithm` (`AES256`), `-customer-key` (base64 of
//!   32 bytes) and `-customer-key-MD5`, and the same three prefixed with `x-amz-copy-source-`
//!   for the source of CopyObject and UploadPartCopy.

use crate::error::{S3Error, S3ErrorCode};

pub const SSE_HEADER: &str = "x-amz-server-side-encryption";
pub const KMS_KEY_ID_HEADER: &str = "x-amz-server-side-encryption-aws-kms-key-id";
pub const KMS_CONTEXT_HEADER: &str = "x-amz-server-side-encryption-context";
const CUSTOMER_ALGORITHM: &str = "server-side-encryption-customer-algorithm";
const CUSTOMER_KEY: &str = "server-side-encryption-customer-key";
const CUSTOMER_KEY_MD5: &str = "server-side-encryption-customer-key-md5";

/// The only algorithm S3 names for SSE-S3 and SSE-C.
pub const AES256: &str = "AES256";

/// What a write asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseRequest {
    /// No SSE header: the bucket default (if any) applies.
    None,
    /// `x-amz-server-side-encryption: AES256`.
    S3,
    /// `aws:kms` or `aws:kms:dsse`, with the key id when given.
    Kms {
        dual_layer: bool,
        key_id: Option<String>,
    },
    /// SSE-C: the customer's key headers (algorithm already checked to be AES256).
    Customer(CustomerKeyHeaders),
}

/// The customer key headers as sent: base64 key and base64 MD5 of the key.
#[derive(Clone, PartialEq, Eq)]
pub struct CustomerKeyHeaders {
    pub key_base64: String,
    pub key_md5_base64: String,
}

impl std::fmt::Debug for CustomerKeyHeaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never log a customer's key.
        write!(f, "CustomerKeyHeaders(md5 {})", self.key_md5_base64)
    }
}

/// Reads the write-side SSE headers through `header` (a case-insensitive lookup).
pub fn parse_sse_request<'a>(
    header: impl Fn(&str) -> Option<&'a str>,
) -> Result<SseRequest, S3Error> {
    let customer = parse_customer_key(&header, "x-amz-")?;
    let requested = header(SSE_HEADER).map(str::trim);
    if customer.is_some() && requested.is_some() {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "Server Side Encryption with Customer provided key is incompatible with the \
             encryption method specified",
        ));
    }
    if let Some(customer) = customer {
        return Ok(SseRequest::Customer(customer));
    }
    let key_id = header(KMS_KEY_ID_HEADER).map(|value| value.trim().to_owned());
    let request = match requested {
        None => SseRequest::None,
        Some(AES256) => SseRequest::S3,
        Some("aws:kms") => SseRequest::Kms {
            dual_layer: false,
            key_id: key_id.clone(),
        },
        Some("aws:kms:dsse") => SseRequest::Kms {
            dual_layer: true,
            key_id: key_id.clone(),
        },
        Some(other) => {
            return Err(S3Error::invalid_argument(
                "The encryption method specified is not supported",
                SSE_HEADER,
                other,
            ));
        }
    };
    if key_id.is_some() && !matches!(request, SseRequest::Kms { .. }) {
        return Err(S3Error::invalid_argument(
            "Server Side Encryption with AWS KMS managed key requires HTTP header \
             x-amz-server-side-encryption : aws:kms",
            KMS_KEY_ID_HEADER,
            key_id.as_deref().unwrap_or_default(),
        ));
    }
    Ok(request)
}

/// The SSE-C headers of the copy source (`x-amz-copy-source-server-side-encryption-...`).
pub fn parse_copy_source_customer_key<'a>(
    header: impl Fn(&str) -> Option<&'a str>,
) -> Result<Option<CustomerKeyHeaders>, S3Error> {
    parse_customer_key(&header, "x-amz-copy-source-")
}

/// The SSE-C headers under `prefix` (`x-amz-` or `x-amz-copy-source-`): none of the three, or
/// all three with algorithm AES256.
fn parse_customer_key<'a>(
    header: &impl Fn(&str) -> Option<&'a str>,
    prefix: &str,
) -> Result<Option<CustomerKeyHeaders>, S3Error> {
    let algorithm = header(&format!("{prefix}{CUSTOMER_ALGORITHM}")).map(str::trim);
    let key = header(&format!("{prefix}{CUSTOMER_KEY}")).map(str::trim);
    let md5 = header(&format!("{prefix}{CUSTOMER_KEY_MD5}")).map(str::trim);
    match (algorithm, key, md5) {
        (None, None, None) => Ok(None),
        (None, _, _) => Err(S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "Requests specifying Server Side Encryption with Customer provided keys must \
             provide a valid encryption algorithm.",
        )),
        (Some(algorithm), _, _) if algorithm != AES256 => Err(S3Error::with_message(
            S3ErrorCode::InvalidEncryptionAlgorithmError,
            "The encryption request you specified is not valid. The valid value is AES256.",
        )),
        (Some(_), None, _) => Err(S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "Requests specifying Server Side Encryption with Customer provided keys must \
             provide an appropriate secret key.",
        )),
        (Some(_), Some(_), None) => Err(S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "Requests specifying Server Side Encryption with Customer provided keys must \
             provide the client calculated MD5 of the secret key.",
        )),
        (Some(_), Some(key), Some(md5)) => Ok(Some(CustomerKeyHeaders {
            key_base64: key.to_owned(),
            key_md5_base64: md5.to_owned(),
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(headers: &[(&str, &str)]) -> Result<SseRequest, S3Error> {
        parse_sse_request(|name| {
            headers
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| *value)
        })
    }

    #[test]
    fn the_modes_are_told_apart() {
        assert_eq!(parse(&[]), Ok(SseRequest::None));
        assert_eq!(parse(&[(SSE_HEADER, "AES256")]), Ok(SseRequest::S3));
        assert_eq!(
            parse(&[(SSE_HEADER, "aws:kms"), (KMS_KEY_ID_HEADER, "k1")]),
            Ok(SseRequest::Kms {
                dual_layer: false,
                key_id: Some("k1".into())
            })
        );
        let customer = parse(&[
            ("x-amz-server-side-encryption-customer-algorithm", "AES256"),
            ("x-amz-server-side-encryption-customer-key", "a2V5"),
            ("x-amz-server-side-encryption-customer-key-MD5", "bWQ1"),
        ]);
        assert_eq!(
            customer,
            Ok(SseRequest::Customer(CustomerKeyHeaders {
                key_base64: "a2V5".into(),
                key_md5_base64: "bWQ1".into()
            }))
        );
    }

    #[test]
    fn incomplete_or_unknown_requests_get_aws_errors() {
        let code = |headers: &[(&str, &str)]| parse(headers).unwrap_err().code;
        assert_eq!(code(&[(SSE_HEADER, "DES")]), S3ErrorCode::InvalidArgument);
        assert_eq!(
            code(&[(KMS_KEY_ID_HEADER, "k1")]),
            S3ErrorCode::InvalidArgument
        );
        assert_eq!(
            code(&[("x-amz-server-side-encryption-customer-algorithm", "AES128")]),
            S3ErrorCode::InvalidEncryptionAlgorithmError
        );
        assert_eq!(
            code(&[("x-amz-server-side-encryption-customer-algorithm", "AES256")]),
            S3ErrorCode::InvalidArgument
        );
        assert_eq!(
            code(&[("x-amz-server-side-encryption-customer-key", "a2V5")]),
            S3ErrorCode::InvalidArgument
        );
        assert_eq!(
            code(&[
                (SSE_HEADER, "AES256"),
                ("x-amz-server-side-encryption-customer-algorithm", "AES256"),
                ("x-amz-server-side-encryption-customer-key", "a2V5"),
                ("x-amz-server-side-encryption-customer-key-MD5", "bWQ1"),
            ]),
            S3ErrorCode::InvalidArgument
        );
    }

    #[test]
    fn the_copy_source_key_has_its_own_headers() {
        let headers = [
            (
                "x-amz-copy-source-server-side-encryption-customer-algorithm",
                "AES256",
            ),
            (
                "x-amz-copy-source-server-side-encryption-customer-key",
                "a2V5",
            ),
            (
                "x-amz-copy-source-server-side-encryption-customer-key-MD5",
                "bWQ1",
            ),
        ];
        let lookup = |name: &str| {
            headers
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| *value)
        };
        assert!(parse_copy_source_customer_key(lookup).unwrap().is_some());
        // The source's key is not the destination's.
        assert_eq!(parse_sse_request(lookup), Ok(SseRequest::None));
    }
}
