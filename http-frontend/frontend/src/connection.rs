//! One client connection: a socket with a read buffer, timed reads, writes that keep the
//! request's accounting, and the lingering close. What is done with the requests read from it
//! is `serve.rs`'s business.

use std::time::Duration;

use monoio::buf::IoBufMut;
use monoio::io::{AsyncReadRent, AsyncWriteRentExt};

/// Room made for one read of a request head. Heads are a few hundred bytes; a connection
/// that only sends heads (GETs, idle keep-alive) never holds more than a few KiB, so thousands
/// of idle connections cost megabytes, not gigabytes (security issue 14, finding 6).
const HEAD_READ_BYTES: usize = 4 * 1024;
/// Largest room made for one read of a framed request body: the room doubles with each read
/// from `HEAD_READ_BYTES` up to this, so a small body never gets a large buffer.
const BODY_READ_BYTES_MAX: usize = 256 * 1024;
/// A buffer larger than this is released between requests (a body grew it).
const IDLE_BUFFER_BYTES_MAX: usize = 16 * 1024;
/// Lingering close: how long and how much unread request body we discard before closing.
const LINGER_TIME: Duration = Duration::from_secs(2);
const LINGER_BYTES_MAX: usize = 64 << 20;

pub struct Connection {
    pub stream: monoio::net::TcpStream,
    /// Bytes read and not yet consumed are `buffer[start..]`.
    buffer: Vec<u8>,
    start: usize,
    /// What the current request did on the wire, for metrics; reset per request.
    pub accounting: Accounting,
}

/// One request's traffic and outcome as seen on the connection.
#[derive(Debug, Clone, Copy, Default)]
pub struct Accounting {
    /// The S3 operation, once routed.
    pub operation: Option<&'static str>,
    /// The status of the last final response head written (1xx are not final).
    pub status: Option<u16>,
    pub received_bytes: u64,
    pub sent_bytes: u64,
    /// The S3 error code of an error answer.
    pub error_code: Option<&'static str>,
}

#[derive(Debug)]
pub enum ReadError {
    Io(std::io::Error),
    TimedOut,
    Closed,
}

impl Connection {
    pub fn new(stream: monoio::net::TcpStream, buffered: Vec<u8>) -> Connection {
        Connection {
            stream,
            buffer: buffered,
            start: 0,
            accounting: Accounting::default(),
        }
    }

    pub fn unconsumed(&self) -> &[u8] {
        &self.buffer[self.start..]
    }

    pub fn consume(&mut self, count: usize) {
        self.start += count;
        debug_assert!(self.start <= self.buffer.len());
        if self.start == self.buffer.len() {
            self.buffer.clear();
            self.start = 0;
        }
    }

    /// Reads more bytes of a request head (or anything small), waiting at most `timeout`;
    /// `Closed` on end of stream.
    pub async fn fill(&mut self, timeout: Duration) -> Result<usize, ReadError> {
        self.fill_with_room(timeout, HEAD_READ_BYTES).await
    }

    /// Reads more bytes of a request body, with room growing from `HEAD_READ_BYTES` to
    /// `BODY_READ_BYTES_MAX` as the body keeps coming.
    pub async fn fill_body(&mut self, timeout: Duration) -> Result<usize, ReadError> {
        let room = self
            .buffer
            .capacity()
            .clamp(HEAD_READ_BYTES, BODY_READ_BYTES_MAX);
        self.fill_with_room(timeout, room).await
    }

    /// Gives back a buffer that a body grew, once nothing in it is unread: an idle
    /// connection keeps at most `IDLE_BUFFER_BYTES_MAX`.
    pub fn release_idle_buffer(&mut self) {
        if self.unconsumed().is_empty() && self.buffer.capacity() > IDLE_BUFFER_BYTES_MAX {
            self.buffer = Vec::new();
            self.start = 0;
        }
    }

