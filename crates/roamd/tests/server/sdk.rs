//! The Rust SDK against a real roamd: every operation, errors, and reconnects that lose and
//! duplicate nothing (the connection is cut by a proxy in the middle of message streams).
use std::{net::SocketAddr, sync::Arc, time::Duration};

use roam_sdk::{
    Body, ChatType, Client, ConversationQuery, Direction, Error, Event, Events, HistoryQuery,
    InputError, MultiDeviceOp, Options, Outgoing, Removal,
};
use serde_json::json;
use tokio::{
    net::{TcpListener, TcpStream},
    sync::Mutex,
    task::JoinHandle,
};

use crate::{APP_KEY, BASE, TestApp, client::http, spawn_app, spawn_app_with};

fn options(addr: SocketAddr, user: &str) -> Options {
    Options::password(&format!("http://{addr}"), APP_KEY, user, "pw")
}

async fn open(app: &TestApp, user: &str, resource: &str) -> (Client, Events) {
    Client::open(options(app.addr, user).with_resource(resource))
        .await
        .expect("login")
}

/// The next event that `pick` takes, within 5 s (others are skipped).
async fn next<T>(events: &mut Events, mut pick: impl FnMut(Event) -> Option<T>) -> T {
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let e = events.recv().await.expect("event stream open");
            if let Some(t) = pick(e) {
                return t;
            }
        }
    })
    .await
    .expect("event within 5 s")
}

async fn next_message(events: &mut Events) -> roam_sdk::Message {
    next(events, |e| match e {
        Event::Message(m) => Some(m),
        _ => None,
    })
    .await
}

fn text(m: &roam_sdk::Message) -> &str {
    match &m.body {
        Body::Text(t) => t,
        other => panic!("not a text: {other:?}"),
    }
}

async fn create_group(app: &TestApp, path: &str, owner: &str, members: &[&str]) -> String {
    let (s, b) = http(
        app.addr,
        "POST",
        &format!("{BASE}/{path}"),
        Some(&app.admin_token),
        Some(if path == "chatrooms" {
            json!({"name": "r", "description": "d", "maxusers": 50, "owner": owner, "members": members})
        } else {
            json!({"groupname": "g", "desc": "d", "public": true, "maxusers": 50, "owner": owner, "members": members})
        }),
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{b}");
    b["data"]["groupid"]
        .as_str()
        .or(b["data"]["id"].as_str())
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn login_send_receive_and_acks() {
    let app = spawn_app().await;
    app.users(&["alice", "bob"]).await;
    let wrong = Client::open(Options::password(
        &format!("http://{}", app.addr),
        APP_KEY,
        "alice",
        "nope",
    ))
    .await;
    assert!(
        matches!(wrong, Err(Error::Unauthorized(_))),
        "{:?}",
        wrong.err()
    );

    let (alice, _alice_events) = open(&app, "Alice", "a1").await;
    assert_eq!(alice.user(), "alice");
    let (bob, mut bob_events) = open(&app, "bob", "b1").await;
    // A token works as well as a password.
    let (bob2, mut bob2_events) = Client::open(
        Options::token(&format!("http://{}", app.addr), APP_KEY, "bob", bob.token())
            .with_resource("b2"),
    )
    .await
    .unwrap();

    let sent = alice
        .send(&Outgoing::text(ChatType::Single, "bob", "hi bob").with_ext("k", "v"))
        .await
        .unwrap();
    for events in [&mut bob_events, &mut bob2_events] {
        let m = next_message(events).await;
        assert_eq!(
            (m.id, m.from.as_str(), m.to.as_str(), text(&m)),
            (sent.id, "alice", "bob", "hi bob")
        );
        assert_eq!(
            (m.chat_type, m.ext["k"].as_str()),
            (ChatType::Single, Some("v"))
        );
    }
    // Custom and command bodies arrive typed.
    let mut fields = serde_json::Map::new();
    fields.insert("n".into(), "1".into());
    let custom = Body::Custom {
        event: "gift".into(),
        fields,
    };
    alice
        .send(&Outgoing::new(ChatType::Single, "bob", custom.clone()))
        .await
        .unwrap();
    assert_eq!(next_message(&mut bob_events).await.body, custom);

    // Acks: a read ack reaches alice; a conversation read ack clears bob's unread everywhere.
    let (alice_watch, mut alice_events) = open(&app, "alice", "a2").await;
    bob.send_read_ack("alice", sent.id).await.unwrap();
    let got = next(&mut alice_events, |e| match e {
        Event::ReadAck {
            from, message_id, ..
        } => Some((from, message_id)),
        _ => None,
    })
    .await;
    assert_eq!(got, ("bob".into(), sent.id));
    let list = bob
        .get_server_conversations(&ConversationQuery::default())
        .await
        .unwrap();
    assert_eq!(list.conversations[0].unread, 2);
    bob.send_conversation_read_ack(ChatType::Single, "alice")
        .await
        .unwrap();
    let list = bob2
        .get_server_conversations(&ConversationQuery::default())
        .await
        .unwrap();
    assert_eq!(list.conversations[0].unread, 0);

    // Sending to nobody is refused with the server's reason.
    let e = alice
        .send(&Outgoing::text(ChatType::Single, "nobody", "x"))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::SendRefused { reason, .. } if reason.contains("doesn't exist")),
        "{e:?}"
    );
    let e = alice
        .send(&Outgoing::text(ChatType::Single, "", "x"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Input(InputError::Empty(_))));

    // Closing ends the event stream and later calls fail.
    alice_watch.close().await;
    assert!(
        tokio::time::timeout(Duration::from_secs(5), async {
            while alice_events.recv().await.is_some() {}
        })
        .await
        .is_ok()
    );
    let e = alice_watch
        .send(&Outgoing::text(ChatType::Single, "bob", "x"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Closed));
}

