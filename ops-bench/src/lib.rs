//! The benchmark harness behind `opsctl bench`: each performance bar of the design (DESIGN.md §11) as a
//! ratio of two things measured side by side in one run, on a fresh database per bench and per backend.
//!
//! No test of this workspace asserts a duration: the bars are checked here, by a user or a release, on
//! the machine and databases that matter. The harness's own tests run each bench once at a tiny size, so
//! it cannot rot.
//!
//! ```no_run
//! # async fn bench() -> Result<(), ops_bench::BenchError> {
//! use ops_bench::{Bench, Profile};
//!
//! for bench in Bench::ALL {
//!     let outcome = bench.run("sqlite", &Profile::quick()).await?;
//!     println!("{}", serde_json::to_string(&outcome).unwrap());
//! }
//! # Ok(())
//! # }
//! ```

mod benches;
mod curves;
mod fill;
mod outcome;
pub mod plot;
mod profile;
pub mod sample;
pub mod sample_ops;
mod scratch;

pub use benches::Bench;
pub use curves::{Curve, Scale, Series};
pub use outcome::{Bar, Outcome};
pub use profile::Profile;
pub use scratch::Scratch;

/// Why a bench could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The store failed: connecting, migrating, or a query the bench measures.
    #[error(transparent)]
    Store(#[from] ops_core::StoreError),
    /// An enqueue the bench measures failed.
    #[error(transparent)]
    Enqueue(#[from] ops_core::EnqueueError),
    /// The worker the bench runs failed.
    #[error(transparent)]
    Worker(#[from] ops_core::worker::WorkerError),
    /// A statement of the bench's own (filling rows, the hand-written side of a comparison) failed.
    #[error("{what} failed")]
    Sql {
        /// What the bench was doing.
        what: &'static str,
        /// The database's error.
        #[source]
        source: sqlx::Error,
    },
    /// A backend URL that cannot be parsed.
    #[error("invalid backend url: {0}")]
    Url(String),
    /// A bench's task panicked or was cancelled.
    #[error("a bench task stopped: {0}")]
    Task(String),
    /// The store answered a bench's setup wrongly: the measurement would mean nothing.
    #[error("wrong answer: {0}")]
    WrongAnswer(String),
    /// The run was stopped (by a signal) before the bench finished; its scratch databases were removed.
    #[error("stopped before it finished; its scratch databases were removed")]
    Stopped,
    /// A figure could not be drawn.
    #[error("drawing a figure failed: {0}")]
    Plot(String),
    /// A name that is no bench.
    #[error("unknown bench `{0}`; the benches: {list}", list = Bench::names())]
    UnknownBench(String),
}
