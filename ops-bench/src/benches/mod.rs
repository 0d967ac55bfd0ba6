//! The benches, each a function from a fresh store (or two) and a profile to an [`Outcome`].

mod enqueue;
mod gate;
mod prune;
mod reads;
mod worker;

use crate::{BenchError, Outcome, Profile, Scratch};

/// One benchmark of DESIGN.md §11.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bench {
    /// Enqueue of a 3-target op through the generated builder vs hand-written INSERTs of the same rows in
    /// one transaction, on the same connections: ≤ 1.15.
    EnqueueVsRaw,
    /// `has_pending` on an object with the profile's history (100,000 finished ops) vs one with 10, all
    /// finished and with one op in flight: ≤ 1.5.
    HasPendingHistoryGrowth,
    /// `has_pending` on an idle object with 100,000 ops in flight on other objects vs with none: ≤ 1.5.
    HasPendingBacklogGrowth,
    /// `filter_pending` over 10,000 objects vs 10,000 `has_pending` calls: ≥ 20.
    FilterPendingVsLoop,
    /// Enqueue latency p99 while a prune of 1,000,000 target rows runs vs idle: ≤ 2.
    PruneUnderLoad,
    /// Worker throughput (claim → no-op handler → complete) with 1 and 4 workers' worth of concurrency,
    /// and enqueue → start latency at a low steady rate: reported, no bar.
    WorkerThroughput,
    /// `latest`, a `history` page and an `external_view` of an object with 100,000 ops: reported, no bar.
    ReadLatency,
}

impl Bench {
    /// Every bench, in the order `opsctl bench` runs them.
    pub const ALL: [Bench; 7] = [
        Bench::EnqueueVsRaw,
        Bench::HasPendingHistoryGrowth,
        Bench::HasPendingBacklogGrowth,
        Bench::FilterPendingVsLoop,
        Bench::PruneUnderLoad,
        Bench::WorkerThroughput,
        Bench::ReadLatency,
    ];

    /// Its name, as `--only` takes it and its JSON reports it.
    pub fn name(self) -> &'static str {
        match self {
            Bench::EnqueueVsRaw => "enqueue_vs_raw",
            Bench::HasPendingHistoryGrowth => "has_pending_history_growth",
            Bench::HasPendingBacklogGrowth => "has_pending_backlog_growth",
            Bench::FilterPendingVsLoop => "filter_pending_vs_loop",
            Bench::PruneUnderLoad => "prune_under_load",
            Bench::WorkerThroughput => "worker_throughput",
            Bench::ReadLatency => "read_latency",
        }
    }

    /// The bench called `name`.
    pub fn from_name(name: &str) -> Result<Bench, BenchError> {
        Bench::ALL
            .into_iter()
            .find(|bench| bench.name() == name)
            .ok_or_else(|| BenchError::UnknownBench(name.to_owned()))
    }

    /// Every bench's name, comma-separated.
    pub fn names() -> String {
        Bench::ALL.map(Bench::name).join(", ")
    }

    /// Runs the bench on a fresh database (two, for the backlog bench) on `backend` — `sqlite` or a server
    /// URL, see [`Scratch::create`] — and removes it afterwards, whatever the outcome.
    pub async fn run(self, backend: &str, profile: &Profile) -> Result<Outcome, BenchError> {
        let scratch = Scratch::create(backend).await?;
        let outcome = match self {
            Bench::HasPendingBacklogGrowth => match Scratch::create(backend).await {
                Ok(busy) => {
                    let outcome =
                        gate::backlog_growth(scratch.store(), busy.store(), profile).await;
                    busy.remove().await?;
                    outcome
                }
                Err(error) => Err(error),
            },
            Bench::EnqueueVsRaw => enqueue::vs_raw(scratch.store(), profile).await,
            Bench::HasPendingHistoryGrowth => gate::history_growth(scratch.store(), profile).await,
            Bench::FilterPendingVsLoop => gate::filter_vs_loop(scratch.store(), profile).await,
            Bench::PruneUnderLoad => prune::under_load(scratch.store(), profile).await,
            Bench::WorkerThroughput => worker::throughput(scratch.store(), profile).await,
            Bench::ReadLatency => reads::latency(scratch.store(), profile).await,
        };
        scratch.remove().await?;
        outcome
    }
}

/// Runs a measured call, keeping only whether it failed: what a timed operation of a comparison returns.
async fn ran<T, E: Into<BenchError>>(
    call: impl std::future::Future<Output = Result<T, E>>,
) -> Result<(), BenchError> {
    call.await.map(drop).map_err(Into::into)
}

/// A bench task that panicked or was cancelled.
fn joined(error: tokio::task::JoinError) -> BenchError {
    BenchError::Task(error.to_string())
}

/// The backend's name as outcomes report it.
fn backend(store: &ops_core::Store) -> &'static str {
    store.dialect().name()
}
