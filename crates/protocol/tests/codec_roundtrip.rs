//! Round-trip properties of the codec: whatever a client or the server can build encodes and
//! decodes back to itself (msync frames, metas, message bodies, JIDs), and REST message JSON
//! survives the trip through the wire body where the two forms carry the same facts.
#![allow(
    clippy::unwrap_used,
    reason = "a test suite: a panic is a failed test with its location"
)]
use bytes::Bytes;
use proptest::{collection::vec, option, prelude::*};
use prost::Message as _;
use roam_protocol::{
    jid,
    message_json::{self, ChatKind},
    msync::{self, ClientFrame},
    pb::{
        CommSyncDl, CommSyncUl, Jid, KeyValue, Logout, MessageBody, Meta, Provision, key_value,
        m_sync::Command, message_body::Content,
    },
};
use serde_json::{Map, Value, json};

fn text() -> impl Strategy<Value = String> {
    // Any Unicode, and the characters JSON and JIDs care about, often.
    prop_oneof![any::<String>(), "[a-z0-9_.#@/\"\\\\-]{0,12}"]
}

fn any_jid() -> impl Strategy<Value = Jid> {
    (
        option::of(text()),
        option::of(text()),
        option::of(text()),
        option::of(text()),
    )
        .prop_map(|(app_key, name, domain, client_resource)| Jid {
            app_key,
            name,
            domain,
            client_resource,
        })
}

fn any_key_value() -> impl Strategy<Value = KeyValue> {
    let value = prop_oneof![
        any::<i64>().prop_map(key_value::Value::VarintValue),
        // NaN is never equal to itself; everything else must survive.
        any::<f32>()
            .prop_filter("not NaN", |f| !f.is_nan())
            .prop_map(key_value::Value::FloatValue),
        any::<f64>()
            .prop_filter("not NaN", |f| !f.is_nan())
            .prop_map(key_value::Value::DoubleValue),
        text().prop_map(key_value::Value::StringValue),
    ];
    (option::of(text()), option::of(1..=8i32), option::of(value)).prop_map(|(key, ty, value)| {
        KeyValue {
            key,
            r#type: ty,
            value,
        }
    })
}

fn any_body() -> impl Strategy<Value = MessageBody> {
    let content = (
        option::of(0..=9i32),
        option::of(text()),
        option::of(-90.0..90.0f64),
        option::of(text()),
        option::of(any::<i32>()),
        vec(any_key_value(), 0..3),
    )
        .prop_map(
            |(ty, text, latitude, remote_path, file_length, custom_exts)| Content {
                r#type: ty,
                text,
                latitude,
                remote_path,
                file_length,
                custom_exts,
                ..Default::default()
            },
        );
    (
        option::of(0..=7i32),
        option::of(any_jid()),
        option::of(any_jid()),
        vec(content, 0..3),
        vec(any_key_value(), 0..4),
        option::of(any::<u64>()),
    )
        .prop_map(|(ty, from, to, contents, ext, ack)| MessageBody {
            r#type: ty,
            from,
            to,
            contents,
            ext,
            ack_message_id: ack,
            ..Default::default()
        })
}

fn any_meta() -> impl Strategy<Value = Meta> {
    (
        option::of(any::<u64>()),
        option::of(any_jid()),
        option::of(any_jid()),
        option::of(any::<u64>()),
        option::of(0..=6i32),
        option::of(any_body()),
    )
        .prop_map(|(id, from, to, timestamp, ns, body)| Meta {
            id,
            from,
            to,
            timestamp,
            ns,
            payload: body.map(|b| Bytes::from(b.encode_to_vec())),
            ..Default::default()
        })
}

