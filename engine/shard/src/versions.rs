//! Object versions (S3 versioning) in a partition's metadata: which row is the latest version
//! of a key, where the older ones go, and the order between them.
//!
//! The latest version of every key is its row in `objects` (a delete marker included), so a
//! GET of the latest version, a LIST and every write to a bucket that never had versioning cost
//! what they did before versions existed. Older (noncurrent) versions live in `versions`,
//! keyed by (bucket, key, seq DESC): a key's history is one index range, newest first.
//!
//! Order: every write gets a `seq` from the partition's `VersionClock` when its commit is
//! applied on the worker thread, the one writer of the partition. All versions of a key live
//! in the key's partition, so `seq` orders them exactly, in commit order: a clock that ties or
//! steps back cannot make an older version the latest. `seq` is a hybrid clock (microseconds
//! since the epoch, or the last value plus one when the clock is behind it), kept ahead of
//! every value ever issued across restarts by a reservation stored in the same file.
//!
//! A version id is `seq` (16 hex digits, so ids sort by creation) followed by 16 random hex
//! digits (so ids of different partitions and nodes never collide); clients treat it as
//! opaque. A lookup by id reads `seq` from the id and seeks the primary key, then checks the
//! whole id. The `null` version has no id (`version_id IS NULL`): it is what a write makes in
//! a bucket that is unversioned or suspended, and a new one replaces the old.

use base::object_lock::LegalHold;
use rusqlite::{Connection, OptionalExtension, params};

use crate::encryption::{decode_encryption, encode_encryption};
use crate::error::ShardError;
use crate::record::{
    Extent, ObjectRecord, ObjectRetention, RetentionMode, VersionRef, Versioning, decode_extents,
    decode_extents_checked, decode_headers, decode_sizes, decode_strings, decode_tags,
    encode_extents, encode_headers, encode_sizes, encode_strings, encode_tags,
};

/// Length of a version id: 16 hex digits of `seq`, 16 random ones.
const VERSION_ID_LENGTH: usize = 32;
/// How far ahead of the clock the stored reservation runs. A batch issues far fewer than this
/// many microseconds' worth of sequence numbers, so `seq` never passes the reservation.
const RESERVATION_MICROS: u64 = 60_000_000;
const RESERVATION_NAME: &str = "version_seq_reserved";

/// Columns of a version row, in `RawVersion::read`'s order (both tables have them).
pub(crate) const RECORD_COLUMNS: &str = "size, etag, last_modified_ms, headers, extents, \
    part_sizes, tags, part_checksums, sse, version_id, delete_marker, lock_mode, \
    retain_until_ms, legal_hold, acl";

/// Whether `value` has the shape of an id this server issues (not whether it exists).
pub fn is_version_id(value: &str) -> bool {
    value.len() == VERSION_ID_LENGTH
        && value
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
}

/// The `seq` a well-formed version id carries.
pub fn seq_of(version_id: &str) -> Option<u64> {
    if !is_version_id(version_id) {
        return None;
    }
    u64::from_str_radix(&version_id[..16], 16).ok()
}

