//! [`Store::prune`]: the retention prune, in bounded batches that each commit on their own, so an
//! enqueue never waits long behind it.
//!
//! Two passes, each walking its table with a cursor in the order its rows are stored (so the whole prune
//! reads each row about once, however many batches it takes, and one batch's deletes share pages):
//!
//! 1. **Target rows** older than the retention whose op is not in flight — by exclusion, as Shaken Fist's
//!    `delete_stale_cluster_operation_targets`: an op with no state row counts as finished — **except each
//!    object's newest row**, which is what `latest` (and so `last_cluster_operation` in external views)
//!    returns: pruning never changes an object's latest op.
//! 2. **Finished ops** (any state but queued, preflight, executing, or none) that were enqueued and ended
//!    longer ago than the retention and have no target row left that the first pass keeps: their header,
//!    state, error report, leftover work-queue row and event links. An op that is still some object's
//!    latest keeps everything, so `opsctl show` of a latest op always works. The walk is oldest first
//!    (uuid order on MariaDB, whose tables are stored in key order) and ends at the cutoff: ops newer
//!    than the retention are never examined.
//! 3. **Maintainer pass records** ([`crate::network::PassRecord`]) older than the retention: the status
//!    events each maintainer pass leaves on its node, and their links, walked through the nodes' event
//!    links in id order.

use std::time::Duration;

use serde::Serialize;

use super::dialect::sql;
use super::overview::{EVENT_ID_MARGIN, first_event_id_at};
use super::retry::{retried, with_retry};
use super::{Dialect, Store, now, with_backend};
use crate::network::MAINTENANCE_PASS;
use crate::{OpState, StoreError};

/// What [`Store::prune`] removes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrunePolicy {
    retention: Duration,
    batch_size: usize,
    dry_run: bool,
}

/// Rows (first pass) or ops (second pass) deleted per write transaction: a few milliseconds of deletes,
/// so that an enqueue never waits long behind the prune.
const WRITE_CHUNK: usize = 25;

/// Shaken Fist's grace before its sweep hard-deletes a finished op (any type whose name ends in `_op`):
/// 30 seconds.
pub const HARD_DELETE_GRACE: Duration = Duration::from_secs(30);

/// Shaken Fist's `CLUSTER_OPERATION_TARGET_RETENTION` default: seven days.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

impl PrunePolicy {
    /// Prune what is older than `retention`; zero disables the prune (it removes nothing).
    pub fn new(retention: Duration) -> Self {
        PrunePolicy {
            retention,
            batch_size: 500,
            dry_run: false,
        }
    }

    /// Rows per batch, each batch one short transaction (default 500, at least 1).
    pub fn batch_size(mut self, rows: usize) -> Self {
        self.batch_size = rows.clamp(1, 10_000);
        self
    }

    /// Count what would go, delete nothing.
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// The retention.
    pub fn retention(&self) -> Duration {
        self.retention
    }
}

/// What a prune removed (or, in a dry run, would remove).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PruneReport {
    /// Target rows.
    pub target_rows: u64,
    /// Finished ops removed whole.
    pub ops: u64,
    /// Maintainer pass records removed.
    pub maintainer_passes: u64,
    /// Batches run, each its own transaction.
    pub batches: u64,
    /// Whether nothing was deleted.
    pub dry_run: bool,
    /// Whether the retention was zero, which disables the prune.
    pub disabled: bool,
    /// Target rows, ops and pass records examined so far.
    pub examined: u64,
    /// Target rows, ops and pass records there were to examine when the prune started: with `examined`,
    /// how far it is.
    pub to_examine: u64,
}

/// A target row is prunable when it is older than the cutoff, its op is not in flight (no in-flight
/// marker for it), and a newer row names the same object. Written for a row aliased `t`; binds the cutoff
/// once.
macro_rules! prunable_target {
    ($newer_hint:literal) => {
        concat!(
            "t.created_at < ? \
             AND NOT EXISTS (SELECT 1 FROM in_flight_targets f WHERE f.target_object_type = t.target_object_type \
                 AND f.target_uuid = t.target_uuid AND f.operation_uuid = t.operation_uuid) \
             AND EXISTS (SELECT 1 FROM cluster_operation_targets n",
            $newer_hint,
            " WHERE n.target_object_type = t.target_object_type \
                 AND n.target_uuid = t.target_uuid AND n.sequence_number > t.sequence_number)"
        )
    };
}