    async fn fill_with_room(&mut self, timeout: Duration, room: usize) -> Result<usize, ReadError> {
        if self.start > 0 {
            self.buffer.drain(..self.start);
            self.start = 0;
        }
        let length = self.buffer.len();
        self.buffer.reserve(room);
        let capacity = self.buffer.capacity();
        let buffer = std::mem::take(&mut self.buffer);
        let read = self.stream.read(buffer.slice_mut(length..capacity));
        // On timeout the read is cancelled with the connection's buffer inside it; the caller
        // closes the connection, so nothing is lost that anyone would read.
        let Ok((result, slice)) = monoio::time::timeout(timeout, read).await else {
            return Err(ReadError::TimedOut);
        };
        self.buffer = slice.into_inner();
        match result {
            Ok(0) => Err(ReadError::Closed),
            Ok(count) => {
                self.accounting.received_bytes += count as u64;
                Ok(count)
            }
            Err(error) => Err(ReadError::Io(error)),
        }
    }

    /// Reads straight into `target` (a caller's buffer, e.g. an object writer's O_DIRECT
    /// buffer), waiting at most `timeout`, once the bytes already buffered here are consumed;
    /// returns how many bytes the read appended and the buffer. On an error the buffer is
    /// dropped: the caller fails the request and closes the connection.
    pub async fn read_into<B: IoBufMut>(
        &mut self,
        target: monoio::buf::SliceMut<B>,
        timeout: Duration,
    ) -> Result<(usize, B), ReadError> {
        debug_assert!(self.unconsumed().is_empty(), "buffered bytes come first");
        let read = self.stream.read(target);
        let Ok((result, slice)) = monoio::time::timeout(timeout, read).await else {
            return Err(ReadError::TimedOut);
        };
        match result {
            Ok(0) => Err(ReadError::Closed),
            Ok(count) => {
                self.accounting.received_bytes += count as u64;
                Ok((count, slice.into_inner()))
            }
            Err(error) => Err(ReadError::Io(error)),
        }
    }

    /// Closes after an answer sent before the request body was read: half-close so the client
    /// reads the answer, then discard what it still sends (bounded in time and bytes) so the
    /// kernel does not reset the connection under the unread data before the client has read
    /// the answer (what nginx calls a lingering close).
    pub async fn linger(&mut self) {
        use monoio::io::AsyncWriteRent;
        let _ = self.stream.shutdown().await;
        let deadline = std::time::Instant::now() + LINGER_TIME;
        let mut discarded_bytes = 0usize;
        while discarded_bytes < LINGER_BYTES_MAX {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            self.buffer.clear();
            self.start = 0;
            match self.fill_body(left).await {
                Ok(count) => discarded_bytes += count,
                Err(_) => break,
            }
        }
    }

    /// The socket and the bytes read but not consumed, for a hand-over. The buffer itself
    /// moves, with its capacity: the owner reads its next requests into it. A copy of the
    /// unread bytes and a fresh 256 KiB read buffer on the owner cost an allocation, a free and
    /// heap consolidation per hand-over (perf, 4 KiB GET).
    pub fn into_parts(self) -> (monoio::net::TcpStream, Vec<u8>) {
        let Connection {
            stream,
            mut buffer,
            start,
            ..
        } = self;
        buffer.drain(..start);
        (stream, buffer)
    }

    pub async fn write_all(&mut self, bytes: Vec<u8>) -> std::io::Result<()> {
        if let Some(status) = final_status(&bytes) {
            self.accounting.status = Some(status);
        }
        self.accounting.sent_bytes += bytes.len() as u64;
        let (result, _) = self.stream.write_all(bytes).await;
        result.map(|_| ())
    }
}

/// The status of a final response head (`HTTP/1.1 NNN ...`), `None` for body bytes and 1xx.
fn final_status(bytes: &[u8]) -> Option<u16> {
    let digits = bytes.strip_prefix(b"HTTP/1.1 ")?.get(..3)?;
    let status: u16 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    (status >= 200).then_some(status)
}