/// Where a sequence number is stored (SQLite integers are signed; `seq` stays below 2^63).
fn seq_to_sql(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

/// The worker's source of `seq` values and version ids (module comment).
pub(crate) struct VersionClock {
    last: u64,
    reserved: u64,
}

impl VersionClock {
    /// Starts past every value a previous run may have issued.
    pub(crate) fn open(connection: &Connection) -> Result<VersionClock, ShardError> {
        let reserved: Option<i64> = connection
            .query_row(
                "SELECT value FROM partition_state WHERE name = ?1",
                params![RESERVATION_NAME],
                |r| r.get(0),
            )
            .optional()?;
        let reserved = reserved.map_or(0, |value| u64::try_from(value).unwrap_or(0));
        Ok(VersionClock {
            last: reserved,
            reserved,
        })
    }

    /// Called at the start of every batch, inside its transaction: moves the stored
    /// reservation ahead when the clock came within half of it.
    pub(crate) fn reserve(&mut self, connection: &Connection) -> Result<(), ShardError> {
        let floor = now_micros().max(self.last) + RESERVATION_MICROS / 2;
        if self.reserved >= floor {
            return Ok(());
        }
        let reserved = floor + RESERVATION_MICROS / 2;
        connection.execute(
            "INSERT INTO partition_state (name, value) VALUES (?1, ?2)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            params![RESERVATION_NAME, seq_to_sql(reserved)],
        )?;
        self.reserved = reserved;
        Ok(())
    }

    fn next(&mut self) -> u64 {
        self.last = (self.last + 1).max(now_micros());
        self.last
    }

    fn new_id(seq: u64) -> String {
        format!("{seq:016x}{:016x}", rand::random::<u64>())
    }
}

fn now_micros() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX >> 1)
        })
}

/// The columns of a version row before decoding.
pub(crate) struct RawVersion {
    size: i64,
    etag: String,
    last_modified_ms: i64,
    headers: Vec<u8>,
    extents: Vec<u8>,
    part_sizes: Vec<u8>,
    tags: Vec<u8>,
    part_checksums: Vec<u8>,
    sse: Vec<u8>,
    version_id: Option<String>,
    delete_marker: bool,
    lock_mode: String,
    retain_until_ms: i64,
    /// [`crate::record::legal_hold_column`]: never read it as a bool (2 is OFF).
    legal_hold: i64,
    acl: Option<String>,
}

impl RawVersion {
    /// Reads `RECORD_COLUMNS` starting at column `first`.
    pub(crate) fn read(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<RawVersion> {
        Ok(RawVersion {
            size: row.get(first)?,
            etag: row.get(first + 1)?,
            last_modified_ms: row.get(first + 2)?,
            headers: row.get(first + 3)?,
            extents: row.get(first + 4)?,
            part_sizes: row.get(first + 5)?,
            tags: row.get(first + 6)?,
            part_checksums: row.get(first + 7)?,
            sse: row.get(first + 8)?,
            version_id: row.get(first + 9)?,
            delete_marker: row.get(first + 10)?,
            lock_mode: row.get(first + 11)?,
            retain_until_ms: row.get(first + 12)?,
            legal_hold: row.get(first + 13)?,
            acl: row.get(first + 14)?,
        })
    }

    pub(crate) fn decode(self) -> Result<ObjectRecord, ShardError> {
        let (extents, block_checksums) = decode_extents_checked(&self.extents)?;
        let retention = match self.lock_mode.as_str() {
            "" => None,
            mode => Some(ObjectRetention {
                mode: RetentionMode::parse(mode).ok_or(ShardError::CorruptRecord("lock mode"))?,
                retain_until_ms: self.retain_until_ms,
            }),
        };
        Ok(ObjectRecord {
            size_bytes: u64::try_from(self.size).unwrap_or(0),
            etag: self.etag,
            last_modified_ms: self.last_modified_ms,
            headers: decode_headers(&self.headers)?,
            extents,
            part_sizes_bytes: decode_sizes(&self.part_sizes)?,
            tags: decode_tags(&self.tags)?,
            part_checksums: decode_strings(&self.part_checksums)?,
            block_checksums,
            encryption: decode_encryption(&self.sse)?,
            version_id: self.version_id,
            delete_marker: self.delete_marker,
            retention,
            legal_hold: self.legal_hold == 1,
            legal_hold_set: self.legal_hold != 0,
            acl: crate::record::decode_acl(self.acl)?,
        })
    }
}

/// The latest version of a key (a delete marker included).
pub(crate) fn latest(
    connection: &Connection,
    bucket: &str,
    key: &str,
) -> Result<Option<ObjectRecord>, ShardError> {
    let sql = format!("SELECT {RECORD_COLUMNS} FROM objects WHERE bucket = ?1 AND key = ?2");
    let raw = connection
        .prepare_cached(&sql)?
        .query_row(params![bucket, key.as_bytes()], |r| RawVersion::read(r, 0))
        .optional()?;
    raw.map(RawVersion::decode).transpose()
}

/// One version of a key by id, and whether it is the latest.
pub(crate) fn version(
    connection: &Connection,
    bucket: &str,
    key: &str,
    version: &VersionRef,
) -> Result<Option<(ObjectRecord, bool)>, ShardError> {
    if let Some(latest) = latest(connection, bucket, key)?
        && latest.version_id.as_deref() == id_of(version)
    {
        return Ok(Some((latest, true)));
    }
    let raw = match version {
        VersionRef::Null => connection
            .prepare_cached(&format!(
                "SELECT {RECORD_COLUMNS} FROM versions
                 WHERE bucket = ?1 AND key = ?2 AND version_id IS NULL"
            ))?
            .query_row(params![bucket, key.as_bytes()], |r| RawVersion::read(r, 0))
            .optional()?,
        VersionRef::Id(id) => {
            let Some(seq) = seq_of(id) else {
                return Ok(None);
            };
            connection
                .prepare_cached(&format!(
                    "SELECT {RECORD_COLUMNS} FROM versions
                     WHERE bucket = ?1 AND key = ?2 AND seq = ?3 AND version_id = ?4"
                ))?
                .query_row(params![bucket, key.as_bytes(), seq_to_sql(seq), id], |r| {
                    RawVersion::read(r, 0)
                })
                .optional()?
        }
    };
    Ok(raw
        .map(RawVersion::decode)
        .transpose()?
        .map(|record| (record, false)))
}

fn id_of(version: &VersionRef) -> Option<&str> {
    match version {
        VersionRef::Null => None,
        VersionRef::Id(id) => Some(id),
    }
}

/// What a versioned write or delete did, for the answer's `x-amz-version-id` and
/// `x-amz-delete-marker`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionOutcome {
    /// The version created or removed; `None`: the null version.
    pub version_id: Option<String>,
    /// It is (or was) a delete marker.
    pub delete_marker: bool,
}