/// The first pass's window: `batch` target rows after the cursor, each with its sequence number again
/// when prunable. `$hint` names the index of the newer-row probe (MariaDB only, see below).
macro_rules! target_window {
    ($hint:literal) => {
        concat!(
            "SELECT t.sequence_number, CASE WHEN ",
            prunable_target!($hint),
            " THEN t.sequence_number END AS prunable FROM (SELECT sequence_number, operation_uuid, ",
            "target_object_type, target_uuid, created_at FROM cluster_operation_targets ",
            "WHERE sequence_number > ? ORDER BY sequence_number LIMIT ?) t ORDER BY t.sequence_number"
        )
    };
}

/// The second pass's walk over PostgreSQL's and SQLite's ops: `batch` ops created before the cutoff,
/// after the cursor in creation order (`idx_co_created`). Binds the cursor's `created_at` twice and its
/// uuid, the cutoff and the batch size.
///
/// Creation order is the order a fleet's rows were written in, so on PostgreSQL (a heap) and SQLite (a
/// rowid table) one batch's deletes land on a few pages. In uuid order each landed on a page of its own:
/// after every checkpoint PostgreSQL logs a page's whole image the first time it changes, so 20,000 ops
/// deleted in uuid order wrote 12,000 page images (96 MB of WAL), in creation order 127 (2 MB) — WAL that
/// every enqueue's commit waits to flush.
macro_rules! walk_in_creation_order {
    () => {
        "SELECT uuid, operation_type, created_at FROM cluster_operations \
         WHERE created_at >= ? AND (created_at > ? OR uuid > ?) AND created_at < ? \
         ORDER BY created_at, uuid LIMIT ?"
    };
}

/// The second pass's walk over MariaDB's ops: `batch` ops created before the cutoff, after the cursor in
/// uuid order. Binds the cursor's uuid, the cutoff and the batch size.
///
/// InnoDB stores a table in its primary key's order, so here it is the uuid order whose deletes share
/// pages, and no created_at index has to be kept up by every enqueue. (The full bench did not tell the two
/// orders apart: the enqueuers' p99 beside the prune was 14.6 ms in creation order, 15.4 ms in this one.)
macro_rules! walk_in_key_order {
    () => {
        "SELECT uuid, operation_type, created_at FROM cluster_operations FORCE INDEX (PRIMARY) \
         WHERE uuid > ? AND created_at < ? ORDER BY uuid LIMIT ?"
    };
}

/// The second pass's window: the ops of a walk (`$walk`, in `$order`), with their state and a target row
/// the first pass keeps, if any. Binds the cutoff, then the walk's parameters. `$own` and `$newer` name
/// the indexes of the probes (MariaDB only). Either walk ends at the cutoff: ops newer than the retention
/// are never examined.
macro_rules! op_window {
    ($walk:expr, $order:literal, $own:literal, $newer:literal) => {
        concat!(
            "SELECT o.uuid AS op_uuid, o.operation_type AS op_type, o.created_at, ",
            "(SELECT s.state_value FROM object_states s WHERE s.object_type = o.operation_type ",
            "AND s.object_uuid = o.uuid) AS state, ",
            "(SELECT s.update_time FROM object_states s WHERE s.object_type = o.operation_type ",
            "AND s.object_uuid = o.uuid) AS update_time, ",
            "(SELECT MIN(t.sequence_number) FROM cluster_operation_targets t",
            $own,
            " WHERE t.operation_uuid = o.uuid AND t.operation_type = o.operation_type AND NOT (",
            prunable_target!($newer),
            ")) AS kept_target FROM (",
            $walk,
            ") o ORDER BY ",
            $order
        )
    };
}

/// The third pass's rows: maintainer pass records, through their nodes' links (a node is no op's target,
/// so its links are its maintainer's events). Binds the cursor (an event id), the id bound of the cutoff,
/// the cutoff, and the records' message. The id bound keeps the walk to old links; the timestamp decides.
macro_rules! old_passes {
    () => {
        "FROM event_objects l JOIN events e ON e.event_uuid = l.event_uuid \
         WHERE l.object_type = 'node' AND l.event_uuid > ? AND l.event_uuid < ? \
         AND e.timestamp < ? AND e.event_type = 'status' AND e.message = ?"
    };
}

