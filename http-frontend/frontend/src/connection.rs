//! One client connection on one shard: read a request head within the limits, decide which
//! shard owns the request, serve it here or hand the connection to the owner, repeat while
//! keep-alive lasts.
//!
//! Hand-over moves the socket (and the bytes already read) through the owner's bounded inbox;
//! the owner parses the head again (about a microsecond) and serves the request and the ones
//! after it, until one belongs elsewhere. Object bytes never cross cores.

use std::os::fd::{FromRawFd, IntoRawFd};
use std::rc::Rc;
use std::time::Duration;

use base::limits::REQUEST_HEAD_BYTES_MAX;
use monoio::buf::IoBufMut;
use monoio::io::{AsyncReadRent, AsyncWriteRentExt};
use runtime::ShardContext;
use runtime::mesh::MeshMessage;
use s3_proto::error::{S3Error, S3ErrorCode};

use crate::dispatch::{self, Placement};
use crate::request::{HeadError, parse_head};
use crate::response;

/// Bytes read from the socket per read call.
const READ_CHUNK_BYTES: usize = 256 * 1024;
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

    /// Reads more bytes, waiting at most `timeout`; `Closed` on end of stream.
    pub async fn fill(&mut self, timeout: Duration) -> Result<usize, ReadError> {
        if self.start > 0 {
            self.buffer.drain(..self.start);
            self.start = 0;
        }
        let length = self.buffer.len();
        self.buffer.reserve(READ_CHUNK_BYTES);
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
            match self.fill(left).await {
                Ok(count) => discarded_bytes += count,
                Err(_) => break,
            }
        }
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

/// Counts the finished request in this shard's metrics. A request that got no answer (the
/// client went away) counts as 499, as nginx logs it.
fn record_request(
    context: &ShardContext,
    accounting: &Accounting,
    method: &str,
    elapsed: Duration,
) {
    let record = telemetry::RequestRecord {
        operation: accounting.operation.unwrap_or("Invalid"),
        method: static_method(method),
        status: accounting.status.unwrap_or(499),
        duration: elapsed,
        received_bytes: accounting.received_bytes,
        sent_bytes: accounting.sent_bytes,
        error_code: accounting.error_code,
    };
    context.metrics.borrow_mut().record(&record);
}

/// The method as a static label: the methods S3 uses, everything else as `OTHER` (bounded
/// label values whatever clients send).
fn static_method(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "PUT" => "PUT",
        "POST" => "POST",
        "HEAD" => "HEAD",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "OTHER",
    }
}

/// The status of a final response head (`HTTP/1.1 200 ...`), `None` for body bytes and 1xx.
fn final_status(bytes: &[u8]) -> Option<u16> {
    let digits = bytes.strip_prefix(b"HTTP/1.1 ")?.get(..3)?;
    let status: u16 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    (status >= 200).then_some(status)
}

/// Serves a connection until it closes, times out or moves to another shard.
pub async fn serve(context: Rc<ShardContext>, stream: monoio::net::TcpStream, buffered: Vec<u8>) {
    let mut connection = Connection::new(stream, buffered);
    let mut first_request = true;
    loop {
        connection.accounting = Accounting::default();
        let head = match read_head(&context.settings, &mut connection, first_request).await {
            Ok(head) => head,
            Err(HeadOutcome::Closed) => return,
            Err(HeadOutcome::Refused(error)) => {
                let (status, code) = match error {
                    HeadError::TooManyHeaders => (431, S3ErrorCode::RequestHeaderSectionTooLarge),
                    _ => (400, S3ErrorCode::BadRequest),
                };
                let mut error = S3Error::new(code);
                if status == 431 {
                    error = error.resource("request head");
                }
                let bytes =
                    response::error_bytes(&error, &[], false, &response::new_request_id(&context));
                let _ = connection.write_all(bytes).await;
                return;
            }
        };
        first_request = false;
        let placement = dispatch::placement(&context, &head);
        let placement =
            dispatch::resolve_post_object(&context, &head, &mut connection, placement).await;
        match placement {
            Placement::Elsewhere(shard_id) => {
                hand_over(&context, connection, shard_id).await;
                return;
            }
            Placement::Here(routed) => {
                let _request = context.begin_request();
                let started = std::time::Instant::now();
                let method = head.method.clone();
                let keep_alive =
                    dispatch::serve_request(&context, &mut connection, head, routed).await;
                record_request(&context, &connection.accounting, &method, started.elapsed());
                if !keep_alive || context.shutting_down.get() {
                    return;
                }
            }
        }
    }
}

enum HeadOutcome {
    Closed,
    Refused(HeadError),
}

/// Reads until a complete head is buffered. A kept-alive connection may idle for the idle
/// timeout before its next request; once a request has started (its first byte arrived, or the
/// connection is new), the whole head must arrive within the header-read timeout, however the
/// client spreads its bytes (slowloris).
async fn read_head(
    settings: &runtime::SharedSettings,
    connection: &mut Connection,
    first_request: bool,
) -> Result<crate::request::RequestHead, HeadOutcome> {
    let head_time = settings.request_head_timeout;
    let mut deadline = None;
    if first_request || !connection.unconsumed().is_empty() {
        deadline = Some(std::time::Instant::now() + head_time);
    }
    loop {
        match parse_head(connection.unconsumed()) {
            Ok(Some(head)) => return Ok(head),
            Ok(None) => {}
            Err(error) => return Err(HeadOutcome::Refused(error)),
        }
        if connection.unconsumed().len() >= REQUEST_HEAD_BYTES_MAX {
            return Err(HeadOutcome::Refused(HeadError::TooManyHeaders));
        }
        let timeout = match deadline {
            Some(deadline) => deadline.saturating_duration_since(std::time::Instant::now()),
            None => settings.idle_timeout,
        };
        if timeout.is_zero() || connection.fill(timeout).await.is_err() {
            return Err(HeadOutcome::Closed);
        }
        deadline.get_or_insert_with(|| std::time::Instant::now() + head_time);
    }
}

async fn hand_over(context: &ShardContext, connection: Connection, shard_id: u32) {
    // The request is counted by the shard that serves it.
    let Connection {
        stream,
        mut buffer,
        start,
        ..
    } = connection;
    // The buffer itself moves, with its capacity: the owner reads its next requests into it.
    // A copy of the unread bytes and a fresh 256 KiB read buffer on the owner cost an
    // allocation, a free and heap consolidation per hand-over (perf, 4 KiB GET).
    buffer.drain(..start);
    let buffered = buffer;
    let raw = stream.into_raw_fd();
    // SAFETY: `raw` was just released by the monoio stream (no operation is in flight on it:
    // the head was read to completion) and is owned by nothing else.
    #[allow(unsafe_code)]
    let stream = unsafe { std::net::TcpStream::from_raw_fd(raw) };
    let message = MeshMessage::Connection { stream, buffered };
    // A full inbox makes this connection wait (backpressure); other tasks keep running.
    if context.inboxes[shard_id as usize]
        .send_async(message)
        .await
        .is_err()
    {
        tracing::debug!(to = shard_id, "owner shard stopped; connection closed");
    }
}