/// Stores `record` as the new latest version of `key`. Enabled: it gets a new id and the
/// current version becomes noncurrent. Unversioned or suspended: it is the null version,
/// replacing the previous null version wherever that is (whose extents are returned), and a
/// current version with an id becomes noncurrent.
pub(crate) fn put(
    tx: &Connection,
    clock: &mut VersionClock,
    target: (&str, &str),
    record: &ObjectRecord,
    versioning: Versioning,
    now_ms: i64,
) -> Result<(Vec<Extent>, VersionOutcome), ShardError> {
    let (bucket, key) = target;
    let seq = clock.next();
    let mut freed = Vec::new();
    let version_id = if versioning == Versioning::Enabled {
        Some(VersionClock::new_id(seq))
    } else {
        freed = remove_null(tx, bucket, key, now_ms)?;
        None
    };
    demote_latest(tx, bucket, key, now_ms)?;
    insert(
        tx,
        "objects",
        (bucket, key),
        seq,
        record,
        version_id.as_deref(),
        None,
    )?;
    Ok((
        freed,
        VersionOutcome {
            version_id,
            delete_marker: record.delete_marker,
        },
    ))
}

/// Removes the null version of a key, wherever it is, refusing a locked one (the caller may
/// not have meant to destroy it: only the null version of an unversioned or suspended bucket
/// is ever replaced in place).
fn remove_null(
    tx: &Connection,
    bucket: &str,
    key: &str,
    now_ms: i64,
) -> Result<Vec<Extent>, ShardError> {
    for table in ["objects", "versions"] {
        let sql = format!(
            "SELECT lock_mode, retain_until_ms, legal_hold FROM {table}
             WHERE bucket = ?1 AND key = ?2 AND version_id IS NULL"
        );
        let lock: Option<(String, i64, i64)> = tx
            .prepare_cached(&sql)?
            .query_row(params![bucket, key.as_bytes()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        let Some((mode, retain_until_ms, legal_hold)) = lock else {
            continue;
        };
        let retention = RetentionMode::parse(&mode).map(|mode| ObjectRetention {
            mode,
            retain_until_ms,
        });
        base::object_lock::check_version_delete(
            retention.as_ref(),
            hold(legal_hold == 1),
            now_ms,
            false,
        )
        .map_err(|_| ShardError::ObjectLocked)?;
        let sql = format!(
            "DELETE FROM {table} WHERE bucket = ?1 AND key = ?2 AND version_id IS NULL
             RETURNING extents"
        );
        let blob: Vec<u8> = tx
            .prepare_cached(&sql)?
            .query_row(params![bucket, key.as_bytes()], |r| r.get(0))?;
        return Ok(decode_extents(&blob)?);
    }
    Ok(Vec::new())
}

/// Moves the key's latest version, if any, to `versions`: noncurrent since `now_ms`.
fn demote_latest(tx: &Connection, bucket: &str, key: &str, now_ms: i64) -> Result<(), ShardError> {
    let moved = tx
        .prepare_cached(&format!(
            "INSERT INTO versions (bucket, key, seq, {RECORD_COLUMNS}, noncurrent_since_ms)
             SELECT bucket, key, seq, {RECORD_COLUMNS}, ?3 FROM objects
             WHERE bucket = ?1 AND key = ?2"
        ))?
        .execute(params![bucket, key.as_bytes(), now_ms])?;
    if moved > 0 {
        tx.prepare_cached("DELETE FROM objects WHERE bucket = ?1 AND key = ?2")?
            .execute(params![bucket, key.as_bytes()])?;
    }
    Ok(())
}

/// Makes the newest noncurrent version of a key its latest (its latest was deleted).
fn promote_newest(tx: &Connection, bucket: &str, key: &str) -> Result<(), ShardError> {
    let newest: Option<i64> = tx
        .prepare_cached(
            "SELECT seq FROM versions WHERE bucket = ?1 AND key = ?2 ORDER BY seq DESC LIMIT 1",
        )?
        .query_row(params![bucket, key.as_bytes()], |r| r.get(0))
        .optional()?;
    let Some(seq) = newest else {
        return Ok(());
    };
    tx.prepare_cached(&format!(
        "INSERT INTO objects (bucket, key, seq, {RECORD_COLUMNS})
         SELECT bucket, key, seq, {RECORD_COLUMNS} FROM versions
         WHERE bucket = ?1 AND key = ?2 AND seq = ?3"
    ))?
    .execute(params![bucket, key.as_bytes(), seq])?;
    tx.prepare_cached("DELETE FROM versions WHERE bucket = ?1 AND key = ?2 AND seq = ?3")?
        .execute(params![bucket, key.as_bytes(), seq])?;
    Ok(())
}

/// Writes a version row. `noncurrent_since_ms` is `Some` exactly for `versions` rows.
fn insert(
    tx: &Connection,
    table: &str,
    target: (&str, &str),
    seq: u64,
    record: &ObjectRecord,
    version_id: Option<&str>,
    noncurrent_since_ms: Option<i64>,
) -> Result<(), ShardError> {
    let (bucket, key) = target;
    let (lock_mode, retain_until_ms) = match &record.retention {
        Some(retention) => (retention.mode.as_str(), retention.retain_until_ms),
        None => ("", 0),
    };
    let extra = if noncurrent_since_ms.is_some() {
        ", noncurrent_since_ms"
    } else {
        ""
    };
    let sql = format!(
        "INSERT INTO {table} (bucket, key, seq, {RECORD_COLUMNS}{extra})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
            ?18{})",
        if noncurrent_since_ms.is_some() {
            ", ?19"
        } else {
            ""
        }
    );
    let mut statement = tx.prepare_cached(&sql)?;
    let mut values: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(19);
    let seq = seq_to_sql(seq);
    let size = i64::try_from(record.size_bytes).unwrap_or(i64::MAX);
    let headers = encode_headers(&record.headers);
    let extents = encode_extents(&record.extents, &record.block_checksums);
    let part_sizes = encode_sizes(&record.part_sizes_bytes);
    let tags = encode_tags(&record.tags);
    let part_checksums = encode_strings(&record.part_checksums);
    let sse = encode_encryption(record.encryption.as_ref());
    let legal_hold = crate::record::legal_hold_column(record.legal_hold, record.legal_hold_set);
    let key = key.as_bytes();
    values.extend_from_slice(&[&bucket, &key, &seq, &size, &record.etag]);
    values.extend_from_slice(&[&record.last_modified_ms, &headers, &extents, &part_sizes]);
    values.extend_from_slice(&[&tags, &part_checksums, &sse, &version_id]);
    values.extend_from_slice(&[&record.delete_marker, &lock_mode, &retain_until_ms]);
    let acl = record.acl.as_ref().map(base::acl::Acl::encode);
    values.extend_from_slice(&[&legal_hold, &acl]);
    if let Some(since) = &noncurrent_since_ms {
        values.push(since);
    }
    statement.execute(values.as_slice())?;
    Ok(())
}

/// A delete without a version id. Unversioned: the null version is removed (and the newest
/// noncurrent version, if any, becomes the latest). Enabled: a delete marker with a new id
/// becomes the latest version. Suspended: a null delete marker replaces the null version.
pub(crate) fn delete_latest(
    tx: &Connection,
    clock: &mut VersionClock,
    target: (&str, &str),
    versioning: Versioning,
    now_ms: i64,
) -> Result<(Vec<Extent>, Option<VersionOutcome>), ShardError> {
    let (bucket, key) = target;
    if versioning == Versioning::Unversioned {
        let was_latest = latest(tx, bucket, key)?.is_some_and(|r| r.version_id.is_none());
        let freed = remove_null(tx, bucket, key, now_ms)?;
        if was_latest {
            promote_newest(tx, bucket, key)?;
        }
        return Ok((freed, None));
    }
    let marker = ObjectRecord {
        last_modified_ms: now_ms,
        delete_marker: true,
        ..ObjectRecord::default()
    };
    let (freed, outcome) = put(tx, clock, target, &marker, versioning, now_ms)?;
    Ok((freed, Some(outcome)))
}

/// Permanently deletes one version. A protected version is refused unless `bypass_governance`
/// lifts a GOVERNANCE retention (never a COMPLIANCE one or a legal hold). Deleting the latest
/// version makes the newest noncurrent one the latest. A version that does not exist is not an
/// error (S3 answers 204): the outcome is `None`.
pub(crate) fn delete_version(
    tx: &Connection,
    target: (&str, &str),
    version: &VersionRef,
    bypass_governance: bool,
    now_ms: i64,
) -> Result<(Vec<Extent>, Option<VersionOutcome>), ShardError> {
    let (bucket, key) = target;
    let Some((record, is_latest)) = self::version(tx, bucket, key, version)? else {
        return Ok((Vec::new(), None));
    };
    check_destroyable(&record, bypass_governance, now_ms)?;
    let table = table_of(is_latest);
    let sql = format!("DELETE FROM {table} WHERE {THE_VERSION}");
    tx.prepare_cached(&sql)?
        .execute(params![bucket, key.as_bytes(), record.version_id])?;
    if is_latest {
        promote_newest(tx, bucket, key)?;
    }
    Ok((
        record.extents,
        Some(VersionOutcome {
            version_id: record.version_id,
            delete_marker: record.delete_marker,
        }),
    ))
}

fn hold(on: bool) -> LegalHold {
    if on { LegalHold::On } else { LegalHold::Off }
}

/// The row of one version: `?1` bucket, `?2` key, `?3` its id (NULL: the null version).
const THE_VERSION: &str =
    "bucket = ?1 AND key = ?2 AND (version_id = ?3 OR (version_id IS NULL AND ?3 IS NULL))";

/// The table a version found by `version` / `find` lives in.
fn table_of(is_latest: bool) -> &'static str {
    if is_latest { "objects" } else { "versions" }
}

