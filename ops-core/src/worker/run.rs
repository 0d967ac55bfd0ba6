//! The worker's loop: rescue, claim, run each claim under its lease, settle, and wind down.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Map, Value, json};
use tokio::task::JoinSet;

use super::backoff::{defer_delay, retry_delay};
use super::dependencies::{Dependencies, Verdict, decide};
use super::handler::{ErasedHandler, FollowUps, Job};
use super::{CancelToken, OpErrorKind, Options, Worker, WorkerError};
use crate::store::{Claim, ClaimRequest, Claimer, DEFERRED, Renewal, Requeue, Settled, Settlement};
use crate::{OpError, Store, StoreError};

/// What a run of a worker did, op by op.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RunSummary {
    /// Ops claimed (a deferred op claimed again counts again).
    pub claimed: u64,
    /// Ops that reached `complete`.
    pub completed: u64,
    /// Ops that reached `error`.
    pub failed: u64,
    /// Ops that reached `abort`.
    pub aborted: u64,
    /// Transient failures put back for another attempt.
    pub retried: u64,
    /// Ops put back because a dependency had not finished.
    pub deferred: u64,
    /// Ops put back unrun or stopped at shutdown, or when their dependencies could not be read.
    pub released: u64,
    /// Other workers' ops whose lease had expired, put back (or failed, out of attempts) by this worker.
    pub rescued: u64,
    /// Ops this worker stopped because it lost their lease, or could not renew it before it would expire;
    /// nothing of theirs was recorded.
    pub lease_lost: u64,
    /// Ops moved out of `executing` by someone else while they ran; their outcome was not recorded.
    pub superseded: u64,
    /// Queued ops completed together with an op that did the same work (same coalescing key).
    pub coalesced: u64,
    /// Outcomes the store would not take (a database error), and ops whose handler would not stop at the
    /// shutdown timeout; their lease expires and the op runs again.
    pub unsettled: u64,
}

/// How one claimed op ended for this worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ended {
    Completed { coalesced: u64 },
    Failed,
    Aborted,
    Retried,
    Deferred,
    Released,
    LeaseLost,
    Superseded,
    Unsettled,
}

impl RunSummary {
    fn count(&mut self, ended: Ended) {
        let counter = match ended {
            Ended::Completed { coalesced } => {
                self.coalesced += coalesced;
                &mut self.completed
            }
            Ended::Failed => &mut self.failed,
            Ended::Aborted => &mut self.aborted,
            Ended::Retried => &mut self.retried,
            Ended::Deferred => &mut self.deferred,
            Ended::Released => &mut self.released,
            Ended::LeaseLost => &mut self.lease_lost,
            Ended::Superseded => &mut self.superseded,
            Ended::Unsettled => &mut self.unsettled,
        };
        *counter += 1;
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Until shutdown.
    Forever,
    /// What is ready now, then return.
    Once,
    /// Until the served queues hold no work of the served types, scheduled later or not.
    Drain,
}

/// A lease this worker holds, as the heartbeat sees it.
struct HeldLease {
    token: String,
    renewed_at: Instant,
    lost: CancelToken,
    /// The handler has ended and its outcome is being written: the write's own answer says whether the
    /// lease still held, and a renewal that finds the row gone has most likely met that very write.
    settling: bool,
}

impl HeldLease {
    /// Its handler may still be running: neither stopped already nor ended.
    fn may_run(&self) -> bool {
        !self.lost.is_cancelled() && !self.settling
    }
}

type HeldLeases = Arc<Mutex<HashMap<i64, HeldLease>>>;

fn lock(held: &HeldLeases) -> std::sync::MutexGuard<'_, HashMap<i64, HeldLease>> {
    // A panic while holding the lock left a consistent map (every update is one insert or remove).
    held.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Removes a claim's lease from the heartbeat's map when its task ends, however it ends.
struct Release {
    held: HeldLeases,
    row_id: i64,
    token: String,
}

impl Release {
    /// Marks this claim's lease as settling: its handler has ended, and its outcome is being written.
    fn settling(&self) {
        if let Some(lease) = lock(&self.held)
            .get_mut(&self.row_id)
            .filter(|lease| lease.token == self.token)
        {
            lease.settling = true;
        }
    }
}

impl Drop for Release {
    fn drop(&mut self) {
        let mut held = lock(&self.held);
        // Only this claim's entry: the row may have been rescued and claimed again by this same worker,
        // and that newer claim's lease must go on being renewed.
        if held
            .get(&self.row_id)
            .is_some_and(|lease| lease.token == self.token)
        {
            held.remove(&self.row_id);
        }
    }
}

/// Aborts a spawned task when dropped.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What every claim's task shares.
struct Shared {
    store: Store,
    worker: Arc<str>,
    handlers: std::collections::BTreeMap<&'static str, Arc<dyn ErasedHandler>>,
    options: Options,
    /// Handlers' cancellation: set when the worker is told to shut down, or when this run winds down.
    shutdown: CancelToken,
    /// Set when the shutdown timeout ends: running handlers are stopped and their ops released.
    abandon: CancelToken,
    /// Plain completions go to the completer, which records those that arrive together in one batch.
    completions: tokio::sync::mpsc::UnboundedSender<Completion>,
}

/// A handler that succeeded with nothing else to record, waiting for its completion to be written.
struct Completion {
    claim: Claim,
    recorded: tokio::sync::oneshot::Sender<Result<Settled, StoreError>>,
}

/// The connections of the store's pool a run holds beside its handlers' at most: the claim loop's (its
/// rescues; on PostgreSQL its claims go through a connection of its own), the completer's and the
/// heartbeat's.
const CONNECTIONS_BESIDE_HANDLERS: usize = 3;

/// The most completions one batch writes.
const MAX_COMPLETION_BATCH: usize = 256;

/// Records completions as they arrive: whatever queued up while the last batch was being written goes
/// into the next, so a busy worker commits once per batch of ops and an idle one writes each op as soon
/// as it ends, with no timer in between. Ends when every sender is gone (the run's tasks and `Shared`).
async fn complete(store: Store, mut arrivals: tokio::sync::mpsc::UnboundedReceiver<Completion>) {
    let mut batch = Vec::new();
    while arrivals.recv_many(&mut batch, MAX_COMPLETION_BATCH).await > 0 {
        let claims: Vec<&Claim> = batch.iter().map(|completion| &completion.claim).collect();
        let answers = store.complete_batch(&claims).await;
        for (completion, answer) in batch.drain(..).zip(answers) {
            // A task that stopped waiting (its run was dropped) needs no answer.
            let _ = completion.recorded.send(answer);
        }
    }
}

impl Worker {
    /// Runs until the [`Worker::shutdown_handle`] is cancelled, then winds down. Database outages are
    /// logged and ridden out: the worker keeps polling until the database answers again.
    pub async fn run(&self) -> Result<RunSummary, WorkerError> {
        self.run_mode(Mode::Forever).await
    }

