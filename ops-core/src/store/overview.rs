//! What an operator's overview reads: the work queues' depth ([`Store::queue_overview`]) and the network
//! maintainer's recent passes ([`Store::maintainer_passes`]). Read-only; a few queries each, none of which
//! reads an op's history.
//!
//! Recent events are found through their ids: every event id the store writes is a version 7 uuid, whose
//! leading 48 bits are its creation time in milliseconds, so `event_uuid >= <the id of a time>` is a range
//! of the primary key. The events' own `timestamp` decides; the id range, opened [`EVENT_ID_MARGIN`] wider,
//! only keeps the read short. An event written with another kind of id (an imported history) is still
//! counted when its timestamp is in the window, and is read only when its id sorts after the bound.

use serde::Serialize;
use uuid::Uuid;

use super::dialect::sql;
use super::work::RESCUED;
use super::{Store, with_backend};
use crate::network::{MAINTENANCE_PASS, PassRecord};
use crate::{NodeId, StoreError};

/// How much earlier than a window's start the event-id range begins, for an event whose id was made a
/// moment before (or after) the timestamp it records.
pub(super) const EVENT_ID_MARGIN: f64 = 300.0;

/// A state event's `extra` (compact JSON, as the store writes it) that records a move to `complete`, and
/// to `error`.
const TO_COMPLETE: &str = "%\"value\":\"complete\"%";
const TO_ERROR: &str = "%\"value\":\"error\"%";

/// One work queue at one priority, now.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QueueDepth {
    /// The queue's name, e.g. `networknode-clusteroperation-user_waiting`.
    pub queue_name: String,
    /// The priority value of its rows (10 most urgent .. 40).
    pub priority: i64,
    /// Rows waiting to be claimed, delayed ones included.
    pub queued: u64,
    /// Of those, rows scheduled for later (a retry's backoff, a deferral).
    pub delayed: u64,
    /// Rows claimed by a worker: ops running now.
    pub in_flight: u64,
    /// When the oldest waiting row was enqueued (unix seconds); `None` when none waits.
    pub oldest_queued_at: Option<f64>,
}

/// What the work queues hold now, and how ops ended since a time.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QueueOverview {
    /// Every queue and priority that holds a row, by name then priority.
    pub queues: Vec<QueueDepth>,
    /// The start of the window the counts below cover (unix seconds).
    pub since: f64,
    /// Ops taken back from a worker whose lease expired, in the window.
    pub rescued: u64,
    /// Ops that reached `complete` in the window.
    pub completed: u64,
    /// Ops that reached `error` in the window.
    pub failed: u64,
}

impl QueueOverview {
    /// The share of the window's finished ops that failed; `None` when none finished.
    pub fn error_rate(&self) -> Option<f64> {
        let finished = self.completed + self.failed;
        (finished > 0).then(|| self.failed as f64 / finished as f64)
    }
}

/// One maintainer pass, as its status event records it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RecordedPass {
    /// When the pass ended (unix seconds).
    pub at: f64,
    /// The host that ran it.
    pub host: String,
    /// The node it looked after.
    pub node: NodeId,
    /// What it found and did.
    pub record: PassRecord,
}

#[derive(sqlx::FromRow)]
struct RawDepth {
    queue_name: String,
    priority: i64,
    queued: i64,
    delayed_rows: i64,
    in_flight: i64,
    oldest_queued_at: Option<f64>,
}

#[derive(sqlx::FromRow)]
struct RawPass {
    timestamp: f64,
    fqdn: String,
    node: String,
    extra: Option<String>,
}

/// The smallest version 7 uuid of the millisecond `at`, as stored text: every event id made at `at` or
/// later sorts at or after it.
pub(super) fn first_event_id_at(at: f64) -> String {
    let millis = (at.max(0.0) * 1000.0) as u64 & 0xFFFF_FFFF_FFFF;
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
    Uuid::from_bytes(bytes).hyphenated().to_string()
}

fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

