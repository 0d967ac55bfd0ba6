//! Moving an op between states, checked against the state machine inside the transaction.

use serde_json::json;
use uuid::Uuid;

use super::dialect::sql;
use super::retry::{RetryFailure, with_retry};
use super::{Dialect, Store, now, with_backend};
use crate::{OpId, OpState, StoreError};

/// An op's type and state, read and locked before a change.
#[derive(sqlx::FromRow)]
pub(super) struct LockedOp {
    pub(super) op_type: String,
    pub(super) state: Option<String>,
}

impl Store {
    /// The current state of an op; `None` when it has no state row (hard-deleted, or never existed).
    pub async fn op_state(&self, op: OpId) -> Result<Option<OpState>, StoreError> {
        let value: Option<Option<String>> = with_backend!(match self {
            (pool, dialect) => {
                sqlx::query_scalar(sql!(
                    dialect,
                    "SELECT s.state_value FROM cluster_operations o JOIN object_states s \
                 ON s.object_type = o.operation_type AND s.object_uuid = o.uuid WHERE o.uuid = ?"
                ))
                .bind(op.to_string())
                .fetch_optional(pool)
                .await
            }
        })
        .map_err(StoreError::query(|| {
            format!("reading the state of cluster operation {op}")
        }))?;
        value.flatten().map(|state| parse_state(&state)).transpose()
    }

    /// Moves an op to `to`, with an optional message, and records a `mutate` event.
    ///
    /// The current state is read and locked in the same transaction as the write, so two concurrent moves
    /// cannot both pass the check. Returns the state the op left. Setting the current state again changes
    /// nothing and records nothing.
    pub async fn transition(
        &self,
        op: OpId,
        to: OpState,
        message: Option<&str>,
    ) -> Result<OpState, StoreError> {
        let op_uuid = op.to_string();
        let op_uuid = op_uuid.as_str();
        let outcome = with_backend!(match self {
            (pool, dialect) => {
                with_retry(dialect, || async move {
                let mut tx = pool.begin_with(dialect.begin_write()).await?;
                let select = match dialect {
                    // The IMMEDIATE transaction already holds SQLite's write lock.
                    Dialect::Sqlite => sql!(
                        dialect,
                        "SELECT s.object_type AS op_type, s.state_value AS state FROM cluster_operations o \
                         JOIN object_states s ON s.object_type = o.operation_type AND s.object_uuid = o.uuid \
                         WHERE o.uuid = ?"
                    ),
                    Dialect::MariaDb | Dialect::Postgres => sql!(
                        dialect,
                        "SELECT s.object_type AS op_type, s.state_value AS state FROM cluster_operations o \
                         JOIN object_states s ON s.object_type = o.operation_type AND s.object_uuid = o.uuid \
                         WHERE o.uuid = ? FOR UPDATE"
                    ),
                };
                let Some(LockedOp { op_type, state }) =
                    sqlx::query_as(select).bind(op_uuid).fetch_optional(&mut *tx).await?
                else {
                    return Ok(Err(StoreError::OpNotFound(op)));
                };
                let from = match state.as_deref().map(parse_state) {
                    Some(Ok(state)) => state,
                    Some(Err(error)) => return Ok(Err(error)),
                    None => {
                        return Ok(Err(StoreError::CorruptRow {
                            table: "object_states",
                            column: "state_value",
                            value: "NULL".to_owned(),
                        }));
                    }
                };
                if let Err(source) = from.check_transition(to) {
                    return Ok(Err(StoreError::IllegalTransition { op, source }));
                }
                if from == to {
                    return Ok(Ok(from));
                }
                let update_time = now();
                sqlx::query(sql!(
                    dialect,
                    "UPDATE object_states SET state_value = ?, update_time = ?, message = ? \
                     WHERE object_type = ? AND object_uuid = ?"
                ))
                .bind(to.as_str())
                .bind(update_time)
                .bind(message)
                .bind(op_type.as_str())
                .bind(op_uuid)
                .execute(&mut *tx)
                .await?;
                let event_uuid = Uuid::new_v4().hyphenated().to_string();
                let extra = json!({"attribute": "state", "value": to, "update_time": update_time, "message": message});
                sqlx::query(sql!(
                    dialect,
                    "INSERT INTO events (event_uuid, event_type, timestamp, fqdn, duration, message, extra, \
                     request_id) VALUES (?, 'mutate', ?, ?, NULL, 'set attribute', ?, NULL)"
                ))
                .bind(event_uuid.as_str())
                .bind(update_time)
                .bind(self.host_name())
                .bind(extra.to_string())
                .execute(&mut *tx)
                .await?;
                sqlx::query(sql!(
                    dialect,
                    "INSERT INTO event_objects (object_type, object_uuid, event_uuid) VALUES (?, ?, ?)"
                ))
                .bind(op_type.as_str())
                .bind(op_uuid)
                .bind(event_uuid.as_str())
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(Ok(from))
            })
            .await
            }
        });
        let action = || format!("moving cluster operation {op} to {to}");
        match outcome {
            Ok(result) => result,
            Err(RetryFailure::Contended { source, .. } | RetryFailure::Fatal(source)) => {
                Err(StoreError::Query {
                    action: action(),
                    source,
                })
            }
        }
    }
}

pub(crate) fn parse_state(value: &str) -> Result<OpState, StoreError> {
    value.parse().map_err(|_| StoreError::CorruptRow {
        table: "object_states",
        column: "state_value",
        value: value.to_owned(),
    })
}
