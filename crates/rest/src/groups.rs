//! Groups and chat rooms over REST, in Easemob's paths and envelopes.
//!
//! The SDK's own group methods call these (with a user token); operators call them with the
//! admin token. Group lists and details come back in Easemob's v3 shapes: a member entry is
//! `{"owner": id}`, `{"admin": id}` or `{"member": id}` with `joined_time`.
use std::{collections::HashMap, sync::Arc};

use axum::{
    Json,
    extract::{OriginalUri, Path, Query, State},
};
use roam_domain::{
    group::{Group, GroupKind, GroupSettings, Member, Role},
    now_ms,
    service::CreateGroup,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    Rest,
    error::ApiError,
    extract::{Caller, JsonBody},
};

type Params = Query<HashMap<String, String>>;

impl Rest {
    /// Easemob's envelope around `data`.
    pub(crate) fn envelope(&self, action: &str, uri: &OriginalUri, data: Value) -> Value {
        json!({
            "action": action,
            "application": self.app_uuid,
            "applicationName": self.app,
            "organization": self.org,
            "uri": uri.0.path(),
            "entities": [],
            "data": data,
            "timestamp": now_ms(),
            "duration": 0,
        })
    }
}

fn kind_of(uri: &OriginalUri) -> GroupKind {
    if uri.0.path().contains("/chatrooms") {
        GroupKind::ChatRoom
    } else {
        GroupKind::Group
    }
}

fn role_name(r: Role) -> &'static str {
    match r {
        Role::Owner => "owner",
        Role::Admin => "admin",
        Role::Member => "member",
    }
}

fn member_json(m: &Member) -> Value {
    json!({ role_name(m.role): m.user.as_str(), "joined_time": m.joined_ms })
}

fn group_json(g: &Group, members: &[Member]) -> Value {
    json!({
        "id": g.id.as_str(),
        "name": g.settings.name,
        "description": g.settings.description,
        "membersonly": g.settings.approval,
        "allowinvites": g.settings.allow_invites,
        "maxusers": g.settings.max_users,
        "owner": g.owner.as_str(),
        "created": g.created_ms,
        "custom": g.settings.custom,
        "public": g.settings.public,
        "disabled": false,
        "mute": false,
        "affiliations_count": g.member_count,
        "affiliations": members.iter().map(member_json).collect::<Vec<_>>(),
    })
}

/// Page parameters as the SDK and Easemob send them: `pagenum`/`pagesize` (1-based) or
/// `cursor`/`limit` (the cursor is the offset as a string).
fn page(params: &HashMap<String, String>) -> Result<(usize, usize), ApiError> {
    let num = |k: &str| -> Result<Option<usize>, ApiError> {
        params
            .get(k)
            .filter(|v| !v.is_empty() && *v != "undefined")
            .map(|v| {
                v.parse::<usize>()
                    .map_err(|_| ApiError::IllegalArgument(format!("{k} must be a number")))
            })
            .transpose()
    };
    let size = num("pagesize")?
        .or(num("limit")?)
        .unwrap_or(20)
        .clamp(1, 1000);
    let offset = match num("pagenum")? {
        Some(n) => n.saturating_sub(1) * size,
        None => num("cursor")?.unwrap_or(0),
    };
    Ok((offset, size))
}

/// Body of `POST /chatgroups` and `POST /chatrooms`.
#[derive(Debug, Deserialize)]
pub struct NewGroupBody {
    #[serde(alias = "name")]
    groupname: Option<String>,
    #[serde(alias = "description")]
    desc: Option<String>,
    #[serde(default)]
    public: Option<bool>,
    #[serde(default)]
    approval: Option<bool>,
    #[serde(default)]
    allowinvites: Option<bool>,
    maxusers: Option<u32>,
    owner: Option<String>,
    #[serde(default)]
    members: Vec<String>,
    #[serde(default)]
    custom: Option<String>,
}

