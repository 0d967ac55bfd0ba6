//! [`Store::op_record`]: everything stored about one op, for `opsctl show` and API views.

use serde::Serialize;
use serde_json::Value;

use std::collections::HashMap;

use super::dialect::sql;
use super::state::parse_state;
use super::work::push_list;
use super::{Store, with_backend};
use crate::{OpId, OpState, StoreError};

/// One op as stored: header columns, wire form, state, targets and audit events.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OpRecord {
    /// The op's id.
    pub op_uuid: OpId,
    /// Its type.
    pub op_type: String,
    /// Its schema version.
    pub version: i64,
    /// When it was enqueued (unix seconds).
    pub created_at: f64,
    /// Its priority name.
    pub priority: String,
    /// Its work queue.
    pub queue_name: String,
    /// The causing request.
    pub request_id: Option<String>,
    /// The wire form: header and body in one object.
    pub wire: Value,
    /// Its state; `None` when the state row is gone.
    pub state: Option<OpState>,
    /// The message of its last state change.
    pub state_message: Option<String>,
    /// Its target rows, in sequence order.
    pub targets: Vec<TargetRow>,
    /// The audit and state events linked to it, oldest first.
    pub events: Vec<EventRecord>,
}

/// One `cluster_operation_targets` row of an op.
#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct TargetRow {
    /// Its place in the global order.
    pub sequence_number: i64,
    /// The target's object type.
    pub object_type: String,
    /// The target's uuid.
    pub uuid: String,
}

/// One event linked to an op.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EventRecord {
    /// `audit`, `mutate`, ...
    pub event_type: String,
    /// When (unix seconds).
    pub timestamp: f64,
    /// What happened.
    pub message: String,
    /// Structured detail.
    pub extra: Value,
}

impl EventRecord {
    /// What the event says, in a line: a state change (a `mutate` "set attribute" of `state`, as Shaken
    /// Fist records it) names the new state and its message; any other event is its message.
    pub fn summary(&self) -> String {
        let extra = &self.extra;
        match (
            self.event_type.as_str(),
            extra["attribute"].as_str(),
            extra["value"].as_str(),
        ) {
            ("mutate", Some("state"), Some(state)) => match extra["message"].as_str() {
                Some(message) => format!("state {state}: {message}"),
                None => format!("state {state}"),
            },
            _ => self.message.clone(),
        }
    }
}

/// When an op ran and who ran it, read from its state events: what a timeline of an object's ops shows.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct OpTimeline {
    /// When its last run started (its last move to `executing`); `None` when it never started.
    pub started_at: Option<f64>,
    /// When it reached its terminal state; `None` while it is in flight (or when no event says).
    pub finished_at: Option<f64>,
    /// The worker that claimed its last run, as that claim's event names it.
    pub worker: Option<String>,
    /// How many times it was started: one per claim, so a rescued or retried op counts each run.
    pub attempts: u32,
}

impl OpTimeline {
    /// How long its last run took, from start to terminal state; `None` until it finished.
    pub fn duration(&self) -> Option<f64> {
        Some(self.finished_at? - self.started_at?).filter(|seconds| *seconds >= 0.0)
    }
}

/// One claim of an op, from its move to `executing` to the next state it moved to.
struct Run {
    started_at: f64,
    worker: Option<String>,
    /// It ended by a deferral: a dependency was not finished, so nothing ran.
    deferred: bool,
    /// Something was recorded about it before it ended (a retry's reason, a rescue).
    noted: bool,
}

impl OpRecord {
    /// When the op ran and who ran it, from its events (oldest first, as stored).
    ///
    /// Each move to `executing` is a claim. A claim is an attempt unless it ended in a deferral (its
    /// dependency was not finished; nothing ran) or was released unrun (it went back to `queued` with
    /// nothing recorded: the worker was shutting down), as the work queue counts attempts. The start and
    /// worker shown are those of the last attempt, or of the claim running now.
    pub fn timeline(&self) -> OpTimeline {
        let mut timeline = OpTimeline::default();
        let mut run: Option<Run> = None;
        for event in &self.events {
            let extra = &event.extra;
            let to = (event.event_type == "mutate"
                && extra.get("attribute") == Some(&Value::from("state")))
            .then(|| extra.get("value").and_then(Value::as_str))
            .flatten()
            .map(parse_state);
            let Some(to) = to else {
                if let Some(run) = &mut run {
                    run.deferred |= event.event_type == "status"
                        && event.message.starts_with(super::work::DEFERRED);
                    run.noted = true;
                }
                continue;
            };
            let Ok(to) = to else { continue };
            if let Some(ended) = run.take()
                && !ended.deferred
                && (ended.noted || to != OpState::Queued)
            {
                timeline.attempts += 1;
                timeline.started_at = Some(ended.started_at);
                timeline.worker = ended.worker;
            }
            if to == OpState::Executing {
                run = Some(Run {
                    started_at: event.timestamp,
                    worker: extra
                        .get("message")
                        .and_then(Value::as_str)
                        .and_then(super::claim::claiming_worker)
                        .map(str::to_owned),
                    deferred: false,
                    noted: false,
                });
            } else if to.is_terminal() {
                timeline.finished_at = Some(event.timestamp);
            }
        }
        if let Some(running) = run {
            timeline.attempts += 1;
            timeline.started_at = Some(running.started_at);
            timeline.worker = running.worker;
        }
        timeline
    }
}

