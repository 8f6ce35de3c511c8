//! Message roaming in SQLite: the conversation list ([`list`]), history ([`history`]), and
//! the changes a user makes to their own view: pins, marks and one-way deletes ([`changes`]).
//!
//! Everything here reads or moves a user's small per-conversation positions
//! (`user_conversations`, `deleted_messages`); messages themselves are never copied or
//! changed. Unread is arithmetic: `(chat_count - read_ord) - (sent - read_sent)` minus the
//! messages the user deleted after the read position (see `schema_v2.sql`).
use async_trait::async_trait;
use roam_domain::{
    conversation::Target,
    roaming::{HistoryPage, HistoryQuery, ListPage, ListQuery, Mark, Removal},
    store::{Committed, Events, RoamingStore, StoreError},
    user::UserId,
};
use rusqlite::{Connection, OptionalExtension, params};

use crate::SqliteStore;

mod changes;
mod history;
mod list;

#[async_trait]
impl RoamingStore for SqliteStore {
    async fn conversations(
        &self,
        user: &UserId,
        query: &ListQuery,
    ) -> Result<ListPage, StoreError> {
        let (user, query) = (user.clone(), query.clone());
        self.readers
            .read(move |c| list::list(c, &user, &query))
            .await
    }

    async fn pin(
        &self,
        user: &UserId,
        target: &Target,
        pinned: bool,
        max_pinned: usize,
        events: Events<Option<u64>>,
    ) -> Result<Committed<Option<u64>>, StoreError> {
        let (user, target) = (user.clone(), target.clone());
        self.writer
            .write_with_events(
                move |c| changes::pin(c, &user, &target, pinned, max_pinned),
                events,
            )
            .await
    }

    async fn mark(
        &self,
        user: &UserId,
        targets: Vec<Target>,
        mark: Mark,
        on: bool,
        events: Events<Vec<Target>>,
    ) -> Result<Committed<Vec<Target>>, StoreError> {
        let user = user.clone();
        self.writer
            .write_with_events(
                move |c| changes::mark(c, &user, &targets, mark.bit(), on),
                events,
            )
            .await
    }

    async fn history(
        &self,
        user: &UserId,
        query: &HistoryQuery,
    ) -> Result<Option<HistoryPage>, StoreError> {
        let (user, query) = (user.clone(), query.clone());
        self.readers
            .read_with(move |c| history::history(c, &user, &query))
            .await
    }

    async fn remove_messages(
        &self,
        user: &UserId,
        target: &Target,
        removal: Removal,
        events: Events<bool>,
    ) -> Result<Committed<bool>, StoreError> {
        let (user, target) = (user.clone(), target.clone());
        self.writer
            .write_with_events(
                move |c| changes::remove(c, &user, &target, &removal),
                events,
            )
            .await
    }

    async fn delete_conversation(
        &self,
        user: &UserId,
        target: &Target,
        with_history: bool,
        events: Events<bool>,
    ) -> Result<Committed<bool>, StoreError> {
        let (user, target) = (user.clone(), target.clone());
        self.writer
            .write_with_events(
                move |c| changes::delete_conversation(c, &user, &target, with_history),
                events,
            )
            .await
    }

    async fn delete_all_conversations(
        &self,
        user: &UserId,
        events: Events<Vec<Target>>,
    ) -> Result<Committed<Vec<Target>>, StoreError> {
        let user = user.clone();
        self.writer
            .write_with_events(move |c| changes::delete_all(c, &user), events)
            .await
    }

    async fn evict_conversations(
        &self,
        user: &UserId,
        keep: usize,
    ) -> Result<Vec<Target>, StoreError> {
        let user = user.clone();
        self.writer
            .write(move |c, _| changes::evict(c, &user, keep))
            .await
    }
}

/// A user's side of one conversation, as the roaming operations need it.
struct Side {
    conv: i64,
    start: i64,
    read: i64,
    hidden_to: i64,
    removed: bool,
    pinned_ms: i64,
    /// The conversation's last seq and its newest activity seq.
    last_seq: i64,
    last_chat_seq: i64,
}

/// The user's side of the single chat, group or chat room with `target`.
fn side(c: &Connection, user: &UserId, target: &Target) -> rusqlite::Result<Option<Side>> {
    c.prepare_cached(
        "SELECT uc.conv_id, uc.start_seq, uc.read_seq, uc.hidden_to, uc.removed, cv.last_seq, cv.last_chat_seq, uc.pinned_ms \
         FROM user_conversations uc JOIN conversations cv ON cv.id = uc.conv_id \
         WHERE uc.user_id = ?1 AND uc.target = ?2 AND uc.kind IN (0, 1, 2)",
    )?
    .query_row(params![user.as_str(), target.encode()], |r| {
        Ok(Side {
            conv: r.get(0)?,
            start: r.get(1)?,
            read: r.get(2)?,
            hidden_to: r.get(3)?,
            removed: r.get(4)?,
            last_seq: r.get(5)?,
            last_chat_seq: r.get(6)?,
            pinned_ms: r.get(7)?,
        })
    })
    .optional()
}

/// The SQL expressions on `uc`/`cv` that the list sorts and filters by, shared by the list's
/// statements and the eviction's (they must agree on what is listed and in which order).
mod sql {
    /// Side kinds (`user_conversations.kind`).
    pub(super) const SINGLE: i64 = 0;
    pub(super) const GROUP: i64 = 1;

    /// Not deleted by the user, or back since (a pin or a mark needs this; an emptied
    /// conversation still qualifies, as `needEmptySession` lists it).
    pub(super) const ON_LIST: &str = "(cv.last_chat_seq > uc.hidden_to OR uc.removed = 0)";
    /// A list position, in message-id space (see `schema_v4.sql`): the id of the newest
    /// activity the user sees, else the first id of the ms the side began. Single chat sides
    /// keep it in `sort_key`.
    pub(super) const ACTIVITY: &str = "CASE WHEN cv.last_chat_seq > uc.hidden_to THEN cv.last_chat_id \
         WHEN uc.vis_seq > 0 THEN uc.vis_id ELSE roam_id_floor(uc.created_ms) END";
    /// The seq of the last message the list shows for the conversation (0: none).
    pub(super) const LAST: &str =
        "CASE WHEN cv.last_chat_seq > uc.hidden_to THEN cv.last_chat_seq ELSE uc.vis_seq END";

    /// The condition for a conversation to be in the user's list: activity the user has not
    /// deleted, or (not deleted by the user) a group they are in, or with `include_empty`
    /// (`needEmptySession`) a conversation whose messages they all deleted.
    pub(super) fn listed(include_empty: bool) -> String {
        format!(
            "(cv.last_chat_seq > uc.hidden_to OR (uc.removed = 0 AND (uc.vis_seq > 0 OR (uc.kind = {GROUP} AND uc.emptied = 0){})))",
            if include_empty {
                " OR uc.emptied = 1"
            } else {
                ""
            }
        )
    }
}
