//! `ops-peer-bench`: us beside the job queues people already use — graphile_worker on PostgreSQL, apalis
//! on PostgreSQL and SQLite — on the same database servers, the same machine, in one run.
//!
//! Each contender runs the same work at the same size and concurrency with a no-op handler, on a fresh
//! scratch database per round, the rounds interleaved (us, each peer, us, each peer, ...) so that whatever
//! else the machine does falls on every side alike; each figure is the median of its rounds. One JSON line
//! per comparison with `--json`:
//!
//! ```text
//! {"bench": NAME, "peer": "graphile_worker"|"apalis", "backend": "postgres"|"sqlite",
//!  "ours": X, "theirs": Y, "unit": "...", "ratio": R, "bar": ">= 1.0", "pass": bool, ...}
//! ```
//!
//! The ratio is above 1 where we are ahead, whichever way the unit is better. No test asserts a speed:
//! `tests/smoke.rs` runs this at a tiny size so that it cannot rot.

mod apalis_peer;
mod graphile;
mod line;
mod ours;
mod workload;

use std::process::ExitCode;

use clap::Parser;
use ops_bench::Scratch;
use ops_bench::sample::Samples;

use line::{AtLeast, Better, Line, median};
use workload::{BacklogRound, EnqueueRound, Sizes};

