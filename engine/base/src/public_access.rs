//! A bucket's public access block (PutPublicAccessBlock): S3's four switches, shared by the
//! storage record and the XML document.

/// A bucket's public access block (S3's four switches).
// Four switches because S3's document has four; an enum set would only rename them.
#[allow(clippy::struct_excessive_bools)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PublicAccessBlock {
    /// Refuse requests that set a public ACL.
    pub block_public_acls: bool,
    /// Treat public ACLs as absent.
    pub ignore_public_acls: bool,
    /// Refuse a PutBucketPolicy whose policy is public.
    pub block_public_policy: bool,
    /// While the bucket's policy is public, it admits no one outside the owner's account.
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    /// The stored form: one bit per switch.
    pub fn to_bits(self) -> i64 {
        i64::from(self.block_public_acls)
            | i64::from(self.ignore_public_acls) << 1
            | i64::from(self.block_public_policy) << 2
            | i64::from(self.restrict_public_buckets) << 3
    }

    pub fn from_bits(bits: i64) -> PublicAccessBlock {
        PublicAccessBlock {
            block_public_acls: bits & 1 != 0,
            ignore_public_acls: bits & 2 != 0,
            block_public_policy: bits & 4 != 0,
            restrict_public_buckets: bits & 8 != 0,
        }
    }
}
