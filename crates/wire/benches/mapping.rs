//! The domain ↔ msync mapping on the send and pull paths (`cargo bench -p roam-wire`): a
//! device's chat meta into the domain's new message (per send), a stored message into the meta
//! a device pulls (per delivery), conversation queues (per pull).
use bytes::Bytes;
use prost::Message;
use roam_domain::{
    conversation::Target,
    device::{Device, Resource},
    id::MessageId,
    message::{MessageKind, StoredMessage},
    user::UserId,
};
use roam_protocol::{
    jid,
    pb::{MessageBody, Meta, message_body, meta::NameSpace},
};
use roam_wire::msync::{meta_of, new_message, target_jid, target_of};

const APP: &str = "org#app";

fn main() {
    divan::main();
}

fn user(name: &str) -> UserId {
    UserId::parse(name).expect("valid user id")
}

fn payload() -> Bytes {
    let body = MessageBody {
        r#type: Some(message_body::Type::Chat as i32),
        from: Some(jid::user(APP, "alice", None)),
        to: Some(jid::user(APP, "bob", None)),
        contents: vec![message_body::Content {
            r#type: Some(message_body::content::Type::Text as i32),
            text: Some("x".repeat(180)),
            ..Default::default()
        }],
        ..Default::default()
    };
    Bytes::from(body.encode_to_vec())
}

#[divan::bench]
fn client_meta_to_new_message(b: divan::Bencher) {
    let device = Device {
        user: user("alice"),
        resource: Resource::parse("web_1").expect("valid resource"),
        registered: MessageId(1),
    };
    let meta = Meta {
        id: Some(5),
        to: Some(jid::user(APP, "bob", None)),
        ns: Some(NameSpace::Chat as i32),
        payload: Some(payload()),
        ..Default::default()
    };
    b.bench(|| {
        new_message(divan::black_box(&device), divan::black_box(&meta)).expect("valid meta")
    });
}

#[divan::bench]
fn stored_message_to_meta(b: divan::Bencher) {
    let m = StoredMessage {
        id: MessageId(913_606_723_028_123_648),
        seq: 1,
        from: user("alice"),
        from_resource: Resource::parse("web_1").expect("valid resource"),
        to: Target::User(user("bob")),
        kind: MessageKind::Chat,
        timestamp_ms: 1_700_000_000_000,
        payload: payload(),
        activity: true,
    };
    let me = user("bob");
    b.bench(|| meta_of(APP, divan::black_box(&me), divan::black_box(&m)));
}

#[divan::bench]
fn queue_round_trip(b: divan::Bencher) {
    let me = user("alice");
    let target = Target::User(user("bob"));
    b.bench(|| target_of(&target_jid(APP, &me, divan::black_box(&target)), &me));
}