/// Why the bench could not finish.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PeerError {
    /// Making or removing a scratch database.
    #[error(transparent)]
    Bench(#[from] ops_bench::BenchError),
    /// Our store failed.
    #[error(transparent)]
    Store(#[from] ops_core::StoreError),
    /// Our enqueue failed.
    #[error(transparent)]
    Enqueue(#[from] ops_core::EnqueueError),
    /// Our worker failed.
    #[error(transparent)]
    Worker(#[from] ops_core::worker::WorkerError),
    /// A peer failed.
    #[error("{what} failed")]
    Peer {
        /// Which peer, doing what.
        what: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A contender answered wrongly: its figure would mean nothing.
    #[error("wrong answer: {0}")]
    WrongAnswer(String),
    /// A task of the run panicked or was cancelled.
    #[error("a bench task stopped: {0}")]
    Task(String),
}

impl PeerError {
    /// Wraps a peer's error, saying what it was doing.
    pub(crate) fn peer<E>(what: &'static str) -> impl FnOnce(E) -> PeerError
    where
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        move |source| PeerError::Peer {
            what,
            source: source.into(),
        }
    }
}

/// Runs us beside graphile_worker and apalis.
#[derive(Debug, Parser)]
#[command(name = "ops-peer-bench", version)]
struct Args {
    /// A backlog of 20,000 instead of 100,000, fewer rounds.
    #[arg(long)]
    quick: bool,
    /// Every count this many jobs, one round, concurrency 2: proves the bench runs, measures nothing.
    #[arg(long, value_name = "JOBS", conflicts_with = "quick")]
    tiny: Option<usize>,
    /// One JSON object per comparison instead of a table.
    #[arg(long)]
    json: bool,
    /// The PostgreSQL server whose scratch databases the PostgreSQL comparisons use.
    #[arg(
        long,
        env = "OPS_TEST_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    postgres: String,
    /// Which backends to run.
    #[arg(long, value_delimiter = ',', default_value = "postgres,sqlite")]
    backends: Vec<BackendName>,
    /// Handlers running at once, for us and every peer.
    #[arg(long)]
    concurrency: Option<usize>,
    /// Only these phases (default: all): `backlog` (worker throughput and the in-flight query, which
    /// share one backlog), `enqueue`, `latency`.
    #[arg(long, value_delimiter = ',')]
    only: Vec<Phase>,
}

/// A part of the run, with the comparisons it measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Phase {
    /// `peer_worker_throughput` and `peer_object_in_flight_query`.
    Backlog,
    /// `peer_enqueue_throughput`.
    Enqueue,
    /// `peer_enqueue_to_start_latency`.
    Latency,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum BackendName {
    Postgres,
    Sqlite,
}

/// One side of a comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Contender {
    Ours,
    Graphile,
    ApalisPostgres,
    ApalisSqlite,
}

impl Contender {
    /// The peer's name in the JSON lines.
    fn peer(self) -> &'static str {
        match self {
            Contender::Ours => "ours",
            Contender::Graphile => "graphile_worker",
            Contender::ApalisPostgres | Contender::ApalisSqlite => "apalis",
        }
    }

    /// The peer's query in `peer_object_in_flight_query`.
    fn in_flight_query(self) -> &'static str {
        match self {
            Contender::Ours => "Store::pending(network)",
            Contender::Graphile => graphile::IN_FLIGHT_QUERY,
            Contender::ApalisPostgres => apalis_peer::PG_IN_FLIGHT_QUERY,
            Contender::ApalisSqlite => apalis_peer::SQLITE_IN_FLIGHT_QUERY,
        }
    }

    async fn backlog(
        self,
        scratch: &Scratch,
        peer_url: &str,
        sizes: &Sizes,
    ) -> Result<BacklogRound, PeerError> {
        match self {
            Contender::Ours => ours::backlog(scratch.store(), scratch.url(), sizes).await,
            Contender::Graphile => graphile::backlog(peer_url, sizes).await,
            Contender::ApalisPostgres => apalis_peer::postgres::backlog(peer_url, sizes).await,
            Contender::ApalisSqlite => apalis_peer::sqlite::backlog(peer_url, sizes).await,
        }
    }

    async fn enqueue(
        self,
        scratch: &Scratch,
        peer_url: &str,
        sizes: &Sizes,
    ) -> Result<EnqueueRound, PeerError> {
        match self {
            Contender::Ours => ours::enqueue(scratch.store(), sizes).await,
            Contender::Graphile => graphile::enqueue(peer_url, sizes).await,
            Contender::ApalisPostgres => apalis_peer::postgres::enqueue(peer_url, sizes).await,
            Contender::ApalisSqlite => apalis_peer::sqlite::enqueue(peer_url, sizes).await,
        }
    }

    async fn start_latency(
        self,
        scratch: &Scratch,
        peer_url: &str,
        sizes: &Sizes,
    ) -> Result<Samples, PeerError> {
        match self {
            Contender::Ours => ours::start_latency(scratch.store(), sizes).await,
            Contender::Graphile => graphile::start_latency(peer_url, sizes).await,
            Contender::ApalisPostgres => {
                apalis_peer::postgres::start_latency(peer_url, sizes).await
            }
            Contender::ApalisSqlite => apalis_peer::sqlite::start_latency(peer_url, sizes).await,
        }
    }
}

/// Every round of every contender on one backend.
#[derive(Debug, Default)]
struct Rounds {
    backlog: Vec<(Contender, BacklogRound)>,
    enqueue: Vec<(Contender, EnqueueRound)>,
    latency: Vec<(Contender, Samples)>,
}

/// Runs `work` for each contender, `sizes.rounds` times interleaved, each on a fresh scratch database.
/// A peer's tables go in the scratch database on a server (in schemas of their own), and in a file of
/// their own beside it on SQLite, whose migration table has the name ours has.
async fn interleaved<T, F, Fut>(
    server: &str,
    contenders: &[Contender],
    sizes: &Sizes,
    mut work: F,
) -> Result<Vec<(Contender, T)>, PeerError>
where
    F: FnMut(Contender, Scratch, String) -> Fut,
    Fut: std::future::Future<Output = (Scratch, Result<T, PeerError>)>,
{
    let mut results = Vec::new();
    for round in 0..sizes.rounds {
        for &contender in contenders {
            tracing::info!(round, peer = contender.peer(), "round");
            let scratch = Scratch::create(server).await?;
            let peer_file = scratch
                .url()
                .strip_prefix("sqlite://")
                .map(|path| format!("{path}-peer"));
            let peer_url = match &peer_file {
                Some(path) => format!("sqlite://{path}"),
                None => scratch.url().to_owned(),
            };
            let (scratch, result) = work(contender, scratch, peer_url).await;
            scratch.remove().await?;
            if let Some(path) = peer_file {
                for suffix in ["", "-wal", "-shm"] {
                    // Absent when the round was ours, or the peer failed before creating it.
                    let _ = std::fs::remove_file(format!("{path}{suffix}"));
                }
            }
            results.push((contender, result?));
        }
    }
    Ok(results)
}

async fn run_backend(
    backend: BackendName,
    args: &Args,
    sizes: &Sizes,
) -> Result<Vec<Line>, PeerError> {
    let (server, name, contenders): (&str, &'static str, &[Contender]) = match backend {
        BackendName::Postgres => (
            &args.postgres,
            "postgres",
            &[
                Contender::Ours,
                Contender::Graphile,
                Contender::ApalisPostgres,
            ],
        ),
        BackendName::Sqlite => (
            "sqlite",
            "sqlite",
            &[Contender::Ours, Contender::ApalisSqlite],
        ),
    };
    let runs = |phase| args.only.is_empty() || args.only.contains(&phase);
    let mut rounds = Rounds::default();
    if runs(Phase::Backlog) {
        rounds.backlog = interleaved(server, contenders, sizes, |c, s, peer_url| async move {
            let result = c.backlog(&s, &peer_url, sizes).await;
            (s, result)
        })
        .await?;
    }
    if runs(Phase::Enqueue) {
        rounds.enqueue = interleaved(server, contenders, sizes, |c, s, peer_url| async move {
            let result = c.enqueue(&s, &peer_url, sizes).await;
            (s, result)
        })
        .await?;
    }
    if runs(Phase::Latency) {
        rounds.latency = interleaved(server, contenders, sizes, |c, s, peer_url| async move {
            let result = c.start_latency(&s, &peer_url, sizes).await;
            (s, result)
        })
        .await?;
    }
    Ok(contenders
        .iter()
        .filter(|&&c| c != Contender::Ours)
        .flat_map(|&peer| lines(name, peer, &rounds, sizes))
        .collect())
}

/// The medians of `figure` over `contender`'s rounds.
fn median_of<T>(
    rounds: &[(Contender, T)],
    contender: Contender,
    figure: impl Fn(&T) -> f64,
) -> f64 {
    let values: Vec<f64> = rounds
        .iter()
        .filter(|(c, _)| *c == contender)
        .map(|(_, round)| figure(round))
        .collect();
    median(&values)
}

/// The comparisons of us against `peer` on `backend`, of the phases that ran.
fn lines(backend: &'static str, peer: Contender, rounds: &Rounds, sizes: &Sizes) -> Vec<Line> {
    let us = Contender::Ours;
    let drain = |c| median_of(&rounds.backlog, c, |r: &BacklogRound| r.drain_jobs_per_sec);
    let fill = |c| median_of(&rounds.backlog, c, |r: &BacklogRound| r.fill_secs);
    let query = |c| median_of(&rounds.backlog, c, |r: &BacklogRound| r.query.median_us());
    let single = |c| median_of(&rounds.enqueue, c, |r: &EnqueueRound| r.single_per_sec);
    let batch = |c| {
        median_of(&rounds.enqueue, c, |r: &EnqueueRound| {
            r.batch_per_sec.unwrap_or(f64::NAN)
        })
    };
    let p50 = |c| median_of(&rounds.latency, c, |s: &Samples| s.median_us() / 1000.0);
    let p99 = |c| median_of(&rounds.latency, c, |s: &Samples| s.p99_us() / 1000.0);
    let name = peer.peer();
    let mut lines = Vec::new();
    if !rounds.backlog.is_empty() {
        lines.push(
            Line::new(
                "peer_worker_throughput",
                name,
                backend,
                drain(us),
                drain(peer),
                "jobs/s",
                Better::Higher,
                Some(AtLeast(1.0)),
            )
            .figure("jobs", sizes.backlog)
            .figure("concurrency", sizes.concurrency)
            .figure("rounds", sizes.rounds),
        );
    }
    if !rounds.enqueue.is_empty() {
        lines.push(
            Line::new(
                "peer_enqueue_throughput",
                name,
                backend,
                single(us),
                single(peer),
                "jobs/s",
                Better::Higher,
                Some(AtLeast(0.5)),
            )
            .figure("jobs", sizes.enqueues)
            .figure("ours_targets_per_job", 3)
            .figure("theirs_batch_jobs_per_s", line::round3(batch(peer))),
        );
    }
    if !rounds.backlog.is_empty() {
        lines.push(
            Line::new(
                "peer_object_in_flight_query",
                name,
                backend,
                query(us),
                query(peer),
                "us",
                Better::Lower,
                Some(AtLeast(100.0)),
            )
            .figure("jobs", sizes.backlog)
            .figure("matching", sizes.marked)
            .figure("theirs_query", peer.in_flight_query())
            .figure("ours_fill_s", line::round3(fill(us)))
            .figure("theirs_fill_s", line::round3(fill(peer))),
        );
    }
    if !rounds.latency.is_empty() {
        let latency_bar = (backend == "postgres").then_some(AtLeast(1.0));
        let mut latency = Line::new(
            "peer_enqueue_to_start_latency",
            name,
            backend,
            p50(us),
            p50(peer),
            "ms p50",
            Better::Lower,
            latency_bar,
        )
        .figure("ours_p99_ms", line::round3(p99(us)))
        .figure("theirs_p99_ms", line::round3(p99(peer)))
        .figure("jobs", sizes.latency_jobs)
        .figure("gap_ms", sizes.latency_gap.as_millis() as u64);
        // Ours no later than theirs at the tail too.
        if latency.pass.is_some() {
            latency.pass = Some(latency.pass == Some(true) && p99(us) <= p99(peer));
        }
        lines.push(latency);
    }
    lines
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let mut sizes = match (args.tiny, args.quick) {
        (Some(jobs), _) => Sizes::tiny(jobs),
        (None, true) => Sizes::quick(),
        (None, false) => Sizes::full(),
    };
    if let Some(concurrency) = args.concurrency {
        sizes.concurrency = concurrency.max(1);
    }
    let mut missed = false;
    for &backend in &args.backends {
        match run_backend(backend, &args, &sizes).await {
            Ok(lines) => {
                for line in lines {
                    missed |= line.pass == Some(false);
                    if args.json {
                        match serde_json::to_string(&line) {
                            Ok(json) => println!("{json}"),
                            Err(error) => eprintln!("ops-peer-bench: {error}"),
                        }
                    } else {
                        println!("{}", line.human());
                    }
                }
            }
            Err(error) => {
                eprintln!("ops-peer-bench: {}", ops_core::ErrorChain(&error));
                return ExitCode::from(2);
            }
        }
    }
    if missed && args.tiny.is_none() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
