//! Object views with `last_cluster_operation` (DOMAIN.md §5) and the in-flight answer Shaken Fist planned
//! and never built (`has_pending_operations`), and the asynchronous network delete: `DELETE` enqueues a
//! `net_op` through its generated builder — target row and all, in one transaction — and answers 202
//! with the op for the caller to poll.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use ops_core::{NetworkId, ObjectRef, ObjectState, ObjectType, OpId, Priority, Store};
use ops_schemas::ops::{NetOp, NetTask};
use serde_json::{Value, json};

use crate::ApiError;
use crate::auth::{Caller, internal};
use crate::server::AppState;

macro_rules! view_handler {
    ($name:ident, $path:literal, $object_type:expr) => {
        /// One object type's views: see [`view`].
        #[utoipa::path(get, path = $path, tag = "objects",
            params(("reference" = String, Path, description = "The object's uuid, or its name")),
            security(("bearer" = [])),
            responses(
                (status = 200, description = "Its external view", body = crate::openapi::ObjectView),
                (status = 403, description = "The token lacks the scope", body = crate::openapi::ErrorBody),
                (status = 400, description = "More than one object has that name", body = crate::openapi::ErrorBody),
                (status = 404, description = "No such object, another namespace's, or deleted", body = crate::openapi::ErrorBody),
            ))]
        pub(crate) async fn $name(
            State(state): State<AppState>,
            caller: Caller,
            Path(reference): Path<String>,
        ) -> Result<Json<Value>, ApiError> {
            view($object_type, state, caller, reference).await
        }
    };
}

view_handler!(
    instance_view,
    "/instances/{reference}",
    ObjectType::Instance
);
view_handler!(network_view, "/networks/{reference}", ObjectType::Network);
view_handler!(
    artifact_view,
    "/artifacts/{reference}",
    ObjectType::Artifact
);

/// `GET /{instances,networks,artifacts}/<ref>` (a uuid or a name): the object's external view, with
/// `has_pending_operations` — whether an op is in flight on it, the gate's own answer. 404 `<type> not
/// found` for an object that does not exist or is another namespace's.
async fn view(
    object_type: ObjectType,
    state: AppState,
    caller: Caller,
    reference: String,
) -> Result<Json<Value>, ApiError> {
    caller.require_scope(&format!("{object_type}.read"))?;
    let object = visible(&state, &caller, object_type, &reference).await?;
    let view = state
        .store
        .external_view(object)
        .await
        .map_err(|e| internal(&e))?
        .ok_or_else(|| not_found(object_type))?;
    let mut view = serde_json::to_value(view).map_err(|error| {
        tracing::error!(%error, "an external view is not JSON");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    })?;
    let pending = state
        .store
        .has_pending(object)
        .await
        .map_err(|e| internal(&e))?;
    if let Some(view) = view.as_object_mut() {
        view.insert("has_pending_operations".to_owned(), Value::from(pending));
    }
    Ok(Json(view))
}

/// `DELETE /networks/<ref>` (a uuid or a name): enqueues the network's destruction and answers 202 `{"op_type": "net_op",
/// "op_uuid"}`. 404 for a network that does not exist, is another namespace's or is deleted already.
#[utoipa::path(delete, path = "/networks/{reference}", tag = "objects",
    params(("reference" = String, Path, description = "The network's uuid, or its name")),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "The op enqueued, to poll", body = crate::openapi::OpHandle),
        (status = 403, description = "The token lacks the scope", body = crate::openapi::ErrorBody),
        (status = 400, description = "More than one network has that name", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such network, another namespace's, or deleted", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn delete_network(
    State(state): State<AppState>,
    caller: Caller,
    Path(reference): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    caller.require_scope("network.delete")?;
    let object = visible(&state, &caller, ObjectType::Network, &reference).await?;
    let network = NetworkId::from(object.uuid);
    let op = enqueue_destroy(&state.store, network, request_id(&headers)).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"op_type": "net_op", "op_uuid": op.to_string()})),
    )
        .into_response())
}

