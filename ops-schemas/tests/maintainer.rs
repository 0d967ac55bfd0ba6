//! The network maintainer on every backend, with Shaken Fist's repair ops: what it repairs, what it leaves
//! alone (busy, settling, cooling down, breaker open, deep queues), and that it fails closed.

use std::sync::Arc;

use ops_core::network::{
    Host, MaintainError, Maintainer, MaintainerOptions, PassReport, RECREATE_ON_HYPERVISOR,
    RECREATE_ON_NETWORK_NODE, Role, SimulatedHost,
};
use ops_core::{
    InstanceId, InterfaceId, NetworkId, NewObject, NodeId, ObjectState, OpState, Priority, Store,
};
use ops_schemas::ShakenFistRepairs;
use ops_schemas::ops::{NetOp, NetTask};
use ops_testkit::{TestDb, backend_tests};
use tokio::sync::oneshot;

/// A created network, its state settled (changed long ago), its bridge up on `host` or not.
async fn network(
    db: &TestDb,
    store: &Store,
    host: &SimulatedHost,
    vxid: u32,
    bridge_up: bool,
) -> NetworkId {
    let id = NetworkId::new_v4();
    store
        .create_object(&NewObject::network(id, format!("net{vxid}"), "ns", vxid))
        .await
        .expect("register the network");
    store
        .set_object_state(id.into(), ObjectState::Created, None)
        .await
        .expect("create the network");
    settle(db, id).await;
    host.set_interface(&format!("br-vxlan-{vxid:06x}"), bridge_up);
    id
}

/// Backdates the network's last state change past the maintainer's settle time.
async fn settle(db: &TestDb, network: NetworkId) {
    db.execute(&format!(
        "UPDATE object_states SET update_time = update_time - 3600 WHERE object_uuid = '{network}'"
    ))
    .await;
}

/// A `net_op` on `network` that ended in `state`, `ago` seconds ago: an earlier recreate of the maintainer
/// when `recreate`, other work (a mesh check, a deploy) otherwise.
async fn finished_net_op(
    db: &TestDb,
    store: &Store,
    network: NetworkId,
    state: OpState,
    ago: f64,
    recreate: bool,
) {
    let mut enqueue = NetOp {
        network_uuid: network,
        node_uuid: None,
        floating_address: None,
        inner_address: None,
    }
    .enqueue(store)
    .priority(Priority::Background)
    .task(NetTask::NetworkApplyCreateNetworkNode);
    if recreate {
        enqueue = enqueue.request_id(ops_core::network::RECREATE_REQUEST_ID);
    }
    let op = enqueue.await.expect("enqueue");
    store
        .transition(op, OpState::Executing, None)
        .await
        .expect("start");
    store.transition(op, state, None).await.expect("finish");
    db.execute(&format!(
        "UPDATE object_states SET update_time = update_time - {ago} WHERE object_uuid = '{op}'; \
         DELETE FROM work_queue WHERE operation_uuid = '{op}'"
    ))
    .await;
}

async fn enqueue(store: &Store, network: NetworkId) -> ops_core::OpId {
    NetOp {
        network_uuid: network,
        node_uuid: None,
        floating_address: None,
        inner_address: None,
    }
    .enqueue(store)
    .priority(Priority::UserWaiting)
    .task(NetTask::NetworkDeploy)
    .await
    .expect("enqueue")
}

/// Now, in unix seconds.
fn ops_core_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64()
}

fn maintainer(
    store: &Store,
    host: Arc<SimulatedHost>,
    role: Role,
) -> Maintainer<ShakenFistRepairs> {
    Maintainer::new(store.clone(), host, role, ShakenFistRepairs)
}

/// The events the maintainer wrote on `network`, in order (the enqueue's own audit events left out).
async fn statuses(db: &TestDb, network: NetworkId) -> Vec<String> {
    db.strings(&format!(
        "SELECT e.message FROM events e JOIN event_objects o ON o.event_uuid = e.event_uuid \
         WHERE o.object_type = 'network' AND o.object_uuid = '{network}' AND e.extra LIKE '%\"maintainer\"%' \
         ORDER BY e.event_uuid"
    ))
    .await
    .into_iter()
    .map(|message| message.expect("a message"))
    .collect()
}

