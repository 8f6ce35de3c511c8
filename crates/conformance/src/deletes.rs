//! One-way deletes: what one user removes stays for everyone else.
use std::sync::Arc;

use crate::{
    fixtures::*,
    history::{all_pages, newest_first},
    list::listed,
    prelude::*,
};

pub(crate) async fn before_a_time_hides_only_for_the_deleting_user(s: Arc<dyn Store>) {
    let mut stored = vec![];
    for (i, (from, to)) in [("alice", "bob"), ("bob", "alice")]
        .into_iter()
        .cycle()
        .take(5)
        .enumerate()
    {
        stored.push(s.append(chat(from, "r", to, &i.to_string())).await.unwrap());
    }
    let before = stored[2].timestamp_ms;
    assert!(
        s.remove_messages(
            &uid("alice"),
            &t("bob"),
            Removal::Before(before),
            no_events()
        )
        .await
        .unwrap()
        .value
    );
    let ids = |keep: &dyn Fn(&StoredMessage) -> bool| -> Vec<MessageId> {
        stored
            .iter()
            .rev()
            .filter(|m| keep(m))
            .map(|m| m.id)
            .collect()
    };
    assert_eq!(
        all_pages(&*s, "alice", newest_first(t("bob"), 50)).await,
        ids(&|m| m.timestamp_ms > before),
        "alice no longer sees what came at or before the time"
    );
    assert_eq!(
        all_pages(&*s, "bob", newest_first(t("alice"), 50)).await,
        ids(&|_| true),
        "bob still sees everything"
    );
    assert!(
        !s.remove_messages(
            &uid("alice"),
            &t("zed"),
            Removal::Before(before),
            no_events()
        )
        .await
        .unwrap()
        .value,
        "no such conversation"
    );
}

pub(crate) async fn all_conversations_with_their_history(s: Arc<dyn Store>) {
    s.create_group(new_group("g1", "bob", &["alice"], 10))
        .await
        .unwrap();
    send(&*s, "bob", "b", "alice", "1").await;
    send(&*s, "alice", "a", "carol", "2").await;
    group_send(&*s, "bob", "g1", "3").await;
    let mut gone: Vec<String> = s
        .delete_all_conversations(&uid("alice"), no_events())
        .await
        .unwrap()
        .value
        .iter()
        .map(Target::to_string)
        .collect();
    gone.sort();
    let mut want = vec![
        t("bob").to_string(),
        t("carol").to_string(),
        Target::Group(gid("g1")).to_string(),
    ];
    want.sort();
    assert_eq!(gone, want);
    assert!(listed(&*s, "alice").await.is_empty());
    for target in [t("bob"), t("carol"), Target::Group(gid("g1"))] {
        assert!(
            all_pages(&*s, "alice", newest_first(target.clone(), 10))
                .await
                .is_empty(),
            "history with {target}"
        );
    }
    // The others keep theirs; a new message brings the conversation back, alone.
    assert_eq!(listed(&*s, "carol").await, [("alice".into(), 1)]);
    let m = s.append(chat("bob", "b", "alice", "4")).await.unwrap();
    assert_eq!(listed(&*s, "alice").await, [("bob".into(), 1)]);
    assert_eq!(
        all_pages(&*s, "alice", newest_first(t("bob"), 10)).await,
        [m.id]
    );
}
