//! Running a whole transaction again when the database says it lost a race.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::Dialect;
use crate::StoreError;

/// How many times a transaction is tried before giving up.
pub(crate) const MAX_ATTEMPTS: u32 = 6;
/// The first pause; it doubles after each failed attempt (10, 20, 40, 80, 160 ms: 310 ms in all).
const FIRST_BACKOFF: Duration = Duration::from_millis(10);

/// Why a retried transaction finally failed.
#[derive(Debug)]
pub(crate) enum RetryFailure {
    /// Every attempt hit a retryable error; this is the last one.
    Contended { attempts: u32, source: sqlx::Error },
    /// An error that another attempt would not fix.
    Fatal(sqlx::Error),
}

/// Runs `attempt` until it commits, fails for good, or [`MAX_ATTEMPTS`] retryable failures have happened.
///
/// `attempt` must do the whole transaction, begin to commit: a failed attempt's transaction is rolled back
/// when it is dropped, so every retry starts from a clean slate. Its `Ok(Err(_))` is a decision made inside
/// the transaction (not found, illegal move) and is returned at once.
pub(crate) async fn with_retry<T, E, F, Fut>(
    retries: &AtomicU64,
    dialect: Dialect,
    mut attempt: F,
) -> Result<Result<T, E>, RetryFailure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Result<T, E>, sqlx::Error>>,
{
    let mut backoff = FIRST_BACKOFF;
    let mut attempts = 0;
    loop {
        attempts += 1;
        match attempt().await {
            Ok(outcome) => return Ok(outcome),
            Err(error) if dialect.is_retryable(&error) => {
                if attempts >= MAX_ATTEMPTS {
                    return Err(RetryFailure::Contended {
                        attempts,
                        source: error,
                    });
                }
                retries.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(attempts, %error, "transaction lost a race; retrying");
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
            Err(error) => return Err(RetryFailure::Fatal(error)),
        }
    }
}

/// A retried transaction's outcome as the store reports it: a failure becomes [`StoreError::Query`] saying
/// what was being done.
pub(crate) fn retried<T>(
    outcome: Result<Result<T, StoreError>, RetryFailure>,
    action: impl FnOnce() -> String,
) -> Result<T, StoreError> {
    match outcome {
        Ok(result) => result,
        Err(RetryFailure::Contended { source, .. } | RetryFailure::Fatal(source)) => {
            Err(StoreError::Query {
                action: action(),
                source,
            })
        }
    }
}
