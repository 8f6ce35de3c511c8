//! Groups and chat rooms: many members, one conversation, one stored copy per message.
use std::fmt;

use crate::user::UserId;

/// A group's or chat room's id. Roam makes numeric ids (as Easemob does); ids given by an
/// operator may use ASCII letters, digits, `_`, `-`, `.`, up to 64.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupId(String);

/// Why a group id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("group id [{0}] is not legal")]
pub struct InvalidGroupId(pub String);

impl GroupId {
    pub fn parse(raw: &str) -> Result<GroupId, InvalidGroupId> {
        let ok = crate::is_legal_id(raw);
        if ok {
            Ok(GroupId(raw.to_owned()))
        } else {
            Err(InvalidGroupId(raw.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Group or chat room. Both are a conversation with members; a chat room is joined and left
/// freely (if public) and is not listed among a user's conversations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    Group = 0,
    ChatRoom = 1,
}

/// A member's standing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Owner = 0,
    Admin = 1,
    Member = 2,
}

impl Role {
    pub fn from_code(c: i64) -> Role {
        match c {
            0 => Role::Owner,
            1 => Role::Admin,
            _ => Role::Member,
        }
    }
}

/// Settings of a group as created.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSettings {
    pub name: String,
    pub description: String,
    /// Anyone may find and join a public group (subject to `approval`).
    pub public: bool,
    /// Joining needs the owner's approval (not automatic).
    pub approval: bool,
    /// Members may invite others.
    pub allow_invites: bool,
    /// Most members, owner included.
    pub max_users: u32,
    /// Free-form JSON string an app attaches.
    pub custom: String,
}

/// A group to create.
#[derive(Debug, Clone)]
pub struct NewGroup {
    pub id: GroupId,
    pub kind: GroupKind,
    pub owner: UserId,
    pub settings: GroupSettings,
    /// Initial members besides the owner.
    pub members: Vec<UserId>,
}

/// A stored group.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub id: GroupId,
    pub kind: GroupKind,
    pub owner: UserId,
    pub settings: GroupSettings,
    pub created_ms: u64,
    pub member_count: u32,
}

/// A member of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user: UserId,
    pub role: Role,
    pub joined_ms: u64,
}

/// What happened in a group, as members (or the one affected user) are told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupOp {
    /// `users` became members (added by `actor`, or joined by themselves).
    MembersAdded,
    /// `users` were removed by `actor`.
    MembersRemoved,
    /// `actor` left.
    MemberLeft,
    /// `actor` destroyed the group.
    Destroyed,
    /// `actor` made `users[0]` the owner.
    OwnerChanged,
}

impl GroupOp {
    fn code(self) -> &'static str {
        match self {
            GroupOp::MembersAdded => "added",
            GroupOp::MembersRemoved => "removed",
            GroupOp::MemberLeft => "left",
            GroupOp::Destroyed => "destroyed",
            GroupOp::OwnerChanged => "owner",
        }
    }

    fn from_code(s: &str) -> Option<GroupOp> {
        Some(match s {
            "added" => GroupOp::MembersAdded,
            "removed" => GroupOp::MembersRemoved,
            "left" => GroupOp::MemberLeft,
            "destroyed" => GroupOp::Destroyed,
            "owner" => GroupOp::OwnerChanged,
            _ => return None,
        })
    }
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

impl GroupEvent {
    /// A compact text form: `op kind group actor user,user…` (ids contain no spaces or commas).
    pub fn encode(&self) -> String {
        let kind = match self.kind {
            GroupKind::Group => "group",
            GroupKind::ChatRoom => "room",
        };
        let users: Vec<&str> = self.users.iter().map(UserId::as_str).collect();
        format!(
            "{} {kind} {} {} {}",
            self.op.code(),
            self.group,
            self.actor,
            users.join(",")
        )
    }

    pub fn decode(s: &str) -> Option<GroupEvent> {
        let mut parts = s.split(' ');
        let op = GroupOp::from_code(parts.next()?)?;
        let kind = match parts.next()? {
            "group" => GroupKind::Group,
            "room" => GroupKind::ChatRoom,
            _ => return None,
        };
        let group = GroupId::parse(parts.next()?).ok()?;
        let actor = UserId::parse(parts.next()?).ok()?;
        let users = parts
            .next()
            .unwrap_or("")
            .split(',')
            .filter(|u| !u.is_empty())
            .map(|u| UserId::parse(u).ok())
            .collect::<Option<Vec<_>>>()?;
        Some(GroupEvent {
            op,
            group,
            kind,
            actor,
            users,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_events_round_trip() {
        let e = GroupEvent {
            op: GroupOp::MembersRemoved,
            group: GroupId::parse("123").unwrap(),
            kind: GroupKind::ChatRoom,
            actor: UserId::parse("alice").unwrap(),
            users: vec![
                UserId::parse("bob").unwrap(),
                UserId::parse("carol").unwrap(),
            ],
        };
        assert_eq!(GroupEvent::decode(&e.encode()), Some(e.clone()));
        let none = GroupEvent { users: vec![], ..e };
        assert_eq!(GroupEvent::decode(&none.encode()), Some(none));
        assert_eq!(GroupEvent::decode("bogus"), None);
    }

    #[test]
    fn group_ids_are_checked() {
        assert!(GroupId::parse("1234567890").is_ok());
        assert!(GroupId::parse("").is_err());
        assert!(GroupId::parse("a b").is_err());
    }
}
