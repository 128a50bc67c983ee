//! Object versions in one partition's metadata, through `MetaWriter` and `MetaReader`
//! (`versions.rs`): ids and their order, the null version under Suspended, delete markers,
//! deletes by id, ListObjectVersions paging, object lock's refusals, usage, and the version
//! clock across reopening.
// Test helpers fail loudly; Option-valued helpers read as the values they stand for.
#![allow(clippy::unwrap_used, clippy::unnecessary_wraps)]

use std::collections::BTreeMap;

use shard::meta::{MetaOp, MetaOutcome, MetaReader, MetaWriter, ObjectDelete, WriteCondition};
use shard::versions::{is_version_id, seq_of};
use shard::{
    BucketUsage, Extent, ObjectRecord, ObjectRetention, RetentionMode, ShardError, VersionRef,
    VersionStart, Versioning,
};

const B: &str = "b";
/// The time deletes and retention changes are judged at.
const NOW: i64 = 1_000_000;

/// A distinct extent per write, so `freed` names exactly which version went.
fn extent(tag: u64) -> Extent {
    Extent {
        segment_id: 1,
        offset_bytes: tag * 4096,
        length_bytes: 100,
    }
}

fn record(tag: u64, size: u64) -> ObjectRecord {
    ObjectRecord {
        size_bytes: size,
        etag: format!("etag-{tag}"),
        last_modified_ms: 1,
        extents: vec![extent(tag)],
        ..ObjectRecord::default()
    }
}

fn put_record(key: &str, versioning: Versioning, record: ObjectRecord) -> MetaOp {
    MetaOp::PutObject {
        bucket: B.into(),
        key: key.into(),
        record,
        condition: WriteCondition::default(),
        versioning,
    }
}

fn put(key: &str, versioning: Versioning, tag: u64) -> MetaOp {
    put_record(key, versioning, record(tag, 100))
}

fn delete(key: &str, versioning: Versioning) -> MetaOp {
    MetaOp::DeleteObject(ObjectDelete::latest(B, key, versioning, NOW))
}

fn delete_version(key: &str, version: VersionRef, bypass: bool) -> MetaOp {
    MetaOp::DeleteObject(ObjectDelete {
        version: Some(version),
        bypass_governance: bypass,
        ..ObjectDelete::latest(B, key, Versioning::Enabled, NOW)
    })
}

fn retention(mode: RetentionMode, until_ms: i64) -> Option<ObjectRetention> {
    Some(ObjectRetention {
        mode,
        retain_until_ms: until_ms,
    })
}

fn set_retention(
    key: &str,
    version: VersionRef,
    retention: Option<ObjectRetention>,
    bypass: bool,
) -> MetaOp {
    MetaOp::SetRetention {
        bucket: B.into(),
        key: key.into(),
        version: Some(version),
        retention,
        bypass_governance: bypass,
        now_ms: NOW,
    }
}

fn legal_hold(key: &str, version: VersionRef, on: bool) -> MetaOp {
    MetaOp::SetLegalHold {
        bucket: B.into(),
        key: key.into(),
        version: Some(version),
        on,
    }
}

fn apply(writer: &mut MetaWriter, op: MetaOp) -> Result<MetaOutcome, ShardError> {
    writer.apply_batch(&[op]).pop().unwrap()
}

/// The id a write or delete created or removed (`None`: the null version).
fn id_of(outcome: &MetaOutcome) -> Option<String> {
    outcome.version.as_ref().unwrap().version_id.clone()
}

fn vref(id: Option<&String>) -> VersionRef {
    id.map_or(VersionRef::Null, |id| VersionRef::Id(id.clone()))
}

/// (version id, delete marker, is latest) of every version of `key`, in listing order.
fn versions_of(reader: &MetaReader, key: &str) -> Vec<(Option<String>, bool, bool)> {
    reader
        .list_versions(
            B,
            &VersionStart::AtOrAfterKey(key.into()),
            key.as_bytes(),
            1000,
        )
        .unwrap()
        .into_iter()
        .filter(|entry| entry.key == key.as_bytes())
        .map(|entry| (entry.version_id, entry.delete_marker, entry.is_latest))
        .collect()
}

