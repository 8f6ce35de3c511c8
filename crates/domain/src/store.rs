//! The storage trait that every engine (SQLite, PostgreSQL) implements, with one error type.
//!
//! Writes return only once they are durable (committed under the engine's fsync policy): the
//! server acks a message to its sender after `append` returns, never before.
use async_trait::async_trait;

use crate::{
    auth::{TokenHash, TokenRecord},
    device::{Device, Resource},
    message::{NewMessage, StoredMessage},
    user::{NewUser, PasswordHash, User, UserId},
};

/// Why a storage call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// A user with this id exists already.
    #[error("user {0} exists already")]
    DuplicateUser(UserId),
    /// The engine failed (I/O, corruption, a bug); the message says where.
    #[error("storage failure: {0}")]
    Engine(String),
}

/// A queue holding something for a device: the conversation with `peer`, and how many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingQueue {
    pub peer: UserId,
    pub count: u32,
}

/// Everything Roam keeps.
///
/// Message model: one copy of each message per conversation, numbered by a per-conversation
/// sequence; per user and per device only positions (cursors) are kept, never copies.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Creates all users or none; [`StoreError::DuplicateUser`] names the first that exists.
    async fn insert_users(&self, users: Vec<NewUser>) -> Result<Vec<User>, StoreError>;
    async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError>;
    /// Removes the user, their tokens, devices and conversation positions; their messages
    /// stay in their peers' conversations. Returns the removed user.
    async fn delete_user(&self, id: &UserId) -> Result<Option<User>, StoreError>;
    /// Sets a new password and voids every token of the user. False if there is no such user.
    async fn set_password(&self, id: &UserId, hash: PasswordHash) -> Result<bool, StoreError>;

    async fn insert_token(&self, token: TokenRecord) -> Result<(), StoreError>;
    async fn token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError>;

    /// A small persistent setting of the server (e.g. the generated admin credential).
    async fn setting(&self, key: &str) -> Result<Option<String>, StoreError>;
    async fn put_setting(&self, key: &str, value: &str) -> Result<(), StoreError>;

    /// Stores a message at the end of its conversation, giving it a server id (time-ordered,
    /// assigned in the same order as the sequence) and a server timestamp.
    async fn append(&self, message: NewMessage) -> Result<StoredMessage, StoreError>;

    /// The device `resource` of `user`, registered now if it is new.
    async fn device(&self, user: &UserId, resource: &Resource) -> Result<Device, StoreError>;
    /// The queues that hold messages this device is owed.
    async fn pending(&self, device: &Device) -> Result<Vec<PendingQueue>, StoreError>;
    /// Up to `limit` messages of the conversation with `peer` that the device is owed, oldest
    /// first. A message sent by this very device is never owed to it.
    async fn owed(
        &self,
        device: &Device,
        peer: &UserId,
        limit: usize,
    ) -> Result<Vec<StoredMessage>, StoreError>;
    /// Records that the device has everything of the conversation with `peer` up to `seq`.
    async fn ack(&self, device: &Device, peer: &UserId, seq: u64) -> Result<(), StoreError>;
}
