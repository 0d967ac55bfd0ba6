//! Replays what the fuzz targets found on stable, as normal tests: every input of the committed corpora
//! (`fuzz/corpus/`, what the fuzzer kept, minimised) and of the regressions (`fuzz/regressions/`, each
//! input that once failed, named for what it found), judged again. The fuzzer itself runs by hand on
//! nightly (`docs/developer_guide/fuzzing.md`), never in CI.

mod agreement;
mod enqueue_input;

/// The files of `fuzz/corpus/<target>/` and then of `fuzz/regressions/<target>/`.
fn corpus(target: &str) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut inputs = Vec::new();
    for kind in ["corpus", "regressions"] {
        let dir = format!("{}/../fuzz/{kind}/{target}", env!("CARGO_MANIFEST_DIR"));
        let before = inputs.len();
        for entry in std::fs::read_dir(&dir).expect("a committed corpus") {
            let path = entry.expect("a corpus entry").path();
            let data = std::fs::read(&path).expect("a corpus file");
            inputs.push((path, data));
        }
        assert!(inputs.len() > before, "{dir} is empty");
    }
    inputs
}

#[test]
fn every_input_of_the_op_body_corpus_is_judged_alike_by_serde_and_the_schemas() {
    for (path, data) in corpus("op_body") {
        let outcome = std::panic::catch_unwind(|| agreement::check_bytes(&data));
        assert!(outcome.is_ok(), "{} fails", path.display());
    }
}

#[tokio::test]
async fn every_input_of_the_enqueue_input_corpus_writes_a_whole_op_or_nothing() {
    let db = ops_testkit::TestDb::create(ops_testkit::Backend::Sqlite)
        .await
        .expect("sqlite needs no server");
    let store = db.migrated_store().await;
    // Twice over one store, as the fuzzer meets its inputs: the second time an input may coalesce with the
    // op the first time queued.
    let inputs = corpus("enqueue_input");
    for (_, data) in inputs.iter().chain(&inputs) {
        enqueue_input::check(&db, &store, data).await;
    }
    // The corpus reaches the store: the fixtures' inputs are accepted, so it tests more than the parsing.
    assert!(db.count("cluster_operations").await >= 14);
    store.close().await;
    db.finish().await;
}
