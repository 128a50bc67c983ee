//! libFuzzer entry for the `form_data` target (body and input layout: tests/fuzz-targets).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_targets::run("form_data", data));
