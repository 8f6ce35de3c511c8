//! Roam's msync transport: the WebSocket gateway that Easemob SDKs log in to.
//!
//! # Layout
//! - [`hub`]: the registry of online sessions, by user and device; it is the single-node
//!   [`roam_domain::fanout::Fanout`].
//! - [`session`]: one connection's state machine (login, then requests), one handler per
//!   [`roam_protocol::msync::ClientFrame`] variant in one file per command family (login,
//!   pull, send, rooms), and the loop that drives a socket.
//!
//! Domain values become msync frames (and client metas domain values) in
//! [`roam_wire::msync`]; this crate only calls it.
//!
//! Each connection runs as one task that owns its socket: frames are handled in order, so a
//! send is acked before the next frame of the same device is read, as the SDK expects.
use std::sync::Arc;

use axum::{
    Router,
    extract::{State, WebSocketUpgrade},
    response::{IntoResponse, Response},
    routing::get,
};
use roam_domain::service::Roam;
use tokio::sync::{Semaphore, watch};

pub mod hub;
pub mod session;

pub use hub::Hub;

/// Largest frame a client may send. Bigger closes the connection (the SDK's own messages are
/// far smaller: a text is at most 5 KB).
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

    /// The route `GET /websocket`.
    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/websocket", get(upgrade))
            .with_state(self.clone())
    }
}

/// # `GET /websocket`
///
/// Upgrades to msync. Buffers are kept small (tungstenite's default 128 KiB read buffer per
/// connection would dominate memory) and frames are capped at [`MAX_FRAME`].
async fn upgrade(State(gw): State<Arc<Gateway>>, ws: WebSocketUpgrade) -> Response {
    let Ok(permit) = gw.connections.clone().acquire_owned().await else {
        return axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    ws.read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .max_write_buffer_size(1024 * 1024)
        .max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
        .on_upgrade(move |socket| async move {
            session::serve(socket, gw).await;
            drop(permit);
        })
}
