//! Roam's msync transport: the WebSocket gateway that Easemob SDKs log in to.
//!
//! # Layout
//! - [`hub`]: the registry of online sessions, by user and device; it is the single-node
//!   [`roam_domain::fanout::Fanout`].
//! - [`session`]: one connection's state machine (login, then requests), one handler per
//!   [`roam_protocol::msync::ClientFrame`] variant in one file per command family (login,
//!   pull, send, rooms), and the loop that drives a socket.
//! - [`framing`]: how msync frames travel in WebSocket messages: binary on `/websocket`,
//!   SockJS text (base64) on `/ws`; the session loop is the same for both.
//! - [`sockjs`]: the SockJS endpoint at `/ws` that Web SDK 4.7/4.8 connect to.
//!
//! Domain values become msync frames (and client metas domain values) in
//! [`roam_wire::msync`]; this crate only calls it.
//!
//! Each connection runs as one task that owns its socket: frames are handled in order, so a
//! send is acked before the next frame of the same device is read, as the SDK expects.
use std::sync::Arc;

use axum::{
    Router,
    extract::{State, WebSocketUpgrade, ws::rejection::WebSocketUpgradeRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use roam_domain::service::Roam;
use tokio::sync::{Semaphore, watch};

use crate::framing::{Binary, Framing};

pub mod framing;
pub mod hub;
pub mod session;
pub mod sockjs;
pub mod traffic;

pub use hub::Hub;
pub use traffic::Traffic;

/// Largest msync frame a client may send (decoded, whatever the framing). Bigger closes the
/// connection (the SDK's own messages are far smaller: a text is at most 5 KB).
pub const MAX_FRAME: usize = 64 * 1024;
/// Largest text content of one message, in bytes, as Easemob enforces.
pub const MAX_TEXT: usize = 5 * 1024;

/// Gateway settings.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Most devices one user may have online at once; one more gets TOO_MANY_DEVICES.
    pub max_devices: usize,
    /// Most WebSocket connections at once; more wait for a free slot before the upgrade.
    pub max_connections: usize,
    /// A connection that has not logged in this long after opening is closed.
    pub login_timeout: std::time::Duration,
    /// A connection silent this long (no frame, not even a pong to the server's pings) is
    /// closed: a phone that lost its network never says goodbye, and its device slot must
    /// free up.
    pub idle_timeout: std::time::Duration,
}

/// What every connection shares.
pub struct Gateway {
    pub(crate) roam: Arc<Roam>,
    pub(crate) hub: Arc<Hub>,
    pub(crate) limits: Limits,
    pub(crate) connections: Arc<Semaphore>,
    pub(crate) shutdown: watch::Receiver<bool>,
    pub(crate) traffic: Traffic,
}

impl Gateway {
    /// `shutdown` turning true closes every session.
    pub fn new(
        roam: Arc<Roam>,
        hub: Arc<Hub>,
        limits: Limits,
        shutdown: watch::Receiver<bool>,
    ) -> Arc<Gateway> {
        Arc::new(Gateway {
            connections: Arc::new(Semaphore::new(limits.max_connections)),
            roam,
            hub,
            limits,
            shutdown,
            traffic: Traffic::default(),
        })
    }

    /// The app key (`org#app`) used in every JID.
    pub fn app_key(&self) -> &str {
        self.hub.app_key()
    }

    /// WebSocket connections open right now.
    pub fn open_connections(&self) -> usize {
        self.limits.max_connections - self.connections.available_permits()
    }

    /// Devices logged in right now (a user's several devices count each).
    pub fn devices_online(&self) -> usize {
        self.hub.devices_online()
    }

    /// Messages in and out over msync since the start, for monitoring.
    pub fn traffic(&self) -> &Traffic {
        &self.traffic
    }

    /// The msync routes: `GET /websocket` (binary frames, SDK 4.13 on) and SockJS under `/ws`
    /// (SDK 4.7/4.8; see [`sockjs`]). Both drive the same [`session::serve`].
    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/websocket", get(upgrade))
            .merge(sockjs::routes())
            .with_state(self.clone())
    }
}

/// # `GET /websocket`
///
/// Upgrades to msync with one binary message per frame.
async fn upgrade(
    State(gw): State<Arc<Gateway>>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    accept(gw, ws, Binary, "/websocket").await
}

/// Upgrades to a session that speaks `framing`, once a connection slot is free. Buffers are
/// kept small (tungstenite's default 128 KiB read buffer per connection would dominate
/// memory) and messages are capped at the framing's encoding of [`MAX_FRAME`].
///
/// A request that is not a WebSocket upgrade is answered 400 and logged: a client that
/// cannot connect otherwise leaves no trace on the server.
pub(crate) async fn accept<F: Framing>(
    gw: Arc<Gateway>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    framing: F,
    endpoint: &'static str,
) -> Response {
    let ws = match ws {
        Ok(ws) => ws,
        Err(refused) => {
            tracing::info!(endpoint, reason = %refused, "refused a request that is not a WebSocket upgrade");
            return (StatusCode::BAD_REQUEST, refused.body_text()).into_response();
        }
    };
    let Ok(permit) = gw.connections.clone().acquire_owned().await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    ws.read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .max_write_buffer_size(1024 * 1024)
        .max_message_size(framing.max_message())
        .max_frame_size(framing.max_message())
        .on_failed_upgrade(
            move |e| tracing::info!(endpoint, error = %e, "WebSocket upgrade failed"),
        )
        .on_upgrade(move |socket| async move {
            session::serve(socket, gw, framing).await;
            drop(permit);
        })
}
