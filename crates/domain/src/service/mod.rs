//! The use-cases: what users and admins can do, whatever transport they came in on.
//!
//! [`Roam`] holds the store and the fan-out behind traits; transports call its methods and map
//! its errors to wire codes, each transport in one place.
use std::{sync::Arc, time::Duration};

use crate::{
    auth::{
        AdminCredential,
        throttle::{Throttle, ThrottleLimits},
    },
    fanout::Fanout,
    group::roster::Rosters,
    id::IdGenerator,
    password::pool::HashPool,
    recent::RecentGroupMessages,
    store::Store,
};

mod account;
mod delivery;
mod group_events;
mod groups;
mod membership;
mod roaming;

pub use account::{AccountError, AuthError, IssuedToken};
pub use delivery::{Pull, SendError};
pub use groups::{CreateGroup, GroupError};
pub use roaming::RoamingError;

/// Rules the operator can tune.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Lifetime of the tokens issued by `POST /token`.
    pub token_ttl: Duration,
    /// Most messages one pull batch carries.
    pub pull_batch: usize,
    /// This node's id in the ids it makes (groups, chat rooms); unique per node.
    pub node: u16,
    /// Most conversations a user can have pinned at once.
    pub max_pinned: usize,
    /// Whether messages sent over the REST API are conversation activity (they list the
    /// conversation, become its lastMessage and count as unread). Easemob's default: no.
    pub rest_messages_update_conversations: bool,
    /// Most conversations a user's list keeps (0: no limit). When a message takes a list over
    /// it, the least active unpinned conversations leave the list (their history stays).
    pub conversation_limit: usize,
    /// Most groups one user may be in (owned ones included); joining, being added or
    /// creating one more is refused. Bounds what one user's lists and deletion cost.
    pub max_groups_per_user: usize,
    /// Most chat rooms one user may be in at once, likewise.
    pub max_chatrooms_per_user: usize,
    /// Threads that compute password hashes (each keeps ~19 MiB of argon2 memory); 0 = one
    /// per core.
    pub hash_threads: usize,
    /// Password checks that may wait for a hashing thread; beyond them a login or registration
    /// is refused at once as "server busy".
    pub hash_queue: usize,
    /// Failed logins allowed per address and per (account, address).
    pub login_limits: ThrottleLimits,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            token_ttl: Duration::from_secs(60 * 24 * 3600),
            pull_batch: 50,
            node: 0,
            max_pinned: 50,
            rest_messages_update_conversations: false,
            conversation_limit: 0,
            max_groups_per_user: 600,
            max_chatrooms_per_user: 100,
            hash_threads: 0,
            hash_queue: 64,
            login_limits: ThrottleLimits::default(),
        }
    }
}

/// The application service: every use-case of Roam.
pub struct Roam {
    store: Arc<dyn Store>,
    fanout: Arc<dyn Fanout>,
    admin: AdminCredential,
    policy: Policy,
    /// Makes group and chat room ids.
    ids: IdGenerator,
    /// Password hashing (argon2: tens of ms of CPU and ~19 MiB each) runs on a fixed pool of
    /// threads, each reusing its memory: a burst of logins cannot grow memory or starve
    /// everything else; beyond the pool's queue a login is refused as "server busy".
    hashing: HashPool,
    /// Counts login attempts per address and per (account, address).
    throttle: Throttle,
    /// Set once the admin credential has been used to log in (see [`Roam::admin_used`]).
    admin_used: tokio::sync::watch::Sender<bool>,
    /// Each group's last messages, so that members' pulls of them do not read the store.
    recent: RecentGroupMessages,
    /// Each group's members, so that a group send neither checks its sender nor finds whom to
    /// notify in the store (see [`crate::group::roster`]).
    rosters: Rosters,
}

impl Roam {
    pub fn new(
        store: Arc<dyn Store>,
        fanout: Arc<dyn Fanout>,
        admin: AdminCredential,
        policy: Policy,
    ) -> Roam {
        Roam {
            ids: IdGenerator::new(policy.node),
            hashing: HashPool::new(
                match policy.hash_threads {
                    0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
                    n => n,
                },
                policy.hash_queue,
            ),
            throttle: Throttle::new(policy.login_limits.clone()),
            admin_used: tokio::sync::watch::Sender::new(false),
            recent: RecentGroupMessages::default(),
            rosters: Rosters::default(),
            store,
            fanout,
            admin,
            policy,
        }
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Whether the store answers a tiny read: what a load balancer's health check asks.
    pub async fn ready(&self) -> Result<(), crate::store::StoreError> {
        self.store.setting("app_uuid").await.map(|_| ())
    }
}
