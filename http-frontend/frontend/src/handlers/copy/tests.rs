use super::*;

fn code_of(result: Result<CopySource, S3Error>) -> S3ErrorCode {
    match result {
        Ok(source) => panic!("accepted {source:?}"),
        Err(error) => error.code,
    }
}

#[test]
fn copy_source_accepts_both_spellings_and_decodes_once() {
    let expected = CopySource {
        bucket: "bucket".to_owned(),
        key: "dir/a b+c%2F".to_owned(),
        version: None,
    };
    assert_eq!(
        parse_copy_source("bucket/dir/a%20b+c%252F").ok(),
        Some(expected)
    );
    let leading = parse_copy_source("/bucket/k?versionId=null").ok();
    assert_eq!(
        leading,
        Some(CopySource {
            bucket: "bucket".to_owned(),
            key: "k".to_owned(),
            version: Some(VersionRef::Null),
        })
    );
}

#[test]
fn malformed_copy_sources_are_client_errors() {
    for value in ["", "/", "bucket", "bucket/", "/bucket", "//k", "%00"] {
        assert_eq!(
            code_of(parse_copy_source(value)),
            S3ErrorCode::InvalidArgument,
            "{value:?}"
        );
    }
    assert_eq!(
        code_of(parse_copy_source("bucket/a%00b")),
        S3ErrorCode::InvalidArgument
    );
    assert_eq!(
        code_of(parse_copy_source("bucket/%zz")),
        S3ErrorCode::InvalidArgument
    );
    assert_eq!(
        code_of(parse_copy_source("bucket/%c0%ae")),
        S3ErrorCode::InvalidArgument
    );
    assert_eq!(
        code_of(parse_copy_source("BAD_bucket/k")),
        S3ErrorCode::InvalidBucketName
    );
    let long_key = format!("bucket/{}", "k".repeat(1025));
    assert_eq!(
        code_of(parse_copy_source(&long_key)),
        S3ErrorCode::KeyTooLongError
    );
    assert_eq!(
        code_of(parse_copy_source("bucket/k?versionId=3HL4kqtJlcpXroDTDmJ")),
        S3ErrorCode::NoSuchVersion
    );
}

#[test]
fn copy_range_is_bytes_first_last_only() {
    assert_eq!(parse_copy_range("bytes=0-9").ok(), Some((0, 9)));
    for value in [
        "0-9",
        "bytes=0",
        "bytes=-5",
        "bytes=5-",
        "bytes=a-b",
        "bytes=0-1,3-4",
        "",
    ] {
        let error = parse_copy_range(value).err().map(|error| error.code);
        assert_eq!(error, Some(S3ErrorCode::InvalidArgument), "{value:?}");
    }
}

#[test]
fn part_copy_range_must_lie_within_the_source() {
    assert_eq!(part_copy_range(None, 10).ok(), Some(0..10));
    assert_eq!(part_copy_range(Some((2, 9)), 10).ok(), Some(2..10));
    for requested in [(0, 10), (5, 4), (10, 10)] {
        let error = part_copy_range(Some(requested), 10).err().map(|e| e.code);
        assert_eq!(error, Some(S3ErrorCode::InvalidRange), "{requested:?}");
    }
}
