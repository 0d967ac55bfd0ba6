//! The history-aware queries over `cluster_operation_targets` (docs/operator_guide/database.md says how the
//! gate decides).
//!
//! "In flight" is `object_states.state_value IN ('queued', 'preflight', 'executing')`; everything else,
//! including a missing state row, is terminal. An op's state row is found by the state table's primary
//! key, `(object_type, object_uuid)` = `(operation_type, operation_uuid)`, in every query of the store: a
//! state row under another type is not this op's. `in_flight_targets` holds one row per (target, op) while
//! the op is in flight, kept by triggers (migration 4) in the transaction that changes a state or a target
//! row, so the in-flight queries probe the object's own key: their cost grows neither with its history nor
//! with the ops in flight elsewhere.

use std::collections::BTreeSet;

use serde::Serialize;
use uuid::Uuid;

use super::dialect::sql;
use super::retry::{retried, with_retry};
use super::state::parse_state;
use super::steps::LockedOp;
use super::{Dialect, Store, with_backend};
use crate::{ObjectRef, ObjectType, OpId, OpState, StoreError};

/// The in-flight states as an SQL list; a unit test keeps it equal to [`OpState::IN_FLIGHT`].
macro_rules! in_flight_sql {
    () => {
        "('queued', 'preflight', 'executing')"
    };
}

/// The columns of a targeting row, named as [`RawTargetingOp`]'s fields: `t` is the target row, `s` the
/// op's state row.
macro_rules! targeting_columns {
    () => {
        "SELECT t.sequence_number, t.operation_type AS op_type, t.operation_uuid AS op_uuid, \
         s.state_value AS state, t.created_at"
    };
}

/// The in-flight ops on one object, oldest first: binds the object's type and uuid. Driven from the
/// object's in-flight markers; each marker's target row and state are looked up by their op in
/// correlated subqueries, which no plan reorders. Written as a join of the three tables, PostgreSQL read
/// the target rows by the object (`idx_cot_target`): every row of the object's history, finished or not,
/// for each call. The target row is found by its op (`uq_cot_op_target`); the object's uuid is compared
/// through `CONCAT` so that no planner can serve the lookup from the object's index instead.
const PENDING_ON_OBJECT: &str = "SELECT x.sequence_number, x.op_type, x.op_uuid, x.state, x.created_at FROM (\
     SELECT (SELECT t.sequence_number FROM cluster_operation_targets t WHERE t.operation_uuid = f.operation_uuid \
     AND t.target_object_type = f.target_object_type AND CONCAT(t.target_uuid, '') = f.target_uuid) AS sequence_number, \
     f.operation_type AS op_type, f.operation_uuid AS op_uuid, \
     (SELECT s.state_value FROM object_states s WHERE s.object_type = f.operation_type \
     AND s.object_uuid = f.operation_uuid) AS state, \
     (SELECT t.created_at FROM cluster_operation_targets t WHERE t.operation_uuid = f.operation_uuid \
     AND t.target_object_type = f.target_object_type AND CONCAT(t.target_uuid, '') = f.target_uuid) AS created_at \
     FROM in_flight_targets f WHERE f.target_object_type = ? AND f.target_uuid = ?) x \
     WHERE x.sequence_number IS NOT NULL ORDER BY x.sequence_number";

/// `{op_type, op_uuid}`: the shape of `last_cluster_operation` in Shaken Fist's external views.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OpRef {
    /// The op's type, e.g. `net_op`.
    pub op_type: String,
    /// The op's id.
    pub op_uuid: OpId,
}

/// One op that targeted an object, as `pending` and `history` list it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TargetingOp {
    /// The target row's place in the global order; larger is newer.
    pub sequence_number: i64,
    /// The op's type.
    pub op_type: String,
    /// The op's id.
    pub op_uuid: OpId,
    /// The op's state; `None` when its state row is gone (which counts as terminal).
    pub state: Option<OpState>,
    /// When the op was enqueued (unix seconds).
    pub created_at: f64,
}

