//! Lifecycle execution: a background task per shard applies the buckets' lifecycle rules to
//! the shard's own partitions (no bytes cross cores), through the same commits as client
//! deletes, so object lock, usage, reclamation and the record cache all behave as for a
//! DELETE.
//!
//! A pass walks each partition bucket by bucket, key by key (every version of a key, newest
//! first: `Partition::list_versions`), and for the rules that match a version decides:
//! - the latest version past its `Expiration` (Days, counted from its creation with AWS's
//!   rounding to the next midnight UTC, or a Date) is expired: removed in an unversioned
//!   bucket, hidden behind a new delete marker in a versioned one (`ObjectDelete::latest`);
//! - a noncurrent version past `NoncurrentVersionExpiration` (NoncurrentDays since it became
//!   noncurrent, keeping the `NewerNoncurrentVersions` newest) is deleted for good;
//! - a delete marker that is the key's only version is removed under
//!   `ExpiredObjectDeleteMarker`;
//! - an incomplete multipart upload older than `AbortIncompleteMultipartUpload` is aborted.
//!
//! A version that object lock protects is never deleted: its delete fails in the worker's
//! transaction and is counted as skipped. Every action is committed with a `lifecycle_expired`
//! event (the audit log now, notifications later) and counted (`maxiofs_lifecycle_*`, and the
//! `lifecycle` background task per partition pass).
//!
//! Passes are paced (`--lifecycle-rows-per-sec` versions examined per second per shard, and
//! never more than a quarter of the shard's time however many rules a bucket has) and
//! resumable: the partition stores where its pass got to (`lifecycle_cursor`) about every
//! second, and a pass that a restart interrupted continues from there.
//! `LifecycleSettings::day` shortens the day for tests (`--lifecycle-day-secs`).

use std::rc::Rc;
use std::time::{Duration, Instant};

use base::lifecycle::{LifecycleConfiguration, Rule};
use control::events::EventKind;
use shard::meta::UploadStart;
use shard::meta::{MetaOp, ObjectDelete};
use shard::{
    BucketRecord, Partition, ShardError, TaskType, VersionEntry, VersionRef, VersionStart,
};
use telemetry::LifecycleCounters;

use crate::context::ShardContext;
use crate::events::{Actor, logged};

/// How lifecycle runs (`--lifecycle-day-secs`, `--lifecycle-interval-secs`,
/// `--lifecycle-rows-per-sec`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LifecycleSettings {
    /// The length of a lifecycle day: 24 h, shorter in tests.
    pub day: Duration,
    /// Time between the starts of two passes; zero disables lifecycle execution.
    pub interval: Duration,
    /// Versions examined per second per shard, at most: a pass over millions of versions
    /// takes minutes and leaves the disk and the cores to clients.
    pub rows_per_sec: u64,
}

impl Default for LifecycleSettings {
    fn default() -> Self {
        LifecycleSettings {
            day: Duration::from_hours(24),
            interval: Duration::from_hours(1),
            rows_per_sec: ROWS_PER_SEC_DEFAULT,
        }
    }
}

/// Versions read per query.
const PAGE_VERSIONS: usize = 256;
/// A pass sleeps at least this many times as long as it worked (at most a quarter of the
/// shard's time), whatever the rate allows.
const BUSY_SHARE_DIVISOR: u32 = 4;
/// The default of `LifecycleSettings::rows_per_sec`.
pub const ROWS_PER_SEC_DEFAULT: u64 = 20_000;
/// The cursor is saved at most this often (one small commit): a restart repeats at most
/// about this much of a pass.
const CURSOR_SAVE_INTERVAL: Duration = Duration::from_secs(1);
/// Longest single sleep, so that shutdown is noticed promptly.
const SLEEP_STEP: Duration = Duration::from_millis(200);
/// Uploads examined per bucket and partition per pass (the next pass takes the rest).
const UPLOADS_PER_PASS_MAX: usize = 10_000;

/// The per-shard loop: a pass every `interval`, the first one `interval` after start.
pub async fn run(context: Rc<ShardContext>) {
    let settings = context.settings.lifecycle;
    if settings.interval.is_zero() {
        return;
    }
    loop {
        let mut waited = Duration::ZERO;
        while waited < settings.interval {
            if context.shutting_down.get() {
                return;
            }
            let step = SLEEP_STEP.min(settings.interval.saturating_sub(waited));
            monoio::time::sleep(step).await;
            waited += step;
        }
        run_pass(&context).await;
    }
}

