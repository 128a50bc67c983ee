//! The plain data the shard stores per object, upload and part, and its byte encoding.
//!
//! Encodings are explicit, versioned and little-endian (STYLE.md §4.5); they are stored as SQLite
//! BLOBs, so a schema change never needs a new column for a new header.

/// A run of object bytes inside one segment file.
///
/// `offset_bytes` is block-aligned; the extent occupies `round_up_to_block(length_bytes)` bytes on
/// disk, of which the first `length_bytes` belong to the object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extent {
    pub segment_id: u32,
    pub offset_bytes: u64,
    pub length_bytes: u64,
}

impl Extent {
    pub fn disk_length_bytes(&self) -> u64 {
        crate::aligned::round_up_to_block(self.length_bytes)
    }

    /// How many check blocks (`CHECK_BLOCK_BYTES` each, the last one shorter) cover it.
    pub fn check_block_count(&self) -> usize {
        usize::try_from(self.length_bytes.div_ceil(CHECK_BLOCK_BYTES)).unwrap_or(usize::MAX)
    }
}

/// Every extent is cut into check blocks of this many bytes (the last one of an extent may be
/// shorter); each has a CRC32C of its object bytes (padding excluded) in the record that owns
/// the extent. A read verifies every block it touches before any of its bytes leave the shard.
/// 64 KiB: small enough that a range GET reads little extra, large enough that the checksums
/// of a 5 GiB object (320 KiB) fit in its metadata row.
pub const CHECK_BLOCK_BYTES: u64 = 64 << 10;

/// CRC32C of one check block's object bytes.
pub fn block_checksum(bytes: &[u8]) -> u32 {
    let crc = crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32Iscsi, bytes);
    u32::try_from(crc).expect("a CRC32C fits in 32 bits")
}

/// The check block checksums of a list of extents, flattened in extent order: extent `k`'s
/// `check_block_count()` checksums follow those of extents `0..k`. Empty for records written
/// before checksums existed (encoding version 1): such data is served unverified.
pub type BlockChecksums = Vec<u32>;

/// Whether `checksums` is a complete set for `extents` (the only non-empty shape accepted).
pub fn checksums_cover(extents: &[Extent], checksums: &[u32]) -> bool {
    extents.iter().map(Extent::check_block_count).sum::<usize>() == checksums.len()
}

/// A tag set (object or bucket), in the order the client gave it.
pub type Tags = Vec<(String, String)>;

/// Everything a GET or HEAD needs to answer, as committed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectRecord {
    pub size_bytes: u64,
    /// Quoted-less hex MD5, or `md5-of-md5s-N` for multipart objects.
    pub etag: String,
    pub last_modified_ms: i64,
    /// Stored response headers in the order given: Content-Type, Content-Encoding, Cache-Control,
    /// Content-Disposition, Content-Language, Expires, x-amz-meta-*, x-amz-checksum-*.
    pub headers: Vec<(String, String)>,
    pub extents: Vec<Extent>,
    /// Sizes of the parts of a multipart object, in order; empty for a simple PUT.
    pub part_sizes_bytes: Vec<u64>,
    /// Object tags (`x-amz-tagging`, PutObjectTagging). CopyObject with the COPY tagging
    /// directive copies the source's; REPLACE sets the request's.
    pub tags: Tags,
    /// Base64 checksums of the parts of a multipart object that had an additional checksum,
    /// in part order (GetObjectAttributes `ObjectParts`); empty otherwise.
    pub part_checksums: Vec<String>,
    /// CRC32C of every check block of `extents`; empty when the object was written before
    /// block checksums existed (see `BlockChecksums`).
    pub block_checksums: BlockChecksums,
    /// How the stored bytes are encrypted (SSE-S3, SSE-C); `None`: plaintext.
    pub encryption: Option<crate::encryption::StoredEncryption>,
    /// The version's id; `None` is the `null` version. The partition's worker assigns it when
    /// the write commits (`versions.rs`): what a writer puts here is ignored.
    pub version_id: Option<String>,
    /// A delete marker: no bytes; while it is the latest version the key reads as deleted.
    pub delete_marker: bool,
    /// Object lock retention of this version; `None`: not retained.
    pub retention: Option<ObjectRetention>,
    /// Object lock legal hold of this version.
    pub legal_hold: bool,
    /// Whether PutObjectLegalHold ever set this version's hold (or it was created ON): S3
    /// answers GetObjectLegalHold with NoSuchObjectLockConfiguration for a version that never
    /// had one, and `OFF` for one whose hold was removed.
    pub legal_hold_set: bool,
    /// The version's ACL (`x-amz-acl` / `x-amz-grant-*` when written, PutObjectAcl); `None`:
    /// private. It counts only while the bucket's Object Ownership enables ACLs.
    pub acl: Option<base::acl::Acl>,
}

