//! Sending messages over REST (admin only), as Easemob's server API does.
use std::{collections::BTreeMap, sync::Arc};

use axum::{
    Json,
    extract::{OriginalUri, State},
};
use bytes::Bytes;
use prost::Message as _;
use roam_domain::{
    auth::Principal,
    conversation::Target,
    device::Resource,
    group::GroupId,
    limits,
    message::{MessageKind, NewMessage},
    service::SendError,
    user::UserId,
};
use roam_protocol::{
    message_json::{ChatKind, body_from_rest, content_type},
    rest::groups::Envelope,
};
use roam_wire::msync::body_size;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::{
    Rest,
    error::ApiError,
    extract::{Caller, JsonBody},
};

/// The resource REST messages carry as their sending "device": no real device has it, so all
/// of the sender's devices receive the message.
pub const REST_RESOURCE: &str = "roam_rest";

/// Most distinct recipients of one admin send (Easemob: 600).
const MAX_RECIPIENTS: usize = 600;

/// Body of `POST /messages/{users|chatgroups|chatrooms}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SendBody {
    /// Sender; Easemob's default is `admin`.
    #[serde(default)]
    from: Option<String>,
    to: Vec<String>,
    #[serde(rename = "type")]
    kind: String,
    body: Value,
    #[serde(default)]
    ext: Option<Map<String, Value>>,
}

/// # `POST /{org}/{app}/messages/users`, `…/messages/chatgroups`, `…/messages/chatrooms`
///
/// Admin only. Answers `data: {recipient: message id}`; a recipient that failed gets the
/// reason instead of an id, and the others are still sent.
pub async fn send(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    uri: OriginalUri,
    JsonBody(b): JsonBody<SendBody>,
) -> Result<Json<Envelope<BTreeMap<String, String>>>, ApiError> {
    if caller != Principal::Admin {
        return Err(ApiError::Forbidden);
    }
    let chat = match uri.0.path().rsplit('/').next() {
        Some("chatgroups") => ChatKind::Group,
        Some("chatrooms") => ChatKind::ChatRoom,
        _ => ChatKind::Single,
    };
    // Each recipient once: a repeated one must not store the message again.
    let to = limits::distinct("to", b.to.iter(), MAX_RECIPIENTS)?;
    if to.is_empty() {
        return Err(ApiError::IllegalArgument("to: 1 to 600 recipients".into()));
    }
    let from = UserId::parse(b.from.as_deref().unwrap_or("admin"))
        .map_err(|e| ApiError::IllegalArgument(e.to_string()))?;
    let resource = Resource::parse(REST_RESOURCE).expect("a valid resource");
    let mut results = BTreeMap::new();
    for to in to {
        let target = match chat {
            ChatKind::Single => UserId::parse(to)
                .map(Target::User)
                .map_err(|e| e.to_string()),
            _ => GroupId::parse(to)
                .map(Target::Group)
                .map_err(|e| e.to_string()),
        };
        let target = match target {
            Ok(t) => t,
            Err(e) => {
                results.insert(to.clone(), e);
                continue;
            }
        };
        let body = body_from_rest(
            chat,
            from.as_str(),
            &target.to_string(),
            &b.kind,
            &b.body,
            b.ext.as_ref(),
        )
        .map_err(|e| ApiError::IllegalArgument(e.to_string()))?;
        // The same limits as a device's send: one over them is refused for every recipient.
        body_size(&body)?;
        let message = NewMessage {
            from: from.clone(),
            from_resource: resource.clone(),
            to: target,
            kind: MessageKind::Chat,
            content_type: content_type(&body).to_owned(),
            payload: Bytes::from(body.encode_to_vec()),
            activity: false,
            client_id: None,
        };
        let result = match rest.roam.send_as_admin(message).await {
            Ok(stored) => stored.id.0.to_string(),
            Err(SendError::Store(e)) => return Err(e.into()),
            Err(SendError::TooLarge(e)) => return Err(e.into()),
            Err(e) => e.to_string(),
        };
        results.insert(to.clone(), result);
    }
    Ok(Json(rest.envelope("post", &uri, results)))
}
