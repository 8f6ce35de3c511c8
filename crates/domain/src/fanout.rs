//! Fan-out: how a use-case reaches the devices that are online right now.
//!
//! Durable state lives in the [`crate::store::Store`]; fan-out only carries "look again" signals,
//! so losing one (a node restart) costs latency, never data: devices pull what they are owed
//! at login and on every heartbeat.
use crate::{conversation::Target, device::Resource, user::UserId};

/// Why a device is being disconnected by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KickReason {
    /// The user's password changed: their tokens are void.
    PasswordChanged,
    /// The user was deleted.
    UserRemoved,
}

/// Reaches online devices. Implemented by the gateway's session registry (one node) and, for a
/// cluster, by a broker-backed implementation. Calls must not block: they only enqueue.
pub trait Fanout: Send + Sync + 'static {
    /// Tells every online device of `user` — but the one named `except` — that the queue of
    /// its conversation with `target` has something new.
    fn notify(&self, user: &UserId, target: &Target, except: Option<&Resource>);

    /// [`Fanout::notify`] for each of `users` (a group's members), but never the device
    /// `except` of the user `sender`. An implementation may take its locks once for all.
    fn notify_all(
        &self,
        users: &[UserId],
        target: &Target,
        sender: &UserId,
        except: Option<&Resource>,
    ) {
        for user in users {
            self.notify(user, target, (user == sender).then_some(except).flatten());
        }
    }

    /// Disconnects every device of `user`.
    fn kick(&self, user: &UserId, reason: KickReason);
}