/// The `legal_hold` column: 0 never set, 1 ON, 2 OFF after having been set.
pub fn legal_hold_column(on: bool, set: bool) -> i64 {
    match (on, set) {
        (true, _) => 1,
        (false, true) => 2,
        (false, false) => 0,
    }
}

pub use base::object_lock::{ObjectRetention, RetentionMode};
pub use base::public_access::PublicAccessBlock;

/// A bucket's versioning state (PutBucketVersioning). A bucket never returns to
/// `Unversioned` once versioning was enabled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Versioning {
    #[default]
    Unversioned,
    Enabled,
    Suspended,
}

impl Versioning {
    /// As stored in `buckets.versioning` (empty: never enabled).
    pub fn as_str(self) -> &'static str {
        match self {
            Versioning::Unversioned => "",
            Versioning::Enabled => "Enabled",
            Versioning::Suspended => "Suspended",
        }
    }

    pub fn parse(value: &str) -> Option<Versioning> {
        match value {
            "" => Some(Versioning::Unversioned),
            "Enabled" => Some(Versioning::Enabled),
            "Suspended" => Some(Versioning::Suspended),
            _ => None,
        }
    }
}

/// Which version of a key a request names (`versionId`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VersionRef {
    /// `null`: the version written while the bucket was unversioned or suspended.
    Null,
    Id(String),
}

impl VersionRef {
    /// A client's `versionId`: `null`, or an id of the shape this server issues
    /// (`versions::is_version_id`). `None`: malformed (S3's InvalidArgument "Invalid version
    /// id specified"); a well-formed id that names nothing is the lookup's NoSuchVersion.
    pub fn parse(value: &str) -> Option<VersionRef> {
        if value == "null" {
            return Some(VersionRef::Null);
        }
        crate::versions::is_version_id(value).then(|| VersionRef::Id(value.to_owned()))
    }

    /// The id as a client sees it (`null` for the null version).
    pub fn as_str(&self) -> &str {
        match self {
            VersionRef::Null => "null",
            VersionRef::Id(id) => id,
        }
    }
}

/// One row of a listing page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListEntry {
    pub key: Vec<u8>,
    pub size_bytes: u64,
    pub etag: String,
    pub last_modified_ms: i64,
    /// `CRC32`, `CRC32C`, `CRC64NVME`, `SHA1` or `SHA256` when the object has a checksum.
    pub checksum_algorithm: Option<String>,
}

/// Where a listing page starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListStart {
    /// Strictly after this key (continuation after a returned key, or start-after).
    After(Vec<u8>),
    /// At or after this key (skipping past a common prefix).
    AtOrAfter(Vec<u8>),
}

/// A multipart upload in progress.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UploadRecord {
    pub upload_id: String,
    pub bucket: String,
    pub key: String,
    pub initiated_ms: i64,
    pub headers: Vec<(String, String)>,
    /// Tags the completed object gets (`x-amz-tagging` on CreateMultipartUpload).
    pub tags: Tags,
    /// The additional checksum every part carries and the object gets, if one was asked for.
    pub checksum: Option<UploadChecksum>,
    /// The encryption every part uses (SSE-C: the key each UploadPart must present).
    pub encryption: Option<crate::encryption::EncryptionMode>,
    /// The ACL the completed object gets (`x-amz-acl` / `x-amz-grant-*` on
    /// CreateMultipartUpload); `None`: private.
    pub acl: Option<base::acl::Acl>,
}

