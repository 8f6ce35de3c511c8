//! Message roaming in PostgreSQL: the conversation list ([`list`]), history ([`history`]), and
//! the changes a user makes to their own view: pins, marks and one-way deletes ([`changes`]).
//!
//! The same model and SQL as the SQLite engine's roaming: everything here reads or moves a
//! user's small per-conversation positions (`user_conversations`, `deleted_messages`);
//! messages themselves are never copied or changed. Unread is arithmetic:
//! `(chat_count - read_ord) - (sent - read_sent)` minus the messages the user deleted after
//! the read position.
//!
//! # Several writers
//! Each call is one transaction on a pooled connection. Reads that take several statements
//! (the list, history) run in one REPEATABLE READ read-only transaction, so they agree. A
//! change takes its locks in this order ([`lock_user`], then [`lock_sides`]):
//! 1. a transaction-level advisory lock on the user: their changes to their own view are
//!    serialized across nodes (the pin limit and strictly increasing pin times hold);
//! 2. the `conversations` rows of the conversations it changes, shared, in id order: appends
//!    to them wait, so their last seqs hold while the user's sides move;
//! 3. the row of the user's own log, if it exists, where the change's events go;
//! 4. the user's sides (`user_conversations`), for update, as it moves them.
//!
//! The others' writes agree with that order: an append locks its conversation's row before
//! the sides; a group change locks the group's row before the members' sides and logs; an
//! append of a group read ack locks the user's log before their side of the group. Should
//! PostgreSQL still pick a change as a deadlock's victim (two changes that each lock several
//! conversations, in different orders), it runs again (`transaction!`), its events made once
//! (`OnceEvents`).
use async_trait::async_trait;
use roam_domain::{
    conversation::Target,
    now_ms,
    roaming::{HistoryPage, HistoryQuery, ListPage, ListQuery, Mark, Removal},
    store::{Committed, Events, RoamingStore, StoreError},
    user::UserId,
};
use tokio_postgres::IsolationLevel;

use crate::{
    PgStore,
    delivery::OnceEvents,
    rows::{Tx, conversation_key, engine, transaction},
};

mod changes;
mod history;
mod list;

#[async_trait]
impl RoamingStore for PgStore {
    async fn conversations(
        &self,
        user: &UserId,
        query: &ListQuery,
    ) -> Result<ListPage, StoreError> {
        let mut c = self.client().await?;
        let tx = read_only(&mut c).await?;
        let page = list::list(&tx, user, query).await?;
        tx.commit().await.map_err(engine)?;
        Ok(page)
    }

    async fn pin(
        &self,
        user: &UserId,
        target: &Target,
        pinned: bool,
        max_pinned: usize,
        events: Events<Option<u64>>,
    ) -> Result<Committed<Option<u64>>, StoreError> {
        let mut events = OnceEvents::new(events);
        // (Read once: a run again after a deadlock then answers the same pin time.)
        let now = now_ms();
        transaction!(self, |tx| {
            lock_user(&tx, user).await?;
            let at = changes::pin(&tx, user, target, pinned, max_pinned, now).await?;
            events.append(&tx, &self.ids, at).await
        })
    }

    async fn mark(
        &self,
        user: &UserId,
        targets: Vec<Target>,
        mark: Mark,
        on: bool,
        events: Events<Vec<Target>>,
    ) -> Result<Committed<Vec<Target>>, StoreError> {
        let mut events = OnceEvents::new(events);
        transaction!(self, |tx| {
            lock_user(&tx, user).await?;
            let missing = changes::mark(&tx, user, &targets, mark.bit(), on).await?;
            events.append(&tx, &self.ids, missing).await
        })
    }

    async fn history(
        &self,
        user: &UserId,
        query: &HistoryQuery,
    ) -> Result<Option<HistoryPage>, StoreError> {
        let mut c = self.client().await?;
        let tx = read_only(&mut c).await?;
        let page = history::history(&tx, user, query).await?;
        tx.commit().await.map_err(engine)?;
        Ok(page)
    }

