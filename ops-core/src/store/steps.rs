//! Steps that several transactions share — read and lock an op's state, change it, record an event about
//! it — written once and compiled for each backend's connection, as `with_backend!` does for whole queries.
//!
//! They run on the caller's transaction (`tx.lock_op(...)` through `Transaction`'s `DerefMut`), so a claim,
//! an outcome and a plain `Store::transition` change a state and record it in one commit.

use serde_json::{Value, json};
use uuid::Uuid;

use super::Dialect;
use super::dialect::sql;
use crate::{ObjectRef, OpState};

/// The PostgreSQL notification channel for new work; the payload is the queue name.
pub(crate) const WORK_CHANNEL: &str = "ops_work";

/// An op's key in the state table, `(object_type, object_uuid)` = `(operation_type, operation_uuid)`.
#[derive(Clone, Copy, Debug)]
pub(super) struct OpKey<'a> {
    pub(super) op_type: &'a str,
    pub(super) op_uuid: &'a str,
}

/// An op's type and state, read and locked before a change.
#[derive(sqlx::FromRow)]
pub(super) struct LockedOp {
    pub(super) op_type: String,
    pub(super) state: Option<String>,
}

/// An event to record about an op: linked to the op and to every one of its targets, so the op's story and
/// each target's story both show it.
pub(super) struct OpEvent<'a> {
    /// `audit`, `mutate`, `status` or `usage` (Shaken Fist's event types).
    pub(super) event_type: &'static str,
    pub(super) message: &'a str,
    pub(super) extra: Value,
    pub(super) timestamp: f64,
}

/// Bind parameters per row of the multi-row event insert.
const EVENT_COLUMNS: usize = 6;

/// The longest state message `object_states.message` (`VARCHAR(255)`) keeps, in characters.
pub(super) const MAX_STATE_MESSAGE: usize = 255;

/// The `mutate` "set attribute" event that records an op's move to `to`.
pub(super) fn state_event<'a>(
    op: OpKey<'a>,
    to: OpState,
    message: Option<&str>,
    update_time: f64,
) -> (OpKey<'a>, OpEvent<'static>) {
    let event = OpEvent {
        event_type: "mutate",
        message: "set attribute",
        extra: state_event_extra(to, message, update_time),
        timestamp: update_time,
    };
    (op, event)
}

/// The `extra` of a state move's event: the same for every op that moves together.
pub(super) fn state_event_extra(to: OpState, message: Option<&str>, update_time: f64) -> Value {
    json!({
        "attribute": "state",
        "value": to,
        "update_time": update_time,
        "message": message,
    })
}

/// `message` cut to its first [`MAX_STATE_MESSAGE`] characters for the state row; the event keeps it whole.
fn fit_state_message(message: &str) -> &str {
    match message.char_indices().nth(MAX_STATE_MESSAGE) {
        Some((end, _)) => &message[..end],
        None => message,
    }
}

/// A state row's `message` column as written for `message`: cut to fit, NULs replaced.
pub(super) fn state_message_column(message: &str) -> String {
    storable(fit_state_message(message)).into_owned()
}

/// Free text for a text column, with each NUL character replaced by U+FFFD. PostgreSQL refuses a NUL in
/// text, so a handler's error message with one in it (a subprocess's output, say) would fail the very
/// write that records the failure; the other backends would keep a character no reader expects. (JSON
/// columns need nothing: serde_json writes a NUL as `\u0000`.)
fn storable(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\0') {
        text.replace('\0', "\u{FFFD}").into()
    } else {
        text.into()
    }
}

/// The shared steps, implemented for each backend's connection by `steps_for!`.
pub(super) trait Steps {
    /// The op's type and state by its id, locked until the transaction ends (`FOR UPDATE` on the servers;
    /// SQLite's `BEGIN IMMEDIATE` already holds the write lock). `None` when there is no such op.
    async fn lock_op(
        &mut self,
        dialect: Dialect,
        op_uuid: &str,
    ) -> Result<Option<LockedOp>, sqlx::Error>;

