//! The derive's compile errors, one rule per file in `tests/ui/`, and every accepted form in `tests/pass/`.
//!
//! The `.stderr` files are rustc's output on the pinned toolchain (rust-toolchain.toml). Regenerate them with
//! `TRYBUILD=overwrite cargo test -p ops-derive --test compiletest` and review the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/pass/*.rs");
}
