//! The SSE data path's crypto per core (issue 8), on 4 KiB and 1 MiB bodies:
//! - AES-256-CTR alone (aes + ctr crates, AES-NI when the CPU has it), key schedule included;
//! - the block tags alone: keyed BLAKE3 over each 64 KiB check block (`sse::cipher`);
//! - what an encrypted GET adds per piece: verify every block's tag, then decrypt
//!   (`ObjectCipher::verify_block` + `apply_at`), against the plain GET's CRC32C check.

use aes::cipher::{KeyIvInit, StreamCipher};
use bench::random_bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sse::cipher::ObjectCipher;
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
    let cipher = ObjectCipher::new(DataKey::random(), ObjectCipher::random_iv());
    let mut group = c.benchmark_group("crypto/sse-read-path");
    for size in [4096_usize, 1 << 20] {
        let mut data = random_bytes(size, 4);
        cipher.apply_at(0, &mut data);
        let tags: Vec<[u8; 16]> = data
            .chunks(BLOCK_BYTES)
            .enumerate()
            .map(|(index, block)| cipher.block_tag(index as u64, block))
            .collect();
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(BenchmarkId::new("blake3 tags", size), |b| {
            b.iter(|| {
                for (index, block) in data.chunks(BLOCK_BYTES).enumerate() {
                    std::hint::black_box(cipher.block_tag(index as u64, block));
                }
            });
        });
        // The same bytes as one input: what the 64 KiB block size costs BLAKE3.
        group.bench_function(BenchmarkId::new("blake3 one input", size), |b| {
            b.iter(|| std::hint::black_box(blake3::keyed_hash(&[7; 32], &data)));
        });
        group.bench_function(BenchmarkId::new("crc32c (plain GET check)", size), |b| {
            b.iter(|| {
                for block in data.chunks(BLOCK_BYTES) {
                    std::hint::black_box(crc_fast::checksum(
                        crc_fast::CrcAlgorithm::Crc32Iscsi,
                        block,
                    ));
                }
            });
        });
        let mut scratch = data.clone();
        group.bench_function(BenchmarkId::new("verify + decrypt", size), |b| {
            b.iter(|| {
                scratch.copy_from_slice(&data);
                for (index, block) in scratch.chunks(BLOCK_BYTES).enumerate() {
                    cipher
                        .verify_block(index as u64, block, &tags[index])
                        .expect("authentic");
                }
                cipher.apply_at(0, &mut scratch);
            });
        });
    }
    group.finish();
}

criterion_group!(benches, aes_ctr, object_cipher);
criterion_main!(benches);
