//! The scrubber: a background task per shard that re-reads every object of the shard's
//! partitions through the same verified read path as a GET (`shard::ObjectReader`), so that
//! damage is found before a client asks for the bytes.
//!
//! A pass walks each partition in (bucket, key) order, a page of keys at a time, and reads
//! every version of each key whole (noncurrent versions hold stored bytes too). Reading is
//! paced to `bytes_per_sec` (one shard's share of disk bandwidth), and passes start
//! `interval` apart. A damaged block is logged, counted and recorded by the partition like
//! any other failed read; the pass reports what it found at its end
//! (log line `scrub pass complete` and the `maxiofs_scrub_*` counters). Each finished pass is
//! also a `scrub` background task of its partition, failed when something could not be read.
//!
//! The task stops at the next object once the shard is shutting down.

use std::rc::Rc;
use std::time::{Duration, Instant};

use shard::aligned::AlignedBuf;
use shard::{ObjectReader, Partition, ShardError, VersionRef, VersionStart};

use crate::context::ShardContext;

/// Keys fetched per metadata query; bounds the memory of a pass, not its length.
const SCRUB_PAGE_KEYS: usize = 64;
/// Longest single sleep, so that shutdown is noticed promptly.
const SLEEP_STEP: Duration = Duration::from_millis(200);

/// How the scrubber runs. `bytes_per_sec == 0` or a zero interval disables it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScrubSettings {
    /// Read rate of one shard's scrubber.
    pub bytes_per_sec: u64,
    /// Time from the end of one pass (or the start) to the beginning of the next.
    pub interval: Duration,
}

impl Default for ScrubSettings {
    fn default() -> Self {
        ScrubSettings {
            bytes_per_sec: 0,
            interval: Duration::ZERO,
        }
    }
}

impl ScrubSettings {
    pub fn enabled(&self) -> bool {
        self.bytes_per_sec > 0 && !self.interval.is_zero()
    }
}

/// What one pass over one partition found.
#[derive(Clone, Copy, Debug, Default)]
pub struct PassReport {
    pub objects: u64,
    pub bytes: u64,
    pub damaged_objects: u64,
    /// Objects that could not be read for another reason (IO error, corrupt record).
    pub failed_objects: u64,
    /// The pass stopped early because the partition's keys could not be listed.
    pub listing_failed: bool,
}

impl PassReport {
    /// Whether the pass read everything it should have. Damage found is a success of the
    /// scrubber (it is counted apart); objects it could not read, or keys it could not list,
    /// are not.
    pub fn completed(&self) -> bool {
        self.failed_objects == 0 && !self.listing_failed
    }
}

/// Runs passes until the shard shuts down.
pub async fn run(context: Rc<ShardContext>) {
    let settings = context.settings.scrub;
    if !settings.enabled() {
        return;
    }
    let mut partition_ids: Vec<u32> = context.partitions.keys().copied().collect();
    partition_ids.sort_unstable();
    loop {
        if !sleep_unless_stopping(&context, settings.interval).await {
            return;
        }
        for partition_id in &partition_ids {
            let partition = Rc::clone(&context.partitions[partition_id]);
            let started = Instant::now();
            let Some(report) = scrub_partition(&context, &partition, settings).await else {
                return;
            };
            partition.count_scrub(0, 0, 0, true);
            let elapsed = started.elapsed();
            partition.count_task(shard::TaskType::Scrub, elapsed, report.completed());
            let elapsed_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
            if report.damaged_objects > 0 || !report.completed() {
                tracing::error!(
                    partition = partition_id,
                    objects = report.objects,
                    bytes = report.bytes,
                    damaged_objects = report.damaged_objects,
                    failed_objects = report.failed_objects,
                    listing_failed = report.listing_failed,
                    elapsed_ms,
                    "scrub pass complete: damage found"
                );
            } else {
                tracing::info!(
                    partition = partition_id,
                    objects = report.objects,
                    bytes = report.bytes,
                    elapsed_ms,
                    "scrub pass complete"
                );
            }
        }
    }
}

/// Sleeps `duration` in short steps; false when the shard started shutting down.
async fn sleep_unless_stopping(context: &ShardContext, duration: Duration) -> bool {
    let deadline = Instant::now() + duration;
    loop {
        if context.shutting_down.get() {
            return false;
        }
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            return true;
        };
        if left.is_zero() {
            return true;
        }
        monoio::time::sleep(left.min(SLEEP_STEP)).await;
    }
}

