//! Multi-device conversation events as the NOTIFY metas the SDK turns into
//! `onMultiDeviceEvent` (pinnedConversation, deleteConversation, deleteRoaming, …).
use bytes::Bytes;
use roam_domain::{
    device::Resource,
    message::StoredMessage,
    roaming::{ConversationEvent, ConversationOp},
    user::UserId,
};
use roam_protocol::pb::{Meta, meta::NameSpace};
use serde_json::json;

use super::user_jid;
use crate::chat_kind;

/// A stored conversation event from a user's own log as the NOTIFY meta the SDK reads: from
/// and to the user, the payload [`notify_payload`] of the event, done on the device that
/// stored it (`from_resource`) at its timestamp.
///
/// A payload that does not decode (a damaged row, or one from a newer server) is logged and
/// rendered with the payload `{}`, which the SDK ignores: the pull goes on.
pub fn conversation_event_meta(app_key: &str, m: &StoredMessage) -> Meta {
    let me = user_jid(app_key, &m.from, None);
    let payload = match ConversationEvent::decode(&m.payload) {
        Ok(event) => notify_payload(&event, &m.from, &m.from_resource, m.timestamp_ms),
        Err(e) => {
            tracing::warn!(id = m.id.0, error = %e, "undecodable conversation event");
            b"{}".to_vec()
        }
    };
    Meta {
        id: Some(m.id.0),
        from: Some(me.clone()),
        to: Some(me),
        timestamp: Some(m.timestamp_ms),
        ns: Some(NameSpace::Notify as i32),
        payload: Some(Bytes::from(payload)),
        ..Default::default()
    }
}

/// The NOTIFY payload for `event`, done by `user` on device `resource` at `ts` (ms): compact
/// UTF-8 JSON with no control characters (the SDK's percent-decoder does not zero-pad bytes
/// below 0x10; serde_json escapes those anyway).
pub fn notify_payload(
    event: &ConversationEvent,
    user: &UserId,
    resource: &Resource,
    ts: u64,
) -> Vec<u8> {
    // A single chat, or anything else, which the SDK reads as a group chat.
    let chat_type = chat_kind(&event.target).name();
    let id = event.target.to_string();
    let conv = |op: &str, ext: Option<String>| {
        let mut data = json!({
            "op": op, "id": id, "type": chat_type, "ts": ts,
            "res": resource.as_str(), "from": user.as_str(),
        });
        if let Some(ext) = ext {
            data["ext"] = ext.into();
        }
        json!({"type": "conv", "data": data})
    };
    let value = match event.op {
        ConversationOp::Pinned => conv("top", None),
        ConversationOp::Unpinned => conv("not_top", None),
        ConversationOp::Deleted => conv("del", None),
        ConversationOp::Marked(m) => conv("mark", Some(m.to_string())),
        ConversationOp::Unmarked(m) => conv("mark_delete", Some(m.to_string())),
        ConversationOp::MessagesDeleted => json!({
            "type": "roaming_delete",
            "data": {"to": id, "chatType": chat_type, "resource": resource.as_str()},
        }),
    };
    serde_json::to_vec(&value).expect("JSON values always serialise")
}
