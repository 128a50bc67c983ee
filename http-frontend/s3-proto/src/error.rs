//! The S3 error-code table: every code we answer with, its HTTP status, its default message,
//! and the XML error document built from it.
//!
//! This module decides only code → status + message + XML. It never decides *which* code a
//! failure gets: that mapping lives in one place in the front end (`s3_error.rs`). It does no
//! IO and knows nothing about engine errors.
//!
//! Naming rule: every variant is spelled exactly as the code it puts on the wire, so
//! `S3ErrorCode::NoSuchKey.as_str() == "NoSuchKey"`, except codes that are not identifiers,
//! which give their wire name (`KmsNotFoundException = "KMS.NotFoundException"`). Two codes are
//! not AWS's:
//! - `XMinioStorageFull` (507) for a full disk: AWS never runs out of space, so it has no code;
//!   `MinIO`'s name is what self-hosted S3 tooling already knows, and 507 is the status
//!   BAD-INPUTS.md §3 asks us to keep.
//! - `QuotaExceeded` (403) for a tenant or bucket quota, the code Ceph RGW uses.
//!
//! `BadRequest` (400) is for HTTP framing errors that have no S3 code (request smuggling
//! shapes, a malformed chunked body); `RequestHeaderSectionTooLarge` (431) for an oversized
//! head or too many headers. Checksum mismatches use `BadDigest` as AWS does;
//! `XAmzContentSHA256Mismatch` is only for the signed payload hash.

use std::fmt::Write as _;

/// The `<Code>` of a variant: its name, or the wire name given after `=` for the few codes
/// that are not Rust identifiers (`KMS.NotFoundException`).
macro_rules! wire_name {
    ($variant:ident) => {
        stringify!($variant)
    };
    ($variant:ident, $wire:literal) => {
        $wire
    };
}

macro_rules! s3_error_codes {
    ($(
        $(#[$doc:meta])* $variant:ident $(= $wire:literal)? => $status:literal, $message:literal;
    )*) => {
        /// One S3 error code, spelled as it appears in `<Code>`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum S3ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl S3ErrorCode {
            /// Every code, in declaration order (for tables, metrics and tests).
            pub const ALL: &'static [S3ErrorCode] = &[ $( S3ErrorCode::$variant, )* ];

            /// The `<Code>` value: the variant name, or its wire name where one is given.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( S3ErrorCode::$variant => wire_name!($variant $(, $wire)?), )*
                }
            }

            /// The HTTP status code sent with this error.
            pub fn http_status(self) -> u16 {
                match self {
                    $( S3ErrorCode::$variant => $status, )*
                }
            }

            /// The `<Message>` sent when the caller gives none (AWS's wording where it has one).
            pub fn default_message(self) -> &'static str {
                match self {
                    $( S3ErrorCode::$variant => $message, )*
                }
            }
        }
    };
}

