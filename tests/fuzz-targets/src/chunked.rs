//! The two push decoders of request bodies: HTTP/1.1 chunked (frontend `http_chunked.rs`)
//! and aws-chunked (s3-proto `aws_chunked.rs`, inside it).
//!
//! Both are decoded twice, once with the whole input and once in pieces of varying sizes,
//! the way a connection delivers bytes: the decoded bytes, the end and the error must be the
//! same (a framing decision that depends on how reads were cut is a smuggling bug), and a
//! decoder never outputs more bytes than it was given.

use frontend::body::{ChunkedPiece, chunked_piece};
use frontend::http_chunked::{HttpChunkedDecoder, HttpChunkedError, HttpChunkedStep};
use s3_proto::aws_chunked::{AwsChunkedDecoder, AwsChunkedError, ChunkedSigning, ChunkedStep};
use sha2::{Digest, Sha256};

use crate::auth;
use crate::piece_lengths;

/// How a decode ended.
#[derive(Debug, PartialEq, Eq)]
enum End<E> {
    /// Body complete after this many input bytes (the rest is the next request).
    Done {
        consumed_bytes: usize,
    },
    /// The input ended inside the body.
    NeedMore,
    Failed(E),
}

#[derive(Debug, PartialEq, Eq)]
struct Outcome<E> {
    data: Vec<u8>,
    end: End<E>,
}

/// Input: one byte that sets the piece sizes, then the bytes after a request head whose
/// `Transfer-Encoding` is `chunked`.
pub fn http_chunked(data: &[u8]) {
    let Some((&seed, body)) = data.split_first() else {
        return;
    };
    let whole = decode_http_chunked(body, &[body.len()]);
    let pieces = decode_http_chunked(body, &piece_lengths(seed, body.len()));
    assert_eq!(whole, pieces);
    // The connection's reader (body.rs) hands out at most a piece per call, from all the
    // bytes one read brought; a small piece limit stands for its 256 KiB.
    let limited = read_http_chunked(body, usize::from(seed % 16) + 1);
    assert_eq!(whole, limited);
    assert!(whole.data.len() <= body.len());
    if let End::Done { consumed_bytes } = whole.end {
        assert!(consumed_bytes <= body.len());
        assert!(whole.data.len() < consumed_bytes);
    }
}

/// Feeds `body` in pieces of `lengths`, keeping the unconsumed rest as the connection does.
fn decode_http_chunked(body: &[u8], lengths: &[usize]) -> Outcome<HttpChunkedError> {
    let mut decoder = HttpChunkedDecoder::new();
    let mut data = Vec::new();
    let mut unconsumed: Vec<u8> = Vec::new();
    let mut consumed_bytes = 0;
    let mut offset = 0;
    for &length in lengths {
        unconsumed.extend_from_slice(&body[offset..offset + length]);
        offset += length;
        // Bounded: every Data step consumes at least one byte; NeedMore waits for a piece.
        loop {
            let step = match decoder.decode(&unconsumed) {
                Ok(step) => step,
                Err(error) => {
                    assert_eq!(decoder.finish(), Err(error.clone()));
                    return Outcome {
                        data,
                        end: End::Failed(error),
                    };
                }
            };
            let consumed = match step {
                HttpChunkedStep::Data {
                    data: piece,
                    consumed,
                } => {
                    assert!(!piece.is_empty() && piece.len() <= consumed);
                    data.extend_from_slice(piece);
                    consumed
                }
                HttpChunkedStep::NeedMore { consumed } => {
                    unconsumed.drain(..consumed);
                    consumed_bytes += consumed;
                    break;
                }
                HttpChunkedStep::Done { consumed } => {
                    assert!(decoder.is_done() && decoder.finish().is_ok());
                    assert_eq!(decoder.decoded_size_bytes(), data.len() as u64);
                    return Outcome {
                        data,
                        end: End::Done {
                            consumed_bytes: consumed_bytes + consumed,
                        },
                    };
                }
            };
            unconsumed.drain(..consumed);
            consumed_bytes += consumed;
        }
    }
    assert!(decoder.finish().is_err());
    assert!(decoder.decoded_size_bytes() >= data.len() as u64);
    Outcome {
        data,
        end: End::NeedMore,
    }
}

