//! libFuzzer entry for the `sigv4` target (body and input layout: tests/fuzz-targets).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_targets::run("sigv4", data));
