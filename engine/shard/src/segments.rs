//! Segment files: where object bytes live.
//!
//! Each partition appends object data to large preallocated segment files with O_DIRECT through
//! io_uring. A PUT reserves an extent at the segment's tail, writes its bytes there in
//! block-aligned transfers, and becomes visible only when the metadata commit that references
//! the extent is durable. Space of deleted and overwritten objects goes back to the file system
//! by punching holes; extents that no committed record references after a crash are punched at
//! the next start (`SegmentStore::reclaim_unreferenced`).
//!
//! Architecture invariant: every extent starts on a block boundary and no two live extents
//! overlap; a new process never appends to a segment written by an earlier process (it opens a
//! fresh one), so recovery can treat every unreferenced byte of old segments as garbage.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::aligned::{AlignedBuf, BLOCK_SIZE_BYTES, round_up_to_block};
use crate::error::ShardError;
use crate::record::Extent;
use crate::storage::{SegmentIo, SegmentMaintenance};

/// A segment is rolled over when it reaches this size; bounds the cost of recovery scans and
/// lets fully freed segments be deleted whole.
pub const SEGMENT_SIZE_BYTES_MAX: u64 = 1 << 30;
/// Reads of at most this many bytes are kept in the read cache: a small GET read from the disk
/// costs a virtio kick and an interrupt (about 10 % of a 4 KiB GET's CPU here, perf), which the
/// O_DIRECT design otherwise pays on every read of a hot small object.
pub const READ_CACHE_ENTRY_BYTES_MAX: usize = 64 * 1024;
/// Bytes the read cache of one partition may hold (partitions per shard: about one).
pub const READ_CACHE_BYTES_MAX: usize = 16 << 20;
/// Segments grow by preallocating this much at a time (fallocate), so that O_DIRECT writes land
/// in allocated extents instead of extending the file under the inode lock.
const PREALLOCATION_STEP_BYTES: u64 = 64 << 20;
/// Below this much free space, a segment grows by exactly what each reservation needs: a step
/// allocated but not yet written is space that SQLite (and the other partitions) cannot use,
/// and on a nearly full file system it made a small write fail after deletes had freed room.
const PREALLOCATION_FREE_BYTES_MIN: u64 = 4 * PREALLOCATION_STEP_BYTES;

pub fn segment_path(dir: &Path, segment_id: u32) -> PathBuf {
    dir.join(format!("{segment_id:08}.seg"))
}

pub fn parse_segment_id(file_name: &str) -> Option<u32> {
    file_name.strip_suffix(".seg")?.parse().ok()
}

/// Lists the ids of the segment files in `dir`, sorted.
pub fn list_segment_ids(dir: &Path) -> std::io::Result<Vec<u32>> {
    let mut ids = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if let Some(id) = entry.file_name().to_str().and_then(parse_segment_id) {
            ids.push(id);
        }
    }
    ids.sort_unstable();
    Ok(ids)
}

struct ActiveSegment {
    segment_id: u32,
    /// Next free offset: everything below is reserved by some writer.
    tail_bytes: u64,
    /// How far the file has been preallocated.
    allocated_bytes: u64,
}

pub struct SegmentStore {
    io: Box<dyn SegmentIo>,
    /// Where a segment ends: `SEGMENT_SIZE_BYTES_MAX`, smaller in tests that cross segment ends.
    segment_size_bytes: u64,
    active: RefCell<ActiveSegment>,
    /// Set when preallocation or a commit hit ENOSPC, cleared when a later preallocation
    /// succeeds: a write was refused for lack of space and none has found room since.
    full: Cell<bool>,
    cache: RefCell<ReadCache>,
}

/// Recently read small ranges by (segment, offset). Safe without write invalidation because
/// segments are append-only within a process (space is never reused, segment ids only grow):
/// the bytes at a committed extent never change while any record references them. Entries
/// are dropped when their extent is freed ([`SegmentStore::forget`]) and first-in first-out
/// beyond [`READ_CACHE_BYTES_MAX`].
/// (segment id, offset) of a cached read.
type CacheKey = (u32, u64);