/// Refuses to destroy a version that object lock protects (`base::object_lock`).
pub(crate) fn check_destroyable(
    record: &ObjectRecord,
    bypass_governance: bool,
    now_ms: i64,
) -> Result<(), ShardError> {
    base::object_lock::check_version_delete(
        record.retention.as_ref(),
        hold(record.legal_hold),
        now_ms,
        bypass_governance,
    )
    .map_err(|_| ShardError::ObjectLocked)
}

/// Replaces the tags of one version (the latest when `version` is `None`). `NoSuchKey` /
/// `NoSuchVersion` when there is none, `DeleteMarker` when it is a delete marker.
pub(crate) fn set_tags(
    tx: &Connection,
    target: (&str, &str),
    version: Option<&VersionRef>,
    tags: &[(String, String)],
) -> Result<VersionOutcome, ShardError> {
    set_subresource(tx, target, version, "tags", &encode_tags(tags))
}

/// Replaces the ACL of one version, as `set_tags` does its tags.
pub(crate) fn set_acl(
    tx: &Connection,
    target: (&str, &str),
    version: Option<&VersionRef>,
    acl: Option<&base::acl::Acl>,
) -> Result<VersionOutcome, ShardError> {
    let stored = acl.map(base::acl::Acl::encode);
    set_subresource(tx, target, version, "acl", &stored)
}

