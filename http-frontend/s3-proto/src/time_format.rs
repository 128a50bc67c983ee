//! Time formats on the S3 wire: ISO-8601 with milliseconds in XML bodies
//! (`2009-10-12T17:50:30.000Z`) and RFC 7231 HTTP dates in headers
//! (`Last-Modified: Mon, 12 Oct 2009 17:50:30 GMT`, `If-Modified-Since`).
//!
//! Pure functions over unix timestamps; this module never reads the clock. Formatting is
//! infallible: timestamps outside 1970-01-01 ..= 9999-12-31T23:59:59.999Z (which our metadata
//! never holds) are clamped into that range, because the HTTP date format cannot express
//! anything else.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Last millisecond of year 9999, the end of the range both formats can express.
/// The last millisecond of year 9999: the latest instant the ISO-8601 writers spell (they
/// clamp to `0..=UNIX_MS_MAX`, so a stored time outside it would not read back as written).
pub const UNIX_MS_MAX: i64 = 253_402_300_799_999;

/// `2009-10-12T17:50:30.000Z` for a unix time in milliseconds (clamped, see module docs).
pub fn iso8601_millis(unix_ms: i64) -> String {
    let mut out = String::with_capacity(24);
    write_iso8601_millis(&mut out, unix_ms);
    out
}

/// Appends `2009-10-12T17:50:30.000Z` for a unix time in milliseconds.
pub fn write_iso8601_millis(out: &mut String, unix_ms: i64) {
    let unix_ms = unix_ms.clamp(0, UNIX_MS_MAX);
    let nanos = i128::from(unix_ms) * 1_000_000;
    let Ok(date_time) = time::OffsetDateTime::from_unix_timestamp_nanos(nanos) else {
        unreachable!("clamped timestamp {unix_ms} ms is representable");
    };
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        date_time.year(),
        u8::from(date_time.month()),
        date_time.day(),
        date_time.hour(),
        date_time.minute(),
        date_time.second(),
        date_time.millisecond()
    );
}

/// `Mon, 12 Oct 2009 17:50:30 GMT` (IMF-fixdate) for a unix time in seconds (clamped).
pub fn http_date_from_secs(unix_secs: i64) -> String {
    let unix_secs = unix_secs.clamp(0, UNIX_MS_MAX / 1000);
    let secs = u64::try_from(unix_secs).unwrap_or(0);
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs))
}

/// `Mon, 12 Oct 2009 17:50:30 GMT` for a unix time in milliseconds, truncated to the second
/// (HTTP dates have one-second resolution).
pub fn http_date_from_millis(unix_ms: i64) -> String {
    http_date_from_secs(unix_ms.div_euclid(1000))
}

/// Parses an HTTP date in any of the three RFC 7231 forms (IMF-fixdate, RFC 850, asctime)
/// into unix seconds. `None` for anything else: callers ignore an unparsable
/// `If-Modified-Since`, as RFC 7232 requires.
pub fn parse_http_date(value: &str) -> Option<i64> {
    let system_time = httpdate::parse_http_date(value.trim()).ok()?;
    let secs = system_time
        .duration_since(SystemTime::UNIX_EPOCH)
        .ok()?
        .as_secs();
    i64::try_from(secs).ok()
}

/// The `Date` header of a signed request: an HTTP date (`GMT`, and the obsolete forms) or an
/// RFC 2822 date with a numeric zone (`+0000`, as the S3 guide's examples and .NET clients
/// send, and `-0000`, as botocore sends when a caller set `Date` on a SigV4 request), as Unix
/// seconds.
pub fn parse_request_date(value: &str) -> Option<i64> {
    let value = value.trim();
    if let Some(secs) = parse_http_date(value) {
        return Some(secs);
    }
    let parsed =
        time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822).ok()?;
    Some(parsed.unix_timestamp())
}

/// Parses an ISO-8601 / RFC 3339 timestamp (`2009-10-12T17:50:30.000Z`, as in Object Lock
/// `RetainUntilDate`) into unix milliseconds, truncating below the millisecond.
pub fn parse_iso8601_millis(value: &str) -> Option<i64> {
    let date_time =
        time::OffsetDateTime::parse(value.trim(), &time::format_description::well_known::Rfc3339)
            .ok()?;
    i64::try_from(date_time.unix_timestamp_nanos() / 1_000_000).ok()
}

#[cfg(test)]
mod tests;
