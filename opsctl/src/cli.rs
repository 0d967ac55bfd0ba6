//! The command line, as clap parses it.

use clap::{Args, Parser, Subcommand};

/// Parses the command line. `--help` and `--version` print as clap writes them and exit 0; a usage error
/// is one line on standard error, like every other error of opsctl, and exits 2.
pub(crate) fn parse() -> Result<Cli, std::process::ExitCode> {
    Cli::try_parse().map_err(|error| {
        if error.use_stderr() {
            eprintln!("{}", one_line(&error));
            std::process::ExitCode::from(2)
        } else {
            // Help and version: clap prints them on standard output; a closed pipe is not an error.
            let _ = error.print();
            std::process::ExitCode::SUCCESS
        }
    })
}

/// A clap error on one line: its message (a list under it joined on), then its tip and its usage; the
/// closing "for more information, try '--help'" is left out (the usage says as much).
fn one_line(error: &clap::Error) -> String {
    let rendered = error.render().to_string();
    let mut parts = Vec::new();
    for paragraph in rendered.split("\n\n") {
        let joined = paragraph
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if joined.is_empty() || joined.starts_with("For more information") {
            continue;
        }
        parts.push(match joined.strip_prefix("Usage: ") {
            Some(usage) => format!("usage: {usage}"),
            None => joined,
        });
    }
    parts.join("; ")
}

