//! The limits of the system as unit-suffixed constants, each with the source of its number.
//!
//! Every loop over client input, every buffer and every queue is bounded by one of these.
//! This module only declares numbers and compile-time relations between them; it never
//! enforces anything itself (callers compare and answer with the matching S3 error).

/// Longest object key, in bytes of UTF-8. AWS S3 user guide, "Naming Amazon S3 objects":
/// "The object key name is a sequence of Unicode characters with UTF-8 encoding of up to
/// 1,024 bytes long". Longer keys get `KeyTooLongError`.
pub const KEY_LENGTH_BYTES_MAX: usize = 1024;

/// Shortest bucket name. AWS S3 user guide, "General purpose bucket naming rules".
pub const BUCKET_NAME_LENGTH_BYTES_MIN: usize = 3;

/// Longest bucket name. AWS S3 user guide, "General purpose bucket naming rules".
pub const BUCKET_NAME_LENGTH_BYTES_MAX: usize = 63;

/// Smallest multipart part number. AWS `UploadPart` API reference: "Part numbers can be any
/// number from 1 to 10,000, inclusive".
pub const PART_NUMBER_MIN: u32 = 1;

/// Largest multipart part number, which is also the most parts an upload may have.
/// AWS user guide "Amazon S3 multipart upload limits"; `MinIO` `globalMaxPartID`.
pub const PART_NUMBER_MAX: u32 = 10_000;

/// Smallest size of every part but the last. AWS "Amazon S3 multipart upload limits":
/// 5 MiB; smaller non-last parts make `CompleteMultipartUpload` fail with `EntityTooSmall`.
pub const PART_SIZE_BYTES_MIN: u64 = 5 * 1024 * 1024;

/// Largest part. AWS "Amazon S3 multipart upload limits": 5 GiB.
pub const PART_SIZE_BYTES_MAX: u64 = 5 * 1024 * 1024 * 1024;

/// Largest single `PutObject` body. AWS `PutObject` documentation: 5 GiB in one PUT.
pub const PUT_OBJECT_SIZE_BYTES_MAX: u64 = 5 * 1024 * 1024 * 1024;

/// Largest object. AWS "Amazon S3 multipart upload limits" (older pages): 5 TiB. The current
/// AWS page says 48.8 TiB; we keep the long-standing 5 TiB until we have a reason to change.
pub const OBJECT_SIZE_BYTES_MAX: u64 = 5 * 1024 * 1024 * 1024 * 1024;

/// Most keys, common prefixes, uploads or parts returned by one listing page
/// (`ListObjects` v1/v2, `ListObjectVersions`, `ListMultipartUploads`, `ListParts`).
/// AWS API reference: `max-keys` "returns up to 1,000 key names".
pub const LIST_KEYS_MAX: u32 = 1000;

/// Most objects in one `DeleteObjects` request. AWS `DeleteObjects` API reference: "up to 1,000
/// keys"; more is `MalformedXML`.
pub const DELETE_OBJECTS_KEYS_MAX: usize = 1000;

/// All headers of a PUT (PutObject, CreateMultipartUpload, CopyObject) together: AWS limits
/// the PUT request header to 8 KB (user guide, "Working with object metadata").
pub const PUT_HEADER_BYTES_MAX: usize = 8 * 1024;

/// Largest user-defined metadata (`x-amz-meta-*` names plus values), in bytes.
/// AWS user guide "Working with object metadata": "limited to 2 KB"; `MinIO` `maxUserDataSize`.
pub const USER_METADATA_BYTES_MAX: usize = 2048;

/// Largest request head (request line plus headers) we buffer before answering 431.
/// `MinIO` caps object-write headers at 8 KiB and all headers at 1 MiB; 64 KiB fits every
/// client we measured (S3-CLIENTS.md) with room for long presigned query strings.
pub const REQUEST_HEAD_BYTES_MAX: usize = 64 * 1024;

/// Most header fields in one request head; more is 431. httparse needs a fixed slot array
/// (BAD-INPUTS.md §4: 201 headers into 64 slots is `TooManyHeaders`); real clients send < 30.
pub const REQUEST_HEADER_COUNT_MAX: usize = 100;

/// Longest raw query string (after `?`, before decoding). Presigned URLs with a session
/// token are about 2 KiB; 16 KiB bounds the parser while leaving a wide margin.
pub const QUERY_STRING_BYTES_MAX: usize = 16 * 1024;

/// Most query parameters in one request. S3 requests carry at most ~15 (presigned URL plus
/// response overrides); 100 bounds the parser.
pub const QUERY_PARAM_COUNT_MAX: usize = 100;

