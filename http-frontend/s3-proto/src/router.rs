//! Request classification: method + path + query → one S3 [`Operation`] plus the decoded
//! bucket and key, so every request is classified before any handler runs.
//!
//! Addressing is path-style (`/`, `/bucket`, `/bucket/`, `/bucket/key...`), which every
//! measured client uses (S3-CLIENTS.md §1), or virtual-host style when the caller found the
//! bucket in the `Host` header ([`bucket_from_host`], with the server's `--domain`s).
//! The path is percent-decoded exactly once: `%2F` in a key is `/`, `%252e` stays `%2e`,
//! `+` is a literal plus. Malformed escapes and invalid UTF-8 after decoding are
//! `InvalidURI`. The bucket name is validated with
//! `base::names` (`InvalidBucketName`), the key with `validate_object_key` (`KeyTooLongError`).
//!
//! Query strings follow form encoding, as AWS S3 and `MinIO` (Go `url.ParseQuery`) read them:
//! names and values are percent-decoded and `+` is a space. SDKs send spaces as `%20` and
//! a plus as `%2B`, so both readings agree for them.
//!
//! The operation is chosen by the presence of subresource query parameters (`?acl`,
//! `?uploads`, `?uploadId=`...). Parameters that are not subresources (`x-id`, `versionId`,
//! `partNumber`, `response-*`, listing options, presigned `X-Amz-*`) never change the
//! operation. A subresource that has no operation for the method is `MethodNotAllowed`,
//! never the method's default (so `DELETE /bkt?versioning` can never delete the bucket).
//!
//! Architecture invariant: this module does no IO, knows nothing about buckets' existence
//! or permissions, and never maps a key to a file path.

use base::limits::{QUERY_PARAM_COUNT_MAX, QUERY_STRING_BYTES_MAX};
use base::names::{NameError, validate_bucket_name, validate_object_key};

use crate::error::{S3Error, S3ErrorCode};

