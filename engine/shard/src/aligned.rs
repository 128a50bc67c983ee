//! Page-aligned byte buffers for O_DIRECT IO.
//!
//! O_DIRECT requires the memory address, the file offset and the length of every transfer to be
//! multiples of the device's logical block size. We use 4096 everywhere (DESIGN.md §2a: this ext4
//! accepts 512, 4Kn NVMe does not). `AlignedBuf` owns such memory and implements monoio's buffer
//! traits so it can move by ownership into io_uring reads and writes and come back with the result.
//!
//! Architecture invariant: the allocation is always `capacity` bytes, `capacity` is a non-zero
//! multiple of `BLOCK_SIZE_BYTES`, and the pointer is `BLOCK_SIZE_BYTES`-aligned.
#![allow(unsafe_code)]

use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::cell::RefCell;
use std::ptr::NonNull;

/// The alignment and granularity of every O_DIRECT transfer.
pub const BLOCK_SIZE_BYTES: usize = 4096;

/// Rounds `value` up to the next multiple of the block size.
pub const fn round_up_to_block(value: u64) -> u64 {
    let block = BLOCK_SIZE_BYTES as u64;
    value.div_ceil(block) * block
}

/// Rounds `value` down to a multiple of the block size.
pub const fn round_down_to_block(value: u64) -> u64 {
    let block = BLOCK_SIZE_BYTES as u64;
    value / block * block
}

/// Buffers of exactly this size (the 1 MiB IO buffer of PUT and GET) are recycled per thread:
/// a fresh 1 MiB allocation is an mmap, 256 page faults with zeroing, and an munmap, about 8 %
/// of a 1 MiB PUT's CPU (perf).
pub const POOLED_BUFFER_BYTES: usize = 1 << 20;
/// Recycled buffers kept per thread (16 MiB).
const POOLED_BUFFER_COUNT_MAX: usize = 16;

/// Allocations of `POOLED_BUFFER_BYTES` waiting for reuse; freed when the thread exits.
struct Pool(Vec<NonNull<u8>>);

impl Drop for Pool {
    fn drop(&mut self) {
        for ptr in self.0.drain(..) {
            // SAFETY: every pooled pointer was allocated with the pooled layout and is owned
            // by the pool alone.
            unsafe { dealloc(ptr.as_ptr(), AlignedBuf::layout(POOLED_BUFFER_BYTES)) }
        }
    }
}

thread_local! {
    static POOL: RefCell<Pool> = const { RefCell::new(Pool(Vec::new())) };
}

pub struct AlignedBuf {
    ptr: NonNull<u8>,
    capacity: usize,
    /// Number of initialised bytes (`IoBuf::bytes_init`): what a write sends, what a read filled.
    len: usize,
}

// SAFETY: the buffer exclusively owns its allocation; moving it to another thread moves that
// ownership. It is never shared, so `Send` is sound (no `Sync`).
unsafe impl Send for AlignedBuf {}

impl AlignedBuf {
    /// Allocates a buffer of `capacity` bytes, zeroed, or recycled (initialised, old contents)
    /// for the pooled size; `capacity` must be a non-zero multiple of the block size.
    pub fn new(capacity: usize) -> AlignedBuf {
        assert!(capacity > 0);
        assert!(capacity.is_multiple_of(BLOCK_SIZE_BYTES));
        if capacity == POOLED_BUFFER_BYTES
            && let Some(ptr) = POOL
                .try_with(|pool| pool.borrow_mut().0.pop())
                .ok()
                .flatten()
        {
            return AlignedBuf {
                ptr,
                capacity,
                len: 0,
            };
        }
        let layout = Self::layout(capacity);
        // SAFETY: the layout has a non-zero size (asserted above).
        let raw = unsafe { alloc_zeroed(layout) };
        let Some(ptr) = NonNull::new(raw) else {
            std::alloc::handle_alloc_error(layout)
        };
        AlignedBuf {
            ptr,
            capacity,
            len: 0,
        }
    }

