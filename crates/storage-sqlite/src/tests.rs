//! The engine's behaviour through the `Store` trait. Written against `&dyn Store` so that the
//! same checks can run against every engine.
use bytes::Bytes;
use roam_domain::{
    auth::{Principal, Token, TokenRecord},
    conversation::Target,
    device::{Device, Resource},
    group::{GroupId, GroupKind, GroupSettings, NewGroup},
    message::{MessageKind, NewMessage},
    store::{
        DeliveryStore, GroupStore, PendingQueue, RoamingStore, Store, StoreError, UserStore,
        no_events,
    },
    user::{NewUser, Password, UserId, entity_uuid},
};

use super::{Options, SqliteStore};

fn uid(s: &str) -> UserId {
    UserId::parse(s).unwrap()
}

/// The single chat with user `s`.
fn t(s: &str) -> Target {
    Target::User(uid(s))
}

fn res(s: &str) -> Resource {
    Resource::parse(s).unwrap()
}

fn open(dir: &tempfile::TempDir) -> SqliteStore {
    SqliteStore::open(&dir.path().join("t.db"), Options::default()).unwrap()
}

fn new_user(id: &str) -> NewUser {
    NewUser {
        id: uid(id),
        uuid: entity_uuid(),
        password: Password::parse("pw").unwrap().hash(),
        nickname: None,
    }
}

fn chat(from: &str, from_res: &str, to: &str, text: &str) -> NewMessage {
    NewMessage {
        from: uid(from),
        from_resource: res(from_res),
        to: t(to),
        kind: MessageKind::Chat,
        payload: Bytes::from(text.to_owned()),
        content_type: "txt".into(),
        activity: true,
        client_id: None,
    }
}

async fn send(s: &dyn Store, from: &str, from_res: &str, to: &str, text: &str) -> u64 {
    s.append(chat(from, from_res, to, text)).await.unwrap().seq
}

async fn texts(s: &dyn Store, d: &Device, peer: &str) -> Vec<String> {
    s.owed(d, &t(peer), 100)
        .await
        .unwrap()
        .into_iter()
        .map(|m| String::from_utf8(m.payload.to_vec()).unwrap())
        .collect()
}

#[tokio::test]
async fn users_insert_all_or_none() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    s.insert_users(vec![new_user("alice")]).await.unwrap();
    let err = s
        .insert_users(vec![new_user("bob"), new_user("alice")])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::DuplicateUser(u) if u == uid("alice")));
    assert!(s.user(&uid("bob")).await.unwrap().is_none());
}

#[tokio::test]
async fn tokens_and_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    s.insert_users(vec![new_user("alice")]).await.unwrap();
    let t = Token::generate();
    let rec = TokenRecord {
        hash: t.hash(),
        principal: Principal::User(uid("alice")),
        expires_ms: u64::MAX >> 2,
    };
    s.insert_token(rec.clone()).await.unwrap();
    assert_eq!(s.token(&t.hash()).await.unwrap(), Some(rec));
    let new_hash = Password::parse("pw2").unwrap().hash();
    assert!(s.set_password(&uid("alice"), new_hash).await.unwrap());
    assert_eq!(
        s.token(&t.hash()).await.unwrap(),
        None,
        "tokens are void after a password change"
    );
    assert!(
        !s.set_password(&uid("nobody"), Password::parse("x").unwrap().hash())
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn sequences_are_per_conversation_without_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    assert_eq!(send(&s, "alice", "a", "bob", "1").await, 1);
    assert_eq!(send(&s, "bob", "b", "alice", "2").await, 2);
    assert_eq!(send(&s, "alice", "a", "carol", "x").await, 1);
    assert_eq!(send(&s, "alice", "a", "bob", "3").await, 3);
}