macro_rules! operations {
    ($( $(#[$doc:meta])* $variant:ident, )*) => {
        /// One S3 API operation, spelled as the AWS API reference spells it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operation {
            $( $(#[$doc])* $variant, )*
        }

        impl Operation {
            /// Every operation, in declaration order (metrics labels, tests).
            pub const ALL: &'static [Operation] = &[ $( Operation::$variant, )* ];

            /// The AWS name, identical to the variant name (metrics label, tracing span).
            pub fn as_str(self) -> &'static str {
                match self {
                    $( Operation::$variant => stringify!($variant), )*
                }
            }
        }
    };
}

operations! {
    // Service.
    ListBuckets,
    // Buckets.
    CreateBucket,
    DeleteBucket,
    HeadBucket,
    GetBucketLocation,
    ListObjects,
    ListObjectsV2,
    ListObjectVersions,
    ListMultipartUploads,
    DeleteObjects,
    /// Browser-based upload: `POST /bucket` with a multipart/form-data body.
    PostObject,
    /// Directory buckets: `GET /bucket?session`.
    CreateSession,
    GetBucketAcl,
    PutBucketAcl,
    GetBucketPolicy,
    PutBucketPolicy,
    DeleteBucketPolicy,
    GetBucketPolicyStatus,
    GetBucketCors,
    PutBucketCors,
    DeleteBucketCors,
    GetBucketLifecycleConfiguration,
    PutBucketLifecycleConfiguration,
    DeleteBucketLifecycle,
    GetBucketVersioning,
    PutBucketVersioning,
    GetBucketEncryption,
    PutBucketEncryption,
    DeleteBucketEncryption,
    GetObjectLockConfiguration,
    PutObjectLockConfiguration,
    GetBucketTagging,
    PutBucketTagging,
    DeleteBucketTagging,
    GetBucketNotificationConfiguration,
    PutBucketNotificationConfiguration,
    GetBucketReplication,
    PutBucketReplication,
    DeleteBucketReplication,
    GetBucketWebsite,
    PutBucketWebsite,
    DeleteBucketWebsite,
    GetBucketLogging,
    PutBucketLogging,
    GetBucketOwnershipControls,
    /// Attribute-based access control of a bucket (`?abac`). Not served (501).
    GetBucketAbac,
    PutBucketAbac,
    PutBucketOwnershipControls,
    DeleteBucketOwnershipControls,
    GetPublicAccessBlock,
    PutPublicAccessBlock,
    DeletePublicAccessBlock,
    GetBucketAccelerateConfiguration,
    PutBucketAccelerateConfiguration,
    GetBucketRequestPayment,
    PutBucketRequestPayment,
    GetBucketAnalyticsConfiguration,
    PutBucketAnalyticsConfiguration,
    DeleteBucketAnalyticsConfiguration,
    ListBucketAnalyticsConfigurations,
    GetBucketInventoryConfiguration,
    PutBucketInventoryConfiguration,
    DeleteBucketInventoryConfiguration,
    ListBucketInventoryConfigurations,
    GetBucketMetricsConfiguration,
    PutBucketMetricsConfiguration,
    DeleteBucketMetricsConfiguration,
    ListBucketMetricsConfigurations,
    GetBucketIntelligentTieringConfiguration,
    PutBucketIntelligentTieringConfiguration,
    DeleteBucketIntelligentTieringConfiguration,
    ListBucketIntelligentTieringConfigurations,
    CreateBucketMetadataTableConfiguration,
    GetBucketMetadataTableConfiguration,
    DeleteBucketMetadataTableConfiguration,
    CreateBucketMetadataConfiguration,
    GetBucketMetadataConfiguration,
    DeleteBucketMetadataConfiguration,
    UpdateBucketMetadataInventoryTableConfiguration,
    UpdateBucketMetadataJournalTableConfiguration,
    // Objects.
    GetObject,
    HeadObject,
    PutObject,
    CopyObject,
    DeleteObject,
    /// Directory buckets: `PUT /bucket/key?renameObject`.
    RenameObject,
    /// `PUT /bucket/key?encryption`: re-encrypt an object in place. Not served (501); routed
    /// so that it can never be taken for a PutObject of its XML body.
    UpdateObjectEncryption,
    GetObjectAcl,
    PutObjectAcl,
    GetObjectTagging,
    PutObjectTagging,
    DeleteObjectTagging,
    GetObjectRetention,
    PutObjectRetention,
    GetObjectLegalHold,
    PutObjectLegalHold,
    GetObjectAttributes,
    GetObjectTorrent,
    RestoreObject,
    SelectObjectContent,
    /// CORS preflight (`OPTIONS /bucket[/key]`), "OPTIONS object" in the AWS REST reference.
    OptionsObject,
    /// S3 Object Lambda: `POST /WriteGetObjectResponse`.
    WriteGetObjectResponse,
    /// `POST /`: an STS call (AssumeRole, GetSessionToken, GetCallerIdentity), its action in
    /// the form-encoded body; the handler answers anything else as S3 does.
    SecurityTokenService,
    // Multipart uploads.
    CreateMultipartUpload,
    UploadPart,
    UploadPartCopy,
    CompleteMultipartUpload,
    AbortMultipartUpload,
    ListParts,
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A classified request: the operation and the decoded, validated bucket and key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub operation: Operation,
    /// `None` only for service-level operations (`ListBuckets`, `WriteGetObjectResponse`).
    pub bucket: Option<String>,
    /// `Some` exactly for object-level operations; never empty.
    pub key: Option<String>,
}

/// The decoded query parameters of one request, in order of appearance.
///
/// Bounded: at most `QUERY_STRING_BYTES_MAX` raw bytes and `QUERY_PARAM_COUNT_MAX`
/// parameters. A name may appear only once (`InvalidArgument` otherwise), so the router, the
/// handlers and the signature check can never disagree about which value counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryParams {
    pairs: Vec<(String, String)>,
}

impl QueryParams {
    /// Parses the raw query string (the part after `?`, without the `?`).
    /// `a` and `a=` both give the value `""`; empty pieces (`a&&b`, a trailing `&`) are skipped.
    pub fn parse(raw_query: &str) -> Result<QueryParams, S3Error> {
        if raw_query.len() > QUERY_STRING_BYTES_MAX {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidURI,
                format!("The query string exceeds {QUERY_STRING_BYTES_MAX} bytes."),
            ));
        }
        let mut pairs: Vec<(String, String)> = Vec::new();
        for piece in raw_query.split('&').filter(|piece| !piece.is_empty()) {
            if pairs.len() == QUERY_PARAM_COUNT_MAX {
                return Err(S3Error::with_message(
                    S3ErrorCode::InvalidURI,
                    format!("The query string has more than {QUERY_PARAM_COUNT_MAX} parameters."),
                ));
            }
            let (raw_name, raw_value) = piece.split_once('=').unwrap_or((piece, ""));
            let name = percent_decode(raw_name, PlusMeans::Space)?;
            let value = percent_decode(raw_value, PlusMeans::Space)?;
            if pairs.iter().any(|(existing, _)| *existing == name) {
                return Err(S3Error::invalid_argument(
                    "A query parameter appears more than once.",
                    &name,
                    &value,
                ));
            }
            pairs.push((name, value));
        }
        Ok(QueryParams { pairs })
    }

    /// The decoded value of `name` (exact, case-sensitive match), `Some("")` for `?name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether `name` is present, with or without a value.
    pub fn has(&self, name: &str) -> bool {
        self.pairs.iter().any(|(n, _)| n == name)
    }

    /// All parameters in order of appearance, decoded.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum PlusMeans {
    Plus,
    Space,
}