/// Largest XML request body we read and parse (`CompleteMultipartUpload` with 10,000 parts
/// and checksums is about 1.3 MiB; `DeleteObjects` with 1000 keys of 1024 bytes about 1.1 MiB).
/// BAD-INPUTS.md X3: the cap is enforced while reading, before parsing.
pub const XML_BODY_BYTES_MAX: usize = 2 * 1024 * 1024;

/// Largest lifecycle configuration document (PutBucketLifecycleConfiguration): 1000 rules of
/// a few hundred bytes each fit; a larger body is refused while it is read.
pub const LIFECYCLE_BODY_BYTES_MAX: usize = 1024 * 1024;

/// Largest CORS configuration document (PutBucketCors). AWS S3 user guide, "CORS
/// configuration": the configuration is limited to 64 KB.
pub const CORS_CONFIGURATION_BYTES_MAX: usize = 64 * 1024;

/// Most rules in one CORS configuration. AWS S3 user guide, "CORS configuration": up to 100.
pub const CORS_RULE_COUNT_MAX: usize = 100;

/// Deepest element nesting our XML parsers accept (S3 request bodies are at most ~6 deep).
/// BAD-INPUTS.md X4: 100k-deep nesting must be rejected, never recursed into.
pub const XML_DEPTH_MAX: usize = 32;

/// Largest allowed difference between the request's `x-amz-date` and our clock.
/// AWS `SigV4` documentation and `MinIO` `globalMaxSkewTime`: 15 minutes.
pub const CLOCK_SKEW_SECS_MAX: u64 = 900;

/// Longest validity of a presigned URL (`X-Amz-Expires`). AWS `SigV4` query auth
/// documentation: 7 days = 604,800 seconds; `MinIO` and `MaxIOFS` agree.
pub const PRESIGNED_EXPIRES_SECS_MAX: u64 = 604_800;

/// Shortest validity of a presigned URL (`X-Amz-Expires`); 0 is
/// `AuthorizationQueryParametersError`.
pub const PRESIGNED_EXPIRES_SECS_MIN: u64 = 1;

/// Most tags on one object. AWS user guide "Categorizing your storage using tags": 10.
pub const OBJECT_TAG_COUNT_MAX: usize = 10;

/// Most tags on one bucket. AWS "Using cost allocation S3 bucket tags": 50.
pub const BUCKET_TAG_COUNT_MAX: usize = 50;

/// Most grants in one ACL. Ceph `rgw_acl_grants_max_num`; AWS documents 100 grants.
pub const ACL_GRANT_COUNT_MAX: usize = 100;

/// Longest path segment of an object key when it is shown as a file-system-like path.
/// `MinIO` `cmd/object-api-utils.go`; informational only: we store keys opaquely.
pub const KEY_SEGMENT_BYTES_MAX: usize = 255;

/// Idle time allowed while reading a request head. `MinIO` `internal/http/server.go`: 30 s.
pub const REQUEST_HEAD_READ_TIMEOUT_SECS: u64 = 30;

/// Idle time allowed between body reads or between keep-alive requests. `MinIO`: 30 s.
pub const CONNECTION_IDLE_TIMEOUT_SECS: u64 = 30;

/// Slowest request body accepted once the grace time below has passed, in bytes per second:
/// a body must average at least this rate, or the request ends with RequestTimeout. An idle
/// timeout alone lets a client hold a connection (and a partition's write reservation) for
/// ever by sending one byte every few seconds. Apache's `mod_reqtimeout` default is 500 B/s.
pub const BODY_RATE_BYTES_PER_SEC_MIN: u64 = 1024;

/// How long a body may take before the minimum rate applies (slow starts, TCP windows).
pub const BODY_RATE_GRACE_SECS: u64 = 20;

/// Connections one shard serves at once; one more accepted gets 503 SlowDown and is closed.
/// An idle connection costs a task and a small read buffer (a few KiB); the cap bounds the
/// total whatever clients do.
pub const CONNECTIONS_PER_SHARD_MAX: u32 = 4096;

const _: () = assert!(PART_SIZE_BYTES_MIN < PART_SIZE_BYTES_MAX);
const _: () = assert!(PART_SIZE_BYTES_MAX * (PART_NUMBER_MAX as u64) >= OBJECT_SIZE_BYTES_MAX);
const _: () = assert!(PUT_OBJECT_SIZE_BYTES_MAX <= OBJECT_SIZE_BYTES_MAX);
const _: () = assert!(PRESIGNED_EXPIRES_SECS_MIN <= PRESIGNED_EXPIRES_SECS_MAX);
const _: () = assert!(BUCKET_NAME_LENGTH_BYTES_MIN <= BUCKET_NAME_LENGTH_BYTES_MAX);
const _: () = assert!(QUERY_STRING_BYTES_MAX < REQUEST_HEAD_BYTES_MAX);
