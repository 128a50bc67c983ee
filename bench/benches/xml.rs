//! XML codecs on the listing and multipart paths: encoding a ListObjectsV2 page of 1,000
//! keys (plain and url-encoded), decoding a CompleteMultipartUpload of 1,000 parts and a
//! DeleteObjects request of 1,000 keys.

use std::fmt::Write as _;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use s3_proto::xml::{
    EncodingType, ListObjectsV2Result, Object, parse_complete_multipart_upload, parse_delete,
};

fn listing(count: usize, encoding: Option<EncodingType>) -> ListObjectsV2Result {
    ListObjectsV2Result {
        name: "bench".into(),
        prefix: "k/".into(),
        delimiter: None,
        max_keys: 1000,
        is_truncated: true,
        continuation_token: None,
        next_continuation_token: Some("azAwMDAwOTk5".into()),
        start_after: None,
        encoding_type: encoding,
        contents: (0..count)
            .map(|index| Object {
                key: format!("k/photos/2026/{index:08} copy.jpg"),
                last_modified_ms: 1_764_000_000_000 + i64::try_from(index).expect("small index"),
                etag: "9b2cf535f27731c974343645a3985328".into(),
                size_bytes: 4096,
                storage_class: "STANDARD".into(),
                owner: None,
                checksum_algorithm: None,
            })
            .collect(),
        common_prefixes: Vec::new(),
    }
}

fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("xml/encode");
    group.throughput(Throughput::Elements(1000));
    let plain = listing(1000, None);
    group.bench_function("ListObjectsV2, 1000 keys", |b| b.iter(|| plain.to_xml()));
    let url = listing(1000, Some(EncodingType::Url));
    group.bench_function("ListObjectsV2, 1000 keys, url", |b| b.iter(|| url.to_xml()));
    group.finish();
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("xml/decode");
    group.throughput(Throughput::Elements(1000));
    let mut complete =
        String::from("<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
    for number in 1..=1000 {
        let _ = write!(
            complete,
            "<Part><PartNumber>{number}</PartNumber>\
             <ETag>\"9b2cf535f27731c974343645a3985328\"</ETag></Part>"
        );
    }
    complete.push_str("</CompleteMultipartUpload>");
    group.bench_function("CompleteMultipartUpload, 1000 parts", |b| {
        b.iter(|| {
            let parts = parse_complete_multipart_upload(complete.as_bytes()).expect("valid");
            assert_eq!(parts.len(), 1000);
        });
    });
    let mut delete = String::from("<Delete><Quiet>true</Quiet>");
    for index in 0..1000 {
        let _ = write!(delete, "<Object><Key>k/{index:08}</Key></Object>");
    }
    delete.push_str("</Delete>");
    group.bench_function("DeleteObjects, 1000 keys", |b| {
        b.iter(|| parse_delete(delete.as_bytes()).expect("valid"));
    });
    group.finish();
}

criterion_group!(benches, encode, decode);
criterion_main!(benches);
