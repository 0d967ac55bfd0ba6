//! `GET /clusteroperations/<type>/<uuid>` on every backend: the op's external view, Shaken Fist's 404s,
//! the namespace rules (system sees all; another namespace only ops whose every target is its own) and
//! the `clusteroperation.read` scope.

mod support;

use ops_core::{NetworkId, OpId, Store};
use ops_schemas::ops::NetTask;
use ops_testkit::backend_tests;
use serde_json::json;
use support::{get_as, net_op, network_of, scoped_token, serve, token_for};

/// A network of `namespace` (registered when given) and a queued `net_op` on it.
async fn op_on_network(store: &Store, namespace: Option<&str>) -> (NetworkId, OpId) {
    let network = match namespace {
        Some(namespace) => network_of(store, namespace).await,
        None => NetworkId::new_v4(),
    };
    (
        network,
        net_op(store, network, NetTask::NetworkDeploy, &[]).await,
    )
}

/// A queued `net_op` on `network` that depends on `depends_on`.
async fn op_after(store: &Store, network: NetworkId, depends_on: &[OpId]) -> OpId {
    net_op(store, network, NetTask::NetworkUpdateDnsmasq, depends_on).await
}

/// The `uuid`s of a JSON list of op views, in order.
fn uuids(views: &serde_json::Value) -> Vec<String> {
    views
        .as_array()
        .expect("a list")
        .iter()
        .map(|view| view["uuid"].as_str().expect("a uuid").to_owned())
        .collect()
}

