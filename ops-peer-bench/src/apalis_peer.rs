//! apalis 1.0, on PostgreSQL (`apalis-postgres`) and on SQLite (`apalis-sqlite`): the same work as ours,
//! as its documentation shows it — a storage on a pool, `push` / `push_bulk`, a `WorkerBuilder` with a
//! concurrency limit, `LISTEN/NOTIFY` (`with_pubsub`) on PostgreSQL for latency. A run stops its worker
//! from the handler that finishes the last job, then waits until the table shows every job done.
//!
//! On SQLite its `setup` turns `synchronous` off on the connection that runs it; the pool its worker
//! uses is opened afterwards with SQLite's default (`FULL`), the setting ours runs with, so both sides
//! make each commit durable.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apalis::prelude::*;
use ops_bench::sample::Samples;
use serde::{Deserialize, Serialize};

use crate::PeerError;
use crate::workload::{BacklogRound, EnqueueRound, FILL_BATCH, Sizes, backlog_network, per_second};

/// The best "which in-flight jobs reference network X" its PostgreSQL table allows: the payload is
/// `bytea` holding JSON, which none of its indexes serves.
pub(crate) const PG_IN_FLIGHT_QUERY: &str = "SELECT id FROM apalis.jobs \
     WHERE convert_from(job, 'UTF8')::jsonb->>'network_uuid' = $1 \
     AND (status IN ('Pending', 'Queued', 'Running') OR (status = 'Failed' AND attempts < max_attempts))";

/// The same on SQLite, where the payload is a JSON blob.
pub(crate) const SQLITE_IN_FLIGHT_QUERY: &str = "SELECT id FROM Jobs \
     WHERE json_extract(CAST(job AS TEXT), '$.network_uuid') = ? \
     AND (status IN ('Pending', 'Queued', 'Running') OR (status = 'Failed' AND attempts < max_attempts))";

/// The job: a network, and a sequence number for the latency run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct NoOp {
    network_uuid: String,
    seq: usize,
}

fn job(network_uuid: &str, seq: usize) -> NoOp {
    NoOp {
        network_uuid: network_uuid.to_owned(),
        seq,
    }
}

/// What the handler shares with the run: when each job started, and after how many jobs to stop.
#[derive(Clone, Debug, Default)]
struct Progress {
    started: Arc<Mutex<HashMap<usize, Instant>>>,
    handled: Arc<AtomicUsize>,
    stop_after: usize,
}

async fn no_op(
    job: NoOp,
    progress: Data<Progress>,
    worker: WorkerContext,
) -> Result<(), BoxDynError> {
    if let Ok(mut started) = progress.started.lock() {
        started.insert(job.seq, Instant::now());
    }
    if progress.handled.fetch_add(1, Ordering::SeqCst) + 1 == progress.stop_after {
        worker.stop()?;
    }
    Ok(())
}