/// Inspect and manage the cluster-operation store.
#[derive(Debug, Parser)]
#[command(name = "opsctl", version, about, long_about = None, after_help = crate::exit::TABLE)]
pub(crate) struct Cli {
    /// The database: sqlite://PATH, sqlite::memory:, mysql://..., mariadb://... or postgres://...
    #[arg(
        long,
        global = true,
        env = "OPS_DATABASE_URL",
        hide_env_values = true,
        default_value = "sqlite://ops.db"
    )]
    pub(crate) database_url: String,

    /// Print machine-readable JSON instead of tables.
    #[arg(long, global = true)]
    pub(crate) json: bool,

    /// Log more on standard error: -v info, -vv debug, -vvv trace (RUST_LOG, when set, decides instead).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub(crate) verbose: u8,

    /// Log less: -q errors only, -qq nothing.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) quiet: u8,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create the schema, or upgrade it to this build's newest version (a SQLite file is created).
    Migrate,
    /// List the operations still in flight (queued, preflight, executing) on an object.
    Pending(ObjectArgs),
    /// Show the newest operation that targeted an object, in any state (`last_cluster_operation`).
    Latest(ObjectArgs),
    /// Show an object as Shaken Fist's API does: instance, network, artifact, blob, interface or node.
    ///
    /// Instances, networks and artifacts carry `last_cluster_operation` (the newest operation that
    /// targeted them, in any state, or null); the other types do not.
    View(ObjectArgs),
    /// List every operation that targeted an object, newest first.
    History {
        #[command(flatten)]
        object: ObjectArgs,
        /// How many operations to show.
        #[arg(long, default_value_t = ops_core::store::DEFAULT_HISTORY_LIMIT)]
        limit: u32,
        /// Show operations older than this sequence number (the `next_before` of the previous page).
        #[arg(long)]
        before: Option<i64>,
    },
    /// Enqueue an operation: its fields as JSON from a file (or `-` for standard input), its header from flags.
    ///
    /// The input is checked by deserialising it into the operation's typed struct; on any error nothing is
    /// written.
    Enqueue {
        /// The operation type, e.g. node_inst_op.
        op_type: String,
        /// A JSON file with the operation's own fields, or `-` to read standard input.
        input: String,
        /// user_waiting, user_facing, user_facing_high_io, background or background_high_io.
        #[arg(long)]
        priority: String,
        /// A task of the operation type; repeat for several, in order.
        #[arg(long = "task", required = true)]
        tasks: Vec<String>,
        /// A hard dependency, as OP_TYPE:UUID; repeatable.
        #[arg(long = "depends-on")]
        depends_on: Vec<String>,
        /// An ordering-only dependency, as OP_TYPE:UUID; repeatable.
        #[arg(long = "runs-after")]
        runs_after: Vec<String>,
        /// The API request that caused it.
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Show everything stored about one operation: header, fields, state, targets, events.
    Show {
        /// The operation's uuid.
        op_uuid: String,
    },
    /// Run queued operations: claim them, run them, record how each ended; SIGINT or SIGTERM stops it
    /// cleanly (running ops finish, or are released when --shutdown-timeout ends).
    ///
    /// Every operation type runs with a built-in handler that does nothing and completes (after
    /// --handler-delay): for trying the store end to end. Real handlers are registered in code, with
    /// `ops_core::Worker::builder(store).handle(|op: NodeInstOp, ctx| async move { ... })`.
    Worker(WorkerArgs),
    /// Run the network maintainer of this node: leave alone every network an operation is working on
    /// (asked of the targets table, failing closed), and repair the broken rest by enqueueing ops.
    ///
    /// Reads this machine's bridges (/sys/class/net) and, with --network-node, its dnsmasq processes.
    /// Runs a pass every --interval until SIGINT or SIGTERM, or one pass with --once.
    Maintain(MaintainArgs),
    /// Print a completion script for a shell: `source <(opsctl completions bash)`, or write it where your
    /// shell loads completions from (zsh: a `_opsctl` file on `$fpath`; fish: `~/.config/fish/completions`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Show the race the plan removes, on an embedded SQLite file: a scripted scenario asked of the legacy
    /// latest-only gate and of the targets gate side by side.
    ///
    /// Creates (or reuses) the file, migrates it, and adds the scenario's objects and operations to it.
    Demo {
        /// The SQLite file to use.
        #[arg(long, default_value = "ops-demo.db")]
        file: std::path::PathBuf,
    },
    /// Run the seeded race simulator: network creations, op enqueues, worker pickups and completions, and
    /// maintainer passes, with the legacy gate and the targets gate side by side, counting spurious
    /// recreates (a network recreated while an operation targeting it was in flight).
    ///
    /// The same seed always makes the same choices. Without --backend it runs on a temporary SQLite file
    /// and removes it; a --backend database must be migrated, and is left with no live work: each seed
    /// hard-deletes its operations and deletes its objects (namespace ops-sim).
    Simulate {
        /// How many seeds to run.
        #[arg(long, default_value_t = 100)]
        seeds: u64,
        /// The first seed; the others follow it.
        #[arg(long, default_value_t = 1)]
        first_seed: u64,
        /// The database to run on (a URL, as --database-url); a temporary SQLite file when not given.
        #[arg(long)]
        backend: Option<String>,
        /// Networks created per seed.
        #[arg(long, default_value_t = ops_sim::SimOptions::default().networks)]
        networks: usize,
        /// Random steps per seed.
        #[arg(long, default_value_t = ops_sim::SimOptions::default().steps)]
        steps: usize,
    },
    /// Delete what the retention allows: target rows older than it whose operation is not in flight (each
    /// object keeps its latest), then finished operations with no target row left, then the network
    /// maintainer's pass records. In short batches, so enqueues never wait long behind it.
    Prune {
        /// How old a row must be to go, e.g. 7d, 12h, 30m; 0 disables the prune.
        #[arg(long, default_value = "7d", value_parser = humantime::parse_duration)]
        retention: std::time::Duration,
        /// Count what would be deleted, delete nothing.
        #[arg(long)]
        dry_run: bool,
        /// Rows per batch, 1 to 10000 (each batch is one short transaction).
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        batch_size: u32,
        /// Also hard-delete operations that reached complete, abort or deleted longer ago than this
        /// (Shaken Fist's sweep uses 30s), target rows included: an object's latest operation can then move
        /// back to an older one or to none, as in Shaken Fist. Operations in error are kept.
        #[arg(long, value_parser = humantime::parse_duration, conflicts_with = "dry_run")]
        hard_delete_finished_after: Option<std::time::Duration>,
    },
    /// Run the benchmarks: each performance bar of the design as a ratio measured side by side in one run,
    /// on scratch databases made and dropped for each bench; exit 1 when a full run misses a bar.
    ///
    /// Benches: enqueue_vs_raw (<= 1.15), has_pending_history_growth (<= 1.5), has_pending_backlog_growth
    /// (<= 1.5), filter_pending_vs_loop (>= 20), prune_under_load (<= 2), worker_throughput,
    /// read_latency and api_load (reported). Build with --release for figures that mean something.
    Bench(BenchArgs),
    /// Serve Shaken Fist's REST API for cluster operations over the database, until SIGINT or SIGTERM
    /// (requests under way are answered first). Prints the address it listens on once it does.
    ///
    /// The token signing secret is OPS_SERVER_SECRET when set (32 bytes or more), else --secret-file's.
    /// What it serves, with examples: docs/operator_guide/api.md (and GET /openapi.json).
    Serve {
        /// The address to listen on; port 0 picks a free one.
        #[arg(long, default_value = "127.0.0.1:13000")]
        listen: std::net::SocketAddr,
        /// The file holding the secret tokens are signed with, made (readable by its owner only) when
        /// missing. Servers sharing a database must share it, or OPS_SERVER_SECRET.
        #[arg(long, default_value = "ops-server.secret")]
        secret_file: std::path::PathBuf,
        /// How long a token lasts.
        #[arg(long, default_value = "15m", value_parser = positive_duration)]
        token_lifetime: std::time::Duration,
    },
    /// Manage namespaces: who owns objects, and whom the API server lets in (`system` sees all).
    Namespace {
        #[command(subcommand)]
        command: NamespaceCommand,
    },
    /// Manage a namespace's API keys. A key is shown once, when made; the store keeps its bcrypt hash.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Register objects (instances, networks, ...) in the store, as Shaken Fist's API would create them:
    /// for trying the API server, the maintainer and the demo without a cloud behind them.
    Object {
        #[command(subcommand)]
        command: ObjectCommand,
    },
    /// Write the JSON Schema of every operation's wire form, and index.json, into a directory.
    Schema {
        /// The directory to write into (created if missing).
        #[arg(long, default_value = "schemas")]
        out: std::path::PathBuf,
    },
}

