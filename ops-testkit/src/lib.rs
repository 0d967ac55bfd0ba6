//! Test databases for the ops workspace.
//!
//! Every test gets its own database: a fresh SQLite file, or a fresh database created on the MariaDB or
//! PostgreSQL server named by `OPS_TEST_MYSQL_URL` / `OPS_TEST_POSTGRES_URL`, dropped again afterwards. So
//! tests run in parallel and never see each other's rows. Without a server URL its tests print that they
//! were skipped; with `CI=true` a missing URL fails them, so CI cannot pass by skipping.
//!
//! [`backend_tests!`] writes one test body once and runs it on all three backends.

use std::future::Future;
use std::path::PathBuf;

use ops_core::{Dialect, Store, StoreOptions};
use sqlx::{AssertSqlSafe, Connection, Row};

mod proxy;

pub use proxy::ServerProxy;

/// The environment variable naming the MariaDB server for tests.
pub const MYSQL_URL_VAR: &str = "OPS_TEST_MYSQL_URL";
/// The environment variable naming the PostgreSQL server for tests.
pub const POSTGRES_URL_VAR: &str = "OPS_TEST_POSTGRES_URL";

/// Runs `$body` with `$conn` a fresh connection of the right driver to the test database; the body is
/// compiled once per driver.
macro_rules! with_connection {
    ($db:expr, |$conn:ident| $body:expr) => {
        match $db.backend {
            Backend::Sqlite => {
                let mut $conn = sqlx::SqliteConnection::connect(&$db.url)
                    .await
                    .expect("open sqlite");
                $body
            }
            Backend::MariaDb => {
                let mut $conn = sqlx::MySqlConnection::connect(&$db.url)
                    .await
                    .expect("open mariadb");
                $body
            }
            Backend::Postgres => {
                let mut $conn = sqlx::PgConnection::connect(&$db.url)
                    .await
                    .expect("open postgres");
                $body
            }
        }
    };
}

/// One of the three backends a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A temporary SQLite file.
    Sqlite,
    /// A fresh database on the MariaDB server.
    MariaDb,
    /// A fresh database on the PostgreSQL server.
    Postgres,
}

impl Backend {
    /// All three.
    pub const ALL: [Backend; 3] = [Backend::Sqlite, Backend::MariaDb, Backend::Postgres];

    fn server_url(self) -> Option<Result<String, &'static str>> {
        let var = match self {
            Backend::Sqlite => return None,
            Backend::MariaDb => MYSQL_URL_VAR,
            Backend::Postgres => POSTGRES_URL_VAR,
        };
        Some(std::env::var(var).map_err(|_| var))
    }
}

/// A database that exists for one test. Dropped (or [`TestDb::finish`]ed), it is removed.
pub struct TestDb {
    backend: Backend,
    url: String,
    name: String,
    admin_url: Option<String>,
    sqlite_path: Option<PathBuf>,
    finished: bool,
}

impl TestDb {
    /// Creates a fresh, empty database on `backend`; `None` (after printing why) when the backend's server
    /// is not configured and CI is not set.
    ///
    /// # Panics
    /// When the server is configured but unusable, or not configured under `CI=true`.
    pub async fn create(backend: Backend) -> Option<TestDb> {
        let name = format!("ops_test_{}", uuid::Uuid::new_v4().simple());
        match backend.server_url() {
            None => {
                let path = std::env::temp_dir().join(format!("{name}.db"));
                let url = format!("sqlite://{}", path.display());
                Some(TestDb {
                    backend,
                    url,
                    name,
                    admin_url: None,
                    sqlite_path: Some(path),
                    finished: false,
                })
            }
            Some(Err(var)) => {
                if std::env::var("CI").is_ok_and(|ci| ci == "true") {
                    panic!("{var} is not set, but CI=true requires the {backend:?} tests to run");
                }
                eprintln!("skipped: {var} is not set, so this {backend:?} test did not run");
                None
            }
            Some(Ok(admin_url)) => {
                let url = with_database(&admin_url, &name);
                let db = TestDb {
                    backend,
                    url,
                    name,
                    admin_url: Some(admin_url),
                    sqlite_path: None,
                    finished: false,
                };
                db.admin(&format!("CREATE DATABASE {}", db.name)).await;
                Some(db)
            }
        }
    }

