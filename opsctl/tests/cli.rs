//! opsctl end to end on every backend: migrate, then read rows another program wrote straight into the
//! tables; bad input gets one line, a meaningful exit code, and writes nothing.

use std::path::Path;
use std::process::{Command, Output};

use ops_testkit::{TestDb, backend_tests};
use uuid::Uuid;

/// Runs opsctl with `args` in `dir`, with no `OPS_DATABASE_URL` from the environment.
fn opsctl_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_opsctl"))
        .args(args)
        .current_dir(dir)
        .env_remove("OPS_DATABASE_URL")
        .output()
        .expect("run opsctl")
}

fn opsctl(db: &TestDb, args: &[&str]) -> Output {
    let mut all = vec!["--database-url", db.url()];
    all.extend_from_slice(args);
    opsctl_in(&std::env::temp_dir(), &all)
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "opsctl failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("utf-8 output")
}

/// Asserts a failure with exit `code` and exactly one line on stderr, which is returned.
fn one_line_error(output: &Output, code: i32) -> String {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8(output.stderr.clone()).expect("utf-8 stderr");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    stderr.trim_end().to_owned()
}

/// Writes an op's target and state rows as another program would: no header, no event.
async fn write_op_rows(db: &TestDb, network: Uuid, op: Uuid, state: &str, created_at: f64) {
    db.execute(&format!(
        "INSERT INTO cluster_operation_targets (operation_uuid, operation_type, target_object_type, target_uuid, \
         created_at) VALUES ('{op}', 'net_op', 'network', '{network}', {created_at}); \
         INSERT INTO object_states (object_type, object_uuid, state_value, update_time) \
         VALUES ('net_op', '{op}', '{state}', {created_at});"
    ))
    .await;
}

/// Writes `contents` to a fresh temporary file and returns its path.
fn temp_json(contents: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("opsctl-input-{}.json", Uuid::new_v4().simple()));
    std::fs::write(&path, contents).expect("write input file");
    path
}

/// Runs `opsctl enqueue` with `input` on standard input.
fn enqueue_stdin(db: &TestDb, args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_opsctl"))
        .args(["--database-url", db.url(), "enqueue"])
        .args(args)
        .env_remove("OPS_DATABASE_URL")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run opsctl");
    // opsctl may refuse the arguments and exit before reading its input: a closed pipe is not a failure.
    let written = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes());
    if let Err(error) = written {
        assert_eq!(
            error.kind(),
            std::io::ErrorKind::BrokenPipe,
            "write stdin: {error}"
        );
    }
    child.wait_with_output().expect("opsctl output")
}

