//! The worker: claims ready ops from the queues it serves, runs the typed handler registered for each op's
//! type, and records how each ended.
//!
//! ```no_run
//! # use ops_core::{ClusterOperation, InstanceId, NodeId, OpTask, Store, QueueTarget};
//! # use serde::{Deserialize, Serialize};
//! # #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
//! # enum NodeInstTask { HealthCheckKvmProcess }
//! # impl OpTask for NodeInstTask { fn name(self) -> &'static str { "health_check_kvm_process" } }
//! # #[derive(Serialize, Deserialize, ClusterOperation)]
//! # #[operation(name = "node_inst_op", tasks = NodeInstTask, queue = node)]
//! # struct NodeInstOp { #[context] node_uuid: NodeId, #[target] instance_uuid: InstanceId }
//! use ops_core::worker::{OpError, Worker};
//!
//! # async fn run(store: Store, this_node: NodeId) -> Result<(), Box<dyn std::error::Error>> {
//! let worker = Worker::builder(store)
//!     .serve(QueueTarget::Node(this_node))
//!     .concurrency(8)
//!     .handle(|op: NodeInstOp, ctx| async move {
//!         for task in ctx.tasks() {
//!             // ... check the instance's KVM process ...
//!         }
//!         Ok::<_, OpError>(())
//!     })
//!     .build()?;
//! let shutdown = worker.shutdown_handle();
//! // On SIGTERM: shutdown.cancel(); `run` then finishes or releases what it holds and returns.
//! let summary = worker.run().await?;
//! # Ok(())
//! # }
//! ```
//!
//! **Claims and leases.** Each claim holds a lease (30 s by default) that a heartbeat renews every third
//! of it while the handler runs. Work whose lease expired — its worker died, hung or lost the database —
//! is rescued by any worker within one lease plus one poll and runs again. Every write about a claim names
//! its lease token, so a worker that lost its lease can record nothing for that op, and its handler is
//! stopped as soon as the heartbeat learns of the loss (or, cut off from the database, before the lease
//! could expire): an op never runs on two workers at once. Delivery is at least once: an op whose worker
//! died after the handler's effects but before its outcome was written runs again, so handlers must be
//! idempotent, as Shaken Fist's are.
//!
//! **Outcomes.** `Ok(())` → `complete`; an [`OpError`] → `error` (the error report is written first), a
//! transient one → `queued` again with backoff until the attempts are used up, an abort → `abort`.
//! Dependencies are checked before the handler runs (DOMAIN.md §3): a blocked op is deferred — back to
//! `queued`, with backoff from 100 ms doubling to 15 s, not counted as an attempt.

mod backoff;
mod cancel;
mod dependencies;
mod handler;
mod run;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub use backoff::{FIRST_DEFER, MAX_DEFER, MAX_RETRY_DELAY, defer_delay, retry_delay};
pub use cancel::CancelToken;
pub use handler::{OpContext, OpError, OpErrorKind};
pub use run::RunSummary;

use crate::{ClusterOperation, Family, Priority, QueueTarget, Store, StoreError, queue_name};
use handler::{ErasedHandler, Typed};

/// The longest worker id (`work_queue.claimed_by` is `VARCHAR(255)`).
pub const MAX_WORKER_ID: usize = 200;

/// A worker that cannot be built as configured, or could not keep running.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkerError {
    /// It serves no queue.
    #[error("a worker needs at least one queue to serve")]
    NoQueues,
    /// It has no handler, so it could claim nothing.
    #[error("a worker needs at least one handler")]
    NoHandlers,
    /// Two handlers for one op type.
    #[error("two handlers are registered for `{0}`")]
    DuplicateHandler(&'static str),
    /// An option out of range.
    #[error("invalid worker option: {0}")]
    InvalidOption(String),
    /// The store failed where the worker cannot go on (in `run_once` and `drain`; `run` rides out
    /// database outages, logging them).
    #[error("the worker stopped on a store error")]
    Store(#[from] StoreError),
}

/// Configures a [`Worker`]: the queues it serves, its handlers, its limits.
#[must_use = "a worker builder does nothing until built"]
pub struct WorkerBuilder {
    store: Store,
    queues: BTreeSet<String>,
    handlers: BTreeMap<&'static str, Arc<dyn ErasedHandler>>,
    duplicate: Option<&'static str>,
    options: Options,
}

/// Everything about a worker but its store and handlers.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    pub(crate) worker_id: Option<String>,
    pub(crate) concurrency: usize,
    pub(crate) poll_interval: Duration,
    pub(crate) lease: Duration,
    pub(crate) max_attempts: u32,
    pub(crate) first_retry_delay: Duration,
    pub(crate) shutdown_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            worker_id: None,
            concurrency: 4,
            poll_interval: Duration::from_secs(1),
            lease: Duration::from_secs(30),
            max_attempts: 5,
            first_retry_delay: Duration::from_secs(1),
            shutdown_timeout: Duration::from_secs(30),
        }
    }
}

impl WorkerBuilder {
    /// Serves every queue of `target`: both families, every priority (e.g. all ten `any-*` queues).
    pub fn serve(mut self, target: QueueTarget) -> Self {
        for family in [Family::ClusterOperation, Family::Network] {
            for priority in Priority::ALL {
                self.queues.insert(queue_name(target, family, priority));
            }
        }
        self
    }

    /// Serves one queue by its full name, e.g. `networknode-clusteroperation-user_waiting`.
    pub fn queue(mut self, name: impl Into<String>) -> Self {
        self.queues.insert(name.into());
        self
    }