#[tokio::test]
async fn groups_and_chat_rooms() {
    let app = spawn_app().await;
    app.users(&["alice", "bob", "eve"]).await;
    let group = create_group(&app, "chatgroups", "alice", &["bob"]).await;
    let room = create_group(&app, "chatrooms", "alice", &[]).await;
    let (alice, _a) = open(&app, "alice", "a").await;
    let (bob, mut bob_events) = open(&app, "bob", "b").await;
    let (eve, _e) = open(&app, "eve", "e").await;

    let sent = alice
        .send(&Outgoing::text(ChatType::Group, &group, "to all"))
        .await
        .unwrap();
    let m = next_message(&mut bob_events).await;
    assert_eq!(
        (m.id, m.to.as_str(), m.chat_type),
        (sent.id, group.as_str(), ChatType::Group)
    );
    let e = eve
        .send(&Outgoing::text(ChatType::Group, &group, "let me in"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotMember(_)), "{e:?}");
    let e = eve
        .get_history_messages(&HistoryQuery::new(ChatType::Group, &group))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotMember(_)), "{e:?}");

    // A chat room: join, receive, history, leave.
    bob.join_chat_room(&room).await.unwrap();
    alice.join_chat_room(&room).await.unwrap();
    alice
        .send(&Outgoing::text(ChatType::ChatRoom, &room, "room msg"))
        .await
        .unwrap();
    let m = next_message(&mut bob_events).await;
    assert_eq!((m.chat_type, text(&m)), (ChatType::ChatRoom, "room msg"));
    let h = bob
        .get_history_messages(&HistoryQuery::new(ChatType::ChatRoom, &room))
        .await
        .unwrap();
    assert_eq!(
        h.messages.iter().map(text).collect::<Vec<_>>(),
        ["room msg"]
    );
    bob.leave_chat_room(&room).await.unwrap();
    let e = bob
        .send(&Outgoing::text(ChatType::ChatRoom, &room, "gone"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotMember(_)), "{e:?}");
    let e = bob.join_chat_room("999999").await.unwrap_err();
    assert!(matches!(e, Error::SendRefused { .. }), "{e:?}");
}

