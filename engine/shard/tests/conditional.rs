//! Conditional writes (`WriteCondition`) are decided inside the worker's transaction: of
//! several `If-None-Match: *` writes of one key, committed concurrently or in one batch,
//! exactly one wins.
#![allow(clippy::unwrap_used)] // test helpers: fail loudly

use shard::Versioning;
use std::rc::Rc;

use shard::meta::{CompleteUpload, MetaOp, MetaWriter, PartRecord, WriteCondition};
use shard::{ObjectRecord, Partition, ShardError, UploadRecord};

fn record(etag: &str) -> ObjectRecord {
    ObjectRecord {
        size_bytes: 0,
        etag: etag.into(),
        last_modified_ms: 1,
        headers: vec![],
        extents: vec![],
        part_sizes_bytes: vec![],
        ..Default::default()
    }
}

fn put(key: &str, etag: &str, condition: WriteCondition) -> MetaOp {
    MetaOp::PutObject {
        bucket: "b".into(),
        key: key.into(),
        record: record(etag),
        condition,
        versioning: Versioning::Unversioned,
    }
}

fn absent() -> WriteCondition {
    WriteCondition {
        must_be_absent: true,
        etag_in: None,
    }
}

fn matching(etags: &[&str]) -> WriteCondition {
    WriteCondition {
        must_be_absent: false,
        etag_in: Some(etags.iter().map(|etag| (*etag).to_owned()).collect()),
    }
}

#[test]
fn one_batch_lets_only_the_first_create_only_write_pass() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = MetaWriter::open(dir.path()).unwrap();
    let ops: Vec<MetaOp> = (0..4)
        .map(|index| put("k", &format!("{index:032x}"), absent()))
        .collect();
    let results = writer.apply_batch(&ops);
    assert!(results[0].is_ok());
    for result in &results[1..] {
        assert_eq!(
            result.as_ref().unwrap_err(),
            &ShardError::PreconditionFailed
        );
    }
}

#[test]
fn if_match_needs_an_existing_object_with_that_etag() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = MetaWriter::open(dir.path()).unwrap();
    let results = writer.apply_batch(&[
        put("missing", "aa", matching(&["aa"])),
        put("k", "aa", WriteCondition::default()),
        put("k", "bb", matching(&["cc"])),
        put("k", "bb", matching(&["dd", "AA"])),
        put("k", "cc", matching(&["*"])),
        put("k", "dd", absent()),
    ]);
    assert_eq!(results[0].as_ref().unwrap_err(), &ShardError::NoSuchKey);
    assert!(results[1].is_ok());
    assert_eq!(
        results[2].as_ref().unwrap_err(),
        &ShardError::PreconditionFailed
    );
    assert!(results[3].is_ok());
    assert!(results[4].is_ok());
    assert_eq!(
        results[5].as_ref().unwrap_err(),
        &ShardError::PreconditionFailed
    );
}

#[test]
fn complete_upload_checks_its_condition_and_keeps_the_upload_on_failure() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = MetaWriter::open(dir.path()).unwrap();
    let upload = UploadRecord {
        upload_id: "u1".into(),
        bucket: "b".into(),
        key: "k".into(),
        initiated_ms: 1,
        headers: vec![],
        ..Default::default()
    };
    let part = PartRecord {
        part_number: 1,
        size_bytes: 0,
        etag: "00".repeat(16),
        last_modified_ms: 1,
        extents: vec![],
        block_checksums: vec![],
        checksum: None,
        encryption: None,
    };
    let complete = |condition| {
        MetaOp::CompleteUpload(CompleteUpload {
            bucket: "b".into(),
            key: "k".into(),
            upload_id: "u1".into(),
            parts: vec![(1, "00".repeat(16))],
            last_modified_ms: 2,
            condition,
            checksum: None,
            versioning: Versioning::Unversioned,
            retention: None,
            legal_hold: false,
        })
    };
    let results = writer.apply_batch(&[
        MetaOp::CreateUpload { upload },
        MetaOp::PutPart {
            upload_id: "u1".into(),
            part,
        },
        put("k", "aa", WriteCondition::default()),
        complete(absent()),
        complete(matching(&["bb"])),
        complete(matching(&["aa"])),
    ]);
    assert!(results[..3].iter().all(Result::is_ok));
    assert_eq!(
        results[3].as_ref().unwrap_err(),
        &ShardError::PreconditionFailed
    );
    assert_eq!(
        results[4].as_ref().unwrap_err(),
        &ShardError::PreconditionFailed
    );
    assert!(results[5].as_ref().unwrap().completed.is_some());
}

#[test]
fn concurrent_create_only_commits_of_one_key_have_one_winner() {
    let dir = tempfile::tempdir().unwrap();
    let mut runtime = monoio::RuntimeBuilder::<monoio::FusionDriver>::new()
        .enable_timer()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (partition, _) = Partition::open(dir.path(), 0).unwrap();
        for round in 0..5 {
            let key = format!("k{round}");
            let tasks: Vec<_> = (0..8)
                .map(|index| {
                    let partition: Rc<Partition> = Rc::clone(&partition);
                    let op = put(&key, &format!("{index:032x}"), absent());
                    monoio::spawn(async move { partition.commit(op, vec![]).await })
                })
                .collect();
            let mut winners = 0;
            for task in tasks {
                match task.await {
                    Ok(_) => winners += 1,
                    Err(error) => assert_eq!(error, ShardError::PreconditionFailed),
                }
            }
            assert_eq!(winners, 1);
            assert!(partition.object("b", &key).unwrap().is_some());
        }
    });
}