/// Where the second pass is: the last op it examined (MariaDB's walk reads only the uuid).
struct OpCursor {
    created_at: f64,
    uuid: String,
}

/// An op in the second pass's window, with what decides whether it goes.
#[derive(sqlx::FromRow)]
struct WindowOp {
    op_uuid: String,
    op_type: String,
    created_at: f64,
    state: Option<String>,
    update_time: Option<f64>,
    /// A target row of the op that the first pass keeps, if any.
    kept_target: Option<i64>,
}

impl WindowOp {
    /// Enqueued and ended before `cutoff`, not in flight (an unknown or missing state is finished, by
    /// exclusion), and no target row left that the first pass keeps.
    fn is_finished_before(&self, cutoff: f64) -> bool {
        let in_flight = self
            .state
            .as_deref()
            .is_some_and(|state| OpState::IN_FLIGHT.iter().any(|s| s.as_str() == state));
        self.created_at < cutoff
            && self.update_time.unwrap_or(self.created_at) < cutoff
            && !in_flight
            && self.kept_target.is_none()
    }
}

impl Store {
    /// Removes what `policy`'s retention allows (see the module docs), batch by batch.
    pub async fn prune(&self, policy: &PrunePolicy) -> Result<PruneReport, StoreError> {
        self.prune_with_progress(policy, |_| {}).await
    }

    /// [`Store::prune`], calling `progress` with the running totals after every batch.
    pub async fn prune_with_progress(
        &self,
        policy: &PrunePolicy,
        mut progress: impl FnMut(&PruneReport),
    ) -> Result<PruneReport, StoreError> {
        let mut report = PruneReport {
            dry_run: policy.dry_run,
            disabled: policy.retention.is_zero(),
            ..PruneReport::default()
        };
        if report.disabled {
            return Ok(report);
        }
        let cutoff = now() - policy.retention.as_secs_f64();
        report.to_examine = self.count("cluster_operation_targets").await?
            + self.count_ops_before(cutoff).await?
            + self.count_passes_before(cutoff).await?;
        let batch = i64::try_from(policy.batch_size).unwrap_or(500);
        let mut after_sequence = 0_i64;
        loop {
            let (removed, window) = self
                .prune_target_batch(cutoff, after_sequence, batch, policy.dry_run)
                .await?;
            let Some((last, examined)) = window else {
                break;
            };
            report.examined += examined;
            after_sequence = last;
            report.target_rows += removed;
            report.batches += 1;
            progress(&report);
        }
        // Before the oldest op possible: `created_at >= f64::MIN` holds for every row, `uuid > ''` too.
        let mut after = OpCursor {
            created_at: f64::MIN,
            uuid: String::new(),
        };
        loop {
            let (removed, window) = self
                .prune_op_batch(cutoff, &after, batch, policy.dry_run)
                .await?;
            let Some((last, examined)) = window else {
                break;
            };
            report.examined += examined;
            after = last;
            report.ops += removed;
            report.batches += 1;
            progress(&report);
        }
        let mut after = String::new();
        loop {
            let (removed, window) = self
                .prune_pass_batch(cutoff, &after, batch, policy.dry_run)
                .await?;
            let Some((last, examined)) = window else {
                break;
            };
            report.examined += examined;
            after = last;
            report.maintainer_passes += removed;
            report.batches += 1;
            progress(&report);
        }
        tracing::info!(?report, "pruned");
        Ok(report)
    }

