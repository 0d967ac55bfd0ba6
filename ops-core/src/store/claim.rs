//! The claim: ready work-queue rows taken under a fresh lease, their ops moved `queued → executing`.
//!
//! One transaction. The ready rows are selected in priority order, then scheduled time, then id, with
//! `FOR UPDATE SKIP LOCKED` on the servers (so concurrent workers take disjoint rows without waiting) and
//! under SQLite's `BEGIN IMMEDIATE` write lock. Each op moves through the checked transition; a row whose
//! op is gone, or past running, is removed on the way (audit "skipping op already in terminal state X"),
//! as Shaken Fist's dispatcher skips such rows at dequeue.
//!
//! On PostgreSQL the whole claim is one statement ([`PG_CLAIM`]), its own transaction, on the claim loop's
//! own connection ([`Claimer`]): the rows, their ops' moves, the events and their links, and the lease, in
//! a single round trip. Rows it cannot claim are removed by a second transaction. SQLite and MariaDB run
//! the same steps as a statement each, in one transaction.

use std::time::{Duration, Instant};

use serde_json::json;
use uuid::Uuid;

use super::retry::{RetryFailure, retried, with_retry};
use super::state::parse_state;
use super::steps::{OpEvent, OpKey, Steps, state_event, state_event_extra, state_message_column};
use super::work::{Claim, ClaimBatch, ClaimRequest, Lease, by_id, push_list};
use super::{Dialect, Pool, Store, now, with_backend};
use crate::{OpId, OpState, StoreError};

/// The cap on one claim's batch, as Shaken Fist's dequeue caps it.
pub(super) const MAX_CLAIM_BATCH: usize = 256;

/// How a claim's state message names its worker; [`claiming_worker`] reads it back for timelines.
const CLAIMED_BY: &str = "claimed by worker ";

/// The state message of a claim by `worker`.
fn claim_message(worker: &str) -> String {
    format!("{CLAIMED_BY}{worker}")
}

/// The worker a claim's state message names; `None` for any other message.
pub(super) fn claiming_worker(message: &str) -> Option<&str> {
    message
        .strip_prefix(CLAIMED_BY)
        .filter(|worker| !worker.is_empty())
}

/// A ready work-queue row, as the claim selects it.
#[derive(sqlx::FromRow)]
struct ReadyRow {
    id: i64,
    operation_uuid: String,
    operation_type: String,
    queue_name: String,
    attempts: i64,
    defer_count: i64,
}

/// An op named by a ready row, with its stored JSON and state.
#[derive(sqlx::FromRow)]
struct ClaimedOp {
    op_uuid: String,
    op_type: String,
    metadata_json: String,
    created_at: f64,
    state: Option<String>,
}

/// A ready row as [`PG_CLAIM`] gives it back: the row, its op when there is one, and its lease's expiry
/// when the statement claimed it.
#[derive(sqlx::FromRow)]
struct PgClaimedRow {
    #[sqlx(flatten)]
    row: ReadyRow,
    metadata_json: Option<String>,
    created_at: Option<f64>,
    state: Option<String>,
    lease_expires_at: Option<f64>,
}

/// What a claim does with a ready row, given its op as found.
enum Verdict<'a> {
    /// Runnable: claimed. `moves` unless its state is `executing` already (a rescued op's is).
    Claim {
        op_id: OpId,
        op: &'a ClaimedOp,
        moves: bool,
    },
    /// Its op can no longer run (a terminal state, or none the store knows): the row goes, with an audit
    /// event on the op saying so.
    Finished { op: &'a ClaimedOp, state: String },
    /// It names no op of its type: the row goes.
    Orphan,
}

/// `op` is the row's op (its uuid and type), as found, if it was.
fn judge<'a>(row: &ReadyRow, op: Option<&'a ClaimedOp>) -> Verdict<'a> {
    let (Some(op), Ok(op_id)) = (op, row.operation_uuid.parse::<OpId>()) else {
        return Verdict::Orphan;
    };
    match op.state.as_deref().map(parse_state) {
        Some(Ok(state)) if state.check_transition(OpState::Executing).is_ok() => Verdict::Claim {
            op_id,
            op,
            moves: state != OpState::Executing,
        },
        Some(Ok(state)) => Verdict::Finished {
            op,
            state: state.as_str().to_owned(),
        },
        _ => Verdict::Finished {
            op,
            state: op.state.clone().unwrap_or_else(|| "NULL".to_owned()),
        },
    }
}

