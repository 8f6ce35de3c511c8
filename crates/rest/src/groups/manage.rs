//! Groups and chat rooms as wholes: create, details, lists, a user's groups, owner transfer,
//! destroy.
use std::sync::Arc;

use axum::{
    Json,
    extract::{OriginalUri, Path, State},
};
use roam_domain::{
    group::{GroupKind, GroupSettings},
    limits,
    service::CreateGroup,
};
use roam_protocol::rest::groups::{
    Created, Destroyed, Envelope, GroupDetails, GroupSummary, JoinedGroup, JoinedGroupWithRole,
    NoEntity, OwnerChanged,
};
use roam_wire::rest as render;
use serde::Deserialize;

use super::{kind_of, page};
use crate::{
    Rest,
    error::ApiError,
    extract::{Caller, JsonBody, Params},
};

/// Most members a details answer lists per group.
const DETAILS_MEMBERS: usize = 10_000;

/// Body of `POST /chatgroups` and `POST /chatrooms`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
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
) -> Result<Json<Envelope<Created>>, ApiError> {
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
    let id = Some(group.id.as_str().to_owned());
    let data = match kind {
        GroupKind::Group => Created {
            groupid: id,
            id: None,
        },
        GroupKind::ChatRoom => Created { groupid: None, id },
    };
    Ok(Json(rest.envelope("post", &uri, data)))
}

/// # `GET /{org}/{app}/chatgroups/{ids}` and `GET /{org}/{app}/chatrooms/{ids}`
///
/// Details of one group or several (comma-separated; each once, at most 100), with their
/// members.
pub async fn info(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    uri: OriginalUri,
    Path((_, _, ids)): Path<(String, String, String)>,
) -> Result<Json<Envelope<Vec<GroupDetails>>>, ApiError> {
    // Each id once, at most 100 of them: repeating an id must not repeat the work.
    let ids = limits::distinct(
        "group ids",
        ids.split(',').filter(|s| !s.is_empty()),
        limits::IDS_PER_QUERY,
    )?;
    let mut out = Vec::new();
    for id in ids {
        let group = rest.roam.group_info(&caller, id).await?;
        let members = rest
            .roam
            .group_members(&caller, id, 0, DETAILS_MEMBERS)
            .await
            .unwrap_or_default();
        out.push(render::group_details(&group, &members));
    }
    Ok(Json(rest.envelope("get", &uri, out)))
}

/// # `GET /{org}/{app}/chatgroups` and `GET /{org}/{app}/chatrooms`
///
/// All groups (admin) or public ones (users), a page at a time.
pub async fn list(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    uri: OriginalUri,
    params: Params,
) -> Result<Json<Envelope<Vec<GroupSummary>>>, ApiError> {
    let (offset, size) = page(&params)?;
    let groups = rest
        .roam
        .list_groups(&caller, kind_of(&uri), offset, size)
        .await?;
    let data: Vec<GroupSummary> = groups.iter().map(render::group_summary).collect();
    let full = data.len() == size;
    let mut body = rest.envelope("get", &uri, data);
    body.count = Some(body.data.len());
    if full {
        body.cursor = Some((offset + size).to_string());
    }
    Ok(Json(body))
}

/// # `GET /{org}/{app}/users/{username}/joined_chatgroups` (and `…/joined_chatrooms`)
pub async fn joined(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    uri: OriginalUri,
    Path((_, _, username)): Path<(String, String, String)>,
    params: Params,
) -> Result<Json<Envelope<Vec<JoinedGroup>>>, ApiError> {
    let kind = if uri.0.path().ends_with("joined_chatrooms") {
        GroupKind::ChatRoom
    } else {
        GroupKind::Group
    };
    let (offset, size) = page(&params)?;
    let groups = rest.roam.joined_groups(&caller, &username, kind).await?;
    let me = username.to_ascii_lowercase();
    let data: Vec<JoinedGroup> = groups
        .iter()
        .skip(offset)
        .take(size)
        .map(|g| render::joined_group(g, &me))
        .collect();
    let mut body = rest.envelope("get", &uri, data);
    body.count = Some(body.data.len());
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
    params: Params,
) -> Result<Json<Envelope<Vec<NoEntity>, JoinedGroupWithRole>>, ApiError> {
    let (offset, size) = page(&params)?;
    let groups = rest
        .roam
        .joined_groups(&caller, &username, GroupKind::Group)
        .await?;
    let me = username.to_ascii_lowercase();
    let entities: Vec<JoinedGroupWithRole> = groups
        .iter()
        .skip(offset)
        .take(size)
        .map(|g| render::joined_group_with_role(g, &me))
        .collect();
    let mut body = rest.envelope_with("get", &uri, Vec::new(), entities);
    body.count = Some(body.entities.len());
    Ok(Json(body))
}

/// # `DELETE /{org}/{app}/chatgroups/{id}` (and chat rooms)
pub async fn destroy(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    uri: OriginalUri,
    Path((_, _, id)): Path<(String, String, String)>,
) -> Result<Json<Envelope<Destroyed>>, ApiError> {
    rest.roam.destroy_group(&caller, &id).await?;
    let data = Destroyed {
        success: true,
        groupid: id.clone(),
        id,
    };
    Ok(Json(rest.envelope("delete", &uri, data)))
}

/// Body of `PUT /chatgroups/{id}`: a new owner (other settings are not changed here yet).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
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
) -> Result<Json<Envelope<OwnerChanged>>, ApiError> {
    let Some(owner) = b.newowner else {
        return Err(ApiError::IllegalArgument(
            "only newowner can be changed".into(),
        ));
    };
    rest.roam.transfer_group(&caller, &id, &owner).await?;
    Ok(Json(rest.envelope(
        "put",
        &uri,
        OwnerChanged { newowner: true },
    )))
}