/// A duration as humantime writes it (`30s`, `5m`), more than zero: for intervals a loop sleeps, where zero
/// would spin.
fn positive_duration(text: &str) -> Result<std::time::Duration, String> {
    match humantime::parse_duration(text) {
        Ok(duration) if duration.is_zero() => Err("must be more than 0".to_owned()),
        Ok(duration) => Ok(duration),
        Err(error) => Err(error.to_string()),
    }
}

/// An object, named by its type and uuid.
#[derive(Debug, Args)]
pub(crate) struct ObjectArgs {
    /// The object's type: instance, network, artifact, blob, interface or agentoperation.
    pub(crate) object_type: String,
    /// The object's uuid.
    pub(crate) uuid: String,
}

/// `opsctl worker`'s options.
#[derive(Debug, Args)]
pub(crate) struct WorkerArgs {
    /// The queues to serve, comma-separated or repeated: `any`, `networknode` or a node uuid (each with
    /// every family and priority), or a full queue name such as any-clusteroperation-background.
    #[arg(long = "queues", value_delimiter = ',', required = true)]
    pub(crate) queues: Vec<String>,
    /// How many operations run at once.
    #[arg(long, default_value_t = 4)]
    pub(crate) concurrency: usize,
    /// Claim and run what is ready now, then exit.
    #[arg(long, conflicts_with = "drain")]
    pub(crate) once: bool,
    /// Run until the queues hold no more operations (including deferred ones), then exit.
    #[arg(long)]
    pub(crate) drain: bool,
    /// How often to look for work when idle.
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    pub(crate) poll_interval: std::time::Duration,
    /// How long a claim holds without renewal; a dead worker's operations are rescued after it.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub(crate) lease: std::time::Duration,
    /// Attempts per operation (transient failures, lost workers) before it goes to error.
    #[arg(long, default_value_t = 5)]
    pub(crate) max_attempts: u32,
    /// How long a shutdown waits for running operations before releasing them.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub(crate) shutdown_timeout: std::time::Duration,
    /// How long the built-in handler takes per operation (to watch leases and rescues at work).
    #[arg(long, default_value = "0s", value_parser = humantime::parse_duration)]
    pub(crate) handler_delay: std::time::Duration,
    /// The id recorded as the claimer (default: host name, process id and a random suffix).
    #[arg(long)]
    pub(crate) worker_id: Option<String>,
}

/// `opsctl bench`'s options.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Where to bench, repeatable: `sqlite` (a temporary file; the default) or a server URL, beside whose
    /// database a scratch database is created and dropped (the URL's own database is never touched).
    #[arg(long = "backend")]
    pub(crate) backends: Vec<String>,
    /// Fewer repetitions and a tenth of the prune: about a minute on SQLite; the bars still judge it.
    #[arg(long)]
    pub(crate) quick: bool,
    /// One tiny pass of each bench: checks that the harness works against a backend in seconds; its
    /// ratios mean nothing and no bar judges them.
    #[arg(long, conflicts_with = "quick")]
    pub(crate) smoke: bool,
    /// Run only these benches (comma-separated or repeated).
    #[arg(long, value_delimiter = ',')]
    pub(crate) only: Vec<String>,
    /// Instead of the benches, measure the curves (has_pending against history, filter_pending against
    /// objects, throughput against workers) on every backend and draw each as DIR/CURVE.svg, its points
    /// beside it in DIR/CURVE.json; the directory is created if missing.
    #[arg(long, value_name = "DIR", conflicts_with = "only")]
    pub(crate) plot: Option<std::path::PathBuf>,
}

