//! Where a bench runs: a fresh database it creates, migrates and drops itself, so that no bench sees
//! another's rows and a user's database is never touched.

use std::path::PathBuf;

use ops_core::{Dialect, SqlxPool, Store, StoreOptions};

use crate::BenchError;

/// A database made for one bench: a temporary SQLite file, or a database of its own on a server.
pub struct Scratch {
    store: Store,
    url: String,
    made: Made,
}

/// What [`Scratch::remove`] removes.
enum Made {
    File(PathBuf),
    Database {
        dialect: Dialect,
        server_url: String,
        name: String,
    },
}

impl Scratch {
    /// A fresh, migrated database on the backend `backend` names: `sqlite` (or any `sqlite:` URL) for a
    /// temporary file, or a server URL, on which a new database `ops_bench_<random>` is created beside the
    /// one the URL names (which must exist: it is where the new one is created from).
    pub async fn create(backend: &str) -> Result<Scratch, BenchError> {
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let (url, made) = if backend == "sqlite" || backend.starts_with("sqlite:") {
            let file = std::env::temp_dir().join(format!("ops-bench-{suffix}.db"));
            (format!("sqlite://{}", file.display()), Made::File(file))
        } else {
            let name = format!("ops_bench_{}", &suffix[..12]);
            let dialect = admin(backend, &format!("CREATE DATABASE {name}")).await?;
            let mut url = url::Url::parse(backend).map_err(|e| BenchError::Url(e.to_string()))?;
            url.set_path(&format!("/{name}"));
            (
                url.to_string(),
                Made::Database {
                    dialect,
                    server_url: backend.to_owned(),
                    name,
                },
            )
        };
        tracing::info!(database = %made, "scratch database created");
        let scratch = async {
            let store = StoreOptions::new(&url)
                .create_if_missing(true)
                .connect()
                .await?;
            store.migrate().await?;
            Ok(store)
        };
        match scratch.await {
            Ok(store) => Ok(Scratch { store, url, made }),
            Err(error) => {
                // A database the bench made and cannot use is removed all the same.
                made.remove().await?;
                Err(BenchError::Store(error))
            }
        }
    }

    /// The store on it.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Its URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Closes the store and removes the database.
    pub async fn remove(self) -> Result<(), BenchError> {
        self.store.close().await;
        self.made.remove().await
    }
}

impl Made {
    async fn remove(&self) -> Result<(), BenchError> {
        match self {
            Made::File(file) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
                }
            }
            Made::Database {
                dialect,
                server_url,
                name,
            } => {
                // The bench's own sessions on it end first, as PostgreSQL's FORCE does: a connection
                // its store gave up on while closing (see `Store::close`) may hold a transaction's
                // metadata locks, and MariaDB's DROP would wait for them for `lock_wait_timeout` (a
                // day). Error 1094 is a session that ended by itself meanwhile.
                let drop = match dialect {
                    Dialect::Postgres => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                    _ => format!(
                        "BEGIN NOT ATOMIC \
                         DECLARE CONTINUE HANDLER FOR 1094 BEGIN END; \
                         FOR session IN (SELECT id FROM information_schema.processlist \
                         WHERE db = '{name}' AND id <> CONNECTION_ID()) DO \
                         KILL CONNECTION session.id; END FOR; END; \
                         DROP DATABASE IF EXISTS {name}"
                    ),
                };
                admin(server_url, &drop).await?;
            }
        }
        tracing::info!(database = %self, "scratch database removed");
        Ok(())
    }
}

/// The file's path, or the server database's name: what the logs call it (never a URL, which may hold a
/// password).
impl std::fmt::Display for Made {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Made::File(file) => write!(f, "{}", file.display()),
            Made::Database { name, .. } => f.write_str(name),
        }
    }
}

/// Runs `statement` (a CREATE or DROP DATABASE of a name this module made) on the server `url` names,
/// through a store connected to it (so a bad URL or a refused connection is the store's own error, its
/// password masked); gives the server's dialect.
async fn admin(url: &str, statement: &str) -> Result<Dialect, BenchError> {
    let store = StoreOptions::new(url)
        .max_connections(1)
        .connect()
        .await
        .map_err(BenchError::Store)?;
    let statement = sqlx::AssertSqlSafe(statement.to_owned());
    let done = match store.sqlx_pool() {
        SqlxPool::MariaDb(pool) => sqlx::raw_sql(statement).execute(pool).await.map(|_| ()),
        SqlxPool::Postgres(pool) => sqlx::raw_sql(statement).execute(pool).await.map(|_| ()),
        _ => Ok(()),
    };
    let dialect = store.dialect();
    store.close().await;
    done.map_err(|source| BenchError::Sql {
        what: "creating or dropping a scratch database",
        source,
    })?;
    Ok(dialect)
}
