//! Cluster mode: several roamd nodes serve one app as one service. They share one store (the
//! durable truth) and tell each other, through NATS core, what a store cannot: "this queue has
//! news" for devices connected elsewhere, kicks, and which devices are online where (for the
//! per-user device limit and one live session per device).
//!
//! A [`Cluster`] wraps the node's [`Hub`]: as the [`Fanout`] it delivers to the node's own
//! sessions at once and publishes one message for the others per call (a group's fan-out is
//! one publish, whatever its size); as the hub's [`Presence`] it counts the user's devices on
//! other nodes. Publishing never blocks the caller: messages wait in a bounded queue for one
//! publisher task, and a full queue drops them (counted): signals are hints, and devices pull
//! what they are owed from the store at login and at every heartbeat.
//!
//! Losing NATS costs latency, not data nor local service: the node keeps serving its own
//! devices; on reconnection every local session looks in the store again and the nodes swap
//! presence snapshots. See `docs/cluster.md` for subjects, messages and the consistency window.
use std::{
    sync::{
        Arc, Mutex, Weak,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use async_nats::connection::State;
use roam_domain::{
    conversation::Target,
    device::Resource,
    fanout::{Fanout, KickReason},
    user::UserId,
};
use roam_gateway::{Hub, Presence};
use tokio::{sync::mpsc, task::JoinHandle};

mod node;
mod view;
pub mod wire;

use view::View;
use wire::{Origin, PresenceMsg, Signal};

/// Timings and sizes; [`Options::default`] suits production, tests shorten the intervals.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// How long the first connection may take before [`Cluster::connect`] gives up.
    pub connect_timeout: Duration,
    /// How often a node says it is alive.
    pub heartbeat: Duration,
    /// Heartbeats a node may miss before its devices stop counting.
    pub expiry_beats: u32,
    /// Every this many heartbeats, the beat is a full presence snapshot (repairing joins or
    /// leaves that were lost).
    pub snapshot_every: u32,
    /// Messages that may wait for the publisher; beyond, new ones are dropped.
    pub queue: usize,
    /// User ids that may wait for the publisher, all messages together (a chat room's
    /// fan-out names every member): bounds the queue's memory, to tens of MiB by default.
    pub queue_users: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            connect_timeout: Duration::from_secs(3),
            heartbeat: Duration::from_secs(2),
            expiry_beats: 3,
            snapshot_every: 10,
            queue: 16 * 1024,
            queue_users: 1 << 20,
        }
    }
}

impl Options {
    /// How long a silent node's devices keep counting.
    pub fn expiry(&self) -> Duration {
        self.heartbeat * self.expiry_beats.max(1)
    }
}

/// The cluster could not start.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot connect to NATS at {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("cannot subscribe to {subject} on NATS: {reason}")]
    Subscribe { subject: String, reason: String },
}

/// Whether the node is connected to NATS now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Connected,
    /// Reconnecting: the node serves its own devices; others learn of its news later.
    Disconnected,
}

/// What the publisher task sends.
enum Out {
    Signal(Signal),
    Presence(PresenceMsg),
    /// This node's full presence, now (an answer to a hello).
    Snapshot,
}

impl Out {
    /// What the message weighs in the queue: one, and one per user id it carries.
    fn weight(&self) -> u64 {
        let users = match self {
            Out::Signal(Signal::Notify { users, .. }) => users.len(),
            _ => 0,
        };
        1 + u64::try_from(users).unwrap_or(u64::MAX)
    }
}

/// Counters, for logs and tests.
#[derive(Debug, Default)]
pub struct Stats {
    /// Messages published.
    pub published: AtomicU64,
    /// Messages dropped because the publisher's queue was full.
    pub dropped: AtomicU64,
    /// Messages from other nodes applied.
    pub received: AtomicU64,
}

/// What the node's tasks share.
struct Inner {
    hub: Arc<Hub>,
    client: async_nats::Client,
    origin: Origin,
    options: Options,
    signal_subject: String,
    presence_subject: String,
    out: mpsc::Sender<Out>,
    view: Mutex<View>,
    stats: Stats,
    /// Whether the connection was lost (and not back yet): loss and return are logged once.
    lost: AtomicBool,
    /// The weight ([`Out::weight`]) of the messages queued and not yet handed to NATS.
    pending: AtomicU64,
}

impl Inner {
    /// Queues `out` for the publisher; drops it if the queue is full.
    fn send(&self, out: Out) {
        let weight = out.weight();
        let before = self.pending.fetch_add(weight, Ordering::AcqRel);
        let limit = u64::try_from(self.options.queue_users).unwrap_or(u64::MAX);
        let full = before.saturating_add(weight) > limit.saturating_add(1);
        if full || self.out.try_send(out).is_err() {
            self.pending.fetch_sub(weight, Ordering::AcqRel);
            let n = self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            if (n + 1).is_power_of_two() {
                tracing::warn!(
                    dropped = n + 1,
                    "cluster: publisher queue full, signals dropped"
                );
            }
        }
    }