/// Reads a chunked body the way `HttpBody::read` does, every byte already buffered, at most
/// `piece_bytes_max` decoded bytes per step.
fn read_http_chunked(body: &[u8], piece_bytes_max: usize) -> Outcome<HttpChunkedError> {
    let mut decoder = HttpChunkedDecoder::new();
    let mut data = Vec::new();
    let mut start = 0;
    // Bounded: every Data step consumes at least one byte; NeedMore and Done end the loop.
    loop {
        let before = data.len();
        match chunked_piece(&mut decoder, &body[start..], piece_bytes_max, &mut data) {
            Ok(ChunkedPiece::Data { count, consumed }) => {
                assert!(count > 0 && count <= piece_bytes_max && count <= consumed);
                assert_eq!(data.len() - before, count);
                start += consumed;
            }
            Ok(ChunkedPiece::NeedMore { .. }) => {
                return Outcome {
                    data,
                    end: End::NeedMore,
                };
            }
            Ok(ChunkedPiece::Done { consumed }) => {
                return Outcome {
                    data,
                    end: End::Done {
                        consumed_bytes: start + consumed,
                    },
                };
            }
            Err(error) => {
                return Outcome {
                    data,
                    end: End::Failed(error),
                };
            }
        }
    }
}

/// Input: byte 0 the mode (bits 0-1: 0 unsigned with trailer, 1 signed, 2 signed with
/// trailer, 3 a signed body generated from the rest, which must decode; bits 2-3 the declared
/// `x-amz-trailer`; bit 4: an `X-Amz-Decoded-Content-Length` is declared), byte 1 the piece
/// sizes, bytes 2-3 the declared decoded length (big-endian), then the aws-chunked body.
pub fn aws_chunked(data: &[u8]) {
    let [mode, seed, length_high, length_low, body @ ..] = data else {
        return;
    };
    let declared_trailer = match (mode >> 2) & 3 {
        0 => None,
        1 => Some("x-amz-checksum-crc32"),
        2 => Some("X-Amz-Checksum-CRC32C, x-amz-checksum-sha256"),
        // Nine names: more than the decoder accepts.
        _ => Some("a,b,c,d,e,f,g,h,i"),
    };
    let declared_length =
        (mode & 0x10 != 0).then(|| u64::from(u16::from_be_bytes([*length_high, *length_low])));
    if mode & 3 == 3 {
        aws_chunked_generated(*seed, body);
        return;
    }
    let decode = |lengths: &[usize]| {
        let signing = match mode & 3 {
            0 => ChunkedSigning::UnsignedWithTrailer,
            1 => ChunkedSigning::Signed(auth::streaming_chain(false).0),
            _ => ChunkedSigning::SignedWithTrailer(auth::streaming_chain(true).0),
        };
        let decoder = AwsChunkedDecoder::new(signing, declared_trailer, declared_length);
        decode_aws_chunked(decoder, body, lengths)
    };
    let whole = decode(&[body.len()]);
    let pieces = decode(&piece_lengths(*seed, body.len()));
    assert_eq!(whole, pieces);
    assert!(whole.data.len() <= body.len());
    if let (End::Done { .. }, Some(declared)) = (&whole.end, declared_length) {
        assert_eq!(whole.data.len() as u64, declared);
    }
}

