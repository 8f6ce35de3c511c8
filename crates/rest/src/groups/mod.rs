//! Groups and chat rooms over REST, in Easemob's paths and envelopes.
//!
//! The SDK's own group methods call these (with a user token); operators call them with the
//! admin token. Group lists and details come back in Easemob's v3 shapes
//! ([`roam_protocol::rest::groups`], rendered by [`roam_wire::rest`]): a member entry is
//! `{"owner": id}`, `{"admin": id}` or `{"member": id}` with `joined_time`.
//!
//! - [`manage`]: create, details, lists, joined groups, owner transfer, destroy;
//! - [`members`](mod@members): member lists, adds, invites, removes, joining and leaving.
use std::collections::HashMap;

use axum::extract::OriginalUri;
use roam_domain::{group::GroupKind, now_ms};
use roam_protocol::rest::groups::Envelope;

use crate::{Rest, error::ApiError};

pub mod manage;
pub mod members;

pub use manage::{create, destroy, info, joined, joined_with_roles, list, modify};
pub use members::{add_many, add_one, apply, invite, members, quit, remove};

/// The default page size of group and member lists.
const DEFAULT_PAGE: usize = 20;
/// Most users one add or invite names.
const MAX_USERS_PER_CALL: usize = 60;

impl Rest {
    /// Easemob's envelope around `data`.
    pub(crate) fn envelope<D>(&self, action: &str, uri: &OriginalUri, data: D) -> Envelope<D> {
        self.envelope_with(action, uri, data, Vec::new())
    }

    /// Easemob's envelope around `data`, with `entities` (the one answer that fills them).
    pub(crate) fn envelope_with<D, E>(
        &self,
        action: &str,
        uri: &OriginalUri,
        data: D,
        entities: Vec<E>,
    ) -> Envelope<D, E> {
        Envelope {
            action: action.to_owned(),
            application: self.app_uuid.clone(),
            application_name: self.app.clone(),
            organization: self.org.clone(),
            uri: uri.0.path().to_owned(),
            entities,
            data,
            timestamp: now_ms(),
            duration: 0,
            count: None,
            cursor: None,
            params: None,
        }
    }
}

/// Whether the path is under `/chatrooms` or `/chatgroups`.
fn kind_of(uri: &OriginalUri) -> GroupKind {
    if uri.0.path().contains("/chatrooms") {
        GroupKind::ChatRoom
    } else {
        GroupKind::Group
    }
}

/// Page parameters as the SDK and Easemob send them: `pagenum`/`pagesize` (1-based) or
/// `cursor`/`limit` (the cursor is the offset as a string). Answers (offset, size).
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
        .unwrap_or(DEFAULT_PAGE)
        .clamp(1, 1000);
    let offset = match num("pagenum")? {
        Some(n) => n.saturating_sub(1) * size,
        None => num("cursor")?.unwrap_or(0),
    };
    Ok((offset, size))
}