/// A terminal op, as the maintainer's cooldown and circuit breaker read it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TerminalOp {
    /// The op's id.
    pub op_uuid: OpId,
    /// Its terminal state.
    pub state: OpState,
    /// When it reached that state (unix seconds).
    pub update_time: f64,
}

/// The page size of [`Store::history`] when none is given.
pub const DEFAULT_HISTORY_LIMIT: u32 = 100;

/// A page of an object's history, newest first.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HistoryPage {
    /// The ops of this page, newest first.
    pub ops: Vec<TargetingOp>,
    /// Pass this as `before` to read the next (older) page; `None` on the last page.
    pub next_before: Option<i64>,
}

impl Store {
    /// Whether any in-flight op targets `target`, however many later ops have finished.
    ///
    /// This is the query behind the gate; a gate must use [`Store::is_pending_or_unknown`], which treats an
    /// error as "pending".
    pub async fn has_pending(&self, target: impl Into<ObjectRef>) -> Result<bool, StoreError> {
        let target = target.into();
        let found = with_backend!(match self {
            (pool, dialect) => {
                sqlx::query(sql!(
                    dialect,
                    "SELECT 1 FROM in_flight_targets WHERE target_object_type = ? AND target_uuid = ? LIMIT 1"
                ))
                .bind(target.object_type.as_str())
                .bind(uuid_text(target.uuid))
                .fetch_optional(pool)
                .await
                .map(|row| row.is_some())
            }
        })
        .map_err(StoreError::query(|| {
            format!("checking for pending operations on {target}")
        }))?;
        Ok(found)
    }

    /// The gate: `true` when an op is in flight on `target` **or the answer is unknown**.
    ///
    /// Fails closed, as Shaken Fist's `has_pending` does: a caller that repairs objects reads `true` as
    /// "leave it alone", so a database outage must never look like "nothing in flight".
    pub async fn is_pending_or_unknown(&self, target: impl Into<ObjectRef>) -> bool {
        let target = target.into();
        match self.has_pending(target).await {
            Ok(pending) => pending,
            Err(error) => {
                tracing::warn!(%target, error = %crate::ErrorChain(&error), "pending-operation check failed; treating the object as busy");
                true
            }
        }
    }

    /// The op of the newest target row for `target`, in any state: `last_cluster_operation`.
    pub async fn latest(&self, target: impl Into<ObjectRef>) -> Result<Option<OpRef>, StoreError> {
        let target = target.into();
        let action = || format!("reading the latest operation on {target}");
        let row = with_backend!(match self {
            (pool, dialect) => {
                sqlx::query_as::<_, RawOpRef>(sql!(
                    dialect,
                    "SELECT operation_type AS op_type, operation_uuid AS op_uuid FROM cluster_operation_targets \
                     WHERE target_object_type = ? AND target_uuid = ? ORDER BY sequence_number DESC LIMIT 1"
                ))
                .bind(target.object_type.as_str())
                .bind(uuid_text(target.uuid))
                .fetch_optional(pool)
                .await
            }
        })
        .map_err(|source| StoreError::Query {
            action: action(),
            source,
        })?;
        row.map(|row| {
            Ok(OpRef {
                op_type: row.op_type,
                op_uuid: parse_op_uuid(&row.op_uuid)?,
            })
        })
        .transpose()
    }

    /// Every in-flight op that targets `target`, oldest first.
    pub async fn pending(
        &self,
        target: impl Into<ObjectRef>,
    ) -> Result<Vec<TargetingOp>, StoreError> {
        let target = target.into();
        let rows = with_backend!(match self {
            (pool, dialect) => {
                let query = sql!(dialect, PENDING_ON_OBJECT);
                sqlx::query_as::<_, RawTargetingOp>(query)
                    .bind(target.object_type.as_str())
                    .bind(uuid_text(target.uuid))
                    .fetch_all(pool)
                    .await
            }
        })
        .map_err(StoreError::query(|| {
            format!("listing pending operations on {target}")
        }))?;
        rows.into_iter().map(RawTargetingOp::parse).collect()
    }

