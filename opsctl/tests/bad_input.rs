//! Every bad input an operator can give opsctl, on every backend: one line on standard error, its exit code,
//! and not a row written anywhere (every table counted before and after).

mod support;

use ops_testkit::backend_tests;
use support::{
    NET_OP_BODY, ScratchDir, database_commands, json, one_line_error, opsctl, opsctl_in, opsctl_on,
    record_future_migration, row_counts,
};
use uuid::Uuid;

/// One bad command line: its arguments, what it reads on standard input, its exit code and the start of
/// its one line.
struct Case {
    args: Vec<String>,
    stdin: Option<String>,
    code: i32,
    line: String,
}

fn case(args: &[&str], code: i32, line: &str) -> Case {
    Case {
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        stdin: None,
        code,
        line: line.to_owned(),
    }
}

/// `opsctl enqueue OP_TYPE -` with `body` on standard input and `flags` (a priority and a task are added
/// when the flags have none).
fn enqueue(op_type: &str, body: &str, flags: &[&str], line: &str) -> Case {
    let mut args = vec!["enqueue", op_type, "-"];
    if !flags.contains(&"--priority") {
        args.extend(["--priority", "background"]);
    }
    if !flags.contains(&"--task") {
        args.extend(["--task", "instance_delete"]);
    }
    args.extend(flags);
    Case {
        stdin: Some(body.to_owned()),
        ..case(&args, 2, line)
    }
}

