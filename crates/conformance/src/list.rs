//! The conversation list: order, unread arithmetic, paging, pins.
use std::sync::Arc;

use bytes::Bytes;

use crate::{fixtures::*, history::newest_first, prelude::*};

/// The first page of up to `limit` listed conversations with messages.
pub(crate) fn all(limit: i64) -> ListQuery {
    ListQuery {
        filter: ListFilter::All {
            include_empty: false,
        },
        limit: PageSize::parse(limit).unwrap(),
        after: None,
    }
}

/// `user`'s list as (target, unread), newest first.
pub(crate) async fn listed(s: &dyn Store, user: &str) -> Vec<(String, u64)> {
    s.conversations(&uid(user), &all(50))
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|c| (c.target.to_string(), c.unread))
        .collect()
}

pub(crate) async fn newest_first_with_arithmetic_unread(s: Arc<dyn Store>) {
    send(&*s, "bob", "b", "alice", "1").await;
    send(&*s, "carol", "c", "alice", "2").await;
    send(&*s, "bob", "b", "alice", "3").await;
    send(&*s, "alice", "a", "bob", "mine").await;
    assert_eq!(
        listed(&*s, "alice").await,
        [("bob".into(), 2), ("carol".into(), 1)]
    );
    // A read ack clears bob's unread; a later message counts again.
    s.append(NewMessage {
        kind: MessageKind::ChannelAck,
        activity: false,
        ..chat("alice", "a", "bob", "")
    })
    .await
    .unwrap();
    assert_eq!(
        listed(&*s, "alice").await,
        [("bob".into(), 0), ("carol".into(), 1)]
    );
    let m = s.append(chat("bob", "b", "alice", "4")).await.unwrap();
    assert_eq!(listed(&*s, "alice").await[0], ("bob".into(), 1));
    // Deleting it one-way: unread 0, lastMessage the previous visible one.
    s.remove_messages(
        &uid("alice"),
        &t("bob"),
        Removal::Ids(vec![m.id]),
        no_events(),
    )
    .await
    .unwrap();
    let page = s.conversations(&uid("alice"), &all(50)).await.unwrap();
    assert_eq!(page.items[0].unread, 0);
    assert_eq!(
        page.items[0].last.as_ref().unwrap().payload,
        Bytes::from("mine")
    );
    // Paging: one at a time, no repeats.
    let first = s.conversations(&uid("alice"), &all(1)).await.unwrap();
    assert_eq!(first.items.len(), 1);
    let second = s
        .conversations(
            &uid("alice"),
            &ListQuery {
                after: first.next,
                ..all(1)
            },
        )
        .await
        .unwrap();
    assert_eq!(second.items[0].target, t("carol"));
    assert!(second.next.is_none());
    // History skips the deleted message and is newest first.
    let h = s
        .history(&uid("alice"), &newest_first(t("bob"), 10))
        .await
        .unwrap()
        .unwrap();
    let texts: Vec<_> = h.messages.iter().map(|m| m.payload.clone()).collect();
    assert_eq!(
        texts,
        [Bytes::from("mine"), Bytes::from("3"), Bytes::from("1")]
    );
    assert!(h.is_last);
    // Deleting the conversation with its history: gone; a new message brings it back.
    assert!(
        s.delete_conversation(&uid("alice"), &t("bob"), true, no_events())
            .await
            .unwrap()
            .value
    );
    assert_eq!(listed(&*s, "alice").await, [("carol".into(), 1)]);
    send(&*s, "bob", "b", "alice", "5").await;
    assert_eq!(
        listed(&*s, "alice").await,
        [("bob".into(), 1), ("carol".into(), 1)]
    );
    // Bob's side is untouched.
    assert_eq!(listed(&*s, "bob").await, [("alice".into(), 1)]);
}

pub(crate) async fn pins_are_limited_and_newest_first(s: Arc<dyn Store>) {
    for peer in ["p1", "p2", "p3"] {
        send(&*s, peer, "x", "alice", "hi").await;
    }
    let me = uid("alice");
    s.pin(&me, &t("p1"), true, 2, no_events()).await.unwrap();
    s.pin(&me, &t("p3"), true, 2, no_events()).await.unwrap();
    assert!(matches!(
        s.pin(&me, &t("p2"), true, 2, no_events()).await,
        Err(StoreError::PinLimit(2))
    ));
    assert!(matches!(
        s.pin(&me, &t("nobody"), true, 2, no_events()).await,
        Err(StoreError::ConversationNotFound(_))
    ));
    let pinned = s
        .conversations(
            &me,
            &ListQuery {
                filter: ListFilter::Pinned,
                ..all(50)
            },
        )
        .await
        .unwrap();
    let order: Vec<_> = pinned.items.iter().map(|c| c.target.to_string()).collect();
    assert_eq!(order, ["p3", "p1"]);
}