#[derive(Default)]
struct ReadCache {
    /// Key -> (insertion number, bytes).
    entries: BTreeMap<CacheKey, (u64, Rc<[u8]>)>,
    /// Insertion order; a slot whose number no longer matches its entry is stale.
    order: VecDeque<(CacheKey, u64)>,
    bytes: usize,
    inserted: u64,
    /// Since start: reads served from the cache, cacheable reads that went to the disk, and
    /// entries dropped to make room (not those dropped because their extent was freed).
    hits: u64,
    misses: u64,
    evictions: u64,
}

/// A copy of one partition's read-cache counters, for a scrape.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
    pub size_bytes: u64,
    pub capacity_bytes: u64,
}

impl CacheStats {
    pub fn add(&mut self, other: &CacheStats) {
        self.hits += other.hits;
        self.misses += other.misses;
        self.evictions += other.evictions;
        self.size_bytes += other.size_bytes;
        self.capacity_bytes += other.capacity_bytes;
    }
}

impl ReadCache {
    fn insert(&mut self, key: (u32, u64), data: &[u8]) {
        if self.entries.contains_key(&key) {
            return;
        }
        // Bounded: each step removes one order slot.
        while self.bytes + data.len() > READ_CACHE_BYTES_MAX {
            let Some((oldest, number)) = self.order.pop_front() else {
                break;
            };
            if self.entries.get(&oldest).is_some_and(|(n, _)| *n == number)
                && let Some((_, evicted)) = self.entries.remove(&oldest)
            {
                self.bytes -= evicted.len();
                self.evictions += 1;
            }
        }
        self.inserted += 1;
        self.bytes += data.len();
        self.entries.insert(key, (self.inserted, Rc::from(data)));
        self.order.push_back((key, self.inserted));
        // Slots of forgotten entries are left behind; compact when they dominate.
        if self.order.len() > 2 * self.entries.len() + 64 {
            let entries = &self.entries;
            self.order
                .retain(|(key, number)| entries.get(key).is_some_and(|(n, _)| n == number));
        }
    }

    fn get(&self, key: (u32, u64)) -> Option<Rc<[u8]>> {
        self.entries.get(&key).map(|(_, data)| Rc::clone(data))
    }

    fn forget(&mut self, extent: &Extent) {
        let range = (extent.segment_id, extent.offset_bytes)
            ..(extent.segment_id, extent.offset_bytes + extent.length_bytes);
        let keys: Vec<(u32, u64)> = self.entries.range(range).map(|(key, _)| *key).collect();
        for key in keys {
            if let Some((_, removed)) = self.entries.remove(&key) {
                self.bytes -= removed.len();
            }
        }
    }
}

/// Size and space available (`f_bavail`: what an unprivileged writer may still allocate) of
/// the file system holding a directory.
#[derive(Clone, Copy, Debug)]
pub struct FsSpace {
    pub total_bytes: u64,
    pub available_bytes: u64,
}

/// statvfs of `dir`; `None` when it fails.
pub fn fs_space(dir: &Path) -> Option<FsSpace> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: `path` is a valid NUL-terminated string and `stat` a plain struct that statvfs
    // fills in; nothing is retained after the call.
    #[allow(unsafe_code)]
    let stat = unsafe {
        let mut stat: libc::statvfs = std::mem::zeroed();
        if libc::statvfs(path.as_ptr(), &raw mut stat) != 0 {
            return None;
        }
        stat
    };
    Some(FsSpace {
        total_bytes: stat.f_blocks.saturating_mul(stat.f_frsize),
        available_bytes: stat.f_bavail.saturating_mul(stat.f_frsize),
    })
}