    /// Registers the handler for `Op`'s type. Ops of types with no handler are never claimed by this
    /// worker; they stay queued for a worker that has one.
    pub fn handle<Op, F, Fut>(mut self, handler: F) -> Self
    where
        Op: ClusterOperation,
        F: Fn(Op, OpContext<Op::Task>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), OpError>> + Send + 'static,
    {
        if self
            .handlers
            .insert(Op::OP_TYPE, Arc::new(Typed::<Op, F>::new(handler)))
            .is_some()
        {
            self.duplicate.get_or_insert(Op::OP_TYPE);
        }
        self
    }

    /// How many ops run at once (default 4).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.options.concurrency = concurrency;
        self
    }

    /// How often to look for ready work and expired leases when idle (default 1 s).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.options.poll_interval = interval;
        self
    }

    /// How long a claim holds without renewal (default 30 s; at least 300 ms). The heartbeat renews it
    /// every third of this, and a dead worker's work is rescued this long after its last renewal.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.options.lease = lease;
        self
    }

    /// How many attempts an op gets — runs that failed transiently or lost their worker — before it goes
    /// to `error` (default 5).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.options.max_attempts = attempts;
        self
    }

    /// The wait before the first retry after a transient failure, doubling per attempt up to
    /// [`MAX_RETRY_DELAY`] (default 1 s).
    pub fn retry_delay(mut self, first: Duration) -> Self {
        self.options.first_retry_delay = first;
        self
    }

    /// How long a shutdown waits for running handlers before it stops them and releases their ops
    /// (default 30 s).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.options.shutdown_timeout = timeout;
        self
    }

    /// The id written to `claimed_by` and events (default: host name, process id and a random suffix).
    pub fn worker_id(mut self, id: impl Into<String>) -> Self {
        self.options.worker_id = Some(id.into());
        self
    }

    /// Checks the configuration.
    pub fn build(self) -> Result<Worker, WorkerError> {
        if let Some(op_type) = self.duplicate {
            return Err(WorkerError::DuplicateHandler(op_type));
        }
        if self.queues.is_empty() {
            return Err(WorkerError::NoQueues);
        }
        if self.handlers.is_empty() {
            return Err(WorkerError::NoHandlers);
        }
        let options = self.options;
        if options.concurrency == 0 {
            return Err(WorkerError::InvalidOption(
                "concurrency must be at least 1".to_owned(),
            ));
        }
        if options.lease < Duration::from_millis(300) {
            return Err(WorkerError::InvalidOption(format!(
                "a lease of {:?} is too short to renew; use at least 300ms",
                options.lease
            )));
        }
        if options.max_attempts == 0 {
            return Err(WorkerError::InvalidOption(
                "max_attempts must be at least 1".to_owned(),
            ));
        }
        if options.poll_interval.is_zero() {
            return Err(WorkerError::InvalidOption(
                "the poll interval must be longer than zero".to_owned(),
            ));
        }
        if let Some(id) = &options.worker_id
            && (id.is_empty() || id.chars().count() > MAX_WORKER_ID)
        {
            return Err(WorkerError::InvalidOption(format!(
                "a worker id must have 1 to {MAX_WORKER_ID} characters, not {}",
                id.chars().count()
            )));
        }
        let id = options.worker_id.clone().unwrap_or_else(|| {
            let suffix = uuid::Uuid::new_v4().simple().to_string();
            format!(
                "{}:{}:{}",
                self.store.host_name(),
                std::process::id(),
                &suffix[..8]
            )
        });
        Ok(Worker {
            store: self.store,
            id: Arc::from(id),
            queues: self.queues.into_iter().collect(),
            op_types: self.handlers.keys().copied().collect(),
            handlers: self.handlers,
            options,
            shutdown: CancelToken::new(),
            progress: tokio::sync::watch::Sender::new(RunSummary::default()),
        })
    }
}

/// Runs ops: built by [`Worker::builder`], then [`Worker::run`], [`Worker::run_once`] or
/// [`Worker::drain`].
pub struct Worker {
    store: Store,
    id: Arc<str>,
    queues: Vec<String>,
    op_types: Vec<&'static str>,
    handlers: BTreeMap<&'static str, Arc<dyn ErasedHandler>>,
    options: Options,
    shutdown: CancelToken,
    progress: tokio::sync::watch::Sender<RunSummary>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("id", &self.id)
            .field("queues", &self.queues)
            .field("op_types", &self.op_types)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Worker {
    /// A builder for a worker on `store`.
    pub fn builder(store: Store) -> WorkerBuilder {
        WorkerBuilder {
            store,
            queues: BTreeSet::new(),
            handlers: BTreeMap::new(),
            duplicate: None,
            options: Options::default(),
        }
    }

    /// The worker's id, as `claimed_by` and its events record it.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The store it works on.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The queue names it serves.
    pub fn queues(&self) -> &[String] {
        &self.queues
    }

    /// The op types it has handlers for.
    pub fn op_types(&self) -> &[&'static str] {
        &self.op_types
    }

    /// A token that stops the worker when cancelled: it stops claiming, waits up to the shutdown timeout
    /// for running handlers (whose [`OpContext::cancellation`] is set), then stops the rest and releases
    /// their ops to the queue. Wire it to SIGINT/SIGTERM.
    pub fn shutdown_handle(&self) -> CancelToken {
        self.shutdown.clone()
    }

    /// The current run's counts so far, updated as ops are claimed and end: for a progress display while
    /// `run`, `run_once` or `drain` works. Each run starts from zero.
    pub fn progress(&self) -> tokio::sync::watch::Receiver<RunSummary> {
        self.progress.subscribe()
    }
}
