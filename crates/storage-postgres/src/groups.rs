//! Groups and chat rooms, their members.
use async_trait::async_trait;
use roam_domain::{
    group::{Group, GroupId, GroupKind, Member, NewGroup},
    store::{Committed, Events, GroupStore, StoreError},
    user::UserId,
};

use crate::PgStore;

#[async_trait]
impl GroupStore for PgStore {
    async fn create_group(&self, group: NewGroup) -> Result<Group, StoreError> {
        todo!("create_group")
    }

    async fn group(&self, id: &GroupId) -> Result<Option<Group>, StoreError> {
        todo!("group")
    }

    async fn groups_of(&self, user: &UserId, kind: GroupKind) -> Result<Vec<Group>, StoreError> {
        todo!("groups_of")
    }

    async fn list_groups(
        &self,
        kind: GroupKind,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Group>, StoreError> {
        todo!("list_groups")
    }

    async fn members(
        &self,
        id: &GroupId,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Member>, StoreError> {
        todo!("members")
    }

    async fn member_ids(&self, id: &GroupId) -> Result<Vec<UserId>, StoreError> {
        todo!("member_ids")
    }

    async fn member(&self, id: &GroupId, user: &UserId) -> Result<Option<Member>, StoreError> {
        todo!("member")
    }

    async fn add_members(
        &self,
        id: &GroupId,
        users: Vec<UserId>,
        events: Events<Vec<UserId>>,
    ) -> Result<Committed<Vec<UserId>>, StoreError> {
        todo!("add_members")
    }

    async fn remove_members(
        &self,
        id: &GroupId,
        users: Vec<UserId>,
        events: Events<Vec<UserId>>,
    ) -> Result<Committed<Vec<UserId>>, StoreError> {
        todo!("remove_members")
    }

    async fn set_owner(
        &self,
        id: &GroupId,
        user: &UserId,
        events: Events<()>,
    ) -> Result<Committed<()>, StoreError> {
        todo!("set_owner")
    }

    async fn delete_group(
        &self,
        id: &GroupId,
        events: Events<Option<Vec<UserId>>>,
    ) -> Result<Committed<Option<Vec<UserId>>>, StoreError> {
        todo!("delete_group")
    }
}
