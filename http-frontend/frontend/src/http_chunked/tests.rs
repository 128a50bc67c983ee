use super::{HttpChunkedDecoder, HttpChunkedError, HttpChunkedStep};

/// Feeds `input` in pieces of `feed_bytes`, keeping unconsumed bytes as a real caller would.
/// Returns the decoded body and how many input bytes were consumed in total.
fn decode_all(input: &[u8], feed_bytes: usize) -> Result<(Vec<u8>, usize), HttpChunkedError> {
    let mut decoder = HttpChunkedDecoder::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut offset = 0;
    let mut consumed_total = 0;
    let mut body = Vec::new();
    loop {
        let step = decoder.decode(&pending)?;
        let consumed = match step {
            HttpChunkedStep::Data { data, consumed } => {
                body.extend_from_slice(data);
                consumed
            }
            HttpChunkedStep::NeedMore { consumed } => {
                if offset == input.len() {
                    decoder.finish()?;
                    unreachable!("finish succeeded without Done");
                }
                let end = (offset + feed_bytes).min(input.len());
                pending.drain(..consumed);
                pending.extend_from_slice(&input[offset..end]);
                offset = end;
                consumed_total += consumed;
                continue;
            }
            HttpChunkedStep::Done { consumed } => {
                consumed_total += consumed;
                assert!(decoder.is_done());
                decoder.finish()?;
                return Ok((body, consumed_total));
            }
        };
        pending.drain(..consumed);
        consumed_total += consumed;
        assert!(pending.len() <= super::CHUNK_SIZE_LINE_BYTES_MAX + feed_bytes);
    }
}

fn check_ok(input: &[u8], expected_body: &[u8]) {
    for feed_bytes in [1, 2, 7, input.len().max(1)] {
        let (body, consumed) = decode_all(input, feed_bytes).unwrap();
        assert_eq!(body, expected_body, "feed {feed_bytes}");
        assert_eq!(consumed, input.len(), "feed {feed_bytes}");
    }
}

fn check_err(input: &[u8], expected: &HttpChunkedError) {
    for feed_bytes in [1, 3, input.len().max(1)] {
        assert_eq!(
            decode_all(input, feed_bytes).unwrap_err(),
            *expected,
            "feed {feed_bytes}"
        );
    }
}

