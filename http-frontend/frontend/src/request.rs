//! The request head: parsed with httparse into owned data, with the framing rules that keep
//! request smuggling out (RFC 9112 §6): one body length, decided once.

use base::limits::{REQUEST_HEAD_BYTES_MAX, REQUEST_HEADER_COUNT_MAX};

/// How the request body is framed on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    None,
    ContentLength(u64),
    Chunked,
}

#[derive(Debug)]
pub struct RequestHead {
    pub method: String,
    /// The request-target path, as on the wire (still percent-encoded).
    pub raw_path: String,
    /// After `?`, as on the wire; empty when absent.
    pub raw_query: String,
    /// Names lowercased, values raw.
    pub headers: Vec<(String, Vec<u8>)>,
    pub framing: BodyFraming,
    pub expect_continue: bool,
    pub keep_alive: bool,
    /// Length of the head in the connection buffer.
    pub head_length: usize,
}

/// Why a head was refused; every case is answered with a 4xx and the connection is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadError {
    Malformed,
    TooManyHeaders,
    /// Content-Length and Transfer-Encoding together, two Content-Lengths, a Transfer-Encoding
    /// other than exactly `chunked`, or a Content-Length that is not plain digits.
    AmbiguousFraming,
    /// The request-target is not origin-form (`/...`).
    BadTarget,
    UnsupportedVersion,
}

/// Parses a complete head from `bytes`; `Ok(None)` if more bytes are needed.
pub fn parse_head(bytes: &[u8]) -> Result<Option<RequestHead>, HeadError> {
    let mut slots = [httparse::EMPTY_HEADER; REQUEST_HEADER_COUNT_MAX];
    let mut request = httparse::Request::new(&mut slots);
    let head_length = match request.parse(bytes) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooManyHeaders),
        Err(httparse::Error::Version) => return Err(HeadError::UnsupportedVersion),
        Err(_) => return Err(HeadError::Malformed),
    };
    // The caller caps the bytes it buffers while a head is partial, but one read may bring a
    // complete head larger than the cap (BAD-INPUTS.md H1): the cap holds either way.
    if head_length > REQUEST_HEAD_BYTES_MAX {
        return Err(HeadError::TooManyHeaders);
    }
    let method = request.method.ok_or(HeadError::Malformed)?.to_owned();
    let target = request.path.ok_or(HeadError::Malformed)?;
    if !target.starts_with('/') {
        return Err(HeadError::BadTarget);
    }
    let (raw_path, raw_query) = match target.split_once('?') {
        Some((path, query)) => (path.to_owned(), query.to_owned()),
        None => (target.to_owned(), String::new()),
    };
    let http_1_0 = request.version == Some(0);
    let mut headers = Vec::with_capacity(request.headers.len());
    let mut content_length: Option<u64> = None;
    let mut chunked = false;
    let mut transfer_encoding_seen = false;
    let mut expect_continue = false;
    let mut connection_close = false;
    let mut connection_keep_alive = false;
    for header in request.headers.iter() {
        let name = header.name.to_ascii_lowercase();
        let value = header.value;
        match name.as_str() {
            "content-length" => {
                if content_length.is_some() {
                    return Err(HeadError::AmbiguousFraming);
                }
                content_length = Some(parse_content_length(value)?);
            }
            "transfer-encoding" => {
                if transfer_encoding_seen || !value.eq_ignore_ascii_case(b"chunked") {
                    return Err(HeadError::AmbiguousFraming);
                }
                transfer_encoding_seen = true;
                chunked = true;
            }
            "expect" => expect_continue = value.eq_ignore_ascii_case(b"100-continue"),
            "connection" => {
                for token in value.split(|byte| *byte == b',') {
                    let token = token.trim_ascii();
                    connection_close |= token.eq_ignore_ascii_case(b"close");
                    connection_keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
                }
            }
            _ => {}
        }
        headers.push((name, value.to_vec()));
    }
    let framing = match (content_length, chunked) {
        (Some(_), true) => return Err(HeadError::AmbiguousFraming),
        (Some(0) | None, false) => BodyFraming::None,
        (Some(length), false) => BodyFraming::ContentLength(length),
        (None, true) => BodyFraming::Chunked,
    };
    let keep_alive = if http_1_0 {
        connection_keep_alive
    } else {
        !connection_close
    };
    Ok(Some(RequestHead {
        method,
        raw_path,
        raw_query,
        headers,
        framing,
        expect_continue,
        keep_alive,
        head_length,
    }))
}

