//! ListObjectsV2, ListObjects (v1) and ListObjectVersions: the merged listing of all
//! partitions, with exact continuation: the token or marker names the last key or common
//! prefix returned. Also the parameter helpers shared with ListMultipartUploads and ListParts.

use base::limits::LIST_KEYS_MAX;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as TOKEN_BASE64;
use runtime::listing::{ListItem, ListPage, ListQuery, list, list_versions, next_after_prefix};
use s3_proto::error::S3Error;
use s3_proto::xml::{
    CommonPrefix, DeleteMarkerEntry, EncodingType, ListObjectsV1Result, ListObjectsV2Result,
    ListVersionsResult, Object, ObjectVersion, Owner, VersionEntry,
};
use shard::{ListStart, VersionRef, VersionStart};

use crate::exchange::Exchange;
use crate::handlers::bucket::{owner, require_bucket};
use crate::handlers::versioning::{bucket_versioning, parse_version};
use crate::response::Response;
use crate::s3_error;

/// The version id of an object written while versioning was never enabled.
const NULL_VERSION_ID: &str = "null";

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

/// A count parameter of a listing (`max-uploads`, `max-parts`) as AWS reads it: absent → the
/// page limit; above the page limit → the page limit; not an integer or negative →
/// `InvalidArgument`.
pub(crate) fn page_size(exchange: &Exchange<'_>, name: &str) -> Result<u32, S3Error> {
    match exchange.query.get(name) {
        None => Ok(LIST_KEYS_MAX),
        Some(value) => Ok(non_negative(name, value)?.min(LIST_KEYS_MAX)),
    }
}

/// A non-negative integer query parameter (capped at `u32::MAX`); AWS's messages otherwise.
pub(crate) fn non_negative(name: &str, value: &str) -> Result<u32, S3Error> {
    let number = value.parse::<i32>().map_err(|_| {
        S3Error::invalid_argument(
            format!("Provided {name} not an integer or within integer range"),
            name,
            value,
        )
    })?;
    u32::try_from(number).map_err(|_| {
        S3Error::invalid_argument(
            format!("Argument {name} must be an integer between 0 and 2147483647"),
            name,
            value,
        )
    })
}

/// A query parameter as bytes, `""` when absent.
pub(crate) fn query_bytes(exchange: &Exchange<'_>, name: &str) -> Vec<u8> {
    exchange.query.get(name).unwrap_or("").as_bytes().to_vec()
}

/// The `delimiter` parameter; an empty one means none.
pub(crate) fn delimiter(exchange: &Exchange<'_>) -> Option<String> {
    exchange
        .query
        .get("delimiter")
        .filter(|d| !d.is_empty())
        .map(str::to_owned)
}

/// Whether a marker returned as `NextMarker`/`NextKeyMarker` is a common prefix of this
/// listing rather than a key: the first delimiter after the prefix ends it. A listing that
/// resumes there skips everything under it.
pub(crate) fn is_common_prefix(marker: &[u8], prefix: &[u8], delimiter: &[u8]) -> bool {
    if delimiter.is_empty() || !marker.starts_with(prefix) {
        return false;
    }
    let rest = &marker[prefix.len()..];
    rest.windows(delimiter.len())
        .position(|window| window == delimiter)
        .is_some_and(|position| position + delimiter.len() == rest.len())
}

