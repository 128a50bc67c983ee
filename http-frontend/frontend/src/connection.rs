//! One client connection: a socket with a read buffer, timed reads, writes that keep the
//! request's accounting, and the lingering close. What is done with the requests read from it
//! is `serve.rs`'s business.
//!
//! The transport is plain TCP or TLS. TLS is our own thin layer over
//! `rustls::ServerConnection` with monoio's owned-buffer IO: ciphertext is read into the
//! session's `incoming` buffer and given to rustls (`read_tls`, `process_new_packets`),
//! plaintext comes out of `reader()` into this connection's buffer (or an object writer's
//! aligned buffer: one copy, where plain TCP reads straight into it); answers go into
//! `writer()` and the records rustls makes are written with `write_all`. The whole state is a
//! `tls::Session` (plain data, `Send`), so a hand-over moves it with the socket.

use std::io::{Read as _, Write as _};
use std::sync::Arc;
use std::time::{Duration, Instant};

use monoio::buf::{IoBuf, IoBufMut};
use monoio::io::{AsyncReadRent, AsyncWriteRentExt};
use shard::aligned::AlignedBuf;

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
/// Room for one read of TLS ciphertext: a few whole records (16 KiB of plaintext each, plus
/// overhead), so a body costs one socket read per ~64 KiB as on plain TCP's small reads.
/// Given back when the connection goes idle.
const TLS_READ_BYTES: usize = 64 * 1024;
/// Most plaintext one TLS record carries (RFC 8446 §5.1: 2^14 bytes). A TLS read of the
/// connection's buffer zero-fills its room before rustls copies into it, so the room is one
/// record's worth, not the plain path's body reservation (which costs nothing to reserve).
const TLS_PLAINTEXT_RECORD_BYTES: usize = 16 * 1024;
/// Most ciphertext gathered for one socket write of TLS records.
const TLS_WRITE_BYTES: usize = 256 * 1024;
/// How long a close_notify (or a fatal alert) may take to go out before the socket closes.
const TLS_CLOSE_TIME: Duration = Duration::from_secs(1);
/// Steps (socket reads or ciphertext hand-offs to rustls) a handshake may take: a few
/// round trips of a few KiB need a handful; the deadline bounds the time, this the work.
const TLS_HANDSHAKE_ROUNDS_MAX: usize = 256;

pub struct Connection {
    pub stream: monoio::net::TcpStream,
    /// Bytes read and not yet consumed are `buffer[start..]` (plaintext, under TLS too).
    buffer: Vec<u8>,
    start: usize,
    transport: Transport,
    /// What the current request did on the wire, for metrics; reset per request.
    pub accounting: Accounting,
}

/// How bytes reach the socket.
enum Transport {
    Plain,
    Tls(Box<tls::Session>),
}

/// One request's traffic and outcome as seen on the connection.
#[derive(Debug, Clone, Copy, Default)]
pub struct Accounting {
    /// The S3 operation, once routed.
    pub operation: Option<&'static str>,
    /// The status of the last final response head written (1xx are not final).
    pub status: Option<u16>,
    /// Request bytes (plaintext under TLS).
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
    /// A connection over `stream`; `tls` is the session of a TLS connection handed over by
    /// another shard (`buffered` is then plaintext).
    pub fn new(
        stream: monoio::net::TcpStream,
        buffered: Vec<u8>,
        tls: Option<Box<tls::Session>>,
    ) -> Connection {
        Connection {
            stream,
            buffer: buffered,
            start: 0,
            transport: tls.map_or(Transport::Plain, Transport::Tls),
            accounting: Accounting::default(),
        }
    }

    /// Whether the connection is TLS (SSE-C is allowed on it without a setting).
    pub fn is_tls(&self) -> bool {
        matches!(self.transport, Transport::Tls(_))
    }

    /// Turns a fresh plain connection into a TLS one: the bytes buffered so far are the start
    /// of the ClientHello and become the session's first ciphertext. The handshake itself is
    /// `handshake`.
    pub fn start_tls(
        &mut self,
        config: Arc<tls::rustls::ServerConfig>,
    ) -> Result<(), tls::rustls::Error> {
        debug_assert!(!self.is_tls());
        let mut incoming = std::mem::take(&mut self.buffer);
        incoming.drain(..self.start);
        self.start = 0;
        self.transport = Transport::Tls(Box::new(tls::Session::new(config, incoming)?));
        Ok(())
    }

