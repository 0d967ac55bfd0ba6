//! [`Enqueue`]: the builder that turns a typed op into one committed transaction.

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use crate::Envelope;
use crate::store::NewOp;
use crate::{
    ClusterOperation, CoalesceKey, Dependency, EnqueueError, Family, Header, OpId, OpTask,
    Priority, QueueTarget, Store, queue_name,
};

/// The longest `request_id` the store keeps (`cluster_operations.request_id` is `VARCHAR(255)`).
pub const MAX_REQUEST_ID: usize = 255;

/// Marks an [`Enqueue`] whose priority is not chosen yet. It cannot be awaited: every op needs a priority
/// and there is deliberately no default.
#[derive(Clone, Copy, Debug)]
pub struct NoPriority;

/// A pending enqueue of one op. Set its priority and tasks, then `.await` it.
///
/// ```no_run
/// use ops_core::{ClusterOperation, InstanceId, NodeId, OpTask, Priority, Store};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
/// #[serde(rename_all = "snake_case")]
/// enum NodeInstTask {
///     HealthCheckKvmProcess,
/// }
///
/// impl OpTask for NodeInstTask {
///     fn name(self) -> &'static str {
///         "health_check_kvm_process"
///     }
/// }
///
/// #[derive(Serialize, Deserialize, ClusterOperation)]
/// #[operation(name = "node_inst_op", tasks = NodeInstTask, queue = node)]
/// struct NodeInstOp {
///     #[context]
///     node_uuid: NodeId,
///     #[target]
///     instance_uuid: InstanceId,
/// }
///
/// # async fn run(store: Store, node_uuid: NodeId, instance_uuid: InstanceId) -> Result<(), ops_core::EnqueueError> {
/// let id = NodeInstOp { node_uuid, instance_uuid }
///     .enqueue(&store)
///     .priority(Priority::UserFacing)
///     .task(NodeInstTask::HealthCheckKvmProcess)
///     .await?;
/// # Ok(())
/// # }
/// ```
///
/// Awaiting writes the op header, its `queued` state, its work-queue row, one target row per declared
/// target and the audit event in one transaction, and returns the op's id; on error nothing is written.
#[must_use = "an enqueue does nothing until it is awaited"]
#[derive(Debug)]
pub struct Enqueue<'s, Op: ClusterOperation, P = NoPriority> {
    store: &'s Store,
    op: Op,
    priority: P,
    uuid: Option<OpId>,
    request_id: Option<String>,
    tasks: Vec<Op::Task>,
    depends_on: Vec<Dependency>,
    runs_after: Vec<Dependency>,
}

impl<'s, Op: ClusterOperation> Enqueue<'s, Op, NoPriority> {
    pub(crate) fn new(store: &'s Store, op: Op) -> Self {
        Enqueue {
            store,
            op,
            priority: NoPriority,
            uuid: None,
            request_id: None,
            tasks: Vec::new(),
            depends_on: Vec::new(),
            runs_after: Vec::new(),
        }
    }
}

impl<'s, Op: ClusterOperation, P> Enqueue<'s, Op, P> {
    /// Chooses the priority; required.
    pub fn priority(self, priority: Priority) -> Enqueue<'s, Op, Priority> {
        Enqueue {
            store: self.store,
            op: self.op,
            priority,
            uuid: self.uuid,
            request_id: self.request_id,
            tasks: self.tasks,
            depends_on: self.depends_on,
            runs_after: self.runs_after,
        }
    }

    /// Appends one task; at least one is required.
    pub fn task(mut self, task: Op::Task) -> Self {
        self.tasks.push(task);
        self
    }

    /// Appends tasks, in order.
    pub fn tasks(mut self, tasks: impl IntoIterator<Item = Op::Task>) -> Self {
        self.tasks.extend(tasks);
        self
    }

    /// A hard dependency: this op waits for `dependency`, and fails or aborts if it does.
    pub fn depends_on(mut self, dependency: Dependency) -> Self {
        self.depends_on.push(dependency);
        self
    }

    /// An ordering-only dependency: this op runs after `dependency` ends, however it ends.
    pub fn runs_after(mut self, dependency: Dependency) -> Self {
        self.runs_after.push(dependency);
        self
    }

    /// The API request that caused this op, for tracing it across services.
    pub fn request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = Some(request_id.into());
        self
    }

    /// Uses a caller-chosen id instead of a fresh one, e.g. to make a retried request idempotent: a second
    /// enqueue with the same id fails with [`EnqueueError::Duplicate`] and writes nothing.
    pub fn uuid(mut self, uuid: OpId) -> Self {
        self.uuid = Some(uuid);
        self
    }
}

impl<'s, Op: ClusterOperation> Enqueue<'s, Op, Priority> {
    /// Validates the op and builds what the transaction writes.
    pub(crate) fn prepare(self) -> Result<(&'s Store, NewOp), EnqueueError> {
        if self.tasks.is_empty() {
            return Err(EnqueueError::NoTasks);
        }
        if let Some(request_id) = &self.request_id
            && request_id.chars().count() > MAX_REQUEST_ID
        {
            return Err(EnqueueError::RequestIdTooLong {
                length: request_id.chars().count(),
                max: MAX_REQUEST_ID,
            });
        }
        if let Some(at) = self
            .request_id
            .as_deref()
            .and_then(|id| id.chars().position(|c| c == '\0'))
        {
            return Err(EnqueueError::RequestIdNul { at });
        }
        let coalesce_key =
            if self.tasks.len() == 1 && self.depends_on.is_empty() && self.runs_after.is_empty() {
                self.op.coalescing(&self.tasks)
            } else {
                None
            };
        if let Some(key) = &coalesce_key {
            let length = key.as_str().chars().count();
            if length > CoalesceKey::MAX_LEN {
                return Err(EnqueueError::CoalesceKeyTooLong {
                    length,
                    max: CoalesceKey::MAX_LEN,
                });
            }
            if let QueueTarget::Node(_) = self.op.queue_target()
                && self.op.family() != Family::Network
            {
                return Err(EnqueueError::InvalidCoalescibleEnqueue {
                    op_type: Op::OP_TYPE,
                    queue: queue_name(self.op.queue_target(), self.op.family(), self.priority),
                });
            }
        }
        let envelope = Envelope {
            header: Header {
                uuid: self.uuid.unwrap_or_else(OpId::new_v4),
                priority: self.priority,
                request_id: self.request_id,
                tasks: self.tasks,
                depends_on: self.depends_on,
                runs_after: self.runs_after,
                version: Op::VERSION,
            },
            body: self.op,
        };
        let metadata = envelope.to_wire()?;
        let Envelope { header, body: op } = envelope;
        let new_op = NewOp {
            uuid: header.uuid,
            op_type: Op::OP_TYPE,
            version: Op::VERSION,
            priority: header.priority,
            request_id: header.request_id,
            task_names: header.tasks.iter().map(|task| task.name()).collect(),
            queue_name: queue_name(op.queue_target(), op.family(), header.priority),
            metadata,
            targets: op.targets(),
            context: op.context(),
            coalesce_key: coalesce_key.map(|key| key.as_str().to_owned()),
        };
        Ok((self.store, new_op))
    }
}

impl<'s, Op: ClusterOperation> IntoFuture for Enqueue<'s, Op, Priority> {
    type Output = Result<OpId, EnqueueError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 's>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let (store, op) = self.prepare()?;
            store.enqueue_new_op(&op).await
        })
    }
}
