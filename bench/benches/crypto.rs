//! The SSE data path's crypto per core (issue 8), on 4 KiB and 1 MiB bodies:
//! - what an encrypted PUT and GET add per piece: AES-256-GCM per 64 KiB check block
//!   (`ObjectCipher::seal_block` / `open_block`, aws-lc), against the plain GET's CRC32C check;
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

criterion_group!(benches, aes_ctr, object_cipher);
criterion_main!(benches);
