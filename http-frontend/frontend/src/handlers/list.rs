//! ListObjectsV2 and ListObjects (v1): the merged listing of all partitions, with exact
//! continuation: the token names the last key or common prefix returned.

use base::limits::LIST_KEYS_MAX;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as TOKEN_BASE64;
use runtime::listing::{ListItem, ListPage, ListQuery, list, next_after_prefix};
use s3_proto::error::S3Error;
use s3_proto::xml::{CommonPrefix, EncodingType, ListObjectsV1Result, ListObjectsV2Result, Object};
use shard::ListStart;

use crate::dispatch::Exchange;
use crate::handlers::bucket::{owner, require_bucket};
use crate::response::Response;
use crate::s3_error;

fn max_keys(exchange: &Exchange<'_>) -> Result<u32, S3Error> {
    match exchange.query.get("max-keys") {
        None => Ok(LIST_KEYS_MAX),
        Some(value) => value
            .parse::<u32>()
            .map(|count| count.min(LIST_KEYS_MAX))
            .map_err(|_| {
                S3Error::invalid_argument(
                    "Provided max-keys not an integer or within integer range",
                    "max-keys",
                    value,
                )
            }),
    }
}

/// Continuation tokens: 'k' + key (continue after the key) or 'p' + prefix (skip the prefix).
fn encode_token(start: &ListStart, page: &ListPage) -> String {
    let mut raw = Vec::new();
    match (page.items.last(), start) {
        (Some(ListItem::CommonPrefix(prefix)), _) => {
            raw.push(b'p');
            raw.extend_from_slice(prefix);
        }
        (Some(ListItem::Object(entry)), _) => {
            raw.push(b'k');
            raw.extend_from_slice(&entry.key);
        }
        (None, ListStart::After(key) | ListStart::AtOrAfter(key)) => {
            raw.push(b'k');
            raw.extend_from_slice(key);
        }
    }
    TOKEN_BASE64.encode(raw)
}

fn decode_token(token: &str) -> Result<ListStart, S3Error> {
    let invalid = || {
        S3Error::invalid_argument(
            "The continuation token provided is incorrect",
            "continuation-token",
            token,
        )
    };
    let raw = TOKEN_BASE64.decode(token).map_err(|_| invalid())?;
    match raw.split_first() {
        Some((b'k', key)) => Ok(ListStart::After(key.to_vec())),
        Some((b'p', prefix)) if !prefix.is_empty() => Ok(next_after_prefix(prefix)),
        _ => Err(invalid()),
    }
}

struct Listed {
    contents: Vec<Object>,
    common_prefixes: Vec<CommonPrefix>,
}

fn to_xml_items(exchange: &Exchange<'_>, page: &ListPage, fetch_owner: bool) -> Listed {
    let owner = fetch_owner.then(|| owner(exchange));
    let mut listed = Listed {
        contents: Vec::new(),
        common_prefixes: Vec::new(),
    };
    for item in &page.items {
        match item {
            ListItem::Object(entry) => listed.contents.push(Object {
                key: String::from_utf8_lossy(&entry.key).into_owned(),
                last_modified_ms: entry.last_modified_ms,
                etag: entry.etag.clone(),
                size_bytes: entry.size_bytes,
                storage_class: "STANDARD".to_owned(),
                owner: owner.clone(),
                checksum_algorithm: None,
            }),
            ListItem::CommonPrefix(prefix) => {
                listed.common_prefixes.push(CommonPrefix {
                    prefix: String::from_utf8_lossy(prefix).into_owned(),
                });
            }
        }
    }
    listed
}

async fn run_listing(
    exchange: &Exchange<'_>,
    start: ListStart,
    max_keys: u32,
) -> Result<ListPage, S3Error> {
    require_bucket(exchange)?;
    let query = ListQuery {
        bucket: exchange.bucket().to_owned(),
        prefix: exchange
            .query
            .get("prefix")
            .unwrap_or("")
            .as_bytes()
            .to_vec(),
        delimiter: exchange
            .query
            .get("delimiter")
            .unwrap_or("")
            .as_bytes()
            .to_vec(),
        start,
        max_keys: max_keys as usize,
    };
    list(exchange.context, &query)
        .await
        .map_err(|e| s3_error::from_shard(&e))
}

pub async fn list_objects_v2(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let max_keys = max_keys(exchange)?;
    let encoding_type = EncodingType::from_query(exchange.query.get("encoding-type"))?;
    let continuation_token = exchange.query.get("continuation-token").map(str::to_owned);
    let start_after = exchange
        .query
        .get("start-after")
        .filter(|value| !value.is_empty())
        .map(str::to_owned);
    let start = match (&continuation_token, &start_after) {
        (Some(token), _) => decode_token(token)?,
        (None, Some(after)) => ListStart::After(after.as_bytes().to_vec()),
        (None, None) => ListStart::After(Vec::new()),
    };
    let page = run_listing(exchange, start.clone(), max_keys).await?;
    let fetch_owner = exchange.query.get("fetch-owner") == Some("true");
    let listed = to_xml_items(exchange, &page, fetch_owner);
    let result = ListObjectsV2Result {
        name: exchange.bucket().to_owned(),
        prefix: exchange.query.get("prefix").unwrap_or("").to_owned(),
        delimiter: exchange
            .query
            .get("delimiter")
            .filter(|d| !d.is_empty())
            .map(str::to_owned),
        max_keys,
        is_truncated: page.is_truncated,
        continuation_token,
        next_continuation_token: page.is_truncated.then(|| encode_token(&start, &page)),
        start_after,
        encoding_type,
        contents: listed.contents,
        common_prefixes: listed.common_prefixes,
    };
    Ok(Response::xml(result.to_xml()))
}

pub async fn list_objects_v1(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let max_keys = max_keys(exchange)?;
    let encoding_type = EncodingType::from_query(exchange.query.get("encoding-type"))?;
    let marker = exchange.query.get("marker").unwrap_or("").to_owned();
    let delimiter = exchange
        .query
        .get("delimiter")
        .filter(|d| !d.is_empty())
        .map(str::to_owned);
    let start = if marker.is_empty() {
        ListStart::After(Vec::new())
    } else {
        match &delimiter {
            // A marker that is a common prefix skips everything under it.
            Some(delimiter) if marker.ends_with(delimiter.as_str()) => {
                next_after_prefix(marker.as_bytes())
            }
            _ => ListStart::After(marker.as_bytes().to_vec()),
        }
    };
    let page = run_listing(exchange, start, max_keys).await?;
    let next_marker = match (page.is_truncated, &delimiter, page.items.last()) {
        (true, Some(_), Some(ListItem::Object(entry))) => {
            Some(String::from_utf8_lossy(&entry.key).into_owned())
        }
        (true, Some(_), Some(ListItem::CommonPrefix(prefix))) => {
            Some(String::from_utf8_lossy(prefix).into_owned())
        }
        _ => None,
    };
    let listed = to_xml_items(exchange, &page, true);
    let result = ListObjectsV1Result {
        name: exchange.bucket().to_owned(),
        prefix: exchange.query.get("prefix").unwrap_or("").to_owned(),
        marker,
        next_marker,
        delimiter,
        max_keys,
        is_truncated: page.is_truncated,
        encoding_type,
        contents: listed.contents,
        common_prefixes: listed.common_prefixes,
    };
    Ok(Response::xml(result.to_xml()))
}