    /// Every op that targeted `target`, newest first, `limit` per page; `before` is the previous page's
    /// [`HistoryPage::next_before`].
    pub async fn history(
        &self,
        target: impl Into<ObjectRef>,
        before: Option<i64>,
        limit: u32,
    ) -> Result<HistoryPage, StoreError> {
        let target = target.into();
        let limit = limit.max(1);
        let rows = with_backend!(match self {
            (pool, dialect) => {
                let query = sql!(
                    dialect,
                    concat!(
                        targeting_columns!(),
                        " FROM cluster_operation_targets t LEFT JOIN object_states s ",
                        "ON s.object_type = t.operation_type AND s.object_uuid = t.operation_uuid ",
                        "WHERE t.target_object_type = ? AND t.target_uuid = ? AND t.sequence_number < ? ",
                        "ORDER BY t.sequence_number DESC LIMIT ?"
                    )
                );
                sqlx::query_as::<_, RawTargetingOp>(query)
                    .bind(target.object_type.as_str())
                    .bind(uuid_text(target.uuid))
                    .bind(before.unwrap_or(i64::MAX))
                    .bind(i64::from(limit) + 1)
                    .fetch_all(pool)
                    .await
            }
        })
        .map_err(StoreError::query(|| format!("reading the operation history of {target}")))?;
        let mut ops = rows
            .into_iter()
            .map(RawTargetingOp::parse)
            .collect::<Result<Vec<_>, _>>()?;
        let next_before = if ops.len() > limit as usize {
            ops.truncate(limit as usize);
            ops.last().map(|op| op.sequence_number)
        } else {
            None
        };
        Ok(HistoryPage { ops, next_before })
    }

    /// Of `targets`, the ones with an in-flight op: the pushdown form of [`Store::has_pending`] for
    /// callers that walk many objects. One query per object type and parameter-limit chunk.
    pub async fn filter_pending(
        &self,
        targets: &[ObjectRef],
    ) -> Result<BTreeSet<ObjectRef>, StoreError> {
        let mut by_type: Vec<(ObjectType, Vec<String>)> = Vec::new();
        for target in targets.iter().collect::<BTreeSet<_>>() {
            match by_type.last_mut() {
                Some((object_type, uuids)) if *object_type == target.object_type => {
                    uuids.push(uuid_text(target.uuid))
                }
                _ => by_type.push((target.object_type, vec![uuid_text(target.uuid)])),
            }
        }
        let mut pending = BTreeSet::new();
        for (object_type, uuids) in &by_type {
            let found: Vec<String> = with_backend!(match self {
                (pool, dialect) =>
                    async {
                        let mut found = Vec::new();
                        for chunk in uuids.chunks(dialect.max_params() - 1) {
                            let mut query = sqlx::QueryBuilder::new(
                                "SELECT DISTINCT target_uuid FROM in_flight_targets WHERE TRUE",
                            );
                            query
                                .push(" AND target_object_type = ")
                                .push_bind(object_type.as_str());
                            query.push(" AND target_uuid IN (");
                            let mut list = query.separated(", ");
                            for uuid in chunk {
                                list.push_bind(uuid.as_str());
                            }
                            query.push(")");
                            let rows: Vec<String> =
                                query.build_query_scalar().fetch_all(pool).await?;
                            found.extend(rows);
                        }
                        Ok::<_, sqlx::Error>(found)
                    }
                    .await,
            })
            .map_err(StoreError::query(|| {
                format!(
                    "filtering {} {object_type} objects for pending operations",
                    uuids.len()
                )
            }))?;
            for uuid in found {
                pending.insert(ObjectRef {
                    object_type: *object_type,
                    uuid: parse_uuid("target_uuid", &uuid)?,
                });
            }
        }
        Ok(pending)
    }

