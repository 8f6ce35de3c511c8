//! Message roaming over REST: the conversation list, pins, marks, history and one-way
//! deletes, at the paths and in the shapes the Web SDK uses (PROTOCOL.md §h).
//!
//! The SDK appends GET parameters without URL-encoding them and sometimes with empty pairs
//! (`?&limit=20`, `…&&resource=`); the query parser skips empty pairs.
use std::{collections::HashMap, sync::Arc};

use axum::{
    Json,
    extract::{Path, Query, State},
    response::{IntoResponse, Response},
};
use base64::Engine as _;
use prost::Message as _;
use roam_domain::{
    auth::Principal,
    conversation::Target,
    device::Resource,
    group::GroupId,
    id::MessageId,
    message::StoredMessage,
    roaming::{
        ConversationSummary, Direction, HistoryQuery, ListCursor, ListFilter, ListQuery, Mark,
        PageSize, Removal,
    },
    user::UserId,
};
use roam_protocol::{
    jid,
    message_json::{ChatKind, body_to_rest},
    pb::{MessageBody, Meta, meta::NameSpace},
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{
    Rest,
    error::ApiError,
    extract::{Caller, JsonBody},
    messages::REST_RESOURCE,
};

type Params = Query<HashMap<String, String>>;
type UserPath = Path<(String, String, String)>;

/// Default page size of the conversation list (the SDK always sends one).
const DEFAULT_LIST_PAGE: i64 = 20;

fn user_of(raw: &str) -> Result<UserId, ApiError> {
    UserId::parse(raw).map_err(|e| ApiError::IllegalArgument(e.to_string()))
}

fn input(e: impl std::fmt::Display) -> ApiError {
    ApiError::IllegalArgument(e.to_string())
}

/// The acting device: `?resource=` as the SDK sends it, or (an admin or script without one)
/// the REST pseudo-device, so that every real device hears of the change.
fn resource_of(params: &HashMap<String, String>) -> Result<Resource, ApiError> {
    let raw = params
        .get("resource")
        .map(String::as_str)
        .filter(|r| !r.is_empty() && *r != "undefined")
        .unwrap_or(REST_RESOURCE);
    Resource::parse(raw).map_err(input)
}

fn page_size(raw: Option<&String>, default: i64) -> Result<PageSize, ApiError> {
    let n = match raw.map(String::as_str) {
        None | Some("") | Some("undefined") => default,
        Some(s) => s
            .parse()
            .map_err(|_| input(format!("limit must be a number, got {s:?}")))?,
    };
    PageSize::parse(n).map_err(input)
}

/// A conversation named the SDK's way: an id and a type (`chat` = single chat; `groupChat`,
/// `groupchat`, `group` = group).
fn target_of(id: &str, kind: &str) -> Result<Target, ApiError> {
    match kind.to_ascii_lowercase().as_str() {
        "chat" | "singlechat" => UserId::parse(id).map(Target::User).map_err(input),
        "groupchat" | "group" | "chatroom" => GroupId::parse(id).map(Target::Group).map_err(input),
        other => Err(input(format!("unknown conversation type {other:?}"))),
    }
}

/// # `GET /{org}/{app}/sdk/user/{u}/user_channels/list`
///
/// `limit` (1..50, default 20), `cursor` (empty = first page), `is_top=true` for the pinned
/// list, `needEmptySession=true` to include conversations whose messages were all deleted.
/// Also the operator's view: `GET …/user/{u}/user_channels` and `…/users/{u}/user_channels`
/// with the admin token.
pub async fn list(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    Path((_, _, username)): UserPath,
    Query(params): Params,
) -> Result<Response, ApiError> {
    let filter = if params.get("is_top").is_some_and(|v| v == "true") {
        ListFilter::Pinned
    } else {
        ListFilter::All {
            include_empty: params.get("needEmptySession").is_some_and(|v| v == "true"),
        }
    };
    list_with(&rest, &caller, &username, &params, filter).await
}

/// # `GET /{org}/{app}/sdk/user/{u}/user_channels/mark/search?mark=mark_N`
pub async fn search_marked(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    Path((_, _, username)): UserPath,
    Query(params): Params,
) -> Result<Response, ApiError> {
    let mark = Mark::parse(params.get("mark").map_or("", String::as_str)).map_err(input)?;
    list_with(&rest, &caller, &username, &params, ListFilter::Marked(mark)).await
}

async fn list_with(
    rest: &Rest,
    caller: &Principal,
    username: &str,
    params: &HashMap<String, String>,
    filter: ListFilter,
) -> Result<Response, ApiError> {
    let user = user_of(username)?;
    let query = ListQuery {
        filter,
        limit: page_size(params.get("limit"), DEFAULT_LIST_PAGE)?,
        after: ListCursor::parse(params.get("cursor").map_or("", String::as_str)).map_err(input)?,
    };
    let page = rest.roam.conversations(caller, &user, &query).await?;
    Ok(Json(ListResponse {
        data: ListData {
            cursor: page.next.map(|c| c.encode()).unwrap_or_default(),
            channel_infos: page.items.iter().map(|c| rest.channel_info(c)).collect(),
        },
        timestamp: roam_domain::now_ms(),
        duration: 0,
    })
    .into_response())
}

/// The list's answer: `{data: {cursor, channel_infos}, timestamp, duration}`.
#[derive(Serialize)]
struct ListResponse<'a> {
    data: ListData<'a>,
    timestamp: u64,
    duration: u64,
}

