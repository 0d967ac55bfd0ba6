//! [`Store`]: the ops tables on SQLite, MariaDB or PostgreSQL, chosen at run time by the URL.
//!
//! The store holds one native sqlx pool per backend behind one type, rather than sqlx's `Any` driver: the
//! native drivers give exact error codes (deadlock, serialization failure, `SQLITE_BUSY`) for the enqueue
//! retry, `BEGIN IMMEDIATE` on SQLite, and full type support, while every query is still written once and
//! compiled for each backend by `with_backend!`.

mod claim;
mod complete;
pub(crate) mod dialect;
mod enqueue;
mod migration_lock;
mod namespaces;
mod objects;
mod op_record;
mod overview;
mod prune;
mod queries;
mod retry;
mod schema;
mod state;
mod steps;
mod wake;
mod work;

use std::str::FromStr;
use std::time::Duration;

use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

pub(crate) use claim::Claimer;
pub use dialect::Dialect;
pub(crate) use enqueue::NewOp;
pub use namespaces::NamespaceKey;
pub use op_record::{EventRecord, OpRecord, OpTimeline, TargetRow};
pub use overview::{QueueDepth, QueueOverview, RecordedPass};
pub use prune::{DEFAULT_RETENTION, HARD_DELETE_GRACE, PrunePolicy, PruneReport};
pub use queries::{DEFAULT_HISTORY_LIMIT, HistoryPage, OpRef, TargetingOp, TerminalOp};
pub use schema::{BackfillReport, MigrationReport, MigrationStep, SchemaVersion};
pub(crate) use work::{Claim, ClaimRequest, DEFERRED, Renewal, Requeue, Settled, Settlement};

use crate::StoreError;

/// The ops store: every read and write of operations, targets and states goes through it.
///
/// Cloning is cheap and shares the connection pool.
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
    host_name: String,
    /// SQLite's writers take turns here, first come first served, before they take the database's write
    /// lock; `None` on the servers, whose locks queue their waiters themselves.
    write_turns: Option<std::sync::Arc<tokio::sync::Mutex<()>>>,
    /// Transaction attempts run again after the database said they lost a race, shared by clones.
    retries: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Held by [`Store::open_connections`], so that workers starting together open connections ahead
    /// of need one after the other, never holding parts of the pool while each waits for the rest.
    opening: std::sync::Arc<tokio::sync::Mutex<()>>,
}

/// A store's sqlx pool, by backend: see [`Store::sqlx_pool`].
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum SqlxPool<'a> {
    /// The embedded SQLite database.
    Sqlite(&'a SqlitePool),
    /// MariaDB (or MySQL), through sqlx's MySQL driver.
    MariaDb(&'a MySqlPool),
    /// PostgreSQL.
    Postgres(&'a PgPool),
}

#[derive(Clone, Debug)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    MariaDb(MySqlPool),
    Postgres(PgPool),
}

/// `with_backend!(match self { (pool, dialect) => body })`: `body` once per backend, with `pool` bound to
/// the store's concrete sqlx pool and `dialect` to its [`Dialect`].
///
/// It is written as a `match` because it is one: the body is an arm, not a closure, so `?` and `return` in
/// it leave the enclosing function. The body is compiled once per backend, as ordinary typed sqlx code.
macro_rules! with_backend {
    (match $store:ident { ($pool:ident, $dialect:ident) => $body:expr $(,)? }) => {
        match &$store.pool {
            $crate::store::Pool::Sqlite($pool) => {
                let $dialect = $crate::store::Dialect::Sqlite;
                $body
            }
            $crate::store::Pool::MariaDb($pool) => {
                let $dialect = $crate::store::Dialect::MariaDb;
                $body
            }
            $crate::store::Pool::Postgres($pool) => {
                let $dialect = $crate::store::Dialect::Postgres;
                $body
            }
        }
    };
}
pub(crate) use with_backend;

/// How to open a [`Store`]. [`Store::connect`] covers the common case.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    url: String,
    create_if_missing: bool,
    max_connections: u32,
    acquire_timeout: Duration,
    busy_timeout: Duration,
    host_name: Option<String>,
    require_current_schema: bool,
}