    /// Claims and runs what is ready now, then returns: ops deferred or retried meanwhile are left
    /// queued for a later run.
    pub async fn run_once(&self) -> Result<RunSummary, WorkerError> {
        self.run_mode(Mode::Once).await
    }

    /// Runs until the queues it serves hold no ops of its types, including ops deferred or retried for
    /// later and ops held by other workers, then returns.
    pub async fn drain(&self) -> Result<RunSummary, WorkerError> {
        self.run_mode(Mode::Drain).await
    }

    async fn run_mode(&self, mode: Mode) -> Result<RunSummary, WorkerError> {
        let (completions, arrivals) = tokio::sync::mpsc::unbounded_channel();
        // In a JoinSet, like the heartbeat, so that dropping the run stops it.
        let mut completer = JoinSet::new();
        completer.spawn(complete(self.store.clone(), arrivals));
        let shared = Arc::new(Shared {
            store: self.store.clone(),
            worker: self.id.clone(),
            handlers: self.handlers.clone(),
            options: self.options.clone(),
            // This run's own: cancelling the worker's handle ends the claim loop, whose wind-down then
            // tells the handlers; a run that ended on an error leaves the worker able to run again.
            shutdown: CancelToken::new(),
            abandon: CancelToken::new(),
            completions,
        });
        let held: HeldLeases = Arc::default();
        let stop_heartbeat = CancelToken::new();
        // In a JoinSet, so that dropping this future (a crash, as far as the store can tell) stops the
        // heartbeat too and the leases expire.
        let mut heartbeat_task = JoinSet::new();
        heartbeat_task.spawn(heartbeat(
            self.store.clone(),
            held.clone(),
            self.options.lease,
            stop_heartbeat.clone(),
        ));
        // The handlers hear of a shutdown at once, whatever the claim loop is waiting for.
        let mut forward_shutdown = JoinSet::new();
        let (requested, handlers) = (self.shutdown.clone(), shared.shutdown.clone());
        forward_shutdown.spawn(async move {
            requested.cancelled().await;
            handlers.cancel();
        });
        // The claim loop, the completer, the heartbeat and the handlers each hold a connection at times,
        // side by side: made now, not while the first ops wait; so is the claim's own, with its plan.
        let claimer = self.store.claimer();
        tokio::join!(
            self.store
                .open_connections(self.options.concurrency + CONNECTIONS_BESIDE_HANDLERS),
            claimer.prepare(self.claim_request(0)),
        );
        let wake = Arc::new(tokio::sync::Notify::new());
        let mut listener_task = JoinSet::new();
        match self.store.work_listener().await {
            Ok(Some(listener)) => {
                let queues: HashSet<String> = self.queues.iter().cloned().collect();
                listener_task.spawn(listen(
                    listener,
                    queues,
                    wake.clone(),
                    self.options.poll_interval,
                ));
            }
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(error = %crate::ErrorChain(&error), "cannot listen for new work; polling")
            }
        }
        let mut tasks = JoinSet::new();
        let mut summary = RunSummary::default();
        self.progress.send_replace(summary);
        tracing::info!(worker = %self.id, queues = self.queues.len(), op_types = ?self.op_types, "worker started");
        let result = self
            .claim_loop(
                mode,
                &claimer,
                &shared,
                &held,
                &wake,
                &mut tasks,
                &mut summary,
            )
            .await;
        listener_task.abort_all();
        forward_shutdown.abort_all();
        claimer.close().await;
        wind_down(&shared, &mut tasks, &mut summary).await;
        // Every task has ended: this is the last sender, and the completer ends once it is gone.
        drop(shared);
        if let Some(Err(error)) = completer.join_next().await {
            tracing::error!(%error, "the completer failed");
        }
        stop_heartbeat.cancel();
        if let Some(Err(error)) = heartbeat_task.join_next().await {
            tracing::error!(%error, "the lease heartbeat failed");
        }
        self.progress.send_replace(summary);
        tracing::info!(worker = %self.id, ?summary, "worker stopped");
        result.map(|()| summary)
    }

