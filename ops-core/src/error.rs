//! Error values: every failure says what was being done and why it failed.
//!
//! A message never repeats its cause: the cause is the error's `source()`, which chain reporters (anyhow,
//! eyre, tracing, opsctl) print after it. A message that embedded it as well would print it twice.

use std::fmt;

use crate::{IllegalTransition, ObjectRef, ObjectState, OpId, OpState};

/// Displays an error and its sources on one line, `outer: inner: ...`: how this crate's errors print in
/// full, since no message repeats its source. For logs and command-line tools without a chain reporter. A
/// cause whose text its parent already ends with (as a driver's database error repeats the server's
/// message) is printed once.
#[derive(Clone, Copy, Debug)]
pub struct ErrorChain<'a>(pub &'a (dyn std::error::Error + 'static));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut last = self.0.to_string();
        f.write_str(&last)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            let text = cause.to_string();
            if !last.ends_with(&text) {
                write!(f, ": {text}")?;
            }
            last = text;
            source = cause.source();
        }
        Ok(())
    }
}

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
    #[error("cannot connect to the {backend} database at `{url}`")]
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
    #[error("migration {version} did not finish; run `opsctl migrate` to finish it")]
    SchemaDirty {
        /// The version that failed.
        version: i64,
    },
    /// Applying migrations failed.
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The host name audit events record could not be read from the operating system.
    #[error(
        "cannot read this machine's host name for audit events; set one with `StoreOptions::host_name`"
    )]
    HostName(#[source] std::io::Error),
    /// A write that took this op together with others failed; every op of the batch shares the error.
    #[error("a batch write with other ops failed")]
    Batch(#[source] std::sync::Arc<StoreError>),
    /// A query failed.
    #[error("database error while {action}")]
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
    /// No object of this type has this id.
    #[error("{0} not found")]
    ObjectNotFound(ObjectRef),
    /// An object with this type and id is registered already.
    #[error("{0} exists already")]
    ObjectExists(ObjectRef),
    /// An object cannot be registered as given.
    #[error("cannot register {object}: {reason}")]
    InvalidObject {
        /// The object.
        object: ObjectRef,
        /// What is wrong with it.
        reason: String,
    },
    /// The object's state machine forbids the move.
    #[error("{object} cannot move from `{from}` to `{to}`")]
    IllegalObjectTransition {
        /// The object.
        object: ObjectRef,
        /// Its state.
        from: ObjectState,
        /// The state asked for.
        to: ObjectState,
    },
    /// The op cannot move to the requested state.
    #[error("cluster operation {op} cannot change state")]
    IllegalTransition {
        /// The op.
        op: OpId,
        /// The forbidden move.
        #[source]
        source: IllegalTransition,
    },
    /// A follow-up op a handler asked for could not be written, so the op's completion was not recorded
    /// either; the worker records the op as `error` with this as the reason.
    #[error("a follow-up of cluster operation {op} could not be enqueued")]
    FollowUpRefused {
        /// The op whose completion carried the follow-up.
        op: OpId,
        /// Why the follow-up was refused.
        #[source]
        source: Box<crate::EnqueueError>,
    },
    /// A namespace or key name is not one the store accepts.
    #[error("invalid {what} `{}`: {reason}", name.escape_default())]
    InvalidName {
        /// What was named: `namespace` or `key name`.
        what: &'static str,
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A namespace of this name exists already.
    #[error("namespace {0} exists already")]
    NamespaceExists(String),
    /// No namespace has this name.
    #[error("namespace {0} not found")]
    NamespaceNotFound(String),
    /// The namespace has a key of this name already.
    #[error("namespace {namespace} has a key named {key_name} already")]
    KeyExists {
        /// The namespace.
        namespace: String,
        /// The key's name.
        key_name: String,
    },
    /// The namespace has no key of this name.
    #[error("namespace {namespace} has no key named {key_name}")]
    KeyNotFound {
        /// The namespace.
        namespace: String,
        /// The key's name.
        key_name: String,
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
    /// Whether the database could not be reached: connecting failed, or the connection was lost (or the
    /// pool closed or timed out) during a query — as opposed to a statement the database refused.
    pub fn is_unreachable(&self) -> bool {
        match self {
            StoreError::Connect { .. } => true,
            StoreError::Query { source, .. } => matches!(
                source,
                sqlx::Error::Io(_)
                    | sqlx::Error::Tls(_)
                    | sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::WorkerCrashed
            ),
            StoreError::Batch(shared) => shared.is_unreachable(),
            _ => false,
        }
    }

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
    /// The request id holds a NUL character, which PostgreSQL cannot store in text and the others would
    /// store where no reader expects it.
    #[error("a request id may not contain a NUL character (found at character {at})")]
    RequestIdNul {
        /// Where the first one is, counting characters from 0.
        at: usize,
    },
    /// The op cannot be put in its wire form.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// A coalescing op queued for one node outside the `network` family (Shaken Fist's
    /// `InvalidCoalescibleEnqueue`): per-node coalescing is only defined for per-node network work.
    #[error("`{op_type}` coalesces, so on node queue `{queue}` it must be in the `network` family")]
    InvalidCoalescibleEnqueue {
        /// The op type.
        op_type: &'static str,
        /// The queue it would have gone to.
        queue: String,
    },
    /// A coalescing key longer than the store keeps.
    #[error("a coalescing key of {length} characters is longer than the maximum of {max}")]
    CoalesceKeyTooLong {
        /// The characters given.
        length: usize,
        /// The characters allowed.
        max: usize,
    },
    /// An op with this id exists already.
    #[error("cluster operation {0} already exists")]
    Duplicate(OpId),
    /// The transaction kept hitting deadlocks, serialization failures or a busy database.
    #[error("enqueue gave up after {attempts} attempts on a contended database")]
    Contended {
        /// How many times the whole transaction was tried.
        attempts: u32,
        /// The last driver error.
        #[source]
        source: sqlx::Error,
    },
    /// Any other database failure.
    #[error("database error while enqueuing")]
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
    #[error("cannot serialise `{op_type}`")]
    Serialize {
        /// The op's type.
        op_type: &'static str,
        /// serde_json's error.
        #[source]
        source: serde_json::Error,
    },
}

#[cfg(test)]
mod tests {
    use std::error::Error;

    use super::*;

    /// An error whose message ends with its source's, as sqlx's database errors do.
    #[derive(Debug)]
    struct Repeating(std::io::Error);

    impl fmt::Display for Repeating {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "error returned from database: {}", self.0)
        }
    }

    impl std::error::Error for Repeating {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn a_cause_its_parent_already_ends_with_is_printed_once() {
        let error = Repeating(std::io::Error::other("1045 (28000): access denied"));
        assert_eq!(
            ErrorChain(&error).to_string(),
            "error returned from database: 1045 (28000): access denied"
        );
    }

    #[test]
    fn a_lost_connection_is_unreachable_and_a_refused_statement_is_not() {
        let query = |source| StoreError::Query {
            action: "reading".to_owned(),
            source,
        };
        assert!(query(sqlx::Error::Io(std::io::Error::other("reset"))).is_unreachable());
        assert!(query(sqlx::Error::PoolClosed).is_unreachable());
        assert!(!query(sqlx::Error::RowNotFound).is_unreachable());
        let connect = StoreError::Connect {
            backend: "postgres",
            url: "postgres://127.0.0.1:1/x".to_owned(),
            source: sqlx::Error::PoolTimedOut,
        };
        assert!(connect.is_unreachable());
        assert!(!StoreError::SchemaMissing.is_unreachable());
    }

    /// The error and each of its sources, as a chain reporter prints them.
    fn chain(error: &dyn Error) -> Vec<String> {
        let mut messages = vec![error.to_string()];
        let mut source = error.source();
        while let Some(cause) = source {
            messages.push(cause.to_string());
            source = cause.source();
        }
        messages
    }

    fn assert_no_repeats(error: &dyn Error) {
        let messages = chain(error);
        assert!(messages.len() >= 2, "{messages:?} has no source");
        for (outer, inner) in messages.iter().zip(&messages[1..]) {
            assert!(
                !outer.contains(inner.as_str()),
                "`{outer}` repeats its source `{inner}`"
            );
        }
    }

    #[test]
    fn no_message_repeats_its_source() {
        let driver = || sqlx::Error::PoolTimedOut;
        let op = OpId::new_v4();
        assert_no_repeats(&StoreError::Connect {
            backend: "postgres",
            url: "postgres://db".into(),
            source: driver(),
        });
        assert_no_repeats(&StoreError::Query {
            action: "reading".into(),
            source: driver(),
        });
        assert_no_repeats(&StoreError::Migrate(
            sqlx::migrate::MigrateError::VersionMissing(3),
        ));
        assert_no_repeats(&StoreError::HostName(std::io::Error::other("no name")));
        assert_no_repeats(&StoreError::IllegalTransition {
            op,
            source: IllegalTransition {
                from: OpState::Complete,
                to: OpState::Queued,
            },
        });
        assert_no_repeats(&EnqueueError::Contended {
            attempts: 5,
            source: driver(),
        });
        assert_no_repeats(&EnqueueError::Database(driver()));
        let serde = serde_json::from_str::<u8>("x").unwrap_err();
        assert_no_repeats(&EnqueueError::Wire(WireError::Serialize {
            op_type: "net_op",
            source: serde,
        }));
        let error = StoreError::Query {
            action: "reading".into(),
            source: driver(),
        };
        assert_eq!(
            ErrorChain(&error).to_string(),
            "database error while reading: pool timed out while waiting for an open connection"
        );
        assert_eq!(
            chain(&StoreError::Query {
                action: "reading the latest operation on network x".into(),
                source: driver()
            }),
            [
                "database error while reading the latest operation on network x",
                "pool timed out while waiting for an open connection"
            ]
        );
    }
}
