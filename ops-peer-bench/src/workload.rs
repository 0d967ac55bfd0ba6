//! What every contender is asked to do, at what size, and what one round of it measured.

use std::future::Future;
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt, TryStreamExt};
use ops_bench::sample::Samples;

use crate::PeerError;

/// How often a worker with nothing to do looks for work where nothing tells it (SQLite), ours and
/// apalis's alike; on PostgreSQL both are told by `LISTEN/NOTIFY` and this is only the fallback.
pub(crate) const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// The sizes and settings of a run; the same for us and every peer.
#[derive(Clone, Debug)]
pub(crate) struct Sizes {
    /// Jobs pre-enqueued and then drained in `peer_worker_throughput`.
    pub(crate) backlog: usize,
    /// Of those, how many reference the marked network (`peer_object_in_flight_query`).
    pub(crate) marked: usize,
    /// Timed calls of the in-flight query per round, after as many untimed ones as warm each pooled
    /// connection past PostgreSQL's first five plannings of a prepared statement (a long-running service's
    /// steady state).
    pub(crate) queries: usize,
    pub(crate) warmup_queries: usize,
    /// Jobs enqueued one per transaction in `peer_enqueue_throughput`.
    pub(crate) enqueues: usize,
    /// Jobs in `peer_enqueue_to_start_latency`, and the gap between two enqueues.
    pub(crate) latency_jobs: usize,
    pub(crate) latency_gap: Duration,
    /// Handlers running at once: our worker's `concurrency`, graphile_worker's `concurrency`, apalis's
    /// concurrency limit.
    pub(crate) concurrency: usize,
    /// Rounds per contender, interleaved (us, peer, us, peer, ...); each figure is the median.
    pub(crate) rounds: usize,
}

impl Sizes {
    /// The sizes: a backlog of 100,000.
    pub(crate) fn full() -> Sizes {
        Sizes {
            backlog: 100_000,
            marked: 5,
            queries: 20,
            warmup_queries: 64,
            enqueues: 2_000,
            latency_jobs: 200,
            latency_gap: Duration::from_millis(20),
            concurrency: 8,
            rounds: 3,
        }
    }

    /// A backlog of 20,000, fewer of everything else.
    pub(crate) fn quick() -> Sizes {
        Sizes {
            backlog: 20_000,
            enqueues: 500,
            latency_jobs: 50,
            rounds: 2,
            ..Sizes::full()
        }
    }

    /// Every count `jobs`: a smoke run that proves the bench works, measuring nothing worth reading.
    pub(crate) fn tiny(jobs: usize) -> Sizes {
        Sizes {
            backlog: jobs.max(2),
            marked: 2,
            queries: 2,
            warmup_queries: 2,
            enqueues: jobs,
            latency_jobs: jobs,
            latency_gap: Duration::from_millis(5),
            concurrency: 2,
            rounds: 1,
        }
    }
}

/// What one contender's backlog round measured.
#[derive(Debug)]
pub(crate) struct BacklogRound {
    /// How long the backlog took to enqueue (not compared: each side fills the fastest way it has).
    pub(crate) fill_secs: f64,
    /// The in-flight query on the marked network, per call.
    pub(crate) query: Samples,
    /// Jobs per second drained.
    pub(crate) drain_jobs_per_sec: f64,
}

/// What one contender's enqueue round measured.
#[derive(Debug)]
pub(crate) struct EnqueueRound {
    /// Jobs per second, one per transaction.
    pub(crate) single_per_sec: f64,
    /// Jobs per second in one batch, for a contender that has batch enqueue.
    pub(crate) batch_per_sec: Option<f64>,
}

/// A peer's backlog goes in with its batch enqueue, this many jobs a call: the fill is not what is
/// compared, and single inserts at `synchronous = FULL` took minutes for apalis-sqlite's 20,000.
pub(crate) const FILL_BATCH: usize = 1_000;

/// The network job `i` of a backlog is on: the marked one for the first `sizes.marked` jobs, a network of
/// its own for every other.
pub(crate) fn backlog_network(i: usize, sizes: &Sizes, marked: &str) -> String {
    if i < sizes.marked {
        marked.to_owned()
    } else {
        uuid::Uuid::new_v4().to_string()
    }
}

/// Runs `enqueue(i)` for `0..jobs`, eight at a time; how long it took.
pub(crate) async fn fill_concurrently<F, Fut>(
    jobs: usize,
    enqueue: F,
) -> Result<Duration, PeerError>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<(), PeerError>>,
{
    let timer = Instant::now();
    stream::iter((0..jobs).map(enqueue))
        .buffer_unordered(8)
        .try_collect::<()>()
        .await?;
    Ok(timer.elapsed())
}

/// Waits until `count()` reaches `expected`, for at most a minute.
pub(crate) async fn wait_for(expected: usize, count: impl Fn() -> usize) -> Result<(), PeerError> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let seen = count();
        if seen >= expected {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(PeerError::WrongAnswer(format!(
                "{seen} of {expected} handlers started within a minute"
            )));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// `count` per second of `elapsed`.
pub(crate) fn per_second(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(f64::MIN_POSITIVE)
}

/// Gathers the planner's statistics on the database at `url`, as autovacuum would have on a server that
/// has run for a while (it is off on some test machines, and SQLite gathers none by itself): every side's
/// in-flight query is timed on tables its planner knows.
pub(crate) async fn analyze(url: &str) -> Result<(), PeerError> {
    macro_rules! analyze_on {
        ($pool:ty) => {
            async {
                let pool = <$pool>::connect(url).await?;
                let done = sqlx::query("ANALYZE").execute(&pool).await.map(|_| ());
                pool.close().await;
                done
            }
            .await
        };
    }
    let analyzed = if url.starts_with("sqlite:") {
        analyze_on!(sqlx::SqlitePool)
    } else {
        analyze_on!(sqlx::PgPool)
    };
    analyzed.map_err(PeerError::peer("gathering planner statistics"))
}

/// Times `sizes.queries` calls of an in-flight query after `sizes.warmup_queries` untimed ones; each must
/// find the `sizes.marked` jobs of the marked network (`who` names the side in the error).
pub(crate) async fn time_query<F, Fut>(
    sizes: &Sizes,
    who: &str,
    mut call: F,
) -> Result<Samples, PeerError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<usize, PeerError>>,
{
    let mut timed = Samples::new();
    for i in 0..sizes.warmup_queries + sizes.queries {
        let timer = Instant::now();
        let found = call().await?;
        if i >= sizes.warmup_queries {
            timed.push(timer.elapsed());
        }
        if found != sizes.marked {
            return Err(PeerError::WrongAnswer(format!(
                "{who}'s in-flight query found {found} jobs on the marked network, not {}",
                sizes.marked
            )));
        }
    }
    Ok(timed)
}
