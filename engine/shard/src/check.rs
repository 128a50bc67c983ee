//! Offline verification of a stopped partition (`maxiofs verify`): everything the server relies
//! on, checked without trusting it.
//!
//! - SQLite's own `integrity_check` and a known schema version;
//! - every object and part record decodes, its extents add up to its size and lie inside their
//!   segment files;
//! - no two live extents overlap (a double reference would let a delete free bytes another
//!   object still serves);
//! - every check block matches its CRC32C;
//! - blocks the server already recorded as damaged.
//!
//! Reads use plain buffered IO: the server is stopped, and this is not a data path.

use std::collections::HashMap;
use std::os::unix::fs::FileExt;
use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use crate::meta::META_FILE_NAME;
use crate::record::{CHECK_BLOCK_BYTES, Extent, block_checksum, decode_extents_checked};
use crate::segments::segment_path;

/// Problems listed per partition before the rest are only counted; bounds the report.
const PROBLEMS_LISTED_MAX: usize = 1000;

/// What verifying one partition found.
#[derive(Debug, Default)]
pub struct PartitionCheck {
    pub objects: u64,
    pub parts: u64,
    pub bytes: u64,
    pub blocks_verified: u64,
    /// Extents of records written before block checksums existed.
    pub unverified_extents: u64,
    pub problems: Vec<String>,
    /// Problems beyond `PROBLEMS_LISTED_MAX`.
    pub problems_not_listed: u64,
}

impl PartitionCheck {
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty() && self.problems_not_listed == 0
    }

    fn problem(&mut self, text: String) {
        if self.problems.len() < PROBLEMS_LISTED_MAX {
            self.problems.push(text);
        } else {
            self.problems_not_listed += 1;
        }
    }
}

/// One stored record with extents: an object or an upload's part.
struct Owned {
    owner: String,
    size_bytes: u64,
    blob: Vec<u8>,
    /// The `sse` blob (empty: plaintext).
    encryption: Vec<u8>,
}

/// Verifies the partition in `dir` (`<data>/partitions/NNNN`). Never writes.
pub fn check_partition(dir: &Path) -> PartitionCheck {
    let mut check = PartitionCheck::default();
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = match Connection::open_with_flags(dir.join(META_FILE_NAME), flags) {
        Ok(connection) => connection,
        Err(error) => {
            check.problem(format!("cannot open metadata: {error}"));
            return check;
        }
    };
    if let Err(error) = check_sqlite(&connection, &mut check) {
        check.problem(format!("metadata query failed: {error}"));
        return check;
    }
    let records = match load_records(&connection, &mut check) {
        Ok(records) => records,
        Err(error) => {
            check.problem(format!("metadata query failed: {error}"));
            return check;
        }
    };
    check_extents(dir, &records, &mut check);
    if let Err(error) = report_damaged(&connection, &mut check) {
        check.problem(format!("metadata query failed: {error}"));
    }
    check
}

fn check_sqlite(connection: &Connection, check: &mut PartitionCheck) -> rusqlite::Result<()> {
    let mut statement = connection.prepare("PRAGMA integrity_check")?;
    let results: Vec<String> = statement
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    if results != ["ok"] {
        for result in results {
            check.problem(format!("sqlite integrity_check: {result}"));
        }
    }
    let version: i64 = connection.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version != crate::meta::SCHEMA_VERSION {
        check.problem(format!(
            "metadata schema version {version}, this binary expects {} (start the server once \
             to migrate)",
            crate::meta::SCHEMA_VERSION
        ));
    }
    Ok(())
}

fn load_records(
    connection: &Connection,
    check: &mut PartitionCheck,
) -> rusqlite::Result<Vec<Owned>> {
    let mut records = Vec::new();
    // Noncurrent versions hold extents like latest ones; a version is named by its id.
    let mut statement = connection.prepare(
        "SELECT bucket, key, size, extents, sse, version_id FROM objects
         UNION ALL SELECT bucket, key, size, extents, sse, version_id FROM versions",
    )?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let key: Vec<u8> = row.get(1)?;
        let size: i64 = row.get(2)?;
        let version: Option<String> = row.get(5)?;
        let version = version
            .map(|id| format!(" version {id}"))
            .unwrap_or_default();
        records.push(Owned {
            owner: format!(
                "object {}/{}{version}",
                row.get::<_, String>(0)?,
                String::from_utf8_lossy(&key),
            ),
            size_bytes: u64::try_from(size).unwrap_or(0),
            blob: row.get(3)?,
            encryption: row.get(4)?,
        });
        check.objects += 1;
    }
    let mut statement =
        connection.prepare("SELECT upload_id, part_number, size, extents, sse FROM parts")?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let size: i64 = row.get(2)?;
        records.push(Owned {
            owner: format!(
                "upload {} part {}",
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?
            ),
            size_bytes: u64::try_from(size).unwrap_or(0),
            blob: row.get(3)?,
            encryption: row.get(4)?,
        });
        check.parts += 1;
    }
    Ok(records)
}