/// Decodes `%XX` escapes exactly once. A `%` not followed by two hex digits and a result that
/// is not UTF-8 (including overlong forms such as `%c0%ae`) are `InvalidURI`.
fn percent_decode(raw: &str, plus_means: PlusMeans) -> Result<String, S3Error> {
    let invalid_uri = || S3Error::new(S3ErrorCode::InvalidURI);
    let raw_bytes = raw.as_bytes();
    if !raw_bytes.contains(&b'%') && !(plus_means == PlusMeans::Space && raw.contains('+')) {
        return Ok(raw.to_owned());
    }
    let mut decoded: Vec<u8> = Vec::with_capacity(raw_bytes.len());
    let mut idx = 0;
    while idx < raw_bytes.len() {
        let byte = raw_bytes[idx];
        if byte == b'%' {
            let high = raw_bytes.get(idx + 1).and_then(|b| hex_value(*b));
            let low = raw_bytes.get(idx + 2).and_then(|b| hex_value(*b));
            let (Some(high), Some(low)) = (high, low) else {
                return Err(invalid_uri());
            };
            decoded.push(high << 4 | low);
            idx += 3;
        } else if byte == b'+' && plus_means == PlusMeans::Space {
            decoded.push(b' ');
            idx += 1;
        } else {
            decoded.push(byte);
            idx += 1;
        }
    }
    String::from_utf8(decoded).map_err(|_| invalid_uri())
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// HTTP methods S3 uses; anything else is `MethodNotAllowed`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Method {
    Get,
    Head,
    Put,
    Post,
    Delete,
    Options,
}

impl Method {
    /// Methods are case-sensitive tokens (RFC 9110 §9.1): `get` is not `GET`.
    fn parse(method: &str) -> Option<Method> {
        match method {
            "GET" => Some(Method::Get),
            "HEAD" => Some(Method::Head),
            "PUT" => Some(Method::Put),
            "POST" => Some(Method::Post),
            "DELETE" => Some(Method::Delete),
            "OPTIONS" => Some(Method::Options),
            _ => None,
        }
    }
}

type SubresourceTable = [(&'static str, &'static [(Method, Operation)])];