/// Builds a correctly signed `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` body whose chunks are cut
/// from `bytes` (each chunk: one length byte, then up to that many bytes), and checks that
/// the decoder accepts it and returns exactly the chunks' bytes: our signer and our verifier
/// agree on every chunk shape.
fn aws_chunked_generated(seed: u8, bytes: &[u8]) {
    let (_, signer, seed_signature) = auth::streaming_chain(false);
    let mut framed = Vec::new();
    let mut expected = Vec::new();
    let mut previous = seed_signature;
    let mut rest = bytes;
    // Bounded: every round consumes at least the length byte.
    while let Some((&length, tail)) = rest.split_first() {
        let chunk = &tail[..usize::from(length).min(tail.len())];
        rest = &tail[chunk.len()..];
        if chunk.is_empty() {
            continue;
        }
        previous = push_signed_chunk(&mut framed, &signer, &previous, chunk);
        expected.extend_from_slice(chunk);
    }
    push_signed_chunk(&mut framed, &signer, &previous, b"");
    let (chain, _, _) = auth::streaming_chain(false);
    let decoder = AwsChunkedDecoder::new(
        ChunkedSigning::Signed(chain),
        None,
        Some(expected.len() as u64),
    );
    let outcome = decode_aws_chunked(decoder, &framed, &piece_lengths(seed, framed.len()));
    assert_eq!(
        outcome,
        Outcome {
            data: expected,
            end: End::Done {
                consumed_bytes: framed.len()
            },
        }
    );
}

/// Appends one signed frame (`hex;chunk-signature=...\r\ndata\r\n`; for the final empty
/// frame the CRLF is the empty line that ends the trailer section) and returns its signature.
fn push_signed_chunk(
    framed: &mut Vec<u8>,
    signer: &s3_proto::sigv4::sign::Signer,
    previous: &str,
    chunk: &[u8],
) -> String {
    let hash: [u8; 32] = Sha256::digest(chunk).into();
    let signature = signer.chunk_signature(auth::AMZ_DATE, previous, &hash);
    framed
        .extend_from_slice(format!("{:x};chunk-signature={signature}\r\n", chunk.len()).as_bytes());
    framed.extend_from_slice(chunk);
    framed.extend_from_slice(b"\r\n");
    signature
}

/// As [`decode_http_chunked`], for aws-chunked.
fn decode_aws_chunked(
    mut decoder: AwsChunkedDecoder,
    body: &[u8],
    lengths: &[usize],
) -> Outcome<AwsChunkedError> {
    let mut data = Vec::new();
    let mut unconsumed: Vec<u8> = Vec::new();
    let mut consumed_bytes = 0;
    let mut offset = 0;
    for &length in lengths {
        unconsumed.extend_from_slice(&body[offset..offset + length]);
        offset += length;
        // Bounded: every Data step consumes at least one byte; NeedMore waits for a piece.
        loop {
            let step = match decoder.decode(&unconsumed) {
                Ok(step) => step,
                Err(error) => {
                    assert_eq!(decoder.finish(), Err(error.clone()));
                    return Outcome {
                        data,
                        end: End::Failed(error),
                    };
                }
            };
            let consumed = match step {
                ChunkedStep::Data {
                    data: piece,
                    consumed,
                } => {
                    assert!(!piece.is_empty() && piece.len() <= consumed);
                    data.extend_from_slice(piece);
                    consumed
                }
                ChunkedStep::NeedMore { consumed } => {
                    unconsumed.drain(..consumed);
                    consumed_bytes += consumed;
                    break;
                }
                ChunkedStep::Done { consumed } => {
                    // Done is final only once the outer body ended: the caller keeps feeding
                    // and anything more is an error, so it is reported after the last piece.
                    unconsumed.drain(..consumed);
                    consumed_bytes += consumed;
                    if !unconsumed.is_empty() {
                        return Outcome {
                            data,
                            end: End::Failed(AwsChunkedError::Malformed),
                        };
                    }
                    break;
                }
            };
            unconsumed.drain(..consumed);
            consumed_bytes += consumed;
        }
    }
    if decoder.is_done() && unconsumed.is_empty() {
        assert!(decoder.finish().is_ok());
        assert_eq!(decoder.decoded_size_bytes(), data.len() as u64);
        // Every trailer kept is a declared one, at most once (the checksum that counts).
        let trailers = decoder.trailers();
        for (index, (name, _)) in trailers.iter().enumerate() {
            assert!(trailers[..index].iter().all(|(other, _)| other != name));
        }
        return Outcome {
            data,
            end: End::Done { consumed_bytes },
        };
    }
    assert!(decoder.finish().is_err() || !unconsumed.is_empty());
    Outcome {
        data,
        end: End::NeedMore,
    }
}
