//! Monitoring: `/metrics` in Prometheus text format, and request spans in the logs.
//!
//! One explicit [`Registry`] per server (no global state, so tests can run several servers
//! in one process). Two kinds of figures:
//! - recorded as they happen, by a layer around every route ([`http`]): request latency
//!   histograms by matched route (the path pattern, never the raw URI, so ids do not become
//!   series) and error responses by status;
//! - read at scrape time from what the other crates keep anyway ([`live`]): WebSocket
//!   connections and devices online (gateway), messages in and out by kind (gateway), and the
//!   SQLite writer's batch sizes and commit latencies (storage). Those crates know nothing of
//!   Prometheus.
//!
//! `/metrics` needs the admin token (`Authorization: Bearer …`, the `client_credentials`
//! grant): the figures say who is busy and how the server is sized, which is not for every
//! user or the internet. Prometheus sends it with `authorization: {credentials_file: …}`.
use std::sync::Arc;

use axum::{
    Extension, Router,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use prometheus_client::registry::Registry;
use roam_domain::auth::Principal;
use roam_gateway::Gateway;
use roam_rest::{Rest, error::ApiError, extract::Caller};
use roam_storage_sqlite::WriterStats;

pub mod cluster;
pub mod http;
pub mod live;

/// The server's registry and the request metrics the HTTP layer records into.
pub struct Metrics {
    registry: Registry,
    http: Arc<http::HttpMetrics>,
}

impl Metrics {
    /// Registers every metric; `gateway`, `writer` (SQLite only) and `cluster` (in cluster mode) are read
    /// at each scrape.
    pub fn new(
        gateway: Arc<Gateway>,
        writer: Option<Arc<WriterStats>>,
        cluster: Option<Arc<roam_cluster::Cluster>>,
    ) -> Arc<Metrics> {
        let mut registry = Registry::default();
        let http = Arc::new(http::HttpMetrics::register(&mut registry));
        registry.register_collector(Box::new(live::Live { gateway, writer }));
        if let Some(c) = cluster {
            registry.register_collector(Box::new(cluster::ClusterFigures(c)));
        }
        Arc::new(Metrics { registry, http })
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }

    /// `GET /metrics` (admin token), with the same state as the REST routes for the token check.
    pub fn routes(self: &Arc<Self>, rest: Arc<Rest>) -> Router {
        Router::new()
            .route("/metrics", get(scrape))
            .layer(Extension(self.clone()))
            .with_state(rest)
    }

    /// Wraps `router` so every request is timed and logged (see [`http`]). Apply it to the
    /// whole router, after every route is added: the layer reads the matched route.
    pub fn layer(self: &Arc<Self>, router: Router) -> Router {
        http::layer(router, self.http.clone())
    }
}

/// # `GET /metrics`
///
/// Prometheus text format, for the admin only (401 without a token, 403 with a user's).
async fn scrape(Extension(metrics): Extension<Arc<Metrics>>, Caller(caller): Caller) -> Response {
    if caller != Principal::Admin {
        return ApiError::Forbidden.into_response();
    }
    match metrics.render() {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "could not render metrics");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
