//! The store's part for users, tokens and the server's settings.
use async_trait::async_trait;

use super::{Committed, Events, StoreError};
use crate::{
    auth::{TokenHash, TokenRecord},
    group::Group,
    user::{NewUser, PasswordHash, User, UserId},
};

/// A user removed by [`UserStore::delete_user`], with the groups and chat rooms they owned,
/// destroyed with them, each with the members it had (in the engine's member order).
#[derive(Debug, Clone, PartialEq)]
pub struct RemovedUser {
    pub user: User,
    /// Groups first, then chat rooms; each kind newest first.
    pub groups: Vec<(Group, Vec<UserId>)>,
    /// The groups and chat rooms they were a member of (not the owner) and have left, in the
    /// same order, as they were before.
    pub left: Vec<Group>,
}

/// Users, their tokens, and small persistent settings of the server.
#[async_trait]
pub trait UserStore: Send + Sync + 'static {
    /// Creates all users or none; [`StoreError::DuplicateUser`] names the first that exists.
    async fn insert_users(&self, users: Vec<NewUser>) -> Result<Vec<User>, StoreError>;
    async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError>;
    /// A page of users in id order: at most `limit` of those whose id sorts after `after`
    /// (all from the first when `None`). For the admin's user list.
    async fn users_after(
        &self,
        after: Option<&UserId>,
        limit: usize,
    ) -> Result<Vec<User>, StoreError>;
    /// Removes the user, their tokens, devices and conversation positions, destroys the
    /// groups and chat rooms they own (as [`super::GroupStore::delete_group`] would) and takes
    /// them out of the others (as [`super::GroupStore::remove_members`] would), all in one
    /// write: a user registered again under the id belongs to none of them. Their messages
    /// stay in their peers' conversations. Answers what was removed (`None`: no such user, and
    /// nothing is done). The events (told to the destroyed groups' members and to the groups
    /// left) are appended after the groups are gone and before the user is.
    async fn delete_user(
        &self,
        id: &UserId,
        events: Events<Option<RemovedUser>>,
    ) -> Result<Committed<Option<RemovedUser>>, StoreError>;
    /// Sets a new password and voids every token of the user. False if there is no such user.
    async fn set_password(&self, id: &UserId, hash: PasswordHash) -> Result<bool, StoreError>;

    async fn insert_token(&self, token: TokenRecord) -> Result<(), StoreError>;
    async fn token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError>;
    /// Voids every admin token (the admin credential changed); answers how many there were.
    async fn delete_admin_tokens(&self) -> Result<u64, StoreError>;

    /// A small persistent setting of the server (e.g. the generated admin credential).
    async fn setting(&self, key: &str) -> Result<Option<String>, StoreError>;
    async fn put_setting(&self, key: &str, value: &str) -> Result<(), StoreError>;
}
