//! The worker on every backend: typed handlers, claim order, outcomes, dependencies and defer backoff,
//! retries, leases and rescue, exactly-once execution under two workers.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ops_core::worker::{OpError, Worker, WorkerBuilder};
use ops_core::{
    Dependency, InstanceId, InterfaceId, NetworkId, NodeId, OpId, OpState, Priority, QueueTarget,
    Store,
};
use ops_testkit::backend_tests;
use support::{
    NetOp, NetTask, NodeInstNetIfaceOp, NodeInstNetIfaceTask, enqueue_net_op, enqueue_net_op_at,
    now, until_state,
};

/// A worker for the network node's queues, polling fast so tests do not wait.
fn network_node_worker(store: &Store) -> WorkerBuilder {
    Worker::builder(store.clone())
        .serve(QueueTarget::NetworkNode)
        .poll_interval(Duration::from_millis(20))
        .retry_delay(Duration::from_millis(1))
}

/// A `net_op` handler that counts its runs per op.
type Runs = Arc<Mutex<HashMap<OpId, u32>>>;

fn counting(
    runs: &Runs,
) -> impl Fn(NetOp, ops_core::OpContext<NetTask>) -> std::future::Ready<Result<(), OpError>>
+ Send
+ Sync
+ 'static {
    let runs = runs.clone();
    move |_op, ctx| {
        *runs.lock().expect("runs").entry(ctx.op_id()).or_default() += 1;
        std::future::ready(Ok(()))
    }
}

async fn enqueue_after(
    store: &Store,
    depends_on: &[Dependency],
    runs_after: &[Dependency],
) -> OpId {
    let mut enqueue = NetOp {
        network_uuid: NetworkId::new_v4(),
        node_uuid: None,
    }
    .enqueue(store)
    .priority(Priority::UserWaiting)
    .task(NetTask::NetworkDeploy);
    for dependency in depends_on {
        enqueue = enqueue.depends_on(dependency.clone());
    }
    for dependency in runs_after {
        enqueue = enqueue.runs_after(dependency.clone());
    }
    enqueue.await.expect("enqueue")
}

/// An op of a type the network-node workers in these tests have no handler for.
async fn enqueue_unhandled(store: &Store) -> OpId {
    NodeInstNetIfaceOp {
        node_uuid: NodeId::new_v4(),
        instance_uuid: InstanceId::new_v4(),
        network_uuid: NetworkId::new_v4(),
        interface_uuid: InterfaceId::new_v4(),
    }
    .enqueue(store)
    .priority(Priority::Background)
    .task(NodeInstNetIfaceTask::HotPlugInstanceInterface)
    .await
    .expect("enqueue")
}

async fn state(store: &Store, op: OpId) -> OpState {
    store
        .op_state(op)
        .await
        .expect("read state")
        .expect("a state row")
}

async fn messages(store: &Store, op: OpId) -> Vec<String> {
    let record = store.op_record(op).await.expect("read op").expect("the op");
    record
        .events
        .into_iter()
        .map(|event| event.message)
        .collect()
}

/// Marks every work-queue row runnable now, as if its backoff had passed.
async fn time_passes(db: &ops_testkit::TestDb) {
    db.execute("UPDATE work_queue SET scheduled_at = 0").await;
}

/// How many connections the store's pool holds, and at most.
fn pool_size(store: &Store) -> (usize, usize) {
    use ops_core::SqlxPool;
    match store.sqlx_pool() {
        SqlxPool::Sqlite(pool) => (
            pool.size() as usize,
            pool.options().get_max_connections() as usize,
        ),
        SqlxPool::MariaDb(pool) => (
            pool.size() as usize,
            pool.options().get_max_connections() as usize,
        ),
        SqlxPool::Postgres(pool) => (
            pool.size() as usize,
            pool.options().get_max_connections() as usize,
        ),
        other => panic!("a backend this test does not know: {other:?}"),
    }
}

