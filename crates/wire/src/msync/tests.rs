use bytes::Bytes;
use prost::Message as _;
use roam_domain::{
    device::Device,
    group::{GroupEvent, GroupKind, GroupOp},
    limits::TooLong,
    roaming::{ConversationEvent, ConversationOp, Mark},
};
use roam_protocol::pb::{
    CommSyncDl, MessageBody, MucBody, StatisticsBody, message_body, muc_body::Operation,
};
use serde_json::json;

use super::*;

const APP: &str = "org#app";

fn user(name: &str) -> UserId {
    UserId::parse(name).unwrap()
}

fn group(id: &str) -> GroupId {
    GroupId::parse(id).unwrap()
}

fn resource(name: &str) -> Resource {
    Resource::parse(name).unwrap()
}

fn stored(from: &str, to: Target, kind: MessageKind, payload: Vec<u8>) -> StoredMessage {
    StoredMessage {
        id: MessageId(77),
        seq: 1,
        from: user(from),
        from_resource: resource("web_1"),
        to,
        kind,
        timestamp_ms: 1_700_000_000_000,
        payload: Bytes::from(payload),
        activity: false,
    }
}

#[test]
fn queues_and_targets_round_trip() {
    let me = user("alice");
    for target in [
        Target::User(user("bob")),
        Target::User(user("alice")),
        Target::Group(group("123")),
        Target::System,
    ] {
        let queue = target_jid(APP, &me, &target);
        assert_eq!(target_of(&queue, &me), Some(target));
    }
    // Someone else's event log is just that user.
    let theirs = target_jid(APP, &user("bob"), &Target::System);
    assert_eq!(target_of(&theirs, &me), Some(Target::User(user("bob"))));
    assert_eq!(target_of(&jid::user(APP, "a b", None), &me), None);
    assert_eq!(target_of(&Jid::default(), &me), None);
}

#[test]
fn chat_messages_are_chat_metas_with_the_stored_body() {
    let m = stored(
        "alice",
        Target::Group(group("9")),
        MessageKind::Chat,
        b"body".to_vec(),
    );
    let meta = meta_of(APP, &user("bob"), &m);
    assert_eq!(meta, message_meta(APP, &m));
    assert_eq!(meta.id, Some(77));
    assert_eq!(meta.ns, Some(NameSpace::Chat as i32));
    assert_eq!(meta.from, Some(jid::user(APP, "alice", Some("web_1"))));
    assert_eq!(meta.to, Some(jid::conference(APP, "9")));
    assert_eq!(meta.timestamp, Some(1_700_000_000_000));
    assert_eq!(meta.payload.as_deref(), Some(&b"body"[..]));
}

fn muc(meta: &Meta) -> MucBody {
    assert_eq!(meta.ns, Some(NameSpace::Muc as i32));
    MucBody::decode(meta.payload.clone().unwrap()).unwrap()
}

#[test]
fn group_events_are_muc_metas() {
    let event = |op, users: &[&str]| GroupEvent {
        op,
        group: group("123"),
        kind: GroupKind::ChatRoom,
        actor: user("alice"),
        users: users.iter().map(|u| user(u)).collect(),
    };
    let me = user("bob");
    let in_group = |e: GroupEvent| {
        let m = stored(
            "alice",
            Target::Group(group("123")),
            MessageKind::GroupEvent,
            e.encode(),
        );
        meta_of(APP, &me, &m)
    };
    let meta = in_group(event(GroupOp::MembersAdded, &["carol"]));
    assert_eq!(meta.from, Some(jid::conference(APP, "123")));
    assert_eq!(meta.to, Some(jid::user(APP, "bob", None)));
    let body = muc(&meta);
    assert_eq!(body.operation, Some(Operation::Presence as i32));
    assert_eq!(body.from, Some(jid::user(APP, "carol", None)));
    assert_eq!(body.is_chatroom, Some(true));

    let body = muc(&in_group(event(GroupOp::MemberLeft, &["carol", "dave"])));
    assert_eq!(body.operation, Some(Operation::Absence as i32));
    assert_eq!(body.from, Some(jid::user(APP, "alice", None)));
    assert_eq!(body.members, ["carol", "dave"]);

    // In the user's own log: the user was added or removed by the actor.
    let own = stored(
        "bob",
        Target::System,
        MessageKind::GroupEvent,
        event(GroupOp::MembersRemoved, &["bob"]).encode(),
    );
    let body = muc(&meta_of(APP, &me, &own));
    assert_eq!(body.operation, Some(Operation::Kick as i32));
    assert_eq!(body.to, [jid::user(APP, "bob", None)]);

    // The text form older servers stored reads the same.
    let old = stored(
        "bob",
        Target::System,
        MessageKind::GroupEvent,
        b"added group 5 alice bob".to_vec(),
    );
    let body = muc(&meta_of(APP, &me, &old));
    assert_eq!(body.operation, Some(Operation::DirectJoined as i32));
    assert_eq!(body.is_chatroom, Some(false));
}