backend_tests! {
    async fn an_op_is_shown_as_shaken_fists_external_view(db: &TestDb) {
        let store = db.migrated_store().await;
        let server = serve(store.clone()).await;
        let (network, op) = op_on_network(&store, Some("team-a")).await;
        let expected = json!({
            "operation_type": "net_op", "uuid": op.to_string(), "state": "queued", "tasks": ["network_deploy"],
            "network_uuid": network.to_string(), "node_uuid": null, "floating_address": null, "inner_address": null,
        });
        let path = format!("/clusteroperations/net_op/{op}");
        for namespace in ["system", "team-a"] {
            let token = token_for(&server, &store, namespace, "reader").await;
            assert_eq!(get_as(&server, &token, &path).await, (200, expected.clone()), "{namespace}");
        }
    }

    async fn unknown_types_and_ops_are_not_found(db: &TestDb) {
        let store = db.migrated_store().await;
        let server = serve(store.clone()).await;
        let (_, op) = op_on_network(&store, Some("team-a")).await;
        let token = token_for(&server, &store, "system", "admin").await;
        let cases = [
            (format!("/clusteroperations/cluster_op/{op}"), "operation type not found"),
            (format!("/clusteroperations/node_inst_op/{op}"), "operation not found"),
            ("/clusteroperations/net_op/00000000-0000-4000-8000-000000000000".to_owned(), "operation not found"),
            ("/clusteroperations/net_op/not-a-uuid".to_owned(), "operation not found"),
        ];
        for (path, message) in cases {
            assert_eq!(get_as(&server, &token, &path).await, (404, json!({"error": message, "status": 404})), "{path}");
        }
    }

    async fn another_namespace_is_forbidden_and_untracked_targets_are_systems_alone(db: &TestDb) {
        let store = db.migrated_store().await;
        let server = serve(store.clone()).await;
        let (_, theirs) = op_on_network(&store, Some("team-a")).await;
        let (_, unregistered) = op_on_network(&store, None).await;
        let team_b = token_for(&server, &store, "team-b", "reader").await;
        let system = token_for(&server, &store, "system", "admin").await;
        let foreign = json!({"error": "the operation targets an object of another namespace", "status": 403});
        for op in [theirs, unregistered] {
            let path = format!("/clusteroperations/net_op/{op}");
            assert_eq!(get_as(&server, &team_b, &path).await, (403, foreign.clone()), "{op}");
            assert_eq!(get_as(&server, &system, &path).await.0, 200, "{op}");
        }
    }

    async fn an_op_without_targets_is_the_system_namespaces_alone(db: &TestDb) {
        // An op Shaken Fist wrote before every target got its row (DOMAIN.md §4, schema v1).
        let store = db.migrated_store().await;
        let server = serve(store.clone()).await;
        let op = "5d1b0c1e-2f3a-4b5c-8d6e-7f8091a2b3c4";
        db.execute(&format!(
            "INSERT INTO cluster_operations (uuid, operation_type, version, created_at, priority, queue_name, metadata_json) \
             VALUES ('{op}', 'net_op', 3, 1700000000, 'background', 'networknode', '{{\"uuid\": \"{op}\", \"tasks\": [\"network_deploy\"]}}'); \
             INSERT INTO object_states (object_type, object_uuid, state_value, update_time) VALUES ('net_op', '{op}', 'complete', 1700000000)"
        ))
        .await;
        let path = format!("/clusteroperations/net_op/{op}");
        let team_a = token_for(&server, &store, "team-a", "reader").await;
        let untargeted = json!({"error": "the operation has no targets; only the system namespace sees it", "status": 403});
        assert_eq!(get_as(&server, &team_a, &path).await, (403, untargeted));
        let system = token_for(&server, &store, "system", "admin").await;
        let expected = json!({"operation_type": "net_op", "uuid": op, "state": "complete", "tasks": ["network_deploy"]});
        assert_eq!(get_as(&server, &system, &path).await, (200, expected));
    }

    async fn the_read_scope_is_needed_unless_the_token_has_every_scope(db: &TestDb) {
        let store = db.migrated_store().await;
        let server = serve(store.clone()).await;
        let (_, op) = op_on_network(&store, Some("team-a")).await;
        let path = format!("/clusteroperations/net_op/{op}");
        let narrow = scoped_token(&store, "team-a", "narrow", &["instance.read"]).await;
        let lacking = json!({"error": "the token lacks the scope clusteroperation.read", "status": 403});
        assert_eq!(get_as(&server, &narrow, &path).await, (403, lacking));
        for (key_name, scopes) in [("reader", &["clusteroperation.read"][..]), ("all", &["*"][..])] {
            let token = scoped_token(&store, "team-a", key_name, scopes).await;
            assert_eq!(get_as(&server, &token, &path).await.0, 200, "{scopes:?}");
        }
    }

    async fn a_chain_lists_an_op_and_what_it_depends_on_newest_first(db: &TestDb) {
        let store = db.migrated_store().await;
        let server = serve(store.clone()).await;
        let (network, first) = op_on_network(&store, Some("team-a")).await;
        let second = op_after(&store, network, &[first]).await;
        let third = op_after(&store, network, &[second, first]).await;
        let team_a = token_for(&server, &store, "team-a", "reader").await;
        let (status, chain) = get_as(&server, &team_a, &format!("/clusteroperations/{third}/chain")).await;
        assert_eq!(status, 200, "{chain}");
        assert_eq!(uuids(&chain), [third.to_string(), second.to_string(), first.to_string()]);
        assert_eq!(chain[2]["tasks"], json!(["network_deploy"]));
        let (_, alone) = get_as(&server, &team_a, &format!("/clusteroperations/{first}/chain")).await;
        assert_eq!(uuids(&alone), [first.to_string()]);

        let team_b = token_for(&server, &store, "team-b", "reader").await;
        assert_eq!(get_as(&server, &team_b, &format!("/clusteroperations/{third}/chain")).await.0, 403);
        let unknown = get_as(&server, &team_a, "/clusteroperations/00000000-0000-4000-8000-000000000000/chain").await;
        assert_eq!(unknown, (404, json!({"error": "operation not found", "status": 404})));
    }

    async fn a_chain_longer_than_256_is_refused(db: &TestDb) {
        let store = db.migrated_store().await;
        let server = serve(store.clone()).await;
        let (network, _) = op_on_network(&store, Some("team-a")).await;
        // Dependencies need not exist to count: each is one more op to walk.
        let many: Vec<OpId> = (0..256).map(|_| OpId::new_v4()).collect();
        let wide = op_after(&store, network, &many).await;
        let narrower = op_after(&store, network, &many[..255]).await;
        let system = token_for(&server, &store, "system", "admin").await;
        let refused = json!({"error": "the chain has more than 256 operations", "status": 400});
        assert_eq!(get_as(&server, &system, &format!("/clusteroperations/{wide}/chain")).await, (400, refused));
        let (status, chain) = get_as(&server, &system, &format!("/clusteroperations/{narrower}/chain")).await;
        assert_eq!((status, uuids(&chain)), (200, vec![narrower.to_string()]), "missing dependencies are left out");
    }

    async fn ops_by_target_come_from_a_get_body_or_the_query_string(db: &TestDb) {
        let store = db.migrated_store().await;
        let server = serve(store.clone()).await;
        let (network, first) = op_on_network(&store, Some("team-a")).await;
        let second = op_after(&store, network, &[]).await;
        db.execute(&format!("UPDATE object_states SET state_value = 'complete' WHERE object_uuid = '{first}'")).await;
        let team_a = token_for(&server, &store, "team-a", "reader").await;
        let client = reqwest::Client::new();
        let newest_first = vec![second.to_string(), first.to_string()];
        let body = json!({"target_object_type": "network", "target_uuid": network.to_string()});
        let by_body = client.get(server.url("/clusteroperations")).bearer_auth(&team_a).json(&body).send().await.unwrap();
        assert_eq!(by_body.status().as_u16(), 200);
        assert_eq!(uuids(&by_body.json().await.unwrap()), newest_first);
        let query = format!("/clusteroperations?target_object_type=network&target_uuid={network}");
        let (status, by_query) = get_as(&server, &team_a, &query).await;
        assert_eq!((status, uuids(&by_query)), (200, newest_first));

        let team_b = token_for(&server, &store, "team-b", "reader").await;
        let foreign = json!({"error": "the target object is in another namespace", "status": 403});
        assert_eq!(get_as(&server, &team_b, &query).await, (403, foreign));
        let cases = [
            ("/clusteroperations".to_owned(), 400, "missing target_object_type".to_owned()),
            ("/clusteroperations?target_object_type=network".to_owned(), 400, "missing target_uuid".to_owned()),
            (format!("/clusteroperations?target_object_type=cluster&target_uuid={network}"), 400, "invalid target_object_type `cluster`".to_owned()),
            ("/clusteroperations?target_object_type=network&target_uuid=x".to_owned(), 400, "invalid target_uuid `x`".to_owned()),
            (format!("/clusteroperations?target_object_type=network&target_uuid={}", NetworkId::new_v4()), 404, "target object not found".to_owned()),
        ];
        for (path, status, message) in cases {
            assert_eq!(get_as(&server, &team_a, &path).await, (status, json!({"error": message, "status": status})), "{path}");
        }
    }

    async fn an_objects_operations_are_those_in_flight_or_all(db: &TestDb) {
        let store = db.migrated_store().await;
        let server = serve(store.clone()).await;
        let (network, first) = op_on_network(&store, Some("team-a")).await;
        let second = op_after(&store, network, &[]).await;
        db.execute(&format!("UPDATE object_states SET state_value = 'complete' WHERE object_uuid = '{first}'")).await;
        let team_a = token_for(&server, &store, "team-a", "reader").await;
        let (status, pending) = get_as(&server, &team_a, &format!("/networks/{network}/clusteroperations")).await;
        assert_eq!((status, uuids(&pending)), (200, vec![second.to_string()]));
        assert_eq!(pending[0]["state"], "queued");
        let (_, all) = get_as(&server, &team_a, &format!("/networks/{network}/clusteroperations?all=true")).await;
        assert_eq!(uuids(&all), [second.to_string(), first.to_string()]);

        let team_b = token_for(&server, &store, "team-b", "reader").await;
        let hidden = json!({"error": "network not found", "status": 404});
        assert_eq!(get_as(&server, &team_b, &format!("/networks/{network}/clusteroperations")).await, (404, hidden));
        let system = token_for(&server, &store, "system", "admin").await;
        assert_eq!(get_as(&server, &system, &format!("/networks/{network}/clusteroperations")).await.0, 200);
        let not_an_instance = json!({"error": "instance not found", "status": 404});
        assert_eq!(get_as(&server, &system, &format!("/instances/{network}/clusteroperations")).await, (404, not_an_instance));
        assert_eq!(get_as(&server, &system, "/artifacts/not-a-uuid/clusteroperations").await.0, 404);
    }

    async fn an_op_in_error_carries_its_error_report(db: &TestDb) {
        let store = db.migrated_store().await;
        let server = serve(store.clone()).await;
        let (_, reported) = op_on_network(&store, Some("team-a")).await;
        let (_, unreported) = op_on_network(&store, Some("team-a")).await;
        db.execute(&format!(
            "INSERT INTO cluster_operation_errors (op_uuid, error_report, created_at) VALUES ('{reported}', \
             '{{\"kind\": \"handler_failed\", \"message\": \"dnsmasq would not start\", \"attempt\": 3}}', 1700000000); \
             UPDATE object_states SET state_value = 'error', message = 'handler failed' WHERE object_uuid = '{reported}'; \
             UPDATE object_states SET state_value = 'error', message = 'depends on a missing op' WHERE object_uuid = '{unreported}'"
        ))
        .await;
        let token = token_for(&server, &store, "team-a", "reader").await;
        let (status, view) = get_as(&server, &token, &format!("/clusteroperations/net_op/{reported}")).await;
        assert_eq!((status, view["state"].as_str()), (200, Some("error")));
        assert_eq!(view["error_report"], json!({"code": "handler_failed", "message": "dnsmasq would not start", "details": {"attempt": 3}}));
        let (_, view) = get_as(&server, &token, &format!("/clusteroperations/net_op/{unreported}")).await;
        assert_eq!(view["error_report"], json!({"code": "error", "message": "depends on a missing op", "details": {}}));
        let (_, queued) = op_on_network(&store, Some("team-a")).await;
        let (_, view) = get_as(&server, &token, &format!("/clusteroperations/net_op/{queued}")).await;
        assert!(view.get("error_report").is_none(), "{view}");
    }
}
