//! `/livez`, `/readyz` and `/healthz`: whether the process answers, and whether it can serve — its
//! database reachable and at this build's schema. None needs a token.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::ApiError;
use crate::server::AppState;

/// The process answers: always 200.
#[utoipa::path(get, path = "/livez", tag = "health", responses((status = 200, description = "The process answers", body = crate::openapi::Health)))]
pub(crate) async fn live() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// The server can serve: 200 when its database answers and holds this build's schema; otherwise 503
/// with the reason (no schema, one to migrate, a database out of reach).
#[utoipa::path(get, path = "/readyz", tag = "health", responses(
    (status = 200, description = "The database answers at this build's schema", body = crate::openapi::Health),
    (status = 503, description = "Why not", body = crate::openapi::ErrorBody),
))]
pub(crate) async fn ready(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let unready = |error: ops_core::StoreError| {
        tracing::warn!(error = %ops_core::ErrorChain(&error), "not ready");
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, error.to_string())
    };
    let version = state.store.schema_version().await.map_err(unready)?;
    version.require_current().map_err(unready)?;
    Ok(Json(
        json!({"status": "ok", "schema_version": version.latest}),
    ))
}

/// `/healthz`: the same answer as [`ready`].
#[utoipa::path(get, path = "/healthz", tag = "health", responses(
    (status = 200, description = "The database answers at this build's schema", body = crate::openapi::Health),
    (status = 503, description = "Why not", body = crate::openapi::ErrorBody),
))]
pub(crate) async fn healthz(state: State<AppState>) -> Result<Json<Value>, ApiError> {
    ready(state).await
}
