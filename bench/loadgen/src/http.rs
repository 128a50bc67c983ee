//! A small blocking HTTP/1.1 client over plain TCP: one keep-alive connection per worker
//! thread, requests written as given, responses parsed with httparse (Content-Length or chunked
//! bodies). Just enough for S3 against 127.0.0.1; no TLS, no redirects, no pipelining.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Largest response head we accept; S3 heads are well under 4 KiB.
const RESPONSE_HEAD_BYTES_MAX: usize = 64 * 1024;
/// Most headers parsed in one response.
const RESPONSE_HEADER_COUNT_MAX: usize = 64;
/// Largest response body kept in memory (listings, upload ids); larger kept bodies are errors.
pub const KEPT_BODY_BYTES_MAX: usize = 16 * 1024 * 1024;
/// Read buffer size: large enough that a 1 MiB GET takes few read calls.
const READ_BUFFER_BYTES: usize = 256 * 1024;
/// A hung server must not hang the benchmark past its deadline by much.
const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// What the caller needs from a response.
#[derive(Debug, Default)]
pub struct Response {
    pub status: u16,
    /// Body bytes received (whether kept or not).
    pub body_bytes: u64,
    /// The `ETag` header, if any (multipart parts need it).
    pub etag: Option<String>,
}

pub struct Connection {
    address: String,
    stream: Option<TcpStream>,
    buf: Box<[u8]>,
    /// Unconsumed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
}

impl Connection {
    pub fn new(address: &str) -> Connection {
        Connection {
            address: address.to_owned(),
            stream: None,
            buf: vec![0; READ_BUFFER_BYTES].into_boxed_slice(),
            start: 0,
            end: 0,
        }
    }

    fn stream(&mut self) -> io::Result<&mut TcpStream> {
        if self.stream.is_none() {
            let stream = TcpStream::connect(&self.address)?;
            // Requests are written head then body; without NODELAY a small body waits for the
            // ACK of the head (Nagle + delayed ACK: 40 ms stalls).
            stream.set_nodelay(true)?;
            stream.set_read_timeout(Some(IO_TIMEOUT))?;
            stream.set_write_timeout(Some(IO_TIMEOUT))?;
            self.stream = Some(stream);
            self.start = 0;
            self.end = 0;
        }
        self.stream
            .as_mut()
            .ok_or_else(|| io::Error::other("not connected"))
    }

    /// Drops the connection; the next request reconnects.
    pub fn close(&mut self) {
        self.stream = None;
        self.start = 0;
        self.end = 0;
    }

    /// Sends `head` (complete, ending in CRLFCRLF) and `body`, then reads the response. The
    /// body is appended to `kept` when `kept` is `Some`, else discarded. On any IO or framing
    /// error the connection is closed.
    pub fn request(
        &mut self,
        head: &[u8],
        body: &[u8],
        is_head_request: bool,
        kept: Option<&mut Vec<u8>>,
    ) -> io::Result<Response> {
        let result = self.exchange(head, body, is_head_request, kept);
        if result.is_err() {
            self.close();
        }
        result
    }

    fn exchange(
        &mut self,
        head: &[u8],
        body: &[u8],
        is_head_request: bool,
        kept: Option<&mut Vec<u8>>,
    ) -> io::Result<Response> {
        let stream = self.stream()?;
        if body.len() <= 64 * 1024 {
            // One write (one segment burst) for small requests.
            let mut whole = Vec::with_capacity(head.len() + body.len());
            whole.extend_from_slice(head);
            whole.extend_from_slice(body);
            stream.write_all(&whole)?;
        } else {
            stream.write_all(head)?;
            stream.write_all(body)?;
        }
        let (status, framing, etag, close) = self.read_head()?;
        let body_bytes = if is_head_request || status == 204 || status == 304 {
            0
        } else {
            match framing {
                Framing::Length(length) => self.read_length(length, kept)?,
                Framing::Chunked => self.read_chunked(kept)?,
                Framing::UntilClose => self.read_until_close(kept)?,
            }
        };
        if close || matches!(framing, Framing::UntilClose) {
            self.close();
        }
        Ok(Response {
            status,
            body_bytes,
            etag,
        })
    }

