//! The registry of online sessions: user → devices → a queue of pushes to each session.
//!
//! One std mutex guards the map; it is held only to look up or edit entries, never across an
//! await, so contention is short. Pushes go into each session's bounded queue with `try_send`:
//! a session too slow to drain it is dropped from the registry, which closes its queue and so
//! the connection (it will find everything again at its next login).
use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use roam_domain::{
    conversation::Target,
    device::Resource,
    fanout::{Fanout, KickReason},
    user::UserId,
};
use tokio::sync::mpsc;

/// Pushes queued per session.
const SESSION_QUEUE: usize = 1024;

/// Something the server pushes to a session without being asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Push {
    /// The queue of the conversation with this target has news.
    Notice(Target),
    /// Close the session.
    Kick(KickReason),
}

struct Entry {
    id: u64,
    resource: Resource,
    tx: mpsc::Sender<Push>,
}

/// The online-session registry.
pub struct Hub {
    app_key: String,
    next_id: AtomicU64,
    sessions: Mutex<HashMap<UserId, Vec<Entry>>>,
}

/// The login would exceed the user's device limit.
#[derive(Debug, PartialEq, Eq)]
pub struct TooManyDevices;

/// A session's place in the hub; leaving it (drop) unregisters the session.
pub struct Registration {
    hub: Arc<Hub>,
    user: UserId,
    id: u64,
    /// Pushes for this session.
    pub pushes: mpsc::Receiver<Push>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut sessions = self.hub.lock();
        if let Some(list) = sessions.get_mut(&self.user) {
            list.retain(|e| e.id != self.id);
            if list.is_empty() {
                sessions.remove(&self.user);
            }
        }
    }
}

impl Hub {
    pub fn new(app_key: &str) -> Arc<Hub> {
        Arc::new(Hub {
            app_key: app_key.to_owned(),
            next_id: AtomicU64::new(1),
            sessions: Mutex::new(HashMap::new()),
        })
    }

    pub fn app_key(&self) -> &str {
        &self.app_key
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, Vec<Entry>>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a session of `user` on device `resource`. A session already registered for
    /// the same device is replaced (its connection closes): a device has one live session.
    pub fn register(
        self: &Arc<Self>,
        user: &UserId,
        resource: &Resource,
        max_devices: usize,
    ) -> Result<Registration, TooManyDevices> {
        let (tx, pushes) = mpsc::channel(SESSION_QUEUE);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut sessions = self.lock();
        let list = sessions.entry(user.clone()).or_default();
        list.retain(|e| e.resource != *resource);
        if list.len() >= max_devices {
            return Err(TooManyDevices);
        }
        list.push(Entry {
            id,
            resource: resource.clone(),
            tx,
        });
        Ok(Registration {
            hub: self.clone(),
            user: user.clone(),
            id,
            pushes,
        })
    }

    /// How many sessions are online, all users together.
    pub fn devices_online(&self) -> usize {
        self.lock().values().map(Vec::len).sum()
    }

    /// How many sessions `user` has online.
    pub fn online(&self, user: &UserId) -> usize {
        self.lock().get(user).map_or(0, Vec::len)
    }

    fn push(&self, user: &UserId, except: Option<&Resource>, push: Push) {
        let mut sessions = self.lock();
        let Some(list) = sessions.get_mut(user) else {
            return;
        };
        list.retain(|e| {
            if Some(&e.resource) == except {
                return true;
            }
            match e.tx.try_send(push.clone()) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    tracing::warn!(%user, resource = %e.resource, "session too slow; disconnecting it");
                    false
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            }
        });
        if list.is_empty() {
            sessions.remove(user);
        }
    }
}

impl Fanout for Hub {
    fn notify(&self, user: &UserId, target: &Target, except: Option<&Resource>) {
        self.push(user, except, Push::Notice(target.clone()));
    }

    fn kick(&self, user: &UserId, reason: KickReason) {
        self.push(user, None, Push::Kick(reason));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(u: &str, r: &str) -> (UserId, Resource) {
        (UserId::parse(u).unwrap(), Resource::parse(r).unwrap())
    }

    #[test]
    fn device_limit_counts_other_devices_only() {
        let hub = Hub::new("org#app");
        let (alice, r1) = ids("alice", "r1");
        let (_, r2) = ids("alice", "r2");
        let _a = hub.register(&alice, &r1, 1).unwrap();
        assert!(hub.register(&alice, &r2, 1).is_err());
        // The same device logging in again replaces its old session.
        let _b = hub.register(&alice, &r1, 1).unwrap();
        assert_eq!(hub.online(&alice), 1);
    }

    #[test]
    fn notify_skips_the_excepted_device_and_drop_unregisters() {
        let hub = Hub::new("org#app");
        let (alice, r1) = ids("alice", "r1");
        let (bob, r2) = ids("bob", "r2");
        let mut a1 = hub.register(&alice, &r1, 10).unwrap();
        let mut a2 = hub.register(&alice, &r2, 10).unwrap();
        let bob = Target::User(bob);
        hub.notify(&alice, &bob, Some(&r1));
        assert_eq!(a2.pushes.try_recv(), Ok(Push::Notice(bob.clone())));
        assert!(a1.pushes.try_recv().is_err());
        drop(a1);
        drop(a2);
        assert_eq!(hub.online(&alice), 0);
    }
}