    /// The `limit` most recent terminal ops on `target`, newest first, optionally of one type.
    pub async fn recent_terminal(
        &self,
        target: impl Into<ObjectRef>,
        op_type: Option<&str>,
        limit: u32,
    ) -> Result<Vec<TerminalOp>, StoreError> {
        self.recent_terminal_where(target.into(), op_type, None, limit)
            .await
    }

    /// The `limit` most recent terminal ops on `target` enqueued with `request_id`, newest first: what the
    /// network maintainer's cooldown and circuit breaker read (its repairs carry one request id).
    pub async fn recent_terminal_requested(
        &self,
        target: impl Into<ObjectRef>,
        request_id: &str,
        limit: u32,
    ) -> Result<Vec<TerminalOp>, StoreError> {
        self.recent_terminal_where(target.into(), None, Some(request_id), limit)
            .await
    }

    async fn recent_terminal_where(
        &self,
        target: ObjectRef,
        op_type: Option<&str>,
        request_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<TerminalOp>, StoreError> {
        let rows = with_backend!(match self {
            (pool, dialect) => {
                let query = sql!(
                    dialect,
                    concat!(
                        "SELECT t.operation_uuid AS op_uuid, s.state_value AS state, s.update_time ",
                        "FROM cluster_operation_targets t ",
                        "JOIN object_states s ON s.object_type = t.operation_type AND s.object_uuid = t.operation_uuid ",
                        "LEFT JOIN cluster_operations o ON o.uuid = t.operation_uuid ",
                        "WHERE t.target_object_type = ? AND t.target_uuid = ? AND s.state_value NOT IN ",
                        in_flight_sql!(),
                        " AND (? IS NULL OR t.operation_type = ?) AND (? IS NULL OR o.request_id = ?) ",
                        "ORDER BY s.update_time DESC LIMIT ?"
                    )
                );
                sqlx::query_as::<_, RawTerminalOp>(query)
                    .bind(target.object_type.as_str())
                    .bind(uuid_text(target.uuid))
                    .bind(op_type)
                    .bind(op_type)
                    .bind(request_id)
                    .bind(request_id)
                    .bind(i64::from(limit))
                    .fetch_all(pool)
                    .await
            }
        })
        .map_err(StoreError::query(|| format!("reading recent terminal operations on {target}")))?;
        rows.into_iter()
            .map(|row| {
                Ok(TerminalOp {
                    op_uuid: parse_op_uuid(&row.op_uuid)?,
                    state: parse_state(&row.state)?,
                    update_time: row.update_time,
                })
            })
            .collect()
    }

    /// Removes a terminal op: its target rows first, then its error report, any work-queue row left, event
    /// links, state row and header, in one transaction. An in-flight op is refused: deleting it would hide it from the gate.
    pub async fn hard_delete_op(&self, op: OpId) -> Result<(), StoreError> {
        let op_uuid = op.to_string();
        let op_uuid = op_uuid.as_str();
        let outcome = with_backend!(match self {
            (pool, dialect) => {
                with_retry(&self.retries, dialect, || async move {
                let _turn = self.write_turn().await;
                let mut tx = pool.begin_with(dialect.begin_write()).await?;
                // The op's header and state, locked: one statement, with each dialect's lock clause.
                macro_rules! locked_op {
                    ($lock:literal) => {
                        concat!(
                            "SELECT o.operation_type AS op_type, s.state_value AS state FROM cluster_operations o \
                             LEFT JOIN object_states s ON s.object_type = o.operation_type AND s.object_uuid = o.uuid \
                             WHERE o.uuid = ?",
                            $lock
                        )
                    };
                }
                let select = match dialect {
                    // The IMMEDIATE transaction already holds SQLite's write lock.
                    Dialect::Sqlite => sql!(dialect, locked_op!("")),
                    Dialect::MariaDb => sql!(dialect, locked_op!(" FOR UPDATE")),
                    // PostgreSQL cannot lock the nullable side of an outer join; the header row is the lock.
                    Dialect::Postgres => sql!(dialect, locked_op!(" FOR UPDATE OF o")),
                };
                let Some(LockedOp { op_type, state }) =
                    sqlx::query_as(select).bind(op_uuid).fetch_optional(&mut *tx).await?
                else {
                    return Ok(Err(StoreError::OpNotFound(op)));
                };
                // An unknown state is terminal by exclusion, like a missing one.
                if let Some(Ok(state)) = state.as_deref().map(parse_state)
                    && state.is_in_flight()
                {
                    return Ok(Err(StoreError::OpInFlight { op, state }));
                }
                for statement in [
                    sql!(dialect, "DELETE FROM cluster_operation_targets WHERE operation_uuid = ?"),
                    sql!(dialect, "DELETE FROM cluster_operation_errors WHERE op_uuid = ?"),
                    sql!(dialect, "DELETE FROM work_queue WHERE operation_uuid = ?"),
                ] {
                    sqlx::query(statement).bind(op_uuid).execute(&mut *tx).await?;
                }
                for statement in [
                    sql!(dialect, "DELETE FROM event_objects WHERE object_type = ? AND object_uuid = ?"),
                    sql!(dialect, "DELETE FROM object_states WHERE object_type = ? AND object_uuid = ?"),
                ] {
                    sqlx::query(statement).bind(op_type.as_str()).bind(op_uuid).execute(&mut *tx).await?;
                }
                sqlx::query(sql!(dialect, "DELETE FROM cluster_operations WHERE uuid = ?"))
                    .bind(op_uuid)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(Ok(()))
            })
            .await
            }
        });
        retried(outcome, || format!("hard-deleting cluster operation {op}"))
    }

    /// Removes every target row of an object being hard-deleted; returns how many went.
    pub async fn hard_delete_object(
        &self,
        target: impl Into<ObjectRef>,
    ) -> Result<u64, StoreError> {
        let target = target.into();
        let deleted = with_backend!(match self { (pool, dialect) => {
            sqlx::query(sql!(
                dialect,
                "DELETE FROM cluster_operation_targets WHERE target_object_type = ? AND target_uuid = ?"
            ))
            .bind(target.object_type.as_str())
            .bind(uuid_text(target.uuid))
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        } })
        .map_err(StoreError::query(|| format!("deleting the target rows of {target}")))?;
        Ok(deleted)
    }
}

/// The one text form of a uuid in every table: dashed, lower case.
pub(crate) fn uuid_text(uuid: Uuid) -> String {
    uuid.hyphenated().to_string()
}

fn parse_uuid(column: &'static str, value: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(value).map_err(|_| StoreError::CorruptRow {
        table: "cluster_operation_targets",
        column,
        value: value.to_owned(),
    })
}