    #[allow(clippy::too_many_arguments)]
    async fn claim_loop(
        &self,
        mode: Mode,
        claimer: &Claimer,
        shared: &Arc<Shared>,
        held: &HeldLeases,
        wake: &tokio::sync::Notify,
        tasks: &mut JoinSet<Ended>,
        summary: &mut RunSummary,
    ) -> Result<(), WorkerError> {
        let options = &self.options;
        let mut last_rescue: Option<Instant> = None;
        loop {
            while let Some(done) = tasks.try_join_next() {
                record(done, summary);
            }
            self.progress.send_replace(*summary);
            if self.shutdown.is_cancelled() {
                return Ok(());
            }
            let free = options.concurrency.saturating_sub(tasks.len());
            let mut claimed = 0;
            let mut more = false;
            if free > 0 {
                match claimer.claim(self.claim_request(free)).await {
                    Ok(batch) => {
                        claimed = batch.claims.len();
                        more = batch.full;
                        for claim in batch.claims {
                            let lost = CancelToken::new();
                            let earlier = lock(held).insert(
                                claim.lease.row_id,
                                HeldLease {
                                    token: claim.lease.token.clone(),
                                    renewed_at: claim.leased_at,
                                    lost: lost.clone(),
                                    settling: false,
                                },
                            );
                            // The row was rescued from this very worker and claimed again: the earlier
                            // run of it lost its lease, so it stops now.
                            if let Some(earlier) = earlier {
                                earlier.lost.cancel();
                            }
                            let release = Release {
                                held: held.clone(),
                                row_id: claim.lease.row_id,
                                token: claim.lease.token.clone(),
                            };
                            tasks.spawn(run_claim(shared.clone(), claim, lost, release));
                        }
                    }
                    Err(error) => self.trouble(mode, error)?,
                }
            }
            summary.claimed += claimed as u64;
            // Leases expire on the scale of the poll interval: looking for expired ones once per interval
            // keeps a busy worker's claim loop to its claims. After the claim, so that new work woken by a
            // notification waits for no more than its claim; ops rescued here are claimed at once, below.
            let rescue_due = last_rescue.is_none_or(|at| at.elapsed() >= options.poll_interval);
            let rescue = if rescue_due {
                last_rescue = Some(Instant::now());
                self.store.rescue_expired(options.max_attempts, 256).await
            } else {
                Ok(Vec::new())
            };
            match rescue {
                Ok(rescued) => {
                    for op in &rescued {
                        tracing::warn!(op = %op.op, worker = ?op.worker, requeued = op.requeued, "rescued an op whose lease expired");
                    }
                    summary.rescued += rescued.len() as u64;
                    more |= !rescued.is_empty();
                }
                Err(error) => self.trouble(mode, error)?,
            }
            if mode == Mode::Once && free > 0 && !more {
                // Nothing more is ready now: finish what runs, and stop. A shutdown meanwhile leaves what
                // still runs to the wind-down and its timeout.
                loop {
                    tokio::select! {
                        done = tasks.join_next() => match done {
                            Some(done) => {
                                record(done, summary);
                                self.progress.send_replace(*summary);
                            }
                            None => return Ok(()),
                        },
                        () = self.shutdown.cancelled() => return Ok(()),
                    }
                }
            }
            if mode == Mode::Drain
                && tasks.is_empty()
                && claimed == 0
                && self.store.queued_work(&self.queues, &self.op_types).await? == 0
            {
                return Ok(());
            }
            if more {
                // A full batch, or ops just rescued: more may be ready. Claim again at once, for what room
                // is left.
                continue;
            }
            tokio::select! {
                Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                    record(done, summary);
                    linger(tasks, summary, options.concurrency).await;
                }
                () = tokio::time::sleep(options.poll_interval) => {}
                () = wake.notified() => {}
                () = self.shutdown.cancelled() => {}
            }
        }
    }

    /// What this worker claims: up to `limit` ops of its queues and op types, under its lease.
    fn claim_request(&self, limit: usize) -> ClaimRequest<'_> {
        ClaimRequest {
            queues: &self.queues,
            op_types: &self.op_types,
            limit,
            worker: &self.id,
            lease: self.options.lease,
        }
    }

    /// A store error in the loop: fatal for `run_once` and `drain`, logged and ridden out by `run`.
    fn trouble(&self, mode: Mode, error: StoreError) -> Result<(), WorkerError> {
        match mode {
            Mode::Forever => {
                tracing::warn!(worker = %self.id, error = %crate::ErrorChain(&error), "store error; retrying after the poll interval");
                Ok(())
            }
            Mode::Once | Mode::Drain => Err(error.into()),
        }
    }
}

