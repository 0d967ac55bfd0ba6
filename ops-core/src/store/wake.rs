//! Waking listening workers (PostgreSQL's LISTEN/NOTIFY) once new work has committed.
//!
//! The notification goes in a statement of its own after the commit, never inside the transaction that
//! wrote the work. PostgreSQL serialises the commits of every transaction that sent a notification on one
//! database-wide lock, held while the commit record is flushed: enqueuers that notify inside their
//! transaction commit one at a time, each waiting for the others' flushes (seen as `Lock:object` waits on
//! `COMMIT` beside a prune). A statement that only notifies writes no commit record, so it holds that lock
//! for microseconds. A wake-up lost to a failure here costs a worker at most one poll interval: workers
//! poll beside their listener, so a failed notification is logged, never returned.

use std::collections::BTreeSet;

use super::dialect::sql;
use super::steps::WORK_CHANNEL;
use super::{Dialect, Store, with_backend};

impl Store {
    /// Tells listening workers that `queues` have work that has committed; nothing off PostgreSQL, where
    /// workers poll.
    pub(crate) async fn wake_workers<'q>(&self, queues: impl IntoIterator<Item = &'q str>) {
        if self.dialect() != Dialect::Postgres {
            return;
        }
        for queue in queues.into_iter().collect::<BTreeSet<_>>() {
            let sent = with_backend!(match self {
                (pool, dialect) => {
                    sqlx::query(sql!(dialect, "SELECT pg_notify(?, ?)"))
                        .bind(WORK_CHANNEL)
                        .bind(queue)
                        .execute(pool)
                        .await
                        .map(|_| ())
                }
            });
            if let Err(error) = sent {
                tracing::warn!(%error, queue, "could not wake the workers of a queue; they find its work at their next poll");
            }
        }
    }
}
