//! [`CancelToken`]: a one-way signal, set once, that any number of tasks can wait for.

use std::sync::Arc;

use tokio::sync::watch;

/// A signal that is set once and stays set, shared by cloning: a worker sets it to tell a handler to stop
/// (shutdown), and a handler waits for it with [`CancelToken::cancelled`] or polls
/// [`CancelToken::is_cancelled`] between steps.
#[derive(Clone, Debug)]
pub struct CancelToken(Arc<watch::Sender<bool>>);

impl Default for CancelToken {
    fn default() -> Self {
        CancelToken(Arc::new(watch::Sender::new(false)))
    }
}

impl CancelToken {
    /// A token not yet set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the token; every waiter wakes. Setting it again does nothing.
    pub fn cancel(&self) {
        self.0.send_replace(true);
    }

    /// Whether the token is set.
    pub fn is_cancelled(&self) -> bool {
        *self.0.borrow()
    }

    /// Completes when the token is set (at once if it already is).
    pub async fn cancelled(&self) {
        let mut receiver = self.0.subscribe();
        // The sender lives in `self`, so the channel cannot close while we wait.
        let _ = receiver.wait_for(|set| *set).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waiters_wake_when_set_and_late_waiters_do_not_wait() {
        let token = CancelToken::new();
        assert!(!token.is_cancelled());
        let waiter = tokio::spawn({
            let token = token.clone();
            async move { token.cancelled().await }
        });
        tokio::task::yield_now().await;
        token.cancel();
        waiter.await.unwrap();
        assert!(token.is_cancelled());
        token.cancelled().await;
        token.cancel();
        assert!(token.is_cancelled());
    }
}
