//! Additional checksums (`x-amz-checksum-*`): CRC32, CRC32C, CRC64NVME, SHA1, SHA256, and the
//! algorithms S3 added in 2025 (SHA512, MD5, XXHASH64, XXHASH3, XXHASH128), computed in the
//! same pass as the MD5 and compared with what the client declared in a header or a trailer.
//! Values are base64 of the big-endian digest, as on the wire (for xxHash, its canonical
//! big-endian form).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use md5::Md5;
use s3_proto::error::{S3Error, S3ErrorCode};
use s3_proto::xml::{CompleteMultipartUploadResult, CompletedPart};
use sha1::Sha1;
use sha2::{Digest as _, Sha256, Sha512};
use shard::meta::{CompleteChecksum, PartSummary};
use shard::record::UploadChecksum;
use xxhash_rust::xxh3::Xxh3;
use xxhash_rust::xxh64::Xxh64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumAlgorithm {
    Crc32,
    Crc32c,
    Crc64Nvme,
    Sha1,
    Sha256,
    Sha512,
    Md5,
    XxHash64,
    XxHash3,
    XxHash128,
}

impl ChecksumAlgorithm {
    pub const ALL: [ChecksumAlgorithm; 10] = [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32c,
        ChecksumAlgorithm::Crc64Nvme,
        ChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Sha256,
        ChecksumAlgorithm::Sha512,
        ChecksumAlgorithm::Md5,
        ChecksumAlgorithm::XxHash64,
        ChecksumAlgorithm::XxHash3,
        ChecksumAlgorithm::XxHash128,
    ];