/// How long a freed slot waits for others before the claim loop fills it: ops that finish within this of
/// each other are claimed for in one batch. Next to a real handler's run it is nothing; with handlers
/// that do nothing it turns a claim per op into a claim per batch.
const LINGER: Duration = Duration::from_millis(2);

/// After an op ended, gathers the ops that end within [`LINGER`] of it, until half the slots are free:
/// completions written in one batch end together, and the next claim takes their slots in one go.
async fn linger(tasks: &mut JoinSet<Ended>, summary: &mut RunSummary, concurrency: usize) {
    let deadline = tokio::time::Instant::now() + LINGER;
    while !tasks.is_empty() && concurrency.saturating_sub(tasks.len()) < concurrency.div_ceil(2) {
        tokio::select! {
            Some(done) = tasks.join_next() => record(done, summary),
            () = tokio::time::sleep_until(deadline) => return,
        }
    }
}

fn record(done: Result<Ended, tokio::task::JoinError>, summary: &mut RunSummary) {
    match done {
        Ok(ended) => summary.count(ended),
        Err(error) => tracing::error!(%error, "an op's task failed"),
    }
}

/// Stops claiming; waits up to the shutdown timeout for running ops, then stops the rest, whose tasks
/// release their ops.
async fn wind_down(shared: &Shared, tasks: &mut JoinSet<Ended>, summary: &mut RunSummary) {
    if tasks.is_empty() {
        return;
    }
    shared.shutdown.cancel();
    let deadline = tokio::time::sleep(shared.options.shutdown_timeout);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            done = tasks.join_next() => match done {
                Some(done) => record(done, summary),
                None => return,
            },
            () = &mut deadline, if !shared.abandon.is_cancelled() => {
                tracing::warn!(running = tasks.len(), "shutdown timeout: stopping the running ops and releasing them");
                shared.abandon.cancel();
            }
        }
    }
}

/// Wakes the claim loop when PostgreSQL says one of `queues` has new work. Polling goes on beside it, so
/// a notification lost while the listener reconnects costs at most one poll interval.
async fn listen(
    mut listener: sqlx::postgres::PgListener,
    queues: HashSet<String>,
    wake: Arc<tokio::sync::Notify>,
    retry: Duration,
) {
    loop {
        match listener.recv().await {
            Ok(notification) if queues.contains(notification.payload()) => wake.notify_one(),
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, "the work listener failed; polling until it reconnects");
                tokio::time::sleep(retry).await;
            }
        }
    }
}

