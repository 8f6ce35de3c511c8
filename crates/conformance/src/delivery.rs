//! Delivery to devices: per-conversation sequences, what each device is owed, acks, resends.
use std::sync::Arc;

use crate::{fixtures::*, prelude::*};

pub(crate) async fn sequences_are_per_conversation_without_gaps(s: Arc<dyn Store>) {
    assert_eq!(send(&*s, "alice", "a", "bob", "1").await, 1);
    assert_eq!(send(&*s, "bob", "b", "alice", "2").await, 2);
    assert_eq!(send(&*s, "alice", "a", "carol", "x").await, 1);
    assert_eq!(send(&*s, "alice", "a", "bob", "3").await, 3);
}

pub(crate) async fn devices_are_owed_what_they_have_not_acked_but_never_their_own_sends(
    s: Arc<dyn Store>,
) {
    let a1 = s.device(&uid("alice"), &res("a1")).await.unwrap();
    let a2 = s.device(&uid("alice"), &res("a2")).await.unwrap();
    send(&*s, "alice", "a1", "bob", "from a1").await;
    send(&*s, "bob", "b", "alice", "from bob").await;
    assert_eq!(texts(&*s, &a1, "bob").await, vec!["from bob"]);
    assert_eq!(texts(&*s, &a2, "bob").await, vec!["from a1", "from bob"]);
    assert_eq!(
        s.pending(&a2).await.unwrap(),
        vec![PendingQueue {
            target: t("bob"),
            count: 2
        }]
    );
    // a2 acks the first; then only the second is owed; acking past the end is clamped.
    s.ack(&a2, &t("bob"), 1).await.unwrap();
    assert_eq!(texts(&*s, &a2, "bob").await, vec!["from bob"]);
    s.ack(&a2, &t("bob"), 99).await.unwrap();
    assert!(texts(&*s, &a2, "bob").await.is_empty());
    assert!(s.pending(&a2).await.unwrap().is_empty());
    send(&*s, "bob", "b", "alice", "later").await;
    assert_eq!(
        texts(&*s, &a2, "bob").await,
        vec!["later"],
        "a clamped ack hides nothing new"
    );
    // a1 still has its own backlog, unaffected by a2.
    assert_eq!(texts(&*s, &a1, "bob").await, vec!["from bob", "later"]);
}

pub(crate) async fn a_new_device_gets_only_what_no_device_took(s: Arc<dyn Store>) {
    send(&*s, "alice", "a", "bob", "1").await;
    send(&*s, "alice", "a", "bob", "2").await;
    // bob has never logged in: his first device gets both.
    let b1 = s.device(&uid("bob"), &res("b1")).await.unwrap();
    assert_eq!(texts(&*s, &b1, "alice").await, vec!["1", "2"]);
    s.ack(&b1, &t("alice"), 2).await.unwrap();
    // A device registered afterwards is not owed what b1 took, but is owed what comes next.
    let b2 = s.device(&uid("bob"), &res("b2")).await.unwrap();
    assert!(texts(&*s, &b2, "alice").await.is_empty());
    send(&*s, "alice", "a", "bob", "3").await;
    assert_eq!(texts(&*s, &b2, "alice").await, vec!["3"]);
    // Registration is remembered: the same resource is the same device.
    let again = s.device(&uid("bob"), &res("b2")).await.unwrap();
    assert_eq!(again.registered, b2.registered);
}

pub(crate) async fn a_send_repeated_under_the_same_client_id_is_stored_once(s: Arc<dyn Store>) {
    let with_id = |res: &str, id: u64, text: &str| NewMessage {
        client_id: Some(id),
        ..chat("alice", res, "bob", text)
    };
    let first = s.append(with_id("a", 7, "hello")).await.unwrap();
    let again = s.append(with_id("a", 7, "hello")).await.unwrap();
    assert_eq!(again, first, "the resend answers with the stored message");
    // The same id from another device, or a new id, is a new message.
    let other = s.append(with_id("a2", 7, "hello")).await.unwrap();
    let next = s.append(with_id("a", 8, "hello")).await.unwrap();
    assert_ne!(other.id, first.id);
    assert_eq!((other.seq, next.seq), (2, 3));
    let d = s.device(&uid("bob"), &res("b")).await.unwrap();
    assert_eq!(texts(&*s, &d, "alice").await, ["hello", "hello", "hello"]);
}
