//! The fuzz targets' bodies: one plain function per parser, `fn(&[u8])`, that must never panic
//! whatever the bytes. A panic is a bug: either in the parser, or a broken property that the
//! target checks with `assert!` (decoders never output more bytes than they were given, a
//! parsed head holds no CR/LF in a header value, XML codecs round-trip, ...).
//!
//! Two users: the libFuzzer binaries in `fuzz/fuzz_targets/` (nightly, cargo-fuzz; one binary
//! per entry of [`TARGETS`]), and `tests/corpus.rs`, which replays every file of
//! `fuzz/corpus/<target>/` through the same function on stable in the normal test suite.
//!
//! Inputs are shaped so that the fuzzer mutates what the parser reads: a target that needs
//! a few parameters besides the bytes (a mode, an object size, a split point) takes them from
//! the first byte(s), and documents the layout. Seeds are real requests (fuzz/README.md).

pub mod admin_json;
pub mod auth;
pub mod chunked;
pub mod forms;
pub mod http;
pub mod params;
pub mod xml;

/// A target's body.
pub type Target = fn(&[u8]);

/// Every target: its name (the fuzz binary and the corpus folder) and its body.
pub const TARGETS: &[(&str, Target)] = &[
    ("http_head", http::http_head),
    ("router", http::router),
    ("http_chunked", chunked::http_chunked),
    ("aws_chunked", chunked::aws_chunked),
    ("sigv4", auth::sigv4),
    ("sigv2", auth::sigv2),
    ("xml_bodies", xml::xml_bodies),
    ("form_data", forms::form_data),
    ("post_policy", forms::post_policy),
    ("query", params::query),
    ("range", params::range),
    ("admin_json", admin_json::admin_json),
];

/// Splits `data` at the first `separator`: `(before, after)`, or `(data, [])` without one.
pub(crate) fn split_at_byte(data: &[u8], separator: u8) -> (&[u8], &[u8]) {
    match data.iter().position(|&byte| byte == separator) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[]),
    }
}

/// Piece lengths for feeding a streaming parser: the same input is decoded once whole and
/// once in pieces of 1..=`seed`+1 bytes (varying), and the results must agree.
pub(crate) fn piece_lengths(seed: u8, total: usize) -> Vec<usize> {
    let mut lengths = Vec::new();
    let mut left = total;
    let mut step = usize::from(seed);
    // Bounded: every piece is at least one byte.
    while left > 0 {
        let length = (step % (usize::from(seed) + 1) + 1).min(left);
        lengths.push(length);
        left -= length;
        step = step.wrapping_mul(31).wrapping_add(7);
    }
    lengths
}

/// Runs the target `name` on `data`; what each libFuzzer binary calls.
pub fn run(name: &str, data: &[u8]) {
    let (_, target) = TARGETS
        .iter()
        .find(|(target, _)| *target == name)
        .unwrap_or_else(|| panic!("no fuzz target {name}"));
    target(data);
}
