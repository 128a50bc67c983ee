//! PostObject: browser uploads (`POST /bucket`, multipart/form-data) authorized by a signed
//! POST policy instead of a signed request.
//!
//! The form is read once, streaming: fields before the `file` part are collected (bounded by
//! [`FORM_PREFIX_BYTES_MAX`]), then the signature and the policy are verified, then the file
//! part streams into the object writer like a PutObject body; fields after the file are
//! ignored, as S3 does. The key is known only from the form, so `dispatch` peeks at the same
//! prefix (without consuming it) to hand the connection to the key's owner first
//! ([`peek_key`]); this handler then always runs on the owner.

use base::limits::PUT_OBJECT_SIZE_BYTES_MAX;
use md5::{Digest as _, Md5};
use s3_proto::error::{S3Error, S3ErrorCode};
use s3_proto::post_policy::{self, Condition, FormField, PostPolicy};
use s3_proto::router::form_data_content_type;
use s3_proto::sigv4::AuthContext;
use shard::{ObjectRecord, ObjectWriter};

use crate::auth::{self, Credentials, now_unix_secs};
use crate::body::{BodyPace, BodyReader, HttpBody};
use crate::checksum::{ChecksumAlgorithm, Checksummer};
use crate::exchange::Exchange;
use crate::form_data::{FormError, FormEvent, FormParser, PartHeaders};
use crate::handlers::bucket::now_ms;
use crate::handlers::encryption::{seal, write_key_from};
use crate::handlers::object::{CHECKSUM_TYPE_HEADER, FULL_OBJECT, WEBSITE_REDIRECT_HEADER};
use crate::request::BodyFraming;
use crate::response::{Response, check_header_argument};
use crate::s3_error;

/// Most form bytes before the file part (AWS answers `MaxPostPreDataLengthExceededError`
/// past its own limit); also how far `dispatch` peeks to find the key.
pub const FORM_PREFIX_BYTES_MAX: usize = 64 * 1024;

/// Form fields the object keeps as its headers: the REST headers POST Object lists, and
/// Content-Language, which PutObject keeps too (the list does not name it; S3-compatible
/// servers tested against S3 store it).
const STORED_FIELDS: [&str; 6] = [
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "content-type",
    "expires",
];

/// Collects the fields before the file part.
#[derive(Default)]
struct FieldCollector {
    fields: Vec<FormField>,
    current: Option<(String, Vec<u8>)>,
    file: Option<PartHeaders>,
}

impl FieldCollector {
    /// Handles one event before the file part; true once the file part has started.
    fn on_event(&mut self, event: FormEvent) -> Result<bool, S3Error> {
        match event {
            FormEvent::PartStart(headers) if headers.name.eq_ignore_ascii_case("file") => {
                self.file = Some(headers);
                return Ok(true);
            }
            FormEvent::PartStart(headers) => {
                self.current = Some((headers.name.to_ascii_lowercase(), Vec::new()));
            }
            FormEvent::Data(bytes) => {
                if let Some((_, value)) = self.current.as_mut() {
                    value.extend_from_slice(&bytes);
                }
            }
            FormEvent::PartEnd => {
                let Some((name, value)) = self.current.take() else {
                    return Ok(false);
                };
                let value = String::from_utf8(value)
                    .map_err(|_| malformed(&format!("The form field {name} is not UTF-8")))?;
                if self.fields.iter().any(|field| field.name == name) {
                    return Err(malformed(&format!("The form field {name} appears twice")));
                }
                self.fields.push(FormField { name, value });
            }
            FormEvent::End => {
                return Err(S3Error::with_message(
                    S3ErrorCode::InvalidArgument,
                    "POST requires exactly one file upload per request.",
                )
                .extra("ArgumentName", "file"));
            }
        }
        Ok(false)
    }

