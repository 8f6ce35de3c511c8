//! Tokens and user management.
use std::sync::Arc;

use axum::{
    Json,
    extract::{Path, State},
};
use roam_domain::{auth::Principal, now_ms, user::User};
use roam_protocol::rest::{
    EntitiesResponse, NewPasswordBody, NewUsersBody, TokenRequest, TokenResponse,
};
use roam_wire::rest::user_entity;
use serde_json::{Value, json};

use crate::{
    Rest,
    error::ApiError,
    extract::{Caller, ClientIp, JsonBody, MaybeCaller, Params},
};

impl Rest {
    fn entities(&self, action: &str, path: &str, users: &[User], count: bool) -> EntitiesResponse {
        EntitiesResponse {
            action: action.into(),
            application: self.app_uuid.clone(),
            path: path.into(),
            uri: format!("/{}/{}{}", self.org, self.app, path),
            entities: users.iter().map(user_entity).collect(),
            timestamp: now_ms(),
            duration: 0,
            organization: self.org.clone(),
            application_name: self.app.clone(),
            count: count.then_some(users.len()),
            cursor: None,
        }
    }
}

/// # `POST /{org}/{app}/token`
///
/// `grant_type=password` logs a user in; `client_credentials` gives the admin token. Both
/// are throttled per client address (429 when over the limit, 503 when the server is busy
/// hashing); an unknown user and a wrong password get the same answer.
pub async fn token(
    State(rest): State<Arc<Rest>>,
    ClientIp(ip): ClientIp,
    JsonBody(req): JsonBody<TokenRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    match req.grant_type.as_str() {
        "password" => {
            let (username, password) = req
                .username
                .zip(req.password)
                .ok_or_else(|| ApiError::BadBody("username and password are required".into()))?;
            let (issued, user) = rest.roam.login(&username, &password, ip).await?;
            Ok(Json(TokenResponse {
                access_token: issued.token.as_str().to_owned(),
                expires_in: issued.expires_in_secs,
                user: Some(user_entity(&user)),
                application: None,
            }))
        }
        "client_credentials" => {
            let issued = rest
                .roam
                .login_admin(
                    req.client_id.as_deref().unwrap_or(""),
                    req.client_secret.as_deref().unwrap_or(""),
                    ip,
                )
                .await?;
            Ok(Json(TokenResponse {
                access_token: issued.token.as_str().to_owned(),
                expires_in: issued.expires_in_secs,
                user: None,
                application: Some(rest.app_uuid.clone()),
            }))
        }
        other => Err(ApiError::UnsupportedGrant(other.to_owned())),
    }
}

/// # `POST /{org}/{app}/users`
///
/// Registers one user (`{username, password}`) or many (an array, all or none). Needs the
/// admin token unless the server runs with open registration.
pub async fn create(
    State(rest): State<Arc<Rest>>,
    MaybeCaller(caller): MaybeCaller,
    JsonBody(body): JsonBody<NewUsersBody>,
) -> Result<Json<EntitiesResponse>, ApiError> {
    match caller {
        Some(Principal::Admin) => {}
        None if rest.open_registration => {}
        None => return Err(ApiError::Unauthorized),
        Some(Principal::User(_)) => return Err(ApiError::Forbidden),
    }
    let users = body.into_vec();
    if users.is_empty() || users.len() > 60 {
        return Err(ApiError::IllegalArgument(
            "register 1 to 60 users per request".into(),
        ));
    }
    let created = rest
        .roam
        .register_users(
            users
                .into_iter()
                .map(|u| (u.username, u.password, u.nickname))
                .collect(),
        )
        .await?;
    Ok(Json(rest.entities("post", "/users", &created, false)))
}

/// Users per page of the user list when the request names no `limit`.
const DEFAULT_USER_PAGE: usize = 10;
/// Most users per page of the user list.
const MAX_USER_PAGE: usize = 100;

/// # `GET /{org}/{app}/users?limit=&cursor=` (admin only)
///
/// A page of users in id order (Easemob's batch user query). `cursor` is the last user of
/// the previous page; a full page carries the next one's.
pub async fn list(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    params: Params,
) -> Result<Json<EntitiesResponse>, ApiError> {
    let limit = match params.get("limit").map(String::as_str) {
        None | Some("") => DEFAULT_USER_PAGE,
        Some(n) => n
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_USER_PAGE).contains(n))
            .ok_or_else(|| {
                ApiError::IllegalArgument(format!("limit must be 1 to {MAX_USER_PAGE}"))
            })?,
    };
    let after = params
        .get("cursor")
        .map(String::as_str)
        .filter(|c| !c.is_empty());
    let users = rest.roam.list_users(&caller, after, limit).await?;
    let mut body = rest.entities("get", "/users", &users, true);
    if users.len() == limit {
        body.cursor = users.last().map(|u| u.id.as_str().to_owned());
    }
    Ok(Json(body))
}

/// # `GET /{org}/{app}/users/{username}`
pub async fn get(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    Path((_, _, username)): Path<(String, String, String)>,
) -> Result<Json<EntitiesResponse>, ApiError> {
    let user = rest.roam.user(&caller, &username).await?;
    Ok(Json(rest.entities("get", "/users", &[user], true)))
}

/// # `DELETE /{org}/{app}/users/{username}`
///
/// Admin only. The user's devices are disconnected; their messages stay with their peers.
pub async fn delete(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    Path((_, _, username)): Path<(String, String, String)>,
) -> Result<Json<EntitiesResponse>, ApiError> {
    let user = rest.roam.delete_user(&caller, &username).await?;
    Ok(Json(rest.entities("delete", "/users", &[user], false)))
}

/// # `PUT /{org}/{app}/users/{username}/password`
///
/// The admin (`{"newpassword"}`), or the user themself, who must also give the current
/// password (`{"oldpassword", "newpassword"}`, as in Easemob's user-side form): a token alone
/// does not change a password. Voids the user's tokens and disconnects their devices.
pub async fn set_password(
    State(rest): State<Arc<Rest>>,
    Caller(caller): Caller,
    Path((_, _, username)): Path<(String, String, String)>,
    JsonBody(body): JsonBody<NewPasswordBody>,
) -> Result<Json<Value>, ApiError> {
    rest.roam
        .change_password(
            &caller,
            &username,
            &body.newpassword,
            body.oldpassword.as_deref(),
        )
        .await?;
    Ok(Json(json!({
        "action": "set user password",
        "timestamp": now_ms(),
        "duration": 0
    })))
}
