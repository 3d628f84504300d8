#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| plivo_webhook_fuzz::roundtrip(data));