#[tokio::test]
async fn devices_are_owed_what_they_have_not_acked_but_never_their_own_sends() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    let a1 = s.device(&uid("alice"), &res("a1")).await.unwrap();
    let a2 = s.device(&uid("alice"), &res("a2")).await.unwrap();
    send(&s, "alice", "a1", "bob", "from a1").await;
    send(&s, "bob", "b", "alice", "from bob").await;
    assert_eq!(texts(&s, &a1, "bob").await, vec!["from bob"]);
    assert_eq!(texts(&s, &a2, "bob").await, vec!["from a1", "from bob"]);
    assert_eq!(
        s.pending(&a2).await.unwrap(),
        vec![PendingQueue {
            target: t("bob"),
            count: 2
        }]
    );
    // a2 acks the first; then only the second is owed; acking past the end is clamped.
    s.ack(&a2, &t("bob"), 1).await.unwrap();
    assert_eq!(texts(&s, &a2, "bob").await, vec!["from bob"]);
    s.ack(&a2, &t("bob"), 99).await.unwrap();
    assert!(texts(&s, &a2, "bob").await.is_empty());
    assert!(s.pending(&a2).await.unwrap().is_empty());
    send(&s, "bob", "b", "alice", "later").await;
    assert_eq!(
        texts(&s, &a2, "bob").await,
        vec!["later"],
        "a clamped ack hides nothing new"
    );
    // a1 still has its own backlog, unaffected by a2.
    assert_eq!(texts(&s, &a1, "bob").await, vec!["from bob", "later"]);
}

#[tokio::test]
async fn a_new_device_gets_only_what_no_device_took() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    send(&s, "alice", "a", "bob", "1").await;
    send(&s, "alice", "a", "bob", "2").await;
    // bob has never logged in: his first device gets both.
    let b1 = s.device(&uid("bob"), &res("b1")).await.unwrap();
    assert_eq!(texts(&s, &b1, "alice").await, vec!["1", "2"]);
    s.ack(&b1, &t("alice"), 2).await.unwrap();
    // A device registered afterwards is not owed what b1 took, but is owed what comes next.
    let b2 = s.device(&uid("bob"), &res("b2")).await.unwrap();
    assert!(texts(&s, &b2, "alice").await.is_empty());
    send(&s, "alice", "a", "bob", "3").await;
    assert_eq!(texts(&s, &b2, "alice").await, vec!["3"]);
    // Registration is remembered: the same resource is the same device.
    let again = s.device(&uid("bob"), &res("b2")).await.unwrap();
    assert_eq!(again.registered, b2.registered);
}

#[tokio::test]
async fn data_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let ids: Vec<u64> = {
        let s = open(&dir);
        let mut ids = Vec::new();
        for i in 0..10 {
            let m = s
                .append(chat("alice", "a", "bob", &format!("{i}")))
                .await
                .unwrap();
            ids.push(m.id.0);
        }
        ids
    };
    let s = open(&dir);
    let b = s.device(&uid("bob"), &res("b")).await.unwrap();
    let owed: Vec<u64> = s
        .owed(&b, &t("alice"), 100)
        .await
        .unwrap()
        .iter()
        .map(|m| m.id.0)
        .collect();
    assert_eq!(owed, ids);
    // New ids continue above the stored ones.
    let next = send(&s, "alice", "a", "bob", "after").await;
    assert_eq!(next, 11);
    let last = s.owed(&b, &t("alice"), 100).await.unwrap().pop().unwrap();
    assert!(last.id.0 > *ids.last().unwrap());
}

#[tokio::test]
async fn concurrent_appends_share_commits_and_keep_order() {
    let dir = tempfile::tempdir().unwrap();
    let s = std::sync::Arc::new(open(&dir));
    let mut tasks = Vec::new();
    for i in 0..200 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.append(chat("alice", "a", "bob", &format!("{i}")))
                .await
                .unwrap()
        }));
    }
    let mut stored = Vec::new();
    for t in tasks {
        stored.push(t.await.unwrap());
    }
    stored.sort_by_key(|m| m.seq);
    assert_eq!(
        stored.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=200).collect::<Vec<_>>()
    );
    assert!(
        stored.windows(2).all(|w| w[0].id < w[1].id),
        "ids follow the sequence"
    );
}

#[tokio::test]
async fn a_user_registered_again_does_not_inherit_old_messages() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    s.insert_users(vec![new_user("alice"), new_user("bob")])
        .await
        .unwrap();
    send(&s, "alice", "a", "bob", "to the first bob").await;
    s.delete_user(&uid("bob"), no_events()).await.unwrap();
    s.insert_users(vec![new_user("bob")]).await.unwrap();
    let b = s.device(&uid("bob"), &res("b")).await.unwrap();
    assert!(s.pending(&b).await.unwrap().is_empty());
    send(&s, "alice", "a", "bob", "to the new bob").await;
    assert_eq!(texts(&s, &b, "alice").await, vec!["to the new bob"]);
}

