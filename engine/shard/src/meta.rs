//! Per-partition metadata in SQLite: objects, multipart uploads and parts, and (in partition 0)
//! the bucket catalogue.
//!
//! Two connections per partition: `MetaReader` lives on the shard thread and answers point
//! lookups and listing pages; `MetaWriter` lives on the partition's worker thread and applies
//! batches of `MetaOp`s in one transaction (group commit). WAL mode lets the reader see every
//! committed batch without blocking on the writer; `synchronous=FULL` makes a returned COMMIT
//! durable across power loss, not only across a process crash.
//!
//! Architecture invariant: only the worker thread writes; every write goes through
//! `MetaWriter::apply_batch`, which is the one place that decides object visibility.

use std::path::Path;

use md5::{Digest, Md5};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::bucket_config::{
    decode_lifecycle, decode_object_lock, encode_lifecycle, encode_object_lock,
};
use crate::encryption::{EncryptionMode, StoredEncryption, decode_encryption, encode_encryption};
use crate::error::ShardError;
use crate::record::{
    BucketRecord, BucketUsage, EventRecord, Extent, ListEntry, ListStart, ObjectRecord,
    ObjectRetention, PublicAccessBlock, StoredEvent, Tags, UploadChecksum, UploadRecord,
    VersionRef, Versioning, checksum_algorithm_of, decode_acl, decode_extents,
    decode_extents_checked, decode_headers, decode_tags, encode_extents, encode_headers,
    encode_tags,
};
use crate::versions::{self, VersionClock, VersionEntry, VersionOutcome, VersionStart};

pub const META_FILE_NAME: &str = "meta.sqlite";
/// Bumped with every schema change; `migrate` upgrades older files step by step.
pub const SCHEMA_VERSION: i64 = 14;
/// S3's minimum size of every part but the last.
pub const PART_SIZE_BYTES_MIN: u64 = 5 << 20;

