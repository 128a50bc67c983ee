//! GetObjectAttributes (`?attributes`): what `x-amz-object-attributes` names, from the object's
//! record, on the shard that owns the key. No byte of the object is read.

use s3_proto::error::{S3Error, S3ErrorCode};
use s3_proto::time_format::http_date_from_millis;
use s3_proto::xml::{AttributesPart, GetObjectAttributesResult, ObjectParts};
use shard::ObjectRecord;

use crate::checksum::ChecksumAlgorithm;
use crate::exchange::Exchange;
use crate::handlers::bucket::require_bucket;
use crate::handlers::versioning::{
    VERSION_ID_HEADER, bucket_versioning, find_version, version_id_value,
};
use crate::response::Response;

const ATTRIBUTE_NAMES: [&str; 5] = [
    "ETag",
    "Checksum",
    "ObjectParts",
    "StorageClass",
    "ObjectSize",
];
/// `x-amz-max-parts` when absent, as in ListParts.
const MAX_PARTS_DEFAULT: u32 = 1000;

/// The attributes asked for; `InvalidArgument` for none or an unknown one.
fn requested_attributes(exchange: &Exchange<'_>) -> Result<Vec<&'static str>, S3Error> {
    let value = exchange
        .head
        .header_str("x-amz-object-attributes")
        .unwrap_or("");
    let mut requested = Vec::new();
    for name in value
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
    {
        let Some(known) = ATTRIBUTE_NAMES.iter().find(|known| **known == name) else {
            return Err(S3Error::invalid_argument(
                "Invalid attribute name specified.",
                "x-amz-object-attributes",
                name,
            ));
        };
        requested.push(*known);
    }
    if requested.is_empty() {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "The x-amz-object-attributes header specifying the attributes to be retrieved is \
             either missing or empty",
        ));
    }
    Ok(requested)
}

/// A non-negative integer header, `InvalidArgument` otherwise.
fn number_header(exchange: &Exchange<'_>, name: &str, default: u32) -> Result<u32, S3Error> {
    match exchange.head.header_str(name) {
        None => Ok(default),
        Some(value) => value
            .trim()
            .parse()
            .map_err(|_| S3Error::invalid_argument(format!("Invalid {name} header"), name, value)),
    }
}

/// The object's checksum element and type, from its stored headers.
fn object_checksum(record: &ObjectRecord) -> Option<((&'static str, String), String)> {
    let (algorithm, value) = record.headers.iter().find_map(|(name, value)| {
        ChecksumAlgorithm::from_header_name(name).map(|algorithm| (algorithm, value))
    })?;
    let checksum_type = record
        .headers
        .iter()
        .find(|(name, _)| name == "x-amz-checksum-type")
        .map_or("FULL_OBJECT", |(_, value)| value.as_str());
    Some((
        (algorithm.xml_element(), value.clone()),
        checksum_type.to_owned(),
    ))
}

/// `ObjectParts` of a multipart object: a page after `part-number-marker`; parts are listed
/// only when they have checksums, as S3 does.
fn object_parts(
    record: &ObjectRecord,
    algorithm: Option<ChecksumAlgorithm>,
    max_parts: u32,
    part_number_marker: u32,
) -> Option<ObjectParts> {
    if record.part_sizes_bytes.is_empty() {
        return None;
    }
    let total = record.part_sizes_bytes.len();
    let mut parts = Vec::new();
    let mut is_truncated = false;
    if let Some(algorithm) = algorithm.filter(|_| record.part_checksums.len() == total) {
        let first = usize::try_from(part_number_marker).unwrap_or(usize::MAX);
        for (index, size_bytes) in record.part_sizes_bytes.iter().enumerate().skip(first) {
            if parts.len() == max_parts as usize {
                is_truncated = true;
                break;
            }
            parts.push(AttributesPart {
                part_number: u32::try_from(index + 1).unwrap_or(u32::MAX),
                size_bytes: *size_bytes,
                checksum: Some((
                    algorithm.xml_element(),
                    record.part_checksums[index].clone(),
                )),
            });
        }
    }
    Some(ObjectParts {
        total_parts_count: total,
        part_number_marker,
        next_part_number_marker: is_truncated.then(|| {
            parts
                .last()
                .map_or(part_number_marker, |part| part.part_number)
        }),
        max_parts,
        is_truncated,
        parts,
    })
}

pub fn get_object_attributes(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    require_bucket(exchange)?;
    let requested = requested_attributes(exchange)?;
    // As ListParts: at most 1000 parts a page, whatever is asked.
    let max_parts =
        number_header(exchange, "x-amz-max-parts", MAX_PARTS_DEFAULT)?.min(MAX_PARTS_DEFAULT);
    let part_number_marker = number_header(exchange, "x-amz-part-number-marker", 0)?;
    let record = find_version(exchange).map_err(|error| {
        if error.code == S3ErrorCode::NoSuchKey && error.resource.is_none() {
            error.resource(format!("/{}/{}", exchange.bucket(), exchange.key()))
        } else {
            error
        }
    })?;
    // As HEAD: an SSE-C object's attributes need its key.
    crate::handlers::encryption::read_key(exchange, &record)?;
    let wants = |name: &str| requested.contains(&name);
    let checksum = object_checksum(&record);
    let algorithm = checksum.as_ref().and_then(|((element, _), _)| {
        ChecksumAlgorithm::ALL
            .into_iter()
            .find(|a| a.xml_element() == *element)
    });
    let mut result = GetObjectAttributesResult::default();
    if wants("ETag") {
        result.etag = Some(record.etag.clone());
    }
    if wants("Checksum")
        && let Some((element, checksum_type)) = checksum
    {
        result.checksum = Some(element);
        result.checksum_type = Some(checksum_type);
    }
    if wants("ObjectParts") {
        result.object_parts = object_parts(&record, algorithm, max_parts, part_number_marker);
    }
    if wants("StorageClass") {
        result.storage_class = Some("STANDARD".to_owned());
    }
    if wants("ObjectSize") {
        result.object_size_bytes = Some(record.size_bytes);
    }
    let mut response = Response::xml(result.to_xml()).header(
        "Last-Modified",
        http_date_from_millis(record.last_modified_ms),
    );
    if let Some(id) = version_id_value(bucket_versioning(exchange), record.version_id.as_deref()) {
        response = response.header(VERSION_ID_HEADER, id);
    }
    Ok(response)
}
