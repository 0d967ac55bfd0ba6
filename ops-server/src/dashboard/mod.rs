//! The operators' dashboard: server-rendered pages over the same store and the same auth as the API.
//!
//! - [`object`]: one object's busy / idle banner (the gate's own answer, failing closed), its pending ops,
//!   its latest op and its whole history as a timeline;
//! - [`op`]: one op's header, tasks, targets, fields, events, dependencies and error report;
//! - [`queues`]: the work queues' depth by priority, and the last hour's rescues and error rate;
//! - [`maintainer`]: the network maintainers' recent passes, from the status events they record.
//!
//! [`session`] logs in with a namespace's key through a form posting to `/auth`, keeping the token in an
//! HttpOnly, SameSite=Strict cookie. Pages are plain HTML and CSS (no script), readable at any width; a
//! namespace other than `system` sees only its own objects and their ops, as through the API.

mod layout;
mod maintainer;
mod object;
mod op;
mod queues;
mod session;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::html;

use crate::ApiError;
use crate::server::AppState;

pub(crate) use session::is_form;

/// `POST /auth` with the login form: see [`session::log_in`]. Its answer is a dashboard page, with the
/// dashboard's headers.
pub(crate) async fn log_in(
    state: &AppState,
    peer: std::net::SocketAddr,
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> Response {
    with_page_headers(session::log_in(state, peer, headers, body).await).await
}

/// The dashboard's routes, under `/dashboard`.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(object::lookup_page))
        .route("/dashboard/objects", get(object::find))
        .route("/dashboard/objects/{object_type}/{uuid}", get(object::page))
        .route("/dashboard/ops/{uuid}", get(op::page))
        .route("/dashboard/queues", get(queues::page))
        .route("/dashboard/maintainer", get(maintainer::page))
        .route("/dashboard/login", get(session::login_page))
        .route("/dashboard/logout", post(session::log_out))
        .route("/dashboard/style.css", get(layout::stylesheet))
        .layer(axum::middleware::map_response(with_page_headers))
}

/// Every dashboard answer: no script, style or form target but the dashboard's own, never framed, never
/// cached (pages show live state and who is logged in).
async fn with_page_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A page that could not be shown: its status, and a message for the reader, on a page of the dashboard.
#[derive(Debug)]
pub(crate) struct PageError {
    status: StatusCode,
    message: String,
}

impl PageError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        PageError {
            status,
            message: message.into(),
        }
    }

    fn not_found(message: impl Into<String>) -> Self {
        PageError::new(StatusCode::NOT_FOUND, message)
    }
}

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        PageError::new(error.status, error.message)
    }
}

/// A failure of the store: logged whole, shown as the API answers it (500, without its detail).
impl From<ops_core::StoreError> for PageError {
    fn from(error: ops_core::StoreError) -> Self {
        PageError::from(crate::auth::internal(&error))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error").to_owned();
        let body = html! {
            h1 { (title) }
            p role="alert" { (self.message) }
            p { a href="/dashboard" { "Find an object" } }
        };
        (self.status, layout::page(&title, None, body)).into_response()
    }
}
