//! `POST /auth`, and [`Caller`]: who a request's bearer token says it comes from, checked against the
//! key it was issued for at every request.

use std::net::SocketAddr;
use std::time::{Instant, SystemTime};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ops_core::{NamespaceKey, SYSTEM_NAMESPACE, StoreError};
use serde_json::{Value, json};

use crate::ApiError;
use crate::server::AppState;

/// The scope every cluster-operation endpoint needs.
pub(crate) const CLUSTER_OPERATION_READ: &str = "clusteroperation.read";

/// A failure of the server's own, logged whole and answered 500 without its detail.
pub(crate) fn internal(error: &StoreError) -> ApiError {
    tracing::error!(error = %ops_core::ErrorChain(error), "request failed");
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
}

fn unauthorized(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, message)
}

/// `POST /auth` with `{"namespace", "key"}`: a token for the namespace's key that matches, as Shaken Fist
/// answers it. 400 for a missing or malformed field, 404 for a namespace that does not exist, 401 for a
/// key that is none of its keys, 429 when the caller's address has tried too often.
#[utoipa::path(post, path = "/auth", tag = "auth", request_body = crate::openapi::AuthRequest, responses(
    (status = 200, description = "A token", body = crate::openapi::TokenBody),
    (status = 400, description = "A missing or malformed field", body = crate::openapi::ErrorBody),
    (status = 401, description = "The key is none of the namespace's", body = crate::openapi::ErrorBody),
    (status = 404, description = "No such namespace", body = crate::openapi::ErrorBody),
    (status = 429, description = "Too many attempts from this address; see Retry-After", body = crate::openapi::ErrorBody),
))]
pub(crate) async fn authenticate(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    if crate::dashboard::is_form(&headers) {
        return Ok(crate::dashboard::log_in(&state, peer, &headers, &body).await);
    }
    if let Some(refusal) = rate_limited(&state, peer) {
        return Ok(refusal.into_response());
    }
    let request: Value = serde_json::from_slice(&body)
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "the request body is not JSON"))?;
    let field = |name: &str| match request.get(name) {
        Some(Value::String(value)) if !value.is_empty() => Ok(value.clone()),
        Some(_) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("{name} must be a non-empty string"),
        )),
        None => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("missing {name} in request"),
        )),
    };
    let (namespace, key) = (field("namespace")?, field("key")?);
    let token = issue_token(&state, peer, namespace, key).await?;
    Ok(Json(json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": state.tokens.lifetime().as_secs(),
    }))
    .into_response())
}

/// 429, with the seconds to wait in `Retry-After`, when `peer` has tried to authenticate too often.
pub(crate) struct RateLimited {
    /// Whole seconds, rounded up: retrying after them always finds an attempt.
    pub(crate) retry_after: u64,
}

impl RateLimited {
    pub(crate) const MESSAGE: &str = "too many authentication attempts; retry later";
}

impl IntoResponse for RateLimited {
    fn into_response(self) -> Response {
        let mut response =
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, Self::MESSAGE).into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(self.retry_after));
        response
    }
}

/// Takes one of `peer`'s authentication attempts; `Some` when it has none left.
pub(crate) fn rate_limited(state: &AppState, peer: SocketAddr) -> Option<RateLimited> {
    let wait = state
        .auth_limiter
        .attempt(peer.ip(), Instant::now())
        .err()?;
    Some(RateLimited {
        retry_after: (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1),
    })
}

/// A token for `key`, when it is one of `namespace`'s keys: 404 for a namespace that does not exist, 401
/// for a key that is none of its keys.
pub(crate) async fn issue_token(
    state: &AppState,
    peer: SocketAddr,
    namespace: String,
    key: String,
) -> Result<String, ApiError> {
    let exists = state
        .store
        .namespace_exists(&namespace)
        .await
        .map_err(|e| internal(&e))?;
    if !exists {
        return Err(ApiError::not_found("namespace not found"));
    }
    let keys = state
        .store
        .namespace_keys(&namespace)
        .await
        .map_err(|e| internal(&e))?;
    // Every key is checked, matched or not, so the time taken does not tell which one matched.
    let matched = tokio::task::spawn_blocking(move || {
        let mut matched: Option<NamespaceKey> = None;
        for stored in keys {
            if crate::keys::matches(&stored, &key) && matched.is_none() {
                matched = Some(stored);
            }
        }
        matched
    })
    .await
    .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error"))?;
    let Some(matched) = matched else {
        tracing::info!(%namespace, peer = %peer.ip(), "authentication refused");
        return Err(unauthorized("the key is not one of the namespace's keys"));
    };
    let token = state.tokens.issue(
        &matched.namespace,
        &matched.key_name,
        &matched.nonce,
        SystemTime::now(),
    );
    tracing::info!(%namespace, key_name = %matched.key_name, "token issued");
    Ok(token)
}

/// Who a request comes from: its bearer token, valid, and issued for a key that still exists with the
/// same nonce. Extracting it answers 401 otherwise.
#[derive(Clone, Debug)]
pub(crate) struct Caller {
    /// The namespace the token's key belongs to.
    pub(crate) namespace: String,
    /// The token's scopes; `None`: every scope.
    scopes: Option<Vec<String>>,
}

impl Caller {
    /// Whether the caller is an administrator, who sees every namespace.
    pub(crate) fn is_system(&self) -> bool {
        self.namespace == SYSTEM_NAMESPACE
    }

    /// `Ok` when the token allows `scope` (no `scopes` claim, or `*`, allows every scope); 403 otherwise.
    pub(crate) fn require_scope(&self, scope: &str) -> Result<(), ApiError> {
        match &self.scopes {
            Some(scopes) if !scopes.iter().any(|s| s == "*" || s == scope) => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("the token lacks the scope {scope}"),
            )),
            _ => Ok(()),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| unauthorized("missing authorization header"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or_else(|| unauthorized("the authorization header is not `Bearer <token>`"))?;
        Caller::from_token(state, token.trim()).await
    }
}

impl Caller {
    /// The caller `token` names: valid, and issued for a key that still exists with the same nonce; 401
    /// otherwise.
    pub(crate) async fn from_token(state: &AppState, token: &str) -> Result<Caller, ApiError> {
        let claims = state
            .tokens
            .verify(token, SystemTime::now())
            .map_err(|error| unauthorized(error.to_string()))?;
        let Some((namespace, key_name)) = claims.subject() else {
            return Err(unauthorized("malformed token"));
        };
        let key = state
            .store
            .namespace_key(namespace, key_name)
            .await
            .map_err(|e| internal(&e))?;
        match key {
            Some(key) if key.nonce == claims.nonce => Ok(Caller {
                namespace: namespace.to_owned(),
                scopes: claims.scopes.clone(),
            }),
            _ => Err(unauthorized(
                "the token's key was deleted or replaced; authenticate again",
            )),
        }
    }
}
