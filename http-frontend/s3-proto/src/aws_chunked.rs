//! Incremental decoder for `aws-chunked` request bodies (the S3 streaming upload framing), with
//! chunk-signature and trailer-signature verification.
//!
//! Frame grammar (S3 docs "sigv4-streaming" and "sigv4-streaming-trailers"):
//! `hex-size[;chunk-signature=<64 hex>]\r\n <data> \r\n`, repeated, then a final `0` frame
//! header, then zero or more trailer lines `name:value\r\n` (plus `x-amz-trailer-signature:` in
//! the signed-trailer mode), then an empty line. An optional bare `\n` after that is accepted
//! (Garage compatibility).
//!
//! Architecture invariant: push-based and zero-copy; the decoder never buffers chunk data and
//! never holds more than [`TRAILER_BYTES_MAX`] of trailer text, whatever the input. The caller
//! keeps unconsumed bytes, so it never needs more than [`CHUNK_HEADER_BYTES_MAX`] (or the
//! trailer budget) of lookahead.
//! Architecture invariant: data is emitted before its chunk signature is checked (the signature
//! follows the data); the caller must not commit anything before [`ChunkedStep::Done`].

use sha2::{Digest, Sha256};

use crate::sigv4::ChunkSignatureChain;

/// Longest chunk header line, CRLF included. A signed 16 MiB header is 90 bytes.
pub const CHUNK_HEADER_BYTES_MAX: usize = 128;
/// Largest chunk; SDKs send 64 KiB (minio-go) to 1 MiB (botocore) chunks.
pub const CHUNK_SIZE_BYTES_MAX: u64 = 16 * 1024 * 1024;
/// Most trailer lines, `x-amz-trailer-signature` included; clients send one checksum.
pub const TRAILER_LINE_COUNT_MAX: usize = 8;
/// Most bytes of trailer section, line endings included.
pub const TRAILER_BYTES_MAX: usize = 4096;

const CHUNK_SIGNATURE_PREFIX: &[u8] = b";chunk-signature=";
const TRAILER_SIGNATURE_NAME: &str = "x-amz-trailer-signature";

/// Which streaming payload mode the signed `x-amz-content-sha256` announced.
#[derive(Debug)]
pub enum ChunkedSigning {
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: chunk signatures, no trailers allowed.
    Signed(ChunkSignatureChain),
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: chunk signatures and a signed trailer.
    SignedWithTrailer(ChunkSignatureChain),
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: no chunk signatures (they are rejected), trailer.
    UnsignedWithTrailer,
}

/// What one [`AwsChunkedDecoder::decode`] call found.
#[derive(Debug, PartialEq, Eq)]
pub enum ChunkedStep<'a> {
    /// Decoded object bytes (a sub-slice of the input); `consumed` counts framing too.
    Data { data: &'a [u8], consumed: usize },
    /// The input ends inside framing; call again with more bytes appended to the unconsumed rest.
    NeedMore { consumed: usize },
    /// The body is complete and every signature verified; trailers are available.
    Done { consumed: usize },
}

/// Why an aws-chunked body was rejected. Suggested S3 errors in each variant's doc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AwsChunkedError {
    /// Framing does not follow the grammar (bad hex, missing CRLF, overlong header line,
    /// missing or forbidden `chunk-signature`, bytes after the end). S3: 400 `IncompleteBody`
    /// (`MinIO`'s choice; AWS answers `InvalidRequest` for some shapes).
    Malformed,
    /// A chunk larger than [`CHUNK_SIZE_BYTES_MAX`]. S3: 400 `InvalidRequest`.
    ChunkTooLarge,
    /// A chunk or trailer signature is wrong or malformed (the chain is then poisoned).
    /// S3: 403 `SignatureDoesNotMatch`.
    SignatureDoesNotMatch,
    /// The body ended before the final frame and trailer section ([`AwsChunkedDecoder::finish`]).
    /// S3: 400 `IncompleteBody`.
    IncompleteBody,
    /// The sum of chunk sizes differs from `X-Amz-Decoded-Content-Length`.
    /// S3: 400 `IncompleteBody`.
    DecodedLengthMismatch,
    /// A declared trailer (or the trailer signature in signed-trailer mode) is missing.
    /// S3: 400 `MalformedTrailerError`.
    TrailerMissing,
    /// A trailer that was not declared in `x-amz-trailer`, a duplicate, a trailer line in a mode
    /// without trailers, or trailer lines after `x-amz-trailer-signature`.
    /// S3: 400 `MalformedTrailerError`.
    UnexpectedTrailer,
    /// More than [`TRAILER_LINE_COUNT_MAX`] lines or [`TRAILER_BYTES_MAX`] bytes of trailers.
    /// S3: 400 `MalformedTrailerError`.
    TrailerTooLarge,
}