fn any_client_frame() -> impl Strategy<Value = ClientFrame> {
    let provision = (
        option::of(any_jid()),
        option::of(text()),
        option::of(text()),
        option::of(text()),
    )
        .prop_map(
            |(guid, auth, resource, auth_token)| ClientFrame::Provision {
                guid,
                auth,
                provision: Provision {
                    resource,
                    auth_token,
                    ..Default::default()
                },
            },
        );
    let sync = (
        option::of(any_meta()),
        option::of(any::<u64>()),
        option::of(any_jid()),
    )
        .prop_map(|(meta, key, queue)| {
            ClientFrame::Sync(CommSyncUl {
                meta,
                key,
                queue,
                ..Default::default()
            })
        });
    let logout = (option::of(text()), option::of(text())).prop_map(|(session_id, reason)| {
        ClientFrame::Logout(Logout {
            session_id,
            reason,
            status: None,
        })
    });
    prop_oneof![provision, Just(ClientFrame::Unread), sync, logout]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Every frame a client can send decodes to itself, metas and bodies included.
    #[test]
    fn client_frames_round_trip(frame in any_client_frame()) {
        let decoded = ClientFrame::decode(&frame.encode()).unwrap();
        prop_assert_eq!(&decoded, &frame);
        if let ClientFrame::Sync(CommSyncUl { meta: Some(meta), .. }) = decoded
            && let Some(payload) = meta.payload
        {
            let body = MessageBody::decode(payload.clone()).unwrap();
            prop_assert_eq!(Bytes::from(body.encode_to_vec()), payload);
        }
    }

    /// A pull batch the server builds decodes (as the SDK reads it) to the same queue, metas
    /// and key; an empty batch is the last one and carries no key.
    #[test]
    fn pull_batches_round_trip(
        queue in any_jid(),
        metas in vec(any_meta(), 0..4),
        key in option::of(any::<u64>()),
        now in any::<u64>(),
    ) {
        let frame = msync::pull_batch(queue.clone(), metas.clone(), key, now);
        let (command, payload) = msync::decode_server(&frame).unwrap();
        prop_assert_eq!(command, Command::Sync);
        let dl = CommSyncDl::decode(payload).unwrap();
        prop_assert_eq!(dl.queue, Some(queue));
        prop_assert_eq!(dl.is_last, Some(metas.is_empty()));
        prop_assert_eq!(dl.next_key, if metas.is_empty() { None } else { key });
        prop_assert_eq!(dl.metas, metas);
        prop_assert_eq!(dl.timestamp, Some(now));
    }

    /// Acks and errors echo the client's meta id.
    #[test]
    fn acks_round_trip(meta_id in any::<u64>(), server_id in any::<u64>(), ts in any::<u64>()) {
        let (_, payload) = msync::decode_server(&msync::send_ack(meta_id, server_id, ts)).unwrap();
        let dl = CommSyncDl::decode(payload).unwrap();
        prop_assert_eq!((dl.meta_id, dl.server_id, dl.timestamp), (Some(meta_id), Some(server_id), Some(ts)));
    }

    /// User and conference JIDs keep their parts through the wire and are told apart.
    #[test]
    fn jids_round_trip(app in text(), name in text(), resource in option::of(text())) {
        let user = jid::user(&app, &name, resource.as_deref());
        let group = jid::conference(&app, &name);
        for j in [&user, &group] {
            prop_assert_eq!(&Jid::decode(j.encode_to_vec().as_slice()).unwrap(), j);
            prop_assert_eq!(j.name.as_deref(), Some(name.as_str()));
        }
        prop_assert!(!jid::is_conference(&user));
        prop_assert!(jid::is_conference(&group));
    }
}

/// Strings, booleans and integers. (Fractions nested in objects travel as JSON text, whose
/// float parsing is not bit-exact; top-level fractions travel as doubles and are.)
fn json_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        text().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
    ]
}

fn json_ext() -> impl Strategy<Value = Map<String, Value>> {
    let value = prop_oneof![
        json_scalar(),
        (-1e12..1e12f64)
            .prop_filter("a fraction", |f| f.fract() != 0.0)
            .prop_map(Value::from),
        vec(json_scalar(), 0..3).prop_map(Value::from),
        proptest::collection::btree_map("[a-z]{1,4}", json_scalar(), 0..3)
            .prop_map(|m| Value::Object(m.into_iter().collect())),
    ];
    proptest::collection::btree_map(text(), value, 0..4).prop_map(|m| m.into_iter().collect())
}

fn kind() -> impl Strategy<Value = ChatKind> {
    prop_oneof![
        Just(ChatKind::Single),
        Just(ChatKind::Group),
        Just(ChatKind::ChatRoom)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// REST message JSON → wire body → the JSON the SDK reads: the same sender, recipient,
    /// type, fields and `ext` (every value kind the SDK sends), for each message type.
    #[test]
    fn message_json_round_trips(
        kind in kind(),
        from in text(),
        to in text(),
        msg in text(),
        url in text(),
        lat in -90.0..90.0f64,
        lng in -180.0..180.0f64,
        length in any::<i32>(),
        ext in json_ext(),
    ) {
        let cases = [
            ("txt", json!({"type": "txt", "msg": msg})),
            ("cmd", json!({"type": "cmd", "action": msg})),
            ("loc", json!({"type": "loc", "addr": msg, "lat": lat, "lng": lng})),
            ("file", json!({"type": "file", "url": url, "filename": msg, "file_length": length})),
            ("audio", json!({"type": "audio", "url": url, "secret": msg, "length": length})),
        ];
        for (msg_type, body) in cases {
            let wire = message_json::body_from_rest(kind, &from, &to, msg_type, &body, Some(&ext)).unwrap();
            let decoded = MessageBody::decode(wire.encode_to_vec().as_slice()).unwrap();
            prop_assert_eq!(message_json::content_type(&decoded), msg_type);
            let rendered = message_json::body_to_rest(&decoded, kind);
            prop_assert_eq!(&rendered["bodies"], &json!([body]));
            prop_assert_eq!(&rendered["ext"], &Value::Object(ext.clone()));
            prop_assert_eq!(&rendered["from"], &json!(from));
            prop_assert_eq!(&rendered["to"], &json!(to));
            prop_assert_eq!(&rendered["type"], &json!(kind.name()));
        }
    }

    /// `ext` as wire key-values and back is the identity for the JSON the SDK sends.
    #[test]
    fn ext_round_trips(ext in json_ext()) {
        prop_assert_eq!(message_json::ext_from_wire(&message_json::ext_to_wire(&ext)), ext);
    }
}
