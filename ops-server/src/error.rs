//! Errors as Shaken Fist's API answers them: `{"error": message, "status": code}` with that status.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// An answer other than success: its status and a message for the caller. Messages say what was wrong
/// with the request; a failure of the server's own (the database) is logged whole and answered briefly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What the caller reads in `error`.
    pub message: String,
}

impl ApiError {
    /// An error with this status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// 404, for a path or a thing that is not there.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": self.message, "status": self.status.as_u16()});
        (self.status, Json(body)).into_response()
    }
}

/// Any path the server does not serve.
pub(crate) async fn no_such_path() -> ApiError {
    ApiError::not_found("not found")
}

/// A path served, by another method.
pub(crate) async fn no_such_method() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
}
