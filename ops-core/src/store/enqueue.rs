//! The one-transaction enqueue: header, `queued` state, work-queue row, every target row and the audit
//! event commit together or not at all.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::dialect::sql;
use super::retry::{RetryFailure, with_retry};
use super::steps::{OpEvent, OpKey, RowLock, Steps};
use super::{Dialect, Store, now, with_backend};
use crate::{ContextSet, EnqueueError, ObjectRef, OpId, Priority, TargetSet};

/// An op ready to be written: everything the enqueue transaction stores, already validated.
#[derive(Debug)]
pub(crate) struct NewOp {
    pub(crate) uuid: OpId,
    pub(crate) op_type: &'static str,
    pub(crate) version: u32,
    pub(crate) priority: Priority,
    pub(crate) request_id: Option<String>,
    pub(crate) task_names: Vec<&'static str>,
    pub(crate) queue_name: String,
    /// The op's stored JSON: header and body in one flat object.
    pub(crate) metadata: Map<String, Value>,
    pub(crate) targets: TargetSet,
    pub(crate) context: ContextSet,
    /// The coalescing key, when the op coalesces.
    pub(crate) coalesce_key: Option<String>,
}

/// Bind parameters per target row; bounds how many rows one INSERT carries.
const TARGET_COLUMNS: usize = 5;

impl Store {
    /// Writes `op` in one transaction, retried whole on contention. The raw target writer: crate-private, so
    /// that the only way to record a target is through a [`ClusterOperation`](crate::ClusterOperation).
    pub(crate) async fn enqueue_new_op(&self, op: &NewOp) -> Result<OpId, EnqueueError> {
        let row = OpRow::new(op, now())?;
        let row = &row;
        let outcome = match &self.pool {
            // Nothing to read first: one statement, its own transaction.
            super::Pool::Postgres(pool) if op.coalesce_key.is_none() => {
                with_retry(&self.retries, Dialect::Postgres, || {
                    insert_in_one_statement(pool, self.host_name(), row)
                })
                .await
            }
            _ => with_backend!(match self {
                (pool, dialect) => {
                    with_retry(&self.retries, dialect, || async move {
                        let _turn = self.write_turn().await;
                        let mut tx = pool.begin_with(dialect.begin_write()).await?;
                        let written = tx.insert_op(dialect, self.host_name(), row).await?;
                        if written.is_ok() {
                            tx.commit().await?;
                        }
                        Ok(written)
                    })
                    .await
                }
            }),
        };
        match outcome {
            Ok(result) => {
                // A reused op (coalesced) is already queued: only a new one wakes the workers.
                if result.as_ref().is_ok_and(|id| *id == op.uuid) {
                    tracing::debug!(op_type = op.op_type, op_uuid = %op.uuid, queue = %op.queue_name, "enqueued");
                    self.wake_workers([op.queue_name.as_str()]).await;
                }
                result
            }
            Err(RetryFailure::Contended { attempts, source }) => {
                Err(EnqueueError::Contended { attempts, source })
            }
            Err(RetryFailure::Fatal(source)) => Err(EnqueueError::Database(source)),
        }
    }
}

/// Everything one op's rows are written from, computed before the transaction so that a retried
/// transaction (or a completion that writes follow-up ops) only binds it.
pub(crate) struct OpRow<'a> {
    op: &'a NewOp,
    created_at: f64,
    op_uuid: String,
    metadata_json: String,
    payload: String,
    event: AuditEvent,
}

impl<'a> OpRow<'a> {
    /// The node, instance and network uuids of the op's header columns (Shaken Fist's), from its JSON.
    fn header_uuids(&self) -> [Option<&'a str>; 3] {
        ["node_uuid", "instance_uuid", "network_uuid"]
            .map(|key| self.op.metadata.get(key).and_then(Value::as_str))
    }

    /// The queue the op goes in.
    pub(crate) fn queue_name(&self) -> &'a str {
        self.op.queue_name.as_str()
    }

    pub(crate) fn new(op: &'a NewOp, created_at: f64) -> Result<Self, EnqueueError> {
        let metadata_json =
            serde_json::to_string(&op.metadata).map_err(|source| crate::WireError::Serialize {
                op_type: op.op_type,
                source,
            })?;
        Ok(OpRow {
            op,
            created_at,
            op_uuid: op.uuid.to_string(),
            metadata_json,
            payload: json!({"operation_type": op.op_type, "operation_uuid": op.uuid}).to_string(),
            event: AuditEvent::for_op(op),
        })
    }
}

