//! Reading a request body in one pass: decode the framing, feed MD5, the signed payload's
//! SHA-256, the declared additional checksum and the sink, then verify all of them. A body is
//! never trusted before every check has passed; the caller commits only after `Ok`.

use md5::{Digest as _, Md5};
use s3_proto::aws_chunked::{AwsChunkedDecoder, ChunkedSigning};
use s3_proto::error::{S3Error, S3ErrorCode};
use s3_proto::sigv4::PayloadMode;
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

use crate::body::{BodyPace, BodyReader, HttpBody};
use crate::checksum::{ChecksumAlgorithm, Checksummer};
use crate::exchange::Exchange;
use crate::request::BodyFraming;
use crate::s3_error;

/// Where the body bytes go.
pub enum Sink<'a> {
    Memory {
        bytes: &'a mut Vec<u8>,
        limit_bytes: usize,
    },
    Object(&'a mut shard::ObjectWriter),
}

/// What the body was, once verified.
pub struct BodySummary {
    pub size_bytes: u64,
    pub md5: [u8; 16],
    /// The additional checksum, verified, with its algorithm.
    pub checksum: Option<(ChecksumAlgorithm, String)>,
}

enum DeclaredChecksum {
    Header(ChecksumAlgorithm, String),
    Trailer(ChecksumAlgorithm),
}

/// The body size the client announced: decoded length for aws-chunked, else Content-Length.
pub fn declared_size(exchange: &Exchange<'_>) -> Result<Option<u64>, S3Error> {
    // The decoded length only describes aws-chunked bodies: on a plain body an unsigned copy
    // of the header must not change how the body is read.
    let streaming = matches!(
        exchange.payload,
        Some(
            PayloadMode::StreamingSigned(_)
                | PayloadMode::StreamingSignedTrailer(_)
                | PayloadMode::StreamingUnsignedTrailer
        )
    );
    if streaming && let Some(value) = exchange.head.header_str("x-amz-decoded-content-length") {
        return value.parse().map(Some).map_err(|_| {
            S3Error::with_message(
                S3ErrorCode::InvalidArgument,
                "Invalid x-amz-decoded-content-length",
            )
        });
    }
    match exchange.head.framing {
        BodyFraming::ContentLength(length) => Ok(Some(length)),
        BodyFraming::None => Ok(Some(0)),
        BodyFraming::Chunked => Ok(None),
    }
}

/// The size an upload (PutObject, UploadPart) announces, checked against `size_max_bytes`:
/// it must announce one, by Content-Length or by chunked framing.
pub fn upload_size(exchange: &Exchange<'_>, size_max_bytes: u64) -> Result<Option<u64>, S3Error> {
    let framing = exchange.head.framing;
    if framing == BodyFraming::None && exchange.head.header("content-length").is_none() {
        return Err(S3Error::new(S3ErrorCode::MissingContentLength));
    }
    let size = declared_size(exchange)?;
    if size.is_some_and(|size| size > size_max_bytes) {
        return Err(S3Error::new(S3ErrorCode::EntityTooLarge));
    }
    Ok(size)
}

fn declared_checksum(exchange: &Exchange<'_>) -> Result<Option<DeclaredChecksum>, S3Error> {
    crate::checksum::refuse_unverifiable(&exchange.head.headers)?;
    let mut found = None;
    // On CompleteMultipartUpload an `x-amz-checksum-<algorithm>` header is the whole
    // object's checksum, not the XML body's: the handler checks it against the object's.
    let headers_describe_body =
        exchange.route.operation != s3_proto::router::Operation::CompleteMultipartUpload;
    for algorithm in ChecksumAlgorithm::ALL
        .into_iter()
        .filter(|_| headers_describe_body)
    {
        if let Some(value) = exchange.head.header_str(algorithm.header_name()) {
            if found.is_some() {
                return Err(S3Error::with_message(
                    S3ErrorCode::InvalidRequest,
                    "Expecting a single x-amz-checksum- header. \
                     Multiple checksum Types are not allowed.",
                ));
            }
            algorithm.check_declared(value)?;
            found = Some(DeclaredChecksum::Header(algorithm, value.trim().to_owned()));
        }
    }
    if let Some(trailer) = exchange.head.header_str("x-amz-trailer") {
        let trailer = trailer.trim();
        if let Some(algorithm) = ChecksumAlgorithm::from_header_name(trailer) {
            if found.is_some() {
                return Err(S3Error::with_message(
                    S3ErrorCode::InvalidRequest,
                    "A checksum header and a checksum trailer cannot both be sent",
                ));
            }
            found = Some(DeclaredChecksum::Trailer(algorithm));
        }
    }
    Ok(found)
}