s3_error_codes! {
    AccessDenied => 403, "Access Denied";
    /// A CORS preflight the bucket's rules do not allow (or a bucket without CORS).
    AccessForbidden => 403, "CORSResponse: This CORS request is not allowed.";
    /// An ACL on a bucket whose ACLs are disabled (Object Ownership `BucketOwnerEnforced`).
    AccessControlListNotSupported => 400, "The bucket does not allow ACLs";
    AccountProblem => 403, "There is a problem with your account that prevents the \
        operation from completing successfully.";
    AllAccessDisabled => 403, "All access to this Amazon S3 resource has been disabled.";
    AuthorizationHeaderMalformed => 400, "The authorization header that you provided is not \
        valid.";
    AuthorizationQueryParametersError => 400, "Error parsing the X-Amz-Credential parameter.";
    BadDigest => 400, "The Content-MD5 or checksum value that you specified did not match \
        what the server received.";
    /// HTTP framing error with no S3 code (smuggling shapes, malformed chunked body).
    BadRequest => 400, "Bad Request";
    BucketAlreadyExists => 409, "The requested bucket name is not available. The bucket \
        namespace is shared by all users of the system. Select a different name and try again.";
    BucketAlreadyOwnedByYou => 409, "The bucket that you tried to create already exists, and \
        you own it.";
    BucketNotEmpty => 409, "The bucket that you tried to delete is not empty.";
    ConditionalRequestConflict => 409, "A conflicting operation occurred. If using \
        PutObject you can retry the request.";
    CredentialsNotSupported => 400, "This request does not support credentials.";
    EntityTooLarge => 400, "Your proposed upload exceeds the maximum allowed object size.";
    EntityTooSmall => 400, "Your proposed upload is smaller than the minimum allowed object \
        size.";
    ExpiredToken => 400, "The provided token has expired.";
    IllegalLocationConstraintException => 400, "The specified location constraint is not \
        valid.";
    IllegalVersioningConfigurationException => 400, "The versioning configuration specified \
        in the request is not valid.";
    IncompleteBody => 400, "You did not provide the number of bytes specified by the \
        Content-Length HTTP header.";
    InternalError => 500, "We encountered an internal error. Please try again.";
    InvalidAccessKeyId => 403, "The AWS access key ID that you provided does not exist in our \
        records.";
    InvalidArgument => 400, "Invalid Argument";
    /// A bucket ACL granting anyone but the owner on a bucket created with ACLs disabled.
    InvalidBucketAclWithObjectOwnership => 400, "Bucket cannot have ACLs set with \
        ObjectOwnership's BucketOwnerEnforced setting";
    InvalidBucketName => 400, "The specified bucket is not valid.";
    InvalidBucketState => 409, "The request is not valid for the current state of the \
        bucket.";
    InvalidDigest => 400, "The Content-MD5 or checksum value that you specified is not \
        valid.";
    InvalidEncryptionAlgorithmError => 400, "The encryption request that you specified is not \
        valid. The valid value is AES256.";
    InvalidLocationConstraint => 400, "The specified location constraint is not valid.";
    InvalidObjectState => 403, "The operation is not valid for the current state of the \
        object.";
    InvalidPart => 400, "One or more of the specified parts could not be found. The part \
        might not have been uploaded, or the specified entity tag might not have matched the \
        part's entity tag.";
    /// GetObject/HeadObject `?partNumber=` beyond the object's part count.
    InvalidPartNumber => 416, "The requested partnumber is not satisfiable";
    InvalidPartOrder => 400, "The list of parts was not in ascending order. The parts list \
        must be specified in order by part number.";
    InvalidPolicyDocument => 400, "The content of the form does not meet the conditions \
        specified in the policy document.";
    InvalidRange => 416, "The requested range is not satisfiable.";
    InvalidRequest => 400, "Invalid Request";
    /// SSE-KMS with a key this server cannot use (it has no KMS): refused, never plaintext.
    KmsNotFoundException = "KMS.NotFoundException" => 400, "Invalid keyId";
    InvalidStorageClass => 400, "The storage class that you specified is not valid.";
    InvalidTag => 400, "The tag provided was not a valid tag.";
    InvalidToken => 400, "The provided token is malformed or otherwise not valid.";
    InvalidURI => 400, "The specified URI couldn't be parsed.";
    KeyTooLongError => 400, "Your key is too long.";
    MalformedACLError => 400, "The ACL that you provided was not well formed or did not \
        validate against our published schema.";
    MalformedPOSTRequest => 400, "The body of your POST request is not well-formed \
        multipart/form-data.";
    MalformedPolicy => 400, "Policy has invalid resource.";
    MalformedXML => 400, "The XML that you provided was not well formed or did not validate \
        against our published schema.";
    MaxMessageLengthExceeded => 400, "Your request was too large.";
    MaxPostPreDataLengthExceededError => 400, "Your POST request fields preceding the upload \
        file were too large.";
    MetadataTooLarge => 400, "Your metadata headers exceed the maximum allowed metadata \
        size.";
    MethodNotAllowed => 405, "The specified method is not allowed against this resource.";
    MissingContentLength => 411, "You must provide the Content-Length HTTP header.";
    MissingRequestBodyError => 400, "Request Body is empty.";
    MissingSecurityHeader => 400, "Your request is missing a required header.";
    NoSuchBucket => 404, "The specified bucket does not exist.";
    NoSuchBucketPolicy => 404, "The specified bucket does not have a bucket policy.";
    NoSuchCORSConfiguration => 404, "The specified bucket does not have a CORS \
        configuration.";
    NoSuchKey => 404, "The specified key does not exist.";
    NoSuchLifecycleConfiguration => 404, "The lifecycle configuration does not exist.";
    NoSuchObjectLockConfiguration => 404, "The specified object does not have an ObjectLock \
        configuration.";
    NoSuchPublicAccessBlockConfiguration => 404, "The public access block configuration was \
        not found.";
    NoSuchTagSet => 404, "The TagSet does not exist.";
    NoSuchUpload => 404, "The specified multipart upload does not exist. The upload ID \
        might not be valid, or the multipart upload might have been aborted or completed.";
    NoSuchVersion => 404, "The version ID specified in the request does not match an \
        existing version.";
    NoSuchWebsiteConfiguration => 404, "The specified bucket does not have a website \
        configuration.";
    /// Sent with 304 and no body on GET/HEAD (conditional requests); listed for metrics.
    NotModified => 304, "Not Modified";
    NotImplemented => 501, "A header or query you provided implies functionality that is \
        not implemented.";
    ObjectLockConfigurationNotFoundError => 404, "Object Lock configuration does not exist \
        for this bucket.";
    OperationAborted => 409, "A conflicting conditional operation is currently in progress \
        against this resource. Try again.";
    OwnershipControlsNotFoundError => 404, "The bucket ownership controls were not found.";
    PreconditionFailed => 412, "At least one of the preconditions that you specified did not \
        hold.";
    /// Tenant or bucket quota exhausted (Ceph RGW's code; AWS has none).
    QuotaExceeded => 403, "The quota for this bucket or account has been exceeded.";
    ReplicationConfigurationNotFoundError => 404, "The replication configuration was not \
        found.";
    RequestHeaderSectionTooLarge => 431, "Your request header section exceeds the maximum \
        allowed size.";
    RequestIsNotMultiPartContent => 400, "Bucket POST must be of the enclosure-type \
        multipart/form-data.";
    RequestTimeTooSkewed => 403, "The difference between the request time and the server's \
        time is too large.";
    RequestTimeout => 400, "Your socket connection to the server was not read from or \
        written to within the timeout period.";
    RestoreAlreadyInProgress => 409, "The object restore is already in progress.";
    ServerSideEncryptionConfigurationNotFoundError => 404, "The server side encryption \
        configuration was not found.";
    ServiceUnavailable => 503, "Service is unable to handle request.";
    SignatureDoesNotMatch => 403, "The request signature that we calculated does not match \
        the signature that you provided. Check your key and signing method.";
    SlowDown => 503, "Please reduce your request rate.";
    TooManyBuckets => 400, "You have attempted to create more buckets than are allowed.";
    UnexpectedContent => 400, "This request contains unsupported content.";
    UnresolvableGrantByEmailAddress => 400, "The email address you provided does not match \
        any account on record.";
    XAmzContentSHA256Mismatch => 400, "The provided 'x-amz-content-sha256' header does not \
        match what was computed.";
    /// Disk full (`MinIO`'s code; AWS has none). See the module documentation.
    XMinioStorageFull => 507, "Storage backend has reached its minimum free drive threshold. \
        Please delete a few objects to proceed.";
}