    /// The header carrying this checksum, lowercase.
    pub fn header_name(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "x-amz-checksum-crc32",
            ChecksumAlgorithm::Crc32c => "x-amz-checksum-crc32c",
            ChecksumAlgorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
            ChecksumAlgorithm::Sha1 => "x-amz-checksum-sha1",
            ChecksumAlgorithm::Sha256 => "x-amz-checksum-sha256",
            ChecksumAlgorithm::Sha512 => "x-amz-checksum-sha512",
            ChecksumAlgorithm::Md5 => "x-amz-checksum-md5",
            ChecksumAlgorithm::XxHash64 => "x-amz-checksum-xxhash64",
            ChecksumAlgorithm::XxHash3 => "x-amz-checksum-xxhash3",
            ChecksumAlgorithm::XxHash128 => "x-amz-checksum-xxhash128",
        }
    }

    pub fn from_header_name(name: &str) -> Option<ChecksumAlgorithm> {
        Self::ALL
            .into_iter()
            .find(|algorithm| name.eq_ignore_ascii_case(algorithm.header_name()))
    }

    /// The name in `x-amz-checksum-algorithm` and in listings: `CRC32` ...
    pub fn name(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "CRC32",
            ChecksumAlgorithm::Crc32c => "CRC32C",
            ChecksumAlgorithm::Crc64Nvme => "CRC64NVME",
            ChecksumAlgorithm::Sha1 => "SHA1",
            ChecksumAlgorithm::Sha256 => "SHA256",
            ChecksumAlgorithm::Sha512 => "SHA512",
            ChecksumAlgorithm::Md5 => "MD5",
            ChecksumAlgorithm::XxHash64 => "XXHASH64",
            ChecksumAlgorithm::XxHash3 => "XXHASH3",
            ChecksumAlgorithm::XxHash128 => "XXHASH128",
        }
    }

    /// The XML element carrying this checksum: `ChecksumCRC32` ...
    pub fn xml_element(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "ChecksumCRC32",
            ChecksumAlgorithm::Crc32c => "ChecksumCRC32C",
            ChecksumAlgorithm::Crc64Nvme => "ChecksumCRC64NVME",
            ChecksumAlgorithm::Sha1 => "ChecksumSHA1",
            ChecksumAlgorithm::Sha256 => "ChecksumSHA256",
            ChecksumAlgorithm::Sha512 => "ChecksumSHA512",
            ChecksumAlgorithm::Md5 => "ChecksumMD5",
            ChecksumAlgorithm::XxHash64 => "ChecksumXXHASH64",
            ChecksumAlgorithm::XxHash3 => "ChecksumXXHASH3",
            ChecksumAlgorithm::XxHash128 => "ChecksumXXHASH128",
        }
    }

    /// The value a `CompleteMultipartUpload` part lists for this algorithm, if any.
    pub fn listed_value(self, part: &CompletedPart) -> Option<&str> {
        let value = match self {
            ChecksumAlgorithm::Crc32 => &part.checksum_crc32,
            ChecksumAlgorithm::Crc32c => &part.checksum_crc32c,
            ChecksumAlgorithm::Crc64Nvme => &part.checksum_crc64nvme,
            ChecksumAlgorithm::Sha1 => &part.checksum_sha1,
            ChecksumAlgorithm::Sha256 => &part.checksum_sha256,
            ChecksumAlgorithm::Sha512 => &part.checksum_sha512,
            ChecksumAlgorithm::Md5 => &part.checksum_md5,
            ChecksumAlgorithm::XxHash64 => &part.checksum_xxhash64,
            ChecksumAlgorithm::XxHash3 => &part.checksum_xxhash3,
            ChecksumAlgorithm::XxHash128 => &part.checksum_xxhash128,
        };
        value.as_deref()
    }

    fn crc(self) -> Option<crc_fast::CrcAlgorithm> {
        match self {
            ChecksumAlgorithm::Crc32 => Some(crc_fast::CrcAlgorithm::Crc32IsoHdlc),
            ChecksumAlgorithm::Crc32c => Some(crc_fast::CrcAlgorithm::Crc32Iscsi),
            ChecksumAlgorithm::Crc64Nvme => Some(crc_fast::CrcAlgorithm::Crc64Nvme),
            _ => None,
        }
    }

    /// Bytes of the digest: what a declared value must decode to.
    fn digest_len(self) -> usize {
        match self {
            ChecksumAlgorithm::Crc32 | ChecksumAlgorithm::Crc32c => 4,
            ChecksumAlgorithm::Crc64Nvme
            | ChecksumAlgorithm::XxHash64
            | ChecksumAlgorithm::XxHash3 => 8,
            ChecksumAlgorithm::Md5 | ChecksumAlgorithm::XxHash128 => 16,
            ChecksumAlgorithm::Sha1 => 20,
            ChecksumAlgorithm::Sha256 => 32,
            ChecksumAlgorithm::Sha512 => 64,
        }
    }

    /// A declared value that cannot be this algorithm's digest (not base64, or the wrong
    /// length) is a malformed request, as S3 answers it, not a digest mismatch.
    pub fn check_declared(self, value: &str) -> Result<(), S3Error> {
        let decoded = BASE64.decode(value.trim()).ok();
        if decoded.is_some_and(|bytes| bytes.len() == self.digest_len()) {
            return Ok(());
        }
        Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            format!("Value for {} header is invalid.", self.header_name()),
        ))
    }

    /// A CRC can be combined from its parts' CRCs: the multipart `FULL_OBJECT` type.
    pub fn supports_full_object(self) -> bool {
        self.crc().is_some()
    }

    /// CRC64NVME multipart checksums are full-object only (AWS "Checking object integrity");
    /// the digests (SHA, MD5, xxHash) cannot be combined, so they are composite only.
    pub fn supports_composite(self) -> bool {
        self != ChecksumAlgorithm::Crc64Nvme
    }

    /// From `x-amz-sdk-checksum-algorithm` / `x-amz-checksum-algorithm` values.
    pub fn from_name(name: &str) -> Option<ChecksumAlgorithm> {
        match name.to_ascii_uppercase().as_str() {
            "CRC32" => Some(ChecksumAlgorithm::Crc32),
            "CRC32C" => Some(ChecksumAlgorithm::Crc32c),
            "CRC64NVME" => Some(ChecksumAlgorithm::Crc64Nvme),
            "SHA1" => Some(ChecksumAlgorithm::Sha1),
            "SHA256" => Some(ChecksumAlgorithm::Sha256),
            "SHA512" => Some(ChecksumAlgorithm::Sha512),
            "MD5" => Some(ChecksumAlgorithm::Md5),
            "XXHASH64" => Some(ChecksumAlgorithm::XxHash64),
            "XXHASH3" => Some(ChecksumAlgorithm::XxHash3),
            "XXHASH128" => Some(ChecksumAlgorithm::XxHash128),
            _ => None,
        }
    }
}

pub enum Checksummer {
    Crc(ChecksumAlgorithm, crc_fast::Digest),
    Sha1(Sha1),
    Sha256(Sha256),
    Sha512(Box<Sha512>),
    Md5(Md5),
    XxHash64(Box<Xxh64>),
    /// XXHASH3 (64 bits) and XXHASH128 share one state; `finish` picks the width.
    XxHash3(ChecksumAlgorithm, Box<Xxh3>),
}

