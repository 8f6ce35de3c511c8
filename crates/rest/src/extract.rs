//! Extractors: who is calling, for which user and from which device, and JSON bodies whose
//! rejections are Easemob errors.
use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use axum::{
    extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Query, Request},
    http::{header, request::Parts},
};
use roam_domain::{auth::Principal, device::Resource, user::UserId};
use serde::de::DeserializeOwned;

use crate::{Rest, error::ApiError, messages::REST_RESOURCE};

/// The authenticated caller, from `Authorization: Bearer <token>`.
pub struct Caller(pub Principal);

impl FromRequestParts<Arc<Rest>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, rest: &Arc<Rest>) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(ApiError::Unauthorized)?;
        match rest.roam.authenticate(token).await {
            Ok((principal, _)) => Ok(Caller(principal)),
            Err(roam_domain::service::AuthError::Store(e)) => Err(e.into()),
            Err(_) => Err(ApiError::Unauthorized),
        }
    }
}

/// The client's address, when the server was started with connection info (roamd is):
/// what login throttling counts attempts against. A proxy in front makes every client look
/// like the proxy.
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// The caller if a token was sent, or `None` (for endpoints open without one).
pub struct MaybeCaller(pub Option<Principal>);

impl FromRequestParts<Arc<Rest>> for MaybeCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, rest: &Arc<Rest>) -> Result<Self, ApiError> {
        if parts.headers.contains_key(header::AUTHORIZATION) {
            Ok(MaybeCaller(Some(
                Caller::from_request_parts(parts, rest).await?.0,
            )))
        } else {
            Ok(MaybeCaller(None))
        }
    }
}

/// A JSON body. Unlike axum's `Json`, it does not insist on a `Content-Type` (some Easemob
/// clients omit it), and a bad body is a 400 with an Easemob error.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge
                } else {
                    ApiError::BadBody(e.to_string())
                }
            })?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::BadBody(e.to_string()))
    }
}

/// The query string as name → value. The SDK appends parameters without URL-encoding them and
/// sometimes with empty pairs (`?&limit=20`, `…&&resource=`); empty pairs are skipped.
pub type Params = Query<HashMap<String, String>>;

/// Who acts on whose data: the handlers under `…/user/{username}/…` that read or change one
/// user's conversations take this instead of parsing the path and the token themselves.
///
/// Whether `caller` may act for `user` is the use-case's decision, not the extractor's.
pub struct Acting {
    /// From the bearer token.
    pub caller: Principal,
    /// The path's `{username}`.
    pub user: UserId,
}

impl FromRequestParts<Arc<Rest>> for Acting {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, rest: &Arc<Rest>) -> Result<Self, ApiError> {
        let Caller(caller) = Caller::from_request_parts(parts, rest).await?;
        let Path(path) = Path::<HashMap<String, String>>::from_request_parts(parts, rest)
            .await
            .map_err(|e| ApiError::IllegalArgument(e.to_string()))?;
        let user = user_id(path.get("username").map_or("", String::as_str))?;
        Ok(Acting { caller, user })
    }
}

/// The device a change comes from, so that the user's *other* devices are told of it:
/// `?resource=` as the SDK sends it, or (an admin or a script without one) the REST
/// pseudo-device, so that every real device hears of the change.
pub struct Device(pub Resource);

impl<S: Send + Sync> FromRequestParts<S> for Device {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(params) = Params::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::IllegalArgument(e.to_string()))?;
        let raw = params
            .get("resource")
            .map(String::as_str)
            .filter(|r| !r.is_empty() && *r != "undefined")
            .unwrap_or(REST_RESOURCE);
        Resource::parse(raw)
            .map(Device)
            .map_err(|e| ApiError::IllegalArgument(e.to_string()))
    }
}

/// A user id from a path or a body; a malformed one is an illegal argument.
pub fn user_id(raw: &str) -> Result<UserId, ApiError> {
    UserId::parse(raw).map_err(|e| ApiError::IllegalArgument(e.to_string()))
}
