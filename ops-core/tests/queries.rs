//! latest, pending, history, filter_pending, recent_terminal, transitions and hard deletes on every backend.

mod support;

use std::collections::BTreeSet;

use ops_core::{InstanceId, NetworkId, ObjectId, ObjectRef, OpState, Priority, StoreError};
use ops_testkit::backend_tests;
use support::{NetTask, NetsOp, enqueue_net_op};

backend_tests! {
    /// Records read in a batch are the records read one by one: in the order asked (past one batch of
    /// 500), ops of two types with several targets, states and events; an unknown id left out, a repeated
    /// one given once.
    async fn op_records_are_the_records_of_each_op_in_the_order_asked(db: &TestDb) {
        let store = db.migrated_store().await;
        let network = NetworkId::new_v4();
        let mut ops = Vec::new();
        for i in 0..520 {
            let op = enqueue_net_op(&store, network).await;
            if i % 3 == 0 {
                store.transition(op, OpState::Executing, Some("claimed by worker w")).await.unwrap();
                store.transition(op, OpState::Complete, None).await.unwrap();
            }
            ops.push(op);
        }
        let several = NetsOp { network_uuids: vec![network, NetworkId::new_v4(), NetworkId::new_v4()] }
            .enqueue(&store)
            .priority(Priority::Background)
            .task(NetTask::NetworkDeploy)
            .await
            .unwrap();
        ops.insert(7, several);
        ops.reverse();
        let mut asked = ops.clone();
        asked.insert(3, ops_core::OpId::new_v4());
        asked.push(ops[0]);
        let batched = store.op_records(&asked).await.unwrap();
        let mut one_by_one = Vec::new();
        for op in &ops {
            one_by_one.push(store.op_record(*op).await.unwrap().unwrap());
        }
        assert_eq!(batched.len(), ops.len());
        assert_eq!(batched, one_by_one);
        let several = batched.iter().find(|record| record.op_uuid == several).unwrap();
        assert_eq!(several.targets.len(), 3);
        assert!(several.targets.windows(2).all(|pair| pair[0].sequence_number < pair[1].sequence_number));
        let done = batched.iter().find(|record| record.state == Some(OpState::Complete)).unwrap();
        let states: Vec<_> = done.events.iter().filter_map(|event| event.extra["value"].as_str()).collect();
        assert_eq!(states, ["executing", "complete"]);
        assert!(store.op_records(&[]).await.unwrap().is_empty());
    }

    async fn latest_is_the_newest_target_row_in_any_state(db: &TestDb) {
        let store = db.migrated_store().await;
        let network = NetworkId::new_v4();
        assert_eq!(store.latest(network).await.unwrap(), None);
        let first = enqueue_net_op(&store, network).await;
        let second = enqueue_net_op(&store, network).await;
        let latest = store.latest(network).await.unwrap().unwrap();
        assert_eq!((latest.op_type.as_str(), latest.op_uuid), ("net_op", second));
        store.transition(second, OpState::Executing, None).await.unwrap();
        store.transition(second, OpState::Complete, None).await.unwrap();
        assert_eq!(store.latest(network).await.unwrap().unwrap().op_uuid, second);
        assert_ne!(first, second);
        assert_eq!(
            serde_json::to_value(store.latest(network).await.unwrap()).unwrap(),
            serde_json::json!({"op_type": "net_op", "op_uuid": second.to_string()})
        );
    }

    async fn pending_lists_in_flight_ops_oldest_first(db: &TestDb) {
        let store = db.migrated_store().await;
        let network = NetworkId::new_v4();
        let a = enqueue_net_op(&store, network).await;
        let b = enqueue_net_op(&store, network).await;
        let c = enqueue_net_op(&store, network).await;
        store.transition(b, OpState::Executing, None).await.unwrap();
        store.transition(c, OpState::Abort, None).await.unwrap();
        let pending = store.pending(network).await.unwrap();
        let got: Vec<_> = pending.iter().map(|op| (op.op_uuid, op.state)).collect();
        assert_eq!(got, [(a, Some(OpState::Queued)), (b, Some(OpState::Executing))]);
        assert!(pending[0].sequence_number < pending[1].sequence_number);
        assert!(store.pending(NetworkId::new_v4()).await.unwrap().is_empty());
    }

    async fn history_is_newest_first_and_paginates(db: &TestDb) {
        let store = db.migrated_store().await;
        let network = NetworkId::new_v4();
        let mut ops = Vec::new();
        for _ in 0..5 {
            ops.push(enqueue_net_op(&store, network).await);
        }
        store.transition(ops[0], OpState::Deleted, None).await.unwrap();
        enqueue_net_op(&store, NetworkId::new_v4()).await;

        let first = store.history(network, None, 2).await.unwrap();
        assert_eq!(first.ops.iter().map(|op| op.op_uuid).collect::<Vec<_>>(), [ops[4], ops[3]]);
        let second = store.history(network, first.next_before, 2).await.unwrap();
        assert_eq!(second.ops.iter().map(|op| op.op_uuid).collect::<Vec<_>>(), [ops[2], ops[1]]);
        let third = store.history(network, second.next_before, 2).await.unwrap();
        assert_eq!(third.ops.iter().map(|op| op.op_uuid).collect::<Vec<_>>(), [ops[0]]);
        assert_eq!(third.ops[0].state, Some(OpState::Deleted));
        assert_eq!(third.next_before, None);
        let all = store.history(network, None, 5).await.unwrap();
        assert_eq!(all.ops.len(), 5);
        assert_eq!(all.next_before, None);
    }

    async fn history_shows_a_missing_state_row_as_none(db: &TestDb) {
        let store = db.migrated_store().await;
        let network = NetworkId::new_v4();
        let op = enqueue_net_op(&store, network).await;
        db.execute(&format!("DELETE FROM object_states WHERE object_uuid = '{op}'")).await;
        let history = store.history(network, None, 10).await.unwrap();
        assert_eq!(history.ops[0].state, None);
        assert!(!store.has_pending(network).await.unwrap(), "a missing state row is terminal");
    }

    async fn filter_pending_returns_exactly_the_busy_objects(db: &TestDb) {
        let store = db.migrated_store().await;
        let networks: Vec<NetworkId> = (0..6).map(|_| NetworkId::new_v4()).collect();
        let mut busy = BTreeSet::new();
        for (i, network) in networks.iter().enumerate() {
            let op = enqueue_net_op(&store, *network).await;
            if i % 2 == 0 {
                busy.insert(network.object_ref());
            } else {
                store.transition(op, OpState::Error, None).await.unwrap();
            }
        }
        let mut asked: Vec<ObjectRef> = networks.iter().map(|n| n.object_ref()).collect();
        let instance = InstanceId::from_uuid(networks[0].as_uuid());
        asked.push(instance.object_ref());
        asked.push(NetworkId::new_v4().object_ref());
        asked.push(networks[0].object_ref());
        assert_eq!(store.filter_pending(&asked).await.unwrap(), busy);
        assert!(store.filter_pending(&[]).await.unwrap().is_empty());
    }

    async fn filter_pending_handles_more_targets_than_one_statement_binds(db: &TestDb) {
        let store = db.migrated_store().await;
        let networks: Vec<NetworkId> = (0..40).map(|_| NetworkId::new_v4()).collect();
        NetsOp { network_uuids: networks.clone() }.enqueue(&store)
            .priority(Priority::Background)
            .task(NetTask::NetworkEnsureMesh)
            .await
            .unwrap();
        let mut asked: Vec<ObjectRef> = (0..70_000).map(|_| NetworkId::new_v4().object_ref()).collect();
        asked.extend(networks.iter().map(|n| n.object_ref()));
        let pending = store.filter_pending(&asked).await.unwrap();
        assert_eq!(pending, networks.iter().map(|n| n.object_ref()).collect());
    }

    async fn recent_terminal_is_newest_first_and_filters_by_type(db: &TestDb) {
        let store = db.migrated_store().await;
        let network = NetworkId::new_v4();
        let mut ended = Vec::new();
        for end in [OpState::Error, OpState::Complete, OpState::Error] {
            let op = enqueue_net_op(&store, network).await;
            store.transition(op, OpState::Executing, None).await.unwrap();
            store.transition(op, end, None).await.unwrap();
            ended.push((op, end));
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        enqueue_net_op(&store, network).await;
        NetsOp { network_uuids: vec![network] }.enqueue(&store)
            .priority(Priority::Background)
            .task(NetTask::NetworkEnsureMesh)
            .await
            .unwrap();
        let recent = store.recent_terminal(network, Some("net_op"), 2).await.unwrap();
        let got: Vec<_> = recent.iter().map(|op| (op.op_uuid, op.state)).collect();
        assert_eq!(got, [ended[2], ended[1]]);
        assert!(recent[0].update_time >= recent[1].update_time);
        assert_eq!(store.recent_terminal(network, None, 10).await.unwrap().len(), 3);
        assert!(store.recent_terminal(network, Some("nets_op"), 10).await.unwrap().is_empty());
    }

    async fn illegal_transitions_are_errors_and_change_nothing(db: &TestDb) {
        let store = db.migrated_store().await;
        let network = NetworkId::new_v4();
        let op = enqueue_net_op(&store, network).await;
        let err = store.transition(op, OpState::Complete, None).await.unwrap_err();
        assert_eq!(err.to_string(), format!("cluster operation {op} cannot change state"));
        assert_eq!(
            std::error::Error::source(&err).map(ToString::to_string).as_deref(),
            Some("illegal operation state transition from `queued` to `complete`")
        );
        assert_eq!(store.op_state(op).await.unwrap(), Some(OpState::Queued));
        assert_eq!(store.transition(op, OpState::Executing, Some("worker 1")).await.unwrap(), OpState::Queued);
        // Deferred: back to the queue.
        assert_eq!(store.transition(op, OpState::Queued, None).await.unwrap(), OpState::Executing);
        assert_eq!(store.transition(op, OpState::Queued, None).await.unwrap(), OpState::Queued);
        store.transition(op, OpState::Executing, None).await.unwrap();
        store.transition(op, OpState::Complete, None).await.unwrap();
        store.transition(op, OpState::Deleted, None).await.unwrap();
        assert!(store.transition(op, OpState::Queued, None).await.is_err());
        // Every real move is a mutate event on the op; the repeated `queued` was not a move.
        assert_eq!(db.count("events WHERE event_type = 'mutate'").await, 5);
        let missing = ops_core::OpId::new_v4();
        assert!(matches!(
            store.transition(missing, OpState::Executing, None).await,
            Err(StoreError::OpNotFound(id)) if id == missing
        ));
    }

    async fn hard_delete_op_refuses_in_flight_ops_and_removes_terminal_ones(db: &TestDb) {
        let store = db.migrated_store().await;
        let network = NetworkId::new_v4();
        let older = enqueue_net_op(&store, network).await;
        let op = enqueue_net_op(&store, network).await;
        let err = store.hard_delete_op(op).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("cluster operation {op} is still queued; only a terminal op can be hard-deleted")
        );
        store.transition(op, OpState::Abort, None).await.unwrap();
        store.hard_delete_op(op).await.unwrap();
        assert_eq!(db.count(&format!("cluster_operations WHERE uuid = '{op}'")).await, 0);
        assert_eq!(db.count(&format!("cluster_operation_targets WHERE operation_uuid = '{op}'")).await, 0);
        assert_eq!(db.count(&format!("object_states WHERE object_uuid = '{op}'")).await, 0);
        assert_eq!(db.count(&format!("event_objects WHERE object_uuid = '{op}'")).await, 0);
        // The pointer moves back to the older op, as in Shaken Fist.
        assert_eq!(store.latest(network).await.unwrap().unwrap().op_uuid, older);
        assert!(matches!(store.hard_delete_op(op).await, Err(StoreError::OpNotFound(_))));
    }

    async fn op_record_shows_header_wire_state_targets_and_events(db: &TestDb) {
        let store = db.migrated_store().await;
        let network = NetworkId::new_v4();
        let op = enqueue_net_op(&store, network).await;
        store.transition(op, OpState::Executing, Some("worker-1")).await.unwrap();
        let record = store.op_record(op).await.unwrap().unwrap();
        assert_eq!((record.op_type.as_str(), record.version), ("net_op", 3));
        assert_eq!(record.state, Some(OpState::Executing));
        assert_eq!(record.state_message.as_deref(), Some("worker-1"));
        assert_eq!(record.queue_name, "networknode-clusteroperation-background");
        assert_eq!(record.wire["network_uuid"], network.to_string());
        assert_eq!(record.wire["uuid"], op.to_string());
        assert_eq!(record.targets.len(), 1);
        assert_eq!((record.targets[0].object_type.as_str(), record.targets[0].uuid.clone()), ("network", network.to_string()));
        let events: Vec<(&str, &str)> = record.events.iter().map(|e| (e.event_type.as_str(), e.message.as_str())).collect();
        assert_eq!(events, [("audit", "net_op operation created with tasks network_deploy"), ("mutate", "set attribute")]);
        assert_eq!(record.events[1].extra["value"], "executing");
        assert_eq!(store.op_record(ops_core::OpId::new_v4()).await.unwrap(), None);
    }

    async fn hard_delete_object_removes_only_its_target_rows(db: &TestDb) {
        let store = db.migrated_store().await;
        let (gone, kept) = (NetworkId::new_v4(), NetworkId::new_v4());
        enqueue_net_op(&store, gone).await;
        enqueue_net_op(&store, gone).await;
        enqueue_net_op(&store, kept).await;
        assert_eq!(store.hard_delete_object(gone).await.unwrap(), 2);
        assert_eq!(store.latest(gone).await.unwrap(), None);
        assert!(store.has_pending(kept).await.unwrap());
        assert_eq!(store.hard_delete_object(gone).await.unwrap(), 0);
    }

    async fn a_state_row_under_another_type_is_not_the_ops_in_any_query(db: &TestDb) {
        // A legacy row: the op's state sits under another object type than the op's own. Every query finds an
        // op's state by the state table's key (type, uuid), so to all of them this op has no state: terminal.
        let store = db.migrated_store().await;
        let network = NetworkId::new_v4();
        let op = enqueue_net_op(&store, network).await;
        db.execute(&format!("UPDATE object_states SET object_type = 'node_inst_op' WHERE object_uuid = '{op}'"))
            .await;
        assert!(!store.has_pending(network).await.unwrap());
        assert!(store.pending(network).await.unwrap().is_empty());
        assert!(store.filter_pending(&[network.object_ref()]).await.unwrap().is_empty());
        let history = store.history(network, None, 10).await.unwrap();
        assert_eq!(history.ops.len(), 1);
        assert_eq!((history.ops[0].op_uuid, history.ops[0].state), (op, None));
        assert!(store.recent_terminal(network, None, 10).await.unwrap().is_empty());
        assert_eq!(store.op_state(op).await.unwrap(), None);
        assert_eq!(store.op_record(op).await.unwrap().unwrap().state, None);
        assert!(matches!(
            store.transition(op, OpState::Executing, None).await,
            Err(StoreError::OpNotFound(id)) if id == op
        ));
        // With no state of its own, it is terminal by exclusion: it may be hard-deleted.
        store.hard_delete_op(op).await.unwrap();
        assert_eq!(store.latest(network).await.unwrap(), None);
    }
}

