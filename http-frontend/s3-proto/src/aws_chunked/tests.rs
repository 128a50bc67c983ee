use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::{
    AwsChunkedDecoder, AwsChunkedError, CHUNK_HEADER_BYTES_MAX, ChunkedSigning, ChunkedStep,
    TRAILER_BYTES_MAX,
};
use crate::sigv4::tests::{EXAMPLE_SECRET_KEY, SEED_SIGNATURE, example_streaming_chain};

const SIG1: &str = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";
const SIG2: &str = "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497";
const SIG_FINAL: &str = "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9";

/// Independent signer for test bodies (the formula of the S3 streaming docs), checked against
/// the published example values in `test_signer_matches_published_values`.
fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn example_signing_key() -> Vec<u8> {
    let key = hmac(format!("AWS4{EXAMPLE_SECRET_KEY}").as_bytes(), b"20130524");
    let key = hmac(&key, b"us-east-1");
    let key = hmac(&key, b"s3");
    hmac(&key, b"aws4_request")
}

const SCOPE_LINES: &str = "20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n";

fn chunk_signature(previous: &str, data: &[u8]) -> String {
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256-PAYLOAD\n{SCOPE_LINES}{previous}\n{}\n{}",
        hex::encode(Sha256::digest(b"")),
        hex::encode(Sha256::digest(data))
    );
    hex::encode(hmac(&example_signing_key(), string_to_sign.as_bytes()))
}

fn trailer_signature(previous: &str, canonical_trailer: &str) -> String {
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256-TRAILER\n{SCOPE_LINES}{previous}\n{}",
        hex::encode(Sha256::digest(canonical_trailer.as_bytes()))
    );
    hex::encode(hmac(&example_signing_key(), string_to_sign.as_bytes()))
}

#[test]
fn test_signer_matches_published_values() {
    assert_eq!(chunk_signature(SEED_SIGNATURE, &vec![b'a'; 65536]), SIG1);
    assert_eq!(chunk_signature(SIG1, &[b'a'; 1024]), SIG2);
    assert_eq!(chunk_signature(SIG2, b""), SIG_FINAL);
    assert_eq!(
        trailer_signature(SIG_FINAL, "first:1st\nsecond:2nd\nthird:3rd\n"),
        "df5735bd9f3295cd9386572292562fefc93ba94e80a0a1ddcbd652c4e0a75e6c"
    );
}

/// Frames chunks with chained signatures starting from the seed; returns the body and the
/// final chunk's signature.
fn signed_body(chunks: &[&[u8]]) -> (Vec<u8>, String) {
    let mut body = Vec::new();
    let mut previous = SEED_SIGNATURE.to_owned();
    for chunk in chunks.iter().chain([&&b""[..]]) {
        let signature = chunk_signature(&previous, chunk);
        body.extend_from_slice(
            format!("{:x};chunk-signature={signature}\r\n", chunk.len()).as_bytes(),
        );
        if !chunk.is_empty() {
            body.extend_from_slice(chunk);
            body.extend_from_slice(b"\r\n");
        }
        previous = signature;
    }
    (body, previous)
}

fn s3_example_body() -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(format!("10000;chunk-signature={SIG1}\r\n").as_bytes());
    body.extend_from_slice(&vec![b'a'; 65536]);
    body.extend_from_slice(format!("\r\n400;chunk-signature={SIG2}\r\n").as_bytes());
    body.extend_from_slice(&[b'a'; 1024]);
    body.extend_from_slice(format!("\r\n0;chunk-signature={SIG_FINAL}\r\n\r\n").as_bytes());
    body
}

fn signed() -> ChunkedSigning {
    ChunkedSigning::Signed(example_streaming_chain())
}

fn signed_with_trailer() -> ChunkedSigning {
    ChunkedSigning::SignedWithTrailer(example_streaming_chain())
}