/// One pass over a partition; `None` when the shard is shutting down.
pub async fn scrub_partition(
    context: &ShardContext,
    partition: &Rc<Partition>,
    settings: ScrubSettings,
) -> Option<PassReport> {
    let mut report = PassReport::default();
    let mut cursor: Option<(String, Vec<u8>)> = None;
    let started = Instant::now();
    loop {
        let page = match partition.object_keys_after(cursor.as_ref(), SCRUB_PAGE_KEYS) {
            Ok(page) => page,
            Err(error) => {
                tracing::error!(partition = partition.id(), %error, "scrub cannot list objects");
                report.listing_failed = true;
                return Some(report);
            }
        };
        let Some(last) = page.last().cloned() else {
            return Some(report);
        };
        for (bucket, key) in page {
            if context.shutting_down.get() {
                return None;
            }
            // Keys are stored from `&str`, so they are UTF-8; anything else is not an object
            // this server wrote and is skipped.
            let Ok(key) = String::from_utf8(key) else {
                continue;
            };
            let versions = match versions_of(partition, &bucket, &key) {
                Ok(versions) => versions,
                Err(error) => {
                    report.failed_objects += 1;
                    tracing::error!(partition = partition.id(), bucket, key, %error,
                        "scrub: cannot list the key's versions");
                    continue;
                }
            };
            for version in versions {
                let outcome = scrub_object(
                    context,
                    partition,
                    (&bucket, &key, &version),
                    settings,
                    started,
                    &mut report,
                );
                let outcome = outcome.await;
                count_outcome(partition, (&bucket, &key, &version), outcome, &mut report);
            }
        }
        cursor = Some(last);
    }
}

/// Every version of a key that holds bytes (delete markers hold none), newest first.
fn versions_of(
    partition: &Partition,
    bucket: &str,
    key: &str,
) -> Result<Vec<VersionRef>, ShardError> {
    let mut versions = Vec::new();
    let mut start = VersionStart::AtOrAfterKey(key.as_bytes().to_vec());
    loop {
        let page = partition.list_versions(bucket, &start, key.as_bytes(), SCRUB_PAGE_KEYS)?;
        let full = page.len() == SCRUB_PAGE_KEYS;
        let mine: Vec<_> = page
            .into_iter()
            .take_while(|entry| entry.key == key.as_bytes())
            .collect();
        let Some(last) = mine.last() else {
            return Ok(versions);
        };
        start = VersionStart::AfterVersion {
            key: key.as_bytes().to_vec(),
            seq: last.seq,
        };
        let whole_page = mine.len() == SCRUB_PAGE_KEYS;
        versions.extend(
            mine.into_iter()
                .filter(|entry| !entry.delete_marker)
                .map(|entry| entry.version_id.map_or(VersionRef::Null, VersionRef::Id)),
        );
        if !(full && whole_page) {
            return Ok(versions);
        }
    }
}

/// Counts and logs what scrubbing one version found.
fn count_outcome(
    partition: &Partition,
    (bucket, key, version): (&str, &str, &VersionRef),
    outcome: Result<(), ShardError>,
    report: &mut PassReport,
) {
    let version = version.as_str();
    match outcome {
        Ok(()) => {}
        Err(ShardError::DataCorrupt { .. }) => {
            report.damaged_objects += 1;
            partition.count_scrub(0, 0, 1, false);
            tracing::error!(
                partition = partition.id(),
                bucket,
                key,
                version,
                "scrub: object has a damaged block"
            );
        }
        Err(error) => {
            report.failed_objects += 1;
            let partition_id = partition.id();
            tracing::error!(partition = partition_id, bucket, key, version, %error,
                "scrub: read failed");
        }
    }
}

/// Reads one version whole, verifying every block, paced to the configured rate.
async fn scrub_object(
    context: &ShardContext,
    partition: &Rc<Partition>,
    (bucket, key, version): (&str, &str, &VersionRef),
    settings: ScrubSettings,
    pass_started: Instant,
    report: &mut PassReport,
) -> Result<(), ShardError> {
    // Deleted since the page was read: nothing to verify.
    let Some((record, _, pin)) = partition.lookup_version_pinned(bucket, key, Some(version))?
    else {
        return Ok(());
    };
    let mut reader =
        ObjectReader::new(partition, &record, pin, 0..record.size_bytes).bypass_cache();
    let mut buf = AlignedBuf::new(reader.buffer_size_bytes());
    report.objects += 1;
    partition.count_scrub(1, 0, 0, false);
    loop {
        let (result, returned) = reader.next(buf).await;
        buf = returned;
        let Some(valid) = result? else {
            return Ok(());
        };
        let bytes = valid.len() as u64;
        report.bytes += bytes;
        partition.count_scrub(0, bytes, 0, false);
        // Pace: the pass may not run ahead of `bytes_per_sec` since it started.
        let due_ms = u128::from(report.bytes) * 1000 / u128::from(settings.bytes_per_sec);
        let due = Duration::from_millis(u64::try_from(due_ms).unwrap_or(u64::MAX));
        if let Some(ahead) = due.checked_sub(pass_started.elapsed()) {
            // In short steps: a slow rate must not hold up shutdown. The caller notices
            // shutdown at the next object.
            if !sleep_unless_stopping(context, ahead).await {
                return Ok(());
            }
        }
    }
}
