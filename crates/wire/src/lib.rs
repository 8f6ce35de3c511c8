//! The one place where Roam's domain meets the wire.
//!
//! - [`msync`]: domain values as msync metas and JIDs (messages, group and chat-room events,
//!   multi-device events, the kick meta), and queue JIDs back to conversations.
//! - [`rest`]: domain values as the Easemob REST JSON the SDK reads (conversation list items,
//!   history entries).
//!
//! The transports (the msync gateway, the REST API) call these functions and nothing else
//! renders a domain value for a client; the storage engines never see a wire type.

pub mod msync;
pub mod rest;

use roam_domain::conversation::Target;
use roam_protocol::message_json::ChatKind;

/// The kind of conversation `target` names, as the wire types it. Groups and chat rooms share
/// one kind of conversation in the domain; the lists and events call both `groupchat`.
pub fn chat_kind(target: &Target) -> ChatKind {
    match target {
        Target::User(_) | Target::System => ChatKind::Single,
        Target::Group(_) => ChatKind::Group,
    }
}
