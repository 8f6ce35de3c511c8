//! Domain values as msync metas and JIDs, and msync back into domain values.
//!
//! - Names: [`user_jid`], [`target_jid`] (a conversation's queue, a message's recipient) and
//!   its inverse [`target_of`].
//! - Stored messages as the metas a device pulls: [`meta_of`] picks by kind — chat messages and
//!   acks ([`message_meta`]), group events as MUC metas ([`group_event_meta`]), conversation
//!   events as NOTIFY metas ([`conversation_event_meta`], payload [`notify_payload`]).
//! - [`kick_frame`]: the frame telling a device the server logs it out.
//! - [`new_message`]: a message meta a device sends, as the domain's
//!   [`NewMessage`](roam_domain::message::NewMessage).
//!
//! Every function takes the app key (`org#app`) and, where a JID depends on who asks, the
//! logged-in user: no gateway state. The wire facts relied on are in `docs/protocol.md`.
use roam_domain::{
    conversation::Target,
    device::Resource,
    fanout::KickReason,
    group::GroupId,
    id::MessageId,
    message::{MessageKind, StoredMessage},
    user::UserId,
};
use roam_protocol::{
    jid,
    msync::{self as frames, KickOperation},
    pb::{Jid, Meta, meta::NameSpace},
};

mod conversation_event;
mod group_event;
mod new_message;

pub use conversation_event::{conversation_event_meta, notify_payload};
pub use group_event::group_event_meta;
pub use new_message::{BadClientMessage, body_size, new_message};

/// The resource in the JID of a user's own event log queue ([`Target::System`]): the user's
/// name with this resource, which no device of the SDK uses (theirs are `webim_…`).
pub const SYSTEM_QUEUE: &str = "roam_events";

/// The JID of `user`, on one device if `resource` is given (a sender), else bare (a peer).
pub fn user_jid(app_key: &str, user: &UserId, resource: Option<&Resource>) -> Jid {
    jid::user(app_key, user.as_str(), resource.map(Resource::as_str))
}

/// The JID naming a conversation's queue (and a message's recipient), as `me` pulls it: a
/// peer's bare JID, a group's conference JID, or `me`'s own event log ([`SYSTEM_QUEUE`]).
pub fn target_jid(app_key: &str, me: &UserId, target: &Target) -> Jid {
    match target {
        Target::User(u) => user_jid(app_key, u, None),
        Target::Group(g) => jid::conference(app_key, g.as_str()),
        Target::System => jid::user(app_key, me.as_str(), Some(SYSTEM_QUEUE)),
    }
}

/// The conversation a queue JID names, for the logged-in `me`; `None` for a JID that names
/// no valid user or group. The inverse of [`target_jid`].
pub fn target_of(queue: &Jid, me: &UserId) -> Option<Target> {
    let name = queue.name.as_deref()?;
    if jid::is_conference(queue) {
        return GroupId::parse(name).ok().map(Target::Group);
    }
    let user = UserId::parse(name).ok()?;
    if user == *me && queue.client_resource.as_deref() == Some(SYSTEM_QUEUE) {
        Some(Target::System)
    } else {
        Some(Target::User(user))
    }
}

/// A stored message as the meta `me` pulls, whatever its kind: events are rendered as the SDK
/// expects them (MUC or NOTIFY metas), everything else as a CHAT meta carrying the stored body.
pub fn meta_of(app_key: &str, me: &UserId, m: &StoredMessage) -> Meta {
    match m.kind {
        MessageKind::GroupEvent => group_event_meta(app_key, me, m),
        MessageKind::ConversationEvent => conversation_event_meta(app_key, m),
        MessageKind::Chat
        | MessageKind::ReadAck
        | MessageKind::DeliverAck
        | MessageKind::ChannelAck => message_meta(app_key, m),
    }
}

/// A chat message (or an ack) as a CHAT meta: from the sending device, to its conversation,
/// with the stored `MessageBody` as payload. Live delivery, offline pulls and REST history all
/// render messages with this, so a message reads the same whichever way it arrives.
///
/// A message in a user's own log (`to` = [`Target::System`]) is addressed to that log, whose
/// owner is its sender.
pub fn message_meta(app_key: &str, m: &StoredMessage) -> Meta {
    Meta {
        id: Some(m.id.0),
        from: Some(user_jid(app_key, &m.from, Some(&m.from_resource))),
        to: Some(target_jid(app_key, &m.from, &m.to)),
        timestamp: Some(m.timestamp_ms),
        ns: Some(NameSpace::Chat as i32),
        payload: Some(m.payload.clone()),
        ..Default::default()
    }
}

/// The frame telling `me`'s device that the server logs it out for `reason` (the SDK reports
/// error 216 or 207 and does not reconnect), sent right before the connection closes. Its
/// meta id is one no message has ([`MessageId::unused_at`]).
pub fn kick_frame(app_key: &str, me: &UserId, reason: KickReason, now_ms: u64) -> Vec<u8> {
    let operation = match reason {
        KickReason::PasswordChanged => KickOperation::PasswordChanged,
        KickReason::UserRemoved => KickOperation::UserRemoved,
    };
    let queue = user_jid(app_key, me, None);
    frames::kick(queue, operation, MessageId::unused_at(now_ms).0, now_ms)
}

#[cfg(test)]
mod tests;
