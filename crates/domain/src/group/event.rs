//! Group events: what happened in a group, stored as a message of kind
//! [`crate::message::MessageKind::GroupEvent`] and rendered for clients by the transports.
//!
//! The stored payload is versioned JSON, `{"v":1,"op":"added","kind":"group","group":"123",
//! "actor":"alice","users":["bob"]}`, so a later server can change the layout and still read
//! what an older one wrote. Servers before it stored a text form (`added group 123 alice bob`);
//! rows of that form are still read, so databases need no migration.
use serde::{Deserialize, Serialize};

use super::{GroupId, GroupKind};
use crate::{
    conversation::{EVENT_VERSION, UndecodableEvent, decode_versioned},
    user::UserId,
};

/// What happened in a group, as members (or the one affected user) are told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupOp {
    /// `users` became members (added by `actor`, or joined by themselves).
    #[serde(rename = "added")]
    MembersAdded,
    /// `users` were removed by `actor`.
    #[serde(rename = "removed")]
    MembersRemoved,
    /// `actor` left.
    #[serde(rename = "left")]
    MemberLeft,
    /// `actor` destroyed the group.
    #[serde(rename = "destroyed")]
    Destroyed,
    /// `actor` made `users[0]` the owner.
    #[serde(rename = "owner")]
    OwnerChanged,
}

/// A group event, stored as a message of kind `GroupEvent`: in the group's conversation when
/// every member is to see it (one row), in a user's own log when only that user is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEvent {
    pub op: GroupOp,
    pub group: GroupId,
    pub kind: GroupKind,
    pub actor: UserId,
    pub users: Vec<UserId>,
}

/// [`GroupKind`] as the stored payload names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum StoredKind {
    #[serde(rename = "group")]
    Group,
    #[serde(rename = "room")]
    ChatRoom,
}

/// The layout of version 1 of the stored payload.
#[derive(Debug, Serialize, Deserialize)]
struct StoredV1 {
    v: u64,
    op: GroupOp,
    kind: StoredKind,
    group: String,
    actor: String,
    users: Vec<String>,
}

impl GroupEvent {
    /// The payload to store: versioned JSON (see the module documentation).
    pub fn encode(&self) -> Vec<u8> {
        let stored = StoredV1 {
            v: EVENT_VERSION,
            op: self.op,
            kind: match self.kind {
                GroupKind::Group => StoredKind::Group,
                GroupKind::ChatRoom => StoredKind::ChatRoom,
            },
            group: self.group.as_str().to_owned(),
            actor: self.actor.as_str().to_owned(),
            users: self.users.iter().map(|u| u.as_str().to_owned()).collect(),
        };
        serde_json::to_vec(&stored).expect("plain structs always serialise")
    }

    /// Reads a stored payload: the versioned JSON [`GroupEvent::encode`] writes, or the text
    /// form older servers wrote.
    pub fn decode(payload: &[u8]) -> Result<GroupEvent, UndecodableEvent> {
        if payload.first() != Some(&b'{') {
            return decode_text(payload);
        }
        let stored: StoredV1 = decode_versioned(payload)?;
        let bad_id = |e: &dyn std::fmt::Display| UndecodableEvent::Malformed(e.to_string());
        Ok(GroupEvent {
            op: stored.op,
            kind: match stored.kind {
                StoredKind::Group => GroupKind::Group,
                StoredKind::ChatRoom => GroupKind::ChatRoom,
            },
            group: GroupId::parse(&stored.group).map_err(|e| bad_id(&e))?,
            actor: UserId::parse(&stored.actor).map_err(|e| bad_id(&e))?,
            users: stored
                .users
                .iter()
                .map(|u| UserId::parse(u).map_err(|e| bad_id(&e)))
                .collect::<Result<_, _>>()?,
        })
    }
}