    /// The URL of this test's database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A store on this database, not migrated. SQLite files are created.
    pub async fn store(&self) -> Store {
        StoreOptions::new(self.url.clone())
            .create_if_missing(true)
            .connect()
            .await
            .expect("connect to the test database")
    }

    /// A store on this database, migrated to the newest schema.
    pub async fn migrated_store(&self) -> Store {
        let store = self.store().await;
        store.migrate().await.expect("migrate the test database");
        store
    }

    /// The store's dialect for this backend.
    pub fn dialect(&self) -> Dialect {
        match self.backend {
            Backend::Sqlite => Dialect::Sqlite,
            Backend::MariaDb => Dialect::MariaDb,
            Backend::Postgres => Dialect::Postgres,
        }
    }

    /// Runs SQL (one or more statements, no parameters) on this database, outside the store: how tests
    /// write rows "as another program would" or install failure-injecting triggers.
    pub async fn execute(&self, sql: &str) {
        let sql = AssertSqlSafe(sql.to_owned());
        with_connection!(self, |conn| {
            sqlx::raw_sql(sql)
                .execute(&mut conn)
                .await
                .expect("execute sql");
        })
    }

    /// The number of rows `SELECT COUNT(*) FROM {from}` finds, e.g. `count("work_queue")`.
    pub async fn count(&self, from: &str) -> i64 {
        let sql = AssertSqlSafe(format!("SELECT COUNT(*) FROM {from}"));
        with_connection!(self, |conn| sqlx::query_scalar(sql)
            .fetch_one(&mut conn)
            .await
            .expect("count rows"))
    }

