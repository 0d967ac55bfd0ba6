//! The derive's promise as a property, on every backend: for random values of each of the 14 Shaken Fist
//! operations and of the trybuild pass files' operations, the target rows an enqueue stores are exactly the
//! ids found in the op's JSON under its `#[target]` fields, every other id in it is linked to the audit
//! event as context, and (for the 14, by their schemas' `x-object-type`) no id sits outside a `#[target]` or
//! `#[context]` field.
//!
//! The expectations are computed from the serialised JSON, by a walk that shares nothing with the derive's
//! generated `targets()` and `context()`.

// Each pass file is a crate of its own under trybuild and declares the shared task module; included here
// side by side, that module is loaded twice, harmlessly (two distinct task enums).
#![allow(clippy::duplicate_mod)]

use std::collections::BTreeSet;

use ops_core::{ArtifactId, ClusterOperation, InstanceId, NetworkId, NodeId, Priority, Store};
use ops_schemas::{EnqueueRequest, OPS, OpKind};
use ops_testkit::{Backend, TestDb, check_property};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Map, Value};
use uuid::Uuid;

#[allow(dead_code, unreachable_pub)]
#[path = "../../ops-derive/tests/pass/field-forms.rs"]
mod field_forms;

#[allow(dead_code, unreachable_pub)]
#[path = "../../ops-derive/tests/pass/container-forms.rs"]
mod container_forms;

/// An object as stored: its type and uuid.
type Object = (String, Uuid);

/// One case: which op, and the ids to put in it.
#[derive(Clone, Debug)]
struct Case {
    /// An index into the 14 registered ops, then the two pass-file ops.
    op: usize,
    /// The uuids to draw from, few so that one id recurs in several fields and collections.
    pool: Vec<u128>,
    /// For each uuid in the fixture, in order, which of the pool replaces it.
    picks: Vec<usize>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        0..OPS.len() + 2,
        prop::collection::vec(any::<u128>(), 1..5),
        prop::collection::vec(any::<usize>(), 8),
    )
        .prop_map(|(op, pool, picks)| Case { op, pool, picks })
}

fn fixture_body(name: &str) -> Map<String, Value> {
    let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut wire: Map<String, Value> = serde_json::from_str(&text).unwrap();
    for key in ops_core::HEADER_KEYS {
        wire.remove(key);
    }
    wire
}

/// The `seen`-th replacement uuid of a case.
fn next_id(case: &Case, seen: &mut usize) -> String {
    let pick = case.picks[*seen % case.picks.len()] % case.pool.len();
    *seen += 1;
    Uuid::from_u128(case.pool[pick]).to_string()
}

/// Replaces every uuid string in `value` (values and map keys) with one from the pool.
fn remap(value: &mut Value, case: &Case, seen: &mut usize) {
    match value {
        Value::String(text) if Uuid::parse_str(text).is_ok() => *text = next_id(case, seen),
        Value::Array(items) => items.iter_mut().for_each(|item| remap(item, case, seen)),
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (key, mut item) in entries {
                remap(&mut item, case, seen);
                let key = if Uuid::parse_str(&key).is_ok() {
                    next_id(case, seen)
                } else {
                    key
                };
                map.insert(key, item);
            }
        }
        _ => {}
    }
}

/// Every uuid in a JSON value, in keys and values.
fn uuids(value: &Value, out: &mut BTreeSet<Uuid>) {
    match value {
        Value::String(text) => out.extend(Uuid::parse_str(text).ok()),
        Value::Array(items) => items.iter().for_each(|item| uuids(item, out)),
        Value::Object(map) => {
            for (key, item) in map {
                out.extend(Uuid::parse_str(key).ok());
                uuids(item, out);
            }
        }
        _ => {}
    }
}

/// The uuids of a value, sorted by what its schema says of each.
#[derive(Default)]
struct Found {
    /// Typed by `x-object-type`: object ids.
    typed: BTreeSet<Object>,
    /// `format: uuid` without an object type (an op id, an untyped `Uuid`).
    untyped: BTreeSet<Uuid>,
    /// Inside raw JSON the schema does not describe (`serde_json::Value`, a free-form map): plain by design.
    raw: BTreeSet<Uuid>,
}

