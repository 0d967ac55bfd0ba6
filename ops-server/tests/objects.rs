//! Object views and the asynchronous network delete on every backend: `last_cluster_operation` as Shaken
//! Fist shows it, `has_pending_operations` as the gate answers it, `DELETE /networks[/<uuid>]` enqueueing
//! `net_op`s the caller polls, the namespace rules; and the op schemas.

mod support;

use ops_core::{ArtifactId, NewObject, OpId, Priority};
use ops_schemas::ops::{NetOp, NetTask};
use ops_testkit::backend_tests;
use serde_json::json;
use support::{get_as, network_of, serve, token_for};

/// `DELETE path` with `token` and `body`: the status and the JSON answer.
async fn delete_as(
    server: &support::Running,
    token: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut request = reqwest::Client::new()
        .delete(server.url(path))
        .bearer_auth(token)
        .header("x-request-id", "req-7");
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("an answer");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

backend_tests! {
    async fn a_view_shows_the_latest_op_and_whether_one_is_in_flight(db: &TestDb) {
        let store = db.migrated_store().await;
        let server = serve(store.clone()).await;
        let network = network_of(&store, "team-a").await;
        let op = NetOp { network_uuid: network, node_uuid: None, floating_address: None, inner_address: None }
            .enqueue(&store)
            .priority(Priority::UserWaiting)
            .task(NetTask::NetworkDeploy)
            .await
            .unwrap();
        let team_a = token_for(&server, &store, "team-a", "reader").await;
        let path = format!("/networks/{network}");
        let (status, view) = get_as(&server, &team_a, &path).await;
        assert_eq!(status, 200, "{view}");
        assert_eq!(
            view,
            json!({
                "uuid": network.to_string(), "name": "web", "namespace": "team-a", "state": "initial", "vxlan_id": view["vxlan_id"],
                "provide_dhcp": false, "provide_dns": false, "error_message": null,
                "last_cluster_operation": {"op_type": "net_op", "op_uuid": op.to_string()},
                "has_pending_operations": true,
            })
        );
        db.execute(&format!("UPDATE object_states SET state_value = 'complete' WHERE object_uuid = '{op}'")).await;
        let (_, view) = get_as(&server, &team_a, &path).await;
        assert_eq!((view["has_pending_operations"].clone(), view["last_cluster_operation"]["op_uuid"].clone()), (json!(false), json!(op.to_string())));

        let artifact = ArtifactId::new_v4();
        store.create_object(&NewObject::artifact(artifact, "image", "team-a")).await.unwrap();
        let (_, view) = get_as(&server, &team_a, &format!("/artifacts/{artifact}")).await;
        assert_eq!((view["last_cluster_operation"].clone(), view["has_pending_operations"].clone()), (json!(null), json!(false)));

        let team_b = token_for(&server, &store, "team-b", "reader").await;
        assert_eq!(get_as(&server, &team_b, &path).await, (404, json!({"error": "network not found", "status": 404})));
        assert_eq!(get_as(&server, &team_a, &format!("/instances/{network}")).await.0, 404);
    }

    async fn deleting_a_network_enqueues_its_destruction_and_answers_202(db: &TestDb) {
        let store = db.migrated_store().await;
        let server = serve(store.clone()).await;
        let network = network_of(&store, "team-a").await;
        let team_b = token_for(&server, &store, "team-b", "writer").await;
        let hidden = json!({"error": "network not found", "status": 404});
        assert_eq!(delete_as(&server, &team_b, &format!("/networks/{network}"), None).await, (404, hidden));
        assert_eq!(db.count("cluster_operations").await, 0, "a refused delete wrote an op");

        let team_a = token_for(&server, &store, "team-a", "writer").await;
        let (status, handle) = delete_as(&server, &team_a, &format!("/networks/{network}"), None).await;
        assert_eq!((status, handle["op_type"].as_str()), (202, Some("net_op")), "{handle}");
        let op: OpId = handle["op_uuid"].as_str().unwrap().parse().unwrap();
        let record = store.op_record(op).await.unwrap().expect("the op");
        assert_eq!(record.wire["tasks"], json!(["network_destroy"]));
        assert_eq!(record.request_id.as_deref(), Some("req-7"));
        assert_eq!(record.targets.iter().map(|t| (t.object_type.as_str(), t.uuid.clone())).collect::<Vec<_>>(), [("network", network.to_string())]);
        assert!(store.has_pending(network).await.unwrap());
        // The client polls it as any op.
        let (status, view) = get_as(&server, &team_a, &format!("/clusteroperations/net_op/{op}")).await;
        assert_eq!((status, view["state"].as_str()), (200, Some("queued")));

        store.set_object_state(network.into(), ops_core::ObjectState::Deleted, None).await.unwrap();
        assert_eq!(delete_as(&server, &team_a, &format!("/networks/{network}"), None).await.0, 404, "deleted already");
    }

    async fn deleting_every_network_of_a_namespace_needs_confirmation(db: &TestDb) {
        let store = db.migrated_store().await;
        let server = serve(store.clone()).await;
        let mut ours = vec![network_of(&store, "team-a").await.to_string(), network_of(&store, "team-a").await.to_string()];
        ours.sort();
        let theirs = network_of(&store, "team-b").await.to_string();
        let team_a = token_for(&server, &store, "team-a", "writer").await;
        let unconfirmed = delete_as(&server, &team_a, "/networks", Some(json!({"confirm": false}))).await;
        assert_eq!(unconfirmed, (400, json!({"error": "deleting every network needs \"confirm\": true", "status": 400})));
        let foreign = delete_as(&server, &team_a, "/networks", Some(json!({"confirm": true, "namespace": "team-b"}))).await;
        assert_eq!(foreign.0, 403);
        assert_eq!(db.count("cluster_operations").await, 0);

        let (status, handles) = delete_as(&server, &team_a, "/networks", Some(json!({"confirm": true, "clean_wait": false}))).await;
        assert_eq!(status, 202, "{handles}");
        let mut deleted: Vec<String> = handles.as_array().unwrap().iter().map(|h| h["network_uuid"].as_str().unwrap().to_owned()).collect();
        deleted.sort();
        assert_eq!(deleted, ours);
        assert!(handles.as_array().unwrap().iter().all(|h| h["op_type"] == "net_op" && h["op_uuid"].is_string()));

        let system = token_for(&server, &store, "system", "admin").await;
        let (status, handles) = delete_as(&server, &system, "/networks", Some(json!({"confirm": true, "namespace": "team-b"}))).await;
        assert_eq!((status, handles[0]["network_uuid"].as_str()), (202, Some(theirs.as_str())));
        assert_eq!(db.count("cluster_operations").await, 3);
    }

    async fn an_object_is_named_by_its_uuid_or_its_name(db: &TestDb) {
        let store = db.migrated_store().await;
        let server = serve(store.clone()).await;
        let network = network_of(&store, "team-a").await;
        let team_a = token_for(&server, &store, "team-a", "reader").await;
        let (status, view) = get_as(&server, &team_a, "/networks/web").await;
        assert_eq!((status, view["uuid"].as_str()), (200, Some(network.to_string().as_str())), "{view}");
        let (status, ops) = get_as(&server, &team_a, "/networks/web/clusteroperations?all=true").await;
        assert_eq!((status, ops), (200, json!([])));
        let team_b = token_for(&server, &store, "team-b", "reader").await;
        assert_eq!(get_as(&server, &team_b, "/networks/web").await, (404, json!({"error": "network not found", "status": 404})));

        // Names are not unique: one more `web` in team-a makes the name ambiguous there.
        network_of(&store, "team-a").await;
        let ambiguous = json!({"error": "more than one network is named web; use its uuid", "status": 400});
        assert_eq!(get_as(&server, &team_a, "/networks/web").await, (400, ambiguous));
        assert_eq!(delete_as(&server, &team_a, "/networks/web", None).await.0, 400);
        assert_eq!(db.count("cluster_operations").await, 0);
        // team-b's own `web` is found by team-b alone.
        let theirs = network_of(&store, "team-b").await;
        let (status, handle) = delete_as(&server, &team_b, "/networks/web", None).await;
        assert_eq!(status, 202, "{handle}");
        let op: OpId = handle["op_uuid"].as_str().unwrap().parse().unwrap();
        let targets = store.op_record(op).await.unwrap().unwrap().targets;
        assert_eq!(targets[0].uuid, theirs.to_string());
    }
}

#[tokio::test]
async fn the_op_schemas_are_served_as_committed() {
    let store = ops_core::Store::connect("sqlite::memory:").await.unwrap();
    let server = serve(store).await;
    let committed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas");
    for (path, file) in [
        ("/schemas", "index.json"),
        ("/schemas/net_op", "net_op.json"),
    ] {
        let response = reqwest::get(server.url(path)).await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{path}");
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(
            response.text().await.unwrap(),
            std::fs::read_to_string(committed.join(file)).unwrap(),
            "{path}"
        );
    }
    for path in ["/schemas/cluster_op", "/schemas/index"] {
        let (status, body) = support::get_json(&server.url(path)).await;
        assert_eq!(
            (status, body),
            (
                404,
                json!({"error": "operation type not found", "status": 404})
            ),
            "{path}"
        );
    }
}
