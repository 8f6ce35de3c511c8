//! msync: login, sending, live and offline delivery, multi-device, bad input.
use futures::SinkExt;
use roam_protocol::pb::{MessageBody, message_body};
use tokio_tungstenite::tungstenite::Message;

use crate::{APP_KEY, client::Device, client::text_body, spawn_app, spawn_app_with};

#[tokio::test]
async fn login_errors_use_the_sdk_statuses() {
    let app = spawn_app().await;
    app.users(&["alice", "bob"]).await;
    let (mut d, status) = Device::login(app.addr, APP_KEY, "alice", "bogus", "r")
        .await
        .unwrap();
    assert_eq!(
        status,
        (
            1,
            Some("Sorry, token or password does not match login info".into())
        )
    );
    assert!(d.closed().await);
    // bob's token does not log in alice.
    let bob = app.token("bob").await;
    let (_, status) = Device::login(app.addr, APP_KEY, "alice", &bob, "r")
        .await
        .unwrap();
    assert_eq!(status.0, 1);
    // The fourth device of a user (limit 3 in tests) is refused with TOO_MANY_DEVICES.
    let _d1 = app.device("alice", "r1").await;
    let _d2 = app.device("alice", "r2").await;
    let _d3 = app.device("alice", "r3").await;
    let token = app.token("alice").await;
    let (_, status) = Device::login(app.addr, APP_KEY, "alice", &token, "r4")
        .await
        .unwrap();
    assert_eq!(status.0, 13);
    // Case-insensitive login: ALICE is alice.
    let (_, status) = Device::login(app.addr, APP_KEY, "ALICE", &token, "r1")
        .await
        .unwrap();
    assert_eq!(status.0, 0);
}

#[tokio::test]
async fn live_delivery_reaches_the_peer_and_the_senders_other_devices() {
    let app = spawn_app().await;
    app.users(&["alice", "bob"]).await;
    let mut a1 = app.device("alice", "a1").await;
    let mut a2 = app.device("alice", "a2").await;
    let mut bob = app.device("bob", "b1").await;
    let id = a1.send_text("BOB", "hi bob").await.unwrap();

    assert_eq!(bob.notice().await.unwrap(), "alice");
    let got = bob.pull("alice").await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(
        (
            got[0].id,
            got[0].from.as_str(),
            got[0].to.as_str(),
            got[0].text()
        ),
        (id, "alice", "bob", Some("hi bob"))
    );
    assert_eq!(got[0].from_resource.as_deref(), Some("a1"));

    assert_eq!(a2.notice().await.unwrap(), "bob");
    let mine = a2.pull("bob").await.unwrap();
    assert_eq!(mine.iter().map(|m| m.id).collect::<Vec<_>>(), vec![id]);
    // The sending device is owed nothing: its own message is not echoed back.
    assert!(a1.pull("bob").await.unwrap().is_empty());

    let reply = bob.send_text("alice", "hi alice").await.unwrap();
    for d in [&mut a1, &mut a2] {
        let got = d.pull("bob").await.unwrap();
        assert_eq!(got.iter().map(|m| m.id).collect::<Vec<_>>(), vec![reply]);
    }
}

