//! The cluster-operation endpoints of Shaken Fist's API (DOMAIN.md §10), with its namespace rules: the
//! `system` namespace sees every op; another sees an op only when the op has targets and every one is an
//! object of its own.

use std::collections::{HashMap, HashSet, VecDeque};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use ops_core::{Dependency, ObjectRef, ObjectType, OpId, OpRecord, TargetRow, TargetingOp};
use serde_json::{Map, Value};

use crate::ApiError;
use crate::auth::{CLUSTER_OPERATION_READ, Caller, internal};
use crate::server::AppState;

/// `GET /clusteroperations/<operation_type>/<operation_uuid>`: the op's external view. 404 for a type
/// outside the 14 or an op that does not exist (or is of another type); 403 when the caller may not see
/// it.
#[utoipa::path(get, path = "/clusteroperations/{operation_type}/{operation_uuid}", tag = "cluster operations",
    params(("operation_type" = String, Path, description = "One of the 14 types, e.g. `net_op`"), ("operation_uuid" = String, Path, description = "The op's uuid")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The op's external view", body = crate::openapi::OpView),
    (status = 403, description = "The caller may not see it, or lacks the scope", body = crate::openapi::ErrorBody),
        (status = 404, description = "`operation type not found` or `operation not found`", body = crate::openapi::ErrorBody),
    ))]
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
    Ok(Json(view_of(&state, &record).await?))
}

/// The most ops a chain answers; a longer one is refused (400), as Shaken Fist refuses it.
const MAX_CHAIN: usize = 256;

/// `GET /clusteroperations/<operation_uuid>/chain`: the op and every op it depends on, directly or not
/// (breadth first over `depends_on`), as external views, newest first. 404 for an unknown op; 400 for a
/// chain longer than 256 or a malformed `depends_on`; 403 when the caller may not see one of them. A
/// dependency no longer stored (hard-deleted) is left out.
#[utoipa::path(get, path = "/clusteroperations/{operation_uuid}/chain", tag = "cluster operations",
    params(("operation_uuid" = String, Path, description = "The op's uuid")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The op and what it depends on, newest first", body = Vec<crate::openapi::OpView>),
        (status = 400, description = "More than 256 ops, or a malformed `depends_on`", body = crate::openapi::ErrorBody),
    (status = 403, description = "The caller may not see it, or lacks the scope", body = crate::openapi::ErrorBody),
        (status = 404, description = "`operation not found`", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn get_chain(
    State(state): State<AppState>,
    caller: Caller,
    Path(op_uuid): Path<String>,
) -> Result<Json<Vec<Value>>, ApiError> {
    caller.require_scope(CLUSTER_OPERATION_READ)?;
    let not_found = || ApiError::not_found("operation not found");
    let first: OpId = op_uuid.parse().map_err(|_| not_found())?;
    let mut seen = HashSet::from([first]);
    let mut to_read = VecDeque::from([first]);
    let mut chain = Vec::new();
    while let Some(op) = to_read.pop_front() {
        let Some(record) = state.store.op_record(op).await.map_err(|e| internal(&e))? else {
            if op == first {
                return Err(not_found());
            }
            continue;
        };
        for dependency in depends_on(&record)? {
            if seen.insert(dependency.op_uuid) {
                if seen.len() > MAX_CHAIN {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        format!("the chain has more than {MAX_CHAIN} operations"),
                    ));
                }
                to_read.push_back(dependency.op_uuid);
            }
        }
        chain.push(record);
    }
    for record in &chain {
        check_visible(&state, &caller, &record.targets).await?;
    }
    chain.sort_by(|a, b| b.created_at.total_cmp(&a.created_at));
    let mut views = Vec::with_capacity(chain.len());
    for record in &chain {
        views.push(view_of(&state, record).await?);
    }
    Ok(Json(views))
}

/// An op's `depends_on`, from its wire form; 400 when it is not a list of `{op_type, op_uuid}`.
fn depends_on(record: &OpRecord) -> Result<Vec<Dependency>, ApiError> {
    match record.wire.get("depends_on") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(list) => serde_json::from_value(list.clone()).map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("malformed depends_on in operation {}", record.op_uuid),
            )
        }),
    }
}

