//! The event log and per-bucket usage of one partition's metadata: events commit with their
//! write or not at all, sequence numbers only grow (also across trimming and reopening), usage
//! follows every object write, and bucket owners are stored.
#![allow(clippy::unwrap_used)] // test helpers: fail loudly

use shard::Versioning;
use shard::meta::ObjectDelete;
use shard::meta::{MetaOp, MetaReader, MetaWriter, WriteCondition};
use shard::{BucketRecord, BucketUsage, EventRecord, ObjectRecord, ShardError};

fn put(key: &str, size: u64, condition: WriteCondition) -> MetaOp {
    MetaOp::PutObject {
        bucket: "b".into(),
        key: key.into(),
        record: ObjectRecord {
            size_bytes: size,
            etag: format!("etag-{key}"),
            ..ObjectRecord::default()
        },
        condition,
        versioning: Versioning::Unversioned,
    }
}

fn event(operation: &str, key: &str) -> EventRecord {
    EventRecord {
        time_ms: 1,
        kind: "object_created".into(),
        operation: operation.into(),
        bucket: "b".into(),
        key: Some(key.into()),
        request_id: format!("req-{key}"),
        status: 200,
        ..EventRecord::default()
    }
}

fn logged(op: MetaOp, event: EventRecord) -> MetaOp {
    MetaOp::Logged {
        op: Box::new(op),
        event: Box::new(event),
    }
}

fn usage(reader: &MetaReader) -> Vec<(String, BucketUsage)> {
    reader.bucket_usage().unwrap()
}

#[test]
fn events_commit_with_their_write_and_sequences_only_grow() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = MetaWriter::open(dir.path()).unwrap();
    let reader = MetaReader::open(dir.path()).unwrap();
    assert_eq!(reader.event_head().unwrap(), 0);
    let results = writer.apply_batch(&[
        logged(
            put("a", 10, WriteCondition::default()),
            event("PutObject", "a"),
        ),
        // Fails its precondition: neither the object nor its event may appear.
        logged(
            put(
                "a",
                99,
                WriteCondition {
                    must_be_absent: true,
                    etag_in: None,
                },
            ),
            event("PutObject", "a-again"),
        ),
        logged(
            put("c", 5, WriteCondition::default()),
            event("PutObject", "c"),
        ),
    ]);
    assert!(results[0].is_ok() && results[2].is_ok());
    assert_eq!(results[1], Err(ShardError::PreconditionFailed));
    let events = reader.events(0, 100).unwrap();
    let keys: Vec<_> = events
        .iter()
        .map(|e| e.event.key.clone().unwrap())
        .collect();
    assert_eq!(keys, ["a", "c"]);
    assert!(events[0].seq < events[1].seq);
    assert_eq!(reader.events(events[0].seq, 100).unwrap().len(), 1);
    assert_eq!(reader.events(0, 1).unwrap().len(), 1);
    let head = reader.event_head().unwrap();
    assert_eq!(head, events[1].seq);
    // Trimming everything keeps the head; the next event continues after it.
    writer
        .apply_batch(&[MetaOp::TrimEvents { through: head }])
        .into_iter()
        .for_each(|r| assert!(r.is_ok()));
    assert!(reader.events(0, 100).unwrap().is_empty());
    drop(writer);
    let mut writer = MetaWriter::open(dir.path()).unwrap();
    let appended = writer.apply_batch(&[MetaOp::AppendEvents {
        events: vec![EventRecord {
            kind: "access_denied".into(),
            status: 403,
            iam_action: Some("s3:GetObject".into()),
            resource_arn: Some("arn:aws:s3:::b/x".into()),
            decided_by: Some("explicit deny: statement \"NoReads\" of the bucket policy".into()),
            ..event("GetObject", "x")
        }],
    }]);
    assert!(appended[0].is_ok());
    let events = reader.events(0, 100).unwrap();
    assert_eq!(events.len(), 1);
    assert!(events[0].seq > head, "{} after {head}", events[0].seq);
    assert_eq!(events[0].event.status, 403);
    assert_eq!(events[0].event.iam_action.as_deref(), Some("s3:GetObject"));
    assert_eq!(
        events[0].event.resource_arn.as_deref(),
        Some("arn:aws:s3:::b/x")
    );
    let decided_by = events[0].event.decided_by.as_deref();
    assert_eq!(
        decided_by,
        Some("explicit deny: statement \"NoReads\" of the bucket policy")
    );
}

#[test]
fn usage_follows_puts_replacements_and_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = MetaWriter::open(dir.path()).unwrap();
    let reader = MetaReader::open(dir.path()).unwrap();
    let version = reader.data_version().unwrap();
    let results = writer.apply_batch(&[
        put("a", 10, WriteCondition::default()),
        put("b", 5, WriteCondition::default()),
        // Replaces "a": one object, new size.
        put("a", 3, WriteCondition::default()),
    ]);
    assert!(results.iter().all(Result::is_ok));
    assert_ne!(reader.data_version().unwrap(), version);
    assert_eq!(
        usage(&reader),
        [(
            "b".to_owned(),
            BucketUsage {
                objects: 2,
                bytes: 8,
                ..Default::default()
            }
        )]
    );
    let results = writer.apply_batch(&[
        MetaOp::DeleteObject(ObjectDelete::latest("b", "a", Versioning::Unversioned, 1)),
        // Deleting a missing key changes nothing.
        MetaOp::DeleteObject(ObjectDelete::latest("b", "zzz", Versioning::Unversioned, 1)),
    ]);
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(
        usage(&reader),
        [(
            "b".to_owned(),
            BucketUsage {
                objects: 1,
                bytes: 5,
                ..Default::default()
            }
        )]
    );
    let results = writer.apply_batch(&[MetaOp::PurgeBucket { name: "b".into() }]);
    assert!(results[0].is_ok());
    assert!(usage(&reader).is_empty());
}

