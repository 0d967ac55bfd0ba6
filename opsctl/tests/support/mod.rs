//! What the opsctl end-to-end tests share: running the binary as an operator would, and reading what it
//! printed and what it wrote. Each test file uses a part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use assert_cmd::assert::Assert;
use ops_testkit::TestDb;
use uuid::Uuid;

/// opsctl run in `dir`, with no `OPS_DATABASE_URL` or `RUST_LOG` from the test's environment; killed
/// after [`CHILD_DEADLINE`], so that a hang fails its test.
pub(crate) fn opsctl_in(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_opsctl"));
    command
        .current_dir(dir)
        .env_remove("OPS_DATABASE_URL")
        .env_remove("RUST_LOG")
        .timeout(CHILD_DEADLINE);
    command
}

/// opsctl run in the temporary directory, on no database in particular.
pub(crate) fn opsctl() -> Command {
    opsctl_in(&std::env::temp_dir())
}

/// opsctl started as a child process with `args`, temporary files in `tmp`, standard output and error
/// piped: for tests that signal it or read it while it runs.
///
/// A child still running after [`CHILD_DEADLINE`] is killed, so a hang fails its test (its pipes close,
/// its exit status is a signal) instead of holding the whole run until CI's own limit.
pub(crate) fn spawn_opsctl(args: &[&str], tmp: &Path) -> std::process::Child {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_opsctl"))
        .args(args)
        .env("TMPDIR", tmp)
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start opsctl");
    let pid = child.id();
    std::thread::spawn(move || {
        std::thread::sleep(CHILD_DEADLINE);
        // Only our own unreaped child: once waited for, its pid may belong to another process.
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let parent = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1));
        if parent == Some(&std::process::id().to_string()) {
            eprintln!("opsctl {pid} still running after {CHILD_DEADLINE:?}: killed");
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    });
    child
}

/// How long a child opsctl of [`spawn_opsctl`] may run: far longer than any test's needs.
pub(crate) const CHILD_DEADLINE: std::time::Duration = std::time::Duration::from_secs(180);

/// opsctl on `db`: `--database-url` is given; the other arguments follow.
pub(crate) fn opsctl_on(db: &TestDb) -> Command {
    let mut command = opsctl();
    command.args(["--database-url", db.url()]);
    command
}

/// Asserts success and returns standard output.
pub(crate) fn stdout(assert: Assert) -> String {
    let output = assert.success().get_output().clone();
    String::from_utf8(output.stdout).expect("utf-8 output")
}

/// Asserts success and returns standard output parsed as one JSON document.
pub(crate) fn json(assert: Assert) -> serde_json::Value {
    let out = stdout(assert);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not one JSON document ({e}): {out}"))
}

/// Asserts a failure with exit `code`, nothing on standard output and exactly one line on standard error,
/// starting `error: `; returns that line.
pub(crate) fn one_line_error(assert: Assert, code: i32) -> String {
    let output = assert.code(code).stdout("").get_output().clone();
    let stderr = String::from_utf8(output.stderr).expect("utf-8 stderr");
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    stderr.trim_end().to_owned()
}

/// Every table of the schema, for "writes nothing" checks.
pub(crate) const TABLES: [&str; 18] = [
    "cluster_operations",
    "cluster_operation_targets",
    "in_flight_targets",
    "object_states",
    "work_queue",
    "events",
    "event_objects",
    "cluster_operation_errors",
    "object_metadata",
    "instances",
    "networks",
    "network_interfaces",
    "artifacts",
    "blobs",
    "nodes",
    "agent_operations",
    "namespaces",
    "namespace_keys",
];

/// The row count of every table in [`TABLES`].
pub(crate) async fn row_counts(db: &TestDb) -> Vec<(&'static str, i64)> {
    let mut counts = Vec::new();
    for table in TABLES {
        counts.push((table, db.count(table).await));
    }
    counts
}

