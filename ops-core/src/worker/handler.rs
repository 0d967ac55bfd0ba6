//! Typed handlers: what a handler receives ([`OpContext`]), what it returns ([`OpError`]), and the erasure
//! that lets one worker hold handlers for many op types.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use serde_json::{Map, Value};

use super::CancelToken;
use crate::store::NewOp;
use crate::{
    ClusterOperation, Enqueue, EnqueueError, Envelope, Header, OpId, OpTask, Priority, Store,
};

/// What a handler gets besides the op itself.
#[derive(Debug)]
pub struct OpContext<T: OpTask> {
    pub(super) op: OpId,
    pub(super) header: Header<T>,
    pub(super) attempt: u32,
    pub(super) store: Store,
    pub(super) cancel: CancelToken,
    pub(super) worker: std::sync::Arc<str>,
    pub(super) follow_ups: FollowUps,
}

/// The ops a handler asked to enqueue when its op completes.
pub(super) type FollowUps = std::sync::Arc<std::sync::Mutex<Vec<NewOp>>>;

impl<T: OpTask> OpContext<T> {
    /// The op's id.
    pub fn op_id(&self) -> OpId {
        self.op
    }

    /// The op's tasks, in order: what to do.
    pub fn tasks(&self) -> &[T] {
        &self.header.tasks
    }

    /// The op's whole header: priority, request id, dependencies, version.
    pub fn header(&self) -> &Header<T> {
        &self.header
    }

    /// 1 on the first run; each retry after a transient error, and each rescue after a worker died, adds
    /// one. A defer (waiting for a dependency) does not.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The store, for follow-up enqueues and reads. A follow-up enqueue is its own transaction: it commits
    /// whether or not this op then completes.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Enqueues `enqueue` **when this op completes, in the same transaction** as its completion: the
    /// follow-up exists exactly when this op is `complete` (an outbox: no follow-up for an op that then
    /// fails, and no completed op whose follow-up was lost). The op is checked now, as an enqueue checks
    /// it; the id returned is the one it will have, unless it coalesces with an op already queued then,
    /// whose id it takes instead. A follow-up the store refuses at completion (its id taken meanwhile)
    /// sends this op to `error`, with the refusal as the reason, and writes no follow-up.
    pub fn enqueue_on_completion<Op: ClusterOperation>(
        &self,
        enqueue: Enqueue<'_, Op, Priority>,
    ) -> Result<OpId, EnqueueError> {
        let (_, op) = enqueue.prepare()?;
        let id = op.uuid;
        self.follow_ups
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(op);
        Ok(id)
    }

    /// Set when the worker is shutting down, or its run ends (`run_once` and `drain` when they are done,
    /// any run on a store error): finish or give up soon. A handler that is still running when the shutdown
    /// timeout ends is stopped, and its op is released to run again.
    pub fn cancellation(&self) -> &CancelToken {
        &self.cancel
    }

    /// The id of the worker running the op.
    pub fn worker_id(&self) -> &str {
        &self.worker
    }
}

/// How a handler says its op did not complete.
///
/// `?` turns any error into a failure (`error` state, with the error and its sources in the op's error
/// report); [`OpError::transient`] asks for another attempt; [`OpError::abort`] gives up without failing.
pub struct OpError {
    kind: OpErrorKind,
    message: String,
    causes: Vec<String>,
}

/// What kind of ending an [`OpError`] asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OpErrorKind {
    /// The op failed: `error`, with an error report.
    Failed,
    /// Worth another attempt (a timeout, a busy resource): back to `queued` with backoff, until the
    /// worker's attempts are used up, then `error`.
    Transient,
    /// Nothing went wrong, but the op cannot or need not run: `abort`.
    Abort,
    /// The handler stopped early because the worker is shutting down ([`OpContext::cancellation`]): the
    /// op goes back to `queued` at once, and this run does not count as an attempt.
    Interrupted,
}

impl OpError {
    /// A failure with this message.
    pub fn failed(message: impl fmt::Display) -> Self {
        OpError {
            kind: OpErrorKind::Failed,
            message: message.to_string(),
            causes: Vec::new(),
        }
    }

    /// A transient failure with this message.
    pub fn transient(message: impl fmt::Display) -> Self {
        OpError::failed(message).into_transient()
    }

    /// An abort with this reason.
    pub fn abort(reason: impl fmt::Display) -> Self {
        OpError {
            kind: OpErrorKind::Abort,
            ..OpError::failed(reason)
        }
    }

