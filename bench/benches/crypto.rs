//! AES-256-CTR (aes + ctr crates, AES-NI when the CPU has it), the cipher SSE will use
//! (issue 8): encrypting a 4 KiB and a 1 MiB body in place, key schedule included.

use aes::cipher::{KeyIvInit, StreamCipher};
use bench::random_bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

type Aes256Ctr = ctr::Ctr128BE<aes::Aes256>;

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

criterion_group!(benches, aes_ctr);
criterion_main!(benches);