/// Writes one subresource column (`column` is a constant of this module) of one version;
/// ETag and Last-Modified stay.
fn set_subresource(
    tx: &Connection,
    target: (&str, &str),
    version: Option<&VersionRef>,
    column: &'static str,
    value: &dyn rusqlite::ToSql,
) -> Result<VersionOutcome, ShardError> {
    let (bucket, key) = target;
    let (record, is_latest) = find(tx, bucket, key, version)?;
    let table = table_of(is_latest);
    let sql = format!("UPDATE {table} SET {column} = ?4 WHERE {THE_VERSION}");
    tx.prepare_cached(&sql)?
        .execute(params![bucket, key.as_bytes(), record.version_id, value])?;
    Ok(VersionOutcome {
        version_id: record.version_id,
        delete_marker: false,
    })
}

/// The version a request names, for an operation on its data or subresources: the latest when
/// `version` is `None` (`NoSuchKey` when none, or when it is a delete marker), else that
/// version (`NoSuchVersion`; `DeleteMarker` when it is one).
pub(crate) fn find(
    connection: &Connection,
    bucket: &str,
    key: &str,
    version: Option<&VersionRef>,
) -> Result<(ObjectRecord, bool), ShardError> {
    match version {
        None => match latest(connection, bucket, key)? {
            Some(record) if !record.delete_marker => Ok((record, true)),
            _ => Err(ShardError::NoSuchKey),
        },
        Some(version) => match self::version(connection, bucket, key, version)? {
            Some((record, _)) if record.delete_marker => Err(ShardError::DeleteMarker),
            Some(found) => Ok(found),
            None => Err(ShardError::NoSuchVersion),
        },
    }
}

