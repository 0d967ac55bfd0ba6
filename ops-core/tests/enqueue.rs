//! The one-transaction enqueue on every backend: what it writes, what it refuses, and that a failure
//! leaves nothing behind.

mod support;

use ops_core::{
    Dependency, EnqueueError, InstanceId, InterfaceId, NetworkId, NodeId, ObjectId, OpId, OpState,
    Priority,
};
use ops_testkit::{TestDb, backend_tests};
use support::{CollidingOp, NetOp, NetTask, NetsOp, NodeInstNetIfaceOp, NodeInstNetIfaceTask};

fn hot_plug() -> NodeInstNetIfaceOp {
    NodeInstNetIfaceOp {
        node_uuid: NodeId::new_v4(),
        instance_uuid: InstanceId::new_v4(),
        network_uuid: NetworkId::new_v4(),
        interface_uuid: InterfaceId::new_v4(),
    }
}

/// Rows of every table the enqueue writes, in a fixed order.
async fn row_counts(db: &TestDb) -> [i64; 7] {
    [
        db.count("cluster_operations").await,
        db.count("object_states").await,
        db.count("work_queue").await,
        db.count("cluster_operation_targets").await,
        db.count("in_flight_targets").await,
        db.count("events").await,
        db.count("event_objects").await,
    ]
}