fn ids_of(reader: &MetaReader, key: &str) -> Vec<Option<String>> {
    versions_of(reader, key)
        .into_iter()
        .map(|(id, _, _)| id)
        .collect()
}

fn etag_of(reader: &MetaReader, key: &str, version: &VersionRef) -> Option<String> {
    reader
        .object_version(B, key, version)
        .unwrap()
        .map(|(record, _)| record.etag)
}

fn open(dir: &std::path::Path) -> (MetaWriter, MetaReader) {
    let writer = MetaWriter::open(dir).unwrap();
    let reader = MetaReader::open(dir).unwrap();
    (writer, reader)
}

#[test]
fn enabled_puts_get_ids_listed_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let (mut writer, reader) = open(dir.path());
    let mut ids = Vec::new();
    for tag in 1..=3 {
        let outcome = apply(&mut writer, put("k", Versioning::Enabled, tag)).unwrap();
        assert!(outcome.freed.is_empty(), "an Enabled put frees nothing");
        let id = id_of(&outcome).unwrap();
        assert!(is_version_id(&id), "{id}");
        ids.push(id);
    }
    // One batch of several puts: ids still strictly increase (the clock never ties).
    let batch = writer.apply_batch(&[
        put("k", Versioning::Enabled, 4),
        put("k", Versioning::Enabled, 5),
    ]);
    ids.extend(batch.iter().map(|r| id_of(r.as_ref().unwrap()).unwrap()));
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids sort by creation");
    assert!(ids.windows(2).all(|w| seq_of(&w[0]) < seq_of(&w[1])));
    let listed = reader
        .list_versions(B, &VersionStart::AtOrAfterKey(vec![]), b"", 100)
        .unwrap();
    let newest_first: Vec<_> = ids.iter().rev().cloned().map(Some).collect();
    assert_eq!(
        listed
            .iter()
            .map(|e| e.version_id.clone())
            .collect::<Vec<_>>(),
        newest_first
    );
    assert_eq!(
        listed.iter().map(|e| e.is_latest).collect::<Vec<_>>(),
        [true, false, false, false, false]
    );
    for entry in &listed {
        assert_eq!(Some(entry.seq), seq_of(entry.version_id.as_ref().unwrap()));
    }
    let latest = reader.object(B, "k").unwrap().unwrap();
    assert_eq!(latest.version_id.as_ref(), ids.last());
    assert_eq!(latest.etag, "etag-5");
    for (tag, id) in (1..).zip(&ids) {
        let (found, is_latest) = reader
            .object_version(B, "k", &VersionRef::Id(id.clone()))
            .unwrap()
            .unwrap();
        assert_eq!(found.etag, format!("etag-{tag}"));
        assert_eq!(found.version_id.as_ref(), Some(id));
        assert_eq!(is_latest, tag == 5);
    }
    assert_eq!(
        reader.object_version(B, "k", &VersionRef::Null).unwrap(),
        None
    );
}

#[test]
fn suspended_puts_replace_only_the_null_version_and_free_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut writer, reader) = open(dir.path());
    // Unversioned: a put replaces the null version in place.
    let first = apply(&mut writer, put("k", Versioning::Unversioned, 1)).unwrap();
    assert_eq!(first.version.as_ref().unwrap().version_id, None);
    let second = apply(&mut writer, put("k", Versioning::Unversioned, 2)).unwrap();
    assert_eq!(second.freed, [extent(1)]);
    // Enabled: the null version becomes noncurrent and stays.
    let id1 = id_of(&apply(&mut writer, put("k", Versioning::Enabled, 3)).unwrap()).unwrap();
    assert_eq!(ids_of(&reader, "k"), [Some(id1.clone()), None]);
    // Suspended: the noncurrent null version is replaced; the version with an id stays.
    let outcome = apply(&mut writer, put("k", Versioning::Suspended, 4)).unwrap();
    assert_eq!(id_of(&outcome), None);
    assert_eq!(outcome.freed, [extent(2)]);
    assert_eq!(ids_of(&reader, "k"), [None, Some(id1.clone())]);
    // Suspended over a latest null version: replaced in place.
    let outcome = apply(&mut writer, put("k", Versioning::Suspended, 5)).unwrap();
    assert_eq!(outcome.freed, [extent(4)]);
    assert_eq!(ids_of(&reader, "k"), [None, Some(id1.clone())]);
    // A null version between two versions with ids is replaced, and only it.
    let id2 = id_of(&apply(&mut writer, put("k", Versioning::Enabled, 6)).unwrap()).unwrap();
    assert_eq!(
        ids_of(&reader, "k"),
        [Some(id2.clone()), None, Some(id1.clone())]
    );
    let outcome = apply(&mut writer, put("k", Versioning::Suspended, 7)).unwrap();
    assert_eq!(outcome.freed, [extent(5)]);
    assert_eq!(
        ids_of(&reader, "k"),
        [None, Some(id2.clone()), Some(id1.clone())]
    );
    assert_eq!(etag_of(&reader, "k", &VersionRef::Null).unwrap(), "etag-7");
    assert_eq!(
        etag_of(&reader, "k", &VersionRef::Id(id2)).unwrap(),
        "etag-6"
    );
    assert_eq!(
        etag_of(&reader, "k", &VersionRef::Id(id1)).unwrap(),
        "etag-3"
    );
}