/// Where a listing resumes after a v1 `marker` or a `key-marker`.
fn start_after_marker(exchange: &Exchange<'_>, marker: &str) -> ListStart {
    let prefix = query_bytes(exchange, "prefix");
    let delimiter = query_bytes(exchange, "delimiter");
    if marker.is_empty() {
        ListStart::After(Vec::new())
    } else if is_common_prefix(marker.as_bytes(), &prefix, &delimiter) {
        next_after_prefix(marker.as_bytes())
    } else {
        ListStart::After(marker.as_bytes().to_vec())
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
        (Some(ListItem::Entry(entry)), _) => {
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
            ListItem::Entry(entry) => listed.contents.push(Object {
                key: String::from_utf8_lossy(&entry.key).into_owned(),
                last_modified_ms: entry.last_modified_ms,
                etag: entry.etag.clone(),
                size_bytes: entry.size_bytes,
                storage_class: "STANDARD".to_owned(),
                owner: owner.clone(),
                checksum_algorithm: entry.checksum_algorithm.clone(),
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
    if max_keys == 0 {
        // AWS answers max-keys=0 with an empty page that is not truncated (and so carries no
        // continuation), whatever the bucket holds.
        return Ok(ListPage::default());
    }
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
        versioned: bucket_versioning(exchange) != shard::Versioning::Unversioned,
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
    let delimiter = delimiter(exchange);
    let start = start_after_marker(exchange, &marker);
    let page = run_listing(exchange, start, max_keys).await?;
    let next_marker = match (page.is_truncated, &delimiter, page.items.last()) {
        (true, Some(_), Some(ListItem::Entry(entry))) => {
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

/// ListObjectVersions: every version and delete marker, by key and newest first within a
/// key, paged exactly like the other listings (`key-marker` and `version-id-marker` name the
/// last entry returned).
pub async fn list_object_versions(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let max_keys = max_keys(exchange)?;
    let encoding_type = EncodingType::from_query(exchange.query.get("encoding-type"))?;
    let key_marker = exchange.query.get("key-marker").unwrap_or("").to_owned();
    let version_id_marker = exchange
        .query
        .get("version-id-marker")
        .unwrap_or("")
        .to_owned();
    require_bucket(exchange)?;
    let start = versions_start(exchange, &key_marker, &version_id_marker).await?;
    let query = ListQuery {
        bucket: exchange.bucket().to_owned(),
        prefix: query_bytes(exchange, "prefix"),
        delimiter: query_bytes(exchange, "delimiter"),
        start,
        max_keys: max_keys as usize,
        versioned: true,
    };
    let page = list_versions(exchange.context, &query)
        .await
        .map_err(|e| s3_error::from_shard(&e))?;
    let (next_key_marker, next_version_id_marker) = match (page.is_truncated, page.items.last()) {
        (true, Some(ListItem::Entry(entry))) => (
            Some(String::from_utf8_lossy(&entry.key).into_owned()),
            Some(
                entry
                    .version_id
                    .clone()
                    .unwrap_or_else(|| NULL_VERSION_ID.to_owned()),
            ),
        ),
        (true, Some(ListItem::CommonPrefix(prefix))) => {
            (Some(String::from_utf8_lossy(prefix).into_owned()), None)
        }
        _ => (None, None),
    };
    let owner = owner(exchange);
    let mut entries = Vec::with_capacity(page.items.len());
    let mut common_prefixes = Vec::new();
    for item in page.items {
        match item {
            ListItem::Entry(entry) => entries.push(version_entry(entry, &owner)),
            ListItem::CommonPrefix(prefix) => common_prefixes.push(CommonPrefix {
                prefix: String::from_utf8_lossy(&prefix).into_owned(),
            }),
        }
    }
    let result = ListVersionsResult {
        name: exchange.bucket().to_owned(),
        prefix: exchange.query.get("prefix").unwrap_or("").to_owned(),
        key_marker,
        version_id_marker,
        next_key_marker,
        next_version_id_marker,
        max_keys,
        delimiter: delimiter(exchange),
        is_truncated: page.is_truncated,
        encoding_type,
        entries,
        common_prefixes,
    };
    Ok(Response::xml(result.to_xml()))
}

fn version_entry(entry: shard::VersionEntry, owner: &Owner) -> VersionEntry {
    let key = String::from_utf8_lossy(&entry.key).into_owned();
    let version_id = entry
        .version_id
        .unwrap_or_else(|| NULL_VERSION_ID.to_owned());
    if entry.delete_marker {
        return VersionEntry::DeleteMarker(DeleteMarkerEntry {
            key,
            version_id,
            is_latest: entry.is_latest,
            last_modified_ms: entry.last_modified_ms,
            owner: Some(owner.clone()),
        });
    }
    VersionEntry::Version(ObjectVersion {
        key,
        version_id,
        is_latest: entry.is_latest,
        last_modified_ms: entry.last_modified_ms,
        etag: entry.etag,
        size_bytes: entry.size_bytes,
        storage_class: "STANDARD".to_owned(),
        owner: Some(owner.clone()),
    })
}

/// Where a versions listing resumes: after the version `version-id-marker` names (its
/// older versions, then later keys), after every version of `key-marker` when no version is
/// named, past a common prefix when the marker is one.
async fn versions_start(
    exchange: &Exchange<'_>,
    key_marker: &str,
    version_id_marker: &str,
) -> Result<VersionStart, S3Error> {
    if version_id_marker.is_empty() {
        return Ok(match start_after_marker(exchange, key_marker) {
            ListStart::AtOrAfter(key) => VersionStart::AtOrAfterKey(key),
            ListStart::After(key) => VersionStart::AfterKey(key),
        });
    }
    if key_marker.is_empty() {
        return Err(S3Error::invalid_argument(
            "A version-id marker cannot be specified without a key marker.",
            "version-id-marker",
            version_id_marker,
        ));
    }
    let key = key_marker.as_bytes().to_vec();
    let version = parse_version(version_id_marker, "version-id-marker")?;
    let seq = match &version {
        VersionRef::Id(id) => shard::versions::seq_of(id),
        VersionRef::Null => null_version_seq(exchange, key_marker).await?,
    };
    Ok(match seq {
        Some(seq) => VersionStart::AfterVersion { key, seq },
        // The key has no null version (any more): resume after the key.
        None => VersionStart::AfterKey(key),
    })
}

/// The sequence number of the key's null version, found by listing the key's versions
/// (wherever its partition lives).
async fn null_version_seq(exchange: &Exchange<'_>, key: &str) -> Result<Option<u64>, S3Error> {
    let mut query = ListQuery {
        bucket: exchange.bucket().to_owned(),
        prefix: key.as_bytes().to_vec(),
        delimiter: Vec::new(),
        start: VersionStart::AtOrAfterKey(key.as_bytes().to_vec()),
        max_keys: LIST_KEYS_MAX as usize,
        versioned: true,
    };
    loop {
        let page = list_versions(exchange.context, &query)
            .await
            .map_err(|e| s3_error::from_shard(&e))?;
        let mut last = None;
        for item in &page.items {
            let ListItem::Entry(entry) = item else {
                continue;
            };
            if entry.key != key.as_bytes() {
                return Ok(None);
            }
            if entry.version_id.is_none() {
                return Ok(Some(entry.seq));
            }
            last = Some(entry.seq);
        }
        match last {
            Some(seq) if page.is_truncated => {
                query.start = VersionStart::AfterVersion {
                    key: key.as_bytes().to_vec(),
                    seq,
                };
            }
            _ => return Ok(None),
        }
    }
}
