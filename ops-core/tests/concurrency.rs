//! Writers against each other on every backend, for a bounded number of ops (not a wall-clock soak, so CI
//! time stays predictable): eight enqueuers on a handful of objects, a worker running the ops, a prune
//! sweeping beside them and a sampler asking the gate all the while. Nothing is lost, nothing runs twice,
//! the gate never says idle while an op is known to be in flight, and contention reaches no caller: the
//! store's retries absorb it, and the test prints how many there were.

mod support;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ops_core::worker::{OpError, Worker};
use ops_core::{
    InstanceId, InterfaceId, NetworkId, NodeId, OpId, OpState, Priority, PrunePolicy, QueueTarget,
    Store,
};
use ops_testkit::backend_tests;
use support::{NetOp, NetTask, NodeInstNetIfaceOp, NodeInstNetIfaceTask};

const ENQUEUERS: usize = 8;
const OPS_EACH: usize = 40;
const NETWORKS: usize = 4;

/// What the test knows: an op is `live` from its enqueue's return until its handler returns — inside the
/// time it is really in flight, so the gate must say busy for its network whenever an op was live both
/// before and after the question.
#[derive(Default)]
struct Tracker {
    live: HashMap<OpId, NetworkId>,
    done: HashSet<OpId>,
    executions: HashMap<OpId, u32>,
    running: HashSet<OpId>,
}

impl Tracker {
    fn live_on(&self, network: NetworkId) -> HashSet<OpId> {
        self.live
            .iter()
            .filter(|(_, n)| **n == network)
            .map(|(op, _)| *op)
            .collect()
    }
}

/// Faults the handlers and the sampler saw; each must stay 0.
#[derive(Default)]
struct Faults {
    /// An op's handler ran while another run of it had not ended.
    overlapping_runs: AtomicU32,
    /// An op ran with fewer target rows than it was enqueued with.
    missing_targets: AtomicU32,
    /// The gate said idle for a network with an op live throughout the question.
    idle_while_busy: AtomicU32,
}

/// Marks the start of a run of `op`, checking its target rows; returns it to [`finish`].
async fn start(store: &Store, tracker: &Mutex<Tracker>, faults: &Faults, op: OpId, targets: usize) {
    {
        let mut t = tracker.lock().expect("tracker");
        *t.executions.entry(op).or_default() += 1;
        if !t.running.insert(op) {
            faults.overlapping_runs.fetch_add(1, Ordering::SeqCst);
        }
    }
    let record = store
        .op_record(op)
        .await
        .expect("read the op")
        .expect("the op");
    if record.targets.len() != targets {
        faults.missing_targets.fetch_add(1, Ordering::SeqCst);
    }
}

fn finish(tracker: &Mutex<Tracker>, op: OpId) {
    let mut t = tracker.lock().expect("tracker");
    t.running.remove(&op);
    t.done.insert(op);
    t.live.remove(&op);
}

