//! Extractors: who is calling, and JSON bodies whose rejections are Easemob errors.
use std::sync::Arc;

use axum::{
    extract::{FromRequest, FromRequestParts, Request},
    http::{header, request::Parts},
};
use roam_domain::auth::Principal;
use serde::de::DeserializeOwned;

use crate::{Rest, error::ApiError};

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
            .map_err(|e| ApiError::BadBody(e.to_string()))?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::BadBody(e.to_string()))
    }
}
