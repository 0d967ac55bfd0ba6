//! Our side of each comparison: `net_op`s (one network target each) through the generated builder,
//! drained by one [`Worker`] with the comparison's concurrency.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ops_bench::sample::Samples;
use ops_core::worker::{OpError, Worker};
use ops_core::{NetworkId, OpId, QueueTarget, Store};
use ops_schemas::ops::NetOp;

use crate::PeerError;
use crate::workload::{BacklogRound, EnqueueRound, Sizes, per_second};

async fn enqueue_net_op(store: &Store, network: NetworkId) -> Result<OpId, PeerError> {
    Ok(ops_bench::sample_ops::net_op(store, network).await?)
}

/// A worker on the network node's queues whose handler notes when each op started and does nothing else.
fn worker(
    store: &Store,
    concurrency: usize,
    started: Arc<Mutex<HashMap<OpId, Instant>>>,
) -> Result<Worker, PeerError> {
    Ok(Worker::builder(store.clone())
        .serve(QueueTarget::NetworkNode)
        .concurrency(concurrency)
        .poll_interval(crate::workload::POLL_INTERVAL)
        .handle(move |_: NetOp, ctx| {
            if let Ok(mut started) = started.lock() {
                started.insert(ctx.op_id(), Instant::now());
            }
            async { Ok::<_, OpError>(()) }
        })
        .build()?)
}

/// Fills a backlog (`sizes.marked` ops on one network, the rest each on a network of its own), times
/// `pending(network)` on it, then drains it.
pub(crate) async fn backlog(
    store: &Store,
    url: &str,
    sizes: &Sizes,
) -> Result<BacklogRound, PeerError> {
    let marked = NetworkId::new_v4();
    let filled = crate::workload::fill_concurrently(sizes.backlog, |i| async move {
        let network = if i < sizes.marked {
            marked
        } else {
            NetworkId::new_v4()
        };
        enqueue_net_op(store, network).await.map(|_| ())
    })
    .await?;
    crate::workload::analyze(url).await?;
    let query = crate::workload::time_query(sizes, "ours", || async {
        Ok(store.pending(marked).await?.len())
    })
    .await?;
    let worker = worker(store, sizes.concurrency, Arc::default())?;
    let timer = Instant::now();
    let summary = worker.drain().await?;
    let drained = per_second(summary.completed as usize, timer.elapsed());
    if summary.completed as usize != sizes.backlog {
        return Err(PeerError::WrongAnswer(format!(
            "the worker completed {} ops of {}",
            summary.completed, sizes.backlog
        )));
    }
    Ok(BacklogRound {
        fill_secs: filled.as_secs_f64(),
        query,
        drain_jobs_per_sec: drained,
    })
}

/// Enqueues `sizes.enqueues` three-target ops one transaction each, one after the other.
pub(crate) async fn enqueue(store: &Store, sizes: &Sizes) -> Result<EnqueueRound, PeerError> {
    let timer = Instant::now();
    for _ in 0..sizes.enqueues {
        ops_bench::sample_ops::three_target_op(store).await?;
    }
    Ok(EnqueueRound {
        single_per_sec: per_second(sizes.enqueues, timer.elapsed()),
        batch_per_sec: None,
    })
}

/// Enqueue → handler start for `sizes.latency_jobs` ops enqueued `sizes.latency_gap` apart, with a
/// running worker.
pub(crate) async fn start_latency(store: &Store, sizes: &Sizes) -> Result<Samples, PeerError> {
    let started = Arc::new(Mutex::new(HashMap::new()));
    let running = worker(store, sizes.concurrency, Arc::clone(&started))?;
    let shutdown = running.shutdown_handle();
    let run = tokio::spawn(async move { running.run().await });
    // The worker's listener and first poll settle before the first op.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut enqueued = Vec::with_capacity(sizes.latency_jobs);
    for _ in 0..sizes.latency_jobs {
        let at = Instant::now();
        enqueued.push((enqueue_net_op(store, NetworkId::new_v4()).await?, at));
        tokio::time::sleep(sizes.latency_gap).await;
    }
    crate::workload::wait_for(sizes.latency_jobs, || {
        started.lock().map(|started| started.len()).unwrap_or(0)
    })
    .await?;
    shutdown.cancel();
    run.await.map_err(|e| PeerError::Task(e.to_string()))??;
    let started = started.lock().map(|s| s.clone()).unwrap_or_default();
    let mut latency = Samples::new();
    for (i, (op, at)) in enqueued.iter().enumerate() {
        if let Some(start) = started.get(op) {
            let waited = start.duration_since(*at);
            tracing::debug!(i, waited_us = waited.as_micros() as u64, "enqueue to start");
            latency.push(waited);
        }
    }
    Ok(latency)
}
