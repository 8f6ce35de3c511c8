//! Message roaming over REST: the conversation list, pins, marks, history and one-way
//! deletes, at the paths and in the shapes the Web SDK uses (`docs/protocol.md`,
//! "REST: conversation list", "REST: pins, marks, deletes", "REST: history"). The answers are [`roam_protocol::rest::roaming`] types, rendered by
//! [`roam_wire::rest`].
//!
//! - [`list`](mod@list): the conversation list (all, pinned, marked);
//! - [`pins`]: pins and marks;
//! - [`history`](mod@history): a page of one conversation's history;
//! - [`deletes`]: one-way message deletes and conversation deletes.
use roam_domain::{conversation::Target, group::GroupId, roaming::PageSize};
use roam_protocol::message_json::ChatKind;

use crate::{error::ApiError, extract::user_id};

pub mod deletes;
pub mod history;
pub mod list;
pub mod pins;

pub use deletes::{delete_all, delete_conversation, remove_before, remove_by_ids};
pub use history::history;
pub use list::{list, search_marked};
pub use pins::{mark, pin, unmark, unpin};

/// A refused argument.
fn input(e: impl std::fmt::Display) -> ApiError {
    ApiError::IllegalArgument(e.to_string())
}

/// A page size given as a query parameter; absent, empty or `undefined` = `default`.
fn page_size(raw: Option<&String>, default: i64) -> Result<PageSize, ApiError> {
    let n = match raw.map(String::as_str) {
        None | Some("") | Some("undefined") => default,
        Some(s) => s
            .parse()
            .map_err(|_| input(format!("limit must be a number, got {s:?}")))?,
    };
    PageSize::parse(n).map_err(input)
}

/// A conversation named the SDK's way: an id and a chat kind name (any case; see
/// [`ChatKind::parse`]). Groups and chat rooms are both group conversations.
fn target_of(id: &str, kind: &str) -> Result<Target, ApiError> {
    match ChatKind::parse(kind) {
        Some(ChatKind::Single) => user_id(id).map(Target::User),
        Some(ChatKind::Group | ChatKind::ChatRoom) => {
            GroupId::parse(id).map(Target::Group).map_err(input)
        }
        None => Err(input(format!(
            "unknown conversation type {:?}",
            kind.to_ascii_lowercase()
        ))),
    }
}
