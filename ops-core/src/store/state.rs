//! Moving an op between states, checked against the state machine inside the transaction.

use super::dialect::sql;
use super::retry::{retried, with_retry};
use super::steps::{LockedOp, OpKey, Steps};
use super::{Store, now, with_backend};
use crate::{OpId, OpState, StoreError};

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
                with_retry(&self.retries, dialect, || async move {
                    let _turn = self.write_turn().await;
                    let mut tx = pool.begin_with(dialect.begin_write()).await?;
                    let Some(LockedOp { op_type, state }) = tx.lock_op(dialect, op_uuid).await?
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
                    let key = OpKey {
                        op_type: &op_type,
                        op_uuid,
                    };
                    tx.write_state(dialect, self.host_name(), key, to, message, now())
                        .await?;
                    tx.commit().await?;
                    Ok(Ok(from))
                })
                .await
            }
        });
        retried(outcome, || format!("moving cluster operation {op} to {to}"))
    }
}

pub(crate) fn parse_state(value: &str) -> Result<OpState, StoreError> {
    value.parse().map_err(|_| StoreError::CorruptRow {
        table: "object_states",
        column: "state_value",
        value: value.to_owned(),
    })
}
