//! The registry of online sessions: user → devices → a mailbox of pushes for each session.
//!
//! One std mutex guards the map; it is held only to look up or edit entries, never across an
//! await, so contention is short.
//!
//! A notice only says "this queue has news, pull it", so a session's notices are coalesced:
//! its [`Mailbox`] holds the set of queues with news, not one entry per message. A burst of
//! messages (a sender's 1,000 messages a second, echoed to its own other devices) therefore
//! costs each reader one pending notice per conversation, never a queue that overflows. Only a
//! session with more than [`MAX_PENDING_NOTICES`] distinct queues waiting (it has written
//! nothing for that long) is told to close; a device that does not read at all is closed by
//! the socket loop's write timeout. A kick is kept apart and is never dropped.
//!
//! In a cluster, the hub consults a [`Presence`] for the user's devices on other nodes (device
//! limit, one session per device) and reports its own sessions to it.
//!
//! The hub also keeps, per online user, the user's send rate limiter ([`SendRate`]). It lives
//! while one of the user's sessions does, and for the time the limiter takes to refill after
//! the last one leaves (so reconnecting does not reset it); memory stays bounded by the users
//! online or gone within that time.
use std::{
    collections::{HashMap, VecDeque},
    num::NonZeroU32,
    sync::{
        Arc, Mutex, OnceLock, Weak,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use roam_domain::{
    conversation::Target,
    device::Resource,
    fanout::{Fanout, KickReason},
    now_ms,
    user::UserId,
};

use crate::presence::Presence;

mod cluster;
mod mailbox;

pub use mailbox::{Mailbox, Push};

/// Most distinct queues with news one session may have waiting to be written; one more means
/// the session has not written for a long time, and it is closed (it finds everything again
/// at its next login). Bounds a session's mailbox to a few tens of KiB.
pub const MAX_PENDING_NOTICES: usize = 1024;

/// A send rate: `per_second` sustained, up to `burst` at once. Zero in either disables it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendRate {
    pub per_second: u32,
    pub burst: u32,
}

impl SendRate {
    /// How long an exhausted limiter takes to refill its whole burst.
    fn refill(self) -> Duration {
        if self.per_second == 0 {
            return Duration::ZERO;
        }
        Duration::from_secs_f64(f64::from(self.burst) / f64::from(self.per_second))
    }

    /// A limiter for this rate, or None when the rate is disabled (zero).
    pub fn limiter(self) -> Option<Arc<DefaultDirectRateLimiter>> {
        let per_second = NonZeroU32::new(self.per_second)?;
        let burst = NonZeroU32::new(self.burst)?;
        Some(Arc::new(RateLimiter::direct(
            Quota::per_second(per_second).allow_burst(burst),
        )))
    }
}

struct Entry {
    id: u64,
    resource: Resource,
    /// When the session registered (epoch ms): of two sessions of one device on two nodes,
    /// the older closes.
    since_ms: u64,
    mailbox: Arc<Mailbox>,
}

struct UserSessions {
    entries: Vec<Entry>,
    rate: Option<Arc<DefaultDirectRateLimiter>>,
}

#[derive(Default)]
struct Registry {
    users: HashMap<UserId, UserSessions>,
    /// Users whose last session left, and when: their entry (and rate limiter) is removed
    /// once the limiter has had time to refill, if they have not come back.
    departed: VecDeque<(Instant, UserId)>,
}

impl Registry {
    /// Forgets the users who left longer than `keep` ago and have no session now.
    fn prune(&mut self, keep: Duration) {
        while let Some((left, _)) = self.departed.front() {
            if left.elapsed() < keep {
                break;
            }
            if let Some((_, user)) = self.departed.pop_front()
                && self.users.get(&user).is_some_and(|u| u.entries.is_empty())
            {
                self.users.remove(&user);
            }
        }
    }
}

/// The online-session registry.
pub struct Hub {
    app_key: String,
    next_id: AtomicU64,
    user_rate: Mutex<SendRate>,
    sessions: Mutex<Registry>,
    /// The other nodes' sessions, in a cluster (weak: the cluster owns the hub).
    presence: OnceLock<Weak<dyn Presence>>,
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
    pub mailbox: Arc<Mailbox>,
    /// The send rate limiter the user's sessions share (None: unlimited).
    pub user_rate: Option<Arc<DefaultDirectRateLimiter>>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let keep = self.hub.rate().refill();
        let mut registry = self.hub.lock();
        if let Some(user) = registry.users.get_mut(&self.user) {
            let mut resource = None;
            user.entries.retain(|e| {
                let mine = e.id == self.id;
                if mine {
                    resource = Some(e.resource.clone());
                }
                !mine
            });
            // Only the device's last session leaving here makes it leave (a replaced session
            // is gone from the registry already, its successor lives on).
            if let Some(resource) = resource
                && !user.entries.iter().any(|e| e.resource == resource)
                && let Some(presence) = self.hub.presence()
            {
                presence.left(&self.user, &resource);
            }
            if user.entries.is_empty() {
                if user.rate.is_some() {
                    registry
                        .departed
                        .push_back((Instant::now(), self.user.clone()));
                } else {
                    registry.users.remove(&self.user);
                }
            }
        }
        registry.prune(keep);
    }
}