/// Renews every held lease each third of the lease. A lease the store no longer holds for us (rescued by
/// another worker) stops its op at once. A lease that could not be renewed for two thirds of its length —
/// the store unreachable, or a renewal stuck behind a lock — stops its op too, whatever the renewal is
/// doing, so an op never runs beside its rescuer.
async fn heartbeat(store: Store, held: HeldLeases, lease: Duration, stop: CancelToken) {
    let interval = lease / 3;
    let stop_after = lease.saturating_sub(interval);
    // A renewal is given up after this long, so that a stuck one does not hold up the next.
    let patience = interval / 2;
    let mut next_renewal = Instant::now() + interval;
    loop {
        let wake = earliest_stop(&lock(&held), stop_after)
            .map_or(next_renewal, |stop_at| stop_at.min(next_renewal));
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep_until(wake.into()) => {}
        }
        stop_overdue(&lock(&held), stop_after);
        if Instant::now() < next_renewal {
            continue;
        }
        let snapshot: Vec<(i64, String)> = lock(&held)
            .iter()
            .filter(|(_, lease)| !lease.lost.is_cancelled())
            .map(|(row, lease)| (*row, lease.token.clone()))
            .collect();
        let started = Instant::now();
        next_renewal = started + interval;
        if snapshot.is_empty() {
            continue;
        }
        let leases: Vec<(i64, &str)> = snapshot
            .iter()
            .map(|(row, token)| (*row, token.as_str()))
            .collect();
        let renewal = tokio::time::timeout(patience, store.renew_leases(&leases, lease));
        tokio::pin!(renewal);
        // The stop deadlines are kept while the renewal runs, not after it.
        let outcome = loop {
            let stop_at = earliest_stop(&lock(&held), stop_after);
            tokio::select! {
                outcome = &mut renewal => break outcome,
                () = stop.cancelled() => return,
                () = sleep_until_some(stop_at) => stop_overdue(&lock(&held), stop_after),
            }
        };
        match outcome {
            Ok(Ok(renewal)) => apply_renewal(&mut lock(&held), &snapshot, &renewal, started),
            Ok(Err(error)) => {
                tracing::warn!(error = %crate::ErrorChain(&error), "cannot renew work leases");
            }
            Err(_) => {
                tracing::warn!(waited = ?patience, "renewing work leases takes too long; trying again");
            }
        }
        stop_overdue(&lock(&held), stop_after);
    }
}

/// Sleeps until `at`, or forever when there is nothing to wait for.
async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// When the first held lease not yet stopped must stop, unless it is renewed before. A settling lease's
/// handler has ended: there is nothing to stop.
fn earliest_stop(held: &HashMap<i64, HeldLease>, stop_after: Duration) -> Option<Instant> {
    held.values()
        .filter(|lease| lease.may_run())
        .map(|lease| lease.renewed_at + stop_after)
        .min()
}

/// Stops every op whose lease was not renewed for `stop_after`: it is about to expire, and a rescuer may
/// take the op over once it has. (A settling op has nothing left to stop.)
fn stop_overdue(held: &HashMap<i64, HeldLease>, stop_after: Duration) {
    for (row, lease) in held {
        if lease.may_run() && lease.renewed_at.elapsed() >= stop_after {
            tracing::warn!(
                row,
                "cannot renew the lease of a running op before it expires; stopping it"
            );
            lease.lost.cancel();
        }
    }
}

/// Applies a renewal's answer: each lease of `snapshot` the store still holds counts as renewed when the
/// renewal `started`; each it lost was taken over, and its op stops; one in neither (a row locked by
/// another transaction) is left as it was. A row claimed again since the snapshot (under another token) is
/// that newer claim's, and is left alone.
fn apply_renewal(
    held: &mut HashMap<i64, HeldLease>,
    snapshot: &[(i64, String)],
    renewal: &Renewal,
    started: Instant,
) {
    for (row, token) in snapshot {
        let Some(entry) = held.get_mut(row) else {
            continue;
        };
        if entry.token != *token {
            continue;
        }
        if renewal.held.contains(row) {
            entry.renewed_at = started;
        } else if renewal.lost.contains(row) && entry.may_run() {
            tracing::warn!(row, "lost the lease of a running op; stopping it");
            entry.lost.cancel();
        }
    }
}

