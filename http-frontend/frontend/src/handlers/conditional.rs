//! Conditional requests: `If-Match`, `If-None-Match`, `If-Modified-Since` and
//! `If-Unmodified-Since` on GET and HEAD (RFC 7232 section 6, as S3 evaluates them), and the
//! `If-None-Match: *` / `If-Match` preconditions of conditional writes, which the partition's
//! worker checks inside its transaction (`shard::meta::WriteCondition`).

use s3_proto::error::{S3Error, S3ErrorCode};
use s3_proto::time_format::parse_http_date;
use shard::ObjectRecord;
use shard::meta::WriteCondition;

use crate::exchange::Exchange;

/// What the preconditions of a GET or HEAD decided.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadDecision {
    /// Serve the object.
    Proceed,
    /// Answer 304 Not Modified: ETag and Last-Modified, no body.
    NotModified,
}

/// The entity tags of an `If-Match` / `If-None-Match` value, quotes and weakness prefix
/// stripped; `*` stays `*`.
fn entity_tags(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|tag| !tag.is_empty())
        .map(|tag| {
            let tag = tag.strip_prefix("W/").unwrap_or(tag);
            tag.trim_matches('"').to_owned()
        })
        .collect()
}

pub(crate) fn etag_matches(value: &str, etag: &str) -> bool {
    entity_tags(value)
        .iter()
        .any(|tag| tag == "*" || tag.eq_ignore_ascii_case(etag))
}

fn precondition_failed(condition: &'static str) -> S3Error {
    S3Error::new(S3ErrorCode::PreconditionFailed).extra("Condition", condition)
}

/// Evaluates the read preconditions against the current object, in RFC 7232 order: a true
/// `If-Match` makes S3 ignore `If-Unmodified-Since`, a false `If-None-Match` (the ETag matches)
/// answers 304 whatever `If-Modified-Since` says. A failed `If-Match` or `If-Unmodified-Since`
/// is `PreconditionFailed` (412). Unparsable dates are ignored.
pub fn evaluate_read(
    exchange: &Exchange<'_>,
    record: &ObjectRecord,
) -> Result<ReadDecision, S3Error> {
    let head = &exchange.head;
    let last_modified_secs = record.last_modified_ms.div_euclid(1000);
    if let Some(value) = head.header_str("if-match") {
        if !etag_matches(value, &record.etag) {
            return Err(precondition_failed("If-Match"));
        }
    } else if let Some(since) = head
        .header_str("if-unmodified-since")
        .and_then(parse_http_date)
        && last_modified_secs > since
    {
        return Err(precondition_failed("If-Unmodified-Since"));
    }
    if let Some(value) = head.header_str("if-none-match") {
        if etag_matches(value, &record.etag) {
            return Ok(ReadDecision::NotModified);
        }
    } else if let Some(since) = head
        .header_str("if-modified-since")
        .and_then(parse_http_date)
        && last_modified_secs <= since
    {
        return Ok(ReadDecision::NotModified);
    }
    Ok(ReadDecision::Proceed)
}

/// The precondition of a PutObject or CompleteMultipartUpload: `If-None-Match` accepts only
/// `*` (S3 answers NotImplemented for an ETag there), `If-Match` a list of ETags.
pub fn write_condition(exchange: &Exchange<'_>) -> Result<WriteCondition, S3Error> {
    let head = &exchange.head;
    let mut condition = WriteCondition::default();
    if let Some(value) = head.header_str("if-none-match") {
        if value.trim() != "*" {
            return Err(S3Error::new(S3ErrorCode::NotImplemented).extra("Header", "If-None-Match"));
        }
        condition.must_be_absent = true;
    }
    if let Some(value) = head.header_str("if-match") {
        let tags = entity_tags(value);
        if tags.is_empty() {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidArgument,
                "The If-Match header must name an ETag",
            ));
        }
        condition.etag_in = Some(tags);
    }
    Ok(condition)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_tags_strip_quotes_and_weakness() {
        assert_eq!(
            entity_tags(r#""abc", W/"def" ,*"#),
            vec!["abc".to_owned(), "def".to_owned(), "*".to_owned()]
        );
        assert!(etag_matches("\"ABC\"", "abc"));
        assert!(etag_matches("*", "abc"));
        assert!(!etag_matches("\"abd\"", "abc"));
    }
}
