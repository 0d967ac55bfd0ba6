//! graphile_worker (PostgreSQL): the same work as ours, as its documentation shows it — a typed
//! `TaskHandler`, `WorkerOptions` with the comparison's concurrency, `run_once` to drain and `run` (with
//! LISTEN/NOTIFY) for latency. Its defaults otherwise: no local queue, no completion batching.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use graphile_worker::{IntoTaskHandlerResult, JobSpec, TaskHandler, WorkerContext, WorkerOptions};
use ops_bench::sample::Samples;
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgPoolOptions;

use crate::PeerError;
use crate::workload::{BacklogRound, EnqueueRound, FILL_BATCH, Sizes, backlog_network, per_second};

/// Its tables live in this schema of the scratch database.
const SCHEMA: &str = "graphile_worker";

/// The best "which in-flight jobs reference network X" its tables allow: payloads are `json`, which no
/// index of its serves, and finished jobs are deleted, so every row left is queued, running or retrying.
pub(crate) const IN_FLIGHT_QUERY: &str = "SELECT id FROM graphile_worker._private_jobs \
     WHERE payload->>'network_uuid' = $1 AND attempts < max_attempts";

/// The job: a network, and a sequence number for the latency run.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct NoOp {
    network_uuid: String,
    seq: usize,
}

/// When each job's handler started, by sequence number.
#[derive(Clone, Debug, Default)]
struct Started(Arc<Mutex<HashMap<usize, Instant>>>);

impl TaskHandler for NoOp {
    const IDENTIFIER: &'static str = "no_op";

    async fn run(self, ctx: WorkerContext) -> impl IntoTaskHandlerResult {
        if let Some(Started(started)) = ctx.get_ext::<Started>()
            && let Ok(mut started) = started.lock()
        {
            started.insert(self.seq, Instant::now());
        }
        Ok::<(), String>(())
    }
}

async fn worker(
    url: &str,
    sizes: &Sizes,
    started: Started,
) -> Result<graphile_worker::Worker, PeerError> {
    let pool = PgPoolOptions::new()
        .max_connections(u32::try_from(sizes.concurrency + 2).unwrap_or(u32::MAX))
        .connect(url)
        .await
        .map_err(PeerError::peer("graphile_worker: connecting"))?;
    WorkerOptions::default()
        .pg_pool(pool)
        .schema(SCHEMA)
        .concurrency(sizes.concurrency)
        .add_extension(started)
        .define_job::<NoOp>()
        .init()
        .await
        .map_err(PeerError::peer("graphile_worker: starting a worker"))
}

fn job(network_uuid: &str, seq: usize) -> NoOp {
    NoOp {
        network_uuid: network_uuid.to_owned(),
        seq,
    }
}

/// The backlog round on the scratch database at `url`.
pub(crate) async fn backlog(url: &str, sizes: &Sizes) -> Result<BacklogRound, PeerError> {
    let worker = worker(url, sizes, Started::default()).await?;
    let utils = worker.create_utils();
    let marked = uuid::Uuid::new_v4().to_string();
    let timer = Instant::now();
    let spec = JobSpec::default();
    for start in (0..sizes.backlog).step_by(FILL_BATCH) {
        let jobs: Vec<(NoOp, &JobSpec)> = (start..(start + FILL_BATCH).min(sizes.backlog))
            .map(|i| (job(&backlog_network(i, sizes, &marked), i), &spec))
            .collect();
        utils
            .add_jobs(&jobs)
            .await
            .map_err(PeerError::peer("graphile_worker: adding jobs in a batch"))?;
    }
    let filled = timer.elapsed();
    crate::workload::analyze(url).await?;
    let pool = worker.pg_pool().clone();
    let query = crate::workload::time_query(sizes, "graphile_worker", || async {
        let found: Vec<i64> = sqlx::query_scalar(IN_FLIGHT_QUERY)
            .bind(&marked)
            .fetch_all(&pool)
            .await
            .map_err(PeerError::peer("graphile_worker: the in-flight query"))?;
        Ok(found.len())
    })
    .await?;
    let timer = Instant::now();
    worker
        .run_once()
        .await
        .map_err(PeerError::peer("graphile_worker: run_once"))?;
    let elapsed = timer.elapsed();
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM graphile_worker._private_jobs")
        .fetch_one(&pool)
        .await
        .map_err(PeerError::peer("graphile_worker: counting jobs left"))?;
    if left != 0 {
        return Err(PeerError::WrongAnswer(format!(
            "graphile_worker left {left} jobs of {}",
            sizes.backlog
        )));
    }
    pool.close().await;
    Ok(BacklogRound {
        fill_secs: filled.as_secs_f64(),
        query,
        drain_jobs_per_sec: per_second(sizes.backlog, elapsed),
    })
}

/// One job per `add_job`, one after the other; then the same count in one `add_jobs`.
pub(crate) async fn enqueue(url: &str, sizes: &Sizes) -> Result<EnqueueRound, PeerError> {
    let worker = worker(url, sizes, Started::default()).await?;
    let utils = worker.create_utils();
    let network = uuid::Uuid::new_v4().to_string();
    let timer = Instant::now();
    for seq in 0..sizes.enqueues {
        utils
            .add_job(job(&network, seq), JobSpec::default())
            .await
            .map_err(PeerError::peer("graphile_worker: adding a job"))?;
    }
    let single_per_sec = per_second(sizes.enqueues, timer.elapsed());
    let spec = JobSpec::default();
    let jobs: Vec<(NoOp, &JobSpec)> = (0..sizes.enqueues)
        .map(|seq| (job(&network, seq), &spec))
        .collect();
    let timer = Instant::now();
    utils
        .add_jobs(&jobs)
        .await
        .map_err(PeerError::peer("graphile_worker: adding jobs in a batch"))?;
    let batch_per_sec = per_second(sizes.enqueues, timer.elapsed());
    worker.pg_pool().close().await;
    Ok(EnqueueRound {
        single_per_sec,
        batch_per_sec: Some(batch_per_sec),
    })
}

/// Enqueue → handler start with a running worker (LISTEN/NOTIFY).
pub(crate) async fn start_latency(url: &str, sizes: &Sizes) -> Result<Samples, PeerError> {
    let started = Started::default();
    let worker = Arc::new(worker(url, sizes, started.clone()).await?);
    let utils = worker.create_utils();
    let running = Arc::clone(&worker);
    let run = tokio::spawn(async move { running.run().await });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let network = uuid::Uuid::new_v4().to_string();
    let mut enqueued = Vec::with_capacity(sizes.latency_jobs);
    for seq in 0..sizes.latency_jobs {
        let at = Instant::now();
        utils
            .add_job(job(&network, seq), JobSpec::default())
            .await
            .map_err(PeerError::peer("graphile_worker: adding a job"))?;
        enqueued.push(at);
        tokio::time::sleep(sizes.latency_gap).await;
    }
    crate::workload::wait_for(sizes.latency_jobs, || {
        started.0.lock().map(|started| started.len()).unwrap_or(0)
    })
    .await?;
    worker.request_shutdown();
    run.await
        .map_err(|e| PeerError::Task(e.to_string()))?
        .map_err(PeerError::peer("graphile_worker: run"))?;
    worker.pg_pool().close().await;
    let started = started.0.lock().map(|s| s.clone()).unwrap_or_default();
    let mut latency = Samples::new();
    for (seq, at) in enqueued.iter().enumerate() {
        if let Some(start) = started.get(&seq) {
            latency.push(start.duration_since(*at));
        }
    }
    Ok(latency)
}
