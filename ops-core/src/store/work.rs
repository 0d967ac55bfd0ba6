//! The worker's side of the store after the claim (`claim.rs`): renewing leases, settling an op (complete,
//! error, abort, or back to `queued`), completing ops in batches, and rescuing work whose lease expired.
//!
//! Every claim writes a fresh lease token into its rows; every later write about the claim names the row
//! **and** the token, so a worker whose lease expired and was rescued can no longer record anything for
//! that op.
//!
//! Times are the store's clock (`now()`, unix seconds on the machine that writes): workers on several
//! machines need their clocks in step (NTP) to well under a lease period.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::NewOp;
use super::dialect::sql;
use super::enqueue::{InsertOp, OpRow};
use super::retry::{retried, with_retry};
use super::state::parse_state;
use super::steps::{LockedOp, OpEvent, OpKey, RowLock, Steps, WORK_CHANNEL};
use super::{Dialect, Store, now, with_backend};
use crate::{OpId, OpState, StoreError};

/// How the status event of a rescue begins: what the dashboard counts as rescues.
pub(super) const RESCUED: &str = "rescued: ";

/// How the status event of a deferral begins: a claim that ended so was no attempt.
pub(crate) const DEFERRED: &str = "Execution deferred for ";

/// What a worker asks for when it claims.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ClaimRequest<'a> {
    /// The queue names it serves.
    pub(crate) queues: &'a [String],
    /// The op types it has handlers for; rows of any other type are left for other workers.
    pub(crate) op_types: &'a [&'static str],
    /// At most this many rows.
    pub(crate) limit: usize,
    /// The worker's id, written to `claimed_by`.
    pub(crate) worker: &'a str,
    /// How long the claim holds without a renewal.
    pub(crate) lease: Duration,
}

/// A claimed work-queue row: the proof of ownership every later write about the claim shows.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Lease {
    /// `work_queue.id`.
    pub(crate) row_id: i64,
    /// The claim's `lease_token`.
    pub(crate) token: String,
}

/// One op a worker claimed, ready to run.
#[derive(Clone, Debug)]
pub(crate) struct Claim {
    pub(crate) lease: Lease,
    pub(crate) op: OpId,
    pub(crate) op_type: String,
    pub(crate) queue_name: String,
    /// The op's stored JSON (header and body).
    pub(crate) metadata_json: String,
    /// 1 for the first run; a retry or a rescue counts, a defer does not.
    pub(crate) attempt: u32,
    /// How often the op has waited for a dependency.
    pub(crate) defer_count: u32,
    /// When the op was enqueued.
    pub(crate) enqueued_at: f64,
    /// When this claim was made.
    pub(crate) claimed_at: f64,
    /// This process's clock when the lease's expiry was computed: the lease holds for its length from
    /// then, however long the claim had waited for a connection or a lock before.
    pub(crate) leased_at: Instant,
}

/// What one claim took.
#[derive(Debug, Default)]
pub(crate) struct ClaimBatch {
    /// The ops claimed, ready to run.
    pub(crate) claims: Vec<Claim>,
    /// The claim found as many ready rows as it could take (some may have been skipped, their ops
    /// finished): more may be waiting.
    pub(crate) full: bool,
}

/// What a lease renewal found, by row id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Renewal {
    /// Renewed: still held under the token given.
    pub(crate) held: Vec<i64>,
    /// Gone or held under another token: rescued from this worker.
    pub(crate) lost: Vec<i64>,
}

/// How a claimed op ends, or goes back to the queue.
#[derive(Debug)]
pub(crate) enum Settlement<'a> {
    /// `executing → complete`, writing the handler's follow-up ops in the same transaction.
    Complete { follow_ups: &'a [NewOp] },
    /// `executing → error`, the report written first.
    Error { report: &'a Value, message: &'a str },
    /// `executing → abort`.
    Abort { message: &'a str },
    /// `executing → queued`, runnable again after `delay`.
    Requeue { delay: Duration, reason: Requeue },
}

/// Why an op goes back to `queued`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Requeue {
    /// A dependency is not finished: not an attempt, counted in `defer_count`.
    Defer,
    /// A transient failure: the attempt counts.
    Retry,
    /// The worker is shutting down before it ran the op: not an attempt.
    Release,
}