/// The queue names of the ops enqueued on `network`, in order.
async fn repair_queues(db: &TestDb, network: NetworkId) -> Vec<String> {
    db.strings(&format!(
        "SELECT o.queue_name FROM cluster_operations o JOIN cluster_operation_targets t ON t.operation_uuid = o.uuid \
         WHERE t.target_uuid = '{network}' ORDER BY t.sequence_number"
    ))
    .await
    .into_iter()
    .map(|queue| queue.expect("a queue name"))
    .collect()
}

/// A host that, the first time it is read (after the pass asked which networks are busy), stops and lets
/// the test break the database before the pass goes on.
struct InterruptingHost {
    inner: SimulatedHost,
    #[allow(clippy::type_complexity)]
    pause: std::sync::Mutex<Option<(oneshot::Sender<()>, oneshot::Receiver<()>)>>,
}

impl Host for InterruptingHost {
    fn is_network_node(&self) -> bool {
        self.inner.is_network_node()
    }

    fn interface_up(&self, name: &str) -> std::io::Result<bool> {
        if let Some((reached, resume)) = self.pause.lock().expect("pause").take() {
            let _ = reached.send(());
            let _ = tokio::task::block_in_place(|| resume.blocking_recv());
        }
        self.inner.interface_up(name)
    }

    fn dnsmasq_running(&self, network: NetworkId) -> std::io::Result<bool> {
        self.inner.dnsmasq_running(network)
    }
}

/// Makes the gate's table unreadable, as a lost or broken database would: every pending check now fails.
const BREAK_THE_GATE: &str = "ALTER TABLE in_flight_targets RENAME TO in_flight_targets_gone";

/// Shaken Fist's repairs, except that the repair of one network is refused.
struct RefusingOne(NetworkId);

impl ops_core::network::Repairs for RefusingOne {
    async fn recreate_on_network_node(
        &self,
        store: &Store,
        network: &ops_core::Network,
    ) -> Result<Vec<ops_core::OpId>, ops_core::EnqueueError> {
        if network.id == self.0 {
            return Err(ops_core::EnqueueError::NoTasks);
        }
        ShakenFistRepairs
            .recreate_on_network_node(store, network)
            .await
    }

    async fn recreate_on_hypervisor(
        &self,
        store: &Store,
        network: &ops_core::Network,
        node: NodeId,
    ) -> Result<Vec<ops_core::OpId>, ops_core::EnqueueError> {
        ShakenFistRepairs
            .recreate_on_hypervisor(store, network, node)
            .await
    }

    async fn ensure_mesh(
        &self,
        store: &Store,
        network: &ops_core::Network,
        node: NodeId,
    ) -> Result<Vec<ops_core::OpId>, ops_core::EnqueueError> {
        ShakenFistRepairs.ensure_mesh(store, network, node).await
    }

    async fn delete_on_network_node(
        &self,
        store: &Store,
        network: &ops_core::Network,
    ) -> Result<Vec<ops_core::OpId>, ops_core::EnqueueError> {
        ShakenFistRepairs
            .delete_on_network_node(store, network)
            .await
    }
}