impl StoreOptions {
    /// Options for this URL: `sqlite://path`, `sqlite::memory:`, `mysql://` or `mariadb://`, `postgres://`.
    pub fn new(url: impl Into<String>) -> Self {
        StoreOptions {
            url: url.into(),
            create_if_missing: false,
            max_connections: 8,
            acquire_timeout: Duration::from_secs(10),
            busy_timeout: Duration::from_secs(5),
            host_name: None,
            require_current_schema: false,
        }
    }

    /// Create a missing SQLite database file. Off by default, so that reading a mistyped path reports an
    /// error instead of leaving an empty database behind. Servers' databases are never created.
    pub fn create_if_missing(mut self, create: bool) -> Self {
        self.create_if_missing = create;
        self
    }

    /// The most connections the pool opens (default 8; an in-memory SQLite database always uses 1).
    pub fn max_connections(mut self, max: u32) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// How long to wait for a free connection, and for a server to answer when connecting (default 10 s).
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// How long a SQLite connection waits for another program's write lock before the database answers
    /// "busy" (default 5 s); each write transaction is then tried a few more times before the caller gets
    /// the error. The servers queue lock waiters themselves and ignore it.
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// The host name recorded on audit events, in the events table's `fqdn` column (default: this machine's
    /// host name, as the operating system reports it; connecting fails if it reports none).
    pub fn host_name(mut self, name: impl Into<String>) -> Self {
        self.host_name = Some(name.into());
        self
    }

    /// Refuse, when connecting, a database that is not at this build's newest schema (missing or behind), as
    /// every reader and writer needs; off by default so that a store can be opened to migrate.
    pub fn require_current_schema(mut self, require: bool) -> Self {
        self.require_current_schema = require;
        self
    }