    /// Writes the op's new state (the caller checked the move) and its `mutate` "set attribute" event.
    async fn write_state(
        &mut self,
        dialect: Dialect,
        host: &str,
        op: OpKey<'_>,
        to: OpState,
        message: Option<&str>,
        update_time: f64,
    ) -> Result<(), sqlx::Error>;

    /// Moves several ops of any types to `to` with `message` (the caller checked each move), without
    /// events: one `UPDATE` per op type. [`state_event`] is each op's `mutate` event, for
    /// [`Steps::record_events`].
    async fn update_states(
        &mut self,
        dialect: Dialect,
        ops: &[OpKey<'_>],
        to: OpState,
        message: Option<&str>,
        update_time: f64,
    ) -> Result<(), sqlx::Error>;

    /// Writes (or replaces) the op's error report, which goes in before its `error` state.
    async fn write_error_report(
        &mut self,
        dialect: Dialect,
        op_uuid: &str,
        report: &Value,
        at: f64,
    ) -> Result<(), sqlx::Error>;

    /// Inserts `event`'s row, linked to nothing yet; gives its id.
    async fn insert_event(
        &mut self,
        dialect: Dialect,
        host: &str,
        event: OpEvent<'_>,
    ) -> Result<String, sqlx::Error>;

    /// Links an event to an object, so that the object's story shows it.
    async fn link_event(
        &mut self,
        dialect: Dialect,
        object_type: &str,
        object_uuid: &str,
        event_uuid: &str,
    ) -> Result<(), sqlx::Error>;

    /// Records `event` about an object that is not an op, linked to that object alone.
    async fn record_object_event(
        &mut self,
        dialect: Dialect,
        host: &str,
        object: ObjectRef,
        event: OpEvent<'_>,
    ) -> Result<(), sqlx::Error>;

    /// Records `event`, linked to the op and each of its targets.
    async fn record_event(
        &mut self,
        dialect: Dialect,
        host: &str,
        op: OpKey<'_>,
        event: OpEvent<'_>,
    ) -> Result<(), sqlx::Error>;

    /// Records each event, in order, linked to its op and each of that op's targets: three statements
    /// (the ops' targets, the events, their links) however many events and ops, short of the dialect's
    /// bind limit.
    async fn record_events(
        &mut self,
        dialect: Dialect,
        host: &str,
        events: Vec<(OpKey<'_>, OpEvent<'_>)>,
    ) -> Result<(), sqlx::Error>;

    /// The queued ops of type `op_type` with coalescing key `key`, oldest first, with their creation
    /// times. Found by the key's index alone, each op's state by its own key: see [`QUEUED_WITH_KEY`].
    async fn queued_with_key(
        &mut self,
        dialect: Dialect,
        op_type: &str,
        key: &str,
    ) -> Result<Vec<(String, f64)>, sqlx::Error>;

    /// The op's unclaimed work-queue row, `(id, priority)`, locked until the transaction ends (on the
    /// servers; skipped instead of waited for when another transaction holds it and `lock` says so).
    async fn lock_unclaimed_row(
        &mut self,
        dialect: Dialect,
        op_uuid: &str,
        lock: RowLock,
    ) -> Result<Option<(i64, i64)>, sqlx::Error>;
}

/// How [`Steps::lock_unclaimed_row`] treats a row another transaction holds.
#[derive(Clone, Copy, Debug)]
pub(super) enum RowLock {
    /// Waits for it (`FOR UPDATE`).
    Wait,
    /// Passes it by (`FOR UPDATE SKIP LOCKED`).
    SkipLocked,
}

/// The queued ops of one type with one coalescing key, with their creation times: binds the op type and
/// the key. The key's index is the only one that serves both conditions, and no ORDER BY gives another
/// index an edge, so the plan is that probe whatever the statistics say. Written as a join of the states
/// and the queue on `state_value = 'queued'` and `claimed_at IS NULL`, PostgreSQL drove from those
/// indexes once its statistics predated a backlog (they said nothing was queued), and read every queued
/// op of the type for each enqueue and each completion. The state here is a correlated lookup by its
/// key, which no plan turns into that scan; the queue row is looked up by its op alone, next.
const QUEUED_WITH_KEY: &str = "SELECT o.uuid, o.created_at FROM cluster_operations o \
     WHERE o.operation_type = ? AND o.coalesce_key = ? \
     AND (SELECT s.state_value FROM object_states s \
          WHERE s.object_type = o.operation_type AND s.object_uuid = o.uuid) = 'queued'";

/// An op's work-queue rows, by the op's index alone (the claim index, on `claimed_at`, would read the
/// whole backlog): binds the op uuid. Unclaimed is checked on the rows found.
macro_rules! queue_rows_of_op {
    () => {
        "SELECT id, claimed_at, priority FROM work_queue WHERE operation_uuid = ?"
    };
}

macro_rules! steps_for {
    ($($conn:ty),* $(,)?) => {$(
        impl Steps for $conn {
            async fn lock_op(
                &mut self,
                dialect: Dialect,
                op_uuid: &str,
            ) -> Result<Option<LockedOp>, sqlx::Error> {
                let select = match dialect {
                    Dialect::Sqlite => sql!(
                        dialect,
                        "SELECT s.object_type AS op_type, s.state_value AS state FROM cluster_operations o \
                         JOIN object_states s ON s.object_type = o.operation_type AND s.object_uuid = o.uuid \
                         WHERE o.uuid = ?"
                    ),
                    Dialect::MariaDb | Dialect::Postgres => sql!(
                        dialect,
                        "SELECT s.object_type AS op_type, s.state_value AS state FROM cluster_operations o \
                         JOIN object_states s ON s.object_type = o.operation_type AND s.object_uuid = o.uuid \
                         WHERE o.uuid = ? FOR UPDATE"
                    ),
                };
                sqlx::query_as(select).bind(op_uuid).fetch_optional(&mut *self).await
            }

            async fn write_state(
                &mut self,
                dialect: Dialect,
                host: &str,
                op: OpKey<'_>,
                to: OpState,
                message: Option<&str>,
                update_time: f64,
            ) -> Result<(), sqlx::Error> {
                self.update_states(dialect, &[op], to, message, update_time).await?;
                self.record_events(dialect, host, vec![state_event(op, to, message, update_time)]).await
            }

            async fn update_states(
                &mut self,
                dialect: Dialect,
                ops: &[OpKey<'_>],
                to: OpState,
                message: Option<&str>,
                update_time: f64,
            ) -> Result<(), sqlx::Error> {
                let message = message.map(state_message_column);
                let mut types: Vec<&str> = ops.iter().map(|op| op.op_type).collect();
                types.sort_unstable();
                types.dedup();
                for op_type in types {
                    let uuids: Vec<&str> = ops.iter().filter(|op| op.op_type == op_type).map(|op| op.op_uuid).collect();
                    for chunk in uuids.chunks(dialect.max_params() - 4) {
                        let mut update = sqlx::QueryBuilder::new("UPDATE object_states SET state_value = ");
                        update
                            .push_bind(to.as_str())
                            .push(", update_time = ")
                            .push_bind(update_time)
                            .push(", message = ")
                            .push_bind(message.as_deref())
                            .push(" WHERE object_type = ")
                            .push_bind(op_type)
                            .push(" AND object_uuid IN (");
                        let mut list = update.separated(", ");
                        for uuid in chunk {
                            list.push_bind(*uuid);
                        }
                        update.push(")");
                        update.build().execute(&mut *self).await?;
                    }
                }
                Ok(())
            }

            async fn write_error_report(
                &mut self,
                dialect: Dialect,
                op_uuid: &str,
                report: &Value,
                at: f64,
            ) -> Result<(), sqlx::Error> {
                sqlx::query(sql!(dialect, "DELETE FROM cluster_operation_errors WHERE op_uuid = ?"))
                    .bind(op_uuid)
                    .execute(&mut *self)
                    .await?;
                sqlx::query(sql!(
                    dialect,
                    "INSERT INTO cluster_operation_errors (op_uuid, error_report, created_at) VALUES (?, ?, ?)"
                ))
                .bind(op_uuid)
                .bind(report.to_string())
                .bind(at)
                .execute(&mut *self)
                .await?;
                Ok(())
            }

            async fn insert_event(
                &mut self,
                dialect: Dialect,
                host: &str,
                event: OpEvent<'_>,
            ) -> Result<String, sqlx::Error> {
                // Time-ordered (v7), so that events of one instant still list in the order they were recorded.
                let event_uuid = Uuid::now_v7().hyphenated().to_string();
                sqlx::query(sql!(
                    dialect,
                    "INSERT INTO events (event_uuid, event_type, timestamp, fqdn, duration, message, extra, \
                     request_id) VALUES (?, ?, ?, ?, NULL, ?, ?, NULL)"
                ))
                .bind(event_uuid.as_str())
                .bind(event.event_type)
                .bind(event.timestamp)
                .bind(host)
                .bind(storable(event.message).into_owned())
                .bind(event.extra.to_string())
                .execute(&mut *self)
                .await?;
                Ok(event_uuid)
            }

            async fn record_object_event(
                &mut self,
                dialect: Dialect,
                host: &str,
                object: ObjectRef,
                event: OpEvent<'_>,
            ) -> Result<(), sqlx::Error> {
                let event_uuid = self.insert_event(dialect, host, event).await?;
                let uuid = object.uuid.hyphenated().to_string();
                self.link_event(dialect, object.object_type.as_str(), &uuid, &event_uuid).await
            }

            async fn link_event(
                &mut self,
                dialect: Dialect,
                object_type: &str,
                object_uuid: &str,
                event_uuid: &str,
            ) -> Result<(), sqlx::Error> {
                sqlx::query(sql!(
                    dialect,
                    "INSERT INTO event_objects (object_type, object_uuid, event_uuid) VALUES (?, ?, ?)"
                ))
                .bind(object_type)
                .bind(object_uuid)
                .bind(event_uuid)
                .execute(&mut *self)
                .await?;
                Ok(())
            }

            async fn record_event(
                &mut self,
                dialect: Dialect,
                host: &str,
                op: OpKey<'_>,
                event: OpEvent<'_>,
            ) -> Result<(), sqlx::Error> {
                self.record_events(dialect, host, vec![(op, event)]).await
            }

            async fn record_events(
                &mut self,
                dialect: Dialect,
                host: &str,
                events: Vec<(OpKey<'_>, OpEvent<'_>)>,
            ) -> Result<(), sqlx::Error> {
                if events.is_empty() {
                    return Ok(());
                }
                let mut ops: Vec<&str> = events.iter().map(|(op, _)| op.op_uuid).collect();
                ops.sort_unstable();
                ops.dedup();
                let mut targets: Vec<(String, String, String, String)> = Vec::new();
                for chunk in ops.chunks(dialect.max_params()) {
                    let mut select = sqlx::QueryBuilder::new(
                        "SELECT operation_uuid, operation_type, target_object_type, target_uuid \
                         FROM cluster_operation_targets WHERE operation_uuid IN (",
                    );
                    let mut uuids = select.separated(", ");
                    for uuid in chunk {
                        uuids.push_bind(*uuid);
                    }
                    select.push(")");
                    targets.extend(select.build_query_as::<(String, String, String, String)>().fetch_all(&mut *self).await?);
                }
                // Time-ordered (v7), so that events of one instant still list in the order they were recorded.
                let rows: Vec<(String, OpKey<'_>, OpEvent<'_>)> = events
                    .into_iter()
                    .map(|(op, event)| (Uuid::now_v7().hyphenated().to_string(), op, event))
                    .collect();
                for chunk in rows.chunks(dialect.max_params() / EVENT_COLUMNS) {
                    let mut insert = sqlx::QueryBuilder::new(
                        "INSERT INTO events (event_uuid, event_type, timestamp, fqdn, duration, message, extra, request_id) ",
                    );
                    insert.push_values(chunk, |mut row, (event_uuid, _, event)| {
                        row.push_bind(event_uuid.as_str())
                            .push_bind(event.event_type)
                            .push_bind(event.timestamp)
                            .push_bind(host)
                            .push("NULL")
                            .push_bind(storable(event.message).into_owned())
                            .push_bind(event.extra.to_string())
                            .push("NULL");
                    });
                    insert.build().execute(&mut *self).await?;
                }
                let mut links: Vec<(&str, &str, &str)> = Vec::new();
                for (event_uuid, op, _) in &rows {
                    links.push((op.op_type, op.op_uuid, event_uuid.as_str()));
                    for (op_uuid, op_type, object_type, object_uuid) in &targets {
                        if op_uuid == op.op_uuid && op_type == op.op_type {
                            links.push((object_type.as_str(), object_uuid.as_str(), event_uuid.as_str()));
                        }
                    }
                }
                for chunk in links.chunks(dialect.max_params() / 3) {
                    let mut insert =
                        sqlx::QueryBuilder::new("INSERT INTO event_objects (object_type, object_uuid, event_uuid) ");
                    insert.push_values(chunk, |mut row, (object_type, object_uuid, event_uuid)| {
                        row.push_bind(*object_type).push_bind(*object_uuid).push_bind(*event_uuid);
                    });
                    insert.build().execute(&mut *self).await?;
                }
                Ok(())
            }

            async fn queued_with_key(
                &mut self,
                dialect: Dialect,
                op_type: &str,
                key: &str,
            ) -> Result<Vec<(String, f64)>, sqlx::Error> {
                let mut ops: Vec<(String, f64)> = sqlx::query_as(sql!(dialect, QUEUED_WITH_KEY))
                    .bind(op_type)
                    .bind(key)
                    .fetch_all(&mut *self)
                    .await?;
                ops.sort_by(|a, b| a.1.total_cmp(&b.1));
                Ok(ops)
            }

            async fn lock_unclaimed_row(
                &mut self,
                dialect: Dialect,
                op_uuid: &str,
                lock: RowLock,
            ) -> Result<Option<(i64, i64)>, sqlx::Error> {
                let select = match (dialect, lock) {
                    (Dialect::Sqlite, _) => sql!(dialect, queue_rows_of_op!()),
                    (Dialect::MariaDb | Dialect::Postgres, RowLock::Wait) => {
                        sql!(dialect, concat!(queue_rows_of_op!(), " FOR UPDATE"))
                    }
                    (Dialect::MariaDb | Dialect::Postgres, RowLock::SkipLocked) => {
                        sql!(dialect, concat!(queue_rows_of_op!(), " FOR UPDATE SKIP LOCKED"))
                    }
                };
                let rows: Vec<(i64, Option<f64>, i64)> =
                    sqlx::query_as(select).bind(op_uuid).fetch_all(&mut *self).await?;
                Ok(rows
                    .into_iter()
                    .find(|(_, claimed_at, _)| claimed_at.is_none())
                    .map(|(id, _, priority)| (id, priority)))
            }
        }
    )*};
}

steps_for!(
    sqlx::SqliteConnection,
    sqlx::MySqlConnection,
    sqlx::PgConnection
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_messages_are_cut_to_the_column_in_characters() {
        let long = "é".repeat(300);
        assert_eq!(fit_state_message(&long).chars().count(), MAX_STATE_MESSAGE);
        let exact = "x".repeat(MAX_STATE_MESSAGE);
        assert_eq!(fit_state_message(&exact), exact);
        assert_eq!(fit_state_message("short"), "short");
    }

    #[test]
    fn a_nul_in_free_text_is_stored_as_the_replacement_character() {
        assert_eq!(storable("exit\0code 1"), "exit\u{FFFD}code 1");
        assert!(matches!(
            storable("clean"),
            std::borrow::Cow::Borrowed("clean")
        ));
    }
}
