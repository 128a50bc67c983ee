//! Browser POST uploads: the multipart/form-data parser (frontend `form_data.rs`, with the
//! router's `Content-Type` reading and the dispatcher's key peek) and the POST policy
//! document and form signature (s3-proto `post_policy.rs`).

use base64::Engine as _;
use frontend::form_data::{
    BOUNDARY_BYTES_MAX, FormError, FormEvent, FormParser, PART_HEADER_BYTES_MAX,
    PREAMBLE_BYTES_MAX, PartHeaders,
};
use frontend::handlers::post_object::peek_key;
use s3_proto::post_policy::{Condition, FormField, parse_policy, verify_signature};
use s3_proto::router::form_data_content_type;
use s3_proto::sigv4::AuthContext;

use crate::auth::{NOW_UNIX_SECS, OneKey, REGION};
use crate::{piece_lengths, split_at_byte};

/// An event with the part's data joined, so that parses fed differently compare equal.
#[derive(Debug, PartialEq, Eq)]
enum Joined {
    Part(PartHeaders, Vec<u8>),
    End,
}

/// Input: one byte that sets the piece sizes, the `Content-Type` value, `\n`, the body.
pub fn form_data(data: &[u8]) {
    let Some((&seed, rest)) = data.split_first() else {
        return;
    };
    let (content_type, body) = split_at_byte(rest, b'\n');
    // The dispatcher peeks at the first bytes for the key, to place the request.
    let _ = peek_key(content_type, body);
    let Some(boundary) = form_data_content_type(content_type).and_then(|parsed| parsed.boundary)
    else {
        return;
    };
    let Ok(whole_parser) = FormParser::new(&boundary) else {
        return;
    };
    let whole = parse_form(whole_parser, body, &[body.len()]);
    let pieces = parse_form(
        FormParser::new(&boundary).expect("accepted once"),
        body,
        &piece_lengths(seed, body.len()),
    );
    assert_eq!(whole, pieces);
}

/// Feeds `body` in pieces of `lengths` and pulls every event; checks the event order and
/// that the parser's buffer stays bounded while it waits for more bytes.
fn parse_form(
    mut parser: FormParser,
    body: &[u8],
    lengths: &[usize],
) -> (Vec<Joined>, Result<(), FormError>) {
    let mut joined = Vec::new();
    let mut current: Option<(PartHeaders, Vec<u8>)> = None;
    let mut fed_bytes = 0;
    let mut offset = 0;
    for &length in lengths {
        parser.feed(&body[offset..offset + length]);
        offset += length;
        fed_bytes += length;
        // Bounded: each event consumes buffered bytes or changes state; None waits for more.
        loop {
            let event = match parser.next_event() {
                Ok(Some(event)) => event,
                Ok(None) => break,
                Err(error) => return (joined, Err(error)),
            };
            match event {
                FormEvent::PartStart(headers) => {
                    assert!(current.is_none(), "a part started inside a part");
                    current = Some((headers, Vec::new()));
                }
                FormEvent::Data(bytes) => {
                    assert!(!bytes.is_empty());
                    let (_, data) = current.as_mut().expect("data outside a part");
                    data.extend_from_slice(&bytes);
                }
                FormEvent::PartEnd => {
                    let (headers, data) = current.take().expect("end outside a part");
                    joined.push(Joined::Part(headers, data));
                }
                FormEvent::End => {
                    assert!(current.is_none() && parser.is_done());
                    joined.push(Joined::End);
                }
            }
        }
        // What the parser holds back while waiting: a preamble, a part's headers, or the
        // bytes that could begin a delimiter; never the whole stream (the module's promise).
        let consumed = parser.consumed_bytes();
        assert!(consumed <= fed_bytes + 2);
        let buffered_bytes = fed_bytes + 2 - consumed;
        let bound = PART_HEADER_BYTES_MAX.max(PREAMBLE_BYTES_MAX) + BOUNDARY_BYTES_MAX + 8;
        assert!(
            parser.is_done() || buffered_bytes <= bound,
            "{buffered_bytes} bytes buffered"
        );
    }
    let data_bytes: usize = joined
        .iter()
        .map(|event| match event {
            Joined::Part(_, data) => data.len(),
            Joined::End => 0,
        })
        .sum();
    assert!(data_bytes <= body.len());
    (joined, Ok(()))
}

/// Input: the policy JSON (encoded to base64 here, so the fuzzer mutates JSON), a NUL byte,
/// then form fields as `name=value` lines.
pub fn post_policy(data: &[u8]) {
    let (json, field_lines) = split_at_byte(data, 0);
    let policy_base64 = base64::engine::general_purpose::STANDARD.encode(json);
    let mut fields = vec![FormField {
        name: "policy".to_owned(),
        value: policy_base64.clone(),
    }];
    for line in field_lines.split(|&byte| byte == b'\n') {
        let Ok(line) = std::str::from_utf8(line) else {
            continue;
        };
        let (name, value) = line.split_once('=').unwrap_or((line, ""));
        fields.push(FormField {
            name: name.to_ascii_lowercase(),
            value: value.to_owned(),
        });
    }
    let context = AuthContext {
        region: REGION,
        now_unix_secs: NOW_UNIX_SECS,
    };
    let _ = verify_signature(&fields, &context, &OneKey);
    let Ok(policy) = parse_policy(&policy_base64) else {
        return;
    };
    if let Ok(Some(range)) = policy.check(&fields, "examplebucket", NOW_UNIX_SECS) {
        // The size range an upload is held to is one the signed policy states.
        assert!(policy.conditions.iter().any(|condition| matches!(
            condition,
            Condition::ContentLengthRange { min_bytes, max_bytes }
                if (*min_bytes, *max_bytes) == range
        )));
    }
}
