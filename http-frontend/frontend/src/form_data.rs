//! A bounded, streaming multipart/form-data parser (RFC 7578) for browser POST uploads.
//!
//! Push bytes with [`FormParser::feed`], pull [`FormEvent`]s with [`FormParser::next_event`]
//! until it answers `None` (needs more bytes). Part bodies come out as they arrive, minus the
//! few bytes that could begin a delimiter, so the file part streams without being buffered
//! whole. Limits: part headers [`PART_HEADER_BYTES_MAX`], preamble [`PREAMBLE_BYTES_MAX`],
//! parts [`PART_COUNT_MAX`], padding after a delimiter [`TRANSPORT_PADDING_BYTES_MAX`]; the
//! caller bounds field values and feeds at most one read at a time, so the internal buffer
//! stays below one read plus one delimiter.

#[cfg(test)]
mod tests;

/// Longest header block of one part (`Content-Disposition`, `Content-Type`).
pub const PART_HEADER_BYTES_MAX: usize = 8 * 1024;
/// Longest text before the first boundary that we skip.
pub const PREAMBLE_BYTES_MAX: usize = 8 * 1024;
/// Most parts in one form; an S3 POST form has about 15 fields and one file.
pub const PART_COUNT_MAX: usize = 100;
/// Longest boundary (RFC 2046: 70 characters).
pub const BOUNDARY_BYTES_MAX: usize = 70;
/// Most spaces and tabs between a delimiter and its CRLF (RFC 2046 transport padding, which
/// clients do not send at all).
pub const TRANSPORT_PADDING_BYTES_MAX: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormError {
    /// The body is not a well-formed multipart/form-data body. S3: `MalformedPOSTRequest`.
    Malformed(&'static str),
    /// More parts than [`PART_COUNT_MAX`]. S3: `MalformedPOSTRequest`.
    TooManyParts,
}

/// The headers of one part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartHeaders {
    /// The `name` of `Content-Disposition: form-data`, as sent.
    pub name: String,
    /// The `filename`, when present (the file part).
    pub filename: Option<String>,
    pub content_type: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum FormEvent {
    PartStart(PartHeaders),
    /// Bytes of the current part's body.
    Data(Vec<u8>),
    PartEnd,
    /// The closing delimiter was read; anything after it is ignored.
    End,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Preamble,
    AfterDelimiter,
    Headers,
    Body,
    Done,
}

pub struct FormParser {
    /// `\r\n--boundary`.
    delimiter: Vec<u8>,
    buffer: Vec<u8>,
    state: State,
    part_count: usize,
    fed_bytes: usize,
}

impl FormParser {
    pub fn new(boundary: &str) -> Result<FormParser, FormError> {
        if boundary.is_empty() || boundary.len() > BOUNDARY_BYTES_MAX {
            return Err(FormError::Malformed("invalid boundary"));
        }
        let mut delimiter = b"\r\n--".to_vec();
        delimiter.extend_from_slice(boundary.as_bytes());
        // The first delimiter may start the body without a CRLF before it.
        Ok(FormParser {
            delimiter,
            buffer: b"\r\n".to_vec(),
            state: State::Preamble,
            part_count: 0,
            fed_bytes: 0,
        })
    }

    pub fn feed(&mut self, bytes: &[u8]) {
        if self.state != State::Done {
            self.buffer.extend_from_slice(bytes);
        }
        self.fed_bytes += bytes.len();
    }

    /// Body bytes parsed so far (fed and no longer buffered).
    pub fn consumed_bytes(&self) -> usize {
        // The buffer started with a synthetic CRLF (see `new`).
        (self.fed_bytes + 2).saturating_sub(self.buffer.len())
    }

    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// The next event, or `None` when more bytes are needed.
    pub fn next_event(&mut self) -> Result<Option<FormEvent>, FormError> {
        match self.state {
            State::Preamble => self.preamble(),
            State::AfterDelimiter => self.after_delimiter(),
            State::Headers => self.headers(),
            State::Body => Ok(self.body()),
            State::Done => Ok(None),
        }
    }

    fn preamble(&mut self) -> Result<Option<FormEvent>, FormError> {
        if let Some(at) = find(&self.buffer, &self.delimiter) {
            self.buffer.drain(..at + self.delimiter.len());
            self.state = State::AfterDelimiter;
            return self.after_delimiter();
        }
        if self.buffer.len() > PREAMBLE_BYTES_MAX + self.delimiter.len() {
            return Err(FormError::Malformed("no boundary found"));
        }
        Ok(None)
    }

    fn after_delimiter(&mut self) -> Result<Option<FormEvent>, FormError> {
        // Transport padding (spaces, tabs) may follow a delimiter. It stays buffered until
        // the CRLF comes, so it is capped: endless padding would otherwise grow the buffer
        // without ever counting as consumed.
        let padding = self
            .buffer
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t'))
            .count();
        if padding > TRANSPORT_PADDING_BYTES_MAX {
            return Err(FormError::Malformed("too much padding after a boundary"));
        }
        let rest = &self.buffer[padding..];
        if rest.len() < 2 {
            return Ok(None);
        }
        if rest.starts_with(b"--") {
            self.state = State::Done;
            self.buffer = Vec::new();
            return Ok(Some(FormEvent::End));
        }
        if !rest.starts_with(b"\r\n") {
            return Err(FormError::Malformed("bad delimiter line"));
        }
        self.buffer.drain(..padding + 2);
        self.part_count += 1;
        if self.part_count > PART_COUNT_MAX {
            return Err(FormError::TooManyParts);
        }
        self.state = State::Headers;
        self.headers()
    }

    fn headers(&mut self) -> Result<Option<FormEvent>, FormError> {
        let Some(end) = find(&self.buffer, b"\r\n\r\n") else {
            if self.buffer.len() > PART_HEADER_BYTES_MAX {
                return Err(FormError::Malformed("part headers too long"));
            }
            return Ok(None);
        };
        if end > PART_HEADER_BYTES_MAX {
            return Err(FormError::Malformed("part headers too long"));
        }
        let block = std::str::from_utf8(&self.buffer[..end])
            .map_err(|_| FormError::Malformed("part headers are not UTF-8"))?;
        let headers = parse_part_headers(block)?;
        // The CRLF before the next delimiter belongs to the delimiter, so an empty body is
        // followed directly by `\r\n--boundary`.
        self.buffer.drain(..end + 4);
        self.state = State::Body;
        Ok(Some(FormEvent::PartStart(headers)))
    }

    fn body(&mut self) -> Option<FormEvent> {
        if let Some(at) = find(&self.buffer, &self.delimiter) {
            if at > 0 {
                return Some(FormEvent::Data(self.buffer.drain(..at).collect()));
            }
            self.buffer.drain(..self.delimiter.len());
            self.state = State::AfterDelimiter;
            return Some(FormEvent::PartEnd);
        }
        // Keep what could be the start of a delimiter; hand out the rest.
        let keep = self.delimiter.len() - 1;
        if self.buffer.len() <= keep {
            return None;
        }
        let emit = self.buffer.len() - keep;
        Some(FormEvent::Data(self.buffer.drain(..emit).collect()))
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn parse_part_headers(block: &str) -> Result<PartHeaders, FormError> {
    let mut disposition = None;
    let mut content_type = None;
    for line in block.split("\r\n") {
        // Part header lines end at CRLF only. A lone CR or LF (or any other control
        // character) left inside a line would survive into a value: a file part's
        // Content-Type, a field name that becomes `x-amz-meta-*`, and from there a response
        // head (header injection).
        if line
            .bytes()
            .any(|byte| byte != b'\t' && (byte < b' ' || byte == 0x7F))
        {
            return Err(FormError::Malformed(
                "a part header holds a control character (lone CR or LF)",
            ));
        }
        let (name, value) = line
            .split_once(':')
            .ok_or(FormError::Malformed("bad part header"))?;
        let name = name.trim();
        if name.eq_ignore_ascii_case("content-disposition") {
            disposition = Some(value.trim());
        } else if name.eq_ignore_ascii_case("content-type") {
            content_type = Some(value.trim().to_owned());
        }
    }
    let disposition = disposition.ok_or(FormError::Malformed("part without a disposition"))?;
    let (kind, parameters) = disposition.split_once(';').unwrap_or((disposition, ""));
    if !kind.trim().eq_ignore_ascii_case("form-data") {
        return Err(FormError::Malformed("part is not form-data"));
    }
    let mut name = None;
    let mut filename = None;
    for (key, value) in disposition_parameters(parameters)? {
        if key.eq_ignore_ascii_case("name") {
            name = Some(value);
        } else if key.eq_ignore_ascii_case("filename") {
            filename = Some(value);
        }
    }
    Ok(PartHeaders {
        name: name.ok_or(FormError::Malformed("part without a name"))?,
        filename,
        content_type,
    })
}

/// `; key="quoted \"value\""; key2=token` pairs.
fn disposition_parameters(text: &str) -> Result<Vec<(String, String)>, FormError> {
    let malformed = FormError::Malformed("bad Content-Disposition parameters");
    let bytes = text.as_bytes();
    let mut pairs = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        while pos < bytes.len() && matches!(bytes[pos], b' ' | b'\t' | b';') {
            pos += 1;
        }
        if pos == bytes.len() {
            break;
        }
        let key_start = pos;
        while pos < bytes.len() && bytes[pos] != b'=' {
            pos += 1;
        }
        let key = text[key_start..pos].trim().to_owned();
        pos += 1;
        let mut value = Vec::new();
        if bytes.get(pos) == Some(&b'"') {
            pos += 1;
            loop {
                match bytes.get(pos) {
                    None => return Err(malformed),
                    Some(b'"') => break,
                    Some(b'\\') if pos + 1 < bytes.len() => {
                        value.push(bytes[pos + 1]);
                        pos += 2;
                        continue;
                    }
                    Some(byte) => value.push(*byte),
                }
                pos += 1;
            }
            pos += 1;
        } else {
            while pos < bytes.len() && bytes[pos] != b';' {
                value.push(bytes[pos]);
                pos += 1;
            }
        }
        let value = String::from_utf8(value).map_err(|_| malformed.clone())?;
        pairs.push((key, value.trim().to_owned()));
    }
    Ok(pairs)
}
