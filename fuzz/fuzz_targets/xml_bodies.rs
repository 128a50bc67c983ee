//! libFuzzer entry for the `xml_bodies` target (body and input layout: tests/fuzz-targets).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_targets::run("xml_bodies", data));
