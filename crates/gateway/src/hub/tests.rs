use super::*;
use crate::presence::Presence;

fn ids(u: &str, r: &str) -> (UserId, Resource) {
    (UserId::parse(u).unwrap(), Resource::parse(r).unwrap())
}

fn peer(n: usize) -> Target {
    Target::User(UserId::parse(&format!("peer{n}")).unwrap())
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
    let a1 = hub.register(&alice, &r1, 10).unwrap();
    let a2 = hub.register(&alice, &r2, 10).unwrap();
    let bob = Target::User(bob);
    hub.notify(&alice, &bob, Some(&r1));
    assert_eq!(a2.mailbox.take(), Some(Push::Notices(vec![bob.clone()])));
    assert_eq!(a1.mailbox.take(), None);
    drop(a1);
    drop(a2);
    assert_eq!(hub.online(&alice), 0);
}

#[test]
fn a_burst_of_notices_coalesces_per_queue() {
    // 10,000 messages in one conversation (a sender at 1,000/s for 10 s, to a reader that
    // has not written yet) leave one notice, and the reader stays registered.
    let hub = Hub::new("org#app");
    let (alice, r1) = ids("alice", "r1");
    let reader = hub.register(&alice, &r1, 10).unwrap();
    for _ in 0..10_000 {
        hub.notify(&alice, &peer(1), None);
    }
    hub.notify(&alice, &peer(2), None);
    assert_eq!(
        reader.mailbox.take(),
        Some(Push::Notices(vec![peer(1), peer(2)]))
    );
    assert_eq!(reader.mailbox.take(), None);
    assert_eq!(hub.online(&alice), 1);
}

#[test]
fn too_many_distinct_queues_unwritten_closes_only_that_session() {
    let hub = Hub::new("org#app");
    let (alice, r1) = ids("alice", "r1");
    let (_, r2) = ids("alice", "r2");
    let slow = hub.register(&alice, &r1, 10).unwrap();
    let fast = hub.register(&alice, &r2, 10).unwrap();
    for n in 0..=MAX_PENDING_NOTICES {
        hub.notify(&alice, &peer(n), None);
        if n % 100 == 0 {
            // The fast device drains its mailbox as it goes.
            assert!(matches!(fast.mailbox.take(), Some(Push::Notices(_))));
        }
    }
    assert_eq!(slow.mailbox.take(), Some(Push::Overflow));
    assert!(matches!(fast.mailbox.take(), Some(Push::Notices(_))));
}

#[test]
fn a_kick_is_never_dropped_and_comes_first() {
    let hub = Hub::new("org#app");
    let (alice, r1) = ids("alice", "r1");
    let s = hub.register(&alice, &r1, 10).unwrap();
    for n in 0..=MAX_PENDING_NOTICES {
        hub.notify(&alice, &peer(n), None);
    }
    hub.kick(&alice, KickReason::PasswordChanged);
    assert_eq!(
        s.mailbox.take(),
        Some(Push::Kick(KickReason::PasswordChanged))
    );
}

#[tokio::test]
async fn next_wakes_on_a_notice_posted_while_waiting() {
    let hub = Hub::new("org#app");
    let (alice, r1) = ids("alice", "r1");
    let s = hub.register(&alice, &r1, 10).unwrap();
    let mailbox = s.mailbox.clone();
    let waiter = tokio::spawn(async move { mailbox.next().await });
    tokio::task::yield_now().await;
    hub.notify(&alice, &peer(1), None);
    let got = tokio::time::timeout(std::time::Duration::from_secs(10), waiter)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, Push::Notices(vec![peer(1)]));
}

