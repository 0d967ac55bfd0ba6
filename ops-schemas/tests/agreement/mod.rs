//! One judgement, shared by the property test, the fuzz target (`fuzz/fuzz_targets/op_body.rs`) and the
//! replay of the fuzz corpus: an op body judged by serde, as the store decodes it into the typed struct,
//! and by the op's published JSON Schema, as an API consumer validates it (formats checked, as the spec
//! allows). Serde must never panic, and the two must agree.

#![allow(dead_code)]

use std::sync::OnceLock;

use ops_schemas::OPS;
use ops_schemas::registry::OpKind;
use serde_json::{Map, Value};

/// A real stored payload of `op_type`, header and body: `ops-schemas/tests/fixtures/<op_type>.json`, built
/// in, so the fuzz target (another crate, elsewhere) reads the same ones.
pub fn fixture(op_type: &str) -> Map<String, Value> {
    let text = match op_type {
        "artifact_fetch_op" => include_str!("../fixtures/artifact_fetch_op.json"),
        "imgcache_op" => include_str!("../fixtures/imgcache_op.json"),
        "net_iface_ip_op" => include_str!("../fixtures/net_iface_ip_op.json"),
        "net_iface_op" => include_str!("../fixtures/net_iface_op.json"),
        "net_ip_op" => include_str!("../fixtures/net_ip_op.json"),
        "net_macaddr_ip_op" => include_str!("../fixtures/net_macaddr_ip_op.json"),
        "net_op" => include_str!("../fixtures/net_op.json"),
        "node_aop_op" => include_str!("../fixtures/node_aop_op.json"),
        "node_blob_op" => include_str!("../fixtures/node_blob_op.json"),
        "node_inst_net_iface_op" => include_str!("../fixtures/node_inst_net_iface_op.json"),
        "node_inst_netdesc_op" => include_str!("../fixtures/node_inst_netdesc_op.json"),
        "node_inst_op" => include_str!("../fixtures/node_inst_op.json"),
        "node_inst_snap_op" => include_str!("../fixtures/node_inst_snap_op.json"),
        "node_net_op" => include_str!("../fixtures/node_net_op.json"),
        other => panic!("no fixture for `{other}`"),
    };
    match serde_json::from_str(text).expect("fixture json") {
        Value::Object(payload) => payload,
        _ => panic!("the fixture of {op_type} is not an object"),
    }
}

/// Each op type's schema validator, built once.
fn validators() -> &'static [jsonschema::Validator] {
    static VALIDATORS: OnceLock<Vec<jsonschema::Validator>> = OnceLock::new();
    VALIDATORS.get_or_init(|| {
        OPS.iter()
            .map(|op| {
                jsonschema::options()
                    .should_validate_formats(true)
                    .build(&(op.schema)())
                    .expect("a valid schema")
            })
            .collect()
    })
}

/// Serde's verdict and the schema's on `payload` (header and body) as an op of type `OPS[op]`.
pub fn verdicts(
    op: usize,
    payload: &Map<String, Value>,
) -> (Result<(), String>, Result<(), String>) {
    let kind: &OpKind = &OPS[op];
    let body: Map<String, Value> = payload
        .iter()
        .filter(|(key, _)| !ops_core::HEADER_KEYS.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    let serde = kind
        .parse(Value::Object(body))
        .map(|_| ())
        .map_err(|e| e.to_string());
    let schema = validators()[op]
        .validate(&Value::Object(payload.clone()))
        .map_err(|e| e.to_string());
    (serde, schema)
}

/// Panics unless serde and the schema agree on `payload` as an op of type `OPS[op]`.
pub fn assert_agree(op: usize, payload: &Map<String, Value>) {
    let (serde, schema) = verdicts(op, payload);
    assert_eq!(
        serde.is_ok(),
        schema.is_ok(),
        "{}: serde says {serde:?}, the schema says {schema:?}, for {}",
        OPS[op].name,
        Value::Object(payload.clone())
    );
}

/// What the fuzz target does with its bytes: a JSON object among them is taken as the body of every op
/// type, under that type's real header; serde and the schema must agree on each.
pub fn check_bytes(data: &[u8]) {
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    for (op, kind) in OPS.iter().enumerate() {
        let mut payload: Map<String, Value> = fixture(kind.name)
            .into_iter()
            .filter(|(key, _)| ops_core::HEADER_KEYS.contains(&key.as_str()))
            .collect();
        for (key, value) in &body {
            if !ops_core::HEADER_KEYS.contains(&key.as_str()) {
                payload.insert(key.clone(), value.clone());
            }
        }
        assert_agree(op, &payload);
    }
}
