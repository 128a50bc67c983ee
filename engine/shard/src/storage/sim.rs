//! `SimDisk`: an in-memory segment store with seeded fault injection and crash simulation, in
//! the manner of SQLite's crash VFS (`test6.c`) and TigerBeetle's storage simulator.
//!
//! Every segment has a durable image and a list of writes not yet synced. Reads see both (as a
//! page cache would). `sync` makes the pending writes durable; `crash` drops them, except that
//! the last one may be torn (a sector-aligned prefix of it persists). Faults are drawn from one
//! seeded RNG in call order, so a single-threaded run is reproducible from its seed:
//! failed writes, failed fdatasyncs (the pending writes are then lost or kept at random),
//! failed reads, corrupted reads (one bit flipped in the returned bytes) and ENOSPC on
//! allocation.

// The simulated disk is shared by the shard-side and worker-side halves of the storage
// interface, as a real disk is shared through the kernel; the lock is never contended in the
// single-threaded simulation, and this type never runs in a server.
#![allow(clippy::disallowed_types)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{IoFuture, SegmentIo, SegmentMaintenance, Storage};
use crate::aligned::AlignedBuf;

/// Torn writes persist a prefix of this granularity (a disk sector).
const SECTOR_BYTES: usize = 512;

/// Probability of each fault per call (0 disables it).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Faults {
    pub write_error: f64,
    pub sync_error: f64,
    pub read_error: f64,
    pub corrupt_read: f64,
    pub no_space: f64,
    /// At a crash, the probability that the last pending write of a segment is torn.
    pub torn_write: f64,
}

/// How many faults of each kind were injected (for the test's report).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultCounts {
    pub write_errors: u64,
    pub sync_errors: u64,
    pub read_errors: u64,
    pub corrupt_reads: u64,
    pub no_space: u64,
    pub torn_writes: u64,
    pub crashes: u64,
}

#[derive(Default)]
struct Segment {
    durable: Vec<u8>,
    /// Unsynced writes in issue order: (offset, bytes).
    pending: Vec<(usize, Vec<u8>)>,
}

impl Segment {
    fn apply(image: &mut Vec<u8>, offset: usize, bytes: &[u8]) {
        let end = offset + bytes.len();
        if image.len() < end {
            // A zeroed allocation and a copy, not `resize`: the simulation runs in unoptimised
            // test builds, where a byte-by-byte fill dominates.
            image.extend_from_slice(&vec![0u8; end - image.len()]);
        }
        image[offset..end].copy_from_slice(bytes);
    }

    fn size(&self) -> usize {
        let pending_end = self.pending.iter().map(|(o, b)| o + b.len()).max();
        self.durable.len().max(pending_end.unwrap_or(0))
    }
}

struct State {
    segments: BTreeMap<u32, Segment>,
    rng: StdRng,
    faults: Faults,
    counts: FaultCounts,
    /// Set by `crash` until `restart`: the process is gone, every call fails.
    down: bool,
}

impl State {
    fn check_up(&self) -> std::io::Result<()> {
        if self.down { Err(eio()) } else { Ok(()) }
    }

    fn roll(&mut self, probability: f64) -> bool {
        probability > 0.0 && self.rng.random::<f64>() < probability
    }
}

/// A simulated disk; clones share it. One per partition.
#[derive(Clone)]
pub struct SimDisk {
    state: Arc<Mutex<State>>,
}

fn eio() -> std::io::Error {
    std::io::Error::from_raw_os_error(libc::EIO)
}