fn parse_op_uuid(value: &str) -> Result<OpId, StoreError> {
    parse_uuid("operation_uuid", value).map(OpId::from_uuid)
}

/// A target row's op as the driver decodes it.
#[derive(sqlx::FromRow)]
struct RawOpRef {
    op_type: String,
    op_uuid: String,
}

/// A terminal op as the driver decodes it.
#[derive(sqlx::FromRow)]
struct RawTerminalOp {
    op_uuid: String,
    state: String,
    update_time: f64,
}

/// A targeting row as the driver decodes it, by column name (one derive serves every backend), before its
/// strings are checked.
#[derive(sqlx::FromRow)]
struct RawTargetingOp {
    sequence_number: i64,
    op_type: String,
    op_uuid: String,
    state: Option<String>,
    created_at: f64,
}

impl RawTargetingOp {
    fn parse(self) -> Result<TargetingOp, StoreError> {
        Ok(TargetingOp {
            sequence_number: self.sequence_number,
            op_type: self.op_type,
            op_uuid: parse_op_uuid(&self.op_uuid)?,
            state: self.state.as_deref().map(parse_state).transpose()?,
            created_at: self.created_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_flight_sql_matches_the_state_machine() {
        let listed: Vec<String> = OpState::IN_FLIGHT
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        assert_eq!(in_flight_sql!(), format!("({})", listed.join(", ")));
    }
}
