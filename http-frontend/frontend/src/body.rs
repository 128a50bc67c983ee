//! Request bodies: HTTP framing (Content-Length or chunked) and, inside it, aws-chunked
//! framing when the signed `x-amz-content-sha256` announces a streaming mode. Decoded bytes are
//! appended to a caller's buffer a piece at a time, so memory stays bounded whatever the size.

use std::time::{Duration, Instant};

use s3_proto::aws_chunked::{AwsChunkedDecoder, AwsChunkedError, ChunkedStep};
use shard::aligned::AlignedBuf;

use crate::connection::{Connection, ReadError};
use crate::http_chunked::{HttpChunkedDecoder, HttpChunkedError, HttpChunkedStep};
use crate::request::BodyFraming;

/// Most decoded bytes handed out per `read` call.
const PIECE_BYTES_MAX: usize = 256 * 1024;

#[derive(Debug)]
pub enum BodyError {
    /// The client stopped sending (idle timeout). S3: 400 RequestTimeout.
    TimedOut,
    /// The connection ended before the declared body. S3: 400 IncompleteBody.
    Incomplete,
    Io(std::io::Error),
    HttpChunked(HttpChunkedError),
    AwsChunked(AwsChunkedError),
}

impl From<ReadError> for BodyError {
    fn from(error: ReadError) -> Self {
        match error {
            ReadError::TimedOut => BodyError::TimedOut,
            ReadError::Closed => BodyError::Incomplete,
            ReadError::Io(error) => BodyError::Io(error),
        }
    }
}

/// How long a body may take: each read waits at most `idle`, and once `grace` has passed the
/// body must have averaged `rate_min_bytes_per_sec` (counted over every byte of the request
/// read so far), so that a client trickling one byte every few seconds is cut off instead of
/// holding the connection and its write reservation for ever.
#[derive(Debug, Clone, Copy)]
pub struct BodyPace {
    pub idle: Duration,
    pub rate_min_bytes_per_sec: u64,
    pub grace: Duration,
}

impl BodyPace {
    pub fn of(settings: &runtime::SharedSettings) -> BodyPace {
        BodyPace {
            idle: settings.idle_timeout,
            rate_min_bytes_per_sec: settings.body_rate_min_bytes_per_sec,
            grace: settings.body_rate_grace,
        }
    }

    /// How long the next read may wait, given when the body started and how many bytes the
    /// request has delivered; `TimedOut` once the body is behind the minimum rate.
    fn read_timeout(&self, started: Instant, received_bytes: u64) -> Result<Duration, BodyError> {
        if self.rate_min_bytes_per_sec == 0 {
            return Ok(self.idle);
        }
        let earned = Duration::from_millis(
            received_bytes.saturating_mul(1000) / self.rate_min_bytes_per_sec,
        );
        let allowed = self.grace.saturating_add(earned);
        let left = allowed.saturating_sub(started.elapsed());
        if left.is_zero() {
            return Err(BodyError::TimedOut);
        }
        Ok(self.idle.min(left))
    }
}

/// The HTTP layer.
pub struct HttpBody {
    framing: BodyFraming,
    remaining_bytes: u64,
    chunked: HttpChunkedDecoder,
    send_continue: bool,
    done: bool,
    pace: BodyPace,
    started: Instant,
}

