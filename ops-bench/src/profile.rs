//! How big each bench's data is and how many times it measures: the sizes of the bars, smaller ones for a
//! quick look, and tiny ones for the harness's own tests.

/// Sizes and repetitions for a run of the benches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Profile {
    /// Untimed runs of each side before measuring.
    pub warmup: usize,
    /// Rounds of each comparison (each round times both sides).
    pub rounds: usize,
    /// Timed runs of each side per round.
    pub per_round: usize,
    /// The larger history of `has_pending_history_growth` (the bar's 100,000).
    pub history_rows: usize,
    /// The backlog of `has_pending_backlog_growth` (the bar's 100,000).
    pub backlog_ops: usize,
    /// The objects of `filter_pending_vs_loop` (the bar's 10,000).
    pub filter_objects: usize,
    /// The target rows `prune_under_load` prunes (the bar's 1,000,000).
    pub prune_rows: usize,
    /// The enqueues `prune_under_load` times idle, before the prune: enough that their p99 is not
    /// decided by one passing stall (a checkpoint, another process), as the prune's hundreds of
    /// thousands are not.
    pub prune_idle_enqueues: usize,
    /// The ops `worker_throughput` drains.
    pub worker_ops: usize,
    /// The rows behind `read_latency`'s object (100,000).
    pub read_rows: usize,
    /// The requests `api_load` sends, across its clients.
    pub api_requests: usize,
    /// Whether the sizes are those of the bars, so that a miss is a miss.
    pub at_bar_size: bool,
}

impl Profile {
    /// The sizes of DESIGN.md §11's bars.
    pub fn full() -> Profile {
        Profile {
            warmup: 50,
            rounds: 5,
            per_round: 200,
            history_rows: 100_000,
            backlog_ops: 100_000,
            filter_objects: 10_000,
            prune_rows: 1_000_000,
            prune_idle_enqueues: 50_000,
            worker_ops: 20_000,
            read_rows: 100_000,
            api_requests: 20_000,
            at_bar_size: true,
        }
    }

    /// A quick look, under a minute on SQLite on two cores: the bars' sizes where they are cheap to build,
    /// fewer repetitions, a tenth of the prune.
    pub fn quick() -> Profile {
        Profile {
            warmup: 20,
            rounds: 3,
            per_round: 60,
            prune_rows: 100_000,
            prune_idle_enqueues: 1_800,
            worker_ops: 2_000,
            api_requests: 4_000,
            ..Profile::full()
        }
    }

    /// One small pass of everything, for testing the harness; its ratios mean nothing.
    pub fn tiny() -> Profile {
        Profile {
            warmup: 1,
            rounds: 1,
            per_round: 3,
            history_rows: 200,
            backlog_ops: 200,
            filter_objects: 50,
            prune_rows: 500,
            prune_idle_enqueues: 30,
            worker_ops: 20,
            read_rows: 200,
            api_requests: 32,
            at_bar_size: false,
        }
    }
}