const SCHEMA_V1: &str = "
CREATE TABLE objects (
    bucket TEXT NOT NULL,
    key BLOB NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    last_modified_ms INTEGER NOT NULL,
    headers BLOB NOT NULL,
    extents BLOB NOT NULL,
    part_sizes BLOB NOT NULL,
    PRIMARY KEY (bucket, key)
) WITHOUT ROWID;
CREATE TABLE uploads (
    upload_id TEXT PRIMARY KEY NOT NULL,
    bucket TEXT NOT NULL,
    key BLOB NOT NULL,
    initiated_ms INTEGER NOT NULL,
    headers BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX uploads_by_bucket_key ON uploads (bucket, key, upload_id);
CREATE TABLE parts (
    upload_id TEXT NOT NULL,
    part_number INTEGER NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    last_modified_ms INTEGER NOT NULL,
    extents BLOB NOT NULL,
    PRIMARY KEY (upload_id, part_number)
) WITHOUT ROWID;
CREATE TABLE buckets (
    name TEXT PRIMARY KEY NOT NULL,
    created_ms INTEGER NOT NULL,
    region TEXT NOT NULL
) WITHOUT ROWID;
";

/// Version 2: object and upload tags, bucket tags, multipart checksums. Empty defaults mean
/// "none", so rows written by version 1 read back unchanged.
const SCHEMA_V2_STEP: &str = "
ALTER TABLE objects ADD COLUMN tags BLOB NOT NULL DEFAULT x'';
ALTER TABLE objects ADD COLUMN part_checksums BLOB NOT NULL DEFAULT x'';
ALTER TABLE uploads ADD COLUMN tags BLOB NOT NULL DEFAULT x'';
ALTER TABLE uploads ADD COLUMN checksum_algorithm TEXT NOT NULL DEFAULT '';
ALTER TABLE uploads ADD COLUMN checksum_type TEXT NOT NULL DEFAULT '';
ALTER TABLE parts ADD COLUMN checksum_algorithm TEXT NOT NULL DEFAULT '';
ALTER TABLE parts ADD COLUMN checksum TEXT NOT NULL DEFAULT '';
ALTER TABLE buckets ADD COLUMN tags BLOB NOT NULL DEFAULT x'';
";

/// Version 3: check blocks found damaged (by a GET or the scrubber), kept for repair. Block
/// checksums themselves need no column: they live in the extents blob (encoding version 2).
const SCHEMA_V3_STEP: &str = "
CREATE TABLE damaged (
    segment_id INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    length INTEGER NOT NULL,
    detected_ms INTEGER NOT NULL,
    bucket TEXT NOT NULL,
    key BLOB NOT NULL,
    PRIMARY KEY (segment_id, offset)
) WITHOUT ROWID;
";

/// Version 5: server-side encryption. `objects.sse` and `parts.sse` hold the encryption of
/// the stored bytes (wrapped data keys, IVs, block tags: `record::encode_encryption`),
/// `uploads.sse` the mode every part of an upload uses, `buckets.encryption` the bucket's
/// default encryption configuration. Empty: not encrypted / no default.
const SCHEMA_V5_STEP: &str = "
ALTER TABLE objects ADD COLUMN sse BLOB NOT NULL DEFAULT x'';
ALTER TABLE parts ADD COLUMN sse BLOB NOT NULL DEFAULT x'';
ALTER TABLE uploads ADD COLUMN sse BLOB NOT NULL DEFAULT x'';
ALTER TABLE buckets ADD COLUMN encryption BLOB NOT NULL DEFAULT x'';
";

/// Version 6: small facts about the partition itself, by name. `rewrapped_kek_version`: every
/// data key here is wrapped by that master key version (or by one the keyring lacks), so a
/// start with that version current has nothing to re-wrap (`rewrap.rs`). Kept in the same file
/// as the rows it describes, so restoring a metadata backup cannot make it lie.
const SCHEMA_V6_STEP: &str = "
CREATE TABLE partition_state (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
";

/// Version 7: a bucket's CORS rules (`record::encode_bucket_cors`); empty: none.
const SCHEMA_V7_STEP: &str = "
ALTER TABLE buckets ADD COLUMN cors BLOB NOT NULL DEFAULT x'';
";

/// Version 8: multipart uploads in progress count toward usage (security issue 14: parts
/// were stored beyond a tenant's quota). `uploads` and `upload_bytes` follow the uploads and
/// parts tables through triggers, in the same transactions; a part's bucket is its upload's
/// (parts are always deleted before their upload, so the lookup finds it). Completing an
/// upload moves its bytes from `upload_bytes` to `bytes` in one transaction.
const SCHEMA_V8_STEP: &str = "
ALTER TABLE bucket_usage ADD COLUMN uploads INTEGER NOT NULL DEFAULT 0;
ALTER TABLE bucket_usage ADD COLUMN upload_bytes INTEGER NOT NULL DEFAULT 0;
INSERT INTO bucket_usage (bucket, objects, bytes, uploads, upload_bytes)
    SELECT u.bucket, 0, 0, count(*),
        coalesce(sum((SELECT sum(p.size) FROM parts p WHERE p.upload_id = u.upload_id)), 0)
    FROM uploads u WHERE true GROUP BY u.bucket
    ON CONFLICT (bucket) DO UPDATE SET uploads = excluded.uploads,
        upload_bytes = excluded.upload_bytes;
CREATE TRIGGER upload_usage_insert AFTER INSERT ON uploads BEGIN
    INSERT INTO bucket_usage (bucket, objects, bytes, uploads, upload_bytes)
    VALUES (NEW.bucket, 0, 0, 1, 0)
    ON CONFLICT (bucket) DO UPDATE SET uploads = uploads + 1;
END;
CREATE TRIGGER upload_usage_delete AFTER DELETE ON uploads BEGIN
    UPDATE bucket_usage SET uploads = uploads - 1 WHERE bucket = OLD.bucket;
END;
CREATE TRIGGER part_usage_insert AFTER INSERT ON parts BEGIN
    UPDATE bucket_usage SET upload_bytes = upload_bytes + NEW.size
    WHERE bucket = (SELECT bucket FROM uploads WHERE upload_id = NEW.upload_id);
END;
CREATE TRIGGER part_usage_delete AFTER DELETE ON parts BEGIN
    UPDATE bucket_usage SET upload_bytes = upload_bytes - OLD.size
    WHERE bucket = (SELECT bucket FROM uploads WHERE upload_id = OLD.upload_id);
END;
";

/// Version 9: versioning and object lock (`versions.rs`). `objects` keeps the latest version
/// of each key (a delete marker included), `versions` the noncurrent ones. Rows from before
/// are null versions with `seq` 0, older than anything written since. Usage: a delete marker
/// is no object; noncurrent versions count in `bytes` (they hold storage) and in `versions`.
/// Buckets get their versioning state, object lock configuration and lifecycle rules;
/// `lifecycle_cursor` is where an interrupted lifecycle pass over the partition resumes.
const SCHEMA_V9_STEP: &str = "
ALTER TABLE objects ADD COLUMN version_id TEXT;
ALTER TABLE objects ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE objects ADD COLUMN delete_marker INTEGER NOT NULL DEFAULT 0;
ALTER TABLE objects ADD COLUMN lock_mode TEXT NOT NULL DEFAULT '';
ALTER TABLE objects ADD COLUMN retain_until_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE objects ADD COLUMN legal_hold INTEGER NOT NULL DEFAULT 0;
CREATE TABLE versions (
    bucket TEXT NOT NULL,
    key BLOB NOT NULL,
    seq INTEGER NOT NULL,
    version_id TEXT,
    delete_marker INTEGER NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    last_modified_ms INTEGER NOT NULL,
    headers BLOB NOT NULL,
    extents BLOB NOT NULL,
    part_sizes BLOB NOT NULL,
    tags BLOB NOT NULL,
    part_checksums BLOB NOT NULL,
    sse BLOB NOT NULL,
    lock_mode TEXT NOT NULL,
    retain_until_ms INTEGER NOT NULL,
    legal_hold INTEGER NOT NULL,
    noncurrent_since_ms INTEGER NOT NULL,
    PRIMARY KEY (bucket, key, seq DESC)
) WITHOUT ROWID;
ALTER TABLE buckets ADD COLUMN versioning TEXT NOT NULL DEFAULT '';
ALTER TABLE buckets ADD COLUMN object_lock BLOB NOT NULL DEFAULT x'';
ALTER TABLE buckets ADD COLUMN lifecycle BLOB NOT NULL DEFAULT x'';
ALTER TABLE bucket_usage ADD COLUMN versions INTEGER NOT NULL DEFAULT 0;
CREATE TABLE lifecycle_cursor (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    bucket TEXT NOT NULL,
    key BLOB NOT NULL
);
DROP TRIGGER bucket_usage_insert;
DROP TRIGGER bucket_usage_delete;
CREATE TRIGGER bucket_usage_insert AFTER INSERT ON objects BEGIN
    INSERT INTO bucket_usage (bucket, objects, bytes)
    VALUES (NEW.bucket, 1 - NEW.delete_marker, NEW.size)
    ON CONFLICT (bucket) DO UPDATE
    SET objects = objects + 1 - NEW.delete_marker, bytes = bytes + NEW.size;
END;
CREATE TRIGGER bucket_usage_delete AFTER DELETE ON objects BEGIN
    UPDATE bucket_usage SET objects = objects - 1 + OLD.delete_marker, bytes = bytes - OLD.size
    WHERE bucket = OLD.bucket;
END;
CREATE TRIGGER version_usage_insert AFTER INSERT ON versions BEGIN
    INSERT INTO bucket_usage (bucket, objects, bytes, versions) VALUES (NEW.bucket, 0, NEW.size, 1)
    ON CONFLICT (bucket) DO UPDATE SET bytes = bytes + NEW.size, versions = versions + 1;
END;
CREATE TRIGGER version_usage_delete AFTER DELETE ON versions BEGIN
    UPDATE bucket_usage SET bytes = bytes - OLD.size, versions = versions - 1
    WHERE bucket = OLD.bucket;
END;
";

/// Version 10: uploads completed in the last hour (`COMPLETED_UPLOAD_MEMORY_MS`), so that a
/// client retrying CompleteMultipartUpload after a lost answer gets the same 200 and result,
/// as on S3, instead of NoSuchUpload. `headers` are the answer's checksum headers, `sse` the
/// upload's encryption mode (for the answer's SSE headers).
const SCHEMA_V10_STEP: &str = "
CREATE TABLE completed_uploads (
    upload_id TEXT PRIMARY KEY NOT NULL,
    bucket TEXT NOT NULL,
    key BLOB NOT NULL,
    etag TEXT NOT NULL,
    version_id TEXT,
    headers BLOB NOT NULL,
    sse BLOB NOT NULL,
    completed_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX completed_uploads_by_time ON completed_uploads (completed_ms);
";

/// Version 11: a bucket's policy document, as the client sent it; NULL: none (every bucket
/// from before).
const SCHEMA_V11_STEP: &str = "
ALTER TABLE buckets ADD COLUMN policy TEXT;
";

/// Version 12: a bucket's public access block, one bit per switch
/// (`record::PublicAccessBlock::to_bits`); NULL: none.
const SCHEMA_V12_STEP: &str = "
ALTER TABLE buckets ADD COLUMN public_access_block INTEGER;
";

/// Version 13: ACLs (`base::acl`). A bucket's Object Ownership (NULL: BucketOwnerEnforced,
/// every bucket from before) and ACL, each version's and each upload's ACL (stored form of
/// `Acl::encode`; NULL: private).
const SCHEMA_V13_STEP: &str = "
ALTER TABLE buckets ADD COLUMN object_ownership INTEGER;
ALTER TABLE buckets ADD COLUMN acl TEXT;
ALTER TABLE objects ADD COLUMN acl TEXT;
ALTER TABLE versions ADD COLUMN acl TEXT;
ALTER TABLE uploads ADD COLUMN acl TEXT;
";

/// Version 14: what decided a policy denial (`EventRecord::iam_action`, `resource_arn`,
/// `decided_by`); NULL for every other event and every event from before.
const SCHEMA_V14_STEP: &str = "
ALTER TABLE events ADD COLUMN iam_action TEXT;
ALTER TABLE events ADD COLUMN resource_arn TEXT;
ALTER TABLE events ADD COLUMN decided_by TEXT;
";

/// How long a completed upload is remembered for retries of its completion.
pub const COMPLETED_UPLOAD_MEMORY_MS: i64 = 60 * 60 * 1000;

/// A multipart upload completed recently (`completed_uploads`): what a retried
/// CompleteMultipartUpload answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedUpload {
    pub bucket: String,
    pub key: String,
    /// Without quotes.
    pub etag: String,
    pub version_id: Option<String>,
    /// The object checksum headers the first answer carried (`x-amz-checksum-<algorithm>`,
    /// `x-amz-checksum-type`); empty when none.
    pub checksum_headers: Vec<(String, String)>,
    pub encryption: Option<EncryptionMode>,
}

/// A check block whose bytes do not match their checksum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Damage {
    pub segment_id: u32,
    /// Where the block starts in the segment file.
    pub offset_bytes: u64,
    pub length_bytes: u64,
    pub detected_ms: i64,
    /// The object that references the block, when one does (empty for an upload's part).
    pub bucket: String,
    pub key: Vec<u8>,
}

/// Version 4: bucket owners, the event log and per-bucket usage. Usage is kept by triggers on
/// `objects`, so every path that adds, replaces or removes an object row (PUT, copy,
/// multipart completion, delete, bucket purge) updates it in the same transaction. Existing
/// buckets get no owner (they belong to no tenant); existing objects are counted once here.
/// `AUTOINCREMENT` makes event sequence numbers strictly increasing for the life of the
/// file, also across trimming and restarts.
const SCHEMA_V4_STEP: &str = "
ALTER TABLE buckets ADD COLUMN owner_tenant TEXT;
ALTER TABLE buckets ADD COLUMN owner_user TEXT;
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    time_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    operation TEXT NOT NULL,
    bucket TEXT NOT NULL,
    key TEXT,
    version_id TEXT,
    size INTEGER,
    etag TEXT,
    access_key_id TEXT,
    user_id TEXT,
    tenant_id TEXT,
    request_id TEXT NOT NULL,
    source_ip TEXT,
    status INTEGER NOT NULL
);
CREATE TABLE bucket_usage (
    bucket TEXT PRIMARY KEY NOT NULL,
    objects INTEGER NOT NULL,
    bytes INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO bucket_usage (bucket, objects, bytes)
    SELECT bucket, count(*), coalesce(sum(size), 0) FROM objects GROUP BY bucket;
CREATE TRIGGER bucket_usage_insert AFTER INSERT ON objects BEGIN
    INSERT INTO bucket_usage (bucket, objects, bytes) VALUES (NEW.bucket, 1, NEW.size)
    ON CONFLICT (bucket) DO UPDATE SET objects = objects + 1, bytes = bytes + NEW.size;
END;
CREATE TRIGGER bucket_usage_delete AFTER DELETE ON objects BEGIN
    UPDATE bucket_usage SET objects = objects - 1, bytes = bytes - OLD.size
    WHERE bucket = OLD.bucket;
END;
CREATE TRIGGER bucket_usage_update AFTER UPDATE OF size ON objects BEGIN
    UPDATE bucket_usage SET bytes = bytes - OLD.size + NEW.size WHERE bucket = NEW.bucket;
END;
";

/// Most events a partition's log keeps. Consumers trim what they stored; when none does (no
/// admin running), the oldest events beyond this are dropped as new ones arrive, so the log
/// cannot fill the disk. A consumer that fell further behind sees a jump in `seq`.
pub const EVENT_LOG_ROWS_MAX: i64 = 1_000_000;

/// One metadata mutation, applied by the worker inside a group commit.
#[derive(Debug)]
pub enum MetaOp {
    /// Stores a new latest version of the key (`versions::put`).
    PutObject {
        bucket: String,
        key: String,
        record: ObjectRecord,
        /// Checked against the key's current object inside the transaction.
        condition: WriteCondition,
        /// The bucket's versioning state as the writer saw it.
        versioning: Versioning,
    },
    DeleteObject(ObjectDelete),
    /// Sets or removes a version's object lock retention, under object lock's rules: a
    /// COMPLIANCE retention in force can only be extended; a GOVERNANCE one can be shortened,
    /// removed or turned to another mode only with `bypass_governance`.
    SetRetention {
        bucket: String,
        key: String,
        version: Option<VersionRef>,
        retention: Option<ObjectRetention>,
        bypass_governance: bool,
        now_ms: i64,
    },
    SetLegalHold {
        bucket: String,
        key: String,
        version: Option<VersionRef>,
        on: bool,
    },
    CreateUpload {
        upload: UploadRecord,
    },
    PutPart {
        upload_id: String,
        part: PartRecord,
    },
    CompleteUpload(CompleteUpload),
    AbortUpload {
        bucket: String,
        key: String,
        upload_id: String,
    },
    CreateBucket {
        record: BucketRecord,
    },
    DeleteBucket {
        name: String,
    },
    /// Removes every upload and part of a deleted bucket in this partition.
    PurgeBucket {
        name: String,
    },
    /// Replaces an object's tags; ETag and Last-Modified stay (tags are a subresource).
    /// `NoSuchKey` when the key holds no object.
    SetObjectTags {
        bucket: String,
        key: String,
        /// `None`: the latest version.
        version: Option<VersionRef>,
        tags: Tags,
    },
    /// Replaces an object version's ACL (PutObjectAcl; `None`: private), as tags are.
    SetObjectAcl {
        bucket: String,
        key: String,
        version: Option<VersionRef>,
        acl: Option<base::acl::Acl>,
    },
    /// Replaces a bucket's configuration (tags ...) with the record's. `NoSuchBucket` when
    /// the catalogue has no such bucket.
    UpdateBucket {
        record: BucketRecord,
    },
    /// `op`, and if it succeeds, `event` appended to the event log in the same transaction.
    Logged {
        op: Box<MetaOp>,
        event: Box<EventRecord>,
    },
    /// Events that describe no write of this partition (denied requests, in partition 0).
    AppendEvents {
        events: Vec<EventRecord>,
    },
    /// Forgets the events with `seq <= through` (the sequence keeps counting).
    TrimEvents {
        through: u64,
    },
    /// Replaces the `sse` blobs of rows that still hold the blob read (master key rotation:
    /// `rewrap.rs`).
    SetEncryption {
        updates: Vec<crate::rewrap::EncryptionUpdate>,
    },
    /// Records that every data key is wrapped by master key `kek_version` (a finished re-wrap).
    RewrapFinished {
        kek_version: u32,
    },
    /// Where the lifecycle pass over this partition has got to (`None`: the pass finished).
    SaveLifecycleCursor {
        cursor: Option<(String, Vec<u8>)>,
    },
}

impl MetaOp {
    /// Whether the operation gives space back, and so may use the disk-full reserve. A logged
    /// delete frees space too: its event row is small next to what it frees.
    pub fn frees_space(&self) -> bool {
        match self {
            MetaOp::DeleteObject(_)
            | MetaOp::AbortUpload { .. }
            | MetaOp::PurgeBucket { .. }
            | MetaOp::DeleteBucket { .. }
            | MetaOp::TrimEvents { .. } => true,
            MetaOp::Logged { op, .. } => op.frees_space(),
            _ => false,
        }
    }
}

/// A DELETE of a key. Without `version`: the latest version is removed (unversioned) or a
/// delete marker is written (`versions::delete_latest`); with one, that version is deleted for
/// good, unless object lock protects it.
#[derive(Debug, Clone)]
pub struct ObjectDelete {
    pub bucket: String,
    pub key: String,
    pub version: Option<VersionRef>,
    /// The bucket's versioning state as the caller saw it.
    pub versioning: Versioning,
    /// `x-amz-bypass-governance-retention: true` from an identity allowed to use it.
    pub bypass_governance: bool,
    /// Now: a delete marker's Last-Modified, and the time retention is judged at.
    pub now_ms: i64,
}

impl ObjectDelete {
    /// A plain DELETE of the latest version.
    pub fn latest(bucket: &str, key: &str, versioning: Versioning, now_ms: i64) -> ObjectDelete {
        ObjectDelete {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            version: None,
            versioning,
            bypass_governance: false,
            now_ms,
        }
    }
}

/// A precondition on the object a write replaces (S3 conditional writes). It is checked in
/// the worker's transaction, so two conditional writes of one key cannot both pass.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteCondition {
    /// `If-None-Match: *`: fails with `PreconditionFailed` if the key holds an object.
    pub must_be_absent: bool,
    /// `If-Match`: the key must hold an object (`NoSuchKey` otherwise) whose ETag, without
    /// quotes, is one of these (`PreconditionFailed` otherwise); `*` matches any ETag.
    pub etag_in: Option<Vec<String>>,
}

