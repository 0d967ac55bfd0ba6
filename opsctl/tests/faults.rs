//! `opsctl enqueue` killed inside its transaction, on purpose and at random moments: an op is whole or
//! absent, never partial, and the next enqueue is whole. (In-process faults — a killed server session, a
//! locked or read-only SQLite file — are `ops-core/tests/faults.rs`.)

mod support;

use std::time::Duration;

use ops_testkit::{Backend, PartialOpRows, TestDb, backend_tests};
use support::{NET_OP_BODY, RandomMoments, ScratchDir, opsctl_on, spawn_opsctl};

/// `opsctl enqueue net_op FILE` on `db`, started and left running.
fn spawn_enqueue(db: &TestDb, tmp: &ScratchDir) -> std::process::Child {
    let body = tmp.path().join("net_op.json");
    std::fs::write(&body, NET_OP_BODY).expect("write the op body");
    let body = body.to_string_lossy().into_owned();
    let args = [
        "--database-url",
        db.url(),
        "enqueue",
        "net_op",
        &body,
        "--priority",
        "background",
        "--task",
        "network_deploy",
    ];
    spawn_opsctl(&args, tmp.path())
}

/// Waits until `child` is inside its write transaction: its session runs the target insert on a server,
/// or it holds SQLite's write lock.
async fn wait_inside_transaction(db: &TestDb, child: &mut std::process::Child) {
    for _ in 0..500 {
        let inside = match db.backend() {
            Backend::Sqlite => db.sqlite_write_locked().await,
            Backend::MariaDb | Backend::Postgres => !db.stalled_sessions().await.is_empty(),
        };
        if inside {
            return;
        }
        if let Some(status) = child.try_wait().expect("poll opsctl") {
            panic!("opsctl enqueue ended ({status}) before it could be killed");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("opsctl enqueue never reached its transaction");
}

backend_tests! {
    /// SIGKILLed while its target insert is stalled by a trigger (header, state and queue rows already
    /// written in the transaction): nothing of the op is left, and the next enqueue is whole.
    async fn an_enqueue_killed_inside_its_transaction_leaves_nothing(db: &TestDb) {
        opsctl_on(db).arg("migrate").assert().success();
        if db.backend() == Backend::Postgres {
            // A backend notices its client is gone only when it next talks to it, unless asked to check
            // while a statement runs: without this the stalled one would hold its transaction 30 s.
            db.execute(
                "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET client_connection_check_interval = 100', \
                 current_database()); END $$",
            )
            .await;
        }
        db.inject_delay(
            "stall_network_target",
            "INSERT ON cluster_operation_targets",
            "NEW.target_object_type = 'network'",
        )
        .await;
        let tmp = ScratchDir::new("opsctl-killed-enqueue");
        let mut child = spawn_enqueue(db, &tmp);
        wait_inside_transaction(db, &mut child).await;
        // On SQLite the lock is taken at BEGIN: give it the moment to write the rows before the stall.
        tokio::time::sleep(Duration::from_millis(200)).await;
        child.kill().unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(output.stdout.is_empty(), "a killed enqueue printed an op id");
        db.remove_failure("stall_network_target", "cluster_operation_targets").await;
        assert_eq!(db.count("cluster_operations").await, 0);
        assert_eq!(db.count("cluster_operation_targets").await, 0);
        assert_eq!(db.partial_op_rows().await, PartialOpRows::NONE);
        let mut again = spawn_enqueue(db, &tmp);
        assert!(again.wait().unwrap().success());
        assert_eq!(db.count("cluster_operations").await, 1);
        assert_eq!(db.partial_op_rows().await, PartialOpRows::NONE);
    }

    /// SIGKILLed at a random moment of its run, 30 times: every op left is whole. The moments span the
    /// process's start to well past its commit, so some runs finish and some die inside the transaction.
    async fn enqueues_killed_at_random_moments_leave_only_whole_ops(db: &TestDb) {
        opsctl_on(db).arg("migrate").assert().success();
        let tmp = ScratchDir::new("opsctl-random-kills");
        let mut moments = RandomMoments::new();
        let mut printed_ids = 0;
        for _ in 0..30 {
            let moment = moments.next_under(60);
            let mut child = spawn_enqueue(db, &tmp);
            tokio::time::sleep(moment).await;
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            if output.status.success() {
                printed_ids += 1;
            }
            assert_eq!(db.partial_op_rows().await, PartialOpRows::NONE, "after a kill at {moment:?} (seed {})", moments.seed());
        }
        // Every op the store reported is there; ops killed after their commit but before printing are too.
        let ops = db.count("cluster_operations").await;
        assert!(ops >= printed_ids, "{ops} ops stored, {printed_ids} ids printed");
        eprintln!("{:?}: {ops} of 30 enqueues committed, {printed_ids} finished", db.backend());
    }
}