/// Feeds `input` in pieces of `feed_bytes`, keeping unconsumed bytes as a real caller would.
fn decode_all(
    decoder: &mut AwsChunkedDecoder,
    input: &[u8],
    feed_bytes: usize,
) -> Result<Vec<u8>, AwsChunkedError> {
    let mut pending: Vec<u8> = Vec::new();
    let mut offset = 0;
    let mut consumed_total = 0;
    let mut body = Vec::new();
    loop {
        let (consumed, done) = match decoder.decode(&pending)? {
            ChunkedStep::Data { data, consumed } => {
                assert!(!data.is_empty());
                body.extend_from_slice(data);
                (consumed, false)
            }
            ChunkedStep::NeedMore { consumed } => {
                if offset == input.len() {
                    decoder.finish()?;
                    panic!("finish succeeded without Done");
                }
                let end = (offset + feed_bytes).min(input.len());
                pending.drain(..consumed);
                pending.extend_from_slice(&input[offset..end]);
                offset = end;
                consumed_total += consumed;
                continue;
            }
            ChunkedStep::Done { consumed } => (consumed, true),
        };
        pending.drain(..consumed);
        consumed_total += consumed;
        assert!(pending.len() <= CHUNK_HEADER_BYTES_MAX + TRAILER_BYTES_MAX + feed_bytes);
        if done {
            if offset < input.len() || !pending.is_empty() {
                // Anything left after Done: the decoder must consume it or refuse it.
                pending.extend_from_slice(&input[offset..]);
                // Bounded: each round consumes a byte or fails.
                while !pending.is_empty() {
                    let ChunkedStep::Done { consumed } = decoder.decode(&pending)? else {
                        panic!("not done after Done");
                    };
                    assert!(consumed > 0, "bytes after the end left unconsumed");
                    pending.drain(..consumed);
                    consumed_total += consumed;
                }
            }
            decoder.finish()?;
            assert_eq!(consumed_total, input.len());
            return Ok(body);
        }
    }
}

fn check_all_feeds(
    signing: impl Fn() -> ChunkedSigning,
    trailer: Option<&str>,
    length: Option<u64>,
    input: &[u8],
) -> Result<Vec<u8>, AwsChunkedError> {
    let mut results = Vec::new();
    for feed_bytes in [1, 7, 4096, input.len().max(1)] {
        let mut decoder = AwsChunkedDecoder::new(signing(), trailer, length);
        results.push(decode_all(&mut decoder, input, feed_bytes));
    }
    for result in &results[1..] {
        assert_eq!(*result, results[0]);
    }
    results.pop().unwrap()
}

#[test]
fn s3_example_decodes_in_every_feed_size() {
    let body = s3_example_body();
    assert_eq!(body.len(), 66824);
    let data = check_all_feeds(signed, None, Some(66560), &body).unwrap();
    assert_eq!(data, vec![b'a'; 66560]);
    let data = check_all_feeds(signed, None, None, &body).unwrap();
    assert_eq!(data.len(), 66560);
}

/// A13: one data byte changed in chunk 2, same length.
#[test]
fn flipped_data_byte_is_signature_does_not_match() {
    for position in [100, 88 + 65536 + 2 + 86 + 5] {
        let mut body = s3_example_body();
        assert_eq!(body[position], b'a');
        body[position] = b'b';
        let result = check_all_feeds(signed, None, Some(66560), &body);
        assert_eq!(result.unwrap_err(), AwsChunkedError::SignatureDoesNotMatch);
    }
}

/// A14: a skipped chunk, reordered chunks, or a body ending before the 0-length chunk.
#[test]
fn dropped_reordered_or_truncated_chunks_are_rejected() {
    let chunk1 = &[b'x'; 300][..];
    let chunk2 = &[b'y'; 200][..];
    let chunk3 = &[b'z'; 100][..];
    let (mut body, _) = signed_body(&[chunk1, chunk2, chunk3]);
    body.extend_from_slice(b"\r\n");
    assert_eq!(
        check_all_feeds(signed, None, Some(600), &body)
            .unwrap()
            .len(),
        600
    );
    let frame_len = |size: usize| format!("{size:x}").len() + 17 + 64 + 2 + size + 2;
    let (f1, f2, f3) = (frame_len(300), frame_len(200), frame_len(100));
    let frame1 = &body[..f1];
    let frame2 = &body[f1..f1 + f2];
    let rest = &body[f1 + f2..];
    let dropped = [frame1, rest].concat();
    let result = check_all_feeds(signed, None, None, &dropped);
    assert_eq!(result.unwrap_err(), AwsChunkedError::SignatureDoesNotMatch);
    let reordered = [frame2, frame1, rest].concat();
    let result = check_all_feeds(signed, None, None, &reordered);
    assert_eq!(result.unwrap_err(), AwsChunkedError::SignatureDoesNotMatch);
    let truncated = &body[..f1 + f2 + f3];
    let result = check_all_feeds(signed, None, None, truncated);
    assert_eq!(result.unwrap_err(), AwsChunkedError::IncompleteBody);
    let no_final_empty_line = &body[..body.len() - 2];
    let result = check_all_feeds(signed, None, None, no_final_empty_line);
    assert_eq!(result.unwrap_err(), AwsChunkedError::IncompleteBody);
}

