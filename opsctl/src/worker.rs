//! `opsctl worker`: runs the queued ops of the configured database with the built-in handlers.

use std::sync::Arc;
use std::time::Duration;

use ops_core::worker::{OpError, RunSummary, Worker, WorkerBuilder};
use ops_core::{Family, NodeId, Priority, QueueTarget, Store, queue_name};
use ops_schemas::{AnyHandler, AnyJob, OPS};
use serde_json::json;

use crate::CliError;
use crate::cli::WorkerArgs;

/// Builds the worker `args` describe, with the built-in handler for every op type.
pub(crate) fn build(store: Store, args: &WorkerArgs) -> Result<Worker, CliError> {
    let mut builder = Worker::builder(store)
        .concurrency(args.concurrency)
        .poll_interval(args.poll_interval)
        .lease(args.lease)
        .max_attempts(args.max_attempts)
        .shutdown_timeout(args.shutdown_timeout);
    if let Some(id) = &args.worker_id {
        builder = builder.worker_id(id);
    }
    for spec in &args.queues {
        builder = serve(builder, spec)?;
    }
    let handler = builtin_handler(args.handler_delay);
    for kind in OPS {
        builder = kind.register(builder, handler.clone());
    }
    builder
        .build()
        .map_err(|error| CliError::Input(error.to_string()))
}

/// `any`, `networknode`, a node uuid (every family and priority of each), or one full queue name.
fn serve(builder: WorkerBuilder, spec: &str) -> Result<WorkerBuilder, CliError> {
    let spec = spec.trim();
    match spec {
        "any" => return Ok(builder.serve(QueueTarget::Any)),
        "networknode" => return Ok(builder.serve(QueueTarget::NetworkNode)),
        _ => {}
    }
    if let Ok(node) = spec.parse::<NodeId>() {
        return Ok(builder.serve(QueueTarget::Node(node)));
    }
    if is_queue_name(spec) {
        return Ok(builder.queue(spec));
    }
    Err(CliError::Input(format!(
        "unknown queue `{spec}`; expected any, networknode, a node uuid, or a queue name such as \
         {}",
        queue_name(
            QueueTarget::Any,
            Family::ClusterOperation,
            Priority::Background
        )
    )))
}

/// Whether `name` is `{any|networknode|node uuid}-{family}-{priority}`.
fn is_queue_name(name: &str) -> bool {
    let families = [Family::ClusterOperation, Family::Network];
    families.iter().any(|family| {
        Priority::ALL.iter().any(|priority| {
            let suffix = format!("-{}-{}", family.as_str(), priority.name());
            name.strip_suffix(&suffix).is_some_and(|target| {
                target == "any" || target == "networknode" || target.parse::<NodeId>().is_ok()
            })
        })
    })
}

/// The handler every op type gets from opsctl: waits `delay` (for watching leases and rescues), then
/// completes. It stops early, releasing the op, when the worker shuts down.
fn builtin_handler(delay: Duration) -> AnyHandler {
    Arc::new(move |job: AnyJob| {
        Box::pin(async move {
            tracing::debug!(op = %job.op, op_type = job.op_type, tasks = ?job.tasks, attempt = job.attempt, "running");
            if !delay.is_zero() {
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = job.cancellation.cancelled() => {
                        return Err(OpError::interrupted("stopped by a worker shutdown"));
                    }
                }
            }
            Ok(())
        })
    })
}

/// Runs the worker as `args` asks — once, until drained, or until SIGINT/SIGTERM — and reports.
pub(crate) async fn run(worker: Worker, args: &WorkerArgs, json: bool) -> Result<(), CliError> {
    let shutdown = worker.shutdown_handle();
    tokio::spawn(async move {
        crate::signal::wait_for_signal().await;
        shutdown.cancel();
    });
    // A bar on a terminal for --once and --drain: ops ended of those queued when it started.
    let bar = match (
        args.once || args.drain,
        std::io::IsTerminal::is_terminal(&std::io::stderr()),
    ) {
        (true, true) => Some(progress_bar(&worker).await),
        _ => None,
    };
    let summary = if args.once {
        worker.run_once().await
    } else if args.drain {
        worker.drain().await
    } else {
        worker.run().await
    }
    .map_err(|error| match error {
        ops_core::worker::WorkerError::Store(store) => CliError::Store(store),
        other => CliError::Failed(ops_core::ErrorChain(&other).to_string()),
    });
    if let Some((bar, updates)) = bar {
        updates.abort();
        bar.finish_and_clear();
    }
    let summary = summary?;
    if json {
        let mut value = serde_json::to_value(summary).unwrap_or_default();
        value["worker"] = json!(worker.id());
        crate::output::outln!("{value}");
    } else {
        crate::output::outln!("{}", render(worker.id(), &summary));
    }
    Ok(())
}

/// A bar following the worker's progress, sized by the work queued in its queues now (follow-ups and
/// retries may add to it).
async fn progress_bar(worker: &Worker) -> (indicatif::ProgressBar, tokio::task::JoinHandle<()>) {
    let queued = worker
        .store()
        .queue_depth(worker.queues())
        .await
        .unwrap_or(0);
    let bar = crate::progress::terminal_bar(queued, "ops ended");
    let mut progress = worker.progress();
    let shown = bar.clone();
    let updates = tokio::spawn(async move {
        while progress.changed().await.is_ok() {
            let s = *progress.borrow_and_update();
            let ended = s.completed + s.failed + s.aborted + s.coalesced;
            shown.set_length(shown.length().unwrap_or(0).max(ended));
            shown.set_position(ended);
            shown.set_message(format!(
                "{} completed, {} failed, {} retried, {} deferred",
                s.completed, s.failed, s.retried, s.deferred
            ));
        }
    });
    (bar, updates)
}

fn render(id: &str, s: &RunSummary) -> String {
    format!(
        "worker {id} stopped: claimed {}, completed {}, failed {}, aborted {}, retried {}, deferred {}, \
         released {}, rescued {}, lease lost {}",
        s.claimed,
        s.completed,
        s.failed,
        s.aborted,
        s.retried,
        s.deferred,
        s.released,
        s.rescued,
        s.lease_lost
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_names_are_recognised_by_shape() {
        assert!(is_queue_name("any-clusteroperation-background"));
        assert!(is_queue_name("networknode-clusteroperation-user_waiting"));
        assert!(is_queue_name(
            "0b0a6a4e-8a37-4b5c-9d5c-3e9b1c0f2a10-network-user_facing_high_io"
        ));
        assert!(!is_queue_name("any-clusteroperation-urgent"));
        assert!(!is_queue_name("somewhere-network-background"));
        assert!(!is_queue_name("any"));
    }
}
