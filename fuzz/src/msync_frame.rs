//! Every protobuf the server decodes from a client, as the gateway decodes it: the bytes are a
//! binary WebSocket message (and, if text, a SockJS message). Whatever decodes must re-encode
//! to a canonical form that decodes to the same bytes again, and every meta in it goes through
//! the same mapping the session applies (message body → domain message, MUC body, JSON).
use axum::extract::ws::Message;
use prost::Message as _;
use roam_domain::{
    device::{Device, Resource},
    id::MessageId,
    user::UserId,
};
use roam_gateway::framing::{Binary, Framing, Inbound, SockJs};
use roam_protocol::{
    message_json::{self, ChatKind},
    msync::{self, ClientFrame},
    pb::{CommSyncUl, MessageBody, MucBody, meta::NameSpace},
};

pub fn run(input: &[u8]) {
    frame(input);
    // The same bytes as the Binary framing hands them on, and as SockJS text.
    if let Ok(Inbound::Frames(frames)) = Binary.decode(Message::Binary(input.to_vec().into())) {
        frames.iter().for_each(|f| frame(f));
    }
    if let Ok(text) = std::str::from_utf8(input)
        && let Ok(Inbound::Frames(frames)) = SockJs.decode(Message::Text(text.into()))
    {
        frames.iter().for_each(|f| frame(f));
    }
    // What the Rust SDK decodes from a server, so a hostile server cannot crash a client.
    let _ = msync::decode_server(input);
}

/// One msync frame: decode, check the canonical re-encoding, and follow every meta.
fn frame(bytes: &[u8]) {
    let Ok(decoded) = ClientFrame::decode(bytes) else {
        return;
    };
    let canonical = decoded.encode();
    let again = ClientFrame::decode(&canonical).expect("a re-encoded frame decodes");
    assert_eq!(
        again.encode(),
        canonical,
        "re-encoding is not stable for {decoded:?}"
    );
    if let ClientFrame::Sync(ul) = decoded {
        sync(&ul);
    }
}

fn sync(ul: &CommSyncUl) {
    let Some(meta) = &ul.meta else { return };
    let device = Device {
        user: UserId::parse("alice").expect("a legal id"),
        resource: Resource::parse("fuzz").expect("a legal resource"),
        registered: MessageId(0),
    };
    match NameSpace::try_from(meta.ns.unwrap_or(0)) {
        Ok(NameSpace::Chat) => {
            let _ = roam_wire::msync::new_message(&device, meta);
            if let Some(body) = meta
                .payload
                .clone()
                .and_then(|p| MessageBody::decode(p).ok())
            {
                for kind in [ChatKind::Single, ChatKind::Group, ChatKind::ChatRoom] {
                    let json = message_json::body_to_rest(&body, kind);
                    serde_json::to_string(&json).expect("message JSON serializes");
                }
                let _ = message_json::content_type(&body);
            }
        }
        Ok(NameSpace::Muc) => {
            let _ = meta.payload.clone().map(MucBody::decode);
        }
        _ => {}
    }
}
