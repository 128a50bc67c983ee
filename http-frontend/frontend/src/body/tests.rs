use std::time::{Duration, Instant};

use super::{BodyError, BodyPace, ChunkedPiece, chunked_piece};
use crate::http_chunked::HttpChunkedDecoder;

/// Reads a chunked body whose bytes are all buffered, as `HttpBody::read` does, with a piece
/// limit of `piece_bytes_max`: the decoded bytes and where the body ended.
fn read_all(input: &[u8], piece_bytes_max: usize) -> (Vec<u8>, Option<usize>) {
    let mut decoder = HttpChunkedDecoder::new();
    let mut out = Vec::new();
    let mut start = 0;
    loop {
        match chunked_piece(&mut decoder, &input[start..], piece_bytes_max, &mut out) {
            Ok(ChunkedPiece::Data { count, consumed }) => {
                assert!(count <= piece_bytes_max);
                start += consumed;
            }
            Ok(ChunkedPiece::Done { consumed }) => return (out, Some(start + consumed)),
            Ok(ChunkedPiece::NeedMore { .. }) | Err(_) => return (out, None),
        }
    }
}

/// Found by the `http_chunked` fuzz target: when one read brought more of a chunk than a
/// piece, the reader handed out a piece but the decoder had counted the whole chunk, so the
/// chunk's remaining bytes were parsed as framing. A chunk whose data holds a last-chunk and
/// a request line then ended the body early and the request in it was served next.
#[test]
fn a_chunk_larger_than_a_piece_is_not_read_as_framing() {
    let data = b"abcd\r\n0\r\n\r\nGET /evil HTTP/1.1\r\n\r\nxxxxxxxx";
    let mut input = format!("{:x}\r\n", data.len()).into_bytes();
    input.extend_from_slice(data);
    input.extend_from_slice(b"\r\n0\r\n\r\n");
    for piece_bytes_max in [1, 4, 5, data.len() - 1, data.len(), 1 << 20] {
        let (out, end) = read_all(&input, piece_bytes_max);
        assert_eq!(out, data, "piece {piece_bytes_max}");
        assert_eq!(end, Some(input.len()), "piece {piece_bytes_max}");
    }
}

fn pace(rate: u64) -> BodyPace {
    BodyPace {
        idle: Duration::from_secs(30),
        rate_min_bytes_per_sec: rate,
        grace: Duration::from_secs(20),
    }
}

fn started_ago(secs: u64) -> Instant {
    Instant::now()
        .checked_sub(Duration::from_secs(secs))
        .expect("monotonic clock past its origin")
}

#[test]
fn no_minimum_rate_waits_the_idle_timeout() {
    let timeout = pace(0).read_timeout(started_ago(3600), 0).unwrap();
    assert_eq!(timeout, Duration::from_secs(30));
}

#[test]
fn within_the_grace_the_wait_is_what_is_left_of_it() {
    let timeout = pace(1024).read_timeout(started_ago(15), 0).unwrap();
    assert!(timeout <= Duration::from_secs(5) && timeout > Duration::from_secs(4));
}

#[test]
fn bytes_received_earn_time_and_a_trickle_runs_out() {
    // 40 s in: 20 s of grace plus 20 s earned by 20 KiB at 1 KiB/s is exactly used up.
    let trickle = pace(1024).read_timeout(started_ago(40), 20 * 1024);
    assert!(matches!(trickle, Err(BodyError::TimedOut)));
    // 200 KiB earned 200 s: the idle timeout is the bound again.
    let steady = pace(1024)
        .read_timeout(started_ago(40), 200 * 1024)
        .unwrap();
    assert_eq!(steady, Duration::from_secs(30));
}