/// The states an op can be claimed from, as [`PG_CLAIM`] binds them.
fn claimable_states() -> Vec<&'static str> {
    OpState::ALL
        .into_iter()
        .filter(|state| state.check_transition(OpState::Executing).is_ok())
        .map(OpState::as_str)
        .collect()
}

/// The claim of `row`, whose op is `op`, made at `claimed_at` under `token`.
fn claim_of(
    row: ReadyRow,
    op_id: OpId,
    op: &ClaimedOp,
    token: &str,
    claimed_at: f64,
    leased_at: Instant,
) -> Claim {
    Claim {
        lease: Lease {
            row_id: row.id,
            token: token.to_owned(),
        },
        op: op_id,
        op_type: row.operation_type,
        queue_name: row.queue_name,
        metadata_json: op.metadata_json.clone(),
        attempt: u32::try_from(row.attempts + 1).unwrap_or(u32::MAX),
        defer_count: u32::try_from(row.defer_count).unwrap_or(u32::MAX),
        enqueued_at: op.created_at,
        claimed_at,
        leased_at,
    }
}

/// Records why a ready row that cannot be claimed goes: on its op, when it has one (`finished`: the op and
/// its state), an audit event "skipping op already in terminal state X"; else a warning. The caller
/// removes the row.
async fn record_skip<C: Steps>(
    conn: &mut C,
    dialect: Dialect,
    host: &str,
    row: &ReadyRow,
    finished: Option<(&ClaimedOp, &str)>,
    at: f64,
) -> Result<(), sqlx::Error> {
    let Some((op, state)) = finished else {
        tracing::warn!(row = row.id, op_uuid = %row.operation_uuid, "work-queue row names no op; removed");
        return Ok(());
    };
    let message = format!("skipping op already in terminal state {state}");
    let key = OpKey {
        op_type: &op.op_type,
        op_uuid: &op.op_uuid,
    };
    let event = OpEvent {
        event_type: "audit",
        message: &message,
        extra: json!({"state": state, "queue_name": row.queue_name}),
        timestamp: at,
    };
    conn.record_event(dialect, host, key, event).await
}