    /// The key field with `${filename}` replaced by the file part's filename.
    fn key(&self) -> Option<String> {
        let key = post_policy::field(&self.fields, "key")?;
        let filename = self.file.as_ref()?.filename.as_deref().unwrap_or("");
        Some(key.replace("${filename}", filename))
    }
}

fn malformed(message: &str) -> S3Error {
    S3Error::with_message(S3ErrorCode::MalformedPOSTRequest, message.to_owned())
}

/// The object key of a form whose first bytes are `prefix`, if they hold every field before
/// the file part. Used for placement only; the handler parses the form again.
pub fn peek_key(content_type: &[u8], prefix: &[u8]) -> Option<String> {
    let boundary = form_data_content_type(content_type)?.boundary?;
    let mut parser = FormParser::new(&boundary).ok()?;
    let mut collector = FieldCollector::default();
    parser.feed(&prefix[..prefix.len().min(FORM_PREFIX_BYTES_MAX)]);
    while let Some(event) = parser.next_event().ok()? {
        if collector.on_event(event).ok()? {
            return collector.key();
        }
    }
    None
}

fn form_error(error: &FormError) -> S3Error {
    s3_error::from_form(error)
}

pub async fn post_object(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let content_type = exchange.head.header("content-type").unwrap_or_default();
    let boundary = form_data_content_type(content_type)
        .and_then(|parsed| parsed.boundary)
        .ok_or_else(|| malformed("The Content-Type has no multipart boundary"))?;
    if !matches!(exchange.head.framing, BodyFraming::ContentLength(_)) {
        return Err(S3Error::new(S3ErrorCode::MissingContentLength));
    }
    let mut parser = FormParser::new(&boundary).map_err(|e| form_error(&e))?;
    let mut reader = BodyReader::Plain(HttpBody::new(
        exchange.head.framing,
        exchange.head.expect_continue,
        BodyPace::of(&exchange.context.settings),
    ));
    let mut collector = FieldCollector::default();
    // Bounded: the prefix limit below stops the loop before the file part.
    while !read_fields(exchange, &mut reader, &mut parser, &mut collector).await? {}
    let upload = authorize(exchange, &collector)?;
    let mut piece = Vec::new();
    let stored = store_file(exchange, &mut reader, &mut parser, &upload, &mut piece).await?;
    // Fields after the file are ignored; read to the end so the connection can be reused.
    drain_form(exchange, &mut reader, &mut parser).await?;
    Ok(respond(exchange, &upload, &stored))
}

/// Reads one piece and feeds the collector; true once the file part has started.
async fn read_fields(
    exchange: &mut Exchange<'_>,
    reader: &mut BodyReader,
    parser: &mut FormParser,
    collector: &mut FieldCollector,
) -> Result<bool, S3Error> {
    let mut piece = Vec::new();
    let count = reader
        .read(exchange.connection, &mut piece)
        .await
        .map_err(|e| s3_error::from_body(&e))?;
    if count == 0 {
        return Err(malformed("The form ended before the file part"));
    }
    parser.feed(&piece);
    while let Some(event) = parser.next_event().map_err(|e| form_error(&e))? {
        if collector.on_event(event)? {
            if parser.consumed_bytes() > FORM_PREFIX_BYTES_MAX {
                return Err(S3Error::new(S3ErrorCode::MaxPostPreDataLengthExceededError));
            }
            return Ok(true);
        }
    }
    if parser.consumed_bytes() > FORM_PREFIX_BYTES_MAX {
        return Err(S3Error::new(S3ErrorCode::MaxPostPreDataLengthExceededError));
    }
    Ok(false)
}

/// What the verified form allows.
struct Upload {
    key: String,
    fields: Vec<FormField>,
    /// The object's stored headers, from the form (validated).
    headers: Vec<(String, String)>,
    /// The `tagging` field's tags (validated like PutObjectTagging's).
    tags: shard::record::Tags,
    /// The `acl` field's ACL, as stored (`handlers::acl`).
    acl: Option<base::acl::Acl>,
    /// What the file's bytes must hash to: a `x-amz-checksum-*` field, `Content-MD5`.
    digests: Digests,
    size_range_bytes: (u64, u64),
}

