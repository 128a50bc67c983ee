//! Validation of bucket names and object keys, exactly as AWS S3 defines them.
//!
//! Keys are opaque byte strings to us: they are stored in the metadata index and never
//! mapped to file-system paths, so `..`, `//`, backslashes and leading slashes are all legal
//! keys here (as in AWS). This module never decodes anything: callers validate what is left
//! after every decoding step (URL, XML entities, form fields), so a key is checked once, in
//! its final form.

use std::fmt;

use crate::limits::{
    BUCKET_NAME_LENGTH_BYTES_MAX, BUCKET_NAME_LENGTH_BYTES_MIN, KEY_LENGTH_BYTES_MAX,
};

/// Why a bucket name or an object key was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameError {
    /// The bucket name is shorter than 3 or longer than 63 bytes.
    BucketNameLength { length_bytes: usize },
    /// The bucket name holds a character other than `a-z`, `0-9`, `.` and `-`.
    BucketNameCharacter { character: char },
    /// The bucket name does not start and end with a letter or a digit.
    BucketNameEdge,
    /// The bucket name holds two adjacent periods.
    BucketNameAdjacentPeriods,
    /// The bucket name is formatted as an IPv4 address (`192.168.5.4`).
    BucketNameIpAddress,
    /// The bucket name starts with a prefix AWS reserves.
    BucketNameReservedPrefix { prefix: &'static str },
    /// The bucket name ends with a suffix AWS reserves.
    BucketNameReservedSuffix { suffix: &'static str },
    /// The object key is empty.
    KeyEmpty,
    /// The object key is longer than 1024 bytes of UTF-8.
    KeyTooLong { length_bytes: usize },
    /// The object key holds a NUL character.
    KeyNul,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameError::BucketNameLength { length_bytes } => write!(
                f,
                "bucket name is {length_bytes} bytes long; it must be 3 to 63 bytes long"
            ),
            NameError::BucketNameCharacter { character } => write!(
                f,
                "bucket name holds {character:?}; only lowercase letters, digits, '.' and '-' \
                 are allowed"
            ),
            NameError::BucketNameEdge => {
                f.write_str("bucket name must begin and end with a letter or a digit")
            }
            NameError::BucketNameAdjacentPeriods => {
                f.write_str("bucket name must not contain two adjacent periods")
            }
            NameError::BucketNameIpAddress => {
                f.write_str("bucket name must not be formatted as an IP address")
            }
            NameError::BucketNameReservedPrefix { prefix } => {
                write!(
                    f,
                    "bucket name must not start with the reserved prefix {prefix:?}"
                )
            }
            NameError::BucketNameReservedSuffix { suffix } => {
                write!(
                    f,
                    "bucket name must not end with the reserved suffix {suffix:?}"
                )
            }
            NameError::KeyEmpty => f.write_str("object key must not be empty"),
            NameError::KeyTooLong { length_bytes } => write!(
                f,
                "object key is {length_bytes} bytes long; the maximum is \
                 {KEY_LENGTH_BYTES_MAX} bytes"
            ),
            NameError::KeyNul => f.write_str("object key must not contain a NUL character"),
        }
    }
}

impl std::error::Error for NameError {}

/// Prefixes AWS reserves for its own bucket kinds (IDN punycode, S3 internals, documentation
/// examples). AWS S3 user guide, "General purpose bucket naming rules".
const BUCKET_NAME_PREFIXES_RESERVED: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];

/// Suffixes AWS reserves for access point aliases, Object Lambda, multi-region access points,
/// directory buckets and table buckets. Same source.
const BUCKET_NAME_SUFFIXES_RESERVED: [&str; 5] =
    ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

/// Checks a general purpose bucket name against the AWS naming rules: 3 to 63 bytes of
/// lowercase letters, digits, `.` and `-`; a letter or digit first and last; no `..`; not an
/// IPv4 address; none of the reserved prefixes or suffixes.
pub fn validate_bucket_name(name: &str) -> Result<(), NameError> {
    let length_bytes = name.len();
    if !(BUCKET_NAME_LENGTH_BYTES_MIN..=BUCKET_NAME_LENGTH_BYTES_MAX).contains(&length_bytes) {
        return Err(NameError::BucketNameLength { length_bytes });
    }
    if let Some(character) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '.' || *c == '-'))
    {
        return Err(NameError::BucketNameCharacter { character });
    }
    // Only ASCII is left, so byte indexing is character indexing.
    let bytes = name.as_bytes();
    let is_edge_valid = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return Err(NameError::BucketNameLength { length_bytes });
    };
    if !is_edge_valid(first) || !is_edge_valid(last) {
        return Err(NameError::BucketNameEdge);
    }
    if name.contains("..") {
        return Err(NameError::BucketNameAdjacentPeriods);
    }
    if is_ipv4_like(name) {
        return Err(NameError::BucketNameIpAddress);
    }
    if let Some(prefix) = BUCKET_NAME_PREFIXES_RESERVED
        .iter()
        .find(|p| name.starts_with(**p))
    {
        return Err(NameError::BucketNameReservedPrefix { prefix });
    }
    if let Some(suffix) = BUCKET_NAME_SUFFIXES_RESERVED
        .iter()
        .find(|s| name.ends_with(**s))
    {
        return Err(NameError::BucketNameReservedSuffix { suffix });
    }
    Ok(())
}

/// Four dot-separated groups of one to three digits, the shape AWS rejects
/// (`192.168.5.4`; also `999.1.1.1`, which is not a real address but looks like one).
fn is_ipv4_like(name: &str) -> bool {
    let mut group_count = 0_usize;
    for group in name.split('.') {
        group_count += 1;
        if group.is_empty() || group.len() > 3 || !group.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    group_count == 4
}

/// Checks an object key after all decoding: non-empty, at most 1024 bytes of UTF-8 (the
/// type guarantees valid UTF-8) and no NUL. Every other character is legal in S3.
pub fn validate_object_key(key: &str) -> Result<(), NameError> {
    if key.is_empty() {
        return Err(NameError::KeyEmpty);
    }
    let length_bytes = key.len();
    if length_bytes > KEY_LENGTH_BYTES_MAX {
        return Err(NameError::KeyTooLong { length_bytes });
    }
    if key.contains('\0') {
        return Err(NameError::KeyNul);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