backend_tests! {
    async fn a_three_target_op_writes_exactly_its_rows(db: &TestDb) {
        let store = db.migrated_store().await;
        let op = hot_plug();
        let id = op.clone().enqueue(&store)
            .priority(Priority::UserWaiting)
            .task(NodeInstNetIfaceTask::HotPlugInstanceInterface)
            .request_id("req-1")
            .await
            .unwrap();
        assert_eq!(row_counts(db).await, [1, 1, 1, 3, 3, 1, 5]);

        // sqlx turns on PIPES_AS_CONCAT on MariaDB, so `||` concatenates on every backend.
        let targets = db
            .strings(&format!(
                "SELECT target_object_type || ':' || target_uuid FROM cluster_operation_targets \
                 WHERE operation_uuid = '{id}' ORDER BY target_object_type"
            ))
            .await;
        assert_eq!(
            targets,
            [
                Some(format!("instance:{}", op.instance_uuid)),
                Some(format!("interface:{}", op.interface_uuid)),
                Some(format!("network:{}", op.network_uuid)),
            ]
        );
        assert_eq!(store.op_state(id).await.unwrap(), Some(OpState::Queued));
        assert_eq!(
            db.strings("SELECT queue_name FROM work_queue").await,
            [Some(format!("{}-clusteroperation-user_waiting", op.node_uuid))]
        );
        // The node is linked to the audit event, but is not a target.
        let links = db.strings("SELECT object_type FROM event_objects ORDER BY object_type").await;
        let links: Vec<_> = links.into_iter().flatten().collect();
        assert_eq!(links, ["instance", "interface", "network", "node", "node_inst_net_iface_op"]);
        assert_eq!(
            db.strings("SELECT message FROM events").await,
            [Some("node_inst_net_iface_op operation created with tasks hot_plug_instance_interface".to_owned())]
        );
        assert_eq!(
            db.strings("SELECT node_uuid FROM cluster_operations").await,
            [Some(op.node_uuid.to_string())]
        );
    }

    async fn the_stored_op_is_header_and_body_in_one_flat_object(db: &TestDb) {
        let store = db.migrated_store().await;
        let network = NetworkId::new_v4();
        let dep = OpId::new_v4();
        let id = NetOp { network_uuid: network, node_uuid: None }.enqueue(&store)
            .priority(Priority::Background)
            .tasks([NetTask::NetworkDeploy, NetTask::NetworkEnsureMesh])
            .depends_on(Dependency::on::<NetOp>(dep))
            .await
            .unwrap();
        let stored = db.strings("SELECT metadata_json FROM cluster_operations").await;
        let stored: serde_json::Value = serde_json::from_str(stored[0].as_deref().unwrap()).unwrap();
        assert_eq!(
            stored,
            serde_json::json!({
                "uuid": id.to_string(),
                "priority": "background",
                "request_id": null,
                "tasks": ["network_deploy", "network_ensure_mesh"],
                "depends_on": [{"op_type": "net_op", "op_uuid": dep.to_string()}],
                "runs_after": [],
                "version": 3,
                "network_uuid": network.to_string(),
                "node_uuid": null,
            })
        );
        assert_eq!(
            db.strings("SELECT queue_name FROM work_queue").await,
            [Some("networknode-clusteroperation-background".to_owned())]
        );
        let payload = db.strings("SELECT payload FROM work_queue").await;
        let payload: serde_json::Value = serde_json::from_str(payload[0].as_deref().unwrap()).unwrap();
        assert_eq!(payload, serde_json::json!({"operation_type": "net_op", "operation_uuid": id.to_string()}));
    }

    async fn audit_events_carry_the_configured_host_name(db: &TestDb) {
        db.migrated_store().await;
        let store = ops_core::StoreOptions::new(db.url()).host_name("node-7.example.org").connect().await.unwrap();
        hot_plug().enqueue(&store).priority(Priority::Background).task(NodeInstNetIfaceTask::AttachInstanceInterface).await.unwrap();
        assert_eq!(db.strings("SELECT fqdn FROM events").await, [Some("node-7.example.org".to_owned())]);
    }

    async fn duplicate_targets_collapse_to_one_row(db: &TestDb) {
        let store = db.migrated_store().await;
        let (a, b) = (NetworkId::new_v4(), NetworkId::new_v4());
        NetsOp { network_uuids: vec![a, b, a, a, b] }.enqueue(&store)
            .priority(Priority::Background)
            .task(NetTask::NetworkEnsureMesh)
            .await
            .unwrap();
        assert_eq!(db.count("cluster_operation_targets").await, 2);
        assert!(store.has_pending(a).await.unwrap() && store.has_pending(b).await.unwrap());
    }

    async fn an_op_without_tasks_is_refused_and_writes_nothing(db: &TestDb) {
        let store = db.migrated_store().await;
        let err = hot_plug().enqueue(&store).priority(Priority::UserFacing).await.unwrap_err();
        assert!(matches!(err, EnqueueError::NoTasks), "{err}");
        assert_eq!(err.to_string(), "an operation needs at least one task");
        assert_eq!(row_counts(db).await, [0; 7]);
    }

    /// The request id is the one free-text header field: a NUL in it is refused before anything is
    /// written; SQL in it is only text, stored and read back verbatim.
    async fn a_request_id_with_a_nul_is_refused_and_sql_in_one_is_only_text(db: &TestDb) {
        let store = db.migrated_store().await;
        let refused = hot_plug()
            .enqueue(&store)
            .priority(Priority::UserFacing)
            .task(NodeInstNetIfaceTask::HotPlugInstanceInterface)
            .request_id("req\0-1")
            .await
            .unwrap_err();
        assert!(matches!(refused, EnqueueError::RequestIdNul { at: 3 }), "{refused}");
        assert_eq!(refused.to_string(), "a request id may not contain a NUL character (found at character 3)");
        assert_eq!(row_counts(db).await, [0; 7]);
        let sql = "req'); DELETE FROM cluster_operations; --";
        let op = hot_plug()
            .enqueue(&store)
            .priority(Priority::UserFacing)
            .task(NodeInstNetIfaceTask::HotPlugInstanceInterface)
            .request_id(sql)
            .await
            .unwrap();
        let record = store.op_record(op).await.unwrap().unwrap();
        assert_eq!(record.wire["request_id"], sql);
        assert_eq!(db.strings("SELECT request_id FROM cluster_operations").await, [Some(sql.to_owned())]);
        assert_eq!(db.count("cluster_operations").await, 1);
    }

    async fn a_body_field_named_like_a_header_field_is_refused(db: &TestDb) {
        let store = db.migrated_store().await;
        let op = CollidingOp { network_uuid: NetworkId::new_v4(), priority: "high".into() };
        let err = op.enqueue(&store).priority(Priority::UserFacing).task(NetTask::NetworkDeploy).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "the body of `colliding_op` has a field `priority`, which the operation header owns"
        );
        assert_eq!(row_counts(db).await, [0; 7]);
    }

    async fn a_reused_op_id_is_a_duplicate_and_writes_nothing_more(db: &TestDb) {
        let store = db.migrated_store().await;
        let id = OpId::new_v4();
        let first = hot_plug().enqueue(&store)
            .uuid(id)
            .priority(Priority::UserFacing)
            .task(NodeInstNetIfaceTask::AttachInstanceInterface)
            .await
            .unwrap();
        assert_eq!(first, id);
        let before = row_counts(db).await;
        let err = hot_plug().enqueue(&store)
            .uuid(id)
            .priority(Priority::UserFacing)
            .task(NodeInstNetIfaceTask::AttachInstanceInterface)
            .await
            .unwrap_err();
        assert!(matches!(err, EnqueueError::Duplicate(dup) if dup == id), "{err}");
        assert_eq!(row_counts(db).await, before);
    }

    /// A trigger rejects the last target insert: the whole op must vanish with it.
    async fn a_failing_target_insert_leaves_nothing_of_the_op(db: &TestDb) {
        let store = db.migrated_store().await;
        db.inject_failure(
            "reject_network_target",
            "INSERT ON cluster_operation_targets",
            "NEW.target_object_type = 'network'",
            "injected failure",
        )
        .await;
        let op = hot_plug();
        let err = op.clone().enqueue(&store)
            .priority(Priority::UserWaiting)
            .task(NodeInstNetIfaceTask::HotPlugInstanceInterface)
            .await
            .unwrap_err();
        assert!(matches!(err, EnqueueError::Database(_)), "{err}");
        // The driver's words are the cause, printed once after the message by any chain reporter.
        let cause = std::error::Error::source(&err).map(ToString::to_string).unwrap_or_default();
        assert!(cause.contains("injected failure"), "{err}: {cause}");
        assert_eq!(row_counts(db).await, [0; 7]);
        assert!(!store.has_pending(op.instance_uuid).await.unwrap());
    }

    /// K enqueuers on the same objects at once: every target row lands, no deadlock surfaces.
    async fn concurrent_enqueues_on_the_same_objects_lose_nothing(db: &TestDb) {
        let store = db.migrated_store().await;
        let shared = hot_plug();
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let (store, op) = (store.clone(), shared.clone());
                tokio::spawn(async move {
                    op.enqueue(&store)
                        .priority(Priority::UserFacing)
                        .task(NodeInstNetIfaceTask::AttachInstanceInterface)
                        .await
                })
            })
            .collect();
        let mut ids = Vec::new();
        for task in tasks {
            ids.push(task.await.unwrap().unwrap());
        }
        assert_eq!(db.count("cluster_operation_targets").await, 16 * 3);
        let history = store.history(shared.network_uuid, None, 100).await.unwrap();
        assert_eq!(history.ops.len(), 16);
        assert_eq!(store.pending(shared.interface_uuid).await.unwrap().len(), 16);
        let latest = store.latest(shared.instance_uuid.object_ref()).await.unwrap().unwrap();
        assert!(ids.contains(&latest.op_uuid));
    }
}

#[test]
fn the_wire_form_refuses_a_body_key_the_header_owns() {
    let op = CollidingOp {
        network_uuid: NetworkId::new_v4(),
        priority: "high".into(),
    };
    let header = ops_core::Header {
        uuid: OpId::new_v4(),
        priority: Priority::Background,
        request_id: None,
        tasks: vec![NetTask::NetworkDeploy],
        depends_on: vec![],
        runs_after: vec![],
        version: 1,
    };
    let err = ops_core::Envelope { header, body: op }
        .to_wire()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the body of `colliding_op` has a field `priority`, which the operation header owns"
    );
}