/// The claim on PostgreSQL, one statement. Binds: `$1` the claim's time, `$2` the queues, `$3` the op
/// types, `$4` the limit, `$5` the states an op can be claimed from, `$6` the state rows' message, `$7`
/// one event id per row the limit allows, `$8` the host, `$9` the events' extra, `$10` the worker, `$11`
/// the lease token, `$12` the lease's expiry.
///
/// `ready` locks the rows (skipping those another claim holds); `held` locks each row's op and state, as
/// any state move does, and reads them as they are once locked (waiting for a writer that holds them);
/// `claimable` keeps the rows whose op may run, numbered for their event ids. The moves, events, links and
/// leases are written from those; the answer is every ready row, with its lease's expiry where it was
/// claimed, so that the rest are skipped and removed ([`Claimer::remove_skipped`]). The lease runs from the
/// time given, `$12`, plus whatever the statement waited for locks before it wrote the lease: only the
/// server's clock can tell that wait (its difference, not its time, is used: leases are the writer's
/// clock). Each op's event is linked to the op and to each of its targets, as [`Steps::record_events`]
/// links them.
///
/// An op and its state are found by the op's uuid, and their type compared as `(type || '')`, which no
/// index serves: otherwise, on tables the statistics have not seen (a young database, autovacuum behind),
/// PostgreSQL priced an index led by the type (`ix_cluster_ops_coalesce`, `idx_object_states_type_state`)
/// as low as the key and read every op and state row of the type for each claim.
const PG_CLAIM: &str = "WITH ready AS (\
    SELECT id, operation_uuid, operation_type, queue_name, attempts, defer_count, priority, scheduled_at \
    FROM work_queue WHERE claimed_at IS NULL AND scheduled_at <= $1 \
    AND queue_name = ANY($2) AND operation_type = ANY($3) \
    ORDER BY claimed_at, priority, scheduled_at, id LIMIT $4 FOR UPDATE SKIP LOCKED), \
held AS (\
    SELECT r.id, o.metadata_json, o.created_at, s.state_value FROM ready r \
    JOIN cluster_operations o ON o.uuid = r.operation_uuid AND (o.operation_type || '') = r.operation_type \
    JOIN object_states s ON s.object_uuid = o.uuid AND (s.object_type || '') = o.operation_type \
    FOR UPDATE OF o, s), \
claimable AS (\
    SELECT r.id, r.operation_uuid, r.operation_type, h.state_value, \
    row_number() OVER (ORDER BY r.priority, r.scheduled_at, r.id) AS n \
    FROM ready r JOIN held h ON h.id = r.id WHERE h.state_value = ANY($5)), \
moved AS (\
    UPDATE object_states s SET state_value = 'executing', update_time = $1, message = $6 \
    FROM claimable c WHERE c.state_value <> 'executing' \
    AND s.object_uuid = c.operation_uuid AND (s.object_type || '') = c.operation_type), \
events AS (\
    INSERT INTO events (event_uuid, event_type, timestamp, fqdn, duration, message, extra, request_id) \
    SELECT ($7::text[])[c.n], 'mutate', $1, $8, NULL, 'set attribute', $9, NULL \
    FROM claimable c WHERE c.state_value <> 'executing'), \
links AS (\
    INSERT INTO event_objects (object_type, object_uuid, event_uuid) \
    SELECT c.operation_type, c.operation_uuid, ($7::text[])[c.n] \
    FROM claimable c WHERE c.state_value <> 'executing' \
    UNION ALL \
    SELECT t.target_object_type, t.target_uuid, ($7::text[])[c.n] FROM claimable c \
    JOIN cluster_operation_targets t \
    ON t.operation_uuid = c.operation_uuid AND t.operation_type = c.operation_type \
    WHERE c.state_value <> 'executing'), \
leased AS (\
    UPDATE work_queue w SET claimed_at = $1, claimed_by = $10, lease_token = $11, \
    lease_expires_at = $12 + extract(epoch FROM clock_timestamp() - statement_timestamp())::float8, \
    attempts = w.attempts + 1 FROM claimable c WHERE w.id = c.id RETURNING w.id, w.lease_expires_at) \
SELECT r.id, r.operation_uuid, r.operation_type, r.queue_name, r.attempts, r.defer_count, \
    h.metadata_json, h.created_at, h.state_value AS state, l.lease_expires_at \
FROM ready r LEFT JOIN held h ON h.id = r.id LEFT JOIN leased l ON l.id = r.id \
ORDER BY r.priority, r.scheduled_at, r.id";

/// The claim connection's session on PostgreSQL, set once when it connects.
///
/// Seq and bitmap scans off: the claim index, (claimed_at, priority, scheduled_at, id), serves the ready
/// rows in its own order, and the LIMIT stops it after the first of them. Without statistics on the queue
/// (a young database, autovacuum off or behind), PostgreSQL expected a handful of ready rows and read and
/// sorted them all, by a scan of the table or a bitmap of the index: 14 ms a claim from a backlog of
/// 20,000 (0.45 ms in order), 27 ops a second in the worker bench. That was the claim as a statement per
/// step; [`PG_CLAIM`] measured no scan of the queue without the settings too
/// (`postgres_claims_and_completions_never_scan_the_queue_or_the_ops`), but a plan is the statistics'
/// choice, and on a connection that only claims the settings cost nothing.
///
/// Generic plans: PostgreSQL plans a prepared statement afresh for each of its first five runs on a
/// connection before it weighs a cached generic plan, and planning [`PG_CLAIM`] takes 0.6-1.5 ms, its
/// run 0.1-0.5 ms. A generic plan does not know the LIMIT: PostgreSQL guessed batches of hundreds and
/// joined the ready rows to every state row by hash, reading all 20,000 states of a backlog for each
/// claim (336 ops a second instead of 1,140). A claim takes at most [`MAX_CLAIM_BATCH`] rows, each found
/// by key: hash and merge joins are off too, so each row is looked up by index whatever the guess
/// (`postgres_claims_read_each_op_by_key_with_statistics`).
const CLAIM_SESSION: &str = "SET enable_seqscan = off; SET enable_bitmapscan = off; \
    SET enable_hashjoin = off; SET enable_mergejoin = off; SET plan_cache_mode = force_generic_plan";

