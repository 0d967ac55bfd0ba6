//! Abuse, bounded, on every backend: oversized bodies, malformed JSON, bad uuids and SQL in parameters
//! each get their status in Shaken Fist's error shape, and write nothing. (Forged, expired and `alg: none`
//! tokens are in `auth.rs`.)

mod support;

use ops_testkit::backend_tests;
use serde_json::json;
use support::{Running, get_as, network_of, serve, token_for};

/// The row count of every table a request could write.
async fn counts(db: &ops_testkit::TestDb) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in [
        "cluster_operations",
        "cluster_operation_targets",
        "object_states",
        "work_queue",
        "events",
        "namespaces",
        "namespace_keys",
        "networks",
    ] {
        counts.push(db.count(table).await);
    }
    counts
}

async fn send(
    server: &Running,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Vec<u8>,
) -> (u16, serde_json::Value) {
    let response = reqwest::Client::new()
        .request(method, server.url(path))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("an answer");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

backend_tests! {
    async fn bad_requests_get_their_status_and_write_nothing(db: &TestDb) {
        let store = db.migrated_store().await;
        let server = serve(store.clone()).await;
        let network = network_of(&store, "team-a").await;
        let token = token_for(&server, &store, "team-a", "writer").await;
        let before = counts(db).await;

        let huge = vec![b' '; 2 * 1024 * 1024];
        for (method, path) in [
            (reqwest::Method::POST, "/auth".to_owned()),
            (reqwest::Method::GET, "/clusteroperations".to_owned()),
            (reqwest::Method::DELETE, "/networks".to_owned()),
        ] {
            let (status, body) = send(&server, method.clone(), &path, &token, huge.clone()).await;
            assert_eq!((status, body["status"].as_u64()), (413, Some(413)), "{method} {path}: {body}");
            assert!(body["error"].as_str().is_some_and(|e| e.contains("length limit")), "{body}");
        }
        for (method, path, body) in [
            (reqwest::Method::POST, "/auth", b"{\"namespace\": ".to_vec()),
            (reqwest::Method::GET, "/clusteroperations", b"[1, 2".to_vec()),
            (reqwest::Method::DELETE, "/networks", b"not json".to_vec()),
        ] {
            let (status, answer) = send(&server, method.clone(), path, &token, body).await;
            assert_eq!((status, answer["status"].as_u64()), (400, Some(400)), "{method} {path}: {answer}");
        }
        let injected = "' OR '1'='1' --";
        let cases = [
            (format!("/clusteroperations?target_object_type=network&target_uuid={injected}"), 400),
            (format!("/clusteroperations?target_object_type={injected}&target_uuid={network}"), 400),
            (format!("/clusteroperations/net_op/{injected}"), 404),
            ("/clusteroperations/net_op';DROP TABLE cluster_operations;--/x".to_owned(), 404),
            (format!("/networks/{injected}/clusteroperations"), 404),
            (format!("/networks/{injected}"), 404),
        ];
        for (path, status) in cases {
            let (got, body) = get_as(&server, &token, &path).await;
            assert_eq!((got, body["status"].as_u64()), (status, Some(u64::from(status))), "{path}: {body}");
        }
        let (status, _) = send(&server, reqwest::Method::DELETE, &format!("/networks/{injected}"), &token, Vec::new()).await;
        assert_eq!(status, 404);
        let (status, body) = send(
            &server,
            reqwest::Method::POST,
            "/auth",
            &token,
            json!({"namespace": injected, "key": injected}).to_string().into_bytes(),
        )
        .await;
        assert_eq!((status, body["error"].as_str()), (404, Some("namespace not found")));
        assert_eq!(counts(db).await, before, "a refused request wrote rows");
        // The server still answers, and the network is still there.
        assert_eq!(get_as(&server, &token, &format!("/networks/{network}")).await.0, 200);
    }
}
