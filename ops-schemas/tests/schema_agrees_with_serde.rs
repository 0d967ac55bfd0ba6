//! Random op bodies judged twice: by serde, as the store decodes them into the typed struct, and by the
//! op's published JSON Schema, as an API consumer validates them. The two must agree: otherwise a body a
//! consumer's validator passes is refused, or one it refuses is stored.

mod agreement;

use ops_schemas::OPS;
use proptest::prelude::*;
use serde_json::{Value, json};

/// Values chosen to sit on the edges of what the op types' fields accept.
fn edge_value() -> impl Strategy<Value = Value> {
    let uuid = "5a3bd8c4-1e1f-4c55-9d3b-7d0f1c2b8a11";
    prop_oneof![
        Just(Value::Null),
        Just(json!(true)),
        Just(json!(42)),
        Just(json!(-1)),
        Just(json!(1.5)),
        Just(json!(4_294_967_296_u64)),
        Just(json!("")),
        Just(json!("x")),
        Just(json!(uuid)),
        Just(json!(uuid.to_uppercase())),
        Just(json!(uuid.replace('-', ""))),
        Just(json!(format!("{{{uuid}}}"))),
        Just(json!("not-a-uuid")),
        Just(json!("a\u{0}b")),
        Just(json!("y".repeat(300))),
        Just(json!("192.168.20.16")),
        Just(json!("fe80::1")),
        Just(json!("02:00:00:aa:bb:cc")),
        Just(json!("https://images.example.org/debian-12.qcow2")),
        Just(json!("https://i``mag.example/x")),
        Just(json!([])),
        Just(json!([uuid])),
        Just(json!([uuid, 7])),
        Just(json!({})),
        Just(json!({"a": 1})),
    ]
}

/// What to do to one field: remove it, or set it (a field of the fixture, or a new one) to a value.
#[derive(Clone, Debug)]
enum Change {
    Remove(usize),
    Set(usize, Value),
    Add(Value),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        (0..16_usize).prop_map(Change::Remove),
        (0..16_usize, edge_value()).prop_map(|(field, value)| Change::Set(field, value)),
        edge_value().prop_map(Change::Add),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn serde_and_the_schema_agree_on_random_bodies(
        op in 0..OPS.len(),
        changes in prop::collection::vec(change(), 1..4),
    ) {
        let mut payload = agreement::fixture(OPS[op].name);
        let body_fields: Vec<String> = payload
            .keys()
            .filter(|key| !ops_core::HEADER_KEYS.contains(&key.as_str()))
            .cloned()
            .collect();
        for change in &changes {
            match change {
                Change::Remove(field) => {
                    payload.remove(&body_fields[field % body_fields.len()]);
                }
                Change::Set(field, value) => {
                    payload.insert(body_fields[field % body_fields.len()].clone(), value.clone());
                }
                Change::Add(value) => {
                    payload.insert("unexpected".to_owned(), value.clone());
                }
            }
        }
        let (serde, schema) = agreement::verdicts(op, &payload);
        prop_assert_eq!(
            serde.is_ok(),
            schema.is_ok(),
            "{}: serde says {:?}, the schema says {:?}, for {}",
            OPS[op].name,
            serde,
            schema,
            Value::Object(payload.clone())
        );
    }
}

/// Pieces of URIs and of near misses: the delimiters, bracketed hosts, percent-encodings sound and broken,
/// and characters the WHATWG parser takes but RFC 3986 does not.
fn uri_piece() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "http", "sf", "a", "1", "+", ":", "//", "/", "?", "#", "@", "[", "]", "%", "%2F", "%g1",
        "::", "fe80", "ffff", "v7", "V", ".", "1.2.3.4", "01.2.3.4", "256", "80", "`", " ", "\\",
        "é", "!", "~", "-", "_", "x", "0", "{", "|",
    ])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn serde_and_the_uri_format_agree_on_random_urls(
        pieces in prop::collection::vec(uri_piece(), 0..12),
    ) {
        let op = OPS.iter().position(|op| op.name == "artifact_fetch_op").expect("artifact_fetch_op");
        let mut payload = agreement::fixture(OPS[op].name);
        let url = pieces.concat();
        payload.insert("url".to_owned(), json!(url));
        let (serde, schema) = agreement::verdicts(op, &payload);
        prop_assert_eq!(serde.is_ok(), schema.is_ok(), "url {:?}: serde says {:?}, the schema says {:?}", url, serde, schema);
    }
}
