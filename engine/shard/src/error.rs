//! `ShardError`: every way a shard operation can fail, as a closed enum.
//!
//! The shard knows nothing about HTTP or S3 error codes; the front end maps each variant to its
//! S3 code in exactly one place (`frontend/src/s3_error.rs`).

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShardError {
    NoSuchBucket,
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    NoSuchKey,
    NoSuchUpload,
    /// A conditional write's precondition (`WriteCondition`) did not hold at commit time.
    PreconditionFailed,
    /// A part named in CompleteMultipartUpload does not exist or its ETag differs.
    InvalidPart {
        part_number: u32,
    },
    /// Parts in CompleteMultipartUpload are not in ascending order, or repeat.
    InvalidPartOrder,
    /// A part other than the last is smaller than the 5 MiB minimum.
    EntityTooSmall {
        part_number: u32,
    },
    /// The file system has no space left (ENOSPC / EDQUOT).
    StorageFull,
    /// The IO layer failed; `context` says which operation. After a failed fdatasync the
    /// partition refuses further writes (see `Worker`).
    Io {
        context: &'static str,
        kind: std::io::ErrorKind,
        message: String,
    },
    /// Stored object bytes do not match their block checksum (bit rot, a misdirected or torn
    /// write): the bytes are not served. The block is logged, counted and recorded for repair.
    DataCorrupt {
        segment_id: u32,
        offset_bytes: u64,
    },
    /// The metadata store failed.
    Metadata(String),
    /// A stored record could not be decoded: the metadata is corrupt.
    CorruptRecord(&'static str),
    /// The shard is stopping and takes no new work.
    ShuttingDown,
    /// The owner's tenant has as many buckets as its quota allows.
    TooManyBuckets,
    /// The write would take the owner's tenant over its storage quota.
    QuotaExceeded,
    /// The owner's tenant has as many multipart uploads in progress as the data plane allows.
    TooManyUploads,
    /// A `versionId` names no version of the key.
    NoSuchVersion,
    /// The version named is a delete marker, which has no data, tags or attributes.
    DeleteMarker,
    /// A bucket configuration change that the bucket's state forbids (S3's InvalidBucketState),
    /// with the reason.
    InvalidBucketState(&'static str),
    /// A change the bucket's settings refuse to anyone (S3's AccessDenied, e.g. a public
    /// policy under BlockPublicPolicy), with the reason.
    AccessDenied(&'static str),
    /// An ACL set on a bucket whose Object Ownership disables ACLs (S3's
    /// AccessControlListNotSupported).
    AclsDisabled,
    /// BucketOwnerEnforced asked for while the bucket's ACL grants others access (S3's
    /// InvalidBucketAclWithObjectOwnership).
    AclGrantsOthers,
    /// The version is protected by object lock (a retention in force or a legal hold) and the
    /// operation would destroy or weaken it.
    ObjectLocked,
}

impl ShardError {
    pub fn io(context: &'static str, error: &std::io::Error) -> ShardError {
        if matches!(error.raw_os_error(), Some(libc::ENOSPC | libc::EDQUOT)) {
            return ShardError::StorageFull;
        }
        ShardError::Io {
            context,
            kind: error.kind(),
            message: error.to_string(),
        }
    }
}

impl From<rusqlite::Error> for ShardError {
    fn from(error: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(code, _) = &error
            && code.code == rusqlite::ErrorCode::DiskFull
        {
            return ShardError::StorageFull;
        }
        ShardError::Metadata(error.to_string())
    }
}

impl From<crate::record::DecodeError> for ShardError {
    fn from(error: crate::record::DecodeError) -> Self {
        ShardError::CorruptRecord(error.0)
    }
}

impl fmt::Display for ShardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShardError::Io {
                context, message, ..
            } => write!(f, "{context}: {message}"),
            ShardError::Metadata(message) => write!(f, "metadata: {message}"),
            ShardError::CorruptRecord(what) => write!(f, "corrupt metadata record: {what}"),
            ShardError::DataCorrupt {
                segment_id,
                offset_bytes,
            } => write!(
                f,
                "stored data failed its checksum (segment {segment_id}, offset {offset_bytes})"
            ),
            other => write!(f, "{other:?}"),
        }
    }
}

impl std::error::Error for ShardError {}