impl Checksummer {
    pub fn new(algorithm: ChecksumAlgorithm) -> Checksummer {
        match algorithm {
            ChecksumAlgorithm::Crc32 => Checksummer::Crc(
                algorithm,
                crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc32IsoHdlc),
            ),
            ChecksumAlgorithm::Crc32c => Checksummer::Crc(
                algorithm,
                crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc32Iscsi),
            ),
            ChecksumAlgorithm::Crc64Nvme => Checksummer::Crc(
                algorithm,
                crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc64Nvme),
            ),
            ChecksumAlgorithm::Sha1 => Checksummer::Sha1(Sha1::new()),
            ChecksumAlgorithm::Sha256 => Checksummer::Sha256(Sha256::new()),
            ChecksumAlgorithm::Sha512 => Checksummer::Sha512(Box::new(Sha512::new())),
            ChecksumAlgorithm::Md5 => Checksummer::Md5(Md5::new()),
            ChecksumAlgorithm::XxHash64 => Checksummer::XxHash64(Box::new(Xxh64::new(0))),
            ChecksumAlgorithm::XxHash3 | ChecksumAlgorithm::XxHash128 => {
                Checksummer::XxHash3(algorithm, Box::new(Xxh3::new()))
            }
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        match self {
            Checksummer::Crc(_, digest) => digest.update(data),
            Checksummer::Sha1(digest) => digest.update(data),
            Checksummer::Sha256(digest) => digest.update(data),
            Checksummer::Sha512(digest) => digest.update(data),
            Checksummer::Md5(digest) => digest.update(data),
            Checksummer::XxHash64(state) => state.update(data),
            Checksummer::XxHash3(_, state) => state.update(data),
        }
    }

    /// The base64 value as it appears in headers.
    pub fn finish_base64(self) -> String {
        match self {
            Checksummer::Crc(ChecksumAlgorithm::Crc64Nvme, digest) => {
                BASE64.encode(digest.finalize().to_be_bytes())
            }
            Checksummer::Crc(_, digest) => {
                let value = u32::try_from(digest.finalize() & 0xFFFF_FFFF).unwrap_or(0);
                BASE64.encode(value.to_be_bytes())
            }
            Checksummer::Sha1(digest) => BASE64.encode(digest.finalize()),
            Checksummer::Sha256(digest) => BASE64.encode(digest.finalize()),
            Checksummer::Sha512(digest) => BASE64.encode(digest.finalize()),
            Checksummer::Md5(digest) => BASE64.encode(digest.finalize()),
            Checksummer::XxHash64(state) => BASE64.encode(state.digest().to_be_bytes()),
            Checksummer::XxHash3(ChecksumAlgorithm::XxHash128, state) => {
                BASE64.encode(state.digest128().to_be_bytes())
            }
            Checksummer::XxHash3(_, state) => BASE64.encode(state.digest().to_be_bytes()),
        }
    }
}

/// The composite checksum of a multipart object: the algorithm over the concatenated raw part
/// digests, base64, suffixed `-<part count>`. `None` when a stored part value is not base64.
pub fn composite(algorithm: ChecksumAlgorithm, part_values: &[String]) -> Option<String> {
    let mut summer = Checksummer::new(algorithm);
    for value in part_values {
        summer.update(&BASE64.decode(value).ok()?);
    }
    Some(format!("{}-{}", summer.finish_base64(), part_values.len()))
}

/// The CRC of a whole multipart object from its parts' CRCs and sizes, without reading a byte.
/// `None` for a non-CRC algorithm, no part, or a stored value of the wrong shape.
pub fn combine_full_object(
    algorithm: ChecksumAlgorithm,
    parts: &[(String, u64)],
) -> Option<String> {
    let crc = algorithm.crc()?;
    let mut combined: Option<u64> = None;
    for (value, size_bytes) in parts {
        let bytes = BASE64.decode(value).ok()?;
        let part_crc = match bytes.len() {
            4 => u64::from(u32::from_be_bytes(bytes.try_into().ok()?)),
            8 => u64::from_be_bytes(bytes.try_into().ok()?),
            _ => return None,
        };
        combined = Some(match combined {
            None => part_crc,
            Some(previous) => crc_fast::checksum_combine(crc, previous, part_crc, *size_bytes),
        });
    }
    let combined = combined?;
    Some(if algorithm == ChecksumAlgorithm::Crc64Nvme {
        BASE64.encode(combined.to_be_bytes())
    } else {
        BASE64.encode(u32::try_from(combined).ok()?.to_be_bytes())
    })
}