/// `x-amz-checksum-algorithm` and `x-amz-checksum-type` of a multipart upload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadChecksum {
    /// `CRC32`, `CRC32C`, `CRC64NVME`, `SHA1` or `SHA256`.
    pub algorithm: String,
    /// True for `FULL_OBJECT` (a CRC of the whole object), false for `COMPOSITE` (a checksum
    /// of the parts' checksums, suffixed `-N`).
    pub full_object: bool,
}

/// A bucket of the catalogue, with its configuration. Every shard holds a copy; a change is
/// committed by the coordinator and broadcast whole.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BucketRecord {
    pub name: String,
    pub created_ms: i64,
    pub region: String,
    /// Bucket tags (PutBucketTagging); empty when none.
    pub tags: Tags,
    /// The tenant that owns the bucket; `None`: no tenant (root, global users, and buckets
    /// created before ownership was recorded).
    pub owner_tenant: Option<String>,
    /// The user who created the bucket; `None` for the root identity.
    pub owner_user: Option<String>,
    /// Default encryption (PutBucketEncryption); `None` when the bucket has none.
    pub encryption: Option<BucketEncryption>,
    /// CORS rules (PutBucketCors), in the order given; empty when the bucket has none (S3
    /// refuses a configuration without rules, so empty is unambiguous).
    pub cors: Vec<CorsRule>,
    pub versioning: Versioning,
    /// Object lock (`x-amz-bucket-object-lock-enabled` at creation, or
    /// PutObjectLockConfiguration on a versioned bucket); `Some` means enabled, for good.
    pub object_lock: Option<base::object_lock::ObjectLockConfiguration>,
    /// Lifecycle rules (PutBucketLifecycleConfiguration); `None`: none.
    pub lifecycle: Option<base::lifecycle::LifecycleConfiguration>,
    /// The bucket policy (PutBucketPolicy) as the client sent it, validated by the front end;
    /// kept as text because GetBucketPolicy answers it verbatim. Each shard compiles it once
    /// when the record arrives (`runtime::context::BucketEntry`). `None`: no policy.
    pub policy: Option<String>,
    /// PutPublicAccessBlock; `None`: none (GetPublicAccessBlock answers 404).
    pub public_access_block: Option<PublicAccessBlock>,
    /// Object Ownership (Put/DeleteBucketOwnershipControls): whether ACLs count.
    pub object_ownership: base::acl::ObjectOwnership,
    /// The bucket's ACL (PutBucketAcl, `x-amz-acl` on CreateBucket); `None`: private.
    pub acl: Option<base::acl::Acl>,
}

/// A stored ACL column back (NULL: private, `None`).
pub fn decode_acl(column: Option<String>) -> Result<Option<base::acl::Acl>, crate::ShardError> {
    column
        .map(|text| base::acl::Acl::decode(&text).ok_or(crate::ShardError::CorruptRecord("acl")))
        .transpose()
}

/// One CORS rule of a bucket, as the front end validated it. Matching a request against the
/// rules is HTTP's business and lives in the front end.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CorsRule {
    pub id: Option<String>,
    /// `GET`, `PUT`, `HEAD`, `POST`, `DELETE`.
    pub allowed_methods: Vec<String>,
    /// Origins, each with at most one `*` wildcard.
    pub allowed_origins: Vec<String>,
    /// Request headers a preflight may ask for, each with at most one `*`.
    pub allowed_headers: Vec<String>,
    /// Response headers a browser script may read.
    pub expose_headers: Vec<String>,
    pub max_age_seconds: Option<u32>,
}

/// A bucket's default encryption, as PutBucketEncryption gave it (its one rule).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketEncryption {
    /// `AES256`, `aws:kms` or `aws:kms:dsse` (the front end accepts only what it can serve).
    pub algorithm: String,
    pub kms_key_id: Option<String>,
    pub bucket_key_enabled: bool,
}

