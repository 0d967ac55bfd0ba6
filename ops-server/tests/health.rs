//! The health endpoints and the error shape, on every backend: `/livez` answers while the process runs,
//! `/readyz` and `/healthz` only while the database answers at this build's schema; an unknown path or
//! method gets Shaken Fist's `{"error", "status"}`; every answer carries an `X-Request-ID`.

mod support;

use ops_testkit::backend_tests;
use serde_json::json;
use support::{get_json, serve};

backend_tests! {
    async fn a_migrated_store_is_live_and_ready(db: &TestDb) {
        let server = serve(db.migrated_store().await).await;
        assert_eq!(get_json(&server.url("/livez")).await, (200, json!({"status": "ok"})));
        let latest = db.store().await.schema_version().await.unwrap().latest;
        for path in ["/readyz", "/healthz"] {
            assert_eq!(get_json(&server.url(path)).await, (200, json!({"status": "ok", "schema_version": latest})), "{path}");
        }
        server.stop().await.unwrap();
    }

    async fn a_store_without_the_schema_is_live_but_not_ready(db: &TestDb) {
        let server = serve(db.store().await).await;
        assert_eq!(get_json(&server.url("/livez")).await.0, 200);
        let expected = json!({"error": "the database has no ops schema; run `opsctl migrate` first", "status": 503});
        assert_eq!(get_json(&server.url("/readyz")).await, (503, expected));
    }

    async fn a_store_behind_the_schema_is_not_ready(db: &TestDb) {
        let store = db.store().await;
        store.migrate_to(11).await.unwrap();
        let server = serve(store).await;
        let (status, body) = get_json(&server.url("/healthz")).await;
        assert_eq!(status, 503);
        assert_eq!(body["error"], "the database schema is at version 11 but this build needs 12; run `opsctl migrate`");
    }

    async fn a_closed_store_is_live_but_not_ready(db: &TestDb) {
        let store = db.migrated_store().await;
        let server = serve(store.clone()).await;
        store.close().await;
        assert_eq!(get_json(&server.url("/livez")).await.0, 200);
        let (status, body) = get_json(&server.url("/readyz")).await;
        assert_eq!(status, 503, "{body}");
    }
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_in_shaken_fists_shape() {
    let store = ops_core::Store::connect("sqlite::memory:").await.unwrap();
    let server = serve(store).await;
    assert_eq!(
        get_json(&server.url("/no/such/path")).await,
        (404, json!({"error": "not found", "status": 404}))
    );
    let response = reqwest::Client::new()
        .post(server.url("/livez"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap(),
        json!({"error": "method not allowed", "status": 405})
    );
}

#[tokio::test]
async fn every_answer_carries_a_request_id_and_keeps_the_callers() {
    let store = ops_core::Store::connect("sqlite::memory:").await.unwrap();
    let server = serve(store).await;
    let client = reqwest::Client::new();
    let mut seen = Vec::new();
    for path in ["/livez", "/no/such/path"] {
        let response = client.get(server.url(path)).send().await.unwrap();
        let id = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{path}: {id}");
        seen.push(id);
    }
    assert_ne!(seen[0], seen[1]);
    let response = client
        .get(server.url("/livez"))
        .header("x-request-id", "req-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "req-42");
}

#[tokio::test]
async fn a_stopped_server_answers_no_more() {
    let store = ops_core::Store::connect("sqlite::memory:").await.unwrap();
    let server = serve(store).await;
    let live = server.url("/livez");
    assert_eq!(get_json(&live).await.0, 200);
    server.stop().await.unwrap();
    assert!(
        reqwest::get(&live).await.is_err(),
        "still answering after it stopped"
    );
}