/// One pass over every partition of this shard.
pub async fn run_pass(context: &Rc<ShardContext>) {
    let buckets: Vec<BucketRecord> = context
        .bucket_list()
        .into_iter()
        .filter(|bucket| {
            bucket
                .lifecycle
                .as_ref()
                .is_some_and(|config| config.rules.iter().any(|rule| rule.enabled))
        })
        .collect();
    let mut partition_ids: Vec<u32> = context.partitions.keys().copied().collect();
    partition_ids.sort_unstable();
    for partition_id in partition_ids {
        let partition = Rc::clone(&context.partitions[&partition_id]);
        let started = Instant::now();
        let mut pass = Pass::new(context, &partition);
        let result = pass.run(&buckets).await;
        if result.is_ok() && !context.shutting_down.get() {
            pass.count(|counters| counters.passes += 1);
        }
        if let Err(error) = &result {
            tracing::warn!(partition = partition_id, %error, "lifecycle pass failed");
        }
        partition.count_task(TaskType::Lifecycle, started.elapsed(), result.is_ok());
        if context.shutting_down.get() {
            return;
        }
    }
}

/// One pass over one partition.
struct Pass<'a> {
    context: &'a Rc<ShardContext>,
    partition: &'a Rc<Partition>,
    now_ms: i64,
    day_ms: i64,
    examined: u64,
    /// Time spent reading and judging versions (not sleeping) since the pass started.
    busy: Duration,
    started: Instant,
    cursor_saved: Instant,
}

/// What the walk knows about the key it is in.
#[derive(Default)]
struct KeyState {
    key: Vec<u8>,
    /// Noncurrent versions of the key seen so far (newest first).
    noncurrent_seen: u32,
    /// The key's latest version is a delete marker that nothing older has followed yet.
    lone_marker: Option<VersionEntry>,
}