/// A bucket's default encryption: format, algorithm, bucket-key flag, then the KMS key id if
/// any. An empty blob (no configuration, or rows from before schema 5) is `None`.
pub fn encode_bucket_encryption(encryption: Option<&BucketEncryption>) -> Vec<u8> {
    let Some(encryption) = encryption else {
        return Vec::new();
    };
    let mut out = vec![BUCKET_ENCRYPTION_FORMAT_VERSION];
    put_bytes(&mut out, encryption.algorithm.as_bytes());
    out.push(u8::from(encryption.bucket_key_enabled));
    put_optional_string(&mut out, encryption.kms_key_id.as_deref());
    out
}

pub fn decode_bucket_encryption(bytes: &[u8]) -> Result<Option<BucketEncryption>, DecodeError> {
    if bytes.is_empty() {
        return Ok(None);
    }
    let mut reader = Reader::new(bytes);
    if reader.u8()? != BUCKET_ENCRYPTION_FORMAT_VERSION {
        return Err(DecodeError("bucket encryption: unknown format version"));
    }
    let algorithm = reader.string()?;
    let bucket_key_enabled = match reader.u8()? {
        0 => false,
        1 => true,
        _ => return Err(DecodeError("bucket encryption: bucket key flag")),
    };
    let kms_key_id = reader.optional_string("bucket encryption: key id flag")?;
    reader.finish()?;
    Ok(Some(BucketEncryption {
        algorithm,
        kms_key_id,
        bucket_key_enabled,
    }))
}

/// A bucket's CORS rules: format, rule count, then per rule the optional id, the four string
/// lists and the optional max age. No rules is the empty blob (and rows from before schema 7).
pub fn encode_bucket_cors(rules: &[CorsRule]) -> Vec<u8> {
    if rules.is_empty() {
        return Vec::new();
    }
    let mut out = vec![BUCKET_CORS_FORMAT_VERSION];
    put_u32(&mut out, len_u32(rules.len()));
    for rule in rules {
        put_optional_string(&mut out, rule.id.as_deref());
        for list in [
            &rule.allowed_methods,
            &rule.allowed_origins,
            &rule.allowed_headers,
            &rule.expose_headers,
        ] {
            put_string_list(&mut out, list);
        }
        match rule.max_age_seconds {
            Some(seconds) => {
                out.push(1);
                put_u32(&mut out, seconds);
            }
            None => out.push(0),
        }
    }
    out
}

pub fn decode_bucket_cors(bytes: &[u8]) -> Result<Vec<CorsRule>, DecodeError> {
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    let mut reader = Reader::new(bytes);
    if reader.u8()? != BUCKET_CORS_FORMAT_VERSION {
        return Err(DecodeError("bucket cors: unknown format version"));
    }
    // Every rule and every string takes at least 4 bytes: counts beyond that are corrupt.
    let count_max = bytes.len() / 4;
    let count = reader.u32()? as usize;
    if count > count_max {
        return Err(DecodeError("bucket cors: rule count exceeds record"));
    }
    let mut rules = Vec::with_capacity(count);
    for _ in 0..count {
        let id = reader.optional_string("bucket cors: id flag")?;
        let mut lists: [Vec<String>; 4] = Default::default();
        for list in &mut lists {
            *list = reader.string_list(count_max, "bucket cors: list length exceeds record")?;
        }
        let max_age_seconds = match reader.u8()? {
            0 => None,
            1 => Some(reader.u32()?),
            _ => return Err(DecodeError("bucket cors: max age flag")),
        };
        let [
            allowed_methods,
            allowed_origins,
            allowed_headers,
            expose_headers,
        ] = lists;
        rules.push(CorsRule {
            id,
            allowed_methods,
            allowed_origins,
            allowed_headers,
            expose_headers,
            max_age_seconds,
        });
    }
    reader.finish()?;
    Ok(rules)
}

