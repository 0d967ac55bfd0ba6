//! Rows written in bulk, as a years-old fleet has them: finished ops in an object's history, a backlog of
//! ops in flight on other objects. Each op gets the rows an enqueue writes for it that the measured
//! queries read (header, state, target rows; the triggers add the in-flight markers), many ops to a
//! statement, so that filling 100,000 ops takes seconds rather than the hour 100,000 enqueues would.

use ops_core::Store;
use uuid::Uuid;

use crate::BenchError;

/// Ops per statement: 5 values a row, well under every backend's limit of bound parameters.
const CHUNK: usize = 1000;

/// Runs `$body` with `$pool` bound to the store's pool, whichever backend it is.
macro_rules! on_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match $store.sqlx_pool() {
            ops_core::SqlxPool::Sqlite($pool) => $body,
            ops_core::SqlxPool::MariaDb($pool) => $body,
            ops_core::SqlxPool::Postgres($pool) => $body,
            _ => unreachable!("a backend ops-bench does not know"),
        }
    };
}
pub(crate) use on_pool;

/// Which objects the ops of a fill target.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Targets<'a> {
    /// Every op targets this network.
    One(Uuid),
    /// Op `i` targets `networks[i % networks.len()]`.
    Cycle(&'a [Uuid]),
}

impl Targets<'_> {
    fn of(&self, op: usize) -> Uuid {
        match self {
            Targets::One(network) => *network,
            Targets::Cycle(networks) => networks[op % networks.len()],
        }
    }
}

/// Writes `count` `net_op`s in `state` on `targets`, created one second apart from `created_at`, and leaves
/// the database [settled](settle).
pub(crate) async fn net_ops(
    store: &Store,
    count: usize,
    state: &'static str,
    targets: Targets<'_>,
    created_at: f64,
) -> Result<(), BenchError> {
    let failed = |source| BenchError::Sql {
        what: "filling ops",
        source,
    };
    for first in (0..count).step_by(CHUNK) {
        let ops: Vec<(String, String, f64)> = (first..count.min(first + CHUNK))
            .map(|i| {
                (
                    Uuid::new_v4().to_string(),
                    targets.of(i).to_string(),
                    created_at + i as f64,
                )
            })
            .collect();
        on_pool!(store, |pool| {
            let mut tx = pool.begin().await.map_err(failed)?;
            let mut headers = sqlx::QueryBuilder::new(
                "INSERT INTO cluster_operations (uuid, operation_type, version, created_at, network_uuid, \
                 priority, queue_name, metadata_json) ",
            );
            headers.push_values(&ops, |mut row, (op, network, at)| {
                row.push_bind(op.as_str())
                    .push("'net_op', 3")
                    .push_bind(*at)
                    .push_bind(network.as_str())
                    .push("'background', 'networknode-clusteroperation-background', '{}'");
            });
            headers.build().execute(&mut *tx).await.map_err(failed)?;
            let mut rows = sqlx::QueryBuilder::new(
                "INSERT INTO cluster_operation_targets (operation_uuid, operation_type, target_object_type, \
                 target_uuid, created_at) ",
            );
            rows.push_values(&ops, |mut row, (op, network, at)| {
                row.push_bind(op.as_str())
                    .push("'net_op', 'network'")
                    .push_bind(network.as_str())
                    .push_bind(*at);
            });
            rows.build().execute(&mut *tx).await.map_err(failed)?;
            let mut states = sqlx::QueryBuilder::new(
                "INSERT INTO object_states (object_type, object_uuid, state_value, update_time) ",
            );
            states.push_values(&ops, |mut row, (op, _, at)| {
                row.push("'net_op'")
                    .push_bind(op.as_str())
                    .push_bind(state)
                    .push_bind(*at);
            });
            states.build().execute(&mut *tx).await.map_err(failed)?;
            tx.commit().await.map_err(failed)?;
        });
    }
    settle(store).await
}

/// Brings a freshly filled database to rest, as a long-lived one is: SQLite's write-ahead log
/// checkpointed into the file, the servers' statistics gathered (what autovacuum and InnoDB do on their
/// own in time), PostgreSQL's write-ahead log checkpointed too (the million-op fill writes gigabytes of
/// it; the checkpoints it owes otherwise land in the first thing measured). Without it a bench would
/// measure the aftermath of its own bulk load.
async fn settle(store: &Store) -> Result<(), BenchError> {
    let failed = |source| BenchError::Sql {
        what: "settling the filled database",
        source,
    };
    match store.sqlx_pool() {
        ops_core::SqlxPool::Sqlite(pool) => {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(pool)
                .await
                .map_err(failed)?;
        }
        ops_core::SqlxPool::MariaDb(pool) => {
            sqlx::query(
                "ANALYZE TABLE cluster_operations, cluster_operation_targets, object_states, in_flight_targets",
            )
            .execute(pool)
            .await
            .map_err(failed)?;
        }
        ops_core::SqlxPool::Postgres(pool) => {
            sqlx::query("ANALYZE").execute(pool).await.map_err(failed)?;
            // Superusers and `pg_checkpoint` members only: elsewhere the bench runs on unsettled.
            if let Err(error) = sqlx::query("CHECKPOINT").execute(pool).await {
                tracing::warn!(%error, "could not checkpoint the filled database; measuring it unsettled");
            }
        }
        _ => {}
    }
    Ok(())
}

/// `count` fresh network uuids.
pub(crate) fn networks(count: usize) -> Vec<Uuid> {
    (0..count).map(|_| Uuid::new_v4()).collect()
}

/// Seconds since the epoch, a year ago: old enough for any retention a bench uses.
pub(crate) fn a_year_ago() -> f64 {
    now() - 365.0 * 24.0 * 3600.0
}

/// Seconds since the epoch.
pub(crate) fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}