/// What became of a settlement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Settled {
    /// Recorded; with a completion, how many queued siblings with the op's coalescing key were completed
    /// with it.
    Done { coalesced: u64 },
    /// The claim's lease was lost (expired and rescued); nothing was written.
    LeaseLost,
    /// The op was moved out of `executing` by someone else (to `deleted`, say); its work-queue row was
    /// removed and its state left as that other writer set it. `None` when the op is gone.
    Superseded(Option<OpState>),
}

/// An op whose lease expired, put back by [`Store::rescue_expired`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rescued {
    pub(crate) op: OpId,
    /// The worker that held the expired lease.
    pub(crate) worker: Option<String>,
    /// The attempts it had used.
    pub(crate) attempts: u32,
    /// `false` when it had no attempts left and went to `error` instead.
    pub(crate) requeued: bool,
}

/// The index hint for a statement on the work queue that finds its rows by a list of ids. InnoDB locks
/// every row a locking statement examines, and for a list of ids that covers much of a small queue MariaDB
/// chose to scan it (EXPLAIN: `ALL` for 256 ids of 300): a claim, a completion or a renewal then locked
/// the queue's unclaimed rows too, and claims beside it skipped them all. The primary key is forced there.
pub(super) fn by_id(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::MariaDb => "FORCE INDEX (PRIMARY)",
        Dialect::Sqlite | Dialect::Postgres => "",
    }
}

/// Frees a claimed work-queue row, runnable from the bound time: binds `scheduled_at`, then the row id.
const FREE_ROW: &str = "UPDATE work_queue SET claimed_at = NULL, claimed_by = NULL, lease_token = NULL, \
                        lease_expires_at = NULL, scheduled_at = ? WHERE id = ?";

/// A claimed work-queue row's op and state, found only while the claim's lease is held: binds the row id
/// and the lease token; gives a `LockedOp`.
macro_rules! claimed_op {
    () => {
        "SELECT s.object_type AS op_type, s.state_value AS state FROM work_queue w \
         JOIN cluster_operations o ON o.uuid = w.operation_uuid \
         JOIN object_states s ON s.object_type = o.operation_type AND s.object_uuid = o.uuid \
         WHERE w.id = ? AND w.lease_token = ?"
    };
}

/// A work-queue row whose lease expired.
#[derive(sqlx::FromRow)]
struct ExpiredRow {
    id: i64,
    operation_uuid: Option<String>,
    operation_type: Option<String>,
    claimed_by: Option<String>,
    attempts: i64,
}

/// The `usage` "execution duration" event of a claimed op that ends at `at`.
pub(super) fn usage_event(claim: &Claim, at: f64) -> OpEvent<'static> {
    let extra = json!({
        "seconds": at - claim.claimed_at,
        "wait_seconds": claim.claimed_at - claim.enqueued_at,
        "defer_count": claim.defer_count,
        "attempt": claim.attempt,
        "queue_name": claim.queue_name,
    });
    OpEvent {
        event_type: "usage",
        message: "execution duration",
        extra,
        timestamp: at,
    }
}