    async fn remove_messages(
        &self,
        user: &UserId,
        target: &Target,
        removal: Removal,
        events: Events<bool>,
    ) -> Result<Committed<bool>, StoreError> {
        let mut events = OnceEvents::new(events);
        transaction!(self, |tx| {
            lock_user(&tx, user).await?;
            let found = changes::remove(&tx, user, target, &removal).await?;
            events.append(&tx, &self.ids, found).await
        })
    }

    async fn delete_conversation(
        &self,
        user: &UserId,
        target: &Target,
        with_history: bool,
        events: Events<bool>,
    ) -> Result<Committed<bool>, StoreError> {
        let mut events = OnceEvents::new(events);
        transaction!(self, |tx| {
            lock_user(&tx, user).await?;
            let found = changes::delete_conversation(&tx, user, target, with_history).await?;
            events.append(&tx, &self.ids, found).await
        })
    }

    async fn delete_all_conversations(
        &self,
        user: &UserId,
        events: Events<Vec<Target>>,
    ) -> Result<Committed<Vec<Target>>, StoreError> {
        let mut events = OnceEvents::new(events);
        transaction!(self, |tx| {
            lock_user(&tx, user).await?;
            let deleted = changes::delete_all(&tx, user).await?;
            events.append(&tx, &self.ids, deleted).await
        })
    }

    async fn evict_conversations(
        &self,
        user: &UserId,
        keep: usize,
    ) -> Result<Vec<Target>, StoreError> {
        transaction!(self, |tx| {
            lock_user(&tx, user).await?;
            changes::evict(&tx, user, keep).await
        })
    }
}

/// A read-only transaction whose statements all see one snapshot.
async fn read_only(c: &mut deadpool_postgres::Object) -> Result<Tx<'_>, StoreError> {
    c.build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(engine)
}

/// Takes the lock every change to the user's own view starts with (see the module docs): the
/// user's advisory lock, held until the transaction ends.
async fn lock_user(tx: &Tx<'_>, user: &UserId) -> Result<(), StoreError> {
    let st = tx
        .prepare_cached(
            "SELECT pg_advisory_xact_lock(hashtext('roam-user:' || current_schema()), hashtext($1))",
        )
        .await
        .map_err(engine)?;
    tx.execute(&st, &[&user.as_str()]).await.map_err(engine)?;
    Ok(())
}