/// Polls `count` until it reaches `expected`, for at most a minute.
async fn wait_for_rows<F, Fut>(expected: i64, count: F) -> Result<(), PeerError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<i64, sqlx::Error>>,
{
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let seen = count()
            .await
            .map_err(PeerError::peer("apalis: counting jobs"))?;
        if seen >= expected {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(PeerError::WrongAnswer(format!(
                "apalis shows {seen} of {expected} jobs done after a minute"
            )));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The three runs for one apalis backend: `$storage` over `$pool`, whose in-flight query is `$query`
/// and whose finished jobs `$done` counts.
macro_rules! apalis_runs {
    ($module:ident, $peer:literal, $storage:ty, $pool:ty, $connect:path, $setup:path, $query:expr, $done:literal, $listen:ident) => {
        pub(crate) mod $module {
            use super::*;

            async fn storage(url: &str, sizes: &Sizes) -> Result<($storage, $pool), PeerError> {
                {
                    let setup_pool = $connect(url, 1).await?;
                    $setup(&setup_pool)
                        .await
                        .map_err(PeerError::peer(concat!($peer, ": setting up its tables")))?;
                    setup_pool.close().await;
                }
                let pool = $connect(url, sizes.concurrency + 2).await?;
                Ok((<$storage>::new(&pool), pool))
            }

            async fn done(pool: &$pool) -> Result<i64, sqlx::Error> {
                sqlx::query_scalar($done).fetch_one(pool).await
            }

            /// Runs a worker until its handler has seen `stop_after` jobs.
            async fn run_until_handled(
                storage: $storage,
                sizes: &Sizes,
                progress: Progress,
            ) -> Result<(), PeerError> {
                let worker = WorkerBuilder::new(concat!($peer, "-bench"))
                    .backend($listen(storage))
                    .data(progress)
                    .concurrency(sizes.concurrency)
                    .build(no_op);
                worker
                    .run()
                    .await
                    .map_err(PeerError::peer(concat!($peer, ": running a worker")))
            }

            /// The backlog round on the scratch database at `url`.
            pub(crate) async fn backlog(
                url: &str,
                sizes: &Sizes,
            ) -> Result<BacklogRound, PeerError> {
                let (storage, pool) = storage(url, sizes).await?;
                let marked = uuid::Uuid::new_v4().to_string();
                let timer = Instant::now();
                let mut sink = storage.clone();
                for start in (0..sizes.backlog).step_by(FILL_BATCH) {
                    let jobs: Vec<NoOp> = (start..(start + FILL_BATCH).min(sizes.backlog))
                        .map(|i| job(&backlog_network(i, sizes, &marked), i))
                        .collect();
                    sink.push_bulk(jobs)
                        .await
                        .map_err(PeerError::peer(concat!($peer, ": pushing jobs in a batch")))?;
                }
                let filled = timer.elapsed();
                crate::workload::analyze(url).await?;
                let query = crate::workload::time_query(sizes, $peer, || async {
                    let found: Vec<String> = sqlx::query_scalar($query)
                        .bind(&marked)
                        .fetch_all(&pool)
                        .await
                        .map_err(PeerError::peer(concat!($peer, ": the in-flight query")))?;
                    Ok(found.len())
                })
                .await?;
                let progress = Progress {
                    stop_after: sizes.backlog,
                    ..Progress::default()
                };
                let timer = Instant::now();
                run_until_handled(storage, sizes, progress).await?;
                wait_for_rows(i64::try_from(sizes.backlog).unwrap_or(i64::MAX), || {
                    done(&pool)
                })
                .await?;
                let elapsed = timer.elapsed();
                pool.close().await;
                Ok(BacklogRound {
                    fill_secs: filled.as_secs_f64(),
                    query,
                    drain_jobs_per_sec: per_second(sizes.backlog, elapsed),
                })
            }

            /// One job per `push`, one after the other; then the same count in one `push_bulk`.
            pub(crate) async fn enqueue(
                url: &str,
                sizes: &Sizes,
            ) -> Result<EnqueueRound, PeerError> {
                let (mut storage, pool) = storage(url, sizes).await?;
                let network = uuid::Uuid::new_v4().to_string();
                let timer = Instant::now();
                for seq in 0..sizes.enqueues {
                    storage
                        .push(job(&network, seq))
                        .await
                        .map_err(PeerError::peer(concat!($peer, ": pushing a job")))?;
                }
                let single_per_sec = per_second(sizes.enqueues, timer.elapsed());
                let jobs: Vec<NoOp> = (0..sizes.enqueues).map(|seq| job(&network, seq)).collect();
                let timer = Instant::now();
                storage
                    .push_bulk(jobs)
                    .await
                    .map_err(PeerError::peer(concat!($peer, ": pushing jobs in a batch")))?;
                let batch_per_sec = per_second(sizes.enqueues, timer.elapsed());
                pool.close().await;
                Ok(EnqueueRound {
                    single_per_sec,
                    batch_per_sec: Some(batch_per_sec),
                })
            }

            /// Enqueue → handler start with a running worker.
            pub(crate) async fn start_latency(
                url: &str,
                sizes: &Sizes,
            ) -> Result<Samples, PeerError> {
                let (storage, pool) = storage(url, sizes).await?;
                let progress = Progress {
                    stop_after: sizes.latency_jobs,
                    ..Progress::default()
                };
                let mut sink = storage.clone();
                let running = {
                    let (sizes, progress) = (sizes.clone(), progress.clone());
                    tokio::spawn(async move { run_until_handled(storage, &sizes, progress).await })
                };
                tokio::time::sleep(Duration::from_millis(200)).await;
                let network = uuid::Uuid::new_v4().to_string();
                let mut enqueued = Vec::with_capacity(sizes.latency_jobs);
                for seq in 0..sizes.latency_jobs {
                    let at = Instant::now();
                    sink.push(job(&network, seq))
                        .await
                        .map_err(PeerError::peer(concat!($peer, ": pushing a job")))?;
                    enqueued.push(at);
                    tokio::time::sleep(sizes.latency_gap).await;
                }
                running
                    .await
                    .map_err(|e| PeerError::Task(e.to_string()))??;
                pool.close().await;
                let started = progress
                    .started
                    .lock()
                    .map(|s| s.clone())
                    .unwrap_or_default();
                let mut latency = Samples::new();
                for (seq, at) in enqueued.iter().enumerate() {
                    if let Some(start) = started.get(&seq) {
                        latency.push(start.duration_since(*at));
                    }
                }
                Ok(latency)
            }
        }
    };
}

async fn connect_postgres(url: &str, connections: usize) -> Result<sqlx::PgPool, PeerError> {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(u32::try_from(connections).unwrap_or(u32::MAX))
        .connect(url)
        .await
        .map_err(PeerError::peer("apalis-postgres: connecting"))
}

async fn connect_sqlite(url: &str, connections: usize) -> Result<sqlx::SqlitePool, PeerError> {
    let options: sqlx::sqlite::SqliteConnectOptions = url
        .parse()
        .map_err(PeerError::peer("apalis-sqlite: reading the database url"))?;
    let options = options.create_if_missing(true);
    sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(u32::try_from(connections).unwrap_or(u32::MAX))
        .connect_with(
            options
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(5)),
        )
        .await
        .map_err(PeerError::peer("apalis-sqlite: connecting"))
}

/// PostgreSQL workers listen for new jobs (`LISTEN/NOTIFY`), as ours do.
fn postgres_listening(
    storage: apalis_postgres::PostgresStorage<NoOp>,
) -> PollWith<apalis_postgres::PostgresStorage<NoOp>, StreamStrategy<apalis_postgres::Pubsub>> {
    storage.with_pubsub()
}

/// SQLite workers poll, as ours do, at the same interval.
fn sqlite_polling(
    storage: apalis_sqlite::SqliteStorage<NoOp>,
) -> PollWith<apalis_sqlite::SqliteStorage<NoOp>, IntervalStrategy> {
    storage.poll_with_interval(crate::workload::POLL_INTERVAL)
}

apalis_runs!(
    postgres,
    "apalis-postgres",
    apalis_postgres::PostgresStorage<NoOp>,
    sqlx::PgPool,
    connect_postgres,
    apalis_postgres::PostgresStorage::setup,
    PG_IN_FLIGHT_QUERY,
    "SELECT count(*) FROM apalis.jobs WHERE status = 'Done'",
    postgres_listening
);

apalis_runs!(
    sqlite,
    "apalis-sqlite",
    apalis_sqlite::SqliteStorage<NoOp>,
    sqlx::SqlitePool,
    connect_sqlite,
    apalis_sqlite::SqliteStorage::setup,
    SQLITE_IN_FLIGHT_QUERY,
    "SELECT count(*) FROM Jobs WHERE status = 'Done'",
    sqlite_polling
);
