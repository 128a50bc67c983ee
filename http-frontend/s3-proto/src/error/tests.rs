use super::{S3Error, S3ErrorCode, error_response_xml};

#[test]
fn every_code_is_spelled_as_its_variant() {
    for code in S3ErrorCode::ALL {
        // The one exception: a code with a dot cannot be an identifier.
        let expected = match code {
            S3ErrorCode::KmsNotFoundException => "KMS.NotFoundException".to_owned(),
            other => format!("{other:?}"),
        };
        assert_eq!(code.as_str(), expected);
        assert!(!code.default_message().is_empty(), "{code:?}");
        assert!(
            !code.default_message().contains("  "),
            "{code:?}: double space in message"
        );
    }
}

#[test]
fn statuses_match_the_aws_table() {
    let table: &[(S3ErrorCode, u16)] = &[
        (S3ErrorCode::AccessDenied, 403),
        (S3ErrorCode::BadDigest, 400),
        (S3ErrorCode::BadRequest, 400),
        (S3ErrorCode::BucketAlreadyExists, 409),
        (S3ErrorCode::BucketAlreadyOwnedByYou, 409),
        (S3ErrorCode::BucketNotEmpty, 409),
        (S3ErrorCode::EntityTooLarge, 400),
        (S3ErrorCode::EntityTooSmall, 400),
        (S3ErrorCode::IncompleteBody, 400),
        (S3ErrorCode::InternalError, 500),
        (S3ErrorCode::InvalidAccessKeyId, 403),
        (S3ErrorCode::InvalidObjectState, 403),
        (S3ErrorCode::InvalidPartNumber, 416),
        (S3ErrorCode::InvalidRange, 416),
        (S3ErrorCode::KeyTooLongError, 400),
        (S3ErrorCode::MethodNotAllowed, 405),
        (S3ErrorCode::MissingContentLength, 411),
        (S3ErrorCode::NoSuchBucket, 404),
        (S3ErrorCode::NoSuchKey, 404),
        (S3ErrorCode::NoSuchUpload, 404),
        (S3ErrorCode::NotImplemented, 501),
        (S3ErrorCode::NotModified, 304),
        (S3ErrorCode::PreconditionFailed, 412),
        (S3ErrorCode::RequestHeaderSectionTooLarge, 431),
        (S3ErrorCode::RequestTimeTooSkewed, 403),
        (S3ErrorCode::ServiceUnavailable, 503),
        (S3ErrorCode::SignatureDoesNotMatch, 403),
        (S3ErrorCode::SlowDown, 503),
        (S3ErrorCode::XAmzContentSHA256Mismatch, 400),
        (S3ErrorCode::XMinioStorageFull, 507),
    ];
    for (code, status) in table {
        assert_eq!(code.http_status(), *status, "{code:?}");
    }
}

#[test]
fn error_xml_has_the_aws_shape() {
    let err = S3Error::new(S3ErrorCode::NoSuchKey)
        .resource("/bkt/a&b")
        .extra("Key", "a&b");
    assert_eq!(
        error_response_xml(&err, "req-1", "host-1"),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>\
         <Message>The specified key does not exist.</Message>\
         <Resource>/bkt/a&amp;b</Resource><RequestId>req-1</RequestId>\
         <HostId>host-1</HostId><Key>a&amp;b</Key></Error>"
    );
}

#[test]
fn error_xml_escapes_message_and_omits_missing_resource() {
    let err = S3Error::with_message(S3ErrorCode::InvalidArgument, "<bad> \"x\" 'y'\u{1}");
    assert_eq!(
        error_response_xml(&err, "r", "h"),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InvalidArgument</Code>\
         <Message>&lt;bad&gt; &quot;x&quot; &apos;y&apos;\u{fffd}</Message>\
         <RequestId>r</RequestId><HostId>h</HostId></Error>"
    );
}

#[test]
fn invalid_argument_names_the_argument() {
    let err = S3Error::invalid_argument("Part number must be an integer", "partNumber", "1e3");
    assert_eq!(err.code, S3ErrorCode::InvalidArgument);
    assert_eq!(
        err.extra,
        vec![
            ("ArgumentName", "partNumber".to_owned()),
            ("ArgumentValue", "1e3".to_owned())
        ]
    );
    assert_eq!(
        err.to_string(),
        "InvalidArgument: Part number must be an integer"
    );
}