impl HttpBody {
    pub fn new(framing: BodyFraming, expect_continue: bool, pace: BodyPace) -> HttpBody {
        let remaining_bytes = match framing {
            BodyFraming::ContentLength(length) => length,
            BodyFraming::None | BodyFraming::Chunked => 0,
        };
        HttpBody {
            framing,
            remaining_bytes,
            chunked: HttpChunkedDecoder::new(),
            // Sent even for an empty body: botocore otherwise takes the final response as the
            // answer to its expectation and reuses a stale status line (boto/botocore#3755).
            send_continue: expect_continue,
            done: framing == BodyFraming::None,
            pace,
            started: Instant::now(),
        }
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    async fn send_continue(&mut self, connection: &mut Connection) -> Result<(), BodyError> {
        if self.send_continue {
            self.send_continue = false;
            connection
                .write_all(crate::response::CONTINUE_HEAD.to_vec())
                .await
                .map_err(BodyError::Io)?;
        }
        Ok(())
    }

    fn read_timeout(&self, connection: &Connection) -> Result<Duration, BodyError> {
        self.pace
            .read_timeout(self.started, connection.accounting.received_bytes)
    }

    async fn fill(&mut self, connection: &mut Connection) -> Result<(), BodyError> {
        let timeout = self.read_timeout(connection)?;
        connection.fill_body(timeout).await?;
        Ok(())
    }

    /// Whether the body is framed by Content-Length (then `read_into_buffer` can serve it).
    pub fn has_content_length(&self) -> bool {
        matches!(self.framing, BodyFraming::ContentLength(_))
    }

    /// A Content-Length body: appends the next body bytes to the free room of `buf`; returns
    /// how many (0 at the end) and the buffer. Bytes already buffered by the connection are
    /// copied; after them the socket is read straight into `buf`, never past the body's end
    /// (a pipelined next request stays on the socket).
    pub async fn read_into_buffer(
        &mut self,
        connection: &mut Connection,
        mut buf: AlignedBuf,
    ) -> Result<(usize, AlignedBuf), BodyError> {
        debug_assert!(self.has_content_length());
        self.send_continue(connection).await?;
        let room = buf
            .remaining()
            .min(usize::try_from(self.remaining_bytes).unwrap_or(usize::MAX));
        if self.done || room == 0 {
            return Ok((0, buf));
        }
        let count = if connection.unconsumed().is_empty() {
            let timeout = self.read_timeout(connection)?;
            let (count, returned) = connection.read_into_aligned(buf, room, timeout).await?;
            buf = returned;
            count
        } else {
            let available = connection.unconsumed();
            let count = buf.extend_from_slice(&available[..room.min(available.len())]);
            connection.consume(count);
            count
        };
        self.remaining_bytes -= count as u64;
        self.done = self.remaining_bytes == 0;
        Ok((count, buf))
    }

    /// Appends up to `PIECE_BYTES_MAX` body bytes to `out`; returns how many (0 at the end).
    pub async fn read(
        &mut self,
        connection: &mut Connection,
        out: &mut Vec<u8>,
    ) -> Result<usize, BodyError> {
        self.send_continue(connection).await?;
        loop {
            if self.done {
                return Ok(0);
            }
            match self.framing {
                BodyFraming::None => return Ok(0),
                BodyFraming::ContentLength(_) => {
                    if connection.unconsumed().is_empty() {
                        self.fill(connection).await?;
                    }
                    let available = connection.unconsumed();
                    let count = available
                        .len()
                        .min(PIECE_BYTES_MAX)
                        .min(usize::try_from(self.remaining_bytes).unwrap_or(usize::MAX));
                    out.extend_from_slice(&available[..count]);
                    connection.consume(count);
                    self.remaining_bytes -= count as u64;
                    self.done = self.remaining_bytes == 0;
                    return Ok(count);
                }
                BodyFraming::Chunked => {
                    let piece = chunked_piece(
                        &mut self.chunked,
                        connection.unconsumed(),
                        PIECE_BYTES_MAX,
                        out,
                    )
                    .map_err(BodyError::HttpChunked)?;
                    match piece {
                        ChunkedPiece::Data { count, consumed } => {
                            connection.consume(consumed);
                            return Ok(count);
                        }
                        ChunkedPiece::NeedMore { consumed } => {
                            connection.consume(consumed);
                            self.fill(connection).await?;
                        }
                        ChunkedPiece::Done { consumed } => {
                            connection.consume(consumed);
                            self.done = true;
                        }
                    }
                }
            }
        }
    }
}

/// What one [`chunked_piece`] call did; `consumed` bytes of the input are used up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkedPiece {
    /// `count` decoded bytes were appended.
    Data { count: usize, consumed: usize },
    /// The input ends inside framing: read more, append it to the unconsumed rest.
    NeedMore { consumed: usize },
    /// The body ended; bytes after `consumed` belong to the next request.
    Done { consumed: usize },
}