backend_tests! {
    /// On the network node: a broken idle network is repaired (status events, then the repair and mesh
    /// ops); one with an op in flight, one that is healthy, and one whose state just changed are not.
    async fn the_network_node_repairs_only_broken_idle_networks(db: &TestDb) {
        let store = db.migrated_store().await;
        let node = NodeId::new_v4();
        let host = Arc::new(SimulatedHost::new(true));
        let broken = network(db, &store, &host, 1, false).await;
        let busy = network(db, &store, &host, 2, false).await;
        let busy_op = enqueue(&store, busy).await;
        let healthy = network(db, &store, &host, 3, true).await;
        let fresh = network(db, &store, &host, 4, false).await;
        store.set_object_state(fresh.into(), ObjectState::Error, Some("bridge lost")).await.unwrap();
        let dhcp = NetworkId::new_v4();
        store.create_object(&NewObject::network(dhcp, "dhcp", "ns", 5).dhcp(true)).await.unwrap();
        store.set_object_state(dhcp.into(), ObjectState::Created, None).await.unwrap();
        settle(db, dhcp).await;
        host.set_interface("br-vxlan-000005", true);

        let report = maintainer(&store, host.clone(), Role::NetworkNode(node)).pass().await.unwrap();
        assert_eq!(report.networks, 5, "{report:?}");
        assert_eq!((report.busy.as_slice(), report.okay, report.settling.as_slice()), (&[busy][..], 1, &[fresh][..]));
        let repaired: Vec<_> = report.repaired.iter().map(|r| (r.network, r.health.as_str(), r.ops.len())).collect();
        let mut expected = vec![
            (broken, "network not ok, is not created: br-vxlan-000001 is not up", 2),
            (dhcp, "network not ok, dnsmasq not running", 2),
        ];
        expected.sort();
        let mut repaired = repaired;
        repaired.sort();
        assert_eq!(repaired, expected);
        assert_eq!(
            statuses(db, broken).await,
            ["network not ok, is not created: br-vxlan-000001 is not up", RECREATE_ON_NETWORK_NODE]
        );
        assert_eq!(
            repair_queues(db, broken).await,
            ["networknode-clusteroperation-background".to_owned(), format!("{node}-network-background")]
        );
        assert_eq!(repair_queues(db, busy).await.len(), 1, "the busy network got no repair");
        assert_eq!(store.op_state(busy_op).await.unwrap(), Some(OpState::Queued));
        assert!(statuses(db, healthy).await.is_empty());

        // The pass leaves its record on the node, for operators.
        let passes = store.maintainer_passes(0.0, 10).await.unwrap();
        let [pass] = passes.as_slice() else { panic!("{passes:?}") };
        assert_eq!((pass.node, pass.record.maintainer), (node, Role::NetworkNode(node)));
        let record = &pass.record;
        assert_eq!((record.networks, record.okay, record.repaired.count), (5, 1, 2));
        assert_eq!((record.busy.first.as_slice(), record.settling.first.as_slice()), (&[busy][..], &[fresh][..]));
        let mut recorded: Vec<_> = record.repaired.first.iter().map(|r| r.network).collect();
        recorded.sort();
        assert_eq!(recorded, expected.iter().map(|(network, _, _)| *network).collect::<Vec<_>>());
        assert!(store.maintainer_passes(ops_core_now() + 1.0, 10).await.unwrap().is_empty(), "none after now");
    }

    /// On a hypervisor: the networks of its running instances, repaired with the status event the plan
    /// is about and a `node_net_op`.
    async fn a_hypervisor_repairs_the_networks_of_its_instances(db: &TestDb) {
        let store = db.migrated_store().await;
        let node = NodeId::new_v4();
        let host = Arc::new(SimulatedHost::new(false));
        let mine = network(db, &store, &host, 1, false).await;
        let not_mine = network(db, &store, &host, 2, false).await;
        let instance = InstanceId::new_v4();
        store.create_object(&NewObject::instance(instance, "vm", "ns", Some(node))).await.unwrap();
        for state in [ObjectState::Creating, ObjectState::Created] {
            store.set_object_state(instance.into(), state, None).await.unwrap();
        }
        store.create_object(&NewObject::interface(InterfaceId::new_v4(), "eth0", "ns", instance, mine)).await.unwrap();

        let report = maintainer(&store, host, Role::Hypervisor(node)).pass().await.unwrap();
        assert_eq!(report.networks, 1, "{report:?}");
        assert_eq!(report.repaired.len(), 1);
        assert_eq!(
            statuses(db, mine).await,
            ["network not ok, is not created: br-vxlan-000001 is not up", RECREATE_ON_HYPERVISOR]
        );
        let ops = db.strings(&format!(
            "SELECT o.operation_type FROM cluster_operations o JOIN cluster_operation_targets t ON t.operation_uuid = o.uuid \
             WHERE t.target_uuid = '{mine}' ORDER BY t.sequence_number"
        )).await;
        assert_eq!(ops, [Some("node_net_op".to_owned()), Some("net_op".to_owned())]);
        assert!(repair_queues(db, not_mine).await.is_empty());
    }

    /// A network whose last repair failed moments ago cools down; one whose last repairs all failed is left
    /// to an operator; one whose failure is older than the cooldown is repaired again.
    async fn cooldown_and_circuit_breaker_hold_back_failing_repairs(db: &TestDb) {
        let store = db.migrated_store().await;
        let host = Arc::new(SimulatedHost::new(true));
        let cooling = network(db, &store, &host, 1, false).await;
        finished_net_op(db, &store, cooling, OpState::Error, 10.0, true).await;
        let quiesced = network(db, &store, &host, 2, false).await;
        for ago in [3000.0, 2000.0, 1000.0] {
            finished_net_op(db, &store, quiesced, OpState::Error, ago, true).await;
            // The mesh check after each recreate completes: it neither breaks the streak nor counts.
            finished_net_op(db, &store, quiesced, OpState::Complete, ago - 1.0, false).await;
        }
        let retried = network(db, &store, &host, 3, false).await;
        finished_net_op(db, &store, retried, OpState::Complete, 3000.0, true).await;
        finished_net_op(db, &store, retried, OpState::Error, 1000.0, true).await;
        // Failed work that is not a recreate does not hold a repair back.
        finished_net_op(db, &store, retried, OpState::Error, 5.0, false).await;

        let report = maintainer(&store, host, Role::NetworkNode(NodeId::new_v4())).pass().await.unwrap();
        assert_eq!(report.cooling_down, [cooling], "{report:?}");
        assert_eq!(report.breaker_open, [quiesced]);
        assert_eq!(report.repaired.iter().map(|r| r.network).collect::<Vec<_>>(), [retried]);
        // "10 seconds ago" when the setup above is quick; more on a loaded machine.
        let cooling_statuses = statuses(db, cooling).await;
        let [status] = cooling_statuses.as_slice() else { panic!("{cooling_statuses:?}") };
        let ago: u64 = status
            .strip_prefix("network reconciliation failed ")
            .and_then(|rest| rest.strip_suffix(" seconds ago; cooling down before trying again"))
            .and_then(|seconds| seconds.parse().ok())
            .unwrap_or_else(|| panic!("{status}"));
        assert!((10..60).contains(&ago), "{status}");
        assert_eq!(
            statuses(db, quiesced).await,
            ["network has failed reconciliation 3 times in a row; quiesced pending operator attention"]
        );
    }

    /// A repair the store refuses is reported, and the pass goes on to the other networks.
    async fn a_refused_repair_does_not_stop_the_pass(db: &TestDb) {
        let store = db.migrated_store().await;
        let host = Arc::new(SimulatedHost::new(true));
        let (a, b) = (network(db, &store, &host, 1, false).await, network(db, &store, &host, 2, false).await);
        let refused = a.min(b);
        let report = Maintainer::new(store.clone(), host, Role::NetworkNode(NodeId::new_v4()), RefusingOne(refused))
            .pass()
            .await
            .unwrap();
        assert_eq!(report.refused.iter().map(|r| r.network).collect::<Vec<_>>(), [refused], "{report:?}");
        assert_eq!(report.refused[0].reason, "an operation needs at least one task");
        assert_eq!(report.repaired.iter().map(|r| r.network).collect::<Vec<_>>(), [a.max(b)]);
    }

    /// A hypervisor no longer looks after a network whose interface was unplugged (deleted).
    async fn an_unplugged_interface_takes_its_network_off_the_hypervisor(db: &TestDb) {
        let store = db.migrated_store().await;
        let node = NodeId::new_v4();
        let host = Arc::new(SimulatedHost::new(false));
        let net = network(db, &store, &host, 1, false).await;
        let instance = InstanceId::new_v4();
        store.create_object(&NewObject::instance(instance, "vm", "ns", Some(node))).await.unwrap();
        for state in [ObjectState::Creating, ObjectState::Created] {
            store.set_object_state(instance.into(), state, None).await.unwrap();
        }
        let interface = InterfaceId::new_v4();
        store.create_object(&NewObject::interface(interface, "eth0", "ns", instance, net)).await.unwrap();
        assert_eq!(store.networks_of_node(node).await.unwrap().len(), 1);
        store.set_object_state(interface.into(), ObjectState::Deleted, None).await.unwrap();
        let report = maintainer(&store, host, Role::Hypervisor(node)).pass().await.unwrap();
        assert_eq!((report.networks, report.repaired.len()), (0, 0), "{report:?}");
    }

    /// With the breaker off, the cooldown still holds a failing repair back.
    async fn the_cooldown_holds_with_the_breaker_off(db: &TestDb) {
        let store = db.migrated_store().await;
        let host = Arc::new(SimulatedHost::new(true));
        let cooling = network(db, &store, &host, 1, false).await;
        finished_net_op(db, &store, cooling, OpState::Error, 10.0, true).await;
        let mut options = MaintainerOptions::default();
        options.breaker_after = 0;
        let report = maintainer(&store, host, Role::NetworkNode(NodeId::new_v4())).options(options).pass().await.unwrap();
        assert_eq!(report.cooling_down, [cooling], "{report:?}");
        assert!(report.repaired.is_empty());
    }

    /// With the node's network queues deeper than the threshold, the pass repairs nothing and says why on
    /// the node.
    async fn deep_queues_skip_the_pass(db: &TestDb) {
        let store = db.migrated_store().await;
        let node = NodeId::new_v4();
        let host = Arc::new(SimulatedHost::new(true));
        let broken = network(db, &store, &host, 1, false).await;
        for _ in 0..3 {
            enqueue(&store, NetworkId::new_v4()).await;
        }
        let mut options = MaintainerOptions::default();
        options.queue_depth_threshold = 2;
        let report = maintainer(&store, host.clone(), Role::NetworkNode(node)).options(options).pass().await.unwrap();
        assert!(report.skipped_for_queue_depth, "{report:?}");
        assert_eq!((report.queue_depth, report.networks), (3, 0));
        assert!(repair_queues(db, broken).await.is_empty());
        let audit = db.strings(&format!(
            "SELECT e.message FROM events e JOIN event_objects o ON o.event_uuid = e.event_uuid WHERE o.object_uuid = '{node}' \
             ORDER BY e.event_uuid"
        )).await;
        assert_eq!(audit, [Some("network queue depth 3 exceeds 2; skipping maintenance".to_owned()), Some("network maintenance pass".to_owned())]);
        let passes = store.maintainer_passes(0.0, 10).await.unwrap();
        assert!(passes[0].record.skipped_for_queue_depth && passes[0].record.queue_depth == 3, "{passes:?}");
        // Under the threshold it repairs.
        let report = maintainer(&store, host, Role::NetworkNode(node)).pass().await.unwrap();
        assert_eq!(report.repaired.len(), 1, "{report:?}");
    }

    /// The gate's table unreadable before the pass: the pass stops on the error and repairs nothing.
    async fn a_store_error_before_the_pass_recreates_nothing(db: &TestDb) {
        let store = db.migrated_store().await;
        let host = Arc::new(SimulatedHost::new(true));
        network(db, &store, &host, 1, false).await;
        db.execute(BREAK_THE_GATE).await;
        let error = maintainer(&store, host, Role::NetworkNode(NodeId::new_v4())).pass().await.unwrap_err();
        assert!(matches!(error, MaintainError::Store(_)), "{error}");
        assert_eq!(db.count("cluster_operations").await, 0);
        assert_eq!(db.count("events WHERE event_type = 'status' AND message <> 'network maintenance pass'").await, 0);
    }

    /// The gate's table unreadable mid-pass (after the pass asked which networks are busy, before the
    /// repair): the gate's own check fails closed, the network counts as busy, and nothing is recreated.
    async fn a_store_error_mid_pass_recreates_nothing(db: &TestDb) {
        let store = db.migrated_store().await;
        let inner = SimulatedHost::new(true);
        let broken = network(db, &store, &inner, 1, false).await;
        let (reached, on_reached) = oneshot::channel();
        let (resume, on_resume) = oneshot::channel();
        let host = Arc::new(InterruptingHost { inner, pause: std::sync::Mutex::new(Some((reached, on_resume))) });
        let maintainer = Maintainer::new(store.clone(), host, Role::NetworkNode(NodeId::new_v4()), ShakenFistRepairs);
        let pass = tokio::spawn(async move { maintainer.pass().await });
        on_reached.await.unwrap();
        db.execute(BREAK_THE_GATE).await;
        resume.send(()).unwrap();
        let report = pass.await.unwrap().unwrap();
        assert!(report.repaired.is_empty(), "{report:?}");
        assert_eq!(report.busy, [broken]);
        assert_eq!(db.count("cluster_operations").await, 0);
        assert_eq!(db.count("events WHERE event_type = 'status' AND message <> 'network maintenance pass'").await, 0);
    }

    /// A `delete-wait` network with no interface left is deleted by the network node; a dry run decides the
    /// same and writes nothing.
    async fn delete_wait_networks_go_and_a_dry_run_writes_nothing(db: &TestDb) {
        let store = db.migrated_store().await;
        let host = Arc::new(SimulatedHost::new(true));
        let going = network(db, &store, &host, 1, true).await;
        store.set_object_state(going.into(), ObjectState::DeleteWait, None).await.unwrap();
        let broken = network(db, &store, &host, 2, false).await;
        let role = Role::NetworkNode(NodeId::new_v4());
        let events = db.count("events").await;
        let dry: PassReport = maintainer(&store, host.clone(), role).options(MaintainerOptions::default().dry_run(true)).pass().await.unwrap();
        assert!(dry.dry_run);
        assert_eq!((dry.deleted.len(), dry.repaired.len()), (1, 1), "{dry:?}");
        assert!(dry.repaired[0].ops.is_empty());
        assert_eq!((db.count("cluster_operations").await, db.count("events").await), (0, events));
        assert!(store.maintainer_passes(0.0, 10).await.unwrap().is_empty(), "a dry run records no pass");

        let report = maintainer(&store, host, role).pass().await.unwrap();
        assert_eq!(report.deleted.iter().map(|d| d.network).collect::<Vec<_>>(), [going]);
        let tasks = db.strings(&format!(
            "SELECT o.metadata_json FROM cluster_operations o JOIN cluster_operation_targets t ON t.operation_uuid = o.uuid \
             WHERE t.target_uuid = '{going}'"
        )).await;
        assert!(tasks[0].as_deref().unwrap().contains("network_apply_delete_network_node"), "{tasks:?}");
        assert_eq!(report.repaired.iter().map(|r| r.network).collect::<Vec<_>>(), [broken]);
    }
}

