//! Completions in batches: ops whose handlers succeeded with nothing else to record, written together.

use super::dialect::sql;
use super::retry::{RetryFailure, retried, with_retry};
use super::steps::{OpKey, Steps, state_event, state_event_extra};
use super::work::{Claim, Settled, Settlement, by_id, push_list, usage_event};
use super::{Dialect, Pool, Store, now, with_backend};
use crate::{OpState, StoreError};

/// The batch on PostgreSQL, one statement. Binds, one array element per claim: `$1` work-queue row ids,
/// `$2` lease tokens, `$3` op types, `$4` the claims' indices, `$5` and `$6` the ids of each op's state and
/// usage events, `$7` its usage event's extra; then `$8` the time, `$9` the host, `$10` the state events'
/// extra.
///
/// `held` proves and locks each claim's row, op and state, as they are once locked: the row still under
/// the claim's token, the op `executing`, and not coalescing (whose completion folds its queued siblings,
/// which [`Store::settle`] does). Those rows are deleted, their states moved, and each op's two events
/// recorded and linked to the op and its targets, as [`Steps::record_events`] links them. The answer is
/// the indices of the claims completed. Ops and states are found by uuid, their type compared as
/// `(type || '')`, for the reason the claim's `PG_CLAIM` gives.
const PG_COMPLETE: &str = "WITH held AS (\
    SELECT c.n, w.id, w.operation_uuid, c.op_type, c.state_event, c.usage_event, c.usage_extra \
    FROM unnest($1::bigint[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[]) \
    AS c (id, token, op_type, n, state_event, usage_event, usage_extra) \
    JOIN work_queue w ON w.id = c.id \
    JOIN cluster_operations o ON o.uuid = w.operation_uuid \
    JOIN object_states s ON s.object_uuid = o.uuid AND (s.object_type || '') = o.operation_type \
    WHERE w.lease_token = c.token AND (o.operation_type || '') = c.op_type AND s.state_value = 'executing' \
    AND o.coalesce_key IS NULL \
    FOR UPDATE OF w, o, s), \
gone AS (DELETE FROM work_queue w USING held h WHERE w.id = h.id), \
moved AS (\
    UPDATE object_states s SET state_value = 'complete', update_time = $8, message = NULL \
    FROM held h WHERE s.object_uuid = h.operation_uuid AND (s.object_type || '') = h.op_type), \
events AS (\
    INSERT INTO events (event_uuid, event_type, timestamp, fqdn, duration, message, extra, request_id) \
    SELECT e.event_uuid, e.event_type, $8, $9, NULL, e.message, e.extra, NULL FROM held h \
    CROSS JOIN LATERAL (VALUES (h.state_event, 'mutate', 'set attribute', $10::text), \
    (h.usage_event, 'usage', 'execution duration', h.usage_extra)) AS e (event_uuid, event_type, message, extra)), \
links AS (\
    INSERT INTO event_objects (object_type, object_uuid, event_uuid) \
    SELECT l.object_type, l.object_uuid, e.event_uuid FROM held h \
    CROSS JOIN LATERAL (VALUES (h.state_event), (h.usage_event)) AS e (event_uuid) \
    CROSS JOIN LATERAL (SELECT h.op_type AS object_type, h.operation_uuid AS object_uuid \
    UNION ALL SELECT t.target_object_type, t.target_uuid FROM cluster_operation_targets t \
    WHERE t.operation_uuid = h.operation_uuid AND t.operation_type = h.op_type) AS l) \
SELECT n FROM held";

impl Store {
    /// Completes claimed ops whose handlers succeeded and left nothing else to record (no follow-up ops,
    /// no events of their own) — what a worker's handlers hand in together — in one transaction whose
    /// statements do not grow in number with the ops: the rows proved and locked, the queue rows
    /// deleted, the states moved, the events recorded. A claim the batch cannot complete plainly (its
    /// lease lost, its op moved on by someone else, or an op that coalesces, whose completion folds its
    /// queued siblings) is settled alone afterwards by [`Store::settle`]. One answer per claim, in order;
    /// when the batch's transaction fails, every claim's answer is that error.
    pub(crate) async fn complete_batch(
        &self,
        claims: &[&Claim],
    ) -> Vec<Result<Settled, StoreError>> {
        if claims.is_empty() {
            return Vec::new();
        }
        let outcome = match &self.pool {
            Pool::Postgres(pool) => {
                with_retry(&self.retries, Dialect::Postgres, || {
                    self.complete_in_one_statement(pool, claims)
                })
                .await
            }
            _ => self.complete_step_by_step(claims).await,
        };
        let plain = match retried(outcome, || {
            format!(
                "recording the completion of {} cluster operations",
                claims.len()
            )
        }) {
            Ok(plain) => plain,
            Err(error) => {
                let error = std::sync::Arc::new(error);
                return claims
                    .iter()
                    .map(|_| Err(StoreError::Batch(std::sync::Arc::clone(&error))))
                    .collect();
            }
        };
        let mut completed = vec![false; claims.len()];
        for i in plain {
            if let Some(slot) = completed.get_mut(i) {
                *slot = true;
            }
        }
        let mut answers = Vec::with_capacity(claims.len());
        for (claim, completed) in claims.iter().zip(completed) {
            if completed {
                answers.push(Ok(Settled::Done { coalesced: 0 }));
            } else {
                answers.push(
                    self.settle(claim, Settlement::Complete { follow_ups: &[] }, &[])
                        .await,
                );
            }
        }
        answers
    }