/// The digests a form declares for its file.
#[derive(Default)]
struct Digests {
    checksum: Option<(ChecksumAlgorithm, String)>,
    content_md5: Option<[u8; 16]>,
}

/// The form's signer must be allowed into the bucket and to write the key, like every
/// signed request. PutObject is granted on the bucket (ACL WRITE), never by an object's ACL.
fn check_signer(
    exchange: &Exchange<'_>,
    principal: &runtime::identity::Principal,
    key: &str,
) -> Result<(), S3Error> {
    auth::authorize(
        exchange.context,
        principal,
        "PostObject",
        Some(exchange.bucket()),
    )?;
    let question = auth::PolicyQuestion {
        operation: "PostObject",
        bucket: exchange.bucket(),
        key: Some(key),
        version_id: false,
    };
    let facts = auth::RequestFacts::of(&exchange.head, &exchange.query, exchange.connection);
    let verdict =
        auth::acls::check_with_acls(exchange.context, Some(principal), &question, &facts)?;
    if verdict == auth::acls::Verdict::Allowed {
        Ok(())
    } else {
        Err(S3Error::new(S3ErrorCode::AccessDenied))
    }
}

/// Verifies the signature and the policy, and the key like any other key.
fn authorize(exchange: &mut Exchange<'_>, collector: &FieldCollector) -> Result<Upload, S3Error> {
    let key = collector.key().ok_or_else(|| {
        S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "Bucket POST must contain a field named 'key'.  If it is specified, please check \
             the order of the fields.",
        )
        .extra("ArgumentName", "key")
    })?;
    base::names::validate_object_key(&key).map_err(|error| match error {
        base::names::NameError::KeyTooLong { .. } => S3Error::new(S3ErrorCode::KeyTooLongError),
        other => S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            format!("Invalid object key: {other}."),
        ),
    })?;
    let settings = &exchange.context.settings;
    let now = now_unix_secs();
    let ctx = AuthContext {
        region: &settings.region,
        now_unix_secs: now,
    };
    let fields = &collector.fields;
    // Anonymous POST uploads (a form without a signed policy) stay denied for now, even when
    // a bucket policy would allow s3:PutObject to everyone.
    if post_policy::field(fields, "policy").is_none() {
        return Err(S3Error::with_message(
            S3ErrorCode::AccessDenied,
            "Anonymous POST uploads are not allowed",
        ));
    }
    let identity = exchange.context.identity();
    // A form signed with session credentials carries the token as a field (its policy must
    // name it, like every field).
    let token = post_policy::field(fields, "x-amz-security-token");
    let claimed = post_policy::field(fields, "x-amz-credential")
        .and_then(|credential| credential.split('/').next());
    let store = Credentials::of_request(exchange.context, &identity, token, claimed)?;
    let access_key_id = post_policy::verify_signature(fields, &ctx, &store)
        .map_err(|e| s3_error::from_post_policy(&e, &settings.region))?;
    let principal = store.principal(&access_key_id)?;
    check_signer(exchange, &principal, &key)?;
    let policy = post_policy::parse_policy(post_policy::field(fields, "policy").unwrap_or(""))
        .map_err(|e| s3_error::from_post_policy(&e, &settings.region))?;
    let mut checked_fields = fields.clone();
    if let Some(field) = checked_fields.iter_mut().find(|field| field.name == "key") {
        field.value.clone_from(&key);
    }
    let file_type = collector.file.as_ref().and_then(|f| f.content_type.clone());
    if let Some(file_type) = file_type
        && post_policy::field(&checked_fields, "content-type").is_none()
        && names_field(&policy, "content-type")
    {
        // The file part's own Content-Type is no form field, so a policy covers it only when
        // it has a condition on `$Content-Type`: then it stands in for the missing field and
        // that condition checks it. Otherwise it is ignored (AWS stores binary/octet-stream),
        // so an unsigned header never becomes the object's Content-Type.
        checked_fields.push(FormField {
            name: "content-type".to_owned(),
            value: file_type,
        });
    }
    let range = policy
        .check(&checked_fields, exchange.bucket(), now)
        .map_err(|e| s3_error::from_post_policy(&e, &settings.region))?;
    // Refused before a byte of the file is written: a form value is arbitrary bytes, and
    // these become response headers (stored, or the redirect's Location).
    let headers = stored_headers(&checked_fields)?;
    crate::handlers::object::check_storage_class_value(post_policy::field(
        &checked_fields,
        "x-amz-storage-class",
    ))?;
    // The form's canned `acl`, as `x-amz-acl` on PutObject.
    let requested_acl = post_policy::field(&checked_fields, "acl")
        .map(|name| crate::handlers::acl::from_canned(name.trim()))
        .transpose()?;
    let acl = crate::handlers::acl::for_new_object(exchange, requested_acl)?;
    let tags = form_tags(&checked_fields)?;
    let digests = form_digests(&checked_fields)?;
    for name in ["success_action_redirect", "redirect"] {
        if let Some(url) = post_policy::field(&checked_fields, name) {
            check_header_argument(name, url)?;
        }
    }
    exchange.access_key_id = access_key_id;
    exchange.principal = Some(principal);
    exchange.route.key = Some(key.clone());
    if exchange.context.owner_of_key(exchange.bucket(), &key) != exchange.context.shard_id {
        // `dispatch` hands a form to its key's owner; reaching here means it could not peek.
        return Err(S3Error::with_message(
            S3ErrorCode::InternalError,
            "The POST form could not be routed to its key",
        ));
    }
    Ok(Upload {
        key,
        fields: checked_fields,
        headers,
        tags,
        acl,
        digests,
        size_range_bytes: range.unwrap_or((0, PUT_OBJECT_SIZE_BYTES_MAX)),
    })
}