impl<'a> Pass<'a> {
    fn new(context: &'a Rc<ShardContext>, partition: &'a Rc<Partition>) -> Pass<'a> {
        Pass {
            context,
            partition,
            now_ms: crate::events::now_ms(),
            day_ms: i64::try_from(context.settings.lifecycle.day.as_millis())
                .unwrap_or(i64::MAX)
                .max(1),
            examined: 0,
            busy: Duration::ZERO,
            started: Instant::now(),
            cursor_saved: Instant::now(),
        }
    }

    /// Counts on the shard's lifecycle counters as it happens, so a scrape sees a long pass
    /// progress.
    fn count(&self, update: impl FnOnce(&mut LifecycleCounters)) {
        let mut counters = self.context.lifecycle_counters.get();
        update(&mut counters);
        self.context.lifecycle_counters.set(counters);
    }

    async fn run(&mut self, buckets: &[BucketRecord]) -> Result<(), ShardError> {
        let resume = self.partition.meta().lifecycle_cursor()?;
        for bucket in buckets {
            let start_key = match &resume {
                Some((name, _)) if *name > bucket.name => continue,
                Some((name, key)) if *name == bucket.name => Some(key.clone()),
                _ => None,
            };
            let Some(config) = &bucket.lifecycle else {
                continue;
            };
            self.walk_versions(bucket, config, start_key).await?;
            self.abort_uploads(bucket, config).await?;
            if self.context.shutting_down.get() {
                return Ok(());
            }
        }
        self.save_cursor(None).await
    }

    async fn save_cursor(&self, cursor: Option<(String, Vec<u8>)>) -> Result<(), ShardError> {
        self.partition
            .commit(MetaOp::SaveLifecycleCursor { cursor }, Vec::new())
            .await
            .map(|_| ())
    }

    async fn walk_versions(
        &mut self,
        bucket: &BucketRecord,
        config: &LifecycleConfiguration,
        start_key: Option<Vec<u8>>,
    ) -> Result<(), ShardError> {
        let mut start = match start_key {
            Some(key) => VersionStart::AfterKey(key),
            None => VersionStart::AtOrAfterKey(Vec::new()),
        };
        let mut state = KeyState::default();
        loop {
            if self.context.shutting_down.get() {
                return Ok(());
            }
            let page_started = Instant::now();
            let page = self
                .partition
                .list_versions(&bucket.name, &start, b"", PAGE_VERSIONS)?;
            let full = page.len() == PAGE_VERSIONS;
            for entry in &page {
                if entry.key != state.key {
                    self.finish_key(bucket, config, &mut state).await?;
                    state = KeyState {
                        key: entry.key.clone(),
                        ..KeyState::default()
                    };
                }
                self.examine(bucket, config, entry, &mut state).await?;
            }
            let Some(last) = page.last() else {
                break;
            };
            start = VersionStart::AfterVersion {
                key: last.key.clone(),
                seq: last.seq,
            };
            self.pace(page.len(), page_started.elapsed()).await;
            if self.cursor_saved.elapsed() >= CURSOR_SAVE_INTERVAL {
                // Keys before the one in progress are done.
                self.save_cursor(Some((bucket.name.clone(), previous_key(&last.key))))
                    .await?;
                self.cursor_saved = Instant::now();
            }
            if !full {
                break;
            }
        }
        self.finish_key(bucket, config, &mut state).await
    }

    /// Sleeps as long as needed to stay under the configured rate, and to keep the pass's
    /// share of the shard's time under `1 / BUSY_SHARE_DIVISOR` however costly the rules are
    /// to judge (a page's wall time includes its deletes' commits).
    async fn pace(&mut self, rows: usize, busy: Duration) {
        self.examined += rows as u64;
        self.busy += busy;
        self.count(|counters| counters.versions_examined += rows as u64);
        let rate = self.context.settings.lifecycle.rows_per_sec.max(1);
        let due =
            Duration::from_millis(self.examined * 1000 / rate).max(self.busy * BUSY_SHARE_DIVISOR);
        // In short steps: shutdown must not wait for a slow pace.
        while let Some(ahead) = due.checked_sub(self.started.elapsed()) {
            if ahead.is_zero() || self.context.shutting_down.get() {
                break;
            }
            monoio::time::sleep(ahead.min(SLEEP_STEP)).await;
        }
    }

    async fn examine(
        &mut self,
        bucket: &BucketRecord,
        config: &LifecycleConfiguration,
        entry: &VersionEntry,
        state: &mut KeyState,
    ) -> Result<(), ShardError> {
        let key = String::from_utf8_lossy(&entry.key).into_owned();
        if entry.is_latest {
            if entry.delete_marker {
                state.lone_marker = Some(entry.clone());
                return Ok(());
            }
            let tags = self.tags_if_needed(bucket, config, &key, entry)?;
            let expires = config
                .rules
                .iter()
                .filter(|rule| rule.enabled && rule.matches(&key, entry.size_bytes, &tags))
                .filter_map(|rule| rule.expiry_of_current(entry.last_modified_ms, self.day_ms))
                .min();
            if expires.is_some_and(|at| at <= self.now_ms) {
                let delete =
                    ObjectDelete::latest(&bucket.name, &key, bucket.versioning, self.now_ms);
                if self
                    .delete(bucket, &key, delete, "LifecycleExpiration")
                    .await?
                {
                    self.count(|counters| counters.expired_objects += 1);
                }
            }
            return Ok(());
        }
        state.lone_marker = None;
        let newer_noncurrent = state.noncurrent_seen;
        state.noncurrent_seen += 1;
        let since = entry.noncurrent_since_ms.unwrap_or(entry.last_modified_ms);
        let tags = self.tags_if_needed(bucket, config, &key, entry)?;
        let expires = config.rules.iter().any(|rule| {
            rule.enabled
                && rule.matches(&key, entry.size_bytes, &tags)
                && rule.noncurrent_version_expires(
                    since,
                    newer_noncurrent,
                    self.now_ms,
                    self.day_ms,
                )
        });
        if expires {
            let delete = ObjectDelete {
                version: Some(version_ref(entry)),
                ..ObjectDelete::latest(&bucket.name, &key, bucket.versioning, self.now_ms)
            };
            if self
                .delete(bucket, &key, delete, "LifecycleNoncurrentExpiration")
                .await?
            {
                self.count(|counters| counters.noncurrent_deleted += 1);
            }
        }
        Ok(())
    }

    /// The end of a key's versions: a delete marker that was its only version expires under
    /// `ExpiredObjectDeleteMarker`.
    async fn finish_key(
        &mut self,
        bucket: &BucketRecord,
        config: &LifecycleConfiguration,
        state: &mut KeyState,
    ) -> Result<(), ShardError> {
        let Some(marker) = state.lone_marker.take() else {
            return Ok(());
        };
        let key = String::from_utf8_lossy(&marker.key).into_owned();
        let removes = config.rules.iter().any(|rule| {
            rule.enabled && rule.removes_expired_delete_markers() && rule.matches(&key, 0, &[])
        });
        if removes {
            let delete = ObjectDelete {
                version: Some(version_ref(&marker)),
                ..ObjectDelete::latest(&bucket.name, &key, bucket.versioning, self.now_ms)
            };
            if self
                .delete(bucket, &key, delete, "LifecycleDeleteMarkerExpiration")
                .await?
            {
                self.count(|counters| counters.delete_markers_removed += 1);
            }
        }
        Ok(())
    }

    /// The version's tags when a rule filters on tags (a record read), else none.
    fn tags_if_needed(
        &self,
        bucket: &BucketRecord,
        config: &LifecycleConfiguration,
        key: &str,
        entry: &VersionEntry,
    ) -> Result<Vec<(String, String)>, ShardError> {
        let needed = config
            .rules
            .iter()
            .any(|rule| rule.enabled && !rule.filter.tags.is_empty());
        if !needed || entry.delete_marker {
            return Ok(Vec::new());
        }
        let found = self
            .partition
            .object_version(&bucket.name, key, &version_ref(entry))?;
        Ok(found.map(|(record, _)| record.tags).unwrap_or_default())
    }

    /// Commits one lifecycle delete with its event; `false` when object lock protects the
    /// version (counted, not an error).
    async fn delete(
        &mut self,
        bucket: &BucketRecord,
        key: &str,
        delete: ObjectDelete,
        operation: &str,
    ) -> Result<bool, ShardError> {
        let mut event = crate::events::record(
            EventKind::LifecycleExpired,
            operation,
            &bucket.name,
            Some(key),
            &lifecycle_actor(),
            204,
        );
        event.version_id = delete.version.as_ref().map(|v| v.as_str().to_owned());
        let _write = self.context.begin_write(&bucket.name)?;
        let op = logged(MetaOp::DeleteObject(delete), event);
        match self.partition.commit_and_release(op, Vec::new()).await {
            Ok(_) => Ok(true),
            Err(ShardError::ObjectLocked) => {
                self.count(|counters| counters.skipped_locked += 1);
                Ok(false)
            }
            Err(error) => Err(error),
        }
    }

    async fn abort_uploads(
        &mut self,
        bucket: &BucketRecord,
        config: &LifecycleConfiguration,
    ) -> Result<(), ShardError> {
        let rules: Vec<&Rule> = config
            .rules
            .iter()
            .filter(|rule| rule.enabled && rule.abort_incomplete_days.is_some())
            .collect();
        if rules.is_empty() {
            return Ok(());
        }
        let uploads = self.partition.uploads(
            &bucket.name,
            &UploadStart::AtOrAfterKey(Vec::new()),
            b"",
            UPLOADS_PER_PASS_MAX,
        )?;
        for upload in uploads {
            let key = String::from_utf8_lossy(&upload.key).into_owned();
            let due = rules.iter().any(|rule| {
                rule.matches(&key, 0, &[])
                    && rule
                        .abort_upload_at(upload.initiated_ms, self.day_ms)
                        .is_some_and(|at| at <= self.now_ms)
            });
            if !due {
                continue;
            }
            let event = crate::events::record(
                EventKind::LifecycleExpired,
                "LifecycleAbortIncompleteMultipartUpload",
                &bucket.name,
                Some(&key),
                &lifecycle_actor(),
                204,
            );
            let op = logged(
                MetaOp::AbortUpload {
                    bucket: bucket.name.clone(),
                    key,
                    upload_id: upload.upload_id,
                },
                event,
            );
            match self.partition.commit_and_release(op, Vec::new()).await {
                Ok(_) => self.count(|counters| counters.uploads_aborted += 1),
                // Completed or aborted by a client meanwhile.
                Err(ShardError::NoSuchUpload) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }
}

fn version_ref(entry: &VersionEntry) -> VersionRef {
    entry
        .version_id
        .clone()
        .map_or(VersionRef::Null, VersionRef::Id)
}

/// The key just before `key` in byte order is not needed exactly: the cursor resumes *after*
/// the key it names, so naming the key itself would skip its remaining versions. Naming a
/// key that sorts before it (its prefix without the last byte) re-examines a few keys at
/// worst, which is harmless: every action is idempotent.
fn previous_key(key: &[u8]) -> Vec<u8> {
    key[..key.len().saturating_sub(1)].to_vec()
}

/// Who lifecycle deletes are logged as.
fn lifecycle_actor() -> Actor {
    Actor {
        access_key_id: None,
        user_id: None,
        tenant_id: None,
        request_id: "lifecycle".to_owned(),
        source_ip: None,
    }
}
