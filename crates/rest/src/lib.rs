//! Roam's REST transport: Easemob's REST API (paths, bodies, envelopes as Easemob documents
//! them) over axum.
//!
//! # Layout
//! - [`error`]: [`error::ApiError`], the one place where domain errors become HTTP statuses and
//!   Easemob error bodies.
//! - [`extract`]: the caller's identity (bearer token), the user a request acts for and the
//!   device it comes from, and JSON bodies with Easemob-shaped rejections.
//! - [`users`]: tokens and user management.
//! - [`groups`], [`messages`]: groups and chat rooms; admin message sending.
//! - [`roaming`]: the conversation list, pins, marks, history and one-way deletes.
//!
//! Answers are the typed bodies of [`roam_protocol::rest`], built from domain values by
//! [`roam_wire::rest`]; handlers only parse, call a use-case and wrap the result.
//!
//! Every path lives under `/{org}/{app}`; another org or app gets a 404 with an Easemob error.
//! Every error is an Easemob error body, including those the HTTP layer answers by itself
//! (unknown route 404, wrong method 405, body over [`MAX_BODY`] 413, undecodable path 400):
//! [`error::json_errors`].
use std::sync::Arc;

use axum::{
    Router,
    extract::{DefaultBodyLimit, OriginalUri, Request, State},
    http::{HeaderName, Method, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use roam_domain::service::Roam;
use tower_http::cors::{AllowOrigin, CorsLayer};

pub mod error;
pub mod extract;
pub mod groups;
pub mod messages;
pub mod openapi;
pub mod roaming;
pub mod routes;
pub mod users;

use error::ApiError;

/// Most bytes of a REST request body; a bigger one is a 413. The largest bodies the API takes
/// are far smaller: an admin send to 600 recipients with a 16 KiB message, 60 registrations.
pub const MAX_BODY: usize = 128 * 1024;

/// What every REST handler shares.
pub struct Rest {
    pub(crate) roam: Arc<Roam>,
    pub(crate) org: String,
    pub(crate) app: String,
    /// A stable uuid for the application, as Easemob's envelopes carry.
    pub(crate) app_uuid: String,
    /// `POST /users` without a token is allowed.
    pub(crate) open_registration: bool,
    /// Dependencies besides the store, reported by `/ready` and `/health`.
    pub(crate) checks: Vec<Arc<dyn DependencyCheck>>,
}

/// A dependency besides the store (a message bus, say) that `/ready` and `/health` report on
/// under its [`DependencyCheck::name`]. Implemented where the concrete dependency is known
/// (roamd), so that this crate knows none.
pub trait DependencyCheck: Send + Sync + 'static {
    /// The key under `checks`, e.g. `nats`.
    fn name(&self) -> &'static str;
    /// Whether it answers now. Called on every probe: it must answer from memory, at once.
    fn up(&self) -> bool;
}

impl Rest {
    /// `app_key` is `org#app`.
    pub fn new(
        roam: Arc<Roam>,
        app_key: &str,
        app_uuid: String,
        open_registration: bool,
    ) -> Arc<Rest> {
        Rest::with_checks(roam, app_key, app_uuid, open_registration, Vec::new())
    }

    /// [`Rest::new`], with dependencies besides the store for the probes to report.
    pub fn with_checks(
        roam: Arc<Roam>,
        app_key: &str,
        app_uuid: String,
        open_registration: bool,
        checks: Vec<Arc<dyn DependencyCheck>>,
    ) -> Arc<Rest> {
        let (org, app) = app_key.split_once('#').unwrap_or((app_key, ""));
        Arc::new(Rest {
            roam,
            org: org.to_owned(),
            app: app.to_owned(),
            app_uuid,
            open_registration,
            checks,
        })
    }

    /// `org#app`, as JIDs and message metas name the app.
    pub(crate) fn app_key(&self) -> String {
        format!("{}#{}", self.org, self.app)
    }

    /// Every REST route, with CORS for browser apps on other origins.
    pub fn router(self: &Arc<Self>) -> Router {
        let app = routes::table().into_iter().fold(Router::new(), |app, r| {
            let path = r.path.strip_prefix(routes::APP).unwrap_or(r.path);
            app.route(path, (r.handler)())
        });
        let app = app
            .layer(middleware::from_fn_with_state(self.clone(), check_app))
            .with_state(self.clone());
        Router::new()
            .route("/health", get(health).with_state(self.clone()))
            .route("/ready", get(ready).with_state(self.clone()))
            .route("/openapi.json", openapi_json(&self.org, &self.app))
            .nest("/{org}/{app}", app)
            .fallback(not_found)
            .layer(DefaultBodyLimit::max(MAX_BODY))
            .layer(middleware::from_fn(error::json_errors))
            .layer(cors())
    }
}

/// Browsers send `Authorization` and `Content-Type: application/json` from any origin the app
/// is served on; answer preflights for both.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("restrict-access"),
        ])
        .max_age(std::time::Duration::from_secs(3600))
}