/// `pending` on an object with a long history reads its in-flight ops, not its history, whatever plan the
/// server caches: with generic plans forced (what PostgreSQL uses from a connection's sixth call of a
/// statement), the rows fetched by index from the targets table stay a few per in-flight op.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_pending_reads_in_flight_ops_not_the_history() {
    ops_testkit::run_on(ops_testkit::Backend::Postgres, |db| async move {
        let store = db.migrated_store().await;
        let busy = NetworkId::new_v4();
        // A fleet with a backlog, 3,000 networks with an op each in flight, whose statistics are gathered;
        // then one network's 2,000 finished ops, which the statistics have not seen (autovacuum off or
        // behind): to the planner, no object has more than a target row or two.
        let fleet = |count: u32, object: String, state: &str| {
            format!(
                "INSERT INTO cluster_operations (uuid, operation_type, version, created_at, priority, queue_name, \
                 metadata_json) SELECT gen_random_uuid()::text, 'net_op', 1, g, 'background', 'q', '{{}}' \
                 FROM generate_series(1, {count}) g; \
                 INSERT INTO object_states (object_type, object_uuid, state_value, update_time) \
                 SELECT 'net_op', o.uuid, '{state}', 1 FROM cluster_operations o \
                 WHERE NOT EXISTS (SELECT 1 FROM object_states s WHERE s.object_uuid = o.uuid); \
                 INSERT INTO cluster_operation_targets (operation_uuid, operation_type, target_object_type, \
                 target_uuid, created_at) SELECT o.uuid, 'net_op', 'network', {object}, 1 FROM cluster_operations o \
                 WHERE NOT EXISTS (SELECT 1 FROM cluster_operation_targets t WHERE t.operation_uuid = o.uuid)"
            )
        };
        db.execute(&fleet(3_000, "gen_random_uuid()::text".to_owned(), "queued")).await;
        db.execute("ANALYZE").await;
        db.execute(&fleet(2_000, format!("'{busy}'"), "complete")).await;
        let in_flight = [enqueue_net_op(&store, busy).await, enqueue_net_op(&store, busy).await];
        db.execute(
            "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET plan_cache_mode = force_generic_plan', \
             current_database()); END $$",
        )
        .await;
        store.close().await;
        let before = db.settled_table_counter("cluster_operation_targets", "idx_tup_fetch").await;
        let store = db.store().await;
        for _ in 0..10 {
            let pending = store.pending(busy).await.unwrap();
            assert_eq!(pending.iter().map(|op| op.op_uuid).collect::<Vec<_>>(), in_flight);
        }
        store.close().await;
        let fetched = db.settled_table_counter("cluster_operation_targets", "idx_tup_fetch").await - before;
        assert!(fetched <= 10 * 2 * 3, "{fetched} target rows fetched by 10 calls of pending on 2 in-flight ops");
        db
    })
    .await;
}
