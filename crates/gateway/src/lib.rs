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
    Json, Router,
    extract::{State, WebSocketUpgrade, ws::rejection::WebSocketUpgradeRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use roam_domain::service::Roam;
use roam_protocol::rest::ErrorBody;
use tokio::sync::{Semaphore, watch};

use crate::framing::{Binary, Framing};

pub mod framing;
pub mod hub;
pub mod presence;
pub mod session;
pub mod sockjs;
pub mod traffic;

pub use hub::{Hub, SendRate};
pub use presence::Presence;
pub use traffic::Traffic;

/// Largest msync frame a client may send (decoded, whatever the framing). Bigger closes the
/// connection (the SDK's own messages are far smaller: a text is at most 5 KB, a whole
/// message at most `roam_domain::limits::MESSAGE_BYTES`).
pub const MAX_FRAME: usize = 64 * 1024;

/// Most bytes one WebSocket message from the server may take, once framed (tungstenite's
/// write buffer limit: a bigger message fails to write and the connection drops). Pull batches
/// are sized so that they stay well below it ([`PULL_BATCH_BYTES`]).
pub const MAX_WRITE: usize = 1024 * 1024;
/// Most bytes of metas one pull batch carries (encoded, before framing): a batch stops before
/// the meta that would take it over, but always carries at least one. Even as SockJS base64
/// (4/3 of it, plus JSON) a full batch is far below [`MAX_WRITE`].
pub const PULL_BATCH_BYTES: usize = 256 * 1024;
/// Largest single meta the server pushes (encoded). Whatever the framing, a batch holding one
/// meta this big stays below [`MAX_WRITE`]. A device's own sends are far smaller (a client
/// frame is at most [`MAX_FRAME`]); a stored message over it cannot be delivered over msync
/// and is skipped in pulls with a warning (it stays in the REST history).
pub const MAX_META: usize = 512 * 1024;
// A device's own message (a client frame, re-encoded with the server's JIDs) always fits a
// page alone.
const _: () = assert!(2 * MAX_FRAME <= MAX_META && MAX_META <= PULL_BATCH_BYTES * 2);

/// Gateway settings.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Most devices one user may have online at once; one more gets TOO_MANY_DEVICES.
    pub max_devices: usize,
    /// Most WebSocket connections at once; one more is answered 503 at once (a squatter
    /// holding the slots must not make real logins wait).
    pub max_connections: usize,
    /// A connection that has not logged in this long after opening is closed.
    pub login_timeout: std::time::Duration,
    /// A connection silent this long (no frame, not even a pong to the server's pings) is
    /// closed: a phone that lost its network never says goodbye, and its device slot must
    /// free up.
    pub idle_timeout: std::time::Duration,
    /// A connection whose writes do not complete within this long (the client stopped
    /// reading, its buffers are full) is closed: it would otherwise hold its slot and memory
    /// forever, blocked in a write the idle check never sees.
    pub write_timeout: std::time::Duration,
    /// How fast one connection may send messages (CHAT and MUC metas); a send over it is
    /// refused with the SDK's traffic-limit error and not stored.
    pub send_rate_per_connection: hub::SendRate,
    /// How fast one user, all their connections together, may send messages.
    pub send_rate_per_user: hub::SendRate,
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
        hub.limit_user_sends(limits.send_rate_per_user);
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

/// The read buffer a WebSocket starts with (see [`accept`]).
const READ_BUFFER: usize = 1024;

/// Upgrades to a session that speaks `framing` if a connection slot is free, else answers 503
/// with a JSON error body at once. Buffers are kept small (tungstenite's default 128 KiB read
/// buffer per connection would dominate memory; msync requests are tens of bytes, and a larger
/// frame is read in several reads into a buffer grown to its size), client messages are capped
/// at the framing's encoding of [`MAX_FRAME`] and server messages at [`MAX_WRITE`].
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
    let Ok(permit) = gw.connections.clone().try_acquire_owned() else {
        tracing::warn!(
            endpoint,
            max_connections = gw.limits.max_connections,
            "refused a WebSocket: every connection slot is taken"
        );
        return too_many_connections();
    };
    ws.read_buffer_size(READ_BUFFER)
        .write_buffer_size(4 * 1024)
        .max_write_buffer_size(MAX_WRITE)
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

/// The answer to an upgrade beyond `max_connections`: 503 with an error body in the shape of
/// every REST error, so a client (or an operator with curl) learns why.
fn too_many_connections() -> Response {
    let body = ErrorBody {
        error: "service_unavailable".into(),
        error_description: "too many connections; try again later".into(),
        error_code: None,
        timestamp: roam_domain::now_ms(),
        duration: 0,
        exception: "roam.service_unavailable".into(),
    };
    (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
}