/// The bad command lines, each with the line it must print.
fn cases() -> Vec<Case> {
    let uuid = "5a3bd8c4-1e1f-4c55-9d3b-7d0f1c2b8a11";
    let good = format!(r#"{{"node_uuid": "{uuid}", "instance_uuid": "{uuid}"}}"#);
    let long = "n".repeat(300);
    let nested = format!("{}{}", "[".repeat(200), "]".repeat(200));
    vec![
        // Object arguments.
        case(
            &["pending", "netwrk", uuid],
            2,
            "error: unknown object type `netwrk`; expected one of: instance, network, artifact, blob, interface, agentoperation",
        ),
        case(
            &["latest", "network", "not-a-uuid"],
            2,
            "error: invalid uuid `not-a-uuid`: invalid character: found `n` at 0",
        ),
        case(
            &["history", "node", uuid],
            2,
            "error: `node` objects are never cluster-operation targets",
        ),
        case(
            &["history", "network", uuid, "--limit", "0"],
            2,
            "error: --limit must be at least 1",
        ),
        case(
            &["view", "net_op", uuid],
            2,
            "error: `net_op` has no view; expected one of: instance, network, artifact, blob, interface, node",
        ),
        case(
            &["show", "nope"],
            2,
            "error: invalid uuid `nope`: invalid character",
        ),
        // Not found: the input was fine, the answer is no.
        case(
            &["show", uuid],
            1,
            &format!("error: cluster operation {uuid} not found"),
        ),
        case(
            &["view", "blob", uuid],
            1,
            &format!("error: blob {uuid} not found"),
        ),
        // The enqueue input: the JSON body, then the flags.
        enqueue(
            "node_inst_op",
            "{\"node_uuid\": ",
            &[],
            "error: malformed JSON in standard input: EOF while parsing a value at line 1 column 14",
        ),
        enqueue(
            "node_inst_op",
            "",
            &[],
            "error: malformed JSON in standard input: EOF while parsing a value at line 1 column 0",
        ),
        enqueue(
            "node_inst_op",
            &nested,
            &[],
            "error: malformed JSON in standard input: recursion limit exceeded",
        ),
        enqueue(
            "node_inst_opp",
            &good,
            &[],
            "error: unknown operation type `node_inst_opp`; known types: artifact_fetch_op, imgcache_op,",
        ),
        enqueue(
            "node_inst_op",
            &format!(r#"{{"node_uuid": "not-a-uuid", "instance_uuid": "{uuid}"}}"#),
            &[],
            "error: invalid `node_inst_op` body at `node_uuid`: `not-a-uuid` is not a uuid in the dashed form (8-4-4-4-12 hex digits)",
        ),
        enqueue(
            "node_inst_op",
            &good.replacen('}', r#", "colour": "blue"}"#, 1),
            &[],
            "error: invalid `node_inst_op` body at `colour`: unknown field `colour`",
        ),
        enqueue(
            "node_inst_op",
            &format!(r#"{{"node_uuid": 7, "instance_uuid": "{uuid}"}}"#),
            &[],
            "error: invalid `node_inst_op` body at `node_uuid`: invalid type: integer `7`",
        ),
        enqueue(
            "node_inst_op",
            &format!(r#"{{"node_uuid": "{uuid}"}}"#),
            &[],
            "error: invalid `node_inst_op` body: missing field `instance_uuid`",
        ),
        enqueue(
            "node_inst_op",
            "[]",
            &[],
            "error: invalid `node_inst_op` body: expected a JSON object, found an array",
        ),
        enqueue(
            "artifact_fetch_op",
            &format!(r#"{{"namespace": "{long}", "url": "https://example.org/a.qcow2"}}"#),
            &["--task", "image_fetch"],
            "error: invalid `artifact_fetch_op` body at `namespace`: a string of 300 characters is longer than the maximum of 255",
        ),
        enqueue(
            "artifact_fetch_op",
            r#"{"namespace": "a\u0000b", "url": "https://example.org/a.qcow2"}"#,
            &["--task", "image_fetch"],
            "error: invalid `artifact_fetch_op` body at `namespace`: a string may not contain a NUL character (found at character 1)",
        ),
        enqueue(
            "artifact_fetch_op",
            r#"{"namespace": "system", "url": "https://exa mple.org/a.qcow2"}"#,
            &["--task", "image_fetch"],
            "error: invalid `artifact_fetch_op` body at `url`: `https://exa mple.org/a.qcow2` is not a URI (RFC 3986)",
        ),
        enqueue(
            "artifact_fetch_op",
            &format!(
                r#"{{"namespace": "system", "url": "https://example.org/{}"}}"#,
                "a".repeat(8000)
            ),
            &["--task", "image_fetch"],
            "error: invalid `artifact_fetch_op` body at `url`: a URI of 8020 characters is longer than the maximum of 8000",
        ),
        enqueue(
            "node_inst_op",
            &good.replacen(
                '}',
                r#", "node_uuid'); DROP TABLE cluster_operations; --": "x"}"#,
                1,
            ),
            &[],
            "error: invalid `node_inst_op` body at `node_uuid'); DROP TABLE cluster_operations; --`: unknown field",
        ),
        enqueue(
            "node_inst_op",
            &good,
            &["--task", "image_fetch"],
            "error: unknown task `image_fetch` for `node_inst_op`; its tasks: collect_billing_statistics, health_check_kvm_process, instance_delete",
        ),
        enqueue(
            "node_inst_op",
            &good,
            &["--priority", "urgent"],
            "error: unknown priority `urgent`; expected one of:",
        ),
        enqueue(
            "node_inst_op",
            &good,
            &["--depends-on", "node_inst_op:nope"],
            "error: --depends-on `node_inst_op:nope`: invalid uuid:",
        ),
        enqueue(
            "node_inst_op",
            &good,
            &["--runs-after", &format!("bogus_op:{uuid}")],
            &format!("error: --runs-after `bogus_op:{uuid}`: unknown operation type `bogus_op`"),
        ),
        enqueue(
            "node_inst_op",
            &good,
            &["--request-id", &long],
            "error: a request id of 300 characters is longer than the maximum of 255",
        ),
        case(
            &[
                "enqueue",
                "net_op",
                "/nonexistent/op.json",
                "--priority",
                "background",
                "--task",
                "network_deploy",
            ],
            2,
            "error: cannot read `/nonexistent/op.json`: No such file or directory",
        ),
        // Options of the long-running commands.
        case(
            &["worker", "--queues", "bogus-queue", "--once"],
            2,
            "error: unknown queue `bogus-queue`; expected any, networknode, a node uuid, or a queue name",
        ),
        case(
            &["worker", "--queues", "any", "--concurrency", "0", "--once"],
            2,
            "error: invalid worker option: concurrency must be at least 1",
        ),
        case(
            &["worker", "--queues", "any", "--lease", "0s", "--once"],
            2,
            "error: invalid worker option: a lease of 0ns is too short to renew",
        ),
        case(
            &["prune", "--retention", "a week"],
            2,
            "error: invalid value 'a week' for '--retention <RETENTION>'",
        ),
        case(
            &["prune", "--batch-size", "0"],
            2,
            "error: invalid value '0' for '--batch-size <BATCH_SIZE>': 0 is not in 1..=10000",
        ),
        case(
            &["maintain", "--node", "nope", "--once"],
            2,
            "error: invalid value 'nope' for '--node <NODE>': invalid character",
        ),
        case(
            &["maintain", "--node", uuid, "--interval", "0s"],
            2,
            "error: invalid value '0s' for '--interval <INTERVAL>': must be more than 0",
        ),
        case(
            &["simulate", "--seeds", "0"],
            2,
            "error: --seeds must be at least 1",
        ),
        case(
            &["bench", "--only", "enqueue"],
            2,
            "error: unknown bench `enqueue`; the benches: enqueue_vs_raw, has_pending_history_growth,",
        ),
        case(
            &["bench", "--backend", "nope://x", "--smoke"],
            2,
            "error: invalid database url `nope://x`",
        ),
        // Usage.
        case(
            &["pending"],
            2,
            "error: the following required arguments were not provided: <OBJECT_TYPE> <UUID>; usage: opsctl pending",
        ),
        case(
            &["frobnicate"],
            2,
            "error: unrecognized subcommand 'frobnicate'",
        ),
    ]
}

backend_tests! {
    async fn each_bad_input_is_one_line_its_exit_code_and_writes_nothing(db: &TestDb) {
        opsctl_on(db).arg("migrate").assert().success();
        // Some rows first, so that "nothing written" is not "nothing there".
        let network = Uuid::new_v4();
        json(opsctl_on(db)
            .args(["--json", "enqueue", "net_op", "-", "--priority", "background", "--task", "network_deploy"])
            .write_stdin(format!(r#"{{"network_uuid": "{network}"}}"#))
            .assert());
        let before = row_counts(db).await;
        for case in cases() {
            let mut command = opsctl_on(db);
            command.args(&case.args);
            if let Some(input) = &case.stdin {
                command.write_stdin(input.as_str());
            }
            let line = one_line_error(command.assert(), case.code);
            assert!(line.starts_with(&case.line), "{:?}: expected `{}`, got `{line}`", case.args, case.line);
            assert_eq!(row_counts(db).await, before, "{:?} wrote rows", case.args);
        }
    }

    /// An op body from a file cut short (a copy interrupted, a disk full): refused, nothing written.
    async fn a_truncated_body_file_is_refused_and_writes_nothing(db: &TestDb) {
        opsctl_on(db).arg("migrate").assert().success();
        let dir = ScratchDir::new("opsctl-truncated");
        let uuid = Uuid::new_v4();
        let whole = format!(r#"{{"node_uuid": "{uuid}", "instance_uuid": "{uuid}"}}"#);
        let file = dir.path().join("op.json");
        std::fs::write(&file, &whole[..whole.len() - 12]).unwrap();
        let before = row_counts(db).await;
        let line = one_line_error(
            opsctl_on(db)
                .args(["enqueue", "node_inst_op"])
                .arg(&file)
                .args(["--priority", "background", "--task", "instance_delete"])
                .assert(),
            2,
        );
        assert!(line.starts_with(&format!("error: malformed JSON in `{}`: EOF while parsing", file.display())), "{line}");
        assert_eq!(row_counts(db).await, before);
    }

    /// A database migrated by a newer build: every command that uses the schema refuses, with what to do.
    async fn a_schema_newer_than_opsctl_is_exit_4_and_writes_nothing(db: &TestDb) {
        opsctl_on(db).arg("migrate").assert().success();
        record_future_migration(db).await;
        let before = row_counts(db).await;
        let mut commands = database_commands(db.url());
        commands.insert(0, vec!["migrate".to_owned()]);
        for args in commands {
            let line = one_line_error(opsctl_on(db).args(&args).write_stdin(NET_OP_BODY).assert(), 4);
            assert!(
                line.starts_with("error: the database schema is at version 99, newer than this build knows (up to 12)"),
                "{args:?}: {line}"
            );
            assert_eq!(row_counts(db).await, before, "{args:?} wrote rows");
        }
    }

    /// A database with no schema: every command but migrate says to migrate, and creates no table.
    async fn an_unmigrated_database_says_to_migrate_and_is_left_empty(db: &TestDb) {
        let store = db.store().await;
        for args in database_commands(db.url()) {
            let line = one_line_error(opsctl_on(db).args(&args).write_stdin(NET_OP_BODY).assert(), 4);
            assert_eq!(line, "error: the database has no ops schema; run `opsctl migrate` first", "{args:?}");
        }
        assert_eq!(store.schema_version().await.unwrap().applied, None, "a command created the schema");
    }
}

/// A database that cannot be reached: exit 3 and one line naming it (password masked), from every command
/// that uses one; a missing SQLite file is not created.
#[test]
fn an_unreachable_database_is_one_line_exit_3() {
    let dir = ScratchDir::new("opsctl-unreachable");
    let uuid = Uuid::new_v4().to_string();
    let urls = [
        (
            "postgres://ops:secret@127.0.0.1:1/ops",
            "error: cannot connect to the postgres database at `postgres://ops:***@127.0.0.1:1/ops`",
        ),
        (
            "mysql://ops:secret@127.0.0.1:1/ops",
            "error: cannot connect to the mariadb database at `mysql://ops:***@127.0.0.1:1/ops`",
        ),
        (
            "sqlite://missing.db",
            "error: cannot connect to the sqlite database at `sqlite://missing.db`",
        ),
    ];
    for (url, expected) in urls {
        for args in database_commands(url) {
            let line = one_line_error(
                opsctl_in(dir.path())
                    .args(["--database-url", url])
                    .args(&args)
                    .write_stdin(NET_OP_BODY)
                    .assert(),
                3,
            );
            assert!(line.starts_with(expected), "{url} {args:?}: {line}");
        }
    }
    assert!(dir.files().is_empty(), "{:?}", dir.files());
    // Usage errors come before the database: exit 2 even when it is unreachable.
    one_line_error(
        opsctl_in(dir.path())
            .args(["pending", "network", "nope"])
            .assert(),
        2,
    );
    one_line_error(
        opsctl()
            .args(["--database-url", "nope://x", "pending", "network", &uuid])
            .assert(),
        2,
    );
}
