//! The storage interface: everything the partition logic does to segment files goes through
//! it, so that a simulated disk can stand in for the real one.
//!
//! Two halves, because they live on different threads:
//! - `SegmentIo`, used by the shard thread: create, preallocate, write and read segments
//!   (async; the real implementation is io_uring with O_DIRECT);
//! - `SegmentMaintenance`, used by the partition's worker thread and by recovery at open:
//!   fdatasync, hole punching, listing, sizing and removing segments.
//!
//! Implementations: `DirectIo` + `DirectMaintenance` (the real files, `segments.rs` helpers),
//! and `sim::SimDisk` (in memory, with seeded fault injection and crash simulation), which the
//! deterministic simulation test drives (`tests/simulation.rs`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::rc::Rc;

use crate::aligned::AlignedBuf;
use crate::segments::{fallocate_file, punch_hole, segment_path, sync_directory};

pub mod sim;

/// The result of an async IO that hands its buffer back.
pub type IoFuture<'a> = Pin<Box<dyn Future<Output = (std::io::Result<()>, AlignedBuf)> + 'a>>;

/// Segment IO on the shard thread.
pub trait SegmentIo {
    /// Creates an empty segment file, durably (the directory entry is synced).
    fn create(&self, segment_id: u32) -> std::io::Result<()>;
    /// Bytes still free for this storage's files; `None` when unknown (the simulated disk).
    fn available_bytes(&self) -> Option<u64> {
        None
    }
    /// Allocates `[offset, offset + length)` so that later writes cannot fail for space.
    fn allocate(
        &self,
        segment_id: u32,
        offset_bytes: u64,
        length_bytes: u64,
    ) -> std::io::Result<()>;
    /// Writes `buf[start..end]` at `offset_bytes` (block-aligned); not durable until synced.
    fn write_at(
        &self,
        segment_id: u32,
        offset_bytes: u64,
        buf: AlignedBuf,
        start: usize,
        end: usize,
    ) -> IoFuture<'_>;
    /// Fills `buf` with `length` bytes from `offset_bytes` (block-aligned).
    fn read_at(
        &self,
        segment_id: u32,
        offset_bytes: u64,
        buf: AlignedBuf,
        length: usize,
    ) -> IoFuture<'_>;
}

/// Segment maintenance on the worker thread (and at open, before the worker starts).
pub trait SegmentMaintenance: Send {
    /// Ids of the existing segments, sorted.
    fn list(&self) -> std::io::Result<Vec<u32>>;
    fn size(&self, segment_id: u32) -> std::io::Result<u64>;
    fn remove(&mut self, segment_id: u32) -> std::io::Result<()>;
    /// fdatasync: everything written to the segment before the call is durable after it.
    fn sync(&mut self, segment_id: u32) -> std::io::Result<()>;
    fn punch_hole(
        &mut self,
        segment_id: u32,
        offset_bytes: u64,
        length_bytes: u64,
    ) -> std::io::Result<()>;
    /// Makes creations and removals of segments durable.
    fn sync_directory(&self) -> std::io::Result<()>;
}

/// The two halves of one partition's segment storage.
pub struct Storage {
    pub io: Box<dyn SegmentIo>,
    pub maintenance: Box<dyn SegmentMaintenance>,
}

impl Storage {
    /// The real segment files in `dir`.
    pub fn direct(dir: &Path) -> Storage {
        Storage {
            io: Box::new(DirectIo {
                dir: dir.to_path_buf(),
                files: RefCell::new(HashMap::new()),
            }),
            maintenance: Box::new(DirectMaintenance {
                dir: dir.to_path_buf(),
                files: HashMap::new(),
            }),
        }
    }
}

fn open_direct(path: &Path, create: bool) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(create)
        .truncate(false)
        .custom_flags(libc::O_DIRECT | libc::O_CLOEXEC)
        .open(path)
}

/// O_DIRECT segment files through the shard's io_uring (or epoll fallback) runtime.
pub struct DirectIo {
    dir: PathBuf,
    /// Open O_DIRECT handles by segment id; segments are few (one per GiB written).
    files: RefCell<HashMap<u32, Rc<monoio::fs::File>>>,
}

