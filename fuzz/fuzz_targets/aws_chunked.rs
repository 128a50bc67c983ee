//! libFuzzer entry for the `aws_chunked` target (body and input layout: tests/fuzz-targets).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_targets::run("aws_chunked", data));
