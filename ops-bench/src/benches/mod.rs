//! The benches, each a function from a fresh store (or two) and a profile to an [`Outcome`].

mod api;
mod enqueue;
pub(crate) mod gate;
mod prune;
mod reads;
pub(crate) mod worker;

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
    /// The API server read by 16 concurrent clients on loopback: p50 and p99 latency, requests per
    /// second and errors; reported, no bar.
    ApiLoad,
}

impl Bench {
    /// Every bench, in the order `opsctl bench` runs them.
    pub const ALL: [Bench; 8] = [
        Bench::EnqueueVsRaw,
        Bench::HasPendingHistoryGrowth,
        Bench::HasPendingBacklogGrowth,
        Bench::FilterPendingVsLoop,
        Bench::PruneUnderLoad,
        Bench::WorkerThroughput,
        Bench::ReadLatency,
        Bench::ApiLoad,
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
            Bench::ApiLoad => "api_load",
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
        self.run_until(backend, profile, std::future::pending())
            .await
    }

    /// [`run`](Bench::run), stopped early when `stop` completes (a signal, say): the measurement is
    /// abandoned with [`BenchError::Stopped`], and the scratch databases are removed all the same, so an
    /// interrupted run leaves nothing behind on a server.
    pub async fn run_until(
        self,
        backend: &str,
        profile: &Profile,
        stop: impl Future<Output = ()>,
    ) -> Result<Outcome, BenchError> {
        let scratch = Scratch::create(backend).await?;
        let busy = match self {
            Bench::HasPendingBacklogGrowth => match Scratch::create(backend).await {
                Ok(busy) => Some(busy),
                Err(error) => {
                    scratch.remove().await?;
                    return Err(error);
                }
            },
            _ => None,
        };
        let outcome = tokio::select! {
            outcome = self.measure(scratch.store(), busy.as_ref().map(Scratch::store), profile) => outcome,
            () = stop => Err(BenchError::Stopped),
        };
        if let Some(busy) = busy {
            busy.remove().await?;
        }
        scratch.remove().await?;
        outcome
    }

    /// The bench itself, on its scratch store (and, for the backlog bench, the busy one beside it).
    async fn measure(
        self,
        store: &ops_core::Store,
        busy: Option<&ops_core::Store>,
        profile: &Profile,
    ) -> Result<Outcome, BenchError> {
        match (self, busy) {
            (Bench::HasPendingBacklogGrowth, Some(busy)) => {
                gate::backlog_growth(store, busy, profile).await
            }
            (Bench::HasPendingBacklogGrowth, None) => Err(BenchError::Task(
                "the backlog bench needs a second database".to_owned(),
            )),
            (Bench::EnqueueVsRaw, _) => enqueue::vs_raw(store, profile).await,
            (Bench::HasPendingHistoryGrowth, _) => gate::history_growth(store, profile).await,
            (Bench::FilterPendingVsLoop, _) => gate::filter_vs_loop(store, profile).await,
            (Bench::PruneUnderLoad, _) => prune::under_load(store, profile).await,
            (Bench::WorkerThroughput, _) => worker::throughput(store, profile).await,
            (Bench::ReadLatency, _) => reads::latency(store, profile).await,
            (Bench::ApiLoad, _) => api::load(store, profile).await,
        }
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
