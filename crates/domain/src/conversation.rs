//! Conversations: whom a message goes to, and so which conversation it belongs to.
use std::fmt;

use serde::de::DeserializeOwned;

use crate::{group::GroupId, user::UserId};

/// The other side of a conversation, as seen by one user: a peer (single chat) or a group or
/// chat room. It also names the queue a device pulls that conversation's messages from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    User(UserId),
    /// A group or a chat room: they share one id space and one kind of conversation.
    Group(GroupId),
    /// The user's own event log: events meant for this user alone (removed from a group, a
    /// group destroyed, …), durable like messages, so a device that was away still gets them.
    System,
}

impl Target {
    /// A compact text form for storage: a user id as is, a group as `g:<id>` (user ids cannot
    /// contain `:`, so the two never collide).
    pub fn encode(&self) -> String {
        match self {
            Target::User(u) => u.as_str().to_owned(),
            Target::Group(g) => format!("g:{g}"),
            Target::System => "s:".to_owned(),
        }
    }

    /// The inverse of [`Target::encode`].
    pub fn decode(s: &str) -> Option<Target> {
        if s == "s:" {
            return Some(Target::System);
        }
        match s.strip_prefix("g:") {
            Some(g) => GroupId::parse(g).ok().map(Target::Group),
            None => UserId::parse(s).ok().map(Target::User),
        }
    }
}

/// The bare id, as the wire names it (`alice`, `1234`); the event log shows as `system`.
/// (Storage uses [`Target::encode`], which tells users and groups apart.)
impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::User(u) => f.write_str(u.as_str()),
            Target::Group(g) => f.write_str(g.as_str()),
            Target::System => f.write_str("system"),
        }
    }
}

impl From<UserId> for Target {
    fn from(u: UserId) -> Self {
        Target::User(u)
    }
}

impl From<GroupId> for Target {
    fn from(g: GroupId) -> Self {
        Target::Group(g)
    }
}

/// Why a stored event (a [`crate::group::GroupEvent`] or a
/// [`crate::roaming::ConversationEvent`]) could not be read back. Events are written by the
/// server itself, so this means a damaged row or a payload from a newer server: the reader
/// logs it and skips the event rather than failing the whole pull.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UndecodableEvent {
    #[error("event payload version {0} is not one this server reads")]
    UnknownVersion(u64),
    #[error("malformed event payload: {0}")]
    Malformed(String),
}

/// Stored events are JSON objects whose `v` names the layout of the other fields; this is the
/// one layout version written today.
pub(crate) const EVENT_VERSION: u64 = 1;

/// Reads a stored event payload `{"v":1,…}` as `T`, after checking its version: a payload of
/// another version is refused as such, not as malformed.
pub(crate) fn decode_versioned<T: DeserializeOwned>(payload: &[u8]) -> Result<T, UndecodableEvent> {
    #[derive(serde::Deserialize)]
    struct Versioned {
        v: u64,
    }
    let malformed = |e: serde_json::Error| UndecodableEvent::Malformed(e.to_string());
    let Versioned { v } = serde_json::from_slice(payload).map_err(malformed)?;
    if v != EVENT_VERSION {
        return Err(UndecodableEvent::UnknownVersion(v));
    }
    serde_json::from_slice(payload).map_err(malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_round_trip_through_their_text_form() {
        for t in [
            Target::User(UserId::parse("alice").unwrap()),
            Target::Group(GroupId::parse("1234567890").unwrap()),
            Target::System,
        ] {
            assert_eq!(Target::decode(&t.encode()), Some(t));
        }
        assert_eq!(Target::decode("g:"), None);
        // The wire form is the bare id.
        assert_eq!(
            Target::Group(GroupId::parse("12").unwrap()).to_string(),
            "12"
        );
        assert_eq!(Target::decode("a b"), None);
    }
}