#[test]
fn deletes_remove_or_write_markers_by_versioning_state() {
    let dir = tempfile::tempdir().unwrap();
    let (mut writer, reader) = open(dir.path());
    // Unversioned: the object goes, its extents are freed, no version is named.
    apply(&mut writer, put("u", Versioning::Unversioned, 1)).unwrap();
    let outcome = apply(&mut writer, delete("u", Versioning::Unversioned)).unwrap();
    assert_eq!(outcome.freed, [extent(1)]);
    assert_eq!(outcome.version, None);
    assert_eq!(reader.object(B, "u").unwrap(), None);
    assert!(versions_of(&reader, "u").is_empty());
    // Enabled: a marker with a new id becomes the latest; nothing is freed.
    let id1 = id_of(&apply(&mut writer, put("e", Versioning::Enabled, 2)).unwrap()).unwrap();
    let outcome = apply(&mut writer, delete("e", Versioning::Enabled)).unwrap();
    assert!(outcome.freed.is_empty());
    assert!(outcome.version.as_ref().unwrap().delete_marker);
    let marker = id_of(&outcome).unwrap();
    assert!(is_version_id(&marker) && marker > id1);
    let latest = reader.object(B, "e").unwrap().unwrap();
    assert!(latest.delete_marker);
    assert_eq!(latest.version_id.as_ref(), Some(&marker));
    assert_eq!(
        versions_of(&reader, "e"),
        [
            (Some(marker.clone()), true, true),
            (Some(id1.clone()), false, false)
        ]
    );
    // A second delete writes a second marker.
    let again = id_of(&apply(&mut writer, delete("e", Versioning::Enabled)).unwrap()).unwrap();
    assert_eq!(ids_of(&reader, "e"), [Some(again), Some(marker), Some(id1)]);
    // Suspended: a null marker replaces the null version (freed); ids stay.
    apply(&mut writer, put("s", Versioning::Unversioned, 3)).unwrap();
    let id2 = id_of(&apply(&mut writer, put("s", Versioning::Enabled, 4)).unwrap()).unwrap();
    let outcome = apply(&mut writer, delete("s", Versioning::Suspended)).unwrap();
    assert_eq!(outcome.freed, [extent(3)]);
    let version = outcome.version.unwrap();
    assert_eq!(version.version_id, None);
    assert!(version.delete_marker);
    assert_eq!(
        versions_of(&reader, "s"),
        [(None, true, true), (Some(id2), false, false)]
    );
    // Unversioned delete of a key with nothing: no error, nothing freed.
    let outcome = apply(&mut writer, delete("none", Versioning::Unversioned)).unwrap();
    assert!(outcome.freed.is_empty());
}

