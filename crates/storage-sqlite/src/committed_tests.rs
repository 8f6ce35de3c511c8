//! A write and the events it causes commit together (see `roam_domain::store`): the events
//! are stored by the write's own call, in order, and only when the write succeeds.
use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use bytes::Bytes;
use roam_domain::{
    conversation::Target,
    device::Resource,
    group::{GroupId, GroupKind, GroupSettings, NewGroup},
    message::{MessageKind, NewMessage},
    store::{DeliveryStore, Events, GroupStore, RoamingStore, StoreError, UserStore},
    user::{NewUser, Password, UserId, entity_uuid},
};

use super::{Options, SqliteStore};

fn uid(s: &str) -> UserId {
    UserId::parse(s).unwrap()
}

fn res(s: &str) -> Resource {
    Resource::parse(s).unwrap()
}

fn open(dir: &tempfile::TempDir) -> SqliteStore {
    SqliteStore::open(&dir.path().join("t.db"), Options::default()).unwrap()
}

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

fn chat(from: &str, to: &str) -> NewMessage {
    NewMessage {
        from: uid(from),
        from_resource: res("a"),
        to: Target::User(uid(to)),
        kind: MessageKind::Chat,
        payload: Bytes::from_static(b"hi"),
        content_type: "txt".into(),
        activity: true,
        client_id: None,
    }
}

/// The texts of `user`'s own log that their device `resource` is owed.
async fn log_of(s: &SqliteStore, user: &str, resource: &str) -> Vec<String> {
    let d = s.device(&uid(user), &res(resource)).await.unwrap();
    s.owed(&d, &Target::System, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|m| String::from_utf8(m.payload.to_vec()).unwrap())
        .collect()
}

#[tokio::test]
async fn the_events_of_a_write_are_stored_by_it_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    s.device(&uid("alice"), &res("other")).await.unwrap();
    s.append(chat("bob", "alice")).await.unwrap();
    let events: Events<Option<u64>> = Box::new(|at| {
        assert!(at.is_some(), "called with the write's outcome");
        vec![event("alice", "first"), event("alice", "second")]
    });
    let done = s
        .pin(&uid("alice"), &Target::User(uid("bob")), true, 5, events)
        .await
        .unwrap();
    assert!(done.value.is_some());
    let stored: Vec<_> = done.events.iter().map(|m| (m.seq, m.to.clone())).collect();
    assert_eq!(stored, [(1, Target::System), (2, Target::System)]);
    assert!(done.events[0].id < done.events[1].id);
    assert_eq!(log_of(&s, "alice", "other").await, ["first", "second"]);
}

#[tokio::test]
async fn a_failed_write_records_no_events() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    s.device(&uid("alice"), &res("other")).await.unwrap();
    let called = Arc::new(AtomicBool::new(false));
    let flag = called.clone();
    let events: Events<Option<u64>> = Box::new(move |_| {
        flag.store(true, Ordering::SeqCst);
        vec![event("alice", "pinned")]
    });
    // No conversation with bob: the pin fails, and its events function is never called.
    let pinned = s
        .pin(&uid("alice"), &Target::User(uid("bob")), true, 5, events)
        .await;
    assert!(matches!(pinned, Err(StoreError::ConversationNotFound(_))));
    assert!(!called.load(Ordering::SeqCst));
    assert!(log_of(&s, "alice", "other").await.is_empty());
}

#[tokio::test]
async fn deleting_a_user_destroys_their_groups_with_the_events_in_one_write() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    let users = ["alice", "bob", "carol"].map(|u| NewUser {
        id: uid(u),
        uuid: entity_uuid(),
        password: Password::parse("pw").unwrap().hash(),
        nickname: None,
    });
    s.insert_users(users.to_vec()).await.unwrap();
    s.device(&uid("bob"), &res("b")).await.unwrap();
    let group = |id: &str, owner: &str, kind: GroupKind| NewGroup {
        id: GroupId::parse(id).unwrap(),
        kind,
        owner: uid(owner),
        settings: GroupSettings {
            name: id.into(),
            description: String::new(),
            public: true,
            approval: false,
            allow_invites: false,
            max_users: 10,
            custom: String::new(),
        },
        members: vec![uid("bob")],
    };
    s.create_group(group("g1", "alice", GroupKind::Group))
        .await
        .unwrap();
    s.create_group(group("r1", "alice", GroupKind::ChatRoom))
        .await
        .unwrap();
    s.create_group(group("g2", "carol", GroupKind::Group))
        .await
        .unwrap();
    let events: Events<Option<roam_domain::store::RemovedUser>> = Box::new(|removed| {
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
        assert!(
            s.group(&GroupId::parse(g).unwrap())
                .await
                .unwrap()
                .is_none()
        );
    }
    assert!(
        s.group(&GroupId::parse("g2").unwrap())
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        log_of(&s, "bob", "b").await,
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