    /// A counter of PostgreSQL's statistics on `table` (`seq_scan`, `idx_tup_fetch`, ... of
    /// `pg_stat_user_tables`), read once every other session on this database has ended: a session hands
    /// its counts over when it ends, so close the store under test first.
    ///
    /// # Panics
    /// On the other backends, or when sessions remain after ten seconds.
    pub async fn settled_table_counter(&self, table: &str, counter: &str) -> i64 {
        assert_eq!(
            self.backend,
            Backend::Postgres,
            "table statistics are read on postgres only"
        );
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while self
            .count(
                "pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
            )
            .await
            > 0
        {
            assert!(
                std::time::Instant::now() < deadline,
                "sessions on the database did not end"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let counted = self
            .strings(&format!(
                "SELECT COALESCE({counter}, 0)::text FROM pg_stat_user_tables WHERE relname = '{table}'"
            ))
            .await;
        match counted.as_slice() {
            [Some(counted)] => counted.parse().expect("a count"),
            other => panic!("no statistics for table `{table}`: {other:?}"),
        }
    }

    /// The first column of every row of a query, as text (`NULL` as `None`).
    pub async fn strings(&self, query: &str) -> Vec<Option<String>> {
        let sql = AssertSqlSafe(query.to_owned());
        with_connection!(self, |conn| {
            let rows = sqlx::query(sql).fetch_all(&mut conn).await.expect("query");
            rows.iter()
                .map(|row| row.try_get(0).expect("text column"))
                .collect()
        })
    }

    /// The first column of every row of a query, as a float (`DOUBLE` / `REAL` columns: times, delays).
    pub async fn floats(&self, query: &str) -> Vec<f64> {
        let sql = AssertSqlSafe(query.to_owned());
        with_connection!(self, |conn| {
            let rows = sqlx::query(sql).fetch_all(&mut conn).await.expect("query");
            rows.iter()
                .map(|row| row.try_get(0).expect("float column"))
                .collect()
        })
    }

    /// Makes the database refuse a write: a trigger named `trigger` that fails every row of `on` (such as
    /// `"INSERT ON cluster_operation_targets"`) for which `when` holds, with `message` as the error. `when`
    /// is an SQL condition over `NEW` that all three backends read alike, e.g.
    /// `"NEW.state_value = 'complete'"`.
    pub async fn inject_failure(&self, trigger: &str, on: &str, when: &str, message: &str) {
        let message = message.replace('\'', "''");
        let sql = match self.backend {
            Backend::Sqlite => format!(
                "CREATE TRIGGER {trigger} BEFORE {on} WHEN {when} \
                 BEGIN SELECT RAISE(ABORT, '{message}'); END"
            ),
            Backend::MariaDb => format!(
                "CREATE TRIGGER {trigger} BEFORE {on} FOR EACH ROW BEGIN IF {when} THEN \
                 SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{message}'; END IF; END"
            ),
            Backend::Postgres => format!(
                "CREATE FUNCTION {trigger}() RETURNS trigger AS $$ BEGIN \
                 IF {when} THEN RAISE EXCEPTION '{message}'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql; \
                 CREATE TRIGGER {trigger} BEFORE {on} FOR EACH ROW EXECUTE FUNCTION {trigger}();"
            ),
        };
        self.execute(&sql).await;
    }

    /// Removes a trigger made by [`TestDb::inject_failure`] on `table`.
    pub async fn remove_failure(&self, trigger: &str, table: &str) {
        let sql = match self.backend {
            Backend::Sqlite | Backend::MariaDb => format!("DROP TRIGGER {trigger}"),
            Backend::Postgres => {
                format!("DROP TRIGGER {trigger} ON {table}; DROP FUNCTION {trigger}();")
            }
        };
        self.execute(&sql).await;
    }

    /// Makes writes to `on` stall: a trigger named `trigger` that, for each row for which `when` holds,
    /// takes a long while (30 s or more) before letting the row through, so that a test can kill the session
    /// or the process that is inside the write's transaction. The servers sleep; SQLite has no sleep, so
    /// its trigger counts a cross join of a helper table.
    pub async fn inject_delay(&self, trigger: &str, on: &str, when: &str) {
        let sql = match self.backend {
            Backend::Sqlite => format!(
                "CREATE TABLE IF NOT EXISTS ops_test_delay (n INTEGER); \
                 WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000) \
                 INSERT INTO ops_test_delay SELECT n FROM c; \
                 CREATE TRIGGER {trigger} BEFORE {on} WHEN {when} BEGIN \
                 SELECT count(*) FROM ops_test_delay a, ops_test_delay b, ops_test_delay c \
                 WHERE a.n + b.n + c.n < 0; END"
            ),
            Backend::MariaDb => format!(
                "CREATE TRIGGER {trigger} BEFORE {on} FOR EACH ROW BEGIN IF {when} THEN \
                 SET @ops_test_delay = SLEEP(30); END IF; END"
            ),
            Backend::Postgres => format!(
                "CREATE FUNCTION {trigger}() RETURNS trigger AS $$ BEGIN \
                 IF {when} THEN PERFORM pg_sleep(30); END IF; RETURN NEW; END $$ LANGUAGE plpgsql; \
                 CREATE TRIGGER {trigger} BEFORE {on} FOR EACH ROW EXECUTE FUNCTION {trigger}();"
            ),
        };
        self.execute(&sql).await;
    }

    /// The server sessions of this database stalled in a trigger of [`TestDb::inject_delay`] (their
    /// connection id on MariaDB, their backend pid on PostgreSQL): they are inside the stalled write's
    /// transaction. Always empty on SQLite, which has no sessions.
    pub async fn stalled_sessions(&self) -> Vec<i64> {
        let query = match self.backend {
            Backend::Sqlite => return Vec::new(),
            Backend::MariaDb => format!(
                "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = '{}' AND STATE = 'User sleep'",
                self.name
            ),
            Backend::Postgres => format!(
                "SELECT pid::bigint FROM pg_stat_activity WHERE datname = '{}' AND wait_event = 'PgSleep'",
                self.name
            ),
        };
        self.session_ids(query).await
    }

    /// The server sessions of this database now running a statement whose text contains `fragment` (as
    /// MariaDB's process list and PostgreSQL's `pg_stat_activity` show it); always empty on SQLite.
    pub async fn sessions_running(&self, fragment: &str) -> Vec<i64> {
        let pattern = format!("%{}%", fragment.replace('\'', "''"));
        let query = match self.backend {
            Backend::Sqlite => return Vec::new(),
            Backend::MariaDb => format!(
                "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = '{}' AND INFO LIKE '{pattern}' \
                 AND ID <> CONNECTION_ID()",
                self.name
            ),
            Backend::Postgres => format!(
                "SELECT pid::bigint FROM pg_stat_activity WHERE datname = '{}' AND state = 'active' \
                 AND query LIKE '{pattern}' AND pid <> pg_backend_pid()",
                self.name
            ),
        };
        self.session_ids(query).await
    }

    /// The first column of `query`'s rows, as session ids.
    async fn session_ids(&self, query: String) -> Vec<i64> {
        let sql = AssertSqlSafe(query);
        with_connection!(self, |conn| {
            let rows = sqlx::query(sql)
                .fetch_all(&mut conn)
                .await
                .expect("list sessions");
            rows.iter()
                .map(|row| row.try_get(0).expect("session id"))
                .collect()
        })
    }

    /// The server sessions of this database that sit idle between statements, as a pool's connections
    /// do (their connection id on MariaDB, their backend pid on PostgreSQL); always empty on SQLite.
    pub async fn idle_sessions(&self) -> Vec<i64> {
        let query = match self.backend {
            Backend::Sqlite => return Vec::new(),
            Backend::MariaDb => format!(
                "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = '{}' AND COMMAND = 'Sleep' \
                 AND ID <> CONNECTION_ID()",
                self.name
            ),
            Backend::Postgres => format!(
                "SELECT pid::bigint FROM pg_stat_activity WHERE datname = '{}' AND state = 'idle' \
                 AND pid <> pg_backend_pid()",
                self.name
            ),
        };
        self.session_ids(query).await
    }

    /// Ends a server session found by [`TestDb::stalled_sessions`] as an operator would:
    /// `KILL CONNECTION` on MariaDB, `pg_terminate_backend` on PostgreSQL.
    ///
    /// # Panics
    /// On SQLite, which has no sessions.
    pub async fn kill_session(&self, session: i64) {
        match self.backend {
            Backend::Sqlite => panic!("sqlite has no server sessions to kill"),
            Backend::MariaDb => self.execute(&format!("KILL CONNECTION {session}")).await,
            Backend::Postgres => {
                self.execute(&format!("SELECT pg_terminate_backend({session})"))
                    .await;
            }
        }
    }

    /// A [`ServerProxy`] to this database's server, which the test can cut to make the server vanish
    /// under a store connected through [`ServerProxy::url`].
    ///
    /// # Panics
    /// On SQLite, which has no server.
    pub async fn proxy(&self) -> ServerProxy {
        assert_ne!(
            self.backend,
            Backend::Sqlite,
            "sqlite has no server to proxy"
        );
        ServerProxy::start(&self.url).await
    }

    /// Whether some connection other than the caller's holds this SQLite database's write lock: a
    /// `BEGIN IMMEDIATE` that does not wait is refused. How a test sees that another process is inside a
    /// write transaction.
    ///
    /// # Panics
    /// On the servers, whose stalled sessions [`TestDb::stalled_sessions`] lists instead.
    pub async fn sqlite_write_locked(&self) -> bool {
        use std::str::FromStr;
        assert_eq!(
            self.backend,
            Backend::Sqlite,
            "only sqlite has one write lock"
        );
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(&self.url)
            .expect("a sqlite url")
            .busy_timeout(std::time::Duration::ZERO);
        let mut conn = sqlx::SqliteConnection::connect_with(&options)
            .await
            .expect("open sqlite");
        let locked = sqlx::raw_sql("BEGIN IMMEDIATE")
            .execute(&mut conn)
            .await
            .is_err();
        if !locked {
            sqlx::raw_sql("ROLLBACK")
                .execute(&mut conn)
                .await
                .expect("roll back the probe");
        }
        let _ = conn.close().await;
        locked
    }

    /// Rows that belong to no whole op, by kind. An enqueue is all or nothing, so after any failure each
    /// count is what it was before: 0 in a store whose every op names a target.
    pub async fn partial_op_rows(&self) -> PartialOpRows {
        PartialOpRows {
            headers_without_targets: self
                .count(
                    "cluster_operations c WHERE NOT EXISTS \
                     (SELECT 1 FROM cluster_operation_targets t WHERE t.operation_uuid = c.uuid)",
                )
                .await,
            headers_without_state: self
                .count(
                    "cluster_operations c WHERE NOT EXISTS \
                     (SELECT 1 FROM object_states s WHERE s.object_uuid = c.uuid)",
                )
                .await,
            targets_without_header: self
                .count(
                    "cluster_operation_targets t WHERE NOT EXISTS \
                     (SELECT 1 FROM cluster_operations c WHERE c.uuid = t.operation_uuid)",
                )
                .await,
            queue_rows_without_header: self
                .count(
                    "work_queue w WHERE NOT EXISTS \
                     (SELECT 1 FROM cluster_operations c WHERE c.uuid = w.operation_uuid)",
                )
                .await,
            states_without_header: self
                .count(
                    "object_states s WHERE s.object_type LIKE '%_op' AND NOT EXISTS \
                     (SELECT 1 FROM cluster_operations c WHERE c.uuid = s.object_uuid)",
                )
                .await,
        }
    }

    /// Runs `statements` on a connection of its own and leaves that connection open, holding whatever
    /// locks they took (`BEGIN IMMEDIATE` on SQLite; `BEGIN; SELECT ... FOR UPDATE` on the servers), until
    /// the returned [`OpenTransaction`] is released or dropped: how tests make the store wait on a lock.
    pub async fn open_transaction(&self, statements: &str) -> OpenTransaction {
        let sql = AssertSqlSafe(statements.to_owned());
        let (locked, on_locked) = tokio::sync::oneshot::channel();
        let (release, on_release) = tokio::sync::oneshot::channel::<()>();
        let url = self.url.clone();
        let backend = self.backend;
        let holder = tokio::spawn(async move {
            let db = Connecting { backend, url };
            with_connection!(db, |conn| {
                sqlx::raw_sql(sql)
                    .execute(&mut conn)
                    .await
                    .expect("run the statements of an open transaction");
                let _ = locked.send(());
                let _ = on_release.await;
                sqlx::raw_sql(AssertSqlSafe("ROLLBACK".to_owned()))
                    .execute(&mut conn)
                    .await
                    .expect("roll back the open transaction");
            })
        });
        on_locked
            .await
            .expect("the statements of an open transaction ran");
        OpenTransaction {
            release: Some(release),
            holder,
        }
    }

    /// Removes the database now (dropping does the same, less politely).
    pub async fn finish(mut self) {
        self.finished = true;
        self.remove().await;
    }

    async fn remove(&self) {
        if let Some(path) = &self.sqlite_path {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            return;
        }
        let drop = match self.backend {
            Backend::Postgres => format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            _ => format!("DROP DATABASE IF EXISTS {}", self.name),
        };
        self.admin(&drop).await;
    }

    /// Runs a statement on the server's admin database (the one the env URL names).
    async fn admin(&self, statement: &str) {
        let admin_url = self
            .admin_url
            .as_deref()
            .expect("server backends have an admin url");
        let sql = AssertSqlSafe(statement.to_owned());
        match self.backend {
            Backend::Sqlite => unreachable!("sqlite has no admin database"),
            Backend::MariaDb => {
                let mut conn = sqlx::MySqlConnection::connect(admin_url)
                    .await
                    .unwrap_or_else(|e| {
                        panic!("{MYSQL_URL_VAR}={admin_url} is set but unusable: {e}")
                    });
                sqlx::raw_sql(sql)
                    .execute(&mut conn)
                    .await
                    .expect("admin statement");
            }
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(admin_url)
                    .await
                    .unwrap_or_else(|e| {
                        panic!("{POSTGRES_URL_VAR}={admin_url} is set but unusable: {e}")
                    });
                sqlx::raw_sql(sql)
                    .execute(&mut conn)
                    .await
                    .expect("admin statement");
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        // A test that panicked still removes its database, from a runtime of its own.
        let db = TestDb {
            backend: self.backend,
            url: self.url.clone(),
            name: self.name.clone(),
            admin_url: self.admin_url.clone(),
            sqlite_path: self.sqlite_path.clone(),
            finished: true,
        };
        let _ = std::thread::spawn(move || {
            if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                runtime.block_on(db.remove());
            }
        })
        .join();
    }
}

/// What [`TestDb::partial_op_rows`] counts: rows that belong to no whole op.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PartialOpRows {
    /// Op headers without a target row. Partial, unless the op names no target (an `artifact_fetch_op`
    /// for no instance and no artifact is whole without one) or a prune removed its old rows.
    pub headers_without_targets: i64,
    /// Op headers without a state row.
    pub headers_without_state: i64,
    /// Target rows without their op's header.
    pub targets_without_header: i64,
    /// Work-queue rows without their op's header.
    pub queue_rows_without_header: i64,
    /// Op state rows without their op's header.
    pub states_without_header: i64,
}

impl PartialOpRows {
    /// No partial op anywhere.
    pub const NONE: PartialOpRows = PartialOpRows {
        headers_without_targets: 0,
        headers_without_state: 0,
        targets_without_header: 0,
        queue_rows_without_header: 0,
        states_without_header: 0,
    };
}

/// A transaction left open by [`TestDb::open_transaction`]; rolled back when released or dropped.
pub struct OpenTransaction {
    release: Option<tokio::sync::oneshot::Sender<()>>,
    holder: tokio::task::JoinHandle<()>,
}

impl OpenTransaction {
    /// Rolls the transaction back and waits until its locks are gone.
    pub async fn release(mut self) {
        if let Some(release) = self.release.take() {
            let _ = release.send(());
        }
        (&mut self.holder)
            .await
            .expect("roll back the open transaction");
    }
}

impl Drop for OpenTransaction {
    fn drop(&mut self) {
        // The holder rolls back when the sender goes; a dropped guard does not wait for it.
        self.release.take();
    }
}

/// What [`with_connection!`] needs to connect, owned by a spawned task.
struct Connecting {
    backend: Backend,
    url: String,
}

/// `scheme://host/db?query` with `db` replaced by `database`.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

/// Runs `test` against a fresh database on `backend`, then removes it; prints and returns when skipped.
pub async fn run_on<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = TestDb>,
{
    if let Some(db) = TestDb::create(backend).await {
        test(db).await.finish().await;
    }
}

/// Runs a proptest on `backend`: one fresh migrated database for the whole run, each case awaited on a
/// runtime of its own (proptest's runner is synchronous); returns when the backend is skipped, panics with
/// the minimal failing case otherwise.
pub fn check_property<S, F>(backend: Backend, cases: u32, strategy: S, case: F)
where
    S: proptest::strategy::Strategy,
    F: AsyncFn(&TestDb, &Store, S::Value) -> Result<(), proptest::test_runner::TestCaseError>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("build a tokio runtime");
    let Some(db) = runtime.block_on(TestDb::create(backend)) else {
        return;
    };
    let store = runtime.block_on(db.migrated_store());
    let config = proptest::test_runner::Config {
        cases,
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let result = runner.run(&strategy, |value| {
        runtime.block_on(case(&db, &store, value))
    });
    runtime.block_on(db.finish());
    if let Err(failure) = result {
        panic!("{backend:?}: {failure}");
    }
}

/// Declares each `async fn name(db: &TestDb) { ... }` as a module `name` with one test per backend:
/// `name::sqlite`, `name::mariadb`, `name::postgres`.
#[macro_export]
macro_rules! backend_tests {
    ($($(#[$meta:meta])* async fn $name:ident($db:ident: &TestDb) $body:block)*) => {
        $(
            $(#[$meta])*
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                // The body is a test like any `#[test]`, where clippy allows `unwrap`.
                #[allow(clippy::unwrap_used)]
                async fn body($db: &$crate::TestDb) $body

                async fn run(backend: $crate::Backend) {
                    $crate::run_on(backend, |db| async move {
                        body(&db).await;
                        db
                    })
                    .await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    run($crate::Backend::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn mariadb() {
                    run($crate::Backend::MariaDb).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    run($crate::Backend::Postgres).await;
                }
            }
        )*
    };
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_names_replace_the_url_path() {
        assert_eq!(
            with_database("mysql://root@127.0.0.1:3306/test", "x"),
            "mysql://root@127.0.0.1:3306/x"
        );
        assert_eq!(
            with_database("postgres://postgres@localhost/test?sslmode=disable", "x"),
            "postgres://postgres@localhost/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://postgres@localhost", "x"),
            "postgres://postgres@localhost/x"
        );
    }
}