#[test]
fn deleting_versions_by_id_promotes_the_newest_noncurrent_one() {
    let dir = tempfile::tempdir().unwrap();
    let (mut writer, reader) = open(dir.path());
    let ids: Vec<String> = (1..=3)
        .map(|tag| id_of(&apply(&mut writer, put("k", Versioning::Enabled, tag)).unwrap()).unwrap())
        .collect();
    // The latest by id: freed, and the next newest becomes the latest.
    let outcome = apply(&mut writer, delete_version("k", vref(ids.get(2)), false)).unwrap();
    assert_eq!(outcome.freed, [extent(3)]);
    assert_eq!(id_of(&outcome).as_ref(), ids.get(2));
    assert_eq!(reader.object(B, "k").unwrap().unwrap().etag, "etag-2");
    assert_eq!(
        versions_of(&reader, "k"),
        [
            (Some(ids[1].clone()), false, true),
            (Some(ids[0].clone()), false, false)
        ]
    );
    // A noncurrent one: the latest stays.
    let outcome = apply(&mut writer, delete_version("k", vref(ids.first()), false)).unwrap();
    assert_eq!(outcome.freed, [extent(1)]);
    assert_eq!(ids_of(&reader, "k"), [Some(ids[1].clone())]);
    // Deleting the marker by id brings the object back.
    let marker = id_of(&apply(&mut writer, delete("k", Versioning::Enabled)).unwrap()).unwrap();
    assert!(reader.object(B, "k").unwrap().unwrap().delete_marker);
    let outcome = apply(&mut writer, delete_version("k", vref(Some(&marker)), false)).unwrap();
    assert!(outcome.version.unwrap().delete_marker);
    assert_eq!(reader.object(B, "k").unwrap().unwrap().etag, "etag-2");
    // Missing versions (a deleted id, the null version) are no error and change nothing.
    for missing in [vref(ids.first()), VersionRef::Null] {
        let outcome = apply(&mut writer, delete_version("k", missing, false)).unwrap();
        assert_eq!(outcome, MetaOutcome::default());
    }
    assert_eq!(ids_of(&reader, "k"), [Some(ids[1].clone())]);
    // The last version: the key is gone.
    apply(&mut writer, delete_version("k", vref(ids.get(1)), false)).unwrap();
    assert_eq!(reader.object(B, "k").unwrap(), None);
    assert!(versions_of(&reader, "k").is_empty());
    // A null version that is the latest, deleted by `null`: the newest with an id returns.
    let id = id_of(&apply(&mut writer, put("n", Versioning::Enabled, 4)).unwrap()).unwrap();
    apply(&mut writer, put("n", Versioning::Suspended, 5)).unwrap();
    let outcome = apply(&mut writer, delete_version("n", VersionRef::Null, false)).unwrap();
    assert_eq!(outcome.freed, [extent(5)]);
    assert_eq!(reader.object(B, "n").unwrap().unwrap().version_id, Some(id));
}

/// Writes a mix of versions, markers and null versions over keys that share prefixes, and
/// returns the expected listing: per key (in byte order), its ids newest first.
fn write_listing_fixture(writer: &mut MetaWriter) -> BTreeMap<String, Vec<Option<String>>> {
    let keys = ["a", "a/b", "a/c", "ab", "b", "b\u{e9}", "c", "d"];
    let mut expected: BTreeMap<String, Vec<Option<String>>> = BTreeMap::new();
    let mut tag = 0;
    for round in 0..6usize {
        for (index, key) in keys.iter().enumerate() {
            if (index + round) % 3 == 2 {
                continue;
            }
            tag += 1;
            let op = match (index + round) % 5 {
                0 if round == 0 => put(key, Versioning::Unversioned, tag),
                1 if round > 0 => delete(key, Versioning::Enabled),
                _ => put(key, Versioning::Enabled, tag),
            };
            let id = id_of(&apply(writer, op).unwrap());
            expected.entry((*key).to_owned()).or_default().insert(0, id);
        }
    }
    expected
}

/// (key, version id, is latest): the latest is a key's first (newest) version.
type Entry = (String, Option<String>, bool);

fn flatten(expected: &BTreeMap<String, Vec<Option<String>>>, prefix: &str) -> Vec<Entry> {
    expected
        .iter()
        .filter(|(key, _)| key.starts_with(prefix))
        .flat_map(|(key, ids)| {
            let entries = ids.iter().enumerate();
            entries.map(|(index, id)| (key.clone(), id.clone(), index == 0))
        })
        .collect()
}