async fn total_rows(db: &TestDb) -> i64 {
    let mut total = 0;
    for table in [
        "cluster_operations",
        "object_states",
        "work_queue",
        "cluster_operation_targets",
        "events",
    ] {
        total += db.count(table).await;
    }
    total
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
        let report: serde_json::Value = serde_json::from_str(&stdout(&opsctl(db, &["--json", "migrate"]))).unwrap();
        assert_eq!(
            report,
            serde_json::json!({
                "previous_version": 1,
                "version": 8,
                "applied": [2, 3, 4, 5, 6, 7, 8],
                "backfill": {"pointers": 5, "backfilled": 3, "skipped": 2},
                "resumed": null,
            })
        );
        assert_eq!(stdout(&opsctl(db, &["migrate"])).trim(), "schema already at version 8");
    }

    async fn prune_counts_in_a_dry_run_then_deletes_what_the_retention_allows(db: &TestDb) {
        stdout(&opsctl(db, &["migrate"]));
        let network = Uuid::new_v4();
        let (old, older, recent) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        write_op_rows(db, network, older, "complete", 1000.0).await;
        write_op_rows(db, network, old, "error", 1001.0).await;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
        write_op_rows(db, network, recent, "complete", now).await;
        assert_eq!(
            stdout(&opsctl(db, &["prune", "--retention", "7d", "--dry-run"])).trim(),
            "would delete 2 target rows and 0 finished operations (1 batch)"
        );
        assert_eq!(db.count("cluster_operation_targets").await, 3);
        let report: serde_json::Value =
            serde_json::from_str(&stdout(&opsctl(db, &["--json", "prune", "--retention", "7d", "--batch-size", "1"]))).unwrap();
        assert_eq!(
            report,
            serde_json::json!({"target_rows": 2, "ops": 0, "batches": 3, "dry_run": false, "disabled": false,
                               "examined": 3, "to_examine": 3})
        );
        // The newest row stays: it is the network's latest op.
        let latest: serde_json::Value =
            serde_json::from_str(&stdout(&opsctl(db, &["--json", "latest", "network", &network.to_string()]))).unwrap();
        assert_eq!(latest["last_cluster_operation"]["op_uuid"], recent.to_string());
        assert_eq!(stdout(&opsctl(db, &["prune", "--retention", "0s"])).trim(), "prune disabled: the retention is 0");
        // Shaken Fist's sweep, opt-in: these rows have no header, so no op qualifies.
        let swept: serde_json::Value = serde_json::from_str(&stdout(&opsctl(
            db,
            &["--json", "prune", "--hard-delete-finished-after", "30s"],
        )))
        .unwrap();
        assert_eq!(swept["hard_deleted_ops"], 0);
        assert_eq!(opsctl(db, &["prune", "--retention", "a week"]).status.code(), Some(2));
    }

    async fn pending_and_latest_read_rows_written_by_another_program(db: &TestDb) {
        assert!(stdout(&opsctl(db, &["migrate"])).starts_with("schema created at version 8"));
        let network = Uuid::new_v4();
        let (earlier, later) = (Uuid::new_v4(), Uuid::new_v4());
        write_op_rows(db, network, earlier, "queued", 1_700_000_000.0).await;
        write_op_rows(db, network, later, "complete", 1_700_000_100.0).await;
        let network = network.to_string();

        let pending: serde_json::Value =
            serde_json::from_str(&stdout(&opsctl(db, &["pending", "network", &network, "--json"]))).unwrap();
        assert_eq!(pending["object_type"], "network");
        assert_eq!(pending["uuid"], network);
        let ops = pending["pending"].as_array().unwrap();
        assert_eq!(ops.len(), 1);
        assert_eq!(ops[0]["op_uuid"], earlier.to_string());
        assert_eq!(ops[0]["op_type"], "net_op");
        assert_eq!(ops[0]["state"], "queued");

        let latest: serde_json::Value =
            serde_json::from_str(&stdout(&opsctl(db, &["--json", "latest", "network", &network]))).unwrap();
        assert_eq!(latest["last_cluster_operation"], serde_json::json!({"op_type": "net_op", "op_uuid": later.to_string()}));

        let human = stdout(&opsctl(db, &["pending", "network", &network]));
        assert!(human.starts_with(&format!("network {network}: 1 operation in flight\n")), "{human}");
        assert!(human.contains(&format!("net_op   {earlier}  queued  2023-11-14T22:13:20Z")), "{human}");
        let human = stdout(&opsctl(db, &["latest", "network", &network]));
        assert_eq!(human, format!("network {network}: last cluster operation net_op {later}\n"));
    }

    /// `view` shows an object as Shaken Fist's API does, `last_cluster_operation` included for a network.
    async fn view_shows_an_objects_external_view(db: &TestDb) {
        stdout(&opsctl(db, &["migrate"]));
        let store = db.store().await;
        let network = ops_core::NetworkId::new_v4();
        store.create_object(&ops_core::NewObject::network(network, "web", "ns1", 0x2a)).await.unwrap();
        let op = Uuid::new_v4();
        write_op_rows(db, network.into(), op, "queued", 1_700_000_000.0).await;
        let network = network.to_string();
        let view: serde_json::Value = serde_json::from_str(&stdout(&opsctl(db, &["--json", "view", "network", &network]))).unwrap();
        assert_eq!(
            view,
            serde_json::json!({
                "uuid": network, "name": "web", "namespace": "ns1", "state": "initial", "vxlan_id": 42,
                "provide_dhcp": false, "provide_dns": false, "error_message": null,
                "last_cluster_operation": {"op_type": "net_op", "op_uuid": op.to_string()},
            })
        );
        let human = stdout(&opsctl(db, &["view", "network", &network]));
        assert!(human.starts_with(&format!("network {network}\n")), "{human}");
        assert!(human.contains(&format!("  last_cluster_operation  net_op {op}\n")), "{human}");
        assert!(human.contains("  error_message           -\n"), "{human}");
        let missing = Uuid::new_v4().to_string();
        assert_eq!(one_line_error(&opsctl(db, &["view", "blob", &missing]), 1), format!("error: blob {missing} not found"));
        assert_eq!(
            one_line_error(&opsctl(db, &["view", "net_op", &missing]), 2),
            "error: `net_op` has no view; expected one of: instance, network, artifact, blob, interface, node"
        );
    }

    /// `maintain --once` on the real host (where no br-vxlan bridge exists): the broken idle network is
    /// repaired — first only reported with --dry-run — and the busy one is left alone.
    async fn maintain_repairs_broken_idle_networks_and_leaves_busy_ones(db: &TestDb) {
        stdout(&opsctl(db, &["migrate"]));
        let store = db.store().await;
        let (broken, busy) = (ops_core::NetworkId::new_v4(), ops_core::NetworkId::new_v4());
        for (vxid, network) in [(0xfffff0, broken), (0xfffff1, busy)] {
            store.create_object(&ops_core::NewObject::network(network, "n", "ns", vxid)).await.unwrap();
            store.set_object_state(network.into(), ops_core::ObjectState::Created, None).await.unwrap();
        }
        db.execute("UPDATE object_states SET update_time = update_time - 3600").await;
        write_op_rows(db, busy.into(), Uuid::new_v4(), "executing", 1_700_000_000.0).await;
        let node = Uuid::new_v4().to_string();
        let args = ["maintain", "--node", &node, "--network-node", "--once"];

        let dry = stdout(&opsctl(db, &[&args[..], &["--dry-run"]].concat()));
        assert_eq!(
            dry,
            format!(
                "2 networks: 0 okay, 1 busy (an operation in flight), 0 settling, 0 not checked, 0 cooling down, \
                 0 left to an operator, would repair 1, would delete 0\n  would repair network {broken}: \
                 network not ok, is not created: br-vxlan-fffff0 is not up\n"
            )
        );
        assert_eq!(db.count("cluster_operations").await, 0);

        let report: serde_json::Value = serde_json::from_str(&stdout(&opsctl(db, &[&args[..], &["--json"]].concat()))).unwrap();
        assert_eq!(report["busy"], serde_json::json!([busy.to_string()]));
        assert_eq!(report["repaired"][0]["network"], broken.to_string());
        assert_eq!(report["repaired"][0]["ops"].as_array().unwrap().len(), 2);
        let pending: serde_json::Value =
            serde_json::from_str(&stdout(&opsctl(db, &["--json", "pending", "network", &broken.to_string()]))).unwrap();
        assert_eq!(pending["pending"].as_array().unwrap().len(), 2, "{pending}");
        // The next pass finds the network busy with its own repair.
        let again: serde_json::Value = serde_json::from_str(&stdout(&opsctl(db, &[&args[..], &["--json"]].concat()))).unwrap();
        assert_eq!(again["busy"].as_array().unwrap().len(), 2, "{again}");
    }

    /// `simulate` on each backend: the legacy gate races, the targets gate never does.
    async fn simulate_counts_spurious_recreates_of_both_gates(db: &TestDb) {
        stdout(&opsctl(db, &["migrate"]));
        let output = opsctl_in(&std::env::temp_dir(), &["--json", "simulate", "--seeds", "8", "--backend", db.url()]);
        let last = stdout(&output).lines().last().unwrap().to_owned();
        let report: serde_json::Value = serde_json::from_str(&last).unwrap();
        assert_eq!(report["seeds"], 8);
        assert_eq!(report["targets_spurious"], 0, "{report}");
        assert_eq!(report["targets_missed"], 0, "{report}");
        assert!(report["legacy_spurious"].as_u64().unwrap() > 0, "{report}");
        // Nothing live is left for real workers or a real maintainer.
        assert_eq!(db.count("work_queue").await, 0);
        assert_eq!(db.count("cluster_operations").await, 0);
        assert_eq!(db.count("object_states WHERE object_type = 'network' AND state_value <> 'deleted'").await, 0);
    }

    async fn history_pages_newest_first(db: &TestDb) {
        stdout(&opsctl(db, &["migrate"]));
        let network = Uuid::new_v4();
        let ops: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
        for (i, op) in ops.iter().enumerate() {
            write_op_rows(db, network, *op, "complete", 1_700_000_000.0 + i as f64).await;
        }
        let network = network.to_string();
        let page: serde_json::Value = serde_json::from_str(&stdout(&opsctl(
            db,
            &["history", "network", &network, "--limit", "2", "--json"],
        )))
        .unwrap();
        let got: Vec<&str> = page["ops"].as_array().unwrap().iter().map(|op| op["op_uuid"].as_str().unwrap()).collect();
        assert_eq!(got, [ops[2].to_string(), ops[1].to_string()]);
        let before = page["next_before"].as_i64().unwrap().to_string();
        let human = stdout(&opsctl(db, &["history", "network", &network, "--limit", "2", "--before", &before]));
        assert!(human.starts_with(&format!("network {network}: 1 operations, newest first\n")), "{human}");
        assert!(human.contains(&ops[0].to_string()));
        assert!(!human.contains("more: --before"));
    }

    async fn bad_input_is_one_line_exit_2_and_writes_nothing(db: &TestDb) {
        stdout(&opsctl(db, &["migrate"]));
        let before = total_rows(db).await;
        let uuid = Uuid::new_v4().to_string();
        assert_eq!(
            one_line_error(&opsctl(db, &["pending", "netwrk", &uuid]), 2),
            "error: unknown object type `netwrk`; expected one of: instance, network, artifact, blob, interface, agentoperation"
        );
        assert_eq!(
            one_line_error(&opsctl(db, &["latest", "network", "not-a-uuid"]), 2),
            "error: invalid uuid `not-a-uuid`: invalid character: found `n` at 0"
        );
        assert!(one_line_error(&opsctl(db, &["history", "node", &uuid]), 2)
            .starts_with("error: `node` objects are never cluster-operation targets"));
        assert_eq!(one_line_error(&opsctl(db, &["history", "network", &uuid, "--limit", "0"]), 2), "error: --limit must be at least 1");
        assert_eq!(total_rows(db).await, before);
    }

    async fn enqueue_then_show(db: &TestDb) {
        stdout(&opsctl(db, &["migrate"]));
        let (node, instance) = (Uuid::new_v4(), Uuid::new_v4());
        let input = temp_json(&format!(r#"{{"node_uuid": "{node}", "instance_uuid": "{instance}"}}"#));
        let input = input.to_str().unwrap();
        let id = stdout(&opsctl(
            db,
            &["enqueue", "node_inst_op", input, "--priority", "background", "--task", "health_check_kvm_process"],
        ));
        let id = id.trim();
        assert!(Uuid::parse_str(id).is_ok(), "{id}");

        let shown: serde_json::Value = serde_json::from_str(&stdout(&opsctl(db, &["show", id, "--json"]))).unwrap();
        assert_eq!(shown["op_type"], "node_inst_op");
        assert_eq!(shown["state"], "queued");
        assert_eq!(shown["queue_name"], format!("{node}-clusteroperation-background"));
        assert_eq!(shown["targets"].as_array().unwrap().len(), 1);
        assert_eq!(shown["targets"][0]["object_type"], "instance");
        assert_eq!(shown["targets"][0]["uuid"], instance.to_string());
        assert_eq!(shown["wire"]["tasks"], serde_json::json!(["health_check_kvm_process"]));
        assert_eq!(shown["wire"]["node_uuid"], node.to_string());
        assert_eq!(shown["events"][0]["message"], "node_inst_op operation created with tasks health_check_kvm_process");
        let human = stdout(&opsctl(db, &["show", id]));
        assert!(human.starts_with(&format!("node_inst_op {id} (version 1)\nstate:    queued\n")), "{human}");

        // From standard input, several tasks, a dependency, JSON output.
        let network = Uuid::new_v4();
        let output = enqueue_stdin(
            db,
            &["net_op", "-", "--priority", "user_facing", "--task", "network_deploy", "--task", "network_ensure_mesh",
              "--depends-on", &format!("node_inst_op:{id}"), "--request-id", "req-9", "--json"],
            &format!(r#"{{"network_uuid": "{network}"}}"#),
        );
        let enqueued: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
        assert_eq!(enqueued["queue"], "networknode-clusteroperation-user_facing");
        assert_eq!(enqueued["targets"], serde_json::json!([{"object_type": "network", "uuid": network.to_string()}]));
        let net_op = enqueued["op_uuid"].as_str().unwrap();
        let shown: serde_json::Value = serde_json::from_str(&stdout(&opsctl(db, &["show", net_op, "--json"]))).unwrap();
        assert_eq!(shown["wire"]["depends_on"], serde_json::json!([{"op_type": "node_inst_op", "op_uuid": id}]));
        assert_eq!(shown["request_id"], "req-9");
        let pending: serde_json::Value =
            serde_json::from_str(&stdout(&opsctl(db, &["pending", "network", &network.to_string(), "--json"]))).unwrap();
        assert_eq!(pending["pending"][0]["op_uuid"], net_op);
    }

    async fn enqueue_bad_input_is_one_line_exit_2_and_writes_nothing(db: &TestDb) {
        stdout(&opsctl(db, &["migrate"]));
        let good = format!(r#"{{"node_uuid": "{}", "instance_uuid": "{}"}}"#, Uuid::new_v4(), Uuid::new_v4());
        let long = "n".repeat(300);
        let cases: Vec<(&str, String, Vec<&str>, &str)> = vec![
            ("node_inst_op", "{\"node_uuid\": ".to_owned(), vec![], "error: malformed JSON in standard input: EOF while parsing a value at line 1 column 14"),
            ("node_inst_opp", good.clone(), vec![], "error: unknown operation type `node_inst_opp`; known types: artifact_fetch_op, imgcache_op,"),
            ("node_inst_op", r#"{"node_uuid": "not-a-uuid", "instance_uuid": "5a3bd8c4-1e1f-4c55-9d3b-7d0f1c2b8a11"}"#.to_owned(), vec![], "error: invalid `node_inst_op` body at `node_uuid`: UUID parsing failed"),
            ("node_inst_op", good.replacen('}', r#", "colour": "blue"}"#, 1), vec![], "error: invalid `node_inst_op` body at `colour`: unknown field `colour`"),
            ("node_inst_op", r#"{"node_uuid": 7, "instance_uuid": "5a3bd8c4-1e1f-4c55-9d3b-7d0f1c2b8a11"}"#.to_owned(), vec![], "error: invalid `node_inst_op` body at `node_uuid`: invalid type: integer `7`"),
            ("artifact_fetch_op", format!(r#"{{"namespace": "{long}", "url": "https://example.org/a.qcow2"}}"#), vec!["--task", "image_fetch"], "error: invalid `artifact_fetch_op` body at `namespace`: a string of 300 characters is longer than the maximum of 255"),
            ("node_inst_op", good.clone(), vec!["--task", "image_fetch"], "error: unknown task `image_fetch` for `node_inst_op`; its tasks: collect_billing_statistics, health_check_kvm_process, instance_delete"),
            ("node_inst_op", good.clone(), vec!["--priority", "urgent"], "error: unknown priority `urgent`; expected one of:"),
            ("node_inst_op", good.clone(), vec!["--depends-on", "node_inst_op:nope"], "error: --depends-on `node_inst_op:nope`: invalid uuid:"),
            ("node_inst_op", good.clone(), vec!["--request-id", &long], "error: a request id of 300 characters is longer than the maximum of 255"),
        ];
        let before = total_rows(db).await;
        for (op_type, input, extra, expected) in cases {
            let mut args = vec![op_type, "-"];
            if !extra.contains(&"--priority") {
                args.extend(["--priority", "background"]);
            }
            if !extra.contains(&"--task") {
                args.extend(["--task", "instance_delete"]);
            }
            args.extend(extra.iter().copied());
            let error = one_line_error(&enqueue_stdin(db, &args, &input), 2);
            assert!(error.starts_with(expected), "expected `{expected}`, got `{error}`");
            assert_eq!(total_rows(db).await, before, "`{error}` wrote rows");
        }
    }

    async fn show_of_an_unknown_op_is_exit_1(db: &TestDb) {
        stdout(&opsctl(db, &["migrate"]));
        let id = Uuid::new_v4().to_string();
        assert_eq!(one_line_error(&opsctl(db, &["show", &id]), 1), format!("error: cluster operation {id} not found"));
        one_line_error(&opsctl(db, &["show", "nope"]), 2);
    }

    async fn an_unmigrated_database_says_to_migrate(db: &TestDb) {
        let _create = db.store().await;
        let error = one_line_error(&opsctl(db, &["pending", "network", &Uuid::new_v4().to_string()]), 4);
        assert_eq!(error, "error: the database has no ops schema; run `opsctl migrate` first");
    }

    /// A schema newer than this build is exit 4 too, with what to do.
    async fn a_schema_newer_than_opsctl_is_exit_4(db: &TestDb) {
        stdout(&opsctl(db, &["migrate"]));
        let (checksum, success) = match db.backend() {
            ops_testkit::Backend::Postgres => ("'\\x00'::bytea", "TRUE"),
            _ => ("X'00'", "1"),
        };
        db.execute(&format!(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (99, 'future', {success}, {checksum}, 0)"
        ))
        .await;
        let error = one_line_error(&opsctl(db, &["latest", "network", &Uuid::new_v4().to_string()]), 4);
        assert_eq!(
            error,
            "error: the database schema is at version 99, newer than this build knows (up to 8); upgrade opsctl"
        );
    }
}

#[test]
fn help_lists_the_exit_codes() {
    let help = stdout(&opsctl_in(&std::env::temp_dir(), &["--help"]));
    for line in [
        "  2  bad input or usage",
        "  3  the database is unreachable or refused the connection",
        "  4  the database schema is missing, behind, half-applied or newer than this build",
    ] {
        assert!(help.contains(line), "{help}");
    }
}

#[test]
fn the_default_sqlite_file_is_only_created_by_migrate() {
    let dir = std::env::temp_dir().join(format!("opsctl-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let uuid = Uuid::new_v4().to_string();
    let error = one_line_error(&opsctl_in(&dir, &["pending", "network", &uuid]), 3);
    assert!(
        error.starts_with("error: cannot connect to the sqlite database at `sqlite://ops.db`"),
        "{error}"
    );
    assert!(!dir.join("ops.db").exists());
    one_line_error(&opsctl_in(&dir, &["pending", "network", "nope"]), 2);
    assert!(!dir.join("ops.db").exists());
    assert_eq!(
        stdout(&opsctl_in(&dir, &["migrate"])),
        "schema created at version 8\n"
    );
    assert!(dir.join("ops.db").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn schema_writes_exactly_the_committed_files() {
    let out = std::env::temp_dir().join(format!("opsctl-schemas-{}", Uuid::new_v4().simple()));
    let out_arg = out.to_str().unwrap().to_owned();
    assert_eq!(
        stdout(&opsctl_in(
            &std::env::temp_dir(),
            &["schema", "--out", &out_arg]
        )),
        format!("wrote 15 schema files to {out_arg}\n")
    );
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
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn an_unreachable_server_is_one_line_exit_3() {
    let dir = std::env::temp_dir();
    let output = opsctl_in(
        &dir,
        &[
            "--database-url",
            "postgres://ops:secret@127.0.0.1:1/ops",
            "latest",
            "network",
            &Uuid::new_v4().to_string(),
        ],
    );
    let error = one_line_error(&output, 3);
    assert!(
        error.starts_with(
            "error: cannot connect to the postgres database at `postgres://ops:***@127.0.0.1:1/ops`"
        ),
        "{error}"
    );
    assert!(!error.contains("secret"));
}

/// The README's main job: from a fresh directory, `demo` shows both races caught by the legacy gate and
/// neither by the targets gate, exits 0, and leaves nothing but its database file.
#[test]
fn demo_shows_the_race_and_leaves_only_its_database() {
    let dir = std::env::temp_dir().join(format!("opsctl-demo-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = stdout(&opsctl_in(&dir, &["demo"]));
    assert!(out.contains("2  later hot-plug op finished first      A    create                RECREATE (spurious)   leave alone"), "{out}");
    assert!(out.contains("3  create op forgot to set the pointer   B    create                RECREATE (spurious)   leave alone"), "{out}");
    assert!(out.contains("5  bridge broke, nothing in flight       A    none                  recreate (right)      recreate (right)"), "{out}");
    assert!(
        out.contains("spurious recreates: legacy gate 2, targets gate 0."),
        "{out}"
    );
    // At step 2 the latest op is the finished hot-plug, and the create op is still pending.
    assert!(
        out.contains("last cluster operation node_inst_net_iface_op"),
        "{out}"
    );
    assert!(out.contains(": 1 operation in flight\n"), "{out}");
    let files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files, ["ops-demo.db"]);
    // It reuses its file.
    let again = stdout(&opsctl_in(&dir, &["demo"]));
    assert!(
        again.contains("spurious recreates: legacy gate 2, targets gate 0."),
        "{again}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Logs go to standard error at the level -v / -q ask for; `--json` output on standard output stays one
/// clean document.
#[test]
fn logs_go_to_stderr_at_the_level_asked_for() {
    let dir = std::env::temp_dir().join(format!("opsctl-logs-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    stdout(&opsctl_in(&dir, &["migrate"]));
    let run = |flags: &[&str]| {
        let mut args = flags.to_vec();
        args.extend(["--json", "worker", "--queues", "any", "--once"]);
        let output = Command::new(env!("CARGO_BIN_EXE_opsctl"))
            .args(&args)
            .current_dir(&dir)
            .env_remove("OPS_DATABASE_URL")
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        let out = stdout(&output);
        let summary: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(summary["claimed"], 0);
        String::from_utf8(output.stderr).unwrap()
    };
    let verbose = run(&["-v"]);
    assert!(verbose.contains(" INFO worker started"), "{verbose}");
    assert!(!verbose.contains("DEBUG"), "{verbose}");
    assert!(run(&["-vv"]).contains("DEBUG"));
    assert_eq!(run(&[]), "");
    assert_eq!(run(&["-qq"]), "");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `completions` writes a script for each shell that names every subcommand; bash's parses.
#[test]
fn completions_are_written_for_bash_zsh_and_fish() {
    let dir = std::env::temp_dir();
    for shell in ["bash", "zsh", "fish"] {
        let script = stdout(&opsctl_in(&dir, &["completions", shell]));
        for subcommand in [
            "migrate", "enqueue", "worker", "maintain", "demo", "simulate", "view",
        ] {
            assert!(script.contains(subcommand), "{shell}: {subcommand}");
        }
        if shell == "bash" {
            let path = dir.join(format!(
                "opsctl-completion-{}.bash",
                Uuid::new_v4().simple()
            ));
            std::fs::write(&path, &script).unwrap();
            let syntax = Command::new("bash").arg("-n").arg(&path).output().unwrap();
            std::fs::remove_file(&path).unwrap();
            assert!(
                syntax.status.success(),
                "{}",
                String::from_utf8_lossy(&syntax.stderr)
            );
        }
    }
    let unknown = opsctl_in(&dir, &["completions", "tcsh"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("invalid value 'tcsh'"));
}

/// A password in the database URL is never printed: not in `--help` (from the environment), not in any
/// command's error, not in its logs at the most verbose level.
#[test]
fn a_database_password_is_never_printed() {
    let dir = std::env::temp_dir();
    let secret = "s3cret-pw";
    let url = format!("postgres://ops:{secret}@127.0.0.1:1/ops");
    let uuid = Uuid::new_v4().to_string();
    let node = Uuid::new_v4().to_string();
    let op = temp_json(r#"{"network_uuid": "5a3bd8c4-1e1f-4c55-9d3b-7d0f1c2b8a11"}"#);
    let op = op.to_str().unwrap();
    let commands: Vec<Vec<&str>> = vec![
        vec!["--help"],
        vec!["migrate"],
        vec!["pending", "network", &uuid],
        vec!["latest", "network", &uuid],
        vec!["history", "network", &uuid],
        vec!["view", "network", &uuid],
        vec!["show", &uuid],
        vec![
            "enqueue",
            "net_op",
            op,
            "--priority",
            "background",
            "--task",
            "network_deploy",
        ],
        vec!["worker", "--queues", "any", "--once"],
        vec!["prune", "--dry-run"],
        vec!["maintain", "--node", &node, "--once"],
        vec!["simulate", "--seeds", "1", "--backend", &url],
    ];
    for args in commands {
        for via_env in [true, false] {
            let mut command = Command::new(env!("CARGO_BIN_EXE_opsctl"));
            command.current_dir(&dir).env_remove("RUST_LOG").arg("-vvv");
            if via_env {
                command.env("OPS_DATABASE_URL", &url);
            } else {
                command
                    .env_remove("OPS_DATABASE_URL")
                    .args(["--database-url", &url]);
            }
            let output = command.args(&args).output().unwrap();
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