    fn layout(capacity: usize) -> Layout {
        match Layout::from_size_align(capacity, BLOCK_SIZE_BYTES) {
            Ok(layout) => layout,
            Err(error) => panic!("invalid aligned buffer layout of {capacity} bytes: {error}"),
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn remaining(&self) -> usize {
        self.capacity - self.len
    }

    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Appends as much of `data` as fits; returns how many bytes were taken.
    pub fn extend_from_slice(&mut self, data: &[u8]) -> usize {
        let count = data.len().min(self.remaining());
        self.spare_mut()[..count].copy_from_slice(&data[..count]);
        self.len += count;
        count
    }

    /// Zero-fills up to the next block boundary, so the buffer can be written with O_DIRECT.
    pub fn pad_to_block(&mut self) {
        let padded = usize::try_from(round_up_to_block(self.len as u64)).unwrap_or(self.capacity);
        let padded = padded.min(self.capacity);
        let start = self.len;
        self.as_full_mut()[start..padded].fill(0);
        self.len = padded;
    }

    /// Sets the number of valid bytes; bytes up to `len` must have been written by the caller or
    /// by a completed read.
    pub fn set_len(&mut self, len: usize) {
        assert!(len <= self.capacity);
        self.len = len;
    }

    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: `len <= capacity` bytes of the allocation are initialised (zeroed when first
        // allocated; a recycled buffer keeps its old, initialised bytes).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        let len = self.len;
        &mut self.as_full_mut()[..len]
    }

    fn spare_mut(&mut self) -> &mut [u8] {
        let len = self.len;
        &mut self.as_full_mut()[len..]
    }

    fn as_full_mut(&mut self) -> &mut [u8] {
        // SAFETY: the whole allocation is initialised (zeroed at first allocation, recycled
        // buffers keep initialised bytes) and exclusively ours.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.capacity) }
    }
}

impl Drop for AlignedBuf {
    fn drop(&mut self) {
        if self.capacity == POOLED_BUFFER_BYTES {
            let ptr = self.ptr;
            let kept = POOL
                .try_with(|pool| {
                    let mut pool = pool.borrow_mut();
                    let keep = pool.0.len() < POOLED_BUFFER_COUNT_MAX;
                    if keep {
                        pool.0.push(ptr);
                    }
                    keep
                })
                .unwrap_or(false);
            if kept {
                return;
            }
        }
        // SAFETY: allocated in `new` with exactly this layout.
        unsafe { dealloc(self.ptr.as_ptr(), Self::layout(self.capacity)) }
    }
}

// SAFETY: `read_ptr` returns the stable heap pointer of the allocation (moving `AlignedBuf` does
// not move the heap memory) and `bytes_init` never exceeds the allocation.
unsafe impl monoio::buf::IoBuf for AlignedBuf {
    fn read_ptr(&self) -> *const u8 {
        self.ptr.as_ptr()
    }

    fn bytes_init(&self) -> usize {
        self.len
    }
}

// SAFETY: as above; `bytes_total` is the allocation size, and `set_init` is only called by the
// runtime with the number of bytes the kernel wrote.
unsafe impl monoio::buf::IoBufMut for AlignedBuf {
    fn write_ptr(&mut self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    fn bytes_total(&mut self) -> usize {
        self.capacity
    }

    unsafe fn set_init(&mut self, pos: usize) {
        self.len = pos;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_buffers_are_recycled_per_thread_and_bounded() {
        let first = AlignedBuf::new(POOLED_BUFFER_BYTES);
        let address = first.ptr;
        drop(first);
        let mut again = AlignedBuf::new(POOLED_BUFFER_BYTES);
        assert_eq!(again.ptr, address);
        assert!(again.is_empty());
        assert_eq!(again.extend_from_slice(&[1; 10]), 10);
        again.pad_to_block();
        assert_eq!(
            &again.as_slice()[10..BLOCK_SIZE_BYTES],
            &[0; BLOCK_SIZE_BYTES - 10]
        );
        let many: Vec<AlignedBuf> = (0..POOLED_BUFFER_COUNT_MAX + 4)
            .map(|_| AlignedBuf::new(POOLED_BUFFER_BYTES))
            .collect();
        drop(many);
        drop(again);
        let pooled = POOL.with(|pool| pool.borrow().0.len());
        assert_eq!(pooled, POOLED_BUFFER_COUNT_MAX);
    }

    #[test]
    fn buffer_is_aligned_and_pads_to_block() {
        let mut buf = AlignedBuf::new(2 * BLOCK_SIZE_BYTES);
        assert_eq!(buf.as_slice().as_ptr() as usize % BLOCK_SIZE_BYTES, 0);
        assert_eq!(buf.extend_from_slice(&[7; 10]), 10);
        buf.pad_to_block();
        assert_eq!(buf.len(), BLOCK_SIZE_BYTES);
        assert_eq!(&buf.as_slice()[..10], &[7; 10]);
        assert!(buf.as_slice()[10..].iter().all(|b| *b == 0));
        assert_eq!(buf.extend_from_slice(&[1; 9000]), BLOCK_SIZE_BYTES);
    }

    #[test]
    fn rounding_helpers() {
        assert_eq!(round_up_to_block(0), 0);
        assert_eq!(round_up_to_block(1), 4096);
        assert_eq!(round_up_to_block(4096), 4096);
        assert_eq!(round_down_to_block(8191), 4096);
    }
}