backend_tests! {
    async fn enqueuers_a_worker_and_a_prune_together_lose_nothing(db: &TestDb) {
        let store = db.migrated_store().await;
        let node = NodeId::new_v4();
        let networks: Arc<Vec<NetworkId>> = Arc::new((0..NETWORKS).map(|_| NetworkId::new_v4()).collect());
        let tracker = Arc::new(Mutex::new(Tracker::default()));
        let faults = Arc::new(Faults::default());

        let worker = {
            let (s1, t1, f1) = (store.clone(), Arc::clone(&tracker), Arc::clone(&faults));
            let (s2, t2, f2) = (store.clone(), Arc::clone(&tracker), Arc::clone(&faults));
            Worker::builder(store.clone())
                .serve(QueueTarget::NetworkNode)
                .serve(QueueTarget::Node(node))
                .concurrency(4)
                .poll_interval(Duration::from_millis(10))
                .handle(move |_op: NetOp, ctx| {
                    let (store, tracker, faults) = (s1.clone(), Arc::clone(&t1), Arc::clone(&f1));
                    async move {
                        start(&store, &tracker, &faults, ctx.op_id(), 1).await;
                        finish(&tracker, ctx.op_id());
                        Ok::<_, OpError>(())
                    }
                })
                .handle(move |_op: NodeInstNetIfaceOp, ctx| {
                    let (store, tracker, faults) = (s2.clone(), Arc::clone(&t2), Arc::clone(&f2));
                    async move {
                        start(&store, &tracker, &faults, ctx.op_id(), 3).await;
                        finish(&tracker, ctx.op_id());
                        Ok::<_, OpError>(())
                    }
                })
                .build()
                .expect("worker")
        };
        let stop_worker = worker.shutdown_handle();
        let worker = tokio::spawn(async move { worker.run().await });

        let stopping = Arc::new(AtomicBool::new(false));
        let pruner = tokio::spawn({
            let (store, stopping) = (store.clone(), Arc::clone(&stopping));
            async move {
                let policy = PrunePolicy::new(Duration::from_millis(1));
                let mut prunes = 0;
                while !stopping.load(Ordering::SeqCst) {
                    store.prune(&policy).await.expect("a prune beside the writers");
                    prunes += 1;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                prunes
            }
        });
        let sampler = tokio::spawn({
            let (store, tracker, faults, networks, stopping) =
                (store.clone(), Arc::clone(&tracker), Arc::clone(&faults), Arc::clone(&networks), Arc::clone(&stopping));
            async move {
                let mut samples = 0;
                while !stopping.load(Ordering::SeqCst) {
                    for network in networks.iter() {
                        let before = tracker.lock().expect("tracker").live_on(*network);
                        let busy = store.has_pending(*network).await.expect("the gate answers");
                        let after = tracker.lock().expect("tracker").live_on(*network);
                        if !busy && before.intersection(&after).next().is_some() {
                            faults.idle_while_busy.fetch_add(1, Ordering::SeqCst);
                        }
                        samples += 1;
                    }
                }
                samples
            }
        });

        let enqueuers: Vec<_> = (0..ENQUEUERS)
            .map(|e| {
                let (store, tracker, networks) = (store.clone(), Arc::clone(&tracker), Arc::clone(&networks));
                tokio::spawn(async move {
                    let mut ops = Vec::new();
                    for i in 0..OPS_EACH {
                        let network = networks[(e + i) % networks.len()];
                        let op = if i % 2 == 0 {
                            NetOp { network_uuid: network, node_uuid: None }
                                .enqueue(&store)
                                .priority(Priority::UserWaiting)
                                .task(NetTask::NetworkDeploy)
                                .await
                        } else {
                            NodeInstNetIfaceOp {
                                node_uuid: node,
                                instance_uuid: InstanceId::new_v4(),
                                network_uuid: network,
                                interface_uuid: InterfaceId::new_v4(),
                            }
                            .enqueue(&store)
                            .priority(Priority::UserWaiting)
                            .task(NodeInstNetIfaceTask::HotPlugInstanceInterface)
                            .await
                        }
                        .expect("contention never reaches an enqueuer");
                        let mut t = tracker.lock().expect("tracker");
                        if !t.done.contains(&op) {
                            t.live.insert(op, network);
                        }
                        ops.push(op);
                    }
                    ops
                })
            })
            .collect();
        let mut ops = Vec::new();
        for enqueuer in enqueuers {
            ops.extend(enqueuer.await.expect("an enqueuer"));
        }
        assert_eq!(ops.len(), ENQUEUERS * OPS_EACH);

        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        while tracker.lock().expect("tracker").done.len() < ops.len() {
            assert!(std::time::Instant::now() < deadline, "the worker did not run every op");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        stopping.store(true, Ordering::SeqCst);
        let prunes = pruner.await.expect("the pruner");
        let samples = sampler.await.expect("the sampler");
        stop_worker.cancel();
        let summary = worker.await.expect("the worker task").expect("the worker");

        let executions = tracker.lock().expect("tracker").executions.clone();
        let mut pruned = 0;
        for op in &ops {
            assert_eq!(executions.get(op), Some(&1), "{op} ran {:?} times", executions.get(op));
            // Complete, or already pruned away: the prune removes finished ops past its retention.
            match store.op_state(*op).await.unwrap() {
                Some(state) => assert_eq!(state, OpState::Complete, "{op}"),
                None => pruned += 1,
            }
        }
        assert_eq!(summary.completed as usize, ops.len(), "{summary:?}");
        assert_eq!(faults.overlapping_runs.load(Ordering::SeqCst), 0);
        assert_eq!(faults.missing_targets.load(Ordering::SeqCst), 0);
        assert_eq!(faults.idle_while_busy.load(Ordering::SeqCst), 0);
        assert!(samples > 0 && prunes > 0);
        eprintln!(
            "{}: {} ops by {ENQUEUERS} enqueuers on {NETWORKS} networks, {prunes} prunes ({pruned} ops pruned \
             after they ran), {samples} gate samples, {} transaction attempts retried, 0 faults",
            store.dialect().name(),
            ops.len(),
            store.retried_attempts()
        );
    }
}