/// The `tagging` field: a `Tagging` XML document, as PutObjectTagging's body (POST Object).
fn form_tags(fields: &[FormField]) -> Result<shard::record::Tags, S3Error> {
    let Some(xml) = post_policy::field(fields, "tagging") else {
        return Ok(Vec::new());
    };
    let tags = s3_proto::xml::parse_tagging(xml.as_bytes())?;
    s3_proto::xml::validate_tags(&tags, s3_proto::xml::TagTarget::Object)?;
    Ok(tags)
}

/// `x-amz-checksum-<algorithm>` (at most one, as on PutObject) and `Content-MD5` fields.
fn form_digests(fields: &[FormField]) -> Result<Digests, S3Error> {
    let mut digests = Digests::default();
    for algorithm in ChecksumAlgorithm::ALL {
        let Some(value) = post_policy::field(fields, algorithm.header_name()) else {
            continue;
        };
        if digests.checksum.is_some() {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "Expecting a single x-amz-checksum- header. Multiple checksum Types are not \
                 allowed.",
            ));
        }
        algorithm.check_declared(value)?;
        digests.checksum = Some((algorithm, value.trim().to_owned()));
    }
    if let Some(value) = post_policy::field(fields, "content-md5") {
        let decoded =
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, value.trim());
        let md5 = decoded
            .ok()
            .and_then(|bytes| <[u8; 16]>::try_from(bytes).ok());
        digests.content_md5 = Some(md5.ok_or_else(|| S3Error::new(S3ErrorCode::InvalidDigest))?);
    }
    Ok(digests)
}

