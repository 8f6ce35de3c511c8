//! What the server pushes to a client, as [`Event`]s: messages, acks, multi-device events,
//! group events, and the connection's own ups and downs.
use prost::Message as _;
use roam_protocol::pb::{
    MessageBody, Meta, MucBody, message_body, meta::NameSpace, muc_body::Operation,
};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::message::{ChatType, Message};

/// One thing that happened, in the order the server delivered it.
///
/// ```
/// # async fn f(mut events: roam_sdk::Events) {
/// use roam_sdk::Event;
/// while let Some(event) = events.recv().await {
///     match event {
///         Event::Message(m) => println!("{}: {:?}", m.from, m.body),
///         Event::MultiDevice(e) => println!("another device: {:?} {}", e.op, e.conversation),
///         Event::Disconnected { will_retry: false, reason } => break,
///         _ => {}
///     }
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// A message of any type (single, group, chat room), from another user or from one of
    /// this user's other devices.
    Message(Message),
    /// `from` read the message `message_id` (a read ack).
    ReadAck {
        from: String,
        to: String,
        #[serde(serialize_with = "crate::ids::string")]
        message_id: u64,
    },
    /// `from`'s device received the message `message_id` (a delivery ack).
    DeliveryAck {
        from: String,
        to: String,
        #[serde(serialize_with = "crate::ids::string")]
        message_id: u64,
    },
    /// `from` read a whole conversation (a conversation read ack). When `from` is this user
    /// (another device), `conversation` is the conversation read; else it is this user.
    ChannelAck {
        from: String,
        conversation: String,
        chat_type: ChatType,
    },
    /// This user changed a conversation on another device.
    MultiDevice(MultiDeviceEvent),
    /// Something happened in a group or chat room this user is in (or was removed from).
    Group(GroupEvent),
    /// The connection dropped; the client reconnects by itself (`Reconnected` follows), or,
    /// with `will_retry` false, has stopped for good: the server logged this device out (the
    /// password changed, the user was deleted) or refused the token.
    Disconnected { reason: String, will_retry: bool },
    /// The connection is back; anything missed in between follows, without duplicates.
    Reconnected,
}

/// What another device of this user did to a conversation.
///
/// ```
/// use roam_sdk::{Event, MultiDeviceOp};
/// fn is_pin(e: &Event) -> bool {
///     matches!(e, Event::MultiDevice(m) if m.op == MultiDeviceOp::Pinned)
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MultiDeviceOp {
    Pinned,
    Unpinned,
    /// The conversation was deleted.
    Deleted,
    /// A mark (0..=19) was added.
    Marked(u8),
    /// A mark was removed.
    Unmarked(u8),
    /// Messages were deleted one-way (by ids or before a time).
    MessagesDeleted,
}

/// A multi-device event: `op` on `conversation`, done on the device `resource`.
///
/// ```
/// use roam_sdk::{Event, MultiDeviceOp};
/// fn deleted(e: &Event) -> Option<&str> {
///     match e {
///         Event::MultiDevice(m) if m.op == MultiDeviceOp::Deleted => Some(&m.conversation),
///         _ => None,
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MultiDeviceEvent {
    pub op: MultiDeviceOp,
    pub conversation: String,
    pub chat_type: ChatType,
    pub resource: String,
}

/// A group or chat room event.
///
/// ```
/// use roam_sdk::Event;
/// fn removed_from(e: &Event) -> Option<&str> {
///     match e {
///         Event::Group(g) if g.operation == "KICK" => Some(&g.group),
///         _ => None,
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GroupEvent {
    /// Easemob's operation name: `PRESENCE` (joined), `ABSENCE` (left), `KICK`, `DESTROY`,
    /// `DIRECT_JOINED` (this user was added), `ASSIGN_OWNER`, …
    pub operation: String,
    pub group: String,
    pub is_chat_room: bool,
    /// Who did it (or joined/left).
    pub from: String,
    /// Whom it concerns, when named.
    pub users: Vec<String>,
}

fn name(j: &Option<roam_protocol::pb::Jid>) -> String {
    j.as_ref().and_then(|j| j.name.clone()).unwrap_or_default()
}

