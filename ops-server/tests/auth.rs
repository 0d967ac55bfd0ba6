//! `POST /auth`, bearer tokens and the capabilities page, on every backend: a namespace's key gets a
//! token bound to that key; refusals answer Shaken Fist's statuses; a deleted or replaced key ends its
//! tokens; forged, expired and `alg: none` tokens are refused; attempts are limited per address.

mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ops_server::tokens::Claims;
use ops_testkit::backend_tests;
use serde_json::json;
use support::{auth, get_as, issuer, key_for, serve, serve_with, token_for};

/// A path every authenticated caller reaches: an op that does not exist, so 404 once the token passes.
const AUTHENTICATED: &str = "/clusteroperations/net_op/00000000-0000-4000-8000-000000000000";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs()
}

backend_tests! {
    async fn a_key_gets_a_token_bound_to_it(db: &TestDb) {
        let store = db.migrated_store().await;
        let server = serve(store.clone()).await;
        let key = key_for(&store, "team-a", "deploy").await;
        let (status, body) = auth(&server, json!({"namespace": "team-a", "key": key})).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!((body["token_type"].as_str(), body["expires_in"].as_u64()), (Some("Bearer"), Some(900)));
        let claims = issuer().verify(body["access_token"].as_str().unwrap(), SystemTime::now()).unwrap();
        assert_eq!(claims.subject(), Some(("team-a", "deploy")));
        assert_eq!(claims.nonce, store.namespace_key("team-a", "deploy").await.unwrap().unwrap().nonce);
        assert_eq!(get_as(&server, body["access_token"].as_str().unwrap(), AUTHENTICATED).await.0, 404);
    }

    async fn refused_authentications_answer_shaken_fists_statuses(db: &TestDb) {
        let store = db.migrated_store().await;
        let server = serve(store.clone()).await;
        let key = key_for(&store, "team-a", "deploy").await;
        key_for(&store, "team-b", "deploy").await;
        let cases = [
            (json!({"key": key}), 400, "missing namespace in request"),
            (json!({"namespace": "team-a"}), 400, "missing key in request"),
            (json!({"namespace": "team-a", "key": 42}), 400, "key must be a non-empty string"),
            (json!({"namespace": "team-z", "key": key}), 404, "namespace not found"),
            (json!({"namespace": "team-a", "key": "not-the-key"}), 401, "the key is not one of the namespace's keys"),
            (json!({"namespace": "team-b", "key": key}), 401, "the key is not one of the namespace's keys"),
        ];
        for (body, status, message) in cases {
            assert_eq!(auth(&server, body.clone()).await, (status, json!({"error": message, "status": status})), "{body}");
        }
        let not_json = reqwest::Client::new().post(server.url("/auth")).body("namespace=team-a").send().await.unwrap();
        assert_eq!(not_json.status().as_u16(), 400);
        assert_eq!(not_json.json::<serde_json::Value>().await.unwrap()["error"], "the request body is not JSON");
    }

    async fn a_deleted_or_replaced_key_ends_its_tokens(db: &TestDb) {
        let store = db.migrated_store().await;
        let server = serve(store.clone()).await;
        let token = token_for(&server, &store, "team-a", "deploy").await;
        assert_eq!(get_as(&server, &token, AUTHENTICATED).await.0, 404);
        let replaced = ops_server::keys::issue_with_cost("team-a", "deploy", 4).unwrap();
        store.replace_namespace_key(&replaced.stored).await.unwrap();
        let ended = json!({"error": "the token's key was deleted or replaced; authenticate again", "status": 401});
        assert_eq!(get_as(&server, &token, AUTHENTICATED).await, (401, ended.clone()));

        let (_, body) = auth(&server, json!({"namespace": "team-a", "key": replaced.key})).await;
        let token = body["access_token"].as_str().unwrap().to_owned();
        assert_eq!(get_as(&server, &token, AUTHENTICATED).await.0, 404);
        store.delete_namespace_key("team-a", "deploy").await.unwrap();
        assert_eq!(get_as(&server, &token, AUTHENTICATED).await, (401, ended));
    }

    async fn forged_expired_and_missing_tokens_are_refused(db: &TestDb) {
        let store = db.migrated_store().await;
        let server = serve(store.clone()).await;
        key_for(&store, "system", "admin").await;
        let nonce = store.namespace_key("system", "admin").await.unwrap().unwrap().nonce;
        let claims = |iat: u64, exp: u64| Claims {
            sub: "system:admin".to_owned(),
            iss: "ops-server".to_owned(),
            nonce: nonce.clone(),
            iat,
            nbf: iat,
            exp,
            scopes: None,
        };
        let valid = issuer().sign(&claims(now(), now() + 60));
        assert_eq!(get_as(&server, &valid, AUTHENTICATED).await.0, 404, "the valid token");
        let expired = issuer().sign(&claims(now() - 1_000, now() - 100));
        let payload = valid.split('.').nth(1).unwrap();
        let unsigned = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
        let other = ops_server::tokens::TokenIssuer::new(
            ops_server::tokens::TokenSecret::new([9_u8; 32].to_vec()).unwrap(),
            "ops-server",
            Duration::from_secs(60),
        )
        .sign(&claims(now(), now() + 60));
        for (token, message) in [
            (expired.as_str(), "token has expired"),
            (unsigned.as_str(), "token algorithm `none` is not accepted; only HS256 is"),
            (other.as_str(), "token signature verification failed"),
            ("garbage", "malformed token"),
        ] {
            assert_eq!(get_as(&server, token, AUTHENTICATED).await, (401, json!({"error": message, "status": 401})), "{token}");
        }
        let client = reqwest::Client::new();
        let none = client.get(server.url(AUTHENTICATED)).send().await.unwrap();
        assert_eq!((none.status().as_u16(), none.json::<serde_json::Value>().await.unwrap()["error"].clone()), (401, json!("missing authorization header")));
        let basic = client.get(server.url(AUTHENTICATED)).header("authorization", "Basic c3lzdGVtOmtleQ==").send().await.unwrap();
        assert_eq!(basic.json::<serde_json::Value>().await.unwrap()["error"], "the authorization header is not `Bearer <token>`");
    }

    async fn authentication_attempts_are_limited_per_address(db: &TestDb) {
        let store = db.migrated_store().await;
        let mut options = ops_server::ServerOptions::default();
        options.auth_rate = ops_server::AuthRate { burst: 2, every: Duration::from_secs(60) };
        let server = serve_with(store.clone(), options).await;
        let key = key_for(&store, "team-a", "deploy").await;
        assert_eq!(auth(&server, json!({"namespace": "team-a", "key": "wrong"})).await.0, 401);
        assert_eq!(auth(&server, json!({"namespace": "team-a", "key": key})).await.0, 200);
        let limited = reqwest::Client::new().post(server.url("/auth")).json(&json!({"namespace": "team-a", "key": key})).send().await.unwrap();
        assert_eq!(limited.status().as_u16(), 429);
        assert_eq!(limited.headers()["retry-after"], "60");
        assert_eq!(
            limited.json::<serde_json::Value>().await.unwrap(),
            json!({"error": "too many authentication attempts; retry later", "status": 429})
        );
    }
}

#[tokio::test]
async fn the_capabilities_page_is_public_and_lists_each_served_capability() {
    let store = ops_core::Store::connect("sqlite::memory:").await.unwrap();
    let server = serve(store).await;
    let response = reqwest::get(server.url("/")).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = response.text().await.unwrap();
    assert!(
        page.contains("<li>cluster-operations: get-cluster-operations, cluster-operation-chain, cluster-operations-by-target</li>"),
        "{page}"
    );
    for served in [
        "scope-enforcement",
        "artifact-clusteroperations",
        "instance-clusteroperations",
        "network-clusteroperations",
        "object-pending-operations",
        "network-delete-async",
        "operation-schemas",
    ] {
        assert!(page.contains(served), "{served} not advertised: {page}");
    }
}