#[tokio::test]
async fn the_six_roaming_operations_and_marks() {
    let app = spawn_app_with(|c| c.max_pinned = 2).await;
    app.users(&["alice", "bob", "carol", "dave"]).await;
    let (alice, _ae) = open(&app, "alice", "a1").await;
    let (alice2, mut alice2_events) = open(&app, "alice", "a2").await;
    let (bob, _be) = open(&app, "bob", "b").await;
    let (carol, _ce) = open(&app, "carol", "c").await;
    let (dave, _de) = open(&app, "dave", "d").await;
    let mut ids = vec![];
    for i in 0..5 {
        ids.push(
            bob.send(&Outgoing::text(ChatType::Single, "alice", format!("b{i}")))
                .await
                .unwrap()
                .id,
        );
    }
    carol
        .send(&Outgoing::text(ChatType::Single, "alice", "c0"))
        .await
        .unwrap();
    dave.send(&Outgoing::text(ChatType::Single, "alice", "d0"))
        .await
        .unwrap();

    // The list, a page of 2 at a time.
    let mut q = ConversationQuery {
        page_size: 2,
        ..Default::default()
    };
    let mut seen = vec![];
    loop {
        let page = alice.get_server_conversations(&q).await.unwrap();
        seen.extend(page.conversations.iter().map(|c| (c.id.clone(), c.unread)));
        match page.cursor {
            Some(c) => q.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(
        seen,
        [("dave".into(), 1), ("carol".into(), 1), ("bob".into(), 5)]
    );
    let first = alice
        .get_server_conversations(&ConversationQuery::default())
        .await
        .unwrap();
    assert_eq!(
        text(first.conversations[0].last_message.as_ref().unwrap()),
        "d0"
    );
    assert!(matches!(
        alice
            .get_server_conversations(&ConversationQuery {
                page_size: 51,
                ..Default::default()
            })
            .await,
        Err(Error::Input(InputError::PageSize(51)))
    ));

    // Pins: the other device hears of it; the limit (2 here) and unknown conversations.
    let pin = alice
        .pin_conversation("bob", ChatType::Single, true)
        .await
        .unwrap();
    assert!(pin.pinned && pin.time > 0);
    let ev = next(&mut alice2_events, |e| match e {
        Event::MultiDevice(m) => Some(m),
        _ => None,
    })
    .await;
    assert_eq!(
        (ev.op, ev.conversation.as_str(), ev.resource.as_str()),
        (MultiDeviceOp::Pinned, "bob", "a1")
    );
    alice
        .pin_conversation("carol", ChatType::Single, true)
        .await
        .unwrap();
    let e = alice
        .pin_conversation("dave", ChatType::Single, true)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::PinLimit(_)), "{e:?}");
    let e = alice
        .pin_conversation("nobody", ChatType::Single, true)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::ConversationNotFound), "{e:?}");
    let pinned = alice2
        .get_server_pinned_conversations(&ConversationQuery::default())
        .await
        .unwrap();
    assert_eq!(
        pinned
            .conversations
            .iter()
            .map(|c| c.id.as_str())
            .collect::<Vec<_>>(),
        ["carol", "bob"]
    );
    assert!(
        !alice
            .pin_conversation("carol", ChatType::Single, false)
            .await
            .unwrap()
            .pinned
    );

    // Marks.
    let ignored = alice
        .add_conversation_mark(
            &[("dave", ChatType::Single), ("nobody", ChatType::Single)],
            3,
        )
        .await
        .unwrap();
    assert_eq!(ignored, ["nobody"]);
    let marked = alice2
        .get_server_conversations_by_mark(3, &ConversationQuery::default())
        .await
        .unwrap();
    assert_eq!(
        marked
            .conversations
            .iter()
            .map(|c| (c.id.as_str(), c.marks.clone()))
            .collect::<Vec<_>>(),
        [("dave", vec![3])]
    );
    alice
        .remove_conversation_mark(&[("dave", ChatType::Single)], 3)
        .await
        .unwrap();
    assert!(
        alice
            .get_server_conversations_by_mark(3, &ConversationQuery::default())
            .await
            .unwrap()
            .conversations
            .is_empty()
    );
    assert!(matches!(
        alice
            .add_conversation_mark(&[("dave", ChatType::Single)], 20)
            .await,
        Err(Error::Input(InputError::Mark(20)))
    ));

    // History, both ways, paged from a message id.
    let up = alice
        .get_history_messages(&HistoryQuery::new(ChatType::Single, "bob").page_size(3))
        .await
        .unwrap();
    assert_eq!(
        up.messages.iter().map(text).collect::<Vec<_>>(),
        ["b4", "b3", "b2"]
    );
    assert!(!up.is_last);
    let rest = alice
        .get_history_messages(
            &HistoryQuery::new(ChatType::Single, "bob")
                .page_size(3)
                .after(up.cursor.unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(
        (
            rest.messages.iter().map(text).collect::<Vec<_>>(),
            rest.is_last
        ),
        (vec!["b1", "b0"], true)
    );
    let down = alice
        .get_history_messages(
            &HistoryQuery::new(ChatType::Single, "bob")
                .direction(Direction::Down)
                .page_size(5),
        )
        .await
        .unwrap();
    assert_eq!(down.messages.iter().map(|m| m.id).collect::<Vec<_>>(), ids);

    // One-way deletes: by ids (the other device hears of it), then before a time.
    alice
        .remove_history_messages("bob", ChatType::Single, &Removal::Ids(vec![ids[4]]))
        .await
        .unwrap();
    let ev = next(&mut alice2_events, |e| match e {
        Event::MultiDevice(m) if m.op == MultiDeviceOp::MessagesDeleted => Some(m),
        _ => None,
    })
    .await;
    assert_eq!(ev.conversation, "bob");
    let list = alice
        .get_server_conversations(&ConversationQuery::default())
        .await
        .unwrap();
    let bob_conv = list.conversations.iter().find(|c| c.id == "bob").unwrap();
    assert_eq!(
        (
            bob_conv.unread,
            text(bob_conv.last_message.as_ref().unwrap())
        ),
        (4, "b3")
    );
    let b2 = down.messages[2].time;
    alice
        .remove_history_messages("bob", ChatType::Single, &Removal::Before(b2))
        .await
        .unwrap();
    let h = alice
        .get_history_messages(&HistoryQuery::new(ChatType::Single, "bob"))
        .await
        .unwrap();
    assert!(h.messages.iter().all(|m| m.time > b2 && m.id != ids[4]));
    let h = bob
        .get_history_messages(&HistoryQuery::new(ChatType::Single, "alice"))
        .await
        .unwrap();
    assert_eq!(h.messages.len(), 5, "the peer keeps everything");
    assert!(matches!(
        alice
            .remove_history_messages("bob", ChatType::Single, &Removal::Ids((0..51).collect()))
            .await,
        Err(Error::Input(InputError::MessageIds(51)))
    ));

    // Delete a conversation with its history; a new message brings it back alone.
    alice
        .delete_conversation("bob", ChatType::Single, true)
        .await
        .unwrap();
    let ev = next(&mut alice2_events, |e| match e {
        Event::MultiDevice(m) if m.op == MultiDeviceOp::Deleted => Some(m),
        _ => None,
    })
    .await;
    assert_eq!(ev.conversation, "bob");
    let list = alice
        .get_server_conversations(&ConversationQuery::default())
        .await
        .unwrap();
    assert!(list.conversations.iter().all(|c| c.id != "bob"));
    assert!(matches!(
        alice
            .delete_conversation("nobody", ChatType::Single, false)
            .await,
        Err(Error::ConversationNotFound)
    ));
    bob.send(&Outgoing::text(ChatType::Single, "alice", "again"))
        .await
        .unwrap();
    let h = alice
        .get_history_messages(&HistoryQuery::new(ChatType::Single, "bob"))
        .await
        .unwrap();
    assert_eq!(h.messages.iter().map(text).collect::<Vec<_>>(), ["again"]);

    // A REST-only client manages the same conversations without being a device: its
    // changes reach every device of the user; it cannot send.
    let rest_only = Client::open_rest(options(app.addr, "alice")).await.unwrap();
    assert_eq!(
        rest_only
            .get_server_conversations(&ConversationQuery::default())
            .await
            .unwrap()
            .conversations[0]
            .id,
        "bob"
    );
    rest_only
        .pin_conversation("dave", ChatType::Single, true)
        .await
        .unwrap();
    let ev = next(&mut alice2_events, |e| match e {
        Event::MultiDevice(m) if m.op == MultiDeviceOp::Pinned => Some(m),
        _ => None,
    })
    .await;
    assert_eq!(ev.conversation, "dave");
    let e = rest_only
        .send(&Outgoing::text(ChatType::Single, "bob", "x"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotConnected), "{e:?}");

    // Everything at once.
    alice.delete_all_messages_and_conversations().await.unwrap();
    assert!(
        alice2
            .get_server_conversations(&ConversationQuery::default())
            .await
            .unwrap()
            .conversations
            .is_empty()
    );

    // Another user's token cannot read alice's list.
    let (s, _) = http(
        app.addr,
        "GET",
        &format!("{BASE}/sdk/user/alice/user_channels/list"),
        Some(bob.token()),
        None,
    )
    .await
    .unwrap();
    assert_eq!(s, 403);
}

/// A TCP proxy in front of roamd whose connections can be cut at will.
struct Proxy {
    addr: SocketAddr,
    conns: Arc<Mutex<Vec<JoinHandle<()>>>>,
    _accept: JoinHandle<()>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let conns: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let c = conns.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let task = tokio::spawn(async move {
                    if let Ok(mut out) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
                c.lock().await.push(task);
            }
        });
        Proxy {
            addr,
            conns,
            _accept: accept,
        }
    }

    /// Drops every open connection (both ends see it closed).
    async fn cut(&self) {
        for t in self.conns.lock().await.drain(..) {
            t.abort();
        }
    }
}

