//! `opsctl worker` as separate processes on every backend: ops enqueued with `opsctl enqueue` all
//! complete, also by enqueue processes running beside a worker process; two worker processes share 1,000
//! ops and run each exactly once; a worker SIGKILLed mid-handler loses its op to a rescue after the
//! lease, and the op runs exactly once more; workers killed at random moments lose nothing and run nothing
//! twice.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ops_core::{NetworkId, OpId, Priority, Store};
use ops_schemas::ops::{NetOp, NetTask};
use ops_testkit::{TestDb, backend_tests};
use support::{RandomMoments, json, opsctl_on, stdout};

fn spawn_worker(db: &TestDb, args: &[&str]) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_opsctl"));
    command
        .args([
            "--database-url",
            db.url(),
            "--json",
            "worker",
            "--queues",
            "networknode",
        ])
        .args(args)
        .env_remove("OPS_DATABASE_URL")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command.spawn().expect("start opsctl worker")
}

fn summary(child: Child) -> serde_json::Value {
    let output = child.wait_with_output().expect("worker output");
    assert!(
        output.status.success(),
        "worker failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("one JSON summary")
}

async fn enqueue(store: &Store) -> OpId {
    NetOp {
        network_uuid: NetworkId::new_v4(),
        node_uuid: None,
        floating_address: None,
        inner_address: None,
    }
    .enqueue(store)
    .priority(Priority::Background)
    .task(NetTask::NetworkDeploy)
    .await
    .expect("enqueue")
}

/// Every "set attribute" event that moved an op to `executing`: one per claim.
async fn claims(db: &TestDb) -> Vec<Option<String>> {
    db.strings(
        "SELECT l.object_uuid FROM events e JOIN event_objects l ON l.event_uuid = e.event_uuid \
         WHERE l.object_type = 'net_op' AND e.event_type = 'mutate' AND e.extra LIKE '%\"value\":\"executing\"%' \
         ORDER BY l.object_uuid",
    )
    .await
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs_f64()
}

backend_tests! {
    async fn ops_enqueued_with_opsctl_all_complete_after_a_drain(db: &TestDb) {
        opsctl_on(db).arg("migrate").assert().success();
        let mut ops = Vec::new();
        for _ in 0..5 {
            let body = format!(r#"{{"network_uuid": "{}"}}"#, NetworkId::new_v4());
            let args = ["enqueue", "net_op", "-", "--priority", "user_facing", "--task", "network_deploy"];
            ops.push(stdout(opsctl_on(db).args(args).write_stdin(body).assert()).trim().to_owned());
        }
        let output = stdout(opsctl_on(db).args(["worker", "--queues", "networknode", "--drain"]).assert());
        assert!(output.contains("claimed 5, completed 5, failed 0"), "{output}");
        for op in &ops {
            let record = json(opsctl_on(db).args(["--json", "show", op]).assert());
            assert_eq!(record["state"], "complete", "{record}");
        }
        assert_eq!(db.count("object_states WHERE state_value IN ('queued', 'preflight', 'executing')").await, 0);
        assert_eq!(db.count("work_queue").await, 0);
    }

    async fn two_worker_processes_run_each_of_a_thousand_ops_exactly_once(db: &TestDb) {
        let store = db.migrated_store().await;
        for _ in 0..1000 {
            enqueue(&store).await;
        }
        let args = ["--drain", "--concurrency", "4", "--poll-interval", "50ms", "--handler-delay", "2ms"];
        let (first, second) = (spawn_worker(db, &args), spawn_worker(db, &args));
        let (first, second) = (summary(first), summary(second));
        let completed = |s: &serde_json::Value| s["completed"].as_u64().unwrap();
        assert_eq!(completed(&first) + completed(&second), 1000, "{first} {second}");
        assert!(completed(&first) > 0 && completed(&second) > 0, "both processes took work: {first} {second}");
        assert_ne!(first["worker"], second["worker"]);
        let claimed = claims(db).await;
        assert_eq!(claimed.len(), 1000, "one claim per op");
        let mut distinct = claimed.clone();
        distinct.dedup();
        assert_eq!(distinct.len(), 1000, "no op claimed twice");
        assert_eq!(db.count("object_states WHERE state_value = 'complete'").await, 1000);
    }

    /// A running worker process and enqueuing processes side by side on one database (on SQLite, one
    /// file): every enqueue succeeds — no "database is locked" reaches a user — and every op runs.
    async fn enqueue_processes_beside_a_running_worker_all_succeed(db: &TestDb) {
        opsctl_on(db).arg("migrate").assert().success();
        let worker = spawn_worker(db, &["--poll-interval", "10ms", "--handler-delay", "1ms"]);
        let url = db.url().to_owned();
        let enqueuers: Vec<_> = (0..4)
            .map(|_| {
                let url = url.clone();
                std::thread::spawn(move || {
                    let mut ops = Vec::new();
                    for _ in 0..25 {
                        let body = format!(r#"{{"network_uuid": "{}"}}"#, NetworkId::new_v4());
                        let output = Command::new(env!("CARGO_BIN_EXE_opsctl"))
                            .args(["--database-url", &url, "enqueue", "net_op", "-", "--priority", "background", "--task", "network_deploy"])
                            .env_remove("RUST_LOG")
                            .stdin(Stdio::piped())
                            .stdout(Stdio::piped())
                            .stderr(Stdio::piped())
                            .spawn()
                            .and_then(|mut child| {
                                use std::io::Write;
                                child.stdin.take().expect("stdin").write_all(body.as_bytes())?;
                                child.wait_with_output()
                            })
                            .expect("run opsctl enqueue");
                        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
                        assert!(output.status.success() && stderr.is_empty(), "enqueue failed: {stderr}");
                        ops.push(String::from_utf8(output.stdout).expect("utf-8").trim().to_owned());
                    }
                    ops
                })
            })
            .collect();
        let ops: Vec<String> = enqueuers.into_iter().flat_map(|t| t.join().expect("an enqueuer")).collect();
        assert_eq!(ops.len(), 100);
        let store = db.store().await;
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while db.count("object_states WHERE object_type = 'net_op' AND state_value = 'complete'").await < 100 {
            assert!(std::time::Instant::now() < deadline, "the worker did not run every op");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let stop = Command::new("kill").args(["-INT", &worker.id().to_string()]).status().expect("kill");
        assert!(stop.success());
        let stopped = summary(worker);
        assert_eq!(stopped["completed"].as_u64(), Some(100), "{stopped}");
        for op in &ops {
            let op: OpId = op.parse().expect("an op id");
            assert_eq!(store.op_state(op).await.unwrap(), Some(ops_core::OpState::Complete));
        }
    }

    /// A worker SIGKILLed at a random moment of its run, six runs of 12 ops each (the moments spread from
    /// before its first claim to after its last completion), then a rescuer drains. Every op is complete,
    /// completed exactly once; an op the killed worker finished is never claimed again; an op it held when
    /// it died is claimed exactly once more, by the rescuer, after the kill — never two runs at a time.
    async fn workers_killed_at_random_moments_lose_nothing_and_run_nothing_twice(db: &TestDb) {
        let store = db.migrated_store().await;
        let mut moments = RandomMoments::new();
        let (mut finished_by_doomed, mut rescued) = (0, 0);
        for run in 0..6 {
            let mut ops = Vec::new();
            for _ in 0..12 {
                ops.push(enqueue(&store).await);
            }
            let moment = moments.next_under(900);
            let (doomed_id, rescuer_id) = (format!("doomed{run}"), format!("rescuer{run}"));
            let mut doomed = spawn_worker(db, &["--concurrency", "4", "--lease", "1s", "--poll-interval", "100ms", "--handler-delay", "200ms", "--worker-id", &doomed_id]);
            tokio::time::sleep(moment).await;
            doomed.kill().unwrap();
            doomed.wait().unwrap();
            let killed_at = now();
            let rescuer = spawn_worker(db, &["--drain", "--lease", "1s", "--poll-interval", "100ms", "--worker-id", &rescuer_id]);
            summary(rescuer);
            for op in &ops {
                let context = format!("op {op} of run {run}, killed at {moment:?} (seed {})", moments.seed());
                let record = store.op_record(*op).await.unwrap().unwrap();
                assert_eq!(record.state, Some(ops_core::OpState::Complete), "{context}");
                let completions = record.events.iter().filter(|e| e.extra["value"] == "complete").count();
                assert_eq!(completions, 1, "{context}");
                let claims: Vec<(String, f64)> = record.events.iter()
                    .filter(|e| e.extra["value"] == "executing")
                    .map(|e| (e.extra["message"].as_str().unwrap_or_default().to_owned(), e.timestamp))
                    .collect();
                let doomed_claim = format!("claimed by worker {doomed_id}");
                let rescuer_claim = format!("claimed by worker {rescuer_id}");
                match claims.as_slice() {
                    [(by, _)] if *by == doomed_claim => finished_by_doomed += 1,
                    [(by, _)] => assert_eq!(*by, rescuer_claim, "{context}"),
                    [(first, _), (second, at)] => {
                        assert_eq!((first, second), (&doomed_claim, &rescuer_claim), "{context}");
                        assert!(*at >= killed_at, "{context}: claimed again before the kill");
                        rescued += 1;
                    }
                    more => panic!("{context}: claimed {} times: {more:?}", more.len()),
                }
            }
        }
        eprintln!("{:?}: of 72 ops, the killed workers finished {finished_by_doomed}, {rescued} were rescued", db.backend());
    }

    async fn a_sigkilled_workers_op_is_rescued_after_the_lease_and_runs_once_more(db: &TestDb) {
        let store = db.migrated_store().await;
        let op = enqueue(&store).await;
        let lease = 1.0;
        let poll = 0.1;
        let mut doomed = spawn_worker(db, &["--lease", "1s", "--poll-interval", "100ms", "--handler-delay", "1h", "--worker-id", "doomed"]);
        while store.op_state(op).await.unwrap() != Some(ops_core::OpState::Executing) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Mid-handler, after at least one lease renewal.
        tokio::time::sleep(Duration::from_millis(500)).await;
        doomed.kill().unwrap();
        let killed_at = now();
        doomed.wait().unwrap();
        let rescuer = spawn_worker(db, &["--drain", "--lease", "1s", "--poll-interval", "100ms", "--worker-id", "rescuer"]);
        let rescued = summary(rescuer);
        assert_eq!((rescued["rescued"].as_u64(), rescued["completed"].as_u64()), (Some(1), Some(1)), "{rescued}");
        let record = store.op_record(op).await.unwrap().unwrap();
        assert_eq!(record.state, Some(ops_core::OpState::Complete));
        let rescue = record.events.iter().find(|e| e.message == "rescued: the lease of worker doomed expired").unwrap();
        let waited = rescue.timestamp - killed_at;
        assert!(waited <= lease + poll + 0.5, "rescued {waited:.3}s after the kill; the bound is one lease plus one poll");
        let claimed_by: Vec<_> = record.events.iter().filter(|e| e.extra["value"] == "executing").map(|e| e.extra["message"].clone()).collect();
        assert_eq!(claimed_by, ["claimed by worker doomed", "claimed by worker rescuer"]);
        assert_eq!(record.events.iter().filter(|e| e.extra["value"] == "complete").count(), 1);
    }
}