fn parse_content_length(value: &[u8]) -> Result<u64, HeadError> {
    if value.is_empty() || value.len() > 19 || !value.iter().all(u8::is_ascii_digit) {
        return Err(HeadError::AmbiguousFraming);
    }
    std::str::from_utf8(value)
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or(HeadError::AmbiguousFraming)
}

impl RequestHead {
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(header, _)| header == name)
            .map(|(_, value)| value.as_slice())
    }

    /// A header as UTF-8 text; non-UTF-8 values are treated as absent by callers that need text.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header(name)
            .and_then(|value| std::str::from_utf8(value).ok())
    }

    pub fn has_header(&self, name: &str) -> bool {
        self.headers.iter().any(|(header, _)| header == name)
    }

    pub fn has_body(&self) -> bool {
        self.framing != BodyFraming::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Option<RequestHead>, HeadError> {
        parse_head(text.as_bytes())
    }

    #[test]
    fn smuggling_shapes_are_rejected() {
        let cases = [
            "PUT /b/k HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            "PUT /b/k HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            "PUT /b/k HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
            "PUT /b/k HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            "PUT /b/k HTTP/1.1\r\nContent-Length: +5\r\n\r\n",
            "PUT /b/k HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            "PUT /b/k HTTP/1.1\r\nContent-Length: 1e3\r\n\r\n",
        ];
        for case in cases {
            assert_eq!(
                parse(case).unwrap_err(),
                HeadError::AmbiguousFraming,
                "{case}"
            );
        }
    }

    #[test]
    fn target_must_be_origin_form() {
        assert_eq!(
            parse("PUT ../b/k HTTP/1.1\r\n\r\n").unwrap_err(),
            HeadError::BadTarget
        );
        assert_eq!(
            parse("GET /b/k HTTP/1.2\r\n\r\n").unwrap_err(),
            HeadError::UnsupportedVersion
        );
    }

    #[test]
    fn framing_and_keep_alive() {
        let head =
            parse("PUT /b/k?x=1 HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-Continue\r\n\r\n")
                .unwrap()
                .unwrap();
        assert_eq!(head.framing, BodyFraming::ContentLength(3));
        assert!(head.expect_continue && head.keep_alive);
        assert_eq!(
            (head.raw_path.as_str(), head.raw_query.as_str()),
            ("/b/k", "x=1")
        );
        let head = parse("GET / HTTP/1.0\r\n\r\n").unwrap().unwrap();
        assert!(!head.keep_alive);
        assert!(parse("GET / HTTP/1.1\r\nHost: x\r\n").unwrap().is_none());
        let many = "h: v\r\n".repeat(101);
        let request = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert_eq!(parse(&request).unwrap_err(), HeadError::TooManyHeaders);
    }

    #[test]
    fn complete_head_over_the_byte_cap_is_refused() {
        let big = "a".repeat(REQUEST_HEAD_BYTES_MAX);
        let request = format!("GET /b/k HTTP/1.1\r\nX-Big: {big}\r\n\r\n");
        assert_eq!(parse(&request).unwrap_err(), HeadError::TooManyHeaders);
        let fits = "a".repeat(REQUEST_HEAD_BYTES_MAX - 100);
        let request = format!("GET /b/k HTTP/1.1\r\nX-Big: {fits}\r\n\r\n");
        assert!(parse(&request).unwrap().is_some());
    }
}