/// One entry of a partition's event log as stored (the control protocol's `Event` without
/// partition and sequence number, which the log assigns). `kind` is the snake_case name of
/// `control::events::EventKind`; the shard stores it without interpreting it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventRecord {
    pub time_ms: i64,
    pub kind: String,
    pub operation: String,
    pub bucket: String,
    pub key: Option<String>,
    pub version_id: Option<String>,
    /// Filled in by the commit from the completed object when `None` (multipart completion).
    pub size_bytes: Option<u64>,
    pub etag: Option<String>,
    pub access_key_id: Option<String>,
    pub user_id: Option<String>,
    pub tenant_id: Option<String>,
    pub request_id: String,
    pub source_ip: Option<String>,
    pub status: u16,
    /// For a request a policy denied: the IAM action asked (`s3:GetObject`), the resource ARN
    /// and what decided (the policy and statement, or that no statement allowed it).
    pub iam_action: Option<String>,
    pub resource_arn: Option<String>,
    pub decided_by: Option<String>,
}

/// An event read back from the log with its sequence number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEvent {
    pub seq: u64,
    pub event: EventRecord,
}

/// Objects and bytes of one bucket in one partition, and its multipart uploads in progress
/// with the bytes of their parts (stored, so counted toward quotas).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BucketUsage {
    pub objects: u64,
    pub bytes: u64,
    pub uploads: u64,
    pub upload_bytes: u64,
}

/// The algorithm name of a stored `x-amz-checksum-<algorithm>` header (`CRC32`...), if any of
/// `headers` is one. `x-amz-checksum-type` is not an algorithm.
pub fn checksum_algorithm_of(headers: &[(String, String)]) -> Option<String> {
    headers.iter().find_map(|(name, _)| {
        let algorithm = name.strip_prefix("x-amz-checksum-")?;
        (algorithm != "type").then(|| algorithm.to_ascii_uppercase())
    })
}

/// Version 1: extents only. Version 2: extents, then the block checksums (count + u32 each).
const EXTENTS_FORMAT_VERSION_PLAIN: u8 = 1;
const EXTENTS_FORMAT_VERSION: u8 = 2;
const HEADERS_FORMAT_VERSION: u8 = 1;
const SIZES_FORMAT_VERSION: u8 = 1;
const STRINGS_FORMAT_VERSION: u8 = 1;
const BUCKET_ENCRYPTION_FORMAT_VERSION: u8 = 1;
const BUCKET_CORS_FORMAT_VERSION: u8 = 1;