/// # `POST /{org}/{app}/chatgroups` and `POST /{org}/{app}/chatrooms`
pub async fn create(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    uri: OriginalUri,
    JsonBody(b): JsonBody<NewGroupBody>,
) -> Result<Json<Value>, ApiError> {
    let kind = kind_of(&uri);
    let settings = GroupSettings {
        name: b.groupname.unwrap_or_default(),
        description: b.desc.unwrap_or_default(),
        public: b.public.unwrap_or(kind == GroupKind::ChatRoom),
        approval: b.approval.unwrap_or(false),
        allow_invites: b.allowinvites.unwrap_or(false),
        max_users: b.maxusers.unwrap_or(if kind == GroupKind::ChatRoom {
            10_000
        } else {
            200
        }),
        custom: b.custom.unwrap_or_default(),
    };
    let group = rest
        .roam
        .create_group(
            &caller,
            CreateGroup {
                kind,
                owner: b.owner,
                members: b.members,
                settings,
            },
        )
        .await?;
    let data = match kind {
        GroupKind::Group => json!({ "groupid": group.id.as_str() }),
        GroupKind::ChatRoom => json!({ "id": group.id.as_str() }),
    };
    Ok(Json(rest.envelope("post", &uri, data)))
}

/// # `GET /{org}/{app}/chatgroups/{ids}` and `GET /{org}/{app}/chatrooms/{ids}`
///
/// Details of one group or several (comma-separated), with their members.
pub async fn info(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    uri: OriginalUri,
    Path((_, _, ids)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let mut out = Vec::new();
    for id in ids.split(',').filter(|s| !s.is_empty()) {
        let group = rest.roam.group_info(&caller, id).await?;
        let members = rest
            .roam
            .group_members(&caller, id, 0, 10_000)
            .await
            .unwrap_or_default();
        out.push(group_json(&group, &members));
    }
    Ok(Json(rest.envelope("get", &uri, json!(out))))
}

/// # `GET /{org}/{app}/chatgroups` and `GET /{org}/{app}/chatrooms`
///
/// All groups (admin) or public ones (users), a page at a time.
pub async fn list(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    uri: OriginalUri,
    Query(params): Params,
) -> Result<Json<Value>, ApiError> {
    let (offset, size) = page(&params)?;
    let groups = rest
        .roam
        .list_groups(&caller, kind_of(&uri), offset, size)
        .await?;
    let data: Vec<Value> = groups
        .iter()
        .map(|g| {
            json!({
                "id": g.id.as_str(), "groupid": g.id.as_str(), "name": g.settings.name,
                "groupname": g.settings.name, "owner": g.owner.as_str(),
                "affiliations": g.member_count, "affiliations_count": g.member_count,
                "public": g.settings.public,
            })
        })
        .collect();
    let mut body = rest.envelope("get", &uri, json!(data));
    body["count"] = json!(data.len());
    if data.len() == size {
        body["cursor"] = json!((offset + size).to_string());
    }
    Ok(Json(body))
}

/// # `GET /{org}/{app}/users/{username}/joined_chatgroups` (and `…/joined_chatrooms`)
pub async fn joined(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    uri: OriginalUri,
    Path((_, _, username)): Path<(String, String, String)>,
    Query(params): Params,
) -> Result<Json<Value>, ApiError> {
    let kind = if uri.0.path().ends_with("joined_chatrooms") {
        GroupKind::ChatRoom
    } else {
        GroupKind::Group
    };
    let (offset, size) = page(&params)?;
    let groups = rest.roam.joined_groups(&caller, &username, kind).await?;
    let data: Vec<Value> = groups
        .iter()
        .skip(offset)
        .take(size)
        .map(|g| {
            let role = if g.owner.as_str() == username.to_ascii_lowercase() {
                "owner"
            } else {
                "member"
            };
            json!({
                "id": g.id.as_str(), "groupid": g.id.as_str(), "name": g.settings.name,
                "groupname": g.settings.name, "disabled": false, "permission": role,
            })
        })
        .collect();
    let mut body = rest.envelope("get", &uri, json!(data));
    body["count"] = json!(data.len());
    Ok(Json(body))
}

/// # `GET /{org}/{app}/chatgroups/user/{username}` (the SDK's `getJoinedGroups` with roles)
///
/// The same groups as `joined_chatgroups`, as `entities` with counts and settings.
pub async fn joined_with_roles(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    uri: OriginalUri,
    Path((_, _, username)): Path<(String, String, String)>,
    Query(params): Params,
) -> Result<Json<Value>, ApiError> {
    let (offset, size) = page(&params)?;
    let groups = rest
        .roam
        .joined_groups(&caller, &username, GroupKind::Group)
        .await?;
    let me = username.to_ascii_lowercase();
    let entities: Vec<Value> = groups
        .iter()
        .skip(offset)
        .take(size)
        .map(|g| {
            json!({
                "groupId": g.id.as_str(), "name": g.settings.name,
                "affiliations_count": g.member_count,
                "permission": if g.owner.as_str() == me { "owner" } else { "member" },
                "disabled": false, "membersonly": g.settings.approval,
                "allowinvites": g.settings.allow_invites, "description": g.settings.description,
                "maxusers": g.settings.max_users, "public": g.settings.public,
            })
        })
        .collect();
    let mut body = rest.envelope("get", &uri, json!([]));
    body["entities"] = json!(entities);
    body["count"] = json!(entities.len());
    Ok(Json(body))
}

/// # `GET /{org}/{app}/chatgroups/{id}/users` (and chat rooms)
pub async fn members(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    uri: OriginalUri,
    Path((_, _, id)): Path<(String, String, String)>,
    Query(params): Params,
) -> Result<Json<Value>, ApiError> {
    let (offset, size) = page(&params)?;
    let members = rest.roam.group_members(&caller, &id, offset, size).await?;
    let data: Vec<Value> = members.iter().map(member_json).collect();
    let mut body = rest.envelope("get", &uri, json!(data));
    body["count"] = json!(data.len());
    body["params"] =
        json!({ "pagesize": [size.to_string()], "pagenum": [(offset / size + 1).to_string()] });
    if data.len() == size {
        body["cursor"] = json!((offset + size).to_string());
    }
    Ok(Json(body))
}

/// Body of a batch add: `{"usernames": [...]}`.
#[derive(Debug, Deserialize)]
pub struct UsernamesBody {
    usernames: Vec<String>,
}

/// # `POST /{org}/{app}/chatgroups/{id}/users/{username}` (and chat rooms)
pub async fn add_one(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    uri: OriginalUri,
    Path((_, _, id, username)): Path<(String, String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    rest.roam
        .add_group_members(&caller, &id, std::slice::from_ref(&username))
        .await?;
    let data = json!({ "result": true, "groupid": id, "id": id, "action": "add_member", "user": username.to_ascii_lowercase() });
    Ok(Json(rest.envelope("post", &uri, data)))
}

/// # `POST /{org}/{app}/chatgroups/{id}/invite` (the SDK's `inviteUsersToGroup`)
///
/// Answers one result per invited user, as the SDK's types declare.
pub async fn invite(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    uri: OriginalUri,
    Path((_, _, id)): Path<(String, String, String)>,
    JsonBody(b): JsonBody<UsernamesBody>,
) -> Result<Json<Value>, ApiError> {
    if b.usernames.is_empty() || b.usernames.len() > 60 {
        return Err(ApiError::IllegalArgument("usernames: 1 to 60 users".into()));
    }
    rest.roam
        .add_group_members(&caller, &id, &b.usernames)
        .await?;
    let data: Vec<Value> = b
        .usernames
        .iter()
        .map(|u| json!({ "action": "invite", "id": id, "result": true, "user": u.to_ascii_lowercase() }))
        .collect();
    Ok(Json(rest.envelope("post", &uri, json!(data))))
}

/// # `POST /{org}/{app}/chatgroups/{id}/users` (and chat rooms)
pub async fn add_many(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    uri: OriginalUri,
    Path((_, _, id)): Path<(String, String, String)>,
    JsonBody(b): JsonBody<UsernamesBody>,
) -> Result<Json<Value>, ApiError> {
    if b.usernames.is_empty() || b.usernames.len() > 60 {
        return Err(ApiError::IllegalArgument("usernames: 1 to 60 users".into()));
    }
    let added = rest
        .roam
        .add_group_members(&caller, &id, &b.usernames)
        .await?;
    let added: Vec<&str> = added.iter().map(|u| u.as_str()).collect();
    let data = json!({ "newmembers": added, "groupid": id, "id": id, "action": "add_member" });
    Ok(Json(rest.envelope("post", &uri, data)))
}

/// # `DELETE /{org}/{app}/chatgroups/{id}/users/{usernames}` (and chat rooms)
///
/// One user, or several comma-separated.
pub async fn remove(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    uri: OriginalUri,
    Path((_, _, id, usernames)): Path<(String, String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let users: Vec<String> = usernames
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let removed = rest.roam.remove_group_members(&caller, &id, &users).await?;
    let results: Vec<Value> = users
        .iter()
        .map(|u| {
            let ok = removed.iter().any(|r| r.as_str() == u.to_ascii_lowercase());
            json!({ "result": ok, "groupid": id, "id": id, "action": "remove_member", "user": u.to_ascii_lowercase() })
        })
        .collect();
    let data = if results.len() == 1 {
        results[0].clone()
    } else {
        json!(results)
    };
    Ok(Json(rest.envelope("delete", &uri, data)))
}

/// # `DELETE /{org}/{app}/chatgroups/{id}/quit` (the SDK's `leaveGroup`)
pub async fn quit(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    uri: OriginalUri,
    Path((_, _, id)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    rest.roam.leave_group(&caller, &id).await?;
    Ok(Json(rest.envelope(
        "delete",
        &uri,
        json!({ "result": true }),
    )))
}

/// # `POST /{org}/{app}/chatgroups/{id}/apply` (the SDK's `joinGroup`)
///
/// Joins at once when the group is public and needs no approval.
pub async fn apply(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    uri: OriginalUri,
    Path((_, _, id)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    rest.roam.join_group(&caller, &id).await?;
    let data = json!({ "groupid": id, "action": "apply", "result": true, "user": match &caller { roam_domain::auth::Principal::User(u) => u.as_str().to_owned(), _ => String::new() } });
    Ok(Json(rest.envelope("post", &uri, data)))
}

/// # `DELETE /{org}/{app}/chatgroups/{id}` (and chat rooms)
pub async fn destroy(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    uri: OriginalUri,
    Path((_, _, id)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    rest.roam.destroy_group(&caller, &id).await?;
    let data = json!({ "success": true, "groupid": id, "id": id });
    Ok(Json(rest.envelope("delete", &uri, data)))
}

/// Body of `PUT /chatgroups/{id}`: a new owner (other settings are not changed here yet).
#[derive(Debug, Deserialize)]
pub struct ModifyBody {
    newowner: Option<String>,
}

/// # `PUT /{org}/{app}/chatgroups/{id}` with `{"newowner": …}` (the SDK's `changeOwner`)
pub async fn modify(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    uri: OriginalUri,
    Path((_, _, id)): Path<(String, String, String)>,
    JsonBody(b): JsonBody<ModifyBody>,
) -> Result<Json<Value>, ApiError> {
    let Some(owner) = b.newowner else {
        return Err(ApiError::IllegalArgument(
            "only newowner can be changed".into(),
        ));
    };
    rest.roam.transfer_group(&caller, &id, &owner).await?;
    Ok(Json(rest.envelope(
        "put",
        &uri,
        json!({ "newowner": true }),
    )))
}