#[derive(Serialize)]
struct ListData<'a> {
    cursor: String,
    channel_infos: Vec<ChannelInfo<'a>>,
}

impl Rest {
    fn app_key(&self) -> String {
        format!("{}#{}", self.org, self.app)
    }

    /// One conversation as the SDK's list parser reads it. Typed rather than built as a JSON
    /// value tree: a page of 50 is serialised straight into the response.
    fn channel_info<'a>(&self, c: &'a ConversationSummary) -> ChannelInfo<'a> {
        let meta = c.last.as_ref().map(|m| {
            let kind = match m.to {
                Target::User(_) => ChatKind::Single,
                _ => ChatKind::Group,
            };
            let payload = MessageBody::decode(m.payload.clone())
                .map(|b| body_to_rest(&b, kind))
                .unwrap_or_else(|_| json!({}));
            LastMessage {
                id: m.id.0.to_string(),
                from: m.from.as_str(),
                to: m.to.to_string(),
                timestamp: m.timestamp_ms,
                payload: payload.to_string(),
            }
        });
        ChannelInfo {
            session_to: c.target.to_string(),
            session_type: if matches!(c.target, Target::User(_)) {
                "chat"
            } else {
                "groupchat"
            },
            unread_num: c.unread,
            is_top: c.pinned_ms.is_some(),
            update_top_status_time: c.pinned_ms.unwrap_or(0),
            marks: c.marks.iter().map(|m| m.to_string()).collect(),
            meta: meta.map_or(MetaField::Empty {}, MetaField::Message),
        }
    }

    /// A stored message as the base64 `Meta` history carries: the same meta a device pulls.
    fn history_meta(&self, m: &StoredMessage) -> String {
        let app = self.app_key();
        let to = match &m.to {
            Target::User(u) => jid::user(&app, u.as_str(), None),
            Target::Group(g) => jid::conference(&app, g.as_str()),
            Target::System => jid::user(&app, m.from.as_str(), None),
        };
        let meta = Meta {
            id: Some(m.id.0),
            from: Some(jid::user(
                &app,
                m.from.as_str(),
                Some(m.from_resource.as_str()),
            )),
            to: Some(to),
            timestamp: Some(m.timestamp_ms),
            ns: Some(NameSpace::Chat as i32),
            payload: Some(m.payload.clone()),
            ..Default::default()
        };
        base64::engine::general_purpose::STANDARD.encode(meta.encode_to_vec())
    }
}

/// Body of `POST …/sdk/user/{u}/user_channel/top`.
/// One item of `channel_infos`.
#[derive(Serialize)]
struct ChannelInfo<'a> {
    session_to: String,
    session_type: &'static str,
    unread_num: u64,
    is_top: bool,
    update_top_status_time: u64,
    marks: Vec<String>,
    meta: MetaField<'a>,
}

/// The newest message, or `{}` when the user sees none.
#[derive(Serialize)]
#[serde(untagged)]
enum MetaField<'a> {
    Message(LastMessage<'a>),
    Empty {},
}

#[derive(Serialize)]
struct LastMessage<'a> {
    id: String,
    from: &'a str,
    to: String,
    timestamp: u64,
    /// The message as Easemob's REST JSON, in a string (as the SDK expects).
    payload: String,
}

#[derive(Debug, Deserialize)]
pub struct PinBody {
    #[serde(rename = "type")]
    kind: String,
    to: String,
}

/// # `POST /{org}/{app}/sdk/user/{u}/user_channel/top?resource=` — pin
///
/// Answers `data: {is_top, update_top_status_time}`. More than `max_pinned` → 403 (the SDK's
/// MAX_LIMIT).
pub async fn pin(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    Path((_, _, username)): UserPath,
    Query(params): Params,
    JsonBody(b): JsonBody<PinBody>,
) -> Result<Json<Value>, ApiError> {
    let target = target_of(&b.to, &b.kind)?;
    set_pin(&rest, &caller, &username, &params, target, true).await
}

