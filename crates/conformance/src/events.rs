//! A write and the events it causes commit together (see `roam_domain::store`): the events
//! are stored by the write's own call, in order, and only when the write succeeds.
use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use bytes::Bytes;

use crate::{fixtures::*, prelude::*};

/// An event in `user`'s own log, carrying `text`.
fn event(user: &str, text: &str) -> NewMessage {
    NewMessage {
        from: uid(user),
        from_resource: res("server"),
        to: Target::System,
        kind: MessageKind::ConversationEvent,
        payload: Bytes::from(text.to_owned()),
        content_type: String::new(),
        activity: false,
        client_id: None,
    }
}

/// The texts of `user`'s own log that their device `resource` is owed.
async fn log_of(s: &dyn Store, user: &str, resource: &str) -> Vec<String> {
    let d = s.device(&uid(user), &res(resource)).await.unwrap();
    owed_texts(s, &d, &Target::System).await
}

pub(crate) async fn the_events_of_a_write_are_stored_by_it_in_order(s: Arc<dyn Store>) {
    s.device(&uid("alice"), &res("other")).await.unwrap();
    s.append(chat("bob", "a", "alice", "hi")).await.unwrap();
    let events: Events<Option<u64>> = Box::new(|at| {
        assert!(at.is_some(), "called with the write's outcome");
        vec![event("alice", "first"), event("alice", "second")]
    });
    let done = s
        .pin(&uid("alice"), &t("bob"), true, 5, events)
        .await
        .unwrap();
    assert!(done.value.is_some());
    let stored: Vec<_> = done.events.iter().map(|m| (m.seq, m.to.clone())).collect();
    assert_eq!(stored, [(1, Target::System), (2, Target::System)]);
    assert!(done.events[0].id < done.events[1].id);
    assert_eq!(log_of(&*s, "alice", "other").await, ["first", "second"]);
}

pub(crate) async fn a_failed_write_records_no_events(s: Arc<dyn Store>) {
    s.device(&uid("alice"), &res("other")).await.unwrap();
    let called = Arc::new(AtomicBool::new(false));
    let flag = called.clone();
    let events: Events<Option<u64>> = Box::new(move |_| {
        flag.store(true, Ordering::SeqCst);
        vec![event("alice", "pinned")]
    });
    // No conversation with bob: the pin fails, and its events function is never called.
    let pinned = s.pin(&uid("alice"), &t("bob"), true, 5, events).await;
    assert!(matches!(pinned, Err(StoreError::ConversationNotFound(_))));
    assert!(!called.load(Ordering::SeqCst));
    assert!(log_of(&*s, "alice", "other").await.is_empty());
}

pub(crate) async fn deleting_a_user_destroys_their_groups_with_the_events_in_one_write(
    s: Arc<dyn Store>,
) {
    s.insert_users(vec![new_user("alice"), new_user("bob"), new_user("carol")])
        .await
        .unwrap();
    s.device(&uid("bob"), &res("b")).await.unwrap();
    s.create_group(new_group("g1", "alice", &["bob"], 10))
        .await
        .unwrap();
    s.create_group(NewGroup {
        kind: GroupKind::ChatRoom,
        ..new_group("r1", "alice", &["bob"], 10)
    })
    .await
    .unwrap();
    s.create_group(new_group("g2", "carol", &["bob"], 10))
        .await
        .unwrap();
    let events: Events<Option<RemovedUser>> = Box::new(|removed| {
        let removed = removed.as_ref().expect("alice existed");
        removed
            .groups
            .iter()
            .flat_map(|(g, members)| {
                members
                    .iter()
                    .map(|m| event(m.as_str(), &format!("{} destroyed", g.id)))
            })
            .collect()
    });
    let done = s.delete_user(&uid("alice"), events).await.unwrap();
    let removed = done.value.unwrap();
    assert_eq!(removed.user.id, uid("alice"));
    let destroyed: Vec<_> = removed
        .groups
        .iter()
        .map(|(g, members)| {
            let mut members: Vec<_> = members.iter().map(|m| m.to_string()).collect();
            members.sort();
            (g.id.to_string(), members)
        })
        .collect();
    assert_eq!(
        destroyed,
        [
            (
                "g1".to_string(),
                vec!["alice".to_string(), "bob".to_string()]
            ),
            (
                "r1".to_string(),
                vec!["alice".to_string(), "bob".to_string()]
            ),
        ]
    );
    assert_eq!(done.events.len(), 4);
    assert!(s.user(&uid("alice")).await.unwrap().is_none());
    for g in ["g1", "r1"] {
        assert!(s.group(&gid(g)).await.unwrap().is_none(), "{g}");
    }
    assert!(s.group(&gid("g2")).await.unwrap().is_some());
    assert_eq!(
        log_of(&*s, "bob", "b").await,
        ["g1 destroyed", "r1 destroyed"]
    );
    // A user who is not there: nothing is removed, and the events function hears so.
    let again = s
        .delete_user(
            &uid("alice"),
            Box::new(|removed| {
                assert!(removed.is_none());
                Vec::new()
            }),
        )
        .await
        .unwrap();
    assert!(again.value.is_none() && again.events.is_empty());
}
