//! What this node knows of the other nodes' sessions: node → user → devices, kept from their
//! joins, leaves and snapshots, and forgotten for a node silent longer than the expiry.
use std::{
    collections::{BTreeSet, HashMap},
    time::{Duration, Instant},
};

use roam_domain::{device::Resource, user::UserId};

use crate::wire::Origin;

type Devices = HashMap<UserId, BTreeSet<Resource>>;

/// One other node.
struct Node {
    node: u16,
    last_seen: Instant,
    devices: Devices,
    /// A snapshot being received: its epoch, the next part expected, what came so far.
    partial: Option<(u64, u32, Devices)>,
}

/// The other nodes, by instance.
#[derive(Default)]
pub(crate) struct View {
    nodes: HashMap<u64, Node>,
}

impl View {
    /// Notes that `from` is alive; true if it was not known (its snapshot is wanted).
    pub(crate) fn seen(&mut self, from: Origin) -> bool {
        let mut new = false;
        let node = self.nodes.entry(from.instance).or_insert_with(|| {
            new = true;
            Node {
                node: from.node,
                last_seen: Instant::now(),
                devices: Devices::new(),
                partial: None,
            }
        });
        node.last_seen = Instant::now();
        new
    }

    /// A fresh start of `from`: earlier instances with the same node id are gone.
    pub(crate) fn restarted(&mut self, from: Origin) {
        self.nodes
            .retain(|instance, n| *instance == from.instance || n.node != from.node);
    }

    pub(crate) fn join(&mut self, from: Origin, user: UserId, resource: Resource) {
        self.seen(from);
        if let Some(n) = self.nodes.get_mut(&from.instance) {
            n.devices.entry(user).or_default().insert(resource);
        }
    }

    pub(crate) fn leave(&mut self, from: Origin, user: &UserId, resource: &Resource) {
        self.seen(from);
        if let Some(n) = self.nodes.get_mut(&from.instance)
            && let Some(set) = n.devices.get_mut(user)
        {
            set.remove(resource);
            if set.is_empty() {
                n.devices.remove(user);
            }
        }
    }

    /// One part of a snapshot of `from`; the parts of an epoch arrive in order, and the last
    /// one replaces what was known. A part out of order (one was lost) drops the snapshot:
    /// the next one repairs.
    pub(crate) fn snapshot_part(
        &mut self,
        from: Origin,
        epoch: u64,
        part: u32,
        last: bool,
        devices: Vec<(UserId, Vec<Resource>)>,
    ) {
        self.seen(from);
        let Some(n) = self.nodes.get_mut(&from.instance) else {
            return;
        };
        let mut partial = match n.partial.take() {
            Some((e, next, got)) if e == epoch && next == part => got,
            _ if part == 0 => Devices::new(),
            _ => return,
        };
        for (user, resources) in devices {
            partial.entry(user).or_default().extend(resources);
        }
        if last {
            n.devices = partial;
        } else {
            n.partial = Some((epoch, part + 1, partial));
        }
    }

    /// The devices of `user` on nodes heard from within `expiry`.
    pub(crate) fn resources(&self, user: &UserId, expiry: Duration) -> Vec<Resource> {
        let mut out: Vec<Resource> = self
            .nodes
            .values()
            .filter(|n| n.last_seen.elapsed() < expiry)
            .filter_map(|n| n.devices.get(user))
            .flatten()
            .cloned()
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Forgets the nodes silent for `expiry` or longer; returns their node ids.
    pub(crate) fn expire(&mut self, expiry: Duration) -> Vec<u16> {
        let mut gone = Vec::new();
        self.nodes.retain(|_, n| {
            let alive = n.last_seen.elapsed() < expiry;
            if !alive {
                gone.push(n.node);
            }
            alive
        });
        gone
    }

    /// How many other nodes were heard from within `expiry`.
    pub(crate) fn live(&self, expiry: Duration) -> usize {
        self.nodes
            .values()
            .filter(|n| n.last_seen.elapsed() < expiry)
            .count()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    fn ids(u: &str, r: &str) -> (UserId, Resource) {
        (UserId::parse(u).unwrap(), Resource::parse(r).unwrap())
    }

    const A: Origin = Origin {
        node: 1,
        instance: 11,
    };
    const LONG: Duration = Duration::from_secs(60);

    #[test]
    fn joins_leaves_and_snapshots() {
        let mut v = View::default();
        let (alice, r1) = ids("alice", "r1");
        let (_, r2) = ids("alice", "r2");
        v.join(A, alice.clone(), r1.clone());
        v.join(A, alice.clone(), r2.clone());
        assert_eq!(v.resources(&alice, LONG), vec![r1.clone(), r2.clone()]);
        v.leave(A, &alice, &r1);
        assert_eq!(v.resources(&alice, LONG), vec![r2.clone()]);
        // A two-part snapshot replaces everything once complete.
        v.snapshot_part(A, 7, 0, false, vec![(alice.clone(), vec![r1.clone()])]);
        assert_eq!(
            v.resources(&alice, LONG),
            vec![r2.clone()],
            "not complete yet"
        );
        v.snapshot_part(A, 7, 1, true, vec![]);
        assert_eq!(v.resources(&alice, LONG), vec![r1.clone()]);
        // A part missing: the snapshot is dropped.
        v.snapshot_part(A, 8, 0, false, vec![]);
        v.snapshot_part(A, 8, 2, true, vec![]);
        assert_eq!(v.resources(&alice, LONG), vec![r1.clone()]);
        // Silent nodes do not count, and are forgotten.
        assert!(v.resources(&alice, Duration::ZERO).is_empty());
        assert_eq!(v.expire(Duration::ZERO), vec![1]);
        assert_eq!(v.live(LONG), 0);
    }

    #[test]
    fn a_restarted_node_replaces_its_old_instance() {
        let mut v = View::default();
        let (alice, r1) = ids("alice", "r1");
        v.join(A, alice.clone(), r1);
        let again = Origin {
            node: 1,
            instance: 12,
        };
        assert!(v.seen(again));
        v.restarted(again);
        assert!(v.resources(&alice, LONG).is_empty());
        assert_eq!(v.live(LONG), 1);
    }
}
