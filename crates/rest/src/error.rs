//! REST errors: the one table from domain errors to HTTP statuses and Easemob error bodies.
//!
//! The SDK reads only status 200 as success and maps others by status, `error_code` and
//! `error_description` (`docs/protocol.md`, "REST errors"), so each variant picks all three deliberately.
use axum::{
    Json,
    extract::Request,
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use roam_domain::{
    group::GroupKind,
    limits::TooLong,
    now_ms,
    service::{AccountError, GroupError, RoamingError},
    store::StoreError,
    user::UserId,
};
use roam_protocol::rest::ErrorBody;

/// Everything a REST call can fail with.
#[derive(Debug)]
pub enum ApiError {
    /// No or unknown/expired token.
    Unauthorized,
    /// Authenticated, but not allowed to do this.
    Forbidden,
    /// Malformed JSON or a missing field.
    BadBody(String),
    /// A field has a value the API refuses.
    IllegalArgument(String),
    /// The user exists already (registration).
    DuplicateUser(String),
    /// Wrong username or password (`password` grant).
    InvalidGrant,
    /// Wrong client id or secret (`client_credentials` grant).
    InvalidClient,
    /// `grant_type` is neither `password` nor `client_credentials`.
    UnsupportedGrant(String),
    UserNotFound(String),
    /// No such group or chat room (the SDK looks for "does not exist").
    GroupNotFound(String),
    /// The user is not a member (the SDK looks for "are not members of this group").
    NotMember(String, String),
    /// The group cannot take more members (the SDK matches this text exactly).
    GroupFull,
    /// The group's owner must stay.
    OwnerStays,
    /// The user has no such conversation (the SDK's CONVERSATION_NOT_EXIST, by code 91001).
    ConversationNotFound,
    /// Too many conversations pinned (the SDK's MAX_LIMIT, by code 40005).
    PinLimit(usize),
    /// History of a group or chat room the caller is not in.
    NotInGroup,
    /// The path's `org/app` is not this server's app.
    AppNotFound(String),
    /// No such endpoint.
    NoRoute,
    /// The endpoint exists, but not with this method.
    MethodNotAllowed,
    /// The body is over the REST body limit (`MAX_BODY` in the crate root).
    PayloadTooLarge,
    /// A request the HTTP layer refused before any handler saw it (an undecodable path or
    /// query, …), with its status and what it said.
    Http(StatusCode, String),
    /// The user is in as many groups (or chat rooms) as the server allows.
    TooManyGroups(UserId, GroupKind),
    /// Too many failed logins from this address: retry after this many seconds. 429, which
    /// the SDK reports as SERVER_BUSY.
    Throttled(u64),
    /// Every password hashing thread is busy: 503, SERVER_BUSY in the SDK.
    Busy,
    /// A user changing their own password did not give the current one.
    WrongCurrentPassword,
    /// Storage failed; details go to the log, not the client.
    Internal(String),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.parts().2)
    }
}

