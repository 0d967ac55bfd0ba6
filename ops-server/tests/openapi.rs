//! The OpenAPI document: committed as `ops-server/openapi.json` and served at `/openapi.json`, the same;
//! every path it lists is served; every `$ref` in it resolves. Regenerate the committed file with
//! `OPS_UPDATE_OPENAPI=1 cargo test -p ops-server --test openapi`, and review the diff.

mod support;

use std::path::Path;

use serde_json::Value;
use support::serve;

fn committed_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json")
}

fn rendered() -> String {
    let mut text = serde_json::to_string_pretty(&ops_server::openapi_document()).expect("JSON");
    text.push('\n');
    text
}

#[test]
fn the_committed_document_is_the_generated_one() {
    let rendered = rendered();
    if std::env::var_os("OPS_UPDATE_OPENAPI").is_some() {
        std::fs::write(committed_path(), &rendered).expect("write openapi.json");
    }
    let committed = std::fs::read_to_string(committed_path()).unwrap_or_default();
    assert!(
        committed == rendered,
        "ops-server/openapi.json is not what the server serves; run OPS_UPDATE_OPENAPI=1 cargo test -p ops-server --test openapi and review the diff"
    );
}

fn refs<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                match (key.as_str(), child) {
                    ("$ref", Value::String(target)) => found.push(target),
                    _ => refs(child, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| refs(item, found)),
        _ => {}
    }
}

#[test]
fn every_reference_resolves_and_the_operations_are_there() {
    let document = ops_server::openapi_document();
    assert_eq!(document["openapi"], "3.1.0");
    let schemas = document["components"]["schemas"]
        .as_object()
        .expect("schemas");
    for op in ops_schemas::OPS {
        assert!(schemas.contains_key(op.name), "{} missing", op.name);
        // A definition two ops share is the same in both, so one component serves them.
        let schema = (op.schema)();
        for (name, definition) in schema["$defs"].as_object().into_iter().flatten() {
            let beside = definition
                .to_string()
                .replace("#/$defs/", "#/components/schemas/");
            assert_eq!(schemas[name].to_string(), beside, "{}: {name}", op.name);
        }
    }
    let mut found = Vec::new();
    refs(&document, &mut found);
    assert!(found.len() > 20, "{found:?}");
    for target in found {
        let name = target
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{target} is not a component"));
        assert!(schemas.contains_key(name), "{target} does not resolve");
    }
    assert!(document["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn the_document_is_served_and_every_path_in_it_is_routed() {
    let store = ops_core::Store::connect("sqlite::memory:").await.unwrap();
    store.migrate().await.unwrap();
    let server = serve(store).await;
    let served: Value = reqwest::get(server.url("/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(served, ops_server::openapi_document());
    let client = reqwest::Client::new();
    let paths = served["paths"].as_object().expect("paths");
    assert_eq!(paths.len(), 18, "{:?}", paths.keys().collect::<Vec<_>>());
    for (path, methods) in paths {
        let concrete = path
            .replace("{operation_type}", "net_op")
            .replace("{operation_uuid}", "00000000-0000-4000-8000-000000000000")
            .replace("{reference}", "00000000-0000-4000-8000-000000000000");
        for method in methods.as_object().expect("methods").keys() {
            let method: reqwest::Method = method.to_uppercase().parse().expect("a method");
            let response = client
                .request(method.clone(), server.url(&concrete))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body = response.text().await.unwrap();
            // The fallback's answers: a path or a method the router does not serve.
            assert!(
                !(status == 404 && body.contains("\"not found\"")),
                "{method} {path} is not routed"
            );
            assert_ne!(status, 405, "{method} {path} is not routed");
        }
    }
}