#[tokio::test]
async fn a_reconnect_in_the_middle_of_message_streams_loses_and_duplicates_nothing() {
    let app = spawn_app().await;
    app.users(&["alice", "bob"]).await;
    let proxy = Proxy::start(app.addr).await;
    // alice goes through the proxy (REST and WebSocket), bob directly.
    let mut o = Options::password(&format!("http://{}", proxy.addr), APP_KEY, "alice", "pw")
        .with_resource("flaky");
    o.reconnect.initial = Duration::from_millis(50);
    let (alice, mut alice_events) = Client::open(o).await.unwrap();
    let (bob, mut bob_events) = open(&app, "bob", "b").await;

    const N: usize = 150;
    // bob sends a stream to alice; alice sends a stream to bob; the proxy cuts alice's
    // connection three times meanwhile.
    let bob_sends = tokio::spawn({
        let bob = bob.clone();
        async move {
            for i in 0..N {
                bob.send(&Outgoing::text(
                    ChatType::Single,
                    "alice",
                    format!("to-alice {i}"),
                ))
                .await
                .unwrap();
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
    });
    let alice_sends = tokio::spawn({
        let alice = alice.clone();
        async move {
            let mut ids = vec![];
            for i in 0..N {
                let sent = alice
                    .send(&Outgoing::text(
                        ChatType::Single,
                        "bob",
                        format!("to-bob {i}"),
                    ))
                    .await
                    .expect("a send survives a reconnect");
                ids.push(sent.id);
            }
            ids
        }
    });
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(120)).await;
        proxy.cut().await;
    }
    bob_sends.await.unwrap();
    let alice_ids = alice_sends.await.unwrap();

    // alice got bob's N messages once each, in order, with the disconnects reported.
    let mut got = vec![];
    let mut drops = 0;
    tokio::time::timeout(Duration::from_secs(20), async {
        while got.len() < N {
            match alice_events.recv().await.unwrap() {
                Event::Message(m) => got.push(text(&m).to_owned()),
                Event::Disconnected { will_retry, .. } => {
                    assert!(will_retry);
                    drops += 1;
                }
                _ => {}
            }
        }
    })
    .await
    .expect("every message arrives");
    let want: Vec<String> = (0..N).map(|i| format!("to-alice {i}")).collect();
    assert_eq!(got, want);
    assert!(drops >= 1, "the connection was cut");
    // Nothing more comes (no duplicates delivered late).
    let late = tokio::time::timeout(Duration::from_millis(500), async {
        loop {
            if let Event::Message(m) = alice_events.recv().await.unwrap() {
                return m;
            }
        }
    })
    .await;
    assert!(late.is_err(), "a duplicate arrived: {late:?}");

    // bob got alice's N messages once each, in order; the server stored each once.
    let mut got = vec![];
    tokio::time::timeout(Duration::from_secs(20), async {
        while got.len() < N {
            if let Event::Message(m) = bob_events.recv().await.unwrap() {
                got.push((m.id, text(&m).to_owned()));
            }
        }
    })
    .await
    .expect("every message of alice arrives");
    let want: Vec<(u64, String)> = alice_ids
        .iter()
        .enumerate()
        .map(|(i, id)| (*id, format!("to-bob {i}")))
        .collect();
    assert_eq!(got, want);
    let mut stored = 0;
    let mut q = HistoryQuery::new(ChatType::Single, "alice")
        .page_size(50)
        .direction(Direction::Down);
    loop {
        let page = bob.get_history_messages(&q).await.unwrap();
        stored += page.messages.iter().filter(|m| m.from == "alice").count();
        match (page.is_last, page.cursor) {
            (false, Some(c)) => q = q.after(c),
            _ => break,
        }
    }
    assert_eq!(stored, N, "each of alice's messages is stored once");
}

#[tokio::test]
async fn a_password_change_logs_the_client_out_for_good() {
    let app = spawn_app().await;
    app.users(&["alice"]).await;
    let (alice, mut events) = open(&app, "alice", "a").await;
    let (s, b) = http(
        app.addr,
        "PUT",
        &format!("{BASE}/users/alice/password"),
        Some(&app.admin_token),
        Some(json!({"newpassword": "new"})),
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{b}");
    let reason = next(&mut events, |e| match e {
        Event::Disconnected { reason, will_retry } => Some((reason, will_retry)),
        _ => None,
    })
    .await;
    assert_eq!(reason, ("the password was changed".into(), false));
    // The stream ends and the client is done.
    assert!(
        tokio::time::timeout(Duration::from_secs(5), events.recv())
            .await
            .unwrap()
            .is_none()
    );
    let e = alice
        .send(&Outgoing::text(ChatType::Single, "alice", "x"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Closed), "{e:?}");
}
