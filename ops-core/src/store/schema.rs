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

/// One row of sqlx's migration history.
#[derive(sqlx::FromRow)]
struct AppliedMigration {
    version: i64,
    success: bool,
}

impl Store {
    /// Applies every migration this build carries that the database lacks.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        with_backend!(match self {
            (pool, dialect) => dialect.migrator().run(pool).await,
        })?;
        Ok(())
    }

    /// Applies migrations up to and including `version`, e.g. to build a legacy schema-1 database for an
    /// upgrade rehearsal.
    pub async fn migrate_to(&self, version: i64) -> Result<(), StoreError> {
        with_backend!(match self {
            (pool, dialect) => dialect.migrator().run_to(version, pool).await,
        })?;
        Ok(())
    }

    /// Reads the applied schema version; refuses a schema newer than this build or left half-migrated.
    pub async fn schema_version(&self) -> Result<SchemaVersion, StoreError> {
        let latest = self.dialect().latest_schema_version();
        let applied = with_backend!(match self {
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
                let action = || "reading the schema version";
                let found = sqlx::query(exists)
                    .fetch_optional(pool)
                    .await
                    .map_err(StoreError::query(action))?;
                if found.is_none() {
                    return Ok(SchemaVersion {
                        applied: None,
                        latest,
                    });
                }
                let rows = sqlx::query_as::<_, AppliedMigration>(sql!(
                    dialect,
                    "SELECT version, success FROM _sqlx_migrations ORDER BY version"
                ))
                .fetch_all(pool)
                .await
                .map_err(StoreError::query(action))?;
                let mut applied = None;
                for AppliedMigration { version, success } in rows {
                    if !success {
                        return Err(StoreError::SchemaDirty { version });
                    }
                    applied = Some(version);
                }
                applied
            }
        });
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
