//! Devices online on other nodes, for a hub that is one node of a cluster.
//!
//! The device limit and "one live session per device" are per user, whatever the node each
//! device is connected to. A [`crate::Hub`] on its own knows only its sessions; given a
//! [`Presence`] (the cluster's view of the others, see `roam-cluster`), it counts the user's
//! devices elsewhere and tells the others about its own sessions, so that they close their
//! session of a device that logs in here.
use roam_domain::{device::Resource, user::UserId};

/// The other nodes' sessions, as far as this node knows (eventually consistent: a device that
/// logged in elsewhere a moment ago may not be counted yet).
///
/// The hub calls these methods while it holds its registry lock, so that the joins and leaves
/// it reports are in the order they happened: they must only look at memory or enqueue,
/// never block, and never call back into the hub.
pub trait Presence: Send + Sync + 'static {
    /// The devices of `user` online on other nodes.
    fn remote_resources(&self, user: &UserId) -> Vec<Resource>;

    /// A session of `user` on `resource` registered here at `since_ms` (epoch ms); another
    /// node's older session of the same device must close.
    fn joined(&self, user: &UserId, resource: &Resource, since_ms: u64);

    /// The last session of `user` on `resource` here ended.
    fn left(&self, user: &UserId, resource: &Resource);
}