/// Writes an op's target and state rows as another program would: no header, no event.
pub(crate) async fn write_op_rows(
    db: &TestDb,
    network: Uuid,
    op: Uuid,
    state: &str,
    created_at: f64,
) {
    db.execute(&format!(
        "INSERT INTO cluster_operation_targets (operation_uuid, operation_type, target_object_type, target_uuid, \
         created_at) VALUES ('{op}', 'net_op', 'network', '{network}', {created_at}); \
         INSERT INTO object_states (object_type, object_uuid, state_value, update_time) \
         VALUES ('net_op', '{op}', '{state}', {created_at});"
    ))
    .await;
}

/// Marks `db` as migrated by a newer build: a version-99 row in sqlx's migration table.
pub(crate) async fn record_future_migration(db: &TestDb) {
    let (checksum, success) = match db.backend() {
        ops_testkit::Backend::Postgres => ("'\\x00'::bytea", "TRUE"),
        _ => ("X'00'", "1"),
    };
    db.execute(&format!(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99, 'future', {success}, {checksum}, 0)"
    ))
    .await;
}

/// A fresh directory under the temporary directory, removed with everything in it when dropped.
pub(crate) struct ScratchDir(PathBuf);

impl ScratchDir {
    /// A new empty directory whose name starts with `prefix`.
    pub(crate) fn new(prefix: &str) -> ScratchDir {
        let path = std::env::temp_dir().join(format!("{prefix}-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path).expect("create a scratch directory");
        ScratchDir(path)
    }

    /// Its path.
    pub(crate) fn path(&self) -> &Path {
        &self.0
    }

    /// The names of the files in it, sorted.
    pub(crate) fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .expect("read the scratch directory")
            .map(|entry| {
                entry
                    .expect("a directory entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `text` with each value replaced by its stand-in: a snapshot of output that names random uuids or the
/// current time stays the same from run to run.
pub(crate) fn redact(text: &str, values: &[(&str, &str)]) -> String {
    values
        .iter()
        .fold(text.to_owned(), |text, (value, stand_in)| {
            text.replace(value, stand_in)
        })
}

/// `text` with every timestamp as opsctl prints them (`2026-11-29T03:22:35Z`) replaced by `[time]`.
pub(crate) fn redact_times(text: &str) -> String {
    replace_shaped(text, "dddd-dd-ddTdd:dd:ddZ", |_| "[time]".to_owned())
}

/// `text` with every run of characters of `shape` replaced by what `replace` makes of it. In the shape, `d`
/// stands for a decimal digit, `x` for a hexadecimal one, and any other character for itself.
pub(crate) fn replace_shaped(
    text: &str,
    shape: &str,
    mut replace: impl FnMut(&str) -> String,
) -> String {
    let (shape, bytes) = (shape.as_bytes(), text.as_bytes());
    let matches_at = |at: usize| {
        bytes.len() >= at + shape.len()
            && shape
                .iter()
                .zip(&bytes[at..])
                .all(|(expected, byte)| match expected {
                    b'd' => byte.is_ascii_digit(),
                    b'x' => byte.is_ascii_hexdigit(),
                    other => other == byte,
                })
    };
    let (mut out, mut at) = (String::new(), 0);
    while at < bytes.len() {
        if matches_at(at) {
            out.push_str(&replace(&text[at..at + shape.len()]));
            at += shape.len();
        } else {
            let c = text[at..].chars().next().expect("a character");
            out.push(c);
            at += c.len_utf8();
        }
    }
    out
}

/// What `enqueue` in [`database_commands`] reads on standard input.
pub(crate) const NET_OP_BODY: &str = r#"{"network_uuid": "5a3bd8c4-1e1f-4c55-9d3b-7d0f1c2b8a11"}"#;

/// Every subcommand that opens the database but `migrate`, with good arguments: `enqueue` reads
/// [`NET_OP_BODY`] on standard input, `simulate` runs on `database` (its `--backend`).
pub(crate) fn database_commands(database: &str) -> Vec<Vec<String>> {
    let uuid = "0e0f5c1a-3b9d-4c55-8a2e-1f6d7c8b9a01";
    let commands: [&[&str]; 16] = [
        &["pending", "network", uuid],
        &["latest", "network", uuid],
        &["history", "network", uuid],
        &["view", "network", uuid],
        &["show", uuid],
        &[
            "enqueue",
            "net_op",
            "-",
            "--priority",
            "background",
            "--task",
            "network_deploy",
        ],
        &["worker", "--queues", "any", "--once"],
        &["prune"],
        &["maintain", "--node", uuid, "--once"],
        &["simulate", "--seeds", "1", "--backend", database],
        &["namespace", "create", "team-a"],
        &["namespace", "list"],
        &["key", "create", "system", "admin"],
        &["key", "delete", "system", "admin"],
        &["key", "list", "system"],
        &["object", "create", "artifact", "--name", "image"],
    ];
    commands
        .iter()
        .map(|args| args.iter().map(|arg| (*arg).to_owned()).collect())
        .collect()
}

/// Random moments to kill a process at: a xorshift sequence seeded from the clock, so every run spreads
/// them differently, and its state printed on failure so a run's spread can be told apart.
pub(crate) struct RandomMoments {
    seed: u64,
}

impl RandomMoments {
    pub(crate) fn new() -> RandomMoments {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("a clock after 1970")
            .subsec_nanos();
        RandomMoments {
            seed: u64::from(nanos) | 1,
        }
    }

    /// The next moment, under `max_ms` milliseconds.
    pub(crate) fn next_under(&mut self, max_ms: u64) -> std::time::Duration {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        std::time::Duration::from_millis(self.seed % max_ms)
    }

    /// The sequence's state, for failure messages.
    pub(crate) fn seed(&self) -> u64 {
        self.seed
    }
}

/// `opsctl [global...] --database-url URL serve --listen 127.0.0.1:0 --secret-file SECRET`, started in `dir`
/// as [`spawn_opsctl`] starts it, and the `host:port` it printed that it listens on.
pub(crate) fn spawn_serve(
    dir: &Path,
    global: &[&str],
    url: &str,
    secret: &Path,
) -> (std::process::Child, String) {
    let secret = secret.to_str().expect("a path");
    let mut args = global.to_vec();
    args.extend([
        "--database-url",
        url,
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--secret-file",
        secret,
    ]);
    let mut child = spawn_opsctl(&args, dir);
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().expect("stdout")),
        &mut line,
    )
    .expect("the first line");
    let addr = line
        .trim_end()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("{line:?}"))
        .to_owned();
    (child, addr)
}

/// Kills a background process when the test ends, however it ends.
pub(crate) struct Background(pub(crate) std::process::Child);

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// opsctl in `dir` on the database at `url`.
pub(crate) fn opsctl_at(dir: &Path, url: &str) -> Command {
    let mut command = opsctl_in(dir);
    command.args(["--database-url", url]);
    command
}

/// Enqueues a `net_op` on `network` with `task`, after `depends_on` (`net_op:<uuid>` each), through
/// opsctl; its id.
pub(crate) fn enqueue_net_op_through(
    dir: &Path,
    url: &str,
    network: &str,
    task: &str,
    depends_on: &[String],
) -> String {
    let body = dir.join("op.json");
    std::fs::write(&body, format!(r#"{{"network_uuid": "{network}"}}"#)).expect("write the body");
    let mut command = opsctl_at(dir, url);
    command.args([
        "--json",
        "enqueue",
        "net_op",
        body.to_str().expect("a path"),
        "--priority",
        "user_waiting",
        "--task",
        task,
    ]);
    for dependency in depends_on {
        command.args(["--depends-on", dependency]);
    }
    json(command.assert())["op_uuid"]
        .as_str()
        .expect("an op id")
        .to_owned()
}

/// A network named `name` of `namespace`, registered through opsctl; its id.
pub(crate) fn network_through(
    dir: &Path,
    url: &str,
    name: &str,
    namespace: &str,
    vxid: u32,
) -> String {
    let created = json(
        opsctl_at(dir, url)
            .args([
                "--json",
                "object",
                "create",
                "network",
                "--name",
                name,
                "--namespace",
                namespace,
                "--vxid",
                &vxid.to_string(),
            ])
            .assert(),
    );
    created["uuid"].as_str().expect("a uuid").to_owned()
}