    /// The batch on PostgreSQL: [`PG_COMPLETE`], a transaction of its own.
    async fn complete_in_one_statement(
        &self,
        pool: &sqlx::PgPool,
        claims: &[&Claim],
    ) -> Result<Result<Vec<usize>, StoreError>, sqlx::Error> {
        let at = now();
        let ids: Vec<i64> = claims.iter().map(|claim| claim.lease.row_id).collect();
        let tokens: Vec<&str> = claims
            .iter()
            .map(|claim| claim.lease.token.as_str())
            .collect();
        let op_types: Vec<&str> = claims.iter().map(|claim| claim.op_type.as_str()).collect();
        let indices: Vec<i32> = (0..claims.len())
            .map(|i| i32::try_from(i).unwrap_or(i32::MAX))
            .collect();
        // Time-ordered (v7), as every event id: each op's state event, then its usage event.
        let (state_events, usage_events): (Vec<String>, Vec<String>) = claims
            .iter()
            .map(|_| {
                (
                    uuid::Uuid::now_v7().hyphenated().to_string(),
                    uuid::Uuid::now_v7().hyphenated().to_string(),
                )
            })
            .unzip();
        let usage_extras: Vec<String> = claims
            .iter()
            .map(|claim| usage_event(claim, at).extra.to_string())
            .collect();
        let completed: Vec<i32> = sqlx::query_scalar(PG_COMPLETE)
            .bind(ids)
            .bind(tokens)
            .bind(op_types)
            .bind(indices)
            .bind(state_events)
            .bind(usage_events)
            .bind(usage_extras)
            .bind(at)
            .bind(self.host_name())
            .bind(state_event_extra(OpState::Complete, None, at).to_string())
            .fetch_all(pool)
            .await?;
        Ok(Ok(completed
            .into_iter()
            .filter_map(|i| usize::try_from(i).ok())
            .collect()))
    }

    /// The batch on SQLite and MariaDB: a statement per step. The indices of the claims completed.
    async fn complete_step_by_step(
        &self,
        claims: &[&Claim],
    ) -> Result<Result<Vec<usize>, StoreError>, RetryFailure> {
        let uuids: Vec<String> = claims.iter().map(|claim| claim.op.to_string()).collect();
        let uuids = uuids.as_slice();
        with_backend!(match self {
            (pool, dialect) => {
                with_retry(&self.retries, dialect, || async move {
                    let at = now();
                    let _turn = self.write_turn().await;
                    let mut tx = pool.begin_with(dialect.begin_write()).await?;
                    // InnoDB locks every row a locking read examines: a plan that scanned the queue for a long
                    // list of ids would lock its unclaimed rows too, and a claim beside it would skip them
                    // all. On MariaDB the rows are read by primary key, the queue first.
                    let join = match dialect {
                        Dialect::MariaDb => "STRAIGHT_JOIN",
                        Dialect::Sqlite | Dialect::Postgres => "JOIN",
                    };
                    let mut select = sqlx::QueryBuilder::new(format!(
                        "SELECT w.id, w.lease_token, s.object_type, s.state_value, o.coalesce_key FROM work_queue w {hint} \
                         {join} cluster_operations o ON o.uuid = w.operation_uuid \
                         {join} object_states s ON s.object_type = o.operation_type AND s.object_uuid = o.uuid \
                         WHERE w.id IN (",
                        hint = by_id(dialect),
                    ));
                    push_list(&mut select, claims.iter().map(|claim| claim.lease.row_id));
                    select.push(")");
                    if dialect != Dialect::Sqlite {
                        select.push(" FOR UPDATE");
                    }
                    type Held = (i64, Option<String>, String, Option<String>, Option<String>);
                    let held: Vec<Held> = select.build_query_as().fetch_all(&mut *tx).await?;
                    let plain: Vec<usize> = (0..claims.len())
                        .filter(|&i| {
                            let claim = claims[i];
                            held.iter().any(|(id, token, op_type, state, coalesce_key)| {
                                *id == claim.lease.row_id
                                    && token.as_deref() == Some(claim.lease.token.as_str())
                                    && *op_type == claim.op_type
                                    && state.as_deref() == Some(OpState::Executing.as_str())
                                    && coalesce_key.is_none()
                            })
                        })
                        .collect();
                    if plain.is_empty() {
                        return Ok(Ok::<_, StoreError>(plain));
                    }
                    if dialect == Dialect::MariaDb {
                        // Its single-table DELETE takes no index hint, and scans (locking) a small queue for a
                        // long list of ids: one row at a time by primary key instead.
                        for &i in &plain {
                            sqlx::query(sql!(dialect, "DELETE FROM work_queue WHERE id = ?"))
                                .bind(claims[i].lease.row_id)
                                .execute(&mut *tx)
                                .await?;
                        }
                    } else {
                        let mut delete = sqlx::QueryBuilder::new("DELETE FROM work_queue WHERE id IN (");
                        push_list(&mut delete, plain.iter().map(|&i| claims[i].lease.row_id));
                        delete.push(")");
                        delete.build().execute(&mut *tx).await?;
                    }
                    let keys: Vec<OpKey<'_>> = plain
                        .iter()
                        .map(|&i| OpKey { op_type: claims[i].op_type.as_str(), op_uuid: uuids[i].as_str() })
                        .collect();
                    tx.update_states(dialect, &keys, OpState::Complete, None, at).await?;
                    let mut events = Vec::with_capacity(2 * plain.len());
                    for (&i, &key) in plain.iter().zip(&keys) {
                        let claim = claims[i];
                        events.push(state_event(key, OpState::Complete, None, at));
                        events.push((key, usage_event(claim, at)));
                    }
                    tx.record_events(dialect, self.host_name(), events).await?;
                    tx.commit().await?;
                    Ok(Ok(plain))
                })
                .await
            }
        })
    }
}
