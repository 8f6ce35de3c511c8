//! Message roaming: the conversation list, history, pins, marks, one-way deletes.
use async_trait::async_trait;
use roam_domain::{
    conversation::Target,
    roaming::{HistoryPage, HistoryQuery, ListPage, ListQuery, Mark, Removal},
    store::{Committed, Events, RoamingStore, StoreError},
    user::UserId,
};

use crate::PgStore;

#[async_trait]
impl RoamingStore for PgStore {
    async fn conversations(
        &self,
        user: &UserId,
        query: &ListQuery,
    ) -> Result<ListPage, StoreError> {
        todo!("conversations")
    }

    async fn pin(
        &self,
        user: &UserId,
        target: &Target,
        pinned: bool,
        max_pinned: usize,
        events: Events<Option<u64>>,
    ) -> Result<Committed<Option<u64>>, StoreError> {
        todo!("pin")
    }

    async fn mark(
        &self,
        user: &UserId,
        targets: Vec<Target>,
        mark: Mark,
        on: bool,
        events: Events<Vec<Target>>,
    ) -> Result<Committed<Vec<Target>>, StoreError> {
        todo!("mark")
    }

    async fn history(
        &self,
        user: &UserId,
        query: &HistoryQuery,
    ) -> Result<Option<HistoryPage>, StoreError> {
        todo!("history")
    }

    async fn remove_messages(
        &self,
        user: &UserId,
        target: &Target,
        removal: Removal,
        events: Events<bool>,
    ) -> Result<Committed<bool>, StoreError> {
        todo!("remove_messages")
    }

    async fn delete_conversation(
        &self,
        user: &UserId,
        target: &Target,
        with_history: bool,
        events: Events<bool>,
    ) -> Result<Committed<bool>, StoreError> {
        todo!("delete_conversation")
    }

    async fn delete_all_conversations(
        &self,
        user: &UserId,
        events: Events<Vec<Target>>,
    ) -> Result<Committed<Vec<Target>>, StoreError> {
        todo!("delete_all_conversations")
    }

    async fn evict_conversations(
        &self,
        user: &UserId,
        keep: usize,
    ) -> Result<Vec<Target>, StoreError> {
        todo!("evict_conversations")
    }
}