/// `GET /clusteroperations` with `target_object_type` and `target_uuid`, as a JSON body (which
/// `shakenfist-client` sends, on a GET) or in the query string: every op that ever targeted the object,
/// terminal ones included, newest first. 400 for a missing or invalid field; 404 `target object not
/// found`; 403 for another namespace's object.
#[utoipa::path(get, path = "/clusteroperations", tag = "cluster operations",
    params(
        ("target_object_type" = Option<String>, Query, description = "The object's type, when not in the body"),
        ("target_uuid" = Option<String>, Query, description = "The object's uuid, when not in the body"),
    ),
    request_body(content = Option<crate::openapi::TargetQuery>, description = "The fields as a JSON body on this GET, as `shakenfist-client` sends them"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every op that targeted the object, newest first", body = Vec<crate::openapi::OpView>),
        (status = 400, description = "A missing or invalid field", body = crate::openapi::ErrorBody),
    (status = 403, description = "The caller may not see it, or lacks the scope", body = crate::openapi::ErrorBody),
        (status = 404, description = "`target object not found`", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn by_target(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Result<Json<Vec<Value>>, ApiError> {
    caller.require_scope(CLUSTER_OPERATION_READ)?;
    let bad = |message: String| ApiError::new(StatusCode::BAD_REQUEST, message);
    let body: Map<String, Value> = if body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        serde_json::from_slice(&body)
            .map_err(|_| bad("the request body is not a JSON object".to_owned()))?
    };
    let field = |name: &str| -> Result<String, ApiError> {
        match body.get(name) {
            Some(Value::String(value)) => Ok(value.clone()),
            Some(_) => Err(bad(format!("{name} must be a string"))),
            None => query
                .get(name)
                .cloned()
                .ok_or_else(|| bad(format!("missing {name}"))),
        }
    };
    let (object_type, uuid) = (field("target_object_type")?, field("target_uuid")?);
    let object_type: ObjectType = object_type
        .parse()
        .map_err(|_| bad(format!("invalid target_object_type `{object_type}`")))?;
    let uuid = uuid
        .parse()
        .map_err(|_| bad(format!("invalid target_uuid `{uuid}`")))?;
    let target = ObjectRef { object_type, uuid };
    let record = registered(&state, target)
        .await?
        .ok_or_else(|| ApiError::not_found("target object not found"))?;
    if !caller.is_system() && record.namespace != caller.namespace {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "the target object is in another namespace",
        ));
    }
    let ops = whole_history(&state, target).await?;
    Ok(Json(views(&state, &ops).await?))
}

macro_rules! object_ops_handler {
    ($name:ident, $path:literal, $object_type:expr) => {
        /// The ops of one object type's objects: see [`of_object`].
        #[utoipa::path(get, path = $path, tag = "objects",
            params(
                ("reference" = String, Path, description = "The object's uuid, or its name"),
                ("all" = Option<bool>, Query, description = "Every op that ever targeted it, not only those in flight"),
            ),
            security(("bearer" = [])),
            responses(
                (status = 200, description = "Its ops, newest first", body = Vec<crate::openapi::OpView>),
                (status = 403, description = "The token lacks the scope", body = crate::openapi::ErrorBody),
                (status = 400, description = "More than one object has that name", body = crate::openapi::ErrorBody),
                (status = 404, description = "No such object, or another namespace's", body = crate::openapi::ErrorBody),
            ))]
        pub(crate) async fn $name(
            State(state): State<AppState>,
            caller: Caller,
            Path(reference): Path<String>,
            Query(query): Query<HashMap<String, String>>,
        ) -> Result<Json<Vec<Value>>, ApiError> {
            of_object($object_type, state, caller, reference, query).await
        }
    };
}

object_ops_handler!(
    instance_ops,
    "/instances/{reference}/clusteroperations",
    ObjectType::Instance
);
object_ops_handler!(
    network_ops,
    "/networks/{reference}/clusteroperations",
    ObjectType::Network
);
object_ops_handler!(
    artifact_ops,
    "/artifacts/{reference}/clusteroperations",
    ObjectType::Artifact
);

