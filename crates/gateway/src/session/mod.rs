//! One msync connection: log in with PROVISION, then answer requests in order.
//!
//! [`Session::handle`] turns one client frame into the frames to send back; it knows no socket,
//! so its logic is testable alone. It decodes the frame and hands it to one handler per
//! [`ClientFrame`] variant, each in the file of its command family:
//!
//! - `login.rs`: PROVISION (the token, the user, the device slot);
//! - `pull.rs`: the unread answer, and pulling a queue (which acks what was pulled before);
//! - `send.rs`: a message or ack a device sends (a CHAT meta) → the service's `send`;
//! - `rooms.rs`: chat room JOIN and LEAVE (a MUC meta);
//! - `socket.rs`: [`serve`], which drives a WebSocket in any [`crate::framing::Framing`]: it
//!   reads frames, writes answers, forwards the hub's pushes (notices, kicks) between
//!   requests, pings, and closes dead or silent connections.
//!
//! Rendering domain values as msync (JIDs, metas, events) is [`roam_wire::msync`]'s job; these
//! files only call it.
use std::sync::Arc;

use governor::DefaultDirectRateLimiter;
use roam_domain::{device::Device, user::UserId};
use roam_protocol::{
    msync::{self, ClientFrame},
    pb::{CommSyncUl, meta::NameSpace, status::ErrorCode},
};

use crate::{Gateway, hub::Registration};

mod login;
mod pull;
mod rooms;
mod send;
mod socket;

pub use socket::serve;

/// What the socket loop does after a frame was handled.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    Continue,
    /// Send the answers, then close the connection.
    Close,
}

/// A logged-in device.
struct Online {
    device: Device,
    registration: Registration,
    /// When the token the device logged in with expires (epoch ms): the session ends then.
    token_expires_ms: u64,
    /// This connection's send rate limiter (None: unlimited).
    send_rate: Option<Arc<DefaultDirectRateLimiter>>,
}

/// One connection's state: before login `online` is `None`, and only PROVISION (or LOGOUT)
/// is answered.
pub struct Session {
    gw: Arc<Gateway>,
    online: Option<Online>,
}

impl Session {
    pub fn new(gw: Arc<Gateway>) -> Session {
        Session { gw, online: None }
    }

    /// Handles one binary frame; returns the frames to send back, in order. A frame that does
    /// not decode, or any request before the login, closes the connection: the peer is not an
    /// msync client.
    pub async fn handle(&mut self, frame: &[u8]) -> (Vec<Vec<u8>>, Next) {
        let frame = match ClientFrame::decode(frame) {
            Ok(f) => f,
            Err(e) => {
                tracing::debug!(error = %e, "closing a connection that sent a bad frame");
                return (vec![], Next::Close);
            }
        };
        match (frame, self.online.is_some()) {
            (
                ClientFrame::Provision {
                    guid,
                    auth,
                    provision,
                },
                false,
            ) => self.provision(guid, auth, provision).await,
            // A second login on a logged-in connection is ignored.
            (ClientFrame::Provision { .. }, true) => (vec![], Next::Continue),
            (ClientFrame::Unread, true) => (vec![self.unread().await], Next::Continue),
            (ClientFrame::Sync(ul), true) => (self.sync(ul).await, Next::Continue),
            (ClientFrame::Logout(_), _) => (vec![msync::logout_reply()], Next::Close),
            (_, false) => (vec![], Next::Close),
        }
    }

    /// A SYNC: a meta the device sends (by namespace: a message, a room operation, client
    /// statistics), or else a pull of the queue it names.
    async fn sync(&self, ul: CommSyncUl) -> Vec<Vec<u8>> {
        let Some(meta) = ul.meta else {
            return match ul.queue {
                Some(queue) => vec![self.pull(queue, ul.key).await],
                None => vec![],
            };
        };
        let meta_id = meta.id.unwrap_or(0);
        let ns = NameSpace::try_from(meta.ns.unwrap_or(0));
        if matches!(ns, Ok(NameSpace::Chat | NameSpace::Muc)) && !self.may_send() {
            return vec![reject(meta_id, ErrorCode::PermissionDenied, TRAFFIC_LIMIT)];
        }
        match ns {
            Ok(NameSpace::Chat) => vec![self.send(meta).await],
            // Client statistics: nothing to answer (the SDK expects no reply).
            Ok(NameSpace::Statistic) => vec![],
            Ok(NameSpace::Muc) => vec![self.room(meta_id, meta.payload).await],
            _ => vec![reject(
                meta_id,
                ErrorCode::UnknownCommand,
                "unsupported namespace",
            )],
        }
    }

    /// Whether one more message may go out now, under this connection's rate and then its
    /// user's (all their devices together). A refused send costs nothing from the user's rate.
    fn may_send(&self) -> bool {
        let online = self.online();
        let allowed = |l: &Option<Arc<DefaultDirectRateLimiter>>| {
            l.as_ref().is_none_or(|l| l.check().is_ok())
        };
        allowed(&online.send_rate) && allowed(&online.registration.user_rate)
    }

    /// Whether the token this session logged in with has expired.
    fn token_expired(&self, now_ms: u64) -> bool {
        self.online
            .as_ref()
            .is_some_and(|o| o.token_expires_ms <= now_ms)
    }

    /// The logged-in device. Only called by the handlers of requests, which
    /// [`Session::handle`] runs only after the login.
    fn online(&self) -> &Online {
        self.online
            .as_ref()
            .expect("requests are handled only after login")
    }

    /// The logged-in user.
    fn me(&self) -> &UserId {
        &self.online().device.user
    }

    /// The app key (`org#app`) in every JID.
    fn app_key(&self) -> &str {
        self.gw.app_key()
    }
}

/// The reason with which a send over a rate limit is refused; with PERMISSION_DENIED the SDK
/// reports it as MESSAGE_CURRENT_LIMITING.
const TRAFFIC_LIMIT: &str = "traffic limit";

/// The answer refusing the meta `meta_id` with `code`; the SDK shows `reason`.
fn reject(meta_id: u64, code: ErrorCode, reason: &str) -> Vec<u8> {
    msync::send_error(meta_id, msync::status(code, Some(reason)))
}