#[test]
fn undecodable_events_are_skipped_not_fatal() {
    let me = user("bob");
    let bad = stored(
        "bob",
        Target::System,
        MessageKind::GroupEvent,
        b"bogus".to_vec(),
    );
    let meta = meta_of(APP, &me, &bad);
    assert_eq!(
        (meta.id, meta.ns),
        (Some(77), Some(NameSpace::Statistic as i32))
    );
    let bad = stored(
        "bob",
        Target::System,
        MessageKind::ConversationEvent,
        b"bogus".to_vec(),
    );
    let meta = meta_of(APP, &me, &bad);
    assert_eq!(meta.ns, Some(NameSpace::Notify as i32));
    assert_eq!(meta.payload.as_deref(), Some(&b"{}"[..]));
}

#[test]
fn conversation_events_are_notify_metas() {
    let event = ConversationEvent {
        op: ConversationOp::Pinned,
        target: Target::User(user("carol")),
    };
    for payload in [event.encode(), event.to_string().into_bytes()] {
        let m = stored(
            "bob",
            Target::System,
            MessageKind::ConversationEvent,
            payload,
        );
        let meta = meta_of(APP, &user("bob"), &m);
        assert_eq!(meta.ns, Some(NameSpace::Notify as i32));
        assert_eq!(meta.from, Some(jid::user(APP, "bob", None)));
        assert_eq!(meta.to, meta.from);
        let v: serde_json::Value = serde_json::from_slice(&meta.payload.unwrap()).unwrap();
        assert_eq!(v["data"]["op"], "top");
        assert_eq!(v["data"]["res"], "web_1");
    }
}

fn render(op: ConversationOp, target: Target) -> serde_json::Value {
    let event = ConversationEvent { op, target };
    let bytes = notify_payload(
        &event,
        &user("alice"),
        &resource("web_1"),
        1_700_000_000_000,
    );
    assert!(bytes.iter().all(|b| *b >= 0x10), "no control bytes");
    serde_json::from_slice(&bytes).unwrap()
}

#[test]
fn pins_render_as_the_sdk_reads_them() {
    let v = render(ConversationOp::Pinned, Target::User(user("bob")));
    assert_eq!(
        v,
        json!({"type":"conv","data":{"op":"top","id":"bob","type":"chat","ts":1_700_000_000_000u64,"res":"web_1","from":"alice"}})
    );
}

#[test]
fn marks_carry_the_mark_and_groups_are_groupchat() {
    let v = render(
        ConversationOp::Unmarked(Mark::parse("mark_2").unwrap()),
        Target::Group(group("123")),
    );
    assert_eq!(v["data"]["op"], "mark_delete");
    assert_eq!(v["data"]["ext"], "mark_2");
    assert_eq!(v["data"]["type"], "groupchat");
}

#[test]
fn message_deletes_are_roaming_delete() {
    let v = render(ConversationOp::MessagesDeleted, Target::User(user("bob")));
    assert_eq!(
        v,
        json!({"type":"roaming_delete","data":{"to":"bob","chatType":"chat","resource":"web_1"}})
    );
}

#[test]
fn the_kick_carries_an_id_no_message_has_at_its_time() {
    let now = 2_300_000_000_000; // 2042: past where the id layout without its epoch overflows
    let frame = kick_frame(APP, &user("bob"), KickReason::UserRemoved, now);
    let (_, payload) = frames::decode_server(&frame).unwrap();
    let dl = CommSyncDl::decode(payload).unwrap();
    let meta = &dl.metas[0];
    let id = MessageId(meta.id.unwrap());
    assert_eq!(id, MessageId::unused_at(now));
    assert_eq!(id.timestamp_ms(), now);
    assert_eq!(meta.to, Some(jid::user(APP, "bob", None)));
    let body = StatisticsBody::decode(meta.payload.clone().unwrap()).unwrap();
    assert!(body.operation.is_some());
}

