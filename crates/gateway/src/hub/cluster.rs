//! What a cluster node asks of its hub: the devices to share with the other nodes, closing a
//! device's session that logged in again elsewhere, and a resync after signals were lost.
use roam_domain::{device::Resource, user::UserId};

use super::Hub;

impl Hub {
    /// Every device online here, by user: the snapshot a cluster node shares with the others.
    /// `with` runs under the registry lock, so that the snapshot and the joins and leaves
    /// reported to [`crate::Presence`] are in one order.
    pub fn devices<R>(&self, with: impl FnOnce(Vec<(UserId, Vec<Resource>)>) -> R) -> R {
        let registry = self.lock();
        let devices = registry
            .users
            .iter()
            .filter(|(_, u)| !u.entries.is_empty())
            .map(|(user, u)| {
                let mut resources: Vec<Resource> =
                    u.entries.iter().map(|e| e.resource.clone()).collect();
                resources.dedup();
                (user.clone(), resources)
            })
            .collect();
        with(devices)
    }

    /// Closes the sessions of `user` on `resource` here for which `older` holds, given when
    /// they registered (epoch ms): the device logged in again on another node. The user's
    /// other devices are left alone. Returns how many were closed.
    pub fn replace_device(
        &self,
        user: &UserId,
        resource: &Resource,
        older: impl Fn(u64) -> bool,
    ) -> usize {
        let mut registry = self.lock();
        let Some(u) = registry.users.get_mut(user) else {
            return 0;
        };
        let before = u.entries.len();
        u.entries.retain(|e| {
            let close = e.resource == *resource && older(e.since_ms);
            if close {
                e.mailbox.replaced();
            }
            !close
        });
        let closed = before - u.entries.len();
        if closed > 0
            && !u.entries.iter().any(|e| e.resource == *resource)
            && let Some(presence) = self.presence()
        {
            presence.left(user, resource);
        }
        closed
    }

    /// Tells every session to look in the store for all its queues with news: signals may
    /// have been lost (the cluster's broker was unreachable).
    pub fn resync_all(&self) {
        for u in self.lock().users.values() {
            for e in &u.entries {
                e.mailbox.resync();
            }
        }
    }
}
