//! Request head parsing (httparse plus our framing rules): a presigned GET as wrk sends it,
//! a header-signed PUT as an SDK sends it, and a head with 40 headers.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use frontend::request::parse_head;

const SDK_PUT: &[u8] = b"PUT /bench/k/00000042 HTTP/1.1\r\n\
host: 127.0.0.1:9000\r\n\
user-agent: aws-sdk-rust/1.3.10 os/linux lang/rust/1.95.0\r\n\
x-amz-user-agent: aws-sdk-rust/1.3.10 api/s3/1.157.0 os/linux lang/rust/1.95.0\r\n\
content-type: application/octet-stream\r\n\
content-length: 4096\r\n\
x-amz-content-sha256: UNSIGNED-PAYLOAD\r\n\
x-amz-date: 20261124T160000Z\r\n\
amz-sdk-invocation-id: 0b0bd3f2-7d4b-4a55-9c53-3a3a1f0f5d2e\r\n\
amz-sdk-request: attempt=1; max=3\r\n\
authorization: AWS4-HMAC-SHA256 Credential=benchaccesskey/20261124/us-east-1/s3/aws4_request, \
SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date;\
x-amz-user-agent, Signature=3f1b5f7bd7fbd2dc7c11a6fe1d3e22fd3fa91dcbd5cbe3b2a8f7f3f4b1f9d0aa\r\n\
\r\n";

const PRESIGNED_GET: &[u8] = b"GET /bench/k4096/17?X-Amz-Algorithm=AWS4-HMAC-SHA256&\
X-Amz-Credential=benchaccesskey%2F20261124%2Fus-east-1%2Fs3%2Faws4_request&\
X-Amz-Date=20261124T160000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&\
X-Amz-Signature=3f1b5f7bd7fbd2dc7c11a6fe1d3e22fd3fa91dcbd5cbe3b2a8f7f3f4b1f9d0aa HTTP/1.1\r\n\
Host: 127.0.0.1:9000\r\n\r\n";

fn heads(c: &mut Criterion) {
    let mut many = b"GET /bench/key HTTP/1.1\r\nhost: 127.0.0.1\r\n".to_vec();
    for index in 0..40 {
        many.extend_from_slice(format!("x-amz-meta-field-{index}: value {index}\r\n").as_bytes());
    }
    many.extend_from_slice(b"\r\n");
    let mut group = c.benchmark_group("http_head");
    for (name, head) in [
        ("presigned GET", PRESIGNED_GET),
        ("SDK PUT", SDK_PUT),
        ("40 headers", many.as_slice()),
    ] {
        group.throughput(Throughput::Bytes(head.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| parse_head(head).expect("valid").expect("complete"));
        });
    }
    group.finish();
}

criterion_group!(benches, heads);
criterion_main!(benches);