impl std::fmt::Display for S3ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One S3 error response, before the request id is attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Error {
    pub code: S3ErrorCode,
    /// `<Message>`; `None` sends the code's default message.
    pub message: Option<String>,
    /// `<Resource>`, usually the request path (`/bucket/key`); omitted when `None`.
    pub resource: Option<String>,
    /// Extra elements after `<HostId>`, in order, e.g. `("Key", key)`, `("BucketName", ..)`,
    /// `("ArgumentName", ..)`, `("ArgumentValue", ..)`, `("Region", ..)`, `("MaxSizeAllowed",
    /// ..)`. Names are static identifiers; values are escaped when written.
    pub extra: Vec<(&'static str, String)>,
    /// Response headers the error answer carries besides the usual ones (a delete marker's
    /// `x-amz-delete-marker` and `x-amz-version-id` on a 404 or 405).
    pub headers: Vec<(&'static str, String)>,
    /// Why an AccessDenied was decided, for the server's own records (the audit log); never
    /// sent to the client. `None` for every other error.
    pub denial: Option<Box<Denial>>,
}

/// What decided an AccessDenied: the IAM action and resource that were asked about, and the
/// policy statement that denied them (or that none allowed them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// `s3:GetObject`.
    pub action: String,
    /// `arn:aws:s3:::bucket/key`.
    pub resource: String,
    /// `explicit deny: statement "NoDelete" of user:alice/no-delete`, `implicit deny: no
    /// statement allowed it`, ...
    pub decided_by: String,
    /// A metric label for the denial's kind (`explicit_deny`, `implicit_deny`, ...).
    pub reason: &'static str,
}

impl S3Error {
    /// An error with the code's default message and nothing else.
    pub fn new(code: S3ErrorCode) -> S3Error {
        S3Error {
            code,
            message: None,
            resource: None,
            extra: Vec::new(),
            headers: Vec::new(),
            denial: None,
        }
    }