fn device() -> Device {
    Device {
        user: user("alice"),
        resource: resource("web_1"),
        registered: MessageId(0),
    }
}

fn client_meta(ty: message_body::Type, to: Jid, text: &str) -> Meta {
    let body = MessageBody {
        r#type: Some(ty as i32),
        from: Some(jid::user(APP, "mallory", None)),
        contents: vec![message_body::Content {
            r#type: Some(message_body::content::Type::Text as i32),
            text: Some(text.to_owned()),
            ..Default::default()
        }],
        ..Default::default()
    };
    Meta {
        id: Some(5),
        to: Some(to),
        ns: Some(NameSpace::Chat as i32),
        payload: Some(Bytes::from(body.encode_to_vec())),
        ..Default::default()
    }
}

#[test]
fn client_messages_become_new_messages_from_who_logged_in() {
    let meta = client_meta(message_body::Type::Chat, jid::user(APP, "Bob", None), "hi");
    let m = new_message(&device(), &meta).unwrap();
    assert_eq!(
        (m.from, m.to.clone()),
        (user("alice"), Target::User(user("bob")))
    );
    assert_eq!(
        (m.kind, m.content_type.as_str()),
        (MessageKind::Chat, "txt")
    );
    assert_eq!((m.client_id, m.activity), (Some(5), false));
    let body = MessageBody::decode(m.payload).unwrap();
    assert_eq!(body.from.and_then(|j| j.name).as_deref(), Some("alice"));
    assert_eq!(body.to.and_then(|j| j.name).as_deref(), Some("bob"));

    let meta = client_meta(
        message_body::Type::Groupchat,
        jid::conference(APP, "12"),
        "",
    );
    assert_eq!(
        new_message(&device(), &meta).unwrap().to,
        Target::Group(group("12"))
    );
    let meta = client_meta(
        message_body::Type::ChannelAck,
        jid::user(APP, "bob", None),
        "",
    );
    assert_eq!(
        new_message(&device(), &meta).unwrap().kind,
        MessageKind::ChannelAck
    );
}

#[test]
fn bad_client_messages_say_why() {
    let to_bob = || jid::user(APP, "bob", None);
    let cases = [
        (
            client_meta(message_body::Type::Recall, to_bob(), ""),
            BadClientMessage::Recall,
        ),
        (
            client_meta(message_body::Type::Chat, jid::conference(APP, "a b"), ""),
            BadClientMessage::BadGroupId("a b".into()),
        ),
        (
            client_meta(message_body::Type::Chat, jid::user(APP, "", None), ""),
            BadClientMessage::BadUserId(String::new()),
        ),
        (
            client_meta(
                message_body::Type::Chat,
                to_bob(),
                &"x".repeat(5 * 1024 + 1),
            ),
            BadClientMessage::TooLarge(TooLong {
                what: "message text",
                max: 5 * 1024,
                got: 5 * 1024 + 1,
                unit: "bytes",
            }),
        ),
        (
            Meta {
                payload: Some(Bytes::from_static(b"\xff\xff")),
                ..client_meta(message_body::Type::Chat, to_bob(), "")
            },
            BadClientMessage::UndecodableBody,
        ),
    ];
    for (meta, why) in cases {
        assert_eq!(new_message(&device(), &meta).unwrap_err(), why);
    }
}

#[test]
fn a_body_over_16_kib_is_refused_whatever_part_makes_it() {
    let with_ext = |n: usize| {
        let meta = client_meta(message_body::Type::Chat, jid::user(APP, "bob", None), "hi");
        let mut body = MessageBody::decode(meta.payload.clone().unwrap()).unwrap();
        body.ext.push(roam_protocol::pb::KeyValue {
            key: Some("k".into()),
            r#type: Some(7),
            value: Some(roam_protocol::pb::key_value::Value::StringValue(
                "x".repeat(n),
            )),
        });
        Meta {
            payload: Some(Bytes::from(body.encode_to_vec())),
            ..meta
        }
    };
    assert!(new_message(&device(), &with_ext(10_000)).is_ok());
    let err = new_message(&device(), &with_ext(60_000)).unwrap_err();
    assert!(
        matches!(&err, BadClientMessage::TooLarge(t) if t.what == "message"),
        "{err:?}"
    );
}