impl WriteCondition {
    pub fn is_unconditional(&self) -> bool {
        !self.must_be_absent && self.etag_in.is_none()
    }
}

#[derive(Debug, Clone)]
pub struct PartRecord {
    pub part_number: u32,
    pub size_bytes: u64,
    pub etag: String,
    pub last_modified_ms: i64,
    pub extents: Vec<Extent>,
    /// CRC32C of every check block of `extents` (see `record::BlockChecksums`).
    pub block_checksums: crate::record::BlockChecksums,
    /// The verified additional checksum the part was uploaded with: (algorithm, base64).
    pub checksum: Option<(String, String)>,
    /// The part's encryption: the upload's mode and one run.
    pub encryption: Option<StoredEncryption>,
}

#[derive(Debug)]
pub struct CompleteUpload {
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
    /// (part number, ETag without quotes), as listed by the client.
    pub parts: Vec<(u32, String)>,
    pub last_modified_ms: i64,
    /// Checked against the key's current object inside the transaction.
    pub condition: WriteCondition,
    /// The object checksum the caller computed from the parts it read, if any (boxed: it is
    /// rare and would make every queued `MetaOp` larger).
    pub checksum: Option<Box<CompleteChecksum>>,
    /// The bucket's versioning state as the caller saw it.
    pub versioning: Versioning,
    /// Object lock retention and legal hold the new version gets.
    pub retention: Option<ObjectRetention>,
    pub legal_hold: bool,
}

/// The checksum of a completed multipart object, computed by the caller from the stored part
/// checksums; the transaction checks that those are still the stored ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompleteChecksum {
    /// Appended to the object's headers (`x-amz-checksum-<algorithm>`, `x-amz-checksum-type`).
    pub headers: Vec<(String, String)>,
    /// Base64 checksum of each listed part, in list order, as read by the caller.
    pub part_checksums: Vec<String>,
}

/// What a committed `MetaOp` produced.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct MetaOutcome {
    /// Extents no committed record references any more: give them back once no reader uses them.
    pub freed: Vec<Extent>,
    /// For CompleteUpload: the new object.
    pub completed: Option<ObjectRecord>,
    /// For object writes and deletes: the version written or removed (`None`: an unversioned
    /// delete, or a delete of a version that did not exist).
    pub version: Option<VersionOutcome>,
}

fn open_connection(path: &Path, flags: OpenFlags) -> Result<Connection, ShardError> {
    let connection = Connection::open_with_flags(path, flags)?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.pragma_update(None, "foreign_keys", "OFF")?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(connection)
}

pub struct MetaWriter {
    connection: Connection,
    clock: VersionClock,
}

impl MetaWriter {
    /// Opens (creating and migrating if needed) the partition's metadata file.
    pub fn open(dir: &Path) -> Result<MetaWriter, ShardError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut connection = open_connection(&dir.join(META_FILE_NAME), flags)?;
        // Checkpoints run on this (the worker's) connection, never on the shard thread.
        connection.pragma_update(None, "wal_autocheckpoint", 4000)?;
        migrate(&mut connection)?;
        let clock = VersionClock::open(&connection)?;
        Ok(MetaWriter { connection, clock })
    }
}

fn migrate(connection: &mut Connection) -> Result<(), ShardError> {
    let version: i64 = connection.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(ShardError::Metadata(format!(
            "metadata schema version {version} is newer than this binary ({SCHEMA_VERSION})"
        )));
    }
    // Step `n` takes a file from version `n` to `n + 1`, each in its own transaction.
    let steps = [
        SCHEMA_V1,
        SCHEMA_V2_STEP,
        SCHEMA_V3_STEP,
        SCHEMA_V4_STEP,
        SCHEMA_V5_STEP,
        SCHEMA_V6_STEP,
        SCHEMA_V7_STEP,
        SCHEMA_V8_STEP,
        SCHEMA_V9_STEP,
        SCHEMA_V10_STEP,
        SCHEMA_V11_STEP,
        SCHEMA_V12_STEP,
        SCHEMA_V13_STEP,
        SCHEMA_V14_STEP,
    ];
    for (target, step) in (1i64..).zip(steps) {
        if version < target {
            let transaction = connection.transaction()?;
            transaction.execute_batch(step)?;
            transaction.pragma_update(None, "user_version", target)?;
            transaction.commit()?;
        }
    }
    Ok(())
}