    /// Opens the pool and checks that the schema is not newer than this build knows (and, with
    /// [`StoreOptions::require_current_schema`], that it is exactly the newest and not half-applied).
    ///
    /// By default a database with no schema yet, or with a migration an earlier run left half-applied, is
    /// accepted, so that [`Store::migrate`] can create or finish it.
    pub async fn connect(self) -> Result<Store, StoreError> {
        let redacted = redact_password(&self.url);
        let invalid = |reason: String| StoreError::InvalidUrl {
            url: redacted.clone(),
            reason,
        };
        let scheme = self
            .url
            .split_once(':')
            .map(|(scheme, _)| scheme)
            .unwrap_or_default();
        let pool = match scheme {
            "sqlite" => {
                let options = SqliteConnectOptions::from_str(&self.url)
                    .map_err(|e| invalid(e.to_string()))?
                    .create_if_missing(self.create_if_missing)
                    .journal_mode(SqliteJournalMode::Wal)
                    .busy_timeout(self.busy_timeout)
                    .foreign_keys(true);
                // An in-memory database lives as long as one of its connections: keep exactly one, forever.
                let memory = self.url.contains(":memory:") || self.url.contains("mode=memory");
                let pool_options = if memory {
                    checked_when_idle(SqlitePoolOptions::new())
                        .max_connections(1)
                        .min_connections(1)
                        .idle_timeout(None)
                        .max_lifetime(None)
                } else {
                    checked_when_idle(SqlitePoolOptions::new())
                        .max_connections(self.max_connections)
                };
                let pool_options = pool_options.acquire_timeout(self.acquire_timeout);
                // Two processes opening a new file at once both switch it to WAL, which needs the file to
                // themselves: SQLite answers one of them "busy" at once, without waiting (each holds the
                // shared lock the other would wait on). The switch is done by then; connecting again works.
                let started = std::time::Instant::now();
                let pool = loop {
                    match pool_options.clone().connect_with(options.clone()).await {
                        Err(error)
                            if Dialect::Sqlite.is_retryable(&error)
                                && started.elapsed() < self.busy_timeout =>
                        {
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                        connected => {
                            break connected.map_err(|source| StoreError::Connect {
                                backend: "sqlite",
                                url: redacted.clone(),
                                source,
                            })?;
                        }
                    }
                };
                Pool::Sqlite(pool)
            }
            "mysql" | "mariadb" => {
                let url = match self.url.strip_prefix("mariadb:") {
                    Some(rest) => format!("mysql:{rest}"),
                    None => self.url.clone(),
                };
                let options = MySqlConnectOptions::from_str(&url)
                    .map_err(|e| invalid(e.to_string()))?
                    .charset("utf8mb4");
                let failed = |source| StoreError::Connect {
                    backend: "mariadb",
                    url: redacted.clone(),
                    source,
                };
                probe::<sqlx::MySqlConnection>(&options, self.acquire_timeout)
                    .await
                    .map_err(failed)?;
                let pool = checked_when_idle(MySqlPoolOptions::new())
                    .max_connections(self.max_connections)
                    .acquire_timeout(self.acquire_timeout)
                    .connect_with(options)
                    .await
                    .map_err(failed)?;
                Pool::MariaDb(pool)
            }
            "postgres" | "postgresql" => {
                let options =
                    PgConnectOptions::from_str(&self.url).map_err(|e| invalid(e.to_string()))?;
                let failed = |source| StoreError::Connect {
                    backend: "postgres",
                    url: redacted.clone(),
                    source,
                };
                probe::<sqlx::PgConnection>(&options, self.acquire_timeout)
                    .await
                    .map_err(failed)?;
                let pool = checked_when_idle(PgPoolOptions::new())
                    .max_connections(self.max_connections)
                    .acquire_timeout(self.acquire_timeout)
                    .connect_with(options)
                    .await
                    .map_err(failed)?;
                Pool::Postgres(pool)
            }
            _ => {
                return Err(invalid(
                    "unsupported scheme; expected sqlite:, mysql:, mariadb:, postgres: or postgresql:".to_owned(),
                ));
            }
        };
        let write_turns = matches!(pool, Pool::Sqlite(_)).then(std::sync::Arc::default);
        let store = Store {
            pool,
            host_name: match self.host_name {
                Some(name) => name,
                None => system_host_name()?,
            },
            write_turns,
            retries: std::sync::Arc::default(),
            opening: std::sync::Arc::default(),
        };
        match store.schema_version().await {
            Ok(version) if self.require_current_schema => version.require_current()?,
            Ok(_) => {}
            // A half-applied migration is what `migrate` finishes: only readers refuse it.
            Err(StoreError::SchemaDirty { .. }) if !self.require_current_schema => {}
            Err(error) => return Err(error),
        }
        Ok(store)
    }
}

impl Store {
    /// How long [`close`](Self::close) waits for busy connections before it gives up on them.
    pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

    /// Connects to the database at `url` with default [`StoreOptions`].
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        StoreOptions::new(url).connect().await
    }

