//! Messages: what a user sends, and what the store keeps (one copy per conversation).
use bytes::Bytes;

use crate::{conversation::Target, device::Resource, id::MessageId, user::UserId};

/// What a stored message is. Only [`MessageKind::Chat`] is history and counts as unread; the
/// acks are control messages, kept only so that offline devices receive them in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// A message of any body type (text, custom, command, location, file metadata, …).
    Chat = 0,
    /// "I have read message X" (READ_ACK).
    ReadAck = 1,
    /// "Message X reached my device" (DELIVER_ACK).
    DeliverAck = 2,
    /// "I have read this whole conversation" (CHANNEL_ACK): moves the sender's read position.
    ChannelAck = 3,
    /// A group event (member joined or left, …) shown to every member through the group's
    /// queue: one stored copy, whatever the group's size.
    GroupEvent = 4,
    /// A multi-device event in a user's own log (a conversation pinned, deleted, marked; messages
    /// deleted): the user's other devices apply it, including those that were away.
    ConversationEvent = 5,
}

impl MessageKind {
    pub fn from_code(code: i64) -> Option<MessageKind> {
        Some(match code {
            0 => MessageKind::Chat,
            1 => MessageKind::ReadAck,
            2 => MessageKind::DeliverAck,
            3 => MessageKind::ChannelAck,
            4 => MessageKind::GroupEvent,
            5 => MessageKind::ConversationEvent,
            _ => return None,
        })
    }

    pub fn code(self) -> i64 {
        self as i64
    }
}

/// A message a device sends to a user, a group or a chat room; or an event the server writes
/// into a user's own log (`to` = [`Target::System`], `from` = that user).
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub from: UserId,
    /// The sending device: it gets the message's ack, never the message itself.
    pub from_resource: Resource,
    pub to: Target,
    pub kind: MessageKind,
    /// The wire body (the SDK's `MessageBody`), kept verbatim: the server does not need to
    /// understand a message to store and relay it.
    pub payload: Bytes,
    /// The body's type as Easemob names it (`txt`, `img`, `custom`, …; empty for control
    /// messages): history filters on it.
    pub content_type: String,
    /// Whether this message is conversation activity: it moves the conversation up its users'
    /// lists, becomes its `lastMessage` and counts as unread. The service decides (chat
    /// messages from devices are; acks, events and by default REST messages are not), so
    /// transports leave it `false`.
    pub activity: bool,
    /// The sending device's own id for the message (the msync meta id), if it gave one. A
    /// send repeated with the same id from the same device (after a reconnect that lost the
    /// ack) is stored once: the store answers with the message it kept.
    pub client_id: Option<u64>,
}

/// A message as stored: its conversation position and its server id and time.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredMessage {
    pub id: MessageId,
    /// Position in its conversation, from 1, without gaps.
    pub seq: u64,
    pub from: UserId,
    pub from_resource: Resource,
    pub to: Target,
    pub kind: MessageKind,
    pub timestamp_ms: u64,
    pub payload: Bytes,
    /// See [`NewMessage::activity`].
    pub activity: bool,
}