impl Store {
    /// Extends each of these leases, `(row id, lease token)`, by `lease` from now, and says which are still
    /// held and which were lost (rescued from this worker: their ops must stop). Rows are found by primary
    /// key. On the servers a row another transaction has locked (this worker's own settle, a rescue in
    /// progress) is skipped rather than waited for, and is in neither answer: one busy row cannot hold up
    /// the renewal of the rest.
    pub(crate) async fn renew_leases(
        &self,
        leases: &[(i64, &str)],
        lease: Duration,
    ) -> Result<Renewal, StoreError> {
        if leases.is_empty() {
            return Ok(Renewal::default());
        }
        let mut tokens: Vec<&str> = leases.iter().map(|(_, token)| *token).collect();
        tokens.sort_unstable();
        tokens.dedup();
        let tokens = tokens.as_slice();
        let rows = || leases.iter().map(|(row, _)| *row);
        let expires = now() + lease.as_secs_f64();
        let (renewable, found) = with_backend!(match self {
            (pool, dialect) => {
                async {
                    let _turn = self.write_turn().await;
                    let mut tx = pool.begin_with(dialect.begin_write()).await?;
                    // A row matches a token of another of our rows only when it was claimed again in that
                    // batch, so by us: renewing it is right, and the answer is checked pair by pair below.
                    let mut select = sqlx::QueryBuilder::new(format!(
                        "SELECT id FROM work_queue {hint} WHERE id IN (",
                        hint = by_id(dialect)
                    ));
                    push_list(&mut select, rows());
                    select.push(") AND lease_token IN (");
                    push_list(&mut select, tokens.iter().copied());
                    select.push(")");
                    if dialect != Dialect::Sqlite {
                        select.push(" FOR UPDATE SKIP LOCKED");
                    }
                    let renewable: Vec<i64> =
                        select.build_query_scalar().fetch_all(&mut *tx).await?;
                    if !renewable.is_empty() {
                        let mut update = sqlx::QueryBuilder::new(format!(
                            "UPDATE work_queue {hint} SET lease_expires_at = ",
                            hint = by_id(dialect)
                        ));
                        update.push_bind(expires).push(" WHERE id IN (");
                        push_list(&mut update, renewable.iter().copied());
                        update.push(")");
                        update.build().execute(&mut *tx).await?;
                    }
                    let mut select = sqlx::QueryBuilder::new(
                        "SELECT id, lease_token FROM work_queue WHERE id IN (",
                    );
                    push_list(&mut select, rows());
                    select.push(")");
                    let found: Vec<(i64, Option<String>)> =
                        select.build_query_as().fetch_all(&mut *tx).await?;
                    tx.commit().await?;
                    Ok::<_, sqlx::Error>((renewable, found))
                }
                .await
            }
        })
        .map_err(StoreError::query(|| "renewing work leases"))?;
        let mut renewal = Renewal::default();
        for &(row, token) in leases {
            let ours = found
                .iter()
                .any(|(id, found)| *id == row && found.as_deref() == Some(token));
            if !ours {
                renewal.lost.push(row);
            } else if renewable.contains(&row) {
                renewal.held.push(row);
            }
        }
        Ok(renewal)
    }

