//! SigV4 verification: a header-signed GET (the per-request cost of every small operation)
//! with a warm and a cold signing-key cache, and an aws-chunked 1 MiB body in 64 KiB chunks
//! (decode plus one chunk signature per chunk, the cost SDK uploads add over plain PUT).

use bench::{BenchStore, NOW_UNIX_SECS, REGION, SignedFixture, borrow_headers, random_bytes};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use s3_proto::aws_chunked::{AwsChunkedDecoder, ChunkedSigning, ChunkedStep};
use s3_proto::sigv4::sign::{STREAMING_SIGNED_PAYLOAD, UNSIGNED_PAYLOAD};
use s3_proto::sigv4::{
    AuthContext, Authenticated, PayloadMode, SignedRequest, SigningKeyCache, authenticate,
};

fn context() -> AuthContext<'static> {
    AuthContext {
        region: REGION,
        now_unix_secs: NOW_UNIX_SECS,
    }
}

fn header_auth(c: &mut Criterion) {
    let fixture = SignedFixture::new("GET", "/bench/k/00000042", "", UNSIGNED_PAYLOAD);
    let headers = borrow_headers(&fixture.headers);
    let request = SignedRequest {
        method: fixture.method,
        raw_path: &fixture.path,
        raw_query: &fixture.query,
        headers: &headers,
    };
    let mut group = c.benchmark_group("sigv4/header");
    let mut cache = SigningKeyCache::new();
    group.bench_function("get, key cached", |b| {
        b.iter(|| {
            let outcome = authenticate(&request, &context(), &BenchStore, &mut cache);
            assert!(matches!(outcome, Ok(Authenticated::Signed { .. })));
        });
    });
    group.bench_function("get, key derived", |b| {
        b.iter(|| {
            let mut cold = SigningKeyCache::new();
            let outcome = authenticate(&request, &context(), &BenchStore, &mut cold);
            assert!(matches!(outcome, Ok(Authenticated::Signed { .. })));
        });
    });
    let list = SignedFixture::new(
        "GET",
        "/bench",
        "list-type=2&max-keys=1000&prefix=k%2F&continuation-token=azAwMDAxMDAw",
        UNSIGNED_PAYLOAD,
    );
    let list_headers = borrow_headers(&list.headers);
    let list_request = SignedRequest {
        method: list.method,
        raw_path: &list.path,
        raw_query: &list.query,
        headers: &list_headers,
    };
    group.bench_function("list with query, key cached", |b| {
        b.iter(|| {
            let outcome = authenticate(&list_request, &context(), &BenchStore, &mut cache);
            assert!(matches!(outcome, Ok(Authenticated::Signed { .. })));
        });
    });
    group.finish();
}

fn chunked(c: &mut Criterion) {
    let fixture = SignedFixture::new("PUT", "/bench/k/big", "", STREAMING_SIGNED_PAYLOAD);
    let headers = borrow_headers(&fixture.headers);
    let request = SignedRequest {
        method: fixture.method,
        raw_path: &fixture.path,
        raw_query: &fixture.query,
        headers: &headers,
    };
    let mut group = c.benchmark_group("sigv4/aws-chunked");
    for (size, chunk) in [(1 << 20, 64 * 1024), (4096, 4096)] {
        let data = random_bytes(size, 7);
        let body = fixture.aws_chunked_body(&data, chunk);
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(
            BenchmarkId::new("decode+verify", format!("{size} B in {chunk} B chunks")),
            &body,
            |b, body| {
                let mut cache = SigningKeyCache::new();
                b.iter(|| {
                    let Ok(Authenticated::Signed {
                        payload: PayloadMode::StreamingSigned(chain),
                        ..
                    }) = authenticate(&request, &context(), &BenchStore, &mut cache)
                    else {
                        panic!("fixture does not verify");
                    };
                    let mut decoder =
                        AwsChunkedDecoder::new(ChunkedSigning::Signed(chain), None, None);
                    let mut input: &[u8] = body;
                    let mut decoded_bytes = 0;
                    loop {
                        match decoder.decode(input).expect("valid body") {
                            ChunkedStep::Data { data, consumed } => {
                                decoded_bytes += data.len();
                                input = &input[consumed..];
                            }
                            ChunkedStep::NeedMore { consumed } => input = &input[consumed..],
                            ChunkedStep::Done { .. } => break,
                        }
                    }
                    assert_eq!(decoded_bytes, data.len());
                });
            },
        );
    }
    group.finish();
}

criterion_group!(benches, header_auth, chunked);
criterion_main!(benches);