/// Checks the file's digests against the form's: BadDigest, as PutObject answers.
fn check_digests(
    digests: &Digests,
    md5: &[u8; 16],
    checksum: Option<Checksummer>,
) -> Result<(), S3Error> {
    if digests.content_md5.is_some_and(|declared| declared != *md5) {
        return Err(S3Error::new(S3ErrorCode::BadDigest));
    }
    if let (Some((algorithm, declared)), Some(checksum)) = (&digests.checksum, checksum)
        && *declared != checksum.finish_base64()
    {
        return Err(S3Error::with_message(
            S3ErrorCode::BadDigest,
            format!(
                "The {} you specified did not match the calculated checksum.",
                algorithm.header_name()
            ),
        ));
    }
    Ok(())
}

struct Stored {
    etag: String,
    /// `x-amz-version-id` of the new version, when the bucket has versions.
    version_id: Option<String>,
    /// The checksum and encryption headers the answer carries, as PutObject's.
    headers: Vec<(&'static str, String)>,
}

/// Streams the file part into a new object and commits it.
async fn store_file(
    exchange: &mut Exchange<'_>,
    reader: &mut BodyReader,
    parser: &mut FormParser,
    upload: &Upload,
    piece: &mut Vec<u8>,
) -> Result<Stored, S3Error> {
    let context = exchange.context;
    let _write = context
        .begin_write(exchange.bucket())
        .map_err(|e| s3_error::from_shard(&e))?;
    let partition = context.local_partition(exchange.bucket(), &upload.key);
    let key = write_key_from(exchange, |name| {
        upload
            .fields
            .iter()
            .find(|field| field.name.eq_ignore_ascii_case(name))
            .map(|field| field.value.as_str())
    })?;
    let mut writer = partition.writer(None);
    let run = key.start_run(&mut writer);
    let (min_bytes, max_bytes) = upload.size_range_bytes;
    let max_bytes = max_bytes.min(PUT_OBJECT_SIZE_BYTES_MAX);
    let mut hashes = FileHashes {
        md5: Md5::new(),
        checksum: upload
            .digests
            .checksum
            .as_ref()
            .map(|(algorithm, _)| Checksummer::new(*algorithm)),
    };
    let size_bytes = stream_file(
        exchange,
        (reader, parser, piece),
        &mut writer,
        max_bytes,
        &mut hashes,
    )
    .await?;
    if size_bytes < min_bytes {
        return Err(S3Error::new(S3ErrorCode::EntityTooSmall)
            .extra("MinSizeAllowed", min_bytes.to_string())
            .extra("ProposedSize", size_bytes.to_string()));
    }
    let md5: [u8; 16] = hashes.md5.finalize().into();
    // Checked before the commit: a refused file leaves only unreferenced extents.
    check_digests(&upload.digests, &md5, hashes.checksum)?;
    let written = writer
        .finish()
        .await
        .map_err(|e| s3_error::from_shard(&e))?;
    let (etag, encryption) = seal(key.mode(), run, &md5, &written);
    let mut headers = upload.headers.clone();
    // The answer names the encryption and the checksum, as PutObject's does.
    let mut answer_headers = key.add_headers(Response::new(200)).headers;
    if let Some((algorithm, value)) = &upload.digests.checksum {
        headers.push((algorithm.header_name().to_owned(), value.clone()));
        headers.push((CHECKSUM_TYPE_HEADER.to_owned(), FULL_OBJECT.to_owned()));
        answer_headers.push((algorithm.header_name(), value.clone()));
        answer_headers.push((CHECKSUM_TYPE_HEADER, FULL_OBJECT.to_owned()));
    }
    let record = ObjectRecord {
        size_bytes: written.size_bytes,
        etag: etag.clone(),
        last_modified_ms: now_ms(),
        headers,
        extents: written.extents.clone(),
        block_checksums: written.block_checksums.clone(),
        tags: upload.tags.clone(),
        acl: upload.acl.clone(),
        encryption,
        // A browser form sets no lock fields; the bucket's default retention applies.
        retention: exchange
            .context
            .with_bucket(
                exchange.bucket(),
                crate::handlers::object_lock::default_retention_now,
            )
            .flatten(),
        ..ObjectRecord::default()
    };
    // `authorize` set the route's key to the form's: the commit and its event use it.
    debug_assert_eq!(exchange.key(), upload.key);
    let version_id = crate::handlers::object::commit_object(
        exchange,
        &partition,
        record,
        shard::meta::WriteCondition::default(),
        written,
    )
    .await?;
    Ok(Stored {
        etag,
        version_id,
        headers: answer_headers,
    })
}

/// The digests of the file's bytes, computed as they stream.
struct FileHashes {
    md5: Md5,
    checksum: Option<Checksummer>,
}

/// Streams the file part's bytes into `writer` up to its end; returns their count.
async fn stream_file(
    exchange: &mut Exchange<'_>,
    (reader, parser, piece): (&mut BodyReader, &mut FormParser, &mut Vec<u8>),
    writer: &mut ObjectWriter,
    max_bytes: u64,
    hashes: &mut FileHashes,
) -> Result<u64, S3Error> {
    let mut size_bytes = 0u64;
    // Bounded by the body's Content-Length.
    loop {
        let Some(event) = parser.next_event().map_err(|e| form_error(&e))? else {
            piece.clear();
            let count = reader
                .read(exchange.connection, piece)
                .await
                .map_err(|e| s3_error::from_body(&e))?;
            if count == 0 {
                return Err(malformed("The form ended inside the file part"));
            }
            parser.feed(piece);
            continue;
        };
        match event {
            FormEvent::Data(bytes) => {
                size_bytes += bytes.len() as u64;
                if size_bytes > max_bytes {
                    return Err(too_large(max_bytes));
                }
                hashes.md5.update(&bytes);
                if let Some(checksum) = hashes.checksum.as_mut() {
                    checksum.update(&bytes);
                }
                write(writer, &bytes).await?;
            }
            FormEvent::PartEnd => return Ok(size_bytes),
            FormEvent::PartStart(_) | FormEvent::End => {
                return Err(malformed("The file part is not terminated"));
            }
        }
    }
}

fn too_large(max_bytes: u64) -> S3Error {
    S3Error::new(S3ErrorCode::EntityTooLarge).extra("MaxSizeAllowed", max_bytes.to_string())
}

async fn write(writer: &mut ObjectWriter, bytes: &[u8]) -> Result<(), S3Error> {
    writer
        .write(bytes)
        .await
        .map_err(|e| s3_error::from_shard(&e))
}

/// Whether a condition of `policy` names `field` (lowercase).
fn names_field(policy: &PostPolicy, field: &str) -> bool {
    policy.conditions.iter().any(|condition| match condition {
        Condition::Eq { field: named, .. } | Condition::StartsWith { field: named, .. } => {
            named == field
        }
        Condition::ContentLengthRange { .. } => false,
    })
}

/// Content-Type & co. and `x-amz-meta-*` from the (policy-checked) fields; each must be a
/// valid header, since GET and HEAD serve it back.
fn stored_headers(fields: &[FormField]) -> Result<Vec<(String, String)>, S3Error> {
    let mut headers = Vec::new();
    let mut user_metadata_bytes = 0usize;
    for field in fields {
        if STORED_FIELDS.contains(&field.name.as_str()) {
            check_header_argument(&field.name, &field.value)?;
            headers.push((field.name.clone(), field.value.clone()));
        } else if field.name == WEBSITE_REDIRECT_HEADER {
            // A POST Object field too, with PutObject's rules.
            check_header_argument(&field.name, &field.value)?;
            crate::handlers::object::check_website_redirect(&field.value)?;
            headers.push((field.name.clone(), field.value.clone()));
        } else if let Some(name) = field.name.strip_prefix("x-amz-meta-") {
            check_header_argument(&field.name, &field.value)?;
            user_metadata_bytes += name.len() + field.value.len();
            headers.push((field.name.clone(), mail_safe(&field.value)));
        }
    }
    if user_metadata_bytes > base::limits::USER_METADATA_BYTES_MAX {
        return Err(S3Error::new(S3ErrorCode::MetadataTooLarge));
    }
    Ok(headers)
}

/// A form field is UTF-8 and a header is not: S3 returns a user metadata value with
/// characters beyond US-ASCII "encoded as per RFC 2047 to make them mail-safe", and an
/// ASCII one as is (user guide, "Working with object metadata"). Stored encoded, so GET and
/// HEAD serve it as S3 does. Which RFC 2047 encoding S3 picks is not documented; B (base64)
/// is what every RFC 2047 decoder reads, botocore's included.
fn mail_safe(value: &str) -> String {
    if value.is_ascii() {
        return value.to_owned();
    }
    let encoded = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, value);
    format!("=?UTF-8?B?{encoded}?=")
}

