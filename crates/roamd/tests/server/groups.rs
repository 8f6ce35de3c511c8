//! Groups and chat rooms: REST management, messaging over msync and REST, events.
use std::sync::Arc;

use prost::Message as _;
use roam_protocol::{
    jid,
    pb::{MucBody, meta::NameSpace, muc_body::Operation},
};
use serde_json::json;

use crate::{BASE, TestApp, client::http, spawn_app};

async fn create_group(app: &TestApp, token: &str, owner: Option<&str>, members: &[&str]) -> String {
    let mut body =
        json!({"groupname": "g", "desc": "d", "public": true, "maxusers": 200, "members": members});
    if let Some(o) = owner {
        body["owner"] = json!(o);
    }
    let (s, b) = http(
        app.addr,
        "POST",
        &format!("{BASE}/chatgroups"),
        Some(token),
        Some(body),
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{b}");
    b["data"]["groupid"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn group_chat_reaches_members_online_and_offline_once() {
    let app = spawn_app().await;
    app.users(&["alice", "bob", "carol", "eve"]).await;
    let g = create_group(&app, &app.admin_token, Some("alice"), &["bob", "carol"]).await;

    let mut alice = app.device("alice", "a").await;
    let mut bob = app.device("bob", "b").await;
    let id = alice
        .send_group_text(&g, "hello group")
        .await
        .unwrap()
        .unwrap()
        .0;
    assert_eq!(bob.notice().await.unwrap(), g);
    let got = bob.pull_group(&g).await.unwrap();
    assert_eq!(
        (
            got.len(),
            got[0].id,
            got[0].from.as_str(),
            got[0].to.as_str()
        ),
        (1, id, "alice", g.as_str())
    );
    assert_eq!(got[0].text(), Some("hello group"));
    // The SDK reports `to` from the body: it must be the bare group id.
    assert_eq!(
        got[0].body.to.as_ref().and_then(|j| j.name.as_deref()),
        Some(g.as_str())
    );
    assert!(
        alice.pull_group(&g).await.unwrap().is_empty(),
        "not echoed to the sender"
    );
    let reply = bob.send_group_text(&g, "hi all").await.unwrap().unwrap().0;

    // carol was offline: she gets both, in order, once.
    let mut carol = app.device("carol", "c").await;
    let got = carol.sync_all().await.unwrap();
    assert_eq!(
        got.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![id, reply]
    );
    assert!(carol.sync_all().await.unwrap().is_empty());

    // A non-member is refused with the SDK's reason; an unknown group too.
    let mut eve = app.device("eve", "e").await;
    assert_eq!(
        eve.send_group_text(&g, "let me in")
            .await
            .unwrap()
            .unwrap_err(),
        (1, Some("not in group or chatroom".into()))
    );
    assert_eq!(
        eve.send_group_text("999", "x").await.unwrap().unwrap_err(),
        (1, Some("group not found".into()))
    );
}

#[tokio::test]
async fn membership_changes_are_events_and_removed_members_are_refused() {
    let app = spawn_app().await;
    app.users(&["alice", "bob", "carol"]).await;
    let alice_token = app.token("alice").await;
    let g = create_group(&app, &alice_token, None, &["bob"]).await;
    let mut bob = app.device("bob", "b").await;
    let mut carol = app.device("carol", "c").await;

    // alice adds carol: bob sees carol's presence; carol is told she was added.
    let (s, b) = http(
        app.addr,
        "POST",
        &format!("{BASE}/chatgroups/{g}/users/carol"),
        Some(&alice_token),
        None,
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{b}");
    let got = bob.sync_all().await.unwrap();
    let muc = got.iter().find_map(|m| m.muc.clone()).expect("a MUC event");
    assert_eq!(muc.operation, Some(Operation::Presence as i32));
    assert_eq!(muc.from.and_then(|j| j.name).as_deref(), Some("carol"));
    let got = carol.sync_all().await.unwrap();
    let ops: Vec<_> = got
        .iter()
        .filter_map(|m| m.muc.as_ref().and_then(|b| b.operation))
        .collect();
    assert!(ops.contains(&(Operation::DirectJoined as i32)), "{ops:?}");

    // Members list, owner first.
    let (s, b) = http(
        app.addr,
        "GET",
        &format!("{BASE}/chatgroups/{g}/users?pagenum=1&pagesize=10"),
        Some(&alice_token),
        None,
    )
    .await
    .unwrap();
    assert_eq!(s, 200);
    assert_eq!(
        b["data"],
        json!([{"owner": "alice", "joined_time": b["data"][0]["joined_time"]}, {"member": "bob", "joined_time": b["data"][1]["joined_time"]}, {"member": "carol", "joined_time": b["data"][2]["joined_time"]}])
    );

    // bob cannot remove anyone; alice removes bob, who is told (KICK) and then refused.
    let bob_token = app.token("bob").await;
    let (s, _) = http(
        app.addr,
        "DELETE",
        &format!("{BASE}/chatgroups/{g}/users/carol"),
        Some(&bob_token),
        None,
    )
    .await
    .unwrap();
    assert_eq!(s, 403);
    let (s, b) = http(
        app.addr,
        "DELETE",
        &format!("{BASE}/chatgroups/{g}/users/bob"),
        Some(&alice_token),
        None,
    )
    .await
    .unwrap();
    assert_eq!((s, b["data"]["result"].as_bool()), (200, Some(true)), "{b}");
    let got = bob.sync_all().await.unwrap();
    let kick = got
        .iter()
        .filter_map(|m| m.muc.clone())
        .find(|m| m.operation == Some(Operation::Kick as i32))
        .expect("a KICK");
    assert_eq!(kick.to[0].name.as_deref(), Some("bob"));
    assert_eq!(
        kick.muc_id.and_then(|j| j.name).as_deref(),
        Some(g.as_str())
    );
    assert_eq!(
        bob.send_group_text(&g, "still here?")
            .await
            .unwrap()
            .unwrap_err()
            .1
            .as_deref(),
        Some("not in group or chatroom")
    );

    // Joined groups; the owner cannot leave; destroy tells every member.
    let (s, b) = http(
        app.addr,
        "GET",
        &format!("{BASE}/users/carol/joined_chatgroups?pagenum=1&pagesize=20"),
        Some(&app.admin_token),
        None,
    )
    .await
    .unwrap();
    assert_eq!((s, b["data"][0]["id"].as_str()), (200, Some(g.as_str())));
    assert!(b["uri"].as_str().unwrap().contains("joined_chatgroups"));
    let (s, _) = http(
        app.addr,
        "DELETE",
        &format!("{BASE}/chatgroups/{g}/quit"),
        Some(&alice_token),
        None,
    )
    .await
    .unwrap();
    assert_eq!(s, 403);
    let mut carol = app.device("carol", "c").await;
    carol.sync_all().await.unwrap();
    let (s, _) = http(
        app.addr,
        "DELETE",
        &format!("{BASE}/chatgroups/{g}"),
        Some(&alice_token),
        None,
    )
    .await
    .unwrap();
    assert_eq!(s, 200);
    let got = carol.sync_all().await.unwrap();
    assert!(
        got.iter()
            .any(|m| m.muc.as_ref().and_then(|b| b.operation) == Some(Operation::Destroy as i32))
    );
    let (s, b) = http(
        app.addr,
        "GET",
        &format!("{BASE}/chatgroups/{g}"),
        Some(&app.admin_token),
        None,
    )
    .await
    .unwrap();
    assert_eq!(s, 404, "{b}");
}

#[tokio::test]
async fn chat_room_join_message_leave() {
    let app = spawn_app().await;
    app.users(&["alice", "bob"]).await;
    let (s, b) = http(
        app.addr,
        "POST",
        &format!("{BASE}/chatrooms"),
        Some(&app.admin_token),
        Some(json!({"name": "room", "description": "r", "maxusers": 100, "owner": "alice"})),
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{b}");
    let room = b["data"]["id"].as_str().unwrap().to_owned();

    let mut alice = app.device("alice", "a").await;
    let mut bob = app.device("bob", "b").await;
    let muc = |op: Operation| MucBody {
        muc_id: Some(jid::conference("test-org#test-app", &room)),
        operation: Some(op as i32),
        is_chatroom: Some(true),
        ..Default::default()
    };
    let to = jid::user("test-org#test-app", "", None);
    bob.send_meta(
        to.clone(),
        NameSpace::Muc,
        muc(Operation::Join).encode_to_vec(),
    )
    .await
    .unwrap()
    .unwrap();
    let id = alice
        .send_group_text(&room, "welcome")
        .await
        .unwrap()
        .unwrap()
        .0;
    let got = bob.sync_all().await.unwrap();
    assert!(
        got.iter()
            .any(|m| m.id == id && m.text() == Some("welcome"))
    );
    bob.send_meta(
        to.clone(),
        NameSpace::Muc,
        muc(Operation::Leave).encode_to_vec(),
    )
    .await
    .unwrap()
    .unwrap();
    alice
        .send_group_text(&room, "after you left")
        .await
        .unwrap()
        .unwrap();
    assert!(
        bob.sync_all()
            .await
            .unwrap()
            .iter()
            .all(|m| m.text() != Some("after you left"))
    );
    assert_eq!(
        bob.send_group_text(&room, "x")
            .await
            .unwrap()
            .unwrap_err()
            .1
            .as_deref(),
        Some("not in group or chatroom")
    );

    // Joining a room that does not exist gets the reason the SDK maps to CHATROOM_NOT_EXIST.
    let mut missing = muc(Operation::Join);
    missing.muc_id = Some(jid::conference("test-org#test-app", "424242"));
    let e = bob
        .send_meta(to, NameSpace::Muc, missing.encode_to_vec())
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(e.1.as_deref(), Some("grpID 424242 does not exist!"));
}

#[tokio::test]
async fn admin_sends_over_rest_to_users_and_groups() {
    let app = spawn_app().await;
    app.users(&["alice", "bob"]).await;
    let g = create_group(&app, &app.admin_token, Some("alice"), &["bob"]).await;
    let (s, b) = http(app.addr, "POST", &format!("{BASE}/messages/users"), Some(&app.admin_token), Some(json!({"from": "alice", "to": ["bob", "nobody"], "type": "txt", "body": {"msg": "from rest"}, "ext": {"k": "v"}}))).await.unwrap();
    assert_eq!(s, 200, "{b}");
    let id: u64 = b["data"]["bob"].as_str().unwrap().parse().unwrap();
    assert!(
        b["data"]["nobody"]
            .as_str()
            .unwrap()
            .contains("doesn't exist")
    );
    let (s, b) = http(
        app.addr,
        "POST",
        &format!("{BASE}/messages/chatgroups"),
        Some(&app.admin_token),
        Some(json!({"from": "alice", "to": [g], "type": "txt", "body": {"msg": "to the group"}})),
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{b}");
    let mut bob = app.device("bob", "b").await;
    let got = bob.sync_all().await.unwrap();
    assert!(got.iter().any(|m| m.id == id
        && m.text() == Some("from rest")
        && m.body.ext[0].key.as_deref() == Some("k")));
    assert!(
        got.iter()
            .any(|m| m.text() == Some("to the group") && m.to == g)
    );
    // Users may not send over REST; bad bodies get a 400.
    let bob_token = app.token("bob").await;
    let (s, _) = http(
        app.addr,
        "POST",
        &format!("{BASE}/messages/users"),
        Some(&bob_token),
        Some(json!({"to": ["alice"], "type": "txt", "body": {"msg": "x"}})),
    )
    .await
    .unwrap();
    assert_eq!(s, 403);
    let (s, _) = http(
        app.addr,
        "POST",
        &format!("{BASE}/messages/users"),
        Some(&app.admin_token),
        Some(json!({"to": ["alice"], "type": "txt", "body": {}})),
    )
    .await
    .unwrap();
    assert_eq!(s, 400);
}

/// One message to a 2,000-member group: a bounded number of rows, and a notice to every
/// online member's session (sessions registered straight in the hub: no sockets needed).
#[tokio::test]
async fn a_group_message_costs_one_row_and_reaches_every_online_member() {
    use roam_domain::{
        auth::AdminCredential,
        conversation::Target,
        device::Resource,
        group::{GroupId, GroupKind, GroupSettings, NewGroup},
        message::{MessageKind, NewMessage},
        service::{Policy, Roam},
        store::Store,
        user::UserId,
    };
    use roam_gateway::{Hub, hub::Push};
    use roam_storage_sqlite::{Options, SqliteStore};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roam.db");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path, Options::default()).unwrap());
    let hub = Hub::new("o#a");
    let roam = Roam::new(
        store.clone(),
        hub.clone(),
        AdminCredential::generate().0,
        Policy::default(),
    );
    let members: Vec<UserId> = (0..2000)
        .map(|i| UserId::parse(&format!("m{i}")).unwrap())
        .collect();
    let gid = GroupId::parse("big").unwrap();
    store
        .create_group(NewGroup {
            id: gid.clone(),
            kind: GroupKind::Group,
            owner: members[0].clone(),
            settings: GroupSettings {
                name: "big".into(),
                description: String::new(),
                public: false,
                approval: false,
                allow_invites: false,
                max_users: 3000,
                custom: String::new(),
            },
            members: members[1..].to_vec(),
        })
        .await
        .unwrap();
    let res = Resource::parse("r").unwrap();
    let mut sessions: Vec<_> = members
        .iter()
        .map(|m| hub.register(m, &res, 10).unwrap())
        .collect();
    let rows = || rusqlite_count(&path);
    let before = rows();
    roam.send(NewMessage {
        from: members[0].clone(),
        from_resource: Resource::parse("sender").unwrap(),
        to: Target::Group(gid.clone()),
        kind: MessageKind::Chat,
        payload: bytes::Bytes::from_static(b"hi"),
        content_type: "txt".into(),
        activity: false,
        client_id: None,
    })
    .await
    .unwrap();
    assert_eq!(rows() - before, 1, "one stored row for 2,000 members");
    for s in &mut sessions {
        assert_eq!(
            s.mailbox.take(),
            Some(Push::Notices(vec![Target::Group(gid.clone())]))
        );
    }
}

/// Rows in every table that grows with traffic or membership.
fn rusqlite_count(path: &std::path::Path) -> i64 {
    let c = rusqlite::Connection::open(path).unwrap();
    c.query_row(
        "SELECT (SELECT COUNT(*) FROM messages) + (SELECT COUNT(*) FROM conversations) \
         + (SELECT COUNT(*) FROM user_conversations) + (SELECT COUNT(*) FROM device_cursors) \
         + (SELECT COUNT(*) FROM group_members)",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

#[tokio::test]
async fn deleting_a_user_destroys_the_groups_they_own_and_tells_the_members() {
    let app = spawn_app().await;
    app.users(&["alice", "bob"]).await;
    let owned = create_group(&app, &app.admin_token, Some("alice"), &["bob"]).await;
    let joined = create_group(&app, &app.admin_token, Some("bob"), &["alice"]).await;
    let mut bob = app.device("bob", "b").await;
    bob.sync_all().await.unwrap();
    let (s, b) = http(
        app.addr,
        "DELETE",
        &format!("{BASE}/users/alice"),
        Some(&app.admin_token),
        None,
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{b}");
    let got = bob.sync_all().await.unwrap();
    let destroyed: Vec<_> = got
        .iter()
        .filter(|m| m.muc.as_ref().and_then(|b| b.operation) == Some(Operation::Destroy as i32))
        .filter_map(|m| m.muc.as_ref()?.muc_id.as_ref()?.name.clone())
        .collect();
    assert_eq!(destroyed, std::slice::from_ref(&owned));
    let status = |g: String| {
        let app = &app;
        async move {
            http(
                app.addr,
                "GET",
                &format!("{BASE}/chatgroups/{g}"),
                Some(&app.admin_token),
                None,
            )
            .await
            .unwrap()
            .0
        }
    };
    assert_eq!(
        status(owned).await,
        404,
        "the owned group went with its owner"
    );
    assert_eq!(status(joined).await, 200, "a group alice was only in stays");
}