/// A15: X-Amz-Decoded-Content-Length differs from the sum of chunk sizes, both directions.
#[test]
fn decoded_length_mismatch_is_rejected() {
    let body = s3_example_body();
    for declared in [66559, 66561, 0, 65536] {
        let result = check_all_feeds(signed, None, Some(declared), &body);
        assert_eq!(
            result.unwrap_err(),
            AwsChunkedError::DecodedLengthMismatch,
            "{declared}"
        );
    }
}

/// A17: 20-hex-digit, negative, signature-less and 1 GiB chunk headers; endless header lines.
#[test]
fn bad_chunk_headers_are_rejected_with_bounded_memory() {
    let signature = format!(";chunk-signature={SIG1}");
    let cases: Vec<(Vec<u8>, AwsChunkedError)> = vec![
        (
            format!("00000000000000010000{signature}\r\n").into_bytes(),
            AwsChunkedError::Malformed,
        ),
        (
            format!("-1{signature}\r\n").into_bytes(),
            AwsChunkedError::Malformed,
        ),
        (
            format!("{signature}\r\n").into_bytes(),
            AwsChunkedError::Malformed,
        ),
        (
            format!("zz{signature}\r\n").into_bytes(),
            AwsChunkedError::Malformed,
        ),
        (
            format!("10 {signature}\r\n").into_bytes(),
            AwsChunkedError::Malformed,
        ),
        (b"10000\r\n".to_vec(), AwsChunkedError::Malformed),
        (
            b"10000;chunk-signature=abc\r\n".to_vec(),
            AwsChunkedError::SignatureDoesNotMatch,
        ),
        (
            format!("10000{signature}\n").into_bytes(),
            AwsChunkedError::Malformed,
        ),
        (
            format!("40000000{signature}\r\n").into_bytes(),
            AwsChunkedError::ChunkTooLarge,
        ),
        (
            format!("1000001{signature}\r\n").into_bytes(),
            AwsChunkedError::ChunkTooLarge,
        ),
        (vec![b'1'; 100_000], AwsChunkedError::Malformed),
    ];
    for (input, expected) in cases {
        let result = check_all_feeds(signed, None, None, &input);
        assert_eq!(
            result.unwrap_err(),
            expected,
            "{}",
            String::from_utf8_lossy(&input[..40])
        );
    }
}

#[test]
fn missing_crlf_after_chunk_data_is_malformed() {
    let mut body = s3_example_body();
    let position = 88 + 65536;
    assert_eq!(&body[position..position + 2], b"\r\n");
    body[position] = b'a';
    let result = check_all_feeds(signed, None, None, &body);
    assert_eq!(result.unwrap_err(), AwsChunkedError::Malformed);
}

#[test]
fn trailer_in_signed_mode_without_trailer_is_unexpected() {
    let mut body = s3_example_body();
    body.truncate(body.len() - 2);
    body.extend_from_slice(b"x-amz-checksum-crc32:AAAAAA==\r\n\r\n");
    let result = check_all_feeds(signed, Some("x-amz-checksum-crc32"), None, &body);
    assert_eq!(result.unwrap_err(), AwsChunkedError::UnexpectedTrailer);
}

/// The aws-sdk-rust plain-HTTP shape: signed chunks, a trailer and its signature.
fn signed_trailer_body(data: &[u8], trailer_line: &str, canonical_trailer: &str) -> Vec<u8> {
    let (mut body, final_signature) = signed_body(&[data]);
    let signature = trailer_signature(&final_signature, canonical_trailer);
    body.extend_from_slice(
        format!("{trailer_line}\r\nx-amz-trailer-signature:{signature}\r\n\r\n").as_bytes(),
    );
    body
}

