//! `net_op` coalescing on every backend, as Shaken Fist does it: an enqueue of a single coalescible task
//! with no dependencies reuses a queued op with the same task, network and node that is at least as urgent;
//! a worker that completes such an op completes its queued siblings with it.

use ops_core::worker::{OpError, Worker};
use ops_core::{
    ClusterOperation, CoalesceKey, Dependency, EnqueueError, NetworkId, NodeId, OpId, OpState,
    OpTask, Priority, QueueTarget, Store,
};
use ops_schemas::ops::{NetOp, NetTask};
use ops_testkit::backend_tests;
use serde::{Deserialize, Serialize};

fn net_op(network: NetworkId, node: Option<NodeId>) -> NetOp {
    NetOp {
        network_uuid: network,
        node_uuid: node,
        floating_address: None,
        inner_address: None,
    }
}

async fn enqueue(store: &Store, op: NetOp, priority: Priority, tasks: &[NetTask]) -> OpId {
    op.enqueue(store)
        .priority(priority)
        .tasks(tasks.iter().copied())
        .await
        .expect("enqueue")
}

async fn messages(store: &Store, op: OpId) -> Vec<String> {
    let record = store.op_record(op).await.expect("read").expect("op");
    record
        .events
        .into_iter()
        .map(|event| event.message)
        .collect()
}

backend_tests! {
    async fn an_enqueue_reuses_a_queued_op_with_the_same_key(db: &TestDb) {
        let store = db.migrated_store().await;
        let network = NetworkId::new_v4();
        let mesh = [NetTask::NetworkEnsureMesh];
        let first = enqueue(&store, net_op(network, None), Priority::Background, &mesh).await;
        let again = enqueue(&store, net_op(network, None), Priority::Background, &mesh).await;
        assert_eq!(again, first);
        assert_eq!(db.count("cluster_operations").await, 1);
        assert!(messages(&store, first).await.contains(&"enqueue-side dedup: reused pending op".to_owned()));
        // The reuse is also in the network's story.
        let history = store.history(network, None, 10).await.unwrap();
        assert_eq!(history.ops.len(), 1);

        // Anything else that differs makes a new op.
        let node = NodeId::new_v4();
        let others = [
            enqueue(&store, net_op(network, Some(node)), Priority::Background, &mesh).await,
            enqueue(&store, net_op(NetworkId::new_v4(), None), Priority::Background, &mesh).await,
            enqueue(&store, net_op(network, None), Priority::Background, &[NetTask::NetworkApplyUpdateDnsmasq]).await,
            // Not coalescible: a task outside COALESCIBLE_TASKS, or two tasks.
            enqueue(&store, net_op(network, None), Priority::Background, &[NetTask::NetworkDeploy]).await,
            enqueue(&store, net_op(network, None), Priority::Background, &[NetTask::NetworkDeploy]).await,
            enqueue(&store, net_op(network, None), Priority::Background, &[NetTask::NetworkEnsureMesh, NetTask::NetworkEnsureMesh]).await,
        ];
        let mut distinct = others.to_vec();
        distinct.push(first);
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 7);
        // With a dependency it is not coalesced either.
        let dependent = net_op(network, None)
            .enqueue(&store)
            .priority(Priority::Background)
            .task(NetTask::NetworkEnsureMesh)
            .runs_after(Dependency::on::<NetOp>(first))
            .await
            .unwrap();
        assert_ne!(dependent, first);
    }

    async fn only_an_op_at_least_as_urgent_is_reused(db: &TestDb) {
        let store = db.migrated_store().await;
        let network = NetworkId::new_v4();
        let mesh = [NetTask::NetworkEnsureMesh];
        let background = enqueue(&store, net_op(network, None), Priority::Background, &mesh).await;
        let urgent = enqueue(&store, net_op(network, None), Priority::UserWaiting, &mesh).await;
        assert_ne!(urgent, background, "a less urgent op is not reused");
        let facing = enqueue(&store, net_op(network, None), Priority::UserFacing, &mesh).await;
        assert_eq!(facing, urgent, "the queued user_waiting op is at least as urgent as user_facing");
        let another = enqueue(&store, net_op(network, None), Priority::Background, &mesh).await;
        assert_eq!(another, background, "of the ops at least as urgent, the oldest is reused");
    }

    async fn a_worker_completes_the_queued_siblings_of_the_op_it_completes(db: &TestDb) {
        let store = db.migrated_store().await;
        let network = NetworkId::new_v4();
        let mesh = [NetTask::NetworkEnsureMesh];
        let background = enqueue(&store, net_op(network, None), Priority::Background, &mesh).await;
        let urgent = enqueue(&store, net_op(network, None), Priority::UserWaiting, &mesh).await;
        let other_network = enqueue(&store, net_op(NetworkId::new_v4(), None), Priority::Background, &mesh).await;
        let runs = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = runs.clone();
        let worker = Worker::builder(store.clone())
            .serve(QueueTarget::NetworkNode)
            .concurrency(1)
            .handle(move |_op: NetOp, ctx| {
                seen.lock().unwrap().push(ctx.op_id());
                async { Ok::<_, OpError>(()) }
            })
            .build()
            .unwrap();
        let summary = worker.drain().await.unwrap();
        assert_eq!((summary.completed, summary.coalesced), (2, 1), "{summary:?}");
        assert_eq!(*runs.lock().unwrap(), [urgent, other_network]);
        let record = store.op_record(background).await.unwrap().unwrap();
        assert_eq!(record.state, Some(OpState::Complete));
        assert_eq!(record.state_message.as_deref(), Some(format!("coalesced into {urgent}").as_str()));
        assert!(messages(&store, urgent).await.contains(&"coalesced sibling ops".to_owned()));
        // The sibling took the legal path, queued → executing → complete.
        let states: Vec<_> = record.events.iter().filter_map(|e| e.extra["value"].as_str()).collect();
        assert_eq!(states, ["executing", "complete"]);
        assert_eq!(db.count("work_queue").await, 0);
        assert!(!store.has_pending(network).await.unwrap());
    }

    async fn a_coalescing_op_on_a_node_queue_must_be_network_work(db: &TestDb) {
        let store = db.migrated_store().await;
        let err = NodeMeshOp { node_uuid: NodeId::new_v4(), network_uuid: NetworkId::new_v4() }
            .enqueue(&store)
            .priority(Priority::Background)
            .task(NetTask::NetworkEnsureMesh)
            .await
            .unwrap_err();
        assert!(matches!(err, EnqueueError::InvalidCoalescibleEnqueue { op_type: "node_mesh_op", .. }), "{err}");
        assert!(err.to_string().starts_with("`node_mesh_op` coalesces, so on node queue `"), "{err}");
        assert_eq!(db.count("cluster_operations").await, 0);
    }
}