/// `opsctl maintain`'s options.
#[derive(Debug, Args)]
pub(crate) struct MaintainArgs {
    /// This node's uuid.
    #[arg(long)]
    pub(crate) node: uuid::Uuid,
    /// This node is the network node: it looks after every active network and its dnsmasq. Without it,
    /// the node is a hypervisor and looks after the networks of its running instances.
    #[arg(long)]
    pub(crate) network_node: bool,
    /// Run one pass, then exit.
    #[arg(long)]
    pub(crate) once: bool,
    /// Decide and print, but enqueue and record nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Time between passes (more than 0).
    #[arg(long, default_value = "30s", value_parser = positive_duration)]
    pub(crate) interval: std::time::Duration,
    /// Skip a pass when this node's network queues hold more ops than this.
    #[arg(long, default_value_t = 50)]
    pub(crate) queue_depth_threshold: u64,
    /// Leave a network whose state changed less than this long ago for a later pass.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    pub(crate) settle: std::time::Duration,
    /// Do not repair a network again this soon after its last repair failed.
    #[arg(long, default_value = "5m", value_parser = humantime::parse_duration)]
    pub(crate) cooldown: std::time::Duration,
    /// Leave a network to an operator after this many failed repairs in a row (0: never).
    #[arg(long, default_value_t = 3)]
    pub(crate) breaker_after: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage_error(args: &[&str]) -> String {
        let error = Cli::try_parse_from([&["opsctl"], args].concat()).expect_err("a usage error");
        one_line(&error)
    }

    #[test]
    fn usage_errors_are_one_line_with_their_list_tip_and_usage() {
        assert_eq!(
            usage_error(&["pending"]),
            "error: the following required arguments were not provided: <OBJECT_TYPE> <UUID>; \
             usage: opsctl pending <OBJECT_TYPE> <UUID>"
        );
        assert_eq!(
            usage_error(&["history", "network", "x", "--before", "-5"]),
            "error: unexpected argument '-5' found; tip: to pass '-5' as a value, use '-- -5'; \
             usage: opsctl history [OPTIONS] <OBJECT_TYPE> <UUID>"
        );
        assert_eq!(
            usage_error(&["completions", "tcsh"]),
            "error: invalid value 'tcsh' for '<SHELL>' [possible values: bash, elvish, fish, powershell, zsh]"
        );
        assert_eq!(
            usage_error(&["frobnicate"]),
            "error: unrecognized subcommand 'frobnicate'; usage: opsctl [OPTIONS] <COMMAND>"
        );
    }

    #[test]
    fn the_command_line_is_well_formed() {
        <Cli as clap::CommandFactory>::command().debug_assert();
    }
}

/// `opsctl namespace`'s commands.
#[derive(Debug, Subcommand)]
pub(crate) enum NamespaceCommand {
    /// Create a namespace (letters, digits, `-`, `_` and `.`).
    Create {
        /// Its name.
        name: String,
    },
    /// List the namespaces.
    List,
}

/// `opsctl key`'s commands.
#[derive(Debug, Subcommand)]
pub(crate) enum KeyCommand {
    /// Make a key for a namespace and print it, once, on standard output; tokens name it as
    /// NAMESPACE:KEY_NAME.
    Create {
        /// The namespace it authenticates as.
        namespace: String,
        /// Its name within the namespace.
        key_name: String,
        /// Replace an existing key of that name: its tokens stop working.
        #[arg(long)]
        replace: bool,
    },
    /// Delete a key: its tokens stop working.
    Delete {
        /// The namespace.
        namespace: String,
        /// The key's name.
        key_name: String,
    },
    /// List a namespace's keys: their names and when they were made, never the keys.
    List {
        /// The namespace.
        namespace: String,
    },
}

/// `opsctl object`'s commands.
#[derive(Debug, Subcommand)]
pub(crate) enum ObjectCommand {
    /// Register an object in state `initial` (a node: `created`), with its registry row.
    Create(ObjectCreateArgs),
}

/// `opsctl object create`'s options.
#[derive(Debug, Args)]
pub(crate) struct ObjectCreateArgs {
    /// The object's type: instance, network, artifact, blob, interface or node.
    pub(crate) object_type: String,
    /// Its name.
    #[arg(long)]
    pub(crate) name: String,
    /// Its namespace (a node is always `system`'s).
    #[arg(long, default_value = ops_core::SYSTEM_NAMESPACE)]
    pub(crate) namespace: String,
    /// Its uuid (default: a new random one).
    #[arg(long)]
    pub(crate) uuid: Option<uuid::Uuid>,
    /// A network's VXLAN id.
    #[arg(long)]
    pub(crate) vxid: Option<u32>,
    /// An instance's hypervisor.
    #[arg(long)]
    pub(crate) node: Option<uuid::Uuid>,
    /// An interface's instance.
    #[arg(long)]
    pub(crate) instance: Option<uuid::Uuid>,
    /// An interface's network.
    #[arg(long)]
    pub(crate) network: Option<uuid::Uuid>,
}