#[test]
fn simple_body_decodes() {
    check_ok(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", b"hello world");
}

#[test]
fn empty_body_decodes() {
    check_ok(b"0\r\n\r\n", b"");
}

#[test]
fn extensions_and_uppercase_hex_are_accepted() {
    check_ok(
        b"A;name=value\r\n0123456789\r\n0 ; last\r\n\r\n",
        b"0123456789",
    );
}

#[test]
fn trailer_section_is_discarded() {
    check_ok(
        b"3\r\nabc\r\n0\r\nx-amz-checksum-crc32: abc=\r\nother: 1\r\n\r\n",
        b"abc",
    );
}

#[test]
fn leading_zeros_within_16_digits_are_accepted() {
    check_ok(
        b"000000000000000B\r\nhello world\r\n0\r\n\r\n",
        b"hello world",
    );
}

#[test]
fn boto3_https_body_decodes_to_aws_chunked_frame() {
    let body = b"34\r\nb\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n\r\n0\r\n\r\n";
    check_ok(
        body,
        b"b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n",
    );
}

#[test]
fn bytes_after_done_are_left_for_next_request() {
    let mut decoder = HttpChunkedDecoder::new();
    let input = b"0\r\n\r\nGET / HTTP/1.1\r\n";
    assert_eq!(
        decoder.decode(input),
        Ok(HttpChunkedStep::Done { consumed: 5 })
    );
    assert_eq!(
        decoder.decode(&input[5..]),
        Ok(HttpChunkedStep::Done { consumed: 0 })
    );
}

#[test]
fn bad_hex_size_is_invalid_chunk_size() {
    check_err(
        b"zz\r\nhello\r\n0\r\n\r\n",
        &HttpChunkedError::InvalidChunkSize,
    );
    check_err(b"-1\r\n\r\n", &HttpChunkedError::InvalidChunkSize);
    check_err(
        b"+5\r\nhello\r\n0\r\n\r\n",
        &HttpChunkedError::InvalidChunkSize,
    );
    check_err(
        b"\r\nhello\r\n0\r\n\r\n",
        &HttpChunkedError::InvalidChunkSize,
    );
    check_err(
        b"0x5\r\nhello\r\n0\r\n\r\n",
        &HttpChunkedError::InvalidChunkSize,
    );
}

#[test]
fn garbage_after_size_is_invalid_extension() {
    check_err(
        b"5 x\r\nhello\r\n0\r\n\r\n",
        &HttpChunkedError::InvalidChunkExtension,
    );
    check_err(
        b"5;a\x00b\r\nhello\r\n0\r\n\r\n",
        &HttpChunkedError::InvalidChunkExtension,
    );
}

#[test]
fn twenty_hex_digit_size_is_invalid_chunk_size() {
    check_err(
        b"00000000000000000005\r\nhello\r\n0\r\n\r\n",
        &HttpChunkedError::InvalidChunkSize,
    );
    check_err(
        b"FFFFFFFFFFFFFFFFF\r\n",
        &HttpChunkedError::InvalidChunkSize,
    );
}

#[test]
fn sixteen_f_digit_size_streams_without_allocation() {
    let mut decoder = HttpChunkedDecoder::new();
    let step = decoder.decode(b"FFFFFFFFFFFFFFFF\r\nab").unwrap();
    assert_eq!(
        step,
        HttpChunkedStep::Data {
            data: b"ab",
            consumed: 20
        }
    );
    assert_eq!(decoder.decoded_size_bytes(), u64::MAX);
}

#[test]
fn missing_crlf_after_data_is_rejected() {
    check_err(b"5\r\nhelloX\r\n0\r\n\r\n", &HttpChunkedError::MissingCrlf);
    check_err(b"5\r\nhello\rX0\r\n\r\n", &HttpChunkedError::MissingCrlf);
    check_err(b"5\r\nhello0\r\n\r\n", &HttpChunkedError::MissingCrlf);
}

#[test]
fn bare_lf_line_endings_are_rejected() {
    check_err(b"5\nhello\r\n0\r\n\r\n", &HttpChunkedError::MissingCrlf);
    check_err(b"5\r\nhello\r\n0\r\n\n", &HttpChunkedError::MissingCrlf);
}

#[test]
fn overlong_size_line_is_rejected() {
    let mut input = b"5;".to_vec();
    input.extend(std::iter::repeat_n(b'a', 2000));
    input.extend_from_slice(b"\r\nhello\r\n0\r\n\r\n");
    check_err(&input, &HttpChunkedError::ChunkSizeLineTooLong);
    // Without a line end at all, memory stays bounded: the error comes after the cap.
    check_err(&vec![b'1'; 5000], &HttpChunkedError::ChunkSizeLineTooLong);
    let mut no_newline = b"1;".to_vec();
    no_newline.extend(std::iter::repeat_n(b'a', 5000));
    check_err(&no_newline, &HttpChunkedError::ChunkSizeLineTooLong);
}

#[test]
fn oversized_trailer_section_is_rejected() {
    let mut input = b"0\r\n".to_vec();
    for _ in 0..1000 {
        input.extend_from_slice(b"x-header: value\r\n");
    }
    input.extend_from_slice(b"\r\n");
    check_err(&input, &HttpChunkedError::TrailerSectionTooLarge);
}

#[test]
fn truncated_bodies_are_truncated() {
    for input in [
        &b""[..],
        b"5",
        b"5\r\n",
        b"5\r\nhel",
        b"5\r\nhello",
        b"5\r\nhello\r",
        b"5\r\nhello\r\n",
        b"5\r\nhello\r\n0\r\n",
        b"5\r\nhello\r\n0\r\nx: y\r\n",
    ] {
        check_err(input, &HttpChunkedError::Truncated);
    }
}

#[test]
fn decoder_stays_failed_after_error() {
    let mut decoder = HttpChunkedDecoder::new();
    assert_eq!(
        decoder.decode(b"zz\r\n"),
        Err(HttpChunkedError::InvalidChunkSize)
    );
    assert_eq!(
        decoder.decode(b"0\r\n\r\n"),
        Err(HttpChunkedError::InvalidChunkSize)
    );
    assert_eq!(decoder.finish(), Err(HttpChunkedError::InvalidChunkSize));
}