/// Every entry from `start` within `prefix`, `page` at a time, continuing after the last
/// entry of each page (AfterVersion: what the listing's version-id-marker becomes).
fn list_paged(reader: &MetaReader, start: VersionStart, prefix: &str, page: usize) -> Vec<Entry> {
    let mut start = start;
    let mut all = Vec::new();
    loop {
        let entries = reader
            .list_versions(B, &start, prefix.as_bytes(), page)
            .unwrap();
        assert!(entries.len() <= page);
        let Some(last) = entries.last() else {
            return all;
        };
        start = VersionStart::AfterVersion {
            key: last.key.clone(),
            seq: last.seq,
        };
        for entry in entries {
            let key = String::from_utf8(entry.key).unwrap();
            all.push((key, entry.version_id, entry.is_latest));
        }
    }
}

#[test]
fn list_versions_pages_every_entry_exactly_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (mut writer, reader) = open(dir.path());
    let expected = write_listing_fixture(&mut writer);
    assert!(expected.values().any(|ids| ids.contains(&None)));
    assert!(expected.values().any(|ids| ids.len() > 3));
    for prefix in ["", "a", "a/", "b", "b\u{e9}", "zz"] {
        let want = flatten(&expected, prefix);
        for page in [1, 2, 3, 7, 1000] {
            let got = list_paged(&reader, VersionStart::AtOrAfterKey(vec![]), prefix, page);
            assert_eq!(got, want, "prefix {prefix:?}, page {page}");
        }
    }
    let all = flatten(&expected, "");
    for key in ["", "a", "a/b", "aa", "b", "c", "d", "e"] {
        let after: Vec<Entry> = all
            .iter()
            .filter(|(k, _, _)| k.as_str() > key)
            .cloned()
            .collect();
        let at: Vec<Entry> = all
            .iter()
            .filter(|(k, _, _)| k.as_str() >= key)
            .cloned()
            .collect();
        for page in [1, 4, 1000] {
            let start = VersionStart::AfterKey(key.into());
            assert_eq!(list_paged(&reader, start, "", page), after, "after {key:?}");
            let start = VersionStart::AtOrAfterKey(key.into());
            assert_eq!(list_paged(&reader, start, "", page), at, "at {key:?}");
        }
    }
    // AfterVersion from every entry: exactly the entries after it.
    let listed = reader
        .list_versions(B, &VersionStart::AtOrAfterKey(vec![]), b"", 1000)
        .unwrap();
    for (index, entry) in listed.iter().enumerate() {
        let start = VersionStart::AfterVersion {
            key: entry.key.clone(),
            seq: entry.seq,
        };
        assert_eq!(list_paged(&reader, start, "", 3), all[index + 1..]);
        // The seq a version-id-marker resolves to is the entry's.
        let key = String::from_utf8(entry.key.clone()).unwrap();
        let seq = reader.seq_of_version(B, &key, &vref(entry.version_id.as_ref()));
        assert_eq!(seq.unwrap(), Some(entry.seq));
    }
    // A start before the prefix starts at the prefix; after it, nothing.
    let start = VersionStart::AfterKey(b"a".to_vec());
    assert_eq!(list_paged(&reader, start, "b", 2), flatten(&expected, "b"));
    let start = VersionStart::AfterKey(b"c".to_vec());
    assert!(list_paged(&reader, start, "b", 2).is_empty());
}

