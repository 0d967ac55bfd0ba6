//! Errors as Shaken Fist's API answers them: `{"error": message, "status": code}` with that status.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
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

/// The longest body of another layer's error answer kept as its message.
const MAX_FOREIGN_MESSAGE: usize = 200;

/// Rewrites an error answer that is not already Shaken Fist's JSON — one a layer or an extractor made: a
/// body over the size limit (413), a request past the timeout — into `{"error", "status"}`, keeping its
/// status and headers. Its text, lower-cased, is the message; the status's reason when it has none.
pub(crate) async fn in_shaken_fists_shape(response: Response) -> Response {
    let status = response.status();
    // Shaken Fist's JSON already, or a dashboard page (which shows its own error).
    let answered = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|kind| {
            kind.as_bytes().starts_with(b"application/json")
                || kind.as_bytes().starts_with(b"text/html")
        });
    if !(status.is_client_error() || status.is_server_error()) || answered {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_FOREIGN_MESSAGE * 4)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_lowercase())
        .unwrap_or_default();
    let message = if text.is_empty() || text.len() > MAX_FOREIGN_MESSAGE {
        status.canonical_reason().unwrap_or("error").to_lowercase()
    } else {
        text
    };
    let rewritten = ApiError::new(status, message).into_response();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let (_, body) = rewritten.into_parts();
    Response::from_parts(parts, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn rewritten(response: Response) -> (StatusCode, Option<String>, serde_json::Value) {
        let response = in_shaken_fists_shape(response).await;
        let status = response.status();
        let retry = response
            .headers()
            .get(header::RETRY_AFTER)
            .map(|value| value.to_str().unwrap().to_owned());
        let bytes = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        (status, retry, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn another_layers_error_answers_in_shaken_fists_shape_keeping_status_and_headers() {
        let timeout = (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "5")],
            "",
        )
            .into_response();
        assert_eq!(
            rewritten(timeout).await,
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Some("5".to_owned()),
                serde_json::json!({"error": "service unavailable", "status": 503})
            )
        );
        let too_large = (
            StatusCode::PAYLOAD_TOO_LARGE,
            "Failed to buffer the request body: length limit exceeded",
        )
            .into_response();
        assert_eq!(
            rewritten(too_large).await.2,
            serde_json::json!({"error": "failed to buffer the request body: length limit exceeded", "status": 413})
        );
    }

    #[tokio::test]
    async fn success_and_shaken_fists_own_errors_pass_unchanged() {
        let ok = (StatusCode::OK, "fine").into_response();
        let ok = in_shaken_fists_shape(ok).await;
        assert_eq!(
            axum::body::to_bytes(ok.into_body(), 64).await.unwrap(),
            "fine"
        );
        let ours = ApiError::not_found("operation not found").into_response();
        assert_eq!(
            rewritten(ours).await,
            (
                StatusCode::NOT_FOUND,
                None,
                serde_json::json!({"error": "operation not found", "status": 404})
            )
        );
    }
}
