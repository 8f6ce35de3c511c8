//! The node's three tasks: the publisher (the only writer to NATS, so this node's messages
//! leave in the order they were queued), the receiver (applies the other nodes' messages to
//! the local hub and view) and the watcher (connection losses and returns).
use std::sync::{Arc, atomic::Ordering};

use async_nats::{Event, Subscriber};
use futures::StreamExt;
use roam_domain::{conversation::Target, device::Resource, user::UserId};
use tokio::{sync::mpsc, time::MissedTickBehavior};

use crate::{
    Inner, Out,
    wire::{Envelope, PresenceMsg, Signal},
};

/// Most devices in one snapshot part: a part stays far below NATS's 1 MiB message limit.
const SNAPSHOT_PART: usize = 4096;

/// Publishes what the node queues, and every heartbeat a beat (or, every
/// [`crate::Options::snapshot_every`] beats, a snapshot); forgets silent nodes.
pub(crate) async fn publish(inner: Arc<Inner>, mut queue: mpsc::Receiver<Out>) {
    let mut beat = tokio::time::interval(inner.options.heartbeat);
    beat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut beats: u64 = 0;
    let mut epoch: u64 = 0;
    loop {
        tokio::select! {
            out = queue.recv() => {
                let Some(out) = out else { return };
                let weight = out.weight();
                match out {
                    Out::Signal(s) => publish_one(&inner, &inner.signal_subject, &s).await,
                    Out::Presence(p) => publish_one(&inner, &inner.presence_subject, &p).await,
                    Out::Snapshot => {
                        epoch += 1;
                        snapshot(&inner, epoch).await;
                    }
                }
                inner.pending.fetch_sub(weight, Ordering::AcqRel);
            }
            _ = beat.tick() => {
                beats += 1;
                if beats.is_multiple_of(u64::from(inner.options.snapshot_every.max(1))) {
                    epoch += 1;
                    snapshot(&inner, epoch).await;
                } else {
                    publish_one(&inner, &inner.presence_subject, &PresenceMsg::Beat).await;
                }
                let gone = inner.view().expire(inner.options.expiry());
                if !gone.is_empty() {
                    tracing::warn!(nodes = ?gone, "cluster: nodes went silent; their devices no longer count");
                }
            }
        }
    }
}

/// Publishes this node's devices, in parts. The hub's lock is held while the list is taken,
/// and joins and leaves are queued under that lock, so the snapshot sits at one point of the
/// queue's order: what was queued before it and is published after it only replays history
/// the snapshot already shows.
async fn snapshot(inner: &Inner, epoch: u64) {
    let devices = inner.hub.devices(|d| d);
    let mut parts: Vec<Vec<(String, Vec<String>)>> = vec![Vec::new()];
    let mut size = 0;
    for (user, resources) in devices {
        if size >= SNAPSHOT_PART {
            parts.push(Vec::new());
            size = 0;
        }
        size += resources.len();
        if let Some(part) = parts.last_mut() {
            part.push((
                user.to_string(),
                resources.iter().map(ToString::to_string).collect(),
            ));
        }
    }
    let count = parts.len();
    for (i, devices) in parts.into_iter().enumerate() {
        let msg = PresenceMsg::Snapshot {
            epoch,
            part: u32::try_from(i).unwrap_or(u32::MAX),
            last: i + 1 == count,
            devices,
        };
        publish_one(inner, &inner.presence_subject, &msg).await;
    }
}

async fn publish_one<T: serde::Serialize>(inner: &Inner, subject: &str, body: &T) {
    let envelope = Envelope {
        from: inner.origin,
        body,
    };
    let payload = match serde_json::to_vec(&envelope) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "cluster: cannot encode a message");
            return;
        }
    };
    // While disconnected the client buffers; if its buffer is full this waits, the queue in
    // front of it fills, and new messages are dropped (never the caller blocked).
    match inner
        .client
        .publish(subject.to_owned(), payload.into())
        .await
    {
        Ok(()) => {
            inner.stats.published.fetch_add(1, Ordering::Relaxed);
        }
        Err(e) => tracing::debug!(error = %e, "cluster: publish failed"),
    }
}

/// Applies the other nodes' messages (NATS does not echo this node's own; were it to, they are
/// skipped by instance).
pub(crate) async fn receive(inner: Arc<Inner>, mut subscriber: Subscriber) {
    while let Some(message) = subscriber.next().await {
        let payload = &message.payload;
        if message.subject.as_str() == inner.signal_subject {
            match serde_json::from_slice::<Envelope<Signal>>(payload) {
                Ok(e) if e.from.instance != inner.origin.instance => {
                    inner.stats.received.fetch_add(1, Ordering::Relaxed);
                    signal(&inner, e.body);
                }
                Ok(_) => {}
                Err(e) => tracing::debug!(error = %e, "cluster: a signal that does not parse"),
            }
        } else if message.subject.as_str() == inner.presence_subject {
            match serde_json::from_slice::<Envelope<PresenceMsg>>(payload) {
                Ok(e) if e.from.instance != inner.origin.instance => {
                    inner.stats.received.fetch_add(1, Ordering::Relaxed);
                    presence(&inner, e);
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!(error = %e, "cluster: a presence message that does not parse")
                }
            }
        }
    }
}