#[test]
fn locked_versions_cannot_be_deleted_or_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let (mut writer, reader) = open(dir.path());
    let locked = |tag, retention: Option<ObjectRetention>, legal_hold| ObjectRecord {
        retention,
        legal_hold,
        ..record(tag, 10)
    };
    let cases = [
        (
            "compliance",
            retention(RetentionMode::Compliance, NOW + 1000),
            false,
            false,
        ),
        (
            "governance",
            retention(RetentionMode::Governance, NOW + 1000),
            false,
            true,
        ),
        ("hold", None, true, false),
        (
            "hold+governance",
            retention(RetentionMode::Governance, NOW + 1000),
            true,
            false,
        ),
    ];
    for (tag, (key, retention, hold, bypass_frees)) in (1..).zip(cases) {
        let op = put_record(key, Versioning::Enabled, locked(tag, retention, hold));
        let id = id_of(&apply(&mut writer, op).unwrap());
        let (stored, _) = reader
            .object_version(B, key, &vref(id.as_ref()))
            .unwrap()
            .unwrap();
        assert_eq!((stored.retention, stored.legal_hold), (retention, hold));
        for bypass in [false, true] {
            let result = apply(&mut writer, delete_version(key, vref(id.as_ref()), bypass));
            if bypass && bypass_frees {
                assert_eq!(result.unwrap().freed, [extent(tag)], "{key}");
            } else {
                assert_eq!(
                    result.unwrap_err(),
                    ShardError::ObjectLocked,
                    "{key} {bypass}"
                );
                assert_eq!(
                    ids_of(&reader, key),
                    std::slice::from_ref(&id),
                    "{key}: still there"
                );
            }
        }
        // A new version or a marker over a locked one is allowed: it only becomes noncurrent.
        if !bypass_frees {
            apply(&mut writer, delete(key, Versioning::Enabled)).unwrap();
            assert_eq!(ids_of(&reader, key).len(), 2);
        }
    }
    // An expired retention protects nothing.
    let expired = locked(9, retention(RetentionMode::Compliance, NOW), false);
    let id = id_of(&apply(&mut writer, put_record("old", Versioning::Enabled, expired)).unwrap());
    apply(&mut writer, delete_version("old", vref(id.as_ref()), false)).unwrap();
    // Lifting a legal hold makes the version deletable.
    let id = vref(ids_of(&reader, "hold").last().unwrap().as_ref());
    apply(&mut writer, legal_hold("hold", id.clone(), false)).unwrap();
    assert_eq!(
        apply(&mut writer, delete_version("hold", id, false))
            .unwrap()
            .freed,
        [extent(3)]
    );
}

#[test]
fn a_locked_null_version_is_not_replaced_under_suspended() {
    let dir = tempfile::tempdir().unwrap();
    let (mut writer, reader) = open(dir.path());
    let locked = ObjectRecord {
        retention: retention(RetentionMode::Governance, NOW + 1000),
        ..record(1, 10)
    };
    apply(&mut writer, put_record("k", Versioning::Suspended, locked)).unwrap();
    assert_eq!(
        apply(&mut writer, put("k", Versioning::Suspended, 2)).unwrap_err(),
        ShardError::ObjectLocked
    );
    assert_eq!(
        apply(&mut writer, delete("k", Versioning::Suspended)).unwrap_err(),
        ShardError::ObjectLocked
    );
    assert_eq!(etag_of(&reader, "k", &VersionRef::Null).unwrap(), "etag-1");
    // Held instead: same. Enabled writes go on top of it.
    let op = set_retention("k", VersionRef::Null, None, true);
    apply(&mut writer, op).unwrap();
    apply(&mut writer, legal_hold("k", VersionRef::Null, true)).unwrap();
    let id = id_of(&apply(&mut writer, put("k", Versioning::Enabled, 3)).unwrap());
    assert_eq!(
        apply(&mut writer, put("k", Versioning::Suspended, 4)).unwrap_err(),
        ShardError::ObjectLocked
    );
    assert_eq!(ids_of(&reader, "k"), [id, None]);
    apply(&mut writer, legal_hold("k", VersionRef::Null, false)).unwrap();
    let outcome = apply(&mut writer, put("k", Versioning::Suspended, 5)).unwrap();
    assert_eq!(outcome.freed, [extent(1)]);
}

