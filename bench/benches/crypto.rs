//! The SSE data path's crypto per core (issue 8), on 4 KiB and 1 MiB bodies:
//! - what an encrypted PUT and GET add per piece: AES-256-GCM per 64 KiB check block
//!   (`ObjectCipher::seal_block` / `open_block`, aws-lc), against the plain GET's CRC32C check;
//! - the ceiling: AES-256 alone at this core's peak (a VAES-512 CTR loop, 32 blocks in
//!   flight, no MAC), the least any AES-256 scheme can cost (issue 8's 10 % figure);
//! - the format-1 scheme it replaced (read only now): AES-256-CTR (aes + ctr crates, 128-bit
//!   AES-NI) with a keyed BLAKE3 tag per block, and each of its two parts alone.

use aes::cipher::{KeyIvInit, StreamCipher};
use bench::random_bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sse::cipher::{BlockScheme, ObjectCipher};
use sse::envelope::DataKey;

type Aes256Ctr = ctr::Ctr128BE<aes::Aes256>;

/// The storage layer's check block (engine/shard `CHECK_BLOCK_BYTES`).
const BLOCK_BYTES: usize = 64 << 10;

fn aes_ctr(c: &mut Criterion) {
    let key = [0x42_u8; 32];
    let iv = [0x24_u8; 16];
    let mut group = c.benchmark_group("crypto/aes-256-ctr");
    for size in [4096_usize, 1 << 20] {
        let mut data = random_bytes(size, 3);
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(BenchmarkId::new("encrypt", size), |b| {
            b.iter(|| {
                let mut cipher = Aes256Ctr::new(&key.into(), &iv.into());
                cipher.apply_keystream(&mut data);
            });
        });
    }
    group.finish();
}

fn object_cipher(c: &mut Criterion) {
    let gcm = ObjectCipher::for_new_run(DataKey::random());
    let format_1 = ObjectCipher::new(DataKey::random(), [0x11; 16], BlockScheme::CtrBlake3);
    let mut group = c.benchmark_group("crypto/sse-read-path");
    for size in [4096_usize, 1 << 20] {
        let plain = random_bytes(size, 4);
        group.throughput(Throughput::Bytes(size as u64));
        let mut scratch = plain.clone();
        group.bench_function(BenchmarkId::new("gcm seal", size), |b| {
            b.iter(|| {
                for (index, block) in scratch.chunks_mut(BLOCK_BYTES).enumerate() {
                    std::hint::black_box(gcm.seal_block(index as u64, block).expect("seal"));
                }
            });
        });
        let mut sealed = plain.clone();
        let gcm_tags: Vec<_> = sealed
            .chunks_mut(BLOCK_BYTES)
            .enumerate()
            .map(|(index, block)| gcm.seal_block(index as u64, block).expect("seal"))
            .collect();
        // Each iteration opens a fresh copy of the ciphertext: the copy is measured too (the
        // plain CRC32C line below has no copy), so the difference is an upper bound.
        group.bench_function(BenchmarkId::new("gcm open (+ copy)", size), |b| {
            b.iter(|| {
                scratch.copy_from_slice(&sealed);
                for (index, block) in scratch.chunks_mut(BLOCK_BYTES).enumerate() {
                    let offset = (index * BLOCK_BYTES) as u64;
                    gcm.open_block(index as u64, offset, block, &gcm_tags[index])
                        .expect("authentic");
                }
            });
        });
        let mut ctr_sealed = plain.clone();
        format_1.apply_at(0, &mut ctr_sealed);
        let blake3_tags: Vec<_> = ctr_sealed
            .chunks(BLOCK_BYTES)
            .enumerate()
            .map(|(index, block)| format_1.block_tag(index as u64, block))
            .collect();
        group.bench_function(BenchmarkId::new("format 1 blake3 tags", size), |b| {
            b.iter(|| {
                for (index, block) in ctr_sealed.chunks(BLOCK_BYTES).enumerate() {
                    std::hint::black_box(format_1.block_tag(index as u64, block));
                }
            });
        });
        group.bench_function(BenchmarkId::new("format 1 open (+ copy)", size), |b| {
            b.iter(|| {
                scratch.copy_from_slice(&ctr_sealed);
                for (index, block) in scratch.chunks_mut(BLOCK_BYTES).enumerate() {
                    let offset = (index * BLOCK_BYTES) as u64;
                    format_1
                        .open_block(index as u64, offset, block, &blake3_tags[index])
                        .expect("authentic");
                }
            });
        });
        group.bench_function(BenchmarkId::new("crc32c (plain GET check)", size), |b| {
            b.iter(|| {
                for block in plain.chunks(BLOCK_BYTES) {
                    std::hint::black_box(crc_fast::checksum(
                        crc_fast::CrcAlgorithm::Crc32Iscsi,
                        block,
                    ));
                }
            });
        });
    }
    group.finish();
}