/// `DELETE /networks` with `{"confirm": true, "namespace"}`: enqueues the destruction of every live
/// network of the namespace (the caller's own when not named; only `system` may name another) and
/// answers 202 with `[{"network_uuid", "op_type", "op_uuid"}]`.
#[utoipa::path(delete, path = "/networks", tag = "objects",
    request_body = crate::openapi::DeleteAll,
    security(("bearer" = [])),
    responses(
        (status = 202, description = "One op per live network of the namespace", body = Vec<crate::openapi::NetworkHandle>),
        (status = 400, description = "Not confirmed, or a malformed body", body = crate::openapi::ErrorBody),
        (status = 403, description = "Another namespace, or the token lacks the scope", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn delete_networks(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require_scope("network.delete")?;
    let bad = |message: &str| ApiError::new(StatusCode::BAD_REQUEST, message);
    let request: Value =
        serde_json::from_slice(&body).map_err(|_| bad("the request body is not JSON"))?;
    if request.get("confirm") != Some(&Value::Bool(true)) {
        return Err(bad("deleting every network needs \"confirm\": true"));
    }
    let namespace = match request.get("namespace") {
        None | Some(Value::Null) => caller.namespace.clone(),
        Some(Value::String(namespace)) => namespace.clone(),
        Some(_) => return Err(bad("namespace must be a string")),
    };
    if !caller.is_system() && namespace != caller.namespace {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "only the system namespace deletes another namespace's networks",
        ));
    }
    let networks = state
        .store
        .active_networks()
        .await
        .map_err(|e| internal(&e))?;
    let request_id = request_id(&headers);
    let mut handles = Vec::new();
    for network in networks.iter().filter(|network| {
        network.namespace == namespace && network.state != Some(ObjectState::DeleteWait)
    }) {
        let op = enqueue_destroy(&state.store, network.id, request_id.clone()).await?;
        handles.push(json!({
            "network_uuid": network.id.to_string(),
            "op_type": "net_op",
            "op_uuid": op.to_string(),
        }));
    }
    Ok((StatusCode::ACCEPTED, Json(Value::Array(handles))).into_response())
}

/// The `net_op` that destroys `network`, enqueued as any op is: through its generated builder.
async fn enqueue_destroy(
    store: &Store,
    network: NetworkId,
    request_id: Option<String>,
) -> Result<OpId, ApiError> {
    let mut enqueue = NetOp {
        network_uuid: network,
        node_uuid: None,
        floating_address: None,
        inner_address: None,
    }
    .enqueue(store)
    .priority(Priority::UserWaiting)
    .task(NetTask::NetworkDestroy);
    if let Some(request_id) = request_id {
        enqueue = enqueue.request_id(request_id);
    }
    enqueue.await.map_err(|error| {
        tracing::error!(error = %ops_core::ErrorChain(&error), %network, "cannot enqueue the delete");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    })
}

/// The request's `X-Request-ID` (set by the server when the caller sent none), for the op it causes.
fn request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .filter(|value| value.chars().count() <= ops_core::MAX_REQUEST_ID)
        .map(str::to_owned)
}

/// Whether a deleted object is found.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Deleted {
    /// As any other.
    Found,
    /// As not found.
    Hidden,
}

/// The object `reference` names — its uuid, or its name as Shaken Fist takes it (in the caller's
/// namespace; `system` looks in every one) — when it exists and the caller may see it; 404 `<type> not
/// found` otherwise, 400 for a name that more than one object has.
pub(crate) async fn visible_object(
    state: &AppState,
    caller: &Caller,
    object_type: ObjectType,
    reference: &str,
    deleted: Deleted,
) -> Result<ops_core::ObjectRecord, ApiError> {
    let found = match reference.parse() {
        Ok(uuid) => state
            .store
            .object(ObjectRef { object_type, uuid })
            .await
            .map_err(|e| internal(&e))?
            .into_iter()
            .collect(),
        Err(_) => {
            let namespace = (!caller.is_system()).then_some(caller.namespace.as_str());
            state
                .store
                .objects_named(object_type, reference, namespace)
                .await
                .map_err(|e| internal(&e))?
        }
    };
    let mut found: Vec<_> = found
        .into_iter()
        .filter(|record| caller.is_system() || record.namespace == caller.namespace)
        .filter(|record| deleted == Deleted::Found || record.state != Some(ObjectState::Deleted))
        .collect();
    match found.len() {
        0 => Err(not_found(object_type)),
        1 => Ok(found.remove(0)),
        _ => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("more than one {object_type} is named {reference}; use its uuid"),
        )),
    }
}

/// The object `reference` names, when it exists, is not deleted, and the caller may see it.
async fn visible(
    state: &AppState,
    caller: &Caller,
    object_type: ObjectType,
    reference: &str,
) -> Result<ObjectRef, ApiError> {
    visible_object(state, caller, object_type, reference, Deleted::Hidden)
        .await
        .map(|record| record.object)
}

fn not_found(object_type: ObjectType) -> ApiError {
    ApiError::not_found(format!("{object_type} not found"))
}
