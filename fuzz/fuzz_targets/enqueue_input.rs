//! The enqueue input path, as `opsctl enqueue` walks it (op type, body, priority, tasks, request id), on a
//! real SQLite store made once per process: no panic; a refusal writes nothing; an accepted op is whole,
//! with exactly its targets. The judgement is the one the stable corpus replay uses
//! (`ops-schemas/tests/enqueue_input`).
#![no_main]

#[path = "../../ops-schemas/tests/enqueue_input/mod.rs"]
mod enqueue_input;

use std::sync::OnceLock;

use ops_core::Store;
use ops_testkit::{Backend, TestDb};

/// One runtime, database and store for the whole run.
fn world() -> &'static (tokio::runtime::Runtime, TestDb, Store) {
    static WORLD: OnceLock<(tokio::runtime::Runtime, TestDb, Store)> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let db = runtime
            .block_on(TestDb::create(Backend::Sqlite))
            .expect("sqlite needs no server");
        let store = runtime.block_on(db.migrated_store());
        (runtime, db, store)
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (runtime, db, store) = world();
    runtime.block_on(enqueue_input::check(db, store, data));
});