impl MetaWriter {
    /// Records a damaged block, naming the object that references it (found by a scan: damage
    /// is rare, and the reader that found it does not know the key). Its own transaction.
    pub fn record_damage(&mut self, mut damage: Damage) -> Result<(), ShardError> {
        if let Some((bucket, key)) = self.object_covering(damage.segment_id, damage.offset_bytes)? {
            damage.bucket = bucket;
            damage.key = key;
        }
        self.connection.execute(
            "INSERT OR REPLACE INTO damaged
                (segment_id, offset, length, detected_ms, bucket, key)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                damage.segment_id,
                size_to_sql(damage.offset_bytes),
                size_to_sql(damage.length_bytes),
                damage.detected_ms,
                damage.bucket,
                damage.key
            ],
        )?;
        Ok(())
    }

    fn object_covering(
        &self,
        segment_id: u32,
        offset_bytes: u64,
    ) -> Result<Option<(String, Vec<u8>)>, ShardError> {
        let mut statement = self.connection.prepare(
            "SELECT bucket, key, extents FROM objects
             UNION ALL SELECT bucket, key, extents FROM versions",
        )?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let blob: Vec<u8> = row.get(2)?;
            let covers = decode_extents(&blob)?.iter().any(|extent| {
                extent.segment_id == segment_id
                    && (extent.offset_bytes..extent.offset_bytes + extent.disk_length_bytes())
                        .contains(&offset_bytes)
            });
            if covers {
                return Ok(Some((row.get(0)?, row.get(1)?)));
            }
        }
        Ok(None)
    }

    /// Forgets damage records of blocks no committed record references any more (the object
    /// was deleted or overwritten since): run at open, with the live extents.
    pub fn forget_unreferenced_damage(&mut self, live: &[Extent]) -> Result<u64, ShardError> {
        let recorded: Vec<(u32, i64)> = {
            let mut statement = self
                .connection
                .prepare("SELECT segment_id, offset FROM damaged")?;
            statement
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?
        };
        let mut forgotten = 0;
        for (segment_id, offset) in recorded {
            let offset_bytes = size_from_sql(offset);
            let referenced = live.iter().any(|extent| {
                extent.segment_id == segment_id
                    && (extent.offset_bytes..extent.offset_bytes + extent.disk_length_bytes())
                        .contains(&offset_bytes)
            });
            if !referenced {
                forgotten += self.connection.execute(
                    "DELETE FROM damaged WHERE segment_id = ?1 AND offset = ?2",
                    params![segment_id, offset],
                )? as u64;
            }
        }
        Ok(forgotten)
    }

    /// Applies `ops` in one durable transaction; each op succeeds or fails on its own (a
    /// savepoint per op), and the results come back in order. An error of the transaction
    /// itself (COMMIT failed) fails every op.
    pub fn apply_batch(&mut self, ops: &[MetaOp]) -> Vec<Result<MetaOutcome, ShardError>> {
        let mut results = Vec::with_capacity(ops.len());
        let clock = &mut self.clock;
        let mut transaction = match self.connection.transaction() {
            Ok(transaction) => transaction,
            Err(error) => {
                let error = ShardError::from(error);
                return ops.iter().map(|_| Err(error.clone())).collect();
            }
        };
        if let Err(error) = clock.reserve(&transaction) {
            return ops.iter().map(|_| Err(error.clone())).collect();
        }
        for op in ops {
            let result = match transaction.savepoint() {
                Ok(mut savepoint) => match apply_op(&savepoint, clock, op) {
                    Ok(outcome) => savepoint
                        .commit()
                        .map(|()| outcome)
                        .map_err(ShardError::from),
                    Err(error) => {
                        // Dropping the savepoint rolls it back.
                        let _ = savepoint.rollback();
                        Err(error)
                    }
                },
                Err(error) => Err(ShardError::from(error)),
            };
            results.push(result);
        }
        if let Err(error) = transaction.commit() {
            let error = ShardError::from(error);
            return ops.iter().map(|_| Err(error.clone())).collect();
        }
        results
    }

    /// Every extent referenced by an object or a part: the live set for crash recovery.
    pub fn live_extents(&self) -> Result<Vec<Extent>, ShardError> {
        let mut live = Vec::new();
        for sql in [
            "SELECT extents FROM objects",
            "SELECT extents FROM versions",
            "SELECT extents FROM parts",
        ] {
            let mut statement = self.connection.prepare(sql)?;
            let mut rows = statement.query([])?;
            while let Some(row) = rows.next()? {
                let blob: Vec<u8> = row.get(0)?;
                live.extend(decode_extents(&blob)?);
            }
        }
        Ok(live)
    }

    pub fn object_count(&self) -> Result<u64, ShardError> {
        let count: i64 = self
            .connection
            .query_row("SELECT count(*) FROM objects", [], |r| r.get(0))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }
}

fn apply_op(
    tx: &rusqlite::Savepoint<'_>,
    clock: &mut VersionClock,
    op: &MetaOp,
) -> Result<MetaOutcome, ShardError> {
    match op {
        MetaOp::PutObject { .. }
        | MetaOp::DeleteObject(_)
        | MetaOp::SetRetention { .. }
        | MetaOp::SetLegalHold { .. }
        | MetaOp::SetObjectTags { .. }
        | MetaOp::SetObjectAcl { .. } => apply_version_op(tx, clock, op),
        MetaOp::CreateUpload { upload } => create_upload(tx, upload),
        MetaOp::PutPart { upload_id, part } => put_part(tx, upload_id, part),
        MetaOp::CompleteUpload(complete) => complete_upload(tx, clock, complete),
        MetaOp::AbortUpload {
            bucket,
            key,
            upload_id,
        } => {
            require_upload(tx, bucket, key, upload_id)?;
            let freed = delete_upload(tx, upload_id)?;
            Ok(MetaOutcome {
                freed,
                ..MetaOutcome::default()
            })
        }
        MetaOp::CreateBucket { record } => create_bucket(tx, record),
        MetaOp::DeleteBucket { name } => {
            if tx.execute("DELETE FROM buckets WHERE name = ?1", params![name])? == 0 {
                return Err(ShardError::NoSuchBucket);
            }
            Ok(MetaOutcome::default())
        }
        MetaOp::UpdateBucket { record } => update_bucket(tx, record),
        MetaOp::PurgeBucket { name } => {
            let mut freed = Vec::new();
            let upload_ids: Vec<String> = {
                let mut statement =
                    tx.prepare("SELECT upload_id FROM uploads WHERE bucket = ?1")?;
                statement
                    .query_map(params![name], |r| r.get(0))?
                    .collect::<Result<_, _>>()?
            };
            for upload_id in upload_ids {
                freed.extend(delete_upload(tx, &upload_id)?);
            }
            let objects: Vec<Vec<u8>> = {
                let mut statement = tx.prepare("SELECT extents FROM objects WHERE bucket = ?1")?;
                statement
                    .query_map(params![name], |r| r.get(0))?
                    .collect::<Result<_, _>>()?
            };
            let noncurrent: Vec<Vec<u8>> = {
                let mut statement = tx.prepare("SELECT extents FROM versions WHERE bucket = ?1")?;
                statement
                    .query_map(params![name], |r| r.get(0))?
                    .collect::<Result<_, _>>()?
            };
            for blob in objects.into_iter().chain(noncurrent) {
                freed.extend(decode_extents(&blob)?);
            }
            tx.execute("DELETE FROM objects WHERE bucket = ?1", params![name])?;
            tx.execute("DELETE FROM versions WHERE bucket = ?1", params![name])?;
            tx.execute("DELETE FROM bucket_usage WHERE bucket = ?1", params![name])?;
            Ok(MetaOutcome {
                freed,
                ..MetaOutcome::default()
            })
        }
        MetaOp::Logged { .. } | MetaOp::AppendEvents { .. } | MetaOp::TrimEvents { .. } => {
            apply_event_op(tx, clock, op)
        }
        MetaOp::SetEncryption { updates } => crate::rewrap::apply_updates(tx, updates),
        MetaOp::RewrapFinished { kek_version } => crate::rewrap::record_finished(tx, *kek_version),
        MetaOp::SaveLifecycleCursor { cursor } => save_lifecycle_cursor(tx, cursor.as_ref()),
    }
}

/// The operations on one key's versions (`versions.rs`).
fn apply_version_op(
    tx: &rusqlite::Savepoint<'_>,
    clock: &mut VersionClock,
    op: &MetaOp,
) -> Result<MetaOutcome, ShardError> {
    match op {
        MetaOp::PutObject {
            bucket,
            key,
            record,
            condition,
            versioning,
        } => {
            check_condition(tx, bucket, key, condition)?;
            let target = (bucket.as_str(), key.as_str());
            let (freed, version) = versions::put(
                tx,
                clock,
                target,
                record,
                *versioning,
                record.last_modified_ms,
            )?;
            Ok(MetaOutcome {
                freed,
                completed: None,
                version: Some(version),
            })
        }
        MetaOp::DeleteObject(delete) => {
            let target = (delete.bucket.as_str(), delete.key.as_str());
            let (freed, version) = match &delete.version {
                None => {
                    versions::delete_latest(tx, clock, target, delete.versioning, delete.now_ms)?
                }
                Some(version) => versions::delete_version(
                    tx,
                    target,
                    version,
                    delete.bypass_governance,
                    delete.now_ms,
                )?,
            };
            Ok(MetaOutcome {
                freed,
                completed: None,
                version,
            })
        }
        MetaOp::SetRetention { .. } | MetaOp::SetLegalHold { .. } => {
            versions::apply_lock_op(tx, op)?;
            Ok(MetaOutcome::default())
        }
        MetaOp::SetObjectTags {
            bucket,
            key,
            version,
            tags,
        } => {
            let version = versions::set_tags(tx, (bucket, key), version.as_ref(), tags)?;
            Ok(MetaOutcome {
                version: Some(version),
                ..MetaOutcome::default()
            })
        }
        MetaOp::SetObjectAcl {
            bucket,
            key,
            version,
            acl,
        } => {
            let version = versions::set_acl(tx, (bucket, key), version.as_ref(), acl.as_ref())?;
            Ok(MetaOutcome {
                version: Some(version),
                ..MetaOutcome::default()
            })
        }
        _ => Err(ShardError::Metadata(
            "not an operation on versions".to_owned(),
        )),
    }
}