/// Errors decoding a stored record: a corrupt or foreign metadata row.
#[derive(Debug, PartialEq, Eq)]
pub struct DecodeError(pub &'static str);

/// Encodes extents with their block checksums (version 2); `checksums` is empty or complete.
pub fn encode_extents(extents: &[Extent], checksums: &[u32]) -> Vec<u8> {
    debug_assert!(checksums.is_empty() || checksums_cover(extents, checksums));
    let mut out = Vec::with_capacity(1 + 8 + extents.len() * 20 + checksums.len() * 4);
    out.push(EXTENTS_FORMAT_VERSION);
    put_u32(&mut out, len_u32(extents.len()));
    for extent in extents {
        put_u32(&mut out, extent.segment_id);
        put_u64(&mut out, extent.offset_bytes);
        put_u64(&mut out, extent.length_bytes);
    }
    put_u32(&mut out, len_u32(checksums.len()));
    for checksum in checksums {
        put_u32(&mut out, *checksum);
    }
    out
}

/// The extents of a stored blob, without their checksums.
pub fn decode_extents(bytes: &[u8]) -> Result<Vec<Extent>, DecodeError> {
    Ok(decode_extents_checked(bytes)?.0)
}

/// The extents of a stored blob and their block checksums (empty for version 1 blobs).
pub fn decode_extents_checked(bytes: &[u8]) -> Result<(Vec<Extent>, BlockChecksums), DecodeError> {
    let mut reader = Reader::new(bytes);
    let version = reader.u8()?;
    if version != EXTENTS_FORMAT_VERSION && version != EXTENTS_FORMAT_VERSION_PLAIN {
        return Err(DecodeError("extents: unknown format version"));
    }
    let count = reader.u32()? as usize;
    if count > bytes.len() / 20 {
        return Err(DecodeError("extents: count exceeds record"));
    }
    let mut extents = Vec::with_capacity(count);
    for _ in 0..count {
        extents.push(Extent {
            segment_id: reader.u32()?,
            offset_bytes: reader.u64()?,
            length_bytes: reader.u64()?,
        });
    }
    let mut checksums = Vec::new();
    if version == EXTENTS_FORMAT_VERSION {
        let count = reader.u32()? as usize;
        if count > bytes.len() / 4 {
            return Err(DecodeError("extents: checksum count exceeds record"));
        }
        checksums.reserve(count);
        for _ in 0..count {
            checksums.push(reader.u32()?);
        }
        if !checksums.is_empty() && !checksums_cover(&extents, &checksums) {
            return Err(DecodeError("extents: checksums do not match the extents"));
        }
    }
    reader.finish()?;
    Ok((extents, checksums))
}

pub fn encode_headers(headers: &[(String, String)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.push(HEADERS_FORMAT_VERSION);
    put_u32(&mut out, len_u32(headers.len()));
    for (name, value) in headers {
        put_bytes(&mut out, name.as_bytes());
        put_bytes(&mut out, value.as_bytes());
    }
    out
}

pub fn decode_headers(bytes: &[u8]) -> Result<Vec<(String, String)>, DecodeError> {
    let mut reader = Reader::new(bytes);
    if reader.u8()? != HEADERS_FORMAT_VERSION {
        return Err(DecodeError("headers: unknown format version"));
    }
    let count = reader.u32()? as usize;
    if count > bytes.len() / 8 {
        return Err(DecodeError("headers: count exceeds record"));
    }
    let mut headers = Vec::with_capacity(count);
    for _ in 0..count {
        let name = reader.string()?;
        let value = reader.string()?;
        headers.push((name, value));
    }
    reader.finish()?;
    Ok(headers)
}

pub fn encode_sizes(sizes: &[u64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + sizes.len() * 8);
    out.push(SIZES_FORMAT_VERSION);
    put_u32(&mut out, len_u32(sizes.len()));
    for size in sizes {
        put_u64(&mut out, *size);
    }
    out
}

pub fn decode_sizes(bytes: &[u8]) -> Result<Vec<u64>, DecodeError> {
    let mut reader = Reader::new(bytes);
    if reader.u8()? != SIZES_FORMAT_VERSION {
        return Err(DecodeError("sizes: unknown format version"));
    }
    let count = reader.u32()? as usize;
    if count > bytes.len() / 8 {
        return Err(DecodeError("sizes: count exceeds record"));
    }
    let mut sizes = Vec::with_capacity(count);
    for _ in 0..count {
        sizes.push(reader.u64()?);
    }
    reader.finish()?;
    Ok(sizes)
}

/// Tags are stored as header-like pairs; an empty blob (rows written before schema 2, or no
/// tags) is the empty set.
pub fn encode_tags(tags: &[(String, String)]) -> Vec<u8> {
    if tags.is_empty() {
        Vec::new()
    } else {
        encode_headers(tags)
    }
}

pub fn decode_tags(bytes: &[u8]) -> Result<Tags, DecodeError> {
    if bytes.is_empty() {
        Ok(Vec::new())
    } else {
        decode_headers(bytes)
    }
}

/// A list of strings; an empty blob is the empty list (rows written before schema 2).
pub fn encode_strings(strings: &[String]) -> Vec<u8> {
    if strings.is_empty() {
        return Vec::new();
    }
    let mut out = vec![STRINGS_FORMAT_VERSION];
    put_string_list(&mut out, strings);
    out
}

pub fn decode_strings(bytes: &[u8]) -> Result<Vec<String>, DecodeError> {
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    let mut reader = Reader::new(bytes);
    if reader.u8()? != STRINGS_FORMAT_VERSION {
        return Err(DecodeError("strings: unknown format version"));
    }
    let strings = reader.string_list(bytes.len() / 4, "strings: count exceeds record")?;
    reader.finish()?;
    Ok(strings)
}

pub(crate) fn len_u32(len: usize) -> u32 {
    u32::try_from(len).expect("record element count fits in u32")
}

pub(crate) fn put_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

pub(crate) fn put_u64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&value.to_le_bytes());
}

