//! One-way deletes: messages, a conversation, or everything, for this user only (on all of
//! their devices; their peers keep their copies).
use std::{collections::HashMap, sync::Arc};

use axum::{
    Json,
    extract::{Path, State},
};
use roam_domain::{conversation::Target, group::GroupId, id::MessageId, roaming::Removal};
use roam_protocol::{
    message_json::ChatKind,
    rest::roaming::{DeleteConversationBody, DeletedResponse, RemovedResponse},
};

use super::{input, target_of};
use crate::{
    Rest,
    error::ApiError,
    extract::{Acting, Device, JsonBody, Params, user_id},
};

/// The path of the message deletes: `{org}/{app}/…/{kind}/user/{username}`.
type KindPath = Path<(String, String, String, String)>;

/// The conversation a roaming delete names: `chat` + `userId`, or `group` + `groupId` (the
/// path's own spelling, not a chat kind name in any case).
fn delete_target(kind: &str, params: &HashMap<String, String>) -> Result<Target, ApiError> {
    let get = |k: &str| params.get(k).map_or("", String::as_str);
    if kind == ChatKind::Single.name() {
        user_id(get("userId")).map(Target::User)
    } else if kind == "group" {
        GroupId::parse(get("groupId"))
            .map(Target::Group)
            .map_err(input)
    } else {
        Err(input(format!("unknown conversation type {kind:?}")))
    }
}

/// # `DELETE /{org}/{app}/sdk/message/roaming/{chat|group}/user/{u}?userId|groupId=&msgIdList=&resource=`
///
/// One-way delete of up to 50 messages by id: gone for this user, on every device.
pub async fn remove_by_ids(
    State(rest): State<Arc<Rest>>,
    acting: Acting,
    device: Device,
    Path((_, _, kind, _)): KindPath,
    params: Params,
) -> Result<Json<RemovedResponse>, ApiError> {
    let ids = params
        .get("msgIdList")
        .map_or("", String::as_str)
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.trim().parse().map(MessageId))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| input("msgIdList: message ids, comma separated"))?;
    let removal = Removal::ids(ids).map_err(input)?;
    remove(&rest, &acting, device, &kind, &params, removal).await
}

/// # `DELETE /{org}/{app}/sdk/message/roaming/{chat|group}/user/{u}/time?userId|groupId=&delTime=&resource=`
///
/// One-way delete of everything at or before `delTime` (ms).
pub async fn remove_before(
    State(rest): State<Arc<Rest>>,
    acting: Acting,
    device: Device,
    Path((_, _, kind, _)): KindPath,
    params: Params,
) -> Result<Json<RemovedResponse>, ApiError> {
    let before = params
        .get("delTime")
        .and_then(|t| t.parse::<u64>().ok())
        .ok_or_else(|| input("delTime: a time in ms"))?;
    remove(
        &rest,
        &acting,
        device,
        &kind,
        &params,
        Removal::Before(before),
    )
    .await
}

async fn remove(
    rest: &Rest,
    acting: &Acting,
    Device(resource): Device,
    kind: &str,
    params: &HashMap<String, String>,
    removal: Removal,
) -> Result<Json<RemovedResponse>, ApiError> {
    let target = delete_target(kind, params)?;
    rest.roam
        .remove_messages(&acting.caller, &acting.user, &resource, &target, removal)
        .await?;
    Ok(Json(RemovedResponse {
        data: "success".into(),
    }))
}

/// # `DELETE /{org}/{app}/user/{u}/user_channel?resource=`
///
/// Body `{channel, type, delete_roam}`: the conversation leaves the user's list; with
/// `delete_roam` its history up to now is gone for the user too.
pub async fn delete_conversation(
    State(rest): State<Arc<Rest>>,
    acting: Acting,
    Device(resource): Device,
    JsonBody(b): JsonBody<DeleteConversationBody>,
) -> Result<Json<DeletedResponse>, ApiError> {
    let target = target_of(&b.channel, &b.kind)?;
    rest.roam
        .delete_conversation(
            &acting.caller,
            &acting.user,
            &resource,
            &target,
            b.delete_roam,
        )
        .await?;
    Ok(Json(DeletedResponse::ok()))
}

/// # `POST /{org}/{app}/sdk/message/roaming/user/{u}/delete/all?resource=`
///
/// Every conversation of the user, with its history.
pub async fn delete_all(
    State(rest): State<Arc<Rest>>,
    acting: Acting,
    Device(resource): Device,
) -> Result<Json<DeletedResponse>, ApiError> {
    rest.roam
        .delete_all_conversations(&acting.caller, &acting.user, &resource)
        .await?;
    Ok(Json(DeletedResponse::ok()))
}
