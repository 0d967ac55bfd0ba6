//! One migrating process at a time. Two hosts upgrading at once would otherwise both read the same
//! schema version and both apply the next migration: on SQLite the second fails on sqlx's history row, on
//! MariaDB it finds the first one's migration half-done and stops, on PostgreSQL each reports every
//! migration as its own. sqlx's own lock covers one migration, not the reading of the version before it.

use sqlx::Connection;

use super::{Pool, Store};
use crate::StoreError;

/// The lock's name on MariaDB, and (as a number) on PostgreSQL: distinct from the lock sqlx takes around
/// each migration, which the holder takes too.
const NAME: &str = "ops_core_migrate";
/// `NAME`'s bytes as a PostgreSQL advisory lock key ("ops_mig\0").
const PG_KEY: i64 = 0x6f70_735f_6d69_6700;
/// How long a migration waits for another to finish, in seconds (a large fleet's backfill takes minutes).
const WAIT_SECS: i64 = 3600;

/// Held while a process migrates; [`release`](MigrationLock::release) it when done. Dropped instead (a
/// panic, a cancelled future), the server lock goes with its connection, the file lock with its file.
pub(super) enum MigrationLock {
    /// An exclusive `flock` on a lock file beside the database, removed when released.
    File(Option<LockFile>),
    /// A connection of its own (outside the pool, so a pool of one can still migrate) holding
    /// `GET_LOCK`.
    MariaDb(sqlx::MySqlConnection),
    /// A connection of its own holding a session advisory lock.
    Postgres(sqlx::PgConnection),
}

impl Store {
    /// Waits until no other process migrates this database, and holds that until released.
    pub(super) async fn migration_lock(&self) -> Result<MigrationLock, StoreError> {
        let failed = |source| StoreError::Query {
            action: "taking the migration lock".to_owned(),
            source,
        };
        match &self.pool {
            Pool::Sqlite(pool) => {
                let database = pool.connect_options().get_filename().to_path_buf();
                // No file: an in-memory database, which one process has by construction.
                if !database.exists() {
                    return Ok(MigrationLock::File(None));
                }
                let file = tokio::task::spawn_blocking(move || LockFile::acquire(&database))
                    .await
                    .map_err(|e| std::io::Error::other(e.to_string()))
                    .and_then(|locked| locked)
                    .map_err(|e| failed(sqlx::Error::Io(e)))?;
                Ok(MigrationLock::File(Some(file)))
            }
            Pool::MariaDb(pool) => {
                let mut connection = pool.acquire().await.map_err(failed)?.detach();
                let got: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, ?)")
                    .bind(NAME)
                    .bind(WAIT_SECS)
                    .fetch_one(&mut connection)
                    .await
                    .map_err(failed)?;
                if got != Some(1) {
                    return Err(failed(sqlx::Error::Protocol(format!(
                        "another migration held `{NAME}` for more than {WAIT_SECS} s"
                    ))));
                }
                Ok(MigrationLock::MariaDb(connection))
            }
            Pool::Postgres(pool) => {
                let mut connection = pool.acquire().await.map_err(failed)?.detach();
                sqlx::query("SELECT pg_advisory_lock($1)")
                    .bind(PG_KEY)
                    .execute(&mut connection)
                    .await
                    .map_err(failed)?;
                Ok(MigrationLock::Postgres(connection))
            }
        }
    }
}

impl MigrationLock {
    /// Lets the next migrating process in.
    pub(super) async fn release(self) {
        match self {
            MigrationLock::File(file) => {
                if let Some(file) = file {
                    file.release();
                }
            }
            MigrationLock::MariaDb(connection) => {
                // Closing the connection releases the lock; a failed close (the server went away) does too.
                let _ = connection.close().await;
            }
            MigrationLock::Postgres(connection) => {
                let _ = connection.close().await;
            }
        }
    }
}

/// `DATABASE-migrate`, locked with `flock`, for SQLite. Not the database file itself: closing any descriptor
/// of a file drops every POSIX lock the process holds on it, and SQLite's locks are POSIX locks, so a
/// migrating program that locked and closed its database file would go on without the shared lock that
/// tells other processes it is there (sqlite.org/howtocorrupt.html, §2.2).
///
/// The file is removed on release, by its holder, so none is left beside the database. A waiter may by
/// then have opened the removed file and then lock it: it checks that the path still names the file it
/// locked, and otherwise opens the path again. A process killed while holding it leaves the file, which the
/// next migration locks and removes as usual.
pub(super) struct LockFile {
    path: std::path::PathBuf,
    file: std::fs::File,
}

impl LockFile {
    /// Blocks until this process holds the lock file of `database`.
    fn acquire(database: &std::path::Path) -> std::io::Result<LockFile> {
        use std::os::unix::fs::MetadataExt;

        let mut path = database.as_os_str().to_owned();
        path.push("-migrate");
        let path = std::path::PathBuf::from(path);
        loop {
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)?;
            file.lock()?;
            let locked = file.metadata()?;
            match std::fs::metadata(&path) {
                Ok(named) if (named.dev(), named.ino()) == (locked.dev(), locked.ino()) => {
                    return Ok(LockFile { path, file });
                }
                // Removed (or replaced) by the holder before us: our lock guards nothing.
                Ok(_) => {}
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => return Err(error),
            }
        }
    }

    /// Removes the file while still holding it, then lets go.
    fn release(self) {
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}