fn fallocate(file: &std::fs::File, mode: i32, offset: u64, length: u64) -> std::io::Result<()> {
    let offset = libc::off_t::try_from(offset).map_err(std::io::Error::other)?;
    let length = libc::off_t::try_from(length).map_err(std::io::Error::other)?;
    loop {
        // SAFETY: plain syscall on a valid open descriptor; no memory is passed.
        #[allow(unsafe_code)]
        let result = unsafe { libc::fallocate(file.as_raw_fd(), mode, offset, length) };
        if result == 0 {
            return Ok(());
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// Allocates `[offset, offset + length)` of a file (plain fallocate, mode 0).
pub fn fallocate_file(file: &std::fs::File, offset: u64, length: u64) -> std::io::Result<()> {
    fallocate(file, 0, offset, length)
}

/// Returns the range to the file system; reads of it return zeros. Used for freed extents.
pub fn punch_hole(file: &std::fs::File, offset: u64, length: u64) -> std::io::Result<()> {
    fallocate(
        file,
        libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
        offset,
        length,
    )
}

impl SegmentStore {
    /// Starts a fresh active segment after `max(existing)` through `io`.
    pub fn open(
        io: Box<dyn SegmentIo>,
        existing_ids: &[u32],
        segment_size_bytes: u64,
    ) -> Result<SegmentStore, ShardError> {
        let next_id = existing_ids.iter().max().map_or(1, |id| id + 1);
        let store = SegmentStore {
            io,
            segment_size_bytes,
            active: RefCell::new(ActiveSegment {
                segment_id: next_id,
                tail_bytes: 0,
                allocated_bytes: 0,
            }),
            full: Cell::new(false),
            cache: RefCell::new(ReadCache::default()),
        };
        store
            .io
            .create(next_id)
            .map_err(|e| ShardError::io("create segment", &e))?;
        Ok(store)
    }

    /// Reserves up to `wanted_bytes` (rounded up to blocks) at the tail of the active segment.
    /// May return less when the segment is nearly full; the caller asks again for the rest.
    pub fn allocate(&self, wanted_bytes: u64) -> Result<Extent, ShardError> {
        let wanted_bytes = round_up_to_block(wanted_bytes.max(1));
        let (segment_id, offset_bytes, length_bytes, needs_allocation_to) = {
            let mut active = self.active.borrow_mut();
            let segment_end = self.segment_size_bytes;
            if active.tail_bytes >= segment_end {
                drop(active);
                self.roll_segment()?;
                active = self.active.borrow_mut();
            }
            let length_bytes = wanted_bytes.min(segment_end - active.tail_bytes);
            let offset_bytes = active.tail_bytes;
            let end = offset_bytes + length_bytes;
            let needs = (end > active.allocated_bytes)
                .then(|| round_up_to(end, PREALLOCATION_STEP_BYTES).min(segment_end));
            (active.segment_id, offset_bytes, length_bytes, needs)
        };
        if let Some(step_end) = needs_allocation_to {
            let end = offset_bytes + length_bytes;
            let nearly_full = self
                .io
                .available_bytes()
                .is_some_and(|available| available < PREALLOCATION_FREE_BYTES_MIN);
            let target = if nearly_full { end } else { step_end };
            match self.preallocate(segment_id, target) {
                // Someone else took the space between statvfs and fallocate: the whole step
                // does not fit, but this reservation may.
                Err(ShardError::StorageFull) if end < target => {
                    self.preallocate(segment_id, end)?;
                }
                result => result?,
            }
        }
        self.active.borrow_mut().tail_bytes = offset_bytes + length_bytes;
        Ok(Extent {
            segment_id,
            offset_bytes,
            length_bytes,
        })
    }

    fn preallocate(&self, segment_id: u32, allocate_to: u64) -> Result<(), ShardError> {
        let allocated = self.active.borrow().allocated_bytes;
        match self
            .io
            .allocate(segment_id, allocated, allocate_to - allocated)
        {
            Ok(()) => {
                self.full.set(false);
                self.active.borrow_mut().allocated_bytes = allocate_to;
                Ok(())
            }
            Err(error) => {
                let error = ShardError::io("preallocate segment", &error);
                if error == ShardError::StorageFull {
                    self.full.set(true);
                }
                Err(error)
            }
        }
    }

    fn roll_segment(&self) -> Result<(), ShardError> {
        let next_id = self.active.borrow().segment_id + 1;
        self.io
            .create(next_id)
            .map_err(|e| ShardError::io("create segment", &e))?;
        *self.active.borrow_mut() = ActiveSegment {
            segment_id: next_id,
            tail_bytes: 0,
            allocated_bytes: 0,
        };
        Ok(())
    }

    /// Gives back the unused tail of a reservation if it is still the tail of the segment, so
    /// that a short object does not leave a gap; otherwise the caller frees it like garbage.
    pub fn try_shrink_tail(&self, extent: &Extent) -> bool {
        let mut active = self.active.borrow_mut();
        let end = extent.offset_bytes + extent.length_bytes;
        if active.segment_id == extent.segment_id && active.tail_bytes == end {
            active.tail_bytes = extent.offset_bytes;
            true
        } else {
            false
        }
    }

    pub fn active_segment_id(&self) -> u32 {
        self.active.borrow().segment_id
    }

    pub fn is_full(&self) -> bool {
        self.full.get()
    }

    /// A write's commit failed for lack of space (see `full`).
    pub fn mark_full(&self) {
        self.full.set(true);
    }

    /// Writes `buf[start..end]` at `offset_bytes`; offsets and lengths are block-aligned.
    pub async fn write(
        &self,
        segment_id: u32,
        offset_bytes: u64,
        buf: AlignedBuf,
        start: usize,
        end: usize,
    ) -> (Result<(), ShardError>, AlignedBuf) {
        debug_assert!(offset_bytes.is_multiple_of(BLOCK_SIZE_BYTES as u64));
        debug_assert!(start.is_multiple_of(BLOCK_SIZE_BYTES));
        debug_assert!((end - start).is_multiple_of(BLOCK_SIZE_BYTES));
        let (result, buf) = self
            .io
            .write_at(segment_id, offset_bytes, buf, start, end)
            .await;
        (result.map_err(|e| ShardError::io("write segment", &e)), buf)
    }

    /// Fills `buf` with `length` bytes from `offset_bytes`.
    pub async fn read(
        &self,
        segment_id: u32,
        offset_bytes: u64,
        mut buf: AlignedBuf,
        length: usize,
    ) -> (Result<(), ShardError>, AlignedBuf) {
        debug_assert!(offset_bytes.is_multiple_of(BLOCK_SIZE_BYTES as u64));
        debug_assert!(length.is_multiple_of(BLOCK_SIZE_BYTES));
        let cacheable = length <= READ_CACHE_ENTRY_BYTES_MAX;
        if cacheable {
            let cached = self.cache.borrow().get((segment_id, offset_bytes));
            if let Some(cached) = cached.filter(|cached| cached.len() >= length) {
                buf.clear();
                if buf.extend_from_slice(&cached[..length]) == length {
                    self.cache.borrow_mut().hits += 1;
                    return (Ok(()), buf);
                }
            }
            self.cache.borrow_mut().misses += 1;
        }
        let (result, buf) = self
            .read_uncached(segment_id, offset_bytes, buf, length)
            .await;
        if result.is_ok() && cacheable {
            self.cache
                .borrow_mut()
                .insert((segment_id, offset_bytes), &buf.as_slice()[..length]);
        }
        (result, buf)
    }

    /// Fills `buf` from the disk, past the read cache: what the scrubber needs, since it must
    /// see the bytes on the disk, not a copy read before they rotted.
    pub async fn read_uncached(
        &self,
        segment_id: u32,
        offset_bytes: u64,
        buf: AlignedBuf,
        length: usize,
    ) -> (Result<(), ShardError>, AlignedBuf) {
        let (result, buf) = self.io.read_at(segment_id, offset_bytes, buf, length).await;
        (result.map_err(|e| ShardError::io("read segment", &e)), buf)
    }

    pub fn cache_stats(&self) -> CacheStats {
        let cache = self.cache.borrow();
        CacheStats {
            hits: cache.hits,
            misses: cache.misses,
            evictions: cache.evictions,
            size_bytes: u64::try_from(cache.bytes).unwrap_or(u64::MAX),
            capacity_bytes: u64::try_from(READ_CACHE_BYTES_MAX).unwrap_or(u64::MAX),
        }
    }

    /// Drops cached reads of freed extents (their memory; their bytes could not go stale).
    pub fn forget(&self, extents: &[Extent]) {
        let mut cache = self.cache.borrow_mut();
        for extent in extents {
            cache.forget(extent);
        }
    }
}

fn round_up_to(value: u64, step: u64) -> u64 {
    value.div_ceil(step) * step
}

pub fn sync_directory(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Punches every byte range of the segments that no extent in `live` covers, and deletes
/// segments that hold no live extent at all. Run at start, before any new write.
/// Returns the number of bytes given back.
pub fn reclaim_unreferenced(
    storage: &mut dyn SegmentMaintenance,
    live: &mut [Extent],
) -> std::io::Result<u64> {
    live.sort_unstable_by_key(|extent| (extent.segment_id, extent.offset_bytes));
    let mut reclaimed = 0u64;
    for segment_id in storage.list()? {
        let start = live.partition_point(|extent| extent.segment_id < segment_id);
        let end = live.partition_point(|extent| extent.segment_id <= segment_id);
        let extents = &live[start..end];
        let file_size = storage.size(segment_id)?;
        if extents.is_empty() {
            reclaimed += file_size;
            storage.remove(segment_id)?;
            continue;
        }
        let mut cursor = 0u64;
        for extent in extents {
            if extent.offset_bytes > cursor {
                storage.punch_hole(segment_id, cursor, extent.offset_bytes - cursor)?;
                reclaimed += extent.offset_bytes - cursor;
            }
            cursor = cursor.max(extent.offset_bytes + extent.disk_length_bytes());
        }
        if file_size > cursor {
            storage.punch_hole(segment_id, cursor, file_size - cursor)?;
            reclaimed += file_size - cursor;
        }
    }
    storage.sync_directory()?;
    Ok(reclaimed)
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::rc::Rc;

    use super::{
        PREALLOCATION_FREE_BYTES_MIN, PREALLOCATION_STEP_BYTES, READ_CACHE_BYTES_MAX, ReadCache,
        SegmentStore,
    };
    use crate::aligned::AlignedBuf;
    use crate::error::ShardError;
    use crate::record::Extent;
    use crate::storage::{IoFuture, SegmentIo};

    /// A file system of `capacity_bytes`: allocation past it fails with ENOSPC, like
    /// fallocate. Only allocation is modelled; the store under test never writes here.
    struct SmallDisk {
        capacity_bytes: u64,
        /// Allocated bytes per segment, shared with the test that inspects them.
        allocated: Rc<RefCell<HashMap<u32, u64>>>,
        /// Whether statvfs answers (false: the store learns of a full disk only by ENOSPC).
        reports_space: bool,
    }

    /// A store on a `SmallDisk`, and a way to read how much of the disk is allocated.
    fn store_on_small_disk(
        capacity_bytes: u64,
        reports_space: bool,
    ) -> (SegmentStore, impl Fn() -> u64) {
        let allocated = Rc::new(RefCell::new(HashMap::new()));
        let disk = SmallDisk {
            capacity_bytes,
            allocated: Rc::clone(&allocated),
            reports_space,
        };
        let store = SegmentStore::open(Box::new(disk), &[], 1 << 30).expect("open");
        (store, move || allocated.borrow().values().sum())
    }

    impl SegmentIo for SmallDisk {
        fn available_bytes(&self) -> Option<u64> {
            let used: u64 = self.allocated.borrow().values().sum();
            self.reports_space.then(|| self.capacity_bytes - used)
        }

        fn create(&self, segment_id: u32) -> std::io::Result<()> {
            self.allocated.borrow_mut().insert(segment_id, 0);
            Ok(())
        }

        fn allocate(&self, segment_id: u32, offset: u64, length: u64) -> std::io::Result<()> {
            let mut allocated = self.allocated.borrow_mut();
            let used: u64 = allocated.values().sum();
            let file = allocated.get_mut(&segment_id).expect("segment created");
            let grows_by = (offset + length).saturating_sub(*file);
            if used + grows_by > self.capacity_bytes {
                return Err(std::io::Error::from_raw_os_error(libc::ENOSPC));
            }
            *file += grows_by;
            Ok(())
        }

        fn write_at(&self, _: u32, _: u64, buf: AlignedBuf, _: usize, _: usize) -> IoFuture<'_> {
            Box::pin(async move { (Err(std::io::Error::other("not modelled")), buf) })
        }

        fn read_at(&self, _: u32, _: u64, buf: AlignedBuf, _: usize) -> IoFuture<'_> {
            Box::pin(async move { (Err(std::io::Error::other("not modelled")), buf) })
        }
    }

    #[test]
    fn a_write_that_fits_is_not_refused_for_the_speculative_preallocation_step() {
        // statvfs unavailable: the step is tried, and ENOSPC makes the store fall back.
        let (store, _) = store_on_small_disk(PREALLOCATION_STEP_BYTES + (3 << 20), false);
        // The first step fits whole.
        let first = store
            .allocate(PREALLOCATION_STEP_BYTES)
            .expect("first step");
        assert_eq!(first.length_bytes, PREALLOCATION_STEP_BYTES);
        // The next 64 MiB step does not, but 1 MiB and then 2 MiB do: allocated exactly.
        let small = store.allocate(1 << 20).expect("1 MiB fits");
        assert_eq!(small.offset_bytes, PREALLOCATION_STEP_BYTES);
        assert!(!store.is_full());
        store.allocate(2 << 20).expect("2 MiB fits");
        // Now the disk really is full: the write is refused and the store says so.
        assert_eq!(store.allocate(4096), Err(ShardError::StorageFull));
        assert!(store.is_full());
    }

    #[test]
    fn a_nearly_full_file_system_gets_no_speculative_preallocation() {
        let capacity_bytes = PREALLOCATION_FREE_BYTES_MIN + PREALLOCATION_STEP_BYTES - (1 << 20);
        let (store, used_bytes) = store_on_small_disk(capacity_bytes, true);
        // Plenty of room: a 4 KiB write preallocates a whole step.
        store.allocate(4096).unwrap();
        assert_eq!(used_bytes(), PREALLOCATION_STEP_BYTES);
        // Fill the step; with less than PREALLOCATION_FREE_BYTES_MIN left, the segment grows by
        // exactly each reservation and the rest stays free for SQLite and other partitions.
        store.allocate(PREALLOCATION_STEP_BYTES - 4096).unwrap();
        assert_eq!(used_bytes(), PREALLOCATION_STEP_BYTES);
        store.allocate(1 << 20).unwrap();
        assert_eq!(used_bytes(), PREALLOCATION_STEP_BYTES + (1 << 20));
    }

    #[test]
    fn read_cache_is_bounded_and_forgets_freed_extents() {
        let mut cache = ReadCache::default();
        let block = vec![7_u8; 64 * 1024];
        let count = READ_CACHE_BYTES_MAX / block.len() + 10;
        for index in 0..count as u64 {
            cache.insert((1, index * 65_536), &block);
        }
        assert!(cache.bytes <= READ_CACHE_BYTES_MAX);
        assert_eq!(cache.bytes, cache.entries.len() * block.len());
        // The oldest went first.
        assert!(!cache.entries.contains_key(&(1, 0)));
        assert_eq!(cache.evictions, count as u64 - cache.entries.len() as u64);
        let last = (count as u64 - 1) * 65_536;
        assert!(cache.entries.contains_key(&(1, last)));
        // Freeing an extent drops every cached read that starts inside it, and nothing else.
        cache.forget(&Extent {
            segment_id: 1,
            offset_bytes: last - 65_536,
            length_bytes: 65_536,
        });
        assert!(!cache.entries.contains_key(&(1, last - 65_536)));
        assert!(cache.entries.contains_key(&(1, last)));
        assert_eq!(cache.bytes, cache.entries.len() * block.len());
        // Re-inserting after forgetting keeps the order list bounded.
        for _ in 0..1000 {
            cache.forget(&Extent {
                segment_id: 2,
                offset_bytes: 0,
                length_bytes: 4096,
            });
            cache.insert((2, 0), &block[..4096]);
        }
        assert!(cache.order.len() <= 2 * cache.entries.len() + 64);
        // Forgetting a freed extent is not an eviction.
        assert_eq!(
            cache.evictions,
            count as u64 - (READ_CACHE_BYTES_MAX / block.len()) as u64
        );
    }
}
