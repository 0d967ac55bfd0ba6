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
const EVENT_ID_MARGIN: f64 = 300.0;

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
    /// Ops that reached `complete` in the window (and are in that state still).
    pub completed: u64,
    /// Ops that reached `error` in the window (and are in that state still).
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
fn first_event_id_at(at: f64) -> String {
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
                    let finished: Vec<(String, i64)> = sqlx::query_as(sql!(
                        dialect,
                        "SELECT s.state_value, COUNT(*) FROM object_states s \
                         JOIN cluster_operations o ON o.uuid = s.object_uuid AND o.operation_type = s.object_type \
                         WHERE s.state_value IN ('complete', 'error') AND s.update_time >= ? \
                         GROUP BY s.state_value"
                    ))
                    .bind(since)
                    .fetch_all(pool)
                    .await?;
                    Ok::<_, sqlx::Error>((depths, rescued, finished))
                }
                .await
            }
        })
        .map_err(StoreError::query(|| "reading the work queues' overview".to_owned()))?;
        let finished_in = |state: &str| {
            finished
                .iter()
                .find(|(value, _)| value == state)
                .map_or(0, |(_, n)| count(*n))
        };
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
            completed: finished_in("complete"),
            failed: finished_in("error"),
        })
    }

    /// The network maintainers' passes since `since` (unix seconds), newest first, at most `limit`: their
    /// status events ([`PassRecord`]), on the nodes they ran for.
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
        rows.into_iter()
            .map(|raw| {
                let corrupt = |column: &'static str, value: &str| StoreError::CorruptRow {
                    table: "events",
                    column,
                    value: value.to_owned(),
                };
                let extra = raw.extra.unwrap_or_default();
                let record = serde_json::from_str(&extra).map_err(|_| corrupt("extra", &extra))?;
                let node = raw
                    .node
                    .parse()
                    .map_err(|_| corrupt("object_uuid", &raw.node))?;
                Ok(RecordedPass {
                    at: raw.timestamp,
                    host: raw.fqdn,
                    node,
                    record,
                })
            })
            .collect()
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