    /// Completes the TLS handshake by `deadline` (the head-read deadline of the connection's
    /// first request). A no-op on a plain connection.
    pub async fn handshake(&mut self, deadline: Instant) -> Result<(), ReadError> {
        let Transport::Tls(session) = &mut self.transport else {
            return Ok(());
        };
        let mut rounds = 0;
        while session.connection.is_handshaking() {
            rounds += 1;
            if rounds > TLS_HANDSHAKE_ROUNDS_MAX {
                return Err(ReadError::Io(std::io::Error::other(
                    "TLS handshake: too many rounds",
                )));
            }
            pump(&mut self.stream, session, deadline).await?;
        }
        // Whatever the handshake left to send (TLS 1.3 session tickets).
        flush_until(&mut self.stream, session, deadline)
            .await
            .map_err(ReadError::Io)
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
    /// connection keeps at most `IDLE_BUFFER_BYTES_MAX`; an idle TLS connection also gives
    /// back its ciphertext buffers (rustls keeps its own state, a few KiB).
    pub fn release_idle_buffer(&mut self) {
        if self.unconsumed().is_empty() && self.buffer.capacity() > IDLE_BUFFER_BYTES_MAX {
            self.buffer = Vec::new();
            self.start = 0;
        }
        if let Transport::Tls(session) = &mut self.transport {
            if session.outgoing.capacity() > IDLE_BUFFER_BYTES_MAX {
                session.outgoing = Vec::new();
            }
            if session.incoming.is_empty() {
                session.incoming = Vec::new();
            }
        }
    }

    async fn fill_with_room(&mut self, timeout: Duration, room: usize) -> Result<usize, ReadError> {
        if self.start > 0 {
            self.buffer.drain(..self.start);
            self.start = 0;
        }
        let length = self.buffer.len();
        if let Transport::Tls(session) = &mut self.transport {
            let deadline = Instant::now() + timeout;
            let room = room.min(TLS_PLAINTEXT_RECORD_BYTES);
            self.buffer.resize(length + room, 0);
            let result = read_plaintext(
                &mut self.stream,
                session,
                &mut self.buffer[length..],
                deadline,
            )
            .await;
            self.buffer
                .truncate(length + result.as_ref().map_or(0, |count| *count));
            let count = result?;
            self.accounting.received_bytes += count as u64;
            return Ok(count);
        }
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

    /// Appends up to `room` body bytes to `buf` (an object writer's O_DIRECT buffer), waiting
    /// at most `timeout`, once the bytes already buffered here are consumed; returns how many
    /// bytes it appended and the buffer. Plain TCP reads straight into `buf`; TLS decrypts
    /// into it (rustls's plaintext copied once). On an error the buffer is dropped: the caller
    /// fails the request and closes the connection.
    pub async fn read_into_aligned(
        &mut self,
        mut buf: AlignedBuf,
        room: usize,
        timeout: Duration,
    ) -> Result<(usize, AlignedBuf), ReadError> {
        debug_assert!(self.unconsumed().is_empty(), "buffered bytes come first");
        let start = buf.len();
        let room = room.min(buf.remaining());
        let Transport::Tls(session) = &mut self.transport else {
            return self
                .read_into(buf.slice_mut(start..start + room), timeout)
                .await;
        };
        let deadline = Instant::now() + timeout;
        buf.set_len(start + room);
        let result = read_plaintext(
            &mut self.stream,
            session,
            &mut buf.as_mut_slice()[start..],
            deadline,
        )
        .await;
        let count = result?;
        buf.set_len(start + count);
        self.accounting.received_bytes += count as u64;
        Ok((count, buf))
    }

    /// Reads a plain socket straight into `target`.
    async fn read_into<B: IoBufMut>(
        &mut self,
        target: monoio::buf::SliceMut<B>,
        timeout: Duration,
    ) -> Result<(usize, B), ReadError> {
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
    /// the answer (what nginx calls a lingering close). TLS says close_notify first; what
    /// follows is discarded as it comes, undecrypted.
    pub async fn linger(&mut self) {
        use monoio::io::AsyncWriteRent;
        self.close_tls().await;
        let _ = self.stream.shutdown().await;
        let deadline = Instant::now() + LINGER_TIME;
        let mut discarded_bytes = 0usize;
        let mut scratch = std::mem::take(&mut self.buffer);
        self.start = 0;
        while discarded_bytes < LINGER_BYTES_MAX {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            scratch.clear();
            scratch.reserve(BODY_READ_BYTES_MAX);
            let capacity = scratch.capacity();
            let read = self.stream.read(scratch.slice_mut(0..capacity));
            let Ok((result, slice)) = monoio::time::timeout(left, read).await else {
                return;
            };
            scratch = slice.into_inner();
            match result {
                Ok(0) | Err(_) => break,
                Ok(count) => discarded_bytes += count,
            }
        }
    }

    /// The polite end of a TLS connection (close_notify, bounded in time); nothing for plain.
    pub async fn close_tls(&mut self) {
        if let Transport::Tls(session) = &mut self.transport {
            session.connection.send_close_notify();
            let deadline = Instant::now() + TLS_CLOSE_TIME;
            let _ = flush_until(&mut self.stream, session, deadline).await;
        }
    }

    /// The socket, the bytes read but not consumed, and the TLS session if any, for a
    /// hand-over. The buffer itself moves, with its capacity: the owner reads its next
    /// requests into it. A copy of the unread bytes and a fresh 256 KiB read buffer on the
    /// owner cost an allocation, a free and heap consolidation per hand-over (perf, 4 KiB GET).
    pub fn into_parts(self) -> (monoio::net::TcpStream, Vec<u8>, Option<Box<tls::Session>>) {
        let Connection {
            stream,
            mut buffer,
            start,
            transport,
            ..
        } = self;
        buffer.drain(..start);
        let tls = match transport {
            Transport::Plain => None,
            Transport::Tls(session) => Some(session),
        };
        (stream, buffer, tls)
    }

    pub async fn write_all(&mut self, bytes: Vec<u8>) -> std::io::Result<()> {
        if let Some(status) = final_status(&bytes) {
            self.accounting.status = Some(status);
        }
        self.accounting.sent_bytes += bytes.len() as u64;
        match &mut self.transport {
            Transport::Plain => {
                let (result, _) = self.stream.write_all(bytes).await;
                result.map(|_| ())
            }
            Transport::Tls(session) => write_plaintext(&mut self.stream, session, &bytes).await,
        }
    }

    /// Writes `buf[range]` (object bytes from a reader's aligned buffer) and gives the buffer
    /// back; the caller counts the bytes.
    pub async fn write_aligned(
        &mut self,
        buf: AlignedBuf,
        range: std::ops::Range<usize>,
    ) -> (std::io::Result<()>, AlignedBuf) {
        match &mut self.transport {
            Transport::Plain => {
                let (result, slice) = self.stream.write_all(buf.slice(range)).await;
                (result.map(|_| ()), slice.into_inner())
            }
            Transport::Tls(session) => {
                let result =
                    write_plaintext(&mut self.stream, session, &buf.as_slice()[range]).await;
                (result, buf)
            }
        }
    }
}

/// Plaintext into `out` (not empty): what rustls holds already, else ciphertext read and
/// processed until some comes out, by `deadline`. `Closed` on close_notify or end of stream.
async fn read_plaintext(
    stream: &mut monoio::net::TcpStream,
    session: &mut tls::Session,
    out: &mut [u8],
    deadline: Instant,
) -> Result<usize, ReadError> {
    // Every round either returns, or gives rustls at least one byte of ciphertext, or reads
    // the socket with what is left of the deadline: bounded in time.
    loop {
        match session.connection.reader().read(out) {
            Ok(0) => return Err(ReadError::Closed),
            Ok(count) => return Ok(count),
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(error) => return Err(ReadError::Io(error)),
        }
        pump(stream, session, deadline).await?;
    }
}

/// One step of the TLS state machine: give rustls the ciphertext read (reading the socket
/// first if there is none), process it, and send what it produced (handshake messages,
/// alerts).
async fn pump(
    stream: &mut monoio::net::TcpStream,
    session: &mut tls::Session,
    deadline: Instant,
) -> Result<(), ReadError> {
    if session.incoming.is_empty() {
        read_ciphertext(stream, session, deadline).await?;
    }
    let mut pending: &[u8] = &session.incoming;
    let taken = session
        .connection
        .read_tls(&mut pending)
        .map_err(ReadError::Io)?;
    if taken == 0 {
        return Err(ReadError::Io(std::io::Error::other(
            "TLS: ciphertext not accepted",
        )));
    }
    session.incoming.drain(..taken);
    if let Err(error) = session.connection.process_new_packets() {
        // The fatal alert rustls queued, then close.
        let alert_deadline = deadline.min(Instant::now() + TLS_CLOSE_TIME);
        let _ = flush_until(stream, session, alert_deadline).await;
        return Err(ReadError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            error,
        )));
    }
    flush_until(stream, session, deadline)
        .await
        .map_err(ReadError::Io)
}

/// Reads ciphertext into the session's (empty) `incoming` buffer.
async fn read_ciphertext(
    stream: &mut monoio::net::TcpStream,
    session: &mut tls::Session,
    deadline: Instant,
) -> Result<(), ReadError> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(ReadError::TimedOut);
    }
    let mut buffer = std::mem::take(&mut session.incoming);
    buffer.clear();
    buffer.reserve(TLS_READ_BYTES);
    let capacity = buffer.capacity();
    let read = stream.read(buffer.slice_mut(0..capacity));
    // On timeout the buffer goes with the cancelled read; the connection is closed.
    let Ok((result, slice)) = monoio::time::timeout(left, read).await else {
        return Err(ReadError::TimedOut);
    };
    session.incoming = slice.into_inner();
    match result {
        Ok(0) => Err(ReadError::Closed),
        Ok(_) => Ok(()),
        Err(error) => Err(ReadError::Io(error)),
    }
}