/// Refuses paths whose `{org}/{app}` is not this server's app.
async fn check_app(State(rest): State<Arc<Rest>>, req: Request, next: Next) -> Response {
    // Inside the nest the URI is stripped of `/{org}/{app}`; the original keeps it.
    let path = req
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| req.uri().path().to_owned(), |u| u.path().to_owned());
    let mut parts = path.trim_start_matches('/').split('/');
    let (org, app) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if org != rest.org || app != rest.app {
        return ApiError::AppNotFound(format!("{org}/{app}")).into_response();
    }
    next.run(req).await
}

/// # `GET /health`
///
/// 200 `{"status":"ok"}` while the server can read its store, else 503: for load balancers
/// and orchestrators (liveness: restart a node that fails it). Needs no token. With other
/// dependencies (cluster mode), `checks` reports each, the store included; they do not change
/// the status: a node that lost its message bus still serves its own devices, and restarting
/// it would not bring the bus back.
async fn health(State(rest): State<Arc<Rest>>) -> Response {
    let (status, code) = match rest.roam.ready().await {
        Ok(()) => ("ok", axum::http::StatusCode::OK),
        Err(e) => {
            tracing::error!(error = %e, "health check: the store does not answer");
            ("unavailable", axum::http::StatusCode::SERVICE_UNAVAILABLE)
        }
    };
    let mut body = serde_json::json!({"status": status});
    if !rest.checks.is_empty() {
        let mut checks = serde_json::Map::new();
        checks.insert("store".into(), serde_json::json!({"status": status}));
        for (name, check) in rest.dependencies() {
            checks.insert(name.into(), check);
        }
        body["checks"] = serde_json::Value::Object(checks);
    }
    (code, axum::Json(body)).into_response()
}

impl Rest {
    /// Each dependency besides the store, and its report (`{"status":"ok"|"unavailable"}`).
    fn dependencies(&self) -> impl Iterator<Item = (&'static str, serde_json::Value)> + '_ {
        self.checks.iter().map(|c| {
            let status = if c.up() { "ok" } else { "unavailable" };
            (c.name(), serde_json::json!({"status": status}))
        })
    }
}

/// # `GET /openapi.json`
///
/// The API's OpenAPI document (see [`openapi`]). Needs no token: it describes the API, it
/// holds no data. Rendered once, when the router is built: the answer costs a copy.
fn openapi_json(org: &str, app: &str) -> axum::routing::MethodRouter {
    let doc = match serde_json::to_vec(&openapi::document(org, app)) {
        Ok(doc) => bytes::Bytes::from(doc),
        Err(e) => {
            tracing::error!(error = %e, "could not render the OpenAPI document");
            bytes::Bytes::new()
        }
    };
    get(move || async move {
        if doc.is_empty() {
            return ApiError::Internal("no OpenAPI document".into()).into_response();
        }
        ([(header::CONTENT_TYPE, "application/json")], doc).into_response()
    })
}

/// # `GET /ready`
///
/// Whether this server can serve requests, with each dependency it needs reported on its own:
/// 200 `{"status":"ok","checks":{"store":{"status":"ok","latency_ms":…}}}`, or 503 with
/// `"status":"unavailable"` at the top and on each dependency that does not answer (the
/// reason goes to the log, not to this unauthenticated answer). Besides the store, each
/// [`DependencyCheck`] (cluster mode: `nats`) is reported, and one that is down makes the
/// node not ready: its own devices stay served, but new ones are better sent to a node that
/// reaches the others. Needs no token.
async fn ready(State(rest): State<Arc<Rest>>) -> Response {
    let started = std::time::Instant::now();
    let store = match rest.roam.ready().await {
        Ok(()) => serde_json::json!({
            "status": "ok",
            "latency_ms": started.elapsed().as_secs_f64() * 1000.0,
        }),
        Err(e) => {
            tracing::error!(error = %e, "readiness check: the store does not answer");
            serde_json::json!({"status": "unavailable"})
        }
    };
    let mut ok = store["status"] == "ok";
    let mut checks = serde_json::Map::new();
    checks.insert("store".into(), store);
    for (name, check) in rest.dependencies() {
        ok &= check["status"] == "ok";
        checks.insert(name.into(), check);
    }
    let body = serde_json::json!({
        "status": if ok { "ok" } else { "unavailable" },
        "checks": checks,
    });
    let status = if ok {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

async fn not_found() -> ApiError {
    ApiError::NoRoute
}