/// The checksum of a completed multipart object.
pub struct MultipartChecksum {
    pub algorithm: ChecksumAlgorithm,
    /// Base64; composite values end in `-<part count>`.
    pub value: String,
    /// `COMPOSITE` or `FULL_OBJECT`.
    pub checksum_type: &'static str,
    /// What the commit stores and re-checks against the parts.
    pub commit: CompleteChecksum,
}

/// Checks every per-part checksum the client listed against the stored part's (`InvalidPart`
/// on a mismatch or a part stored without it) and, for an upload created with a checksum
/// algorithm, computes the object's. `stored` holds the upload's parts in number order; a
/// listed part missing from it is left for the commit to report.
pub fn multipart_checksum(
    upload: Option<&UploadChecksum>,
    listed: &[CompletedPart],
    stored: &[PartSummary],
) -> Result<Option<MultipartChecksum>, S3Error> {
    let find = |number: u32| {
        stored
            .binary_search_by_key(&number, |part| part.part_number)
            .ok()
            .map(|index| &stored[index])
    };
    for part in listed {
        for algorithm in ChecksumAlgorithm::ALL {
            let Some(claimed) = algorithm.listed_value(part) else {
                continue;
            };
            let stored_value = find(part.part_number)
                .and_then(|stored| stored.checksum.as_ref())
                .filter(|(name, _)| name == algorithm.name())
                .map(|(_, value)| value.as_str());
            if stored_value != Some(claimed) {
                return Err(invalid_part(part.part_number));
            }
        }
    }
    let Some(upload) = upload else {
        return Ok(None);
    };
    let Some(algorithm) = ChecksumAlgorithm::from_name(&upload.algorithm) else {
        return Ok(None);
    };
    let mut values = Vec::with_capacity(listed.len());
    let mut sized = Vec::with_capacity(listed.len());
    for part in listed {
        let Some(stored) = find(part.part_number) else {
            return Err(invalid_part(part.part_number));
        };
        if !upload.full_object && algorithm.listed_value(part).is_none() {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                format!(
                    "The upload was created using a {} checksum. The complete request must \
                     include the checksum for each part. It was missing for part {} in the \
                     request.",
                    algorithm.name().to_ascii_lowercase(),
                    part.part_number
                ),
            ));
        }
        let value = match &stored.checksum {
            Some((name, value)) if name == algorithm.name() => value.clone(),
            _ => return Err(invalid_part(part.part_number)),
        };
        sized.push((value.clone(), stored.size_bytes));
        values.push(value);
    }
    let (value, checksum_type) = if upload.full_object {
        (combine_full_object(algorithm, &sized), "FULL_OBJECT")
    } else {
        (composite(algorithm, &values), "COMPOSITE")
    };
    let value = value.ok_or_else(|| S3Error::new(S3ErrorCode::InternalError))?;
    let commit = CompleteChecksum {
        headers: vec![
            (algorithm.header_name().to_owned(), value.clone()),
            ("x-amz-checksum-type".to_owned(), checksum_type.to_owned()),
        ],
        part_checksums: values,
    };
    Ok(Some(MultipartChecksum {
        algorithm,
        value,
        checksum_type,
        commit,
    }))
}

/// Puts `value` in the result's element for `algorithm`.
pub fn set_result_checksum(
    result: &mut CompleteMultipartUploadResult,
    algorithm: ChecksumAlgorithm,
    value: String,
) {
    let slot = match algorithm {
        ChecksumAlgorithm::Crc32 => &mut result.checksum_crc32,
        ChecksumAlgorithm::Crc32c => &mut result.checksum_crc32c,
        ChecksumAlgorithm::Crc64Nvme => &mut result.checksum_crc64nvme,
        ChecksumAlgorithm::Sha1 => &mut result.checksum_sha1,
        ChecksumAlgorithm::Sha256 => &mut result.checksum_sha256,
        ChecksumAlgorithm::Sha512 => &mut result.checksum_sha512,
        ChecksumAlgorithm::Md5 => &mut result.checksum_md5,
        ChecksumAlgorithm::XxHash64 => &mut result.checksum_xxhash64,
        ChecksumAlgorithm::XxHash3 => &mut result.checksum_xxhash3,
        ChecksumAlgorithm::XxHash128 => &mut result.checksum_xxhash128,
    };
    *slot = Some(value);
}