fn content_md5(exchange: &Exchange<'_>) -> Result<Option<[u8; 16]>, S3Error> {
    use base64::Engine as _;
    let Some(value) = exchange.head.header_str("content-md5") else {
        return Ok(None);
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .map_err(|_| S3Error::new(S3ErrorCode::InvalidDigest))?;
    let digest: [u8; 16] = decoded
        .try_into()
        .map_err(|_| S3Error::new(S3ErrorCode::InvalidDigest))?;
    Ok(Some(digest))
}

/// The digests a body feeds while it streams: MD5 (the ETag), the signed payload's SHA-256
/// and the declared additional checksum, each fed once per byte while the bytes are hot in
/// the cache.
struct Digests {
    md5: Md5,
    sha256: Option<Sha256>,
    checksummer: Option<Checksummer>,
}

impl Digests {
    fn update(&mut self, bytes: &[u8]) {
        self.md5.update(bytes);
        if let Some(sha256) = self.sha256.as_mut() {
            sha256.update(bytes);
        }
        if let Some(checksummer) = self.checksummer.as_mut() {
            checksummer.update(bytes);
        }
    }
}

/// Lets the shard's other tasks run after every `YIELD_EVERY_BYTES` of body: hashing is long
/// CPU work.
const YIELD_EVERY_BYTES: usize = 1 << 20;

/// Reads and verifies the whole body into `sink`. `size_max_bytes` caps the decoded size.
pub async fn read_body(
    exchange: &mut Exchange<'_>,
    mut sink: Sink<'_>,
    size_max_bytes: u64,
) -> Result<BodySummary, S3Error> {
    let declared = declared_checksum(exchange)?;
    let expected_md5 = content_md5(exchange)?;
    // Before the payload mode is taken: the decoded length depends on it.
    let decoded_length = declared_size(exchange)?;
    let payload = exchange.payload.take().unwrap_or(PayloadMode::Unsigned);
    let http = HttpBody::new(
        exchange.head.framing,
        exchange.head.expect_continue,
        BodyPace::of(&exchange.context.settings),
    );
    if decoded_length.is_some_and(|size| size > size_max_bytes) {
        return Err(S3Error::new(S3ErrorCode::EntityTooLarge));
    }
    let trailer_name = exchange.head.header_str("x-amz-trailer");
    let (mut reader, mut expected_sha256) =
        body_reader(http, payload, trailer_name, decoded_length);
    let mut digests = Digests {
        md5: Md5::new(),
        sha256: expected_sha256.map(|_| Sha256::new()),
        checksummer: declared.as_ref().map(|declared| match declared {
            DeclaredChecksum::Header(algorithm, _) | DeclaredChecksum::Trailer(algorithm) => {
                Checksummer::new(*algorithm)
            }
        }),
    };
    let size_bytes = match (&mut reader, &mut sink) {
        (BodyReader::Plain(http), Sink::Object(writer)) if http.has_content_length() => {
            read_into_writer(exchange, http, writer, &mut digests).await?
        }
        _ => {
            read_pieces(
                exchange,
                &mut reader,
                &mut sink,
                &mut digests,
                size_max_bytes,
            )
            .await?
        }
    };
    exchange.body_complete = true;
    if decoded_length.is_some_and(|length| length != size_bytes) {
        return Err(S3Error::new(S3ErrorCode::IncompleteBody));
    }
    if let (Some(expected), Some(sha256)) = (expected_sha256.take(), digests.sha256) {
        let computed: [u8; 32] = sha256.finalize().into();
        if !bool::from(computed.ct_eq(&expected)) {
            return Err(S3Error::new(S3ErrorCode::XAmzContentSHA256Mismatch));
        }
    }
    let md5: [u8; 16] = digests.md5.finalize().into();
    if expected_md5.is_some_and(|expected| expected != md5) {
        return Err(S3Error::new(S3ErrorCode::BadDigest));
    }
    let checksum = verify_checksum(declared, digests.checksummer, reader.trailers())?;
    Ok(BodySummary {
        size_bytes,
        md5,
        checksum,
    })
}

/// A Content-Length body into an object: the socket is read straight into the writer's
/// O_DIRECT buffer and hashed there: the kernel's copy only, instead of two more copies
/// through a piece buffer (1 MiB PUT: 2.05 -> 1.92 ms of CPU, docs/PERFORMANCE.md). Its length
/// was checked against the limit by the caller and cannot be exceeded. Returns its size.
async fn read_into_writer(
    exchange: &mut Exchange<'_>,
    http: &mut HttpBody,
    writer: &mut shard::ObjectWriter,
    digests: &mut Digests,
) -> Result<u64, S3Error> {
    let mut size_bytes = 0u64;
    let mut since_yield_bytes = 0usize;
    loop {
        let buf = writer.lend_buffer().map_err(|e| s3_error::from_shard(&e))?;
        let start = buf.len();
        let (count, buf) = http
            .read_into_buffer(exchange.connection, buf)
            .await
            .map_err(|error| s3_error::from_body(&error))?;
        digests.update(&buf.as_slice()[start..]);
        writer
            .return_buffer(buf)
            .await
            .map_err(|e| s3_error::from_shard(&e))?;
        if count == 0 {
            return Ok(size_bytes);
        }
        size_bytes += count as u64;
        since_yield_bytes += count;
        if since_yield_bytes >= YIELD_EVERY_BYTES {
            since_yield_bytes = 0;
            monoio::time::sleep(std::time::Duration::ZERO).await;
        }
    }
}

/// Any other body (chunked, aws-chunked, or into memory): decoded a piece at a time into a
/// buffer of its own, then copied to the sink. Returns the body's decoded size.
async fn read_pieces(
    exchange: &mut Exchange<'_>,
    reader: &mut BodyReader,
    sink: &mut Sink<'_>,
    digests: &mut Digests,
    size_max_bytes: u64,
) -> Result<u64, S3Error> {
    let mut piece = Vec::with_capacity(256 * 1024);
    let mut size_bytes = 0u64;
    let mut since_yield_bytes = 0usize;
    loop {
        piece.clear();
        let count = reader
            .read(exchange.connection, &mut piece)
            .await
            .map_err(|error| s3_error::from_body(&error))?;
        if count == 0 {
            return Ok(size_bytes);
        }
        size_bytes += count as u64;
        if size_bytes > size_max_bytes {
            return Err(S3Error::new(S3ErrorCode::EntityTooLarge));
        }
        digests.update(&piece);
        match sink {
            Sink::Memory { bytes, limit_bytes } => {
                if bytes.len() + piece.len() > *limit_bytes {
                    return Err(S3Error::new(S3ErrorCode::MaxMessageLengthExceeded));
                }
                bytes.extend_from_slice(&piece);
            }
            Sink::Object(writer) => writer
                .write(&piece)
                .await
                .map_err(|e| s3_error::from_shard(&e))?,
        }
        since_yield_bytes += count;
        if since_yield_bytes >= YIELD_EVERY_BYTES {
            since_yield_bytes = 0;
            monoio::time::sleep(std::time::Duration::ZERO).await;
        }
    }
}

/// Compares the computed additional checksum with the declared header or trailer value.
fn verify_checksum(
    declared: Option<DeclaredChecksum>,
    checksummer: Option<Checksummer>,
    trailers: &[(String, String)],
) -> Result<Option<(ChecksumAlgorithm, String)>, S3Error> {
    let (Some(declared), Some(checksummer)) = (declared, checksummer) else {
        return Ok(None);
    };
    let computed = checksummer.finish_base64();
    let (algorithm, claimed) = match declared {
        DeclaredChecksum::Header(algorithm, value) => (algorithm, value),
        DeclaredChecksum::Trailer(algorithm) => {
            let value = trailers
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(algorithm.header_name()))
                .map(|(_, value)| value.trim().to_owned())
                .ok_or_else(|| {
                    S3Error::with_message(
                        S3ErrorCode::InvalidRequest,
                        "The checksum trailer is missing",
                    )
                })?;
            algorithm.check_declared(&value)?;
            (algorithm, value)
        }
    };
    if claimed != computed {
        return Err(S3Error::with_message(
            S3ErrorCode::BadDigest,
            format!(
                "The {} you specified did not match the calculated checksum.",
                algorithm.header_name()
            ),
        ));
    }
    Ok(Some((algorithm, computed)))
}

