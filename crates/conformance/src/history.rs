//! One conversation's history as a user sees it: paging both ways, filters, group joins.
use std::sync::Arc;

use bytes::Bytes;

use crate::{fixtures::*, prelude::*};

/// The newest page of up to `limit` messages with `target`, unfiltered.
pub(crate) fn newest_first(target: Target, limit: i64) -> HistoryQuery {
    HistoryQuery {
        target,
        from: None,
        direction: Direction::NewestFirst,
        limit: PageSize::parse(limit).unwrap(),
        content_types: vec![],
        start_ms: None,
        end_ms: None,
        sender: None,
    }
}

/// The ids of `user`'s whole history matching `query`, read in pages of `query.limit`;
/// checks that every page before the last is full.
pub(crate) async fn all_pages(s: &dyn Store, user: &str, query: HistoryQuery) -> Vec<MessageId> {
    let size = query.limit.get();
    let mut query = query;
    let mut out = vec![];
    loop {
        let page = s.history(&uid(user), &query).await.unwrap().unwrap();
        out.extend(page.messages.iter().map(|m| m.id));
        if page.is_last {
            assert!(page.messages.len() <= size);
            return out;
        }
        assert_eq!(page.messages.len(), size, "a page before the last is full");
        query.from = page.messages.last().map(|m| m.id);
    }
}

pub(crate) async fn pages_both_ways_without_repeats(s: Arc<dyn Store>) {
    let mut ids = vec![];
    for i in 0..7 {
        let (from, to) = if i % 2 == 0 {
            ("alice", "bob")
        } else {
            ("bob", "alice")
        };
        ids.push(
            s.append(chat(from, "r", to, &i.to_string()))
                .await
                .unwrap()
                .id,
        );
        if i == 3 {
            // A read ack is not history.
            s.append(NewMessage {
                kind: MessageKind::ChannelAck,
                activity: false,
                content_type: String::new(),
                ..chat("alice", "r", "bob", "")
            })
            .await
            .unwrap();
        }
    }
    let up = all_pages(&*s, "alice", newest_first(t("bob"), 3)).await;
    let mut want = ids.clone();
    want.reverse();
    assert_eq!(up, want, "newest first");
    let down = HistoryQuery {
        direction: Direction::OldestFirst,
        ..newest_first(t("bob"), 2)
    };
    assert_eq!(
        all_pages(
            &*s,
            "bob",
            HistoryQuery {
                target: t("alice"),
                ..down.clone()
            }
        )
        .await,
        ids,
        "oldest first"
    );
    // From a message on: strictly after it, in the direction asked.
    let after_third = HistoryQuery {
        from: Some(ids[2]),
        ..down
    };
    assert_eq!(all_pages(&*s, "alice", after_third).await, ids[3..]);
    // A user with no such conversation has no history of it.
    assert!(
        s.history(&uid("carol"), &newest_first(t("bob"), 3))
            .await
            .unwrap()
            .is_none_or(|p| p.messages.is_empty())
    );
}

pub(crate) async fn filters_by_type_sender_and_time(s: Arc<dyn Store>) {
    let mut stored = vec![];
    for (i, (from, to, kind)) in [
        ("alice", "bob", "txt"),
        ("bob", "alice", "img"),
        ("alice", "bob", "img"),
        ("bob", "alice", "txt"),
        ("bob", "alice", "img"),
        ("alice", "bob", "txt"),
    ]
    .into_iter()
    .enumerate()
    {
        let m = NewMessage {
            content_type: kind.into(),
            payload: Bytes::from(i.to_string()),
            ..chat(from, "r", to, "")
        };
        stored.push(s.append(m).await.unwrap());
    }
    let base = HistoryQuery {
        direction: Direction::OldestFirst,
        ..newest_first(t("bob"), 50)
    };
    let ids = |f: &dyn Fn(&StoredMessage) -> bool| -> Vec<MessageId> {
        stored.iter().filter(|m| f(m)).map(|m| m.id).collect()
    };
    let images = HistoryQuery {
        content_types: vec!["img".into()],
        ..base.clone()
    };
    assert_eq!(
        all_pages(&*s, "alice", images).await,
        ids(&|m| m.payload != "0" && m.payload != "3" && m.payload != "5")
    );
    let from_bob = HistoryQuery {
        sender: Some(uid("bob")),
        ..base.clone()
    };
    assert_eq!(
        all_pages(&*s, "alice", from_bob).await,
        ids(&|m| m.from == uid("bob"))
    );
    // Server time in [start, end], both ends included.
    let (start, end) = (stored[1].timestamp_ms, stored[4].timestamp_ms);
    let window = HistoryQuery {
        start_ms: Some(start),
        end_ms: Some(end),
        ..base
    };
    assert_eq!(
        all_pages(&*s, "alice", window).await,
        ids(&|m| (start..=end).contains(&m.timestamp_ms))
    );
}

pub(crate) async fn a_group_shows_a_member_only_what_came_after_joining(s: Arc<dyn Store>) {
    let g = gid("g1");
    let gt = Target::Group(g.clone());
    s.create_group(new_group("g1", "alice", &["bob"], 10))
        .await
        .unwrap();
    group_send(&*s, "alice", "g1", "before carol").await;
    s.add_members(&g, vec![uid("carol")], no_events())
        .await
        .unwrap();
    group_send(&*s, "bob", "g1", "after carol").await;
    let texts =
        |p: HistoryPage| -> Vec<Bytes> { p.messages.into_iter().map(|m| m.payload).collect() };
    let of = |user: &'static str| {
        let s = s.clone();
        let q = newest_first(gt.clone(), 10);
        async move { s.history(&uid(user), &q).await.unwrap() }
    };
    assert_eq!(
        texts(of("bob").await.unwrap()),
        [Bytes::from("after carol"), Bytes::from("before carol")]
    );
    assert_eq!(
        texts(of("carol").await.unwrap()),
        [Bytes::from("after carol")]
    );
    assert!(of("dave").await.is_none(), "not a member: no history");
}