    fn view(&self) -> std::sync::MutexGuard<'_, View> {
        self.view.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// This node's link to the others. Dropping it stops its tasks (the others stop counting its
/// devices after [`Options::expiry`]).
pub struct Cluster {
    inner: Arc<Inner>,
    tasks: Vec<JoinHandle<()>>,
}

impl Cluster {
    /// Connects to NATS at `url` and joins the cluster named by `prefix` (subjects
    /// `<prefix>.signal` and `<prefix>.presence`) as node `node_id`, with default [`Options`].
    pub async fn connect(
        url: &str,
        prefix: &str,
        node_id: u16,
        hub: Arc<Hub>,
    ) -> Result<Arc<Cluster>, ClusterError> {
        Cluster::connect_with(url, prefix, node_id, hub, Options::default()).await
    }

    /// [`Cluster::connect`] with explicit [`Options`]. Fails if NATS does not answer within
    /// the connect timeout; once connected, losses are retried forever.
    pub async fn connect_with(
        url: &str,
        prefix: &str,
        node_id: u16,
        hub: Arc<Hub>,
        options: Options,
    ) -> Result<Arc<Cluster>, ClusterError> {
        let connect_error = |reason: String| ClusterError::Connect {
            url: url.to_owned(),
            reason,
        };
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let connecting = async_nats::ConnectOptions::new()
            .name(format!("roamd node {node_id}"))
            .connection_timeout(options.connect_timeout)
            // The server does not send this node's own messages back (they are skipped anyway).
            .no_echo()
            .event_callback(move |event| {
                let tx = events_tx.clone();
                async move {
                    let _ = tx.send(event);
                }
            })
            .connect(url);
        let client = match tokio::time::timeout(options.connect_timeout, connecting).await {
            Ok(Ok(client)) => client,
            Ok(Err(e)) => return Err(connect_error(e.to_string())),
            Err(_) => return Err(connect_error("timed out".into())),
        };
        let wildcard = format!("{prefix}.*");
        let subscriber =
            client
                .subscribe(wildcard.clone())
                .await
                .map_err(|e| ClusterError::Subscribe {
                    subject: wildcard,
                    reason: e.to_string(),
                })?;
        let (out, out_rx) = mpsc::channel(options.queue.max(1));
        let inner = Arc::new(Inner {
            hub: hub.clone(),
            client,
            origin: Origin {
                node: node_id,
                instance: rand::random(),
            },
            options,
            signal_subject: format!("{prefix}.signal"),
            presence_subject: format!("{prefix}.presence"),
            out,
            view: Mutex::new(View::default()),
            stats: Stats::default(),
            lost: AtomicBool::new(false),
            pending: AtomicU64::new(0),
        });
        let weak: Weak<Inner> = Arc::downgrade(&inner);
        hub.set_presence(weak);
        // Ask the others for their devices, and tell them ours.
        inner.send(Out::Presence(PresenceMsg::Hello));
        inner.send(Out::Snapshot);
        let tasks = vec![
            tokio::spawn(node::publish(inner.clone(), out_rx)),
            tokio::spawn(node::receive(inner.clone(), subscriber)),
            tokio::spawn(node::watch(inner.clone(), events_rx)),
        ];
        tracing::info!(
            node = node_id,
            prefix,
            "cluster: connected to NATS at {url}"
        );
        Ok(Arc::new(Cluster { inner, tasks }))
    }

    /// Whether NATS is reachable now (for `/ready` and `/health`).
    pub fn status(&self) -> Status {
        match self.inner.client.connection_state() {
            State::Connected => Status::Connected,
            _ => Status::Disconnected,
        }
    }

    /// This node's counters.
    pub fn stats(&self) -> &Stats {
        &self.inner.stats
    }

    /// How many other nodes this one knows of (heard from within the expiry).
    pub fn peers(&self) -> usize {
        self.inner.view().live(self.inner.options.expiry())
    }

    /// Waits until every message queued so far is handed to NATS and flushed (tests, and a
    /// clean shutdown).
    pub async fn flush(&self) {
        while self.inner.pending.load(Ordering::Acquire) > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let _ = self.inner.client.flush().await;
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Fanout for Cluster {
    fn notify(&self, user: &UserId, target: &Target, except: Option<&Resource>) {
        self.inner.hub.notify(user, target, except);
        self.inner.send(Out::Signal(Signal::Notify {
            users: vec![user.to_string()],
            target: target.encode(),
            sender: user.to_string(),
            except: except.map(ToString::to_string),
        }));
    }

    fn notify_all(
        &self,
        users: &[UserId],
        target: &Target,
        sender: &UserId,
        except: Option<&Resource>,
    ) {
        self.inner.hub.notify_all(users, target, sender, except);
        self.inner.send(Out::Signal(Signal::Notify {
            users: users.iter().map(ToString::to_string).collect(),
            target: target.encode(),
            sender: sender.to_string(),
            except: except.map(ToString::to_string),
        }));
    }

    fn kick(&self, user: &UserId, reason: KickReason) {
        self.inner.hub.kick(user, reason);
        self.inner.send(Out::Signal(Signal::Kick {
            user: user.to_string(),
            reason: reason.into(),
        }));
    }
}

impl Presence for Inner {
    fn remote_resources(&self, user: &UserId) -> Vec<Resource> {
        self.view().resources(user, self.options.expiry())
    }

    fn joined(&self, user: &UserId, resource: &Resource, since_ms: u64) {
        self.send(Out::Presence(PresenceMsg::Join {
            user: user.to_string(),
            resource: resource.to_string(),
            since_ms,
        }));
    }

    fn left(&self, user: &UserId, resource: &Resource) {
        self.send(Out::Presence(PresenceMsg::Leave {
            user: user.to_string(),
            resource: resource.to_string(),
        }));
    }
}