fn check_extents(dir: &Path, records: &[Owned], check: &mut PartitionCheck) {
    let segments_dir = dir.join("segments");
    let mut files: HashMap<u32, Option<(std::fs::File, u64)>> = HashMap::new();
    let mut live: Vec<(Extent, usize)> = Vec::new();
    let mut buf = vec![0u8; usize::try_from(CHECK_BLOCK_BYTES).unwrap_or(1 << 16)];
    for (index, record) in records.iter().enumerate() {
        let (extents, checksums) = match decode_extents_checked(&record.blob) {
            Ok(decoded) => decoded,
            Err(error) => {
                check.problem(format!(
                    "{}: corrupt extents record: {}",
                    record.owner, error.0
                ));
                continue;
            }
        };
        check_encryption(record, &extents, check);
        let total: u64 = extents.iter().map(|extent| extent.length_bytes).sum();
        if total != record.size_bytes {
            check.problem(format!(
                "{}: extents hold {total} bytes, the record says {}",
                record.owner, record.size_bytes
            ));
        }
        check.bytes += total;
        let mut next_checksum = 0usize;
        for extent in &extents {
            live.push((*extent, index));
            let blocks = extent.check_block_count();
            let sums = if checksums.is_empty() {
                check.unverified_extents += 1;
                None
            } else {
                next_checksum += blocks;
                checksums.get(next_checksum - blocks..next_checksum)
            };
            let file = files.entry(extent.segment_id).or_insert_with(|| {
                let file = std::fs::File::open(segment_path(&segments_dir, extent.segment_id));
                file.ok()
                    .and_then(|file| file.metadata().ok().map(|m| (file, m.len())))
            });
            let Some((file, file_size)) = file else {
                check.problem(format!(
                    "{}: segment {} is missing",
                    record.owner, extent.segment_id
                ));
                continue;
            };
            let end = extent.offset_bytes + extent.disk_length_bytes();
            if end > *file_size {
                check.problem(format!(
                    "{}: extent {extent:?} ends past its segment ({file_size} bytes)",
                    record.owner
                ));
                continue;
            }
            if let Some(sums) = sums {
                verify_blocks(file, extent, sums, &mut buf, &record.owner, check);
            }
        }
    }
    live.sort_unstable_by_key(|(extent, _)| (extent.segment_id, extent.offset_bytes));
    for pair in live.windows(2) {
        let ((first, first_owner), (second, second_owner)) = (pair[0], pair[1]);
        if first.segment_id == second.segment_id
            && first.offset_bytes + first.disk_length_bytes() > second.offset_bytes
        {
            check.problem(format!(
                "{} and {} overlap in segment {} at offset {}",
                records[first_owner].owner,
                records[second_owner].owner,
                first.segment_id,
                second.offset_bytes
            ));
        }
    }
}

/// An encrypted record's runs must decode and cover its extents with a tag per check block
/// (the tags themselves need the keys: a GET checks them).
fn check_encryption(record: &Owned, extents: &[Extent], check: &mut PartitionCheck) {
    match crate::encryption::decode_encryption(&record.encryption) {
        Ok(None) => {}
        Ok(Some(encryption)) => {
            if !encryption.covers(extents) {
                check.problem(format!(
                    "{}: encryption runs do not match the extents",
                    record.owner
                ));
            }
        }
        Err(error) => check.problem(format!(
            "{}: corrupt encryption record: {}",
            record.owner, error.0
        )),
    }
}

fn verify_blocks(
    file: &std::fs::File,
    extent: &Extent,
    sums: &[u32],
    buf: &mut [u8],
    owner: &str,
    check: &mut PartitionCheck,
) {
    let mut block_start = 0u64;
    for expected in sums {
        let block_end = (block_start + CHECK_BLOCK_BYTES).min(extent.length_bytes);
        let length = usize::try_from(block_end - block_start).unwrap_or(0);
        let offset = extent.offset_bytes + block_start;
        match file.read_exact_at(&mut buf[..length], offset) {
            Ok(()) if block_checksum(&buf[..length]) == *expected => check.blocks_verified += 1,
            Ok(()) => check.problem(format!(
                "{owner}: block at segment {} offset {offset} ({length} bytes) fails its checksum",
                extent.segment_id
            )),
            Err(error) => check.problem(format!(
                "{owner}: cannot read segment {} at {offset}: {error}",
                extent.segment_id
            )),
        }
        block_start = block_end;
    }
}

fn report_damaged(connection: &Connection, check: &mut PartitionCheck) -> rusqlite::Result<()> {
    let mut statement =
        connection.prepare("SELECT segment_id, offset, length, bucket, key FROM damaged")?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let key: Vec<u8> = row.get(4)?;
        check.problem(format!(
            "recorded damage: segment {} offset {} ({} bytes) of {}/{}",
            row.get::<_, u32>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, i64>(2)?,
            row.get::<_, String>(3)?,
            String::from_utf8_lossy(&key)
        ));
    }
    Ok(())
}