/// The body stack for the payload mode the signature announced, and the SHA-256 the body must
/// have when the signature covers it.
fn body_reader(
    http: HttpBody,
    payload: PayloadMode,
    trailer_name: Option<&str>,
    decoded_length: Option<u64>,
) -> (BodyReader, Option<[u8; 32]>) {
    let signing = match payload {
        PayloadMode::Sha256(digest) => return (BodyReader::Plain(http), Some(digest)),
        PayloadMode::Unsigned => return (BodyReader::Plain(http), None),
        PayloadMode::StreamingSigned(chain) => ChunkedSigning::Signed(chain),
        PayloadMode::StreamingSignedTrailer(chain) => ChunkedSigning::SignedWithTrailer(chain),
        PayloadMode::StreamingUnsignedTrailer => ChunkedSigning::UnsignedWithTrailer,
    };
    // Plain signed streaming carries no trailer; the decoder rejects one if it comes.
    let trailer_name = if matches!(signing, ChunkedSigning::Signed(_)) {
        None
    } else {
        trailer_name
    };
    (
        aws_chunked(http, signing, trailer_name, decoded_length),
        None,
    )
}

fn aws_chunked(
    http: HttpBody,
    signing: ChunkedSigning,
    trailer: Option<&str>,
    decoded_length: Option<u64>,
) -> BodyReader {
    BodyReader::AwsChunked {
        http,
        decoder: Box::new(AwsChunkedDecoder::new(signing, trailer, decoded_length)),
        framed: Vec::new(),
        start: 0,
    }
}

/// Reads a small body (XML) fully, verified.
pub async fn read_small_body(
    exchange: &mut Exchange<'_>,
    limit_bytes: usize,
) -> Result<Vec<u8>, S3Error> {
    let mut bytes = Vec::new();
    read_body(
        exchange,
        Sink::Memory {
            bytes: &mut bytes,
            limit_bytes,
        },
        limit_bytes as u64,
    )
    .await?;
    Ok(bytes)
}
