//! The store's part for message roaming: each user's conversation list and history, and the
//! changes they make to their own view of it.
use async_trait::async_trait;

use super::{Committed, Events, StoreError};
use crate::{
    conversation::Target,
    roaming::{HistoryPage, HistoryQuery, ListPage, ListQuery, Mark, Removal},
    user::UserId,
};

/// A user's conversations. The changes take the [`Events`] they cause (the multi-device
/// events of the user's own log; see the module docs of [`crate::store`]).
#[async_trait]
pub trait RoamingStore: Send + Sync + 'static {
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
        events: Events<Option<u64>>,
    ) -> Result<Committed<Option<u64>>, StoreError>;
    /// Puts `mark` on (or takes it off) conversations; answers the targets `user` has no
    /// conversation with (left untouched).
    async fn mark(
        &self,
        user: &UserId,
        targets: Vec<Target>,
        mark: Mark,
        on: bool,
        events: Events<Vec<Target>>,
    ) -> Result<Committed<Vec<Target>>, StoreError>;
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
        events: Events<bool>,
    ) -> Result<Committed<bool>, StoreError>;
    /// Takes the conversation off `user`'s list (unpinned, unmarked, read); with
    /// `with_history` also hides everything in it up to now. A later message brings it back.
    /// False when there is no such conversation.
    async fn delete_conversation(
        &self,
        user: &UserId,
        target: &Target,
        with_history: bool,
        events: Events<bool>,
    ) -> Result<Committed<bool>, StoreError>;
    /// Deletes every single and group conversation of `user` with its history; answers them.
    async fn delete_all_conversations(
        &self,
        user: &UserId,
        events: Events<Vec<Target>>,
    ) -> Result<Committed<Vec<Target>>, StoreError>;
    /// Keeps `user`'s `keep` most active listed conversations (pinned ones always stay) and
    /// takes the others off the list as a delete without history would; answers those. (It
    /// records no events: each device trims its own list the same way.)
    async fn evict_conversations(
        &self,
        user: &UserId,
        keep: usize,
    ) -> Result<Vec<Target>, StoreError>;
}
