//! The OpenAPI 3.1 document of what the server serves, served at `/openapi.json` and committed as
//! `ops-server/openapi.json` (a test fails when they differ). The paths come from the handlers' own
//! `#[utoipa::path]` annotations; the 14 operations' bodies are the JSON Schemas schemars makes for
//! `ops-schemas` (the same as `GET /schemas/<type>` serves), added under `components.schemas` with their
//! shared definitions (`Dependency`, `Priority`, each op's task enum) beside them.

use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::{auth, capabilities, clusterops, health, objects, schemas};

/// Shaken Fist's error answer.
#[derive(Serialize, Deserialize, ToSchema)]
pub(crate) struct ErrorBody {
    /// What was wrong.
    error: String,
    /// The HTTP status, again.
    status: u16,
}

/// `POST /auth`'s request.
#[derive(Serialize, Deserialize, ToSchema)]
pub(crate) struct AuthRequest {
    /// The namespace to authenticate as.
    namespace: String,
    /// One of its keys.
    key: String,
}

/// `POST /auth`'s answer.
#[derive(Serialize, Deserialize, ToSchema)]
pub(crate) struct TokenBody {
    /// An HS256 JWT for the `Authorization: Bearer` header.
    access_token: String,
    /// Always `Bearer`.
    token_type: String,
    /// Seconds until it expires.
    expires_in: u64,
}

/// An op's external view: these fields, then the op's own (see the operation's schema under
/// `components.schemas`, e.g. `net_op`), and `error_report` for an op in `error`.
#[derive(Serialize, Deserialize, ToSchema)]
pub(crate) struct OpView {
    /// Its type, e.g. `net_op`.
    operation_type: String,
    /// Its id.
    uuid: String,
    /// `queued`, `preflight`, `executing`, `complete`, `abort`, `error` or `deleted`; null when its state
    /// row is gone.
    state: Option<String>,
    /// Its tasks' names, in order.
    tasks: Vec<String>,
    /// For an op in `error`: `{"code", "message", "details"}`.
    error_report: Option<ErrorReport>,
}

/// Why an op failed.
#[derive(Serialize, Deserialize, ToSchema)]
pub(crate) struct ErrorReport {
    /// What kind of failure, e.g. `handler_failed`, `lease_expired`; `error` when only the state's
    /// message is known.
    code: String,
    /// What happened.
    message: String,
    /// The rest of the report.
    details: Map<String, Value>,
}

/// The op an asynchronous delete enqueued, to poll.
#[derive(Serialize, Deserialize, ToSchema)]
pub(crate) struct OpHandle {
    /// Always `net_op`.
    op_type: String,
    /// Its id.
    op_uuid: String,
}

/// One network of `DELETE /networks` and the op enqueued for it.
#[derive(Serialize, Deserialize, ToSchema)]
pub(crate) struct NetworkHandle {
    /// The network.
    network_uuid: String,
    /// Always `net_op`.
    op_type: String,
    /// The op's id.
    op_uuid: String,
}

/// `DELETE /networks`' request.
#[derive(Serialize, Deserialize, ToSchema)]
pub(crate) struct DeleteAll {
    /// Must be `true`.
    confirm: bool,
    /// Whose networks; the caller's own when absent (only `system` names another).
    namespace: Option<String>,
    /// Accepted for Shaken Fist's client, and ignored.
    clean_wait: Option<bool>,
}

/// `GET /clusteroperations`' fields, as a JSON body (even on this GET) or in the query string.
#[derive(Serialize, Deserialize, ToSchema)]
pub(crate) struct TargetQuery {
    /// `instance`, `network`, `artifact`, `blob`, `interface`, ...
    target_object_type: String,
    /// The object's uuid.
    target_uuid: String,
}

/// An object's external view: its type's fields (as Shaken Fist shows them), `last_cluster_operation`
/// for instances, networks and artifacts, and `has_pending_operations`.
#[derive(Serialize, Deserialize, ToSchema)]
pub(crate) struct ObjectView {
    /// Its id.
    uuid: String,
    /// Its name.
    name: String,
    /// Its namespace.
    namespace: String,
    /// Its state.
    state: Option<String>,
    /// `{"op_type", "op_uuid"}` of the newest op that targeted it, in any state, or null.
    last_cluster_operation: Option<OpHandle>,
    /// Whether an op is in flight on it (queued, preflight or executing).
    has_pending_operations: bool,
}

/// A health answer.
#[derive(Serialize, Deserialize, ToSchema)]
pub(crate) struct Health {
    /// `ok`.
    status: String,
    /// `/readyz` and `/healthz`: the schema version the database is at.
    schema_version: Option<i64>,
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ops-server",
        description = "Shaken Fist's REST API for cluster operations, served from the ops store.",
        license(name = "Apache-2.0")
    ),
    paths(
        capabilities::page,
        auth::authenticate,
        health::live,
        health::ready,
        health::healthz,
        clusterops::get_op,
        clusterops::get_chain,
        clusterops::by_target,
        clusterops::instance_ops,
        clusterops::network_ops,
        clusterops::artifact_ops,
        objects::instance_view,
        objects::network_view,
        objects::artifact_view,
        objects::delete_network,
        objects::delete_networks,
        schemas::index,
        schemas::one,
        document,
    ),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

/// The whole document: the annotated paths, then the operations' schemas.
pub fn document_json() -> Value {
    let mut document = serde_json::to_value(ApiDoc::openapi()).unwrap_or(Value::Null);
    let schemas = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut);
    if let Some(schemas) = schemas {
        for op in ops_schemas::OPS {
            let mut schema = (op.schema)();
            if let Some(definitions) = schema.as_object_mut().and_then(|s| s.remove("$defs")) {
                for (name, definition) in definitions.as_object().into_iter().flatten() {
                    schemas.insert(name.clone(), rewrite_refs(definition.clone()));
                }
            }
            if let Some(schema) = schema.as_object_mut() {
                schema.remove("$schema");
            }
            schemas.insert(op.name.to_owned(), rewrite_refs(schema));
        }
    }
    document
}

/// `#/$defs/X` → `#/components/schemas/X`: a schemars schema's own definitions, once beside it.
fn rewrite_refs(mut value: Value) -> Value {
    match &mut value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key == "$ref"
                    && let Some(target) = child.as_str().and_then(|r| r.strip_prefix("#/$defs/"))
                {
                    *child = Value::from(format!("#/components/schemas/{target}"));
                } else {
                    *child = rewrite_refs(child.take());
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                *item = rewrite_refs(item.take());
            }
        }
        _ => {}
    }
    value
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "meta", responses((status = 200, description = "This OpenAPI document", body = Object)))]
pub(crate) async fn document() -> Json<Value> {
    Json(document_json())
}
