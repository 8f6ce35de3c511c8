//! Two or three nodes (a hub and its cluster each) in one process, on the NATS at
//! `ROAM_TEST_NATS_URL` (default nats://127.0.0.1:4222), each test on its own random subject
//! prefix.
#![allow(clippy::unwrap_used, reason = "tests")]

use std::{
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use futures::StreamExt;
use roam_cluster::{Cluster, ClusterError, Options, Status};
use roam_domain::{
    conversation::Target,
    device::Resource,
    fanout::{Fanout, KickReason},
    group::GroupId,
    user::UserId,
};
use roam_gateway::{Hub, hub::Push};

fn nats_url() -> String {
    std::env::var("ROAM_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

fn prefix() -> String {
    format!("roamtest.{:016x}", rand::random::<u64>())
}

fn fast() -> Options {
    Options {
        heartbeat: Duration::from_millis(100),
        expiry_beats: 3,
        snapshot_every: 5,
        ..Options::default()
    }
}

struct Node {
    hub: Arc<Hub>,
    cluster: Arc<Cluster>,
}

async fn node(prefix: &str, id: u16) -> Node {
    let hub = Hub::new("org#app");
    let cluster = Cluster::connect_with(&nats_url(), prefix, id, hub.clone(), fast())
        .await
        .unwrap();
    Node { hub, cluster }
}

/// `n` nodes that all know each other.
async fn nodes(n: usize) -> (String, Vec<Node>) {
    let prefix = prefix();
    let mut all = Vec::new();
    for id in 0..n {
        all.push(node(&prefix, u16::try_from(id).unwrap()).await);
    }
    eventually("every node knows the others", || {
        all.iter().all(|x| x.cluster.peers() == n - 1)
    })
    .await;
    (prefix, all)
}

async fn eventually(what: &str, check: impl Fn() -> bool) {
    for _ in 0..200 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("never happened: {what}");
}

fn ids(u: &str, r: &str) -> (UserId, Resource) {
    (UserId::parse(u).unwrap(), Resource::parse(r).unwrap())
}

#[tokio::test]
async fn a_notice_reaches_a_device_on_another_node_and_local_ones_at_once() {
    let (_, n) = nodes(2).await;
    let (alice, r1) = ids("alice", "r1");
    let (bob, r2) = ids("bob", "r2");
    let on_b = n[1].hub.register(&alice, &r1, 10).unwrap();
    let local = n[0].hub.register(&bob, &r2, 10).unwrap();
    let peer = Target::User(bob.clone());
    n[0].cluster.notify(&alice, &peer, None);
    n[0].cluster
        .notify(&bob, &Target::User(alice.clone()), None);
    assert_eq!(
        local.mailbox.take(),
        Some(Push::Notices(vec![Target::User(alice.clone())])),
        "a local device is told at once, without NATS"
    );
    let got = tokio::time::timeout(Duration::from_secs(5), on_b.mailbox.next())
        .await
        .unwrap();
    assert_eq!(got, Push::Notices(vec![peer]));
    assert_eq!(local.mailbox.take(), None, "not told twice");
    assert_eq!(n[0].cluster.status(), Status::Connected);
}

#[tokio::test]
async fn a_group_fan_out_is_one_publish_whatever_its_size() {
    let (prefix, n) = nodes(2).await;
    let watcher = async_nats::connect(nats_url()).await.unwrap();
    let mut seen = watcher.subscribe(format!("{prefix}.>")).await.unwrap();
    // A flush only writes the subscription out; the server may still take another
    // connection's publish first. A probe from this connection comes back only once the
    // subscription is live (one connection's messages are processed in order).
    watcher
        .publish(format!("{prefix}.probe"), "probe".into())
        .await
        .unwrap();
    loop {
        let m = tokio::time::timeout(Duration::from_secs(5), seen.next())
            .await
            .unwrap()
            .unwrap();
        if m.subject.as_str() == format!("{prefix}.probe") {
            break;
        }
    }
    let signal = format!("{prefix}.signal");
    let mut signals = seen.filter(|m| std::future::ready(m.subject.as_str() == signal));
    let members: Vec<UserId> = (0..1000)
        .map(|i| UserId::parse(&format!("m{i}")).unwrap())
        .collect();
    let (_, r) = ids("m0", "phone");
    let far = n[1].hub.register(&members[999], &r, 10).unwrap();
    let sender = n[0].hub.register(&members[0], &r, 10).unwrap();
    let group = Target::Group(GroupId::parse("1001").unwrap());
    n[0].cluster
        .notify_all(&members, &group, &members[0], Some(&r));
    n[0].cluster.flush().await;
    let got = tokio::time::timeout(Duration::from_secs(5), far.mailbox.next())
        .await
        .unwrap();
    assert_eq!(got, Push::Notices(vec![group]));
    assert_eq!(
        sender.mailbox.take(),
        None,
        "the sending device is not told"
    );
    // Exactly one message on the signal subject.
    let first = tokio::time::timeout(Duration::from_secs(5), signals.next()).await;
    assert!(matches!(first, Ok(Some(_))));
    let second = tokio::time::timeout(Duration::from_millis(300), signals.next()).await;
    assert!(second.is_err(), "a second publish for one fan-out");
}

#[tokio::test]
async fn a_kick_crosses_nodes() {
    let (_, n) = nodes(2).await;
    let (alice, r1) = ids("alice", "r1");
    let (_, r2) = ids("alice", "r2");
    let a1 = n[0].hub.register(&alice, &r1, 10).unwrap();
    let a2 = n[1].hub.register(&alice, &r2, 10).unwrap();
    n[0].cluster.kick(&alice, KickReason::PasswordChanged);
    assert_eq!(
        a1.mailbox.take(),
        Some(Push::Kick(KickReason::PasswordChanged))
    );
    let got = tokio::time::timeout(Duration::from_secs(5), a2.mailbox.next())
        .await
        .unwrap();
    assert_eq!(got, Push::Kick(KickReason::PasswordChanged));
}

#[tokio::test]
async fn the_device_limit_counts_devices_on_other_nodes() {
    let (_, n) = nodes(3).await;
    let (alice, r1) = ids("alice", "r1");
    let (_, r2) = ids("alice", "r2");
    let (_, r3) = ids("alice", "r3");
    let _a1 = n[0].hub.register(&alice, &r1, 2).unwrap();
    let _a2 = n[1].hub.register(&alice, &r2, 2).unwrap();
    eventually("node 2 sees both devices", || {
        n[2].hub.register(&alice, &r3, 2).is_err()
    })
    .await;
    // A device that leaves frees its slot everywhere.
    drop(_a1);
    eventually("node 2 sees r1 gone", || {
        n[2].hub.register(&alice, &r3, 2).is_ok()
    })
    .await;
}

#[tokio::test]
async fn the_same_device_logging_in_elsewhere_closes_only_its_old_session() {
    let (_, n) = nodes(2).await;
    let (alice, r1) = ids("alice", "r1");
    let (_, r2) = ids("alice", "r2");
    let old = n[0].hub.register(&alice, &r1, 10).unwrap();
    let other = n[0].hub.register(&alice, &r2, 10).unwrap();
    eventually("node 1 sees alice's devices", || {
        n[1].hub
            .register(&alice, &Resource::parse("r3").unwrap(), 2)
            .is_err()
    })
    .await;
    // r1 is not counted twice: with a limit of 2 (r1 moving, r2 elsewhere) it fits.
    let new = n[1].hub.register(&alice, &r1, 2).unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), old.mailbox.next())
        .await
        .unwrap();
    assert_eq!(got, Push::Replaced);
    assert_eq!(other.mailbox.take(), None, "the user's other device stays");
    assert_eq!(n[0].hub.online(&alice), 1);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(new.mailbox.take(), None, "the newer session stays");
    assert_eq!(n[1].hub.online(&alice), 1);
}

#[tokio::test]
async fn a_silent_node_stops_counting_after_the_expiry() {
    let (_, mut n) = nodes(2).await;
    let (alice, r1) = ids("alice", "r1");
    let (_, r2) = ids("alice", "r2");
    let _a1 = n[1].hub.register(&alice, &r1, 1).unwrap();
    eventually("node 0 sees r1", || {
        n[0].hub.register(&alice, &r2, 1).is_err()
    })
    .await;
    // Node 1 dies without a word (its sessions do not even leave).
    let dead = n.pop().unwrap();
    drop(dead.cluster);
    let started = std::time::Instant::now();
    eventually("node 0 forgets node 1", || {
        n[0].hub.register(&alice, &r2, 1).is_ok()
    })
    .await;
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "not before ~3 beats"
    );
    assert_eq!(n[0].cluster.peers(), 0);
}