impl SimDisk {
    pub fn new(seed: u64, faults: Faults) -> SimDisk {
        SimDisk {
            state: Arc::new(Mutex::new(State {
                segments: BTreeMap::new(),
                rng: StdRng::seed_from_u64(seed),
                faults,
                counts: FaultCounts::default(),
                down: false,
            })),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock is a failed test already; keep reporting from it.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A `Storage` backed by this disk.
    pub fn storage(&self) -> Storage {
        Storage {
            io: Box::new(self.clone()),
            maintenance: Box::new(self.clone()),
        }
    }

    pub fn set_faults(&self, faults: Faults) {
        self.state().faults = faults;
    }

    pub fn fault_counts(&self) -> FaultCounts {
        self.state().counts
    }

    /// Power loss: unsynced writes vanish, except possibly a torn prefix of the last one.
    /// Every later call fails until `restart` (the crashed process may still run destructors).
    pub fn crash(&self) {
        let mut state = self.state();
        state.counts.crashes += 1;
        state.down = true;
        let torn_probability = state.faults.torn_write;
        let ids: Vec<u32> = state.segments.keys().copied().collect();
        for id in ids {
            let tear = state.roll(torn_probability);
            let pending_last = state
                .segments
                .get_mut(&id)
                .and_then(|segment| std::mem::take(&mut segment.pending).pop());
            if let Some((offset, bytes)) = pending_last.filter(|_| tear) {
                let sectors = bytes.len().div_ceil(SECTOR_BYTES);
                let kept = state.rng.random_range(0..=sectors) * SECTOR_BYTES;
                let kept = kept.min(bytes.len());
                state.counts.torn_writes += 1;
                if let Some(segment) = state.segments.get_mut(&id) {
                    Segment::apply(&mut segment.durable, offset, &bytes[..kept]);
                }
            }
        }
    }

    /// The disk is usable again (a new process opens it).
    pub fn restart(&self) {
        self.state().down = false;
    }

    /// 4 KiB blocks of the durable images that hold any non-zero byte: what space reclamation
    /// must bring down to the live data (holes read as zeros).
    pub fn nonzero_durable_blocks(&self) -> u64 {
        const BLOCK: usize = 4096;
        static ZEROS: [u8; BLOCK] = [0; BLOCK];
        let state = self.state();
        let mut blocks = 0u64;
        for segment in state.segments.values() {
            for chunk in segment.durable.chunks(BLOCK) {
                // Slice equality is a memcmp, fast even in unoptimised test builds.
                if chunk != &ZEROS[..chunk.len()] {
                    blocks += 1;
                }
            }
        }
        blocks
    }
}

fn to_usize(value: u64) -> usize {
    usize::try_from(value).expect("simulated offsets fit in memory")
}

impl SegmentIo for SimDisk {
    fn create(&self, segment_id: u32) -> std::io::Result<()> {
        let mut state = self.state();
        state.check_up()?;
        state.segments.entry(segment_id).or_default();
        Ok(())
    }

    fn allocate(&self, segment_id: u32, _offset: u64, _length: u64) -> std::io::Result<()> {
        let mut state = self.state();
        state.check_up()?;
        let no_space = state.faults.no_space;
        if state.roll(no_space) {
            state.counts.no_space += 1;
            return Err(std::io::Error::from_raw_os_error(libc::ENOSPC));
        }
        if !state.segments.contains_key(&segment_id) {
            return Err(std::io::Error::from(std::io::ErrorKind::NotFound));
        }
        Ok(())
    }

    fn write_at(
        &self,
        segment_id: u32,
        offset_bytes: u64,
        buf: AlignedBuf,
        start: usize,
        end: usize,
    ) -> IoFuture<'_> {
        let result = (|| {
            let mut state = self.state();
            state.check_up()?;
            let write_error = state.faults.write_error;
            if state.roll(write_error) {
                state.counts.write_errors += 1;
                return Err(eio());
            }
            let segment = state
                .segments
                .get_mut(&segment_id)
                .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))?;
            let bytes = buf.as_slice()[start..end].to_vec();
            segment.pending.push((to_usize(offset_bytes), bytes));
            Ok(())
        })();
        Box::pin(async move { (result, buf) })
    }

    fn read_at(
        &self,
        segment_id: u32,
        offset_bytes: u64,
        mut buf: AlignedBuf,
        length: usize,
    ) -> IoFuture<'_> {
        let result = (|| {
            let mut state = self.state();
            state.check_up()?;
            let read_error = state.faults.read_error;
            if state.roll(read_error) {
                state.counts.read_errors += 1;
                return Err(eio());
            }
            let segment = state
                .segments
                .get(&segment_id)
                .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))?;
            let offset = to_usize(offset_bytes);
            if offset + length > segment.size() {
                return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof));
            }
            let mut bytes = vec![0u8; length];
            let durable_end = segment.durable.len().min(offset + length);
            if durable_end > offset {
                bytes[..durable_end - offset]
                    .copy_from_slice(&segment.durable[offset..durable_end]);
            }
            for (write_offset, written) in &segment.pending {
                let from = (*write_offset).max(offset);
                let to = (write_offset + written.len()).min(offset + length);
                if from < to {
                    bytes[from - offset..to - offset]
                        .copy_from_slice(&written[from - write_offset..to - write_offset]);
                }
            }
            let corrupt_read = state.faults.corrupt_read;
            if length > 0 && state.roll(corrupt_read) {
                state.counts.corrupt_reads += 1;
                let position = state.rng.random_range(0..length);
                let bit = state.rng.random_range(0..8u32);
                bytes[position] ^= 1 << bit;
            }
            Ok(bytes)
        })();
        let result = result.map(|bytes| {
            buf.clear();
            buf.extend_from_slice(&bytes);
        });
        Box::pin(async move { (result, buf) })
    }
}