/// Encrypts `bytes` and sends the records, a buffer limit's worth at a time.
async fn write_plaintext(
    stream: &mut monoio::net::TcpStream,
    session: &mut tls::Session,
    mut bytes: &[u8],
) -> std::io::Result<()> {
    while !bytes.is_empty() {
        let taken = session.connection.writer().write(bytes)?;
        if taken == 0 {
            return Err(std::io::Error::other("TLS: plaintext not accepted"));
        }
        bytes = &bytes[taken..];
        flush(stream, session).await?;
    }
    Ok(())
}

/// `flush`, given up at `deadline` (a client that does not read cannot hold a handshake or a
/// close).
async fn flush_until(
    stream: &mut monoio::net::TcpStream,
    session: &mut tls::Session,
    deadline: Instant,
) -> std::io::Result<()> {
    if !session.connection.wants_write() {
        return Ok(());
    }
    let left = deadline.saturating_duration_since(Instant::now());
    match monoio::time::timeout(left, flush(stream, session)).await {
        Ok(result) => result,
        Err(_) => Err(std::io::ErrorKind::TimedOut.into()),
    }
}

/// Writes every record rustls has queued.
async fn flush(
    stream: &mut monoio::net::TcpStream,
    session: &mut tls::Session,
) -> std::io::Result<()> {
    while session.connection.wants_write() {
        let mut out = std::mem::take(&mut session.outgoing);
        out.clear();
        while session.connection.wants_write() && out.len() < TLS_WRITE_BYTES {
            if session.connection.write_tls(&mut out)? == 0 {
                break;
            }
        }
        if out.is_empty() {
            return Err(std::io::Error::other("TLS: nothing to write"));
        }
        let (result, out) = stream.write_all(out).await;
        session.outgoing = out;
        result?;
    }
    Ok(())
}

/// The status of a final response head (`HTTP/1.1 NNN ...`), `None` for body bytes and 1xx.
fn final_status(bytes: &[u8]) -> Option<u16> {
    let digits = bytes.strip_prefix(b"HTTP/1.1 ")?.get(..3)?;
    let status: u16 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    (status >= 200).then_some(status)
}

#[cfg(test)]
mod tests;
