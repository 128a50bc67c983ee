//! The simulation's model of acknowledged state: per (bucket, key), its versions newest first,
//! each with an id (or the null version), bytes (or a delete marker), retention and legal
//! hold. It follows S3's rules independently of `versions.rs`: the partition must agree.

use std::collections::BTreeMap;

use shard::{ObjectRetention, RetentionMode, VersionRef, Versioning};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    /// `None`: the null version.
    pub id: Option<String>,
    /// `None`: a delete marker.
    pub body: Option<Vec<u8>>,
    pub retention: Option<ObjectRetention>,
    pub hold: bool,
}

impl Version {
    pub fn vref(&self) -> VersionRef {
        self.id
            .as_ref()
            .map_or(VersionRef::Null, |id| VersionRef::Id(id.clone()))
    }

    /// Whether object lock forbids destroying it at `now_ms`.
    pub fn protected(&self, now_ms: i64, bypass_governance: bool) -> bool {
        let retained = self.retention.is_some_and(|retention| {
            retention.retain_until_ms > now_ms
                && (retention.mode == RetentionMode::Compliance || !bypass_governance)
        });
        self.hold || retained
    }
}

/// Whether a version's retention may change from `current` to `new` at `now_ms`.
pub fn retention_change_allowed(
    current: Option<ObjectRetention>,
    new: Option<ObjectRetention>,
    now_ms: i64,
    bypass_governance: bool,
) -> bool {
    let Some(current) = current.filter(|current| current.retain_until_ms > now_ms) else {
        return true;
    };
    let extends = new.is_some_and(|new| {
        new.mode == current.mode && new.retain_until_ms >= current.retain_until_ms
    });
    extends || (current.mode == RetentionMode::Governance && bypass_governance)
}

type Target = (String, String);

#[derive(Default)]
pub struct Model {
    keys: BTreeMap<Target, Vec<Version>>,
}

fn target(bucket: &str, key: &str) -> Target {
    (bucket.to_owned(), key.to_owned())
}

impl Model {
    /// The versions of a key, newest first (empty: none).
    pub fn versions(&self, bucket: &str, key: &str) -> &[Version] {
        self.keys
            .get(&target(bucket, key))
            .map_or(&[], Vec::as_slice)
    }

    pub fn latest(&self, bucket: &str, key: &str) -> Option<&Version> {
        self.versions(bucket, key).first()
    }

    pub fn find(&self, bucket: &str, key: &str, version: &VersionRef) -> Option<&Version> {
        self.versions(bucket, key)
            .iter()
            .find(|v| v.vref() == *version)
    }

    /// Every key of `bucket` with its versions, in key order.
    pub fn keys_of<'a>(
        &'a self,
        bucket: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a [Version])> + 'a {
        self.keys
            .iter()
            .filter(move |((b, _), _)| b == bucket)
            .map(|((_, key), versions)| (key.as_str(), versions.as_slice()))
    }

    /// Every version of every key that holds bytes.
    pub fn bodies(&self) -> impl Iterator<Item = &Vec<u8>> {
        self.keys
            .values()
            .flatten()
            .filter_map(|version| version.body.as_ref())
    }

    /// Whether a write of `versioning` (a put, or a marker without an id) must be refused:
    /// anything but Enabled replaces the null version, which must not be protected.
    pub fn replaces_protected(
        &self,
        bucket: &str,
        key: &str,
        versioning: Versioning,
        now_ms: i64,
    ) -> bool {
        versioning != Versioning::Enabled
            && self
                .find(bucket, key, &VersionRef::Null)
                .is_some_and(|null| null.protected(now_ms, false))
    }

    /// An acknowledged put (or, with `body` `None`, a delete marker) with the id the
    /// partition gave it.
    pub fn put(&mut self, bucket: &str, key: &str, versioning: Versioning, version: Version) {
        assert_eq!(
            version.id.is_some(),
            versioning == Versioning::Enabled,
            "{key}: an Enabled write has an id, no other write does"
        );
        let versions = self.keys.entry(target(bucket, key)).or_default();
        if let Some(id) = &version.id {
            let newer = versions
                .iter()
                .filter_map(|v| v.id.as_ref())
                .any(|old| old >= id);
            assert!(
                !newer,
                "{key}: new id {id} does not sort after the key's older ids"
            );
        } else {
            versions.retain(|v| v.id.is_some());
        }
        versions.insert(0, version);
    }

    /// An acknowledged unversioned delete: the null version goes, wherever it is.
    pub fn delete_null(&mut self, bucket: &str, key: &str) {
        self.remove(bucket, key, &VersionRef::Null);
    }

    pub fn remove(&mut self, bucket: &str, key: &str, version: &VersionRef) {
        let target = target(bucket, key);
        if let Some(versions) = self.keys.get_mut(&target) {
            versions.retain(|v| v.vref() != *version);
            if versions.is_empty() {
                self.keys.remove(&target);
            }
        }
    }

    pub fn version_mut(
        &mut self,
        bucket: &str,
        key: &str,
        version: &VersionRef,
    ) -> Option<&mut Version> {
        self.keys
            .get_mut(&target(bucket, key))?
            .iter_mut()
            .find(|v| v.vref() == *version)
    }
}