/// Walks a value beside its schema: `$ref`, properties, additional properties, items and `anyOf`/`oneOf`
/// alternatives other than `null`.
fn walk(schema: &Value, root: &Value, value: &Value, found: &mut Found) {
    let schema = match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => &root["$defs"][reference.trim_start_matches("#/$defs/")],
        None => schema,
    };
    let alternatives: Vec<&Value> = ["anyOf", "oneOf", "allOf"]
        .iter()
        .filter_map(|key| schema.get(*key).and_then(Value::as_array))
        .flatten()
        .filter(|sub| sub.get("type") != Some(&Value::from("null")))
        .collect();
    if !alternatives.is_empty() {
        return alternatives
            .into_iter()
            .for_each(|sub| walk(sub, root, value, found));
    }
    match value {
        Value::String(text) => {
            let Ok(uuid) = Uuid::parse_str(text) else {
                return;
            };
            if let Some(object_type) = schema.get("x-object-type").and_then(Value::as_str) {
                found.typed.insert((object_type.to_owned(), uuid));
            } else if schema.get("format") == Some(&Value::from("uuid")) {
                found.untyped.insert(uuid);
            } else {
                found.raw.insert(uuid);
            }
        }
        Value::Array(items) => match schema.get("items") {
            Some(sub) => items.iter().for_each(|item| walk(sub, root, item, found)),
            None => uuids(value, &mut found.raw),
        },
        Value::Object(map) => {
            for (key, item) in map {
                found.raw.extend(Uuid::parse_str(key).ok());
                match schema.get("properties").and_then(|p| p.get(key)) {
                    Some(sub) => walk(sub, root, item, found),
                    None => match schema.get("additionalProperties") {
                        Some(sub) if sub.is_object() => walk(sub, root, item, found),
                        _ => uuids(item, &mut found.raw),
                    },
                }
            }
        }
        _ => {}
    }
}

/// What the store holds for op `id`: its target rows and the objects its audit event links, without itself.
async fn stored(db: &TestDb, id: &str) -> (BTreeSet<Object>, BTreeSet<Object>) {
    let objects = |query: String| async move {
        db.strings(&query)
            .await
            .into_iter()
            .flatten()
            .map(|row| {
                let (object_type, uuid) = row.split_once(':').unwrap();
                (object_type.to_owned(), Uuid::parse_str(uuid).unwrap())
            })
            .collect::<BTreeSet<Object>>()
    };
    // sqlx turns on PIPES_AS_CONCAT on MariaDB, so `||` concatenates on every backend.
    let targets = objects(format!(
        "SELECT target_object_type || ':' || target_uuid FROM cluster_operation_targets WHERE operation_uuid = '{id}'"
    ))
    .await;
    let linked = objects(format!(
        "SELECT object_type || ':' || object_uuid FROM event_objects WHERE object_uuid <> '{id}' AND event_uuid IN \
         (SELECT event_uuid FROM event_objects WHERE object_uuid = '{id}')"
    ))
    .await;
    (targets, linked)
}