fn new_group(id: &str, owner: &str, members: &[&str], max_users: u32) -> NewGroup {
    NewGroup {
        id: GroupId::parse(id).unwrap(),
        kind: GroupKind::Group,
        owner: uid(owner),
        settings: GroupSettings {
            name: id.into(),
            description: String::new(),
            public: true,
            approval: false,
            allow_invites: false,
            max_users,
            custom: String::new(),
        },
        members: members.iter().map(|m| uid(m)).collect(),
    }
}

async fn group_send(s: &dyn Store, from: &str, group: &str, text: &str) -> u64 {
    s.append(NewMessage {
        from: uid(from),
        from_resource: res("d"),
        to: Target::Group(GroupId::parse(group).unwrap()),
        kind: MessageKind::Chat,
        payload: Bytes::from(text.to_owned()),
        content_type: "txt".into(),
        activity: true,
        client_id: None,
    })
    .await
    .unwrap()
    .seq
}

#[tokio::test]
async fn group_members_get_messages_from_their_joining_on() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    let g = GroupId::parse("g1").unwrap();
    let gt = Target::Group(g.clone());
    let created = s
        .create_group(new_group("g1", "alice", &["bob", "bob", "alice"], 3))
        .await
        .unwrap();
    assert_eq!((created.member_count, created.owner.as_str()), (2, "alice"));
    let bob = s.device(&uid("bob"), &res("b")).await.unwrap();
    let carol = s.device(&uid("carol"), &res("c")).await.unwrap();
    group_send(&s, "alice", "g1", "before carol").await;
    assert_eq!(
        s.add_members(&g, vec![uid("carol"), uid("bob")], no_events())
            .await
            .unwrap()
            .value,
        vec![uid("carol")]
    );
    group_send(&s, "bob", "g1", "after carol").await;
    let texts_of = |d| {
        let s = &s;
        let gt = gt.clone();
        async move {
            s.owed(d, &gt, 100)
                .await
                .unwrap()
                .into_iter()
                .map(|m| String::from_utf8(m.payload.to_vec()).unwrap())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(texts_of(&carol).await, vec!["after carol"]);
    // bob's own send came from another of his devices ("d"), so device "b" is owed it too.
    assert_eq!(texts_of(&bob).await, vec!["before carol", "after carol"]);
    // Full: nobody is added.
    assert!(matches!(
        s.add_members(&g, vec![uid("dave")], no_events()).await,
        Err(StoreError::GroupFull(_))
    ));
    // Removed members are owed nothing more; the group lists its members owner first.
    assert_eq!(
        s.remove_members(&g, vec![uid("carol"), uid("zed")], no_events())
            .await
            .unwrap()
            .value,
        vec![uid("carol")]
    );
    group_send(&s, "alice", "g1", "after removal").await;
    assert!(texts_of(&carol).await.is_empty());
    let members = s.members(&g, 0, 10).await.unwrap();
    assert_eq!(
        members.iter().map(|m| m.user.as_str()).collect::<Vec<_>>(),
        vec!["alice", "bob"]
    );
    assert_eq!(
        s.groups_of(&uid("bob"), GroupKind::Group)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        s.delete_group(&g, no_events())
            .await
            .unwrap()
            .value
            .is_some()
    );
    assert!(s.group(&g).await.unwrap().is_none());
    assert!(s.pending(&bob).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_group_message_is_one_row_whatever_the_group_size() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    let members: Vec<String> = (0..2000).map(|i| format!("u{i}")).collect();
    let refs: Vec<&str> = members.iter().map(String::as_str).collect();
    s.create_group(new_group("big", "owner", &refs, 5000))
        .await
        .unwrap();
    let changes = |s: &SqliteStore| {
        let c = rusqlite::Connection::open(&s.path).unwrap();
        c.query_row("SELECT (SELECT COUNT(*) FROM messages) + (SELECT COUNT(*) FROM user_conversations) + (SELECT COUNT(*) FROM conversations) + (SELECT COUNT(*) FROM device_cursors)", [], |r| r.get::<_, i64>(0)).unwrap()
    };
    let before = changes(&s);
    group_send(&s, "owner", "big", "hello everyone").await;
    let after = changes(&s);
    assert_eq!(after - before, 1, "one message row, nothing per member");
    let d = s.device(&uid("u1999"), &res("x")).await.unwrap();
    assert_eq!(
        s.pending(&d).await.unwrap(),
        vec![PendingQueue {
            target: Target::Group(GroupId::parse("big").unwrap()),
            count: 1
        }]
    );
}

#[tokio::test]
async fn a_send_repeated_under_the_same_client_id_is_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
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
    assert_eq!(texts(&s, &d, "alice").await, ["hello", "hello", "hello"]);
}

/// The list's SQL (roaming.rs, schema_v4.sql) writes "the first id of a ms" with these.
#[test]
fn the_id_layout_the_list_sql_assumes() {
    use roam_domain::id::MessageId;
    assert_eq!(
        (MessageId::EPOCH_MS, MessageId::TIME_SHIFT),
        (1_577_836_800_000, 22)
    );
}

#[tokio::test]
async fn the_list_order_survives_the_upgrade_that_indexes_it() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    for (from, to) in [
        ("bob", "alice"),
        ("carol", "alice"),
        ("alice", "dave"),
        ("bob", "alice"),
    ] {
        send(&s, from, "r", to, "x").await;
    }
    let m = s.append(chat("erin", "r", "alice", "gone")).await.unwrap();
    s.remove_messages(
        &uid("alice"),
        &t("erin"),
        roam_domain::roaming::Removal::Ids(vec![m.id]),
        no_events(),
    )
    .await
    .unwrap();
    let query = roam_domain::roaming::ListQuery {
        filter: roam_domain::roaming::ListFilter::All {
            include_empty: true,
        },
        limit: roam_domain::roaming::PageSize::parse(50).unwrap(),
        after: None,
    };
    let before = s.conversations(&uid("alice"), &query).await.unwrap();
    let path = s.path.clone();
    drop(s);
    // Back to schema version 3, then open: the upgrade computes every list position again.
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute_batch(
        "DROP INDEX user_conversations_list; DROP INDEX user_conversations_pinned; \
         ALTER TABLE user_conversations DROP COLUMN sort_key; \
         ALTER TABLE user_conversations DROP COLUMN vis_id; \
         ALTER TABLE conversations DROP COLUMN last_chat_id; PRAGMA user_version = 3;",
    )
    .unwrap();
    drop(c);
    let s = open(&dir);
    let after = s.conversations(&uid("alice"), &query).await.unwrap();
    assert_eq!(after, before);
    assert_eq!(after.items.len(), 4);
}