pub(crate) fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_u32(out, len_u32(bytes.len()));
    out.extend_from_slice(bytes);
}

/// A flag byte (0 absent, 1 present), then the string if present.
pub(crate) fn put_optional_string(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        Some(value) => {
            out.push(1);
            put_bytes(out, value.as_bytes());
        }
        None => out.push(0),
    }
}

/// A u32 count, then each string (`Reader::string_list`).
pub(crate) fn put_string_list(out: &mut Vec<u8>, strings: &[String]) {
    put_u32(out, len_u32(strings.len()));
    for string in strings {
        put_bytes(out, string.as_bytes());
    }
}

pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, position: 0 }
    }

    pub(crate) fn take(&mut self, count: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .position
            .checked_add(count)
            .ok_or(DecodeError("length overflow"))?;
        let slice = self
            .bytes
            .get(self.position..end)
            .ok_or(DecodeError("truncated record"))?;
        self.position = end;
        Ok(slice)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        let bytes = self.take(4)?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, DecodeError> {
        let bytes = self.take(8)?;
        let mut array = [0u8; 8];
        array.copy_from_slice(bytes);
        Ok(u64::from_le_bytes(array))
    }

    pub(crate) fn string(&mut self) -> Result<String, DecodeError> {
        let len = self.u32()? as usize;
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| DecodeError("string is not UTF-8"))
    }

    /// What `put_optional_string` wrote; `bad_flag` names the field when the flag is neither.
    pub(crate) fn optional_string(
        &mut self,
        bad_flag: &'static str,
    ) -> Result<Option<String>, DecodeError> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(self.string()?)),
            _ => Err(DecodeError(bad_flag)),
        }
    }

    /// What `put_string_list` wrote. A count above `count_max` (callers pass the record's
    /// length / 4: every string takes at least 4 bytes) is `too_long`, refused before
    /// anything is allocated for it.
    pub(crate) fn string_list(
        &mut self,
        count_max: usize,
        too_long: &'static str,
    ) -> Result<Vec<String>, DecodeError> {
        let count = self.u32()? as usize;
        if count > count_max {
            return Err(DecodeError(too_long));
        }
        let mut strings = Vec::with_capacity(count);
        for _ in 0..count {
            strings.push(self.string()?);
        }
        Ok(strings)
    }

    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        if self.position == self.bytes.len() {
            Ok(())
        } else {
            Err(DecodeError("trailing bytes in record"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let extents = vec![
            Extent {
                segment_id: 3,
                offset_bytes: 4096,
                length_bytes: 10,
            },
            Extent {
                segment_id: 4,
                offset_bytes: 0,
                length_bytes: 1 << 40,
            },
        ];
        assert_eq!(
            decode_extents(&encode_extents(&extents, &[])),
            Ok(extents.clone())
        );
        let short = &extents[..1];
        assert_eq!(
            decode_extents_checked(&encode_extents(short, &[7])),
            Ok((short.to_vec(), vec![7]))
        );
        // A version 1 blob (written before block checksums) still decodes, unchecked.
        let mut plain = vec![1u8, 1, 0, 0, 0, 3, 0, 0, 0];
        plain.extend_from_slice(&4096u64.to_le_bytes());
        plain.extend_from_slice(&10u64.to_le_bytes());
        assert_eq!(
            decode_extents_checked(&plain),
            Ok((short.to_vec(), Vec::new()))
        );
        // Checksums that do not cover the extents are a corrupt record.
        assert!(decode_extents_checked(&encode_extents(short, &[])[..]).is_ok());
        let mut wrong = encode_extents(short, &[7]);
        wrong.extend_from_slice(&[0; 4]);
        assert!(decode_extents_checked(&wrong).is_err());
        let headers = vec![("content-type".to_owned(), "text/plain".to_owned())];
        assert_eq!(decode_headers(&encode_headers(&headers)), Ok(headers));
        assert_eq!(decode_sizes(&encode_sizes(&[5, 6])), Ok(vec![5, 6]));
        let tags = vec![("k".to_owned(), "v".to_owned())];
        assert_eq!(decode_tags(&encode_tags(&tags)), Ok(tags));
        assert_eq!(decode_tags(&encode_tags(&[])), Ok(Vec::new()));
        let strings = vec!["a".to_owned(), String::new()];
        assert_eq!(decode_strings(&encode_strings(&strings)), Ok(strings));
        assert_eq!(decode_strings(&[]), Ok(Vec::new()));
        assert!(decode_strings(&[2]).is_err());
    }

    #[test]
    fn checksum_algorithm_ignores_the_type_header() {
        let headers = vec![
            ("x-amz-checksum-type".to_owned(), "FULL_OBJECT".to_owned()),
            ("x-amz-checksum-crc32c".to_owned(), "yZRlqg==".to_owned()),
        ];
        assert_eq!(checksum_algorithm_of(&headers).as_deref(), Some("CRC32C"));
        assert_eq!(checksum_algorithm_of(&[]), None);
    }

    #[test]
    fn corrupt_records_are_errors_not_panics() {
        let encoded = encode_extents(
            &[Extent {
                segment_id: 1,
                offset_bytes: 0,
                length_bytes: 1,
            }],
            &[5],
        );
        for cut in 0..encoded.len() {
            assert!(decode_extents(&encoded[..cut]).is_err());
        }
        assert!(decode_headers(&[1, 255, 255, 255, 255]).is_err());
        assert!(decode_sizes(&[9]).is_err());
    }

    #[test]
    fn bucket_encryption_round_trips_and_rejects_damage() {
        assert_eq!(encode_bucket_encryption(None), Vec::<u8>::new());
        assert_eq!(decode_bucket_encryption(&[]).unwrap(), None);
        for configuration in [
            BucketEncryption {
                algorithm: "AES256".into(),
                kms_key_id: None,
                bucket_key_enabled: false,
            },
            BucketEncryption {
                algorithm: "aws:kms".into(),
                kms_key_id: Some("arn:aws:kms:us-east-1:1:key/x".into()),
                bucket_key_enabled: true,
            },
        ] {
            let bytes = encode_bucket_encryption(Some(&configuration));
            assert_eq!(
                decode_bucket_encryption(&bytes).unwrap(),
                Some(configuration)
            );
            assert!(decode_bucket_encryption(&bytes[..bytes.len() - 1]).is_err());
            let mut longer = bytes.clone();
            longer.push(0);
            assert!(decode_bucket_encryption(&longer).is_err());
        }
        assert!(decode_bucket_encryption(&[2, 0, 0, 0, 0, 0, 0]).is_err());
    }

    #[test]
    fn bucket_cors_round_trips_and_rejects_damage() {
        assert_eq!(encode_bucket_cors(&[]), Vec::<u8>::new());
        assert_eq!(decode_bucket_cors(&[]).unwrap(), Vec::new());
        let strings = |items: &[&str]| items.iter().map(|&s| s.to_owned()).collect::<Vec<_>>();
        let rules = vec![
            CorsRule {
                id: Some("uploads".into()),
                allowed_methods: strings(&["PUT", "POST"]),
                allowed_origins: strings(&["https://*.example.com", "http://localhost:3000"]),
                allowed_headers: strings(&["*"]),
                expose_headers: strings(&["ETag", "x-amz-request-id"]),
                max_age_seconds: Some(3000),
            },
            CorsRule {
                id: None,
                allowed_methods: strings(&["GET"]),
                allowed_origins: strings(&["*"]),
                ..CorsRule::default()
            },
        ];
        let bytes = encode_bucket_cors(&rules);
        assert_eq!(decode_bucket_cors(&bytes).unwrap(), rules);
        for cut in 1..bytes.len() {
            assert!(decode_bucket_cors(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode_bucket_cors(&longer).is_err());
        // A count far beyond the record is refused before anything is allocated for it.
        assert!(decode_bucket_cors(&[1, 255, 255, 255, 255]).is_err());
        assert!(decode_bucket_cors(&[2, 0, 0, 0, 0]).is_err());
    }
}
