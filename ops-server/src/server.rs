//! [`Server`]: the routes, the layers around them, and serving them until told to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use ops_core::Store;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::ratelimit::{AuthLimiter, AuthRate};
use crate::tokens::TokenIssuer;
use crate::{auth, capabilities, clusterops, dashboard, error, health, objects, openapi, schemas};

/// How the server treats requests.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ServerOptions {
    /// The largest request body read, in bytes (default 1 MiB): a larger one is refused with 413.
    pub body_limit: usize,
    /// How long a request may take before it is answered 503 and dropped (default 30 s).
    pub request_timeout: Duration,
    /// How many `POST /auth` attempts one client address may make (default: 10 at once, then one a
    /// second); past it, 429.
    pub auth_rate: AuthRate,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            body_limit: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            auth_rate: AuthRate::default(),
        }
    }
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The address could not be listened on (taken, or not this host's).
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Accepting connections failed.
    #[error("the server stopped on an error")]
    Serve(#[source] std::io::Error),
}

/// What every handler shares: the store (whose pool is itself shared), the token issuer and the limit on
/// authentication attempts.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) store: Store,
    pub(crate) tokens: TokenIssuer,
    pub(crate) auth_limiter: Arc<AuthLimiter>,
}

/// The API server, bound to its address and ready to serve.
pub struct Server {
    listener: tokio::net::TcpListener,
    app: Router,
}

impl Server {
    /// Listens on `addr` (port 0: any free port; see [`Server::local_addr`]) and builds the routes over
    /// `store`, issuing and checking tokens with `tokens`. Nothing is served until
    /// [`Server::run_until`].
    pub async fn bind(
        store: Store,
        tokens: TokenIssuer,
        addr: SocketAddr,
        options: ServerOptions,
    ) -> Result<Server, ServerError> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::Bind { addr, source })?;
        Ok(Server {
            listener,
            app: routes(
                AppState {
                    store,
                    tokens,
                    auth_limiter: Arc::new(AuthLimiter::new(options.auth_rate)),
                },
                &options,
            ),
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> Result<SocketAddr, ServerError> {
        self.listener.local_addr().map_err(ServerError::Serve)
    }

    /// Serves until `shutdown` completes, then stops taking connections and returns once the requests
    /// under way are answered.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        tracing::info!(addr = ?self.listener.local_addr().ok(), "serving");
        let app = self.app.into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(ServerError::Serve)
    }
}

/// Every route, and the layers every request passes: an `X-Request-ID` (the caller's, or a new uuid)
/// on the request, its trace and its answer; every error answer in Shaken Fist's shape; the timeout;
/// the body limit.
fn routes(state: AppState, options: &ServerOptions) -> Router {
    Router::new()
        .route("/", get(capabilities::page))
        .route("/auth", post(auth::authenticate))
        .route("/clusteroperations", get(clusterops::by_target))
        .route(
            "/clusteroperations/{operation_type}/{operation_uuid}",
            get(clusterops::get_op),
        )
        .route(
            "/clusteroperations/{operation_uuid}/chain",
            get(clusterops::get_chain),
        )
        .route("/instances/{reference}", get(objects::instance_view))
        .route(
            "/networks/{reference}",
            get(objects::network_view).delete(objects::delete_network),
        )
        .route("/networks", delete(objects::delete_networks))
        .route("/artifacts/{reference}", get(objects::artifact_view))
        .route("/schemas", get(schemas::index))
        .route("/schemas/{operation_type}", get(schemas::one))
        .route(
            "/instances/{reference}/clusteroperations",
            get(clusterops::instance_ops),
        )
        .route(
            "/networks/{reference}/clusteroperations",
            get(clusterops::network_ops),
        )
        .route(
            "/artifacts/{reference}/clusteroperations",
            get(clusterops::artifact_ops),
        )
        .route("/livez", get(health::live))
        .route("/readyz", get(health::ready))
        .route("/healthz", get(health::healthz))
        .route("/openapi.json", get(openapi::document))
        .merge(dashboard::routes())
        .fallback(error::no_such_path)
        .method_not_allowed_fallback(error::no_such_method)
        .with_state(state)
        .layer(DefaultBodyLimit::max(options.body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            options.request_timeout,
        ))
        .layer(axum::middleware::map_response(error::in_shaken_fists_shape))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}