    /// Shaken Fist's sweep (`per_deleted_object_checks`): hard-deletes, one transaction each, up to
    /// `limit` ops that reached `complete`, `abort` or `deleted` longer than `grace` ago ([`HARD_DELETE_GRACE`]
    /// in Shaken Fist) — never `error`, which Shaken Fist keeps for inspection. Returns how many went.
    ///
    /// Unlike [`Store::prune`], this removes the ops' target rows whatever their age, so an object's
    /// `latest` (and `last_cluster_operation`) can move back to an older op or to none, exactly as in
    /// Shaken Fist (DOMAIN.md §5). It is opt-in for that reason: `opsctl prune --hard-delete-finished-after`.
    pub async fn hard_delete_finished_ops(
        &self,
        grace: Duration,
        limit: usize,
    ) -> Result<u64, StoreError> {
        let before = now() - grace.as_secs_f64();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let finished: Vec<String> = with_backend!(match self {
            (pool, dialect) => {
                sqlx::query_scalar(sql!(
                    dialect,
                    "SELECT o.uuid FROM cluster_operations o JOIN object_states s \
                     ON s.object_type = o.operation_type AND s.object_uuid = o.uuid \
                     WHERE s.state_value IN ('complete', 'abort', 'deleted') AND s.update_time < ? \
                     ORDER BY s.update_time LIMIT ?"
                ))
                .bind(before)
                .bind(limit)
                .fetch_all(pool)
                .await
            }
        })
        .map_err(StoreError::query(
            || "finding finished operations to hard-delete",
        ))?;
        let mut deleted = 0;
        for uuid in finished {
            let Ok(op) = uuid.parse() else {
                tracing::warn!(op_uuid = %uuid, "unreadable op uuid; not hard-deleted");
                continue;
            };
            match self.hard_delete_op(op).await {
                Ok(()) => deleted += 1,
                // Gone or moved back meanwhile: nothing to sweep.
                Err(StoreError::OpNotFound(_) | StoreError::OpInFlight { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(deleted)
    }

    /// One batch of the first pass: the prunable target rows after `after` in sequence order. Returns how
    /// many went and the last sequence number seen (`None`: the pass is done).
    async fn prune_target_batch(
        &self,
        cutoff: f64,
        after: i64,
        batch: i64,
        dry_run: bool,
    ) -> Result<(u64, Option<(i64, u64)>), StoreError> {
        // A batch lost to a concurrent writer (a deadlock with an enqueue on MariaDB) is run again whole:
        // it re-reads its window, so a retry deletes exactly what is still prunable.
        let outcome = with_backend!(match self {
            (pool, dialect) => {
                with_retry(&self.retries, dialect, || async {
                    // A window of `batch` rows in key order, each judged by index probes in the select
                    // list: the cost of a batch is the window, never the table, whatever plan the
                    // database picks (select-list subqueries are not turned into joins over everything).
                    // (sequence, Some(sequence) when prunable): the column's own type on every backend.
                    let window: Vec<(i64, Option<i64>)> = sqlx::query_as(match dialect {
                        // Once a prune has deleted much of the table, MariaDB's optimizer re-reads its
                        // statistics and picks full scans for these per-row probes (seen: 3 s a batch
                        // instead of 40 ms); the hints keep the index it chose before.
                        Dialect::MariaDb => {
                            sql!(dialect, target_window!(" FORCE INDEX (idx_cot_target)"))
                        }
                        Dialect::Sqlite | Dialect::Postgres => sql!(dialect, target_window!("")),
                    })
                    .bind(cutoff)
                    .bind(after)
                    .bind(batch)
                    .fetch_all(pool)
                    .await?;
                    let Some(&(last, _)) = window.last() else {
                        return Ok(Ok((0, None)));
                    };
                    let examined = window.len() as u64;
                    let found: Vec<i64> = window
                        .iter()
                        .filter_map(|(_, prunable)| *prunable)
                        .collect();
                    if dry_run || found.is_empty() {
                        return Ok(Ok((found.len() as u64, Some((last, examined)))));
                    }
                    // The window was read outside any write transaction, and the rows go in short write
                    // transactions of their own: enqueues wait behind a few milliseconds of deletes, never
                    // behind the reading. No op can come back into flight (no transition leaves a finished
                    // state for an in-flight one), so the rows selected are still prunable. The delete
                    // cannot re-check in_flight_targets itself: MariaDB refuses a statement that reads a
                    // table its triggers write.
                    let mut removed = 0;
                    for chunk in found.chunks(WRITE_CHUNK) {
                        let _turn = self.write_turn().await;
                        let mut tx = pool.begin_with(dialect.begin_write()).await?;
                        let mut delete = sqlx::QueryBuilder::new(
                            "DELETE FROM cluster_operation_targets WHERE sequence_number IN (",
                        );
                        let mut list = delete.separated(", ");
                        for sequence in chunk {
                            list.push_bind(*sequence);
                        }
                        delete.push(")");
                        removed += delete.build().execute(&mut *tx).await?.rows_affected();
                        tx.commit().await?;
                    }
                    Ok(Ok::<_, StoreError>((removed, Some((last, examined)))))
                })
                .await
            }
        });
        retried(outcome, || "pruning old target rows".to_owned())
    }

    /// How many ops were created before `cutoff`: the second pass's share of [`PruneReport::to_examine`].
    async fn count_ops_before(&self, cutoff: f64) -> Result<u64, StoreError> {
        let count: i64 = with_backend!(match self {
            (pool, dialect) => {
                sqlx::query_scalar(sql!(
                    dialect,
                    "SELECT COUNT(*) FROM cluster_operations WHERE created_at < ?"
                ))
                .bind(cutoff)
                .fetch_one(pool)
                .await
            }
        })
        .map_err(StoreError::query(
            || "counting the operations old enough to prune",
        ))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// One batch of the second pass: the finished ops after `after` in the walk's order that keep no
    /// target row.
    async fn prune_op_batch(
        &self,
        cutoff: f64,
        after: &OpCursor,
        batch: i64,
        dry_run: bool,
    ) -> Result<(u64, Option<(OpCursor, u64)>), StoreError> {
        let outcome = with_backend!(match self {
            (pool, dialect) => {
                with_retry(&self.retries, dialect, || async {
                    let window = sqlx::query_as(match dialect {
                        Dialect::MariaDb => sql!(
                            dialect,
                            op_window!(
                                walk_in_key_order!(),
                                "o.uuid",
                                " FORCE INDEX (uq_cot_op_target)",
                                " FORCE INDEX (idx_cot_target)"
                            )
                        ),
                        Dialect::Sqlite | Dialect::Postgres => sql!(
                            dialect,
                            op_window!(walk_in_creation_order!(), "o.created_at, o.uuid", "", "")
                        ),
                    })
                    .bind(cutoff);
                    let window = match dialect {
                        Dialect::MariaDb => window.bind(after.uuid.as_str()),
                        Dialect::Sqlite | Dialect::Postgres => window
                            .bind(after.created_at)
                            .bind(after.created_at)
                            .bind(after.uuid.as_str()),
                    };
                    let window: Vec<WindowOp> =
                        window.bind(cutoff).bind(batch).fetch_all(pool).await?;
                    let Some(last) = window.last().map(|op| OpCursor {
                        created_at: op.created_at,
                        uuid: op.op_uuid.clone(),
                    }) else {
                        return Ok(Ok((0, None)));
                    };
                    let examined = window.len() as u64;
                    let found: Vec<&WindowOp> = window
                        .iter()
                        .filter(|op| op.is_finished_before(cutoff))
                        .collect();
                    if dry_run || found.is_empty() {
                        return Ok(Ok((found.len() as u64, Some((last, examined)))));
                    }
                    // As in the first pass: the window read outside, the deletes in short write
                    // transactions, each taking every row of its ops.
                    let mut removed = 0;
                    for chunk in found.chunks(WRITE_CHUNK) {
                        let _turn = self.write_turn().await;
                        let mut tx = pool.begin_with(dialect.begin_write()).await?;
                        if dialect == Dialect::Postgres {
                            // Every delete below is by a key its table indexes. Without statistics on
                            // the work queue (a young database, or autovacuum off or behind), PostgreSQL
                            // prices `operation_uuid IN (25 uuids)` at a few percent of the table and
                            // scans it whole, once a chunk: the prune slows with the queue's backlog
                            // (3.7 ms a chunk at 7,000 queued rows, seen with auto_explain).
                            sqlx::query("SET LOCAL enable_seqscan = off")
                                .execute(&mut *tx)
                                .await?;
                        }
                        for (table, uuid_column) in [
                            ("cluster_operation_targets", "operation_uuid"),
                            ("cluster_operation_errors", "op_uuid"),
                            ("work_queue", "operation_uuid"),
                        ] {
                            let mut delete = sqlx::QueryBuilder::new(format!(
                                "DELETE FROM {table} WHERE {uuid_column} IN ("
                            ));
                            let mut list = delete.separated(", ");
                            for op in chunk {
                                list.push_bind(op.op_uuid.as_str());
                            }
                            delete.push(")");
                            delete.build().execute(&mut *tx).await?;
                        }
                        let mut op_types: Vec<&str> =
                            chunk.iter().map(|op| op.op_type.as_str()).collect();
                        op_types.sort_unstable();
                        op_types.dedup();
                        for op_type in op_types {
                            for table in ["event_objects", "object_states"] {
                                let mut delete = sqlx::QueryBuilder::new(format!(
                                    "DELETE FROM {table} WHERE object_type = "
                                ));
                                delete.push_bind(op_type).push(" AND object_uuid IN (");
                                let mut list = delete.separated(", ");
                                for op in chunk.iter().filter(|op| op.op_type == op_type) {
                                    list.push_bind(op.op_uuid.as_str());
                                }
                                delete.push(")");
                                delete.build().execute(&mut *tx).await?;
                            }
                        }
                        let mut delete = sqlx::QueryBuilder::new(
                            "DELETE FROM cluster_operations WHERE uuid IN (",
                        );
                        let mut list = delete.separated(", ");
                        for op in chunk {
                            list.push_bind(op.op_uuid.as_str());
                        }
                        delete.push(")");
                        removed += delete.build().execute(&mut *tx).await?.rows_affected();
                        tx.commit().await?;
                    }
                    Ok(Ok::<_, StoreError>((removed, Some((last, examined)))))
                })
                .await
            }
        });
        retried(outcome, || "pruning finished operations".to_owned())
    }

    /// How many maintainer pass records are older than `cutoff`: the third pass's share of
    /// [`PruneReport::to_examine`].
    async fn count_passes_before(&self, cutoff: f64) -> Result<u64, StoreError> {
        let before = first_event_id_at(cutoff + EVENT_ID_MARGIN);
        let count: i64 = with_backend!(match self {
            (pool, dialect) => {
                sqlx::query_scalar(sql!(dialect, concat!("SELECT COUNT(*) ", old_passes!())))
                    .bind("")
                    .bind(before.as_str())
                    .bind(cutoff)
                    .bind(MAINTENANCE_PASS)
                    .fetch_one(pool)
                    .await
            }
        })
        .map_err(StoreError::query(|| {
            "counting old maintainer pass records".to_owned()
        }))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// The third pass: `batch` maintainer pass records older than `cutoff` after the cursor (an event id),
    /// deleted with their links in short write transactions. The removed count, and the window's last id
    /// and size; `None` when no record is left past the cursor.
    async fn prune_pass_batch(
        &self,
        cutoff: f64,
        after: &str,
        batch: i64,
        dry_run: bool,
    ) -> Result<(u64, Option<(String, u64)>), StoreError> {
        let before = first_event_id_at(cutoff + EVENT_ID_MARGIN);
        let outcome = with_backend!(match self {
            (pool, dialect) => {
                with_retry(&self.retries, dialect, || async {
                    let window: Vec<String> = sqlx::query_scalar(sql!(
                        dialect,
                        concat!(
                            "SELECT l.event_uuid ",
                            old_passes!(),
                            " ORDER BY l.event_uuid LIMIT ?"
                        )
                    ))
                    .bind(after)
                    .bind(before.as_str())
                    .bind(cutoff)
                    .bind(MAINTENANCE_PASS)
                    .bind(batch)
                    .fetch_all(pool)
                    .await?;
                    let Some(last) = window.last().cloned() else {
                        return Ok(Ok((0, None)));
                    };
                    let examined = window.len() as u64;
                    if dry_run {
                        return Ok(Ok((examined, Some((last, examined)))));
                    }
                    let mut removed = 0;
                    for chunk in window.chunks(WRITE_CHUNK) {
                        let _turn = self.write_turn().await;
                        let mut tx = pool.begin_with(dialect.begin_write()).await?;
                        // The links first, then the events: `removed` counts the events.
                        for table in ["event_objects", "events"] {
                            let mut delete = sqlx::QueryBuilder::new(format!(
                                "DELETE FROM {table} WHERE event_uuid IN ("
                            ));
                            let mut list = delete.separated(", ");
                            for event in chunk {
                                list.push_bind(event.as_str());
                            }
                            delete.push(")");
                            let deleted = delete.build().execute(&mut *tx).await?.rows_affected();
                            if table == "events" {
                                removed += deleted;
                            }
                        }
                        tx.commit().await?;
                    }
                    Ok(Ok::<_, StoreError>((removed, Some((last, examined)))))
                })
                .await
            }
        });
        retried(outcome, || "pruning old maintainer pass records".to_owned())
    }
}