    /// Waits for this store's turn to write, on SQLite: its writers queue here in order, rather than in
    /// SQLite's busy handler, which sleeps in growing steps (up to 100 ms) and lets a busy writer — a prune
    /// batch after batch — take the lock again before a sleeper wakes. Hold the turn for the whole write
    /// transaction, and take it before beginning one, never inside another.
    pub(crate) async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.write_turns {
            Some(turns) => Some(turns.lock().await),
            None => None,
        }
    }

    /// How many transaction attempts this store and its clones have run again because the database said
    /// they lost a race (a deadlock, a lock wait timeout, SQLite busy) — contention the retries absorbed
    /// rather than handed to a caller. A figure for metrics, and for tests that run writers against each
    /// other and want to know what it cost.
    pub fn retried_attempts(&self) -> u64 {
        self.retries.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The store's own connection pool, for what the store does not do: reading the tables with your own
    /// SQL, or measuring the store against hand-written statements on the very same connections (the
    /// benchmark harness does). Writing the ops tables through it bypasses what the store guarantees — a
    /// target recorded only through a [`ClusterOperation`](crate::ClusterOperation), in the op's own
    /// transaction — so don't, outside a benchmark or a test.
    pub fn sqlx_pool(&self) -> SqlxPool<'_> {
        match &self.pool {
            Pool::Sqlite(pool) => SqlxPool::Sqlite(pool),
            Pool::MariaDb(pool) => SqlxPool::MariaDb(pool),
            Pool::Postgres(pool) => SqlxPool::Postgres(pool),
        }
    }

    /// The backend's SQL dialect.
    pub fn dialect(&self) -> Dialect {
        with_backend!(match self {
            (_pool, dialect) => dialect,
        })
    }

    /// Closes every connection, one after another; in-flight queries finish first, for
    /// [`CLOSE_TIMEOUT`](Self::CLOSE_TIMEOUT) at most.
    ///
    /// It first waits, a quarter of a second at most, until every connection is back in the pool. sqlx
    /// returns a dropped connection from a task it spawns, and a `Pool::close` that overlaps such a task
    /// can close two connections at once or return before the last one is closed
    /// (launchbadge/sqlx#3217). On SQLite that matters: the connection that closes last checkpoints the
    /// write-ahead log into the file and removes the `-wal` and `-shm` files, and two that close together
    /// each see the other open, so neither does. The wait is bounded because a task still using the store
    /// (an enqueuer in a loop) only stops when the closed pool refuses it a connection.
    ///
    /// The close itself is bounded too: a connection whose query future was dropped midway (a cancelled
    /// task, a `select!` that took its other branch) is returned by a task of sqlx's that talks to the
    /// server first, and on MariaDB that task can wait for ever on a reply the cancelled query already
    /// consumed (launchbadge/sqlx#563, #4349). Such connections are left to the server, which ends them
    /// when this process exits; a warning says how many.
    pub async fn close(&self) {
        with_backend!(match self {
            (pool, _dialect) => {
                let deadline = tokio::time::Instant::now() + Duration::from_millis(250);
                while pool.num_idle() < pool.size() as usize
                    && !pool.is_closed()
                    && tokio::time::Instant::now() < deadline
                {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                if tokio::time::timeout(Self::CLOSE_TIMEOUT, pool.close())
                    .await
                    .is_err()
                {
                    tracing::warn!(
                        connections = pool.size(),
                        "connections still busy after {:?}; the store is closed without them",
                        Self::CLOSE_TIMEOUT
                    );
                }
            }
        })
    }

    /// Opens connections, all at once, until the pool holds `wanted` of them (at most its maximum), so
    /// that the first requests that run side by side do not each wait for a connection to be made: over
    /// TLS to a PostgreSQL on the same machine that took 90 ms a connection, and a worker's first op
    /// waited for it. Best effort: a connection that cannot be opened now is opened when it is needed,
    /// and whoever needs it reports the error.
    ///
    /// It never waits for a connection in use: it takes at most the idle ones and those the pool has
    /// room to open, one caller at a time. Several workers of one store starting together would
    /// otherwise each hold part of the pool while waiting for the rest, until the acquire timeout, and
    /// the statements queued behind them time out too.
    pub(crate) async fn open_connections(&self, wanted: usize) {
        let _turn = self.opening.lock().await;
        with_backend!(match self {
            (pool, _dialect) => {
                let max = pool.options().get_max_connections() as usize;
                let in_use = (pool.size() as usize).saturating_sub(pool.num_idle());
                let wanted = wanted.min(max.saturating_sub(in_use));
                let mut opening = tokio::task::JoinSet::new();
                for _ in 0..wanted {
                    let pool = pool.clone();
                    opening.spawn(async move { pool.acquire().await });
                }
                // Each is held until all are open; one given back early would be taken again instead
                // of a new one being made.
                let mut held = Vec::with_capacity(wanted);
                while let Some(opened) = opening.join_next().await {
                    match opened {
                        Ok(Ok(connection)) => held.push(connection),
                        Ok(Err(error)) => {
                            tracing::debug!(%error, "could not open a connection ahead of need")
                        }
                        Err(error) => tracing::debug!(%error, "opening a connection stopped"),
                    }
                }
            }
        })
    }

    /// The host name audit events record (in their `fqdn` column, as Shaken Fist names it).
    pub(crate) fn host_name(&self) -> &str {
        &self.host_name
    }
}