/// # `DELETE /{org}/{app}/sdk/user/{u}/user_channel/top?type=&to=&resource=` — unpin
pub async fn unpin(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    Path((_, _, username)): UserPath,
    Query(params): Params,
) -> Result<Json<Value>, ApiError> {
    let get = |k: &str| params.get(k).map_or("", String::as_str);
    let target = target_of(get("to"), get("type"))?;
    set_pin(&rest, &caller, &username, &params, target, false).await
}

async fn set_pin(
    rest: &Rest,
    caller: &Principal,
    username: &str,
    params: &HashMap<String, String>,
    target: Target,
    on: bool,
) -> Result<Json<Value>, ApiError> {
    let user = user_of(username)?;
    let resource = resource_of(params)?;
    let at = rest
        .roam
        .pin_conversation(caller, &user, &resource, &target, on)
        .await?;
    Ok(Json(json!({
        "data": {"is_top": at.is_some(), "update_top_status_time": at.unwrap_or(0)},
    })))
}

/// Body of `POST|DELETE …/sdk/user/{u}/user_channels/mark`.
#[derive(Debug, Deserialize)]
pub struct MarkBody {
    mark: String,
    targets: Vec<MarkTarget>,
}

#[derive(Debug, Deserialize)]
pub struct MarkTarget {
    to: String,
    #[serde(rename = "type")]
    kind: String,
}

/// # `POST /{org}/{app}/sdk/user/{u}/user_channels/mark?resource=` — add a mark
///
/// Answers `data: {ignore: [{to, type}]}` for targets the user has no conversation with.
pub async fn mark(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    Path((_, _, username)): UserPath,
    Query(params): Params,
    JsonBody(b): JsonBody<MarkBody>,
) -> Result<Json<Value>, ApiError> {
    set_mark(&rest, &caller, &username, &params, b, true).await
}

/// # `DELETE /{org}/{app}/sdk/user/{u}/user_channels/mark?resource=` — remove a mark
pub async fn unmark(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    Path((_, _, username)): UserPath,
    Query(params): Params,
    JsonBody(b): JsonBody<MarkBody>,
) -> Result<Json<Value>, ApiError> {
    set_mark(&rest, &caller, &username, &params, b, false).await
}

async fn set_mark(
    rest: &Rest,
    caller: &Principal,
    username: &str,
    params: &HashMap<String, String>,
    b: MarkBody,
    on: bool,
) -> Result<Json<Value>, ApiError> {
    let user = user_of(username)?;
    let resource = resource_of(params)?;
    let mark = Mark::parse(&b.mark).map_err(input)?;
    if b.targets.is_empty() || b.targets.len() > 20 {
        return Err(input("targets: 1 to 20 conversations"));
    }
    let targets = b
        .targets
        .iter()
        .map(|t| target_of(&t.to, &t.kind))
        .collect::<Result<Vec<_>, _>>()?;
    let missing = rest
        .roam
        .mark_conversations(caller, &user, &resource, targets, mark, on)
        .await?;
    let ignore: Vec<Value> = missing
        .iter()
        .map(|t| {
            let kind = if matches!(t, Target::User(_)) {
                "chat"
            } else {
                "groupchat"
            };
            json!({"to": t.to_string(), "type": kind})
        })
        .collect();
    Ok(Json(json!({"data": {"ignore": ignore}})))
}

/// Body of `POST …/users/{u}/messageroaming`.
#[derive(Debug, Deserialize)]
pub struct HistoryBody {
    /// `bob@easemob.com` (single chat) or `123@conference.easemob.com` (group, chat room).
    queue: String,
    /// A message id (number or string) to continue after; -1 or absent = from the end.
    #[serde(default)]
    start: Option<Value>,
    #[serde(default)]
    pull_number: Option<i64>,
    /// true = oldest first ("down"); false = newest first ("up").
    #[serde(default)]
    is_positive: Option<bool>,
    /// Comma-joined body types.
    #[serde(default, rename = "msgType")]
    msg_type: Option<String>,
    #[serde(default, rename = "startTime")]
    start_time: Option<Value>,
    #[serde(default, rename = "endTime")]
    end_time: Option<Value>,
    /// Sender filter (groups).
    #[serde(default, rename = "userId")]
    user_id: Option<String>,
}

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
        Some(n) if n < 0 => Ok(None),
        Some(n) => Ok(Some(n as u64)),
        None => Err(input(format!("{what} must be a number"))),
    }
}