backend_tests! {
    async fn a_worker_opens_its_connections_before_it_claims(db: &TestDb) {
        let store = db.migrated_store().await;
        let (before, max) = pool_size(&store);
        // Handlers, claim loop, completer and heartbeat: five side by side at most.
        let wanted = 5.min(max);
        assert!(before < wanted || max == 1, "the pool already holds {before} of {max}");
        let worker = network_node_worker(&store)
            .concurrency(2)
            .handle(counting(&Runs::default()))
            .build()
            .unwrap();
        worker.run_once().await.unwrap();
        assert!(pool_size(&store).0 >= wanted, "{:?} after the run, {wanted} wanted", pool_size(&store));
    }

    async fn workers_starting_together_share_a_pool_smaller_than_they_want(db: &TestDb) {
        // Four workers of one store each open the connections they will want ahead of need: twenty in
        // all, from a pool of two. Opening them must not hold parts of the pool until its acquire
        // timeout, each waiting for the rest: the drains would finish only after it, or fail when a
        // statement queued behind them times out.
        db.migrated_store().await;
        let acquire_timeout = Duration::from_secs(20);
        let store = ops_core::StoreOptions::new(db.url())
            .max_connections(2)
            .acquire_timeout(acquire_timeout)
            .connect()
            .await
            .unwrap();
        for _ in 0..8 {
            enqueue_net_op(&store, NetworkId::new_v4()).await;
        }
        let runs = Runs::default();
        let mut draining = tokio::task::JoinSet::new();
        for _ in 0..4 {
            let worker = network_node_worker(&store).concurrency(2).handle(counting(&runs)).build().unwrap();
            draining.spawn(async move { worker.drain().await });
        }
        let completed = tokio::time::timeout(acquire_timeout, async {
            let mut completed = 0;
            while let Some(drained) = draining.join_next().await {
                completed += drained.unwrap().unwrap_or_else(|e| panic!("{}", ops_core::ErrorChain(&e))).completed;
            }
            completed
        })
        .await
        .expect("the drains waited out the pool's acquire timeout");
        assert_eq!(completed, 8);
        assert_eq!(db.count("work_queue").await, 0);
    }

    async fn enqueued_ops_all_complete_after_a_drain(db: &TestDb) {
        let store = db.migrated_store().await;
        let networks: Vec<NetworkId> = (0..5).map(|_| NetworkId::new_v4()).collect();
        let mut ops = Vec::new();
        for network in &networks {
            ops.push(enqueue_net_op(&store, *network).await);
        }
        let runs = Runs::default();
        let worker = network_node_worker(&store).handle(counting(&runs)).build().unwrap();
        let summary = worker.drain().await.unwrap();
        assert_eq!((summary.claimed, summary.completed), (5, 5), "{summary:?}");
        for (op, network) in ops.iter().zip(&networks) {
            assert_eq!(state(&store, *op).await, OpState::Complete);
            assert!(!store.has_pending(*network).await.unwrap());
        }
        assert_eq!(runs.lock().unwrap().values().copied().collect::<Vec<_>>(), [1; 5]);
        assert_eq!(db.count("work_queue").await, 0);
        // The op's story: created, claimed (naming the worker), completed, and how long it took.
        let record = store.op_record(ops[0]).await.unwrap().unwrap();
        let story: Vec<_> = record.events.iter().map(|e| (e.event_type.as_str(), e.message.as_str())).collect();
        assert_eq!(
            story,
            [
                ("audit", "net_op operation created with tasks network_deploy"),
                ("mutate", "set attribute"),
                ("mutate", "set attribute"),
                ("usage", "execution duration"),
            ]
        );
        assert_eq!(record.events[1].extra["value"], "executing");
        assert_eq!(record.events[1].extra["message"], format!("claimed by worker {}", worker.id()));
        assert_eq!(record.events[2].extra["value"], "complete");
        // Each transition is also in the target's story.
        let linked = db
            .count(&format!(
                "event_objects WHERE object_type = 'network' AND object_uuid = '{}'",
                networks[0]
            ))
            .await;
        assert_eq!(linked, 4);
    }

    /// A run's counts are published as ops end, for a progress display, and start from zero each run.
    async fn a_runs_progress_is_published_as_ops_end(db: &TestDb) {
        let store = db.migrated_store().await;
        for _ in 0..3 {
            enqueue_net_op(&store, NetworkId::new_v4()).await;
        }
        let runs = Runs::default();
        let worker = network_node_worker(&store).concurrency(1).handle(counting(&runs)).build().unwrap();
        let mut progress = worker.progress();
        let seen = tokio::spawn(async move {
            let mut completed = Vec::new();
            while progress.changed().await.is_ok() {
                let now = progress.borrow_and_update().completed;
                if completed.last() != Some(&now) {
                    completed.push(now);
                }
                if now == 3 {
                    break;
                }
            }
            completed
        });
        let summary = worker.drain().await.unwrap();
        assert_eq!(summary.completed, 3);
        let completed = tokio::time::timeout(Duration::from_secs(10), seen).await.unwrap().unwrap();
        assert!(completed.len() >= 2 && completed.last() == Some(&3), "{completed:?}");
        assert_eq!(*worker.progress().borrow(), summary);
        enqueue_net_op(&store, NetworkId::new_v4()).await;
        assert_eq!(worker.run_once().await.unwrap().completed, 1, "the next run counts from zero");
    }

    async fn claims_take_priority_then_enqueue_order(db: &TestDb) {
        let store = db.migrated_store().await;
        let background = enqueue_net_op_at(&store, Priority::Background).await;
        let waiting_first = enqueue_net_op_at(&store, Priority::UserWaiting).await;
        let facing = enqueue_net_op_at(&store, Priority::UserFacing).await;
        let waiting_second = enqueue_net_op_at(&store, Priority::UserWaiting).await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let seen = order.clone();
        let worker = network_node_worker(&store)
            .concurrency(1)
            .handle(move |_op: NetOp, ctx| {
                seen.lock().unwrap().push(ctx.op_id());
                async { Ok(()) }
            })
            .build()
            .unwrap();
        worker.run_once().await.unwrap();
        assert_eq!(*order.lock().unwrap(), [waiting_first, waiting_second, facing, background]);
    }

    /// `run_once` runs all that is ready, even past a batch made only of rows of finished ops.
    async fn run_once_looks_past_a_batch_of_skipped_rows(db: &TestDb) {
        let store = db.migrated_store().await;
        for _ in 0..2 {
            let finished = enqueue_net_op(&store, NetworkId::new_v4()).await;
            store.transition(finished, OpState::Deleted, None).await.unwrap();
        }
        let ready = [enqueue_net_op(&store, NetworkId::new_v4()).await, enqueue_net_op(&store, NetworkId::new_v4()).await];
        let runs = Runs::default();
        let worker = network_node_worker(&store).concurrency(2).handle(counting(&runs)).build().unwrap();
        let summary = worker.run_once().await.unwrap();
        assert_eq!(summary.completed, 2, "{summary:?}");
        for op in ready {
            assert_eq!(state(&store, op).await, OpState::Complete);
        }
    }

    /// `run_once` with room for more ops than one claim takes (256) runs them all.
    async fn run_once_claims_past_the_batch_cap(db: &TestDb) {
        let store = db.migrated_store().await;
        for _ in 0..300 {
            enqueue_net_op(&store, NetworkId::new_v4()).await;
        }
        let runs = Runs::default();
        let worker = network_node_worker(&store).concurrency(300).handle(counting(&runs)).build().unwrap();
        let summary = worker.run_once().await.unwrap();
        assert_eq!(summary.completed, 300, "{summary:?}");
    }

    async fn op_types_without_a_handler_are_left_queued(db: &TestDb) {
        let store = db.migrated_store().await;
        let unhandled = enqueue_unhandled(&store).await;
        let handled = enqueue_net_op(&store, NetworkId::new_v4()).await;
        // This worker serves every queue of the node the unhandled op is for, and `networknode`.
        let node = store.op_record(unhandled).await.unwrap().unwrap().wire["node_uuid"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let runs = Runs::default();
        let worker = network_node_worker(&store)
            .serve(QueueTarget::Node(node))
            .handle(counting(&runs))
            .build()
            .unwrap();
        assert_eq!(worker.op_types(), ["net_op"]);
        worker.drain().await.unwrap();
        assert_eq!(state(&store, handled).await, OpState::Complete);
        assert_eq!(state(&store, unhandled).await, OpState::Queued);
        assert_eq!(db.count("work_queue").await, 1);
    }

    async fn a_hard_dependency_defers_with_doubling_backoff_until_complete(db: &TestDb) {
        let store = db.migrated_store().await;
        let first = enqueue_unhandled(&store).await;
        let second = enqueue_after(&store, &[Dependency::on::<NodeInstNetIfaceOp>(first)], &[]).await;
        let runs = Runs::default();
        let worker = network_node_worker(&store).handle(counting(&runs)).build().unwrap();
        let mut delays = Vec::new();
        for round in 1..=4 {
            let summary = worker.run_once().await.unwrap();
            assert_eq!((summary.deferred, summary.completed), (1, 0), "round {round}: {summary:?}");
            assert_eq!(state(&store, second).await, OpState::Queued);
            // The recorded schedule: the defer's event time plus the backoff.
            let scheduled = db.floats(&format!("SELECT scheduled_at FROM work_queue WHERE operation_uuid = '{second}'")).await[0];
            let record = store.op_record(second).await.unwrap().unwrap();
            let deferred = record.events.iter().rev().find(|e| e.event_type == "status").unwrap();
            delays.push(((scheduled - deferred.timestamp) * 1000.0).round() as u64);
            assert_eq!(deferred.message, format!("Execution deferred for {} seconds", delays[round - 1] as f64 / 1000.0));
            let unattempted = db.count(&format!("work_queue WHERE operation_uuid = '{second}' AND attempts = 0")).await;
            assert_eq!(unattempted, 1, "a defer is not an attempt");
            time_passes(db).await;
        }
        assert_eq!(delays, [100, 200, 400, 800]);
        store.transition(first, OpState::Executing, None).await.unwrap();
        store.transition(first, OpState::Complete, None).await.unwrap();
        let summary = worker.run_once().await.unwrap();
        assert_eq!(summary.completed, 1, "{summary:?}");
        assert_eq!(state(&store, second).await, OpState::Complete);
        assert_eq!(runs.lock().unwrap()[&second], 1);
    }

    async fn a_missing_hard_dependency_is_an_error_with_its_audit(db: &TestDb) {
        let store = db.migrated_store().await;
        let op = enqueue_after(&store, &[Dependency::on::<NetOp>(OpId::new_v4())], &[]).await;
        let runs = Runs::default();
        let worker = network_node_worker(&store).handle(counting(&runs)).build().unwrap();
        let summary = worker.drain().await.unwrap();
        assert_eq!(summary.failed, 1, "{summary:?}");
        assert_eq!(state(&store, op).await, OpState::Error);
        assert!(runs.lock().unwrap().is_empty());
        assert!(messages(&store, op).await.iter().any(|m| m.starts_with("cancelling operation, as dependency does not exist")));
        let report = db.strings(&format!("SELECT error_report FROM cluster_operation_errors WHERE op_uuid = '{op}'")).await;
        let report: serde_json::Value = serde_json::from_str(report[0].as_deref().unwrap()).unwrap();
        assert_eq!(report["kind"], "dependency_missing");
    }

    async fn a_failed_hard_dependency_aborts(db: &TestDb) {
        let store = db.migrated_store().await;
        for end in [OpState::Error, OpState::Abort, OpState::Deleted] {
            let first = enqueue_unhandled(&store).await;
            store.transition(first, OpState::Executing, None).await.unwrap();
            store.transition(first, end, None).await.unwrap();
            let op = enqueue_after(&store, &[Dependency::on::<NodeInstNetIfaceOp>(first)], &[]).await;
            let runs = Runs::default();
            let worker = network_node_worker(&store).handle(counting(&runs)).build().unwrap();
            worker.drain().await.unwrap();
            assert_eq!(state(&store, op).await, OpState::Abort, "{end}");
            assert!(runs.lock().unwrap().is_empty());
            assert!(messages(&store, op).await.iter().any(|m| m.starts_with("aborting operation, as dependency is unsuitable")));
        }
    }

    async fn runs_after_waits_for_any_end_and_tolerates_a_missing_op(db: &TestDb) {
        let store = db.migrated_store().await;
        let first = enqueue_unhandled(&store).await;
        let op = enqueue_after(&store, &[], &[Dependency::on::<NodeInstNetIfaceOp>(first)]).await;
        let runs = Runs::default();
        let worker = network_node_worker(&store).handle(counting(&runs)).build().unwrap();
        assert_eq!(worker.run_once().await.unwrap().deferred, 1);
        store.transition(first, OpState::Executing, None).await.unwrap();
        store.transition(first, OpState::Error, Some("failed")).await.unwrap();
        time_passes(db).await;
        worker.drain().await.unwrap();
        assert_eq!(state(&store, op).await, OpState::Complete);

        let missing = enqueue_after(&store, &[], &[Dependency::on::<NetOp>(OpId::new_v4())]).await;
        worker.drain().await.unwrap();
        assert_eq!(state(&store, missing).await, OpState::Complete);
        assert!(messages(&store, missing).await.iter().any(|m| m.starts_with("warning, runs_after dependency is missing")));
    }

    async fn a_failing_handler_writes_its_report_then_the_error_state(db: &TestDb) {
        let store = db.migrated_store().await;
        let op = enqueue_net_op(&store, NetworkId::new_v4()).await;
        let worker = network_node_worker(&store)
            .handle(|_op: NetOp, _ctx| async {
                let missing = std::io::Error::new(std::io::ErrorKind::NotFound, "no such device");
                Err(BridgeDown(missing).into())
            })
            .build()
            .unwrap();
        assert_eq!(worker.drain().await.unwrap().failed, 1);
        assert_eq!(state(&store, op).await, OpState::Error);
        let record = store.op_record(op).await.unwrap().unwrap();
        assert_eq!(record.state_message.as_deref(), Some("bridge br-vxlan-000001 is down: no such device"));
        let report = db.strings(&format!("SELECT error_report FROM cluster_operation_errors WHERE op_uuid = '{op}'")).await;
        let report: serde_json::Value = serde_json::from_str(report[0].as_deref().unwrap()).unwrap();
        assert_eq!(report["kind"], "failed");
        assert_eq!(report["message"], "bridge br-vxlan-000001 is down");
        assert_eq!(report["causes"], serde_json::json!(["no such device"]));
        assert_eq!(report["attempt"], 1);
        // The report's row was written before the state changed: its time is not after the error's.
        let written = db.floats(&format!("SELECT created_at FROM cluster_operation_errors WHERE op_uuid = '{op}'")).await[0];
        let changed = db.floats(&format!("SELECT update_time FROM object_states WHERE object_uuid = '{op}'")).await[0];
        assert!(written <= changed);
    }

    /// A handler's message is free text from anywhere (a subprocess's output): a NUL in it, which
    /// PostgreSQL cannot keep in text, and a length past the state column's still record the failure.
    async fn a_failure_message_with_a_nul_and_past_the_column_is_recorded(db: &TestDb) {
        let store = db.migrated_store().await;
        let op = enqueue_net_op(&store, NetworkId::new_v4()).await;
        let message = format!("qemu-img said \0 then {}", "x".repeat(300));
        let handler_message = message.clone();
        let worker = network_node_worker(&store)
            .handle(move |_op: NetOp, _ctx| {
                let message = handler_message.clone();
                async move { Err(OpError::failed(message)) }
            })
            .build()
            .unwrap();
        assert_eq!(worker.drain().await.unwrap().failed, 1);
        assert_eq!(state(&store, op).await, OpState::Error);
        let record = store.op_record(op).await.unwrap().unwrap();
        let kept = record.state_message.unwrap();
        assert!(kept.starts_with("qemu-img said \u{FFFD} then xxx"), "{kept}");
        assert_eq!(kept.chars().count(), 255);
        let report = db.strings(&format!("SELECT error_report FROM cluster_operation_errors WHERE op_uuid = '{op}'")).await;
        let report: serde_json::Value = serde_json::from_str(report[0].as_deref().unwrap()).unwrap();
        assert_eq!(report["message"], message.as_str(), "the report keeps the message whole, NUL and all");
    }

    async fn transient_failures_retry_until_the_attempts_are_used_up(db: &TestDb) {
        let store = db.migrated_store().await;
        let op = enqueue_net_op(&store, NetworkId::new_v4()).await;
        let attempts = Arc::new(Mutex::new(Vec::new()));
        let seen = attempts.clone();
        let worker = network_node_worker(&store)
            .max_attempts(3)
            .handle(move |_op: NetOp, ctx| {
                seen.lock().unwrap().push(ctx.attempt());
                async { Err(OpError::transient("hypervisor busy")) }
            })
            .build()
            .unwrap();
        let summary = worker.drain().await.unwrap();
        assert_eq!((summary.retried, summary.failed), (2, 1), "{summary:?}");
        assert_eq!(*attempts.lock().unwrap(), [1, 2, 3]);
        assert_eq!(state(&store, op).await, OpState::Error);
        let report = db.strings(&format!("SELECT error_report FROM cluster_operation_errors WHERE op_uuid = '{op}'")).await;
        assert!(report[0].as_deref().unwrap().contains("\"attempts_exhausted\""));
        assert!(messages(&store, op).await.iter().any(|m| m.starts_with("attempt 1 failed transiently, retrying in 0.001 seconds")));
    }

    async fn a_transient_failure_then_success_completes(db: &TestDb) {
        let store = db.migrated_store().await;
        let op = enqueue_net_op(&store, NetworkId::new_v4()).await;
        let worker = network_node_worker(&store)
            .handle(|_op: NetOp, ctx| async move {
                if ctx.attempt() == 1 { Err(OpError::transient("try again")) } else { Ok(()) }
            })
            .build()
            .unwrap();
        let summary = worker.drain().await.unwrap();
        assert_eq!((summary.retried, summary.completed), (1, 1), "{summary:?}");
        assert_eq!(state(&store, op).await, OpState::Complete);
    }

    async fn aborts_and_panics_are_outcomes(db: &TestDb) {
        let store = db.migrated_store().await;
        let aborted = enqueue_net_op_at(&store, Priority::UserWaiting).await;
        let panicked = enqueue_net_op_at(&store, Priority::Background).await;
        let worker = network_node_worker(&store)
            .concurrency(1)
            .handle(move |_op: NetOp, ctx| async move {
                if ctx.op_id() == aborted {
                    return Err(OpError::abort("network already gone"));
                }
                panic!("bridge table corrupt");
            })
            .build()
            .unwrap();
        let summary = worker.drain().await.unwrap();
        assert_eq!((summary.aborted, summary.failed), (1, 1), "{summary:?}");
        assert_eq!(state(&store, aborted).await, OpState::Abort);
        assert_eq!(store.op_record(aborted).await.unwrap().unwrap().state_message.as_deref(), Some("network already gone"));
        assert_eq!(state(&store, panicked).await, OpState::Error);
        assert_eq!(
            store.op_record(panicked).await.unwrap().unwrap().state_message.as_deref(),
            Some("the handler panicked: bridge table corrupt")
        );
    }

    async fn an_op_moved_on_while_it_ran_keeps_the_other_writers_state(db: &TestDb) {
        let store = db.migrated_store().await;
        let op = enqueue_net_op(&store, NetworkId::new_v4()).await;
        let worker = network_node_worker(&store)
            .handle(|_op: NetOp, ctx| async move {
                // An operator deletes the op while it runs.
                ctx.store().transition(ctx.op_id(), OpState::Deleted, Some("deleted by operator")).await?;
                Ok(())
            })
            .build()
            .unwrap();
        let summary = worker.drain().await.unwrap();
        assert_eq!(summary.superseded, 1, "{summary:?}");
        assert_eq!(state(&store, op).await, OpState::Deleted);
        assert_eq!(db.count("work_queue").await, 0);
        assert!(messages(&store, op).await.contains(&"outcome not recorded: the op is already deleted".to_owned()));
    }

    /// Handlers that finish together have their completions written together; each op still gets its own
    /// answer and its own story, linked to its target, and one moved on meanwhile keeps the other state.
    async fn ops_that_finish_together_are_completed_together_each_as_its_own(db: &TestDb) {
        let store = db.migrated_store().await;
        let networks: Vec<NetworkId> = (0..6).map(|_| NetworkId::new_v4()).collect();
        let mut ops = Vec::new();
        for network in &networks {
            ops.push(enqueue_net_op(&store, *network).await);
        }
        let deleted = ops[2];
        let together = Arc::new(tokio::sync::Barrier::new(ops.len()));
        let worker = network_node_worker(&store)
            .concurrency(ops.len())
            .handle(move |_op: NetOp, ctx| {
                let together = together.clone();
                async move {
                    if ctx.op_id() == deleted {
                        ctx.store().transition(ctx.op_id(), OpState::Deleted, Some("deleted by operator")).await?;
                    }
                    together.wait().await;
                    Ok(())
                }
            })
            .build()
            .unwrap();
        let summary = worker.drain().await.unwrap();
        assert_eq!((summary.completed, summary.superseded), (5, 1), "{summary:?}");
        assert_eq!(db.count("work_queue").await, 0);
        for (op, network) in ops.iter().zip(&networks) {
            if *op == deleted {
                assert_eq!(state(&store, *op).await, OpState::Deleted);
                assert!(messages(&store, *op).await.contains(&"outcome not recorded: the op is already deleted".to_owned()));
                continue;
            }
            assert_eq!(state(&store, *op).await, OpState::Complete);
            assert!(!store.has_pending(*network).await.unwrap());
            let story: Vec<String> = messages(&store, *op).await;
            assert_eq!(story.iter().filter(|m| *m == "set attribute").count(), 2, "{story:?}");
            assert_eq!(story.iter().filter(|m| *m == "execution duration").count(), 1, "{story:?}");
            // Every event about the op is in its network's story too.
            let linked = db
                .strings(&format!(
                    "SELECT e.message FROM events e JOIN event_objects l ON l.event_uuid = e.event_uuid \
                     WHERE l.object_type = 'network' AND l.object_uuid = '{network}'"
                ))
                .await;
            assert_eq!(linked.len(), story.len(), "{linked:?} vs {story:?}");
        }
    }

    /// An op put back in the queue while it ran (an operator's requeue) keeps its queue row and runs again.
    async fn an_op_requeued_while_it_ran_runs_again(db: &TestDb) {
        let store = db.migrated_store().await;
        let op = enqueue_net_op(&store, NetworkId::new_v4()).await;
        let runs = Runs::default();
        let seen = runs.clone();
        let worker = network_node_worker(&store)
            .handle(move |_op: NetOp, ctx| {
                let seen = seen.clone();
                async move {
                    let first = {
                        let mut runs = seen.lock().unwrap();
                        *runs.entry(ctx.op_id()).or_default() += 1;
                        runs[&ctx.op_id()] == 1
                    };
                    if first {
                        ctx.store().transition(ctx.op_id(), OpState::Queued, Some("requeued by operator")).await?;
                    }
                    Ok(())
                }
            })
            .build()
            .unwrap();
        let summary = worker.drain().await.unwrap();
        assert_eq!((summary.superseded, summary.completed), (1, 1), "{summary:?}");
        assert_eq!(runs.lock().unwrap()[&op], 2);
        assert_eq!(state(&store, op).await, OpState::Complete);
        assert!(messages(&store, op).await.contains(&"outcome not recorded: the op is already queued".to_owned()));
    }

    /// A dead worker's op that was put back in the queue before its lease expired is not lost to the
    /// rescue: its row is freed, and it runs.
    async fn a_rescue_frees_the_row_of_an_op_requeued_meanwhile(db: &TestDb) {
        let store = db.migrated_store().await;
        let op = enqueue_net_op(&store, NetworkId::new_v4()).await;
        let dying = network_node_worker(&store)
            .handle(|_op: NetOp, _ctx| std::future::pending::<Result<(), OpError>>())
            .build()
            .unwrap();
        let running = tokio::spawn(async move { dying.run().await });
        until_state(&store, op, OpState::Executing).await;
        running.abort();
        let _ = running.await;
        store.transition(op, OpState::Queued, Some("requeued by operator")).await.unwrap();
        db.execute("UPDATE work_queue SET lease_expires_at = 0").await;
        let runs = Runs::default();
        let rescuer = network_node_worker(&store).handle(counting(&runs)).build().unwrap();
        let summary = rescuer.drain().await.unwrap();
        assert_eq!(summary.completed, 1, "{summary:?}");
        assert_eq!(runs.lock().unwrap()[&op], 1);
        assert_eq!(state(&store, op).await, OpState::Complete);
    }

    async fn rows_of_terminal_or_vanished_ops_are_skipped(db: &TestDb) {
        let store = db.migrated_store().await;
        let done = enqueue_net_op(&store, NetworkId::new_v4()).await;
        store.transition(done, OpState::Deleted, None).await.unwrap();
        let vanished = enqueue_net_op(&store, NetworkId::new_v4()).await;
        db.execute(&format!("DELETE FROM object_states WHERE object_uuid = '{vanished}'")).await;
        let runs = Runs::default();
        let worker = network_node_worker(&store).handle(counting(&runs)).build().unwrap();
        let summary = worker.drain().await.unwrap();
        assert_eq!(summary.claimed, 0, "{summary:?}");
        assert!(runs.lock().unwrap().is_empty());
        assert_eq!(db.count("work_queue").await, 0);
        assert!(messages(&store, done).await.contains(&"skipping op already in terminal state deleted".to_owned()));
    }

    /// A worker that dies mid-handler (its future dropped: no outcome, no release, no heartbeat) loses
    /// the op to a rescue within one lease plus one poll, and the op runs exactly once more.
    async fn a_dead_workers_op_is_rescued_after_its_lease_and_runs_once_more(db: &TestDb) {
        let store = db.migrated_store().await;
        let op = enqueue_net_op(&store, NetworkId::new_v4()).await;
        let lease = Duration::from_millis(900);
        let poll = Duration::from_millis(50);
        let dying = network_node_worker(&store)
            .lease(lease)
            .worker_id("dying")
            .handle(|_op: NetOp, _ctx| std::future::pending::<Result<(), OpError>>())
            .build()
            .unwrap();
        let running = tokio::spawn(async move { dying.run().await });
        until_state(&store, op, OpState::Executing).await;
        // Let the heartbeat renew at least once, then die.
        tokio::time::sleep(lease / 2).await;
        running.abort();
        let _ = running.await;
        let died_at = now();
        let runs = Runs::default();
        let rescuer = network_node_worker(&store)
            .lease(lease)
            .poll_interval(poll)
            .worker_id("rescuer")
            .handle(counting(&runs))
            .build()
            .unwrap();
        let summary = rescuer.drain().await.unwrap();
        assert_eq!((summary.rescued, summary.completed), (1, 1), "{summary:?}");
        assert_eq!(runs.lock().unwrap()[&op], 1);
        assert_eq!(state(&store, op).await, OpState::Complete);
        let record = store.op_record(op).await.unwrap().unwrap();
        let rescue = record.events.iter().find(|e| e.message == "rescued: the lease of worker dying expired").unwrap();
        let bound = (lease + poll).as_secs_f64() + 0.25;
        assert!(rescue.timestamp - died_at <= bound, "rescued {:.3}s after the worker died", rescue.timestamp - died_at);
        let executing: Vec<_> = record.events.iter().filter(|e| e.extra["value"] == "executing").collect();
        assert_eq!(executing.len(), 2);
        assert_eq!(executing[1].extra["message"], "claimed by worker rescuer");
    }

    /// A worker whose lease was taken over finishes its handler while the rescuer's run of the op is still
    /// going: the store refuses the stale outcome, and only the rescuer's is recorded.
    async fn a_worker_that_lost_its_lease_records_nothing(db: &TestDb) {
        let store = db.migrated_store().await;
        let op = enqueue_net_op(&store, NetworkId::new_v4()).await;
        let gated = |name: &str, gate: &Arc<tokio::sync::Semaphore>| {
            let gate = gate.clone();
            network_node_worker(&store)
                .worker_id(name)
                .handle(move |_op: NetOp, _ctx| {
                    let gate = gate.clone();
                    async move {
                        let _permit = gate.acquire().await;
                        Ok(())
                    }
                })
                .build()
                .unwrap()
        };
        let (slow_gate, rescuer_gate) = (Arc::new(tokio::sync::Semaphore::new(0)), Arc::new(tokio::sync::Semaphore::new(0)));
        let slow = gated("slow", &slow_gate);
        let rescuer = gated("rescuer", &rescuer_gate);
        let slow_run = tokio::spawn(async move { slow.run_once().await });
        until_state(&store, op, OpState::Executing).await;
        // The slow worker stalls past its lease; the rescuer takes the op over and is running it ...
        db.execute("UPDATE work_queue SET lease_expires_at = 0").await;
        let rescuer_run = tokio::spawn(async move { rescuer.run_once().await });
        while db.count("work_queue WHERE claimed_by = 'rescuer'").await == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // ... when the slow worker's handler finishes: its outcome is refused.
        slow_gate.add_permits(1);
        let slow = slow_run.await.unwrap().unwrap();
        assert_eq!((slow.completed, slow.lease_lost), (0, 1), "{slow:?}");
        assert_eq!(state(&store, op).await, OpState::Executing);
        rescuer_gate.add_permits(1);
        let rescuer = rescuer_run.await.unwrap().unwrap();
        assert_eq!((rescuer.rescued, rescuer.completed), (1, 1), "{rescuer:?}");
        let record = store.op_record(op).await.unwrap().unwrap();
        let completions = record.events.iter().filter(|e| e.extra["value"] == "complete").count();
        assert_eq!(completions, 1);
        assert_eq!(record.state, Some(OpState::Complete));
    }

    /// The heartbeat learns that a lease was taken over and stops the handler at once, even one that
    /// would never finish by itself.
    async fn the_heartbeat_stops_a_handler_whose_lease_was_taken_over(db: &TestDb) {
        let store = db.migrated_store().await;
        let op = enqueue_net_op(&store, NetworkId::new_v4()).await;
        let stuck = network_node_worker(&store)
            .lease(Duration::from_millis(600))
            .handle(|_op: NetOp, _ctx| std::future::pending::<Result<(), OpError>>())
            .build()
            .unwrap();
        let stuck_run = tokio::spawn(async move { stuck.run_once().await });
        until_state(&store, op, OpState::Executing).await;
        let first = db.strings("SELECT lease_token FROM work_queue").await;
        let first = first[0].clone().expect("the stuck claim's token");
        let runs = Runs::default();
        let rescuer = network_node_worker(&store).handle(counting(&runs)).build().unwrap();
        // The stuck worker's heartbeat is alive and renews its lease: keep that claim's lease expired until
        // the rescuer has run the op, or a renewal between the expiry and the rescue leaves the drain waiting.
        let expire = async {
            while state(&store, op).await != OpState::Complete {
                db.execute(&format!("UPDATE work_queue SET lease_expires_at = 0 WHERE lease_token = '{first}'")).await;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        let (drained, ()) = tokio::join!(rescuer.drain(), expire);
        drained.unwrap();
        let stuck = tokio::time::timeout(Duration::from_secs(10), stuck_run).await.unwrap().unwrap().unwrap();
        assert_eq!(stuck.lease_lost, 1, "{stuck:?}");
        assert_eq!(state(&store, op).await, OpState::Complete);
    }

    /// A heartbeat whose renewal hangs (another transaction holds the rows) still stops the handler before
    /// its lease could expire, so a rescuer never runs the op beside it.
    async fn a_heartbeat_that_cannot_renew_stops_the_handler_before_the_lease_expires(db: &TestDb) {
        let store = db.migrated_store().await;
        let op = enqueue_net_op(&store, NetworkId::new_v4()).await;
        let stopped = StoppedAt::default();
        let seen = stopped.clone();
        let worker = network_node_worker(&store)
            .lease(Duration::from_millis(900))
            .handle(move |_op: NetOp, _ctx| {
                let guard = seen.guard();
                async move {
                    let _guard = guard;
                    std::future::pending::<Result<(), OpError>>().await
                }
            })
            .build()
            .unwrap();
        let running = tokio::spawn(async move { worker.run_once().await });
        until_state(&store, op, OpState::Executing).await;
        let blocker = db.open_transaction(lock_work_queue(db)).await;
        let expires = db.floats("SELECT lease_expires_at FROM work_queue").await[0];
        let summary = tokio::time::timeout(Duration::from_secs(10), running)
            .await
            .expect("the handler is stopped while its lease cannot be renewed")
            .unwrap()
            .unwrap();
        blocker.release().await;
        let stopped_at = stopped.at().expect("the handler was stopped");
        assert!(stopped_at < expires, "stopped {:.3}s after its lease expired", stopped_at - expires);
        assert_eq!(summary.lease_lost, 1, "{summary:?}");
    }

    /// An op whose outcome the store would not take is left to its lease: the heartbeat stops renewing it,
    /// even while an op claimed in the same batch runs on, so it is rescued and runs again.
    async fn an_unsettled_op_is_left_to_expire_while_its_batch_runs_on(db: &TestDb) {
        let store = db.migrated_store().await;
        let unsettled = enqueue_net_op(&store, NetworkId::new_v4()).await;
        let running_on = enqueue_net_op(&store, NetworkId::new_v4()).await;
        let when = format!("NEW.object_uuid = '{unsettled}' AND NEW.state_value = 'complete'");
        db.inject_failure("refuse_complete", "UPDATE ON object_states", &when, "injected failure").await;
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        let held = gate.clone();
        let worker = network_node_worker(&store)
            .concurrency(2)
            .lease(Duration::from_millis(600))
            .handle(move |_op: NetOp, ctx| {
                let held = held.clone();
                async move {
                    if ctx.op_id() == running_on {
                        let _permit = held.acquire().await;
                    }
                    Ok(())
                }
            })
            .build()
            .unwrap();
        let running = tokio::spawn(async move { worker.run_once().await });
        let expiry = format!("SELECT lease_expires_at FROM work_queue WHERE operation_uuid = '{unsettled}' AND lease_expires_at IS NOT NULL");
        tokio::time::timeout(Duration::from_secs(5), async {
            while !db.floats(&expiry).await.first().is_some_and(|expires| *expires < now()) {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await
        .expect("the unsettled op's lease expired while the other op ran");
        gate.add_permits(1);
        let summary = running.await.unwrap().unwrap();
        assert_eq!((summary.claimed, summary.completed, summary.unsettled), (2, 1, 1), "{summary:?}");
    }

    /// At the shutdown timeout a handler that has not finished is stopped, and only once it has stopped is
    /// its op released: never queued for another worker while it still runs.
    async fn a_handler_past_the_shutdown_timeout_is_stopped_before_its_op_is_released(db: &TestDb) {
        let store = db.migrated_store().await;
        let op = enqueue_net_op(&store, NetworkId::new_v4()).await;
        let stopped = StoppedAt::default();
        let seen = stopped.clone();
        let worker = network_node_worker(&store)
            .shutdown_timeout(Duration::from_millis(100))
            .handle(move |_op: NetOp, ctx| {
                let guard = seen.guard();
                async move {
                    let _guard = guard;
                    ctx.cancellation().cancelled().await;
                    // Clean-up that does not yield: an abort cannot stop it midway.
                    std::thread::sleep(Duration::from_millis(400));
                    std::future::pending::<Result<(), OpError>>().await
                }
            })
            .build()
            .unwrap();
        let stop = worker.shutdown_handle();
        let running = tokio::spawn(async move { worker.run().await });
        until_state(&store, op, OpState::Executing).await;
        stop.cancel();
        let summary = running.await.unwrap().unwrap();
        assert_eq!(summary.released, 1, "{summary:?}");
        assert_eq!(state(&store, op).await, OpState::Queued);
        let record = store.op_record(op).await.unwrap().unwrap();
        let released = record.events.iter().find(|e| e.message == "released unfinished at worker shutdown").unwrap();
        let stopped_at = stopped.at().expect("the handler was stopped");
        assert!(released.timestamp >= stopped_at, "released {:.3}s before the handler stopped", stopped_at - released.timestamp);
    }

    /// `run_once` honours a shutdown while it waits for its ops: the handlers are told, and what has not
    /// finished by the shutdown timeout is released.
    async fn run_once_stops_waiting_for_its_ops_at_shutdown(db: &TestDb) {
        let store = db.migrated_store().await;
        let op = enqueue_net_op(&store, NetworkId::new_v4()).await;
        let worker = network_node_worker(&store)
            .shutdown_timeout(Duration::from_millis(100))
            .handle(|_op: NetOp, _ctx| std::future::pending::<Result<(), OpError>>())
            .build()
            .unwrap();
        let stop = worker.shutdown_handle();
        let running = tokio::spawn(async move { worker.run_once().await });
        until_state(&store, op, OpState::Executing).await;
        stop.cancel();
        let summary = tokio::time::timeout(Duration::from_secs(10), running)
            .await
            .expect("run_once returned after the shutdown")
            .unwrap()
            .unwrap();
        assert_eq!(summary.released, 1, "{summary:?}");
        assert_eq!(state(&store, op).await, OpState::Queued);
    }

    /// A run that stopped on a store error leaves the worker usable: the next run claims again.
    async fn a_worker_runs_again_after_a_run_that_failed(db: &TestDb) {
        let store = db.migrated_store().await;
        let op = enqueue_net_op(&store, NetworkId::new_v4()).await;
        // Another worker's op, held under a lease that this worker's rescue will find expired and
        // cannot free (the trigger below): the store error that ends the first run.
        let ghost = enqueue_unhandled(&store).await;
        store.transition(ghost, OpState::Executing, None).await.unwrap();
        db.execute(&format!(
            "UPDATE work_queue SET claimed_at = 1, claimed_by = 'ghost', lease_expires_at = 1e12 WHERE operation_uuid = '{ghost}'"
        ))
        .await;
        db.inject_failure("keep_ghost", "UPDATE ON work_queue", "OLD.claimed_by = 'ghost' AND NEW.claimed_by IS NULL", "injected failure").await;
        let runs = Runs::default();
        let first_run = Arc::new(tokio::sync::Notify::new());
        let (seen, expire) = (runs.clone(), first_run.clone());
        let worker = network_node_worker(&store)
            .concurrency(1)
            .handle(move |_op: NetOp, ctx| {
                let (seen, expire) = (seen.clone(), expire.clone());
                async move {
                    let attempt = {
                        let mut runs = seen.lock().unwrap();
                        let count = runs.entry(ctx.op_id()).or_default();
                        *count += 1;
                        *count
                    };
                    if attempt == 1 {
                        expire.notify_one();
                        ctx.cancellation().cancelled().await;
                        return Err(OpError::interrupted("the worker is shutting down"));
                    }
                    Ok(())
                }
            })
            .build()
            .unwrap();
        let worker = Arc::new(worker);
        let first = tokio::spawn({
            let worker = worker.clone();
            async move { worker.run_once().await }
        });
        first_run.notified().await;
        db.execute("UPDATE work_queue SET lease_expires_at = 0 WHERE claimed_by = 'ghost'").await;
        let error = first.await.unwrap().unwrap_err();
        assert!(error.to_string().contains("store error"), "{error}");
        assert_eq!(state(&store, op).await, OpState::Queued);
        db.remove_failure("keep_ghost", "work_queue").await;
        let summary = worker.run_once().await.unwrap();
        assert_eq!((summary.rescued, summary.completed), (1, 1), "{summary:?}");
        assert_eq!(runs.lock().unwrap()[&op], 2);
    }

    /// A claim that waited for a lock (here two lease lengths) still gives its handler a whole lease: the
    /// lease counts from when it was written, so the handler is neither stopped at once nor rescued.
    async fn a_claim_that_waited_for_a_lock_gets_its_whole_lease(db: &TestDb) {
        let store = db.migrated_store().await;
        let op = enqueue_net_op(&store, NetworkId::new_v4()).await;
        let lease = Duration::from_millis(900);
        let worker = network_node_worker(&store)
            .lease(lease)
            .handle(move |_op: NetOp, _ctx| async move {
                tokio::time::sleep(lease / 2).await;
                Ok::<_, OpError>(())
            })
            .build()
            .unwrap();
        let lock = match db.backend() {
            ops_testkit::Backend::Sqlite => "BEGIN IMMEDIATE",
            _ => "BEGIN; SELECT object_uuid FROM object_states FOR UPDATE",
        };
        let blocker = db.open_transaction(lock).await;
        let running = tokio::spawn(async move { worker.run_once().await });
        tokio::time::sleep(lease * 2).await;
        blocker.release().await;
        let summary = running.await.unwrap().unwrap();
        assert_eq!((summary.completed, summary.lease_lost), (1, 0), "{summary:?}");
        assert_eq!(state(&store, op).await, OpState::Complete);
    }

    /// One held row locked by another transaction does not hold up the renewal of the others: the other
    /// op runs on to completion, and only the op whose lease cannot be renewed is stopped.
    async fn a_locked_row_does_not_hold_up_the_renewal_of_the_others(db: &TestDb) {
        if db.backend() == ops_testkit::Backend::Sqlite {
            // SQLite locks the whole database, not a row: there is no one row to lock.
            return;
        }
        let store = db.migrated_store().await;
        let finishing = enqueue_net_op(&store, NetworkId::new_v4()).await;
        let stuck = enqueue_net_op(&store, NetworkId::new_v4()).await;
        let lease = Duration::from_millis(900);
        let worker = network_node_worker(&store)
            .concurrency(2)
            .lease(lease)
            .handle(move |_op: NetOp, ctx| async move {
                if ctx.op_id() == finishing {
                    tokio::time::sleep(lease * 3).await;
                    Ok(())
                } else {
                    std::future::pending::<Result<(), OpError>>().await
                }
            })
            .build()
            .unwrap();
        let running = tokio::spawn(async move { worker.run_once().await });
        until_state(&store, finishing, OpState::Executing).await;
        until_state(&store, stuck, OpState::Executing).await;
        let blocker = db
            .open_transaction(&format!("BEGIN; SELECT id FROM work_queue WHERE operation_uuid = '{stuck}' FOR UPDATE"))
            .await;
        let summary = tokio::time::timeout(Duration::from_secs(20), running).await.unwrap().unwrap().unwrap();
        blocker.release().await;
        assert_eq!((summary.completed, summary.lease_lost), (1, 1), "{summary:?}");
        assert_eq!(state(&store, finishing).await, OpState::Complete);
    }

    /// A handler that does not stop when told (it blocks between two awaits) is not waited for without
    /// end: past a third of the lease its op is neither released nor renewed, but left to its lease, and a
    /// rescuer runs it once that expires.
    async fn a_handler_that_will_not_stop_is_left_to_its_lease(db: &TestDb) {
        let store = db.migrated_store().await;
        let op = enqueue_net_op(&store, NetworkId::new_v4()).await;
        let worker = network_node_worker(&store)
            .lease(Duration::from_millis(900))
            .shutdown_timeout(Duration::from_millis(100))
            .handle(|_op: NetOp, ctx| async move {
                ctx.cancellation().cancelled().await;
                // Blocks its thread without yielding, in place: a plain sleep here could hold the
                // worker's own task too, when tokio had put it in this thread's LIFO slot, which no other
                // thread may steal (seen once in CI: the worker took over 2 s to return).
                tokio::task::block_in_place(|| std::thread::sleep(Duration::from_secs(3)));
                std::future::pending::<Result<(), OpError>>().await
            })
            .build()
            .unwrap();
        let stop = worker.shutdown_handle();
        let running = tokio::spawn(async move { worker.run().await });
        until_state(&store, op, OpState::Executing).await;
        stop.cancel();
        let summary = tokio::time::timeout(Duration::from_secs(2), running)
            .await
            .expect("the worker stopped without waiting for the handler")
            .unwrap()
            .unwrap();
        assert_eq!((summary.released, summary.unsettled), (0, 1), "{summary:?}");
        assert_eq!(state(&store, op).await, OpState::Executing);
        let runs = Runs::default();
        let rescuer = network_node_worker(&store).handle(counting(&runs)).build().unwrap();
        let summary = rescuer.drain().await.unwrap();
        assert_eq!((summary.rescued, summary.completed), (1, 1), "{summary:?}");
    }

    /// A handler's follow-up ops commit with its completion, and only with it.
    async fn follow_ups_are_enqueued_with_the_completion_and_only_then(db: &TestDb) {
        let store = db.migrated_store().await;
        let succeeds = enqueue_net_op_at(&store, Priority::UserWaiting).await;
        let fails = enqueue_net_op_at(&store, Priority::Background).await;
        let follow_up_of = Arc::new(Mutex::new(HashMap::new()));
        let seen = follow_up_of.clone();
        let worker = network_node_worker(&store)
            .concurrency(1)
            .handle(move |op: NetOp, ctx| {
                let seen = seen.clone();
                async move {
                    if ctx.op_id() != succeeds && ctx.op_id() != fails {
                        return Ok(()); // a follow-up itself
                    }
                    let next = NetOp { network_uuid: op.network_uuid, node_uuid: None }
                        .enqueue(ctx.store())
                        .priority(Priority::Background)
                        .task(NetTask::NetworkEnsureMesh);
                    let id = ctx.enqueue_on_completion(next)?;
                    seen.lock().unwrap().insert(ctx.op_id(), id);
                    // Not written yet: the follow-up waits for the completion's transaction.
                    assert!(ctx.store().op_state(id).await?.is_none());
                    if ctx.op_id() == succeeds { Ok(()) } else { Err(OpError::failed("bridge missing")) }
                }
            })
            .build()
            .unwrap();
        let summary = worker.drain().await.unwrap();
        // The completed op, then its follow-up (run by the same drain); the failed one has none.
        assert_eq!((summary.completed, summary.failed), (2, 1), "{summary:?}");
        let follow_ups = follow_up_of.lock().unwrap().clone();
        assert_eq!(state(&store, follow_ups[&succeeds]).await, OpState::Complete);
        assert!(store.op_state(follow_ups[&fails]).await.unwrap().is_none(), "a failed op has no follow-up");
    }

    /// A follow-up the store refuses (its id is taken) is the handler's mistake, and running the op again
    /// would repeat it: the op goes to `error` with the reason, and no follow-up is written.
    async fn a_refused_follow_up_fails_the_op_with_the_reason(db: &TestDb) {
        let store = db.migrated_store().await;
        let taken = enqueue_unhandled(&store).await;
        let op = enqueue_net_op(&store, NetworkId::new_v4()).await;
        let worker = network_node_worker(&store)
            .handle(move |op: NetOp, ctx| async move {
                let again = NetOp { network_uuid: op.network_uuid, node_uuid: None }
                    .enqueue(ctx.store())
                    .priority(Priority::Background)
                    .task(NetTask::NetworkDeploy)
                    .uuid(taken);
                ctx.enqueue_on_completion(again)?;
                Ok(())
            })
            .build()
            .unwrap();
        let summary = worker.run_once().await.unwrap();
        assert_eq!((summary.completed, summary.failed), (0, 1), "{summary:?}");
        assert_eq!(state(&store, op).await, OpState::Error);
        assert_eq!(db.count("cluster_operations").await, 2);
        let report = db.strings(&format!("SELECT error_report FROM cluster_operation_errors WHERE op_uuid = '{op}'")).await;
        let report: serde_json::Value = serde_json::from_str(report[0].as_deref().unwrap()).unwrap();
        assert_eq!(report["kind"], "follow_up_refused");
        assert_eq!(report["message"], "the op's work is done, but a follow-up it asked for was refused");
        assert_eq!(report["causes"][1], format!("cluster operation {taken} already exists"), "{report}");
    }

    /// A worker that stalled past its lease can rescue and claim its own op again: the stale run stops,
    /// and the new run's lease keeps being renewed (it outlives a lease here), so the op runs twice in all,
    /// never a third time beside itself.
    async fn a_worker_that_reclaims_its_own_op_keeps_renewing_the_new_claim(db: &TestDb) {
        let store = db.migrated_store().await;
        let op = enqueue_net_op(&store, NetworkId::new_v4()).await;
        let attempts = Arc::new(Mutex::new(Vec::new()));
        let seen = attempts.clone();
        let lease = Duration::from_millis(600);
        let worker = network_node_worker(&store)
            .lease(lease)
            .poll_interval(Duration::from_millis(50))
            .handle(move |_op: NetOp, ctx| {
                seen.lock().unwrap().push(ctx.attempt());
                async move {
                    if ctx.attempt() == 1 {
                        std::future::pending::<()>().await;
                    }
                    tokio::time::sleep(lease * 3).await;
                    Ok(())
                }
            })
            .build()
            .unwrap();
        let stop = worker.shutdown_handle();
        let running = tokio::spawn(async move { worker.run().await });
        until_state(&store, op, OpState::Executing).await;
        // The first claim's lease expires, and stays expired until it is rescued: the worker's own heartbeat
        // (alive here, unlike a stalled worker's) would otherwise extend it again before a slow rescue saw it.
        let first = db.strings("SELECT lease_token FROM work_queue").await;
        let first = first[0].clone().expect("the first claim's token");
        tokio::time::timeout(Duration::from_secs(30), async {
            while attempts.lock().unwrap().len() < 2 {
                db.execute(&format!("UPDATE work_queue SET lease_expires_at = 0 WHERE lease_token = '{first}'")).await;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            until_state(&store, op, OpState::Complete).await;
        })
        .await
        .unwrap();
        stop.cancel();
        let summary = running.await.unwrap().unwrap();
        assert_eq!(*attempts.lock().unwrap(), [1, 2], "{summary:?}");
        assert_eq!((summary.rescued, summary.lease_lost, summary.completed), (1, 1, 1), "{summary:?}");
    }

    async fn two_workers_run_each_of_a_thousand_ops_exactly_once(db: &TestDb) {
        let store = db.migrated_store().await;
        for _ in 0..1000 {
            enqueue_net_op_at(&store, Priority::Background).await;
        }
        let executions = Executions::create(db).await;
        let workers: Vec<Worker> = (0..2)
            .map(|n| {
                let executions = executions.clone();
                network_node_worker(&store)
                    .worker_id(format!("w{n}"))
                    .concurrency(4)
                    .handle(move |_op: NetOp, ctx| {
                        let executions = executions.clone();
                        async move { Ok(executions.record(ctx.op_id(), ctx.worker_id()).await?) }
                    })
                    .build()
                    .unwrap()
            })
            .collect();
        let (a, b) = tokio::join!(workers[0].drain(), workers[1].drain());
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.completed + b.completed, 1000, "{a:?} {b:?}");
        assert!(a.completed > 0 && b.completed > 0, "both workers took work: {a:?} {b:?}");
        // The handlers' own table: 1,000 executions of 1,000 different ops, each by the worker that
        // completed it.
        assert_eq!(db.count("executions").await, 1000);
        assert_eq!(db.count("(SELECT DISTINCT op_uuid FROM executions) AS ops").await, 1000);
        assert_eq!(db.count("executions WHERE worker = 'w0'").await, a.completed as i64);
        assert_eq!(db.count("object_states WHERE state_value = 'complete'").await, 1000);
    }

    async fn a_worker_needs_queues_handlers_and_sane_limits(db: &TestDb) {
        let store = db.migrated_store().await;
        let runs = Runs::default();
        let errors = [
            Worker::builder(store.clone()).handle(counting(&runs)).build().unwrap_err().to_string(),
            Worker::builder(store.clone()).serve(QueueTarget::Any).build().unwrap_err().to_string(),
            network_node_worker(&store).handle(counting(&runs)).handle(counting(&runs)).build().unwrap_err().to_string(),
            network_node_worker(&store).handle(counting(&runs)).concurrency(0).build().unwrap_err().to_string(),
            network_node_worker(&store).handle(counting(&runs)).lease(Duration::from_millis(10)).build().unwrap_err().to_string(),
            network_node_worker(&store).handle(counting(&runs)).worker_id("").build().unwrap_err().to_string(),
        ];
        assert_eq!(
            errors,
            [
                "a worker needs at least one queue to serve",
                "a worker needs at least one handler",
                "two handlers are registered for `net_op`",
                "invalid worker option: concurrency must be at least 1",
                "invalid worker option: a lease of 10ms is too short to renew; use at least 300ms",
                "invalid worker option: a worker id must have 1 to 200 characters, not 0",
            ]
        );
    }
}

#[derive(Debug, thiserror::Error)]
#[error("bridge br-vxlan-000001 is down")]
struct BridgeDown(#[source] std::io::Error);

/// Statements that take every `work_queue` row's write lock and keep it while their transaction is open.
fn lock_work_queue(db: &ops_testkit::TestDb) -> &'static str {
    match db.backend() {
        ops_testkit::Backend::Sqlite => "BEGIN IMMEDIATE",
        ops_testkit::Backend::MariaDb | ops_testkit::Backend::Postgres => {
            "BEGIN; SELECT id FROM work_queue FOR UPDATE"
        }
    }
}

/// When a handler's future was dropped (stopped or finished), in wall-clock seconds.
#[derive(Clone, Default)]
struct StoppedAt(Arc<Mutex<Option<f64>>>);

impl StoppedAt {
    /// A guard to move into the handler's future: dropped with it, it records the time.
    fn guard(&self) -> StopGuard {
        StopGuard(self.0.clone())
    }

    fn at(&self) -> Option<f64> {
        *self.0.lock().expect("stopped at")
    }
}

struct StopGuard(Arc<Mutex<Option<f64>>>);

impl Drop for StopGuard {
    fn drop(&mut self) {
        *self.0.lock().expect("stopped at") = Some(now());
    }
}

/// On PostgreSQL an enqueue wakes an idle worker through LISTEN/NOTIFY: with an hour between polls, the
/// op still runs at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_wakes_an_idle_worker_on_enqueue() {
    ops_testkit::run_on(ops_testkit::Backend::Postgres, |db| async move {
        let store = db.migrated_store().await;
        let runs = Runs::default();
        let worker = Worker::builder(store.clone())
            .serve(QueueTarget::NetworkNode)
            .poll_interval(Duration::from_secs(3600))
            .handle(counting(&runs))
            .build()
            .expect("worker");
        let stop = worker.shutdown_handle();
        let running = tokio::spawn(async move { worker.run().await });
        // A first op, run by the worker's first claim; after it the worker waits for the next poll.
        let first = enqueue_net_op(&store, NetworkId::new_v4()).await;
        let second = tokio::time::timeout(Duration::from_secs(30), async {
            until_state(&store, first, OpState::Complete).await;
            // Idle now, an hour from its next poll: only the notification can wake it.
            let second = enqueue_net_op(&store, NetworkId::new_v4()).await;
            until_state(&store, second, OpState::Complete).await;
            second
        })
        .await
        .expect("the worker woke for the enqueue, not an hour later");
        stop.cancel();
        let summary = running.await.expect("join").expect("run");
        assert_eq!(summary.completed, 2, "{summary:?}");
        assert_eq!(runs.lock().expect("runs")[&second], 1);
        db
    })
    .await;
}

/// The wake-up goes out after the enqueue commits, in a statement of its own — PostgreSQL serialises the
/// commits of transactions that notify on one lock held through their flush — so it is not part of the
/// op: an enqueue whose notification fails is still enqueued (inside the transaction, the failure rolled
/// the op back), and a polling worker runs it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_enqueues_when_the_wake_up_fails() {
    ops_testkit::run_on(ops_testkit::Backend::Postgres, |db| async move {
        db.migrated_store().await.close().await;
        // This database's own pg_notify, always failing, found before the built-in one by new sessions.
        db.execute(
            "CREATE FUNCTION public.pg_notify(text, text) RETURNS void LANGUAGE plpgsql \
             AS $$ BEGIN RAISE EXCEPTION 'notifications are down'; END $$",
        )
        .await;
        db.execute(
            "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path = public, pg_catalog', \
             current_database()); END $$",
        )
        .await;
        let store = db.store().await;
        let failing: Result<Vec<Option<String>>, _> =
            sqlx::query_scalar("SELECT pg_notify('ops_work', 'x')::text")
                .fetch_all(match store.sqlx_pool() {
                    ops_core::SqlxPool::Postgres(pool) => pool,
                    _ => unreachable!("a PostgreSQL test"),
                })
                .await;
        assert!(
            failing.is_err(),
            "the store's sessions call the failing pg_notify"
        );
        // Enqueued, although its wake-up failed.
        let op = enqueue_net_op(&store, NetworkId::new_v4()).await;
        let runs = Runs::default();
        let summary = network_node_worker(&store)
            .handle(counting(&runs))
            .build()
            .expect("worker")
            .drain()
            .await
            .expect("drain");
        assert_eq!(summary.completed, 1, "{summary:?}");
        assert_eq!(store.op_state(op).await.unwrap(), Some(OpState::Complete));
        store.close().await;
        db
    })
    .await;
}

/// Each PostgreSQL worker listens on a connection of its own, not one of the store's pool: three workers
/// on a store of two connections drain the queue (their listeners took the whole pool before, and every
/// claim timed out waiting for a connection).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_workers_listen_beside_the_pool_not_in_it() {
    ops_testkit::run_on(ops_testkit::Backend::Postgres, |db| async move {
        db.migrated_store().await.close().await;
        let store = ops_core::StoreOptions::new(db.url())
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(3))
            .connect()
            .await
            .expect("store");
        let mut ops = Vec::new();
        for _ in 0..12 {
            ops.push(enqueue_net_op(&store, NetworkId::new_v4()).await);
        }
        let runs = Runs::default();
        let mut draining = Vec::new();
        for _ in 0..3 {
            let worker = Worker::builder(store.clone())
                .serve(QueueTarget::NetworkNode)
                .poll_interval(Duration::from_millis(20))
                .handle(counting(&runs))
                .build()
                .expect("worker");
            draining.push(tokio::spawn(async move { worker.drain().await }));
        }
        let mut completed = 0;
        for drain in draining {
            completed += drain.await.expect("join").expect("drain").completed;
        }
        assert_eq!(completed, 12);
        for op in ops {
            assert_eq!(store.op_state(op).await.unwrap(), Some(OpState::Complete));
        }
        store.close().await;
        db
    })
    .await;
}

/// A PostgreSQL worker claims on a connection of its own, kept from claim to claim. The server ends that
/// session: the next claim fails and is ridden out, the one after opens another connection, and an op
/// enqueued after the kill runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_worker_claims_on_a_new_connection_after_its_own_is_ended() {
    ops_testkit::run_on(ops_testkit::Backend::Postgres, |db| async move {
        let store = db.migrated_store().await;
        let runs = Runs::default();
        let worker = network_node_worker(&store)
            .handle(counting(&runs))
            .build()
            .expect("worker");
        let shutdown = worker.shutdown_handle();
        let running = tokio::spawn(async move { worker.run().await });
        let claim_session = "SELECT pid::text FROM pg_stat_activity WHERE datname = current_database() \
             AND state = 'idle' AND query LIKE 'WITH ready AS%'";
        let session = loop {
            if let Some(Some(pid)) = db.strings(claim_session).await.first() {
                break pid.parse::<i64>().expect("a pid");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        db.kill_session(session).await;
        let op = enqueue_net_op(&store, NetworkId::new_v4()).await;
        tokio::time::timeout(Duration::from_secs(10), until_state(&store, op, OpState::Complete))
            .await
            .expect("the op runs after the claim connection was ended");
        assert!(
            !db.strings(claim_session)
                .await
                .contains(&Some(session.to_string())),
            "the ended session is gone"
        );
        shutdown.cancel();
        running.await.expect("join").expect("run");
        assert_eq!(runs.lock().unwrap()[&op], 1);
        store.close().await;
        db
    })
    .await;
}

/// With statistics on a backlog (tables analysed after the fill, as autovacuum does), a PostgreSQL worker's
/// claims and completions read each op, state and queue row by key: a few rows per op, never a table
/// whole per claim. The claim's generic plan, not knowing its LIMIT, once joined the ready rows to every
/// state row by hash: 1,000 state rows per claim here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_claims_read_each_op_by_key_with_statistics() {
    ops_testkit::run_on(ops_testkit::Backend::Postgres, |db| async move {
        each_op_is_read_by_key(&db, Statistics::Analysed).await;
        db
    })
    .await;
}

/// Without statistics (a young database, autovacuum off or behind), the same: PostgreSQL, knowing nothing
/// of the tables, looked an op up by its type and uuid through `ix_cluster_ops_coalesce` (type,
/// coalesce key) and its state through `idx_object_states_type_state` (type, state), reading every op and
/// state row of the type per lookup: 501,500 op rows and 1.6 million state rows for 1,000 ops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_claims_read_each_op_by_key_without_statistics() {
    ops_testkit::run_on(ops_testkit::Backend::Postgres, |db| async move {
        each_op_is_read_by_key(&db, Statistics::Never).await;
        db
    })
    .await;
}

/// Asserts that a drain of 1,000 ops fetches a few rows by index per op from each table, not a table whole.
async fn each_op_is_read_by_key(db: &ops_testkit::TestDb, statistics: Statistics) {
    for (table, fetched) in drained_table_counts(db, statistics, "idx_tup_fetch").await {
        assert!(
            fetched <= 20_000,
            "{fetched} rows of {table} fetched by index in a drain of 1,000 ops"
        );
    }
}

/// Whether [`drained_table_counts`] analyses the tables after the fill, as autovacuum would in time.
enum Statistics {
    Analysed,
    Never,
}

/// Enqueues 1,000 ops, drains them with a worker on a store of its own, and returns how much `counter`
/// of `pg_stat_user_tables` grew over the drain for the queue, the ops and their states.
async fn drained_table_counts(
    db: &ops_testkit::TestDb,
    statistics: Statistics,
    counter: &str,
) -> Vec<(&'static str, i64)> {
    let store = db.migrated_store().await;
    for _ in 0..1_000 {
        enqueue_net_op(&store, NetworkId::new_v4()).await;
    }
    store.close().await;
    if let Statistics::Analysed = statistics {
        db.execute("ANALYZE").await;
    }
    let tables = ["work_queue", "cluster_operations", "object_states"];
    let mut before = Vec::new();
    for table in tables {
        before.push(db.settled_table_counter(table, counter).await);
    }
    let store = db.store().await;
    let runs = Runs::default();
    let worker = network_node_worker(&store)
        .handle(counting(&runs))
        .build()
        .expect("worker");
    let summary = worker.drain().await.expect("drain");
    assert_eq!(summary.completed, 1_000, "{summary:?}");
    drop(worker);
    store.close().await;
    let mut grew = Vec::new();
    for (table, before) in tables.into_iter().zip(before) {
        grew.push((
            table,
            db.settled_table_counter(table, counter).await - before,
        ));
    }
    grew
}

/// A table the handlers write one row to per execution, through a pool of their own: the record of what
/// ran, kept by the database rather than by the worker under test.
#[derive(Clone)]
enum Executions {
    Sqlite(sqlx::SqlitePool),
    MariaDb(sqlx::MySqlPool),
    Postgres(sqlx::PgPool),
}

impl Executions {
    async fn create(db: &ops_testkit::TestDb) -> Self {
        db.execute(
            "CREATE TABLE executions (op_uuid VARCHAR(36) NOT NULL, worker VARCHAR(64) NOT NULL)",
        )
        .await;
        match db.backend() {
            ops_testkit::Backend::Sqlite => {
                Executions::Sqlite(sqlx::SqlitePool::connect(db.url()).await.expect("pool"))
            }
            ops_testkit::Backend::MariaDb => {
                Executions::MariaDb(sqlx::MySqlPool::connect(db.url()).await.expect("pool"))
            }
            ops_testkit::Backend::Postgres => {
                Executions::Postgres(sqlx::PgPool::connect(db.url()).await.expect("pool"))
            }
        }
    }

    async fn record(&self, op: OpId, worker: &str) -> Result<(), sqlx::Error> {
        let op = op.to_string();
        match self {
            Executions::Sqlite(pool) => {
                sqlx::query("INSERT INTO executions (op_uuid, worker) VALUES (?, ?)")
                    .bind(op)
                    .bind(worker)
                    .execute(pool)
                    .await?;
            }
            Executions::MariaDb(pool) => {
                sqlx::query("INSERT INTO executions (op_uuid, worker) VALUES (?, ?)")
                    .bind(op)
                    .bind(worker)
                    .execute(pool)
                    .await?;
            }
            Executions::Postgres(pool) => {
                sqlx::query("INSERT INTO executions (op_uuid, worker) VALUES ($1, $2)")
                    .bind(op)
                    .bind(worker)
                    .execute(pool)
                    .await?;
            }
        }
        Ok(())
    }
}

/// A PostgreSQL worker's claims and rescue checks read the queue through its indexes, also when the
/// statistics have never seen it (a young database, autovacuum off or behind). PostgreSQL expected few
/// ready rows and scanned and sorted the whole queue for every claim: 27 ops a second from a backlog of
/// 20,000 in the worker bench.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_claims_and_completions_never_scan_the_queue_or_the_ops() {
    ops_testkit::run_on(ops_testkit::Backend::Postgres, |db| async move {
        let scanned = drained_table_counts(&db, Statistics::Never, "seq_scan").await;
        // One claim in every 32 or so read the queue whole; a scan or two of the emptied queue at the
        // end (a handful of pages) is the planner's fair choice. The claims and completions find the
        // ops and their states by key.
        for (table, scans) in scanned {
            let allowed = if table == "work_queue" { 2 } else { 0 };
            assert!(
                scans <= allowed,
                "{scans} sequential scans of {table} in a drain of 1,000 ops"
            );
        }
        db
    })
    .await;
}