/// Options for a pool of one connection beside `pool`, to the same server, that never retires its
/// connection: a worker's listener and its claim connection, each held for as long as the worker runs,
/// and replaced through the pool when it breaks.
pub(crate) fn pool_of_one(pool: &PgPool) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(pool.options().get_acquire_timeout())
        .max_lifetime(None)
        .idle_timeout(None)
}

/// How long a connection may sit idle in the pool and still be handed out without a liveness check.
const TRUSTED_IDLE: Duration = Duration::from_secs(1);

/// `options`, checking a connection's liveness before handing it out only when it has been idle for
/// [`TRUSTED_IDLE`] or more. sqlx's default checks every one, a round trip to the server (a hop to the
/// connection's thread on SQLite) before every statement or transaction: three on the way from an
/// enqueue to its op's start, and one per claim and per completion. A connection handed back is checked
/// by sqlx on its way into the pool, so one that broke in use never comes out again; what the check
/// before handing out still finds is a connection that broke while it sat idle: a server restarted, an
/// idle session killed. A restart takes longer than [`TRUSTED_IDLE`], so the connections that sat
/// through it are checked and replaced, as before.
fn checked_when_idle<DB: sqlx::Database>(
    options: sqlx::pool::PoolOptions<DB>,
) -> sqlx::pool::PoolOptions<DB> {
    use sqlx::Connection as _;
    options
        .test_before_acquire(false)
        .before_acquire(|connection, meta| {
            Box::pin(async move {
                if meta.idle_for >= TRUSTED_IDLE {
                    connection.ping().await?;
                }
                Ok(true)
            })
        })
}

/// Opens and closes one connection, so that an unreachable server or a refused login is reported as the
/// driver's own error at once, not as a pool timeout after retrying for `timeout`.
async fn probe<C: sqlx::Connection>(
    options: &C::Options,
    timeout: Duration,
) -> Result<(), sqlx::Error> {
    let connection = tokio::time::timeout(timeout, C::connect_with(options))
        .await
        .map_err(|_| sqlx::Error::PoolTimedOut)??;
    connection.close().await
}

/// `scheme://user:secret@host` → `scheme://user:***@host`, for error messages.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// This machine's host name, from the operating system (`gethostname` on POSIX systems, the computer name on
/// Windows): an error, never a made-up name, when there is none to read.
fn system_host_name() -> Result<String, StoreError> {
    let name = hostname::get().map_err(StoreError::HostName)?;
    match name.to_str().map(str::trim) {
        Some(name) if !name.is_empty() => Ok(name.to_owned()),
        _ => Err(StoreError::HostName(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("the system host name {name:?} is empty or not UTF-8"),
        ))),
    }
}

/// Unix time in seconds, the clock of every `created_at` / `update_time` column. A clock set before 1970
/// gives a negative time, which is the truth, rather than a silent 0.
pub(crate) fn now() -> f64 {
    unix_seconds(std::time::SystemTime::now())
}

fn unix_seconds(time: std::time::SystemTime) -> f64 {
    match time.duration_since(std::time::UNIX_EPOCH) {
        Ok(since) => since.as_secs_f64(),
        Err(before) => -before.duration().as_secs_f64(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_before_the_epoch_are_negative_not_zero() {
        let epoch = std::time::UNIX_EPOCH;
        assert_eq!(unix_seconds(epoch + Duration::from_millis(1500)), 1.5);
        assert_eq!(unix_seconds(epoch - Duration::from_secs(2)), -2.0);
        assert!(now() > 1.7e9);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn the_host_name_comes_from_the_system() {
        let kernel = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
        assert_eq!(system_host_name().unwrap(), kernel.trim());
    }

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            redact_password("mysql://root:hunter2@db:3306/ops"),
            "mysql://root:***@db:3306/ops"
        );
        assert_eq!(
            redact_password("postgres://ops@db/ops"),
            "postgres://ops@db/ops"
        );
        assert_eq!(redact_password("sqlite://ops.db"), "sqlite://ops.db");
    }
}