#[test]
fn signed_trailer_body_decodes() {
    let body = signed_trailer_body(
        b"0123456789",
        "x-amz-checksum-crc32:rzB1sA==",
        "x-amz-checksum-crc32:rzB1sA==\n",
    );
    assert_eq!(body.len(), 303);
    let mut decoder = AwsChunkedDecoder::new(
        signed_with_trailer(),
        Some("x-amz-checksum-crc32"),
        Some(10),
    );
    let data = decode_all(&mut decoder, &body, 5).unwrap();
    assert_eq!(data, b"0123456789");
    assert_eq!(
        decoder.trailers(),
        &[("x-amz-checksum-crc32".to_owned(), "rzB1sA==".to_owned())]
    );
    // Garage compatibility: a bare "\n" after the end.
    let mut with_newline = body.clone();
    with_newline.push(b'\n');
    assert!(
        check_all_feeds(
            signed_with_trailer,
            Some("x-amz-checksum-crc32"),
            Some(10),
            &with_newline
        )
        .is_ok()
    );
    // Only one, however the body is split (fuzzing found a second one accepted when it
    // arrived in a later read).
    let mut two_newlines = with_newline.clone();
    two_newlines.push(b'\n');
    let result = check_all_feeds(
        signed_with_trailer,
        Some("x-amz-checksum-crc32"),
        Some(10),
        &two_newlines,
    );
    assert_eq!(result.unwrap_err(), AwsChunkedError::Malformed);
    let mut with_garbage = body.clone();
    with_garbage.extend_from_slice(b"xx");
    let result = check_all_feeds(
        signed_with_trailer,
        Some("x-amz-checksum-crc32"),
        Some(10),
        &with_garbage,
    );
    assert_eq!(result.unwrap_err(), AwsChunkedError::Malformed);
}

#[test]
fn signed_trailer_tampering_is_rejected() {
    let declared = Some("x-amz-checksum-crc32");
    // Trailer value changed after signing.
    let body = signed_trailer_body(
        b"0123456789",
        "x-amz-checksum-crc32:AAAAAA==",
        "x-amz-checksum-crc32:rzB1sA==\n",
    );
    let result = check_all_feeds(signed_with_trailer, declared, None, &body);
    assert_eq!(result.unwrap_err(), AwsChunkedError::SignatureDoesNotMatch);
    // Trailer signature missing.
    let (mut body, _) = signed_body(&[b"0123456789"]);
    body.extend_from_slice(b"x-amz-checksum-crc32:rzB1sA==\r\n\r\n");
    let result = check_all_feeds(signed_with_trailer, declared, None, &body);
    assert_eq!(result.unwrap_err(), AwsChunkedError::TrailerMissing);
    // Undeclared trailer, correctly signed.
    let body = signed_trailer_body(
        b"0123456789",
        "x-amz-checksum-sha1:abc",
        "x-amz-checksum-sha1:abc\n",
    );
    let result = check_all_feeds(signed_with_trailer, declared, None, &body);
    assert_eq!(result.unwrap_err(), AwsChunkedError::UnexpectedTrailer);
    // Declared trailer absent (signature over an empty trailer).
    let body = {
        let (mut body, final_signature) = signed_body(&[b"0123456789"]);
        let signature = trailer_signature(&final_signature, "");
        body.extend_from_slice(format!("x-amz-trailer-signature:{signature}\r\n\r\n").as_bytes());
        body
    };
    let result = check_all_feeds(signed_with_trailer, declared, None, &body);
    assert_eq!(result.unwrap_err(), AwsChunkedError::TrailerMissing);
    // Trailer lines after the trailer signature.
    let mut body = signed_trailer_body(
        b"0123456789",
        "x-amz-checksum-crc32:rzB1sA==",
        "x-amz-checksum-crc32:rzB1sA==\n",
    );
    body.truncate(body.len() - 2);
    body.extend_from_slice(b"x-amz-checksum-crc32:AAAAAA==\r\n\r\n");
    let result = check_all_feeds(signed_with_trailer, declared, None, &body);
    assert_eq!(result.unwrap_err(), AwsChunkedError::UnexpectedTrailer);
}

