//! Every request, timed and logged: a latency histogram by method and matched route, a
//! counter of error responses by route and status, and a `tower-http` span per request
//! (method, matched route) whose end is logged with the status and latency.
//!
//! The route label is the matched path pattern (`/{org}/{app}/users/{username}`), never the
//! raw URI: ids would make a series per user, and a hostile client could create series at
//! will. Unmatched requests share one label, and unusual methods share `other`.
use std::{sync::Arc, time::Instant};

use axum::{
    Router,
    extract::{MatchedPath, Request, State},
    middleware::{self, Next},
    response::Response,
};
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{
        counter::Counter,
        family::Family,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};
use tower_http::{
    LatencyUnit,
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::Level;

/// The route label of a request that matched no route.
pub const UNMATCHED: &str = "unmatched";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    route: String,
    status: u16,
}

/// The metrics the layer records into.
pub struct HttpMetrics {
    latency: Family<RouteLabels, Histogram>,
    errors: Family<ErrorLabels, Counter>,
}

impl HttpMetrics {
    pub(super) fn register(registry: &mut Registry) -> HttpMetrics {
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            // 0.5 ms .. ~16 s
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        let errors = Family::<ErrorLabels, Counter>::default();
        registry.register(
            "roam_http_request_duration_seconds",
            "HTTP request latency until the response head, by method and matched route",
            latency.clone(),
        );
        registry.register(
            "roam_http_errors",
            "HTTP responses with a status of 400 or more, by matched route and status",
            errors.clone(),
        );
        HttpMetrics { latency, errors }
    }
}

/// A bounded label for any method a client may send.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::HEAD => "HEAD",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}

fn route_of(req: &Request) -> String {
    req.extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED.to_owned(), |p| p.as_str().to_owned())
}

async fn track(State(m): State<Arc<HttpMetrics>>, req: Request, next: Next) -> Response {
    let labels = RouteLabels {
        method: method_label(req.method()),
        route: route_of(&req),
    };
    let started = Instant::now();
    let response = next.run(req).await;
    m.latency
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    let status = response.status().as_u16();
    if status >= 400 {
        m.errors
            .get_or_create(&ErrorLabels {
                route: labels.route,
                status,
            })
            .inc();
    }
    response
}

/// Adds the metrics middleware and the request spans to `router`.
pub(super) fn layer(router: Router, metrics: Arc<HttpMetrics>) -> Router {
    router
        .layer(middleware::from_fn_with_state(metrics, track))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    tracing::info_span!(
                        "request",
                        method = %req.method(),
                        route = %route_of(req),
                    )
                })
                .on_request(())
                .on_response(
                    DefaultOnResponse::new()
                        .level(Level::INFO)
                        .latency_unit(LatencyUnit::Micros),
                ),
        )
}
