//! opsctl end to end, as an operator runs it: every subcommand on SQLite, and the ones that use a database
//! on MariaDB and PostgreSQL too, reading rows another program wrote straight into the tables. Tables are
//! snapshots (`tests/snapshots`, shared by the three backends: the output is the same on each); bad input
//! is in `bad_input.rs`, the worker's processes in `worker.rs`, the JSON fields in `json.rs`.

mod support;

use std::path::Path;

use ops_testkit::{Backend, backend_tests};
use support::{
    NET_OP_BODY, ScratchDir, database_commands, json, one_line_error, opsctl, opsctl_in, opsctl_on,
    redact, redact_times, spawn_opsctl, stdout, write_op_rows,
};
use uuid::Uuid;
/// Fixed uuids, so that the snapshots of tables are the same on every run and every backend.
const NETWORK: &str = "8d6ae5c6-0d5e-4a7c-9d3e-51a4e8b2b0f1";
const NODE: &str = "4f1b1e9e-7a49-4e1b-a9a4-3c2c9f5b0d21";
const INSTANCE: &str = "c0a8e6a2-5b7d-4e33-8f0e-2a9b6d1c4e57";
const OPS: [&str; 3] = [
    "0e0f5c1a-3b9d-4c55-8a2e-1f6d7c8b9a01",
    "1e0f5c1a-3b9d-4c55-8a2e-1f6d7c8b9a02",
    "2e0f5c1a-3b9d-4c55-8a2e-1f6d7c8b9a03",
];

fn uuid(text: &str) -> Uuid {
    Uuid::parse_str(text).expect("a fixed uuid")
}

