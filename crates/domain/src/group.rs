//! Groups and chat rooms: many members, one conversation, one stored copy per message.
use std::fmt;

use crate::user::UserId;

mod event;
pub mod roster;
pub use event::{GroupEvent, GroupOp};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_ids_are_checked() {
        assert!(GroupId::parse("1234567890").is_ok());
        assert!(GroupId::parse("").is_err());
        assert!(GroupId::parse("a b").is_err());
        assert!(GroupId::parse("..").is_err(), "a path dot-segment");
    }
}
