//! The command line, as clap parses it.

use clap::{Args, Parser, Subcommand};

/// Inspect and manage the cluster-operation store.
#[derive(Debug, Parser)]
#[command(name = "opsctl", version, about, long_about = None)]
pub(crate) struct Cli {
    /// The database: sqlite://PATH, sqlite::memory:, mysql://..., mariadb://... or postgres://...
    #[arg(
        long,
        global = true,
        env = "OPS_DATABASE_URL",
        default_value = "sqlite://ops.db"
    )]
    pub(crate) database_url: String,

    /// Print machine-readable JSON instead of tables.
    #[arg(long, global = true)]
    pub(crate) json: bool,

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
    /// Write the JSON Schema of every operation's wire form, and index.json, into a directory.
    Schema {
        /// The directory to write into (created if missing).
        #[arg(long, default_value = "schemas")]
        out: std::path::PathBuf,
    },
}

/// An object, named by its type and uuid.
#[derive(Debug, Args)]
pub(crate) struct ObjectArgs {
    /// The object's type: instance, network, artifact, blob, interface or agentoperation.
    pub(crate) object_type: String,
    /// The object's uuid.
    pub(crate) uuid: String,
}