/// The events one delivered meta makes (none for what this SDK does not read).
pub(crate) fn from_meta(meta: &Meta) -> Option<Event> {
    let payload = meta.payload.clone().unwrap_or_default();
    match NameSpace::try_from(meta.ns.unwrap_or_default()) {
        Ok(NameSpace::Chat) => {
            let body = MessageBody::decode(payload).ok()?;
            let from = name(&meta.from);
            let to = name(&meta.to);
            let message_id = body.ack_message_id.unwrap_or_default();
            match message_body::Type::try_from(body.r#type.unwrap_or_default()) {
                Ok(message_body::Type::ReadAck) => Some(Event::ReadAck {
                    from,
                    to,
                    message_id,
                }),
                Ok(message_body::Type::DeliverAck) => Some(Event::DeliveryAck {
                    from,
                    to,
                    message_id,
                }),
                Ok(message_body::Type::ChannelAck) => Some(Event::ChannelAck {
                    chat_type: if meta
                        .to
                        .as_ref()
                        .is_some_and(roam_protocol::jid::is_conference)
                    {
                        ChatType::Group
                    } else {
                        ChatType::Single
                    },
                    from,
                    conversation: to,
                }),
                _ => Message::from_meta(meta, &body).map(Event::Message),
            }
        }
        Ok(NameSpace::Notify) => multi_device(&serde_json::from_slice(&payload).ok()?),
        Ok(NameSpace::Muc) => {
            let muc = MucBody::decode(payload).ok()?;
            let operation = Operation::try_from(muc.operation.unwrap_or(-1))
                .map_or_else(|_| "UNKNOWN".to_owned(), |o| o.as_str_name().to_owned());
            Some(Event::Group(GroupEvent {
                operation,
                group: name(&muc.muc_id),
                is_chat_room: muc.is_chatroom.unwrap_or(false),
                from: name(&muc.from),
                users: muc.to.iter().filter_map(|j| j.name.clone()).collect(),
            }))
        }
        _ => None,
    }
}

/// A NOTIFY payload: `{"type":"conv","data":{op,id,type,res,ext}}` or
/// `{"type":"roaming_delete","data":{to,chatType,resource}}`.
fn multi_device(v: &Value) -> Option<Event> {
    let data = v.get("data")?;
    let s = |k: &str| {
        data.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let mark = || {
        s("ext")
            .strip_prefix("mark_")
            .and_then(|n| n.parse::<u8>().ok())
    };
    let (op, conversation, chat_type, resource) = match v.get("type")?.as_str()? {
        "conv" => {
            let op = match data.get("op")?.as_str()? {
                "top" => MultiDeviceOp::Pinned,
                "not_top" => MultiDeviceOp::Unpinned,
                "del" => MultiDeviceOp::Deleted,
                "mark" => MultiDeviceOp::Marked(mark()?),
                "mark_delete" => MultiDeviceOp::Unmarked(mark()?),
                _ => return None,
            };
            (op, s("id"), s("type"), s("res"))
        }
        "roaming_delete" => (
            MultiDeviceOp::MessagesDeleted,
            s("to"),
            s("chatType"),
            s("resource"),
        ),
        _ => return None,
    };
    Some(Event::MultiDevice(MultiDeviceEvent {
        op,
        conversation,
        chat_type: ChatType::from_rest(&chat_type),
        resource,
    }))
}

/// The events of one client, in delivery order. Ends when the client is closed.
///
/// ```
/// # async fn f(events: roam_sdk::Events) {
/// use futures::StreamExt;
/// let mut events = events; // also a `Stream`
/// while let Some(event) = events.next().await {
///     println!("{event:?}");
/// }
/// # }
/// ```
pub struct Events {
    pub(crate) rx: mpsc::UnboundedReceiver<Event>,
}

impl Events {
    /// The next event; `None` once the client is closed and everything was read.
    ///
    /// ```no_run
    /// # async fn f(mut events: roam_sdk::Events) {
    /// while let Some(event) = events.recv().await {
    ///     println!("{event:?}");
    /// }
    /// # }
    /// ```
    pub async fn recv(&mut self) -> Option<Event> {
        self.rx.recv().await
    }
}

impl futures::Stream for Events {
    type Item = Event;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Event>> {
        self.rx.poll_recv(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn notify_payloads_become_multi_device_events() {
        let ev = |v: Value| multi_device(&v).unwrap();
        assert_eq!(
            ev(
                json!({"type":"conv","data":{"op":"mark","id":"g1","type":"groupchat","res":"r2","ext":"mark_3"}})
            ),
            Event::MultiDevice(MultiDeviceEvent {
                op: MultiDeviceOp::Marked(3),
                conversation: "g1".into(),
                chat_type: ChatType::Group,
                resource: "r2".into(),
            })
        );
        assert_eq!(
            ev(
                json!({"type":"roaming_delete","data":{"to":"bob","chatType":"chat","resource":"r"}})
            ),
            Event::MultiDevice(MultiDeviceEvent {
                op: MultiDeviceOp::MessagesDeleted,
                conversation: "bob".into(),
                chat_type: ChatType::Single,
                resource: "r".into(),
            })
        );
        assert!(multi_device(&json!({"type":"conv","data":{"op":"?"}})).is_none());
    }
}