#[test]
fn retention_can_be_extended_but_shortened_only_by_bypassing_governance() {
    use RetentionMode::{Compliance, Governance};
    let dir = tempfile::tempdir().unwrap();
    let (mut writer, reader) = open(dir.path());
    let stored = |key: &str, version: &VersionRef| {
        reader
            .object_version(B, key, version)
            .unwrap()
            .unwrap()
            .0
            .retention
    };
    let c = id_of(&apply(&mut writer, put("c", Versioning::Enabled, 1)).unwrap());
    let c = vref(c.as_ref());
    let steps = [
        (retention(Compliance, NOW + 100), false, true),
        (retention(Compliance, NOW + 200), false, true),
        (retention(Compliance, NOW + 150), true, false),
        (retention(Governance, NOW + 300), true, false),
        (None, true, false),
        (retention(Compliance, NOW + 200), false, true),
    ];
    let mut expected = None;
    for (new, bypass, allowed) in steps {
        let result = apply(&mut writer, set_retention("c", c.clone(), new, bypass));
        if allowed {
            result.unwrap();
            expected = new;
        } else {
            assert_eq!(result.unwrap_err(), ShardError::ObjectLocked, "{new:?}");
        }
        assert_eq!(stored("c", &c), expected);
    }
    let g = id_of(&apply(&mut writer, put("g", Versioning::Enabled, 2)).unwrap());
    let g = vref(g.as_ref());
    let steps = [
        (retention(Governance, NOW + 100), false, true),
        (retention(Governance, NOW + 300), false, true),
        (retention(Governance, NOW + 200), false, false),
        (None, false, false),
        (retention(Compliance, NOW + 400), false, false),
        (retention(Governance, NOW + 200), true, true),
        (None, true, true),
    ];
    for (new, bypass, allowed) in steps {
        let result = apply(&mut writer, set_retention("g", g.clone(), new, bypass));
        if allowed {
            result.unwrap();
            expected = new;
        } else {
            assert_eq!(result.unwrap_err(), ShardError::ObjectLocked, "{new:?}");
        }
        assert_eq!(stored("g", &g), expected);
    }
    // The version must exist and hold data.
    let marker = id_of(&apply(&mut writer, delete("g", Versioning::Enabled)).unwrap());
    let cases = [
        (vref(marker.as_ref()), ShardError::DeleteMarker),
        (VersionRef::Null, ShardError::NoSuchVersion),
    ];
    for (version, error) in cases {
        let op = set_retention("g", version.clone(), retention(Governance, NOW + 1), false);
        assert_eq!(apply(&mut writer, op).unwrap_err(), error);
        assert_eq!(
            apply(&mut writer, legal_hold("g", version, true)).unwrap_err(),
            error
        );
    }
    let op = MetaOp::SetLegalHold {
        bucket: B.into(),
        key: "g".into(),
        version: None,
        on: true,
    };
    assert_eq!(apply(&mut writer, op).unwrap_err(), ShardError::NoSuchKey);
}

fn usage(reader: &MetaReader) -> Option<BucketUsage> {
    let all = reader.bucket_usage().unwrap();
    assert!(all.len() <= 1);
    all.into_iter().next().map(|(bucket, usage)| {
        assert_eq!(bucket, B);
        usage
    })
}

fn counted(objects: u64, bytes: u64) -> Option<BucketUsage> {
    Some(BucketUsage {
        objects,
        bytes,
        ..BucketUsage::default()
    })
}

#[test]
fn usage_counts_noncurrent_bytes_and_not_markers() {
    let dir = tempfile::tempdir().unwrap();
    let (mut writer, reader) = open(dir.path());
    let size = |key, versioning, tag, size| put_record(key, versioning, record(tag, size));
    let a = id_of(&apply(&mut writer, size("k", Versioning::Enabled, 1, 10)).unwrap());
    let b = id_of(&apply(&mut writer, size("k", Versioning::Enabled, 2, 20)).unwrap());
    assert_eq!(usage(&reader), counted(1, 30));
    let marker = id_of(&apply(&mut writer, delete("k", Versioning::Enabled)).unwrap());
    assert_eq!(usage(&reader), counted(0, 30), "a marker is no object");
    apply(&mut writer, size("n", Versioning::Suspended, 3, 5)).unwrap();
    apply(&mut writer, size("n", Versioning::Suspended, 4, 7)).unwrap();
    assert_eq!(
        usage(&reader),
        counted(1, 37),
        "the null version was replaced"
    );
    apply(&mut writer, delete("n", Versioning::Suspended)).unwrap();
    assert_eq!(usage(&reader), counted(0, 30), "a null marker replaced it");
    apply(
        &mut writer,
        delete_version("k", vref(marker.as_ref()), false),
    )
    .unwrap();
    assert_eq!(usage(&reader), counted(1, 30), "the latest version is back");
    apply(&mut writer, delete_version("k", vref(b.as_ref()), false)).unwrap();
    assert_eq!(usage(&reader), counted(1, 10));
    apply(&mut writer, delete_version("k", vref(a.as_ref()), false)).unwrap();
    apply(&mut writer, delete_version("n", VersionRef::Null, false)).unwrap();
    assert_eq!(usage(&reader), None);
}

