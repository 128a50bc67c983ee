use super::{NameError, validate_bucket_name, validate_object_key};

fn check_bucket(name: &str, expected: &Result<(), NameError>) {
    assert_eq!(
        &validate_bucket_name(name),
        expected,
        "bucket name {name:?}"
    );
}

#[test]
fn valid_bucket_names_are_accepted() {
    for name in [
        "abc",
        "my-bucket",
        "my.bucket.name",
        "a1b2c3",
        "123",
        "0bucket9",
        "a-.b",
        "192.168.1",
        "1.2.3.4.5",
        "1.2.3.a",
        "xn-a",
        "sthree",
        "bucket-s3aliasx",
        &"a".repeat(63),
    ] {
        check_bucket(name, &Ok(()));
    }
}

#[test]
fn bucket_name_length_is_3_to_63_bytes() {
    check_bucket("", &Err(NameError::BucketNameLength { length_bytes: 0 }));
    check_bucket("ab", &Err(NameError::BucketNameLength { length_bytes: 2 }));
    check_bucket(
        &"a".repeat(64),
        &Err(NameError::BucketNameLength { length_bytes: 64 }),
    );
}

#[test]
fn bucket_name_bad_characters_are_rejected() {
    check_bucket(
        "ABC",
        &Err(NameError::BucketNameCharacter { character: 'A' }),
    );
    check_bucket(
        "my_bucket",
        &Err(NameError::BucketNameCharacter { character: '_' }),
    );
    check_bucket(
        "a/b",
        &Err(NameError::BucketNameCharacter { character: '/' }),
    );
    check_bucket(
        "a b",
        &Err(NameError::BucketNameCharacter { character: ' ' }),
    );
    check_bucket(
        "caf\u{e9}",
        &Err(NameError::BucketNameCharacter {
            character: '\u{e9}',
        }),
    );
    check_bucket(
        "ab\0",
        &Err(NameError::BucketNameCharacter { character: '\0' }),
    );
}

#[test]
fn bucket_name_edges_must_be_letters_or_digits() {
    check_bucket("...", &Err(NameError::BucketNameEdge));
    check_bucket(".abc", &Err(NameError::BucketNameEdge));
    check_bucket("abc.", &Err(NameError::BucketNameEdge));
    check_bucket("-abc", &Err(NameError::BucketNameEdge));
    check_bucket("abc-", &Err(NameError::BucketNameEdge));
}

#[test]
fn bucket_name_traversal_shapes_are_rejected() {
    check_bucket("..", &Err(NameError::BucketNameLength { length_bytes: 2 }));
    check_bucket(".", &Err(NameError::BucketNameLength { length_bytes: 1 }));
    check_bucket("a..b", &Err(NameError::BucketNameAdjacentPeriods));
}

#[test]
fn bucket_name_ip_address_is_rejected() {
    check_bucket("192.168.1.1", &Err(NameError::BucketNameIpAddress));
    check_bucket("999.0.0.1", &Err(NameError::BucketNameIpAddress));
}

#[test]
fn bucket_name_reserved_affixes_are_rejected() {
    check_bucket(
        "xn--abc",
        &Err(NameError::BucketNameReservedPrefix { prefix: "xn--" }),
    );
    check_bucket(
        "sthree-a",
        &Err(NameError::BucketNameReservedPrefix { prefix: "sthree-" }),
    );
    check_bucket(
        "amzn-s3-demo-bucket",
        &Err(NameError::BucketNameReservedPrefix {
            prefix: "amzn-s3-demo-",
        }),
    );
    check_bucket(
        "b-s3alias",
        &Err(NameError::BucketNameReservedSuffix { suffix: "-s3alias" }),
    );
    check_bucket(
        "b--ol-s3",
        &Err(NameError::BucketNameReservedSuffix { suffix: "--ol-s3" }),
    );
    check_bucket(
        "b.mrap",
        &Err(NameError::BucketNameReservedSuffix { suffix: ".mrap" }),
    );
    check_bucket(
        "b--x-s3",
        &Err(NameError::BucketNameReservedSuffix { suffix: "--x-s3" }),
    );
    check_bucket(
        "b--table-s3",
        &Err(NameError::BucketNameReservedSuffix {
            suffix: "--table-s3",
        }),
    );
}

#[test]
fn object_keys_are_opaque_except_empty_long_and_nul() {
    for key in [
        "a",
        "../../etc/passwd",
        "a//b",
        "/leading",
        "\\..\\",
        "./a",
        "with space+plus%25",
        "\u{1}\u{fffe}",
        "日本語/キー",
        &"k".repeat(1024),
    ] {
        assert_eq!(validate_object_key(key), Ok(()), "key {key:?}");
    }
    assert_eq!(validate_object_key(""), Err(NameError::KeyEmpty));
    assert_eq!(
        validate_object_key(&"k".repeat(1025)),
        Err(NameError::KeyTooLong { length_bytes: 1025 })
    );
    // 342 three-byte characters = 1026 bytes: the limit is in bytes, not characters.
    assert_eq!(
        validate_object_key(&"\u{65e5}".repeat(342)),
        Err(NameError::KeyTooLong { length_bytes: 1026 })
    );
    assert_eq!(validate_object_key("a\0b"), Err(NameError::KeyNul));
}

#[test]
fn name_errors_display_a_sentence() {
    let message = NameError::BucketNameLength { length_bytes: 2 }.to_string();
    assert!(message.contains("3 to 63"), "{message}");
}