fn unsigned() -> ChunkedSigning {
    ChunkedSigning::UnsignedWithTrailer
}

#[test]
fn unsigned_trailer_bodies_from_clients_decode() {
    let boto3 = b"b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
    let data = check_all_feeds(unsigned, Some("x-amz-checksum-crc32"), Some(11), boto3).unwrap();
    assert_eq!(data, b"hello world");
    let rust_https = b"A\r\n0123456789\r\n0\r\nx-amz-checksum-crc32:R5RzGw==\r\n\r\n";
    let data =
        check_all_feeds(unsigned, Some("x-amz-checksum-crc32"), Some(10), rust_https).unwrap();
    assert_eq!(data, b"0123456789");
    let mut decoder = AwsChunkedDecoder::new(unsigned(), Some("X-Amz-Checksum-CRC32"), None);
    decode_all(&mut decoder, boto3, 3).unwrap();
    assert_eq!(decoder.trailers()[0].1, "DUoRhQ==");
    let garage = b"b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n\n";
    assert!(check_all_feeds(unsigned, Some("x-amz-checksum-crc32"), Some(11), garage).is_ok());
}

#[test]
fn unsigned_trailer_rejects_signatures_and_missing_trailers() {
    let declared = Some("x-amz-checksum-crc32");
    let with_signature = format!("b;chunk-signature={SIG1}\r\nhello world\r\n0\r\n\r\n");
    let result = check_all_feeds(unsigned, declared, None, with_signature.as_bytes());
    assert_eq!(result.unwrap_err(), AwsChunkedError::Malformed);
    let no_trailer = b"b\r\nhello world\r\n0\r\n\r\n";
    let result = check_all_feeds(unsigned, declared, None, no_trailer);
    assert_eq!(result.unwrap_err(), AwsChunkedError::TrailerMissing);
    let trailer_signature_line = format!(
        "b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\
         x-amz-trailer-signature:{SIG1}\r\n\r\n"
    );
    let result = check_all_feeds(unsigned, declared, None, trailer_signature_line.as_bytes());
    assert_eq!(result.unwrap_err(), AwsChunkedError::UnexpectedTrailer);
    let no_colon = b"b\r\nhello world\r\n0\r\nx-amz-checksum-crc32\r\n\r\n";
    let result = check_all_feeds(unsigned, declared, None, no_colon);
    assert_eq!(result.unwrap_err(), AwsChunkedError::Malformed);
    let duplicate = b"0\r\nx-amz-checksum-crc32:a\r\nx-amz-checksum-crc32:b\r\n\r\n";
    let result = check_all_feeds(unsigned, declared, None, duplicate);
    assert_eq!(result.unwrap_err(), AwsChunkedError::UnexpectedTrailer);
}

#[test]
fn oversized_trailer_section_is_rejected() {
    let mut body = b"0\r\n".to_vec();
    body.extend_from_slice(b"x-amz-checksum-crc32:");
    body.extend(std::iter::repeat_n(b'A', 10_000));
    body.extend_from_slice(b"\r\n\r\n");
    let result = check_all_feeds(unsigned, Some("x-amz-checksum-crc32"), None, &body);
    assert_eq!(result.unwrap_err(), AwsChunkedError::TrailerTooLarge);
    let names: Vec<String> = (0..9).map(|idx| format!("x-t{idx}")).collect();
    let declared = names.join(",");
    let mut body = b"0\r\n".to_vec();
    for name in &names {
        body.extend_from_slice(format!("{name}:v\r\n").as_bytes());
    }
    body.extend_from_slice(b"\r\n");
    let result = check_all_feeds(unsigned, Some(&declared), None, &body);
    assert!(result.is_err());
}

#[test]
fn decoder_stays_failed_after_error() {
    let mut decoder = AwsChunkedDecoder::new(unsigned(), None, None);
    assert_eq!(decoder.decode(b"zz\r\n"), Err(AwsChunkedError::Malformed));
    assert_eq!(
        decoder.decode(b"0\r\n\r\n"),
        Err(AwsChunkedError::Malformed)
    );
    assert_eq!(decoder.finish(), Err(AwsChunkedError::Malformed));
}
