//! Bucket CORS: Put/Get/DeleteBucketCors (bucket configuration, committed by the coordinator
//! and copied to every shard like tags) and the preflight (`OPTIONS`), which browsers send
//! without credentials and which is answered from the bucket's rules alone. Matching and the
//! `Access-Control-*` headers: `crate::cors`.

use base::limits::CORS_CONFIGURATION_BYTES_MAX;
use runtime::catalogue::BucketConfigChange;
use s3_proto::error::{S3Error, S3ErrorCode};
use s3_proto::xml::{CORS_METHODS, cors_configuration_xml, parse_cors_configuration};
use shard::CorsRule;

use crate::cors::{CorsQuery, allow_headers, find_rule};
use crate::exchange::Exchange;
use crate::handlers::bucket::{bucket_record, change_bucket_config, require_bucket};
use crate::handlers::payload::read_small_body;
use crate::response::Response;

/// Most names in one `Access-Control-Request-Headers` (the request head bounds its length;
/// this bounds the matching work per preflight).
const REQUEST_HEADER_NAMES_MAX: usize = 100;

pub async fn put_bucket_cors(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    require_bucket(exchange)?;
    let body = read_small_body(exchange, CORS_CONFIGURATION_BYTES_MAX).await?;
    let rules = parse_cors_configuration(&body)?
        .into_iter()
        .map(|rule| CorsRule {
            id: rule.id,
            allowed_methods: rule.allowed_methods,
            allowed_origins: rule.allowed_origins,
            allowed_headers: rule.allowed_headers,
            expose_headers: rule.expose_headers,
            max_age_seconds: rule.max_age_seconds,
        })
        .collect();
    change_bucket_config(exchange, BucketConfigChange::Cors(rules)).await?;
    Ok(Response::new(200))
}

pub async fn delete_bucket_cors(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    require_bucket(exchange)?;
    change_bucket_config(exchange, BucketConfigChange::Cors(Vec::new())).await?;
    Ok(Response::new(204))
}

pub fn get_bucket_cors(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let record = bucket_record(exchange)?;
    if record.cors.is_empty() {
        return Err(
            S3Error::new(S3ErrorCode::NoSuchCORSConfiguration).extra("BucketName", record.name)
        );
    }
    let rules: Vec<s3_proto::xml::CorsRule> = record
        .cors
        .into_iter()
        .map(|rule| s3_proto::xml::CorsRule {
            id: rule.id,
            allowed_methods: rule.allowed_methods,
            allowed_origins: rule.allowed_origins,
            allowed_headers: rule.allowed_headers,
            expose_headers: rule.expose_headers,
            max_age_seconds: rule.max_age_seconds,
        })
        .collect();
    Ok(Response::xml(cors_configuration_xml(&rules)))
}

/// A preflight from a web console's origin (`--console-origin`), on any path, answered before
/// routing: the console's pages call every bucket (with signed requests), whatever the
/// buckets' own rules. `None` for any other request.
pub fn console_preflight(
    context: &runtime::ShardContext,
    head: &crate::request::RequestHead,
) -> Option<Result<Response, S3Error>> {
    if head.method != "OPTIONS" || !head.has_header("access-control-request-method") {
        return None;
    }
    let origin = crate::cors::console_origin(&context.settings, head)?;
    Some(requested_headers(head).map(|request_headers| {
        let mut response = Response::new(200);
        response.headers = crate::cors::console_headers(origin, &request_headers);
        response
    }))
}

/// The names a preflight's `Access-Control-Request-Headers` asks for, lower-case: at most
/// `REQUEST_HEADER_NAMES_MAX`, each a header name (they are echoed in
/// `Access-Control-Allow-Headers`; the response writer would drop a bad field anyway, and
/// refusing here answers the browser with the reason instead).
fn requested_headers(head: &crate::request::RequestHead) -> Result<Vec<String>, S3Error> {
    let bad_request = |message: String| S3Error::with_message(S3ErrorCode::BadRequest, message);
    let request_headers: Vec<String> = head
        .header_str("access-control-request-headers")
        .unwrap_or_default()
        .split(',')
        .map(|name| name.trim().to_ascii_lowercase())
        .filter(|name| !name.is_empty())
        .take(REQUEST_HEADER_NAMES_MAX + 1)
        .collect();
    if request_headers.len() > REQUEST_HEADER_NAMES_MAX {
        return Err(bad_request(
            "Too many Access-Control-Request-Headers.".to_owned(),
        ));
    }
    if let Some(name) = request_headers
        .iter()
        .find(|name| !s3_proto::http_field::is_field_name(name.as_bytes()))
    {
        return Err(bad_request(format!(
            "Invalid Access-Control-Request-Headers: {name:?} is not a header name."
        )));
    }
    Ok(request_headers)
}

/// The preflight: 200 with the allowing rule's headers, or S3's 400/403 answers.
pub fn preflight(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let bad_request = |message: String| S3Error::with_message(S3ErrorCode::BadRequest, message);
    let record = bucket_record(exchange)?;
    let head = &exchange.head;
    let origin = head.header_str("origin").ok_or_else(|| {
        bad_request("Insufficient information. Origin request header needed.".to_owned())
    })?;
    let method = head
        .header_str("access-control-request-method")
        .unwrap_or("null");
    if !CORS_METHODS.contains(&method) {
        return Err(bad_request(format!(
            "Invalid Access-Control-Request-Method: {method}"
        )));
    }
    if record.cors.is_empty() {
        return Err(S3Error::with_message(
            S3ErrorCode::AccessForbidden,
            "CORSResponse: CORS is not enabled for this bucket.",
        ));
    }
    let request_headers = requested_headers(head)?;
    let query = CorsQuery {
        origin,
        method,
        request_headers: &request_headers,
    };
    let rule = find_rule(&record.cors, &query).ok_or_else(|| {
        S3Error::with_message(
            S3ErrorCode::AccessForbidden,
            "CORSResponse: This CORS request is not allowed. This is usually because the \
             evalution of Origin, request method / Access-Control-Request-Method or \
             Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
        )
    })?;
    let mut response = Response::new(200);
    response.headers = allow_headers(rule, &query, true);
    Ok(response)
}