/// What a worker's claim loop claims through: on PostgreSQL a connection of its own, outside the store's
/// pool, that it keeps for as long as it claims; on SQLite and MariaDB the store's pool.
///
/// The own connection is what makes a claim one round trip: [`PG_CLAIM`] runs as its own transaction,
/// with no BEGIN and COMMIT around it to carry settings, and no check of a pooled connection before it
/// (see [`CLAIM_SESSION`]). From an enqueue to its op's start that saved three round trips of five. A
/// connection that breaks is dropped (the pool of one closes it) and another opened at the next claim.
pub(crate) struct Claimer {
    store: Store,
    own: Option<OwnConnection>,
}

/// The claim loop's PostgreSQL connection: a pool of one, so that a broken connection is replaced, and the
/// connection held between claims.
struct OwnConnection {
    pool: sqlx::PgPool,
    held: tokio::sync::Mutex<Option<sqlx::pool::PoolConnection<sqlx::Postgres>>>,
}

impl Store {
    /// A claimer for one worker's claim loop.
    pub(crate) fn claimer(&self) -> Claimer {
        let own = match &self.pool {
            Pool::Postgres(pool) => {
                let pool = super::pool_of_one(pool)
                    .after_connect(|connection, _| {
                        Box::pin(async move {
                            sqlx::raw_sql(CLAIM_SESSION).execute(connection).await?;
                            Ok(())
                        })
                    })
                    .connect_lazy_with((*pool.connect_options()).clone());
                Some(OwnConnection {
                    pool,
                    held: tokio::sync::Mutex::new(None),
                })
            }
            _ => None,
        };
        Claimer {
            store: self.clone(),
            own,
        }
    }
}

impl Claimer {
    /// Opens the claim connection and plans the claim on it, by a claim of no rows, so that the first op
    /// to come does not wait for either (a connection over TLS took 90 ms; the plan 1-3 ms on a fresh
    /// connection). Best effort: what fails here is tried again, and reported, by the first claim.
    pub(crate) async fn prepare(&self, request: ClaimRequest<'_>) {
        let Some(own) = &self.own else {
            return;
        };
        let request = ClaimRequest {
            limit: 0,
            ..request
        };
        if let Err(error) = self.claim_on_own_connection(own, &request).await {
            tracing::debug!(%error, "could not prepare the claim connection ahead of need");
        }
    }

    /// Ends the claim connection, as a client should, rather than leaving the server to find it gone.
    pub(crate) async fn close(self) {
        if let Some(own) = self.own {
            drop(own.held.into_inner());
            own.pool.close().await;
        }
    }

    /// Claims up to `request.limit` ready ops: `queued → executing`, under a fresh lease.
    pub(crate) async fn claim(&self, request: ClaimRequest<'_>) -> Result<ClaimBatch, StoreError> {
        if request.queues.is_empty() || request.op_types.is_empty() || request.limit == 0 {
            return Ok(ClaimBatch::default());
        }
        let request = &request;
        let outcome = match &self.own {
            Some(own) => {
                let claimed = with_retry(&self.store.retries, Dialect::Postgres, || async {
                    let claimed = self.claim_on_own_connection(own, request).await?;
                    Ok(Ok::<_, std::convert::Infallible>(claimed))
                })
                .await;
                match claimed {
                    Ok(Ok((batch, skipped))) => {
                        self.remove_skipped(skipped).await;
                        Ok(Ok(batch))
                    }
                    Ok(Err(never)) => match never {},
                    Err(failure) => Err(failure),
                }
            }
            None => self.store.claim_step_by_step(request).await,
        };
        retried(outcome, || "claiming work".to_owned())
    }

