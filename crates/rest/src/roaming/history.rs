//! A page of one conversation's history, as the user sees it.
use std::sync::Arc;

use axum::{Json, extract::State};
use roam_domain::{
    conversation::Target,
    group::GroupId,
    id::MessageId,
    roaming::{Direction, HistoryQuery, PageSize},
};
use roam_protocol::rest::roaming::{HistoryBody, HistoryData, HistoryResponse};
use serde_json::Value;

use super::input;
use crate::{
    Rest,
    error::ApiError,
    extract::{Acting, JsonBody, user_id},
};

/// Page size when the body names none.
const DEFAULT_HISTORY_PAGE: i64 = 20;

/// A number given as a JSON number or string; null, "", -1 → none.
fn optional_number(v: &Option<Value>, what: &str) -> Result<Option<u64>, ApiError> {
    let n = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) if s.is_empty() => return Ok(None),
        Some(Value::String(s)) => s.parse::<i64>().ok(),
        Some(_) => None,
    };
    match n {
        // (A negative number is none.)
        Some(n) => Ok(u64::try_from(n).ok()),
        None => Err(input(format!("{what} must be a number"))),
    }
}

/// The conversation a history body names by its queue: `bob@easemob.com` (or `bob`) is a
/// single chat, `123@conference.easemob.com` a group or chat room.
fn queue_target(queue: &str) -> Result<Target, ApiError> {
    let (name, domain) = queue.split_once('@').unwrap_or((queue, ""));
    if domain.starts_with("conference") {
        Ok(Target::Group(GroupId::parse(name).map_err(input)?))
    } else {
        Ok(Target::User(user_id(name)?))
    }
}

/// # `POST /{org}/{app}/users/{u}/messageroaming` — a page of history
///
/// Answers `data: {msgs: [{msg: base64 Meta}], next_key, is_last}`, in the order asked for.
pub async fn history(
    State(rest): State<Arc<Rest>>,
    acting: Acting,
    JsonBody(b): JsonBody<HistoryBody>,
) -> Result<Json<HistoryResponse>, ApiError> {
    let query = HistoryQuery {
        target: queue_target(&b.queue)?,
        from: optional_number(&b.start, "start")?.map(MessageId),
        direction: if b.is_positive.unwrap_or(false) {
            Direction::OldestFirst
        } else {
            Direction::NewestFirst
        },
        limit: PageSize::parse(b.pull_number.unwrap_or(DEFAULT_HISTORY_PAGE)).map_err(input)?,
        content_types: b
            .msg_type
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect(),
        start_ms: optional_number(&b.start_time, "startTime")?,
        end_ms: optional_number(&b.end_time, "endTime")?,
        sender: match b.user_id.as_deref() {
            None | Some("") => None,
            Some(u) => Some(user_id(u)?),
        },
    };
    let page = rest
        .roam
        .history(&acting.caller, &acting.user, &query)
        .await?;
    let app_key = rest.app_key();
    Ok(Json(HistoryResponse {
        data: HistoryData {
            msgs: page
                .messages
                .iter()
                .map(|m| roam_wire::rest::history_item(&app_key, m))
                .collect(),
            next_key: page.messages.last().map(|m| m.id.0.to_string()),
            is_last: page.is_last,
        },
    }))
}
