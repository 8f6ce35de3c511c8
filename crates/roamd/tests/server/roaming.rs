//! Message roaming over real sockets: the operator's knobs and group read acks.
use prost::Message as _;
use roam_protocol::pb::{MessageBody, message_body};
use serde_json::{Value, json};

use crate::{BASE, TestApp, client::http, spawn_app, spawn_app_with};

/// `user`'s whole conversation list as (target, unread, lastMessage id).
async fn list(app: &TestApp, user: &str) -> Vec<(String, u64, Option<String>)> {
    let token = app.token(user).await;
    let (s, b) = http(
        app.addr,
        "GET",
        &format!("{BASE}/sdk/user/{user}/user_channels/list?limit=50"),
        Some(&token),
        None,
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{b}");
    b["data"]["channel_infos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["session_to"].as_str().unwrap().to_owned(),
                c["unread_num"].as_u64().unwrap(),
                c["meta"]["id"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

fn targets(l: &[(String, u64, Option<String>)]) -> Vec<&str> {
    l.iter().map(|c| c.0.as_str()).collect()
}

async fn rest_send(app: &TestApp, from: &str, to: &str, text: &str) -> String {
    let (s, b) = http(
        app.addr,
        "POST",
        &format!("{BASE}/messages/users"),
        Some(&app.admin_token),
        Some(json!({"from": from, "to": [to], "type": "txt", "body": {"msg": text}})),
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{b}");
    b["data"][to].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn conversation_limit_evicts_the_least_active_but_never_a_pinned_one() {
    let app = spawn_app_with(|c| c.conversation_limit = 3).await;
    app.users(&["alice", "b1", "b2", "b3", "b4", "b5"]).await;
    let mut alice = app.device("alice", "a").await;
    for peer in ["b1", "b2", "b3"] {
        alice.send_text(peer, "hi").await.unwrap();
    }
    assert_eq!(targets(&list(&app, "alice").await), ["b3", "b2", "b1"]);
    // b1 is the least active; pinned, it stays and b2 goes instead.
    let token = app.token("alice").await;
    let (s, b) = http(
        app.addr,
        "POST",
        &format!("{BASE}/sdk/user/alice/user_channel/top"),
        Some(&token),
        Some(json!({"to": "b1", "type": "chat"})),
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{b}");
    alice.send_text("b4", "hi").await.unwrap();
    assert_eq!(targets(&list(&app, "alice").await), ["b4", "b3", "b1"]);
    // The evicted conversation keeps its history and comes back with the next message.
    let mut b2 = app.device("b2", "x").await;
    b2.send_text("alice", "back").await.unwrap();
    let l = list(&app, "alice").await;
    assert_eq!(targets(&l), ["b2", "b4", "b1"]);
    assert_eq!(l[0].1, 1, "only the new message is unread");
    // The peer's own list is not touched by alice's limit.
    assert_eq!(targets(&list(&app, "b2").await), ["alice"]);
    // A limit of 0 (the default) evicts nothing.
    let app = spawn_app().await;
    app.users(&["alice", "b1", "b2", "b3", "b4", "b5"]).await;
    let mut alice = app.device("alice", "a").await;
    for peer in ["b1", "b2", "b3", "b4", "b5"] {
        alice.send_text(peer, "hi").await.unwrap();
    }
    assert_eq!(list(&app, "alice").await.len(), 5);
}

#[tokio::test]
async fn rest_messages_update_conversations_only_when_configured() {
    let app = spawn_app().await;
    app.users(&["alice", "bob"]).await;
    let mut alice = app.device("alice", "a").await;
    let id = alice.send_text("bob", "from the app").await.unwrap();
    rest_send(&app, "alice", "bob", "from the admin").await;
    let l = list(&app, "bob").await;
    assert_eq!(l, vec![("alice".into(), 1, Some(id.to_string()))]);

    let app = spawn_app_with(|c| c.rest_messages_update_conversations = true).await;
    app.users(&["alice", "bob"]).await;
    let mut alice = app.device("alice", "a").await;
    alice.send_text("bob", "from the app").await.unwrap();
    let rest_id = rest_send(&app, "alice", "bob", "from the admin").await;
    let l = list(&app, "bob").await;
    assert_eq!(l, vec![("alice".into(), 2, Some(rest_id))]);
}

fn channel_ack(group: &str, user: &str) -> MessageBody {
    let mut body = crate::client::text_body(user, group, "");
    body.r#type = Some(message_body::Type::ChannelAck as i32);
    body.contents = vec![Default::default()];
    body
}

#[tokio::test]
async fn a_group_read_ack_clears_the_readers_unread_and_reaches_only_their_devices() {
    let app = spawn_app().await;
    app.users(&["alice", "bob", "carol"]).await;
    let (s, b) = http(
        app.addr,
        "POST",
        &format!("{BASE}/chatgroups"),
        Some(&app.admin_token),
        Some(json!({"groupname": "g", "desc": "d", "public": true, "maxusers": 20, "owner": "alice", "members": ["bob", "carol"]})),
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{b}");
    let g = b["data"]["groupid"].as_str().unwrap().to_owned();
    let mut alice = app.device("alice", "a").await;
    alice.send_group_text(&g, "one").await.unwrap().unwrap();
    alice.send_group_text(&g, "two").await.unwrap().unwrap();
    let unread = |l: Vec<(String, u64, Option<String>)>| -> Value {
        json!(l.into_iter().map(|c| c.1).collect::<Vec<_>>())
    };
    assert_eq!(unread(list(&app, "bob").await), json!([2]));

    let mut bob1 = app.device("bob", "b1").await;
    let mut bob2 = app.device("bob", "b2").await;
    let mut carol = app.device("carol", "c").await;
    assert_eq!(bob1.pull_group(&g).await.unwrap().len(), 2);
    assert_eq!(carol.pull_group(&g).await.unwrap().len(), 2);
    let to = roam_protocol::jid::conference(APP, &g);
    bob1.send_meta(
        to,
        roam_protocol::pb::meta::NameSpace::Chat,
        channel_ack(&g, "bob").encode_to_vec(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(unread(list(&app, "bob").await), json!([0]));
    assert_eq!(unread(list(&app, "carol").await), json!([2]));
    // bob's other device hears of it (in his own queue); carol's group queue has nothing new.
    let got = bob2.sync_all().await.unwrap();
    let acks: Vec<_> = got
        .iter()
        .filter(|m| m.body.r#type == Some(message_body::Type::ChannelAck as i32))
        .collect();
    assert_eq!(acks.len(), 1, "{got:?}");
    assert_eq!(acks[0].to.as_str(), g);
    assert!(carol.pull_group(&g).await.unwrap().is_empty());
    // A new message is unread again, for bob only.
    alice.send_group_text(&g, "three").await.unwrap().unwrap();
    assert_eq!(unread(list(&app, "bob").await), json!([1]));
}

const APP: &str = crate::APP_KEY;