/// A registered op from its fixture with the case's ids: the stored rows against the schema's typed ids.
async fn registered_op(
    db: &TestDb,
    store: &Store,
    kind: &OpKind,
    case: &Case,
) -> Result<(), TestCaseError> {
    let mut body = Value::Object(fixture_body(kind.name));
    remap(&mut body, case, &mut 0);
    let op = kind.parse(body.clone()).unwrap();
    let request = EnqueueRequest {
        priority: Priority::Background,
        tasks: vec![(kind.task_names)()[0].to_owned()],
        depends_on: vec![],
        runs_after: vec![],
        request_id: None,
    };
    let id = op.enqueue(store, request).await.unwrap().to_string();
    let schema = (kind.schema)();
    let mut expected_targets = BTreeSet::new();
    let mut expected_context = BTreeSet::new();
    let mut walked = BTreeSet::new();
    for (field, value) in body.as_object().unwrap() {
        let mut found = Found::default();
        walk(&schema["properties"][field], &schema, value, &mut found);
        prop_assert!(
            found.untyped.is_empty(),
            "{}: `{field}` holds untyped uuids",
            kind.name
        );
        walked.extend(found.raw);
        walked.extend(found.typed.iter().map(|(_, uuid)| *uuid));
        let ids = found.typed;
        if let Some((_, object_type)) = kind.targets.iter().find(|(name, _)| name == field) {
            prop_assert!(
                ids.iter().all(|(t, _)| t == object_type.as_str()),
                "{}: {field}",
                kind.name
            );
            expected_targets.extend(ids);
        } else {
            prop_assert!(
                ids.is_empty() || kind.context.contains(&field.as_str()),
                "{}: field `{field}` holds {ids:?} but is neither a target nor context",
                kind.name
            );
            expected_context.extend(ids);
        }
    }
    // The walk met every uuid of the body: each was typed by the schema, or sits in raw JSON.
    let mut all = BTreeSet::new();
    uuids(&body, &mut all);
    prop_assert_eq!(&all, &walked, "{}", kind.name);

    let (targets, linked) = stored(db, &id).await;
    prop_assert_eq!(&targets, &expected_targets, "{}", kind.name);
    let expected_links: BTreeSet<Object> =
        expected_targets.union(&expected_context).cloned().collect();
    prop_assert_eq!(&linked, &expected_links, "{}", kind.name);
    Ok(())
}

/// A pass-file op with fresh ids: the stored rows against the uuids under each field of its JSON.
async fn pass_file_op<Op: ClusterOperation>(
    db: &TestDb,
    store: &Store,
    op: Op,
    task: Op::Task,
) -> Result<(), TestCaseError> {
    let body = serde_json::to_value(&op).unwrap();
    let id = ops_core::__private::enqueue(store, op)
        .priority(Priority::Background)
        .task(task)
        .await
        .unwrap()
        .to_string();
    let mut expected_targets = BTreeSet::new();
    let mut everything = BTreeSet::new();
    for (field, value) in body.as_object().unwrap() {
        let mut ids = BTreeSet::new();
        uuids(value, &mut ids);
        if let Some((_, object_type)) = Op::TARGET_FIELDS.iter().find(|(name, _)| name == field) {
            expected_targets.extend(
                ids.iter()
                    .map(|uuid| (object_type.as_str().to_owned(), *uuid)),
            );
        }
        everything.extend(ids);
    }
    let (targets, linked) = stored(db, &id).await;
    prop_assert_eq!(&targets, &expected_targets, "{}", Op::OP_TYPE);
    let linked: BTreeSet<Uuid> = linked.into_iter().map(|(_, uuid)| uuid).collect();
    prop_assert_eq!(&linked, &everything, "{}", Op::OP_TYPE);
    Ok(())
}

async fn run_case(db: &TestDb, store: &Store, case: Case) -> Result<(), TestCaseError> {
    let fresh = |_| Uuid::new_v4();
    match case.op.checked_sub(OPS.len()) {
        None => registered_op(db, store, &OPS[case.op], &case).await,
        Some(0) => {
            let op = field_forms::everything_op(
                NodeId::from_uuid(fresh(0)),
                NodeId::from_uuid(fresh(1)),
                NetworkId::from_uuid(fresh(2)),
                ArtifactId::from_uuid(fresh(3)),
            );
            pass_file_op(db, store, op, field_forms::Task::Run).await
        }
        Some(_) => {
            let op = container_forms::forms_op(
                &std::array::from_fn(|_| NetworkId::new_v4()),
                &std::array::from_fn(|_| InstanceId::new_v4()),
                &std::array::from_fn(|_| NodeId::new_v4()),
            );
            pass_file_op(db, store, op, container_forms::Task::Run).await
        }
    }
}

#[test]
fn sqlite_stores_exactly_the_declared_targets() {
    check_property(Backend::Sqlite, 96, case(), run_case);
}

#[test]
fn mariadb_stores_exactly_the_declared_targets() {
    check_property(Backend::MariaDb, 48, case(), run_case);
}

#[test]
fn postgres_stores_exactly_the_declared_targets() {
    check_property(Backend::Postgres, 48, case(), run_case);
}