/// Bucket-level subresources, in precedence order. An entry with no method for the request
/// is `MethodNotAllowed`. Object-only subresources are listed with no methods so that, on a
/// bucket path, they are rejected instead of falling through to `DeleteBucket` & co.
const BUCKET_SUBRESOURCES: &SubresourceTable = {
    use Method::{Delete, Get, Post, Put};
    use Operation as Op;
    &[
        ("location", &[(Get, Op::GetBucketLocation)]),
        ("uploads", &[(Get, Op::ListMultipartUploads)]),
        ("versions", &[(Get, Op::ListObjectVersions)]),
        ("delete", &[(Post, Op::DeleteObjects)]),
        ("acl", &[(Get, Op::GetBucketAcl), (Put, Op::PutBucketAcl)]),
        (
            "policy",
            &[
                (Get, Op::GetBucketPolicy),
                (Put, Op::PutBucketPolicy),
                (Delete, Op::DeleteBucketPolicy),
            ],
        ),
        ("policyStatus", &[(Get, Op::GetBucketPolicyStatus)]),
        (
            "cors",
            &[
                (Get, Op::GetBucketCors),
                (Put, Op::PutBucketCors),
                (Delete, Op::DeleteBucketCors),
            ],
        ),
        (
            "lifecycle",
            &[
                (Get, Op::GetBucketLifecycleConfiguration),
                (Put, Op::PutBucketLifecycleConfiguration),
                (Delete, Op::DeleteBucketLifecycle),
            ],
        ),
        (
            "versioning",
            &[
                (Get, Op::GetBucketVersioning),
                (Put, Op::PutBucketVersioning),
            ],
        ),
        (
            "encryption",
            &[
                (Get, Op::GetBucketEncryption),
                (Put, Op::PutBucketEncryption),
                (Delete, Op::DeleteBucketEncryption),
            ],
        ),
        (
            "object-lock",
            &[
                (Get, Op::GetObjectLockConfiguration),
                (Put, Op::PutObjectLockConfiguration),
            ],
        ),
        (
            "tagging",
            &[
                (Get, Op::GetBucketTagging),
                (Put, Op::PutBucketTagging),
                (Delete, Op::DeleteBucketTagging),
            ],
        ),
        (
            "notification",
            &[
                (Get, Op::GetBucketNotificationConfiguration),
                (Put, Op::PutBucketNotificationConfiguration),
            ],
        ),
        (
            "replication",
            &[
                (Get, Op::GetBucketReplication),
                (Put, Op::PutBucketReplication),
                (Delete, Op::DeleteBucketReplication),
            ],
        ),
        (
            "website",
            &[
                (Get, Op::GetBucketWebsite),
                (Put, Op::PutBucketWebsite),
                (Delete, Op::DeleteBucketWebsite),
            ],
        ),
        (
            "logging",
            &[(Get, Op::GetBucketLogging), (Put, Op::PutBucketLogging)],
        ),
        (
            "ownershipControls",
            &[
                (Get, Op::GetBucketOwnershipControls),
                (Put, Op::PutBucketOwnershipControls),
                (Delete, Op::DeleteBucketOwnershipControls),
            ],
        ),
        (
            "publicAccessBlock",
            &[
                (Get, Op::GetPublicAccessBlock),
                (Put, Op::PutPublicAccessBlock),
                (Delete, Op::DeletePublicAccessBlock),
            ],
        ),
        (
            "accelerate",
            &[
                (Get, Op::GetBucketAccelerateConfiguration),
                (Put, Op::PutBucketAccelerateConfiguration),
            ],
        ),
        (
            "abac",
            &[(Get, Op::GetBucketAbac), (Put, Op::PutBucketAbac)],
        ),
        (
            "requestPayment",
            &[
                (Get, Op::GetBucketRequestPayment),
                (Put, Op::PutBucketRequestPayment),
            ],
        ),
        (
            "analytics",
            &[
                (Get, Op::GetBucketAnalyticsConfiguration),
                (Put, Op::PutBucketAnalyticsConfiguration),
                (Delete, Op::DeleteBucketAnalyticsConfiguration),
            ],
        ),
        (
            "inventory",
            &[
                (Get, Op::GetBucketInventoryConfiguration),
                (Put, Op::PutBucketInventoryConfiguration),
                (Delete, Op::DeleteBucketInventoryConfiguration),
            ],
        ),
        (
            "metrics",
            &[
                (Get, Op::GetBucketMetricsConfiguration),
                (Put, Op::PutBucketMetricsConfiguration),
                (Delete, Op::DeleteBucketMetricsConfiguration),
            ],
        ),
        (
            "intelligent-tiering",
            &[
                (Get, Op::GetBucketIntelligentTieringConfiguration),
                (Put, Op::PutBucketIntelligentTieringConfiguration),
                (Delete, Op::DeleteBucketIntelligentTieringConfiguration),
            ],
        ),
        (
            "metadataTable",
            &[
                (Get, Op::GetBucketMetadataTableConfiguration),
                (Post, Op::CreateBucketMetadataTableConfiguration),
                (Delete, Op::DeleteBucketMetadataTableConfiguration),
            ],
        ),
        (
            "metadataConfiguration",
            &[
                (Get, Op::GetBucketMetadataConfiguration),
                (Post, Op::CreateBucketMetadataConfiguration),
                (Delete, Op::DeleteBucketMetadataConfiguration),
            ],
        ),
        (
            "metadataInventoryTable",
            &[(Put, Op::UpdateBucketMetadataInventoryTableConfiguration)],
        ),
        (
            "metadataJournalTable",
            &[(Put, Op::UpdateBucketMetadataJournalTableConfiguration)],
        ),
        ("session", &[(Get, Op::CreateSession)]),
        // Object-only subresources: never valid on a bucket path.
        ("uploadId", &[]),
        ("retention", &[]),
        ("legal-hold", &[]),
        ("attributes", &[]),
        ("torrent", &[]),
        ("restore", &[]),
        ("select", &[]),
        ("renameObject", &[]),
    ]
};