impl DirectIo {
    fn file(&self, segment_id: u32) -> std::io::Result<Rc<monoio::fs::File>> {
        if let Some(file) = self.files.borrow().get(&segment_id) {
            return Ok(Rc::clone(file));
        }
        let file = open_direct(&segment_path(&self.dir, segment_id), false)?;
        let file = Rc::new(monoio::fs::File::from_std(file)?);
        self.files.borrow_mut().insert(segment_id, Rc::clone(&file));
        Ok(file)
    }
}

impl SegmentIo for DirectIo {
    fn available_bytes(&self) -> Option<u64> {
        crate::segments::fs_space(&self.dir).map(|space| space.available_bytes)
    }

    fn create(&self, segment_id: u32) -> std::io::Result<()> {
        let file = open_direct(&segment_path(&self.dir, segment_id), true)?;
        sync_directory(&self.dir)?;
        let file = monoio::fs::File::from_std(file)?;
        self.files.borrow_mut().insert(segment_id, Rc::new(file));
        Ok(())
    }

    fn allocate(
        &self,
        segment_id: u32,
        offset_bytes: u64,
        length_bytes: u64,
    ) -> std::io::Result<()> {
        // A plain (buffered) descriptor is enough for fallocate; opening is cheap and rare
        // (once per preallocation step).
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(segment_path(&self.dir, segment_id))?;
        fallocate_file(&file, offset_bytes, length_bytes)
    }

    fn write_at(
        &self,
        segment_id: u32,
        offset_bytes: u64,
        buf: AlignedBuf,
        start: usize,
        end: usize,
    ) -> IoFuture<'_> {
        Box::pin(async move {
            let file = match self.file(segment_id) {
                Ok(file) => file,
                Err(error) => return (Err(error), buf),
            };
            let slice = monoio::buf::IoBuf::slice(buf, start..end);
            let (result, slice) = file.write_all_at(slice, offset_bytes).await;
            (result, slice.into_inner())
        })
    }

    fn read_at(
        &self,
        segment_id: u32,
        offset_bytes: u64,
        mut buf: AlignedBuf,
        length: usize,
    ) -> IoFuture<'_> {
        Box::pin(async move {
            let file = match self.file(segment_id) {
                Ok(file) => file,
                Err(error) => return (Err(error), buf),
            };
            buf.clear();
            let mut filled = 0usize;
            while filled < length {
                let slice = monoio::buf::IoBufMut::slice_mut(buf, filled..length);
                let (result, slice) = file.read_at(slice, offset_bytes + filled as u64).await;
                buf = slice.into_inner();
                match result {
                    Ok(0) => {
                        let error = std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
                        return (Err(error), buf);
                    }
                    Ok(count) => filled += count,
                    Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(error) => return (Err(error), buf),
                }
            }
            buf.set_len(length);
            (Ok(()), buf)
        })
    }
}

/// Buffered descriptors of the same files, for fdatasync and hole punching.
pub struct DirectMaintenance {
    dir: PathBuf,
    /// Opened on first use, kept: fdatasync must run on a descriptor of the written file.
    files: HashMap<u32, std::fs::File>,
}

impl DirectMaintenance {
    fn file(&mut self, segment_id: u32) -> std::io::Result<&std::fs::File> {
        if !self.files.contains_key(&segment_id) {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(segment_path(&self.dir, segment_id))?;
            self.files.insert(segment_id, file);
        }
        Ok(&self.files[&segment_id])
    }
}

impl SegmentMaintenance for DirectMaintenance {
    fn list(&self) -> std::io::Result<Vec<u32>> {
        crate::segments::list_segment_ids(&self.dir)
    }

    fn size(&self, segment_id: u32) -> std::io::Result<u64> {
        Ok(std::fs::metadata(segment_path(&self.dir, segment_id))?.len())
    }

    fn remove(&mut self, segment_id: u32) -> std::io::Result<()> {
        self.files.remove(&segment_id);
        std::fs::remove_file(segment_path(&self.dir, segment_id))
    }

    fn sync(&mut self, segment_id: u32) -> std::io::Result<()> {
        self.file(segment_id)?.sync_data()
    }

    fn punch_hole(
        &mut self,
        segment_id: u32,
        offset_bytes: u64,
        length_bytes: u64,
    ) -> std::io::Result<()> {
        punch_hole(self.file(segment_id)?, offset_bytes, length_bytes)
    }

    fn sync_directory(&self) -> std::io::Result<()> {
        sync_directory(&self.dir)
    }
}
