//! `GET /schemas` and `GET /schemas/<operation_type>`: the JSON Schema of each operation's wire form, as
//! `opsctl schema` writes them and the repository commits them (`schemas/`), for API consumers. Public:
//! they describe the API, not the cloud.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::ApiError;

fn files() -> &'static BTreeMap<String, String> {
    static FILES: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    FILES.get_or_init(ops_schemas::schema::render_all)
}

fn json_file(name: &str) -> Option<Response> {
    files()
        .get(name)
        .map(|text| ([(header::CONTENT_TYPE, "application/json")], text.clone()).into_response())
}

/// The index: every operation type, its version, schema file, targets, context fields and tasks.
#[utoipa::path(get, path = "/schemas", tag = "schemas", responses((status = 200, description = "The index of the operations' schemas", body = Object)))]
pub(crate) async fn index() -> Result<Response, ApiError> {
    json_file("index.json").ok_or_else(|| ApiError::not_found("not found"))
}

/// One operation type's schema; 404 `operation type not found` for a type outside the 14.
#[utoipa::path(get, path = "/schemas/{operation_type}", tag = "schemas",
    params(("operation_type" = String, Path, description = "One of the 14 types")),
    responses(
        (status = 200, description = "The operation's JSON Schema", body = Object),
        (status = 404, description = "`operation type not found`", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn one(Path(op_type): Path<String>) -> Result<Response, ApiError> {
    if op_type == "index" {
        return Err(ApiError::not_found("operation type not found"));
    }
    json_file(&format!("{op_type}.json"))
        .ok_or_else(|| ApiError::not_found("operation type not found"))
}
