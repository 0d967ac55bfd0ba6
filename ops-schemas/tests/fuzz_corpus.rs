//! Replays the committed corpus of the `op_body` fuzz target (`fuzz/corpus/op_body/`) on stable, as a
//! normal test: every input the fuzzer kept, judged again by serde and the JSON Schemas. The fuzzer itself
//! runs by hand on nightly (`docs/developer_guide/fuzzing.md`), never in CI.

mod agreement;

#[test]
fn every_input_of_the_op_body_corpus_is_judged_alike_by_serde_and_the_schemas() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus/op_body");
    let mut inputs = 0;
    for entry in std::fs::read_dir(dir).expect("the committed corpus") {
        let path = entry.expect("a corpus entry").path();
        let data = std::fs::read(&path).expect("a corpus file");
        let outcome = std::panic::catch_unwind(|| agreement::check_bytes(&data));
        assert!(outcome.is_ok(), "{} fails", path.display());
        inputs += 1;
    }
    assert!(inputs > 0, "the corpus is empty");
}