impl std::fmt::Display for AwsChunkedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

impl std::error::Error for AwsChunkedError {}

#[derive(Debug)]
enum State {
    ChunkHeader,
    Data { remaining_bytes: u64 },
    DataEnd,
    Trailer,
    Done,
    Failed(AwsChunkedError),
}

/// Push-based aws-chunked decoder; see the module documentation.
#[derive(Debug)]
pub struct AwsChunkedDecoder {
    signing: ChunkedSigning,
    /// Lowercase names from `x-amz-trailer` (comma-separated there).
    declared_trailers: Vec<String>,
    /// Declared count exceeded [`TRAILER_LINE_COUNT_MAX`]: every trailer is then rejected.
    declared_trailers_invalid: bool,
    decoded_content_length: Option<u64>,
    state: State,
    /// Signature claimed by the current chunk's header (signed modes).
    chunk_signature_hex: [u8; 64],
    chunk_hasher: Sha256,
    decoded_size_bytes: u64,
    trailers: Vec<(String, String)>,
    trailer_bytes: usize,
    trailer_signature_verified: bool,
    /// The one bare `\n` tolerated after the trailer section was consumed.
    trailing_newline_seen: bool,
}

impl AwsChunkedDecoder {
    /// `declared_trailer`: the value of the signed `x-amz-trailer` header (e.g.
    /// `"x-amz-checksum-crc32"`), if any. `decoded_content_length`: `X-Amz-Decoded-Content-Length`
    /// (authoritative; a mismatch is an error at the end, or as soon as it is exceeded).
    pub fn new(
        signing: ChunkedSigning,
        declared_trailer: Option<&str>,
        decoded_content_length: Option<u64>,
    ) -> Self {
        let mut declared_trailers = Vec::new();
        let mut declared_trailers_invalid = false;
        for name in declared_trailer.unwrap_or("").split(',') {
            let name = name.trim();
            if name.is_empty() {
                continue;
            }
            if declared_trailers.len() == TRAILER_LINE_COUNT_MAX {
                declared_trailers_invalid = true;
                break;
            }
            declared_trailers.push(name.to_ascii_lowercase());
        }
        Self {
            signing,
            declared_trailers,
            declared_trailers_invalid,
            decoded_content_length,
            state: State::ChunkHeader,
            chunk_signature_hex: [0; 64],
            chunk_hasher: Sha256::new(),
            decoded_size_bytes: 0,
            trailers: Vec::new(),
            trailer_bytes: 0,
            trailer_signature_verified: false,
            trailing_newline_seen: false,
        }
    }

