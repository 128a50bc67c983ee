//! The digests a PUT computes over its body: MD5 (the ETag, the floor of a large PUT),
//! SHA-256 (signed payloads), CRC32/CRC32C/CRC64NVME (flexible checksums), at 4 KiB and 1 MiB.

use bench::random_bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use md5::{Digest as _, Md5};
use sha2::Sha256;

fn digests(c: &mut Criterion) {
    let mut group = c.benchmark_group("checksums");
    for size in [4096_usize, 1 << 20] {
        let data = random_bytes(size, 1);
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("md5", size), &data, |b, data| {
            b.iter(|| Md5::digest(data));
        });
        group.bench_with_input(BenchmarkId::new("sha256", size), &data, |b, data| {
            b.iter(|| Sha256::digest(data));
        });
        for (name, algorithm) in [
            ("crc32", crc_fast::CrcAlgorithm::Crc32IsoHdlc),
            ("crc32c", crc_fast::CrcAlgorithm::Crc32Iscsi),
            ("crc64nvme", crc_fast::CrcAlgorithm::Crc64Nvme),
        ] {
            group.bench_with_input(BenchmarkId::new(name, size), &data, |b, data| {
                b.iter(|| {
                    let mut digest = crc_fast::Digest::new(algorithm);
                    digest.update(data);
                    digest.finalize()
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, digests);
criterion_main!(benches);
