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
    let first = s
        .append(chat("alice", "a1", "bob", "from a1"))
        .await
        .unwrap();
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
    s.ack(&a2, &t("bob"), first.id).await.unwrap();
    assert_eq!(texts(&*s, &a2, "bob").await, vec!["from bob"]);
    s.ack(&a2, &t("bob"), MessageId(u64::MAX)).await.unwrap();
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
    let second = s.append(chat("alice", "a", "bob", "2")).await.unwrap();
    // bob has never logged in: his first device gets both.
    let b1 = s.device(&uid("bob"), &res("b1")).await.unwrap();
    assert_eq!(texts(&*s, &b1, "alice").await, vec!["1", "2"]);
    s.ack(&b1, &t("alice"), second.id).await.unwrap();
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

/// A pull's key is the server id of its last message (unique across conversations, so keys
/// never repeat across the queues of one connection); an ack names that id, and the engine
/// maps it to the conversation's position.
pub(crate) async fn acks_name_a_message_by_id_and_map_to_its_position(s: Arc<dyn Store>) {
    let m1 = s.append(chat("alice", "a", "bob", "m1")).await.unwrap();
    let other = s.append(chat("alice", "a", "carol", "x")).await.unwrap();
    let m2 = s.append(chat("alice", "a", "bob", "m2")).await.unwrap();
    let m3 = s.append(chat("alice", "a", "bob", "m3")).await.unwrap();
    assert!(m1.id < other.id && other.id < m2.id && m2.id < m3.id);
    assert_eq!(
        (m1.seq, other.seq),
        (1, 1),
        "the sequences collide, the ids do not"
    );
    let b = s.device(&uid("bob"), &res("b")).await.unwrap();
    // An id below every message of the conversation acknowledges nothing.
    s.ack(&b, &t("alice"), MessageId(1)).await.unwrap();
    assert_eq!(texts(&*s, &b, "alice").await, ["m1", "m2", "m3"]);
    // An id that is no message of the conversation acknowledges the messages before it.
    s.ack(&b, &t("alice"), other.id).await.unwrap();
    assert_eq!(texts(&*s, &b, "alice").await, ["m2", "m3"]);
    // The id of a message acknowledges it and everything before.
    s.ack(&b, &t("alice"), m2.id).await.unwrap();
    assert_eq!(texts(&*s, &b, "alice").await, ["m3"]);
    // An id below the device's position acknowledges nothing new, and moves nothing back.
    s.ack(&b, &t("alice"), m1.id).await.unwrap();
    assert_eq!(texts(&*s, &b, "alice").await, ["m3"]);
    // A forged id beyond the end acknowledges what exists, not what comes next.
    s.ack(&b, &t("alice"), MessageId(u64::MAX >> 1))
        .await
        .unwrap();
    assert!(texts(&*s, &b, "alice").await.is_empty());
    send(&*s, "alice", "a", "bob", "m4").await;
    assert_eq!(texts(&*s, &b, "alice").await, ["m4"]);
    // carol's conversation is untouched by bob's acks.
    let c = s.device(&uid("carol"), &res("c")).await.unwrap();
    assert_eq!(texts(&*s, &c, "alice").await, ["x"]);
}

/// `ack_at` acks as `ack` does and, if it answers a position, it is the seq after which the
/// store owes the device messages: what a service may answer from its own copy of them.
pub(crate) async fn an_ack_answers_the_position_the_store_owes_from(s: Arc<dyn Store>) {
    let b = s.device(&uid("bob"), &res("b")).await.unwrap();
    let first = s.append(chat("alice", "a", "bob", "1")).await.unwrap();
    let second = s.append(chat("alice", "a", "bob", "2")).await.unwrap();
    let at = s.ack_at(&b, &t("alice"), first.id).await.unwrap();
    assert!(at.is_none() || at == Some(first.seq), "{at:?}");
    assert_eq!(texts(&*s, &b, "alice").await, vec!["2"]);
    // Acking nothing new (an older key) keeps the position.
    let again = s.ack_at(&b, &t("alice"), MessageId(0)).await.unwrap();
    assert!(again.is_none() || again == Some(first.seq), "{again:?}");
    let end = s.ack_at(&b, &t("alice"), second.id).await.unwrap();
    assert!(end.is_none() || end == Some(second.seq), "{end:?}");
    assert!(texts(&*s, &b, "alice").await.is_empty());
    // No such conversation: no position.
    let none = s.ack_at(&b, &t("carol"), second.id).await.unwrap();
    assert_eq!(none, None);
}
