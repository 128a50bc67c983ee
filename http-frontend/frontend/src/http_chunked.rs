//! Incremental decoder for HTTP/1.1 `Transfer-Encoding: chunked` request bodies (RFC 9112 §7.1).
//!
//! Grammar: `chunk-size [ BWS ; ext ]* CRLF chunk-data CRLF`, repeated, then `0 [ext] CRLF`,
//! a trailer section of header lines, and an empty line.
//! Chunk extensions and trailer fields are ignored (S3 puts nothing there; aws-chunked trailers
//! live inside the body, see `s3_proto::aws_chunked`).
//!
//! Architecture invariant: push-based and zero-copy; the decoder keeps no input and returns
//! sub-slices of what it is given. The caller keeps unconsumed bytes, which never need to exceed
//! [`CHUNK_SIZE_LINE_BYTES_MAX`] (or a trailer line) to make progress.
//! Architecture invariant: strict framing; chunk sizes of more than 16 hex digits, non-hex
//! sizes, and a missing CRLF are errors, never guessed around (request smuggling defence).

/// Longest chunk-size line, extensions and CRLF included.
pub const CHUNK_SIZE_LINE_BYTES_MAX: usize = 1024;
/// Most bytes of the trailer section, line endings included.
pub const TRAILER_SECTION_BYTES_MAX: usize = 8192;
/// Longest chunk size in hex digits (64 bits).
const CHUNK_SIZE_HEX_DIGITS_MAX: usize = 16;

/// What one [`HttpChunkedDecoder::decode`] call found.
#[derive(Debug, PartialEq, Eq)]
pub enum HttpChunkedStep<'a> {
    /// Body bytes (a sub-slice of the input); `consumed` counts framing too.
    Data { data: &'a [u8], consumed: usize },
    /// The input ends inside framing; call again with more bytes appended to the unconsumed rest.
    NeedMore { consumed: usize },
    /// The last chunk and trailer section were read; bytes after `consumed` belong to the next
    /// request on the connection.
    Done { consumed: usize },
}

/// Why a chunked body was rejected. All map to 400 Bad Request and closing the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpChunkedError {
    /// The chunk size is empty, not hex, or longer than 16 hex digits.
    InvalidChunkSize,
    /// Something other than an extension follows the chunk size.
    InvalidChunkExtension,
    /// A chunk-size line longer than [`CHUNK_SIZE_LINE_BYTES_MAX`].
    ChunkSizeLineTooLong,
    /// A line or chunk data not followed by CRLF.
    MissingCrlf,
    /// A trailer section longer than [`TRAILER_SECTION_BYTES_MAX`].
    TrailerSectionTooLarge,
    /// The body ended before the last chunk and trailer section ([`HttpChunkedDecoder::finish`]).
    Truncated,
}

impl std::fmt::Display for HttpChunkedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

impl std::error::Error for HttpChunkedError {}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    SizeLine,
    Data { remaining_bytes: u64 },
    DataEnd,
    Trailer,
    Done,
    Failed(HttpChunkedError),
}

/// Push-based chunked decoder; see the module documentation.
#[derive(Debug)]
pub struct HttpChunkedDecoder {
    state: State,
    trailer_bytes: usize,
    decoded_size_bytes: u64,
}

impl Default for HttpChunkedDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl HttpChunkedDecoder {
    pub fn new() -> Self {
        Self {
            state: State::SizeLine,
            trailer_bytes: 0,
            decoded_size_bytes: 0,
        }
    }

    /// Sum of the chunk sizes seen so far.
    pub fn decoded_size_bytes(&self) -> u64 {
        self.decoded_size_bytes
    }

    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Call when the connection reached EOF: `Ok` only if the body was complete.
    pub fn finish(&self) -> Result<(), HttpChunkedError> {
        match &self.state {
            State::Done => Ok(()),
            State::Failed(error) => Err(error.clone()),
            State::SizeLine | State::Data { .. } | State::DataEnd | State::Trailer => {
                Err(HttpChunkedError::Truncated)
            }
        }
    }