mod roaming {
    use super::*;
    use roam_domain::roaming::{Direction, HistoryQuery, ListFilter, ListQuery, PageSize, Removal};

    fn all(limit: i64) -> ListQuery {
        ListQuery {
            filter: ListFilter::All {
                include_empty: false,
            },
            limit: PageSize::parse(limit).unwrap(),
            after: None,
        }
    }

    async fn listed(s: &dyn Store, user: &str) -> Vec<(String, u64)> {
        s.conversations(&uid(user), &all(50))
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|c| (c.target.to_string(), c.unread))
            .collect()
    }

    #[tokio::test]
    async fn the_list_is_newest_first_with_arithmetic_unread() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(&dir);
        send(&s, "bob", "b", "alice", "1").await;
        send(&s, "carol", "c", "alice", "2").await;
        send(&s, "bob", "b", "alice", "3").await;
        send(&s, "alice", "a", "bob", "mine").await;
        assert_eq!(
            listed(&s, "alice").await,
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
            listed(&s, "alice").await,
            [("bob".into(), 0), ("carol".into(), 1)]
        );
        let m = s.append(chat("bob", "b", "alice", "4")).await.unwrap();
        assert_eq!(listed(&s, "alice").await[0], ("bob".into(), 1));
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
            .history(
                &uid("alice"),
                &HistoryQuery {
                    target: t("bob"),
                    from: None,
                    direction: Direction::NewestFirst,
                    limit: PageSize::parse(10).unwrap(),
                    content_types: vec![],
                    start_ms: None,
                    end_ms: None,
                    sender: None,
                },
            )
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
        assert_eq!(listed(&s, "alice").await, [("carol".into(), 1)]);
        send(&s, "bob", "b", "alice", "5").await;
        assert_eq!(
            listed(&s, "alice").await,
            [("bob".into(), 1), ("carol".into(), 1)]
        );
        // Bob's side is untouched.
        assert_eq!(listed(&s, "bob").await, [("alice".into(), 1)]);
    }

    #[tokio::test]
    async fn pins_are_limited_and_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(&dir);
        for peer in ["p1", "p2", "p3"] {
            send(&s, peer, "x", "alice", "hi").await;
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
}
