//! What an operator's overview reads, on every backend: the work queues' depth by queue and priority, the
//! last hour's rescues and outcomes, and each op's timeline (when it ran, who ran it, how often).

mod support;

use std::time::Duration;

use ops_core::worker::{OpError, Worker, WorkerBuilder};
use ops_core::{NetworkId, OpState, Priority, QueueTarget, Store};
use ops_testkit::backend_tests;
use support::{NetOp, NetTask, enqueue_net_op_at, now, until_state};

fn worker(store: &Store, id: &str) -> WorkerBuilder {
    Worker::builder(store.clone())
        .serve(QueueTarget::NetworkNode)
        .poll_interval(Duration::from_millis(20))
        .worker_id(id)
}

backend_tests! {
    /// Each queue and priority holding rows is counted: waiting, delayed, claimed, and the oldest wait; an
    /// empty store has no queue and no rate.
    async fn the_queue_overview_counts_each_queue_by_priority(db: &TestDb) {
        let store = db.migrated_store().await;
        let empty = store.queue_overview(0.0).await.unwrap();
        assert_eq!((empty.queues.len(), empty.rescued, empty.error_rate()), (0, 0, None));

        let first = enqueue_net_op_at(&store, Priority::UserWaiting).await;
        let second = enqueue_net_op_at(&store, Priority::UserWaiting).await;
        let later = enqueue_net_op_at(&store, Priority::Background).await;
        db.execute(&format!("UPDATE work_queue SET scheduled_at = scheduled_at + 3600 WHERE operation_uuid = '{later}'")).await;
        // A worker holds the first op, running it until told to stop.
        let (release, released) = tokio::sync::watch::channel(false);
        let holding = worker(&store, "holding")
            .concurrency(1)
            .handle(move |_op: NetOp, _ctx| {
                let mut released = released.clone();
                async move {
                    let _ = released.wait_for(|go| *go).await;
                    Ok::<(), OpError>(())
                }
            })
            .build()
            .unwrap();
        let running = tokio::spawn(async move { holding.run_once().await });
        until_state(&store, first, OpState::Executing).await;

        let overview = store.queue_overview(0.0).await.unwrap();
        let rows: Vec<_> = overview
            .queues
            .iter()
            .map(|q| (q.queue_name.as_str(), q.priority, q.queued, q.delayed, q.in_flight))
            .collect();
        assert_eq!(
            rows,
            [
                ("networknode-clusteroperation-background", i64::from(Priority::Background.value()), 1, 1, 0),
                ("networknode-clusteroperation-user_waiting", i64::from(Priority::UserWaiting.value()), 1, 0, 1),
            ]
        );
        let second_created = store.op_record(second).await.unwrap().unwrap().created_at;
        assert_eq!(overview.queues[1].oldest_queued_at, Some(second_created));
        release.send(true).unwrap();
        running.await.unwrap().unwrap();
    }

    /// Ops that completed and failed since a time give the error rate; those before it do not count, nor
    /// do objects' own moves to `error`; completed ops hard-deleted since still do.
    async fn the_error_rate_counts_what_finished_in_the_window(db: &TestDb) {
        let store = db.migrated_store().await;
        let before = enqueue_net_op_at(&store, Priority::UserWaiting).await;
        store.transition(before, OpState::Executing, None).await.unwrap();
        store.transition(before, OpState::Error, None).await.unwrap();
        db.execute(&format!(
            "UPDATE events SET timestamp = timestamp - 7200 WHERE event_uuid IN \
             (SELECT event_uuid FROM event_objects WHERE object_uuid = '{before}')"
        )).await;
        let since = now() - 3600.0;
        let network = NetworkId::new_v4();
        store.create_object(&ops_core::NewObject::network(network, "broken", "ns", 7)).await.unwrap();
        store.set_object_state(network.into(), ops_core::ObjectState::Error, Some("bridge lost")).await.unwrap();
        let fails = enqueue_net_op_at(&store, Priority::UserWaiting).await;
        for _ in 0..3 {
            enqueue_net_op_at(&store, Priority::UserWaiting).await;
        }
        let ran = worker(&store, "w")
            .handle(move |_op: NetOp, ctx: ops_core::OpContext<NetTask>| {
                let outcome = if ctx.op_id() == fails { Err(OpError::failed("no bridge")) } else { Ok(()) };
                std::future::ready(outcome)
            })
            .max_attempts(1)
            .build()
            .unwrap()
            .drain()
            .await
            .unwrap();
        assert_eq!((ran.completed, ran.failed), (3, 1), "{ran:?}");
        let overview = store.queue_overview(since).await.unwrap();
        assert_eq!((overview.completed, overview.failed, overview.error_rate()), (3, 1, Some(0.25)));
        // Shaken Fist's sweep hard-deletes completed ops (never failed ones): they still count.
        assert_eq!(store.hard_delete_finished_ops(Duration::ZERO, 100).await.unwrap(), 3);
        let overview = store.queue_overview(since).await.unwrap();
        assert_eq!((overview.completed, overview.failed), (3, 1));
        assert_eq!(store.queue_overview(now() + 1.0).await.unwrap().error_rate(), None);
    }

    /// An op whose worker died is rescued and run again: the overview counts the rescue, and the op's
    /// timeline shows two starts, the rescuer as its worker, and how long the last run took.
    async fn a_rescue_is_counted_and_the_timeline_shows_each_run(db: &TestDb) {
        let store = db.migrated_store().await;
        let since = now() - 1.0;
        let op = enqueue_net_op_at(&store, Priority::UserWaiting).await;
        let lease = Duration::from_millis(600);
        let dying = worker(&store, "dying")
            .lease(lease)
            .handle(|_op: NetOp, _ctx| std::future::pending::<Result<(), OpError>>())
            .build()
            .unwrap();
        let running = tokio::spawn(async move { dying.run().await });
        until_state(&store, op, OpState::Executing).await;
        let first_run = store.op_record(op).await.unwrap().unwrap().timeline();
        assert_eq!((first_run.attempts, first_run.worker.as_deref(), first_run.finished_at), (1, Some("dying"), None));
        assert_eq!(first_run.duration(), None);
        running.abort();
        let _ = running.await;
        let summary = worker(&store, "rescuer")
            .lease(lease)
            .handle(|_op: NetOp, _ctx| std::future::ready(Ok::<(), OpError>(())))
            .build()
            .unwrap()
            .drain()
            .await
            .unwrap();
        assert_eq!((summary.rescued, summary.completed), (1, 1), "{summary:?}");
        let overview = store.queue_overview(since).await.unwrap();
        assert_eq!((overview.rescued, overview.completed), (1, 1));
        assert_eq!(store.queue_overview(now() + 1.0).await.unwrap().rescued, 0);

        let record = store.op_record(op).await.unwrap().unwrap();
        let timeline = record.timeline();
        assert_eq!((timeline.attempts, timeline.worker.as_deref()), (2, Some("rescuer")));
        let (started, finished) = (timeline.started_at.unwrap(), timeline.finished_at.unwrap());
        assert!(record.created_at < first_run.started_at.unwrap() && first_run.started_at.unwrap() < started);
        assert!(started <= finished);
        assert_eq!(timeline.duration(), Some(finished - started));
    }

    /// A claim that found its dependency unfinished is no attempt, nor is its start shown; the run that
    /// follows once the dependency completes is the op's one attempt.
    async fn a_deferral_is_no_attempt_in_the_timeline(db: &TestDb) {
        let store = db.migrated_store().await;
        let first = enqueue_net_op_at(&store, Priority::UserWaiting).await;
        // The first op waits where no worker of this test takes it.
        db.execute(&format!("DELETE FROM work_queue WHERE operation_uuid = '{first}'")).await;
        let second = NetOp { network_uuid: NetworkId::new_v4(), node_uuid: None }
            .enqueue(&store)
            .priority(Priority::UserWaiting)
            .task(NetTask::NetworkDeploy)
            .depends_on(ops_core::Dependency::on::<NetOp>(first))
            .await
            .unwrap();
        let worker = || {
            worker(&store, "w")
                .handle(|_op: NetOp, _ctx| std::future::ready(Ok::<(), OpError>(())))
                .build()
                .unwrap()
        };
        let summary = worker().run_once().await.unwrap();
        assert_eq!(summary.deferred, 1, "{summary:?}");
        let deferred = store.op_record(second).await.unwrap().unwrap().timeline();
        assert_eq!((deferred.attempts, deferred.started_at, deferred.worker), (0, None, None));

        store.transition(first, OpState::Executing, None).await.unwrap();
        store.transition(first, OpState::Complete, None).await.unwrap();
        db.execute("UPDATE work_queue SET scheduled_at = 0").await;
        let summary = worker().drain().await.unwrap();
        assert_eq!(summary.completed, 1, "{summary:?}");
        let done = store.op_record(second).await.unwrap().unwrap().timeline();
        assert_eq!((done.attempts, done.worker.as_deref()), (1, Some("w")));
        assert!(done.started_at.is_some() && done.duration().is_some());
    }
}