fn invalid_part(part_number: u32) -> S3Error {
    S3Error::new(S3ErrorCode::InvalidPart).extra("PartNumber", part_number.to_string())
}

/// The answer for an algorithm name S3 does not define.
pub fn unsupported_algorithm() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::InvalidRequest,
        "Checksum algorithm provided is unsupported. Please try again with any of the valid \
         types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256, SHA512, MD5, XXHASH64, XXHASH3, \
         XXHASH128]",
    )
}

/// Refuses a request that declares a checksum this server cannot verify: an
/// `x-amz-checksum-<algorithm>` header, an `x-amz-trailer` or an
/// `x-amz-sdk-checksum-algorithm` naming no algorithm of [`ChecksumAlgorithm::ALL`]. A
/// client that sends a checksum expects it verified: never store it unchecked.
pub fn refuse_unverifiable(headers: &[(String, Vec<u8>)]) -> Result<(), S3Error> {
    const NOT_ALGORITHMS: [&str; 3] = ["type", "algorithm", "mode"];
    for (name, value) in headers {
        let unknown_header = name.strip_prefix("x-amz-checksum-").is_some_and(|suffix| {
            !NOT_ALGORITHMS.contains(&suffix) && ChecksumAlgorithm::from_header_name(name).is_none()
        });
        let value = String::from_utf8_lossy(value);
        let unknown_trailer = name == "x-amz-trailer"
            && value.split(',').map(str::trim).any(|trailer| {
                trailer.starts_with("x-amz-checksum-")
                    && ChecksumAlgorithm::from_header_name(trailer).is_none()
            });
        let unknown_sdk_algorithm = name == "x-amz-sdk-checksum-algorithm"
            && ChecksumAlgorithm::from_name(value.trim()).is_none();
        if unknown_header || unknown_trailer || unknown_sdk_algorithm {
            return Err(unsupported_algorithm());
        }
    }
    Ok(())
}