/// Object-level subresources, in precedence order. Bucket-level names on an object path are
/// ordinary unknown parameters (as in AWS) and do not change the operation.
const OBJECT_SUBRESOURCES: &SubresourceTable = {
    use Method::{Delete, Get, Post, Put};
    use Operation as Op;
    &[
        (
            "uploadId",
            &[
                (Get, Op::ListParts),
                (Put, Op::UploadPart),
                (Post, Op::CompleteMultipartUpload),
                (Delete, Op::AbortMultipartUpload),
            ],
        ),
        ("uploads", &[(Post, Op::CreateMultipartUpload)]),
        ("acl", &[(Get, Op::GetObjectAcl), (Put, Op::PutObjectAcl)]),
        (
            "tagging",
            &[
                (Get, Op::GetObjectTagging),
                (Put, Op::PutObjectTagging),
                (Delete, Op::DeleteObjectTagging),
            ],
        ),
        (
            "retention",
            &[(Get, Op::GetObjectRetention), (Put, Op::PutObjectRetention)],
        ),
        (
            "legal-hold",
            &[(Get, Op::GetObjectLegalHold), (Put, Op::PutObjectLegalHold)],
        ),
        ("attributes", &[(Get, Op::GetObjectAttributes)]),
        ("torrent", &[(Get, Op::GetObjectTorrent)]),
        ("restore", &[(Post, Op::RestoreObject)]),
        ("select", &[(Post, Op::SelectObjectContent)]),
        ("renameObject", &[(Put, Op::RenameObject)]),
        ("encryption", &[(Put, Op::UpdateObjectEncryption)]),
    ]
};

/// What the router reads from the request headers.
#[derive(Debug, Clone, Copy, Default)]
pub struct RouteHeaders<'a> {
    /// The bucket a virtual-host `Host` names ([`bucket_from_host`]); the path is then the key.
    pub host_bucket: Option<&'a str>,
    /// `x-amz-copy-source` is present (it turns `PutObject` into `CopyObject` and `UploadPart`
    /// into `UploadPartCopy`).
    pub has_copy_source_header: bool,
    /// The raw `Content-Type` value: `POST /bucket` is `PostObject` only for
    /// [`form_data_content_type`].
    pub content_type: Option<&'a [u8]>,
}

