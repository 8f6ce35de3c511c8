//! JSON bodies of Easemob's REST API, as the SDK and Easemob's server-side docs shape them.
//!
//! The server serialises these types and the Rust SDK deserializes them, so the two cannot
//! drift apart; field names and JSON types are the official Web SDK's (see `docs/protocol.md`).
//!
//! - this module: tokens, users and the error body;
//! - [`roaming`]: the conversation list, pins, marks, history and deletes;
//! - [`groups`]: the `/chatgroups` and `/chatrooms` envelopes.
//!
//! Only 200 counts as success for the SDK; every error is an [`ErrorBody`].
use serde::{Deserialize, Serialize};

pub mod groups;
pub mod roaming;

/// `POST /{org}/{app}/token`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenRequest {
    /// `password` (a user logs in) or `client_credentials` (the app's admin).
    pub grant_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// Token lifetime the caller asks for, in seconds (capped by the server's maximum).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u64>,
}

/// Answer to a token request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    pub access_token: String,
    /// Seconds from now.
    pub expires_in: u64,
    /// The user, for the `password` grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserEntity>,
    /// The application's uuid, for the `client_credentials` grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<String>,
}

/// One user to register (`POST /{org}/{app}/users` takes one or an array).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewUserBody {
    pub username: String,
    pub password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
}

/// `POST /{org}/{app}/users` body: one user or many.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum NewUsersBody {
    One(NewUserBody),
    Many(Vec<NewUserBody>),
}

impl NewUsersBody {
    pub fn into_vec(self) -> Vec<NewUserBody> {
        match self {
            NewUsersBody::One(u) => vec![u],
            NewUsersBody::Many(v) => v,
        }
    }
}

/// `PUT /{org}/{app}/users/{username}/password`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewPasswordBody {
    pub newpassword: String,
    /// The current password: required when a user changes their own (not for the admin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldpassword: Option<String>,
}

/// A user as Easemob returns it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserEntity {
    pub uuid: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// Creation time, epoch ms.
    pub created: u64,
    pub modified: u64,
    pub username: String,
    pub activated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
}

/// The envelope of Easemob's user-management answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EntitiesResponse {
    pub action: String,
    pub application: String,
    pub path: String,
    pub uri: String,
    pub entities: Vec<UserEntity>,
    pub timestamp: u64,
    pub duration: u64,
    pub organization: String,
    #[serde(rename = "applicationName")]
    pub application_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
    /// The user list's next page (`GET /users?cursor=`), when this page was full.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// Every REST error: `{error, error_description, error_code?}`. The SDK maps the HTTP status plus
/// `error_code`/`error_description` to its error types (`docs/protocol.md`, "REST errors").
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: String,
    pub error_description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<u32>,
    pub timestamp: u64,
    pub duration: u64,
    pub exception: String,
}