#[test]
fn bucket_owners_and_configuration_are_stored() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = MetaWriter::open(dir.path()).unwrap();
    let reader = MetaReader::open(dir.path()).unwrap();
    let record = BucketRecord {
        name: "owned".into(),
        created_ms: 1,
        region: "us-east-1".into(),
        tags: Vec::new(),
        owner_tenant: Some("acme".into()),
        owner_user: Some("alice".into()),
        encryption: Some(shard::BucketEncryption {
            algorithm: "AES256".into(),
            kms_key_id: None,
            bucket_key_enabled: true,
        }),
        versioning: Versioning::Enabled,
        object_lock: Some(base::object_lock::ObjectLockConfiguration {
            rule: Some(base::object_lock::DefaultRetention {
                mode: base::object_lock::RetentionMode::Governance,
                period: base::object_lock::RetentionPeriod::Days(3),
            }),
        }),
        lifecycle: None,
        policy: Some(r#"{"Version":"2012-10-17","Statement":[]}"#.into()),
        public_access_block: Some(shard::record::PublicAccessBlock {
            block_public_policy: true,
            restrict_public_buckets: true,
            ..Default::default()
        }),
        cors: vec![shard::CorsRule {
            id: Some("browser".into()),
            allowed_methods: vec!["GET".into(), "PUT".into()],
            allowed_origins: vec!["https://*.example.com".into()],
            allowed_headers: vec!["*".into()],
            expose_headers: vec!["ETag".into()],
            max_age_seconds: Some(600),
        }],
        object_ownership: base::acl::ObjectOwnership::ObjectWriter,
        acl: base::acl::Acl::canned("public-read"),
    };
    let results = writer.apply_batch(&[
        MetaOp::CreateBucket {
            record: record.clone(),
        },
        MetaOp::CreateBucket {
            record: BucketRecord {
                name: "free".into(),
                ..record.clone()
            }
            .without_owner(),
        },
    ]);
    assert!(results.iter().all(Result::is_ok));
    let buckets = reader.buckets().unwrap();
    assert_eq!(buckets[1], record);
    assert_eq!(buckets[0].owner_tenant, None);
}

trait WithoutOwner {
    fn without_owner(self) -> Self;
}

impl WithoutOwner for BucketRecord {
    fn without_owner(mut self) -> Self {
        self.owner_tenant = None;
        self.owner_user = None;
        self
    }
}

/// Security issue 14, finding 9: uploads in progress and their parts are usage (quotas count
/// them); a re-uploaded part replaces its bytes, completion moves them to the object without
/// counting them twice, abort and expiry give them back.
#[test]
fn usage_counts_uploads_in_progress_and_their_parts() {
    use shard::UploadRecord;
    use shard::meta::{CompleteUpload, PartRecord};
    let dir = tempfile::tempdir().unwrap();
    let mut writer = MetaWriter::open(dir.path()).unwrap();
    let reader = MetaReader::open(dir.path()).unwrap();
    let upload = |upload_id: &str, key: &str| MetaOp::CreateUpload {
        upload: UploadRecord {
            upload_id: upload_id.into(),
            bucket: "b".into(),
            key: key.into(),
            initiated_ms: 1,
            headers: vec![],
            ..Default::default()
        },
    };
    let part = |upload_id: &str, part_number: u32, size_bytes: u64| MetaOp::PutPart {
        upload_id: upload_id.into(),
        part: PartRecord {
            part_number,
            size_bytes,
            etag: format!("{part_number:032x}"),
            last_modified_ms: 1,
            extents: vec![],
            block_checksums: vec![],
            checksum: None,
            encryption: None,
        },
    };
    let counted = |uploads, upload_bytes, objects, bytes| {
        vec![(
            "b".to_owned(),
            BucketUsage {
                objects,
                bytes,
                uploads,
                upload_bytes,
            },
        )]
    };
    let results = writer.apply_batch(&[
        upload("u1", "k1"),
        upload("u2", "k2"),
        part("u1", 1, 6 << 20),
        part("u1", 2, 100),
        // A re-uploaded part replaces the bytes of the first.
        part("u1", 2, 40),
        part("u2", 1, 7),
    ]);
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(usage(&reader), counted(2, (6 << 20) + 47, 0, 0));
    let results = writer.apply_batch(&[MetaOp::CompleteUpload(CompleteUpload {
        bucket: "b".into(),
        key: "k1".into(),
        upload_id: "u1".into(),
        parts: vec![(1, format!("{:032x}", 1)), (2, format!("{:032x}", 2))],
        last_modified_ms: 2,
        condition: WriteCondition::default(),
        checksum: None,
        versioning: Versioning::Unversioned,
        retention: None,
        legal_hold: false,
    })]);
    assert!(results[0].is_ok(), "{results:?}");
    assert_eq!(usage(&reader), counted(1, 7, 1, (6 << 20) + 40));
    assert_eq!(reader.uploads_started_before(2, 10).unwrap().len(), 1);
    assert!(reader.uploads_started_before(1, 10).unwrap().is_empty());
    let results = writer.apply_batch(&[MetaOp::AbortUpload {
        bucket: "b".into(),
        key: "k2".into(),
        upload_id: "u2".into(),
    }]);
    assert!(results[0].is_ok());
    assert_eq!(usage(&reader), counted(0, 0, 1, (6 << 20) + 40));
}