    /// Records how a claimed op ends (or puts it back in the queue), with the events that tell its story,
    /// in one transaction; only while `claim`'s lease is still held.
    ///
    /// `events` are recorded with the state change, before it (a dependency audit, "Execution deferred
    /// for N seconds"): `(event_type, message)` each.
    pub(crate) async fn settle(
        &self,
        claim: &Claim,
        settlement: Settlement<'_>,
        events: &[(&'static str, &str)],
    ) -> Result<Settled, StoreError> {
        let op_uuid = claim.op.to_string();
        let follow_ups = match &settlement {
            Settlement::Complete { follow_ups } => follow_ups
                .iter()
                .map(|op| OpRow::new(op, now()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|source| StoreError::FollowUpRefused {
                    op: claim.op,
                    source: Box::new(source),
                })?,
            _ => Vec::new(),
        };
        let (op_uuid, settlement, follow_ups) =
            (op_uuid.as_str(), &settlement, follow_ups.as_slice());
        let outcome = with_backend!(match self {
            (pool, dialect) => {
                with_retry(&self.retries, dialect, || async move {
                    let at = now();
                    let _turn = self.write_turn().await;
                    let mut tx = pool.begin_with(dialect.begin_write()).await?;
                    // One round trip proves the lease and locks the row, the op and its state together.
                    let select = match dialect {
                        Dialect::Sqlite => sql!(dialect, concat!(claimed_op!(), "")),
                        Dialect::MariaDb | Dialect::Postgres => sql!(dialect, concat!(claimed_op!(), " FOR UPDATE")),
                    };
                    let locked: Option<LockedOp> = sqlx::query_as(select)
                        .bind(claim.lease.row_id)
                        .bind(claim.lease.token.as_str())
                        .fetch_optional(&mut *tx)
                        .await?;
                    let Some(locked) = locked else {
                        // The lease was lost, or the op is gone: nothing is left to run.
                        let gone = sqlx::query(sql!(dialect, "DELETE FROM work_queue WHERE id = ? AND lease_token = ?"))
                            .bind(claim.lease.row_id)
                            .bind(claim.lease.token.as_str())
                            .execute(&mut *tx)
                            .await?;
                        if gone.rows_affected() == 0 {
                            return Ok(Ok(Settled::LeaseLost));
                        }
                        tx.commit().await?;
                        return Ok(Ok(Settled::Superseded(None)));
                    };
                    let key = OpKey { op_type: &locked.op_type, op_uuid };
                    let current = locked.state.as_deref().map(parse_state).and_then(Result::ok);
                    if current != Some(OpState::Executing) {
                        // Someone else moved the op while it ran: theirs is the last word. Put back in the
                        // queue, it keeps its row, freed, and runs again; otherwise its row goes.
                        if current == Some(OpState::Queued) {
                            sqlx::query(sql!(dialect, FREE_ROW)).bind(at).bind(claim.lease.row_id).execute(&mut *tx).await?;
                        } else {
                            sqlx::query(sql!(dialect, "DELETE FROM work_queue WHERE id = ?"))
                                .bind(claim.lease.row_id)
                                .execute(&mut *tx)
                                .await?;
                        }
                        let state = locked.state.as_deref().unwrap_or("NULL");
                        let message = format!("outcome not recorded: the op is already {state}");
                        let event = OpEvent { event_type: "audit", message: &message, extra: json!({"state": state}), timestamp: at };
                        tx.record_event(dialect, self.host_name(), key, event).await?;
                        tx.commit().await?;
                        return Ok(Ok(Settled::Superseded(current)));
                    }
                    match settlement {
                        Settlement::Requeue { delay, reason } => {
                            let (defers, not_an_attempt) = match reason {
                                Requeue::Defer => (1_i64, 1_i64),
                                Requeue::Retry => (0, 0),
                                Requeue::Release => (0, 1),
                            };
                            sqlx::query(sql!(
                                dialect,
                                "UPDATE work_queue SET claimed_at = NULL, claimed_by = NULL, lease_token = NULL, \
                                 lease_expires_at = NULL, scheduled_at = ?, defer_count = defer_count + ?, \
                                 attempts = attempts - ? WHERE id = ?"
                            ))
                            .bind(at + delay.as_secs_f64())
                            .bind(defers)
                            .bind(not_an_attempt)
                            .bind(claim.lease.row_id)
                            .execute(&mut *tx)
                            .await?;
                        }
                        _ => {
                            sqlx::query(sql!(dialect, "DELETE FROM work_queue WHERE id = ?"))
                                .bind(claim.lease.row_id)
                                .execute(&mut *tx)
                                .await?;
                        }
                    }
                    let (to, message) = match settlement {
                        Settlement::Complete { .. } => (OpState::Complete, None),
                        Settlement::Error { report, message } => {
                            tx.write_error_report(dialect, op_uuid, report, at).await?;
                            (OpState::Error, Some(*message))
                        }
                        Settlement::Abort { message } => (OpState::Abort, Some(*message)),
                        Settlement::Requeue { .. } => (OpState::Queued, None),
                    };
                    if let Err(source) = OpState::Executing.check_transition(to) {
                        return Ok(Err(StoreError::IllegalTransition { op: claim.op, source }));
                    }
                    for &(event_type, message) in events {
                        let extra = json!({"queue_name": claim.queue_name, "attempt": claim.attempt, "defer_count": claim.defer_count});
                        let event = OpEvent { event_type, message, extra, timestamp: at };
                        tx.record_event(dialect, self.host_name(), key, event).await?;
                    }
                    tx.write_state(dialect, self.host_name(), key, to, message, at).await?;
                    for row in follow_ups {
                        if let Err(refused) = tx.insert_op(dialect, self.host_name(), row).await? {
                            return Ok(Err(StoreError::FollowUpRefused { op: claim.op, source: Box::new(refused) }));
                        }
                    }
                    if to.is_terminal() {
                        tx.record_event(dialect, self.host_name(), key, usage_event(claim, at)).await?;
                    }
                    let coalesced = if to == OpState::Complete {
                        let at_claim = claim.claimed_at;
                        let stored: Option<Option<String>> =
                            sqlx::query_scalar(sql!(dialect, "SELECT coalesce_key FROM cluster_operations WHERE uuid = ?"))
                                .bind(op_uuid)
                                .fetch_optional(&mut *tx)
                                .await?;
                        match stored.flatten() {
                            // Siblings queued before this op was claimed: its run did their work too.
                            Some(coalesce_key) => {
                                let mut siblings = Vec::new();
                                for (sibling, created_at) in
                                    tx.queued_with_key(dialect, &locked.op_type, &coalesce_key).await?
                                {
                                    if sibling == op_uuid || created_at > at_claim {
                                        continue;
                                    }
                                    if let Some((row, _)) =
                                        tx.lock_unclaimed_row(dialect, &sibling, RowLock::SkipLocked).await?
                                    {
                                        siblings.push((sibling, row));
                                    }
                                }
                                let message = format!("coalesced into {op_uuid}");
                                for (sibling, row) in &siblings {
                                    sqlx::query(sql!(dialect, "DELETE FROM work_queue WHERE id = ?"))
                                        .bind(*row)
                                        .execute(&mut *tx)
                                        .await?;
                                    // Through executing, as every op: queued → complete is no legal move.
                                    let sibling_key = OpKey { op_type: &locked.op_type, op_uuid: sibling };
                                    for state in [OpState::Executing, OpState::Complete] {
                                        tx.write_state(dialect, self.host_name(), sibling_key, state, Some(&message), at)
                                            .await?;
                                    }
                                }
                                if !siblings.is_empty() {
                                    let folded: Vec<&str> = siblings.iter().map(|(uuid, _)| uuid.as_str()).collect();
                                    let extra = json!({"coalesce_key": coalesce_key, "siblings": folded});
                                    let event = OpEvent { event_type: "status", message: "coalesced sibling ops", extra, timestamp: at };
                                    tx.record_event(dialect, self.host_name(), key, event).await?;
                                }
                                siblings.len() as u64
                            }
                            None => 0,
                        }
                    } else {
                        0
                    };
                    tx.commit().await?;
                    Ok(Ok(Settled::Done { coalesced }))
                })
                .await
            }
        });
        let settled = retried(outcome, || {
            format!("recording the outcome of cluster operation {}", claim.op)
        })?;
        // Work this made claimable — the op back in its queue, follow-up ops — wakes the workers once
        // committed (see `wake`).
        let requeued_now = match (&settled, settlement) {
            (Settled::Superseded(Some(OpState::Queued)), _) => true,
            (Settled::Done { .. }, Settlement::Requeue { delay, .. }) => delay.is_zero(),
            _ => false,
        };
        let committed_follow_ups = match settled {
            Settled::Done { .. } => follow_ups,
            _ => &[],
        };
        self.wake_workers(
            requeued_now
                .then_some(claim.queue_name.as_str())
                .into_iter()
                .chain(committed_follow_ups.iter().map(OpRow::queue_name)),
        )
        .await;
        Ok(settled)
    }

    /// Puts back up to `limit` ops whose lease expired (their worker died, hung or lost its connection):
    /// `executing → queued`, runnable at once, or `→ error` when `max_attempts` are used up — so an op that
    /// kills every worker that runs it stops being retried.
    pub(crate) async fn rescue_expired(
        &self,
        max_attempts: u32,
        limit: usize,
    ) -> Result<Vec<Rescued>, StoreError> {
        let at = now();
        // A cheap read first, so that idle workers do not take SQLite's write lock on every poll. Ordered,
        // so that the lease index answers it from its first entry: without statistics PostgreSQL priced
        // `lease_expires_at < now` at a third of the queue and scanned all of it, finding nothing.
        let any = with_backend!(match self {
            (pool, dialect) => {
                sqlx::query(sql!(
                    dialect,
                    "SELECT 1 FROM work_queue WHERE lease_expires_at < ? ORDER BY lease_expires_at LIMIT 1"
                ))
                .bind(at)
                .fetch_optional(pool)
                .await
                .map(|row| row.is_some())
            }
        })
        .map_err(StoreError::query(|| "looking for expired work leases"))?;
        if !any {
            return Ok(Vec::new());
        }
        let limit = limit.min(super::claim::MAX_CLAIM_BATCH) as i64;
        let outcome = with_backend!(match self {
            (pool, dialect) => {
                with_retry(&self.retries, dialect, || async move {
                    let _turn = self.write_turn().await;
                    let mut tx = pool.begin_with(dialect.begin_write()).await?;
                    let select = match dialect {
                        Dialect::Sqlite => sql!(
                            dialect,
                            "SELECT id, operation_uuid, operation_type, claimed_by, attempts FROM work_queue \
                             WHERE lease_expires_at < ? ORDER BY lease_expires_at LIMIT ?"
                        ),
                        Dialect::MariaDb | Dialect::Postgres => sql!(
                            dialect,
                            "SELECT id, operation_uuid, operation_type, claimed_by, attempts FROM work_queue \
                             WHERE lease_expires_at < ? ORDER BY lease_expires_at LIMIT ? FOR UPDATE SKIP LOCKED"
                        ),
                    };
                    let rows: Vec<ExpiredRow> =
                        sqlx::query_as(select).bind(at).bind(limit).fetch_all(&mut *tx).await?;
                    let mut rescued = Vec::with_capacity(rows.len());
                    for row in rows {
                        let attempts = u32::try_from(row.attempts).unwrap_or(u32::MAX);
                        let op = row.operation_uuid.as_deref().map(str::parse::<OpId>);
                        let locked = match (&row.operation_uuid, &op) {
                            (Some(uuid), Some(Ok(_))) => tx.lock_op(dialect, uuid).await?,
                            _ => None,
                        };
                        let state = locked.as_ref().and_then(|locked| {
                            let same_type = Some(&locked.op_type) == row.operation_type.as_ref();
                            locked.state.as_deref().filter(|_| same_type).map(parse_state).and_then(Result::ok)
                        });
                        let in_flight = matches!(state, Some(OpState::Executing | OpState::Queued));
                        let (Some(Ok(op)), Some(locked), true) = (op, &locked, in_flight) else {
                            // The op is gone or was moved on by someone else: nothing is left to run.
                            sqlx::query(sql!(dialect, "DELETE FROM work_queue WHERE id = ?"))
                                .bind(row.id)
                                .execute(&mut *tx)
                                .await?;
                            continue;
                        };
                        let op_uuid = op.to_string();
                        let key = OpKey { op_type: &locked.op_type, op_uuid: &op_uuid };
                        let worker = row.claimed_by.as_deref().unwrap_or("unknown");
                        // An op put back in the queue meanwhile (an operator's requeue) runs again, whatever
                        // its attempts: someone asked for it.
                        let requeued = attempts < max_attempts || state == Some(OpState::Queued);
                        if requeued {
                            sqlx::query(sql!(dialect, FREE_ROW)).bind(at).bind(row.id).execute(&mut *tx).await?;
                            let message = format!("{RESCUED}the lease of worker {worker} expired");
                            let extra = json!({"worker": worker, "attempts": attempts});
                            let event = OpEvent { event_type: "status", message: &message, extra, timestamp: at };
                            tx.record_event(dialect, self.host_name(), key, event).await?;
                            if state == Some(OpState::Executing) {
                                tx.write_state(dialect, self.host_name(), key, OpState::Queued, Some(&message), at).await?;
                            }
                        } else {
                            sqlx::query(sql!(dialect, "DELETE FROM work_queue WHERE id = ?"))
                                .bind(row.id)
                                .execute(&mut *tx)
                                .await?;
                            let message = format!("lost its worker on each of {attempts} attempts; giving up");
                            let report = json!({
                                "kind": "lease_expired",
                                "message": message,
                                "attempts": attempts,
                                "worker": worker,
                            });
                            tx.write_error_report(dialect, &op_uuid, &report, at).await?;
                            tx.write_state(dialect, self.host_name(), key, OpState::Error, Some(&message), at).await?;
                        }
                        rescued.push(Rescued { op, worker: row.claimed_by, attempts, requeued });
                    }
                    tx.commit().await?;
                    Ok(Ok::<_, StoreError>(rescued))
                })
                .await
            }
        });
        retried(outcome, || "rescuing expired work".to_owned())
    }

    /// On PostgreSQL, a listener that hears of new work on any queue (payload: the queue name), on a
    /// connection of its own outside the store's pool; `None` on the other backends, whose workers poll.
    ///
    /// A listener holds its connection for as long as it lives. Taken from the pool, each worker's
    /// listener was one connection fewer for the work itself: eight workers on a store of eight
    /// connections left none, and their claims timed out waiting for one.
    pub(crate) async fn work_listener(
        &self,
    ) -> Result<Option<sqlx::postgres::PgListener>, StoreError> {
        let super::Pool::Postgres(pool) = &self.pool else {
            return Ok(None);
        };
        // The store's own connect options, so the listener reaches the same server the same way; a pool
        // of one that never retires its connection, through which the listener reconnects if it drops.
        let own = super::pool_of_one(pool).connect_lazy_with((*pool.connect_options()).clone());
        let listen = async {
            let mut listener = sqlx::postgres::PgListener::connect_with(&own).await?;
            listener.listen(WORK_CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        listen
            .await
            .map(Some)
            .map_err(StoreError::query(|| "listening for new work"))
    }

    /// How many work-queue rows of these queues and op types remain, claimed or not, ready or scheduled
    /// later: zero means a drain is done.
    pub(crate) async fn queued_work(
        &self,
        queues: &[String],
        op_types: &[&'static str],
    ) -> Result<u64, StoreError> {
        if op_types.is_empty() {
            return Ok(0);
        }
        self.count_work(queues, Some(op_types)).await
    }

    /// How many ops wait in or run from these queues (work-queue rows, claimed or not): the depth the
    /// network maintainer's guard reads.
    pub async fn queue_depth(&self, queues: &[String]) -> Result<u64, StoreError> {
        self.count_work(queues, None).await
    }

    /// Work-queue rows of these queues, of these op types when given.
    async fn count_work(
        &self,
        queues: &[String],
        op_types: Option<&[&'static str]>,
    ) -> Result<u64, StoreError> {
        if queues.is_empty() {
            return Ok(0);
        }
        let count: i64 = with_backend!(match self {
            (pool, _dialect) => {
                let mut select = sqlx::QueryBuilder::new(
                    "SELECT COUNT(*) FROM work_queue WHERE queue_name IN (",
                );
                push_list(&mut select, queues.iter().map(String::as_str));
                select.push(")");
                if let Some(op_types) = op_types {
                    select.push(" AND operation_type IN (");
                    push_list(&mut select, op_types.iter().copied());
                    select.push(")");
                }
                select.build_query_scalar().fetch_one(pool).await
            }
        })
        .map_err(StoreError::query(|| "counting queued work".to_owned()))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// The states of these ops, by `(op_type, op_uuid)`, in the order given; `None` for an op with no state
    /// row (missing, or hard-deleted).
    pub(crate) async fn op_states(
        &self,
        ops: &[(&str, OpId)],
    ) -> Result<Vec<Option<OpState>>, StoreError> {
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<(String, String, Option<String>)> = with_backend!(match self {
            (pool, _dialect) => {
                let mut select = sqlx::QueryBuilder::new(
                    "SELECT object_type, object_uuid, state_value FROM object_states WHERE object_uuid IN (",
                );
                push_list(&mut select, ops.iter().map(|(_, op)| op.to_string()));
                select.push(")");
                select.build_query_as().fetch_all(pool).await
            }
        })
        .map_err(StoreError::query(|| "reading the states of dependencies"))?;
        ops.iter()
            .map(|(op_type, op)| {
                let uuid = op.to_string();
                rows.iter()
                    .find(|(t, u, _)| t == op_type && *u == uuid)
                    .and_then(|(_, _, state)| state.as_deref())
                    .map(parse_state)
                    .transpose()
            })
            .collect()
    }
}

/// Pushes `items` as bound parameters separated by commas: the inside of an `IN (...)`.
pub(super) fn push_list<'t, DB, T>(
    builder: &mut sqlx::QueryBuilder<DB>,
    items: impl IntoIterator<Item = T>,
) where
    DB: sqlx::Database,
    T: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    let mut list = builder.separated(", ");
    for item in items {
        list.push_bind(item);
    }
}
