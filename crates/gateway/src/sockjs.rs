//! # SockJS at `/ws`
//!
//! Web SDK 4.7.x/4.8.x do not open a WebSocket themselves: a bundled SockJS client asks
//! `GET /ws/info`, then opens `/ws/{server}/{session}/websocket` and speaks SockJS framing
//! over it (docs/protocol.md, "Transport"). Once open, the connection runs the same session as
//! `/websocket` ([`crate::session::serve`] with [`SockJs`] framing).
//!
//! Only the websocket transport is served. SockJS's HTTP fallbacks (`xhr`, `xhr_streaming`,
//! `eventsource`, `htmlfile`, `jsonp`) matter only to browsers that cannot open a WebSocket;
//! they get a 404 that says so, rather than a session that half works.
use std::sync::Arc;

use axum::{
    Json, Router,
    extract::{Path, State, WebSocketUpgrade, ws::rejection::WebSocketUpgradeRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{any, get},
};
use serde_json::json;

use crate::{Gateway, accept, framing::SockJs};

/// Longest session id accepted in a SockJS path (clients pick 8 characters).
const MAX_SESSION_ID: usize = 64;
/// Longest server id accepted in a SockJS path (clients pick 3 digits).
const MAX_SERVER_ID: usize = 16;

/// The routes under `/ws`.
pub(crate) fn routes() -> Router<Arc<Gateway>> {
    Router::new()
        .route("/ws", get(greeting))
        .route("/ws/", get(greeting))
        .route("/ws/info", get(info).options(preflight))
        .route("/ws/{server}/{session}/{transport}", any(transport))
}

/// # `GET /ws`
///
/// SockJS servers greet at their base URL; handy to check a proxy reaches this one.
async fn greeting() -> Response {
    plain(StatusCode::OK, "Welcome to SockJS!\n")
}

/// # `GET /ws/info`
///
/// What the SockJS client asks before it picks a transport. Browsers fetch it with
/// `withCredentials`, so the answer names the caller's origin (never `*`, which credentials
/// forbid) and allows credentials; it must not be cached, since `entropy` is fresh each time.
async fn info(headers: HeaderMap) -> Response {
    let body = json!({
        "websocket": true,
        "origins": ["*:*"],
        "cookie_needed": false,
        "entropy": rand::random::<u32>(),
    });
    let mut response = Json(body).into_response();
    let out = response.headers_mut();
    allow_origin(&headers, out);
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache, no-transform, must-revalidate, max-age=0"),
    );
    response
}

/// # `OPTIONS /ws/info`
///
/// The CORS preflight a browser may send before [`info`]; it may be cached for a year.
async fn preflight(headers: HeaderMap) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let out = response.headers_mut();
    allow_origin(&headers, out);
    out.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("OPTIONS, GET"),
    );
    if let Some(asked) = headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        out.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
    }
    out.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("31536000"),
    );
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000"),
    );
    response
}

/// # `/ws/{server}/{session}/{transport}`
///
/// `{server}` and `{session}` are chosen by the client: digits, and 1 to 64 characters of
/// `A-Z a-z 0-9 _ -`; anything else is a 404. The `websocket` transport upgrades to a SockJS
/// session; any other transport is a 404 that says only the websocket transport is served.
async fn transport(
    State(gw): State<Arc<Gateway>>,
    Path((server, session, transport)): Path<(String, String, String)>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    if !is_server_id(&server) || !is_session_id(&session) {
        tracing::debug!(server, session, "refused a SockJS path with bad ids");
        return plain(
            StatusCode::NOT_FOUND,
            "Not found: a SockJS path is /ws/{server}/{session}/websocket, \
             server = digits, session = 1 to 64 of A-Z a-z 0-9 _ -\n",
        );
    }
    if transport != "websocket" {
        tracing::info!(transport, "refused a SockJS transport other than websocket");
        return plain(
            StatusCode::NOT_FOUND,
            "Not found: this server serves only the SockJS websocket transport \
             (/ws/{server}/{session}/websocket); XHR, event-source and JSONP fallbacks are not served\n",
        );
    }
    accept(gw, ws, SockJs, "/ws/{server}/{session}/websocket").await
}

/// A SockJS server id: 1 to 16 ASCII digits.
fn is_server_id(id: &str) -> bool {
    (1..=MAX_SERVER_ID).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit())
}

/// A SockJS session id: 1 to 64 URL-safe characters (no dots, which SockJS forbids).
fn is_session_id(id: &str) -> bool {
    (1..=MAX_SESSION_ID).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Names the caller's origin (or `*` for a caller without one) and allows credentials.
fn allow_origin(request: &HeaderMap, response: &mut HeaderMap) {
    let origin = request
        .get(header::ORIGIN)
        .filter(|o| !o.is_empty())
        .cloned()
        .unwrap_or(HeaderValue::from_static("*"));
    response.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    response.insert(
        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
        HeaderValue::from_static("true"),
    );
    response.insert(header::VARY, HeaderValue::from_static("Origin"));
}

/// A plain-text answer.
fn plain(status: StatusCode, text: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=UTF-8")],
        text,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_in_the_path_are_checked() {
        assert!(is_server_id("042"));
        assert!(!is_server_id(""));
        assert!(!is_server_id("12a"));
        assert!(!is_server_id(&"1".repeat(17)));
        assert!(is_session_id("abc_DEF-012"));
        assert!(!is_session_id(""));
        assert!(!is_session_id("a.b"));
        assert!(!is_session_id("a%20b"));
        assert!(!is_session_id(&"a".repeat(65)));
    }
}