    /// The handler gave up early for a shutdown; the op is released to run again, not counted as an
    /// attempt.
    pub fn interrupted(reason: impl fmt::Display) -> Self {
        OpError {
            kind: OpErrorKind::Interrupted,
            ..OpError::failed(reason)
        }
    }

    /// The same error, marked worth another attempt: `Err(OpError::from(e).into_transient())`.
    pub fn into_transient(self) -> Self {
        OpError {
            kind: OpErrorKind::Transient,
            ..self
        }
    }

    /// The same error with `cause` (and its sources) appended to its causes.
    pub(crate) fn with_cause(mut self, cause: &(dyn std::error::Error + 'static)) -> Self {
        let mut source = Some(cause);
        while let Some(cause) = source {
            self.causes.push(cause.to_string());
            source = cause.source();
        }
        self
    }

    /// What the error asks for.
    pub fn kind(&self) -> OpErrorKind {
        self.kind
    }

    /// The message, without its causes.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The causes, outermost first, as the error's `source()` chain gave them.
    pub fn causes(&self) -> &[String] {
        &self.causes
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for OpError {
    fn from(error: E) -> Self {
        let failure = OpError::failed(&error);
        match error.source() {
            Some(source) => failure.with_cause(source),
            None => failure,
        }
    }
}

impl fmt::Display for OpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        for cause in &self.causes {
            write!(f, ": {cause}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for OpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpError")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("causes", &self.causes)
            .finish()
    }
}

/// A handler's future, boxed so that handlers of many op types live in one map.
pub(super) type HandlerFuture = Pin<Box<dyn Future<Output = Result<(), OpError>> + Send>>;

/// What a handler is started with, whatever the op's type.
pub(super) struct Job {
    pub(super) op: OpId,
    pub(super) metadata: Map<String, Value>,
    pub(super) attempt: u32,
    pub(super) store: Store,
    pub(super) cancel: CancelToken,
    pub(super) worker: std::sync::Arc<str>,
    pub(super) follow_ups: FollowUps,
}

/// A handler for one op type, with the type erased.
pub(super) trait ErasedHandler: Send + Sync {
    /// Decodes the op and starts the handler; a body this op type cannot read is a failure.
    fn start(&self, job: Job) -> HandlerFuture;
}

/// A typed handler: `Fn(Op, OpContext<Op::Task>) -> impl Future<Output = Result<(), OpError>>`.
pub(super) struct Typed<Op, F> {
    handler: F,
    op: PhantomData<fn() -> Op>,
}

impl<Op, F> Typed<Op, F> {
    pub(super) fn new(handler: F) -> Self {
        Typed {
            handler,
            op: PhantomData,
        }
    }
}

impl<Op, F, Fut> ErasedHandler for Typed<Op, F>
where
    Op: ClusterOperation,
    F: Fn(Op, OpContext<Op::Task>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), OpError>> + Send + 'static,
{
    fn start(&self, job: Job) -> HandlerFuture {
        let envelope = match Envelope::<Op>::from_wire(job.metadata) {
            Ok(envelope) => envelope,
            Err(error) => {
                let failure =
                    OpError::failed(format_args!("cannot read the stored `{}` op", Op::OP_TYPE))
                        .with_cause(&error);
                return Box::pin(std::future::ready(Err(failure)));
            }
        };
        let context = OpContext {
            op: job.op,
            header: envelope.header,
            attempt: job.attempt,
            store: job.store,
            cancel: job.cancel,
            worker: job.worker,
            follow_ups: job.follow_ups,
        };
        Box::pin((self.handler)(envelope.body, context))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("bridge br-vxlan-000001 is down")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn errors_keep_their_sources_and_kinds() {
        let error = OpError::from(Outer(std::io::Error::other("no such device")));
        assert_eq!(error.kind(), OpErrorKind::Failed);
        assert_eq!(error.message(), "bridge br-vxlan-000001 is down");
        assert_eq!(error.causes(), ["no such device"]);
        assert_eq!(
            error.to_string(),
            "bridge br-vxlan-000001 is down: no such device"
        );
        let error = error.into_transient();
        assert_eq!(
            (error.kind(), error.causes().len()),
            (OpErrorKind::Transient, 1)
        );
        assert_eq!(OpError::abort("network is gone").kind(), OpErrorKind::Abort);
        assert_eq!(OpError::transient("busy").kind(), OpErrorKind::Transient);
    }
}