/// The bucket named by a virtual-host-style `Host` (`bucket.<domain>[:port]`, domains
/// compared case-insensitively, the longest match wins); `None` for path-style hosts (the
/// domain itself, an IP address, any other name).
pub fn bucket_from_host<'h>(host: &'h str, domains: &[String]) -> Option<&'h str> {
    let host = host.trim();
    if host.starts_with('[') {
        return None;
    }
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        Some(_) => return None,
        None => host,
    };
    let name = name.strip_suffix('.').unwrap_or(name);
    domains
        .iter()
        .filter_map(|domain| {
            let split = name.len().checked_sub(domain.len() + 1)?;
            let (bucket, suffix) = (name.get(..split)?, name.get(split..)?);
            let matches = suffix.as_bytes().first() == Some(&b'.')
                && suffix[1..].eq_ignore_ascii_case(domain);
            (matches && !bucket.is_empty()).then_some((domain.len(), bucket))
        })
        .max_by_key(|(domain_bytes, _)| *domain_bytes)
        .map(|(_, bucket)| bucket)
}

/// The parsed `Content-Type` of a browser POST upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormDataContentType {
    /// The `boundary` parameter (quotes removed), `None` if absent or empty.
    pub boundary: Option<String>,
}

/// The one reading of `Content-Type` that makes a POST a form upload (BAD-INPUTS Z9): media
/// type exactly `multipart/form-data` (any case), optionally followed by `;` parameters.
/// `multipart/form-data-evil` or `text/plain; multipart/form-data` are not.
pub fn form_data_content_type(content_type: &[u8]) -> Option<FormDataContentType> {
    let text = std::str::from_utf8(content_type).ok()?;
    let (media_type, parameters) = text.split_once(';').unwrap_or((text, ""));
    if !media_type
        .trim_matches(|c| c == ' ' || c == '\t')
        .eq_ignore_ascii_case("multipart/form-data")
    {
        return None;
    }
    // Bounded by the header length.
    let boundary = parameters.split(';').find_map(|parameter| {
        let (name, value) = parameter.split_once('=')?;
        name.trim().eq_ignore_ascii_case("boundary").then(|| {
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            value.to_owned()
        })
    });
    Some(FormDataContentType {
        boundary: boundary.filter(|boundary| !boundary.is_empty()),
    })
}

/// Classifies one request with path-style addressing and no `Content-Type`; see
/// [`route_with`].
pub fn route(
    method: &str,
    raw_path: &str,
    query: &QueryParams,
    has_copy_source_header: bool,
) -> Result<Route, S3Error> {
    let headers = RouteHeaders {
        has_copy_source_header,
        ..RouteHeaders::default()
    };
    route_with(method, raw_path, query, &headers)
}

/// Classifies one request.
///
/// `raw_path` is the request-target up to (not including) `?`, exactly as received;
/// `query` is the parsed query. With `headers.host_bucket` the path is the key (virtual-host
/// addressing), else the first path segment is the bucket.
pub fn route_with(
    method: &str,
    raw_path: &str,
    query: &QueryParams,
    headers: &RouteHeaders<'_>,
) -> Result<Route, S3Error> {
    let Some(path_rest) = raw_path.strip_prefix('/') else {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidURI,
            "The request-target must be an absolute path starting with '/'.",
        ));
    };
    let Some(method) = Method::parse(method) else {
        return Err(method_not_allowed(method, raw_path));
    };
    let has_copy_source_header = headers.has_copy_source_header;
    let is_form = headers
        .content_type
        .is_some_and(|value| form_data_content_type(value).is_some());
    let virtual_path;
    let path_rest = match headers.host_bucket {
        Some(bucket) => {
            // Bucket names hold no characters that need escaping.
            virtual_path = format!("{bucket}/{path_rest}");
            virtual_path.as_str()
        }
        None => path_rest,
    };
    if path_rest.is_empty() {
        return route_service(method, raw_path);
    }
    let (raw_bucket, raw_key) = path_rest.split_once('/').unwrap_or((path_rest, ""));
    if raw_bucket == "WriteGetObjectResponse" && raw_key.is_empty() && method == Method::Post {
        return Ok(Route {
            operation: Operation::WriteGetObjectResponse,
            bucket: None,
            key: None,
        });
    }
    let bucket = percent_decode(raw_bucket, PlusMeans::Plus)?;
    validate_bucket_name(&bucket).map_err(|err| bucket_name_error(&err, &bucket))?;
    if raw_key.is_empty() {
        let operation = route_bucket(method, query, raw_path, is_form)?;
        return Ok(Route {
            operation,
            bucket: Some(bucket),
            key: None,
        });
    }
    let key = percent_decode(raw_key, PlusMeans::Plus)?;
    validate_object_key(&key).map_err(|err| object_key_error(&err))?;
    let operation = route_object(method, query, has_copy_source_header, raw_path)?;
    Ok(Route {
        operation,
        bucket: Some(bucket),
        key: Some(key),
    })
}