/// `MetaOp::SaveLifecycleCursor`: where a lifecycle pass resumes (`None`: it finished).
fn save_lifecycle_cursor(
    tx: &rusqlite::Savepoint<'_>,
    cursor: Option<&(String, Vec<u8>)>,
) -> Result<MetaOutcome, ShardError> {
    match cursor {
        Some((bucket, key)) => tx.execute(
            "INSERT INTO lifecycle_cursor (id, bucket, key) VALUES (0, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET bucket = excluded.bucket, key = excluded.key",
            params![bucket, key],
        )?,
        None => tx.execute("DELETE FROM lifecycle_cursor", [])?,
    };
    Ok(MetaOutcome::default())
}

/// The event-log operations (schema version 4).
fn apply_event_op(
    tx: &rusqlite::Savepoint<'_>,
    clock: &mut VersionClock,
    op: &MetaOp,
) -> Result<MetaOutcome, ShardError> {
    match op {
        MetaOp::Logged { op, event } => {
            let outcome = apply_op(tx, clock, op)?;
            let mut event = event.as_ref().clone();
            if let Some(completed) = &outcome.completed {
                event.size_bytes.get_or_insert(completed.size_bytes);
                event.etag.get_or_insert_with(|| completed.etag.clone());
            }
            if let Some(id) = outcome.version.as_ref().and_then(|v| v.version_id.as_ref()) {
                event.version_id = Some(id.clone());
            }
            insert_event(tx, &event)?;
            Ok(outcome)
        }
        MetaOp::AppendEvents { events } => {
            for event in events {
                insert_event(tx, event)?;
            }
            Ok(MetaOutcome::default())
        }
        MetaOp::TrimEvents { through } => {
            tx.execute(
                "DELETE FROM events WHERE seq <= ?1",
                params![i64::try_from(*through).unwrap_or(i64::MAX)],
            )?;
            Ok(MetaOutcome::default())
        }
        other => apply_op(tx, clock, other),
    }
}

fn insert_event(tx: &rusqlite::Savepoint<'_>, event: &EventRecord) -> Result<(), ShardError> {
    tx.prepare_cached(
        "INSERT INTO events (time_ms, kind, operation, bucket, key, version_id, size, etag,
            access_key_id, user_id, tenant_id, request_id, source_ip, status, iam_action,
            resource_arn, decided_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )?
    .execute(params![
        event.time_ms,
        event.kind,
        event.operation,
        event.bucket,
        event.key,
        event.version_id,
        event.size_bytes.map(size_to_sql),
        event.etag,
        event.access_key_id,
        event.user_id,
        event.tenant_id,
        event.request_id,
        event.source_ip,
        event.status,
        event.iam_action,
        event.resource_arn,
        event.decided_by,
    ])?;
    // An index seek that deletes nothing unless the log is full.
    let newest = tx.last_insert_rowid();
    tx.prepare_cached("DELETE FROM events WHERE seq <= ?1")?
        .execute(params![newest - EVENT_LOG_ROWS_MAX])?;
    Ok(())
}

fn create_upload(
    tx: &rusqlite::Savepoint<'_>,
    upload: &UploadRecord,
) -> Result<MetaOutcome, ShardError> {
    let (algorithm, checksum_type) = match &upload.checksum {
        Some(checksum) => (
            checksum.algorithm.as_str(),
            if checksum.full_object {
                "FULL_OBJECT"
            } else {
                "COMPOSITE"
            },
        ),
        None => ("", ""),
    };
    tx.execute(
        "INSERT INTO uploads (upload_id, bucket, key, initiated_ms, headers, tags,
            checksum_algorithm, checksum_type, sse, acl)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            upload.upload_id,
            upload.bucket,
            upload.key.as_bytes(),
            upload.initiated_ms,
            encode_headers(&upload.headers),
            encode_tags(&upload.tags),
            algorithm,
            checksum_type,
            encode_upload_mode(upload.encryption.as_ref()),
            upload.acl.as_ref().map(base::acl::Acl::encode),
        ],
    )?;
    Ok(MetaOutcome::default())
}

fn create_bucket(
    tx: &rusqlite::Savepoint<'_>,
    record: &BucketRecord,
) -> Result<MetaOutcome, ShardError> {
    let inserted = tx.execute(
        "INSERT OR IGNORE INTO buckets (name, created_ms, region, owner_tenant, owner_user)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            record.name,
            record.created_ms,
            record.region,
            record.owner_tenant,
            record.owner_user,
        ],
    )?;
    if inserted == 0 {
        return Err(ShardError::BucketAlreadyOwnedByYou);
    }
    // The configuration a bucket is created with is written as every later change is.
    update_bucket(tx, record)
}

fn update_bucket(
    tx: &rusqlite::Savepoint<'_>,
    record: &BucketRecord,
) -> Result<MetaOutcome, ShardError> {
    let updated = tx.execute(
        "UPDATE buckets SET tags = ?2, encryption = ?3, cors = ?4, versioning = ?5,
            object_lock = ?6, lifecycle = ?7, policy = ?8, public_access_block = ?9,
            object_ownership = ?10, acl = ?11
         WHERE name = ?1",
        params![
            record.name,
            encode_tags(&record.tags),
            crate::record::encode_bucket_encryption(record.encryption.as_ref()),
            crate::record::encode_bucket_cors(&record.cors),
            record.versioning.as_str(),
            encode_object_lock(record.object_lock.as_ref()),
            encode_lifecycle(record.lifecycle.as_ref()),
            record.policy,
            record.public_access_block.map(PublicAccessBlock::to_bits),
            record.object_ownership.to_column(),
            record.acl.as_ref().map(base::acl::Acl::encode),
        ],
    )?;
    if updated == 0 {
        return Err(ShardError::NoSuchBucket);
    }
    Ok(MetaOutcome::default())
}

/// Fails the op when the key's current object does not satisfy `condition`.
fn check_condition(
    tx: &rusqlite::Savepoint<'_>,
    bucket: &str,
    key: &str,
    condition: &WriteCondition,
) -> Result<(), ShardError> {
    if condition.is_unconditional() {
        return Ok(());
    }
    let current: Option<String> = tx
        .query_row(
            "SELECT etag FROM objects WHERE bucket = ?1 AND key = ?2 AND delete_marker = 0",
            params![bucket, key.as_bytes()],
            |r| r.get(0),
        )
        .optional()?;
    if condition.must_be_absent && current.is_some() {
        return Err(ShardError::PreconditionFailed);
    }
    if let Some(etags) = &condition.etag_in {
        let Some(current) = current else {
            return Err(ShardError::NoSuchKey);
        };
        let matches = etags
            .iter()
            .any(|etag| etag == "*" || etag.eq_ignore_ascii_case(&current));
        if !matches {
            return Err(ShardError::PreconditionFailed);
        }
    }
    Ok(())
}

fn require_upload(
    tx: &rusqlite::Savepoint<'_>,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> Result<UploadRecord, ShardError> {
    match load_upload(tx, upload_id)? {
        Some(upload) if upload.bucket == bucket && upload.key == key => Ok(upload),
        _ => Err(ShardError::NoSuchUpload),
    }
}

/// The upload row, from the reader's connection or inside the worker's transaction.
fn load_upload(
    connection: &Connection,
    upload_id: &str,
) -> Result<Option<UploadRecord>, ShardError> {
    let mut statement = connection.prepare_cached(
        "SELECT bucket, key, initiated_ms, headers, tags, checksum_algorithm, checksum_type, sse,
            acl
         FROM uploads WHERE upload_id = ?1",
    )?;
    let row = statement
        .query_row(params![upload_id], |r| {
            Ok((
                (
                    r.get::<_, String>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Vec<u8>>(3)?,
                ),
                (
                    r.get::<_, Vec<u8>>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, Vec<u8>>(7)?,
                ),
                r.get::<_, Option<String>>(8)?,
            ))
        })
        .optional()?;
    let Some(((bucket, key, initiated_ms, headers), (tags, algorithm, kind, sse), acl)) = row
    else {
        return Ok(None);
    };
    let key = String::from_utf8(key).map_err(|_| ShardError::CorruptRecord("upload key"))?;
    let checksum = (!algorithm.is_empty()).then(|| UploadChecksum {
        algorithm,
        full_object: kind == "FULL_OBJECT",
    });
    Ok(Some(UploadRecord {
        upload_id: upload_id.to_owned(),
        bucket,
        key,
        initiated_ms,
        headers: decode_headers(&headers)?,
        tags: decode_tags(&tags)?,
        checksum,
        encryption: decode_encryption(&sse)?.map(|stored| stored.mode),
        acl: decode_acl(acl)?,
    }))
}

fn delete_upload(tx: &rusqlite::Savepoint<'_>, upload_id: &str) -> Result<Vec<Extent>, ShardError> {
    let mut freed = Vec::new();
    {
        let mut statement =
            tx.prepare("DELETE FROM parts WHERE upload_id = ?1 RETURNING extents")?;
        let mut rows = statement.query(params![upload_id])?;
        while let Some(row) = rows.next()? {
            let blob: Vec<u8> = row.get(0)?;
            freed.extend(decode_extents(&blob)?);
        }
    }
    tx.execute(
        "DELETE FROM uploads WHERE upload_id = ?1",
        params![upload_id],
    )?;
    Ok(freed)
}