/// One row of a ListObjectVersions page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionEntry {
    pub key: Vec<u8>,
    pub seq: u64,
    /// `None`: the null version.
    pub version_id: Option<String>,
    pub is_latest: bool,
    pub delete_marker: bool,
    pub size_bytes: u64,
    pub etag: String,
    pub last_modified_ms: i64,
    /// When the version stopped being the latest (a newer one was written); `None` while it
    /// is the latest. Lifecycle's noncurrent days count from here.
    pub noncurrent_since_ms: Option<i64>,
}

/// Where a page of versions starts, in (key bytes, newest first) order. A key's versions all
/// live in its partition, so a position names the same place in every partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionStart {
    /// At the first version of the first key at or after this one.
    AtOrAfterKey(Vec<u8>),
    /// After every version of this key (`key-marker` alone).
    AfterKey(Vec<u8>),
    /// After this version of the key: its older versions, then greater keys.
    AfterVersion { key: Vec<u8>, seq: u64 },
}

/// The `seq` of a version named by `version-id-marker`, for a `VersionStart::AfterVersion`.
/// `None` when the key has no such version.
pub(crate) fn seq_of_version(
    connection: &Connection,
    bucket: &str,
    key: &str,
    version: &VersionRef,
) -> Result<Option<u64>, ShardError> {
    if let VersionRef::Id(id) = version {
        return Ok(seq_of(id));
    }
    for table in ["objects", "versions"] {
        let sql = format!(
            "SELECT seq FROM {table} WHERE bucket = ?1 AND key = ?2 AND version_id IS NULL"
        );
        let seq: Option<i64> = connection
            .prepare_cached(&sql)?
            .query_row(params![bucket, key.as_bytes()], |r| r.get(0))
            .optional()?;
        if let Some(seq) = seq {
            return Ok(Some(u64::try_from(seq).unwrap_or(0)));
        }
    }
    Ok(None)
}

