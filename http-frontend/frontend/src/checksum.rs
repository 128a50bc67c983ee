//! Additional checksums (`x-amz-checksum-*`): CRC32, CRC32C, CRC64NVME, SHA1, SHA256, computed
//! in the same pass as the MD5 and compared with what the client declared in a header or a
//! trailer. Values are base64 of the big-endian digest, as on the wire.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha1::Sha1;
use sha2::{Digest as _, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumAlgorithm {
    Crc32,
    Crc32c,
    Crc64Nvme,
    Sha1,
    Sha256,
}

impl ChecksumAlgorithm {
    pub const ALL: [ChecksumAlgorithm; 5] = [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32c,
        ChecksumAlgorithm::Crc64Nvme,
        ChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Sha256,
    ];

    /// The header carrying this checksum, lowercase.
    pub fn header_name(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "x-amz-checksum-crc32",
            ChecksumAlgorithm::Crc32c => "x-amz-checksum-crc32c",
            ChecksumAlgorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
            ChecksumAlgorithm::Sha1 => "x-amz-checksum-sha1",
            ChecksumAlgorithm::Sha256 => "x-amz-checksum-sha256",
        }
    }

    pub fn from_header_name(name: &str) -> Option<ChecksumAlgorithm> {
        Self::ALL
            .into_iter()
            .find(|algorithm| name.eq_ignore_ascii_case(algorithm.header_name()))
    }

    /// From `x-amz-sdk-checksum-algorithm` / `x-amz-checksum-algorithm` values.
    pub fn from_name(name: &str) -> Option<ChecksumAlgorithm> {
        match name.to_ascii_uppercase().as_str() {
            "CRC32" => Some(ChecksumAlgorithm::Crc32),
            "CRC32C" => Some(ChecksumAlgorithm::Crc32c),
            "CRC64NVME" => Some(ChecksumAlgorithm::Crc64Nvme),
            "SHA1" => Some(ChecksumAlgorithm::Sha1),
            "SHA256" => Some(ChecksumAlgorithm::Sha256),
            _ => None,
        }
    }
}

pub enum Checksummer {
    Crc(ChecksumAlgorithm, crc_fast::Digest),
    Sha1(Sha1),
    Sha256(Sha256),
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
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        match self {
            Checksummer::Crc(_, digest) => digest.update(data),
            Checksummer::Sha1(digest) => digest.update(data),
            Checksummer::Sha256(digest) => digest.update(data),
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
        }
    }
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
}