/// An op's header and state columns as the driver decodes them, by name, before the JSON and state strings
/// are checked.
#[derive(sqlx::FromRow)]
struct RawHeader {
    op_uuid: String,
    op_type: String,
    version: i64,
    created_at: f64,
    priority: String,
    queue_name: String,
    request_id: Option<String>,
    wire: String,
    state: Option<String>,
    state_message: Option<String>,
}

/// A target row, with its op.
#[derive(sqlx::FromRow)]
struct RawTarget {
    op_uuid: String,
    #[sqlx(flatten)]
    row: TargetRow,
}

/// An event row as the driver decodes it, with the op it is linked to, before its `extra` JSON is checked.
#[derive(sqlx::FromRow)]
struct RawEvent {
    op_uuid: String,
    event_type: String,
    timestamp: f64,
    message: String,
    extra: Option<String>,
}

/// How many ops one batched read asks about at once: well under every backend's limit of bound
/// parameters.
const RECORDS_CHUNK: usize = 500;

impl Store {
    /// Everything stored about `op`, or `None` when no header has that id.
    pub async fn op_record(&self, op: OpId) -> Result<Option<OpRecord>, StoreError> {
        Ok(self.op_records(&[op]).await?.pop())
    }

    /// Everything stored about each of `ops`, in their order; an op with no header is left out, and a
    /// repeated id gives its record once. A few queries per 500 ops, whatever their number: listing a long
    /// history costs its rows, not a round trip per op.
    pub async fn op_records(&self, ops: &[OpId]) -> Result<Vec<OpRecord>, StoreError> {
        let mut found: HashMap<OpId, OpRecord> = HashMap::with_capacity(ops.len());
        for chunk in ops.chunks(RECORDS_CHUNK) {
            let ids: Vec<String> = chunk.iter().map(OpId::to_string).collect();
            let (headers, targets, events) =
                self.read_records(&ids)
                    .await
                    .map_err(StoreError::query(|| match chunk {
                        [op] => format!("reading cluster operation {op}"),
                        _ => format!("reading {} cluster operations", chunk.len()),
                    }))?;
            let mut records = HashMap::with_capacity(headers.len());
            for raw in headers {
                let op: OpId = raw.op_uuid.parse().map_err(|_| StoreError::CorruptRow {
                    table: "cluster_operations",
                    column: "uuid",
                    value: raw.op_uuid.clone(),
                })?;
                let record = OpRecord {
                    op_uuid: op,
                    op_type: raw.op_type,
                    version: raw.version,
                    created_at: raw.created_at,
                    priority: raw.priority,
                    queue_name: raw.queue_name,
                    request_id: raw.request_id,
                    wire: json("cluster_operations", "metadata_json", &raw.wire)?,
                    state: raw.state.as_deref().map(parse_state).transpose()?,
                    state_message: raw.state_message,
                    targets: Vec::new(),
                    events: Vec::new(),
                };
                records.insert(op, record);
            }
            // Rows are matched to their op by its id parsed, not its text: MariaDB's comparisons ignore
            // case, so a row of an imported history may spell it otherwise. Both come in order (targets by
            // sequence, events by time), so each op's stay in order.
            let op_of = |text: &str| text.parse::<OpId>().ok();
            for target in targets {
                if let Some(record) = op_of(&target.op_uuid).and_then(|op| records.get_mut(&op)) {
                    record.targets.push(target.row);
                }
            }
            for event in events {
                let Some(record) = op_of(&event.op_uuid).and_then(|op| records.get_mut(&op)) else {
                    continue;
                };
                let extra = event
                    .extra
                    .as_deref()
                    .map(|text| json("events", "extra", text))
                    .transpose()?;
                record.events.push(EventRecord {
                    event_type: event.event_type,
                    timestamp: event.timestamp,
                    message: event.message,
                    extra: extra.unwrap_or(Value::Null),
                });
            }
            found.extend(records);
        }
        Ok(ops.iter().filter_map(|op| found.remove(op)).collect())
    }

