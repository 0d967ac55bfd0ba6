//! The schema: embedded per-dialect migrations, and the version check that refuses unknown schemas.

use sqlx::migrate::Migrator;

use super::{Dialect, Store, dialect::sql, with_backend};
use crate::StoreError;

static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
static MARIADB: Migrator = sqlx::migrate!("migrations/mariadb");
static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

/// Where a database's schema stands relative to this build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SchemaVersion {
    /// The newest migration applied to the database; `None` when it has no ops schema.
    pub applied: Option<i64>,
    /// The newest migration this build carries.
    pub latest: i64,
}

impl SchemaVersion {
    /// Whether the database is at this build's newest schema.
    pub fn is_current(&self) -> bool {
        self.applied == Some(self.latest)
    }

    /// `Ok` at the newest schema; otherwise the error that says to migrate.
    pub fn require_current(&self) -> Result<(), StoreError> {
        match self.applied {
            None => Err(StoreError::SchemaMissing),
            Some(found) if found < self.latest => Err(StoreError::SchemaBehind {
                found,
                needed: self.latest,
            }),
            Some(_) => Ok(()),
        }
    }
}

impl Dialect {
    fn migrator(self) -> &'static Migrator {
        match self {
            Dialect::Sqlite => &SQLITE,
            Dialect::MariaDb => &MARIADB,
            Dialect::Postgres => &POSTGRES,
        }
    }

    /// The newest schema version this build knows for the dialect.
    pub fn latest_schema_version(self) -> i64 {
        self.migrator().iter().map(|m| m.version).max().unwrap_or(0)
    }
}

/// A migration [`Store::migrate_with_progress`] is about to apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MigrationStep<'a> {
    /// Its version.
    pub version: i64,
    /// What it does, from its file name (`cluster operation targets`).
    pub description: &'a str,
    /// How many of this run's migrations came before it.
    pub index: usize,
    /// How many migrations this run applies.
    pub total: usize,
}

/// What [`Store::migrate`] did: the versions it applied and, when it upgraded a legacy database past the
/// targets backfill (version 2), what became of the legacy pointers.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MigrationReport {
    /// The version before; `None` for a database that had no ops schema.
    pub previous: Option<i64>,
    /// The version after.
    pub current: i64,
    /// The versions applied in this run, in order.
    pub applied: Vec<i64>,
    /// The legacy pointers' fate, when this run applied the backfill to a database that had them.
    pub backfill: Option<BackfillReport>,
    /// A migration an earlier run left half-applied, which this run applied again from the start.
    pub resumed: Option<i64>,
}

/// The legacy `last_cluster_operation` pointers of an upgraded database, counted in the same run: so an
/// operator sees that 3 of 40,000 were junk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BackfillReport {
    /// Objects whose pointer column held anything (not NULL).
    pub pointers: u64,
    /// Pointers that named an op and became target rows.
    pub backfilled: u64,
    /// Pointers that named no op (`{}`, malformed, junk) and were skipped.
    pub skipped: u64,
}

/// The migration that creates `cluster_operation_targets` and backfills it from the pointers.
const BACKFILL_VERSION: i64 = 2;

/// One row of sqlx's migration history.
#[derive(sqlx::FromRow)]
struct AppliedMigration {
    version: i64,
    success: bool,
}

impl Store {
    /// Applies every migration this build carries that the database lacks, and says what it did.
    pub async fn migrate(&self) -> Result<MigrationReport, StoreError> {
        self.migrate_to(self.dialect().latest_schema_version())
            .await
    }

