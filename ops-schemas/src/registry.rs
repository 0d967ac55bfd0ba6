//! The registry: one list of every operation type, checked at compile time against the cluster-operation
//! members of [`ObjectType`], so an op cannot be missing from it, listed twice, or listed under a name
//! Shaken Fist does not know.
//!
//! Adding an op is one module in `ops/` and one line in [`OPS`]. A plain list checked by a `const`
//! assertion was chosen over `inventory`/`linkme`: no linker-section magic, and the check is stronger —
//! it fails the build when a known op type has no entry, which automatic collection cannot know.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use ops_core::worker::{CancelToken, OpContext, OpError, WorkerBuilder};
use ops_core::{
    ClusterOperation, Dependency, EnqueueError, ObjectType, OpId, OpTask, Priority, Store,
    TargetSet,
};
use schemars::JsonSchema;
use serde_json::Value;

use crate::ops::*;
use crate::schema::wire_schema;
use crate::tasks::TaskList;

/// One operation type, as the registry knows it.
pub struct OpKind {
    /// The op type, e.g. `node_inst_op`.
    pub name: &'static str,
    /// Its schema version.
    pub version: u32,
    /// Its `#[target]` fields and their object types.
    pub targets: &'static [(&'static str, ObjectType)],
    /// Its `#[context]` fields.
    pub context: &'static [&'static str],
    /// The names of its tasks, in value order.
    pub task_names: fn() -> Vec<&'static str>,
    /// The JSON Schema of its wire form.
    pub schema: fn() -> Value,
    parse: fn(Value) -> Result<Box<dyn AnyOp>, BodyError>,
    register: fn(WorkerBuilder, AnyHandler) -> WorkerBuilder,
}

/// A handler for ops of any type, which sees each op untyped ([`AnyJob`]): for tools that treat every op
/// alike, as `opsctl worker`'s built-in handlers do. Real handlers are typed, registered with
/// [`WorkerBuilder::handle`].
pub type AnyHandler =
    Arc<dyn Fn(AnyJob) -> Pin<Box<dyn Future<Output = Result<(), OpError>> + Send>> + Send + Sync>;

/// One op, as an [`AnyHandler`] sees it.
#[derive(Clone, Debug)]
pub struct AnyJob {
    /// The op's id.
    pub op: OpId,
    /// Its type.
    pub op_type: &'static str,
    /// Its task names, in order.
    pub tasks: Vec<&'static str>,
    /// 1 on the first run (see [`OpContext::attempt`]).
    pub attempt: u32,
    /// Set when the worker shuts down.
    pub cancellation: CancelToken,
}

impl OpKind {
    /// Registers `handler` on `worker` for this op type: the op is decoded into its typed struct (so a body
    /// this build cannot read fails as it would for a typed handler), then handed over untyped.
    pub fn register(&self, worker: WorkerBuilder, handler: AnyHandler) -> WorkerBuilder {
        (self.register)(worker, handler)
    }

    /// Deserialises an op body (the op's own fields, no header) into the typed struct.
    pub fn parse(&self, body: Value) -> Result<Box<dyn AnyOp>, BodyError> {
        (self.parse)(body)
    }
}

impl std::fmt::Debug for OpKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpKind")
            .field("name", &self.name)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

const fn kind<Op>() -> OpKind
where
    Op: ClusterOperation + JsonSchema + Clone,
    Op::Task: TaskList,
{
    OpKind {
        name: Op::OP_TYPE,
        version: Op::VERSION,
        targets: Op::TARGET_FIELDS,
        context: Op::CONTEXT_FIELDS,
        task_names: task_names::<Op>,
        schema: wire_schema::<Op>,
        parse: parse_body::<Op>,
        register: register_any::<Op>,
    }
}

fn register_any<Op: ClusterOperation>(worker: WorkerBuilder, handler: AnyHandler) -> WorkerBuilder {
    worker.handle(move |_op: Op, ctx: OpContext<Op::Task>| {
        handler(AnyJob {
            op: ctx.op_id(),
            op_type: Op::OP_TYPE,
            tasks: ctx.tasks().iter().map(|task| task.name()).collect(),
            attempt: ctx.attempt(),
            cancellation: ctx.cancellation().clone(),
        })
    })
}

/// Every operation type.
pub const OPS: &[OpKind] = &[
    kind::<ArtifactFetchOp>(),
    kind::<ImgcacheOp>(),
    kind::<NetIfaceIpOp>(),
    kind::<NetIfaceOp>(),
    kind::<NetIpOp>(),
    kind::<NetMacaddrIpOp>(),
    kind::<NetOp>(),
    kind::<NodeAopOp>(),
    kind::<NodeBlobOp>(),
    kind::<NodeInstNetIfaceOp>(),
    kind::<NodeInstNetdescOp>(),
    kind::<NodeInstOp>(),
    kind::<NodeInstSnapOp>(),
    kind::<NodeNetOp>(),
];

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

// Every cluster-operation ObjectType has exactly one entry, and every entry is one of them.
const _: () = {
    let mut i = 0;
    while i < OPS.len() {
        let mut found = 0;
        let mut t = 0;
        while t < ObjectType::ALL.len() {
            if ObjectType::ALL[t].is_cluster_operation()
                && same(ObjectType::ALL[t].as_str(), OPS[i].name)
            {
                found += 1;
            }
            t += 1;
        }
        assert!(
            found == 1,
            "an OPS entry is not a cluster-operation ObjectType"
        );
        let mut j = i + 1;
        while j < OPS.len() {
            assert!(
                !same(OPS[i].name, OPS[j].name),
                "an op type is listed twice in OPS"
            );
            j += 1;
        }
        i += 1;
    }
    let mut operations = 0;
    let mut t = 0;
    while t < ObjectType::ALL.len() {
        if ObjectType::ALL[t].is_cluster_operation() {
            operations += 1;
        }
        t += 1;
    }
    assert!(
        operations == OPS.len(),
        "a cluster-operation ObjectType has no entry in OPS"
    );
};

