//! `worker_throughput`: how fast workers drain a queue of no-op ops (claim → handler → complete), with
//! one worker and with several, and how long an op waits from its enqueue to its handler's start at a low
//! steady rate. Reported with no bar: the peer comparison sets one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ops_core::worker::{OpError, Worker};
use ops_core::{NetworkId, OpId, QueueTarget, Store};
use ops_schemas::ops::NetOp;

use super::joined;
use crate::curves::Series;
use crate::sample::{Samples, ratio};
use crate::{BenchError, Outcome, Profile};

/// Workers in the "several" run.
const WORKERS: usize = 4;

/// The worker counts of the throughput curve.
const CURVE_WORKERS: [usize; 4] = [1, 2, 4, 8];

async fn enqueue(store: &Store) -> Result<OpId, BenchError> {
    crate::sample_ops::net_op(store, NetworkId::new_v4()).await
}

/// A worker on the network node's queues whose handler does nothing but note when it started.
fn worker(
    store: &Store,
    started: Arc<Mutex<HashMap<OpId, Instant>>>,
) -> Result<Worker, BenchError> {
    Ok(Worker::builder(store.clone())
        .serve(QueueTarget::NetworkNode)
        .concurrency(1)
        .poll_interval(Duration::from_millis(10))
        .handle(move |_: NetOp, ctx| {
            if let Ok(mut started) = started.lock() {
                started.insert(ctx.op_id(), Instant::now());
            }
            async { Ok::<_, OpError>(()) }
        })
        .build()?)
}

/// Enqueues `ops` ops, then drains them with `workers` workers at once; ops per second.
async fn drain_rate(store: &Store, ops: usize, workers: usize) -> Result<f64, BenchError> {
    for _ in 0..ops {
        enqueue(store).await?;
    }
    let started = Instant::now();
    let mut running = Vec::new();
    for _ in 0..workers {
        let worker = worker(store, Arc::default())?;
        running.push(tokio::spawn(async move { worker.drain().await }));
    }
    let mut completed = 0;
    for run in running {
        completed += run.await.map_err(joined)??.completed;
    }
    Ok(ratio(completed as f64, started.elapsed().as_secs_f64()))
}

pub(super) async fn throughput(store: &Store, profile: &Profile) -> Result<Outcome, BenchError> {
    let one = drain_rate(store, profile.worker_ops, 1).await?;
    let several = drain_rate(store, profile.worker_ops, WORKERS).await?;

    // Enqueue → start at a steady 50 ops/s, well under what one worker drains.
    let started = Arc::new(Mutex::new(HashMap::new()));
    let running = worker(store, Arc::clone(&started))?;
    let shutdown = running.shutdown_handle();
    let run = tokio::spawn(async move { running.run().await });
    let steady = (profile.worker_ops / 10).clamp(5, 200);
    let mut enqueued = Vec::with_capacity(steady);
    for _ in 0..steady {
        let at = Instant::now();
        enqueued.push((enqueue(store).await?, at));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while started.lock().map(|s| s.len()).unwrap_or_default() < steady && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    shutdown.cancel();
    run.await.map_err(joined)??;
    let started = started.lock().map(|s| s.clone()).unwrap_or_default();
    let mut latency = Samples::new();
    for (op, at) in &enqueued {
        if let Some(start) = started.get(op) {
            latency.push(start.duration_since(*at));
        }
    }
    Ok(Outcome::new("worker_throughput", super::backend(store))
        .figure("ops", profile.worker_ops)
        .figure("ops_per_sec_1_worker", one)
        .figure(&format!("ops_per_sec_{WORKERS}_workers"), several)
        .figure("start_latency_p50_ms", latency.median_us() / 1000.0)
        .figure("start_latency_p99_ms", latency.p99_us() / 1000.0)
        .figure("start_latency_ops", latency.len()))
}

/// Ops per second draining the profile's ops with 1, 2, 4 and 8 workers.
pub(crate) async fn workers_curve(
    store: &Store,
    profile: &Profile,
) -> Result<Vec<Series>, BenchError> {
    let mut points = Vec::new();
    for workers in CURVE_WORKERS {
        let rate = drain_rate(store, profile.worker_ops, workers).await?;
        points.push((workers as f64, rate));
    }
    Ok(vec![Series {
        label: "ops/s",
        backend: super::backend(store),
        points,
    }])
}