    /// [`PG_CLAIM`] on the claim connection, its own transaction: the claims, and the ready rows it could
    /// not claim (their op gone or finished), which [`Claimer::remove_skipped`] removes.
    async fn claim_on_own_connection(
        &self,
        own: &OwnConnection,
        request: &ClaimRequest<'_>,
    ) -> Result<(ClaimBatch, Vec<Skipped>), sqlx::Error> {
        let limit = request.limit.min(MAX_CLAIM_BATCH);
        let claimed_at = now();
        let token = Uuid::new_v4().hyphenated().to_string();
        let claimed_by = claim_message(request.worker);
        // Time-ordered (v7), as every event id: events of one instant list in the order recorded.
        let event_ids: Vec<String> = (0..limit)
            .map(|_| Uuid::now_v7().hyphenated().to_string())
            .collect();
        let mut held = own.held.lock().await;
        let connection = match held.take() {
            Some(connection) => connection,
            None => own.pool.acquire().await?,
        };
        let connection = held.insert(connection);
        // The lease counts from now, not from the start of the claim: waiting for a connection must not
        // eat into it, nor (see the statement) waiting for locks. The process's clock is read first, so
        // that the lease never holds longer here than in the table.
        let sent_at = Instant::now();
        let lease_from = now();
        let lease_secs = request.lease.as_secs_f64();
        let fetched: Result<Vec<PgClaimedRow>, sqlx::Error> = sqlx::query_as(PG_CLAIM)
            .bind(claimed_at)
            .bind(request.queues)
            .bind(request.op_types)
            .bind(limit as i64)
            .bind(claimable_states())
            .bind(state_message_column(&claimed_by))
            .bind(&event_ids)
            .bind(self.store.host_name())
            .bind(state_event_extra(OpState::Executing, Some(&claimed_by), claimed_at).to_string())
            .bind(request.worker)
            .bind(token.as_str())
            .bind(lease_from + lease_secs)
            .fetch_all(&mut **connection)
            .await;
        let rows = match fetched {
            Ok(rows) => rows,
            Err(error) => {
                // A lost race (a deadlock, a serialisation failure) leaves the connection as good as it
                // was; anything else may have broken it (a server that ended the session says so before
                // it hangs up): it goes back to the pool, which checks it and closes it if so.
                if !Dialect::Postgres.is_retryable(&error) {
                    *held = None;
                }
                return Err(error);
            }
        };
        drop(held);
        let full = rows.len() == limit;
        let mut claims = Vec::with_capacity(rows.len());
        let mut skipped = Vec::new();
        for PgClaimedRow {
            row,
            metadata_json,
            created_at,
            state,
            lease_expires_at,
        } in rows
        {
            let claimed = lease_expires_at.is_some();
            let op = match (metadata_json, created_at) {
                (Some(metadata_json), Some(created_at)) => Some(ClaimedOp {
                    op_uuid: row.operation_uuid.clone(),
                    op_type: row.operation_type.clone(),
                    metadata_json,
                    created_at,
                    state,
                }),
                _ => None,
            };
            match (judge(&row, op.as_ref()), claimed) {
                (Verdict::Claim { op_id, op, .. }, true) => {
                    let waited = lease_expires_at.unwrap_or_default() - lease_from - lease_secs;
                    let leased_at =
                        sent_at + Duration::try_from_secs_f64(waited).unwrap_or_default();
                    claims.push(claim_of(row, op_id, op, &token, claimed_at, leased_at));
                }
                (Verdict::Finished { state, .. }, false) => skipped.push(Skipped {
                    row,
                    finished: op.map(|op| (op, state)),
                    at: claimed_at,
                }),
                (Verdict::Orphan, false) => skipped.push(Skipped {
                    row,
                    finished: None,
                    at: claimed_at,
                }),
                (_, claimed) => {
                    // The statement and `judge` read the same row and the same states: they cannot
                    // disagree. Were they to, the row is left as the statement left it — claimed rows
                    // expire and are rescued, unclaimed ones are claimed again.
                    tracing::error!(row = row.id, op_uuid = %row.operation_uuid, claimed, "the claim statement and the state machine disagree about a row; left as it is");
                }
            }
        }
        Ok((ClaimBatch { claims, full }, skipped))
    }