/// One step of a chunked body over the connection's unconsumed bytes: appends at most
/// `piece_bytes_max` decoded bytes to `out`. A separate function so that the fuzz targets
/// drive exactly what [`HttpBody::read`] does.
pub fn chunked_piece(
    decoder: &mut HttpChunkedDecoder,
    unconsumed: &[u8],
    piece_bytes_max: usize,
    out: &mut Vec<u8>,
) -> Result<ChunkedPiece, HttpChunkedError> {
    // One read may bring more than a piece (the connection's buffer can grow past it): the
    // decoder is told the limit, so what it returns is handed out and consumed whole.
    Ok(match decoder.decode_at_most(unconsumed, piece_bytes_max)? {
        HttpChunkedStep::Data { data, consumed } => {
            out.extend_from_slice(data);
            ChunkedPiece::Data {
                count: data.len(),
                consumed,
            }
        }
        HttpChunkedStep::NeedMore { consumed } => ChunkedPiece::NeedMore { consumed },
        HttpChunkedStep::Done { consumed } => ChunkedPiece::Done { consumed },
    })
}

/// The whole body stack of one request.
pub enum BodyReader {
    Plain(HttpBody),
    AwsChunked {
        http: HttpBody,
        decoder: Box<AwsChunkedDecoder>,
        framed: Vec<u8>,
        start: usize,
    },
}

impl BodyReader {
    pub fn is_done(&self) -> bool {
        match self {
            BodyReader::Plain(http) => http.is_done(),
            BodyReader::AwsChunked { http, decoder, .. } => http.is_done() && decoder.is_done(),
        }
    }

    /// Appends the next decoded bytes to `out`; 0 means the body ended and every framing-level
    /// check (chunk signatures, lengths) passed.
    pub async fn read(
        &mut self,
        connection: &mut Connection,
        out: &mut Vec<u8>,
    ) -> Result<usize, BodyError> {
        match self {
            BodyReader::Plain(http) => http.read(connection, out).await,
            BodyReader::AwsChunked {
                http,
                decoder,
                framed,
                start,
            } => loop {
                if decoder.is_done() {
                    // After the aws-chunked end the decoder takes one bare `\n` (Garage) and
                    // nothing else, whether it arrives with the end or in a later read.
                    if *start < framed.len() {
                        let rest = framed.len() - *start;
                        match decoder.decode(&framed[*start..]) {
                            Ok(ChunkedStep::Done { consumed }) if consumed == rest => {}
                            _ => return Err(BodyError::AwsChunked(AwsChunkedError::Malformed)),
                        }
                    }
                    framed.clear();
                    *start = 0;
                    // Bounded: the decoder accepts one more byte at most, then fails.
                    if http.read(connection, framed).await? > 0 {
                        continue;
                    }
                    return Ok(0);
                }
                match decoder
                    .decode(&framed[*start..])
                    .map_err(BodyError::AwsChunked)?
                {
                    ChunkedStep::Data { data, consumed } => {
                        out.extend_from_slice(data);
                        *start += consumed;
                        return Ok(data.len());
                    }
                    ChunkedStep::NeedMore { consumed } => {
                        *start += consumed;
                        framed.drain(..*start);
                        *start = 0;
                        if http.read(connection, framed).await? == 0 {
                            decoder.finish().map_err(BodyError::AwsChunked)?;
                            return Err(BodyError::AwsChunked(AwsChunkedError::IncompleteBody));
                        }
                    }
                    ChunkedStep::Done { consumed } => {
                        *start += consumed;
                    }
                }
            },
        }
    }

    /// Verified trailer headers (aws-chunked with trailer), once the body is done.
    pub fn trailers(&self) -> &[(String, String)] {
        match self {
            BodyReader::Plain(_) => &[],
            BodyReader::AwsChunked { decoder, .. } => decoder.trailers(),
        }
    }
}

#[cfg(test)]
mod tests;
