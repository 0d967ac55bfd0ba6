//! The cluster-operation endpoints of Shaken Fist's API (DOMAIN.md §10), with its namespace rules: the
//! `system` namespace sees every op; another sees an op only when the op has targets and every one is an
//! object of its own.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use ops_core::{ObjectRef, ObjectType, OpId, OpRecord, TargetRow};
use serde_json::{Map, Value};

use crate::ApiError;
use crate::auth::{CLUSTER_OPERATION_READ, Caller, internal};
use crate::server::AppState;

/// The header keys of an op's wire form that its external view leaves out, as Shaken Fist's does
/// (`tasks` and `uuid` are written back in their view form).
const HIDDEN_HEADER_KEYS: [&str; 7] = [
    "uuid",
    "priority",
    "request_id",
    "tasks",
    "depends_on",
    "runs_after",
    "version",
];

/// `GET /clusteroperations/<operation_type>/<operation_uuid>`: the op's external view. 404 for a type
/// outside the 14 or an op that does not exist (or is of another type); 403 when the caller may not see
/// it.
pub(crate) async fn get_op(
    State(state): State<AppState>,
    caller: Caller,
    Path((op_type, op_uuid)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    caller.require_scope(CLUSTER_OPERATION_READ)?;
    if ops_schemas::lookup(&op_type).is_err() {
        return Err(ApiError::not_found("operation type not found"));
    }
    let not_found = || ApiError::not_found("operation not found");
    let op: OpId = op_uuid.parse().map_err(|_| not_found())?;
    let record = state
        .store
        .op_record(op)
        .await
        .map_err(|e| internal(&e))?
        .filter(|record| record.op_type == op_type)
        .ok_or_else(not_found)?;
    check_visible(&state, &caller, &record.targets).await?;
    Ok(Json(op_view(&record)))
}

/// `Ok` when `caller` may see an op with these targets.
async fn check_visible(
    state: &AppState,
    caller: &Caller,
    targets: &[TargetRow],
) -> Result<(), ApiError> {
    if caller.is_system() {
        return Ok(());
    }
    let forbidden = |why: &str| ApiError::new(StatusCode::FORBIDDEN, why);
    if targets.is_empty() {
        return Err(forbidden(
            "the operation has no targets; only the system namespace sees it",
        ));
    }
    for target in targets {
        let object = target
            .object_type
            .parse::<ObjectType>()
            .ok()
            .zip(target.uuid.parse().ok())
            .map(|(object_type, uuid)| ObjectRef { object_type, uuid });
        let owner = match object {
            Some(object) => state
                .store
                .object(object)
                .await
                .map_err(|e| internal(&e))?
                .map(|record| record.namespace),
            None => None,
        };
        if owner.as_deref() != Some(caller.namespace.as_str()) {
            return Err(forbidden(
                "the operation targets an object of another namespace",
            ));
        }
    }
    Ok(())
}

/// An op's external view, as Shaken Fist's `external_view()`: `operation_type`, `uuid`, `state` and the
/// names of its `tasks`, then its own fields (a `net_op`'s `network_uuid`, `node_uuid`, ...). Priority,
/// version, creation time and dependencies are not shown.
pub(crate) fn op_view(record: &OpRecord) -> Value {
    let mut view = Map::new();
    view.insert(
        "operation_type".to_owned(),
        Value::from(record.op_type.clone()),
    );
    view.insert("uuid".to_owned(), Value::from(record.op_uuid.to_string()));
    view.insert(
        "state".to_owned(),
        record
            .state
            .map_or(Value::Null, |state| Value::from(state.as_str())),
    );
    view.insert(
        "tasks".to_owned(),
        record
            .wire
            .get("tasks")
            .cloned()
            .unwrap_or(Value::Array(Vec::new())),
    );
    if let Some(body) = record.wire.as_object() {
        for (key, value) in body {
            if !HIDDEN_HEADER_KEYS.contains(&key.as_str()) && !view.contains_key(key) {
                view.insert(key.clone(), value.clone());
            }
        }
    }
    Value::Object(view)
}