#[tokio::test]
async fn a_late_node_learns_the_devices_online_before_it_started() {
    let prefix = prefix();
    let first = node(&prefix, 1).await;
    let (alice, r1) = ids("alice", "r1");
    let _a1 = first.hub.register(&alice, &r1, 1).unwrap();
    let late = node(&prefix, 2).await;
    eventually("the late node counts r1", || {
        late.hub
            .register(&alice, &Resource::parse("r2").unwrap(), 1)
            .is_err()
    })
    .await;
    assert!(first.cluster.stats().published.load(Ordering::Relaxed) > 0);
}

#[tokio::test]
async fn an_unreachable_nats_is_an_error_at_connect() {
    let hub = Hub::new("org#app");
    let started = std::time::Instant::now();
    let err = Cluster::connect_with(
        "nats://127.0.0.1:1",
        &prefix(),
        0,
        hub,
        Options {
            connect_timeout: Duration::from_secs(1),
            ..fast()
        },
    )
    .await
    .err()
    .unwrap();
    assert!(matches!(err, ClusterError::Connect { .. }), "{err}");
    assert!(err.to_string().contains("127.0.0.1:1"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_fan_out_over_the_queue_bound_is_dropped_and_counted_not_blocking() {
    let hub = Hub::new("org#app");
    let options = Options {
        queue_users: 10,
        ..fast()
    };
    let cluster = Cluster::connect_with(&nats_url(), &prefix(), 0, hub.clone(), options)
        .await
        .unwrap();
    let members: Vec<UserId> = (0..100)
        .map(|i| UserId::parse(&format!("m{i}")).unwrap())
        .collect();
    let (_, r) = ids("m0", "phone");
    let local = hub.register(&members[5], &r, 10).unwrap();
    let group = Target::Group(GroupId::parse("1001").unwrap());
    cluster.notify_all(&members, &group, &members[0], None);
    assert_eq!(cluster.stats().dropped.load(Ordering::Relaxed), 1);
    assert_eq!(
        local.mailbox.take(),
        Some(Push::Notices(vec![group])),
        "local devices are told whatever NATS's queue holds"
    );
}