fn signal(inner: &Inner, signal: Signal) {
    use roam_domain::fanout::Fanout;
    match signal {
        Signal::Notify {
            users,
            target,
            sender,
            except,
        } => {
            let (Some(target), Ok(sender)) = (Target::decode(&target), UserId::parse(&sender))
            else {
                return;
            };
            let users: Vec<UserId> = users.iter().filter_map(|u| UserId::parse(u).ok()).collect();
            let except = except.and_then(|r| Resource::parse(&r).ok());
            inner
                .hub
                .notify_all(&users, &target, &sender, except.as_ref());
        }
        Signal::Kick { user, reason } => {
            if let Ok(user) = UserId::parse(&user) {
                inner.hub.kick(&user, reason.into());
            }
        }
    }
}

fn presence(inner: &Inner, e: Envelope<PresenceMsg>) {
    let from = e.from;
    let ids = |user: &str, resource: &str| {
        Some((UserId::parse(user).ok()?, Resource::parse(resource).ok()?))
    };
    // The view's lock is released before the hub is called (the hub calls into the view
    // under its own lock).
    let mut want_snapshot = false;
    match e.body {
        PresenceMsg::Join {
            user,
            resource,
            since_ms,
        } => {
            let Some((user, resource)) = ids(&user, &resource) else {
                return;
            };
            want_snapshot = inner.view().seen(from);
            inner.view().join(from, user.clone(), resource.clone());
            // Of two sessions of one device, the older closes; ties go by instance, so both
            // nodes agree whatever their clocks.
            let mine = inner.origin.instance;
            let closed = inner.hub.replace_device(&user, &resource, |since| {
                (since, mine) < (since_ms, from.instance)
            });
            if closed > 0 {
                tracing::debug!(%user, %resource, node = from.node, "cluster: device logged in on another node; closed its session here");
            }
        }
        PresenceMsg::Leave { user, resource } => {
            if let Some((user, resource)) = ids(&user, &resource) {
                want_snapshot = inner.view().seen(from);
                inner.view().leave(from, &user, &resource);
            }
        }
        PresenceMsg::Beat => want_snapshot = inner.view().seen(from),
        PresenceMsg::Snapshot {
            epoch,
            part,
            last,
            devices,
        } => {
            let devices = devices
                .into_iter()
                .filter_map(|(user, resources)| {
                    let user = UserId::parse(&user).ok()?;
                    let resources = resources
                        .iter()
                        .filter_map(|r| Resource::parse(r).ok())
                        .collect();
                    Some((user, resources))
                })
                .collect();
            inner.view().snapshot_part(from, epoch, part, last, devices);
        }
        PresenceMsg::Hello => {
            let mut view = inner.view();
            view.seen(from);
            view.restarted(from);
            drop(view);
            tracing::info!(node = from.node, "cluster: a node joined");
            inner.send(Out::Snapshot);
        }
    }
    if want_snapshot {
        // A node heard from for the first time (it started while this one was away): ask
        // for everyone's devices.
        tracing::info!(node = from.node, "cluster: a node is back or new");
        inner.send(Out::Presence(PresenceMsg::Hello));
    }
}

/// Logs losing and regaining NATS, once each; on regaining it every local session looks in
/// the store again (signals published meanwhile were lost) and presence is exchanged anew.
pub(crate) async fn watch(inner: Arc<Inner>, mut events: mpsc::UnboundedReceiver<Event>) {
    while let Some(event) = events.recv().await {
        match event {
            Event::Disconnected => {
                if !inner.lost.swap(true, Ordering::AcqRel) {
                    tracing::warn!(
                        "cluster: lost NATS; serving local devices only until it is back"
                    );
                }
            }
            Event::Connected => {
                if inner.lost.swap(false, Ordering::AcqRel) {
                    tracing::info!("cluster: NATS is back; every local device looks for news");
                    inner.hub.resync_all();
                    inner.send(Out::Presence(PresenceMsg::Hello));
                    inner.send(Out::Snapshot);
                }
            }
            Event::SlowConsumer(_) => {
                tracing::warn!("cluster: this node reads signals too slowly; some were dropped");
            }
            other => tracing::debug!(event = %other, "cluster: NATS event"),
        }
    }
}