fn route_service(method: Method, raw_path: &str) -> Result<Route, S3Error> {
    match method {
        // HEAD / is a liveness probe of some clients (Veeam): answer it like ListBuckets.
        Method::Get | Method::Head => Ok(Route {
            operation: Operation::ListBuckets,
            bucket: None,
            key: None,
        }),
        Method::Post => Ok(Route {
            operation: Operation::SecurityTokenService,
            bucket: None,
            key: None,
        }),
        Method::Put | Method::Delete | Method::Options => {
            Err(method_not_allowed(method_name(method), raw_path))
        }
    }
}

fn route_bucket(
    method: Method,
    query: &QueryParams,
    raw_path: &str,
    is_form: bool,
) -> Result<Operation, S3Error> {
    if let Some(operation) = select_subresource(BUCKET_SUBRESOURCES, method, query, raw_path)? {
        return Ok(list_when_no_id(operation, query));
    }
    match method {
        Method::Get if query.get("list-type") == Some("2") => Ok(Operation::ListObjectsV2),
        Method::Get => Ok(Operation::ListObjects),
        Method::Head => Ok(Operation::HeadBucket),
        Method::Put => Ok(Operation::CreateBucket),
        Method::Post if is_form => Ok(Operation::PostObject),
        // AWS's answer to a bucket POST that is not a form upload.
        Method::Post => Err(S3Error::with_message(
            S3ErrorCode::PreconditionFailed,
            "At least one of the pre-conditions you specified did not hold",
        )
        .extra(
            "Condition",
            "Bucket POST must be of the enclosure-type multipart/form-data",
        )),
        Method::Delete => Ok(Operation::DeleteBucket),
        Method::Options => Ok(Operation::OptionsObject),
    }
}

/// `GET ?analytics` without `id` lists the configurations; with `id` it gets one.
fn list_when_no_id(operation: Operation, query: &QueryParams) -> Operation {
    if query.has("id") {
        return operation;
    }
    match operation {
        Operation::GetBucketAnalyticsConfiguration => Operation::ListBucketAnalyticsConfigurations,
        Operation::GetBucketInventoryConfiguration => Operation::ListBucketInventoryConfigurations,
        Operation::GetBucketMetricsConfiguration => Operation::ListBucketMetricsConfigurations,
        Operation::GetBucketIntelligentTieringConfiguration => {
            Operation::ListBucketIntelligentTieringConfigurations
        }
        other => other,
    }
}