backend_tests! {
    async fn migrate_reports_the_legacy_pointers_it_backfilled_and_skipped(db: &TestDb) {
        db.store().await.migrate_to(1).await.unwrap();
        let mut values = Vec::new();
        for pointer in [
            format!(r#"'{{"op_type": "net_op", "op_uuid": "{}"}}'"#, Uuid::new_v4()),
            format!(r#"'{{"op_type": "net_op", "op_uuid": "{}"}}'"#, Uuid::new_v4().simple()),
            format!(r#"'{{"op_type": "net_op", "op_uuid": "{}"}}'"#, Uuid::new_v4().to_string().to_uppercase()),
            "'{}'".to_owned(),
            r#"'{"op_type": "net_op", "op_uuid": 7}'"#.to_owned(),
            "NULL".to_owned(),
        ] {
            values.push(format!("('network', '{}', '{{}}', {pointer})", Uuid::new_v4()));
        }
        db.execute(&format!(
            "INSERT INTO object_metadata (object_type, object_uuid, metadata_json, last_cluster_operation_json) \
             VALUES {}",
            values.join(", ")
        ))
        .await;
        assert_eq!(
            json(opsctl_on(db).args(["--json", "migrate"]).assert()),
            serde_json::json!({
                "previous_version": 1,
                "version": 12,
                "applied": [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
                "backfill": {"pointers": 5, "backfilled": 3, "skipped": 2},
                "resumed": null,
            })
        );
        opsctl_on(db).arg("migrate").assert().success().stdout("schema already at version 12\n");
    }

    /// Two `opsctl migrate` started together on an empty database (two hosts upgrading at once): both
    /// succeed, and the schema is one whole schema, each migration applied once.
    async fn two_migrations_at_once_leave_one_whole_schema(db: &TestDb) {
        let tmp = ScratchDir::new("opsctl-migrate-twice");
        let args = ["--database-url", db.url(), "--json", "migrate"];
        let (first, second) = (spawn_opsctl(&args, tmp.path()), spawn_opsctl(&args, tmp.path()));
        let mut applied = Vec::new();
        for child in [first, second] {
            let output = child.wait_with_output().unwrap();
            assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
            let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
            assert_eq!(report["version"], 12, "{report}");
            applied.extend(report["applied"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()));
        }
        applied.sort_unstable();
        assert_eq!(applied, (1..=12).collect::<Vec<_>>(), "each migration applied by one of the two");
        assert_eq!(db.count("_sqlx_migrations WHERE success").await, 12);
        let store = db.store().await;
        store.require_current_schema().await.unwrap();
        store.close().await;
    }

    /// `opsctl migrate` SIGKILLed in the middle of a 100,000-pointer backfill, then run again: the second
    /// run finishes the upgrade, every pointer kept. PostgreSQL and SQLite roll the killed migration back
    /// whole; MariaDB keeps the DDL it had committed, and each migration is written to be run again.
    async fn a_migration_killed_midway_is_finished_by_the_next(db: &TestDb) {
        let store = db.store().await;
        store.migrate_to(1).await.unwrap();
        store.close().await;
        for _ in 0..100 {
            let values: Vec<String> = (0..1_000)
                .map(|_| format!(
                    r#"('network', '{}', '{{}}', '{{"op_type": "net_op", "op_uuid": "{}"}}')"#,
                    Uuid::new_v4(),
                    Uuid::new_v4()
                ))
                .collect();
            db.execute(&format!(
                "INSERT INTO object_metadata (object_type, object_uuid, metadata_json, last_cluster_operation_json) \
                 VALUES {}",
                values.join(", ")
            ))
            .await;
        }
        if db.backend() == Backend::Sqlite {
            // An empty write-ahead log, so that its growth shows the migration's writes.
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)").await;
        }
        let tmp = ScratchDir::new("opsctl-migrate-killed");
        let mut killed = spawn_opsctl(&["--database-url", db.url(), "migrate"], tmp.path());
        let mut polls = 0;
        loop {
            let inside = match db.backend() {
                // Past the journal switch and into the backfill: a megabyte of it in the write-ahead log.
                Backend::Sqlite => std::fs::metadata(format!("{}-wal", db.url().trim_start_matches("sqlite://")))
                    .is_ok_and(|wal| wal.len() > 1_000_000),
                Backend::MariaDb | Backend::Postgres => {
                    !db.sessions_running("cluster_operation_targets").await.is_empty()
                }
            };
            if inside {
                break;
            }
            assert!(killed.try_wait().unwrap().is_none(), "the migration ended before it could be killed");
            polls += 1;
            assert!(polls < 1_000, "the migration never reached its backfill");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        killed.kill().unwrap();
        killed.wait().unwrap();
        let report = json(opsctl_on(db).args(["--json", "migrate"]).assert());
        assert_eq!(report["version"], 12, "{report}");
        assert_eq!(db.count("cluster_operation_targets").await, 100_000);
        assert_eq!(db.count("_sqlx_migrations WHERE success").await, 12);
        eprintln!("{:?}: killed after {polls} polls; the next run applied {}", db.backend(), report["applied"]);
    }

    async fn prune_counts_in_a_dry_run_then_deletes_what_the_retention_allows(db: &TestDb) {
        opsctl_on(db).arg("migrate").assert().success();
        let network = Uuid::new_v4();
        let (old, older, recent) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        write_op_rows(db, network, older, "complete", 1000.0).await;
        write_op_rows(db, network, old, "error", 1001.0).await;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
        write_op_rows(db, network, recent, "complete", now).await;
        opsctl_on(db)
            .args(["prune", "--retention", "7d", "--dry-run"])
            .assert()
            .success()
            .stdout("would delete 2 target rows and 0 finished operations (3 rows examined in 1 batch)\n");
        assert_eq!(db.count("cluster_operation_targets").await, 3);
        assert_eq!(
            json(opsctl_on(db).args(["--json", "prune", "--retention", "7d", "--batch-size", "1"]).assert()),
            serde_json::json!({"target_rows": 2, "ops": 0, "maintainer_passes": 0, "batches": 3, "dry_run": false,
                               "disabled": false, "examined": 3, "to_examine": 3})
        );
        // The newest row stays: it is the network's latest op.
        let latest = json(opsctl_on(db).args(["--json", "latest", "network", &network.to_string()]).assert());
        assert_eq!(latest["last_cluster_operation"]["op_uuid"], recent.to_string());
        opsctl_on(db)
            .args(["prune", "--retention", "0s"])
            .assert()
            .success()
            .stdout("prune disabled: the retention is 0\n");
        // Shaken Fist's sweep, opt-in: these rows have no header, so no op qualifies.
        let swept = json(opsctl_on(db).args(["--json", "prune", "--hard-delete-finished-after", "30s"]).assert());
        assert_eq!(swept["hard_deleted_ops"], 0);
    }

    async fn pending_latest_and_history_read_rows_written_by_another_program(db: &TestDb) {
        opsctl_on(db).arg("migrate").assert().success().stdout("schema created at version 12\n");
        opsctl_on(db)
            .args(["pending", "network", NETWORK])
            .assert()
            .success()
            .stdout(format!("network {NETWORK}: no operation in flight\n"));
        for (i, (op, state)) in OPS.iter().zip(["complete", "queued", "executing"]).enumerate() {
            write_op_rows(db, uuid(NETWORK), uuid(op), state, 1_700_000_000.0 + 100.0 * i as f64).await;
        }

        let pending = json(opsctl_on(db).args(["pending", "network", NETWORK, "--json"]).assert());
        assert_eq!(pending["object_type"], "network");
        assert_eq!(pending["uuid"], NETWORK);
        let ops: Vec<(&str, &str)> = pending["pending"]
            .as_array()
            .unwrap()
            .iter()
            .map(|op| (op["op_uuid"].as_str().unwrap(), op["state"].as_str().unwrap()))
            .collect();
        assert_eq!(ops, [(OPS[1], "queued"), (OPS[2], "executing")]);
        insta::assert_snapshot!("pending", stdout(opsctl_on(db).args(["pending", "network", NETWORK]).assert()));

        let latest = json(opsctl_on(db).args(["--json", "latest", "network", NETWORK]).assert());
        assert_eq!(latest["last_cluster_operation"], serde_json::json!({"op_type": "net_op", "op_uuid": OPS[2]}));
        opsctl_on(db)
            .args(["latest", "network", NETWORK])
            .assert()
            .success()
            .stdout(format!("network {NETWORK}: last cluster operation net_op {}\n", OPS[2]));

        // History, a page at a time, newest first.
        let page = json(opsctl_on(db).args(["history", "network", NETWORK, "--limit", "2", "--json"]).assert());
        let got: Vec<&str> = page["ops"].as_array().unwrap().iter().map(|op| op["op_uuid"].as_str().unwrap()).collect();
        assert_eq!(got, [OPS[2], OPS[1]]);
        let first = stdout(opsctl_on(db).args(["history", "network", NETWORK, "--limit", "2"]).assert());
        insta::assert_snapshot!("history_first_page", first);
        let before = page["next_before"].as_i64().unwrap().to_string();
        insta::assert_snapshot!(
            "history_last_page",
            stdout(opsctl_on(db).args(["history", "network", NETWORK, "--limit", "2", "--before", &before]).assert())
        );
    }

    /// `view` shows an object as Shaken Fist's API does, `last_cluster_operation` included for a network.
    async fn view_shows_an_objects_external_view(db: &TestDb) {
        opsctl_on(db).arg("migrate").assert().success();
        let store = db.store().await;
        let network = ops_core::NetworkId::from(uuid(NETWORK));
        store.create_object(&ops_core::NewObject::network(network, "web", "ns1", 0x2a)).await.unwrap();
        write_op_rows(db, uuid(NETWORK), uuid(OPS[0]), "queued", 1_700_000_000.0).await;
        assert_eq!(
            json(opsctl_on(db).args(["--json", "view", "network", NETWORK]).assert()),
            serde_json::json!({
                "uuid": NETWORK, "name": "web", "namespace": "ns1", "state": "initial", "vxlan_id": 42,
                "provide_dhcp": false, "provide_dns": false, "error_message": null,
                "last_cluster_operation": {"op_type": "net_op", "op_uuid": OPS[0]},
            })
        );
        insta::assert_snapshot!("view_network", stdout(opsctl_on(db).args(["view", "network", NETWORK]).assert()));
    }

    /// `maintain --once` on the real host (where no br-vxlan bridge exists): the broken idle network is
    /// repaired — first only reported with --dry-run — and the busy one is left alone.
    async fn maintain_repairs_broken_idle_networks_and_leaves_busy_ones(db: &TestDb) {
        opsctl_on(db).arg("migrate").assert().success();
        let store = db.store().await;
        let (broken, busy) = (ops_core::NetworkId::from(uuid(NETWORK)), ops_core::NetworkId::from(uuid(INSTANCE)));
        for (vxid, network) in [(0xfffff0, broken), (0xfffff1, busy)] {
            store.create_object(&ops_core::NewObject::network(network, "n", "ns", vxid)).await.unwrap();
            store.set_object_state(network.into(), ops_core::ObjectState::Created, None).await.unwrap();
        }
        db.execute("UPDATE object_states SET update_time = update_time - 3600").await;
        write_op_rows(db, busy.into(), uuid(OPS[0]), "executing", 1_700_000_000.0).await;
        let args = ["maintain", "--node", NODE, "--network-node", "--once"];

        insta::assert_snapshot!(
            "maintain_dry_run",
            stdout(opsctl_on(db).args([&args[..], &["--dry-run"]].concat()).assert())
        );
        assert_eq!(db.count("cluster_operations").await, 0);

        let report = json(opsctl_on(db).args([&args[..], &["--json"]].concat()).assert());
        assert_eq!(report["busy"], serde_json::json!([busy.to_string()]));
        assert_eq!(report["repaired"][0]["network"], broken.to_string());
        assert_eq!(report["repaired"][0]["ops"].as_array().unwrap().len(), 2);
        let pending = json(opsctl_on(db).args(["--json", "pending", "network", NETWORK]).assert());
        assert_eq!(pending["pending"].as_array().unwrap().len(), 2, "{pending}");
        // The next pass finds the network busy with its own repair.
        let again = json(opsctl_on(db).args([&args[..], &["--json"]].concat()).assert());
        assert_eq!(again["busy"].as_array().unwrap().len(), 2, "{again}");
    }

    /// `simulate` on each backend: the legacy gate races, the targets gate never does.
    async fn simulate_counts_spurious_recreates_of_both_gates(db: &TestDb) {
        opsctl_on(db).arg("migrate").assert().success();
        let report = json(opsctl().args(["--json", "simulate", "--seeds", "8", "--backend", db.url()]).assert());
        assert_eq!(report["seeds"], 8);
        assert_eq!(report["targets_spurious"], 0, "{report}");
        assert_eq!(report["targets_missed"], 0, "{report}");
        assert!(report["legacy_spurious"].as_u64().unwrap() > 0, "{report}");
        // Nothing live is left for real workers or a real maintainer.
        assert_eq!(db.count("work_queue").await, 0);
        assert_eq!(db.count("cluster_operations").await, 0);
        assert_eq!(db.count("object_states WHERE object_type = 'network' AND state_value <> 'deleted'").await, 0);
    }

    async fn enqueue_then_show_then_run(db: &TestDb) {
        opsctl_on(db).arg("migrate").assert().success();
        let dir = ScratchDir::new("opsctl-enqueue");
        let input = dir.path().join("op.json");
        std::fs::write(&input, format!(r#"{{"node_uuid": "{NODE}", "instance_uuid": "{INSTANCE}"}}"#)).unwrap();
        let id = stdout(opsctl_on(db)
            .args(["enqueue", "node_inst_op", input.to_str().unwrap(), "--priority", "background", "--task", "health_check_kvm_process"])
            .assert());
        let id = id.trim();
        assert!(Uuid::parse_str(id).is_ok(), "{id}");

        let shown = json(opsctl_on(db).args(["show", id, "--json"]).assert());
        assert_eq!(shown["op_type"], "node_inst_op");
        assert_eq!(shown["state"], "queued");
        assert_eq!(shown["queue_name"], format!("{NODE}-clusteroperation-background"));
        assert_eq!(shown["targets"], serde_json::json!([{"object_type": "instance", "uuid": INSTANCE, "sequence_number": 1}]));
        assert_eq!(shown["wire"]["tasks"], serde_json::json!(["health_check_kvm_process"]));
        assert_eq!(shown["wire"]["node_uuid"], NODE);
        assert_eq!(shown["events"][0]["message"], "node_inst_op operation created with tasks health_check_kvm_process");
        insta::assert_snapshot!(
            "show_queued",
            redact_times(&redact(&stdout(opsctl_on(db).args(["show", id]).assert()), &[(id, "[op]")]))
        );

        // From standard input, several tasks, a dependency, JSON output.
        let enqueued = json(opsctl_on(db)
            .args(["enqueue", "net_op", "-", "--priority", "user_facing", "--task", "network_deploy", "--task",
                   "network_ensure_mesh", "--depends-on", &format!("node_inst_op:{id}"), "--request-id", "req-9",
                   "--json"])
            .write_stdin(format!(r#"{{"network_uuid": "{NETWORK}"}}"#))
            .assert());
        assert_eq!(enqueued["queue"], "networknode-clusteroperation-user_facing");
        assert_eq!(enqueued["targets"], serde_json::json!([{"object_type": "network", "uuid": NETWORK}]));
        let net_op = enqueued["op_uuid"].as_str().unwrap();
        let shown = json(opsctl_on(db).args(["show", net_op, "--json"]).assert());
        assert_eq!(shown["wire"]["depends_on"], serde_json::json!([{"op_type": "node_inst_op", "op_uuid": id}]));
        assert_eq!(shown["request_id"], "req-9");
        let pending = json(opsctl_on(db).args(["pending", "network", NETWORK, "--json"]).assert());
        assert_eq!(pending["pending"][0]["op_uuid"], net_op);

        // A worker on the node's queues runs the first; the second waits on nothing now and runs too.
        let summary = json(opsctl_on(db)
            .args(["--json", "worker", "--queues", &format!("{NODE},networknode"), "--drain", "--worker-id", "w1"])
            .assert());
        assert_eq!((summary["worker"].as_str(), summary["completed"].as_u64()), (Some("w1"), Some(2)), "{summary}");
        opsctl_on(db)
            .args(["pending", "network", NETWORK])
            .assert()
            .success()
            .stdout(format!("network {NETWORK}: no operation in flight\n"));
        opsctl_on(db)
            .args(["worker", "--queues", "any", "--once", "--worker-id", "w2"])
            .assert()
            .success()
            .stdout("worker w2 stopped: claimed 0, completed 0, failed 0, aborted 0, retried 0, deferred 0, released 0, rescued 0, lease lost 0\n");
    }

    /// SIGINT stops `bench` in the middle of a bench (here, while it fills or measures 100,000 rows of
    /// history): exit 1 with one line naming what stopped, and the scratch database it made is gone.
    async fn an_interrupted_bench_removes_its_scratch_database(db: &TestDb) {
        use std::io::BufRead;
        let tmp = ScratchDir::new("opsctl-bench-stop");
        let args = ["-v", "bench", "--only", "has_pending_history_growth", "--backend", db.url()];
        let mut child = spawn_opsctl(&args, tmp.path());
        let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        while !line.contains("scratch database created") {
            line.clear();
            assert!(stderr.read_line(&mut line).unwrap() > 0, "no scratch database was created");
        }
        let scratch = line.split("database=").nth(1).unwrap().trim().to_owned();
        std::thread::sleep(std::time::Duration::from_millis(300));
        let kill = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
        assert!(kill.success());
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(1), "{rest}");
        let error: Vec<&str> = rest.lines().filter(|line| line.starts_with("error: ")).collect();
        assert_eq!(error.len(), 1, "{rest}");
        assert!(
            error[0].starts_with("error: interrupted: has_pending_history_growth on ")
                && error[0].ends_with(" stopped before it finished; its scratch databases were removed"),
            "{rest}"
        );
        assert!(rest.contains(&format!("scratch database removed database={scratch}")), "{rest}");
        let left = match db.backend() {
            ops_testkit::Backend::Sqlite => tmp.files(),
            ops_testkit::Backend::Postgres => db
                .strings(&format!("SELECT datname::text FROM pg_database WHERE datname = '{scratch}'"))
                .await
                .into_iter()
                .flatten()
                .collect(),
            ops_testkit::Backend::MariaDb => db
                .strings(&format!(
                    "SELECT schema_name FROM information_schema.schemata WHERE schema_name = '{scratch}'"
                ))
                .await
                .into_iter()
                .flatten()
                .collect(),
        };
        assert!(left.is_empty(), "left behind: {left:?}");
    }
}

/// `--help` lists every command and the exit codes; a snapshot, so a change to the help shows in review.
#[test]
fn help_lists_the_commands_and_the_exit_codes() {
    let help = stdout(opsctl().arg("--help").assert());
    insta::assert_snapshot!("help", help);
    opsctl()
        .arg("--version")
        .assert()
        .success()
        .stdout(format!("opsctl {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn the_default_sqlite_file_is_only_created_by_migrate() {
    let dir = ScratchDir::new("opsctl-default");
    let uuid = Uuid::new_v4().to_string();
    let error = one_line_error(
        opsctl_in(dir.path())
            .args(["pending", "network", &uuid])
            .assert(),
        3,
    );
    assert!(
        error.starts_with("error: cannot connect to the sqlite database at `sqlite://ops.db`"),
        "{error}"
    );
    one_line_error(
        opsctl_in(dir.path())
            .args(["pending", "network", "nope"])
            .assert(),
        2,
    );
    assert!(dir.files().is_empty());
    opsctl_in(dir.path())
        .arg("migrate")
        .assert()
        .success()
        .stdout("schema created at version 12\n");
    assert_eq!(dir.files(), ["ops.db"]);
}

/// Every command closes its database, whether it succeeds or not: a SQLite file is left without `-wal` or
/// `-shm` beside it, so the file alone is the whole database (an operator copying it copies everything).
#[test]
fn every_command_leaves_the_sqlite_file_whole() {
    let dir = ScratchDir::new("opsctl-whole");
    opsctl_in(dir.path()).arg("migrate").assert().success();
    assert_eq!(dir.files(), ["ops.db"], "after migrate");
    // `show` and `view` of what does not exist fail (exit 1); the others succeed.
    for args in database_commands("sqlite://ops.db") {
        let assert = opsctl_in(dir.path())
            .args(&args)
            .write_stdin(NET_OP_BODY)
            .assert();
        let code = assert.get_output().status.code();
        assert!(matches!(code, Some(0 | 1)), "{args:?}: {code:?}");
        assert_eq!(dir.files(), ["ops.db"], "after {args:?}");
    }
    assert!(
        stdout(
            opsctl_in(dir.path())
                .args(["pending", "network", "5a3bd8c4-1e1f-4c55-9d3b-7d0f1c2b8a11"])
                .assert()
        )
        .contains("1 operation in flight")
    );
}

#[test]
fn schema_writes_exactly_the_committed_files() {
    let dir = ScratchDir::new("opsctl-schemas");
    let out = dir.path().join("schemas");
    let out_arg = out.to_str().unwrap();
    opsctl()
        .args(["schema", "--out", out_arg])
        .assert()
        .success()
        .stdout(format!("wrote 15 schema files to {out_arg}\n"));
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas");
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 15);
    for name in names {
        assert_eq!(
            std::fs::read_to_string(out.join(&name)).unwrap(),
            std::fs::read_to_string(committed.join(&name)).unwrap(),
            "{name}"
        );
    }
}

/// The README's main job: from a fresh directory, `demo` shows both races caught by the legacy gate and
/// neither by the targets gate, exits 0, and leaves nothing but its database file; run again, it says the
/// same.
#[test]
fn demo_shows_the_race_and_leaves_only_its_database() {
    let dir = ScratchDir::new("opsctl-demo");
    let out = stdout(opsctl_in(dir.path()).arg("demo").assert());
    for line in [
        "2  later hot-plug op finished first      A    create                RECREATE (spurious)   leave alone",
        "3  create op forgot to set the pointer   B    create                RECREATE (spurious)   leave alone",
        "5  bridge broke, nothing in flight       A    none                  recreate (right)      recreate (right)",
        "spurious recreates: legacy gate 2, targets gate 0.",
        // At step 2 the latest op is the finished hot-plug, and the create op is still pending.
        "last cluster operation node_inst_net_iface_op",
        ": 1 operation in flight\n",
    ] {
        assert!(out.contains(line), "{line}\n{out}");
    }
    assert_eq!(dir.files(), ["ops-demo.db"]);
    // The README shows the table: each of its rows is what demo prints.
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let shown: Vec<&str> = readme
        .split("$ cargo run -p opsctl -- demo\n")
        .nth(1)
        .expect("the README shows demo")
        .lines()
        .take_while(|line| *line != "```")
        .filter(|line| *line != "...")
        .collect();
    assert!(shown.len() >= 7, "{shown:?}");
    for line in shown {
        assert!(
            out.lines().any(|printed| printed == line),
            "the README shows `{line}`; demo printed:\n{out}"
        );
    }
    let again = stdout(opsctl_in(dir.path()).arg("demo").assert());
    assert!(
        again.contains("spurious recreates: legacy gate 2, targets gate 0."),
        "{again}"
    );
}

/// SIGINT stops `simulate` between seeds: it prints the counts of the seeds that ran, exits 0, and
/// removes its temporary database.
#[test]
fn an_interrupted_simulation_reports_what_ran_and_removes_its_file() {
    let tmp = ScratchDir::new("opsctl-simulate-tmp");
    let child = spawn_opsctl(&["--json", "simulate", "--seeds", "100000"], tmp.path());
    // Wait until the temporary database exists and a seed has had time to run.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while tmp.files().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "no temporary database appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let ran = report["seeds"].as_u64().unwrap();
    assert!((1..100_000).contains(&ran), "{report}");
    assert!(
        stderr.contains("interrupted: the counts are those of the seeds that ran"),
        "{stderr}"
    );
    assert!(tmp.files().is_empty(), "left behind: {:?}", tmp.files());
}

/// Logs go to standard error at the level -v / -q ask for; `--json` output on standard output stays one
/// clean document.
#[test]
fn logs_go_to_stderr_at_the_level_asked_for() {
    let dir = ScratchDir::new("opsctl-logs");
    opsctl_in(dir.path()).arg("migrate").assert().success();
    let run = |flags: &[&str]| {
        let assert = opsctl_in(dir.path())
            .args(flags)
            .args(["--json", "worker", "--queues", "any", "--once"])
            .assert();
        let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
        assert_eq!(json(assert)["claimed"], 0);
        stderr
    };
    let verbose = run(&["-v"]);
    assert!(verbose.contains(" INFO worker started"), "{verbose}");
    assert!(!verbose.contains("DEBUG"), "{verbose}");
    assert!(run(&["-vv"]).contains("DEBUG"));
    assert_eq!(run(&[]), "");
    assert_eq!(run(&["-qq"]), "");
    // RUST_LOG, when set, decides: info from ops-core, nothing from sqlx, whatever -q says.
    let assert = opsctl_in(dir.path())
        .env("RUST_LOG", "ops_core=info,sqlx=off")
        .args(["-q", "--json", "worker", "--queues", "any", "--once"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains(" INFO worker started"), "{stderr}");
    assert!(!stderr.contains("DEBUG"), "{stderr}");
}

/// `completions` writes a script for each shell that names every subcommand; bash's parses.
#[test]
fn completions_are_written_for_bash_zsh_and_fish() {
    let dir = ScratchDir::new("opsctl-completions");
    for shell in ["bash", "zsh", "fish"] {
        let script = stdout(opsctl().args(["completions", shell]).assert());
        for subcommand in [
            "migrate",
            "enqueue",
            "show",
            "pending",
            "latest",
            "history",
            "view",
            "worker",
            "maintain",
            "prune",
            "demo",
            "simulate",
            "schema",
            "completions",
        ] {
            assert!(script.contains(subcommand), "{shell}: {subcommand}");
        }
        if shell == "bash" {
            let path = dir.path().join("opsctl.bash");
            std::fs::write(&path, &script).unwrap();
            std::process::Command::new("bash")
                .arg("-n")
                .arg(&path)
                .output()
                .map(|o| assert!(o.status.success()))
                .unwrap();
        }
    }
    let error = one_line_error(opsctl().args(["completions", "tcsh"]).assert(), 2);
    assert!(
        error.starts_with("error: invalid value 'tcsh' for '<SHELL>'"),
        "{error}"
    );
}

/// A password in the database URL is never printed: not in `--help` (from the environment), not in any
/// command's error, not in its logs at the most verbose level.
#[test]
fn a_database_password_is_never_printed() {
    let secret = "s3cret-pw";
    let url = format!("postgres://ops:{secret}@127.0.0.1:1/ops");
    let mut commands = database_commands(&url);
    commands.insert(0, vec!["--help".to_owned()]);
    commands.insert(1, vec!["migrate".to_owned()]);
    for args in commands {
        for via_env in [true, false] {
            let mut command = opsctl();
            command.arg("-vvv").write_stdin(NET_OP_BODY);
            if via_env {
                command.env("OPS_DATABASE_URL", &url);
            } else {
                command.args(["--database-url", &url]);
            }
            let assert = command.args(&args).assert();
            let output = assert.get_output();
            let printed = format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            assert!(!printed.contains(secret), "{args:?}: {printed}");
            if args[0] != "--help" {
                assert_eq!(output.status.code(), Some(3), "{args:?}: {printed}");
                assert!(
                    printed.contains("postgres://ops:***@127.0.0.1:1/ops"),
                    "{args:?}: {printed}"
                );
            }
        }
    }
}

/// `bench --smoke` runs every bench once at a tiny size on a scratch SQLite file: one JSON object per
/// bench, in order, none judged, and no scratch file left behind.
#[test]
fn bench_smoke_reports_every_bench_and_leaves_nothing() {
    let tmp = ScratchDir::new("opsctl-bench-tmp");
    let out = stdout(
        opsctl()
            .env("TMPDIR", tmp.path())
            .args(["--json", "bench", "--smoke"])
            .assert(),
    );
    let names: Vec<String> = out
        .lines()
        .map(|line| {
            let outcome: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(outcome["backend"], "sqlite", "{outcome}");
            assert!(
                outcome.get("pass").is_none(),
                "a smoke run is not judged: {outcome}"
            );
            outcome["bench"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        names,
        [
            "enqueue_vs_raw",
            "has_pending_history_growth",
            "has_pending_backlog_growth",
            "filter_pending_vs_loop",
            "prune_under_load",
            "worker_throughput",
            "read_latency",
            "api_load"
        ]
    );
    assert!(tmp.files().is_empty(), "left behind: {:?}", tmp.files());
    let table = stdout(
        opsctl()
            .env("TMPDIR", tmp.path())
            .args(["bench", "--smoke", "--only", "read_latency"])
            .assert(),
    );
    assert!(table.starts_with("BENCH "), "{table}");
    assert!(
        table.lines().nth(1).unwrap().starts_with("read_latency "),
        "{table}"
    );
}

/// `bench --plot DIR` draws each curve as an SVG with its points beside it as JSON, and says where.
#[test]
fn bench_plot_draws_every_curve_with_its_points() {
    let (tmp, dir) = (
        ScratchDir::new("opsctl-plot-tmp"),
        ScratchDir::new("opsctl-plot"),
    );
    let plots = dir.path().join("figures");
    let out = stdout(
        opsctl()
            .env("TMPDIR", tmp.path())
            .args(["--json", "bench", "--smoke", "--plot"])
            .arg(&plots)
            .assert(),
    );
    let curves = [
        "has_pending_vs_history",
        "filter_pending_vs_objects",
        "throughput_vs_workers",
    ];
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(
        lines
            .iter()
            .map(|l| l["curve"].as_str().unwrap())
            .collect::<Vec<_>>(),
        curves
    );
    for (curve, line) in curves.iter().zip(&lines) {
        let svg = std::fs::read_to_string(plots.join(format!("{curve}.svg"))).unwrap();
        assert!(svg.starts_with("<svg"), "{curve}");
        assert_eq!(
            line["svg"],
            plots.join(format!("{curve}.svg")).display().to_string()
        );
        let points: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(plots.join(format!("{curve}.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(points["curve"], *curve);
        assert_eq!(points["series"][0]["backend"], "sqlite", "{points}");
        assert!(
            !points["series"][0]["points"].as_array().unwrap().is_empty(),
            "{points}"
        );
    }
    assert!(tmp.files().is_empty(), "left behind: {:?}", tmp.files());
    opsctl()
        .args(["bench", "--plot", "x", "--only", "enqueue_vs_raw"])
        .assert()
        .code(2);
}

/// A reader that stops early (`| head -1`) ends opsctl quietly: exit 0, no panic about a broken pipe.
#[test]
fn a_closed_pipe_ends_opsctl_quietly() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_opsctl"))
        .args(["--json", "bench", "--smoke"])
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(
        first.starts_with("{\"bench\":\"enqueue_vs_raw\""),
        "{first}"
    );
    // The reader is dropped here: opsctl's next line meets a closed pipe.
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