/// `x-amz-checksum-algorithm` and `x-amz-checksum-type` of CreateMultipartUpload, checked:
/// CRC64NVME is full-object only, SHA1 and SHA256 composite only; without a type, CRC64NVME
/// is full-object and the others composite.
pub fn upload_checksum(
    algorithm: Option<&str>,
    checksum_type: Option<&str>,
) -> Result<Option<UploadChecksum>, S3Error> {
    let Some(algorithm) = algorithm else {
        if checksum_type.is_some() {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "The x-amz-checksum-type header can only be used with the \
                 x-amz-checksum-algorithm header.",
            ));
        }
        return Ok(None);
    };
    let algorithm =
        ChecksumAlgorithm::from_name(algorithm.trim()).ok_or_else(unsupported_algorithm)?;
    let full_object = match checksum_type.map(str::trim) {
        None => !algorithm.supports_composite(),
        Some(value) if value.eq_ignore_ascii_case("FULL_OBJECT") => true,
        Some(value) if value.eq_ignore_ascii_case("COMPOSITE") => false,
        Some(_) => {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "Value for x-amz-checksum-type header is invalid.",
            ));
        }
    };
    let allowed = if full_object {
        algorithm.supports_full_object()
    } else {
        algorithm.supports_composite()
    };
    if !allowed {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            format!(
                "The {} checksum type cannot be used with the {} checksum algorithm.",
                if full_object {
                    "FULL_OBJECT"
                } else {
                    "COMPOSITE"
                },
                algorithm.name().to_ascii_lowercase()
            ),
        ));
    }
    Ok(Some(UploadChecksum {
        algorithm: algorithm.name().to_owned(),
        full_object,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checksum(algorithm: ChecksumAlgorithm, data: &[u8]) -> String {
        let mut summer = Checksummer::new(algorithm);
        summer.update(data);
        summer.finish_base64()
    }

    #[test]
    fn known_values_of_the_2025_algorithms() {
        // Empty input: xxHash's published test vectors, in canonical (big-endian) form.
        assert_eq!(checksum(ChecksumAlgorithm::XxHash64, b""), "70bbN1HY6Zk=");
        assert_eq!(checksum(ChecksumAlgorithm::XxHash3, b""), "LQaABTjTlMI=");
        assert_eq!(
            checksum(ChecksumAlgorithm::XxHash128, b""),
            "maoG0wFHmNhgAcMkRo1Jfw=="
        );
        assert_eq!(
            checksum(ChecksumAlgorithm::Md5, b""),
            "1B2M2Y8AsgTpgAmY7PhCfg=="
        );
        assert_eq!(
            checksum(ChecksumAlgorithm::Sha512, b""),
            concat!(
                "z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwv",
                "Y7kxvUdBeoGlODJ6+SfaPg=="
            )
        );
    }

    #[test]
    fn known_values() {
        // "hello world" CRC32 from S3-CLIENTS.md §2 (boto3 over HTTPS).
        assert_eq!(
            checksum(ChecksumAlgorithm::Crc32, b"hello world"),
            "DUoRhQ=="
        );
        assert_eq!(checksum(ChecksumAlgorithm::Crc32, b""), "AAAAAA==");
        assert_eq!(
            checksum(ChecksumAlgorithm::Crc32c, b"hello world"),
            "yZRlqg=="
        );
        assert_eq!(
            checksum(ChecksumAlgorithm::Sha256, b""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
        assert_eq!(
            checksum(ChecksumAlgorithm::Sha1, b""),
            "2jmj7l5rSw0yVb/vlWAYkK/YBwk="
        );
        assert_eq!(checksum(ChecksumAlgorithm::Crc64Nvme, b""), "AAAAAAAAAAA=");
    }

    #[test]
    fn full_object_crcs_combine_from_parts() {
        let whole = b"hello world, in three parts";
        let pieces: [&[u8]; 3] = [&whole[..5], &whole[5..20], &whole[20..]];
        for algorithm in [
            ChecksumAlgorithm::Crc32,
            ChecksumAlgorithm::Crc32c,
            ChecksumAlgorithm::Crc64Nvme,
        ] {
            let parts: Vec<(String, u64)> = pieces
                .iter()
                .map(|piece| (checksum(algorithm, piece), piece.len() as u64))
                .collect();
            assert_eq!(
                combine_full_object(algorithm, &parts),
                Some(checksum(algorithm, whole))
            );
        }
        assert_eq!(combine_full_object(ChecksumAlgorithm::Sha1, &[]), None);
    }

    #[test]
    fn composite_is_the_checksum_of_the_part_digests() {
        let parts = [b"ab".as_slice(), b"cd".as_slice()];
        let values: Vec<String> = parts
            .iter()
            .map(|part| checksum(ChecksumAlgorithm::Sha256, part))
            .collect();
        let mut raw = Vec::new();
        for part in parts {
            raw.extend_from_slice(&Sha256::digest(part));
        }
        let expected = format!("{}-2", checksum(ChecksumAlgorithm::Sha256, &raw));
        assert_eq!(
            composite(ChecksumAlgorithm::Sha256, &values),
            Some(expected)
        );
        assert_eq!(composite(ChecksumAlgorithm::Crc32, &["!".to_owned()]), None);
    }

    #[test]
    fn upload_checksum_types() {
        let kind = |algorithm, checksum_type| {
            upload_checksum(algorithm, checksum_type)
                .map(|checksum| checksum.map(|checksum| checksum.full_object))
                .map_err(|error| error.code)
        };
        assert_eq!(kind(None, None), Ok(None));
        assert_eq!(kind(Some("CRC32"), None), Ok(Some(false)));
        assert_eq!(kind(Some("crc64nvme"), None), Ok(Some(true)));
        assert_eq!(kind(Some("CRC32C"), Some("FULL_OBJECT")), Ok(Some(true)));
        assert_eq!(kind(Some("SHA256"), Some("COMPOSITE")), Ok(Some(false)));
        assert_eq!(kind(Some("XXHASH3"), None), Ok(Some(false)));
        for (algorithm, checksum_type) in [
            (Some("CRC64NVME"), Some("COMPOSITE")),
            (Some("SHA1"), Some("FULL_OBJECT")),
            (Some("MD5"), Some("FULL_OBJECT")),
            (Some("BLAKE3"), None),
            (None, Some("COMPOSITE")),
            (Some("CRC32"), Some("BOTH")),
        ] {
            assert_eq!(
                kind(algorithm, checksum_type),
                Err(S3ErrorCode::InvalidRequest)
            );
        }
    }
}
