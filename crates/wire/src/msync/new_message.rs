//! A message meta a device sends (namespace CHAT), as the domain's [`NewMessage`].
use bytes::Bytes;
use prost::Message as _;
use roam_domain::{
    conversation::Target,
    device::Device,
    group::GroupId,
    limits::{self, TooLong},
    message::{MessageKind, NewMessage},
    user::UserId,
};
use roam_protocol::{
    jid, message_json,
    pb::{Jid, MessageBody, Meta, message_body},
};

/// Why a device's message meta was refused before reaching the service. The gateway answers
/// each with the status the SDK maps to its error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadClientMessage {
    #[error("the payload is not a MessageBody")]
    UndecodableBody,
    /// A RECALL: Roam does not recall messages.
    #[error("message recall is disabled")]
    Recall,
    #[error("unsupported message type")]
    UnsupportedType,
    /// The recipient is a conference JID whose name is no legal group id.
    #[error("group id {0:?} is not legal")]
    BadGroupId(String),
    /// The recipient is a user JID whose name is no legal user id.
    #[error("user id {0:?} is not legal")]
    BadUserId(String),
    /// The text contents, or the whole body, are over [`limits::message`].
    #[error(transparent)]
    TooLarge(#[from] TooLong),
}

/// The message `from` sends in `meta` (namespace CHAT): its body type gives the kind (a chat
/// message of any chat type, or an ack), its `to` JID the conversation, its first content the
/// content type. The body is stored as sent but for `from` and `to`, which are normalised to
/// the logged-in sender and the parsed recipient (whatever the body claims). The meta id is
/// the device's own id for the message, so a resend after a lost ack is stored once.
///
/// Checked in this order: the body decodes, its type is served, the recipient parses, its size
/// is within [`limits::message`] ([`body_size`]).
pub fn new_message(from: &Device, meta: &Meta) -> Result<NewMessage, BadClientMessage> {
    let mut body = meta
        .payload
        .as_ref()
        .and_then(|p| MessageBody::decode(p.clone()).ok())
        .ok_or(BadClientMessage::UndecodableBody)?;
    let kind = match message_body::Type::try_from(body.r#type.unwrap_or(0)) {
        Ok(
            message_body::Type::Chat | message_body::Type::Groupchat | message_body::Type::Chatroom,
        ) => MessageKind::Chat,
        Ok(message_body::Type::ReadAck) => MessageKind::ReadAck,
        Ok(message_body::Type::DeliverAck) => MessageKind::DeliverAck,
        Ok(message_body::Type::ChannelAck) => MessageKind::ChannelAck,
        Ok(message_body::Type::Recall) => return Err(BadClientMessage::Recall),
        _ => return Err(BadClientMessage::UnsupportedType),
    };
    let to_name = meta
        .to
        .as_ref()
        .and_then(|t| t.name.clone())
        .unwrap_or_default();
    let to = match meta.to.as_ref() {
        Some(j) if jid::is_conference(j) => GroupId::parse(&to_name)
            .map(Target::Group)
            .map_err(|_| BadClientMessage::BadGroupId(to_name))?,
        _ => UserId::parse(&to_name)
            .map(Target::User)
            .map_err(|_| BadClientMessage::BadUserId(to_name))?,
    };
    body_size(&body)?;
    body.from = Some(Jid {
        name: Some(from.user.as_str().to_owned()),
        ..Default::default()
    });
    body.to = Some(Jid {
        name: Some(to.to_string()),
        ..Default::default()
    });
    Ok(NewMessage {
        from: from.user.clone(),
        from_resource: from.resource.clone(),
        to,
        kind,
        content_type: message_json::content_type(&body).to_owned(),
        payload: Bytes::from(body.encode_to_vec()),
        activity: false,
        client_id: meta.id.filter(|id| *id != 0),
    })
}

/// A message body is within [`limits::message`]: its text contents together, and the whole
/// body as encoded (`ext` included). Every transport's sends pass here (msync through
/// [`new_message`], the REST admin send directly).
pub fn body_size(body: &MessageBody) -> Result<(), TooLong> {
    let text: usize = body
        .contents
        .iter()
        .map(|c| c.text.as_deref().map_or(0, str::len))
        .sum();
    limits::message(text, body.encoded_len())
}
