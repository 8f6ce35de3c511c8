//! Multi-device conversation events as the NOTIFY payloads the SDK turns into
//! `onMultiDeviceEvent` (PROTOCOL.md §f): compact UTF-8 JSON, no control characters (the SDK's
//! percent-decoder does not zero-pad bytes below 0x10; serde_json escapes those anyway).
use roam_domain::{
    conversation::Target,
    device::Resource,
    roaming::{ConversationEvent, ConversationOp},
    user::UserId,
};
use serde_json::json;

/// The JSON payload for `event`, done by `user` on device `resource` at `ts` (ms).
pub(crate) fn payload(
    event: &ConversationEvent,
    user: &UserId,
    resource: &Resource,
    ts: u64,
) -> Vec<u8> {
    // `chat` is a single chat; anything else the SDK reads as a group chat.
    let chat_type = match event.target {
        Target::User(_) => "chat",
        _ => "groupchat",
    };
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

#[cfg(test)]
mod tests {
    use super::*;
    use roam_domain::{group::GroupId, roaming::Mark};

    fn render(op: ConversationOp, target: Target) -> serde_json::Value {
        let event = ConversationEvent { op, target };
        let bytes = payload(
            &event,
            &UserId::parse("alice").unwrap(),
            &Resource::parse("web_1").unwrap(),
            1_700_000_000_000,
        );
        assert!(bytes.iter().all(|b| *b >= 0x10), "no control bytes");
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn pins_render_as_the_sdk_reads_them() {
        let v = render(
            ConversationOp::Pinned,
            Target::User(UserId::parse("bob").unwrap()),
        );
        assert_eq!(
            v,
            json!({"type":"conv","data":{"op":"top","id":"bob","type":"chat","ts":1_700_000_000_000u64,"res":"web_1","from":"alice"}})
        );
    }

    #[test]
    fn marks_carry_the_mark_and_groups_are_groupchat() {
        let v = render(
            ConversationOp::Unmarked(Mark::parse("mark_2").unwrap()),
            Target::Group(GroupId::parse("123").unwrap()),
        );
        assert_eq!(v["data"]["op"], "mark_delete");
        assert_eq!(v["data"]["ext"], "mark_2");
        assert_eq!(v["data"]["type"], "groupchat");
    }

    #[test]
    fn message_deletes_are_roaming_delete() {
        let v = render(
            ConversationOp::MessagesDeleted,
            Target::User(UserId::parse("bob").unwrap()),
        );
        assert_eq!(
            v,
            json!({"type":"roaming_delete","data":{"to":"bob","chatType":"chat","resource":"web_1"}})
        );
    }
}