    fn fill(&mut self) -> io::Result<usize> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.end == self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let end = self.end;
        let stream = self
            .stream
            .as_mut()
            .ok_or_else(|| io::Error::other("not connected"))?;
        let read = stream.read(&mut self.buf[end..])?;
        self.end += read;
        Ok(read)
    }

    fn read_head(&mut self) -> io::Result<(u16, Framing, Option<String>, bool)> {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; RESPONSE_HEADER_COUNT_MAX];
            let mut response = httparse::Response::new(&mut headers);
            let available = &self.buf[self.start..self.end];
            match response.parse(available) {
                Ok(httparse::Status::Complete(head_length)) => {
                    let status = response.code.unwrap_or(0);
                    let mut framing = Framing::UntilClose;
                    let mut etag = None;
                    let mut close = false;
                    for header in response.headers.iter() {
                        let value = std::str::from_utf8(header.value).unwrap_or("").trim();
                        if header.name.eq_ignore_ascii_case("content-length") {
                            let length = value
                                .parse()
                                .map_err(|_| io::Error::other("bad content-length"))?;
                            framing = Framing::Length(length);
                        } else if header.name.eq_ignore_ascii_case("transfer-encoding")
                            && value.eq_ignore_ascii_case("chunked")
                        {
                            framing = Framing::Chunked;
                        } else if header.name.eq_ignore_ascii_case("etag") {
                            etag = Some(value.to_owned());
                        } else if header.name.eq_ignore_ascii_case("connection") {
                            close = value.eq_ignore_ascii_case("close");
                        }
                    }
                    self.start += head_length;
                    return Ok((status, framing, etag, close));
                }
                Ok(httparse::Status::Partial) => {
                    if self.end - self.start >= RESPONSE_HEAD_BYTES_MAX {
                        return Err(io::Error::other("response head too large"));
                    }
                    if self.fill()? == 0 {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "connection closed before a response",
                        ));
                    }
                }
                Err(error) => return Err(io::Error::other(format!("bad response: {error}"))),
            }
        }
    }

    fn take(&mut self, wanted: usize, kept: &mut Option<&mut Vec<u8>>) -> io::Result<usize> {
        if self.start == self.end && self.fill()? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed in a body",
            ));
        }
        let count = wanted.min(self.end - self.start);
        if let Some(kept) = kept.as_deref_mut() {
            if kept.len() + count > KEPT_BODY_BYTES_MAX {
                return Err(io::Error::other("response body too large to keep"));
            }
            kept.extend_from_slice(&self.buf[self.start..self.start + count]);
        }
        self.start += count;
        Ok(count)
    }

    fn read_length(&mut self, length: u64, mut kept: Option<&mut Vec<u8>>) -> io::Result<u64> {
        let mut remaining = length;
        while remaining > 0 {
            let wanted = usize::try_from(remaining).unwrap_or(usize::MAX);
            remaining -= self.take(wanted, &mut kept)? as u64;
        }
        Ok(length)
    }

    fn read_line(&mut self) -> io::Result<String> {
        loop {
            let available = &self.buf[self.start..self.end];
            if let Some(position) = available.windows(2).position(|pair| pair == b"\r\n") {
                let line = String::from_utf8_lossy(&available[..position]).into_owned();
                self.start += position + 2;
                return Ok(line);
            }
            if available.len() > 4096 {
                return Err(io::Error::other("chunk line too long"));
            }
            if self.fill()? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed in a chunk line",
                ));
            }
        }
    }

    fn read_chunked(&mut self, mut kept: Option<&mut Vec<u8>>) -> io::Result<u64> {
        let mut total = 0_u64;
        loop {
            let line = self.read_line()?;
            let size_text = line.split(';').next().unwrap_or("").trim();
            let size = u64::from_str_radix(size_text, 16)
                .map_err(|_| io::Error::other("bad chunk size"))?;
            if size == 0 {
                // Trailers (if any) end with an empty line.
                while !self.read_line()?.is_empty() {}
                return Ok(total);
            }
            total += self.read_length(size, kept.as_deref_mut())?;
            if !self.read_line()?.is_empty() {
                return Err(io::Error::other("missing CRLF after a chunk"));
            }
        }
    }

    fn read_until_close(&mut self, mut kept: Option<&mut Vec<u8>>) -> io::Result<u64> {
        let mut total = 0_u64;
        loop {
            match self.take(usize::MAX, &mut kept) {
                Ok(count) => total += count as u64,
                Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => return Ok(total),
                Err(error) => return Err(error),
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Framing {
    Length(u64),
    Chunked,
    UntilClose,
}
