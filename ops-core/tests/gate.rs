//! The plan's phase 1 on every backend: `has_pending` is history-aware, and the gate fails closed.

mod support;

use ops_core::network::{Health, SimulatedHost};
use ops_core::{NetworkId, NewObject, ObjectRef, ObjectState, OpState};
use ops_testkit::backend_tests;
use support::enqueue_net_op;

backend_tests! {
    /// `Network::is_okay` in the plan's order: an op in flight (the latest-only race included) makes the
    /// network okay whatever the host shows; then the bridge; then dnsmasq, on the network node only.
    async fn is_okay_checks_pending_ops_then_the_bridge_then_dnsmasq(db: &TestDb) {
        let store = db.migrated_store().await;
        let id = NetworkId::new_v4();
        store.create_object(&NewObject::network(id, "n", "ns", 0x10).dhcp(true)).await.unwrap();
        store.set_object_state(id.into(), ObjectState::Created, None).await.unwrap();
        let network = store.network(id).await.unwrap().unwrap();
        let (hypervisor, network_node) = (SimulatedHost::new(false), SimulatedHost::new(true));
        let bridge_down = Health::BridgeDown { bridge: "br-vxlan-000010".to_owned() };
        assert_eq!(network.health(&store, &hypervisor).await, bridge_down);
        assert!(!network.is_okay(&store, &hypervisor).await);
        // The latest-only race: an earlier op still queued, a later one complete.
        let earlier = enqueue_net_op(&store, id).await;
        let later = enqueue_net_op(&store, id).await;
        store.transition(later, OpState::Executing, None).await.unwrap();
        store.transition(later, OpState::Complete, None).await.unwrap();
        assert_eq!(network.health(&store, &hypervisor).await, Health::Busy);
        assert!(network.is_okay(&store, &hypervisor).await);
        store.transition(earlier, OpState::Abort, None).await.unwrap();
        assert_eq!(network.health(&store, &hypervisor).await, bridge_down);
        for host in [&hypervisor, &network_node] {
            host.set_interface("br-vxlan-000010", true);
        }
        assert_eq!(network.health(&store, &hypervisor).await, Health::Okay);
        assert_eq!(network.health(&store, &network_node).await, Health::DnsmasqNotRunning);
        assert_eq!(Health::DnsmasqNotRunning.to_string(), "network not ok, dnsmasq not running");
        network_node.set_dnsmasq(id, true);
        assert_eq!(network.health(&store, &network_node).await, Health::Okay);
        // A database error is "pending": the host is not even read.
        db.execute("DROP TABLE in_flight_targets").await;
        assert_eq!(network.health(&store, &SimulatedHost::new(true)).await, Health::Busy);
    }

    async fn no_targets_means_nothing_pending(db: &TestDb) {
        let store = db.migrated_store().await;
        assert!(!store.has_pending(NetworkId::new_v4()).await.unwrap());
    }

    async fn a_queued_op_is_pending(db: &TestDb) {
        let store = db.migrated_store().await;
        let network = NetworkId::new_v4();
        enqueue_net_op(&store, network).await;
        assert!(store.has_pending(network).await.unwrap());
    }

    async fn an_executing_op_is_pending_and_a_complete_one_is_not(db: &TestDb) {
        let store = db.migrated_store().await;
        let network = NetworkId::new_v4();
        let op = enqueue_net_op(&store, network).await;
        store.transition(op, OpState::Executing, None).await.unwrap();
        assert!(store.has_pending(network).await.unwrap());
        store.transition(op, OpState::Complete, None).await.unwrap();
        assert!(!store.has_pending(network).await.unwrap());
    }

    async fn every_terminal_state_is_not_pending(db: &TestDb) {
        let store = db.migrated_store().await;
        for end in [OpState::Complete, OpState::Abort, OpState::Error, OpState::Deleted] {
            let network = NetworkId::new_v4();
            let op = enqueue_net_op(&store, network).await;
            store.transition(op, OpState::Executing, None).await.unwrap();
            store.transition(op, end, None).await.unwrap();
            assert!(!store.has_pending(network).await.unwrap(), "{end}");
        }
    }

    /// The latest-only race: a later op finished while an earlier one is still queued.
    async fn an_earlier_queued_op_is_pending_after_a_later_op_completed(db: &TestDb) {
        let store = db.migrated_store().await;
        let network = NetworkId::new_v4();
        let earlier = enqueue_net_op(&store, network).await;
        let later = enqueue_net_op(&store, network).await;
        store.transition(later, OpState::Executing, None).await.unwrap();
        store.transition(later, OpState::Complete, None).await.unwrap();
        assert_eq!(store.latest(network).await.unwrap().unwrap().op_uuid, later);
        assert!(store.has_pending(network).await.unwrap());
        let pending = store.pending(network).await.unwrap();
        assert_eq!(pending.iter().map(|op| op.op_uuid).collect::<Vec<_>>(), [earlier]);
    }

    async fn several_terminal_ops_then_an_in_flight_one_is_pending(db: &TestDb) {
        let store = db.migrated_store().await;
        let network = NetworkId::new_v4();
        for _ in 0..3 {
            let op = enqueue_net_op(&store, network).await;
            store.transition(op, OpState::Executing, None).await.unwrap();
            store.transition(op, OpState::Error, Some("bridge missing")).await.unwrap();
        }
        assert!(!store.has_pending(network).await.unwrap());
        enqueue_net_op(&store, network).await;
        assert!(store.has_pending(network).await.unwrap());
    }

    async fn ops_on_other_objects_do_not_leak(db: &TestDb) {
        let store = db.migrated_store().await;
        let busy = NetworkId::new_v4();
        enqueue_net_op(&store, busy).await;
        let idle = NetworkId::new_v4();
        assert!(!store.has_pending(idle).await.unwrap());
        // Same uuid, other type: an instance is not the network.
        let same_uuid_instance = ObjectRef { object_type: ops_core::ObjectType::Instance, uuid: busy.as_uuid() };
        assert!(!store.has_pending(same_uuid_instance).await.unwrap());
    }

    async fn the_gate_fails_closed_when_the_database_is_gone(db: &TestDb) {
        let store = db.migrated_store().await;
        let network = NetworkId::new_v4();
        assert!(!store.is_pending_or_unknown(network).await);
        store.close().await;
        assert!(store.has_pending(network).await.is_err());
        assert!(store.is_pending_or_unknown(network).await);
    }

    async fn an_unmigrated_database_makes_has_pending_an_error(db: &TestDb) {
        let store = db.store().await;
        let err = store.has_pending(NetworkId::new_v4()).await.unwrap_err();
        assert!(err.to_string().starts_with("database error while checking for pending operations on network "));
        assert!(store.is_pending_or_unknown(NetworkId::new_v4()).await);
    }

    async fn the_in_flight_markers_follow_rows_written_by_another_program(db: &TestDb) {
        // The gate reads in_flight_targets, which triggers keep in step with the states and targets, in the
        // same transaction, whoever writes them: here, plain SQL as a Shaken Fist-era tool would.
        let store = db.migrated_store().await;
        let network = NetworkId::new_v4();
        let op = enqueue_net_op(&store, network).await;
        let markers = || db.count("in_flight_targets");
        assert_eq!(markers().await, 1);
        let set_state = |state: &str| format!("UPDATE object_states SET state_value = '{state}' WHERE object_uuid = '{op}'");
        db.execute(&set_state("executing")).await;
        assert!(store.has_pending(network).await.unwrap());
        db.execute(&set_state("complete")).await;
        assert!(!store.has_pending(network).await.unwrap());
        assert_eq!(markers().await, 0);
        db.execute(&set_state("queued")).await;
        assert!(store.has_pending(network).await.unwrap());
        db.execute(&format!("DELETE FROM object_states WHERE object_uuid = '{op}'")).await;
        assert!(!store.has_pending(network).await.unwrap());
        db.execute(&format!(
            "INSERT INTO object_states (object_type, object_uuid, state_value, update_time) VALUES ('net_op', '{op}', 'preflight', 0)"
        ))
        .await;
        assert!(store.has_pending(network).await.unwrap());
        // A target row written for the in-flight op by another program is guarded at once, and one deleted is not.
        let other = NetworkId::new_v4();
        db.execute(&format!(
            "INSERT INTO cluster_operation_targets (operation_uuid, operation_type, target_object_type, target_uuid, created_at) \
             VALUES ('{op}', 'net_op', 'network', '{other}', 0)"
        ))
        .await;
        assert!(store.has_pending(other).await.unwrap());
        assert_eq!(store.pending(other).await.unwrap()[0].op_uuid, op);
        db.execute(&format!("DELETE FROM cluster_operation_targets WHERE target_uuid = '{other}'")).await;
        assert!(!store.has_pending(other).await.unwrap());
        assert!(store.filter_pending(&[network.into(), other.into()]).await.unwrap().contains(&network.into()));
        assert_eq!(markers().await, 1);
    }

    async fn a_backlog_elsewhere_adds_no_marker_to_an_idle_object(db: &TestDb) {
        // The gate probes the object's own markers: ops in flight on other objects are not on its path.
        let store = db.migrated_store().await;
        for _ in 0..50 {
            enqueue_net_op(&store, NetworkId::new_v4()).await;
        }
        let idle = NetworkId::new_v4();
        assert!(!store.has_pending(idle).await.unwrap());
        assert_eq!(db.count("in_flight_targets").await, 50);
        assert_eq!(db.count(&format!("in_flight_targets WHERE target_uuid = '{idle}'")).await, 0);
    }

    async fn an_unreadable_row_is_pending_to_the_gate_and_named_by_pending(db: &TestDb) {
        // Rows another program wrote with an op uuid this build cannot read: the gate does not need to
        // decode them and counts the object busy; `pending`, which must decode, names the bad value.
        let store = db.migrated_store().await;
        let network = NetworkId::new_v4();
        db.execute(&format!(
            "INSERT INTO object_states (object_type, object_uuid, state_value, update_time) \
             VALUES ('net_op', 'not-a-uuid', 'queued', 0); \
             INSERT INTO cluster_operation_targets (operation_uuid, operation_type, target_object_type, target_uuid, created_at) \
             VALUES ('not-a-uuid', 'net_op', 'network', '{network}', 0);"
        ))
        .await;
        assert!(store.has_pending(network).await.unwrap());
        assert!(store.is_pending_or_unknown(network).await);
        let err = store.pending(network).await.unwrap_err();
        assert_eq!(err.to_string(), "unreadable operation_uuid `not-a-uuid` in table cluster_operation_targets");
    }
}