    /// Removes the ready rows a claim could not claim, each with its audit event, in one transaction on the
    /// store's pool. A row another claim removed first, or claimed since, is left to it. Cleaning up, not
    /// claiming: a failure is logged, and the rows are met and removed again by a later claim.
    async fn remove_skipped(&self, skipped: Vec<Skipped>) {
        let Pool::Postgres(pool) = &self.store.pool else {
            return;
        };
        if skipped.is_empty() {
            return;
        }
        let ids: Vec<i64> = skipped.iter().map(|skip| skip.row.id).collect();
        let skipped = &skipped;
        let ids = &ids;
        let removed = with_retry(&self.store.retries, Dialect::Postgres, || async move {
            let mut tx = pool.begin().await?;
            let removed: Vec<i64> = sqlx::query_scalar(
                "DELETE FROM work_queue WHERE id = ANY($1) AND claimed_at IS NULL RETURNING id",
            )
            .bind(ids)
            .fetch_all(&mut *tx)
            .await?;
            for skip in skipped.iter().filter(|skip| removed.contains(&skip.row.id)) {
                let finished = skip
                    .finished
                    .as_ref()
                    .map(|(op, state)| (op, state.as_str()));
                record_skip(
                    &mut *tx,
                    Dialect::Postgres,
                    self.store.host_name(),
                    &skip.row,
                    finished,
                    skip.at,
                )
                .await?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(Ok::<_, std::convert::Infallible>(()))
        })
        .await;
        if let Err(RetryFailure::Contended { source, .. } | RetryFailure::Fatal(source)) = removed {
            tracing::warn!(error = %source, rows = ?ids, "could not remove work-queue rows whose ops cannot run; a later claim removes them");
        }
    }
}

/// A ready row [`PG_CLAIM`] left unclaimed: its op and that op's state when it has one (else it names no
/// op), and when the claim met it.
struct Skipped {
    row: ReadyRow,
    finished: Option<(ClaimedOp, String)>,
    at: f64,
}

impl Store {
    /// The claim on SQLite and MariaDB: a statement per step.
    async fn claim_step_by_step(
        &self,
        request: &ClaimRequest<'_>,
    ) -> Result<Result<ClaimBatch, StoreError>, RetryFailure> {
        let limit = request.limit.min(MAX_CLAIM_BATCH) as i64;
        let lease_secs = request.lease.as_secs_f64();
        let claimed_by = claim_message(request.worker);
        let claimed_by = claimed_by.as_str();
        with_backend!(match self {
            (pool, dialect) => {
                with_retry(&self.retries, dialect, || async move {
                    let claimed_at = now();
                    let token = Uuid::new_v4().hyphenated().to_string();
                    let _turn = self.write_turn().await;
                    let mut tx = pool.begin_with(dialect.begin_write()).await?;
                    let mut select = sqlx::QueryBuilder::new(
                        "SELECT id, operation_uuid, operation_type, queue_name, attempts, defer_count \
                         FROM work_queue WHERE claimed_at IS NULL AND scheduled_at <= ",
                    );
                    select.push_bind(claimed_at).push(" AND queue_name IN (");
                    push_list(&mut select, request.queues.iter().map(String::as_str));
                    select.push(") AND operation_type IN (");
                    push_list(&mut select, request.op_types.iter().copied());
                    // `claimed_at` (NULL in every row here) leads the order as it leads the index: a
                    // planner that sees the index's order equal to the query's reads no more than LIMIT.
                    select.push(") ORDER BY claimed_at, priority, scheduled_at, id LIMIT ").push_bind(limit);
                    if dialect != Dialect::Sqlite {
                        select.push(" FOR UPDATE SKIP LOCKED");
                    }
                    let rows: Vec<ReadyRow> = select.build_query_as().fetch_all(&mut *tx).await?;
                    if rows.is_empty() {
                        return Ok(Ok(ClaimBatch::default()));
                    }
                    let full = rows.len() == usize::try_from(limit).unwrap_or(usize::MAX);
                    let mut ops = sqlx::QueryBuilder::new(
                        "SELECT o.uuid AS op_uuid, o.operation_type AS op_type, o.metadata_json, o.created_at, \
                         s.state_value AS state FROM cluster_operations o JOIN object_states s \
                         ON s.object_type = o.operation_type AND s.object_uuid = o.uuid WHERE o.uuid IN (",
                    );
                    push_list(&mut ops, rows.iter().map(|row| row.operation_uuid.as_str()));
                    ops.push(")");
                    if dialect != Dialect::Sqlite {
                        ops.push(" FOR UPDATE");
                    }
                    let found: Vec<ClaimedOp> = ops.build_query_as().fetch_all(&mut *tx).await?;
                    // The lease counts from the claim's locks, not from its start: waiting for the pool or
                    // for the ops' locks must not eat into it.
                    let leased_at = Instant::now();
                    let lease_from = now();
                    let mut claims = Vec::with_capacity(rows.len());
                    let mut to_executing: Vec<OpKey<'_>> = Vec::with_capacity(rows.len());
                    let mut skipped = Vec::new();
                    for row in rows {
                        let op = found
                            .iter()
                            .find(|op| op.op_uuid == row.operation_uuid && op.op_type == row.operation_type);
                        match judge(&row, op) {
                            Verdict::Claim { op_id, op, moves } => {
                                if moves {
                                    to_executing.push(OpKey { op_type: &op.op_type, op_uuid: &op.op_uuid });
                                }
                                claims.push(claim_of(row, op_id, op, &token, claimed_at, leased_at));
                            }
                            Verdict::Finished { op, state } => {
                                let finished = Some((op, state.as_str()));
                                record_skip(&mut *tx, dialect, self.host_name(), &row, finished, claimed_at).await?;
                                skipped.push(row.id);
                            }
                            Verdict::Orphan => {
                                record_skip(&mut *tx, dialect, self.host_name(), &row, None, claimed_at).await?;
                                skipped.push(row.id);
                            }
                        }
                    }
                    // Every claimed op's move in one batch of statements, not a round of them per op.
                    tx.update_states(dialect, &to_executing, OpState::Executing, Some(claimed_by), claimed_at).await?;
                    let moved = to_executing
                        .iter()
                        .map(|&key| state_event(key, OpState::Executing, Some(claimed_by), claimed_at))
                        .collect();
                    tx.record_events(dialect, self.host_name(), moved).await?;
                    if !skipped.is_empty() {
                        let mut delete = sqlx::QueryBuilder::new("DELETE FROM work_queue WHERE id IN (");
                        push_list(&mut delete, skipped.iter().copied());
                        delete.push(")");
                        delete.build().execute(&mut *tx).await?;
                    }
                    if !claims.is_empty() {
                        let mut update = sqlx::QueryBuilder::new(format!("UPDATE work_queue {hint} SET claimed_at = ", hint = by_id(dialect)));
                        update
                            .push_bind(claimed_at)
                            .push(", claimed_by = ")
                            .push_bind(request.worker)
                            .push(", lease_token = ")
                            .push_bind(token.as_str())
                            .push(", lease_expires_at = ")
                            .push_bind(lease_from + lease_secs)
                            .push(", attempts = attempts + 1 WHERE id IN (");
                        push_list(&mut update, claims.iter().map(|claim| claim.lease.row_id));
                        update.push(")");
                        update.build().execute(&mut *tx).await?;
                    }
                    tx.commit().await?;
                    Ok(Ok::<_, StoreError>(ClaimBatch { claims, full }))
                })
                .await
            }
        })
    }
}