#[test]
fn the_users_devices_share_one_send_limiter_while_online() {
    let hub = Hub::new("org#app");
    hub.limit_user_sends(SendRate {
        per_second: 1,
        burst: 2,
    });
    let (alice, r1) = ids("alice", "r1");
    let (_, r2) = ids("alice", "r2");
    let a1 = hub.register(&alice, &r1, 10).unwrap();
    let a2 = hub.register(&alice, &r2, 10).unwrap();
    let (l1, l2) = (a1.user_rate.clone().unwrap(), a2.user_rate.clone().unwrap());
    assert!(l1.check().is_ok());
    assert!(l2.check().is_ok());
    assert!(
        l1.check().is_err(),
        "the burst of 2 is shared by both devices"
    );
    drop((a1, a2));
    // Logging in again does not reset the allowance: the limiter outlives the sessions
    // while it refills (2 s here).
    let again = hub.register(&alice, &r1, 10).unwrap();
    assert!(again.user_rate.as_ref().unwrap().check().is_err());
}

#[test]
fn a_departed_users_limiter_is_forgotten_once_refilled() {
    let hub = Hub::new("org#app");
    hub.limit_user_sends(SendRate {
        per_second: 1000,
        burst: 2,
    });
    let (alice, r1) = ids("alice", "r1");
    let (bob, _) = ids("bob", "r1");
    drop(hub.register(&alice, &r1, 10).unwrap());
    assert_eq!(hub.lock().users.len(), 1, "kept while it refills");
    std::thread::sleep(std::time::Duration::from_millis(20));
    let _b = hub.register(&bob, &r1, 10).unwrap();
    let registry = hub.lock();
    assert_eq!(registry.users.len(), 1, "alice is forgotten, bob is online");
    assert!(registry.departed.is_empty());
}

#[test]
fn without_a_user_rate_nothing_is_kept_for_a_departed_user() {
    let hub = Hub::new("org#app");
    let (alice, r1) = ids("alice", "r1");
    drop(hub.register(&alice, &r1, 10).unwrap());
    assert!(hub.lock().users.is_empty());
}

#[test]
fn a_replaced_session_is_told_to_close() {
    let hub = Hub::new("org#app");
    let (alice, r1) = ids("alice", "r1");
    let old = hub.register(&alice, &r1, 1).unwrap();
    let new = hub.register(&alice, &r1, 1).unwrap();
    assert_eq!(old.mailbox.take(), Some(Push::Replaced));
    assert_eq!(new.mailbox.take(), None);
    drop(old);
    assert_eq!(
        hub.online(&alice),
        1,
        "the old session leaving keeps the new one"
    );
}

/// A presence that says alice has r9 on another node, and records what it is told.
#[derive(Default)]
struct FakePresence {
    told: std::sync::Mutex<Vec<String>>,
}

impl Presence for FakePresence {
    fn remote_resources(&self, user: &UserId) -> Vec<Resource> {
        if user.as_str() == "alice" {
            vec![Resource::parse("r9").unwrap()]
        } else {
            vec![]
        }
    }
    fn joined(&self, user: &UserId, resource: &Resource, _since_ms: u64) {
        self.told
            .lock()
            .unwrap()
            .push(format!("join {user}/{resource}"));
    }
    fn left(&self, user: &UserId, resource: &Resource) {
        self.told
            .lock()
            .unwrap()
            .push(format!("leave {user}/{resource}"));
    }
}

#[test]
fn devices_elsewhere_count_and_joins_and_leaves_are_told() {
    let hub = Hub::new("org#app");
    let presence = Arc::new(FakePresence::default());
    let weak: Arc<dyn Presence> = presence.clone();
    hub.set_presence(Arc::downgrade(&weak));
    let (alice, r1) = ids("alice", "r1");
    let (_, r9) = ids("alice", "r9");
    assert!(
        hub.register(&alice, &r1, 1).is_err(),
        "r9 elsewhere fills the one slot"
    );
    let a1 = hub.register(&alice, &r1, 2).unwrap();
    // The device elsewhere logging in here does not count twice.
    let a9 = hub.register(&alice, &r9, 2).unwrap();
    drop(a1);
    assert_eq!(hub.replace_device(&alice, &r9, |_| true), 1);
    assert_eq!(a9.mailbox.take(), Some(Push::Replaced));
    drop(a9);
    assert_eq!(
        *presence.told.lock().unwrap(),
        [
            "join alice/r1",
            "join alice/r9",
            "leave alice/r1",
            "leave alice/r9"
        ]
    );
    hub.devices(|d| assert!(d.is_empty()));
}
