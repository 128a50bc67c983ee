//! libFuzzer entry for the `http_head` target (body and input layout: tests/fuzz-targets).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_targets::run("http_head", data));