#[test]
fn the_version_clock_only_moves_forward_across_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let mut ids = Vec::new();
    for round in 0..4 {
        let mut writer = MetaWriter::open(dir.path()).unwrap();
        for tag in 0..3 {
            let outcome = apply(&mut writer, put("k", Versioning::Enabled, round * 3 + tag));
            ids.push(id_of(&outcome.unwrap()).unwrap());
        }
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    // A previous run whose clock was far ahead (or a clock stepped back since): its
    // reservation keeps new ids after every id it issued.
    let ahead = seq_of(ids.last().unwrap()).unwrap() + 3_600_000_000;
    let connection = rusqlite::Connection::open(dir.path().join("meta.sqlite")).unwrap();
    connection
        .execute(
            "UPDATE partition_state SET value = ?1 WHERE name = 'version_seq_reserved'",
            [i64::try_from(ahead).unwrap()],
        )
        .unwrap();
    drop(connection);
    let mut writer = MetaWriter::open(dir.path()).unwrap();
    let id = id_of(&apply(&mut writer, put("k", Versioning::Enabled, 20)).unwrap()).unwrap();
    assert!(
        seq_of(&id).unwrap() > ahead,
        "{id} issued behind the reservation {ahead}"
    );
    let reader = MetaReader::open(dir.path()).unwrap();
    assert_eq!(ids_of(&reader, "k")[0].as_ref(), Some(&id));
}

#[test]
fn an_id_with_the_right_seq_but_another_random_part_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let (mut writer, reader) = open(dir.path());
    let id = id_of(&apply(&mut writer, put("k", Versioning::Enabled, 1)).unwrap()).unwrap();
    apply(&mut writer, put("k", Versioning::Enabled, 2)).unwrap();
    let last = if id.ends_with('0') { "1" } else { "0" };
    let forged = format!("{}{last}", &id[..31]);
    assert_eq!(seq_of(&forged), seq_of(&id));
    let forged = VersionRef::Id(forged);
    assert_eq!(reader.object_version(B, "k", &forged).unwrap(), None);
    // Another key's id, an uppercase spelling, a malformed one: not found either.
    assert_eq!(etag_of(&reader, "other", &VersionRef::Id(id.clone())), None);
    let upper = VersionRef::Id(id.to_ascii_uppercase());
    assert_eq!(etag_of(&reader, "k", &upper), None);
    assert_eq!(etag_of(&reader, "k", &VersionRef::Id("xyz".into())), None);
    // Deleting it deletes nothing; locking it is NoSuchVersion.
    let outcome = apply(&mut writer, delete_version("k", forged.clone(), false)).unwrap();
    assert_eq!(outcome, MetaOutcome::default());
    assert_eq!(ids_of(&reader, "k").len(), 2);
    let op = legal_hold("k", forged, true);
    assert_eq!(
        apply(&mut writer, op).unwrap_err(),
        ShardError::NoSuchVersion
    );
    assert_eq!(
        etag_of(&reader, "k", &VersionRef::Id(id)).unwrap(),
        "etag-1"
    );
}

#[test]
fn a_legal_hold_remembers_whether_it_was_ever_set() {
    // S3 answers GetObjectLegalHold with NoSuchObjectLockConfiguration for a version that
    // never had a hold and OFF for one whose hold was removed; a removed hold locks nothing.
    let dir = tempfile::tempdir().unwrap();
    let (mut writer, reader) = open(dir.path());
    let hold_of = |id: &Option<String>| {
        let (stored, _) = reader
            .object_version(B, "k", &vref(id.as_ref()))
            .unwrap()
            .unwrap();
        (stored.legal_hold, stored.legal_hold_set)
    };
    let id = id_of(&apply(&mut writer, put("k", Versioning::Enabled, 1)).unwrap());
    assert_eq!(hold_of(&id), (false, false));
    apply(&mut writer, legal_hold("k", vref(id.as_ref()), true)).unwrap();
    assert_eq!(hold_of(&id), (true, true));
    apply(&mut writer, legal_hold("k", vref(id.as_ref()), false)).unwrap();
    assert_eq!(hold_of(&id), (false, true));
    // Still so once noncurrent (the row moves to the versions table), and deletable.
    apply(&mut writer, put("k", Versioning::Enabled, 2)).unwrap();
    assert_eq!(hold_of(&id), (false, true));
    let outcome = apply(&mut writer, delete_version("k", vref(id.as_ref()), false)).unwrap();
    assert_eq!(outcome.freed, [extent(1)]);
}
