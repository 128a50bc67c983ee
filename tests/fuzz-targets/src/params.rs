//! Small header and query parsers: the query string (router `QueryParams`, `partNumber`,
//! `encoding-type`, `x-amz-copy-source`) and byte ranges and dates (`Range`,
//! `x-amz-copy-source-range`, HTTP dates, ISO-8601 times).

use base::limits::{PART_NUMBER_MAX, PART_NUMBER_MIN};
use base::names::{validate_bucket_name, validate_object_key};
use frontend::handlers::copy::{parse_copy_range, parse_copy_source};
use frontend::handlers::object::parse_range;
use s3_proto::router::{QueryParams, parse_part_number};
use s3_proto::time_format::{
    http_date_from_secs, iso8601_millis, parse_http_date, parse_iso8601_millis,
};
use s3_proto::xml::EncodingType;

/// Input: a raw query string (after `?`), also read as an `x-amz-copy-source` value.
pub fn query(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(source) = parse_copy_source(text) {
        assert!(validate_bucket_name(&source.bucket).is_ok());
        assert!(validate_object_key(&source.key).is_ok());
    }
    let Ok(query) = QueryParams::parse(text) else {
        return;
    };
    // A name appears once, so the router, the handlers and the signature check can never
    // disagree about which value counts.
    let names: Vec<&str> = query.iter().map(|(name, _)| name).collect();
    for (index, name) in names.iter().enumerate() {
        assert!(!names[..index].contains(name), "{name} twice");
        assert_eq!(
            query.get(name),
            query.iter().nth(index).map(|(_, value)| value)
        );
    }
    assert_eq!(query.len(), names.len());
    if let Some(value) = query.get("partNumber")
        && let Ok(part_number) = parse_part_number(value)
    {
        assert!((PART_NUMBER_MIN..=PART_NUMBER_MAX).contains(&part_number));
    }
    let _ = EncodingType::from_query(query.get("encoding-type"));
}

/// 9999-12-31T23:59:59.999Z, the last time the ISO-8601 writer does not clamp.
const ISO8601_MILLIS_MAX: i64 = 253_402_300_799_999;

/// Object sizes the range target checks against, chosen by the first input byte.
const SIZES: [u64; 8] = [0, 1, 2, 10, 1000, 1 << 40, u64::MAX - 1, u64::MAX];

/// Input: one byte choosing the object size from [`SIZES`], then a header value read as a
/// `Range`, an `x-amz-copy-source-range`, an HTTP date and an ISO-8601 time.
pub fn range(data: &[u8]) {
    let Some((&size_choice, value)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(value) else {
        return;
    };
    let size = SIZES[usize::from(size_choice) % SIZES.len()];
    if let Ok(Some(range)) = parse_range(text, size) {
        // A satisfiable range lies inside the object and is not empty.
        assert!(
            range.start < range.end && range.end <= size,
            "{range:?} of {size}"
        );
    }
    let _ = parse_copy_range(text);
    if let Some(secs) = parse_http_date(text) {
        // What we write (Last-Modified) reads back as the same second.
        assert_eq!(parse_http_date(&http_date_from_secs(secs)), Some(secs));
    }
    // Times before 1970 or after 9999 are written clamped (time_format.rs), on purpose.
    if let Some(millis) = parse_iso8601_millis(text)
        && (0..=ISO8601_MILLIS_MAX).contains(&millis)
    {
        assert_eq!(parse_iso8601_millis(&iso8601_millis(millis)), Some(millis));
    }
}