/// Runs one claimed op: its dependencies, then its handler under its lease, then its outcome.
async fn run_claim(
    shared: Arc<Shared>,
    claim: Claim,
    lost: CancelToken,
    release: Release,
) -> Ended {
    let store = &shared.store;
    let metadata = match serde_json::from_str::<Map<String, Value>>(&claim.metadata_json) {
        Ok(metadata) => metadata,
        Err(error) => {
            let failure =
                OpError::failed("the op's stored JSON is not an object").with_cause(&error);
            return fail(&shared, &claim, "unreadable", &failure).await;
        }
    };
    let dependencies = match serde_json::from_value::<Dependencies>(Value::Object(metadata.clone()))
    {
        Ok(dependencies) => dependencies,
        Err(error) => {
            let failure =
                OpError::failed("the op's dependency lists cannot be read").with_cause(&error);
            return fail(&shared, &claim, "unreadable", &failure).await;
        }
    };
    let mut warnings = Vec::new();
    if dependencies.all().next().is_some() {
        let named: Vec<_> = dependencies
            .all()
            .map(|d| (d.op_type.as_str(), d.op_uuid))
            .collect();
        // Reading the dependencies is bounded by the lease like the rest: a read that outlives it loses.
        let read = tokio::select! {
            read = store.op_states(&named) => read,
            () = lost.cancelled() => return Ended::LeaseLost,
        };
        let states = match read {
            Ok(states) => states,
            Err(error) => {
                tracing::warn!(op = %claim.op, error = %crate::ErrorChain(&error), "cannot read dependencies; releasing");
                let settlement = Settlement::Requeue {
                    delay: shared.options.poll_interval,
                    reason: Requeue::Release,
                };
                return settled(
                    store.settle(&claim, settlement, &[]).await,
                    Ended::Released,
                    &claim,
                );
            }
        };
        match decide(&dependencies, &states) {
            Verdict::Run { warnings: found } => warnings = found,
            Verdict::Defer { waiting_on } => {
                let delay = defer_delay(claim.defer_count);
                let message = format!("{DEFERRED}{} seconds", delay.as_secs_f64());
                tracing::debug!(op = %claim.op, waiting_on = %waiting_on.op_uuid, "deferred");
                let settlement = Settlement::Requeue {
                    delay,
                    reason: Requeue::Defer,
                };
                let events = [("status", message.as_str())];
                return settled(
                    store.settle(&claim, settlement, &events).await,
                    Ended::Deferred,
                    &claim,
                );
            }
            Verdict::Error { message } => {
                let report = report(
                    &shared,
                    &claim,
                    "dependency_missing",
                    &OpError::failed(&message),
                );
                let settlement = Settlement::Error {
                    report: &report,
                    message: &message,
                };
                let events = [("audit", message.as_str())];
                return settled(
                    store.settle(&claim, settlement, &events).await,
                    Ended::Failed,
                    &claim,
                );
            }
            Verdict::Abort { message } => {
                let settlement = Settlement::Abort { message: &message };
                let events = [("audit", message.as_str())];
                return settled(
                    store.settle(&claim, settlement, &events).await,
                    Ended::Aborted,
                    &claim,
                );
            }
        }
    }
    let warnings: Vec<(&'static str, &str)> =
        warnings.iter().map(|w| ("audit", w.as_str())).collect();
    let Some(handler) = shared.handlers.get(claim.op_type.as_str()) else {
        // Claims only name op types this worker handles; a row changed under us is not ours to run.
        let settlement = Settlement::Requeue {
            delay: Duration::ZERO,
            reason: Requeue::Release,
        };
        return settled(
            store.settle(&claim, settlement, &warnings).await,
            Ended::Released,
            &claim,
        );
    };
    if lost.is_cancelled() {
        // The lease ran out while the dependencies were read: the op is another worker's now.
        return Ended::LeaseLost;
    }
    let follow_ups = FollowUps::default();
    let job = Job {
        op: claim.op,
        metadata,
        attempt: claim.attempt,
        store: store.clone(),
        cancel: shared.shutdown.clone(),
        worker: shared.worker.clone(),
        follow_ups: follow_ups.clone(),
    };
    let mut running = tokio::spawn(handler.start(job));
    // If this task is dropped (the worker's run was dropped), the handler stops with it.
    let _stop_handler = AbortOnDrop(running.abort_handle());
    let result = tokio::select! {
        joined = &mut running => joined,
        () = lost.cancelled() => {
            stop_handler(running, shared.options.lease / 3).await;
            tracing::warn!(op = %claim.op, "stopped: the lease was lost; the op runs again elsewhere");
            return Ended::LeaseLost;
        }
        () = shared.abandon.cancelled() => {
            // Released only once the handler has stopped: never queued for another worker while it runs.
            if !stop_handler(running, shared.options.lease / 3).await {
                tracing::warn!(op = %claim.op, "the handler does not stop; its op is left to its lease, which expires");
                return Ended::Unsettled;
            }
            let settlement = Settlement::Requeue { delay: Duration::ZERO, reason: Requeue::Release };
            let events = [("status", "released unfinished at worker shutdown")];
            return settled(store.settle(&claim, settlement, &events).await, Ended::Released, &claim);
        }
    };
    release.settling();
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(joined) => Err(OpError::failed(panic_message(joined))),
    };
    match outcome {
        Ok(()) => {
            let follow_ups =
                std::mem::take(&mut *follow_ups.lock().unwrap_or_else(PoisonError::into_inner));
            if follow_ups.is_empty() && warnings.is_empty() {
                let (recorded, answer) = tokio::sync::oneshot::channel();
                let sent = shared.completions.send(Completion {
                    claim: claim.clone(),
                    recorded,
                });
                if sent.is_ok()
                    && let Ok(answer) = answer.await
                {
                    return settled(answer, Ended::Completed { coalesced: 0 }, &claim);
                }
                // No completer to take it (the run is being dropped): record it here.
            }
            let settlement = Settlement::Complete {
                follow_ups: &follow_ups,
            };
            match store.settle(&claim, settlement, &warnings).await {
                // The handler's mistake (a taken id, an invalid op): running it again would repeat it.
                Err(refused @ StoreError::FollowUpRefused { .. }) => {
                    let failure = OpError::failed(
                        "the op's work is done, but a follow-up it asked for was refused",
                    )
                    .with_cause(&refused);
                    fail_with(&shared, &claim, "follow_up_refused", &failure, &warnings).await
                }
                result => settled(result, Ended::Completed { coalesced: 0 }, &claim),
            }
        }
        Err(error) => match error.kind() {
            OpErrorKind::Abort => {
                let settlement = Settlement::Abort {
                    message: error.message(),
                };
                settled(
                    store.settle(&claim, settlement, &warnings).await,
                    Ended::Aborted,
                    &claim,
                )
            }
            OpErrorKind::Interrupted => {
                let settlement = Settlement::Requeue {
                    delay: Duration::ZERO,
                    reason: Requeue::Release,
                };
                let mut events = warnings;
                let message = format!("released: {error}");
                events.push(("status", &message));
                settled(
                    store.settle(&claim, settlement, &events).await,
                    Ended::Released,
                    &claim,
                )
            }
            OpErrorKind::Transient if claim.attempt < shared.options.max_attempts => {
                let delay = retry_delay(shared.options.first_retry_delay, claim.attempt);
                let message = format!(
                    "attempt {} failed transiently, retrying in {} seconds: {error}",
                    claim.attempt,
                    delay.as_secs_f64()
                );
                let settlement = Settlement::Requeue {
                    delay,
                    reason: Requeue::Retry,
                };
                let mut events = warnings;
                events.push(("status", &message));
                settled(
                    store.settle(&claim, settlement, &events).await,
                    Ended::Retried,
                    &claim,
                )
            }
            OpErrorKind::Transient => {
                fail_with(&shared, &claim, "attempts_exhausted", &error, &warnings).await
            }
            _ => fail_with(&shared, &claim, "failed", &error, &warnings).await,
        },
    }
}