impl ApiError {
    /// (status, `error`, `error_description`, `error_code`)
    fn parts(&self) -> (StatusCode, &'static str, String, Option<u32>) {
        use ApiError::*;
        match self {
            Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Unable to authenticate (OAuth)".into(),
                None,
            ),
            Forbidden => (
                StatusCode::FORBIDDEN,
                "forbidden_op",
                "forbidden operation on this resource".into(),
                None,
            ),
            BadBody(why) => (
                StatusCode::BAD_REQUEST,
                "json_parse",
                format!("Unexpected request body: {why}"),
                None,
            ),
            IllegalArgument(why) => (
                StatusCode::BAD_REQUEST,
                "illegal_argument",
                why.clone(),
                None,
            ),
            DuplicateUser(u) => (
                StatusCode::BAD_REQUEST,
                "duplicate_unique_property_exists",
                format!(
                    "Application {} Entity user requires that property named username be unique, value of {u} exists",
                    "null"
                ),
                None,
            ),
            InvalidGrant => (
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "invalid password".into(),
                None,
            ),
            InvalidClient => (
                StatusCode::BAD_REQUEST,
                "invalid_client",
                "invalid client_id or client_secret".into(),
                None,
            ),
            UnsupportedGrant(g) => (
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!("unsupported grant_type: {g}"),
                None,
            ),
            UserNotFound(u) => (
                StatusCode::NOT_FOUND,
                "service_resource_not_found",
                format!("Service resource not found: user not found ({u})"),
                None,
            ),
            GroupNotFound(g) => (
                StatusCode::NOT_FOUND,
                "resource_not_found",
                format!("grpID {g} does not exist!"),
                None,
            ),
            NotMember(u, g) => (
                StatusCode::FORBIDDEN,
                "forbidden_op",
                format!("users [{u}] are not members of this group {g}"),
                None,
            ),
            GroupFull => (
                StatusCode::FORBIDDEN,
                "forbidden_op",
                "group member list is full!".into(),
                None,
            ),
            OwnerStays => (
                StatusCode::FORBIDDEN,
                "forbidden_op",
                "the owner cannot leave or be removed; transfer or destroy the group".into(),
                None,
            ),
            ConversationNotFound => (
                StatusCode::NOT_FOUND,
                "conversation_not_found",
                "conversation does not exist for this user".into(),
                Some(91001),
            ),
            PinLimit(n) => (
                StatusCode::FORBIDDEN,
                "forbidden_op",
                format!("the number of pinned conversations reached the limit of {n}"),
                Some(40005),
            ),
            NotInGroup => (
                StatusCode::FORBIDDEN,
                "forbidden_op",
                "not in group or chatroom".into(),
                None,
            ),
            AppNotFound(path) => (
                StatusCode::NOT_FOUND,
                "organization_application_not_found",
                format!("Could not find application for {path} from URI: {path}"),
                None,
            ),
            NoRoute => (
                StatusCode::NOT_FOUND,
                "service_resource_not_found",
                "Service resource not found".into(),
                None,
            ),
            MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "Request method not supported for this resource".into(),
                None,
            ),
            PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "request_entity_too_large",
                format!("Request body is larger than {} bytes", crate::MAX_BODY),
                None,
            ),
            Http(status, why) => (
                *status,
                if status.is_server_error() {
                    "internal_server_error"
                } else {
                    "illegal_argument"
                },
                why.clone(),
                None,
            ),
            TooManyGroups(u, kind) => (
                StatusCode::FORBIDDEN,
                "forbidden_op",
                format!(
                    "can not join this {}, reason: user {u} has joined too many {}",
                    match kind {
                        GroupKind::Group => "group",
                        GroupKind::ChatRoom => "chatroom",
                    },
                    match kind {
                        GroupKind::Group => "groups",
                        GroupKind::ChatRoom => "chatrooms",
                    },
                ),
                None,
            ),
            Throttled(secs) => (
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                format!(
                    "The request has reached the maximum limit: too many failed logins, retry in {secs} s"
                ),
                None,
            ),
            Busy => (
                StatusCode::SERVICE_UNAVAILABLE,
                "server_busy",
                "server busy, retry later".into(),
                None,
            ),
            WrongCurrentPassword => (
                StatusCode::FORBIDDEN,
                "forbidden_op",
                "the current password (oldpassword) is required and must match".into(),
                None,
            ),
            Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_server_error",
                "internal server error".into(),
                None,
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "REST call failed on the server side");
        }
        let retry_after = match &self {
            ApiError::Throttled(secs) => Some(*secs),
            ApiError::Busy => Some(1),
            _ => None,
        };
        let (status, error, error_description, error_code) = self.parts();
        let body = ErrorBody {
            exception: format!("roam.{error}"),
            error: error.to_owned(),
            error_description,
            error_code,
            timestamp: now_ms(),
            duration: 0,
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::InvalidUserId(e) => ApiError::IllegalArgument(e.to_string()),
            AccountError::InvalidPassword(e) => ApiError::IllegalArgument(e.to_string()),
            AccountError::TooLong(e) => e.into(),
            AccountError::DuplicateUser(u) => ApiError::DuplicateUser(u.to_string()),
            AccountError::InvalidGrant => ApiError::InvalidGrant,
            AccountError::InvalidClient => ApiError::InvalidClient,
            AccountError::UserNotFound(u) => ApiError::UserNotFound(u.to_string()),
            AccountError::Forbidden => ApiError::Forbidden,
            AccountError::Throttled(wait) => {
                ApiError::Throttled(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
            }
            AccountError::Busy(_) => ApiError::Busy,
            AccountError::WrongCurrentPassword => ApiError::WrongCurrentPassword,
            AccountError::Store(e) => e.into(),
        }
    }
}