#[tokio::test]
async fn offline_messages_arrive_in_order_once_even_across_restarts() {
    let mut app = spawn_app().await;
    app.users(&["alice", "bob"]).await;
    let mut alice = app.device("alice", "a").await;
    let mut ids = Vec::new();
    for i in 0..120 {
        ids.push(alice.send_text("bob", &format!("m{i}")).await.unwrap());
    }
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "server ids are time-ordered"
    );
    drop(alice);
    app.restart().await;

    let mut bob = app.device("bob", "b").await;
    assert_eq!(bob.unread().await.unwrap(), vec![("alice".to_owned(), 120)]);
    let got = bob.pull("alice").await.unwrap();
    assert_eq!(got.iter().map(|m| m.id).collect::<Vec<_>>(), ids);
    assert_eq!(got[119].text(), Some("m119"));
    // Once: the same device and a brand-new device of bob's find nothing more.
    assert!(bob.sync_all().await.unwrap().is_empty());
    let mut bob2 = app.device("bob", "b2").await;
    assert!(bob2.sync_all().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_device_offline_while_another_read_still_gets_everything() {
    let app = spawn_app().await;
    app.users(&["alice", "bob"]).await;
    // bob's tablet exists, then goes offline.
    drop(app.device("bob", "tablet").await);
    let mut alice = app.device("alice", "a").await;
    let id = alice.send_text("bob", "while you were away").await.unwrap();
    let mut phone = app.device("bob", "phone").await;
    assert_eq!(
        phone
            .sync_all()
            .await
            .unwrap()
            .iter()
            .map(|m| m.id)
            .collect::<Vec<_>>(),
        vec![id]
    );
    let mut tablet = app.device("bob", "tablet").await;
    assert_eq!(
        tablet
            .sync_all()
            .await
            .unwrap()
            .iter()
            .map(|m| m.id)
            .collect::<Vec<_>>(),
        vec![id]
    );
    // alice's new device gets neither her old message nor anything else.
    let mut laptop = app.device("alice", "laptop").await;
    assert!(laptop.sync_all().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_sender_is_who_logged_in() {
    let app = spawn_app().await;
    app.users(&["alice", "bob", "mallory"]).await;
    let mut m = app.device("mallory", "m").await;
    m.send_body("bob", text_body("alice", "bob", "it's me, alice"))
        .await
        .unwrap()
        .unwrap();
    let mut bob = app.device("bob", "b").await;
    let got = bob.sync_all().await.unwrap();
    assert_eq!(got[0].from, "mallory");
    assert_eq!(
        got[0].body.from.as_ref().and_then(|j| j.name.as_deref()),
        Some("mallory")
    );
}

#[tokio::test]
async fn acks_are_relayed_but_bad_sends_are_refused() {
    let app = spawn_app().await;
    app.users(&["alice", "bob"]).await;
    let mut alice = app.device("alice", "a").await;
    let id = alice.send_text("bob", "x").await.unwrap();
    let mut bob = app.device("bob", "b").await;
    bob.sync_all().await.unwrap();
    let ack = |t: message_body::Type| MessageBody {
        r#type: Some(t as i32),
        ack_message_id: Some(id),
        contents: vec![Default::default()],
        ..Default::default()
    };
    bob.send_body("alice", ack(message_body::Type::ChannelAck))
        .await
        .unwrap()
        .unwrap();
    bob.send_body("alice", ack(message_body::Type::ReadAck))
        .await
        .unwrap()
        .unwrap();
    let got = alice.pull("bob").await.unwrap();
    let kinds: Vec<_> = got.iter().map(|m| m.body.r#type).collect();
    assert_eq!(kinds, vec![Some(7), Some(4)]);
    assert_eq!(got[1].body.ack_message_id, Some(id));

    // Unknown recipient, text over 5 KB, group before groups exist.
    let e = alice
        .send_body("nobody", text_body("alice", "nobody", "x"))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(e, (1, Some("username nobody doesn't exist!".into())));
    let big = "x".repeat(5 * 1024 + 1);
    let e = alice
        .send_body("bob", text_body("alice", "bob", &big))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(e, (7, Some("Sorry, data is too large".into())));
    // The connection is still usable and nothing was stored for the refused sends.
    alice.send_text("bob", "still here").await.unwrap();
    let got = bob.pull("alice").await.unwrap();
    assert_eq!(
        got.iter().map(|m| m.text()).collect::<Vec<_>>(),
        vec![Some("still here")]
    );
}

#[tokio::test]
async fn garbage_and_oversized_frames_close_only_that_connection() {
    let app = spawn_app().await;
    app.users(&["alice", "bob"]).await;
    let mut bob = app.device("bob", "b").await;

    let mut a = app.device("alice", "a1").await;
    a.ws.send(Message::Binary(vec![0xff, 0xff, 0xff, 0x01].into()))
        .await
        .unwrap();
    assert!(a.closed().await);

    let mut a = app.device("alice", "a2").await;
    a.ws.send(Message::Binary(vec![0u8; 65 * 1024].into()))
        .await
        .ok();
    assert!(a.closed().await);

    let mut a = app.device("alice", "a3").await;
    a.ws.send(Message::Text("hello".into())).await.unwrap();
    assert!(a.closed().await);

    // The server is fine and bob still chats.
    let mut a = app.device("alice", "a4").await;
    let id = a.send_text("bob", "ok").await.unwrap();
    assert_eq!(bob.pull("alice").await.unwrap()[0].id, id);
}

#[tokio::test]
async fn silent_and_never_logged_in_connections_are_closed() {
    let app = spawn_app_with(|c| {
        c.login_timeout_secs = 1;
        c.idle_timeout_secs = 3;
    })
    .await;
    app.users(&["alice"]).await;
    // Opens a socket and never logs in.
    let (mut lurker, _) = tokio_tungstenite::connect_async(format!("ws://{}/websocket", app.addr))
        .await
        .unwrap();
    let closed = tokio::time::timeout(std::time::Duration::from_secs(4), async {
        use futures::StreamExt;
        while let Some(Ok(m)) = lurker.next().await {
            if m.is_close() {
                break;
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "a connection that never logged in stays open"
    );

    // A logged-in device that keeps talking (the SDK's heartbeat) stays; one that goes
    // silent (reads nothing, so answers no ping) is closed.
    let mut alive = app.device("alice", "alive").await;
    let quiet = app.device("alice", "quiet").await;
    for _ in 0..5 {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        assert_eq!(
            alive.unread().await.unwrap(),
            vec![],
            "a device that talks is kept"
        );
    }
    let mut quiet = quiet;
    assert!(quiet.closed().await, "a silent device is closed");
}
