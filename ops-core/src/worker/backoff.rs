//! How long an op waits before it runs again: after a defer (a dependency is not finished) and after a
//! transient failure.

use std::time::Duration;

/// The first defer waits this long (Shaken Fist's dispatcher: 100 ms) ...
pub const FIRST_DEFER: Duration = Duration::from_millis(100);
/// ... doubling each time, up to this (15 s).
pub const MAX_DEFER: Duration = Duration::from_secs(15);
/// The longest wait before a retry, however many attempts came before.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(60);

/// The wait before an op that has been deferred `defer_count` times already runs again: 100 ms, 200 ms,
/// 400 ms, ... 12.8 s, then 15 s from the eighth defer on.
pub fn defer_delay(defer_count: u32) -> Duration {
    doubling(FIRST_DEFER, defer_count, MAX_DEFER)
}

/// The wait before attempt `attempt + 1`, after attempt `attempt` (1 for the first) failed transiently:
/// `first`, doubling per attempt, at most [`MAX_RETRY_DELAY`].
pub fn retry_delay(first: Duration, attempt: u32) -> Duration {
    doubling(first, attempt.saturating_sub(1), MAX_RETRY_DELAY.max(first))
}

fn doubling(first: Duration, doublings: u32, max: Duration) -> Duration {
    // 2^31 would overflow any useful Duration; beyond 2^20 every schedule has long reached its cap.
    first.saturating_mul(1 << doublings.min(20)).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defers_double_from_100_ms_to_a_15_s_cap() {
        let millis: Vec<u128> = (0..10).map(|n| defer_delay(n).as_millis()).collect();
        assert_eq!(
            millis,
            [100, 200, 400, 800, 1600, 3200, 6400, 12800, 15000, 15000]
        );
        assert_eq!(defer_delay(u32::MAX), MAX_DEFER);
    }

    #[test]
    fn retries_double_from_the_first_delay_to_a_minute() {
        let first = Duration::from_secs(1);
        assert_eq!(retry_delay(first, 1), first);
        assert_eq!(retry_delay(first, 3), Duration::from_secs(4));
        assert_eq!(retry_delay(first, 40), MAX_RETRY_DELAY);
        assert_eq!(
            retry_delay(Duration::from_secs(120), 2),
            Duration::from_secs(120)
        );
    }
}
