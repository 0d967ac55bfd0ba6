//! Op JSON decoding: any bytes, taken as the body of every op type under its real header. Serde must not
//! panic, and must agree with the op's published JSON Schema. The judgement is the one the stable tests
//! use (`ops-schemas/tests/agreement`), so a corpus input found here is replayed there.
#![no_main]

#[path = "../../ops-schemas/tests/agreement/mod.rs"]
mod agreement;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    agreement::check_bytes(data);
});