impl SegmentMaintenance for SimDisk {
    fn list(&self) -> std::io::Result<Vec<u32>> {
        let state = self.state();
        state.check_up()?;
        Ok(state.segments.keys().copied().collect())
    }

    fn size(&self, segment_id: u32) -> std::io::Result<u64> {
        let state = self.state();
        state.check_up()?;
        let segment = state
            .segments
            .get(&segment_id)
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))?;
        Ok(segment.size() as u64)
    }

    fn remove(&mut self, segment_id: u32) -> std::io::Result<()> {
        let mut state = self.state();
        state.check_up()?;
        state.segments.remove(&segment_id);
        Ok(())
    }

    fn sync(&mut self, segment_id: u32) -> std::io::Result<()> {
        let mut state = self.state();
        state.check_up()?;
        let sync_error = state.faults.sync_error;
        if state.roll(sync_error) {
            state.counts.sync_errors += 1;
            // fsyncgate: after a failed fdatasync the written pages may or may not be on disk.
            let keep = state.rng.random::<bool>();
            if let Some(segment) = state.segments.get_mut(&segment_id) {
                let pending = std::mem::take(&mut segment.pending);
                if keep {
                    for (offset, bytes) in pending {
                        Segment::apply(&mut segment.durable, offset, &bytes);
                    }
                }
            }
            return Err(eio());
        }
        if let Some(segment) = state.segments.get_mut(&segment_id) {
            for (offset, bytes) in std::mem::take(&mut segment.pending) {
                Segment::apply(&mut segment.durable, offset, &bytes);
            }
        }
        Ok(())
    }

    fn punch_hole(&mut self, segment_id: u32, offset: u64, length: u64) -> std::io::Result<()> {
        let mut state = self.state();
        state.check_up()?;
        let Some(segment) = state.segments.get_mut(&segment_id) else {
            return Ok(());
        };
        let (from, to) = (to_usize(offset), to_usize(offset + length));
        let durable_to = segment.durable.len().min(to);
        if durable_to > from {
            segment.durable[from..durable_to].fill(0);
        }
        for (write_offset, written) in &mut segment.pending {
            let start = (*write_offset).max(from);
            let end = (*write_offset + written.len()).min(to);
            if start < end {
                written[start - *write_offset..end - *write_offset].fill(0);
            }
        }
        Ok(())
    }

    fn sync_directory(&self) -> std::io::Result<()> {
        Ok(())
    }
}
