//! A limit on authentication attempts per client address: a token bucket each, so that a burst passes and
//! a steady guessing rate does not. Attempts cost bcrypt checks (a fifth of a second each at cost 12), so
//! the limit also keeps `/auth` from being used to load the server.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most addresses remembered; past it, those whose buckets have refilled are forgotten.
const MAX_TRACKED: usize = 10_000;

/// Attempts allowed per address: `burst` at once, then one every `every`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthRate {
    /// Attempts an address may make at once.
    pub burst: u32,
    /// How often an address earns another attempt.
    pub every: Duration,
}

impl Default for AuthRate {
    /// 10 at once, then one a second.
    fn default() -> Self {
        AuthRate {
            burst: 10,
            every: Duration::from_secs(1),
        }
    }
}

/// The buckets of the addresses seen.
#[derive(Debug)]
pub(crate) struct AuthLimiter {
    rate: AuthRate,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    attempts: f64,
    at: Instant,
}

impl AuthLimiter {
    pub(crate) fn new(rate: AuthRate) -> Self {
        AuthLimiter {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes an attempt for `addr` at `now`: `Ok` when it has one left, else how long until it has.
    pub(crate) fn attempt(&self, addr: IpAddr, now: Instant) -> Result<(), Duration> {
        let burst = f64::from(self.rate.burst.max(1));
        let per_second = 1.0 / self.rate.every.as_secs_f64().max(f64::EPSILON);
        let refilled = |bucket: &Bucket| {
            let earned = now.saturating_duration_since(bucket.at).as_secs_f64() * per_second;
            (bucket.attempts + earned).min(burst)
        };
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= MAX_TRACKED && !buckets.contains_key(&addr) {
            buckets.retain(|_, bucket| refilled(bucket) < burst);
        }
        let bucket = buckets.entry(addr).or_insert(Bucket {
            attempts: burst,
            at: now,
        });
        let attempts = refilled(bucket);
        if attempts >= 1.0 {
            *bucket = Bucket {
                attempts: attempts - 1.0,
                at: now,
            };
            Ok(())
        } else {
            *bucket = Bucket { attempts, at: now };
            Err(Duration::from_secs_f64((1.0 - attempts) / per_second))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HERE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    const THERE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));

    #[test]
    fn a_burst_passes_then_one_attempt_per_interval() {
        let limiter = AuthLimiter::new(AuthRate {
            burst: 3,
            every: Duration::from_secs(2),
        });
        let start = Instant::now();
        for _ in 0..3 {
            limiter.attempt(HERE, start).unwrap();
        }
        assert_eq!(limiter.attempt(HERE, start), Err(Duration::from_secs(2)));
        // Another address has its own bucket.
        limiter.attempt(THERE, start).unwrap();
        assert_eq!(
            limiter.attempt(HERE, start + Duration::from_secs(1)),
            Err(Duration::from_secs(1))
        );
        limiter
            .attempt(HERE, start + Duration::from_secs(2))
            .unwrap();
        assert!(
            limiter
                .attempt(HERE, start + Duration::from_secs(2))
                .is_err()
        );
        // A long pause refills the burst, no more.
        let later = start + Duration::from_secs(600);
        for _ in 0..3 {
            limiter.attempt(HERE, later).unwrap();
        }
        assert!(limiter.attempt(HERE, later).is_err());
    }

    #[test]
    fn refilled_addresses_are_forgotten_when_too_many_are_tracked() {
        let limiter = AuthLimiter::new(AuthRate {
            burst: 1,
            every: Duration::from_secs(1),
        });
        let start = Instant::now();
        for n in 0..MAX_TRACKED as u32 {
            limiter
                .attempt(IpAddr::V4(std::net::Ipv4Addr::from(n)), start)
                .unwrap();
        }
        let later = start + Duration::from_secs(5);
        limiter.attempt(THERE, later).unwrap();
        assert_eq!(limiter.buckets.lock().unwrap().len(), 1);
    }
}