/// The database server vanishes mid-pass (every connection reset, its port refusing), after the pass asked
/// which networks are busy and before the repair: the gate's own check cannot reach it, so the network
/// counts as busy, and nothing is recreated — whether the pass then ends in a report or on the error.
// A test body, run on the servers by `run_on`: clippy allows `unwrap` in tests.
#[allow(clippy::unwrap_used)]
async fn the_server_gone_mid_pass_recreates_nothing(db: TestDb) -> TestDb {
    let proxy = db.proxy().await;
    let store = ops_core::StoreOptions::new(proxy.url())
        .acquire_timeout(std::time::Duration::from_millis(500))
        .connect()
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let inner = SimulatedHost::new(true);
    let broken = network(&db, &store, &inner, 1, false).await;
    let (reached, on_reached) = oneshot::channel();
    let (resume, on_resume) = oneshot::channel();
    let host = Arc::new(InterruptingHost {
        inner,
        pause: std::sync::Mutex::new(Some((reached, on_resume))),
    });
    let maintainer = Maintainer::new(
        store.clone(),
        host,
        Role::NetworkNode(NodeId::new_v4()),
        ShakenFistRepairs,
    );
    let pass = tokio::spawn(async move { maintainer.pass().await });
    on_reached.await.unwrap();
    proxy.cut();
    resume.send(()).unwrap();
    match pass.await.unwrap() {
        Ok(report) => {
            assert!(report.repaired.is_empty(), "{report:?}");
            assert_eq!(report.busy, [broken]);
        }
        Err(error) => assert!(matches!(error, MaintainError::Store(_)), "{error}"),
    }
    store.close().await;
    assert_eq!(db.count("cluster_operations").await, 0);
    assert_eq!(db.count("events WHERE event_type = 'status'").await, 0);
    db
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mariadb_server_gone_mid_pass_recreates_nothing() {
    ops_testkit::run_on(
        ops_testkit::Backend::MariaDb,
        the_server_gone_mid_pass_recreates_nothing,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_postgres_server_gone_mid_pass_recreates_nothing() {
    ops_testkit::run_on(
        ops_testkit::Backend::Postgres,
        the_server_gone_mid_pass_recreates_nothing,
    )
    .await;
}