    /// An error with a specific message.
    pub fn with_message(code: S3ErrorCode, message: impl Into<String>) -> S3Error {
        S3Error {
            code,
            message: Some(message.into()),
            resource: None,
            extra: Vec::new(),
            headers: Vec::new(),
            denial: None,
        }
    }

    /// `InvalidArgument` naming the offending argument, as AWS does.
    pub fn invalid_argument(
        message: impl Into<String>,
        argument_name: &str,
        argument_value: &str,
    ) -> S3Error {
        S3Error::with_message(S3ErrorCode::InvalidArgument, message)
            .extra("ArgumentName", argument_name)
            .extra("ArgumentValue", argument_value)
    }

    /// Sets `<Resource>`.
    #[must_use]
    pub fn resource(mut self, resource: impl Into<String>) -> S3Error {
        self.resource = Some(resource.into());
        self
    }

    /// Appends one response header to the error answer.
    #[must_use]
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> S3Error {
        self.headers.push((name, value.into()));
        self
    }

    /// Appends one extra element.
    #[must_use]
    pub fn extra(mut self, name: &'static str, value: impl Into<String>) -> S3Error {
        self.extra.push((name, value.into()));
        self
    }

    /// Records what decided this denial (for the audit log, not the answer).
    #[must_use]
    pub fn denied_by(mut self, denial: Denial) -> S3Error {
        self.denial = Some(Box::new(denial));
        self
    }

    /// The message that will be sent: the given one, or the code's default.
    pub fn message_or_default(&self) -> &str {
        self.message
            .as_deref()
            .unwrap_or(self.code.default_message())
    }

    /// The HTTP status of this error.
    pub fn http_status(&self) -> u16 {
        self.code.http_status()
    }
}

impl From<S3ErrorCode> for S3Error {
    fn from(code: S3ErrorCode) -> S3Error {
        S3Error::new(code)
    }
}

impl std::fmt::Display for S3Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message_or_default())
    }
}

impl std::error::Error for S3Error {}

/// The XML error document AWS sends:
/// `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>..</Code><Message>..</Message>
/// <Resource>..</Resource><RequestId>..</RequestId><HostId>..</HostId>{extra}</Error>`,
/// every value escaped with [`crate::xml::escape_into`].
pub fn error_response_xml(err: &S3Error, request_id: &str, host_id: &str) -> String {
    let mut out = String::with_capacity(256);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
    push_element(&mut out, "Code", err.code.as_str());
    push_element(&mut out, "Message", err.message_or_default());
    if let Some(resource) = &err.resource {
        push_element(&mut out, "Resource", resource);
    }
    push_element(&mut out, "RequestId", request_id);
    push_element(&mut out, "HostId", host_id);
    for (name, value) in &err.extra {
        push_element(&mut out, name, value);
    }
    out.push_str("</Error>");
    out
}

fn push_element(out: &mut String, name: &str, value: &str) {
    // Element names are static identifiers chosen by our code, never client input.
    debug_assert!(name.bytes().all(|b| b.is_ascii_alphanumeric()));
    let _ = write!(out, "<{name}>");
    crate::xml::escape_into(out, value);
    let _ = write!(out, "</{name}>");
}

#[cfg(test)]
mod tests;