/// Writing one op into a transaction, for each backend's connection: the enqueue's whole transaction,
/// and a completion's follow-up ops.
pub(crate) trait InsertOp {
    /// Writes the op's header, `queued` state, work-queue row, target rows and audit event — or, when it
    /// coalesces with a queued op, records the reuse on that op and returns its id. `Ok(Err(_))` is a
    /// refusal (a duplicate id) after which the transaction must be rolled back.
    async fn insert_op(
        &mut self,
        dialect: Dialect,
        host: &str,
        row: &OpRow<'_>,
    ) -> Result<Result<OpId, EnqueueError>, sqlx::Error>;
}

macro_rules! insert_op_for {
    ($($conn:ty),* $(,)?) => {$(
        impl InsertOp for $conn {
            async fn insert_op(
                &mut self,
                dialect: Dialect,
                host: &str,
                row: &OpRow<'_>,
            ) -> Result<Result<OpId, EnqueueError>, sqlx::Error> {
                let OpRow { op, created_at, .. } = *row;
                let (op_uuid, metadata_json, payload, event) =
                    (row.op_uuid.as_str(), row.metadata_json.as_str(), row.payload.as_str(), &row.event);
                let [node_uuid, instance_uuid, network_uuid] = row.header_uuids();
                let targets: Vec<&ObjectRef> = op.targets.iter().collect();
                        if let Some(key) = op.coalesce_key.as_deref() {
                            // A queued op with this key, at least as urgent, does this work already: reuse it. Its
                            // work-queue row is locked (on the servers), so no worker claims it before we commit.
                            let mut existing = None;
                            for (sibling, _) in self.queued_with_key(dialect, op.op_type, key).await? {
                                let row = self.lock_unclaimed_row(dialect, &sibling, RowLock::Wait).await?;
                                if row.is_some_and(|(_, priority)| priority <= i64::from(op.priority.value())) {
                                    existing = Some(sibling);
                                    break;
                                }
                            }
                            if let Some(existing) = existing {
                                let message = "enqueue-side dedup: reused pending op";
                                let extra = json!({"requested_op_uuid": op.uuid, "coalesce_key": key, "priority": op.priority});
                                let event = OpEvent { event_type: "audit", message, extra, timestamp: created_at };
                                let key = OpKey { op_type: op.op_type, op_uuid: &existing };
                                self.record_event(dialect, host, key, event).await?;
                                let Ok(existing) = existing.parse::<OpId>() else {
                                    return Ok(Err(EnqueueError::Database(sqlx::Error::Decode(
                                        format!("unreadable op uuid `{existing}` in cluster_operations").into(),
                                    ))));
                                };
                                return Ok(Ok(existing));
                            }
                        }
                        let inserted = sqlx::query(sql!(
                            dialect,
                            "INSERT INTO cluster_operations (uuid, operation_type, version, created_at, node_uuid, \
                             instance_uuid, network_uuid, priority, queue_name, request_id, metadata_json, coalesce_key) \
                             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                        ))
                        .bind(op_uuid)
                        .bind(op.op_type)
                        .bind(i64::from(op.version))
                        .bind(created_at)
                        .bind(node_uuid)
                        .bind(instance_uuid)
                        .bind(network_uuid)
                        .bind(op.priority.name())
                        .bind(op.queue_name.as_str())
                        .bind(op.request_id.as_deref())
                        .bind(metadata_json)
                        .bind(op.coalesce_key.as_deref())
                        .execute(&mut *self)
                        .await;
                        match inserted {
                            Err(error) if error.as_database_error().is_some_and(|e| e.is_unique_violation()) => {
                                return Ok(Err(EnqueueError::Duplicate(op.uuid)));
                            }
                            other => other?,
                        };
                        sqlx::query(sql!(
                            dialect,
                            "INSERT INTO object_states (object_type, object_uuid, state_value, update_time, message) \
                             VALUES (?, ?, 'queued', ?, NULL)"
                        ))
                        .bind(op.op_type)
                        .bind(op_uuid)
                        .bind(created_at)
                        .execute(&mut *self)
                        .await?;
                        sqlx::query(sql!(
                            dialect,
                            "INSERT INTO work_queue (queue_name, scheduled_at, claimed_at, claimed_by, attempts, payload, \
                             created_at, operation_uuid, operation_type, priority) VALUES (?, ?, NULL, NULL, 0, ?, ?, ?, ?, ?)"
                        ))
                        .bind(op.queue_name.as_str())
                        .bind(created_at)
                        .bind(payload)
                        .bind(created_at)
                        .bind(op_uuid)
                        .bind(op.op_type)
                        .bind(i64::from(op.priority.value()))
                        .execute(&mut *self)
                        .await?;
                        for chunk in targets.chunks(dialect.max_params() / TARGET_COLUMNS) {
                            let mut insert = sqlx::QueryBuilder::new(
                                "INSERT INTO cluster_operation_targets \
                                 (operation_uuid, operation_type, target_object_type, target_uuid, created_at) ",
                            );
                            insert.push_values(chunk, |mut row, target| {
                                row.push_bind(op_uuid)
                                    .push_bind(op.op_type)
                                    .push_bind(target.object_type.as_str())
                                    .push_bind(target.uuid.hyphenated().to_string())
                                    .push_bind(created_at);
                            });
                            insert.build().execute(&mut *self).await?;
                        }
                        sqlx::query(sql!(
                            dialect,
                            "INSERT INTO events (event_uuid, event_type, timestamp, fqdn, duration, message, extra, \
                             request_id) VALUES (?, 'audit', ?, ?, NULL, ?, ?, ?)"
                        ))
                        .bind(event.uuid.as_str())
                        .bind(created_at)
                        .bind(host)
                        .bind(event.message.as_str())
                        .bind(event.extra.as_str())
                        .bind(op.request_id.as_deref())
                        .execute(&mut *self)
                        .await?;
                        for chunk in event.links.chunks(dialect.max_params() / 3) {
                            let mut insert =
                                sqlx::QueryBuilder::new("INSERT INTO event_objects (object_type, object_uuid, event_uuid) ");
                            insert.push_values(chunk, |mut row, (object_type, object_uuid)| {
                                row.push_bind(object_type.as_str()).push_bind(object_uuid.as_str()).push_bind(event.uuid.as_str());
                            });
                            insert.build().execute(&mut *self).await?;
                        }
                Ok(Ok(op.uuid))
            }
        }
    )*};
}

insert_op_for!(
    sqlx::SqliteConnection,
    sqlx::MySqlConnection,
    sqlx::PgConnection
);

/// The whole enqueue of an op that does not coalesce, on PostgreSQL: every row [`InsertOp::insert_op`]
/// writes, in one statement of data-modifying `WITH` clauses, target rows and event links from arrays.
/// One round trip instead of nine (`BEGIN`, six inserts, `COMMIT`), and one statement text whatever the
/// number of targets, so it is prepared once per connection. A statement is a transaction of its own,
/// so the op is all or nothing as before; the in-flight triggers fire once the statement's rows are all
/// in, and see each other's (their inserts skip a marker already there).
///
/// Binds: `$1` op uuid, `$2` type, `$3` version, `$4` created at, `$5`-`$7` node, instance and network
/// uuids, `$8` priority name, `$9` queue, `$10` request id, `$11` metadata, `$12` queue payload, `$13`
/// priority value, `$14`/`$15` target types and uuids, `$16` event uuid, `$17` host, `$18` message,
/// `$19` extra, `$20`/`$21` linked object types and uuids.
const PG_ENQUEUE: &str = "WITH header AS (\
    INSERT INTO cluster_operations (uuid, operation_type, version, created_at, node_uuid, instance_uuid, \
    network_uuid, priority, queue_name, request_id, metadata_json, coalesce_key) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL)), \
state AS (INSERT INTO object_states (object_type, object_uuid, state_value, update_time, message) \
    VALUES ($2, $1, 'queued', $4, NULL)), \
queued AS (INSERT INTO work_queue (queue_name, scheduled_at, claimed_at, claimed_by, attempts, payload, \
    created_at, operation_uuid, operation_type, priority) VALUES ($9, $4, NULL, NULL, 0, $12, $4, $1, $2, $13)), \
targets AS (INSERT INTO cluster_operation_targets (operation_uuid, operation_type, target_object_type, \
    target_uuid, created_at) SELECT $1, $2, t.object_type, t.uuid, $4 \
    FROM unnest($14::text[], $15::text[]) WITH ORDINALITY AS t (object_type, uuid, n) ORDER BY t.n), \
event AS (INSERT INTO events (event_uuid, event_type, timestamp, fqdn, duration, message, extra, request_id) \
    VALUES ($16, 'audit', $4, $17, NULL, $18, $19, $10)) \
INSERT INTO event_objects (object_type, object_uuid, event_uuid) \
    SELECT l.object_type, l.uuid, $16 FROM unnest($20::text[], $21::text[]) AS l (object_type, uuid)";

/// [`PG_ENQUEUE`] for `row`: `Ok(Err(_))` when the op's id is taken.
async fn insert_in_one_statement(
    pool: &sqlx::PgPool,
    host: &str,
    row: &OpRow<'_>,
) -> Result<Result<OpId, EnqueueError>, sqlx::Error> {
    let OpRow { op, created_at, .. } = *row;
    let [node_uuid, instance_uuid, network_uuid] = row.header_uuids();
    let (target_types, target_uuids): (Vec<&str>, Vec<String>) = op
        .targets
        .iter()
        .map(|target| {
            (
                target.object_type.as_str(),
                target.uuid.hyphenated().to_string(),
            )
        })
        .unzip();
    let (link_types, link_uuids): (Vec<&str>, Vec<&str>) = row
        .event
        .links
        .iter()
        .map(|(object_type, uuid)| (object_type.as_str(), uuid.as_str()))
        .unzip();
    let inserted = sqlx::query(PG_ENQUEUE)
        .bind(row.op_uuid.as_str())
        .bind(op.op_type)
        .bind(i64::from(op.version))
        .bind(created_at)
        .bind(node_uuid)
        .bind(instance_uuid)
        .bind(network_uuid)
        .bind(op.priority.name())
        .bind(op.queue_name.as_str())
        .bind(op.request_id.as_deref())
        .bind(row.metadata_json.as_str())
        .bind(row.payload.as_str())
        .bind(i64::from(op.priority.value()))
        .bind(target_types)
        .bind(target_uuids)
        .bind(row.event.uuid.as_str())
        .bind(host)
        .bind(row.event.message.as_str())
        .bind(row.event.extra.as_str())
        .bind(link_types)
        .bind(link_uuids)
        .execute(pool)
        .await;
    match inserted {
        Err(error)
            if error
                .as_database_error()
                .is_some_and(|e| e.is_unique_violation()) =>
        {
            Ok(Err(EnqueueError::Duplicate(op.uuid)))
        }
        Err(error) => Err(error),
        Ok(_) => Ok(Ok(op.uuid)),
    }
}

/// The audit event of one enqueue (Shaken Fist's "operation created" event): linked to the op, every target and every context id.
struct AuditEvent {
    uuid: String,
    message: String,
    extra: String,
    links: Vec<(String, String)>,
}

impl AuditEvent {
    fn for_op(op: &NewOp) -> AuditEvent {
        let mut extra = op.metadata.clone();
        if let Some(uuid) = extra.remove("uuid") {
            extra.insert("op_uuid".to_owned(), uuid);
        }
        extra.insert("op_type".to_owned(), Value::from(op.op_type));
        let mut links = BTreeSet::new();
        links.insert((op.op_type.to_owned(), op.uuid.to_string()));
        for object in op.targets.iter().chain(op.context.iter()) {
            links.insert((
                object.object_type.as_str().to_owned(),
                object.uuid.hyphenated().to_string(),
            ));
        }
        AuditEvent {
            // Time-ordered (v7): events of one instant list in the order they were recorded.
            uuid: Uuid::now_v7().hyphenated().to_string(),
            message: format!(
                "{} operation created with tasks {}",
                op.op_type,
                op.task_names.join(", ")
            ),
            extra: Value::Object(extra).to_string(),
            links: links.into_iter().collect(),
        }
    }
}