/// # `POST /{org}/{app}/users/{u}/messageroaming` — a page of history
///
/// Answers `data: {msgs: [{msg: base64 Meta}], next_key, is_last}`, in the order asked for.
pub async fn history(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    Path((_, _, username)): UserPath,
    JsonBody(b): JsonBody<HistoryBody>,
) -> Result<Json<Value>, ApiError> {
    let user = user_of(&username)?;
    let (name, domain) = b.queue.split_once('@').unwrap_or((&b.queue, ""));
    let target = if domain.starts_with("conference") {
        Target::Group(GroupId::parse(name).map_err(input)?)
    } else {
        Target::User(user_of(name)?)
    };
    let query = HistoryQuery {
        target,
        from: optional_number(&b.start, "start")?.map(MessageId),
        direction: if b.is_positive.unwrap_or(false) {
            Direction::OldestFirst
        } else {
            Direction::NewestFirst
        },
        limit: PageSize::parse(b.pull_number.unwrap_or(20)).map_err(input)?,
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
            Some(u) => Some(user_of(u)?),
        },
    };
    let page = rest.roam.history(&caller, &user, &query).await?;
    let msgs: Vec<Value> = page
        .messages
        .iter()
        .map(|m| json!({"msg": rest.history_meta(m)}))
        .collect();
    let next_key = page.messages.last().map(|m| m.id.0.to_string());
    Ok(Json(json!({
        "data": {"msgs": msgs, "next_key": next_key, "is_last": page.is_last},
    })))
}

/// The conversation a roaming delete names: `chat` + `userId`, or `group` + `groupId`.
fn delete_target(kind: &str, params: &HashMap<String, String>) -> Result<Target, ApiError> {
    match kind {
        "chat" => user_of(params.get("userId").map_or("", String::as_str)).map(Target::User),
        "group" => GroupId::parse(params.get("groupId").map_or("", String::as_str))
            .map(Target::Group)
            .map_err(input),
        other => Err(input(format!("unknown conversation type {other:?}"))),
    }
}

/// # `DELETE /{org}/{app}/sdk/message/roaming/{chat|group}/user/{u}?userId|groupId=&msgIdList=&resource=`
///
/// One-way delete of up to 50 messages by id: gone for this user, on every device.
pub async fn remove_by_ids(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    Path((_, _, kind, username)): Path<(String, String, String, String)>,
    Query(params): Params,
) -> Result<Json<Value>, ApiError> {
    let ids = params
        .get("msgIdList")
        .map_or("", String::as_str)
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.trim().parse().map(MessageId))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| input("msgIdList: message ids, comma separated"))?;
    let removal = Removal::ids(ids).map_err(input)?;
    remove(&rest, &caller, &username, &kind, &params, removal).await
}

/// # `DELETE /{org}/{app}/sdk/message/roaming/{chat|group}/user/{u}/time?userId|groupId=&delTime=&resource=`
///
/// One-way delete of everything at or before `delTime` (ms).
pub async fn remove_before(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    Path((_, _, kind, username)): Path<(String, String, String, String)>,
    Query(params): Params,
) -> Result<Json<Value>, ApiError> {
    let before = params
        .get("delTime")
        .and_then(|t| t.parse::<u64>().ok())
        .ok_or_else(|| input("delTime: a time in ms"))?;
    remove(
        &rest,
        &caller,
        &username,
        &kind,
        &params,
        Removal::Before(before),
    )
    .await
}

async fn remove(
    rest: &Rest,
    caller: &Principal,
    username: &str,
    kind: &str,
    params: &HashMap<String, String>,
    removal: Removal,
) -> Result<Json<Value>, ApiError> {
    let user = user_of(username)?;
    let target = delete_target(kind, params)?;
    let resource = resource_of(params)?;
    rest.roam
        .remove_messages(caller, &user, &resource, &target, removal)
        .await?;
    Ok(Json(json!({"data": "success"})))
}

/// Body of `DELETE …/user/{u}/user_channel`.
#[derive(Debug, Deserialize)]
pub struct DeleteConversationBody {
    channel: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    delete_roam: bool,
}

/// # `DELETE /{org}/{app}/user/{u}/user_channel?resource=`
///
/// Body `{channel, type, delete_roam}`: the conversation leaves the user's list; with
/// `delete_roam` its history up to now is gone for the user too.
pub async fn delete_conversation(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    Path((_, _, username)): UserPath,
    Query(params): Params,
    JsonBody(b): JsonBody<DeleteConversationBody>,
) -> Result<Json<Value>, ApiError> {
    let user = user_of(&username)?;
    let target = target_of(&b.channel, &b.kind)?;
    let resource = resource_of(&params)?;
    rest.roam
        .delete_conversation(&caller, &user, &resource, &target, b.delete_roam)
        .await?;
    Ok(Json(json!({"result": "ok", "data": {}})))
}

/// # `POST /{org}/{app}/sdk/message/roaming/user/{u}/delete/all?resource=`
///
/// Every conversation of the user, with its history.
pub async fn delete_all(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    Path((_, _, username)): UserPath,
    Query(params): Params,
) -> Result<Json<Value>, ApiError> {
    let user = user_of(&username)?;
    let resource = resource_of(&params)?;
    rest.roam
        .delete_all_conversations(&caller, &user, &resource)
        .await?;
    Ok(Json(json!({"result": "ok", "data": {}})))
}