impl Store {
    /// The depth of every work queue by priority, now, and how many ops were rescued, completed and failed
    /// since `since` (unix seconds): what the dashboard's queues page shows.
    pub async fn queue_overview(&self, since: f64) -> Result<QueueOverview, StoreError> {
        let now = super::now();
        let first_id = first_event_id_at(since - EVENT_ID_MARGIN);
        let rescued_like = format!("{RESCUED}%");
        let (depths, rescued, finished) = with_backend!(match self {
            (pool, dialect) => {
                async {
                    let depths = sqlx::query_as::<_, RawDepth>(sql!(
                        dialect,
                        "SELECT queue_name, priority, COUNT(*) - COUNT(claimed_at) AS queued, \
                         COUNT(CASE WHEN claimed_at IS NULL AND scheduled_at > ? THEN 1 END) AS delayed_rows, \
                         COUNT(claimed_at) AS in_flight, \
                         MIN(CASE WHEN claimed_at IS NULL THEN created_at END) AS oldest_queued_at \
                         FROM work_queue GROUP BY queue_name, priority ORDER BY queue_name, priority"
                    ))
                    .bind(now)
                    .fetch_all(pool)
                    .await?;
                    let rescued: i64 = sqlx::query_scalar(sql!(
                        dialect,
                        "SELECT COUNT(*) FROM events WHERE event_uuid >= ? AND timestamp >= ? \
                         AND event_type = 'status' AND message LIKE ?"
                    ))
                    .bind(first_id.as_str())
                    .bind(since)
                    .bind(rescued_like.as_str())
                    .fetch_one(pool)
                    .await?;
                    // An op's move to `complete` or `error` in the window: its state event. Only ops complete,
                    // and the sweep that hard-deletes finished ops (with their own event links) takes
                    // completed ones within seconds, so a move to `complete` counts as it is; a move to
                    // `error` counts when the event is linked to an op (objects have an `error` state too).
                    let finished: (i64, i64) = sqlx::query_as(sql!(
                        dialect,
                        "SELECT COUNT(CASE WHEN e.extra LIKE ? THEN 1 END), \
                         COUNT(CASE WHEN e.extra LIKE ? AND EXISTS (SELECT 1 FROM event_objects l \
                         JOIN cluster_operations o ON o.uuid = l.object_uuid AND o.operation_type = l.object_type \
                         WHERE l.event_uuid = e.event_uuid) THEN 1 END) \
                         FROM events e WHERE e.event_uuid >= ? AND e.timestamp >= ? \
                         AND e.event_type = 'mutate' AND e.message = 'set attribute'"
                    ))
                    .bind(TO_COMPLETE)
                    .bind(TO_ERROR)
                    .bind(first_id.as_str())
                    .bind(since)
                    .fetch_one(pool)
                    .await?;
                    Ok::<_, sqlx::Error>((depths, rescued, finished))
                }
                .await
            }
        })
        .map_err(StoreError::query(|| "reading the work queues' overview".to_owned()))?;
        Ok(QueueOverview {
            queues: depths
                .into_iter()
                .map(|raw| QueueDepth {
                    queue_name: raw.queue_name,
                    priority: raw.priority,
                    queued: count(raw.queued),
                    delayed: count(raw.delayed_rows),
                    in_flight: count(raw.in_flight),
                    oldest_queued_at: raw.oldest_queued_at,
                })
                .collect(),
            since,
            rescued: count(rescued),
            completed: count(finished.0),
            failed: count(finished.1),
        })
    }