    /// Consumes a prefix of `input` and reports what it found. The caller keeps the unconsumed
    /// rest and calls again with more bytes appended. After an error every call fails.
    pub fn decode<'a>(&mut self, input: &'a [u8]) -> Result<HttpChunkedStep<'a>, HttpChunkedError> {
        self.decode_at_most(input, usize::MAX)
    }

    /// [`HttpChunkedDecoder::decode`], handing out at most `data_bytes_max` bytes of data
    /// (at least one) per call. The decoder counts only the data it hands out, so a caller
    /// with a piece size always consumes `consumed` whole; handing out less than a returned
    /// `Data` would leave the decoder past bytes the caller still holds, and the rest of the
    /// chunk would then be read as framing (a smuggled request).
    pub fn decode_at_most<'a>(
        &mut self,
        input: &'a [u8],
        data_bytes_max: usize,
    ) -> Result<HttpChunkedStep<'a>, HttpChunkedError> {
        match self.decode_inner(input, data_bytes_max.max(1)) {
            Ok(step) => Ok(step),
            Err(error) => {
                self.state = State::Failed(error.clone());
                Err(error)
            }
        }
    }

    fn decode_inner<'a>(
        &mut self,
        input: &'a [u8],
        data_bytes_max: usize,
    ) -> Result<HttpChunkedStep<'a>, HttpChunkedError> {
        let mut consumed = 0;
        // Bounded: every iteration consumes at least one byte or returns.
        loop {
            let rest = &input[consumed..];
            match self.state {
                State::Failed(ref error) => return Err(error.clone()),
                State::Done => return Ok(HttpChunkedStep::Done { consumed }),
                State::SizeLine => {
                    let Some(line) = crlf_line(rest, CHUNK_SIZE_LINE_BYTES_MAX).map_err(
                        |error| match error {
                            LineError::TooLong => HttpChunkedError::ChunkSizeLineTooLong,
                            LineError::BareLf => HttpChunkedError::MissingCrlf,
                        },
                    )?
                    else {
                        return Ok(HttpChunkedStep::NeedMore { consumed });
                    };
                    consumed += line.len() + 2;
                    let size_bytes = parse_size_line(line)?;
                    self.decoded_size_bytes = self
                        .decoded_size_bytes
                        .checked_add(size_bytes)
                        .ok_or(HttpChunkedError::InvalidChunkSize)?;
                    self.state = if size_bytes == 0 {
                        State::Trailer
                    } else {
                        State::Data {
                            remaining_bytes: size_bytes,
                        }
                    };
                }
                State::Data { remaining_bytes } => {
                    if rest.is_empty() {
                        return Ok(HttpChunkedStep::NeedMore { consumed });
                    }
                    let take = usize::try_from(remaining_bytes)
                        .map_or(rest.len(), |remaining| remaining.min(rest.len()))
                        .min(data_bytes_max);
                    let remaining_bytes = remaining_bytes - take as u64;
                    self.state = if remaining_bytes == 0 {
                        State::DataEnd
                    } else {
                        State::Data { remaining_bytes }
                    };
                    return Ok(HttpChunkedStep::Data {
                        data: &rest[..take],
                        consumed: consumed + take,
                    });
                }
                State::DataEnd => {
                    if rest.len() < 2 {
                        if rest.first().is_some_and(|&byte| byte != b'\r') {
                            return Err(HttpChunkedError::MissingCrlf);
                        }
                        return Ok(HttpChunkedStep::NeedMore { consumed });
                    }
                    if &rest[..2] != b"\r\n" {
                        return Err(HttpChunkedError::MissingCrlf);
                    }
                    consumed += 2;
                    self.state = State::SizeLine;
                }
                State::Trailer => {
                    let budget = TRAILER_SECTION_BYTES_MAX - self.trailer_bytes;
                    let Some(line) = crlf_line(rest, budget).map_err(|error| match error {
                        LineError::TooLong => HttpChunkedError::TrailerSectionTooLarge,
                        LineError::BareLf => HttpChunkedError::MissingCrlf,
                    })?
                    else {
                        return Ok(HttpChunkedStep::NeedMore { consumed });
                    };
                    consumed += line.len() + 2;
                    self.trailer_bytes += line.len() + 2;
                    if line.is_empty() {
                        self.state = State::Done;
                    }
                }
            }
        }
    }
}

enum LineError {
    TooLong,
    BareLf,
}

/// The first CRLF-terminated line of `input` (without the CRLF), if it ends within `limit`
/// bytes.
fn crlf_line(input: &[u8], limit: usize) -> Result<Option<&[u8]>, LineError> {
    if input.is_empty() {
        return Ok(None);
    }
    let window = &input[..input.len().min(limit)];
    match window.iter().position(|&byte| byte == b'\n') {
        Some(idx) => match window[..idx].strip_suffix(b"\r") {
            Some(line) => Ok(Some(line)),
            None => Err(LineError::BareLf),
        },
        None if input.len() >= limit => Err(LineError::TooLong),
        None => Ok(None),
    }
}

/// `1*HEXDIG *( BWS ";" ... )`; extensions are ignored but may not contain control bytes.
fn parse_size_line(line: &[u8]) -> Result<u64, HttpChunkedError> {
    let digit_count = line
        .iter()
        .take_while(|byte| byte.is_ascii_hexdigit())
        .count();
    if digit_count == 0 || digit_count > CHUNK_SIZE_HEX_DIGITS_MAX {
        return Err(HttpChunkedError::InvalidChunkSize);
    }
    let (digits, extension) = line.split_at(digit_count);
    let extension_start = extension
        .iter()
        .position(|&byte| byte != b' ' && byte != b'\t');
    if let Some(start) = extension_start {
        let extension = &extension[start..];
        let has_control = extension
            .iter()
            .any(|&byte| byte.is_ascii_control() && byte != b'\t');
        if extension[0] != b';' || has_control {
            // A non-hex byte right after the digits is a bad size, not a bad extension.
            return Err(if start == 0 && extension[0] != b';' {
                HttpChunkedError::InvalidChunkSize
            } else {
                HttpChunkedError::InvalidChunkExtension
            });
        }
    }
    let mut size_bytes: u64 = 0;
    for &digit in digits {
        let value = char::from(digit)
            .to_digit(16)
            .ok_or(HttpChunkedError::InvalidChunkSize)?;
        size_bytes = (size_bytes << 4) | u64::from(value);
    }
    Ok(size_bytes)
}

#[cfg(test)]
mod tests;