    /// [`Store::migrate`], telling `progress` before each migration it applies: for a progress display on a
    /// long upgrade (the targets backfill of a large fleet).
    pub async fn migrate_with_progress(
        &self,
        progress: impl FnMut(MigrationStep<'_>),
    ) -> Result<MigrationReport, StoreError> {
        self.migrate_to_with_progress(self.dialect().latest_schema_version(), progress)
            .await
    }

    /// Applies migrations up to and including `version`, e.g. to build a legacy schema-1 database for an
    /// upgrade rehearsal.
    pub async fn migrate_to(&self, version: i64) -> Result<MigrationReport, StoreError> {
        self.migrate_to_with_progress(version, |_| {}).await
    }

    /// Migrates while holding the migration lock, so that the version read first is still the version when
    /// the first migration applies: a second process waits, then finds the work done.
    async fn migrate_to_with_progress(
        &self,
        version: i64,
        progress: impl FnMut(MigrationStep<'_>),
    ) -> Result<MigrationReport, StoreError> {
        let lock = self.migration_lock().await?;
        let report = self.migrate_locked(version, progress).await;
        lock.release().await;
        report
    }

    async fn migrate_locked(
        &self,
        version: i64,
        mut progress: impl FnMut(MigrationStep<'_>),
    ) -> Result<MigrationReport, StoreError> {
        let resumed = self.forget_unfinished_migration().await?;
        let previous = self.schema_version().await?.applied;
        // The pointers can be counted only while their column exists: before the backfill runs.
        let crosses_backfill =
            previous.is_some_and(|v| v < BACKFILL_VERSION) && version >= BACKFILL_VERSION;
        let pointers = if crosses_backfill {
            Some(
                self.count("object_metadata WHERE last_cluster_operation_json IS NOT NULL")
                    .await?,
            )
        } else {
            None
        };
        // One migration at a time, so that each step can be told.
        let pending: Vec<(i64, &str)> = self
            .dialect()
            .migrator()
            .iter()
            .filter(|m| previous.is_none_or(|p| m.version > p) && m.version <= version)
            .map(|m| (m.version, m.description.as_ref()))
            .collect();
        for (index, &(step, description)) in pending.iter().enumerate() {
            progress(MigrationStep {
                version: step,
                description,
                index,
                total: pending.len(),
            });
            with_backend!(match self {
                (pool, dialect) => {
                    let mut connection = pool
                        .acquire()
                        .await
                        .map_err(StoreError::query(|| "opening a connection to migrate"))?;
                    let result = dialect.migrator().run_to(step, &mut *connection).await;
                    if result.is_err() {
                        // A failed migration leaves sqlx's migration lock (PostgreSQL's session advisory
                        // lock, MariaDB's GET_LOCK) held by its connection: close it rather than return it
                        // to the pool, or the next migrate on another connection waits for that lock forever.
                        let _ = connection.close().await;
                    }
                    result
                }
            })?;
        }
        let current = self.schema_version().await?.applied.unwrap_or(0);
        let backfill = match pointers {
            Some(pointers) => {
                // Nothing else writes during a migration: every target row is a backfilled pointer.
                let backfilled = self.count("cluster_operation_targets").await?;
                Some(BackfillReport {
                    pointers,
                    backfilled,
                    skipped: pointers.saturating_sub(backfilled),
                })
            }
            None => None,
        };
        let applied = self
            .dialect()
            .migrator()
            .iter()
            .map(|migration| migration.version)
            .filter(|v| previous.is_none_or(|p| *v > p) && *v <= current)
            .collect();
        Ok(MigrationReport {
            previous,
            current,
            applied,
            backfill,
            resumed,
        })
    }

    /// A migration an earlier run left half-applied (on MariaDB, whose DDL commits as it goes, sqlx marks it
    /// `success = FALSE` and stops there) is run again from the start: every migration of this build is
    /// written to be re-runnable (`IF NOT EXISTS`, a backfill that skips rows already there). This forgets
    /// its unfinished mark, so that the run below applies it; returns its version.
    async fn forget_unfinished_migration(&self) -> Result<Option<i64>, StoreError> {
        let history = self.migration_history().await?.unwrap_or_default();
        let Some(unfinished) = history.iter().find(|m| !m.success).map(|m| m.version) else {
            return Ok(None);
        };
        if !self
            .dialect()
            .migrator()
            .iter()
            .any(|m| m.version == unfinished)
        {
            // Not ours to finish: a newer build's migration.
            return Err(StoreError::SchemaDirty {
                version: unfinished,
            });
        }
        with_backend!(match self {
            (pool, dialect) => {
                sqlx::query(sql!(
                    dialect,
                    "DELETE FROM _sqlx_migrations WHERE version = ? AND success = FALSE"
                ))
                .bind(unfinished)
                .execute(pool)
                .await
                .map(|_| ())
            }
        })
        .map_err(StoreError::query(|| {
            format!("resuming the unfinished migration {unfinished}")
        }))?;
        tracing::warn!(
            version = unfinished,
            "running again a migration an earlier run left unfinished"
        );
        Ok(Some(unfinished))
    }

    /// `SELECT COUNT(*) FROM {from}`, for the migration report and the prune's progress.
    pub(super) async fn count(&self, from: &'static str) -> Result<u64, StoreError> {
        let query = format!("SELECT COUNT(*) FROM {from}");
        let count: i64 = with_backend!(match self {
            (pool, _dialect) =>
                sqlx::query_scalar(sqlx::AssertSqlSafe(query))
                    .fetch_one(pool)
                    .await,
        })
        .map_err(StoreError::query(|| format!("counting the rows of {from}")))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// sqlx's migration history, oldest first; `None` when the database has no ops schema at all.
    async fn migration_history(&self) -> Result<Option<Vec<AppliedMigration>>, StoreError> {
        let action = || "reading the schema version";
        with_backend!(match self {
            (pool, dialect) => {
                // No placeholders: the text needs no rendering.
                let exists = match dialect {
                    Dialect::Sqlite => {
                        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'"
                    }
                    Dialect::MariaDb => {
                        "SELECT 1 FROM information_schema.tables \
                         WHERE table_schema = DATABASE() AND table_name = '_sqlx_migrations'"
                    }
                    Dialect::Postgres => {
                        "SELECT 1 WHERE to_regclass('_sqlx_migrations') IS NOT NULL"
                    }
                };
                let found = sqlx::query(exists)
                    .fetch_optional(pool)
                    .await
                    .map_err(StoreError::query(action))?;
                if found.is_none() {
                    return Ok(None);
                }
                sqlx::query_as::<_, AppliedMigration>(sql!(
                    dialect,
                    "SELECT version, success FROM _sqlx_migrations ORDER BY version"
                ))
                .fetch_all(pool)
                .await
                .map(Some)
                .map_err(StoreError::query(action))
            }
        })
    }

    /// Reads the applied schema version; refuses a schema newer than this build or left half-migrated.
    pub async fn schema_version(&self) -> Result<SchemaVersion, StoreError> {
        let latest = self.dialect().latest_schema_version();
        let mut applied = None;
        for AppliedMigration { version, success } in
            self.migration_history().await?.unwrap_or_default()
        {
            if !success {
                return Err(StoreError::SchemaDirty { version });
            }
            applied = Some(version);
        }
        match applied {
            Some(found) if found > latest => Err(StoreError::SchemaTooNew {
                found,
                known: latest,
            }),
            applied => Ok(SchemaVersion { applied, latest }),
        }
    }

    /// Fails unless the database is at this build's newest schema: what every reader and writer needs.
    pub async fn require_current_schema(&self) -> Result<(), StoreError> {
        let version = self.schema_version().await?;
        match version.applied {
            None => Err(StoreError::SchemaMissing),
            Some(found) if found < version.latest => Err(StoreError::SchemaBehind {
                found,
                needed: version.latest,
            }),
            Some(_) => Ok(()),
        }
    }
}