    /// The network maintainers' passes since `since` (unix seconds), newest first, at most `limit`: their
    /// status events ([`PassRecord`]), on the nodes they ran for. A record that cannot be read (corrupt,
    /// or of a newer build's shape) is logged and left out.
    pub async fn maintainer_passes(
        &self,
        since: f64,
        limit: u32,
    ) -> Result<Vec<RecordedPass>, StoreError> {
        let first_id = first_event_id_at(since - EVENT_ID_MARGIN);
        let rows = with_backend!(match self {
            (pool, dialect) => {
                sqlx::query_as::<_, RawPass>(sql!(
                    dialect,
                    "SELECT e.timestamp, e.fqdn, l.object_uuid AS node, e.extra FROM events e \
                     JOIN event_objects l ON l.event_uuid = e.event_uuid AND l.object_type = 'node' \
                     WHERE e.event_uuid >= ? AND e.timestamp >= ? AND e.event_type = 'status' AND e.message = ? \
                     ORDER BY e.event_uuid DESC LIMIT ?"
                ))
                .bind(first_id.as_str())
                .bind(since)
                .bind(MAINTENANCE_PASS)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
            }
        })
        .map_err(StoreError::query(|| "reading the maintainer's passes".to_owned()))?;
        Ok(rows.into_iter().filter_map(RawPass::read).collect())
    }

    /// Each node's latest maintainer pass since `since` (unix seconds), by node: however many nodes there
    /// are, and however often their maintainers pass. Read from the nodes' event links (a node is no op's
    /// target, so its links are its maintainer's events), in the window.
    pub async fn latest_maintainer_passes(
        &self,
        since: f64,
    ) -> Result<Vec<RecordedPass>, StoreError> {
        let first_id = first_event_id_at(since - EVENT_ID_MARGIN);
        let rows = with_backend!(match self {
            (pool, dialect) => {
                sqlx::query_as::<_, RawPass>(sql!(
                    dialect,
                    "SELECT e.timestamp, e.fqdn, x.node, e.extra FROM (\
                     SELECT l.object_uuid AS node, MAX(l.event_uuid) AS last_event FROM event_objects l \
                     JOIN events p ON p.event_uuid = l.event_uuid \
                     WHERE l.object_type = 'node' AND l.event_uuid >= ? AND p.timestamp >= ? \
                     AND p.event_type = 'status' AND p.message = ? GROUP BY l.object_uuid) x \
                     JOIN events e ON e.event_uuid = x.last_event ORDER BY x.node"
                ))
                .bind(first_id.as_str())
                .bind(since)
                .bind(MAINTENANCE_PASS)
                .fetch_all(pool)
                .await
            }
        })
        .map_err(StoreError::query(|| "reading each node's latest maintainer pass".to_owned()))?;
        Ok(rows.into_iter().filter_map(RawPass::read).collect())
    }
}

impl RawPass {
    /// The pass, when its record and node read; logged and `None` otherwise.
    fn read(self) -> Option<RecordedPass> {
        let record = self
            .extra
            .as_deref()
            .and_then(|extra| serde_json::from_str(extra).ok());
        let node = self.node.parse().ok();
        match (record, node) {
            (Some(record), Some(node)) => Some(RecordedPass {
                at: self.timestamp,
                host: self.fqdn,
                node,
                record,
            }),
            _ => {
                tracing::warn!(node = %self.node, at = self.timestamp, "an unreadable maintainer pass record left out");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_id_bound_sorts_before_every_id_made_from_its_millisecond_on() {
        let at = 1_796_046_903.610_715;
        let bound = first_event_id_at(at);
        assert_eq!(bound, "01a22cbc-d93a-0000-0000-000000000000");
        let same_ms = Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            1_796_046_903,
            610_000_000,
        ));
        let earlier = Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            1_796_046_903,
            609_000_000,
        ));
        assert!(same_ms.hyphenated().to_string() >= bound);
        assert!(earlier.hyphenated().to_string() < bound);
    }

    #[test]
    fn the_error_rate_is_the_failed_share_of_what_finished() {
        let overview = |completed, failed| QueueOverview {
            queues: Vec::new(),
            since: 0.0,
            rescued: 0,
            completed,
            failed,
        };
        assert_eq!(overview(0, 0).error_rate(), None);
        assert_eq!(overview(3, 1).error_rate(), Some(0.25));
    }
}