    /// Consumes a prefix of `input` and reports what it found. The caller keeps the unconsumed
    /// rest and calls again with more bytes appended. After an error every call fails.
    pub fn decode<'a>(&mut self, input: &'a [u8]) -> Result<ChunkedStep<'a>, AwsChunkedError> {
        match self.decode_inner(input) {
            Ok(step) => Ok(step),
            Err(error) => {
                self.state = State::Failed(error.clone());
                Err(error)
            }
        }
    }

    /// Verified trailer headers (lowercase names, trimmed values, without
    /// `x-amz-trailer-signature`); complete once [`ChunkedStep::Done`] was returned.
    pub fn trailers(&self) -> &[(String, String)] {
        &self.trailers
    }

    /// Sum of the chunk sizes seen so far.
    pub fn decoded_size_bytes(&self) -> u64 {
        self.decoded_size_bytes
    }

    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// Call when the outer body ended: `Ok` only if the aws-chunked body was complete.
    pub fn finish(&self) -> Result<(), AwsChunkedError> {
        match &self.state {
            State::Done => Ok(()),
            State::Failed(error) => Err(error.clone()),
            State::ChunkHeader | State::Data { .. } | State::DataEnd | State::Trailer => {
                Err(AwsChunkedError::IncompleteBody)
            }
        }
    }

    fn decode_inner<'a>(&mut self, input: &'a [u8]) -> Result<ChunkedStep<'a>, AwsChunkedError> {
        let mut consumed = 0;
        // Bounded: every iteration consumes at least one byte or returns.
        loop {
            let rest = &input[consumed..];
            match self.state {
                State::Failed(ref error) => return Err(error.clone()),
                State::Done => {
                    // Garage compatibility: one bare `\n` after the trailer section, once in
                    // the body however it is split into reads (a second one, in the same read
                    // or a later one, is an error).
                    if rest.first() == Some(&b'\n') && !self.trailing_newline_seen {
                        self.trailing_newline_seen = true;
                        return Ok(ChunkedStep::Done {
                            consumed: consumed + 1,
                        });
                    }
                    if rest.is_empty() {
                        return Ok(ChunkedStep::Done { consumed });
                    }
                    return Err(AwsChunkedError::Malformed);
                }
                State::ChunkHeader => {
                    let Some(line_len) = find_line(rest, CHUNK_HEADER_BYTES_MAX)? else {
                        return Ok(ChunkedStep::NeedMore { consumed });
                    };
                    let line = rest[..line_len].strip_suffix(b"\r\n");
                    self.start_chunk(line.ok_or(AwsChunkedError::Malformed)?)?;
                    consumed += line_len;
                }
                State::Data { remaining_bytes } => {
                    if rest.is_empty() {
                        return Ok(ChunkedStep::NeedMore { consumed });
                    }
                    let take = usize::try_from(remaining_bytes)
                        .map_or(rest.len(), |remaining| remaining.min(rest.len()));
                    let data = &rest[..take];
                    self.chunk_hasher.update(data);
                    let remaining_bytes = remaining_bytes - take as u64;
                    self.state = if remaining_bytes == 0 {
                        State::DataEnd
                    } else {
                        State::Data { remaining_bytes }
                    };
                    return Ok(ChunkedStep::Data {
                        data,
                        consumed: consumed + take,
                    });
                }
                State::DataEnd => {
                    if rest.len() < 2 {
                        if rest.first().is_some_and(|&byte| byte != b'\r') {
                            return Err(AwsChunkedError::Malformed);
                        }
                        return Ok(ChunkedStep::NeedMore { consumed });
                    }
                    if &rest[..2] != b"\r\n" {
                        return Err(AwsChunkedError::Malformed);
                    }
                    consumed += 2;
                    let chunk_sha256: [u8; 32] =
                        std::mem::take(&mut self.chunk_hasher).finalize().into();
                    self.verify_chunk(&chunk_sha256)?;
                    self.state = State::ChunkHeader;
                }
                State::Trailer => {
                    let budget = TRAILER_BYTES_MAX - self.trailer_bytes;
                    let Some(line_len) =
                        find_line(rest, budget).map_err(|_| AwsChunkedError::TrailerTooLarge)?
                    else {
                        return Ok(ChunkedStep::NeedMore { consumed });
                    };
                    self.trailer_bytes += line_len;
                    let line = &rest[..line_len - 1];
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    consumed += line_len;
                    if line.is_empty() {
                        self.finish_trailers()?;
                        self.state = State::Done;
                    } else {
                        self.trailer_line(line)?;
                    }
                }
            }
        }
    }

    /// Parses `hex-size[;chunk-signature=<64 hex>]` (CRLF stripped) and enters the data state.
    fn start_chunk(&mut self, line: &[u8]) -> Result<(), AwsChunkedError> {
        let size_len = line
            .iter()
            .position(|&byte| byte == b';')
            .unwrap_or(line.len());
        let (size_hex, extension) = line.split_at(size_len);
        let size_bytes = parse_hex_size(size_hex)?;
        if size_bytes > CHUNK_SIZE_BYTES_MAX {
            return Err(AwsChunkedError::ChunkTooLarge);
        }
        match &self.signing {
            ChunkedSigning::Signed(_) | ChunkedSigning::SignedWithTrailer(_) => {
                let signature = extension
                    .strip_prefix(CHUNK_SIGNATURE_PREFIX)
                    .ok_or(AwsChunkedError::Malformed)?;
                if signature.len() != 64 {
                    return Err(AwsChunkedError::SignatureDoesNotMatch);
                }
                self.chunk_signature_hex.copy_from_slice(signature);
            }
            ChunkedSigning::UnsignedWithTrailer => {
                if !extension.is_empty() {
                    return Err(AwsChunkedError::Malformed);
                }
            }
        }
        let decoded_size_bytes = self.decoded_size_bytes + size_bytes;
        if self
            .decoded_content_length
            .is_some_and(|declared| decoded_size_bytes > declared)
        {
            return Err(AwsChunkedError::DecodedLengthMismatch);
        }
        self.decoded_size_bytes = decoded_size_bytes;
        if size_bytes == 0 {
            // The final frame: its signature covers empty data; no data CRLF follows it.
            let empty_sha256: [u8; 32] = Sha256::digest(b"").into();
            self.verify_chunk(&empty_sha256)?;
            self.state = State::Trailer;
        } else {
            self.state = State::Data {
                remaining_bytes: size_bytes,
            };
        }
        Ok(())
    }

    fn verify_chunk(&mut self, chunk_sha256: &[u8; 32]) -> Result<(), AwsChunkedError> {
        match &mut self.signing {
            ChunkedSigning::Signed(chain) | ChunkedSigning::SignedWithTrailer(chain) => chain
                .verify_chunk(chunk_sha256, &self.chunk_signature_hex)
                .map_err(|_| AwsChunkedError::SignatureDoesNotMatch),
            ChunkedSigning::UnsignedWithTrailer => Ok(()),
        }
    }

    fn trailer_line(&mut self, line: &[u8]) -> Result<(), AwsChunkedError> {
        let line = std::str::from_utf8(line).map_err(|_| AwsChunkedError::Malformed)?;
        let (name, value) = line.split_once(':').ok_or(AwsChunkedError::Malformed)?;
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim();
        if self.trailer_signature_verified {
            return Err(AwsChunkedError::UnexpectedTrailer);
        }
        if name == TRAILER_SIGNATURE_NAME {
            let ChunkedSigning::SignedWithTrailer(chain) = &mut self.signing else {
                return Err(AwsChunkedError::UnexpectedTrailer);
            };
            let mut canonical_trailer = Vec::with_capacity(self.trailer_bytes);
            for (trailer_name, trailer_value) in &self.trailers {
                canonical_trailer.extend_from_slice(trailer_name.as_bytes());
                canonical_trailer.push(b':');
                canonical_trailer.extend_from_slice(trailer_value.as_bytes());
                canonical_trailer.push(b'\n');
            }
            chain
                .verify_trailer(&canonical_trailer, value.as_bytes())
                .map_err(|_| AwsChunkedError::SignatureDoesNotMatch)?;
            self.trailer_signature_verified = true;
            return Ok(());
        }
        let declared = !self.declared_trailers_invalid && self.declared_trailers.contains(&name);
        let duplicate = self.trailers.iter().any(|(existing, _)| *existing == name);
        if matches!(self.signing, ChunkedSigning::Signed(_)) || !declared || duplicate {
            return Err(AwsChunkedError::UnexpectedTrailer);
        }
        if self.trailers.len() + 1 >= TRAILER_LINE_COUNT_MAX {
            return Err(AwsChunkedError::TrailerTooLarge);
        }
        self.trailers.push((name, value.to_owned()));
        Ok(())
    }

    fn finish_trailers(&mut self) -> Result<(), AwsChunkedError> {
        if matches!(self.signing, ChunkedSigning::SignedWithTrailer(_))
            && !self.trailer_signature_verified
        {
            return Err(AwsChunkedError::TrailerMissing);
        }
        if !matches!(self.signing, ChunkedSigning::Signed(_)) {
            let all_present = self
                .declared_trailers
                .iter()
                .all(|declared| self.trailers.iter().any(|(name, _)| name == declared));
            if !all_present || self.declared_trailers_invalid {
                return Err(AwsChunkedError::TrailerMissing);
            }
        }
        if self
            .decoded_content_length
            .is_some_and(|declared| declared != self.decoded_size_bytes)
        {
            return Err(AwsChunkedError::DecodedLengthMismatch);
        }
        Ok(())
    }
}

/// Length of the first line of `input` including its `\n`, if it ends within `limit` bytes.
/// `Err(Malformed)` if no `\n` appears within `limit` bytes although enough input is present.
fn find_line(input: &[u8], limit: usize) -> Result<Option<usize>, AwsChunkedError> {
    if input.is_empty() {
        return Ok(None);
    }
    let window = &input[..input.len().min(limit)];
    match window.iter().position(|&byte| byte == b'\n') {
        Some(idx) => Ok(Some(idx + 1)),
        None if input.len() >= limit => Err(AwsChunkedError::Malformed),
        None => Ok(None),
    }
}

/// 1 to 16 hex digits (either case), no sign, no whitespace.
fn parse_hex_size(digits: &[u8]) -> Result<u64, AwsChunkedError> {
    if digits.is_empty() || digits.len() > 16 {
        return Err(AwsChunkedError::Malformed);
    }
    let mut size_bytes: u64 = 0;
    for &digit in digits {
        let value = char::from(digit)
            .to_digit(16)
            .ok_or(AwsChunkedError::Malformed)?;
        size_bytes = (size_bytes << 4) | u64::from(value);
    }
    Ok(size_bytes)
}

#[cfg(test)]
mod tests;
