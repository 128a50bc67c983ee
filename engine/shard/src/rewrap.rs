//! Master key rotation, the partition's side: re-wrapping the stored data keys of SSE-S3
//! objects and parts with the current master key version. Data is never re-encrypted: a data
//! key is 64 bytes, so a rotation rewrites a few hundred bytes of metadata per object.
//!
//! A pass walks `objects`, `versions` (noncurrent versions) then `parts` in primary-key
//! order, `max_rows` rows per call, reading on the shard thread and committing the changed
//! rows through the worker like any write. Each update is a compare-and-swap on the `sse`
//! blob read, so an object rewritten meanwhile (its new keys are wrapped with the current
//! version anyway) is left alone. Keys wrapped by SSE-C
//! customers are not ours to re-wrap and are skipped.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, params};
use sse::master::MasterKeys;

use crate::encryption::{decode_encryption, encode_encryption};
use crate::error::ShardError;
use crate::meta::MetaOutcome;

/// Where a pass is: after which row of which table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum RewrapCursor {
    /// At the start of a pass.
    #[default]
    Start,
    /// After this (bucket, key) of `objects`.
    Object(String, Vec<u8>),
    /// After this (bucket, key, seq) of `versions` (every latest version done).
    Version(String, Vec<u8>, i64),
    /// After this (upload id, part number) of `parts` (every version done).
    Part(String, u32),
}

/// One row whose data keys a rotation re-wraps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RewrapTarget {
    Object {
        bucket: String,
        key: Vec<u8>,
    },
    Version {
        bucket: String,
        key: Vec<u8>,
        seq: i64,
    },
    Part {
        upload_id: String,
        part_number: u32,
    },
}

/// A row's `sse` blob to replace, if it still is `old`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptionUpdate {
    pub target: RewrapTarget,
    pub old: Vec<u8>,
    pub new: Vec<u8>,
}

/// What one call of `Partition::rewrap_data_keys` did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RewrapProgress {
    /// Rows read this call.
    pub examined: u64,
    /// Rows whose data keys were re-wrapped this call.
    pub rewrapped: u64,
    /// Rows wrapped by a version this keyring does not have (logged; they stay unreadable
    /// until the keyring holding that version is restored).
    pub unknown_version: u64,
    /// The pass reached the end of both tables; the next call starts a new pass.
    pub pass_done: bool,
}

/// Reads the next `limit` rows after `cursor` and returns the updates that re-wrap them
/// with `keys`' current version, and where the pass is now.
pub(crate) fn plan_batch(
    connection: &Connection,
    keys: &MasterKeys,
    cursor: &RewrapCursor,
    limit: usize,
) -> Result<(Vec<EncryptionUpdate>, RewrapCursor, RewrapProgress), ShardError> {
    let mut progress = RewrapProgress::default();
    let (rows, next) = rows_after(connection, cursor, limit)?;
    let mut updates = Vec::new();
    for (target, blob) in rows {
        progress.examined += 1;
        let Some(mut encryption) = decode_encryption(&blob)? else {
            continue;
        };
        match encryption.rewrap(keys) {
            Ok(true) => updates.push(EncryptionUpdate {
                target,
                new: encode_encryption(Some(&encryption)),
                old: blob,
            }),
            Ok(false) => {}
            Err(error) => {
                progress.unknown_version += 1;
                tracing::error!(?target, %error, "cannot re-wrap a stored data key");
            }
        }
    }
    progress.pass_done = next == RewrapCursor::Start;
    Ok((updates, next, progress))
}

/// A row and its `sse` blob as read.
type StoredBlob = (RewrapTarget, Vec<u8>);

/// Up to `limit` rows (target, sse blob) after `cursor`, moving on to `versions` and then to
/// `parts` as each table runs out; the cursor after them (`Start` once every table is done).
fn rows_after(
    connection: &Connection,
    cursor: &RewrapCursor,
    limit: usize,
) -> Result<(Vec<StoredBlob>, RewrapCursor), ShardError> {
    let mut rows = Vec::new();
    if matches!(cursor, RewrapCursor::Start | RewrapCursor::Object(..)) {
        let (bucket, key) = match cursor {
            RewrapCursor::Object(bucket, key) => (bucket.as_str(), key.as_slice()),
            _ => ("", &[][..]),
        };
        // (bucket, key) > ('', x'') holds for every row: buckets have names.
        rows = query_rows(
            connection,
            "SELECT bucket, key, sse FROM objects WHERE (bucket, key) > (?1, ?2)
             ORDER BY bucket, key LIMIT ?3",
            params![bucket, key, sql_limit(limit)],
            |row| {
                Ok(RewrapTarget::Object {
                    bucket: row.get(0)?,
                    key: row.get(1)?,
                })
            },
        )?;
        if rows.len() == limit {
            return Ok(next_cursor(rows));
        }
    }
    if !matches!(cursor, RewrapCursor::Part(..)) {
        let (bucket, key, seq) = match cursor {
            RewrapCursor::Version(bucket, key, seq) => (bucket.as_str(), key.as_slice(), *seq),
            _ => ("", &[][..], i64::MAX),
        };
        let remaining = limit - rows.len();
        rows.extend(query_rows(
            connection,
            "SELECT bucket, key, sse, seq FROM versions
             WHERE (bucket, key) > (?1, ?2) OR (bucket = ?1 AND key = ?2 AND seq < ?3)
             ORDER BY bucket, key, seq DESC LIMIT ?4",
            params![bucket, key, seq, sql_limit(remaining)],
            |row| {
                Ok(RewrapTarget::Version {
                    bucket: row.get(0)?,
                    key: row.get(1)?,
                    seq: row.get(3)?,
                })
            },
        )?);
        if rows.len() == limit {
            return Ok(next_cursor(rows));
        }
    }
    let (upload_id, part_number) = match cursor {
        RewrapCursor::Part(upload_id, part_number) => (upload_id.as_str(), *part_number),
        _ => ("", 0),
    };
    let remaining = limit - rows.len();
    let parts = query_rows(
        connection,
        "SELECT upload_id, part_number, sse FROM parts
         WHERE (upload_id, part_number) > (?1, ?2)
         ORDER BY upload_id, part_number LIMIT ?3",
        params![upload_id, part_number, sql_limit(remaining)],
        |row| {
            Ok(RewrapTarget::Part {
                upload_id: row.get(0)?,
                part_number: row.get(1)?,
            })
        },
    )?;
    let full = parts.len() == remaining;
    rows.extend(parts);
    if full {
        return Ok(next_cursor(rows));
    }
    Ok((rows, RewrapCursor::Start))
}

fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// Rows whose column 2 is the `sse` blob, each made a target by `target`.
fn query_rows(
    connection: &Connection,
    sql: &str,
    values: impl rusqlite::Params,
    target: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<RewrapTarget>,
) -> Result<Vec<StoredBlob>, ShardError> {
    let mut statement = connection.prepare_cached(sql)?;
    let mut result = statement.query(values)?;
    let mut rows = Vec::new();
    while let Some(row) = result.next()? {
        rows.push((target(row)?, row.get::<_, Vec<u8>>(2)?));
    }
    Ok(rows)
}

/// The cursor after the last of a full page of rows.
fn next_cursor(rows: Vec<StoredBlob>) -> (Vec<StoredBlob>, RewrapCursor) {
    let next = match rows.last() {
        Some((RewrapTarget::Object { bucket, key }, _)) => {
            RewrapCursor::Object(bucket.clone(), key.clone())
        }
        Some((RewrapTarget::Version { bucket, key, seq }, _)) => {
            RewrapCursor::Version(bucket.clone(), key.clone(), *seq)
        }
        Some((
            RewrapTarget::Part {
                upload_id,
                part_number,
            },
            _,
        )) => RewrapCursor::Part(upload_id.clone(), *part_number),
        None => RewrapCursor::Start,
    };
    (rows, next)
}

/// `MetaOp::SetEncryption`, in the worker's transaction.
pub(crate) fn apply_updates(
    tx: &rusqlite::Savepoint<'_>,
    updates: &[EncryptionUpdate],
) -> Result<MetaOutcome, ShardError> {
    for update in updates {
        match &update.target {
            RewrapTarget::Object { bucket, key } => tx.execute(
                "UPDATE objects SET sse = ?3 WHERE bucket = ?1 AND key = ?2 AND sse = ?4",
                params![bucket, key, update.new, update.old],
            )?,
            RewrapTarget::Version { bucket, key, seq } => tx.execute(
                "UPDATE versions SET sse = ?4 WHERE bucket = ?1 AND key = ?2 AND seq = ?3
                 AND sse = ?5",
                params![bucket, key, seq, update.new, update.old],
            )?,
            RewrapTarget::Part {
                upload_id,
                part_number,
            } => tx.execute(
                "UPDATE parts SET sse = ?3 WHERE upload_id = ?1 AND part_number = ?2
                 AND sse = ?4",
                params![upload_id, part_number, update.new, update.old],
            )?,
        };
    }
    Ok(MetaOutcome::default())
}

/// `MetaOp::RewrapFinished`, in the worker's transaction (schema 6).
pub(crate) fn record_finished(
    tx: &rusqlite::Savepoint<'_>,
    kek_version: u32,
) -> Result<MetaOutcome, ShardError> {
    tx.execute(
        "INSERT OR REPLACE INTO partition_state (name, value)
         VALUES ('rewrapped_kek_version', ?1)",
        params![kek_version],
    )?;
    Ok(MetaOutcome::default())
}

/// The master key version `record_finished` last recorded, if any.
pub(crate) fn finished_version(connection: &Connection) -> Result<Option<u32>, ShardError> {
    let value: Option<i64> = connection
        .query_row(
            "SELECT value FROM partition_state WHERE name = 'rewrapped_kek_version'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(value.and_then(|value| u32::try_from(value).ok()))
}

/// How many data keys (runs) of objects and parts each master key version wraps.
pub(crate) fn data_keys_by_version(
    connection: &Connection,
) -> Result<BTreeMap<u32, u64>, ShardError> {
    let mut counts = BTreeMap::new();
    for sql in [
        "SELECT sse FROM objects WHERE sse != x''",
        "SELECT sse FROM versions WHERE sse != x''",
        "SELECT sse FROM parts WHERE sse != x''",
    ] {
        let mut statement = connection.prepare_cached(sql)?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let Some(encryption) = decode_encryption(&row.get::<_, Vec<u8>>(0)?)? else {
                continue;
            };
            for version in encryption.master_versions() {
                *counts.entry(version).or_insert(0) += 1;
            }
        }
    }
    Ok(counts)
}
