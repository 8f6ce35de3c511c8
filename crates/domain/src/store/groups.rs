//! The store's part for groups and chat rooms, and their members.
use async_trait::async_trait;

use super::{Committed, Events, StoreError};
use crate::{
    group::{Group, GroupId, GroupKind, Member, NewGroup},
    user::UserId,
};

/// Groups and chat rooms. Membership changes take the [`Events`] they cause (see the module
/// docs of [`crate::store`]).
#[async_trait]
pub trait GroupStore: Send + Sync + 'static {
    /// Creates a group or chat room with its owner and initial members.
    async fn create_group(&self, group: NewGroup) -> Result<Group, StoreError>;
    async fn group(&self, id: &GroupId) -> Result<Option<Group>, StoreError>;
    /// The groups (or chat rooms) `user` is a member of, newest first.
    async fn groups_of(&self, user: &UserId, kind: GroupKind) -> Result<Vec<Group>, StoreError>;
    /// A page of all groups (or chat rooms), newest first.
    async fn list_groups(
        &self,
        kind: GroupKind,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Group>, StoreError>;
    /// A page of members, owner first, then by join time.
    async fn members(
        &self,
        id: &GroupId,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Member>, StoreError>;
    /// Every member's id (for fan-out).
    async fn member_ids(&self, id: &GroupId) -> Result<Vec<UserId>, StoreError>;
    async fn member(&self, id: &GroupId, user: &UserId) -> Result<Option<Member>, StoreError>;
    /// Adds members; answers those who were not members yet. A new member sees the group's
    /// messages from here on (the events included). [`StoreError::GroupFull`] adds nobody.
    async fn add_members(
        &self,
        id: &GroupId,
        users: Vec<UserId>,
        events: Events<Vec<UserId>>,
    ) -> Result<Committed<Vec<UserId>>, StoreError>;
    /// Removes members; answers those who were members (they no longer see the group's
    /// conversation, the events included).
    async fn remove_members(
        &self,
        id: &GroupId,
        users: Vec<UserId>,
        events: Events<Vec<UserId>>,
    ) -> Result<Committed<Vec<UserId>>, StoreError>;
    /// Makes `user` (a member) the owner; the old owner stays a plain member.
    async fn set_owner(
        &self,
        id: &GroupId,
        user: &UserId,
        events: Events<()>,
    ) -> Result<Committed<()>, StoreError>;
    /// Removes a group and its members; its messages stay for history. Answers the members it
    /// had (in the engine's member order), `None` if there was no such group.
    async fn delete_group(
        &self,
        id: &GroupId,
        events: Events<Option<Vec<UserId>>>,
    ) -> Result<Committed<Option<Vec<UserId>>>, StoreError>;
}
