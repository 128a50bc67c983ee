use super::*;
use crate::error::S3ErrorCode;

const NS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

fn header(root: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root} xmlns=\"{NS}\">")
}

fn code_of<T: std::fmt::Debug>(result: Result<T, crate::error::S3Error>) -> S3ErrorCode {
    result.expect_err("expected an error").code
}

// ---- escaping and encoding ----

#[test]
fn escape_covers_markup_and_control_characters() {
    assert_eq!(escape("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
    assert_eq!(escape("t\tn\nr\r"), "t&#x9;n&#xA;r&#xD;");
    assert_eq!(
        escape("x\u{1}y\u{1f}z\u{fffe}\u{ffff}"),
        "x\u{fffd}y\u{fffd}z\u{fffd}\u{fffd}"
    );
    assert_eq!(escape("\u{7f}\u{85}日本"), "\u{7f}\u{85}日本");
}

#[test]
fn url_encoding_keeps_unreserved_and_slash() {
    let mut out = String::new();
    url_encode_into(&mut out, "a/b c+d%e~f_g.h-i*日\u{1}");
    assert_eq!(out, "a/b%20c%2Bd%25e~f_g.h-i%2A%E6%97%A5%01");
}

#[test]
fn encoding_type_accepts_only_url() {
    assert_eq!(EncodingType::from_query(None).unwrap(), None);
    assert_eq!(
        EncodingType::from_query(Some("url")).unwrap(),
        Some(EncodingType::Url)
    );
    assert_eq!(
        EncodingType::from_query(Some("URL")).unwrap(),
        Some(EncodingType::Url)
    );
    assert_eq!(
        code_of(EncodingType::from_query(Some("base64"))),
        S3ErrorCode::InvalidArgument
    );
}

#[test]
fn etag_quotes_are_stripped_once() {
    assert_eq!(strip_etag_quotes("\"abc\""), "abc");
    assert_eq!(strip_etag_quotes("abc"), "abc");
    assert_eq!(strip_etag_quotes(" \"abc-2\" "), "abc-2");
    assert_eq!(strip_etag_quotes("\""), "\"");
}

// ---- writers ----

fn owner() -> Owner {
    Owner {
        id: "id1".to_owned(),
        display_name: "me".to_owned(),
    }
}

fn object(key: &str) -> Object {
    Object {
        key: key.to_owned(),
        last_modified_ms: 1_255_369_830_000,
        etag: "d41d8cd98f00b204e9800998ecf8427e".to_owned(),
        size_bytes: 42,
        storage_class: "STANDARD".to_owned(),
        owner: None,
        checksum_algorithm: None,
    }
}

#[test]
fn list_buckets_has_the_aws_shape() {
    let result = ListAllMyBucketsResult {
        owner: owner(),
        buckets: vec![Bucket {
            name: "bkt".to_owned(),
            creation_date_ms: 1_255_369_830_000,
            bucket_region: None,
        }],
        continuation_token: None,
        prefix: None,
    };
    assert_eq!(
        result.to_xml(),
        format!(
            "{}<Owner><ID>id1</ID><DisplayName>me</DisplayName></Owner><Buckets><Bucket>\
             <Name>bkt</Name><CreationDate>2009-10-12T17:50:30.000Z</CreationDate></Bucket>\
             </Buckets></ListAllMyBucketsResult>",
            header("ListAllMyBucketsResult")
        )
    );
}

#[test]
fn list_objects_v2_has_the_aws_shape() {
    let result = ListObjectsV2Result {
        name: "bkt".to_owned(),
        prefix: "a/".to_owned(),
        delimiter: Some("/".to_owned()),
        max_keys: 1000,
        is_truncated: true,
        continuation_token: Some("tok+1".to_owned()),
        next_continuation_token: Some("tok&2".to_owned()),
        start_after: None,
        encoding_type: None,
        contents: vec![Object {
            owner: Some(owner()),
            ..object("a/x&y")
        }],
        common_prefixes: vec![CommonPrefix {
            prefix: "a/b/".to_owned(),
        }],
    };
    assert_eq!(
        result.to_xml(),
        format!(
            "{}<Name>bkt</Name><Prefix>a/</Prefix><ContinuationToken>tok+1</ContinuationToken>\
             <NextContinuationToken>tok&amp;2</NextContinuationToken><KeyCount>2</KeyCount>\
             <MaxKeys>1000</MaxKeys><Delimiter>/</Delimiter><IsTruncated>true</IsTruncated>\
             <Contents><Key>a/x&amp;y</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified>\
             <ETag>&quot;d41d8cd98f00b204e9800998ecf8427e&quot;</ETag><Size>42</Size>\
             <Owner><ID>id1</ID><DisplayName>me</DisplayName></Owner>\
             <StorageClass>STANDARD</StorageClass></Contents>\
             <CommonPrefixes><Prefix>a/b/</Prefix></CommonPrefixes></ListBucketResult>",
            header("ListBucketResult")
        )
    );
}

#[test]
fn list_objects_v2_url_encodes_keys_when_asked() {
    let result = ListObjectsV2Result {
        name: "bkt".to_owned(),
        prefix: "a b/".to_owned(),
        delimiter: Some("/".to_owned()),
        max_keys: 2,
        is_truncated: false,
        continuation_token: None,
        next_continuation_token: None,
        start_after: Some("a b/0".to_owned()),
        encoding_type: Some(EncodingType::Url),
        contents: vec![object("a b/x+y\u{1}")],
        common_prefixes: vec![CommonPrefix {
            prefix: "a b/%/".to_owned(),
        }],
    };
    let xml = result.to_xml();
    assert!(xml.contains("<Prefix>a%20b/</Prefix>"), "{xml}");
    assert!(xml.contains("<EncodingType>url</EncodingType>"), "{xml}");
    assert!(xml.contains("<StartAfter>a%20b/0</StartAfter>"), "{xml}");
    assert!(xml.contains("<Key>a%20b/x%2By%01</Key>"), "{xml}");
    assert!(
        xml.contains("<CommonPrefixes><Prefix>a%20b/%25/</Prefix></CommonPrefixes>"),
        "{xml}"
    );
    assert!(xml.contains("<KeyCount>2</KeyCount>"), "{xml}");
}

#[test]
fn list_objects_v1_has_markers() {
    let result = ListObjectsV1Result {
        name: "bkt".to_owned(),
        prefix: String::new(),
        marker: String::new(),
        next_marker: Some("k 1".to_owned()),
        delimiter: None,
        max_keys: 1000,
        is_truncated: true,
        encoding_type: Some(EncodingType::Url),
        contents: vec![Object {
            owner: Some(owner()),
            ..object("k 1")
        }],
        common_prefixes: Vec::new(),
    };
    assert_eq!(
        result.to_xml(),
        format!(
            "{}<Name>bkt</Name><Prefix></Prefix><Marker></Marker><NextMarker>k%201</NextMarker>\
             <MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated>\
             <EncodingType>url</EncodingType><Contents><Key>k%201</Key>\
             <LastModified>2009-10-12T17:50:30.000Z</LastModified>\
             <ETag>&quot;d41d8cd98f00b204e9800998ecf8427e&quot;</ETag><Size>42</Size>\
             <Owner><ID>id1</ID><DisplayName>me</DisplayName></Owner>\
             <StorageClass>STANDARD</StorageClass></Contents></ListBucketResult>",
            header("ListBucketResult")
        )
    );
}

#[test]
fn location_constraint_is_empty_for_us_east_1() {
    assert_eq!(
        location_constraint_xml("us-east-1"),
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"{NS}\"/>")
    );
    assert_eq!(
        location_constraint_xml("eu-west-1"),
        format!(
            "{}eu-west-1</LocationConstraint>",
            header("LocationConstraint")
        )
    );
}

#[test]
fn multipart_and_copy_results_have_the_aws_shape() {
    let initiate = InitiateMultipartUploadResult {
        bucket: "bkt".to_owned(),
        key: "a<b".to_owned(),
        upload_id: "u1".to_owned(),
    };
    assert_eq!(
        initiate.to_xml(),
        format!(
            "{}<Bucket>bkt</Bucket><Key>a&lt;b</Key><UploadId>u1</UploadId>\
             </InitiateMultipartUploadResult>",
            header("InitiateMultipartUploadResult")
        )
    );
    let complete = CompleteMultipartUploadResult {
        location: "http://127.0.0.1:9000/bkt/k".to_owned(),
        bucket: "bkt".to_owned(),
        key: "k".to_owned(),
        etag: "\"abc-2\"".to_owned(),
        checksum_crc32: Some("AAAAAA==-2".to_owned()),
        ..CompleteMultipartUploadResult::default()
    };
    assert_eq!(
        complete.to_xml(),
        format!(
            "{}<Location>http://127.0.0.1:9000/bkt/k</Location><Bucket>bkt</Bucket><Key>k</Key>\
             <ETag>&quot;abc-2&quot;</ETag><ChecksumCRC32>AAAAAA==-2</ChecksumCRC32>\
             </CompleteMultipartUploadResult>",
            header("CompleteMultipartUploadResult")
        )
    );
    let copy = CopyObjectResult {
        etag: "abc".to_owned(),
        last_modified_ms: 1_255_369_830_000,
        checksum: None,
    };
    assert_eq!(
        copy.to_xml(),
        format!(
            "{}<LastModified>2009-10-12T17:50:30.000Z</LastModified>\
             <ETag>&quot;abc&quot;</ETag></CopyObjectResult>",
            header("CopyObjectResult")
        )
    );
    let part = CopyPartResult {
        etag: "abc".to_owned(),
        last_modified_ms: 0,
        checksum: None,
    };
    assert!(
        part.to_xml()
            .ends_with("<ETag>&quot;abc&quot;</ETag></CopyPartResult>")
    );
    let part = CopyPartResult {
        checksum: Some(("ChecksumCRC32", "AAAAAA==".to_owned())),
        ..part
    };
    assert!(part.to_xml().ends_with(
        "<ETag>&quot;abc&quot;</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></CopyPartResult>"
    ));
}

#[test]
fn delete_result_has_deleted_and_error_entries() {
    let result = DeleteResult {
        deleted: vec![
            Deleted {
                key: "a".to_owned(),
                ..Deleted::default()
            },
            Deleted {
                key: "b".to_owned(),
                version_id: Some("v1".to_owned()),
                delete_marker: true,
                delete_marker_version_id: Some("v2".to_owned()),
            },
        ],
        errors: vec![DeleteError {
            key: "c&".to_owned(),
            version_id: None,
            code: S3ErrorCode::AccessDenied,
            message: None,
        }],
    };
    assert_eq!(
        result.to_xml(),
        format!(
            "{}<Deleted><Key>a</Key></Deleted><Deleted><Key>b</Key><VersionId>v1</VersionId>\
             <DeleteMarker>true</DeleteMarker><DeleteMarkerVersionId>v2</DeleteMarkerVersionId>\
             </Deleted><Error><Key>c&amp;</Key><Code>AccessDenied</Code>\
             <Message>Access Denied</Message></Error></DeleteResult>",
            header("DeleteResult")
        )
    );
}

// ---- CreateBucketConfiguration ----

#[test]
fn create_bucket_configuration_parses_location() {
    assert_eq!(parse_create_bucket_configuration(b"").unwrap(), None);
    assert_eq!(parse_create_bucket_configuration(b" \r\n").unwrap(), None);
    let body = format!(
        "<CreateBucketConfiguration xmlns=\"{NS}\"><LocationConstraint>eu-west-1\
         </LocationConstraint></CreateBucketConfiguration>"
    );
    assert_eq!(
        parse_create_bucket_configuration(body.as_bytes())
            .unwrap()
            .as_deref(),
        Some("eu-west-1")
    );
    let body = b"<?xml version=\"1.0\"?><CreateBucketConfiguration><LocationConstraint/>\
                 </CreateBucketConfiguration>";
    assert_eq!(parse_create_bucket_configuration(body).unwrap(), None);
    let body = b"<CreateBucketConfiguration><Bucket><Type>Directory</Type></Bucket>\
                 <LocationConstraint>us-west-2</LocationConstraint></CreateBucketConfiguration>";
    assert_eq!(
        parse_create_bucket_configuration(body).unwrap().as_deref(),
        Some("us-west-2")
    );
}

#[test]
fn create_bucket_configuration_rejects_bad_bodies() {
    for body in [
        "<CreateBucketConfiguration><Unknown/></CreateBucketConfiguration>",
        "<Other><LocationConstraint>x</LocationConstraint></Other>",
        "<CreateBucketConfiguration><LocationConstraint>a</LocationConstraint>\
         <LocationConstraint>b</LocationConstraint></CreateBucketConfiguration>",
        "<CreateBucketConfiguration>",
        "not xml",
    ] {
        assert_eq!(
            code_of(parse_create_bucket_configuration(body.as_bytes())),
            S3ErrorCode::MalformedXML,
            "{body}"
        );
    }
}

// ---- CompleteMultipartUpload ----

fn complete_body(parts: &str) -> String {
    format!("<CompleteMultipartUpload xmlns=\"{NS}\">{parts}</CompleteMultipartUpload>")
}

#[test]
fn complete_multipart_upload_parses_boto3_and_s3cmd_shapes() {
    let boto3 = complete_body(
        "<Part><ETag>\"e1\"</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32><PartNumber>1</PartNumber>\
         </Part>\n  <Part><ETag>&quot;e2&quot;</ETag><PartNumber>2</PartNumber></Part>",
    );
    let parts = parse_complete_multipart_upload(boto3.as_bytes()).unwrap();
    assert_eq!(
        parts,
        vec![
            CompletedPart {
                part_number: 1,
                etag: "e1".to_owned(),
                checksum_crc32: Some("AAAAAA==".to_owned()),
                ..CompletedPart::default()
            },
            CompletedPart {
                part_number: 2,
                etag: "e2".to_owned(),
                ..CompletedPart::default()
            },
        ]
    );
    let s3cmd = "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>e1</ETag></Part>\
                 </CompleteMultipartUpload>";
    let parts = parse_complete_multipart_upload(s3cmd.as_bytes()).unwrap();
    assert_eq!(parts[0].etag, "e1");
    let prefixed = "<s3:CompleteMultipartUpload xmlns:s3=\"x\"><s3:Part><s3:PartNumber>3\
                    </s3:PartNumber><s3:ETag>e3</s3:ETag>\
                    <s3:ChecksumCRC64NVME>x</s3:ChecksumCRC64NVME>\
                    <ChecksumSHA256>y</ChecksumSHA256></s3:Part></s3:CompleteMultipartUpload>";
    let parts = parse_complete_multipart_upload(prefixed.as_bytes()).unwrap();
    assert_eq!(parts[0].part_number, 3);
    assert_eq!(parts[0].checksum_crc64nvme.as_deref(), Some("x"));
    assert_eq!(parts[0].checksum_sha256.as_deref(), Some("y"));
}

#[test]
fn complete_multipart_upload_part_numbers_are_checked() {
    let part = |number: &str| {
        complete_body(&format!(
            "<Part><PartNumber>{number}</PartNumber><ETag>e</ETag></Part>"
        ))
    };
    for number in ["0", "10001", "4294967296", "99999999999999999999"] {
        assert_eq!(
            code_of(parse_complete_multipart_upload(part(number).as_bytes())),
            S3ErrorCode::InvalidArgument,
            "{number}"
        );
    }
    for number in ["-1", "+1", "1e3", "0x10", "", "one"] {
        assert_eq!(
            code_of(parse_complete_multipart_upload(part(number).as_bytes())),
            S3ErrorCode::MalformedXML,
            "{number:?}"
        );
    }
    assert_eq!(
        parse_complete_multipart_upload(part("10000").as_bytes()).unwrap()[0].part_number,
        10_000
    );
}

#[test]
fn complete_multipart_upload_rejects_bad_structure() {
    for body in [
        complete_body(""),
        complete_body("<Part><ETag>e</ETag></Part>"),
        complete_body("<Part><PartNumber>1</PartNumber></Part>"),
        complete_body(
            "<Part><PartNumber>1</PartNumber><PartNumber>2</PartNumber><ETag>e</ETag></Part>",
        ),
        complete_body("<Part><PartNumber>1</PartNumber><ETag>e</ETag><Size>1</Size></Part>"),
        complete_body("<Unknown/>"),
        complete_body("junk<Part><PartNumber>1</PartNumber><ETag>e</ETag></Part>"),
        complete_body("<Part><PartNumber>1</PartNumber><ETag>e</ETag></Part>")
            + "<CompleteMultipartUpload/>",
        "<Delete/>".to_owned(),
        "<CompleteMultipartUpload><Part>".to_owned(),
        "<CompleteMultipartUpload></Wrong>".to_owned(),
    ] {
        assert_eq!(
            code_of(parse_complete_multipart_upload(body.as_bytes())),
            S3ErrorCode::MalformedXML,
            "{body}"
        );
    }
}

#[test]
fn complete_multipart_upload_caps_parts_at_10000() {
    let one = "<Part><PartNumber>1</PartNumber><ETag>e</ETag></Part>";
    let body = complete_body(&one.repeat(10_000));
    assert_eq!(
        parse_complete_multipart_upload(body.as_bytes())
            .unwrap()
            .len(),
        10_000
    );
    let body = complete_body(&one.repeat(10_001));
    assert_eq!(
        code_of(parse_complete_multipart_upload(body.as_bytes())),
        S3ErrorCode::MalformedXML
    );
}

#[test]
fn part_order_must_be_strictly_ascending() {
    let parts = |numbers: &[u32]| -> Vec<CompletedPart> {
        numbers
            .iter()
            .map(|n| CompletedPart {
                part_number: *n,
                ..CompletedPart::default()
            })
            .collect()
    };
    assert!(check_part_order(&parts(&[1, 2, 5])).is_ok());
    assert!(check_part_order(&parts(&[7])).is_ok());
    assert_eq!(
        code_of(check_part_order(&parts(&[2, 1]))),
        S3ErrorCode::InvalidPartOrder
    );
    assert_eq!(
        code_of(check_part_order(&parts(&[1, 1]))),
        S3ErrorCode::InvalidPartOrder
    );
}

// ---- Delete ----

fn delete_body(inner: &str) -> String {
    format!("<Delete xmlns=\"{NS}\">{inner}</Delete>")
}

#[test]
fn delete_parses_keys_versions_and_quiet() {
    let body = delete_body(
        "<Quiet>true</Quiet><Object><Key> a b </Key></Object>\
         <Object><Key>k</Key><VersionId>v1</VersionId><ETag>\"e\"</ETag><Size>5</Size>\
         <LastModifiedTime>2009-10-12T17:50:30.000Z</LastModifiedTime></Object>",
    );
    let request = parse_delete(body.as_bytes()).unwrap();
    assert!(request.quiet);
    assert_eq!(
        request.objects,
        vec![
            ObjectIdentifier {
                key: " a b ".to_owned(),
                ..ObjectIdentifier::default()
            },
            ObjectIdentifier {
                key: "k".to_owned(),
                version_id: Some("v1".to_owned()),
                etag: Some("e".to_owned()),
                last_modified_time: Some("2009-10-12T17:50:30.000Z".to_owned()),
                size_bytes: Some(5),
            },
        ]
    );
    let request = parse_delete(b"<Delete><Object><Key>k</Key></Object></Delete>").unwrap();
    assert!(!request.quiet);
}

#[test]
fn delete_keys_are_decoded_but_not_validated() {
    let body = delete_body(
        "<Object><Key>..&#x2F;..&#x2F;etc&#x2F;passwd</Key></Object>\
         <Object><Key><![CDATA[../x]]></Key></Object>\
         <Object><Key>a&amp;b&lt;&gt;&quot;&apos;&#65;</Key></Object>\
         <Object><Key></Key></Object>",
    );
    let keys: Vec<String> = parse_delete(body.as_bytes())
        .unwrap()
        .objects
        .into_iter()
        .map(|o| o.key)
        .collect();
    assert_eq!(keys, ["../../etc/passwd", "../x", "a&b<>\"'A", ""]);
}

#[test]
fn delete_caps_objects_at_1000() {
    let one = "<Object><Key>k</Key></Object>";
    assert_eq!(
        parse_delete(delete_body(&one.repeat(1000)).as_bytes())
            .unwrap()
            .objects
            .len(),
        1000
    );
    assert_eq!(
        code_of(parse_delete(delete_body(&one.repeat(1001)).as_bytes())),
        S3ErrorCode::MalformedXML
    );
}

#[test]
fn delete_rejects_bad_bodies() {
    for body in [
        delete_body(""),
        delete_body("<Quiet>true</Quiet>"),
        delete_body("<Quiet>yes</Quiet><Object><Key>k</Key></Object>"),
        delete_body("<Object><VersionId>v</VersionId></Object>"),
        delete_body("<Object><Key>a</Key><Key>b</Key></Object>"),
        delete_body("<Object><Key>a</Key><Size>-1</Size></Object>"),
        delete_body("<Object><Key>a</Key><Bogus/></Object>"),
        delete_body("<Object><Key>a<Nested/></Key></Object>"),
        delete_body("<Object><Key>&unknown;</Key></Object>"),
        delete_body("<Object><Key>&#0;</Key></Object>"),
        "<Delete><Object><Key>a</Key></Object>".to_owned(),
    ] {
        assert_eq!(
            code_of(parse_delete(body.as_bytes())),
            S3ErrorCode::MalformedXML,
            "{body}"
        );
    }
}

// ---- hostile inputs (BAD-INPUTS.md X1-X4) ----

#[test]
fn doctype_and_entities_are_rejected() {
    let billion_laughs = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">\
        <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>\
        <Delete><Object><Key>&lol2;</Key></Object></Delete>";
    assert_eq!(
        code_of(parse_delete(billion_laughs.as_bytes())),
        S3ErrorCode::MalformedXML
    );
    let xxe = "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\
        <Delete><Object><Key>&x;</Key></Object></Delete>";
    assert_eq!(
        code_of(parse_delete(xxe.as_bytes())),
        S3ErrorCode::MalformedXML
    );
    let no_doctype_entity = "<Delete><Object><Key>&x;</Key></Object></Delete>";
    assert_eq!(
        code_of(parse_delete(no_doctype_entity.as_bytes())),
        S3ErrorCode::MalformedXML
    );
}

/// Found by the `xml_bodies` fuzz target: a NUL byte inside `<AllowedOrigin>` was accepted,
/// stored, and written back by GetBucketCors as U+FFFD. Characters outside XML 1.0's `Char`
/// are refused raw and as references, in every body; tab, LF, CR and the rest pass.
#[test]
fn characters_xml_cannot_carry_are_rejected() {
    let cors = |origin: &str| {
        format!(
            "<CORSConfiguration><CORSRule><AllowedOrigin>{origin}</AllowedOrigin>\
             <AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>"
        )
    };
    for origin in [
        "a\0b",
        "a\u{1}b",
        "a&#x1;b",
        "a&#xFFFE;b",
        "a\u{ffff}b",
        "a&#x1F;b",
    ] {
        assert_eq!(
            code_of(parse_cors_configuration(cors(origin).as_bytes())),
            S3ErrorCode::MalformedXML,
            "{origin:?}"
        );
    }
    let rules = parse_cors_configuration(cors("https://a\u{fffd}&#x10FFFF;.example").as_bytes());
    assert_eq!(
        rules.unwrap()[0].allowed_origins,
        ["https://a\u{fffd}\u{10ffff}.example"]
    );
    let key = parse_delete(delete_body("<Object><Key>a&#x9;b&#xA;c</Key></Object>").as_bytes());
    assert_eq!(key.unwrap().objects[0].key, "a\tb\nc");
    let control = delete_body("<Object><Key>a\u{7}b</Key></Object>");
    assert_eq!(
        code_of(parse_delete(control.as_bytes())),
        S3ErrorCode::MalformedXML
    );
}

#[test]
fn deep_nesting_is_rejected_without_recursion() {
    let depth = 100_000;
    let body = format!("{}{}", "<Delete>".repeat(depth), "</Delete>".repeat(depth));
    assert_eq!(
        code_of(parse_delete(body.as_bytes())),
        S3ErrorCode::MalformedXML
    );
}

#[test]
fn oversized_or_non_utf8_bodies_are_rejected() {
    let huge = vec![b' '; base::limits::XML_BODY_BYTES_MAX + 1];
    assert_eq!(
        code_of(parse_delete(&huge)),
        S3ErrorCode::MaxMessageLengthExceeded
    );
    assert_eq!(
        code_of(parse_delete(b"<Delete>\xff</Delete>")),
        S3ErrorCode::MalformedXML
    );
    let with_bom = b"\xEF\xBB\xBF<Delete><Object><Key>k</Key></Object></Delete>";
    assert_eq!(parse_delete(with_bom).unwrap().objects.len(), 1);
}

/// The run-copying `escape_into` against the character-by-character rule it replaced.
#[test]
fn escaping_copies_clean_runs_and_replaces_exactly_what_the_rule_names() {
    fn reference(text: &str) -> String {
        let mut out = String::new();
        for character in text.chars() {
            match character {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                '\'' => out.push_str("&apos;"),
                '\t' => out.push_str("&#x9;"),
                '\n' => out.push_str("&#xA;"),
                '\r' => out.push_str("&#xD;"),
                '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
                other => out.push(other),
            }
        }
        out
    }
    for text in [
        "",
        "plain/key.txt",
        "a&b<c>d\"e'f",
        "tab\there\nnew\rline\u{1}\u{1f}",
        "ünïcödé 日本 😀 \u{efbf}\u{fffd}\u{fffe}\u{ffff}\u{feff}x",
        "&",
        "\u{fffe}",
        "end with ü",
    ] {
        assert_eq!(super::escape(text), reference(text), "{text:?}");
    }
}
