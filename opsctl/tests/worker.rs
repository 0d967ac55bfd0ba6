//! `opsctl worker` as separate processes on every backend: ops enqueued with `opsctl enqueue` all
//! complete; two worker processes share 1,000 ops and run each exactly once; a worker SIGKILLed
//! mid-handler loses its op to a rescue after the lease, and the op runs exactly once more.

use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use ops_core::{NetworkId, OpId, Priority, Store};
use ops_schemas::ops::{NetOp, NetTask};
use ops_testkit::{TestDb, backend_tests};

fn opsctl_command(db: &TestDb, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_opsctl"));
    command
        .args(["--database-url", db.url()])
        .args(args)
        .env_remove("OPS_DATABASE_URL")
        .current_dir(std::env::temp_dir());
    command
}

fn succeeded(output: Output) -> String {
    assert!(
        output.status.success(),
        "opsctl failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8 output")
}

fn spawn_worker(db: &TestDb, args: &[&str]) -> Child {
    opsctl_command(
        db,
        &[&["--json", "worker", "--queues", "networknode"], args].concat(),
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("start opsctl worker")
}

fn summary(child: Child) -> serde_json::Value {
    let output = succeeded(child.wait_with_output().expect("worker output"));
    serde_json::from_str(output.trim()).expect("one JSON summary")
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
        succeeded(opsctl_command(db, &["migrate"]).output().unwrap());
        let mut ops = Vec::new();
        for _ in 0..5 {
            let body = format!(r#"{{"network_uuid": "{}"}}"#, NetworkId::new_v4());
            let path = std::env::temp_dir().join(format!("opsctl-worker-{}.json", uuid::Uuid::new_v4().simple()));
            std::fs::write(&path, body).unwrap();
            let args = ["enqueue", "net_op", path.to_str().unwrap(), "--priority", "user_facing", "--task", "network_deploy"];
            ops.push(succeeded(opsctl_command(db, &args).output().unwrap()).trim().to_owned());
            std::fs::remove_file(path).unwrap();
        }
        let output = succeeded(opsctl_command(db, &["worker", "--queues", "networknode", "--drain"]).output().unwrap());
        assert!(output.contains("claimed 5, completed 5, failed 0"), "{output}");
        for op in &ops {
            let record: serde_json::Value =
                serde_json::from_str(&succeeded(opsctl_command(db, &["--json", "show", op]).output().unwrap())).unwrap();
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

    async fn a_worker_on_a_database_without_the_schema_says_to_migrate(db: &TestDb) {
        db.store().await; // the database exists (a SQLite file is created), with no schema
        let output = opsctl_command(db, &["worker", "--queues", "any", "--once"]).output().unwrap();
        assert_eq!(output.status.code(), Some(4), "exit 4: the schema is missing");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.trim(), "error: the database has no ops schema; run `opsctl migrate` first");
    }
}

#[test]
fn bad_queue_names_and_options_are_input_errors() {
    for (args, message) in [
        (
            &["worker", "--queues", "everywhere", "--once"][..],
            "error: unknown queue `everywhere`; expected any, networknode, a node uuid, or a queue name such as any-clusteroperation-background",
        ),
        (
            &["worker", "--queues", "any", "--lease", "1ms", "--once"][..],
            "error: invalid worker option: a lease of 1ms is too short to renew; use at least 300ms",
        ),
    ] {
        let dir =
            std::env::temp_dir().join(format!("opsctl-worker-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let migrate = Command::new(env!("CARGO_BIN_EXE_opsctl"))
            .arg("migrate")
            .current_dir(&dir)
            .env_remove("OPS_DATABASE_URL")
            .output()
            .unwrap();
        assert!(migrate.status.success());
        let output = Command::new(env!("CARGO_BIN_EXE_opsctl"))
            .args(args)
            .current_dir(&dir)
            .env_remove("OPS_DATABASE_URL")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert_eq!(String::from_utf8(output.stderr).unwrap().trim(), message);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