fn put_part(
    tx: &rusqlite::Savepoint<'_>,
    upload_id: &str,
    part: &PartRecord,
) -> Result<MetaOutcome, ShardError> {
    let exists: Option<i64> = tx
        .query_row(
            "SELECT 1 FROM uploads WHERE upload_id = ?1",
            params![upload_id],
            |r| r.get(0),
        )
        .optional()?;
    if exists.is_none() {
        return Err(ShardError::NoSuchUpload);
    }
    let old: Option<Vec<u8>> = tx
        .query_row(
            "DELETE FROM parts WHERE upload_id = ?1 AND part_number = ?2 RETURNING extents",
            params![upload_id, part.part_number],
            |r| r.get(0),
        )
        .optional()?;
    let (checksum_algorithm, checksum) = match &part.checksum {
        Some((algorithm, value)) => (algorithm.as_str(), value.as_str()),
        None => ("", ""),
    };
    tx.execute(
        "INSERT INTO parts (upload_id, part_number, size, etag, last_modified_ms, extents,
            checksum_algorithm, checksum, sse)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            upload_id,
            part.part_number,
            size_to_sql(part.size_bytes),
            part.etag,
            part.last_modified_ms,
            encode_extents(&part.extents, &part.block_checksums),
            checksum_algorithm,
            checksum,
            encode_encryption(part.encryption.as_ref())
        ],
    )?;
    let freed = match old {
        Some(blob) => decode_extents(&blob)?,
        None => Vec::new(),
    };
    Ok(MetaOutcome {
        freed,
        ..MetaOutcome::default()
    })
}

struct StoredPart {
    size_bytes: u64,
    etag: String,
    extents: Vec<Extent>,
    block_checksums: crate::record::BlockChecksums,
    /// Base64, empty when the part had none.
    checksum: String,
    encryption: Option<StoredEncryption>,
}

/// The part checksums the caller computed the object checksum from, checked against the stored
/// parts: a part re-uploaded since the caller read it would make them stale.
fn check_part_checksums(
    complete: &CompleteUpload,
    stored: &std::collections::BTreeMap<u32, StoredPart>,
) -> Result<Vec<String>, ShardError> {
    let Some(checksum) = &complete.checksum else {
        return Ok(Vec::new());
    };
    let listed = complete.parts.iter().map(|(number, _)| number);
    for (part_number, expected) in listed.zip(&checksum.part_checksums) {
        if stored.get(part_number).map(|part| &part.checksum) != Some(expected) {
            return Err(ShardError::InvalidPart {
                part_number: *part_number,
            });
        }
    }
    Ok(checksum.part_checksums.clone())
}

/// Every stored part of an upload, by part number.
fn load_parts(
    tx: &rusqlite::Savepoint<'_>,
    upload_id: &str,
) -> Result<std::collections::BTreeMap<u32, StoredPart>, ShardError> {
    let mut stored = std::collections::BTreeMap::new();
    {
        let mut statement = tx.prepare(
            "SELECT part_number, size, etag, extents, checksum, sse FROM parts
             WHERE upload_id = ?1",
        )?;
        let mut rows = statement.query(params![upload_id])?;
        while let Some(row) = rows.next()? {
            let part_number: u32 = row.get(0)?;
            let blob: Vec<u8> = row.get(3)?;
            let (extents, block_checksums) = decode_extents_checked(&blob)?;
            stored.insert(
                part_number,
                StoredPart {
                    size_bytes: size_from_sql(row.get(1)?),
                    etag: row.get(2)?,
                    extents,
                    block_checksums,
                    checksum: row.get(4)?,
                    encryption: decode_encryption(&row.get::<_, Vec<u8>>(5)?)?,
                },
            );
        }
    }
    Ok(stored)
}

/// As S3 checks a completion's part list: order and existence of every listed part (sizes
/// are checked after).
fn check_listed_parts(
    complete: &CompleteUpload,
    stored: &std::collections::BTreeMap<u32, StoredPart>,
) -> Result<(), ShardError> {
    let mut previous_number = 0u32;
    for (part_number, etag) in &complete.parts {
        if *part_number <= previous_number {
            return Err(ShardError::InvalidPartOrder);
        }
        previous_number = *part_number;
        let matches = stored
            .get(part_number)
            .is_some_and(|part| part.etag.eq_ignore_ascii_case(etag.trim_matches('"')));
        if !matches {
            return Err(ShardError::InvalidPart {
                part_number: *part_number,
            });
        }
    }
    Ok(())
}

/// Validates the client's part list against the stored parts and turns the upload into an
/// object whose extents are the parts' extents: no byte is rewritten.
fn complete_upload(
    tx: &rusqlite::Savepoint<'_>,
    clock: &mut VersionClock,
    complete: &CompleteUpload,
) -> Result<MetaOutcome, ShardError> {
    let upload = require_upload(tx, &complete.bucket, &complete.key, &complete.upload_id)?;
    check_condition(tx, &complete.bucket, &complete.key, &complete.condition)?;
    let stored = load_parts(tx, &complete.upload_id)?;
    check_listed_parts(complete, &stored)?;
    let mut md5_of_md5s = Md5::new();
    let mut extents = Vec::new();
    let mut block_checksums = Vec::new();
    // Parts uploaded before block checksums existed have none; then the object has none.
    let mut all_checked = true;
    let mut part_sizes_bytes = Vec::with_capacity(complete.parts.len());
    let mut runs = Vec::new();
    for (index, (part_number, _)) in complete.parts.iter().enumerate() {
        let part = &stored[part_number];
        let is_last = index + 1 == complete.parts.len();
        if !is_last && part.size_bytes < PART_SIZE_BYTES_MIN {
            return Err(ShardError::EntityTooSmall {
                part_number: *part_number,
            });
        }
        let digest = hex::decode(&part.etag).map_err(|_| ShardError::CorruptRecord("part etag"))?;
        md5_of_md5s.update(&digest);
        extents.extend_from_slice(&part.extents);
        all_checked &= part.extents.is_empty() || !part.block_checksums.is_empty();
        block_checksums.extend_from_slice(&part.block_checksums);
        part_sizes_bytes.push(part.size_bytes);
        runs.extend(part_runs(&upload, *part_number, part)?);
    }
    if complete.parts.is_empty() {
        return Err(ShardError::InvalidPart { part_number: 0 });
    }
    // The upload's lock headers became the version's lock (`complete.retention`); the object
    // does not store them as response headers.
    let mut headers: Vec<(String, String)> = upload
        .headers
        .into_iter()
        .filter(|(name, _)| !name.starts_with("x-amz-object-lock-"))
        .collect();
    let part_checksums = check_part_checksums(complete, &stored)?;
    if let Some(checksum) = &complete.checksum {
        headers.extend(checksum.headers.iter().cloned());
    }
    let mut freed = Vec::new();
    for (part_number, part) in &stored {
        if !complete
            .parts
            .iter()
            .any(|(number, _)| number == part_number)
        {
            freed.extend_from_slice(&part.extents);
        }
    }
    // The parts' extents now belong to the object (or were freed above).
    for sql in [
        "DELETE FROM parts WHERE upload_id = ?1",
        "DELETE FROM uploads WHERE upload_id = ?1",
    ] {
        tx.execute(sql, params![complete.upload_id])?;
    }
    if !all_checked {
        block_checksums.clear();
    }
    let record = ObjectRecord {
        size_bytes: part_sizes_bytes.iter().sum(),
        etag: format!(
            "{}-{}",
            hex::encode(md5_of_md5s.finalize()),
            complete.parts.len()
        ),
        last_modified_ms: complete.last_modified_ms,
        headers,
        extents,
        part_sizes_bytes,
        tags: upload.tags,
        part_checksums,
        block_checksums,
        encryption: upload
            .encryption
            .map(|mode| StoredEncryption { mode, runs }),
        version_id: None,
        delete_marker: false,
        retention: complete.retention,
        legal_hold: complete.legal_hold,
        legal_hold_set: complete.legal_hold,
        acl: upload.acl,
    };
    let target = (complete.bucket.as_str(), complete.key.as_str());
    let (replaced, version) = versions::put(
        tx,
        clock,
        target,
        &record,
        complete.versioning,
        complete.last_modified_ms,
    )?;
    remember_completed(tx, complete, &record, version.version_id.as_deref())?;
    freed.extend(replaced);
    Ok(MetaOutcome {
        freed,
        completed: Some(ObjectRecord {
            version_id: version.version_id.clone(),
            ..record
        }),
        version: Some(version),
    })
}

/// Records a completion for retries (schema 10), forgetting those older than the memory.
fn remember_completed(
    tx: &rusqlite::Savepoint<'_>,
    complete: &CompleteUpload,
    record: &ObjectRecord,
    version_id: Option<&str>,
) -> Result<(), ShardError> {
    let checksum_headers: Vec<(String, String)> = complete
        .checksum
        .as_ref()
        .map(|checksum| checksum.headers.clone())
        .unwrap_or_default();
    let mode = record.encryption.as_ref().map(|stored| stored.mode.clone());
    tx.prepare_cached(
        "INSERT OR REPLACE INTO completed_uploads
            (upload_id, bucket, key, etag, version_id, headers, sse, completed_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        complete.upload_id,
        complete.bucket,
        complete.key.as_bytes(),
        record.etag,
        version_id,
        encode_headers(&checksum_headers),
        encode_upload_mode(mode.as_ref()),
        complete.last_modified_ms,
    ])?;
    tx.prepare_cached("DELETE FROM completed_uploads WHERE completed_ms < ?1")?
        .execute(params![
            complete.last_modified_ms - COMPLETED_UPLOAD_MEMORY_MS
        ])?;
    Ok(())
}

