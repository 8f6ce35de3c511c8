#![no_main]
libfuzzer_sys::fuzz_target!(|input: &[u8]| roam_fuzz::rest::run(input));