/// `GET /{instances,networks,artifacts}/<ref>/clusteroperations[?all=true]` (a uuid or a name): the ops in flight on the
/// object (queued, preflight or executing), or with `all=true` every op that ever targeted it, newest
/// first. 404 `<type> not found` for an object that does not exist or is another namespace's.
async fn of_object(
    object_type: ObjectType,
    state: AppState,
    caller: Caller,
    reference: String,
    query: HashMap<String, String>,
) -> Result<Json<Vec<Value>>, ApiError> {
    caller.require_scope(CLUSTER_OPERATION_READ)?;
    let record = crate::objects::visible_object(
        &state,
        &caller,
        object_type,
        &reference,
        crate::objects::Deleted::Found,
    )
    .await?;
    let all = query
        .get("all")
        .is_some_and(|all| matches!(all.to_ascii_lowercase().as_str(), "true" | "1" | "yes"));
    let ops = if all {
        whole_history(&state, record.object).await?
    } else {
        state
            .store
            .pending(record.object)
            .await
            .map_err(|e| internal(&e))?
    };
    Ok(Json(views(&state, &ops).await?))
}

/// The registry row of `object`; `None` when it is not registered.
async fn registered(
    state: &AppState,
    object: ObjectRef,
) -> Result<Option<ops_core::ObjectRecord>, ApiError> {
    state.store.object(object).await.map_err(|e| internal(&e))
}

/// Every op that targeted `target`, newest first, read a page at a time.
async fn whole_history(state: &AppState, target: ObjectRef) -> Result<Vec<TargetingOp>, ApiError> {
    const PAGE: u32 = 500;
    let mut ops = Vec::new();
    let mut before = None;
    loop {
        let page = state
            .store
            .history(target, before, PAGE)
            .await
            .map_err(|e| internal(&e))?;
        ops.extend(page.ops);
        match page.next_before {
            Some(next) => before = Some(next),
            None => return Ok(ops),
        }
    }
}

/// The external views of `ops`, in their order; an op whose header is gone is left out. The records are
/// read in batches (`Store::op_records`), not one by one.
async fn views(state: &AppState, ops: &[TargetingOp]) -> Result<Vec<Value>, ApiError> {
    let ids: Vec<OpId> = ops.iter().map(|op| op.op_uuid).collect();
    let records = state
        .store
        .op_records(&ids)
        .await
        .map_err(|e| internal(&e))?;
    let mut views = Vec::with_capacity(records.len());
    for record in &records {
        views.push(view_of(state, record).await?);
    }
    Ok(views)
}

/// Whether `caller` may see an op with these targets: [`check_visible`] as a yes or no.
pub(crate) async fn may_see(
    state: &AppState,
    caller: &Caller,
    targets: &[TargetRow],
) -> Result<bool, ApiError> {
    match check_visible(state, caller, targets).await {
        Ok(()) => Ok(true),
        Err(error) if error.status == StatusCode::FORBIDDEN => Ok(false),
        Err(error) => Err(error),
    }
}

/// `Ok` when `caller` may see an op with these targets.
pub(crate) async fn check_visible(
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
            Some(object) => registered(state, object)
                .await?
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

/// [`op_view`], with the `error_report` of an op in `error`: `{"code", "message", "details"}` as Shaken
/// Fist documents it, from the report the worker wrote (its `kind`, its `message`, the rest as details), or
/// from the state's message when there is none (an op failed for a missing dependency).
async fn view_of(state: &AppState, record: &OpRecord) -> Result<Value, ApiError> {
    let mut view = op_view(record);
    if record.state == Some(ops_core::OpState::Error) {
        let stored = state
            .store
            .error_report(record.op_uuid)
            .await
            .map_err(|e| internal(&e))?;
        let report = match stored {
            Some(Value::Object(mut report)) => {
                let code = report.remove("kind").unwrap_or(Value::from("error"));
                let message = report.remove("message").unwrap_or(Value::from(""));
                serde_json::json!({"code": code, "message": message, "details": report})
            }
            other => serde_json::json!({
                "code": "error",
                "message": record.state_message.clone().unwrap_or_default(),
                "details": other.unwrap_or(Value::Object(Map::new())),
            }),
        };
        if let Some(view) = view.as_object_mut() {
            view.insert("error_report".to_owned(), report);
        }
    }
    Ok(view)
}

/// An op's external view, as Shaken Fist's `external_view()`: `operation_type`, `uuid`, `state` and the
/// names of its `tasks`, then its own fields (a `net_op`'s `network_uuid`, `node_uuid`, ...). The rest of
/// its header ([`ops_core::HEADER_KEYS`]: priority, version, request id, dependencies) is not shown.
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
            if !ops_core::HEADER_KEYS.contains(&key.as_str()) && !view.contains_key(key) {
                view.insert(key.clone(), value.clone());
            }
        }
    }
    Value::Object(view)
}