/// The encrypted runs a part contributes to the completed object: its own when the upload is
/// encrypted, none when not. A part whose encryption differs from the upload's is corrupt
/// metadata (UploadPart encrypts with the upload's mode).
fn part_runs(
    upload: &UploadRecord,
    part_number: u32,
    part: &StoredPart,
) -> Result<Vec<crate::encryption::EncryptedRun>, ShardError> {
    let consistent = match (&upload.encryption, &part.encryption) {
        (None, None) => return Ok(Vec::new()),
        (Some(mode), Some(stored)) => stored.mode == *mode && stored.runs.len() == 1,
        _ => false,
    };
    if !consistent {
        tracing::error!(part_number, "part encryption does not match its upload");
        return Err(ShardError::CorruptRecord("part encryption"));
    }
    Ok(part
        .encryption
        .clone()
        .map(|stored| stored.runs)
        .unwrap_or_default())
}

/// An upload's mode is stored as a record without runs.
fn encode_upload_mode(mode: Option<&EncryptionMode>) -> Vec<u8> {
    encode_encryption(
        mode.map(|mode| StoredEncryption {
            mode: mode.clone(),
            runs: Vec::new(),
        })
        .as_ref(),
    )
}

fn size_to_sql(size: u64) -> i64 {
    i64::try_from(size).expect("object sizes fit in i64")
}

fn size_from_sql(size: i64) -> u64 {
    u64::try_from(size).unwrap_or(0)
}

/// Read-only view used on the shard thread.
pub struct MetaReader {
    connection: Connection,
}