/// A coalescing op routed to a node's `clusteroperation` queue: what Shaken Fist refuses.
#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "node_mesh_op", tasks = NetTask, queue = node, coalesce = always)]
struct NodeMeshOp {
    #[context]
    node_uuid: NodeId,
    #[target]
    network_uuid: NetworkId,
}

fn always(op: &NodeMeshOp, tasks: &[NetTask]) -> Option<CoalesceKey> {
    Some(CoalesceKey::from_parts([
        ("task", tasks.first().map(|task| task.name().to_owned())),
        ("network_uuid", Some(op.network_uuid.to_string())),
    ]))
}

#[test]
fn keys_name_their_parts_and_mark_a_missing_value() {
    let key = CoalesceKey::from_parts([
        ("task", Some("network_ensure_mesh".to_owned())),
        ("node_uuid", None),
    ]);
    assert_eq!(key.as_str(), "task=network_ensure_mesh;node_uuid=-");
}

/// The rows of object_states and work_queue PostgreSQL's index scans have fetched, once every session
/// has ended.
async fn state_and_queue_rows_fetched(db: &ops_testkit::TestDb) -> i64 {
    db.settled_table_counter("object_states", "idx_tup_fetch")
        .await
        + db.settled_table_counter("work_queue", "idx_tup_fetch")
            .await
}

/// The coalescing check of an enqueue reads the ops with its key, not the backlog of its type, also when
/// the statistics predate the backlog (gathered when nothing was queued, as on a young database or with
/// autovacuum behind) and say a key matches every op (one network's years of mesh ops). Joined on
/// `state_value = 'queued'`, PostgreSQL drove the check from the `(object_type, state_value)` index,
/// priced at one row, and read every queued op of the type: 6,258 rows for these 20 enqueues (20 now).
#[tokio::test]
async fn postgres_coalescing_reads_the_key_not_the_backlog() {
    ops_testkit::run_on(ops_testkit::Backend::Postgres, |db| async move {
        db.migrated_store().await.close().await;
        // Years of one network's mesh ops, all with one key: the statistics say a key matches every op.
        db.execute(
            "CREATE TABLE history AS SELECT gen_random_uuid()::text AS op FROM generate_series(1, 2000); \
             INSERT INTO cluster_operations (uuid, operation_type, version, created_at, priority, queue_name, \
             metadata_json, coalesce_key) SELECT op, 'net_op', 3, 0, 'background', \
             'networknode-clusteroperation-background', '{}', 'task=network_ensure_mesh;network_uuid=8c9e2f7a-0000-4000-8000-000000000001;node_uuid=-' FROM history; \
             INSERT INTO object_states (object_type, object_uuid, state_value, update_time) \
             SELECT 'net_op', op, 'complete', 0 FROM history; \
             DROP TABLE history; ANALYZE",
        )
        .await;
        let mesh = [NetTask::NetworkEnsureMesh];
        let store = db.store().await;
        for _ in 0..300 {
            enqueue(&store, net_op(NetworkId::new_v4(), None), Priority::Background, &mesh).await;
        }
        store.close().await;
        let before = state_and_queue_rows_fetched(&db).await;
        let store = db.store().await;
        for _ in 0..20 {
            enqueue(&store, net_op(NetworkId::new_v4(), None), Priority::Background, &mesh).await;
        }
        store.close().await;
        let fetched = state_and_queue_rows_fetched(&db).await - before;
        // Each enqueue reads a few rows of its own (the trigger's lookup of its state); the backlog is 300.
        assert!(fetched <= 20 * 5, "20 enqueues beside 300 queued ops fetched {fetched} rows");
        db
    })
    .await;
}