/// The text form servers wrote before the versioned payload: `op kind group actor user,user…`
/// (`kind` is `group` or `room`; ids contain no spaces or commas).
fn decode_text(payload: &[u8]) -> Result<GroupEvent, UndecodableEvent> {
    let malformed = || {
        UndecodableEvent::Malformed(format!(
            "not a group event: {:?}",
            String::from_utf8_lossy(payload)
        ))
    };
    let text = std::str::from_utf8(payload).map_err(|_| malformed())?;
    let mut parts = text.split(' ');
    let op = match parts.next() {
        Some("added") => GroupOp::MembersAdded,
        Some("removed") => GroupOp::MembersRemoved,
        Some("left") => GroupOp::MemberLeft,
        Some("destroyed") => GroupOp::Destroyed,
        Some("owner") => GroupOp::OwnerChanged,
        _ => return Err(malformed()),
    };
    let kind = match parts.next() {
        Some("group") => GroupKind::Group,
        Some("room") => GroupKind::ChatRoom,
        _ => return Err(malformed()),
    };
    let group = parts
        .next()
        .and_then(|g| GroupId::parse(g).ok())
        .ok_or_else(malformed)?;
    let actor = parts
        .next()
        .and_then(|a| UserId::parse(a).ok())
        .ok_or_else(malformed)?;
    let users = parts
        .next()
        .unwrap_or("")
        .split(',')
        .filter(|u| !u.is_empty())
        .map(|u| UserId::parse(u).map_err(|_| malformed()))
        .collect::<Result<_, _>>()?;
    Ok(GroupEvent {
        op,
        group,
        kind,
        actor,
        users,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(users: &[&str]) -> GroupEvent {
        GroupEvent {
            op: GroupOp::MembersRemoved,
            group: GroupId::parse("123").unwrap(),
            kind: GroupKind::ChatRoom,
            actor: UserId::parse("alice").unwrap(),
            users: users.iter().map(|u| UserId::parse(u).unwrap()).collect(),
        }
    }

    #[test]
    fn group_events_round_trip() {
        for e in [event(&["bob", "carol"]), event(&[])] {
            assert_eq!(GroupEvent::decode(&e.encode()), Ok(e));
        }
        for op in [
            GroupOp::MembersAdded,
            GroupOp::MembersRemoved,
            GroupOp::MemberLeft,
            GroupOp::Destroyed,
            GroupOp::OwnerChanged,
        ] {
            let e = GroupEvent {
                op,
                kind: GroupKind::Group,
                ..event(&["bob"])
            };
            assert_eq!(GroupEvent::decode(&e.encode()), Ok(e));
        }
    }

    #[test]
    fn the_payload_is_versioned_json() {
        let payload: serde_json::Value = serde_json::from_slice(&event(&["bob"]).encode()).unwrap();
        assert_eq!(
            payload,
            serde_json::json!({"v": 1, "op": "removed", "kind": "room", "group": "123",
                "actor": "alice", "users": ["bob"]})
        );
    }

    #[test]
    fn the_text_form_of_older_servers_is_still_read() {
        assert_eq!(
            GroupEvent::decode(b"removed room 123 alice bob,carol"),
            Ok(event(&["bob", "carol"]))
        );
        assert_eq!(
            GroupEvent::decode(b"removed room 123 alice "),
            Ok(event(&[]))
        );
        let added = GroupEvent::decode(b"added group 9 bob bob").unwrap();
        assert_eq!(
            (added.op, added.kind, added.users.len()),
            (GroupOp::MembersAdded, GroupKind::Group, 1)
        );
    }

    #[test]
    fn bad_payloads_are_errors_not_panics() {
        for bad in [
            &b"bogus"[..],
            b"",
            b"\xff\xfe",
            b"{",
            br#"{"v":1}"#,
            br#"{"v":1,"op":"added","kind":"group","group":"a b","actor":"x","users":[]}"#,
        ] {
            assert!(
                matches!(GroupEvent::decode(bad), Err(UndecodableEvent::Malformed(_))),
                "{bad:?}"
            );
        }
        assert_eq!(
            GroupEvent::decode(br#"{"v":2,"anything":true}"#),
            Err(UndecodableEvent::UnknownVersion(2))
        );
    }
}
