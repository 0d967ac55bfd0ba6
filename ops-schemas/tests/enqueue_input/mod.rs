//! The enqueue input path as `opsctl enqueue` walks it — op type, body, priority, task names, request id —
//! judged on a real store, shared by the `enqueue_input` fuzz target and the replay of its corpus. Whatever
//! the input: no panic; a refusal writes nothing; an accepted op is whole, with exactly its targets (or, when
//! it coalesced with a queued op doing the same work, is that op).

#![allow(dead_code)]

use ops_core::{Priority, Store};
use ops_schemas::EnqueueRequest;
use ops_testkit::{PartialOpRows, TestDb};
use serde_json::Value;

/// The input, as JSON: `{"op_type": "...", "body": {...}, "priority": "...", "tasks": [...],
/// "request_id": "..." | null}`. Anything else is not an input and is skipped.
pub async fn check(db: &TestDb, store: &Store, data: &[u8]) {
    let Ok(Value::Object(input)) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let text = |key: &str| input.get(key).and_then(Value::as_str);
    let (Some(op_type), Some(body), Some(priority)) =
        (text("op_type"), input.get("body"), text("priority"))
    else {
        return;
    };
    let Some(tasks) = input
        .get("tasks")
        .and_then(Value::as_array)
        .and_then(|tasks| {
            tasks
                .iter()
                .map(|t| t.as_str().map(str::to_owned))
                .collect()
        })
    else {
        return;
    };
    let request_id = text("request_id").map(str::to_owned);
    let Ok(kind) = ops_schemas::lookup(op_type) else {
        return;
    };
    let Ok(op) = kind.parse(body.clone()) else {
        return;
    };
    let Ok(priority) = priority.parse::<Priority>() else {
        return;
    };
    let targets = op.targets();
    // Counted only for inputs that reach the store: the ones refused above never touch it.
    let before = db.count("cluster_operations").await;
    let partial_before = db.partial_op_rows().await;
    let request = EnqueueRequest {
        priority,
        tasks,
        depends_on: Vec::new(),
        runs_after: Vec::new(),
        request_id,
    };
    let new_op_without_targets = match op.enqueue(store, request).await {
        Ok(id) => {
            let record = store
                .op_record(id)
                .await
                .expect("read the op back")
                .expect("an accepted op is stored");
            let mut stored: Vec<(String, String)> = record
                .targets
                .iter()
                .map(|row| (row.object_type.clone(), row.uuid.clone()))
                .collect();
            let mut expected: Vec<(String, String)> = targets
                .iter()
                .map(|target| (target.object_type.to_string(), target.uuid.to_string()))
                .collect();
            stored.sort();
            expected.sort();
            assert_eq!(stored, expected, "{}", String::from_utf8_lossy(data));
            let after = db.count("cluster_operations").await;
            if after == before {
                // Coalesced (net_op's enqueue-side dedup): the id is that of a queued op of the same type
                // doing the same work, whose newest event records the reuse.
                let reuse = record
                    .events
                    .last()
                    .and_then(|event| event.extra.get("requested_op_uuid"));
                assert!(
                    record.op_type == op_type
                        && record.state == Some(ops_core::OpState::Queued)
                        && reuse.is_some(),
                    "an accepted op added no row and is no coalesced one: {}",
                    String::from_utf8_lossy(data)
                );
                false
            } else {
                assert_eq!(after, before + 1, "{}", String::from_utf8_lossy(data));
                targets.is_empty()
            }
        }
        Err(_) => {
            assert_eq!(
                db.count("cluster_operations").await,
                before,
                "a refused enqueue wrote an op: {}",
                String::from_utf8_lossy(data)
            );
            false
        }
    };
    // Nothing partial appears; a new op that names no target (an artifact fetch for no instance and no
    // artifact) is a header without target rows, and whole.
    let expected = PartialOpRows {
        headers_without_targets: partial_before.headers_without_targets
            + i64::from(new_op_without_targets),
        ..partial_before
    };
    assert_eq!(
        db.partial_op_rows().await,
        expected,
        "{}",
        String::from_utf8_lossy(data)
    );
}