/// Versions of `bucket` from `start` within the prefix, in (key, newest first) order, at most
/// `limit`: both tables stepped side by side and merged (the latest version of a key has its
/// greatest `seq`), so each reads only the rows the page returns.
pub(crate) fn list(
    connection: &Connection,
    bucket: &str,
    start: &VersionStart,
    prefix: &[u8],
    limit: usize,
) -> Result<Vec<VersionEntry>, ShardError> {
    let latest_query = PageQuery::new("objects", start, prefix);
    let older_query = PageQuery::new("versions", start, prefix);
    let mut latest_statement = connection.prepare_cached(&latest_query.sql)?;
    let mut older_statement = connection.prepare_cached(&older_query.sql)?;
    let limit_sql = i64::try_from(limit).unwrap_or(i64::MAX);
    let bind = |query: &PageQuery<'_>| {
        (
            query.from.to_vec(),
            query.prefix_end.clone(),
            seq_to_sql(query.seq),
        )
    };
    let (from, end, seq) = bind(&latest_query);
    let mut latest = latest_statement.query(params![bucket, from, end, limit_sql, seq])?;
    let (from, end, seq) = bind(&older_query);
    let mut older = older_statement.query(params![bucket, from, end, limit_sql, seq])?;
    let mut merged = Vec::with_capacity(limit.min(1024));
    let (mut a, mut b) = (
        next_entry(&mut latest, true)?,
        next_entry(&mut older, false)?,
    );
    while merged.len() < limit {
        let take_latest = match (&a, &b) {
            (Some(x), Some(y)) => {
                (&x.key, std::cmp::Reverse(x.seq)) <= (&y.key, std::cmp::Reverse(y.seq))
            }
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        if take_latest {
            merged.extend(a.take());
            a = next_entry(&mut latest, true)?;
        } else {
            merged.extend(b.take());
            b = next_entry(&mut older, false)?;
        }
    }
    Ok(merged)
}

/// One table's page query: SQL and the values it binds.
struct PageQuery<'a> {
    sql: String,
    from: &'a [u8],
    prefix_end: Option<Vec<u8>>,
    seq: u64,
}

