//! Canonical request pieces: URI, query string and headers, per the `SigV4` rules for S3.
//!
//! Architecture invariant: input is decoded once and re-encoded byte by byte (RFC 3986
//! unreserved characters kept, everything else `%XX` uppercase), so two spellings of the same
//! request always produce the same canonical form.

use percent_encoding::percent_decode;

use super::{QUERY_PARAMETER_COUNT_MAX, SIGNED_HEADER_COUNT_MAX, SigV4Error};

/// One query parameter, percent-decoded. A key without `=` has an empty value.
pub(crate) struct QueryParameter {
    pub key: Vec<u8>,
    pub value: Vec<u8>,
}

pub(crate) enum SignedHeadersError {
    /// Empty, too long, duplicated, non-lowercase names, or `host` not signed.
    Malformed,
    /// A signed header is absent from the request.
    HeaderMissing,
}

/// Splits and decodes the raw query. Empty `&&` segments are skipped.
pub(crate) fn collect_query_parameters(raw_query: &str) -> Result<Vec<QueryParameter>, SigV4Error> {
    let mut parameters = Vec::new();
    for pair in raw_query.split('&').filter(|pair| !pair.is_empty()) {
        if parameters.len() == QUERY_PARAMETER_COUNT_MAX {
            return Err(SigV4Error::TooManyQueryParameters);
        }
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        parameters.push(QueryParameter {
            key: percent_decode(key.as_bytes()).collect(),
            value: percent_decode(value.as_bytes()).collect(),
        });
    }
    Ok(parameters)
}

fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

/// Appends `bytes` percent-encoded per AWS rules; `/` is kept only if `keep_slash`.
pub(crate) fn encode_into(bytes: &[u8], keep_slash: bool, out: &mut Vec<u8>) {
    const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in bytes {
        if is_unreserved(byte) || (keep_slash && byte == b'/') {
            out.push(byte);
        } else {
            out.extend_from_slice(&[
                b'%',
                HEX_UPPER[usize::from(byte >> 4)],
                HEX_UPPER[usize::from(byte & 0x0f)],
            ]);
        }
    }
}

/// Appends one path segment (no literal `/` inside) canonically encoded: each `%XX` is decoded
/// once and the byte re-encoded; an encoded slash stays `%2F` so that it never merges with a
/// segment separator (a signer that encodes a key's `/` as `%2F` signs `%2F`).
fn canonical_segment_into(segment: &[u8], out: &mut Vec<u8>) {
    let mut idx = 0;
    while idx < segment.len() {
        let byte = segment[idx];
        let escaped = (byte == b'%' && idx + 2 < segment.len())
            .then(|| hex_value(segment[idx + 1]).zip(hex_value(segment[idx + 2])))
            .flatten();
        if let Some((high, low)) = escaped {
            encode_into(&[(high << 4) | low], false, out);
            idx += 3;
        } else {
            encode_into(&[byte], false, out);
            idx += 1;
        }
    }
}

fn hex_value(byte: u8) -> Option<u8> {
    char::from(byte)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

/// Appends the canonical URI: the raw path with every segment decoded once and re-encoded.
/// S3 never normalizes; `normalize_path` (generic services only) removes empty, `.` and `..`
/// segments.
pub(crate) fn canonical_uri(raw_path: &str, normalize_path: bool, out: &mut Vec<u8>) {
    let raw_path = raw_path.as_bytes();
    if raw_path.is_empty() {
        out.push(b'/');
        return;
    }
    if !normalize_path {
        for (idx, segment) in raw_path.split(|&byte| byte == b'/').enumerate() {
            if idx > 0 {
                out.push(b'/');
            }
            canonical_segment_into(segment, out);
        }
        return;
    }
    let mut segments: Vec<Vec<u8>> = Vec::new();
    for segment in raw_path.split(|&byte| byte == b'/') {
        let mut canonical = Vec::with_capacity(segment.len());
        canonical_segment_into(segment, &mut canonical);
        match canonical.as_slice() {
            b"" | b"." => {}
            b".." => {
                segments.pop();
            }
            _ => segments.push(canonical),
        }
    }
    out.push(b'/');
    for (idx, segment) in segments.iter().enumerate() {
        if idx > 0 {
            out.push(b'/');
        }
        out.extend_from_slice(segment);
    }
    if !segments.is_empty() && raw_path.ends_with(b"/") {
        out.push(b'/');
    }
}

/// Appends the canonical query string: pairs encoded, sorted by (key, value), `X-Amz-Signature`
/// left out for presigned requests.
pub(crate) fn canonical_query(
    parameters: &[QueryParameter],
    skip_signature: bool,
    out: &mut Vec<u8>,
) {
    let mut encoded: Vec<(Vec<u8>, Vec<u8>)> = parameters
        .iter()
        .filter(|parameter| !(skip_signature && parameter.key == b"X-Amz-Signature"))
        .map(|parameter| {
            let mut key = Vec::with_capacity(parameter.key.len());
            encode_into(&parameter.key, false, &mut key);
            let mut value = Vec::with_capacity(parameter.value.len());
            encode_into(&parameter.value, false, &mut value);
            (key, value)
        })
        .collect();
    encoded.sort_unstable();
    for (idx, (key, value)) in encoded.iter().enumerate() {
        if idx > 0 {
            out.push(b'&');
        }
        out.extend_from_slice(key);
        out.push(b'=');
        out.extend_from_slice(value);
    }
}

/// Appends the header value trimmed, with inner whitespace runs collapsed to one space.
fn canonical_header_value_into(value: &[u8], out: &mut Vec<u8>) {
    let is_space = |byte: &u8| matches!(byte, b' ' | b'\t' | b'\r' | b'\n');
    let mut pending_space = false;
    let mut wrote_any = false;
    for byte in value {
        if is_space(byte) {
            pending_space = wrote_any;
        } else {
            if pending_space {
                out.push(b' ');
                pending_space = false;
            }
            out.push(*byte);
            wrote_any = true;
        }
    }
}

/// Appends `name:value\n` for every name in `signed_headers`, in the order given. Duplicate
/// request headers are joined with `,` in arrival order.
pub(crate) fn canonical_headers(
    headers: &[(&str, &[u8])],
    signed_headers: &str,
    out: &mut Vec<u8>,
) -> Result<(), SignedHeadersError> {
    let mut names: Vec<&str> = Vec::new();
    for name in signed_headers.split(';') {
        let valid_name = !name.is_empty()
            && name.bytes().all(|byte| {
                byte.is_ascii_lowercase()
                    || byte.is_ascii_digit()
                    || matches!(byte, b'-' | b'_' | b'.' | b'!' | b'#' | b'$' | b'%' | b'&')
                    || matches!(byte, b'\'' | b'*' | b'+' | b'^' | b'`' | b'|' | b'~')
            });
        if !valid_name || names.len() == SIGNED_HEADER_COUNT_MAX || names.contains(&name) {
            return Err(SignedHeadersError::Malformed);
        }
        names.push(name);
    }
    if !names.contains(&"host") {
        return Err(SignedHeadersError::Malformed);
    }
    for name in names {
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        let mut found = false;
        for (header_name, value) in headers {
            if header_name.eq_ignore_ascii_case(name) {
                if found {
                    out.push(b',');
                }
                canonical_header_value_into(value, out);
                found = true;
            }
        }
        if !found {
            return Err(SignedHeadersError::HeaderMissing);
        }
        out.push(b'\n');
    }
    Ok(())
}