impl MetaReader {
    pub fn open(dir: &Path) -> Result<MetaReader, ShardError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = open_connection(&dir.join(META_FILE_NAME), flags)?;
        connection.set_prepared_statement_cache_capacity(32);
        Ok(MetaReader { connection })
    }

    pub(crate) fn connection(&self) -> &Connection {
        &self.connection
    }

    /// The latest version of a key (a delete marker included).
    pub fn object(&self, bucket: &str, key: &str) -> Result<Option<ObjectRecord>, ShardError> {
        versions::latest(&self.connection, bucket, key)
    }

    /// One version of a key, and whether it is the latest.
    pub fn object_version(
        &self,
        bucket: &str,
        key: &str,
        version: &VersionRef,
    ) -> Result<Option<(ObjectRecord, bool)>, ShardError> {
        // One snapshot for both tables: a version demoted between two reads is not missed.
        let _snapshot = self.connection.unchecked_transaction()?;
        versions::version(&self.connection, bucket, key, version)
    }

    /// Versions and delete markers of `bucket` from `start` within the prefix, in (key, newest
    /// first) order, at most `limit`.
    pub fn list_versions(
        &self,
        bucket: &str,
        start: &VersionStart,
        prefix: &[u8],
        limit: usize,
    ) -> Result<Vec<VersionEntry>, ShardError> {
        // One snapshot for both tables: a version moving from `objects` to `versions` between
        // the two page reads would otherwise be listed twice or not at all.
        let _snapshot = self.connection.unchecked_transaction()?;
        versions::list(&self.connection, bucket, start, prefix, limit)
    }

    /// The sequence number of a version (`version-id-marker`), if the key has it.
    pub fn seq_of_version(
        &self,
        bucket: &str,
        key: &str,
        version: &VersionRef,
    ) -> Result<Option<u64>, ShardError> {
        versions::seq_of_version(&self.connection, bucket, key, version)
    }

    /// Up to `limit` (bucket, key) pairs of every bucket after `after`, in (bucket, key)
    /// order, of keys with a latest or a noncurrent version: the scrubber's cursor over the
    /// partition. Each table's page is limited before the union, so both use their keys.
    pub fn object_keys_after(
        &self,
        after: Option<&(String, Vec<u8>)>,
        limit: usize,
    ) -> Result<Vec<(String, Vec<u8>)>, ShardError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let (bucket, key) = match after {
            Some((bucket, key)) => (bucket.as_str(), key.as_slice()),
            // (bucket, key) > ('', x'') holds for every row: buckets have names.
            None => ("", &[][..]),
        };
        let mut statement = self.connection.prepare_cached(
            "SELECT bucket, key FROM (SELECT bucket, key FROM objects
                WHERE (bucket, key) > (?1, ?2) ORDER BY bucket, key LIMIT ?3)
             UNION
             SELECT bucket, key FROM (SELECT DISTINCT bucket, key FROM versions
                WHERE (bucket, key) > (?1, ?2) ORDER BY bucket, key LIMIT ?3)
             ORDER BY bucket, key LIMIT ?3",
        )?;
        let rows = statement.query_map(params![bucket, key, limit], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every recorded damaged block, oldest first.
    pub fn damaged(&self) -> Result<Vec<Damage>, ShardError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT segment_id, offset, length, detected_ms, bucket, key FROM damaged
             ORDER BY detected_ms",
        )?;
        let rows = statement.query_map([], |r| {
            Ok(Damage {
                segment_id: r.get(0)?,
                offset_bytes: size_from_sql(r.get(1)?),
                length_bytes: size_from_sql(r.get(2)?),
                detected_ms: r.get(3)?,
                bucket: r.get(4)?,
                key: r.get(5)?,
            })
        })?;
        let mut damaged = Vec::new();
        for row in rows {
            damaged.push(row?);
        }
        Ok(damaged)
    }

    /// Keys of `bucket` from `start` within the prefix, sorted by bytes, at most `limit`.
    pub fn list(
        &self,
        bucket: &str,
        start: &ListStart,
        prefix: &[u8],
        limit: usize,
        versioned: bool,
    ) -> Result<Vec<ListEntry>, ShardError> {
        let (from, inclusive) = match start {
            ListStart::After(key) if key.as_slice() >= prefix => (key.as_slice(), false),
            ListStart::AtOrAfter(key) if key.as_slice() >= prefix => (key.as_slice(), true),
            _ => (prefix, true),
        };
        let prefix_end = prefix_successor(prefix);
        let comparison = if inclusive { ">=" } else { ">" };
        let upper = if prefix_end.is_some() {
            "key < ?3"
        } else {
            "?3 IS NULL"
        };
        // Only a bucket that has had versioning can hold delete markers; testing the column
        // costs a never-versioned bucket's LIST 5-7 % (docs/PERFORMANCE.md, issue 15).
        let markers = if versioned {
            "AND delete_marker = 0"
        } else {
            ""
        };
        let sql = format!(
            "SELECT key, size, etag, last_modified_ms, headers FROM objects
             WHERE bucket = ?1 AND key {comparison} ?2 AND {upper} {markers}
             ORDER BY key LIMIT ?4"
        );
        let mut statement = self.connection.prepare_cached(&sql)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = statement.query_map(params![bucket, from, prefix_end, limit], |r| {
            Ok((
                ListEntry {
                    key: r.get(0)?,
                    size_bytes: size_from_sql(r.get(1)?),
                    etag: r.get(2)?,
                    last_modified_ms: r.get(3)?,
                    checksum_algorithm: None,
                },
                r.get::<_, Vec<u8>>(4)?,
            ))
        })?;
        let mut entries = Vec::new();
        for row in rows {
            let (mut entry, headers) = row?;
            // The algorithm is in the stored headers (ListObjectsV2 `ChecksumAlgorithm`).
            entry.checksum_algorithm = checksum_algorithm_of(&decode_headers(&headers)?);
            entries.push(entry);
        }
        Ok(entries)
    }

    pub fn bucket_has_objects(&self, bucket: &str) -> Result<bool, ShardError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT 1 FROM objects WHERE bucket = ?1
                 UNION ALL SELECT 1 FROM versions WHERE bucket = ?1 LIMIT 1",
        )?;
        Ok(statement
            .query_row(params![bucket], |_| Ok(()))
            .optional()?
            .is_some())
    }

    pub fn upload(&self, upload_id: &str) -> Result<Option<UploadRecord>, ShardError> {
        load_upload(&self.connection, upload_id)
    }

    /// Parts of an upload numbered above `after_part_number`, in order, at most `limit`.
    pub fn parts(
        &self,
        upload_id: &str,
        after_part_number: u32,
        limit: usize,
    ) -> Result<Vec<PartSummary>, ShardError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT part_number, size, etag, last_modified_ms, checksum_algorithm, checksum
             FROM parts
             WHERE upload_id = ?1 AND part_number > ?2 ORDER BY part_number LIMIT ?3",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = statement.query_map(params![upload_id, after_part_number, limit], |r| {
            let algorithm: String = r.get(4)?;
            let value: String = r.get(5)?;
            Ok(PartSummary {
                part_number: r.get(0)?,
                size_bytes: size_from_sql(r.get(1)?),
                etag: r.get(2)?,
                last_modified_ms: r.get(3)?,
                checksum: (!algorithm.is_empty()).then_some((algorithm, value)),
            })
        })?;
        let mut parts = Vec::new();
        for row in rows {
            parts.push(row?);
        }
        Ok(parts)
    }

    /// Uploads of `bucket` from `start` within the prefix, sorted by (key bytes, upload id),
    /// at most `limit`.
    pub fn uploads(
        &self,
        bucket: &str,
        start: &UploadStart,
        prefix: &[u8],
        limit: usize,
    ) -> Result<Vec<UploadSummary>, ShardError> {
        // A start before the prefix starts at the prefix.
        let (position, from, upload_id) = match start {
            UploadStart::AfterKey(key) if key.as_slice() >= prefix => {
                ("key > ?2", key.as_slice(), None)
            }
            UploadStart::AfterUpload { key, upload_id } if key.as_slice() >= prefix => (
                "(key, upload_id) > (?2, ?5)",
                key.as_slice(),
                Some(upload_id),
            ),
            UploadStart::AtOrAfterKey(key) if key.as_slice() >= prefix => {
                ("key >= ?2", key.as_slice(), None)
            }
            _ => ("key >= ?2", prefix, None),
        };
        let prefix_end = prefix_successor(prefix);
        let upper = if prefix_end.is_some() {
            "key < ?3"
        } else {
            "?3 IS NULL"
        };
        let sql = format!(
            "SELECT key, upload_id, initiated_ms FROM uploads
             WHERE bucket = ?1 AND {position} AND {upper} ORDER BY key, upload_id LIMIT ?4"
        );
        let mut statement = self.connection.prepare_cached(&sql)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut values: Vec<&dyn rusqlite::ToSql> = vec![&bucket, &from, &prefix_end, &limit];
        if let Some(upload_id) = &upload_id {
            values.push(upload_id);
        }
        let rows = statement.query_map(values.as_slice(), |r| {
            Ok(UploadSummary {
                key: r.get(0)?,
                upload_id: r.get(1)?,
                initiated_ms: r.get(2)?,
            })
        })?;
        let mut uploads = Vec::new();
        for row in rows {
            uploads.push(row?);
        }
        Ok(uploads)
    }

    pub fn buckets(&self) -> Result<Vec<BucketRecord>, ShardError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT name, created_ms, region, tags, owner_tenant, owner_user, encryption, cors,
                versioning, object_lock, lifecycle, policy, public_access_block,
                object_ownership, acl
             FROM buckets ORDER BY name",
        )?;
        let mut rows = statement.query([])?;
        let mut buckets = Vec::new();
        while let Some(r) = rows.next()? {
            let versioning: String = r.get(8)?;
            buckets.push(BucketRecord {
                name: r.get(0)?,
                created_ms: r.get(1)?,
                region: r.get(2)?,
                tags: decode_tags(&r.get::<_, Vec<u8>>(3)?)?,
                owner_tenant: r.get(4)?,
                owner_user: r.get(5)?,
                encryption: crate::record::decode_bucket_encryption(&r.get::<_, Vec<u8>>(6)?)?,
                cors: crate::record::decode_bucket_cors(&r.get::<_, Vec<u8>>(7)?)?,
                versioning: Versioning::parse(&versioning)
                    .ok_or(ShardError::CorruptRecord("bucket versioning"))?,
                object_lock: decode_object_lock(&r.get::<_, Vec<u8>>(9)?)?,
                lifecycle: decode_lifecycle(&r.get::<_, Vec<u8>>(10)?)?,
                policy: r.get(11)?,
                public_access_block: r
                    .get::<_, Option<i64>>(12)?
                    .map(PublicAccessBlock::from_bits),
                object_ownership: base::acl::ObjectOwnership::from_column(r.get(13)?),
                acl: decode_acl(r.get(14)?)?,
            });
        }
        Ok(buckets)
    }

    /// Events with `seq > after`, oldest first, at most `limit`.
    pub fn events(&self, after: u64, limit: usize) -> Result<Vec<StoredEvent>, ShardError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT seq, time_ms, kind, operation, bucket, key, version_id, size, etag,
                access_key_id, user_id, tenant_id, request_id, source_ip, status, iam_action,
                resource_arn, decided_by
             FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = statement.query_map(
            params![
                i64::try_from(after).unwrap_or(i64::MAX),
                i64::try_from(limit).unwrap_or(i64::MAX)
            ],
            |r| {
                Ok(StoredEvent {
                    seq: size_from_sql(r.get(0)?),
                    event: EventRecord {
                        time_ms: r.get(1)?,
                        kind: r.get(2)?,
                        operation: r.get(3)?,
                        bucket: r.get(4)?,
                        key: r.get(5)?,
                        version_id: r.get(6)?,
                        size_bytes: r.get::<_, Option<i64>>(7)?.map(size_from_sql),
                        etag: r.get(8)?,
                        access_key_id: r.get(9)?,
                        user_id: r.get(10)?,
                        tenant_id: r.get(11)?,
                        request_id: r.get(12)?,
                        source_ip: r.get(13)?,
                        status: r.get(14)?,
                        iam_action: r.get(15)?,
                        resource_arn: r.get(16)?,
                        decided_by: r.get(17)?,
                    },
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The newest sequence number ever assigned (0: none), trimmed or not.
    pub fn event_head(&self) -> Result<u64, ShardError> {
        let head: Option<i64> = self
            .connection
            .prepare_cached("SELECT seq FROM sqlite_sequence WHERE name = 'events'")?
            .query_row([], |r| r.get(0))
            .optional()?;
        Ok(head.map_or(0, size_from_sql))
    }

    /// Objects, bytes and uploads in progress per bucket in this partition.
    pub fn bucket_usage(&self) -> Result<Vec<(String, BucketUsage)>, ShardError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT bucket, objects, bytes, uploads, upload_bytes FROM bucket_usage
             WHERE objects > 0 OR uploads > 0 OR versions > 0",
        )?;
        let rows = statement.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                BucketUsage {
                    objects: size_from_sql(r.get(1)?),
                    bytes: size_from_sql(r.get(2)?),
                    uploads: size_from_sql(r.get(3)?),
                    upload_bytes: size_from_sql(r.get(4)?),
                },
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Uploads of this partition started before `before_ms`, oldest first, at most `limit`:
    /// (bucket, key, upload id), for the expiry of abandoned uploads.
    pub fn uploads_started_before(
        &self,
        before_ms: i64,
        limit: usize,
    ) -> Result<Vec<(String, String, String)>, ShardError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT bucket, key, upload_id FROM uploads WHERE initiated_ms < ?1
             ORDER BY initiated_ms LIMIT ?2",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = statement.query_map(params![before_ms, limit], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut uploads = Vec::new();
        for row in rows {
            let (bucket, key, upload_id) = row?;
            let key =
                String::from_utf8(key).map_err(|_| ShardError::CorruptRecord("upload key"))?;
            uploads.push((bucket, key, upload_id));
        }
        Ok(uploads)
    }

    /// An upload completed within the last `COMPLETED_UPLOAD_MEMORY_MS`, if it was.
    pub fn completed_upload(&self, upload_id: &str) -> Result<Option<CompletedUpload>, ShardError> {
        let row = self
            .connection
            .prepare_cached(
                "SELECT bucket, key, etag, version_id, headers, sse FROM completed_uploads
                 WHERE upload_id = ?1",
            )?
            .query_row(params![upload_id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Vec<u8>>(4)?,
                    r.get::<_, Vec<u8>>(5)?,
                ))
            })
            .optional()?;
        let Some((bucket, key, etag, version_id, headers, sse)) = row else {
            return Ok(None);
        };
        Ok(Some(CompletedUpload {
            bucket,
            key: String::from_utf8(key).map_err(|_| ShardError::CorruptRecord("upload key"))?,
            etag,
            version_id,
            checksum_headers: decode_headers(&headers)?,
            encryption: decode_encryption(&sse)?.map(|stored| stored.mode),
        }))
    }

    /// Where an interrupted lifecycle pass over this partition resumes: after this key of
    /// this bucket.
    pub fn lifecycle_cursor(&self) -> Result<Option<(String, Vec<u8>)>, ShardError> {
        Ok(self
            .connection
            .prepare_cached("SELECT bucket, key FROM lifecycle_cursor WHERE id = 0")?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    /// Changes whenever another connection (the worker) committed: a cheap "anything new?"
    /// check before re-reading usage.
    pub fn data_version(&self) -> Result<i64, ShardError> {
        Ok(self
            .connection
            .pragma_query_value(None, "data_version", |r| r.get(0))?)
    }

    /// Stored data keys per master key version that wraps them (a scan of every encrypted
    /// row: the control server's status, read off the shard threads; `rewrap.rs`).
    pub fn data_keys_by_kek_version(
        &self,
    ) -> Result<std::collections::BTreeMap<u32, u64>, ShardError> {
        crate::rewrap::data_keys_by_version(&self.connection)
    }
}

/// The smallest byte string greater than every string starting with `prefix`, or `None` when
/// there is none (empty prefix, or all 0xFF).
pub fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// One part of an upload in a `ListParts` page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartSummary {
    pub part_number: u32,
    pub size_bytes: u64,
    /// Without quotes.
    pub etag: String,
    pub last_modified_ms: i64,
    /// (algorithm, base64) when the part was uploaded with an additional checksum.
    pub checksum: Option<(String, String)>,
}

/// One upload in a `ListMultipartUploads` page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadSummary {
    pub key: Vec<u8>,
    pub upload_id: String,
    pub initiated_ms: i64,
}

/// Where a page of uploads starts, in (key bytes, upload id) order. A key's uploads all live in
/// the key's partition, so a position names the same place in every partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadStart {
    /// At the first upload of a key at or after this one (the beginning, or past a prefix).
    AtOrAfterKey(Vec<u8>),
    /// After every upload of this key (`key-marker` alone).
    AfterKey(Vec<u8>),
    /// After this upload: the key's uploads with a greater id, then greater keys. The upload
    /// need not exist any more (`key-marker` with `upload-id-marker`).
    AfterUpload { key: Vec<u8>, upload_id: String },
}