impl std::error::Error for ApiError {}

impl From<GroupError> for ApiError {
    fn from(e: GroupError) -> Self {
        match e {
            GroupError::InvalidGroupId(e) => ApiError::IllegalArgument(e.to_string()),
            GroupError::InvalidUserId(e) => ApiError::IllegalArgument(e.to_string()),
            GroupError::InvalidSettings(why) => ApiError::IllegalArgument(why),
            GroupError::TooLong(e) => e.into(),
            GroupError::TooManyGroups(u, kind) => ApiError::TooManyGroups(u, kind),
            GroupError::NotFound(g) => ApiError::GroupNotFound(g.to_string()),
            GroupError::UserNotFound(u) => ApiError::UserNotFound(u.to_string()),
            GroupError::NotMember(u, g) => ApiError::NotMember(u.to_string(), g.to_string()),
            GroupError::Full(_) => ApiError::GroupFull,
            GroupError::OwnerStays => ApiError::OwnerStays,
            GroupError::Forbidden => ApiError::Forbidden,
            GroupError::Store(e) => e.into(),
        }
    }
}

impl From<RoamingError> for ApiError {
    fn from(e: RoamingError) -> Self {
        match e {
            RoamingError::Forbidden => ApiError::Forbidden,
            RoamingError::NotFound => ApiError::ConversationNotFound,
            RoamingError::NotMember => ApiError::NotInGroup,
            RoamingError::PinLimit(n) => ApiError::PinLimit(n),
            RoamingError::BadCursor => ApiError::IllegalArgument(e.to_string()),
            RoamingError::Store(e) => e.into(),
        }
    }
}

impl From<TooLong> for ApiError {
    fn from(e: TooLong) -> Self {
        ApiError::IllegalArgument(e.to_string())
    }
}

/// Most bytes of a refusal's text that [`json_errors`] quotes.
const QUOTED: usize = 512;

/// Makes every error the HTTP layer answers by itself (no route for the method, a path or
/// query that does not decode, a body over the limit) an Easemob error body with the same
/// status, as the SDK expects of every answer; errors the handlers made pass untouched.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let error = match status {
        StatusCode::NOT_FOUND => ApiError::NoRoute,
        StatusCode::METHOD_NOT_ALLOWED => {
            // The methods the path does serve stay in `Allow`, as HTTP asks.
            let allow = response.headers().get(header::ALLOW).cloned();
            let mut out = ApiError::MethodNotAllowed.into_response();
            if let Some(allow) = allow {
                out.headers_mut().insert(header::ALLOW, allow);
            }
            return out;
        }
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        _ => {
            // axum's rejections are short texts; a longer body is cut, never buffered whole.
            let body = axum::body::to_bytes(response.into_body(), QUOTED * 4)
                .await
                .unwrap_or_default();
            let text = String::from_utf8_lossy(&body);
            let why: String = text.chars().take(QUOTED).collect();
            ApiError::Http(status, why)
        }
    };
    error.into_response()
}