/// Takes the locks a change takes before it moves the user's sides of the conversations
/// with `targets` (see the module docs): their conversations' rows (shared, in id order),
/// then the user's log's row.
async fn lock_sides(tx: &Tx<'_>, user: &UserId, targets: &[Target]) -> Result<(), StoreError> {
    let encoded: Vec<String> = targets.iter().map(Target::encode).collect();
    let st = tx
        .prepare_cached(
            "SELECT cv.id FROM conversations cv JOIN user_conversations uc ON uc.conv_id = cv.id \
             WHERE uc.user_id = $1 AND uc.target = ANY($2) AND uc.kind IN (0, 1, 2) \
             ORDER BY cv.id FOR SHARE OF cv",
        )
        .await
        .map_err(engine)?;
    tx.execute(&st, &[&user.as_str(), &encoded])
        .await
        .map_err(engine)?;
    let st = tx
        .prepare_cached("SELECT 1 FROM conversations WHERE key = $1 FOR UPDATE")
        .await
        .map_err(engine)?;
    tx.execute(&st, &[&conversation_key(user, &Target::System)])
        .await
        .map_err(engine)?;
    Ok(())
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

/// The user's side of the single chat, group or chat room with `target`, as of the read's
/// snapshot (no locks: for reads).
async fn side(tx: &Tx<'_>, user: &UserId, target: &Target) -> Result<Option<Side>, StoreError> {
    let st = tx
        .prepare_cached(
            "SELECT uc.conv_id, uc.start_seq, uc.read_seq, uc.hidden_to, uc.removed, cv.last_seq, cv.last_chat_seq, uc.pinned_ms \
             FROM user_conversations uc JOIN conversations cv ON cv.id = uc.conv_id \
             WHERE uc.user_id = $1 AND uc.target = $2 AND uc.kind IN (0, 1, 2)",
        )
        .await
        .map_err(engine)?;
    tx.query_opt(&st, &[&user.as_str(), &target.encode()])
        .await
        .map_err(engine)?
        .map(|r| side_from_row(&r))
        .transpose()
}

/// The user's side of the conversation with `target`, locked for a change: the conversation's
/// row first (shared), then the side (for update), so neither moves until the commit.
async fn side_for_update(
    tx: &Tx<'_>,
    user: &UserId,
    target: &Target,
) -> Result<Option<Side>, StoreError> {
    let st = tx
        .prepare_cached(
            "SELECT id FROM conversations WHERE id = \
               (SELECT conv_id FROM user_conversations WHERE user_id = $1 AND target = $2 AND kind IN (0, 1, 2)) \
             FOR SHARE",
        )
        .await
        .map_err(engine)?;
    let Some(conv) = tx
        .query_opt(&st, &[&user.as_str(), &target.encode()])
        .await
        .map_err(engine)?
    else {
        return Ok(None);
    };
    let conv: i64 = conv.try_get(0).map_err(engine)?;
    let st = tx
        .prepare_cached(
            "SELECT uc.conv_id, uc.start_seq, uc.read_seq, uc.hidden_to, uc.removed, cv.last_seq, cv.last_chat_seq, uc.pinned_ms \
             FROM user_conversations uc JOIN conversations cv ON cv.id = uc.conv_id \
             WHERE uc.user_id = $1 AND uc.conv_id = $2 FOR UPDATE OF uc",
        )
        .await
        .map_err(engine)?;
    tx.query_opt(&st, &[&user.as_str(), &conv])
        .await
        .map_err(engine)?
        .map(|r| side_from_row(&r))
        .transpose()
}

fn side_from_row(r: &tokio_postgres::Row) -> Result<Side, StoreError> {
    let removed: i32 = r.try_get(4).map_err(engine)?;
    Ok(Side {
        conv: r.try_get(0).map_err(engine)?,
        start: r.try_get(1).map_err(engine)?,
        read: r.try_get(2).map_err(engine)?,
        hidden_to: r.try_get(3).map_err(engine)?,
        removed: removed != 0,
        last_seq: r.try_get(5).map_err(engine)?,
        last_chat_seq: r.try_get(6).map_err(engine)?,
        pinned_ms: r.try_get(7).map_err(engine)?,
    })
}

/// The SQL expressions on `uc`/`cv` that the list sorts and filters by, shared by the list's
/// statements and the eviction's (they must agree on what is listed and in which order).
mod sql {
    use std::sync::LazyLock;

    use crate::rows::id_floor_sql;

    /// Side kinds (`user_conversations.kind`).
    pub(super) const SINGLE: i64 = 0;
    pub(super) const GROUP: i64 = 1;

    /// Not deleted by the user, or back since (a pin or a mark needs this; an emptied
    /// conversation still qualifies, as `needEmptySession` lists it).
    pub(super) const ON_LIST: &str = "(cv.last_chat_seq > uc.hidden_to OR uc.removed = 0)";
    /// A list position, in message-id space: the id of the newest activity the user sees,
    /// else the first id of the ms the side began. Single chat sides keep it in `sort_key`.
    pub(super) static ACTIVITY: LazyLock<String> = LazyLock::new(|| {
        format!(
            "CASE WHEN cv.last_chat_seq > uc.hidden_to THEN cv.last_chat_id \
             WHEN uc.vis_seq > 0 THEN uc.vis_id ELSE {} END",
            id_floor_sql("uc.created_ms")
        )
    });
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

#[cfg(test)]
mod tests;
