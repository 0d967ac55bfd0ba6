//! Error values: every failure says what was being done and why it failed.

use crate::{IllegalTransition, OpId, OpState};

/// A failure of the store: connecting, migrating, reading or writing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The URL names no supported backend or cannot be parsed.
    #[error("invalid database url `{url}`: {reason}")]
    InvalidUrl {
        /// The URL, with any password removed.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The database could not be reached or opened.
    #[error("cannot connect to the {backend} database at `{url}`: {source}")]
    Connect {
        /// `sqlite`, `mariadb` or `postgres`.
        backend: &'static str,
        /// The URL, with any password removed.
        url: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// The database has no ops schema yet.
    #[error("the database has no ops schema; run `opsctl migrate` first")]
    SchemaMissing,
    /// The database was migrated by a newer build that knows versions this one does not.
    #[error(
        "the database schema is at version {found}, newer than this build knows (up to {known}); upgrade opsctl"
    )]
    SchemaTooNew {
        /// The newest version applied to the database.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// The database needs migrations this build has.
    #[error(
        "the database schema is at version {found} but this build needs {needed}; run `opsctl migrate`"
    )]
    SchemaBehind {
        /// The newest version applied to the database.
        found: i64,
        /// The newest version this build knows.
        needed: i64,
    },
    /// A migration was interrupted and left the schema half-applied.
    #[error("migration {version} did not finish; the schema must be repaired by hand")]
    SchemaDirty {
        /// The version that failed.
        version: i64,
    },
    /// Applying migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("database error while {action}: {source}")]
    Query {
        /// What the store was doing, e.g. "reading the latest op of network ...".
        action: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// A row holds a value this build cannot read (written by another program, or corrupted).
    #[error("unreadable {column} `{value}` in table {table}")]
    CorruptRow {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
        /// The value found.
        value: String,
    },
    /// No cluster operation has this id.
    #[error("cluster operation {0} not found")]
    OpNotFound(OpId),
    /// The op cannot move to the requested state.
    #[error("cluster operation {op}: {source}")]
    IllegalTransition {
        /// The op.
        op: OpId,
        /// The forbidden move.
        #[source]
        source: IllegalTransition,
    },
    /// Only terminal ops may be hard-deleted.
    #[error("cluster operation {op} is still {state}; only a terminal op can be hard-deleted")]
    OpInFlight {
        /// The op.
        op: OpId,
        /// Its in-flight state.
        state: OpState,
    },
}

impl StoreError {
    /// Wraps a driver error with what the store was doing; `action` runs only on failure, so describing it
    /// costs nothing on the success path.
    pub(crate) fn query<S: Into<String>>(
        action: impl FnOnce() -> S,
    ) -> impl FnOnce(sqlx::Error) -> StoreError {
        move |source| StoreError::Query {
            action: action().into(),
            source,
        }
    }
}

/// A failure to enqueue an op. When it is returned, nothing of the op was written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnqueueError {
    /// An op must have something to do.
    #[error("an operation needs at least one task")]
    NoTasks,
    /// The request id is longer than the store keeps.
    #[error("a request id of {length} characters is longer than the maximum of {max}")]
    RequestIdTooLong {
        /// The characters given.
        length: usize,
        /// The characters allowed.
        max: usize,
    },
    /// The op cannot be put in its wire form.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// An op with this id exists already.
    #[error("cluster operation {0} already exists")]
    Duplicate(OpId),
    /// The transaction kept hitting deadlocks, serialization failures or a busy database.
    #[error("enqueue gave up after {attempts} attempts on a contended database: {source}")]
    Contended {
        /// How many times the whole transaction was tried.
        attempts: u32,
        /// The last driver error.
        #[source]
        source: sqlx::Error,
    },
    /// Any other database failure.
    #[error("database error while enqueuing: {0}")]
    Database(#[source] sqlx::Error),
}

/// An op that cannot be put in its wire form: header and body in one JSON object.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// The header or the body serialised to something other than a JSON object.
    #[error("the {part} of `{op_type}` must serialise to a JSON object")]
    NotAnObject {
        /// The op's type.
        op_type: &'static str,
        /// `header` or `body`.
        part: &'static str,
    },
    /// The body uses a key the header owns.
    #[error("the body of `{op_type}` has a field `{field}`, which the operation header owns")]
    ReservedField {
        /// The op's type.
        op_type: &'static str,
        /// The colliding key.
        field: String,
    },
    /// serde_json could not serialise it.
    #[error("cannot serialise `{op_type}`: {source}")]
    Serialize {
        /// The op's type.
        op_type: &'static str,
        /// serde_json's error.
        #[source]
        source: serde_json::Error,
    },
}