    /// The header rows, target rows and event rows of the ops `ids` (at most [`RECORDS_CHUNK`]): one query
    /// each, and one more per op type for the events (their links are keyed by type and id).
    async fn read_records(
        &self,
        ids: &[String],
    ) -> Result<(Vec<RawHeader>, Vec<RawTarget>, Vec<RawEvent>), sqlx::Error> {
        with_backend!(match self {
            (pool, _dialect) => {
                let mut select = sqlx::QueryBuilder::new(
                    "SELECT o.uuid AS op_uuid, o.operation_type AS op_type, o.version, o.created_at, o.priority, \
                     o.queue_name, o.request_id, o.metadata_json AS wire, s.state_value AS state, \
                     s.message AS state_message FROM cluster_operations o LEFT JOIN object_states s \
                     ON s.object_type = o.operation_type AND s.object_uuid = o.uuid WHERE o.uuid IN (",
                );
                push_list(&mut select, ids.iter().map(String::as_str));
                select.push(")");
                let headers: Vec<RawHeader> = select.build_query_as().fetch_all(pool).await?;
                if headers.is_empty() {
                    return Ok((headers, Vec::new(), Vec::new()));
                }
                let mut select = sqlx::QueryBuilder::new(
                    "SELECT operation_uuid AS op_uuid, sequence_number, target_object_type AS object_type, \
                     target_uuid AS uuid FROM cluster_operation_targets WHERE operation_uuid IN (",
                );
                push_list(&mut select, headers.iter().map(|h| h.op_uuid.as_str()));
                select.push(") ORDER BY sequence_number");
                let targets: Vec<RawTarget> = select.build_query_as().fetch_all(pool).await?;
                let mut op_types: Vec<&str> = headers.iter().map(|h| h.op_type.as_str()).collect();
                op_types.sort_unstable();
                op_types.dedup();
                let mut events: Vec<RawEvent> = Vec::new();
                for op_type in op_types {
                    let mut select = sqlx::QueryBuilder::new(
                        "SELECT l.object_uuid AS op_uuid, e.event_type, e.timestamp, e.message, e.extra \
                         FROM events e JOIN event_objects l ON l.event_uuid = e.event_uuid WHERE l.object_type = ",
                    );
                    select.push_bind(op_type).push(" AND l.object_uuid IN (");
                    push_list(
                        &mut select,
                        headers
                            .iter()
                            .filter(|h| h.op_type == op_type)
                            .map(|h| h.op_uuid.as_str()),
                    );
                    select.push(") ORDER BY e.timestamp, e.event_uuid");
                    events.extend(select.build_query_as::<RawEvent>().fetch_all(pool).await?);
                }
                Ok((headers, targets, events))
            }
        })
    }

    /// The error report of an op that failed (`cluster_operation_errors`), as the worker wrote it; `None`
    /// when it has none.
    pub async fn error_report(&self, op: OpId) -> Result<Option<Value>, StoreError> {
        let id = op.to_string();
        let text: Option<String> = with_backend!(match self {
            (pool, dialect) => {
                sqlx::query_scalar(sql!(
                    dialect,
                    "SELECT error_report FROM cluster_operation_errors WHERE op_uuid = ?"
                ))
                .bind(id.as_str())
                .fetch_optional(pool)
                .await
            }
        })
        .map_err(StoreError::query(|| {
            format!("reading the error report of cluster operation {op}")
        }))?;
        text.map(|text| json("cluster_operation_errors", "error_report", &text))
            .transpose()
    }
}

/// `text` as JSON; a corrupt row names its table and column.
fn json(table: &'static str, column: &'static str, text: &str) -> Result<Value, StoreError> {
    serde_json::from_str(text).map_err(|_| StoreError::CorruptRow {
        table,
        column,
        value: text.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_changes_name_the_state_and_its_message() {
        let event = |event_type: &str, extra: serde_json::Value| EventRecord {
            event_type: event_type.to_owned(),
            timestamp: 0.0,
            message: "set attribute".to_owned(),
            extra,
        };
        let claimed = serde_json::json!({"attribute": "state", "value": "executing", "message": "claimed by worker w1"});
        assert_eq!(
            event("mutate", claimed).summary(),
            "state executing: claimed by worker w1"
        );
        let queued = serde_json::json!({"attribute": "state", "value": "queued", "message": null});
        assert_eq!(event("mutate", queued).summary(), "state queued");
        assert_eq!(
            event("audit", serde_json::json!({})).summary(),
            "set attribute"
        );
    }
}