fn route_object(
    method: Method,
    query: &QueryParams,
    has_copy_source_header: bool,
    raw_path: &str,
) -> Result<Operation, S3Error> {
    if let Some(operation) = select_subresource(OBJECT_SUBRESOURCES, method, query, raw_path)? {
        return match operation {
            Operation::UploadPart if !query.has("partNumber") => Err(S3Error::invalid_argument(
                "UploadPart requires a partNumber query parameter.",
                "partNumber",
                "",
            )),
            Operation::UploadPart if has_copy_source_header => Ok(Operation::UploadPartCopy),
            Operation::SelectObjectContent if query.get("select-type") != Some("2") => {
                Err(S3Error::invalid_argument(
                    "SelectObjectContent requires select-type=2.",
                    "select-type",
                    query.get("select-type").unwrap_or(""),
                ))
            }
            other => Ok(other),
        };
    }
    match method {
        Method::Get => Ok(Operation::GetObject),
        Method::Head => Ok(Operation::HeadObject),
        Method::Put if has_copy_source_header => Ok(Operation::CopyObject),
        Method::Put => Ok(Operation::PutObject),
        Method::Delete => Ok(Operation::DeleteObject),
        Method::Options => Ok(Operation::OptionsObject),
        Method::Post => Err(method_not_allowed("POST", raw_path)),
    }
}

/// Whether the query parameter `name` chooses the operation (a sub-resource of either
/// table). `list-type` is not counted: it picks between two forms of the same listing, with
/// the same rights. `SigV2`, which signs only a fixed list of sub-resources, refuses requests
/// whose operation it did not sign.
pub fn is_operation_parameter(name: &str) -> bool {
    BUCKET_SUBRESOURCES
        .iter()
        .chain(OBJECT_SUBRESOURCES)
        .any(|(subresource, _)| *subresource == name)
}

/// The operation named by the one subresource present, `None` when there is none.
/// Two subresources at once are ambiguous and rejected (`InvalidRequest`).
fn select_subresource(
    table: &SubresourceTable,
    method: Method,
    query: &QueryParams,
    raw_path: &str,
) -> Result<Option<Operation>, S3Error> {
    let mut present = table.iter().filter(|(name, _)| query.has(name));
    let Some((name, methods)) = present.next() else {
        return Ok(None);
    };
    if let Some((other, _)) = present.next() {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            format!("The subresources '{name}' and '{other}' cannot be combined."),
        ));
    }
    let operation = methods
        .iter()
        .find(|(m, _)| *m == method)
        .map(|(_, op)| *op);
    match operation {
        Some(operation) => Ok(Some(operation)),
        None => Err(method_not_allowed(method_name(method), raw_path)),
    }
}

fn method_name(method: Method) -> &'static str {
    match method {
        Method::Get => "GET",
        Method::Head => "HEAD",
        Method::Put => "PUT",
        Method::Post => "POST",
        Method::Delete => "DELETE",
        Method::Options => "OPTIONS",
    }
}

/// S3's answer to a method a resource does not take.
pub fn method_not_allowed(method: &str, raw_path: &str) -> S3Error {
    S3Error::new(S3ErrorCode::MethodNotAllowed)
        .resource(raw_path)
        .extra("Method", method)
}

fn bucket_name_error(err: &NameError, bucket: &str) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::InvalidBucketName,
        format!("The specified bucket is not valid: {err}."),
    )
    .extra("BucketName", bucket)
}

fn object_key_error(err: &NameError) -> S3Error {
    match err {
        NameError::KeyTooLong { .. } => S3Error::new(S3ErrorCode::KeyTooLongError),
        _ => S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            format!("Invalid object key: {err}."),
        ),
    }
}

/// Parses a `partNumber` query value: ASCII digits only, 1 ..= 10,000. Anything else
/// (`0`, `10001`, `-1`, `+1`, `1e3`, `0x10`, empty) is `InvalidArgument`, as AWS answers.
pub fn parse_part_number(value: &str) -> Result<u32, S3Error> {
    use base::limits::{PART_NUMBER_MAX, PART_NUMBER_MIN};
    let invalid = || {
        S3Error::invalid_argument(
            format!(
                "Part number must be an integer between {PART_NUMBER_MIN} and \
                 {PART_NUMBER_MAX}, inclusive"
            ),
            "partNumber",
            value,
        )
    };
    if value.is_empty() || value.len() > 5 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let part_number: u32 = value.parse().map_err(|_| invalid())?;
    if !(PART_NUMBER_MIN..=PART_NUMBER_MAX).contains(&part_number) {
        return Err(invalid());
    }
    Ok(part_number)
}

#[cfg(test)]
mod tests;
