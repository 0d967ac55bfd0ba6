//! Timings and what is read from them: medians, percentiles, and comparisons measured interleaved, so
//! that whatever else the machine does falls on both sides alike.

use std::future::Future;
use std::time::{Duration, Instant};

/// Durations of one operation, repeated.
#[derive(Clone, Debug, Default)]
pub struct Samples(Vec<Duration>);

impl Samples {
    /// No samples yet.
    pub fn new() -> Samples {
        Samples(Vec::new())
    }

    /// Adds one duration.
    pub fn push(&mut self, duration: Duration) {
        self.0.push(duration);
    }

    /// Adds every duration of `other`.
    pub fn extend(&mut self, other: &Samples) {
        self.0.extend_from_slice(&other.0);
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The `p`-th percentile (0–100, nearest rank) in microseconds; 0 when empty.
    pub fn percentile_us(&self, p: f64) -> f64 {
        if self.0.is_empty() {
            return 0.0;
        }
        let mut sorted = self.0.clone();
        sorted.sort_unstable();
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        micros(sorted[rank.clamp(1, sorted.len()) - 1])
    }

    /// The median in microseconds.
    pub fn median_us(&self) -> f64 {
        self.percentile_us(50.0)
    }

    /// The 99th percentile in microseconds.
    pub fn p99_us(&self) -> f64 {
        self.percentile_us(99.0)
    }
}

/// A duration in microseconds.
pub fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

/// Runs `operation` `times` times, timing each run.
pub async fn time<E, F, Fut>(times: usize, mut operation: F) -> Result<Samples, E>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    let mut samples = Samples::new();
    for index in 0..times {
        let started = Instant::now();
        operation(index).await?;
        samples.push(started.elapsed());
    }
    Ok(samples)
}

/// Two operations measured side by side: each round runs `a` then `b`, `per_round` times each.
#[derive(Clone, Debug, Default)]
pub struct Comparison {
    /// Every timing of `a`.
    pub a: Samples,
    /// Every timing of `b`.
    pub b: Samples,
    /// Each round's median of `b` over its median of `a`.
    pub round_ratios: Vec<f64>,
}

impl Comparison {
    /// The median of `b` over the median of `a`, over every round.
    pub fn ratio(&self) -> f64 {
        ratio(self.b.median_us(), self.a.median_us())
    }

    /// The smallest and largest round ratio: how much the ratio moved from round to round.
    pub fn spread(&self) -> (f64, f64) {
        self.round_ratios
            .iter()
            .fold((f64::INFINITY, 0.0_f64), |(low, high), r| {
                (low.min(*r), high.max(*r))
            })
    }
}

/// `numerator / denominator`, or 0 when the denominator is 0 (nothing measured).
pub fn ratio(numerator: f64, denominator: f64) -> f64 {
    if denominator > 0.0 {
        numerator / denominator
    } else {
        0.0
    }
}

/// Measures `a` against `b`: `warmup` untimed runs of each, then `rounds` rounds of `per_round` timed
/// runs of `a` followed by as many of `b`. Each operation gets a running index, unique across all its
/// runs (warm-up included), for making fresh ids.
pub async fn compare<E, FA, FutA, FB, FutB>(
    warmup: usize,
    rounds: usize,
    per_round: usize,
    mut a: FA,
    mut b: FB,
) -> Result<Comparison, E>
where
    FA: FnMut(usize) -> FutA,
    FutA: Future<Output = Result<(), E>>,
    FB: FnMut(usize) -> FutB,
    FutB: Future<Output = Result<(), E>>,
{
    for index in 0..warmup {
        a(index).await?;
        b(index).await?;
    }
    let mut comparison = Comparison::default();
    for round in 0..rounds {
        let offset = warmup + round * per_round;
        let round_a = time(per_round, |i| a(offset + i)).await?;
        let round_b = time(per_round, |i| b(offset + i)).await?;
        comparison
            .round_ratios
            .push(ratio(round_b.median_us(), round_a.median_us()));
        comparison.a.extend(&round_a);
        comparison.b.extend(&round_b);
    }
    Ok(comparison)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(micros: &[u64]) -> Samples {
        let mut samples = Samples::new();
        for m in micros {
            samples.push(Duration::from_micros(*m));
        }
        samples
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let s = samples(&[5, 1, 4, 2, 3]);
        assert_eq!(s.median_us(), 3.0);
        assert_eq!(s.percentile_us(0.0), 1.0);
        assert_eq!(s.percentile_us(100.0), 5.0);
        assert_eq!(s.p99_us(), 5.0);
        let hundred = samples(&(1..=100).collect::<Vec<_>>());
        assert_eq!(hundred.p99_us(), 99.0);
        assert_eq!(Samples::new().median_us(), 0.0);
    }

    #[tokio::test]
    async fn a_comparison_interleaves_rounds_and_gives_fresh_indexes() {
        let seen = std::cell::RefCell::new(Vec::new());
        let comparison = compare::<(), _, _, _, _>(
            1,
            2,
            3,
            |i| {
                seen.borrow_mut().push(('a', i));
                async { Ok(()) }
            },
            |i| {
                seen.borrow_mut().push(('b', i));
                async { Ok(()) }
            },
        )
        .await
        .unwrap();
        assert_eq!(
            seen.into_inner(),
            [
                ('a', 0),
                ('b', 0),
                ('a', 1),
                ('a', 2),
                ('a', 3),
                ('b', 1),
                ('b', 2),
                ('b', 3),
                ('a', 4),
                ('a', 5),
                ('a', 6),
                ('b', 4),
                ('b', 5),
                ('b', 6),
            ]
        );
        assert_eq!((comparison.a.len(), comparison.b.len()), (6, 6));
        assert_eq!(comparison.round_ratios.len(), 2);
    }
}
