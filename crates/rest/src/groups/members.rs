//! Who is in a group or chat room: member lists, adds, invites, removes, joining and leaving.
use std::sync::Arc;

use axum::{
    Json,
    extract::{OriginalUri, Path, State},
};
use roam_domain::auth::Principal;
use roam_protocol::rest::groups::{
    AddedMembers, Affiliation, Done, Envelope, MemberResult, OneOrMany, PageParams, UsernamesBody,
};
use roam_wire::rest as render;

use super::{MAX_USERS_PER_CALL, page};
use crate::{
    Rest,
    error::ApiError,
    extract::{Caller, JsonBody, Params},
};

/// The `usernames` of a batch add or invite: 1 to 60 of them.
fn usernames(b: &UsernamesBody) -> Result<(), ApiError> {
    if b.usernames.is_empty() || b.usernames.len() > MAX_USERS_PER_CALL {
        return Err(ApiError::IllegalArgument("usernames: 1 to 60 users".into()));
    }
    Ok(())
}

/// # `GET /{org}/{app}/chatgroups/{id}/users` (and chat rooms)
pub async fn members(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    uri: OriginalUri,
    Path((_, _, id)): Path<(String, String, String)>,
    params: Params,
) -> Result<Json<Envelope<Vec<Affiliation>>>, ApiError> {
    let (offset, size) = page(&params)?;
    let members = rest.roam.group_members(&caller, &id, offset, size).await?;
    let data: Vec<Affiliation> = members.iter().map(render::affiliation).collect();
    let full = data.len() == size;
    let mut body = rest.envelope("get", &uri, data);
    body.count = Some(body.data.len());
    body.params = Some(PageParams {
        pagesize: vec![size.to_string()],
        pagenum: vec![(offset / size + 1).to_string()],
    });
    if full {
        body.cursor = Some((offset + size).to_string());
    }
    Ok(Json(body))
}

/// # `POST /{org}/{app}/chatgroups/{id}/users/{username}` (and chat rooms)
pub async fn add_one(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    uri: OriginalUri,
    Path((_, _, id, username)): Path<(String, String, String, String)>,
) -> Result<Json<Envelope<MemberResult>>, ApiError> {
    rest.roam
        .add_group_members(&caller, &id, std::slice::from_ref(&username))
        .await?;
    let data = MemberResult {
        result: true,
        groupid: Some(id.clone()),
        id: Some(id),
        action: "add_member".into(),
        user: username.to_ascii_lowercase(),
    };
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
) -> Result<Json<Envelope<Vec<MemberResult>>>, ApiError> {
    usernames(&b)?;
    rest.roam
        .add_group_members(&caller, &id, &b.usernames)
        .await?;
    let data = b
        .usernames
        .iter()
        .map(|u| MemberResult {
            result: true,
            groupid: None,
            id: Some(id.clone()),
            action: "invite".into(),
            user: u.to_ascii_lowercase(),
        })
        .collect();
    Ok(Json(rest.envelope("post", &uri, data)))
}

/// # `POST /{org}/{app}/chatgroups/{id}/users` (and chat rooms)
pub async fn add_many(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    uri: OriginalUri,
    Path((_, _, id)): Path<(String, String, String)>,
    JsonBody(b): JsonBody<UsernamesBody>,
) -> Result<Json<Envelope<AddedMembers>>, ApiError> {
    usernames(&b)?;
    let added = rest
        .roam
        .add_group_members(&caller, &id, &b.usernames)
        .await?;
    let data = AddedMembers {
        newmembers: added.iter().map(|u| u.as_str().to_owned()).collect(),
        groupid: id.clone(),
        id,
        action: "add_member".into(),
    };
    Ok(Json(rest.envelope("post", &uri, data)))
}

/// # `DELETE /{org}/{app}/chatgroups/{id}/users/{usernames}` (and chat rooms)
///
/// One user, or several comma-separated (then one result each).
pub async fn remove(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    uri: OriginalUri,
    Path((_, _, id, usernames)): Path<(String, String, String, String)>,
) -> Result<Json<Envelope<OneOrMany<MemberResult>>>, ApiError> {
    let users: Vec<String> = usernames
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let removed = rest.roam.remove_group_members(&caller, &id, &users).await?;
    let mut results: Vec<MemberResult> = users
        .iter()
        .map(|u| {
            let user = u.to_ascii_lowercase();
            MemberResult {
                result: removed.iter().any(|r| r.as_str() == user),
                groupid: Some(id.clone()),
                id: Some(id.clone()),
                action: "remove_member".into(),
                user,
            }
        })
        .collect();
    let data = if results.len() == 1 {
        OneOrMany::One(results.remove(0))
    } else {
        OneOrMany::Many(results)
    };
    Ok(Json(rest.envelope("delete", &uri, data)))
}

/// # `DELETE /{org}/{app}/chatgroups/{id}/quit` (the SDK's `leaveGroup`)
pub async fn quit(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    uri: OriginalUri,
    Path((_, _, id)): Path<(String, String, String)>,
) -> Result<Json<Envelope<Done>>, ApiError> {
    rest.roam.leave_group(&caller, &id).await?;
    Ok(Json(rest.envelope("delete", &uri, Done { result: true })))
}

/// # `POST /{org}/{app}/chatgroups/{id}/apply` (the SDK's `joinGroup`)
///
/// Joins at once when the group is public and needs no approval.
pub async fn apply(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    uri: OriginalUri,
    Path((_, _, id)): Path<(String, String, String)>,
) -> Result<Json<Envelope<MemberResult>>, ApiError> {
    rest.roam.join_group(&caller, &id).await?;
    let user = match &caller {
        Principal::User(u) => u.as_str().to_owned(),
        Principal::Admin => String::new(),
    };
    let data = MemberResult {
        result: true,
        groupid: Some(id),
        id: None,
        action: "apply".into(),
        user,
    };
    Ok(Json(rest.envelope("post", &uri, data)))
}
