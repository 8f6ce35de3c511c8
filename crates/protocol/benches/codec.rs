//! The msync codec on the send path (`cargo bench -p roam-protocol`): a client's SYNC frame
//! carrying one chat message meta (decoded per send), the send ack and a pull batch (encoded per
//! send/pull), and a message body rendered as REST JSON (history, conversation lists).
use bytes::Bytes;
use prost::Message;
use roam_protocol::{
    jid,
    message_json::{ChatKind, body_to_rest},
    msync::{ClientFrame, pull_batch, send_ack},
    pb::{CommSyncUl, MessageBody, Meta, message_body, meta::NameSpace},
};

const APP: &str = "org#app";

fn main() {
    divan::main();
}

/// A 180-byte text body from alice to bob, as the SDK builds it.
fn body() -> MessageBody {
    MessageBody {
        r#type: Some(message_body::Type::Chat as i32),
        from: Some(jid::user(APP, "alice", None)),
        to: Some(jid::user(APP, "bob", None)),
        contents: vec![message_body::Content {
            r#type: Some(message_body::content::Type::Text as i32),
            text: Some("x".repeat(180)),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn meta() -> Meta {
    Meta {
        id: Some(913_606_723_028_123_648),
        to: Some(jid::user(APP, "bob", None)),
        ns: Some(NameSpace::Chat as i32),
        payload: Some(Bytes::from(body().encode_to_vec())),
        ..Default::default()
    }
}

fn sync_frame() -> Vec<u8> {
    ClientFrame::Sync(CommSyncUl {
        meta: Some(meta()),
        ..Default::default()
    })
    .encode()
}

#[divan::bench]
fn decode_client_sync_frame(b: divan::Bencher) {
    let frame = sync_frame();
    b.bench(|| ClientFrame::decode(divan::black_box(&frame)).expect("valid frame"));
}

#[divan::bench]
fn decode_message_body(b: divan::Bencher) {
    let bytes = body().encode_to_vec();
    b.bench(|| MessageBody::decode(divan::black_box(bytes.as_slice())).expect("valid body"));
}

#[divan::bench]
fn encode_client_sync_frame(b: divan::Bencher) {
    let frame = ClientFrame::Sync(CommSyncUl {
        meta: Some(meta()),
        ..Default::default()
    });
    b.bench(|| divan::black_box(&frame).encode());
}

#[divan::bench]
fn encode_send_ack() -> Vec<u8> {
    send_ack(
        divan::black_box(17),
        divan::black_box(913_606_723_028_123_648),
        1_700_000_000_000,
    )
}

/// A pull answer of `n` chat metas (the SDK pulls in batches).
#[divan::bench(args = [1, 10, 50])]
fn encode_pull_batch(b: divan::Bencher, n: usize) {
    let metas: Vec<Meta> = (0..n).map(|_| meta()).collect();
    b.bench(|| {
        pull_batch(
            jid::user(APP, "alice", None),
            divan::black_box(metas.clone()),
            Some(42),
            1_700_000_000_000,
        )
    });
}

#[divan::bench]
fn body_to_rest_json(b: divan::Bencher) {
    let body = body();
    b.bench(|| body_to_rest(divan::black_box(&body), ChatKind::Single).to_string());
}
