//! Two nodes on one database changing one user's view while messages arrive.
#![allow(clippy::unwrap_used, reason = "tests: a panic is a failure")]
use super::*;

/// Two nodes pinning one user's conversations at once keep the pin limit, and pin times stay
/// strictly increasing (the user's changes are serialized across nodes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pins_on_two_nodes_keep_the_limit_and_the_order() {
    let schema = schema("pins");
    let (a, b) = (open(&schema, 1).await, open(&schema, 2).await);
    for i in 0..8 {
        a.append(chat(&format!("u{i}"), "web", "alice", "hi"))
            .await
            .unwrap();
    }
    let pins: Vec<_> = (0..8)
        .map(|i| {
            let s = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move {
                s.pin(
                    &uid("alice"),
                    &t(&format!("u{i}")),
                    true,
                    5,
                    log_event("alice"),
                )
                .await
            })
        })
        .collect();
    let mut times = Vec::new();
    let mut refused = 0;
    for p in pins {
        match p.await.unwrap() {
            Ok(done) => {
                assert_eq!(done.events.len(), 1);
                times.push(done.value.unwrap());
            }
            Err(StoreError::PinLimit(5)) => refused += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!((times.len(), refused), (5, 3));
    times.sort_unstable();
    times.dedup();
    assert_eq!(times.len(), 5, "pin times are distinct");
    let pinned = b
        .conversations(
            &uid("alice"),
            &ListQuery {
                filter: ListFilter::Pinned,
                limit: page(10),
                after: None,
            },
        )
        .await
        .unwrap();
    let listed: Vec<u64> = pinned.items.iter().filter_map(|i| i.pinned_ms).collect();
    times.reverse();
    assert_eq!(listed, times, "newest pin first");
    drop_schema(&a, &schema).await;
}

/// What the user sees after their deletes raced another node's appends: exactly what came
/// after their last delete, all unread, the newest as the list's lastMessage.
async fn check_after_deletes(s: &PgStore, user: &str, peer: Target, last_seq: u64) {
    let h = s
        .history(&uid(user), &newest(peer.clone(), 50))
        .await
        .unwrap()
        .unwrap();
    let list = s.conversations(&uid(user), &all_of(50)).await.unwrap();
    let item = list.items.iter().find(|i| i.target == peer);
    let chats: Vec<_> = h.messages.iter().filter(|m| m.from != uid(user)).collect();
    match chats.first() {
        None => assert!(
            item.is_none_or(|i| i.last.is_none() && i.unread == 0),
            "{item:?}"
        ),
        Some(newest) => {
            let item = item.unwrap();
            assert_eq!(item.unread, u64::try_from(chats.len()).unwrap());
            assert_eq!(item.last.as_ref().unwrap().id, newest.id);
            assert_eq!(newest.seq, last_seq, "the newest message is never hidden");
        }
    }
    // What is left is one run of seqs ending at the conversation's last.
    for w in h.messages.windows(2) {
        assert!(w[0].seq > w[1].seq);
    }
}

/// A user deleting a single chat (with its history) on one node while the peer keeps sending
/// through another: no deadlock or error, and the user's view stays whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_racing_appends_on_another_node() {
    let schema = schema("deletes");
    let (a, b) = (open(&schema, 1).await, open(&schema, 2).await);
    a.append(chat("bob", "web", "alice", "0")).await.unwrap();
    let sender = tokio::spawn({
        let b = b.clone();
        async move {
            let mut last = 0;
            for i in 1..=40 {
                last = b
                    .append(chat("bob", "phone", "alice", &i.to_string()))
                    .await
                    .unwrap()
                    .seq;
            }
            last
        }
    });
    let deleter = tokio::spawn({
        let a = a.clone();
        async move {
            for _ in 0..15 {
                let done = a
                    .delete_conversation(&uid("alice"), &t("bob"), true, log_event("alice"))
                    .await
                    .unwrap();
                assert!(done.value);
                tokio::task::yield_now().await;
            }
        }
    });
    let last = sender.await.unwrap();
    deleter.await.unwrap();
    check_after_deletes(&a, "alice", t("bob"), last).await;
    drop_schema(&a, &schema).await;
}

/// A member deleting (and marking) a group conversation on one node while, on another, she
/// acks the group (an append that locks her own log before her side of the group), others
/// send, and members come and go with events in her log (a group change locks the group's
/// row before her log): none fails, and what she sees stays whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_deletes_racing_group_acks_and_sends() {
    let schema = schema("group_deletes");
    let (a, b) = (open(&schema, 1).await, open(&schema, 2).await);
    a.create_group(new_group("g1", "bob", &["alice", "carol"], 10))
        .await
        .unwrap();
    let group = Target::Group(gid("g1"));
    let sender = tokio::spawn({
        let (b, group) = (b.clone(), group.clone());
        async move {
            let mut last = 0;
            for i in 0..30 {
                let from = if i % 2 == 0 { "bob" } else { "carol" };
                last = b
                    .append(to_target(from, "web", group.clone(), &i.to_string()))
                    .await
                    .unwrap()
                    .seq;
                b.append(NewMessage {
                    kind: MessageKind::ChannelAck,
                    activity: false,
                    content_type: String::new(),
                    ..to_target("alice", "phone", group.clone(), "")
                })
                .await
                .unwrap();
            }
            last
        }
    });
    let changer = tokio::spawn({
        let b = b.clone();
        async move {
            for _ in 0..10 {
                b.add_members(&gid("g1"), vec![uid("dave")], log_event("alice"))
                    .await
                    .unwrap();
                b.remove_members(&gid("g1"), vec![uid("dave")], log_event("alice"))
                    .await
                    .unwrap();
            }
        }
    });
    let deleter = tokio::spawn({
        let (a, group) = (a.clone(), group.clone());
        async move {
            let mark = Mark::from_index(1).unwrap();
            for i in 0..15 {
                let done = a
                    .delete_conversation(&uid("alice"), &group, true, log_event("alice"))
                    .await
                    .unwrap();
                assert!(done.value);
                a.mark(
                    &uid("alice"),
                    vec![group.clone()],
                    mark,
                    i % 2 == 0,
                    log_event("alice"),
                )
                .await
                .unwrap();
                tokio::task::yield_now().await;
            }
        }
    });
    let last = sender.await.unwrap();
    changer.await.unwrap();
    deleter.await.unwrap();
    // (Her acks read everything: nothing she did not delete is unread either.)
    let list = a.conversations(&uid("alice"), &all_of(50)).await.unwrap();
    if let Some(item) = list.items.iter().find(|i| i.target == group) {
        assert_eq!(item.unread, 0);
        assert!(item.last.as_ref().is_none_or(|m| m.seq <= last));
    }
    drop_schema(&a, &schema).await;
}
