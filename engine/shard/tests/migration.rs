//! A data directory written by schema version 1 opens with this binary: the migration adds the
//! version 2 columns and old rows read back unchanged, with no tags and no checksums.
#![allow(clippy::unwrap_used)] // test helpers: fail loudly

use rusqlite::{Connection, params};
use shard::meta::{MetaOp, MetaReader, MetaWriter, PartRecord};
use shard::record::{encode_headers, encode_sizes};

/// An empty extent list in encoding version 1 (no block checksums), as version 1 wrote it.
const V1_EMPTY_EXTENTS: [u8; 5] = [1, 0, 0, 0, 0];

/// Schema version 1 exactly as released (a frozen copy: that text never changes).
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

fn write_v1(dir: &std::path::Path) {
    let connection = Connection::open(dir.join(shard::meta::META_FILE_NAME)).unwrap();
    connection.execute_batch(SCHEMA_V1).unwrap();
    connection.pragma_update(None, "user_version", 1).unwrap();
    let headers = vec![("x-amz-checksum-crc32".to_owned(), "DUoRhQ==".to_owned())];
    connection
        .execute(
            "INSERT INTO objects VALUES ('b', CAST('k' AS BLOB), 11, 'e', 5, ?1, ?2, ?3)",
            params![
                encode_headers(&headers),
                V1_EMPTY_EXTENTS.to_vec(),
                encode_sizes(&[])
            ],
        )
        .unwrap();
    connection
        .execute(
            "INSERT INTO uploads VALUES ('u1', 'b', CAST('m' AS BLOB), 7, ?1)",
            params![encode_headers(&[])],
        )
        .unwrap();
    connection
        .execute(
            "INSERT INTO parts VALUES ('u1', 1, 3, 'ab', 8, ?1)",
            params![V1_EMPTY_EXTENTS.to_vec()],
        )
        .unwrap();
    connection
        .execute("INSERT INTO buckets VALUES ('b', 1, 'us-east-1')", [])
        .unwrap();
}

#[test]
fn schema_1_rows_read_back_after_migration() {
    let dir = tempfile::tempdir().unwrap();
    write_v1(dir.path());
    let mut writer = MetaWriter::open(dir.path()).unwrap();
    let reader = MetaReader::open(dir.path()).unwrap();
    let object = reader.object("b", "k").unwrap().unwrap();
    assert_eq!((object.size_bytes, object.etag.as_str()), (11, "e"));
    assert!(object.tags.is_empty() && object.part_checksums.is_empty());
    let listed = reader
        .list(
            "b",
            &shard::ListStart::AtOrAfter(Vec::new()),
            b"",
            10,
            false,
        )
        .unwrap();
    assert_eq!(listed[0].checksum_algorithm.as_deref(), Some("CRC32"));
    let upload = reader.upload("u1").unwrap().unwrap();
    assert_eq!(upload.key, "m");
    assert!(upload.tags.is_empty() && upload.checksum.is_none());
    let parts = reader.parts("u1", 0, 10).unwrap();
    assert_eq!(
        (parts[0].etag.as_str(), parts[0].checksum.clone()),
        ("ab", None)
    );
    let buckets = reader.buckets().unwrap();
    assert_eq!(buckets[0].name, "b");
    assert!(buckets[0].tags.is_empty());
    // Version 5 and 7: no default encryption, no CORS rules.
    assert!(buckets[0].encryption.is_none() && buckets[0].cors.is_empty());
    // Version 3: old buckets belong to no tenant; old objects are counted in the usage.
    // Version 8: so are the old upload and its 3-byte part.
    assert_eq!(buckets[0].owner_tenant, None);
    let usage = reader.bucket_usage().unwrap();
    assert_eq!(
        usage,
        [(
            "b".to_owned(),
            shard::BucketUsage {
                objects: 1,
                bytes: 11,
                uploads: 1,
                upload_bytes: 3,
            }
        )]
    );
    // The new columns are writable on the migrated file.
    let tags = vec![("t".to_owned(), "v".to_owned())];
    let results = writer.apply_batch(&[
        MetaOp::SetObjectTags {
            bucket: "b".into(),
            key: "k".into(),
            version: None,
            tags: tags.clone(),
        },
        MetaOp::PutPart {
            upload_id: "u1".into(),
            part: PartRecord {
                part_number: 2,
                size_bytes: 1,
                etag: "cd".into(),
                last_modified_ms: 9,
                extents: vec![],
                block_checksums: vec![],
                checksum: Some(("CRC32".into(), "AAAAAA==".into())),
                encryption: None,
            },
        },
    ]);
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let object = reader.object("b", "k").unwrap().unwrap();
    assert_eq!(object.tags, tags);
    assert_eq!((object.etag.as_str(), object.last_modified_ms), ("e", 5));
    let parts = reader.parts("u1", 1, 10).unwrap();
    assert_eq!(
        parts[0].checksum.as_ref().map(|c| c.1.as_str()),
        Some("AAAAAA==")
    );
    drop(writer);
    // Opening again is a no-op: the file is at the current version.
    MetaWriter::open(dir.path()).unwrap();
}

#[test]
fn tags_of_a_missing_object_are_no_such_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = MetaWriter::open(dir.path()).unwrap();
    let results = writer.apply_batch(&[MetaOp::SetObjectTags {
        bucket: "b".into(),
        key: "nope".into(),
        version: None,
        tags: vec![],
    }]);
    assert_eq!(results[0], Err(shard::ShardError::NoSuchKey));
}