impl Hub {
    /// A hub whose users may each send without limit (see [`Hub::limit_user_sends`]).
    pub fn new(app_key: &str) -> Arc<Hub> {
        Arc::new(Hub {
            app_key: app_key.to_owned(),
            next_id: AtomicU64::new(1),
            user_rate: Mutex::new(SendRate {
                per_second: 0,
                burst: 0,
            }),
            sessions: Mutex::new(Registry::default()),
            presence: OnceLock::new(),
        })
    }

    /// Makes this hub one node of a cluster: `presence` knows the other nodes' sessions (see
    /// [`Presence`]). Set once, before sessions register; a second call is ignored.
    pub fn set_presence(&self, presence: Weak<dyn Presence>) {
        let _ = self.presence.set(presence);
    }

    fn presence(&self) -> Option<Arc<dyn Presence>> {
        self.presence.get().and_then(Weak::upgrade)
    }

    /// The rate at which each user (all their devices together) may send over msync; applies
    /// to users who come online after the call.
    pub fn limit_user_sends(&self, rate: SendRate) {
        *self.user_rate.lock().unwrap_or_else(|e| e.into_inner()) = rate;
    }

    pub fn app_key(&self) -> &str {
        &self.app_key
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn rate(&self) -> SendRate {
        *self.user_rate.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a session of `user` on device `resource`. A session already registered for
    /// the same device is replaced (its connection closes): a device has one live session.
    /// In a cluster the user's devices on other nodes count toward `max_devices`, and a
    /// session of this device on another node is closed there (see [`Presence`]).
    pub fn register(
        self: &Arc<Self>,
        user: &UserId,
        resource: &Resource,
        max_devices: usize,
    ) -> Result<Registration, TooManyDevices> {
        let mailbox = Arc::new(Mailbox::default());
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let rate = self.rate();
        let presence = self.presence();
        let since_ms = now_ms();
        let mut registry = self.lock();
        registry.prune(rate.refill());
        let user_sessions = registry
            .users
            .entry(user.clone())
            .or_insert_with(|| UserSessions {
                entries: Vec::new(),
                rate: rate.limiter(),
            });
        let elsewhere = presence.as_ref().map_or(0, |p| {
            let mut remote = p.remote_resources(user);
            remote.sort();
            remote.dedup();
            remote
                .iter()
                .filter(|r| {
                    *r != resource && user_sessions.entries.iter().all(|e| e.resource != **r)
                })
                .count()
        });
        let others = user_sessions
            .entries
            .iter()
            .filter(|e| e.resource != *resource)
            .count();
        if others + elsewhere >= max_devices {
            // Refused for devices elsewhere: an empty entry goes the way of a departed user's.
            if user_sessions.entries.is_empty() {
                if user_sessions.rate.is_some() {
                    registry.departed.push_back((Instant::now(), user.clone()));
                } else {
                    registry.users.remove(user);
                }
            }
            return Err(TooManyDevices);
        }
        user_sessions.entries.retain(|e| {
            let same = e.resource == *resource;
            if same {
                e.mailbox.replaced();
            }
            !same
        });
        user_sessions.entries.push(Entry {
            id,
            resource: resource.clone(),
            since_ms,
            mailbox: mailbox.clone(),
        });
        if let Some(p) = &presence {
            p.joined(user, resource, since_ms);
        }
        Ok(Registration {
            hub: self.clone(),
            user: user.clone(),
            id,
            mailbox,
            user_rate: user_sessions.rate.clone(),
        })
    }

    /// How many sessions are online, all users together.
    pub fn devices_online(&self) -> usize {
        self.lock().users.values().map(|u| u.entries.len()).sum()
    }

    /// How many sessions `user` has online.
    pub fn online(&self, user: &UserId) -> usize {
        self.lock().users.get(user).map_or(0, |u| u.entries.len())
    }
}

impl Fanout for Hub {
    fn notify(&self, user: &UserId, target: &Target, except: Option<&Resource>) {
        notify_in(&self.lock(), user, target, except);
    }

    /// One lock of the registry for a whole group's members.
    fn notify_all(
        &self,
        users: &[UserId],
        target: &Target,
        sender: &UserId,
        except: Option<&Resource>,
    ) {
        let registry = self.lock();
        for user in users {
            let except = (user == sender).then_some(except).flatten();
            notify_in(&registry, user, target, except);
        }
    }

    fn kick(&self, user: &UserId, reason: KickReason) {
        if let Some(list) = self.lock().users.get(user) {
            for e in &list.entries {
                e.mailbox.kick(reason);
            }
        }
    }
}

/// Tells `user`'s online devices but `except` that the queue for `target` has news.
fn notify_in(registry: &Registry, user: &UserId, target: &Target, except: Option<&Resource>) {
    let Some(list) = registry.users.get(user) else {
        return;
    };
    for e in &list.entries {
        if Some(&e.resource) != except && !e.mailbox.notice(target) {
            tracing::warn!(%user, resource = %e.resource, "session too slow: too many queues with news unwritten; closing it");
        }
    }
}

#[cfg(test)]
mod tests;
