//! The plan's phase 2 audit, as a test: every gate in the code base asks the targets table through the
//! store's pending queries, and nothing decides "idle" from the latest op.
//!
//! The lists below are the gate call sites. A new gate, or a new reader of the latest op, fails this test
//! until it is added here — where a reviewer sees it.

mod source_files;

use source_files::{sources, workspace_root};

/// The crates whose sources are audited, relative to the workspace root.
const AUDITED: [&str; 4] = [
    "ops-core/src",
    "ops-schemas/src",
    "ops-sim/src",
    "opsctl/src",
];

/// Every call of a pending query outside the store, as `(file, call)` with its count.
const GATE_CALLS: [(&str, &str, usize); 3] = [
    // The gate itself: Network::health / is_okay.
    ("ops-core/src/network/gate.rs", "is_pending_or_unknown(", 1),
    // The maintainer: the gate's own check before each repair or delete, and one question per pass.
    (
        "ops-core/src/network/maintainer.rs",
        "is_pending_or_unknown(",
        2,
    ),
    ("ops-core/src/network/maintainer.rs", "filter_pending(", 1),
];

/// Readers of the latest op: displays only, never a gate (the latest-only race).
const LATEST_READERS: [(&str, usize); 3] = [
    // last_cluster_operation in external views.
    ("ops-core/src/view.rs", 1),
    // `opsctl demo` shows what `opsctl latest` said at the moment of the latest-only race.
    ("opsctl/src/demo.rs", 1),
    // `opsctl latest`.
    ("opsctl/src/main.rs", 1),
];

fn count(code: &str, call: &str) -> usize {
    // Calls, not the definitions in the store (`fn has_pending(`).
    code.matches(&format!(".{call}")).count()
}

#[test]
fn every_gate_asks_the_targets_table_and_none_reads_the_latest_op() {
    let root = workspace_root();
    let mut files = Vec::new();
    for dir in AUDITED {
        sources(&root, dir, &mut files);
    }
    let mut gates = Vec::new();
    let mut latest = Vec::new();
    for (file, code) in &files {
        // The store's own queries call each other; they are the gate's implementation, not gates.
        if file.starts_with("ops-core/src/store/") {
            continue;
        }
        for call in ["has_pending(", "is_pending_or_unknown(", "filter_pending("] {
            let n = count(code, call);
            if n > 0 {
                gates.push((file.clone(), call, n));
            }
        }
        let n = count(code, "latest(");
        if n > 0 {
            latest.push((file.clone(), n));
        }
    }
    let expected: Vec<_> = GATE_CALLS
        .iter()
        .map(|(file, call, n)| ((*file).to_owned(), *call, *n))
        .collect();
    assert_eq!(
        gates, expected,
        "the gate call sites changed: audit them and update GATE_CALLS"
    );
    let expected: Vec<_> = LATEST_READERS
        .iter()
        .map(|(file, n)| ((*file).to_owned(), *n))
        .collect();
    assert_eq!(
        latest, expected,
        "a new reader of the latest op: if it gates anything, it must ask has_pending"
    );
}

#[test]
fn only_the_store_reads_the_in_flight_table() {
    let root = workspace_root();
    let mut files = Vec::new();
    for dir in AUDITED {
        sources(&root, dir, &mut files);
    }
    let readers: Vec<&str> = files
        .iter()
        .filter(|(_, code)| code.contains("in_flight_targets"))
        .map(|(file, _)| file.as_str())
        .collect();
    assert_eq!(
        readers,
        [
            "ops-core/src/store/prune.rs",
            "ops-core/src/store/queries.rs"
        ]
    );
}