impl<'a> PageQuery<'a> {
    fn new(table: &str, start: &'a VersionStart, prefix: &'a [u8]) -> PageQuery<'a> {
        let (position, from, seq) = match start {
            VersionStart::AfterKey(key) if key.as_slice() >= prefix => {
                ("key > ?2", key.as_slice(), 0)
            }
            VersionStart::AfterVersion { key, seq } if key.as_slice() >= prefix => (
                "(key > ?2 OR (key = ?2 AND seq < ?5))",
                key.as_slice(),
                *seq,
            ),
            VersionStart::AtOrAfterKey(key) if key.as_slice() >= prefix => {
                ("key >= ?2", key.as_slice(), 0)
            }
            _ => ("key >= ?2", prefix, 0),
        };
        let prefix_end = crate::meta::prefix_successor(prefix);
        let upper = if prefix_end.is_some() {
            "key < ?3"
        } else {
            "?3 IS NULL"
        };
        let (order, since) = if table == "objects" {
            ("key", "NULL")
        } else {
            ("key, seq DESC", "noncurrent_since_ms")
        };
        // `?5` (the marker's seq) is bound on every page; `?5 >= 0` names it in every shape.
        let sql = format!(
            "SELECT key, seq, version_id, delete_marker, size, etag, last_modified_ms, {since}
             FROM {table}
             WHERE bucket = ?1 AND {position} AND {upper} AND ?5 >= 0 ORDER BY {order} LIMIT ?4"
        );
        PageQuery {
            sql,
            from,
            prefix_end,
            seq,
        }
    }
}

/// The next row of a page query as an entry (`latest`: it comes from `objects`).
fn next_entry(
    rows: &mut rusqlite::Rows<'_>,
    latest: bool,
) -> Result<Option<VersionEntry>, ShardError> {
    let Some(r) = rows.next()? else {
        return Ok(None);
    };
    Ok(Some(VersionEntry {
        key: r.get(0)?,
        seq: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
        version_id: r.get(2)?,
        is_latest: latest,
        delete_marker: r.get(3)?,
        size_bytes: u64::try_from(r.get::<_, i64>(4)?).unwrap_or(0),
        etag: r.get(5)?,
        last_modified_ms: r.get(6)?,
        noncurrent_since_ms: r.get(7)?,
    }))
}

/// `MetaOp::SetRetention` and `MetaOp::SetLegalHold` on one version.
pub(crate) fn apply_lock_op(tx: &Connection, op: &crate::meta::MetaOp) -> Result<(), ShardError> {
    use crate::meta::MetaOp;
    let (bucket, key, version) = match op {
        MetaOp::SetRetention {
            bucket,
            key,
            version,
            ..
        }
        | MetaOp::SetLegalHold {
            bucket,
            key,
            version,
            ..
        } => (bucket.as_str(), key.as_str(), version.as_ref()),
        _ => return Ok(()),
    };
    let (record, is_latest) = find(tx, bucket, key, version)?;
    let table = table_of(is_latest);
    match op {
        MetaOp::SetRetention {
            retention,
            bypass_governance,
            now_ms,
            ..
        } => {
            base::object_lock::check_retention_change(
                record.retention.as_ref(),
                retention.as_ref(),
                *now_ms,
                *bypass_governance,
            )
            .map_err(|_| ShardError::ObjectLocked)?;
            let (mode, until) = match retention {
                Some(retention) => (retention.mode.as_str(), retention.retain_until_ms),
                None => ("", 0),
            };
            let sql = format!(
                "UPDATE {table} SET lock_mode = ?4, retain_until_ms = ?5 WHERE {THE_VERSION}"
            );
            tx.prepare_cached(&sql)?.execute(params![
                bucket,
                key.as_bytes(),
                record.version_id,
                mode,
                until
            ])?;
        }
        MetaOp::SetLegalHold { on, .. } => {
            let sql = format!("UPDATE {table} SET legal_hold = ?4 WHERE {THE_VERSION}");
            tx.prepare_cached(&sql)?.execute(params![
                bucket,
                key.as_bytes(),
                record.version_id,
                crate::record::legal_hold_column(*on, true)
            ])?;
        }
        _ => {}
    }
    Ok(())
}
