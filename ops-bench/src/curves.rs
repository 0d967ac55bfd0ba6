//! The curves behind docs/performance.md's figures: one quantity measured at a range of sizes on each
//! backend, where a bench measures two sizes and a ratio. They show what the bars only assert: that the
//! gate is flat in an object's history, that one `filter_pending` beats a loop more the more objects it
//! answers, how workers add up.

use serde::Serialize;

use crate::benches::{gate, worker};
use crate::{BenchError, Profile, Scratch};

/// One figure's measurement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Curve {
    /// `has_pending` latency on an idle object against the length of its history (10 to the profile's
    /// history, by tens).
    HasPendingVsHistory,
    /// `filter_pending` over N objects against N `has_pending` calls, for N from 10 to the profile's
    /// objects, by tens.
    FilterPendingVsObjects,
    /// Worker throughput (no-op handler) against the number of workers draining one queue.
    ThroughputVsWorkers,
}

/// How a curve's axes are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// Evenly spaced values.
    Linear,
    /// Evenly spaced powers of ten.
    Log,
}

/// One line of a figure: a quantity on one backend.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Series {
    /// What the line is (`filter_pending`), without the backend.
    pub label: &'static str,
    /// `sqlite`, `mariadb` or `postgres`.
    pub backend: &'static str,
    /// `(x, y)` pairs, in increasing x.
    pub points: Vec<(f64, f64)>,
}

impl Curve {
    /// Every curve, in the order `opsctl bench --plot` draws them.
    pub const ALL: [Curve; 3] = [
        Curve::HasPendingVsHistory,
        Curve::FilterPendingVsObjects,
        Curve::ThroughputVsWorkers,
    ];

    /// Its name: the file stem of its figure.
    pub fn name(self) -> &'static str {
        match self {
            Curve::HasPendingVsHistory => "has_pending_vs_history",
            Curve::FilterPendingVsObjects => "filter_pending_vs_objects",
            Curve::ThroughputVsWorkers => "throughput_vs_workers",
        }
    }

    /// The figure's title.
    pub fn title(self) -> &'static str {
        match self {
            Curve::HasPendingVsHistory => "has_pending on an idle object against its history",
            Curve::FilterPendingVsObjects => "filter_pending against one has_pending per object",
            Curve::ThroughputVsWorkers => "worker throughput (no-op handler) against workers",
        }
    }

    /// The x axis: its label and scale.
    pub fn x_axis(self) -> (&'static str, Scale) {
        match self {
            Curve::HasPendingVsHistory => ("finished ops in the object's history", Scale::Log),
            Curve::FilterPendingVsObjects => ("objects asked about", Scale::Log),
            Curve::ThroughputVsWorkers => ("workers", Scale::Linear),
        }
    }

    /// The y axis: its label and scale.
    pub fn y_axis(self) -> (&'static str, Scale) {
        match self {
            Curve::HasPendingVsHistory => ("median latency per call (µs)", Scale::Linear),
            Curve::FilterPendingVsObjects => ("median time to answer all (ms)", Scale::Log),
            Curve::ThroughputVsWorkers => ("ops per second", Scale::Linear),
        }
    }

    /// Measures the curve on a fresh scratch database on `backend` (see [`Scratch::create`]), removed
    /// afterwards whatever the outcome; stopped early, like [`Bench::run_until`](crate::Bench::run_until),
    /// when `stop` completes.
    pub async fn measure_until(
        self,
        backend: &str,
        profile: &Profile,
        stop: impl Future<Output = ()>,
    ) -> Result<Vec<Series>, BenchError> {
        let scratch = Scratch::create(backend).await?;
        let store = scratch.store();
        let series = tokio::select! {
            series = async {
                match self {
                    Curve::HasPendingVsHistory => gate::history_curve(store, profile).await,
                    Curve::FilterPendingVsObjects => gate::filter_curve(store, profile).await,
                    Curve::ThroughputVsWorkers => worker::workers_curve(store, profile).await,
                }
            } => series,
            () = stop => Err(BenchError::Stopped),
        };
        scratch.remove().await?;
        series
    }

    /// [`measure_until`](Curve::measure_until) to the end.
    pub async fn measure(
        self,
        backend: &str,
        profile: &Profile,
    ) -> Result<Vec<Series>, BenchError> {
        self.measure_until(backend, profile, std::future::pending())
            .await
    }
}

/// 10, 100, 1,000, ... up to `largest`, which ends the list whether or not it is a power of ten.
pub(crate) fn by_tens(largest: usize) -> Vec<usize> {
    let mut sizes: Vec<usize> = std::iter::successors(Some(10_usize), |size| size.checked_mul(10))
        .take_while(|size| *size < largest)
        .collect();
    sizes.push(largest.max(1));
    sizes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_go_by_tens_to_the_largest() {
        assert_eq!(by_tens(100_000), [10, 100, 1_000, 10_000, 100_000]);
        assert_eq!(by_tens(200), [10, 100, 200]);
        assert_eq!(by_tens(10), [10]);
        assert_eq!(by_tens(5), [5]);
    }
}
