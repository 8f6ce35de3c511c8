//! The storage trait that every engine (SQLite, PostgreSQL) implements, with one error type.
//!
//! Writes return only once they are durable (committed under the engine's fsync policy): the
//! server acks a message to its sender after `append` returns, never before.
use async_trait::async_trait;

use crate::{
    auth::{TokenHash, TokenRecord},
    conversation::Target,
    device::{Device, Resource},
    group::{Group, GroupId, GroupKind, Member, NewGroup},
    id::MessageId,
    message::{NewMessage, StoredMessage},
    roaming::{HistoryPage, HistoryQuery, ListPage, ListQuery, Mark, Removal},
    user::{NewUser, PasswordHash, User, UserId},
};

/// Why a storage call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// A user with this id exists already.
    #[error("user {0} exists already")]
    DuplicateUser(UserId),
    /// A group with this id exists already.
    #[error("group {0} exists already")]
    DuplicateGroup(GroupId),
    #[error("group {0} not found")]
    GroupNotFound(GroupId),
    /// Adding the members would exceed the group's `max_users`.
    #[error("group {0} is full")]
    GroupFull(GroupId),
    /// The user has no such conversation (single chat or group) to act on.
    #[error("conversation with {0} not found")]
    ConversationNotFound(Target),
    /// The user has this many conversations pinned already.
    #[error("at most {0} conversations can be pinned")]
    PinLimit(usize),
    /// A message id given as a position is not in the conversation.
    #[error("message {} not found in this conversation", .0.0)]
    MessageNotFound(MessageId),
    /// The engine failed (I/O, corruption, a bug); the message says where.
    #[error("storage failure: {0}")]
    Engine(String),
}

/// A queue holding something for a device: the conversation with `target`, and how many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingQueue {
    pub target: Target,
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
    /// assigned in the same order as the sequence) and a server timestamp. A conversation read
    /// ack (`ChannelAck`) moves the sender's read position; one to a group is kept in the
    /// sender's own log ([`Target::System`]), since it concerns no other member.
    async fn append(&self, message: NewMessage) -> Result<StoredMessage, StoreError>;

    /// The device `resource` of `user`, registered now if it is new.
    async fn device(&self, user: &UserId, resource: &Resource) -> Result<Device, StoreError>;
    /// The queues that hold messages this device is owed.
    async fn pending(&self, device: &Device) -> Result<Vec<PendingQueue>, StoreError>;
    /// Up to `limit` messages of the conversation with `target` that the device is owed,
    /// oldest first. A message sent by this very device is never owed to it, nor anything
    /// from before its user joined the conversation.
    async fn owed(
        &self,
        device: &Device,
        target: &Target,
        limit: usize,
    ) -> Result<Vec<StoredMessage>, StoreError>;
    /// Records that the device has everything of the conversation with `target` up to `seq`.
    async fn ack(&self, device: &Device, target: &Target, seq: u64) -> Result<(), StoreError>;

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
    /// Adds members; returns those who were not members yet. A new member sees the group's
    /// messages from here on. [`StoreError::GroupFull`] adds nobody.
    async fn add_members(
        &self,
        id: &GroupId,
        users: Vec<UserId>,
    ) -> Result<Vec<UserId>, StoreError>;
    /// Removes members; returns those who were members.
    async fn remove_members(
        &self,
        id: &GroupId,
        users: Vec<UserId>,
    ) -> Result<Vec<UserId>, StoreError>;
    /// Makes `user` (a member) the owner; the old owner stays a plain member.
    async fn set_owner(&self, id: &GroupId, user: &UserId) -> Result<(), StoreError>;
    /// Removes a group and its members; its messages stay for history.
    async fn delete_group(&self, id: &GroupId) -> Result<bool, StoreError>;

    /// A page of `user`'s conversation list: single chats and groups, never chat rooms.
    /// Current as of the last acked write.
    async fn conversations(&self, user: &UserId, query: &ListQuery)
    -> Result<ListPage, StoreError>;
    /// Pins (answering the pin time) or unpins `user`'s conversation with `target`.
    /// [`StoreError::PinLimit`] when `max_pinned` are pinned already;
    /// [`StoreError::ConversationNotFound`] when there is no such conversation.
    async fn pin(
        &self,
        user: &UserId,
        target: &Target,
        pinned: bool,
        max_pinned: usize,
    ) -> Result<Option<u64>, StoreError>;
    /// Puts `mark` on (or takes it off) conversations; answers the targets `user` has no
    /// conversation with (left untouched).
    async fn mark(
        &self,
        user: &UserId,
        targets: Vec<Target>,
        mark: Mark,
        on: bool,
    ) -> Result<Vec<Target>, StoreError>;
    /// A page of one conversation's history as `user` sees it (from their join or clear
    /// point, without what they deleted; chat messages only). `None` when the user has no
    /// side of it (for a group or chat room: not a member).
    async fn history(
        &self,
        user: &UserId,
        query: &HistoryQuery,
    ) -> Result<Option<HistoryPage>, StoreError>;
    /// Hides messages of the conversation with `target` from `user` only. False when the user
    /// has no such conversation.
    async fn remove_messages(
        &self,
        user: &UserId,
        target: &Target,
        removal: Removal,
    ) -> Result<bool, StoreError>;
    /// Takes the conversation off `user`'s list (unpinned, unmarked, read); with
    /// `with_history` also hides everything in it up to now. A later message brings it back.
    async fn delete_conversation(
        &self,
        user: &UserId,
        target: &Target,
        with_history: bool,
    ) -> Result<bool, StoreError>;
    /// Deletes every single and group conversation of `user` with its history; answers them.
    async fn delete_all_conversations(&self, user: &UserId) -> Result<Vec<Target>, StoreError>;
    /// Keeps `user`'s `keep` most active listed conversations (pinned ones always stay) and
    /// takes the others off the list as a delete without history would; answers those.
    async fn evict_conversations(
        &self,
        user: &UserId,
        keep: usize,
    ) -> Result<Vec<Target>, StoreError>;
}