/// AES-256 at the AES units' peak: a CTR keystream XORed over the data, 8 x 512-bit registers
/// (32 blocks) in flight through 14 VAES rounds. Dummy round keys (the cost does not depend
/// on them), so this is a measuring stick, not a cipher.
#[cfg(target_arch = "x86_64")]
mod vaes_peak {
    #![allow(unsafe_code)] // SIMD intrinsics, run only where the CPU has them
    use std::arch::x86_64::{
        __m512i, _mm512_add_epi64, _mm512_aesenc_epi128, _mm512_aesenclast_epi128,
        _mm512_loadu_si512, _mm512_set_epi64, _mm512_set1_epi32, _mm512_storeu_si512,
        _mm512_xor_si512,
    };

    const LANES: usize = 8;

    pub fn available() -> bool {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("vaes")
    }

    /// `data.len()` a multiple of 512; `available()` must be true.
    pub fn apply(data: &mut [u8]) {
        assert!(available() && data.len().is_multiple_of(LANES * 64));
        // SAFETY: the CPU has AVX-512F and VAES (checked above).
        unsafe { apply_vaes(data) }
    }

    #[target_feature(enable = "avx512f,vaes")]
    fn apply_vaes(data: &mut [u8]) {
        #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
        let keys: [__m512i; 15] = std::array::from_fn(|i| _mm512_set1_epi32(i as i32 * 0x0101));
        let mut counter = _mm512_set_epi64(0, 3, 0, 2, 0, 1, 0, 0);
        let step = _mm512_set_epi64(0, 4, 0, 4, 0, 4, 0, 4);
        for chunk in data.chunks_exact_mut(LANES * 64) {
            let mut state = [keys[0]; LANES];
            for lane in &mut state {
                *lane = _mm512_xor_si512(counter, keys[0]);
                counter = _mm512_add_epi64(counter, step);
            }
            for key in &keys[1..14] {
                for lane in &mut state {
                    *lane = _mm512_aesenc_epi128(*lane, *key);
                }
            }
            for (lane, bytes) in state.iter().zip(chunk.chunks_exact_mut(64)) {
                #[allow(clippy::cast_ptr_alignment)] // only used by the unaligned load and store
                let pointer = bytes.as_mut_ptr().cast::<__m512i>();
                // SAFETY: `bytes` is 64 bytes; unaligned loads and stores.
                unsafe {
                    let keystream = _mm512_aesenclast_epi128(*lane, keys[14]);
                    let plain = _mm512_loadu_si512(pointer.cast_const());
                    _mm512_storeu_si512(pointer, _mm512_xor_si512(plain, keystream));
                }
            }
        }
    }
}

fn aes_peak(c: &mut Criterion) {
    #[cfg(target_arch = "x86_64")]
    if vaes_peak::available() {
        let mut group = c.benchmark_group("crypto/aes-256-peak");
        let mut data = random_bytes(1 << 20, 5);
        group.throughput(Throughput::Bytes(1 << 20));
        group.bench_function("vaes-512 ctr, no mac", |b| {
            b.iter(|| vaes_peak::apply(&mut data));
        });
        group.finish();
    }
    let _ = c;
}

criterion_group!(benches, aes_ctr, object_cipher, aes_peak);
criterion_main!(benches);
