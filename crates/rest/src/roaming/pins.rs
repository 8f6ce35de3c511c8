//! Pins and marks: a user's own flags on conversations, which reach their other devices.
use std::sync::Arc;

use axum::{Json, extract::State};
use roam_domain::{conversation::Target, roaming::Mark};
use roam_protocol::rest::roaming::{
    MarkBody, MarkData, MarkResponse, PinBody, PinData, PinResponse,
};

use super::{input, target_of};
use crate::{
    Rest,
    error::ApiError,
    extract::{Acting, Device, JsonBody, Params},
};

/// Most conversations one mark request names.
const MAX_MARK_TARGETS: usize = 20;

/// # `POST /{org}/{app}/sdk/user/{u}/user_channel/top?resource=` — pin
///
/// Answers `data: {is_top, update_top_status_time}`. More than `max_pinned` → 403 (the SDK's
/// MAX_LIMIT).
pub async fn pin(
    State(rest): State<Arc<Rest>>,
    acting: Acting,
    device: Device,
    JsonBody(b): JsonBody<PinBody>,
) -> Result<Json<PinResponse>, ApiError> {
    let target = target_of(&b.to, &b.kind)?;
    set_pin(&rest, &acting, device, target, true).await
}

/// # `DELETE /{org}/{app}/sdk/user/{u}/user_channel/top?type=&to=&resource=` — unpin
pub async fn unpin(
    State(rest): State<Arc<Rest>>,
    acting: Acting,
    device: Device,
    params: Params,
) -> Result<Json<PinResponse>, ApiError> {
    let get = |k: &str| params.get(k).map_or("", String::as_str);
    let target = target_of(get("to"), get("type"))?;
    set_pin(&rest, &acting, device, target, false).await
}

async fn set_pin(
    rest: &Rest,
    acting: &Acting,
    Device(resource): Device,
    target: Target,
    on: bool,
) -> Result<Json<PinResponse>, ApiError> {
    let at = rest
        .roam
        .pin_conversation(&acting.caller, &acting.user, &resource, &target, on)
        .await?;
    Ok(Json(PinResponse {
        data: PinData {
            is_top: at.is_some(),
            update_top_status_time: at.unwrap_or(0),
        },
    }))
}

/// # `POST /{org}/{app}/sdk/user/{u}/user_channels/mark?resource=` — add a mark
///
/// Answers `data: {ignore: [{to, type}]}` for targets the user has no conversation with.
pub async fn mark(
    State(rest): State<Arc<Rest>>,
    acting: Acting,
    device: Device,
    JsonBody(b): JsonBody<MarkBody>,
) -> Result<Json<MarkResponse>, ApiError> {
    set_mark(&rest, &acting, device, b, true).await
}

/// # `DELETE /{org}/{app}/sdk/user/{u}/user_channels/mark?resource=` — remove a mark
pub async fn unmark(
    State(rest): State<Arc<Rest>>,
    acting: Acting,
    device: Device,
    JsonBody(b): JsonBody<MarkBody>,
) -> Result<Json<MarkResponse>, ApiError> {
    set_mark(&rest, &acting, device, b, false).await
}

async fn set_mark(
    rest: &Rest,
    acting: &Acting,
    Device(resource): Device,
    b: MarkBody,
    on: bool,
) -> Result<Json<MarkResponse>, ApiError> {
    let mark = Mark::parse(&b.mark).map_err(input)?;
    if b.targets.is_empty() || b.targets.len() > MAX_MARK_TARGETS {
        return Err(input("targets: 1 to 20 conversations"));
    }
    let targets = b
        .targets
        .iter()
        .map(|t| target_of(&t.to, &t.kind))
        .collect::<Result<Vec<_>, _>>()?;
    let missing = rest
        .roam
        .mark_conversations(&acting.caller, &acting.user, &resource, targets, mark, on)
        .await?;
    Ok(Json(MarkResponse {
        data: MarkData {
            ignore: missing.iter().map(roam_wire::rest::channel_ref).collect(),
        },
    }))
}