/// The op type `name`, or an error listing the known ones.
pub fn lookup(name: &str) -> Result<&'static OpKind, UnknownOpType> {
    OPS.iter()
        .find(|op| op.name == name)
        .ok_or_else(|| UnknownOpType(name.to_owned()))
}

/// A name that is no operation type.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown operation type `{0}`; known types: {list}", list = OPS.iter().map(|op| op.name).collect::<Vec<_>>().join(", "))]
pub struct UnknownOpType(pub String);

/// A body that does not deserialise into its op's struct; `path` is the JSON path of the bad value (not
/// named in the message when it is the whole body).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid `{op_type}` body{}: {message}", if path == "." { String::new() } else { format!(" at `{path}`") })]
pub struct BodyError {
    /// The op type.
    pub op_type: &'static str,
    /// Where in the body, e.g. `snapshots[0].blob_uuid` (`.` for the whole body).
    pub path: String,
    /// What is wrong there.
    pub message: String,
}

/// The header of a runtime enqueue (what `opsctl enqueue`'s flags give), tasks still by name.
#[derive(Clone, Debug)]
pub struct EnqueueRequest {
    /// Required priority.
    pub priority: Priority,
    /// Task names, at least one, each a task of the op type.
    pub tasks: Vec<String>,
    /// Hard dependencies.
    pub depends_on: Vec<Dependency>,
    /// Ordering-only dependencies.
    pub runs_after: Vec<Dependency>,
    /// The causing request.
    pub request_id: Option<String>,
}

/// Why a runtime enqueue failed. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// A task name the op type does not have.
    #[error("unknown task `{task}` for `{op_type}`; its tasks: {known}")]
    UnknownTask {
        /// The op type.
        op_type: &'static str,
        /// The name given.
        task: String,
        /// The accepted names.
        known: String,
    },
    /// The enqueue itself failed.
    #[error(transparent)]
    Enqueue(#[from] EnqueueError),
}

/// A deserialised op of any registered type.
pub trait AnyOp: Send + Sync {
    /// Its op type.
    fn op_type(&self) -> &'static str;
    /// Its targets.
    fn targets(&self) -> TargetSet;
    /// Its queue name at `priority`.
    fn queue_name(&self, priority: Priority) -> String;
    /// Enqueues it through its generated builder, after checking the task names.
    fn enqueue<'a>(
        self: Box<Self>,
        store: &'a Store,
        request: EnqueueRequest,
    ) -> Pin<Box<dyn Future<Output = Result<OpId, RequestError>> + Send + 'a>>;
}

impl<Op> AnyOp for Op
where
    Op: ClusterOperation + Clone,
    Op::Task: TaskList,
{
    fn op_type(&self) -> &'static str {
        Op::OP_TYPE
    }

    fn targets(&self) -> TargetSet {
        ClusterOperation::targets(self)
    }

    fn queue_name(&self, priority: Priority) -> String {
        ops_core::queue_name(self.queue_target(), self.family(), priority)
    }

    fn enqueue<'a>(
        self: Box<Self>,
        store: &'a Store,
        request: EnqueueRequest,
    ) -> Pin<Box<dyn Future<Output = Result<OpId, RequestError>> + Send + 'a>> {
        Box::pin(async move {
            let tasks = parse_tasks::<Op>(&request.tasks)?;
            let mut enqueue = ops_core::__private::enqueue(store, *self)
                .priority(request.priority)
                .tasks(tasks);
            for dependency in request.depends_on {
                enqueue = enqueue.depends_on(dependency);
            }
            for dependency in request.runs_after {
                enqueue = enqueue.runs_after(dependency);
            }
            if let Some(request_id) = request.request_id {
                enqueue = enqueue.request_id(request_id);
            }
            Ok(enqueue.await?)
        })
    }
}

/// Task names → tasks; an unknown name lists the op's tasks.
pub fn parse_tasks<Op>(names: &[String]) -> Result<Vec<Op::Task>, RequestError>
where
    Op: ClusterOperation,
    Op::Task: TaskList,
{
    names
        .iter()
        .map(|name| {
            <Op::Task as TaskList>::ALL
                .iter()
                .copied()
                .find(|task| ops_core::OpTask::name(*task) == name)
                .ok_or_else(|| RequestError::UnknownTask {
                    op_type: Op::OP_TYPE,
                    task: name.clone(),
                    known: task_names::<Op>().join(", "),
                })
        })
        .collect()
}

fn task_names<Op>() -> Vec<&'static str>
where
    Op: ClusterOperation,
    Op::Task: TaskList,
{
    <Op::Task as TaskList>::ALL
        .iter()
        .map(|task| ops_core::OpTask::name(*task))
        .collect()
}

/// What kind of JSON value `value` is, as an error message names it.
fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn parse_body<Op>(body: Value) -> Result<Box<dyn AnyOp>, BodyError>
where
    Op: ClusterOperation + Clone,
    Op::Task: TaskList,
{
    // serde would also take a struct's fields in order from an array; the wire form is an object.
    if !body.is_object() {
        return Err(BodyError {
            op_type: Op::OP_TYPE,
            path: ".".to_owned(),
            message: format!("expected a JSON object, found {}", json_kind(&body)),
        });
    }
    match serde_path_to_error::deserialize::<_, Op>(body) {
        Ok(op) => Ok(Box::new(op)),
        Err(error) => Err(BodyError {
            op_type: Op::OP_TYPE,
            path: error.path().to_string(),
            message: error.into_inner().to_string(),
        }),
    }
}