/// Aborts a handler and waits, up to `limit`, until its task has stopped; `false` when it has not. An abort
/// takes effect at the handler's next await, so code between two awaits runs to its end first; tasks or
/// threads the handler started itself are its own to stop.
async fn stop_handler<T>(running: tokio::task::JoinHandle<T>, limit: Duration) -> bool {
    running.abort();
    tokio::time::timeout(limit, running).await.is_ok()
}

/// Records an `error` outcome with its report.
async fn fail(shared: &Shared, claim: &Claim, kind: &str, error: &OpError) -> Ended {
    fail_with(shared, claim, kind, error, &[]).await
}

async fn fail_with(
    shared: &Shared,
    claim: &Claim,
    kind: &str,
    error: &OpError,
    events: &[(&'static str, &str)],
) -> Ended {
    let report = report(shared, claim, kind, error);
    let message = error.to_string();
    let settlement = Settlement::Error {
        report: &report,
        message: &message,
    };
    settled(
        shared.store.settle(claim, settlement, events).await,
        Ended::Failed,
        claim,
    )
}

/// The error report written to `cluster_operation_errors` before an op moves to `error`.
fn report(shared: &Shared, claim: &Claim, kind: &str, error: &OpError) -> Value {
    json!({
        "kind": kind,
        "message": error.message(),
        "causes": error.causes(),
        "op_type": claim.op_type,
        "attempt": claim.attempt,
        "worker": &*shared.worker,
        "queue_name": claim.queue_name,
    })
}

fn settled(result: Result<Settled, StoreError>, ended: Ended, claim: &Claim) -> Ended {
    match result {
        Ok(Settled::Done { coalesced }) => match ended {
            Ended::Completed { .. } => Ended::Completed { coalesced },
            other => other,
        },
        Ok(Settled::LeaseLost) => {
            tracing::warn!(op = %claim.op, "outcome not recorded: the lease was lost");
            Ended::LeaseLost
        }
        Ok(Settled::Superseded(state)) => {
            tracing::info!(op = %claim.op, ?state, "outcome not recorded: the op was moved on meanwhile");
            Ended::Superseded
        }
        Err(error) => {
            tracing::error!(op = %claim.op, error = %crate::ErrorChain(&error), "cannot record the outcome; the op will be rescued and run again");
            Ended::Unsettled
        }
    }
}

fn panic_message(error: tokio::task::JoinError) -> String {
    match error.try_into_panic() {
        Ok(payload) => {
            let text = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a non-text panic payload".to_owned());
            format!("the handler panicked: {text}")
        }
        Err(error) => format!("the handler was cancelled: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held_lease(token: &str, renewed_at: Instant) -> HeldLease {
        HeldLease {
            token: token.to_owned(),
            renewed_at,
            lost: CancelToken::new(),
            settling: false,
        }
    }

    #[test]
    fn a_settling_lease_found_gone_is_left_to_its_settlements_answer() {
        // The completer deleted the row in the very batch the handler's outcome is waiting for: the
        // renewal finds it gone, which says nothing the settlement will not say itself.
        let claimed = Instant::now();
        let mut settling = held_lease("a", claimed);
        settling.settling = true;
        let mut held = HashMap::from([(4, settling)]);
        let lost = Renewal {
            held: vec![],
            lost: vec![4],
        };
        apply_renewal(&mut held, &[(4, "a".to_owned())], &lost, claimed);
        assert!(!held[&4].lost.is_cancelled());
    }

    #[test]
    fn a_settling_lease_neither_stops_nor_wakes_the_heartbeat() {
        let long_ago = Instant::now() - Duration::from_secs(60);
        let mut settling = held_lease("a", long_ago);
        settling.settling = true;
        let held = HashMap::from([(5, settling)]);
        assert_eq!(earliest_stop(&held, Duration::from_secs(20)), None);
        stop_overdue(&held, Duration::from_secs(20));
        assert!(!held[&5].lost.is_cancelled());
    }

    #[test]
    fn a_renewed_lease_counts_from_the_renewals_start_and_a_lost_one_stops_its_op() {
        let claimed = Instant::now();
        let mut held =
            HashMap::from([(1, held_lease("a", claimed)), (2, held_lease("a", claimed))]);
        let snapshot = [(1, "a".to_owned()), (2, "a".to_owned())];
        let started = claimed + Duration::from_millis(300);
        let renewal = Renewal {
            held: vec![1],
            lost: vec![2],
        };
        apply_renewal(&mut held, &snapshot, &renewal, started);
        assert_eq!(held[&1].renewed_at, started);
        assert!(!held[&1].lost.is_cancelled());
        assert!(held[&2].lost.is_cancelled());
    }

    #[test]
    fn a_lease_the_renewal_could_not_lock_is_neither_renewed_nor_lost() {
        let claimed = Instant::now();
        let mut held = HashMap::from([(3, held_lease("a", claimed))]);
        apply_renewal(
            &mut held,
            &[(3, "a".to_owned())],
            &Renewal::default(),
            claimed + Duration::from_secs(1),
        );
        assert_eq!(held[&3].renewed_at, claimed);
        assert!(!held[&3].lost.is_cancelled());
    }

    #[test]
    fn an_answer_about_an_earlier_claim_leaves_the_rows_newer_claim_alone() {
        let claimed = Instant::now();
        // Row 7 was rescued and claimed again (token "new") while a renewal of the old claim ran.
        let mut held = HashMap::from([(7, held_lease("new", claimed))]);
        let snapshot = [(7, "old".to_owned())];
        let lost = Renewal {
            held: vec![],
            lost: vec![7],
        };
        apply_renewal(
            &mut held,
            &snapshot,
            &lost,
            claimed + Duration::from_secs(1),
        );
        assert!(!held[&7].lost.is_cancelled());
        let renewed = Renewal {
            held: vec![7],
            lost: vec![],
        };
        apply_renewal(
            &mut held,
            &snapshot,
            &renewed,
            claimed + Duration::from_secs(1),
        );
        assert_eq!(held[&7].renewed_at, claimed);
    }

    #[test]
    fn leases_not_renewed_in_time_stop_their_ops_and_set_the_next_wake_up() {
        let now = Instant::now();
        let stop_after = Duration::from_secs(20);
        let held = HashMap::from([
            (1, held_lease("a", now - Duration::from_secs(21))),
            (2, held_lease("a", now - Duration::from_secs(5))),
        ]);
        assert_eq!(
            earliest_stop(&held, stop_after),
            Some(now - Duration::from_secs(1))
        );
        stop_overdue(&held, stop_after);
        assert!(held[&1].lost.is_cancelled());
        assert!(!held[&2].lost.is_cancelled());
        // A stopped op no longer sets the wake-up.
        assert_eq!(
            earliest_stop(&held, stop_after),
            Some(now + Duration::from_secs(15))
        );
    }
}