/// Reads the rest of the form (bounded by Content-Length).
async fn drain_form(
    exchange: &mut Exchange<'_>,
    reader: &mut BodyReader,
    parser: &mut FormParser,
) -> Result<(), S3Error> {
    let mut piece = Vec::new();
    loop {
        while let Some(event) = parser.next_event().map_err(|e| form_error(&e))? {
            if event == FormEvent::End {
                break;
            }
        }
        piece.clear();
        let count = reader
            .read(exchange.connection, &mut piece)
            .await
            .map_err(|e| s3_error::from_body(&e))?;
        if count == 0 {
            exchange.body_complete = true;
            return Ok(());
        }
        // Discarded: after the closing delimiter the parser ignores what it is fed.
        parser.feed(&piece);
    }
}

/// `success_action_redirect` (303), else `success_action_status` 200 / 201 (with
/// PostResponse XML) / 204 (the default, also for any other value).
fn respond(exchange: &Exchange<'_>, upload: &Upload, stored: &Stored) -> Response {
    let bucket = exchange.bucket();
    let quoted_etag = format!("\"{}\"", stored.etag);
    let mut location_path = format!("/{bucket}/");
    s3_proto::xml::url_encode_into(&mut location_path, &upload.key);
    let redirect = post_policy::field(&upload.fields, "success_action_redirect")
        .or_else(|| post_policy::field(&upload.fields, "redirect"))
        .filter(|url| url.starts_with("http://") || url.starts_with("https://"));
    if let Some(url) = redirect {
        let mut target = url.to_owned();
        target.push(if url.contains('?') { '&' } else { '?' });
        target.push_str("bucket=");
        s3_proto::xml::url_encode_into(&mut target, bucket);
        target.push_str("&key=");
        s3_proto::xml::url_encode_into(&mut target, &upload.key);
        target.push_str("&etag=");
        s3_proto::xml::url_encode_into(&mut target, &quoted_etag);
        return Response::new(303)
            .header("Location", target)
            .header("ETag", quoted_etag);
    }
    let status = post_policy::field(&upload.fields, "success_action_status");
    let response = match status {
        Some("200") => Response::new(200),
        Some("201") => {
            let host = exchange.head.header_str("host").unwrap_or("");
            let xml = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PostResponse>\
                 <Location>http://{}{}</Location><Bucket>{}</Bucket><Key>{}</Key>\
                 <ETag>{}</ETag></PostResponse>",
                s3_proto::xml::escape(host),
                s3_proto::xml::escape(&location_path),
                s3_proto::xml::escape(bucket),
                s3_proto::xml::escape(&upload.key),
                s3_proto::xml::escape(&quoted_etag),
            );
            let mut response = Response::xml(xml);
            response.status = 201;
            response
        }
        _ => Response::new(204),
    };
    let mut response = response
        .header("ETag", quoted_etag)
        .header("Location", location_path);
    if let Some(id) = &stored.version_id {
        response = response.header(crate::handlers::versioning::VERSION_ID_HEADER, id.clone());
    }
    for (name, value) in &stored.headers {
        response = response.header(name, value.clone());
    }
    response
}
